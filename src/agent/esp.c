/*
 * The Enrollment Status Page (esp.h): a model of rows under a lock, drawn
 * by whoever changes it (line mode) or by a clock thread (a terminal).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "agent/esp.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define ESP_DETAIL_MAX 160
#define ESP_TICK_MS 500
#define ESP_WIDTH 52	/* the title column */

struct esp_line {
	enum esp_state state;
	int64_t start, end;	/* wg_mono_ms(); 0: not yet */
	int64_t earlier_ms;	/* -1: this run's clock */
	char detail[ESP_DETAIL_MAX];
};

struct esp {
	FILE *out;
	int redraw;
	enum esp_row first, last;	/* the layout's rows */
	char *title;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	pthread_t clock;
	int clock_running, stop;
	int drawn;		/* lines on the screen from the last draw */
	int cols;		/* the terminal's width: longer lines are cut */
	int64_t begun;		/* wg_mono_ms() of esp_new */
	struct esp_line row[ESP_ROW_MAX];
};

#define TOP ESP_ROW_MAX	/* a row in no group */

/* Each row's title, and the group row it belongs to. */
static const struct {
	const char *title;
	enum esp_row group;
} rows[ESP_ROW_MAX] = {
	[ESP_PROFILE] = { "Deployment profile", TOP },
	[ESP_PREP] = { "Device preparation", TOP },
	[ESP_HARDWARE] = { "Securing your hardware", ESP_PREP },
	[ESP_JOIN] = { "Joining your organization's network", ESP_PREP },
	[ESP_MDM] = { "Registering your device for mobile management",
	    ESP_PREP },
	[ESP_SETUP] = { "Device setup", TOP },
	[ESP_APPS] = { "Apps", ESP_SETUP },
	[ESP_RESEAL] = { "Reseal", TOP },
	[ESP_ACCOUNT] = { "Account setup", TOP },
	[ESP_USER_JOIN] = { "Joining your organization's network",
	    ESP_ACCOUNT },
	[ESP_USER_APPS] = { "Apps", ESP_ACCOUNT },
};

/* The rows of each layout: [first, last]. */
static const struct {
	enum esp_row first, last;
} layouts[ESP_LAYOUT_MAX] = {
	[ESP_LAYOUT_DEVICE] = { ESP_PROFILE, ESP_RESEAL },
	[ESP_LAYOUT_ACCOUNT] = { ESP_ACCOUNT, ESP_USER_APPS },
};

static const char *const screen_words[ESP_SCREEN_MAX] = {
	[ESP_SCREEN_AUTO] = "auto",
	[ESP_SCREEN_REDRAW] = "redraw",
	[ESP_SCREEN_LINES] = "lines",
};

static const char *const state_words[ESP_STATE_MAX] = {
	[ESP_WAITING] = "Waiting",
	[ESP_WORKING] = "Working on it",
	[ESP_DONE] = "Complete",
	[ESP_FAILED] = "Failed",
};

/* A group row's state and clock from its rows (lock held). */
static void
group_update(struct esp *e, enum esp_row g)
{
	struct esp_line *l = &e->row[g];
	int working = 0, failed = 0, done = 0, n = 0;
	int64_t earlier = 0;
	int r;

	l->start = l->end = 0;
	for (r = 0; r < ESP_ROW_MAX; r++) {
		const struct esp_line *c = &e->row[r];

		if (rows[r].group != g)
			continue;
		n++;
		working += c->state == ESP_WORKING;
		failed += c->state == ESP_FAILED;
		done += c->state == ESP_DONE;
		if (c->earlier_ms >= 0)
			earlier += c->earlier_ms;
		if (c->start != 0 && (l->start == 0 || c->start < l->start))
			l->start = c->start;
		if (c->end > l->end)
			l->end = c->end;
	}
	l->earlier_ms = earlier;
	l->state = failed ? ESP_FAILED : done == n ? ESP_DONE :
	    working || done ? ESP_WORKING : ESP_WAITING;
	if (l->state == ESP_WORKING)
		l->end = 0;
}

/* ms of a row so far (lock held). */
static int64_t
line_elapsed(const struct esp_line *l)
{
	int64_t ms = l->earlier_ms > 0 ? l->earlier_ms : 0;

	if (l->start != 0)
		ms += (l->end != 0 ? l->end : wg_mono_ms()) - l->start;
	return ms;
}

/* 4.2s under a minute, then m:ss, then h:mm:ss. */
static void
fmt_elapsed(int64_t ms, char buf[32])
{
	long s = (long)(ms / 1000);

	if (s >= 3600)
		snprintf(buf, 32, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
		    s % 60);
	else if (s >= 60)
		snprintf(buf, 32, "%ld:%02ld", s / 60, s % 60);
	else
		snprintf(buf, 32, "%ld.%lds", s, (long)(ms % 1000 / 100));
}

