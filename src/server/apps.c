/*
 * Apps and device setup (step 5 of the flow, the Enrollment Status
 * Page's "Device setup"): the admin API that creates apps, uploads their
 * content and assigns them to group tags (service registry), and what a
 * device asks during setup with its device token (service mdm): its
 * apps, their content (with HTTP ranges, so a download resumes), and its
 * progress, kept per app and in its timeline (docs/api.md, "Apps and
 * device setup").
 *
 * Content is kept content-addressed in STATE/content/<sha256 hex>
 * (0600; the directory 0700): an upload streams into a temporary file
 * there while its SHA-256 is computed, and is renamed into place when
 * complete, so the server never holds a file in memory and a half
 * upload is never seen.  Apps with the same bytes share one file, which
 * is removed when no app uses it any more.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/event.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/admin_util.h"
#include "server/server.h"

#define APP_UPLOAD_STALE_S 3600 /* an unfinished upload older: swept */
#define APP_BODY_MAX 8192
#define APP_STATUS_BODY_MAX 2048
#define APP_CONTENT_MAX ((size_t)4 << 30) /* 4 GiB */
#define APP_PAGE_DEFAULT 100
#define APP_TIMEOUT_DEFAULT 600
#define APP_TIMEOUT_MAX 7200

/* Audit events: the admin channel's, and the device timeline's "apps". */
enum {
	APP_EVT_CREATED = 1019,
	APP_EVT_CONTENT = 1020,
	APP_EVT_ASSIGNMENT = 1021,
	APP_EVT_DELETED = 1022,
	APP_EVT_INSTALLED = 1901,
	APP_EVT_FAILED = 1902,
};

/*
 * Held from placing an uploaded file to its commit, and while a file no
 * app uses is removed, so a removal never takes a file that an upload
 * of the same bytes just placed (one server process per state dir).
 */
static pthread_mutex_t content_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const app_targets[] = { "device", "user", NULL };
static const char *const app_states[] = { "identifying", "downloading",
	"installing", "installed", "failed", NULL };

/* 1 if s is one of words (NULL-terminated). */
static int
word_in(const char *s, const char *const *words)
{
	size_t i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return 1;
	return 0;
}

/* 1 if s is a SHA-256 as this server names content: 64 lowercase hex. */
static int
sha256_ok(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* STATE/content, or its file hex (xmalloc'd; the caller frees). */
static char *
content_path(const struct http_req *req, const char *hex)
{
	return xasprintf("%s/content%s%s", req->srv->cfg->state_dir,
	    hex ? "/" : "", hex ? hex : "");
}

/*
 * Removes content file hex once no app (of any tenant) uses it: after an
 * app's delete or new upload committed.  A failure only leaves a file.
 */
static void
content_release(struct http_req *req, struct store_conn *c, const char *hex)
{
	int64_t used = 1;
	char *path;

	if (hex[0] == '\0')
		return;
	pthread_mutex_lock(&content_lock);
	if (store_app_content_users(c, hex, &used) == WG_OK && used == 0) {
		path = content_path(req, hex);
		if (unlink(path) != 0 && errno != ENOENT)
			wg_warn("apps: cannot remove unused content %s: %s",
			    hex, strerror(errno));
		free(path);
	}
	pthread_mutex_unlock(&content_lock);
}

void
apps_content_sweep(const char *state_dir)
{
	char *dir = xasprintf("%s/content", state_dir), *path;
	time_t cutoff = time(NULL) - APP_UPLOAD_STALE_S;
	struct dirent *e;
	struct stat st;
	unsigned n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return; /* no content yet */
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".upload-", 8) != 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		/* an upload in progress writes: its file is never this old */
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < cutoff) {
			if (unlink(path) == 0)
				n++;
			else
				wg_warn("apps: cannot remove %s: %s", path,
				    strerror(errno));
		}
		free(path);
	}
	closedir(d);
	if (n > 0)
		wg_info("apps: removed %u unfinished upload(s) left in %s by "
		    "an earlier run", n, dir);
	free(dir);
}

/* ---- the app as the admin sees it ---- */

