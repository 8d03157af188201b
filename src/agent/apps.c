/*
 * The apps of device setup and of account setup on the device (apps.h):
 * the app list (its one parser is apps_answer_parse(), answer.c), the
 * per-app state file, the install command in its own process group, and
 * the status reports, in that order; the resumable verified download is
 * apps_download.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "agent/appcmd.h"
#include "agent/apps_int.h"
#include "agent/eventlog.h"
#include "agent/retry.h"
#include "agent/state.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define APP_MESSAGE_MAX 512	/* of a status report */
#define APPS_FILE_MAX (256 * 1024)
#define TOKEN_REFRESH_MS (45 * 60 * 1000L) /* the token lives an hour */

static const char *const state_names[ST_MAX] = { "", "identifying",
	"downloading", "installing", "installed", "failed" };

static const char *const user_query[] = { "target", "user", NULL };

/* Per target: its list's query, its state file, its words, its phase. */
static const struct {
	const char *const *query;
	const char *file, *words;
	enum wg_phase phase;
} targets[APPS_TARGET_MAX] = {
	[APPS_TARGET_DEVICE] = { NULL, APPS_FILE, "device setup",
	    WG_PHASE_DEVICE_SETUP },
	[APPS_TARGET_USER] = { user_query, APPS_USER_FILE, "account setup",
	    WG_PHASE_ACCOUNT_SETUP },
};

void
apps_event(struct apps *s, const struct app *a, int id, enum wg_level level,
    enum wg_err err, const char *fmt, ...)
{
	const char *corr = s->d.correlation_id;
	va_list ap;

	va_start(ap, fmt);
	eventlog_vsay(s->d.o->state_dir, "apps", id, level, s->d.phase, err,
	    corr[0] ? corr : NULL, a != NULL ? "appId" : NULL,
	    a != NULL ? a->id : NULL, fmt, ap);
	va_end(ap);
}

void
apps_show(struct apps *s, const struct app *a, enum app_state st)
{
	struct apps_progress p = { .index = a != NULL ? s->index : 0,
	    .count = (unsigned)s->n, .name = a != NULL ? a->name : NULL,
	    .state = state_names[st != ST_NONE ? st : ST_IDENTIFYING] };

	if (st == ST_DOWNLOADING && a != NULL) {
		p.done = s->got;
		p.total = a->size;
	}
	if (s->ao->progress != NULL)
		s->ao->progress(s->ao->progress_arg, &p);
}

void
apps_progress_text(const struct apps_progress *p, int bytes, char *buf,
    size_t size)
{
	if (p->index == 0)
		snprintf(buf, size, "identifying apps");
	else if (strcmp(p->state, "downloading") == 0 && p->total > 0 &&
	    bytes)
		snprintf(buf, size, "%u of %u: %s: downloading %.1f of %.1f "
		    "MiB", p->index, p->count, p->name,
		    (double)p->done / 1048576.0, (double)p->total / 1048576.0);
	else if (strcmp(p->state, "downloading") == 0)
		snprintf(buf, size, "%u of %u: %s: downloading %.1f MiB",
		    p->index, p->count, p->name, (double)p->total / 1048576.0);
	else
		snprintf(buf, size, "%u of %u: %s: %s", p->index, p->count,
		    p->name, p->state);
}

enum wg_err
apps_deadline(struct apps *s, const char *doing)
{
	if (s->ao->deadline_ms == 0 || wg_now_ms() < s->ao->deadline_ms)
		return WG_OK;
	return WG_FAIL(s, WG_E_ESP_TIMEOUT, "the %s deadline passed %s",
	    s->words, doing);
}

char *
apps_path(const struct apps *s, const struct app *a, const char *suffix)
{
	return xasprintf("%s/%s%s", s->dir, a->sha256, suffix);
}

/* ---- the app list: its one parser is apps_answer_parse() ---- */

