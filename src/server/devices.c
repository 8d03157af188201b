/*
 * The registry's device list (Autopilot devices) and the directory's
 * device objects, as the admin API shows them.  A tenant sees its own
 * devices only; another tenant's device is "not found".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/admin_util.h"
#include "server/server.h"

#define DEVICE_PAGE_MAX 1000
#define DEVICE_PAGE_DEFAULT 100
#define PATCH_BODY_MAX 4096

/* The JSON an admin sees of a device. */
static json_t *
device_json(const struct wg_device *d)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:b, s:s?, s:o, s:s?, s:o}", "id", d->id, "serialNumber", d->serial,
	    "productKey", d->product_key, "manufacturer", d->manufacturer,
	    "model", d->model, "groupTag", d->group_tag,
	    "assignedUserPrincipalName", d->upn, "enrollmentState",
	    d->enrollment_state, "ztdId", d->ztd_id, "directoryDeviceId",
	    d->directory_device_id, "enabled", d->enabled, "registeredOwner",
	    d->owner[0] ? d->owner : NULL, "lastContacted",
	    admin_json_time(d->last_contacted_ms), "importId",
	    d->import_id[0] ? d->import_id : NULL, "createdAt",
	    admin_json_time(d->created_ms));
}

/* The cursor is base64url("serial\nid") of the last device of a page. */
static char *
cursor_make(const struct wg_device *d)
{
	char *raw = xasprintf("%s\n%s", d->serial, d->id), *c;

	c = wg_b64url(raw, strlen(raw));
	free(raw);
	return c;
}

static enum wg_err
cursor_parse(struct http_req *req, const char *cursor, char **serial,
    char **id)
{
	unsigned char *raw = NULL;
	size_t n = 0;
	char *nl;

	*serial = *id = NULL;
	if (cursor == NULL)
		return WG_OK;
	if (strlen(cursor) > 512 || wg_b64url_decode(cursor, &raw, &n) != 0)
		goto bad;
	raw = xrealloc(raw, n + 1);
	raw[n] = '\0';
	nl = memchr(raw, '\n', n);
	if (nl == NULL || strlen((char *)raw) != n || !wg_is_uuid(nl + 1))
		goto bad;
	*nl = '\0';
	*serial = xstrdup((char *)raw);
	*id = xstrdup(nl + 1);
	free(raw);
	return WG_OK;
bad:
	free(raw);
	return http_fail(req, WG_E_JSON_FIELD, "query parameter 'after' is "
	    "not a cursor this server gave");
}

/* GET /admin/v1/devices?serial=&groupTag=&importId=&after=&limit= */
static enum wg_err
device_list(struct http_req *req, struct http_resp *resp)
{
	struct wg_device_filter f = { 0 };
	struct wg_device *list = NULL;
	struct store_conn *c;
	char tenant[37], *after_serial = NULL, *after_id = NULL, *next;
	long long limit;
	enum wg_err rc;
	json_t *arr, *out;
	size_t i, n = 0;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = admin_query_int(req, "limit", 1, DEVICE_PAGE_MAX,
	    DEVICE_PAGE_DEFAULT, &limit)) != WG_OK ||
	    (rc = cursor_parse(req, http_query(req, "after"), &after_serial,
	    &after_id)) != WG_OK || (rc = http_db(req, &c)) != WG_OK)
		goto done;
	f.serial_prefix = http_query(req, "serial");
	f.group_tag = http_query(req, "groupTag");
	f.import_id = http_query(req, "importId");
	f.after_serial = after_serial;
	f.after_id = after_id;
	f.limit = (size_t)limit;
	if ((rc = store_device_list(c, tenant, &f, &list, &n)) != WG_OK)
		goto done;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, device_json(&list[i]));
	out = json_pack("{s:o}", "value", arr);
	if (n == (size_t)limit) {
		next = cursor_make(&list[n - 1]);
		json_object_set_new(out, "next", json_string(next));
		free(next);
	} else {
		json_object_set_new(out, "next", json_null());
	}
	http_resp_json(resp, 200, out);
done:
	free(list);
	free(after_serial);
	free(after_id);
	return rc;
}

/* rc, or the 404 answer if it is WG_E_NOT_FOUND. */
static enum wg_err
device_found(struct http_req *req, enum wg_err rc)
{
	return rc == WG_E_NOT_FOUND ? http_fail(req, rc, "device not found") :
	    rc;
}