static json_t *
app_json(const struct wg_app *a, char *const *tags, size_t ntags)
{
	json_t *tj = json_array();
	size_t i;

	for (i = 0; i < ntags; i++)
		json_array_append_new(tj, json_string(tags[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s?, s:I, s:o, s:o, "
	    "s:o}", "id", a->id, "name", a->name, "installCommand",
	    a->install_command, "target", a->target, "timeoutSeconds",
	    (json_int_t)a->timeout_s, "sha256", a->sha256[0] ? a->sha256 :
	    NULL, "size", (json_int_t)a->size, "assignedGroupTags", tj,
	    "createdAt", admin_json_time(a->created_ms), "updatedAt",
	    admin_json_time(a->updated_ms));
}

/* The app's JSON with its group tags read from the store. */
static enum wg_err
app_read_json(struct store_conn *c, const struct wg_app *a, json_t **out)
{
	char **tags = NULL;
	enum wg_err rc;
	size_t i, n = 0;

	*out = NULL;
	if ((rc = store_app_tags(c, a->tenant_id, a->id, &tags, &n)) == WG_OK)
		*out = app_json(a, tags, n);
	for (i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
	return rc;
}

static enum wg_err
app_answer(struct http_resp *resp, int status, struct store_conn *c,
    const struct wg_app *a)
{
	json_t *o;
	enum wg_err rc;

	if ((rc = app_read_json(c, a, &o)) == WG_OK)
		http_resp_json(resp, status, o);
	return rc;
}

/* An admin-channel record "app "NAME" VERB" with key = value. */
static enum wg_err
app_audit(struct http_req *req, struct store_conn *c, const char *tenant,
    int id, const struct wg_app *a, const char *verb, const char *key,
    const char *value)
{
	struct wg_event *ev;
	enum wg_err rc;

	ev = wg_event_new("admin", id, WG_LEVEL_INFO, WG_PHASE_ADMIN, WG_OK,
	    "app \"%s\" %s", a->name, verb);
	wg_event_add(ev, "appId", "%s", a->id);
	if (key != NULL)
		wg_event_add(ev, key, "%s", value);
	if (req->caller.key_id[0] != '\0')
		wg_event_add(ev, "byKeyId", "%s", req->caller.key_id);
	rc = store_audit_append(c, tenant, NULL, req->request_id, ev);
	wg_event_free(ev);
	return rc;
}

/* ---- create ---- */

/* The create body into a (whose tenant the caller sets). */
static enum wg_err
app_parse(struct http_req *req, const json_t *root, struct wg_app *a)
{
	static const char *const allowed[] = { "name", "installCommand",
		"target", "timeoutSeconds", NULL };
	const json_t *t = json_object_get(root, "timeoutSeconds");
	const char *name, *cmd, *target;
	enum wg_err rc;

	if ((rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(root, "name", 1, WG_APP_NAME_MAX, &name,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_string(root, "installCommand", 1,
	    WG_APP_COMMAND_MAX, &cmd, req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_string(root, "target", 1, 8, &target, req->why,
	    sizeof(req->why))) != WG_OK)
		return rc;
	if (!word_in(target, app_targets))
		return http_fail(req, WG_E_JSON_FIELD, "field \"target\" must "
		    "be device or user");
	a->timeout_s = APP_TIMEOUT_DEFAULT;
	if (t != NULL && (!json_is_integer(t) || json_integer_value(t) < 1 ||
	    json_integer_value(t) > APP_TIMEOUT_MAX))
		return http_fail(req, WG_E_JSON_FIELD, "field "
		    "\"timeoutSeconds\" must be a whole number from 1 to %d",
		    APP_TIMEOUT_MAX);
	if (t != NULL)
		a->timeout_s = json_integer_value(t);
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->install_command, sizeof(a->install_command), "%s", cmd);
	snprintf(a->target, sizeof(a->target), "%s", target);
	return WG_OK;
}

/* POST /admin/v1/apps */
static enum wg_err
app_create(struct http_req *req, struct http_resp *resp)
{
	struct wg_app a = { .id = "" };
	struct store_conn *c;
	json_t *root = NULL;
	enum wg_err rc;

	if ((rc = http_scope_tenant(req, a.tenant_id)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = app_parse(req, root, &a)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK || (rc = store_begin(c)) != WG_OK)
		goto done;
	if ((rc = store_app_create(c, &a)) == WG_E_CONFLICT) {
		rc = http_fail(req, rc, "an app named \"%s\" already exists",
		    a.name);
		goto done;
	}
	if (rc != WG_OK || (rc = app_audit(req, c, a.tenant_id,
	    APP_EVT_CREATED, &a, "created", NULL, NULL)) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK)
		goto done;
	http_resp_json(resp, 201, app_json(&a, NULL, 0));
done:
	json_decref(root);
	return rc;
}

/* ---- list: by name, the cursor base64url(name of the last) ---- */


/* GET /admin/v1/apps[?name=][&after=][&limit=] */
static enum wg_err
app_list(struct http_req *req, struct http_resp *resp)
{
	const char *name = http_query(req, "name");
	struct wg_app *list = NULL;
	struct store_conn *c;
	char tenant[37], *after = NULL, *next = NULL;
	long long limit;
	json_t *arr = json_array(), *o;
	enum wg_err rc;
	size_t i, n = 0;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = admin_query_int(req, "limit", 1, WG_APP_LIST_MAX,
	    APP_PAGE_DEFAULT, &limit)) != WG_OK ||
	    (rc = admin_name_cursor(req, "an app",
	    WG_APP_NAME_MAX, &after)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK)
		goto done;
	if (name != NULL) {
		list = xmalloc(sizeof(*list));
		rc = store_app_get_by_name(c, tenant, name, list);
		n = rc == WG_OK;
		rc = rc == WG_E_NOT_FOUND ? WG_OK : rc;
	} else {
		rc = store_app_list(c, tenant, after, (size_t)limit, &list, &n);
	}
	for (i = 0; rc == WG_OK && i < n; i++)
		if ((rc = app_read_json(c, &list[i], &o)) == WG_OK)
			json_array_append_new(arr, o);
	if (rc != WG_OK)
		goto done;
	if (name == NULL && n > 0 && n == (size_t)limit)
		next = wg_b64url(list[n - 1].name, strlen(list[n - 1].name));
	http_resp_json(resp, 200, json_pack("{s:O, s:s?}", "value", arr,
	    "next", next));
done:
	json_decref(arr);
	free(next);
	free(list);
	free(after);
	return rc;
}

/* ---- one app, named by the path ---- */

static enum wg_err
app_found(struct http_req *req, enum wg_err rc)
{
	return rc == WG_E_NOT_FOUND ? http_fail(req, rc, "app not found") : rc;
}

/* The caller's tenant, a connection, and the app the path names. */
static enum wg_err
app_load(struct http_req *req, char tenant[37], struct store_conn **c,
    struct wg_app *a)
{
	enum wg_err rc;

	if ((rc = admin_path_scope(req, "app", tenant, c)) != WG_OK)
		return rc;
	return app_found(req, store_app_get(*c, tenant, req->params[0], a));
}

/* GET /admin/v1/apps/{id} */
static enum wg_err
app_get(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_app a;
	char tenant[37];
	enum wg_err rc;

	if ((rc = app_load(req, tenant, &c, &a)) != WG_OK)
		return rc;
	return app_answer(resp, 200, c, &a);
}

/* DELETE /admin/v1/apps/{id}: its assignments, states and content go. */
static enum wg_err
app_delete(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_app a;
	char tenant[37];
	enum wg_err rc;

	if ((rc = app_load(req, tenant, &c, &a)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK)
		return rc;
	if ((rc = app_found(req, store_app_delete(c, tenant, a.id))) != WG_OK ||
	    (rc = app_audit(req, c, tenant, APP_EVT_DELETED, &a, "deleted",
	    NULL, NULL)) != WG_OK || (rc = store_commit(c)) != WG_OK)
		return rc;
	content_release(req, c, a.sha256);
	resp->status = 204;
	return WG_OK;
}

/* POST …/{id}/assign and …/{id}/unassign {"groupTag": "T"} */
static enum wg_err
app_target(struct http_req *req, struct http_resp *resp, int assign)
{
	static const char *const allowed[] = { "groupTag", NULL };
	struct store_conn *c;
	struct wg_app a;
	json_t *root = NULL;
	const char *tag;
	char tenant[37];
	enum wg_err rc;

	if ((rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(root, "groupTag", 1, WG_GROUP_TAG_MAX, &tag,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = app_load(req, tenant, &c, &a)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK)
		goto done;
	rc = assign ? store_app_assign(c, tenant, a.id, tag) :
	    store_app_unassign(c, tenant, a.id, tag);
	if (rc == WG_E_NOT_FOUND && !assign)
		rc = http_fail(req, rc, "group tag \"%s\" is not assigned to "
		    "this app", tag);
	else
		rc = app_found(req, rc); /* deleted meanwhile */
	if (rc != WG_OK || (rc = app_audit(req, c, tenant, APP_EVT_ASSIGNMENT,
	    &a, assign ? "assigned" : "unassigned", "groupTag", tag)) !=
	    WG_OK || (rc = store_commit(c)) != WG_OK)
		goto done;
	rc = app_answer(resp, 200, c, &a);
done:
	json_decref(root);
	return rc;
}

static enum wg_err
app_assign(struct http_req *req, struct http_resp *resp)
{
	return app_target(req, resp, 1);
}

static enum wg_err
app_unassign(struct http_req *req, struct http_resp *resp)
{
	return app_target(req, resp, 0);
}

/* ---- PUT /admin/v1/apps/{id}/content: streamed into STATE/content ---- */

struct upload {
	char tenant[37];
	struct store_conn *db;
	struct wg_app app;
	int fd;		/* the temporary file, -1 once closed */
	char *tmp;	/* its path while it exists */
	EVP_MD_CTX *md;
	uint64_t size;
};

static enum wg_err
upload_begin(struct http_req *req, void **state)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	const char *cl = http_header(req, "Content-Length");
	char *dir = NULL;
	enum wg_err rc;

	*state = u;
	u->fd = -1;
	if ((rc = app_load(req, u->tenant, &u->db, &u->app)) != WG_OK)
		return rc;
	/* the HTTP layer refused one over APP_CONTENT_MAX already */
	if (cl == NULL)
		return http_fail(req, WG_E_LENGTH_REQUIRED, "an app's content "
		    "is uploaded with a Content-Length (at most %zu bytes)",
		    APP_CONTENT_MAX);
	if (strcmp(cl, "0") == 0)
		return http_fail(req, WG_E_APP_CONTENT_EMPTY, "the content of "
		    "app \"%s\" is empty (Content-Length: 0)", u->app.name);
	dir = content_path(req, NULL);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		wg_error("apps: cannot make %s: %s", dir, strerror(errno));
		free(dir);
		return http_fail(req, WG_E_IO, "the server cannot store "
		    "content");
	}
	free(dir);
	u->tmp = xasprintf("%s/content/.upload-XXXXXX",
	    req->srv->cfg->state_dir);
	if ((u->fd = mkstemp(u->tmp)) < 0) { /* 0600 */
		wg_error("apps: cannot create %s: %s", u->tmp, strerror(errno));
		free(u->tmp);
		u->tmp = NULL;
		return http_fail(req, WG_E_IO, "the server cannot store "
		    "content");
	}
	if ((u->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1)
		return WG_E_CRYPTO;
	return WG_OK;
}

static enum wg_err
upload_data(struct http_req *req, void *state, const char *buf, size_t n)
{
	struct upload *u = state;
	ssize_t w;

	if (EVP_DigestUpdate(u->md, buf, n) != 1)
		return WG_E_CRYPTO;
	u->size += n;
	while (n > 0) {
		if ((w = write(u->fd, buf, n)) < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			wg_error("apps: cannot write %s: %s", u->tmp,
			    strerror(errno));
			return http_fail(req, WG_E_IO, "the server cannot "
			    "store content (disk full?)");
		}
		buf += w;
		n -= (size_t)w;
	}
	return WG_OK;
}

/* Finishes the file: its SHA-256 into hex, renamed into place. */
static enum wg_err
upload_place(struct http_req *req, struct upload *u, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *path;
	int ok;

	if (EVP_DigestFinal_ex(u->md, md, &mdlen) != 1 || mdlen != 32)
		return WG_E_CRYPTO;
	wg_hex(md, sizeof(md), hex);
	ok = fsync(u->fd) == 0;
	ok = close(u->fd) == 0 && ok;
	u->fd = -1;
	path = content_path(req, hex);
	ok = ok && rename(u->tmp, path) == 0;
	if (!ok)
		wg_error("apps: cannot store %s: %s", path, strerror(errno));
	free(path);
	if (!ok)
		return http_fail(req, WG_E_IO, "the server cannot store "
		    "content");
	free(u->tmp);
	u->tmp = NULL;
	return WG_OK;
}

static enum wg_err
upload_end(struct http_req *req, void *state, struct http_resp *resp)
{
	struct upload *u = state;
	char hex[65], old[65];
	struct wg_app a;
	enum wg_err rc;

	if (u->size == 0)
		return http_fail(req, WG_E_APP_CONTENT_EMPTY, "the content of "
		    "app \"%s\" is empty", u->app.name);
	pthread_mutex_lock(&content_lock);
	if ((rc = upload_place(req, u, hex)) != WG_OK ||
	    (rc = store_begin(u->db)) != WG_OK ||
	    (rc = app_found(req, store_app_get(u->db, u->tenant, u->app.id,
	    &a))) != WG_OK ||
	    (rc = store_app_set_content(u->db, u->tenant, a.id, hex,
	    (int64_t)u->size)) != WG_OK ||
	    (rc = app_audit(req, u->db, u->tenant, APP_EVT_CONTENT, &a,
	    "content uploaded", "sha256", hex)) != WG_OK ||
	    (rc = store_commit(u->db)) != WG_OK) {
		pthread_mutex_unlock(&content_lock);
		if (u->tmp == NULL) { /* placed: remove it unless in use */
			store_rollback(u->db);
			content_release(req, u->db, hex);
		}
		return rc;
	}
	pthread_mutex_unlock(&content_lock);
	memcpy(old, a.sha256, sizeof(old));
	memcpy(a.sha256, hex, sizeof(a.sha256));
	a.size = (int64_t)u->size;
	if (strcmp(old, hex) != 0)
		content_release(req, u->db, old);
	return app_answer(resp, 200, u->db, &a);
}

static void
upload_free(void *state)
{
	struct upload *u = state;

	if (u == NULL)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (u->tmp != NULL && unlink(u->tmp) != 0)
		wg_warn("apps: cannot remove %s: %s", u->tmp, strerror(errno));
	free(u->tmp);
	EVP_MD_CTX_free(u->md);
	free(u);
}

static const struct http_stream upload_stream = { upload_begin, upload_data,
	upload_end, upload_free };

/* ---- GET /admin/v1/devices/{id}/setup ---- */

static json_t *
state_json(const struct wg_app_state *s)
{
	return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:o}", "appId",
	    s->app_id, "appName", s->app_name, "state", s->state, "code",
	    s->code[0] ? s->code : NULL, "message", s->message[0] ?
	    s->message : NULL, "updatedAt", admin_json_time(s->updated_ms));
}

static enum wg_err
device_setup(struct http_req *req, struct http_resp *resp)
{
	struct wg_app_state *list = NULL;
	struct store_conn *c;
	struct wg_device d;
	char tenant[37];
	json_t *arr;
	enum wg_err rc;
	size_t i, n = 0;

	if ((rc = admin_path_scope(req, "device", tenant, &c)) != WG_OK)
		return rc;
	if ((rc = store_device_get(c, tenant, req->params[0], &d)) ==
	    WG_E_NOT_FOUND)
		return http_fail(req, rc, "device not found");
	if (rc != WG_OK ||
	    (rc = store_app_states(c, tenant, d.id, &list, &n)) != WG_OK)
		return rc;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, state_json(&list[i]));
	free(list);
	http_resp_json(resp, 200, json_pack("{s:s, s:o}", "deviceId", d.id,
	    "value", arr));
	return WG_OK;
}

/* ---- the device's side: its token names it ---- */

/* The registered device the request's device token names. */
static enum wg_err
device_load(struct http_req *req, struct store_conn **c, struct wg_device *d)
{
	struct device_claims tok;
	enum wg_err rc;

	if ((rc = token_device_check(req, TOKEN_AUD_MDM, &tok)) != WG_OK ||
	    (rc = http_db(req, c)) != WG_OK)
		return rc;
	rc = store_device_by_ztd(*c, tok.tenant_id, tok.ztd_id, d);
	return rc == WG_E_NOT_FOUND ? http_fail(req, rc, "the device of this "
	    "token is not registered any more") : rc;
}

/* GET /mdm/v1/apps */
static enum wg_err
device_apps(struct http_req *req, struct http_resp *resp)
{
	const char *target = http_query(req, "target");
	struct wg_app *list = NULL;
	struct store_conn *c;
	struct wg_device d;
	char url[96];
	json_t *arr;
	enum wg_err rc;
	size_t i, n = 0;

	if (target == NULL)
		target = "device";
	if (!word_in(target, app_targets))
		return http_fail(req, WG_E_JSON_FIELD, "?target= must be device "
		    "(device setup, the default) or user (account setup)");
	if ((rc = device_load(req, &c, &d)) != WG_OK ||
	    (rc = store_app_for_device(c, d.tenant_id, d.group_tag, target,
	    &list, &n)) != WG_OK)
		return rc;
	arr = json_array();
	for (i = 0; i < n; i++) {
		snprintf(url, sizeof(url), "/mdm/v1/content/%s",
		    list[i].sha256);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, "
		    "s:s, s:I, s:s}", "id", list[i].id, "name", list[i].name,
		    "sha256", list[i].sha256, "size", (json_int_t)list[i].size,
		    "installCommand", list[i].install_command,
		    "timeoutSeconds", (json_int_t)list[i].timeout_s,
		    "contentUrl", url));
	}
	free(list);
	http_resp_json(resp, 200, json_pack("{s:o}", "value", arr));
	return WG_OK;
}

/* GET /mdm/v1/content/{sha256}: an assigned app's bytes, with ranges. */
static enum wg_err
device_content(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_device d;
	struct wg_app a;
	struct stat st;
	char *path;
	enum wg_err rc;
	int fd;

	if ((rc = device_load(req, &c, &d)) != WG_OK)
		return rc;
	if (!sha256_ok(req->params[0]))
		return http_fail(req, WG_E_APP_CONTENT_NAME, "content is named "
		    "by its SHA-256 in 64 lowercase hex digits");
	if ((rc = store_app_device_get(c, d.tenant_id, d.group_tag, NULL,
	    req->params[0], &a)) == WG_E_NOT_FOUND)
		return http_fail(req, rc, "no app assigned to this device has "
		    "this content");
	if (rc != WG_OK)
		return rc;
	path = content_path(req, a.sha256);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		wg_error("apps: cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return http_fail(req, WG_E_IO, "the content of app \"%s\" "
		    "cannot be read on the server", a.name);
	}
	free(path);
	http_resp_file(resp, fd, (uint64_t)st.st_size,
	    "application/octet-stream");
	return WG_OK;
}

