/*
 * The import progress bar (progress.h).  The uploading thread only adds
 * to an atomic byte count; everything else (polling, drawing) happens on
 * the progress thread, so the upload never waits for the terminal or the
 * poll.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define PROGRESS_POLL_MS 500
#define PROGRESS_POLL_TIMEOUT_MS 10000
#define PROGRESS_BAR 20

struct progress {
	struct wg_httpc *c;	/* the polling connection; NULL: not drawing */
	char *path;
	const char *const *query; /* borrowed from the caller */
	int64_t total;		/* bytes, or -1 */
	_Atomic int64_t sent;
	int64_t start_ms;
	json_int_t rows;	/* imported + failed, from the last poll */
	json_int_t failed;
	int polled;		/* a poll has answered */
	int drawn;		/* a line is on the terminal */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;		/* under lock */
};

/* Asks the server for the import's counts; quietly keeps the old ones
 * when it does not answer (the upload's own result will say why). */
static void
poll_once(struct progress *p)
{
	struct wg_httpc_resp resp = { 0 };
	const json_t *imp, *fail;
	json_t *o = NULL;
	char why[64];

	if (wg_httpc_json(p->c, "GET", p->path, p->query, NULL, &resp) ==
	    WG_OK && resp.status == 200 &&
	    wg_httpc_resp_json(&resp, &o, why, sizeof(why)) == WG_OK &&
	    json_is_integer(imp = json_object_get(o, "importedCount")) &&
	    json_is_integer(fail = json_object_get(o, "failedCount"))) {
		p->rows = json_integer_value(imp) + json_integer_value(fail);
		p->failed = json_integer_value(fail);
		p->polled = 1;
	}
	json_decref(o);
	wg_httpc_resp_free(&resp);
}

static void
fmt_bytes(int64_t n, char *out, size_t len)
{
	if (n < 1000)
		snprintf(out, len, "%" PRId64 " B", n);
	else if (n < 1000000)
		snprintf(out, len, "%.1f kB", (double)n / 1e3);
	else if (n < INT64_C(1000000000))
		snprintf(out, len, "%.1f MB", (double)n / 1e6);
	else
		snprintf(out, len, "%.2f GB", (double)n / 1e9);
}

static void
fmt_eta(int64_t ms, char *out, size_t len)
{
	int64_t s = (ms + 999) / 1000;

	if (s >= 3600)
		snprintf(out, len, "%" PRId64 ":%02d:%02d", s / 3600,
		    (int)(s / 60 % 60), (int)(s % 60));
	else
		snprintf(out, len, "%d:%02d", (int)(s / 60), (int)(s % 60));
}

static void
draw(struct progress *p)
{
	int64_t sent = atomic_load(&p->sent), ms;
	char done[24], total[24], rate[32] = "-", eta[24] = "-:--";
	char bar[PROGRESS_BAR + 1];
	int i, fill, pct;

	ms = wg_mono_ms() - p->start_ms;
	if (ms < 1)
		ms = 1;
	fmt_bytes(sent, done, sizeof(done));
	if (p->polled)
		snprintf(rate, sizeof(rate), "%" PRId64,
		    (int64_t)p->rows * 1000 / ms);
	if (p->total <= 0) {
		fprintf(stderr, "\r%s sent  %s rows/s  %" JSON_INTEGER_FORMAT
		    " errors\033[K", done, rate, p->failed);
		p->drawn = 1;
		return;
	}
	pct = (int)(sent * 100 / p->total);
	fill = (int)(sent * PROGRESS_BAR / p->total);
	for (i = 0; i < PROGRESS_BAR; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[PROGRESS_BAR] = '\0';
	fmt_bytes(p->total, total, sizeof(total));
	if (sent > 0)
		fmt_eta(ms * (p->total - sent) / sent, eta, sizeof(eta));
	fprintf(stderr, "\r[%s] %3d%%  %s of %s  %s rows/s  %"
	    JSON_INTEGER_FORMAT " errors  ETA %s\033[K", bar, pct, done, total,
	    rate, p->failed, eta);
	p->drawn = 1;
}

static void *
poll_loop(void *arg)
{
	struct progress *p = arg;
	struct timespec until;
	int stop;

	draw(p);
	for (;;) {
		wg_deadline_in(PROGRESS_POLL_MS, &until);
		pthread_mutex_lock(&p->lock);
		while (!p->stop && pthread_cond_timedwait(&p->cond, &p->lock,
		    &until) != ETIMEDOUT)
			;
		stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		poll_once(p);
		draw(p);
	}
	return NULL;
}

/* The polling connection and thread; leaves p->c NULL when it cannot. */
static void
start_thread(struct progress *p, const struct clientopts *co)
{
	if (clientopts_connect_timeout(co, 1, PROGRESS_POLL_TIMEOUT_MS,
	    &p->c) != CLI_EXIT_OK)
		return;
	pthread_mutex_init(&p->lock, NULL);
	wg_cond_init_mono(&p->cond);
	if (pthread_create(&p->thread, NULL, poll_loop, p) != 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		wg_httpc_free(p->c);
		p->c = NULL;
	}
}

struct progress *
progress_start(const struct clientopts *co, const char *path,
    const char *const *query, int64_t total)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	p->path = xstrdup(path);
	p->query = query;
	p->total = total;
	atomic_init(&p->sent, 0);
	p->start_ms = wg_mono_ms();
	if (isatty(STDERR_FILENO))
		start_thread(p, co);
	return p;
}

void
progress_sent(struct progress *p, int64_t n)
{
	if (p != NULL)
		atomic_fetch_add(&p->sent, n);
}

void
progress_stop(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->c != NULL) {
		pthread_mutex_lock(&p->lock);
		p->stop = 1;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
		if (p->drawn)
			fputs("\r\033[K", stderr);
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		wg_httpc_free(p->c);
	}
	free(p->path);
	free(p);
}
