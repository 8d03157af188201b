/*
 * The device's events to the server: at the end of a phase that holds a
 * device token (devtoken_close), the channels' lines not sent yet go to
 * POST /mdm/v1/events (docs/api.md, "Device timeline"), which stores each
 * once.  STATE/events/uploaded.json keeps, per channel, the byte offset
 * of its file sent so far, so each event goes once; the events written
 * before the first device token (profile, attest) go with the first
 * upload.  Best effort: a failure is a debug log line, never the phase's.
 */
#ifndef WG_AGENT_EVUPLOAD_H
#define WG_AGENT_EVUPLOAD_H

#include "common/httpc.h"

/* The cursor file, in STATE/events. */
#define EVUPLOAD_CURSOR "uploaded.json"
/* One request: at most so many events and body bytes (the server's caps:
   200 events, 256 KiB). */
#define EVUPLOAD_EVENTS_MAX 100
#define EVUPLOAD_BODY_MAX (192 * 1024)
/* One upload: at most so many requests, each at most so long. */
#define EVUPLOAD_ROUNDS 4
#define EVUPLOAD_TIMEOUT_MS 5000

/*
 * Sends the events of state_dir's channels not sent yet on http (the
 * phase's client for --server) with token (the device token, borrowed)
 * as bearer, within timeout_ms per request (capped at
 * EVUPLOAD_TIMEOUT_MS), and moves the cursor past what the server took.
 * Logs a failure at debug level and returns: never fails the caller.
 */
void evupload_run(const char *state_dir, struct wg_httpc *http,
    const char *token, long timeout_ms);

#endif
