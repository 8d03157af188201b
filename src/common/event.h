/*
 * Event records: what the device writes to its channels and the server to
 * its audit table, one JSON object per line:
 *
 *   {"time":"2026-11-24T14:00:00.000Z","channel":"autopilot","eventId":160,
 *    "level":"info","correlationId":"…","phase":"profile",
 *    "code":"0x00000000","name":"WG_OK","message":"…","details":{"k":"v"}}
 */
#ifndef WG_EVENT_H
#define WG_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "log.h"

#define WG_EVENT_MAX_DETAILS 32
#define WG_EVENT_MAX_LINE 16384

struct wg_kv {
	char *key;
	char *value;
};

struct wg_event {
	int64_t time_ms;
	char *channel;
	int event_id;
	enum wg_level level;
	char *correlation_id; /* may be NULL */
	enum wg_phase phase;
	enum wg_err err;
	char *message;
	struct wg_kv details[WG_EVENT_MAX_DETAILS];
	size_t ndetails;
};

/* A new event stamped now; the caller frees it with wg_event_free(). */
struct wg_event *wg_event_new(const char *channel, int event_id,
    enum wg_level level, enum wg_phase phase, enum wg_err err,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

void wg_event_set_correlation(struct wg_event *ev, const char *id);

/* Adds key=value; beyond WG_EVENT_MAX_DETAILS the pair is dropped. */
void wg_event_add(struct wg_event *ev, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Looks a detail up by key; NULL if absent. */
const char *wg_event_get(const struct wg_event *ev, const char *key);

/* One compact JSON line without the newline; the caller frees it. */
char *wg_event_to_json(const struct wg_event *ev);

/*
 * Parses one line written by wg_event_to_json (strictly: known fields,
 * bounded sizes, no duplicate keys).  On success *out is a new event the
 * caller frees; on failure *out is NULL and why holds the reason.
 */
enum wg_err wg_event_parse(const char *line, size_t len,
    struct wg_event **out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Appends the event as one line to path (created 0600 if absent). */
enum wg_err wg_event_append(const struct wg_event *ev, const char *path)
    __attribute__((warn_unused_result));

void wg_event_free(struct wg_event *ev);

/*
 * The device's channels (the agent's STATE/events/<channel>.jsonl), which
 * it uploads and the server takes: NULL-terminated.
 */
#define WG_DEVICE_NCHANNELS 6
extern const char *const wg_device_channels[WG_DEVICE_NCHANNELS + 1];
/* 1 if channel is one of wg_device_channels. */
int wg_device_channel(const char *channel);

#endif
