/*
 * The admin service's core: tenants (created by the operator; read and
 * set by the operator or the tenant's admins), tenant admin API
 * keys, and the tenant's audit log.  A key of one tenant never sees or
 * changes another tenant's objects: they are "not found", never
 * "forbidden", so their existence does not leak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/event.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/admin_util.h"
#include "server/auth.h"
#include "server/server.h"

#define ADMIN_BODY_MAX 4096
#define AUDIT_PAGE_MAX 500



static json_t *
tenant_json(const void *item)
{
	const struct wg_tenant *t = item;

	return json_pack("{s:s, s:s, s:o, s:b}", "id", t->id, "name", t->name,
	    "createdAt", admin_json_time(t->created_ms), "allowJoinRecovery",
	    t->allow_join_recovery);
}

static json_t *
key_json(const void *item)
{
	const struct wg_api_key *k = item;

	return json_pack("{s:s, s:s?, s:s, s:s, s:o, s:o, s:o}", "id", k->id,
	    "tenantId", k->tenant_id[0] ? k->tenant_id : NULL, "name",
	    k->name, "role", k->role == WG_KEY_OPERATOR ? "operator" : "admin",
	    "createdAt", admin_json_time(k->created_ms), "revokedAt",
	    admin_json_time(k->revoked_ms), "lastUsedAt",
	    admin_json_time(k->last_used_ms));
}

/*
 * Answers 200 {"value": [...]} with each of n items of size bytes shown
 * by to_json, and frees the array.
 */
static void
list_resp(struct http_resp *resp, void *items, size_t n, size_t size,
    json_t *(*to_json)(const void *))
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr,
		    to_json((const char *)items + i * size));
	free(items);
	http_resp_json(resp, 200, json_pack("{s:o}", "value", arr));
}


/*
 * Parses {"name": "…"} with only the allowed keys; *name is borrowed from
 * *root, which the caller decrefs.  An absent optional name is NULL.
 */
static enum wg_err
parse_name_body(struct http_req *req, int required, json_t **root,
    const char **name, size_t max)
{
	static const char *const allowed[] = { "name", NULL };
	enum wg_err rc;

	*name = NULL;
	rc = wg_json_load_object(req->body, req->body_len, root, req->why,
	    sizeof(req->why));
	if (rc == WG_OK)
		rc = wg_json_only(*root, allowed, req->why, sizeof(req->why));
	if (rc == WG_OK)
		rc = wg_json_string(*root, "name", required, max, name,
		    req->why, sizeof(req->why));
	return rc;
}

/*
 * Issues an admin key named name for tenant inside the caller's
 * transaction and audits it; *out is the key's JSON with its secret (shown
 * this once), the caller's to decref.
 */
static enum wg_err
key_issue(struct http_req *req, struct store_conn *c, const char *tenant,
    const char *name, json_t **out)
{
	struct wg_api_key key;
	char *key_text = NULL;
	enum wg_err rc;

	*out = NULL;
	if ((rc = auth_key_new(WG_KEY_ADMIN, tenant, name, &key,
	    &key_text)) != WG_OK)
		return rc;
	if ((rc = store_api_key_insert(c, &key)) == WG_OK &&
	    (rc = admin_audit(req, c, tenant, ADMIN_EVT_KEY_CREATED,
	    "admin key", key.name, "keyId", key.id)) == WG_OK) {
		*out = key_json(&key);
		json_object_set_new(*out, "key", json_string(key_text));
	}
	xfree_secret(key_text, strlen(key_text));
	return rc;
}

/* POST /admin/v1/tenants: a tenant and its first admin key. */
static enum wg_err
tenant_create(struct http_req *req, struct http_resp *resp)
{
	struct wg_tenant t;
	struct store_conn *c;
	json_t *root = NULL, *out, *kj = NULL;
	const char *name;
	enum wg_err rc;

	if ((rc = parse_name_body(req, 1, &root, &name,
	    WG_TENANT_NAME_MAX)) != WG_OK)
		goto done;
	if ((rc = http_db(req, &c)) != WG_OK || (rc = store_begin(c)) != WG_OK)
		goto done;
	rc = store_tenant_create(c, name, &t);
	if (rc == WG_E_CONFLICT) {
		http_fail(req, rc, "a tenant named \"%s\" already exists", name);
		goto done;
	}
	if (rc != WG_OK ||
	    (rc = admin_audit(req, c, t.id, ADMIN_EVT_TENANT_CREATED,
	    "tenant", t.name, "tenantId", t.id)) != WG_OK ||
	    (rc = key_issue(req, c, t.id, "initial", &kj)) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK)
		goto done;
	out = tenant_json(&t);
	json_object_set_new(out, "adminKey", kj);
	kj = NULL;
	http_resp_json(resp, 201, out);
done:
	json_decref(kj);
	json_decref(root);
	return rc;
}

