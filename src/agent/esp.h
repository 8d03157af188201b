/*
 * The Enrollment Status Page: what a person at the device watches while
 * `whiteglove-agent provision` runs.  Rows in the words Windows uses
 * (Device preparation: Securing your hardware, Joining your
 * organization's network, Registering your device for mobile management;
 * Device setup: apps n of m), each with its state and elapsed time, then
 * the reseal and its green screen, or the failure with its code, the
 * catalog's meaning and where to look.  After the user's first sign-in
 * (`whiteglove-agent login`) the same page shows the account-setup rows
 * instead (Account setup: Joining your organization's network, the
 * sign-in that restores the join; Apps n of m, the user's apps).
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
	ESP_ACCOUNT,	/* Account setup: the next two */
	ESP_USER_JOIN,	/* Joining your organization's network: the
			   user's sign-in */
	ESP_USER_APPS,	/* Apps (n of m): the user's */
	ESP_ROW_MAX
};

/* Which rows a screen shows. */
enum esp_layout {
	ESP_LAYOUT_DEVICE,	/* the technician's: ESP_PROFILE..ESP_RESEAL */
	ESP_LAYOUT_ACCOUNT,	/* the user's: ESP_ACCOUNT..ESP_USER_APPS */
	ESP_LAYOUT_MAX
};

/* --screen: how the page is drawn. */
enum esp_screen {
	ESP_SCREEN_AUTO,	/* in place on a terminal, else lines */
	ESP_SCREEN_REDRAW,	/* in place */
	ESP_SCREEN_LINES,	/* one line per change, for logs */
	ESP_SCREEN_MAX
};

/* The --screen option's help, for the subcommands that draw the page. */
#define ESP_SCREEN_USAGE \
	"  --screen WHAT      auto (default: redraw on a terminal), redraw, " \
	"or lines\n                     (one line per change, for logs)\n"

enum esp_state {
	ESP_WAITING,
	ESP_WORKING,
	ESP_DONE,
	ESP_FAILED,
	ESP_STATE_MAX
};

struct esp;

/* --screen's word into *out: 0, or -1 when it is not auto|redraw|lines. */
int esp_screen_parse(const char *word, enum esp_screen *out)
    __attribute__((warn_unused_result));

/*
 * Whether the page is drawn in place on out for s (auto: when out is a
 * terminal).  When it is, log lines below "error" are held back from
 * here on: one would tear the screen, and the events carry them.
 */
int esp_screen_redraw(enum esp_screen s, FILE *out);

/*
 * A screen of layout's rows on out, headed by title (copied); redraw:
 * draw in place (a terminal) or print one line per change.  Free with
 * esp_free.
 */
struct esp *esp_new(FILE *out, int redraw, enum esp_layout layout,
    const char *title);

/* Stops the clock thread and draws the last state; NULL: no-op. */
void esp_free(struct esp *e);

/*
 * Row r (not a group row: ESP_PREP, ESP_SETUP and ESP_ACCOUNT follow
 * their rows) is now s; its clock starts at ESP_WORKING and stops at
 * ESP_DONE or ESP_FAILED.  earlier: the row was done by an earlier run,
 * its clock is elapsed_ms as that run measured it.  done: the row's work
 * was done before the screen came up, in elapsed_ms, with detail.
 */
void esp_set(struct esp *e, enum esp_row r, enum esp_state s);
void esp_set_earlier(struct esp *e, enum esp_row r, int64_t elapsed_ms);
void esp_set_done(struct esp *e, enum esp_row r, int64_t elapsed_ms,
    const char *detail);

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
 * catalog's one-line meaning, why, where to look (state_dir), and next
 * (NULL: none), a line saying how to go on.
 */
void esp_failure(struct esp *e, enum wg_err rc, const char *why,
    const char *state_dir, const char *next);

/* The end of a good run: the green screen, with lines of text. */
void esp_green(struct esp *e, const char *const *lines, size_t n);

#endif
