/*
 * "Device setup" on the device (apps.h): the app list (its one parser is
 * apps_answer_parse(), answer.c), the per-app state file, the resumable
 * verified download, the install command in its own process group, and
 * the status reports, in that order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agent/answer.h"
#include "agent/appcmd.h"
#include "agent/apps.h"
#include "agent/devtoken.h"
#include "agent/eventlog.h"
#include "agent/retry.h"
#include "agent/state.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define APP_NAME_MAX ANSWER_APP_NAME_MAX
#define APP_COMMAND_MAX ANSWER_APP_COMMAND_MAX
#define APP_MESSAGE_MAX 512	/* of a status report */
#define APPS_FILE_MAX (256 * 1024)
#define TOKEN_REFRESH_MS (45 * 60 * 1000L) /* the token lives an hour */
#define PROGRESS_EVERY_MS 250

enum app_state { ST_NONE, ST_IDENTIFYING, ST_DOWNLOADING, ST_INSTALLING,
	ST_INSTALLED, ST_FAILED, ST_MAX };

static const char *const state_names[ST_MAX] = { "", "identifying",
	"downloading", "installing", "installed", "failed" };

struct app {
	char id[37];
	char name[APP_NAME_MAX + 1];
	char sha256[65];
	uint64_t size;
	char command[APP_COMMAND_MAX + 1];
	long timeout_s;
	char url[ANSWER_ENDPOINT_MAX + 1];
	/* kept in apps.json */
	enum app_state state;
	unsigned reported;	/* 1 << state for each the server has */
};

struct apps {
	struct devtoken d;
	const struct apps_opts *ao;
	struct apps_result *res;
	struct app *list;
	size_t n;
	char *dir;		/* STATE/apps */
	uint64_t max_size;
	/* the app at hand, and its download */
	struct app *cur;
	unsigned index;
	int fd;
	uint64_t got;
	EVP_MD_CTX *md;
	int64_t shown_ms;
	enum wg_err stop;	/* why the download's receiver stopped it */
	const struct wg_httpc_resp *resp; /* the download's, while it runs */
	int started;		/* the body's first bytes came */
	char *part;		/* the .part's path */
	/* a status report's body */
	const char *status_body;
	char *why;
	size_t whylen;
};

/* An event of the apps channel; a (if not NULL) names the app. */
static void __attribute__((format(printf, 6, 7)))
app_event(struct apps *s, const struct app *a, int id, enum wg_level level,
    enum wg_err err, const char *fmt, ...)
{
	const char *corr = s->d.correlation_id;
	va_list ap;

	va_start(ap, fmt);
	eventlog_vsay(s->d.o->state_dir, "apps", id, level,
	    WG_PHASE_DEVICE_SETUP, err, corr[0] ? corr : NULL,
	    a != NULL ? "appId" : NULL, a != NULL ? a->id : NULL, fmt, ap);
	va_end(ap);
}

static void
progress(struct apps *s, const struct app *a, enum app_state st)
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

/* WG_E_ESP_TIMEOUT once the device setup deadline has passed. */
static enum wg_err
deadline_check(struct apps *s, const char *doing)
{
	if (s->ao->deadline_ms == 0 || wg_now_ms() < s->ao->deadline_ms)
		return WG_OK;
	return WG_FAIL(s, WG_E_ESP_TIMEOUT, "the device setup deadline passed "
	    "%s", doing);
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
		return WG_FAIL(s, WG_E_NET_PROTOCOL, "GET " APPS_LIST_PATH ": "
		    "the answer: %s", why);
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

/* GET /mdm/v1/apps */
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
	if ((rc = devtoken_call(&s->d, "GET", APPS_LIST_PATH, NULL, NULL,
	    &resp, retry)) == WG_OK && (rc = list_parse(s, resp.body,
	    resp.body_len)) != WG_OK)
		*retry = 1;
	wg_httpc_resp_free(&resp);
	return rc;
}

/* ---- STATE/apps.json: {"apps":[{id, sha256, state, reported:[]}]} ---- */

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

	if (agent_state_read(s->d.o->state_dir, APPS_FILE, buf, APPS_FILE_MAX,
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
		    s->d.o->state_dir, APPS_FILE);
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
	rc = agent_state_write(s->d.o->state_dir, APPS_FILE, text,
	    strlen(text), s->why, s->whylen);
	free(text);
	return rc;
}