/* GET /admin/v1/tenants */
static enum wg_err
tenant_list(struct http_req *req, struct http_resp *resp)
{
	struct wg_tenant *list = NULL;
	struct store_conn *c;
	enum wg_err rc;
	size_t n = 0;

	if ((rc = http_db(req, &c)) != WG_OK ||
	    (rc = store_tenant_list(c, &list, &n)) != WG_OK)
		return rc;
	list_resp(resp, list, n, sizeof(*list), tenant_json);
	return WG_OK;
}

/*
 * The tenant the path's {id} names, for the operator or an admin of that
 * tenant: another tenant's is "not found", like an unknown one.
 */
static enum wg_err
tenant_scope(struct http_req *req)
{
	const char *id = req->params[0];

	if ((req->caller.role != WG_KEY_OPERATOR &&
	    strcmp(id, req->caller.tenant_id) != 0) || !wg_is_uuid(id))
		return http_fail(req, WG_E_NOT_FOUND, "tenant not found");
	return WG_OK;
}

/* GET /admin/v1/tenants/{id}: the operator, or an admin of that tenant. */
static enum wg_err
tenant_get(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_tenant t;
	enum wg_err rc;

	if ((rc = tenant_scope(req)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK)
		return rc;
	rc = store_tenant_get(c, req->params[0], &t);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, rc, "tenant not found");
	if (rc != WG_OK)
		return rc;
	http_resp_json(resp, 200, tenant_json(&t));
	return WG_OK;
}

/*
 * Parses a tenant's settings {"allowJoinRecovery": true|false}: the one
 * field, required, a JSON boolean.
 */
static enum wg_err
parse_settings_body(struct http_req *req, int *allow)
{
	static const char *const allowed[] = { "allowJoinRecovery", NULL };
	json_t *root = NULL, *v;
	enum wg_err rc;

	*allow = 0;
	if ((rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK)
		goto done;
	v = json_object_get(root, "allowJoinRecovery");
	if (!json_is_boolean(v))
		rc = http_fail(req, WG_E_JSON_FIELD, "field "
		    "\"allowJoinRecovery\" is required and must be true or "
		    "false");
	else
		*allow = json_is_true(v);
done:
	json_decref(root);
	return rc;
}

/*
 * Appends the admin-channel record 1039 "tenant "NAME" setting
 * allowJoinRecovery set to BOOL" in the caller's transaction.
 */
static enum wg_err
tenant_setting_audit(struct http_req *req, struct store_conn *c,
    const struct wg_tenant *t)
{
	const char *value = t->allow_join_recovery ? "true" : "false";
	struct wg_event *ev;
	enum wg_err rc;

	ev = wg_event_new("admin", ADMIN_EVT_TENANT_SET, WG_LEVEL_INFO,
	    WG_PHASE_ADMIN, WG_OK, "tenant \"%s\" setting allowJoinRecovery "
	    "set to %s", t->name, value);
	wg_event_add(ev, "allowJoinRecovery", "%s", value);
	if (req->caller.key_id[0] != '\0')
		wg_event_add(ev, "byKeyId", "%s", req->caller.key_id);
	rc = store_audit_append(c, t->id, NULL, req->request_id, ev);
	wg_event_free(ev);
	return rc;
}

/*
 * PATCH /admin/v1/tenants/{id} {"allowJoinRecovery": bool}: the operator,
 * or an admin of that tenant; the change and its audit record in one
 * transaction, then the tenant as it is now.
 */
static enum wg_err
tenant_patch(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_tenant t;
	enum wg_err rc;
	int allow;

	if ((rc = tenant_scope(req)) != WG_OK ||
	    (rc = parse_settings_body(req, &allow)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK || (rc = store_begin(c)) != WG_OK)
		return rc;
	rc = store_tenant_set_recovery(c, req->params[0], allow, &t);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, rc, "tenant not found");
	if (rc != WG_OK ||
	    (rc = tenant_setting_audit(req, c, &t)) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK)
		return rc;
	http_resp_json(resp, 200, tenant_json(&t));
	return WG_OK;
}

/* POST /admin/v1/apiKeys[?tenantId=] */
static enum wg_err
key_create(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	json_t *root = NULL, *out = NULL;
	const char *name = NULL;
	char tenant[37];
	enum wg_err rc;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK)
		return rc;
	if (req->body_len > 0 &&
	    (rc = parse_name_body(req, 0, &root, &name, WG_KEY_NAME_MAX)) !=
	    WG_OK)
		goto done;
	if ((rc = http_db(req, &c)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK ||
	    (rc = key_issue(req, c, tenant, name ? name : "unnamed", &out)) !=
	    WG_OK || (rc = store_commit(c)) != WG_OK)
		goto done;
	http_resp_json(resp, 201, out);
	out = NULL;
done:
	json_decref(out);
	json_decref(root);
	return rc;
}

/* GET /admin/v1/apiKeys[?tenantId=]: never returns secrets. */
static enum wg_err
key_list(struct http_req *req, struct http_resp *resp)
{
	struct wg_api_key *list = NULL;
	struct store_conn *c;
	char tenant[37];
	enum wg_err rc;
	size_t n = 0;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK ||
	    (rc = store_api_key_list(c, tenant, &list, &n)) != WG_OK)
		return rc;
	list_resp(resp, list, n, sizeof(*list), key_json);
	return WG_OK;
}

