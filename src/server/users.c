/*
 * Users as the admin API shows them (docs/api.md, "Users"): create, list,
 * read, disable and enable, set a password.  The token service owns them
 * (step 7, account setup); its sign-in checks them.  A tenant sees its own
 * users only; another tenant's is "not found".  Passwords are hashed with
 * Argon2id under the server's --argon2-* settings (crypto/passwd.c); the
 * hash never leaves the store, the password is never written anywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/passwd.h"
#include "server/admin_util.h"
#include "server/server.h"

#define USER_BODY_MAX 4096
#define USER_PAGE_DEFAULT 100
#define UPN_MIN 3
/* Read longer than allowed, so a long UPN gets the UPN's own code. */
#define UPN_READ_MAX 1024

/* Audit event ids of users (docs/api.md, "Audit events"). */
enum {
	USER_EVT_CREATED = 1030,
	USER_EVT_DISABLED = 1031,
	USER_EVT_ENABLED = 1032,
	USER_EVT_PASSWORD = 1033,
	/* 1034 on: the sign-in's (admin_util.h) */
};

/* The JSON an admin sees of a user: never its hash. */
static json_t *
user_json(const struct wg_user *u)
{
	int64_t locked = u->locked_until_ms > wg_now_ms() ?
	    u->locked_until_ms : 0;

	return json_pack("{s:s, s:s, s:s, s:b, s:I, s:o, s:o, s:o, s:o}",
	    "id", u->id, "userPrincipalName", u->upn, "displayName",
	    u->display_name, "accountEnabled", !u->disabled, "failedSignIns",
	    (json_int_t)u->failed_count, "lockedUntil",
	    admin_json_time(locked), "lastSignIn",
	    admin_json_time(u->last_sign_in_ms), "createdAt",
	    admin_json_time(u->created_ms), "updatedAt",
	    admin_json_time(u->updated_ms));
}

/* Appends an admin-channel record "user "UPN" <verb>" with its id. */
static enum wg_err
user_audit(struct http_req *req, struct store_conn *c, int id,
    const struct wg_user *u, const char *verb)
{
	struct wg_event *ev;
	enum wg_err rc;

	ev = wg_event_new("admin", id, WG_LEVEL_INFO, WG_PHASE_ADMIN, WG_OK,
	    "user \"%s\" %s", u->upn, verb);
	wg_event_add(ev, "userId", "%s", u->id);
	if (req->caller.key_id[0] != '\0')
		wg_event_add(ev, "byKeyId", "%s", req->caller.key_id);
	rc = store_audit_append(c, u->tenant_id, NULL, req->request_id, ev);
	wg_event_free(ev);
	return rc;
}

/* ---- the bodies ---- */

/*
 * 1 if upn is one this server takes: UPN_MIN..WG_UPN_MAX bytes of
 * printable ASCII without spaces, one '@' with text before it, and a
 * domain of non-empty dot-separated labels after it.
 */