/* A device token younger than TOKEN_REFRESH_MS as the bearer. */
static enum wg_err
token_fresh(struct apps *s)
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
	static const struct wg_httpc_header accept = { "Accept",
		"application/json" };
	struct apps *s = arg;
	char path[128];
	struct wg_httpc_req req = { .method = "POST", .path = path,
	    .headers = &accept, .nheaders = 1, .content_type =
	    "application/json", .body = s->status_body,
	    .body_len = strlen(s->status_body) };
	struct wg_httpc_resp resp = { 0 };
	struct wg_httpc_error e;
	enum wg_err rc;

	snprintf(path, sizeof(path), APPS_LIST_PATH "/%s/status", s->cur->id);
	*retry = 1;
	if ((rc = wg_httpc_do(s->d.http, &req, &resp)) != WG_OK) {
		rc = WG_FAIL(s, rc, "POST %s%s: %s", s->d.o->server, path,
		    resp.detail);
	} else if (resp.status < 200 || resp.status > 299) {
		wg_httpc_resp_error(&resp, &e);
		*retry = agent_retryable(WG_OK, resp.status);
		rc = WG_FAIL(s, e.err, "POST %s%s: HTTP %ld %s %s: %s",
		    s->d.o->server, path, resp.status, e.code, e.name,
		    e.message);
	}
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
	progress(s, a, st);
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

/* ---- the download ---- */

/* Where s->dir/<sha256><suffix> is; the caller frees it. */
static char *
app_path(struct apps *s, const struct app *a, const char *suffix)
{
	return xasprintf("%s/%s%s", s->dir, a->sha256, suffix);
}

/* Starts the hash over with the first *got bytes the .part holds. */
static enum wg_err
part_rehash(struct apps *s, const char *part)
{
	unsigned char buf[65536];
	uint64_t left = s->got;
	ssize_t n = -1;

	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		abort(); /* out of memory */
	if (lseek(s->fd, 0, SEEK_SET) != 0)
		goto fail;
	while (left > 0) {
		n = read(s->fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n <= 0)
			goto fail;
		EVP_DigestUpdate(s->md, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	return WG_OK;
fail:
	return WG_FAIL(s, WG_E_IO, "cannot read %s: %s", part,
	    n == 0 ? "shorter than it was" : strerror(errno));
}

/* Empties the .part: the download starts over. */
static enum wg_err
part_reset(struct apps *s, const char *part)
{
	s->got = 0;
	if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0)
		return WG_FAIL(s, WG_E_IO, "cannot empty %s: %s", part,
		    strerror(errno));
	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		abort();
	return WG_OK;
}

/* A 206's Content-Range must be "bytes <got>-<size-1>/<size>". */
static int
range_ok(struct apps *s, const char *cr)
{
	char want[96];

	snprintf(want, sizeof(want), "bytes %llu-%llu/%llu",
	    (unsigned long long)s->got, (unsigned long long)s->cur->size - 1,
	    (unsigned long long)s->cur->size);
	return strcmp(cr, want) == 0;
}

/*
 * Before the first bytes: a 206 must continue where the .part ends; a
 * 200 is the whole content, so the .part starts over.
 */
static enum wg_err
on_start(struct apps *s)
{
	s->started = 1;
	if (s->resp->status == 206 && !range_ok(s, s->resp->content_range)) {
		s->stop = WG_FAIL(s, WG_E_NET_PROTOCOL, "the server answered "
		    "bytes=%llu- with Content-Range \"%.64s\": the download "
		    "starts over", (unsigned long long)s->got,
		    s->resp->content_range);
		(void)part_reset(s, s->part);
		return s->stop;
	}
	if (s->resp->status != 206 && s->got > 0) {
		wg_info("apps: the server sent all of %s, not the range asked "
		    "for: the download starts over", s->cur->sha256);
		if ((s->stop = part_reset(s, s->part)) != WG_OK)
			return s->stop;
	}
	return WG_OK;
}

/* The response body as it arrives: checked, written, hashed, shown. */
static enum wg_err
on_content(void *arg, const char *data, size_t len)
{
	struct apps *s = arg;
	const struct app *a = s->cur;
	ssize_t w;
	size_t off;

	if (!s->started && on_start(s) != WG_OK)
		return s->stop;
	if (len > a->size - s->got) {
		s->stop = WG_FAIL(s, WG_E_APP_TOO_LARGE, "app \"%s\": the "
		    "server sent more than the %llu bytes the app list "
		    "declares", a->name, (unsigned long long)a->size);
		return s->stop;
	}
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(s->fd, data + off, len - off)) < 0) {
			s->stop = WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "cannot "
			    "write %s/%s.part: %s", s->dir, a->sha256,
			    strerror(errno));
			return s->stop;
		}
	EVP_DigestUpdate(s->md, data, len);
	s->got += len;
	if (wg_mono_ms() - s->shown_ms >= PROGRESS_EVERY_MS) {
		s->shown_ms = wg_mono_ms();
		progress(s, a, ST_DOWNLOADING);
		if ((s->stop = deadline_check(s, "while an app was being "
		    "downloaded")) != WG_OK)
			return s->stop;
	}
	return WG_OK;
}