static enum wg_err
list_parse(struct apps *s, const char *body, size_t len)
{
	struct apps_answer aa;
	char why[256];
	struct app *a;
	size_t i;

	if (apps_answer_parse(body, len, &aa, why, sizeof(why)) != WG_OK)
		return WG_FAIL(s, WG_E_NET_PROTOCOL, "GET " APPS_LIST_PATH
		    "%s: the answer: %s", s->list_query != NULL ?
		    "?target=user" : "", why);
	s->n = aa.n;
	s->list = xcalloc(s->n ? s->n : 1, sizeof(*s->list));
	for (i = 0; i < s->n; i++) {
		a = &s->list[i];
		memcpy(a->id, aa.app[i].id, sizeof(a->id));
		memcpy(a->name, aa.app[i].name, sizeof(a->name));
		memcpy(a->sha256, aa.app[i].sha256, sizeof(a->sha256));
		a->size = aa.app[i].size;
		memcpy(a->command, aa.app[i].install_command,
		    sizeof(a->command));
		a->timeout_s = (long)aa.app[i].timeout_s;
		/* a path: the token goes nowhere but --server */
		snprintf(a->url, sizeof(a->url), "%s", aa.app[i].content_url);
	}
	apps_answer_free(&aa);
	return WG_OK;
}

/* GET /mdm/v1/apps[?target=user] */
static enum wg_err
list_once(void *arg, int *retry)
{
	struct apps *s = arg;
	struct wg_httpc_resp resp = { 0 };
	enum wg_err rc;

	free(s->list);
	s->list = NULL;
	s->n = 0;
	/* the answer is capped by devtoken's client (ANSWER_APPS_BODY_MAX) */
	if ((rc = devtoken_exchange(&s->d, "GET", APPS_LIST_PATH,
	    s->list_query, NULL, NULL, NULL, &resp, retry)) == WG_OK && (rc = list_parse(s, resp.body,
	    resp.body_len)) != WG_OK)
		*retry = 1;
	wg_httpc_resp_free(&resp);
	return rc;
}

/* ---- STATE/apps.json (apps-user.json): {"apps":[{id, sha256, state,
   reported:[]}]} ---- */

static enum app_state
state_of(const char *name)
{
	int i;

	for (i = 1; i < ST_MAX; i++)
		if (strcmp(name, state_names[i]) == 0)
			return (enum app_state)i;
	return ST_NONE;
}

/* An earlier run's record of a (same id, same content), if any. */
static void
record_apply(struct app *a, const json_t *arr)
{
	const json_t *r, *v;
	const char *id, *sha, *st;
	size_t i, j;

	json_array_foreach(arr, i, r) {
		if (json_unpack((json_t *)r, "{s:s, s:s, s:s, s:o}", "id", &id,
		    "sha256", &sha, "state", &st, "reported", &v) != 0 ||
		    strcmp(id, a->id) != 0 || strcmp(sha, a->sha256) != 0 ||
		    !json_is_array(v))
			continue;
		a->state = state_of(st);
		a->reported = 0;
		for (j = 0; j < json_array_size(v) && j < ST_MAX; j++)
			if (json_is_string(json_array_get(v, j)))
				a->reported |= 1u << state_of(json_string_value(
				    json_array_get(v, j)));
		a->reported &= ~1u; /* ST_NONE is never reported */
		if (a->state == ST_FAILED)
			a->reported = 0; /* this run is a new attempt */
		return;
	}
}

/* What an earlier run left; a missing or unreadable file is none. */
static void
records_load(struct apps *s)
{
	unsigned char *buf = xmalloc(APPS_FILE_MAX);
	json_t *root = NULL, *arr;
	char why[128];
	size_t i, len;

	if (agent_state_read(s->d.o->state_dir, s->file, buf, APPS_FILE_MAX,
	    &len) != 0) {
		free(buf);
		return;
	}
	if (wg_json_load_object((const char *)buf, len, &root, why,
	    sizeof(why)) == WG_OK &&
	    json_is_array(arr = json_object_get(root, "apps")))
		for (i = 0; i < s->n; i++)
			record_apply(&s->list[i], arr);
	else
		wg_warn("apps: %s/%s cannot be read; starting afresh",
		    s->d.o->state_dir, s->file);
	json_decref(root);
	free(buf);
}