/* One row as a screen line into buf (lock held). */
static void
line_text(const struct esp *e, enum esp_row r, char *buf, size_t size)
{
	const struct esp_line *l = &e->row[r];
	int indent = rows[r].group != TOP;
	char t[32] = "";

	if (l->state != ESP_WAITING)
		fmt_elapsed(line_elapsed(l), t);
	snprintf(buf, size, "  %s%-*s %-13s %7s%s%s", indent ? "  " : "",
	    ESP_WIDTH - (indent ? 2 : 0), rows[r].title,
	    state_words[l->state], t, l->detail[0] ? "  " : "", l->detail);
}

/* Redraws the whole screen in place (lock held; a terminal). */
static void
draw(struct esp *e)
{
	char buf[512];
	int r;

	if (e->drawn > 0)
		fprintf(e->out, "\033[%dA", e->drawn);
	fprintf(e->out, "\r\033[K%s\n\r\033[K\n", e->title);
	for (r = (int)e->first; r <= (int)e->last; r++) {
		line_text(e, (enum esp_row)r, buf, sizeof(buf));
		/* a wrapped line would throw the redraw off by one */
		if (e->cols > 1 && strlen(buf) >= (size_t)e->cols)
			buf[e->cols - 1] = '\0';
		fprintf(e->out, "\r\033[K%s\n", buf);
	}
	e->drawn = (int)(e->last - e->first) + 3;
	fflush(e->out);
}

/* One line for a change of row r (lock held; not a terminal). */
static void
say(struct esp *e, enum esp_row r)
{
	const struct esp_line *l = &e->row[r];
	char t[32];

	fmt_elapsed(wg_mono_ms() - e->begun, t);
	fprintf(e->out, "[%s] %s: %s%s%s\n", t, rows[r].title,
	    state_words[l->state], l->detail[0] ? ": " : "", l->detail);
	fflush(e->out);
}