/* One GET of the rest of the content into the open .part. */
static enum wg_err
fetch(struct apps *s, int *retry)
{
	const struct app *a = s->cur;
	char range[48];
	struct wg_httpc_header h = { "Range", range };
	struct wg_httpc_req req = { .method = "GET", .path = a->url,
	    .headers = &h, .nheaders = s->got > 0, .download = on_content,
	    .download_ctx = s };
	struct wg_httpc_resp resp = { 0 };
	struct wg_httpc_error e;
	int64_t left;
	enum wg_err rc;

	snprintf(range, sizeof(range), "bytes=%llu-",
	    (unsigned long long)s->got);
	if (s->ao->deadline_ms != 0) {
		left = s->ao->deadline_ms - wg_now_ms();
		req.timeout_ms = left > 1 ? (long)left : 1;
	}
	s->stop = WG_OK;
	s->started = 0;
	s->resp = &resp;
	rc = wg_httpc_do(s->d.http, &req, &resp);
	s->resp = NULL;
	*retry = 1;
	if (rc != WG_OK && s->stop != WG_OK) {
		*retry = s->stop != WG_E_APP_TOO_LARGE &&
		    s->stop != WG_E_ESP_TIMEOUT;
		rc = s->stop;
	} else if (rc != WG_OK) {
		rc = WG_FAIL(s, rc, "GET %s%s: %s", s->d.o->server, a->url,
		    resp.detail);
		if (deadline_check(s, "while an app was being downloaded") !=
		    WG_OK) {
			*retry = 0;
			rc = WG_E_ESP_TIMEOUT;
		}
	} else if (resp.status == 416) {
		rc = WG_FAIL(s, WG_E_NET_PROTOCOL, "GET %s%s: HTTP 416 for "
		    "bytes %llu on: the download starts over", s->d.o->server,
		    a->url, (unsigned long long)s->got);
		if (part_reset(s, s->part) != WG_OK)
			*retry = 0;
	} else if (resp.status < 200 || resp.status > 299) {
		wg_httpc_resp_error(&resp, &e);
		*retry = agent_retryable(WG_OK, resp.status);
		rc = WG_FAIL(s, e.err, "GET %s%s: HTTP %ld %s %s: %s",
		    s->d.o->server, a->url, resp.status, e.code, e.name,
		    e.message);
	} else if (s->got != a->size) {
		rc = WG_FAIL(s, WG_E_NET_PROTOCOL, "GET %s%s: %llu of %llu "
		    "bytes came", s->d.o->server, a->url,
		    (unsigned long long)s->got, (unsigned long long)a->size);
	}
	wg_httpc_resp_free(&resp);
	return rc;
}

/* The .part is whole: its hash checked, then renamed into place. */
static enum wg_err
part_finish(struct apps *s, int *retry)
{
	const struct app *a = s->cur;
	unsigned char md[32];
	char hex[65], *path;
	enum wg_err rc = WG_OK;

	if (fsync(s->fd) != 0)
		return WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "cannot write %s: "
		    "%s", s->part, strerror(errno));
	EVP_DigestFinal_ex(s->md, md, NULL);
	wg_hex(md, sizeof(md), hex);
	if (strcmp(hex, a->sha256) != 0) {
		/* the next try starts over: a stale prefix may be the cause */
		if (unlink(s->part) != 0)
			*retry = 0;
		return WG_FAIL(s, WG_E_APP_HASH_MISMATCH, "app \"%s\": the "
		    "%llu bytes downloaded have SHA-256 %s, not %s; deleted",
		    a->name, (unsigned long long)a->size, hex, a->sha256);
	}
	path = app_path(s, a, "");
	if (rename(s->part, path) != 0) {
		*retry = 0;
		rc = WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "cannot rename %s: "
		    "%s", s->part, strerror(errno));
	}
	free(path);
	return rc;
}