static enum wg_err
records_save(struct apps *s)
{
	json_t *arr = json_array(), *rep, *root;
	enum wg_err rc;
	char *text;
	size_t i;
	int j;

	for (i = 0; i < s->n; i++) {
		rep = json_array();
		for (j = 1; j < ST_MAX; j++)
			if (s->list[i].reported & (1u << j))
				json_array_append_new(rep,
				    json_string(state_names[j]));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:o}", "id", s->list[i].id, "name", s->list[i].name,
		    "sha256", s->list[i].sha256, "state",
		    state_names[s->list[i].state], "reported", rep));
	}
	root = json_pack("{s:o}", "apps", arr);
	if (root == NULL || (text = json_dumps(root, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL)
		abort(); /* out of memory */
	json_decref(root);
	rc = agent_state_write(s->d.o->state_dir, s->file, text,
	    strlen(text), s->why, s->whylen);
	free(text);
	return rc;
}

enum wg_err
apps_token_fresh(struct apps *s)
{
	enum wg_err rc;

	if (s->d.token != NULL && wg_mono_ms() - s->d.token_ms <
	    TOKEN_REFRESH_MS)
		return WG_OK;
	if (s->d.token != NULL) {
		OPENSSL_cleanse(s->d.token, strlen(s->d.token));
		free(s->d.token);
		s->d.token = NULL;
	}
	if ((rc = devtoken_get(&s->d)) != WG_OK)
		return rc;
	wg_httpc_set_bearer(s->d.http, s->d.token);
	return WG_OK;
}

/* ---- status reports: POST /mdm/v1/apps/{id}/status, 204 ---- */

static enum wg_err
status_once(void *arg, int *retry)
{
	struct apps *s = arg;
	struct wg_httpc_resp resp = { 0 };
	char path[128];
	enum wg_err rc;

	snprintf(path, sizeof(path), APPS_LIST_PATH "/%s/status", s->cur->id);
	/* the device token is the bearer (apps_token_fresh) */
	rc = devtoken_exchange(&s->d, "POST", path, NULL, "application/json",
	    s->status_body, NULL, &resp, retry);
	wg_httpc_resp_free(&resp);
	return rc;
}

/*
 * The app's new state st: kept, shown, and told to the server unless it
 * already has it (err and msg: a failure's code and words).
 */
static enum wg_err
report(struct apps *s, struct app *a, enum app_state st, enum wg_err err,
    const char *msg)
{
	char code[16], cut[APP_MESSAGE_MAX + 1], keep[1024];
	enum wg_err rc;
	json_t *o;

	a->state = st;
	if ((rc = records_save(s)) != WG_OK)
		return rc;
	apps_show(s, a, st);
	if (a->reported & (1u << st))
		return WG_OK;
	snprintf(keep, sizeof(keep), "%s", s->why);
	wg_err_code_str(err, code, sizeof(code));
	snprintf(cut, sizeof(cut), "%s", msg != NULL ? msg : "");
	while (strlen(cut) > 0 && !wg_str_printable(cut))
		cut[strlen(cut) - 1] = '\0'; /* cut within a character */
	o = json_pack("{s:s, s:s?, s:s?}", "state", state_names[st], "code",
	    err != WG_OK && code[1] == 'x' ? code : NULL, "message",
	    cut[0] ? cut : NULL);
	if (o == NULL || (s->status_body = json_dumps(o, JSON_COMPACT)) ==
	    NULL)
		abort(); /* out of memory */
	json_decref(o);
	s->cur = a;
	wg_debug("apps: app %s: reporting %s", a->id, state_names[st]);
	rc = devtoken_tries(&s->d, status_once, s, NULL);
	free((char *)s->status_body);
	s->status_body = NULL;
	if (rc != WG_OK)
		return rc;
	snprintf(s->why, s->whylen, "%s", keep);
	a->reported |= 1u << st;
	if (st == ST_FAILED) /* the next run is a new attempt */
		a->reported = 0;
	return records_save(s);
}

/* ---- the install command ---- */

/* Runs the app's install command; WG_OK when it exits 0. */
static enum wg_err
install(struct apps *s, struct app *a)
{
	char *file = apps_path(s, a, ""), *log = apps_path(s, a, ".log");
	struct appcmd c = { .dir = s->dir, .command = a->command, .log = log,
	    .env_name = APPS_FILE_ENV, .env_value = file,
	    .stop_ms = wg_mono_ms() + (int64_t)a->timeout_s * 1000 };
	struct appcmd_result r;
	int64_t left = s->ao->deadline_ms - wg_now_ms();
	int esp = 0;
	enum wg_err rc;

	if (s->ao->deadline_ms != 0 && wg_mono_ms() + left < c.stop_ms) {
		c.stop_ms = wg_mono_ms() + left;
		esp = 1;
	}
	if ((rc = appcmd_run(&c, &r, s->why, s->whylen)) != WG_OK)
		rc = WG_FAIL(s, rc, "app \"%s\": %.900s", a->name, s->why);
	else if (r.end == APPCMD_STOPPED && esp)
		rc = WG_FAIL(s, WG_E_ESP_TIMEOUT, "the %s deadline passed "
		    "while app \"%s\" was installing: its install "
		    "command was stopped", s->words, a->name);
	else if (r.end == APPCMD_STOPPED)
		rc = WG_FAIL(s, WG_E_APP_INSTALL_TIMEOUT, "app \"%s\": the "
		    "install command ran longer than %ld s and was stopped "
		    "(log %s)", a->name, a->timeout_s, log);
	else if (r.end == APPCMD_SIGNALED)
		rc = WG_FAIL(s, WG_E_APP_INSTALL_FAILED, "app \"%s\": the "
		    "install command was killed by signal %d (log %s)",
		    a->name, r.code, log);
	else if (r.code != 0)
		rc = WG_FAIL(s, WG_E_APP_INSTALL_FAILED, "app \"%s\": the "
		    "install command exited with status %d (log %s%s%s)",
		    a->name, r.code, log, r.tail[0] ? ": " : "", r.tail);
	free(file);
	free(log);
	return rc;
}

/* ---- the flow ---- */

/* One app from identifying to installed; its failure's code. */
static enum wg_err
app_steps(struct apps *s, struct app *a)
{
	char *path = apps_path(s, a, "");
	struct stat st;
	enum wg_err rc;
	int have;

	/* content an earlier run verified before it renamed it */
	have = stat(path, &st) == 0 && (uint64_t)st.st_size == a->size;
	free(path);
	s->cur = a;
	s->got = have ? a->size : 0;
	if ((rc = apps_deadline(s, "before the app was identified")) !=
	    WG_OK || (rc = apps_token_fresh(s)) != WG_OK ||
	    (rc = report(s, a, ST_IDENTIFYING, WG_OK, NULL)) != WG_OK)
		return rc;
	if (!have && a->size > s->max_size)
		return WG_FAIL(s, WG_E_APP_TOO_LARGE, "app \"%s\" is %llu "
		    "bytes, more than the %llu this device accepts "
		    "(--max-app-size)", a->name, (unsigned long long)a->size,
		    (unsigned long long)s->max_size);
	if ((rc = report(s, a, ST_DOWNLOADING, WG_OK, NULL)) != WG_OK ||
	    (!have && (rc = apps_download(s, a)) != WG_OK) ||
	    (rc = apps_deadline(s, "before the app was installed")) !=
	    WG_OK || (rc = apps_token_fresh(s)) != WG_OK)
		return rc;
	apps_event(s, a, APPS_EVT_INSTALLING, WG_LEVEL_INFO, WG_OK,
	    "app \"%s\": installing", a->name);
	if ((rc = report(s, a, ST_INSTALLING, WG_OK, NULL)) != WG_OK ||
	    (rc = install(s, a)) != WG_OK ||
	    (rc = apps_token_fresh(s)) != WG_OK)
		return rc;
	return report(s, a, ST_INSTALLED, WG_OK, NULL);
}

/* Each app in the list's order; the first failure ends the phase. */
static enum wg_err
apps_each(struct apps *s)
{
	struct apps_result *res = s->res;
	char msg[APP_MESSAGE_MAX + 1], keep[1024];
	struct app *a;
	enum wg_err rc, rc2;

	for (s->index = 1; s->index <= s->n; s->index++) {
		a = &s->list[s->index - 1];
		if (a->state == ST_INSTALLED) {
			res->already++;
			res->installed++;
			apps_event(s, a, APPS_EVT_SKIPPED, WG_LEVEL_INFO, WG_OK,
			    "app \"%s\": installed by an earlier run", a->name);
			if ((rc = apps_token_fresh(s)) != WG_OK ||
			    (rc = report(s, a, ST_INSTALLED, WG_OK, NULL)) !=
			    WG_OK)
				return rc;
			continue;
		}
		if ((rc = app_steps(s, a)) == WG_OK) {
			res->installed++;
			apps_event(s, a, APPS_EVT_INSTALLED, WG_LEVEL_INFO,
			    WG_OK, "app \"%s\" installed", a->name);
			continue;
		}
		res->failed++;
		snprintf(res->failed_app, sizeof(res->failed_app), "%s",
		    a->name);
		if (wg_err_info(rc)->phase != WG_PHASE_DEVICE_SETUP)
			return rc; /* the token, a report: not the app's */
		apps_event(s, a, APPS_EVT_FAILED, WG_LEVEL_ERROR, rc, "%s",
		    s->why);
		snprintf(msg, sizeof(msg), "%s", s->why);
		snprintf(keep, sizeof(keep), "%s", s->why);
		if ((rc2 = report(s, a, ST_FAILED, rc, msg)) != WG_OK)
			wg_warn("apps: the failure of app \"%s\" could not be "
			    "reported: %s", a->name, s->why);
		snprintf(s->why, s->whylen, "%s", keep);
		return rc;
	}
	return WG_OK;
}

static enum wg_err
apps_steps(struct apps *s)
{
	enum wg_err rc;

	if ((rc = devtoken_open(&s->d)) != WG_OK)
		return rc;
	apps_show(s, NULL, ST_IDENTIFYING);
	if ((rc = devtoken_discover(&s->d)) != WG_OK ||
	    (rc = apps_token_fresh(s)) != WG_OK ||
	    (rc = devtoken_tries(&s->d, list_once, s, NULL)) != WG_OK)
		return rc;
	s->res->count = (unsigned)s->n;
	apps_event(s, NULL, APPS_EVT_LIST, WG_LEVEL_INFO, WG_OK, "%zu %s for "
	    "%s", s->n, s->n == 1 ? "app" : "apps", s->words);
	records_load(s);
	return apps_each(s);
}

enum wg_err
apps_run(const struct agent_phase_opts *o, const struct apps_opts *ao,
    struct apps_result *res, char *why, size_t whylen)
{
	static const struct apps_opts none = { 0 };
	struct apps s = { .d = { .o = o, .channel = "apps",
	    .refused_event = 0, .try_event = APPS_EVT_TRY, .why = why,
	    .whylen = whylen }, .ao = ao != NULL ? ao : &none, .res = res,
	    .fd = -1, .why = why, .whylen = whylen };
	enum apps_target t;
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	t = s.ao->target < APPS_TARGET_MAX ? s.ao->target : APPS_TARGET_DEVICE;
	s.d.phase = targets[t].phase;
	s.list_query = targets[t].query;
	s.words = targets[t].words;
	s.file = targets[t].file;
	s.max_size = s.ao->max_size != 0 ? s.ao->max_size :
	    APPS_MAX_SIZE_DEFAULT;
	s.dir = xasprintf("%s/%s", o->state_dir, APPS_DIR);
	if ((rc = agent_state_dir(o->state_dir, why, whylen)) == WG_OK &&
	    (rc = agent_state_dir(s.dir, why, whylen)) == WG_OK)
		rc = apps_steps(&s);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK)
		apps_event(&s, NULL, APPS_EVT_DONE, WG_LEVEL_INFO, WG_OK,
		    "%s done: %u of %u %s installed (%u by an earlier run)",
		    s.words, res->installed, res->count,
		    res->count == 1 ? "app" : "apps", res->already);
	else
		apps_event(&s, NULL, APPS_EVT_PHASE_FAILED, WG_LEVEL_ERROR, rc,
		    "%s failed: %s", s.words, why);
	free(s.list);
	free(s.dir);
	devtoken_close(&s.d);
	return rc;
}
