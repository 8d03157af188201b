/*
 * The device's event channels: one JSON line per event (common/event.h)
 * appended to STATE/events/<channel>.jsonl, the files `diag collect`
 * bundles.  Writing an event never fails the step that writes it: a
 * failure is logged and the step goes on.
 */
#ifndef WG_AGENT_EVENTLOG_H
#define WG_AGENT_EVENTLOG_H

#include <stdarg.h>

#include "common/event.h"

/* Appends ev to its channel's file under state_dir (made 0700 / 0600). */
void eventlog_write(const char *state_dir, const struct wg_event *ev);

/*
 * Makes and writes one event: channel, id, level, phase, code, the
 * correlation id (NULL: none), one detail key = value (key NULL: none)
 * and the message from fmt and ap.
 */
void eventlog_vsay(const char *state_dir, const char *channel, int id,
    enum wg_level level, enum wg_phase phase, enum wg_err err,
    const char *correlation, const char *key, const char *value,
    const char *fmt, va_list ap) __attribute__((format(printf, 10, 0)));

#endif