/* Reads the device named by the path, of the caller's tenant. */
static enum wg_err
device_load(struct http_req *req, char tenant[37], struct wg_device *d)
{
	struct store_conn *c;
	enum wg_err rc;

	if ((rc = admin_path_scope(req, "device", tenant, &c)) != WG_OK)
		return rc;
	return device_found(req, store_device_get(c, tenant, req->params[0],
	    d));
}

/* GET /admin/v1/devices/{id} */
static enum wg_err
device_get(struct http_req *req, struct http_resp *resp)
{
	struct wg_device d;
	char tenant[37];
	enum wg_err rc;

	if ((rc = device_load(req, tenant, &d)) != WG_OK)
		return rc;
	http_resp_json(resp, 200, device_json(&d));
	return WG_OK;
}

/* DELETE /admin/v1/devices/{id}: the device and its directory object. */
static enum wg_err
device_delete(struct http_req *req, struct http_resp *resp)
{
	const char *id = req->params[0];
	char tenant[37], serial[WG_SERIAL_MAX + 1];
	struct store_conn *c;
	enum wg_err rc;

	if ((rc = admin_path_scope(req, "device", tenant, &c)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK)
		return rc;
	if ((rc = device_found(req, store_device_delete(c, tenant, id,
	    serial))) != WG_OK ||
	    (rc = admin_audit(req, c, tenant, ADMIN_EVT_DEVICE_DELETED,
	    "device", serial, "deviceId", id)) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK)
		return rc;
	resp->status = 204;
	return WG_OK;
}

/* Reads an optional string-or-null field of a PATCH body. */
static enum wg_err
patch_field(struct http_req *req, json_t *root, const char *name, size_t max,
    const char **out)
{
	json_t *v = json_object_get(root, name);

	*out = NULL;
	if (v == NULL)
		return WG_OK;
	if (json_is_null(v) || (json_is_string(v) &&
	    json_string_length(v) == 0)) {
		*out = "";
		return WG_OK;
	}
	return wg_json_string(root, name, 1, max, out, req->why,
	    sizeof(req->why));
}

/* PATCH /admin/v1/devices/{id} {"groupTag", "assignedUserPrincipalName"} */
static enum wg_err
device_patch(struct http_req *req, struct http_resp *resp)
{
	static const char *const allowed[] = { "groupTag",
		"assignedUserPrincipalName", NULL };
	const char *tag, *upn;
	struct store_conn *c;
	struct wg_device d;
	json_t *root = NULL;
	char tenant[37];
	enum wg_err rc;

	if ((rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = patch_field(req, root, "groupTag", WG_GROUP_TAG_MAX, &tag)) !=
	    WG_OK ||
	    (rc = patch_field(req, root, "assignedUserPrincipalName",
	    WG_UPN_MAX, &upn)) != WG_OK ||
	    (rc = admin_path_scope(req, "device", tenant, &c)) != WG_OK ||
	    (rc = device_found(req, store_device_update(c, tenant,
	    req->params[0], tag, upn))) != WG_OK ||
	    (rc = store_device_get(c, tenant, req->params[0], &d)) != WG_OK)
		goto done;
	http_resp_json(resp, 200, device_json(&d));
done:
	json_decref(root);
	return rc;
}

/* GET /admin/v1/directory/devices?after=ID&limit=N */
static enum wg_err
directory_list(struct http_req *req, struct http_resp *resp)
{
	struct wg_directory_device *list = NULL;
	const char *after = http_query(req, "after");
	struct store_conn *c;
	char tenant[37];
	long long limit;
	enum wg_err rc;
	json_t *arr;
	size_t i, n = 0;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = admin_query_int(req, "limit", 1, DEVICE_PAGE_MAX,
	    DEVICE_PAGE_DEFAULT, &limit)) != WG_OK)
		return rc;
	if (after != NULL && !wg_is_uuid(after))
		return http_fail(req, WG_E_JSON_FIELD, "query parameter "
		    "'after' must be a directory device id");
	if ((rc = http_db(req, &c)) != WG_OK ||
	    (rc = store_directory_list(c, tenant, after, (size_t)limit, &list,
	    &n)) != WG_OK)
		return rc;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b, "
		    "s:s, s:s, s:s, s:o, s:o}", "id", list[i].id, "ztdId",
		    list[i].ztd_id, "displayName", list[i].display_name,
		    "accountEnabled", list[i].enabled, "trustType",
		    list[i].trust_type, "operatingSystemVersion",
		    list[i].os_version, "registeredOwner",
		    list[i].registered_owner, "joinedAt",
		    admin_json_time(list[i].join_ms), "createdAt",
		    admin_json_time(list[i].created_ms)));
	http_resp_json(resp, 200, json_pack("{s:o, s:s?}", "value", arr,
	    "next", n == (size_t)limit ? list[n - 1].id : NULL));
	free(list);
	return WG_OK;
}