/* The status body into s; code "0x" and 1 to 8 hex digits. */
static enum wg_err
status_parse(struct http_req *req, const json_t *root,
    struct wg_app_state *s)
{
	static const char *const allowed[] = { "state", "code", "message",
		NULL };
	const char *state, *code, *msg;
	size_t i, n;
	enum wg_err rc;

	if ((rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(root, "state", 1, 16, &state, req->why,
	    sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_string(root, "code", 0, WG_APP_CODE_MAX, &code,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_string(root, "message", 0, WG_APP_MESSAGE_MAX, &msg,
	    req->why, sizeof(req->why))) != WG_OK)
		return rc;
	if (!word_in(state, app_states))
		return http_fail(req, WG_E_JSON_FIELD, "field \"state\" must "
		    "be identifying, downloading, installing, installed or "
		    "failed");
	n = code != NULL ? strlen(code) : 0;
	for (i = 2; code != NULL && i < n && strchr("0123456789abcdefABCDEF",
	    code[i]) != NULL; i++)
		;
	if (code != NULL && (n < 3 || strncmp(code, "0x", 2) != 0 || i != n))
		return http_fail(req, WG_E_JSON_FIELD, "field \"code\" must be "
		    "0x and 1 to 8 hex digits");
	snprintf(s->state, sizeof(s->state), "%s", state);
	snprintf(s->code, sizeof(s->code), "%s", code ? code : "");
	snprintf(s->message, sizeof(s->message), "%s", msg ? msg : "");
	return WG_OK;
}

/* An installed or failed app in the device's timeline. */
static enum wg_err
status_audit(struct http_req *req, struct store_conn *c,
    const struct wg_device *d, const struct wg_app *a,
    const struct wg_app_state *s)
{
	const struct wg_err_info *e = NULL;
	int failed = strcmp(s->state, "failed") == 0;
	char msg[WG_APP_MESSAGE_MAX + 256];

	if (!failed && strcmp(s->state, "installed") != 0)
		return WG_OK;
	if (failed && s->code[0] != '\0')
		e = wg_err_by_code((uint32_t)strtoul(s->code, NULL, 16));
	snprintf(msg, sizeof(msg), "app \"%s\" %s%s%s%s%s", a->name,
	    failed ? "failed to install" : "installed", s->code[0] ? ": " : "",
	    s->code, s->message[0] ? ": " : "", s->message);
	return admin_device_audit(req, c, d, "apps", failed ? APP_EVT_FAILED :
	    APP_EVT_INSTALLED, strcmp(a->target, "user") == 0 ?
	    WG_PHASE_ACCOUNT_SETUP : WG_PHASE_DEVICE_SETUP, !failed ? WG_OK : e ?
	    e->err : WG_E_INTERNAL, NULL, "appId", a->id, msg);
}

/* POST /mdm/v1/apps/{id}/status */
static enum wg_err
device_status(struct http_req *req, struct http_resp *resp)
{
	struct wg_app_state s = { .device_id = "" };
	struct store_conn *c;
	struct wg_device d;
	struct wg_app a;
	json_t *root = NULL;
	enum wg_err rc;
	int changed = 0;

	if ((rc = device_load(req, &c, &d)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = status_parse(req, root, &s)) != WG_OK)
		goto done;
	rc = wg_is_uuid(req->params[0]) ? store_app_device_get(c, d.tenant_id,
	    d.group_tag, req->params[0], NULL, &a) : WG_E_NOT_FOUND;
	if (rc == WG_E_NOT_FOUND)
		rc = http_fail(req, rc, "this device has no such app");
	if (rc != WG_OK || (rc = store_begin(c)) != WG_OK)
		goto done;
	memcpy(s.device_id, d.id, sizeof(s.device_id));
	memcpy(s.app_id, a.id, sizeof(s.app_id));
	s.updated_ms = wg_now_ms();
	/* a report repeated (an agent restarted) is recorded once */
	if ((rc = store_app_state_set(c, &s, &changed)) != WG_OK ||
	    (changed && (rc = status_audit(req, c, &d, &a, &s)) != WG_OK) ||
	    (rc = store_commit(c)) != WG_OK)
		goto done;
	resp->status = 204;
done:
	json_decref(root);
	return rc;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_POST, "/admin/v1/apps", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, APP_BODY_MAX, app_create),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/apps", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, app_list),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/apps/{id}", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, app_get),
	HTTP_ROUTE(HTTP_DELETE, "/admin/v1/apps/{id}", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, app_delete),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/apps/{id}/assign", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, APP_BODY_MAX, app_assign),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/apps/{id}/unassign", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, APP_BODY_MAX, app_unassign),
	{ HTTP_PUT, "/admin/v1/apps/{id}/content", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, APP_CONTENT_MAX, NULL, &upload_stream,
	    "application/octet-stream" },
	HTTP_ROUTE(HTTP_GET, "/admin/v1/devices/{id}/setup", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, device_setup),
	HTTP_ROUTE(HTTP_GET, "/mdm/v1/apps", WG_SVC_MDM, HTTP_AUTH_NONE, 0,
	    device_apps),
	HTTP_ROUTE(HTTP_GET, "/mdm/v1/content/{sha256}", WG_SVC_MDM,
	    HTTP_AUTH_NONE, 0, device_content),
	HTTP_ROUTE(HTTP_POST, "/mdm/v1/apps/{id}/status", WG_SVC_MDM,
	    HTTP_AUTH_NONE, APP_STATUS_BODY_MAX, device_status),
};

const struct http_routes apps_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