/* DELETE /admin/v1/apiKeys/{id}[?tenantId=] */
static enum wg_err
key_revoke(struct http_req *req, struct http_resp *resp)
{
	const char *id = req->params[0];
	struct store_conn *c;
	char tenant[37];
	enum wg_err rc;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK)
		return rc;
	if (!wg_is_uuid(id))
		return http_fail(req, WG_E_NOT_FOUND, "API key not found");
	if ((rc = http_db(req, &c)) != WG_OK || (rc = store_begin(c)) != WG_OK)
		return rc;
	rc = store_api_key_revoke(c, tenant, id, wg_now_ms());
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, rc, "API key not found");
	if (rc != WG_OK ||
	    (rc = admin_audit(req, c, tenant, ADMIN_EVT_KEY_REVOKED,
	    "admin key", id, "keyId", id)) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK)
		return rc;
	resp->status = 204;
	return WG_OK;
}


/*
 * GET /admin/v1/auditEvents[?after=SEQ&limit=N&tenantId=]: a tenant's
 * records; the operator without tenantId, those of no tenant.
 */
static enum wg_err
audit_list(struct http_req *req, struct http_resp *resp)
{
	struct wg_audit *list = NULL;
	struct store_conn *c;
	long long after, limit;
	char tenant[37], *line;
	enum wg_err rc;
	json_t *arr, *ev;
	size_t i, n = 0;

	/* the operator naming no tenant reads the records of none */
	if (req->caller.role != WG_KEY_ADMIN &&
	    http_query(req, "tenantId") == NULL)
		tenant[0] = '\0';
	else if ((rc = http_scope_tenant(req, tenant)) != WG_OK)
		return rc;
	if ((rc = admin_query_int(req, "after", 0, INT64_MAX, 0, &after)) !=
	    WG_OK ||
	    (rc = admin_query_int(req, "limit", 1, AUDIT_PAGE_MAX, 100,
	    &limit)) != WG_OK || (rc = http_db(req, &c)) != WG_OK ||
	    (rc = store_audit_list(c, tenant, after, (size_t)limit, &list,
	    &n)) != WG_OK)
		return rc;
	arr = json_array();
	for (i = 0; i < n; i++) {
		line = wg_event_to_json(list[i].event);
		ev = json_loads(line, 0, NULL);
		free(line);
		json_array_append_new(arr, json_pack("{s:I, s:s?, s:s?, s:o}",
		    "seq", (json_int_t)list[i].seq, "requestId",
		    list[i].request_id[0] ? list[i].request_id : NULL,
		    "deviceId", list[i].device_id[0] ? list[i].device_id : NULL,
		    "event", ev ? ev : json_null()));
	}
	http_resp_json(resp, 200, json_pack("{s:o, s:I}", "value", arr,
	    "next", (json_int_t)(n > 0 ? list[n - 1].seq : after)));
	store_audit_list_free(list, n);
	return WG_OK;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_POST, "/admin/v1/tenants", WG_SVC_ADMIN,
	    HTTP_AUTH_OPERATOR, ADMIN_BODY_MAX, tenant_create),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/tenants", WG_SVC_ADMIN,
	    HTTP_AUTH_OPERATOR, 0, tenant_list),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/tenants/{id}", WG_SVC_ADMIN,
	    HTTP_AUTH_ADMIN, 0, tenant_get),
	HTTP_ROUTE(HTTP_PATCH, "/admin/v1/tenants/{id}", WG_SVC_ADMIN,
	    HTTP_AUTH_ADMIN, ADMIN_BODY_MAX, tenant_patch),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/apiKeys", WG_SVC_ADMIN,
	    HTTP_AUTH_ADMIN, ADMIN_BODY_MAX, key_create),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/apiKeys", WG_SVC_ADMIN,
	    HTTP_AUTH_ADMIN, 0, key_list),
	HTTP_ROUTE(HTTP_DELETE, "/admin/v1/apiKeys/{id}", WG_SVC_ADMIN,
	    HTTP_AUTH_ADMIN, 0, key_revoke),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/auditEvents", WG_SVC_ADMIN,
	    HTTP_AUTH_ADMIN, 0, audit_list),
};

const struct http_routes admin_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