static void *
clock_main(void *arg)
{
	struct esp *e = arg;
	struct timespec ts;

	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		draw(e);
		wg_deadline_in(ESP_TICK_MS, &ts);
		pthread_cond_timedwait(&e->cv, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static int
terminal_cols(FILE *out)
{
	struct winsize ws;

	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

int
esp_screen_parse(const char *word, enum esp_screen *out)
{
	int i;

	for (i = 0; i < ESP_SCREEN_MAX; i++)
		if (strcmp(word, screen_words[i]) == 0) {
			*out = (enum esp_screen)i;
			return 0;
		}
	return -1;
}

int
esp_screen_redraw(enum esp_screen s, FILE *out)
{
	int redraw = s == ESP_SCREEN_REDRAW ||
	    (s == ESP_SCREEN_AUTO && isatty(fileno(out)));

	if (redraw)
		wg_log_setup(WG_LOG_TEXT, WG_LEVEL_ERROR);
	return redraw;
}

struct esp *
esp_new(FILE *out, int redraw, enum esp_layout layout, const char *title)
{
	struct esp *e = xcalloc(1, sizeof(*e));
	int r;

	if (layout >= ESP_LAYOUT_MAX)
		layout = ESP_LAYOUT_DEVICE;
	e->out = out;
	e->redraw = redraw;
	e->first = layouts[layout].first;
	e->last = layouts[layout].last;
	e->title = xstrdup(title);
	e->begun = wg_mono_ms();
	e->cols = terminal_cols(out);
	for (r = 0; r < ESP_ROW_MAX; r++)
		e->row[r].earlier_ms = -1;
	pthread_mutex_init(&e->lock, NULL);
	wg_cond_init_mono(&e->cv);
	if (!redraw) {
		fprintf(out, "%s\n", title);
		fflush(out);
	} else if (pthread_create(&e->clock, NULL, clock_main, e) == 0) {
		e->clock_running = 1;
	} else {
		pthread_mutex_lock(&e->lock);
		draw(e);
		pthread_mutex_unlock(&e->lock);
	}
	return e;
}

/* Stops the clock thread and draws once more (a terminal). */
static void
stop_clock(struct esp *e)
{
	pthread_mutex_lock(&e->lock);
	e->stop = 1;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->lock);
	if (e->clock_running) {
		pthread_join(e->clock, NULL);
		e->clock_running = 0;
	}
	if (e->redraw) {
		pthread_mutex_lock(&e->lock);
		draw(e);
		pthread_mutex_unlock(&e->lock);
	}
}

void
esp_free(struct esp *e)
{
	if (e == NULL)
		return;
	if (!e->stop)
		stop_clock(e);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->lock);
	free(e->title);
	free(e);
}

/* After row r changed (lock held): groups, then the screen or a line. */
static void
changed(struct esp *e, enum esp_row r, int announce)
{
	enum esp_row g = rows[r].group;
	enum esp_state before = g != TOP ? e->row[g].state : ESP_WAITING;

	if (g != TOP)
		group_update(e, g);
	if (e->redraw) {
		pthread_cond_signal(&e->cv);
		return;
	}
	if (g != TOP && e->row[g].state != before &&
	    e->row[g].state == ESP_WORKING)
		say(e, g);
	if (announce)
		say(e, r);
	if (g != TOP && e->row[g].state != before &&
	    e->row[g].state != ESP_WORKING)
		say(e, g);
}

void
esp_set(struct esp *e, enum esp_row r, enum esp_state s)
{
	struct esp_line *l = &e->row[r];
	int64_t now = wg_mono_ms();

	pthread_mutex_lock(&e->lock);
	if (s == ESP_WORKING && l->state != ESP_WORKING) {
		l->start = now;
		l->end = 0;
	} else if ((s == ESP_DONE || s == ESP_FAILED) && l->start != 0 &&
	    l->end == 0) {
		l->end = now;
	}
	if (l->state != s) {
		l->state = s;
		changed(e, r, 1);
	}
	pthread_mutex_unlock(&e->lock);
}

void
esp_set_done(struct esp *e, enum esp_row r, int64_t elapsed_ms,
    const char *detail)
{
	struct esp_line *l = &e->row[r];

	pthread_mutex_lock(&e->lock);
	l->earlier_ms = elapsed_ms > 0 ? elapsed_ms : 0;
	l->start = l->end = 0;
	l->state = ESP_DONE;
	snprintf(l->detail, sizeof(l->detail), "%s", detail);
	changed(e, r, 1);
	pthread_mutex_unlock(&e->lock);
}

void
esp_set_earlier(struct esp *e, enum esp_row r, int64_t elapsed_ms)
{
	esp_set_done(e, r, elapsed_ms, "(done before)");
}

void
esp_detail(struct esp *e, enum esp_row r, const char *fmt, ...)
{
	struct esp_line *l = &e->row[r];
	char buf[ESP_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&e->lock);
	if (strcmp(buf, l->detail) != 0) {
		memcpy(l->detail, buf, sizeof(buf));
		changed(e, r, buf[0] != '\0');
	}
	pthread_mutex_unlock(&e->lock);
}

void
esp_finish(struct esp *e, enum esp_row r, enum esp_state s,
    const char *detail)
{
	struct esp_line *l = &e->row[r];

	pthread_mutex_lock(&e->lock);
	if (detail != NULL)
		snprintf(l->detail, sizeof(l->detail), "%s", detail);
	pthread_mutex_unlock(&e->lock);
	esp_set(e, r, s);
}

int64_t
esp_elapsed(const struct esp *e, enum esp_row r)
{
	struct esp *m = (struct esp *)e;
	int64_t ms;

	pthread_mutex_lock(&m->lock);
	ms = line_elapsed(&e->row[r]);
	pthread_mutex_unlock(&m->lock);
	return ms;
}

void
esp_failure(struct esp *e, enum wg_err rc, const char *why,
    const char *state_dir, const char *next)
{
	const struct wg_err_info *info = wg_err_info(rc);
	char code[16];

	stop_clock(e);
	wg_err_code_str(rc, code, sizeof(code));
	fprintf(e->out, "\n%sSomething went wrong.%s\n  Error %s (%s): %s\n"
	    "  %s\n\n  What happened, step by step: the event channels in "
	    "%s/events/\n  What the code means and what to do: whiteglove "
	    "explain %s\n  For the admin, one file with everything: "
	    "whiteglove-agent diag collect --state-dir %s\n",
	    e->redraw ? "\033[1;41;97m " : "", e->redraw ? " \033[0m" : "",
	    code, wg_err_name(rc), info->meaning, why, state_dir, code,
	    state_dir);
	if (next != NULL)
		fprintf(e->out, "  %s\n", next);
	fflush(e->out);
}

void
esp_green(struct esp *e, const char *const *lines, size_t n)
{
	size_t i, w = 0;

	stop_clock(e);
	for (i = 0; i < n; i++)
		if (strlen(lines[i]) > w)
			w = strlen(lines[i]);
	fputc('\n', e->out);
	for (i = 0; i < n; i++)
		fprintf(e->out, "  %s  %-*s  %s\n", e->redraw ? "\033[30;42m" :
		    "|", (int)w, lines[i], e->redraw ? "\033[0m" : "|");
	fflush(e->out);
}