static int
upn_ok(const char *upn)
{
	const char *at = strchr(upn, '@'), *p;
	size_t n = strlen(upn);

	if (n < UPN_MIN || n > WG_UPN_MAX || at == NULL || at == upn ||
	    strchr(at + 1, '@') != NULL || at[1] == '\0' || at[1] == '.' ||
	    upn[n - 1] == '.' || strstr(at, "..") != NULL)
		return 0;
	for (p = upn; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~')
			return 0;
	return 1;
}

/*
 * Field "password" of root, by the password rule: 12..256 bytes of UTF-8
 * text (jansson has checked the UTF-8) without NUL or other control
 * characters.  *pw is borrowed from root.  The message never quotes it.
 */
static enum wg_err
password_field(struct http_req *req, const json_t *root, const char **pw,
    size_t *len)
{
	const json_t *v = json_object_get(root, "password");
	const unsigned char *p;
	size_t i;

	*pw = NULL;
	if (v == NULL || !json_is_string(v))
		return http_fail(req, WG_E_JSON_FIELD, "field \"password\" is "
		    "required: a string");
	p = (const unsigned char *)json_string_value(v);
	*len = json_string_length(v);
	if (*len < PASSWD_LEN_MIN || *len > PASSWD_LEN_MAX)
		return http_fail(req, WG_E_USER_PASSWORD_WEAK, "field "
		    "\"password\" must be %d to %d bytes long (it is %zu)",
		    PASSWD_LEN_MIN, PASSWD_LEN_MAX, *len);
	for (i = 0; i < *len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return http_fail(req, WG_E_USER_PASSWORD_WEAK, "field "
			    "\"password\" must not hold control characters "
			    "(one at byte %zu)", i + 1);
	*pw = (const char *)p;
	return WG_OK;
}

/* Wipes the password field of root, if any, before root is freed. */
static void
password_wipe(json_t *root)
{
	json_t *v = root != NULL ? json_object_get(root, "password") : NULL;

	if (v != NULL && json_is_string(v))
		OPENSSL_cleanse((char *)json_string_value(v),
		    json_string_length(v));
}

/* Hashes pw with the server's Argon2id parameters into out. */
static enum wg_err
password_hash(struct http_req *req, const char *pw, size_t len,
    char out[WG_PASSWORD_HASH_MAX])
{
	const struct server_config *cfg = req->srv->cfg;
	const struct passwd_params prm = { cfg->argon2_m_kib, cfg->argon2_t,
		cfg->argon2_lanes };

	_Static_assert(WG_PASSWORD_HASH_MAX >= PASSWD_PHC_MAX,
	    "store.h keeps a shorter hash than passwd.h makes");
	return passwd_hash(&prm, pw, len, out);
}

/* The create body into u (whose tenant the caller sets), hash made. */
static enum wg_err
user_parse(struct http_req *req, const json_t *root, struct wg_user *u)
{
	static const char *const allowed[] = { "userPrincipalName",
		"displayName", "password", NULL };
	const char *upn, *name, *pw;
	enum wg_err rc;
	size_t len;

	if ((rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(root, "userPrincipalName", 1, UPN_READ_MAX,
	    &upn, req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_string(root, "displayName", 0,
	    WG_USER_DISPLAY_NAME_MAX, &name, req->why, sizeof(req->why))) !=
	    WG_OK)
		return rc;
	if (!upn_ok(upn))
		return http_fail(req, WG_E_USER_UPN_INVALID, "field "
		    "\"userPrincipalName\" must be name@domain: %d to %d "
		    "bytes of printable ASCII, no spaces, one '@'", UPN_MIN,
		    WG_UPN_MAX);
	if ((rc = password_field(req, root, &pw, &len)) != WG_OK)
		return rc;
	snprintf(u->upn, sizeof(u->upn), "%s", upn);
	snprintf(u->display_name, sizeof(u->display_name), "%s",
	    name != NULL ? name : "");
	return password_hash(req, pw, len, u->password_hash);
}

/* POST /admin/v1/users */
static enum wg_err
user_create(struct http_req *req, struct http_resp *resp)
{
	struct wg_user u = { .id = "" };
	struct store_conn *c;
	json_t *root = NULL;
	enum wg_err rc;

	if ((rc = http_scope_tenant(req, u.tenant_id)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = user_parse(req, root, &u)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK || (rc = store_begin(c)) != WG_OK)
		goto done;
	if ((rc = store_user_create(c, &u)) == WG_E_CONFLICT) {
		rc = http_fail(req, WG_E_USER_UPN_TAKEN, "the tenant has a user "
		    "\"%s\" already", u.upn);
		goto done;
	}
	if (rc != WG_OK ||
	    (rc = user_audit(req, c, USER_EVT_CREATED, &u, "created")) !=
	    WG_OK || (rc = store_commit(c)) != WG_OK)
		goto done;
	http_resp_json(resp, 201, user_json(&u));
done:
	password_wipe(root);
	json_decref(root);
	OPENSSL_cleanse(&u, sizeof(u));
	return rc;
}

/* ---- the list: by UPN, the cursor base64url(UPN of the last) ---- */

/* ?after=: the UPN a cursor of user_list carries (*after xmalloc'd). */
static enum wg_err
user_cursor(struct http_req *req, char **after)
{
	enum wg_err rc;

	if ((rc = admin_name_cursor(req, "a user", WG_UPN_MAX, after)) !=
	    WG_OK || *after == NULL || upn_ok(*after))
		return rc;
	free(*after);
	*after = NULL;
	return http_fail(req, WG_E_JSON_FIELD, "query parameter 'after' is "
	    "not a user cursor this server gave");
}

/* The users of a list page: one by ?name=UPN, else a page after `after`. */
static enum wg_err
user_page(struct http_req *req, struct store_conn *c, const char *tenant,
    const char *after, size_t limit, struct wg_user **out, size_t *n)
{
	const char *upn = http_query(req, "name");
	enum wg_err rc;

	*out = NULL;
	*n = 0;
	if (upn == NULL)
		return store_user_list(c, tenant, after, limit, out, n);
	*out = xmalloc(sizeof(**out));
	if ((rc = store_user_get_by_upn(c, tenant, upn, *out)) == WG_OK)
		*n = 1;
	return rc == WG_E_NOT_FOUND ? WG_OK : rc;
}

/* GET /admin/v1/users[?name=UPN][&after=][&limit=] */
static enum wg_err
user_list(struct http_req *req, struct http_resp *resp)
{
	struct wg_user *list = NULL;
	struct store_conn *c;
	char tenant[37], *after = NULL, *next = NULL;
	long long limit;
	json_t *arr;
	enum wg_err rc;
	size_t i, n = 0;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = admin_query_int(req, "limit", 1, WG_USER_LIST_MAX,
	    USER_PAGE_DEFAULT, &limit)) != WG_OK ||
	    (rc = user_cursor(req, &after)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK ||
	    (rc = user_page(req, c, tenant, after, (size_t)limit, &list,
	    &n)) != WG_OK)
		goto done;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, user_json(&list[i]));
	if (n > 0 && n == (size_t)limit)
		next = wg_b64url(list[n - 1].upn, strlen(list[n - 1].upn));
	http_resp_json(resp, 200, json_pack("{s:o, s:s?}", "value", arr,
	    "next", next));
done:
	if (list != NULL)
		OPENSSL_cleanse(list, n * sizeof(*list));
	free(list);
	free(next);
	free(after);
	return rc;
}

/* ---- one user, named by the path ---- */

/* rc, or the 404 answer if it is WG_E_NOT_FOUND. */
static enum wg_err
user_found(struct http_req *req, enum wg_err rc)
{
	return rc == WG_E_NOT_FOUND ? http_fail(req, WG_E_USER_NOT_FOUND,
	    "user not found") : rc;
}

/* The caller's tenant, a connection, and the user the path names. */
static enum wg_err
user_load(struct http_req *req, struct store_conn **c, struct wg_user *u)
{
	char tenant[37];
	enum wg_err rc;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK)
		return rc;
	/* not admin_path_scope: a user's 404 has its own code */
	if (!wg_is_uuid(req->params[0]))
		return user_found(req, WG_E_NOT_FOUND);
	if ((rc = http_db(req, c)) != WG_OK)
		return rc;
	return user_found(req, store_user_get(*c, tenant, req->params[0], u));
}

/* GET /admin/v1/users/{id} */
static enum wg_err
user_get(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_user u;
	enum wg_err rc;

	if ((rc = user_load(req, &c, &u)) == WG_OK)
		http_resp_json(resp, 200, user_json(&u));
	OPENSSL_cleanse(&u, sizeof(u));
	return rc;
}

/*
 * POST …/{id}/disable and …/{id}/enable: the change and its audit record
 * in one transaction (none when the user already was so).
 */
static enum wg_err
user_switch(struct http_req *req, struct http_resp *resp, int disable)
{
	struct store_conn *c;
	struct wg_user u;
	enum wg_err rc;

	if ((rc = user_load(req, &c, &u)) != WG_OK)
		goto done;
	if (u.disabled != disable) {
		if ((rc = store_begin(c)) != WG_OK ||
		    (rc = user_found(req, store_user_set_disabled(c,
		    u.tenant_id, u.id, disable, &u))) != WG_OK ||
		    (rc = user_audit(req, c, disable ? USER_EVT_DISABLED :
		    USER_EVT_ENABLED, &u, disable ? "disabled" : "enabled")) !=
		    WG_OK || (rc = store_commit(c)) != WG_OK)
			goto done;
	}
	http_resp_json(resp, 200, user_json(&u));
done:
	OPENSSL_cleanse(&u, sizeof(u));
	return rc;
}

static enum wg_err
user_disable(struct http_req *req, struct http_resp *resp)
{
	return user_switch(req, resp, 1);
}

static enum wg_err
user_enable(struct http_req *req, struct http_resp *resp)
{
	return user_switch(req, resp, 0);
}

/* POST /admin/v1/users/{id}/password: a new hash; failures cleared. */
static enum wg_err
user_password(struct http_req *req, struct http_resp *resp)
{
	static const char *const allowed[] = { "password", NULL };
	char hash[WG_PASSWORD_HASH_MAX] = "";
	struct store_conn *c;
	struct wg_user u;
	json_t *root = NULL;
	const char *pw;
	enum wg_err rc;
	size_t len;

	memset(&u, 0, sizeof(u));
	if ((rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK || (rc = password_field(req, root, &pw, &len)) != WG_OK ||
	    (rc = user_load(req, &c, &u)) != WG_OK ||
	    (rc = password_hash(req, pw, len, hash)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK ||
	    (rc = user_found(req, store_user_set_password(c, u.tenant_id, u.id,
	    hash, &u))) != WG_OK ||
	    (rc = user_audit(req, c, USER_EVT_PASSWORD, &u, "password set")) !=
	    WG_OK || (rc = store_commit(c)) != WG_OK)
		goto done;
	http_resp_json(resp, 200, user_json(&u));
done:
	password_wipe(root);
	json_decref(root);
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(&u, sizeof(u));
	return rc;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_POST, "/admin/v1/users", WG_SVC_TOKEN,
	    HTTP_AUTH_ADMIN, USER_BODY_MAX, user_create),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/users", WG_SVC_TOKEN,
	    HTTP_AUTH_ADMIN, 0, user_list),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/users/{id}", WG_SVC_TOKEN,
	    HTTP_AUTH_ADMIN, 0, user_get),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/users/{id}/disable", WG_SVC_TOKEN,
	    HTTP_AUTH_ADMIN, 0, user_disable),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/users/{id}/enable", WG_SVC_TOKEN,
	    HTTP_AUTH_ADMIN, 0, user_enable),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/users/{id}/password", WG_SVC_TOKEN,
	    HTTP_AUTH_ADMIN, USER_BODY_MAX, user_password),
};

const struct http_routes users_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
