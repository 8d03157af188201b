/*
 * The device's event channels: one JSON line per event (common/event.h)
 * appended to STATE/events/<channel>.jsonl, the files `diag collect`
 * bundles.  Writing an event never fails the step that writes it: a
 * failure is logged and the step goes on.
 */
#ifndef WG_AGENT_EVENTLOG_H
#define WG_AGENT_EVENTLOG_H

#include "common/event.h"

/* Appends ev to its channel's file under state_dir (made 0700 / 0600). */
void eventlog_write(const char *state_dir, const struct wg_event *ev);

#endif