/* One try: the .part opened (resumed), the rest fetched, verified. */
static enum wg_err
download_once(void *arg, int *retry)
{
	struct apps *s = arg;
	struct stat st;
	enum wg_err rc;

	*retry = 0;
	if ((rc = deadline_check(s, "before an app was downloaded")) !=
	    WG_OK || (rc = token_fresh(s)) != WG_OK)
		return rc;
	s->fd = open(s->part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->fd < 0 || fstat(s->fd, &st) != 0) {
		rc = WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "cannot open %s: %s",
		    s->part, strerror(errno));
		goto done;
	}
	s->got = (uint64_t)st.st_size;
	if (s->got > s->cur->size)
		rc = part_reset(s, s->part);
	else
		rc = part_rehash(s, s->part);
	if (rc != WG_OK || lseek(s->fd, 0, SEEK_END) < 0) {
		rc = rc != WG_OK ? rc : WG_FAIL(s, WG_E_IO, "cannot seek %s",
		    s->part);
		goto done;
	}
	app_event(s, s->cur, APPS_EVT_DOWNLOAD, WG_LEVEL_INFO, WG_OK,
	    "app \"%s\": downloading %llu bytes%s", s->cur->name,
	    (unsigned long long)s->cur->size, s->got > 0 ?
	    " (resumed)" : "");
	if (s->got > 0)
		wg_info("apps: %s: resuming at byte %llu", s->cur->sha256,
		    (unsigned long long)s->got);
	progress(s, s->cur, ST_DOWNLOADING);
	if (s->got < s->cur->size && (rc = fetch(s, retry)) != WG_OK)
		goto done;
	*retry = 1;
	if ((rc = part_finish(s, retry)) == WG_OK)
		progress(s, s->cur, ST_DOWNLOADING);
done:
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return rc;
}

/* The app's content downloaded into STATE/apps/<sha256>, tried. */
static enum wg_err
download(struct apps *s, struct app *a)
{
	enum wg_err rc;

	s->part = app_path(s, a, ".part");
	s->fd = -1;
	s->shown_ms = 0;
	if ((s->md = EVP_MD_CTX_new()) == NULL)
		abort(); /* out of memory */
	rc = devtoken_tries(&s->d, download_once, s, NULL);
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	free(s->part);
	s->part = NULL;
	if (rc == WG_OK)
		app_event(s, a, APPS_EVT_DOWNLOADED, WG_LEVEL_INFO, WG_OK,
		    "app \"%s\": downloaded, SHA-256 %s verified", a->name,
		    a->sha256);
	else if (wg_err_info(rc)->phase != WG_PHASE_DEVICE_SETUP)
		/* the network's or the server's code: the app's is this */
		rc = WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "app \"%s\": %.900s",
		    a->name, s->why);
	return rc;
}

/* ---- the install command ---- */