/* The JSON an admin sees of an MDM enrollment. */
static json_t *
mdm_json(const struct wg_mdm_enrollment *e)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "enrollmentId",
	    e->enrollment_id, "deviceId", e->device_id, "certificateSerial",
	    e->cert_serial, "thumbprint", e->thumbprint, "enrolledAt",
	    admin_json_time(e->created_ms), "certificateNotAfter",
	    admin_json_time(e->not_after_ms));
}

/* GET /admin/v1/devices/{id}/mdmEnrollment */
static enum wg_err
mdm_get(struct http_req *req, struct http_resp *resp)
{
	struct wg_mdm_enrollment *e = xcalloc(1, sizeof(*e));
	struct store_conn *c;
	char tenant[37];
	enum wg_err rc;

	if ((rc = admin_path_scope(req, "device", tenant, &c)) == WG_OK) {
		rc = store_mdm_get(c, tenant, req->params[0], e);
		if (rc == WG_E_NOT_FOUND)
			rc = http_fail(req, rc, "the device has no MDM "
			    "enrollment");
		else if (rc == WG_OK)
			http_resp_json(resp, 200, mdm_json(e));
	}
	free(e);
	return rc;
}

/*
 * An MDM action on the device the path names, audited as event in one
 * transaction: 204, or none's message for WG_E_NOT_FOUND.
 */
static enum wg_err
mdm_action(struct http_req *req, struct http_resp *resp,
    enum wg_err (*act)(struct store_conn *, const char *, const char *),
    int event, const char *none)
{
	struct store_conn *c;
	char tenant[37];
	enum wg_err rc;

	if ((rc = admin_path_scope(req, "device", tenant, &c)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK)
		return rc;
	rc = act(c, tenant, req->params[0]);
	if (rc == WG_E_NOT_FOUND)
		rc = http_fail(req, rc, "%s", none);
	if (rc == WG_OK && (rc = admin_audit(req, c, tenant, event, "device",
	    req->params[0], "deviceId", req->params[0])) == WG_OK &&
	    (rc = store_commit(c)) == WG_OK) {
		resp->status = 204;
		return WG_OK;
	}
	store_rollback(c);
	return rc;
}

/* DELETE /admin/v1/devices/{id}/mdmEnrollment: it may enroll again. */
static enum wg_err
mdm_delete(struct http_req *req, struct http_resp *resp)
{
	return mdm_action(req, resp, store_mdm_delete, ADMIN_EVT_MDM_DELETED,
	    "the device has no MDM enrollment");
}

/* POST /admin/v1/devices/{id}/allowNextEnrollment */
static enum wg_err
mdm_allow(struct http_req *req, struct http_resp *resp)
{
	return mdm_action(req, resp, store_mdm_allow_next,
	    ADMIN_EVT_MDM_ALLOWED, "device not found");
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_GET, "/admin/v1/devices", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, device_list),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/devices/{id}", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, device_get),
	HTTP_ROUTE(HTTP_DELETE, "/admin/v1/devices/{id}", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, device_delete),
	HTTP_ROUTE(HTTP_PATCH, "/admin/v1/devices/{id}", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, PATCH_BODY_MAX, device_patch),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/directory/devices", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, directory_list),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/devices/{id}/mdmEnrollment",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, 0, mdm_get),
	HTTP_ROUTE(HTTP_DELETE, "/admin/v1/devices/{id}/mdmEnrollment",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, 0, mdm_delete),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/devices/{id}/allowNextEnrollment",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, 0, mdm_allow),
};

const struct http_routes devices_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
