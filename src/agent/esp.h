/*
 * The Enrollment Status Page: what a person at the device watches while
 * `whiteglove-agent provision` runs.  Rows in the words Windows uses
 * (Device preparation: Securing your hardware, Joining your
 * organization's network, Registering your device for mobile management;
 * Device setup: apps n of m), each with its state and elapsed time, then
 * the reseal and its green screen, or the failure with its code, the
 * catalog's meaning and where to look.
 *
 * On a terminal the screen is drawn once and redrawn in place (a thread
 * ticks the clocks twice a second); otherwise every change is one line,
 * so a log or a pipe reads as a story.
 */
#ifndef WG_AGENT_ESP_H
#define WG_AGENT_ESP_H

#include <stdint.h>
#include <stdio.h>

#include "common/errors.h"

enum esp_row {
	ESP_PROFILE,	/* the deployment profile (before the ESP) */
	ESP_PREP,	/* Device preparation: the next three */
	ESP_HARDWARE,	/* Securing your hardware */
	ESP_JOIN,	/* Joining your organization's network */
	ESP_MDM,	/* Registering your device for mobile management */
	ESP_SETUP,	/* Device setup: the next one */
	ESP_APPS,	/* Apps (n of m) */
	ESP_RESEAL,	/* Resealing */
	ESP_ROW_MAX
};

enum esp_state {
	ESP_WAITING,
	ESP_WORKING,
	ESP_DONE,
	ESP_FAILED,
	ESP_STATE_MAX
};

struct esp;

/*
 * A screen on out, headed by title (copied); redraw: draw in place (a
 * terminal) or print one line per change.  Free with esp_free.
 */
struct esp *esp_new(FILE *out, int redraw, const char *title);

/* Stops the clock thread and draws the last state; NULL: no-op. */
void esp_free(struct esp *e);

/*
 * Row r (not a group row: ESP_PREP and ESP_SETUP follow their rows) is
 * now s; its clock starts at ESP_WORKING and stops at ESP_DONE or
 * ESP_FAILED.  earlier: the row was done by an earlier run, its clock
 * is elapsed_ms as that run measured it.
 */
void esp_set(struct esp *e, enum esp_row r, enum esp_state s);
void esp_set_earlier(struct esp *e, enum esp_row r, int64_t elapsed_ms);

/* The row's detail after its title (printf-like; "" clears it). */
void esp_detail(struct esp *e, enum esp_row r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The end of row r's work: its state s (ESP_DONE or ESP_FAILED) with
 * detail (NULL: keep the row's) as one change.
 */
void esp_finish(struct esp *e, enum esp_row r, enum esp_state s,
    const char *detail);

/* The row's elapsed time so far, in ms (0 while waiting). */
int64_t esp_elapsed(const struct esp *e, enum esp_row r);

/*
 * The end of a failed run, under the screen: the code, its name and the
 * catalog's one-line meaning, why, and where to look (state_dir).
 */
void esp_failure(struct esp *e, enum wg_err rc, const char *why,
    const char *state_dir);

/* The end of a good run: the green screen, with lines of text. */
void esp_green(struct esp *e, const char *const *lines, size_t n);

#endif