/* Runs the app's install command; WG_OK when it exits 0. */
static enum wg_err
install(struct apps *s, struct app *a)
{
	char *file = app_path(s, a, ""), *log = app_path(s, a, ".log");
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
		rc = WG_FAIL(s, WG_E_ESP_TIMEOUT, "the device setup deadline "
		    "passed while app \"%s\" was installing: its install "
		    "command was stopped", a->name);
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
	char *path = app_path(s, a, "");
	struct stat st;
	enum wg_err rc;
	int have;

	/* content an earlier run verified before it renamed it */
	have = stat(path, &st) == 0 && (uint64_t)st.st_size == a->size;
	free(path);
	s->cur = a;
	s->got = have ? a->size : 0;
	if ((rc = deadline_check(s, "before the app was identified")) !=
	    WG_OK || (rc = token_fresh(s)) != WG_OK ||
	    (rc = report(s, a, ST_IDENTIFYING, WG_OK, NULL)) != WG_OK)
		return rc;
	if (!have && a->size > s->max_size)
		return WG_FAIL(s, WG_E_APP_TOO_LARGE, "app \"%s\" is %llu "
		    "bytes, more than the %llu this device accepts "
		    "(--max-app-size)", a->name, (unsigned long long)a->size,
		    (unsigned long long)s->max_size);
	if ((rc = report(s, a, ST_DOWNLOADING, WG_OK, NULL)) != WG_OK ||
	    (!have && (rc = download(s, a)) != WG_OK) ||
	    (rc = deadline_check(s, "before the app was installed")) !=
	    WG_OK || (rc = token_fresh(s)) != WG_OK)
		return rc;
	app_event(s, a, APPS_EVT_INSTALLING, WG_LEVEL_INFO, WG_OK,
	    "app \"%s\": installing", a->name);
	if ((rc = report(s, a, ST_INSTALLING, WG_OK, NULL)) != WG_OK ||
	    (rc = install(s, a)) != WG_OK || (rc = token_fresh(s)) != WG_OK)
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
			app_event(s, a, APPS_EVT_SKIPPED, WG_LEVEL_INFO, WG_OK,
			    "app \"%s\": installed by an earlier run", a->name);
			if ((rc = token_fresh(s)) != WG_OK ||
			    (rc = report(s, a, ST_INSTALLED, WG_OK, NULL)) !=
			    WG_OK)
				return rc;
			continue;
		}
		if ((rc = app_steps(s, a)) == WG_OK) {
			res->installed++;
			app_event(s, a, APPS_EVT_INSTALLED, WG_LEVEL_INFO,
			    WG_OK, "app \"%s\" installed", a->name);
			continue;
		}
		res->failed++;
		snprintf(res->failed_app, sizeof(res->failed_app), "%s",
		    a->name);
		if (wg_err_info(rc)->phase != WG_PHASE_DEVICE_SETUP)
			return rc; /* the token, a report: not the app's */
		app_event(s, a, APPS_EVT_FAILED, WG_LEVEL_ERROR, rc, "%s",
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
	progress(s, NULL, ST_IDENTIFYING);
	if ((rc = devtoken_discover(&s->d)) != WG_OK ||
	    (rc = token_fresh(s)) != WG_OK ||
	    (rc = devtoken_tries(&s->d, list_once, s, NULL)) != WG_OK)
		return rc;
	s->res->count = (unsigned)s->n;
	app_event(s, NULL, APPS_EVT_LIST, WG_LEVEL_INFO, WG_OK, "%zu %s for "
	    "device setup", s->n, s->n == 1 ? "app" : "apps");
	records_load(s);
	return apps_each(s);
}

enum wg_err
apps_run(const struct agent_phase_opts *o, const struct apps_opts *ao,
    struct apps_result *res, char *why, size_t whylen)
{
	static const struct apps_opts none = { 0 };
	struct apps s = { .d = { .o = o, .channel = "apps",
	    .phase = WG_PHASE_DEVICE_SETUP, .refused_event = 0,
	    .try_event = APPS_EVT_TRY, .why = why, .whylen = whylen },
	    .ao = ao != NULL ? ao : &none, .res = res, .fd = -1, .why = why,
	    .whylen = whylen };
	enum wg_err rc;

	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	s.max_size = s.ao->max_size != 0 ? s.ao->max_size :
	    APPS_MAX_SIZE_DEFAULT;
	s.dir = xasprintf("%s/%s", o->state_dir, APPS_DIR);
	if ((rc = agent_state_dir(o->state_dir, why, whylen)) == WG_OK &&
	    (rc = agent_state_dir(s.dir, why, whylen)) == WG_OK)
		rc = apps_steps(&s);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK)
		app_event(&s, NULL, APPS_EVT_DONE, WG_LEVEL_INFO, WG_OK,
		    "device setup done: %u of %u %s installed (%u by an "
		    "earlier run)", res->installed, res->count,
		    res->count == 1 ? "app" : "apps", res->already);
	else
		app_event(&s, NULL, APPS_EVT_PHASE_FAILED, WG_LEVEL_ERROR, rc,
		    "device setup failed: %s", why);
	free(s.list);
	free(s.dir);
	devtoken_close(&s.d);
	return rc;
}
