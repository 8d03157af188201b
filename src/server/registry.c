/*
 * The registry service's imports (Graph importedWindowsAutopilotDevice-
 * Identities): a JSON batch, or an Autopilot CSV streamed as it arrives,
 * both through the import pipeline (import.c); the import records and
 * their rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/csv.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/admin_util.h"
#include "server/import.h"
#include "server/server.h"

#define IMPORT_JSON_BODY_MAX (16u * 1024 * 1024)
#define IMPORT_JSON_ROWS_MAX 10000
#define IMPORT_CSV_BODY_MAX (4ull * 1024 * 1024 * 1024)
#define IMPORT_LIST_MAX 100
#define ROWS_PAGE_MAX 1000

static json_t *
state_json(uint32_t code, const char *ztd_id)
{
	const struct wg_err_info *info = wg_err_by_code(code);

	return json_pack("{s:s, s:s?, s:i, s:s}", "deviceImportStatus",
	    code == 0 ? "complete" : "error", "deviceRegistrationId",
	    code == 0 && ztd_id[0] ? ztd_id : NULL, "deviceErrorCode",
	    (int)code, "deviceErrorName", info ? info->name : "");
}

/*
 * The import record as the API shows it, with its error counts (null when
 * they could not be read: the caller says whether that fails the answer).
 */
static enum wg_err
import_json(struct store_conn *c, const struct wg_import *im, json_t **out)
{
	struct wg_code_count *counts = NULL;
	const struct wg_err_info *info;
	json_t *arr = NULL;
	enum wg_err rc;
	size_t i, n = 0;

	if ((rc = store_import_error_counts(c, im->id, &counts, &n)) ==
	    WG_OK) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			info = wg_err_by_code(counts[i].code);
			json_array_append_new(arr, json_pack("{s:i, s:s, s:I}",
			    "code", (int)counts[i].code, "name",
			    info ? info->name : "", "count",
			    (json_int_t)counts[i].count));
		}
	}
	free(counts);
	*out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:b, s:s?, "
	    "s:o}", "id", im->id, "status", im->status,
	    "source", im->source, "totalCount", (json_int_t)im->total,
	    "importedCount", (json_int_t)im->imported, "failedCount",
	    (json_int_t)im->failed, "createdAt",
	    admin_json_time(im->created_ms), "completedAt",
	    admin_json_time(im->completed_ms), "interrupted", im->interrupted,
	    "message", im->message[0] ? im->message : NULL, "errorCounts",
	    arr ? arr : json_null());
	return rc;
}

/* The import record for an answer; a failed read fails the request. */
static enum wg_err
import_answer(struct http_resp *resp, int status, struct store_conn *c,
    const struct wg_import *im)
{
	json_t *o;
	enum wg_err rc = import_json(c, im, &o);

	if (rc == WG_OK)
		http_resp_json(resp, status, o);
	else
		json_decref(o);
	return rc;
}

/* Audits the end of an import and answers with its record. */
enum wg_err
registry_import_done(struct http_req *req, struct store_conn *c,
    const char *tenant,
    const struct wg_import *im, struct http_resp *resp, json_t *rows)
{
	json_t *o;
	char counts[64];

	snprintf(counts, sizeof(counts), "%lld imported, %lld failed",
	    (long long)im->imported, (long long)im->failed);
	if (admin_audit(req, c, tenant, ADMIN_EVT_IMPORT_ENDED, "import",
	    im->id, "result", counts) != WG_OK)
		wg_warn("import %s: could not audit its end", im->id);
	/* the import is over: its record goes out even without its counts */
	if (import_json(c, im, &o) != WG_OK)
		wg_warn("import %s: its error counts could not be read",
		    im->id);
	if (rows != NULL)
		json_object_set_new(o, "value", rows);
	http_resp_json(resp, 200, o);
	return WG_OK;
}

/* POST /admin/v1/imports {"source": "csv"|"json"}: an empty import. */
static enum wg_err
import_create(struct http_req *req, struct http_resp *resp)
{
	static const char *const allowed[] = { "source", NULL };
	struct store_conn *c;
	struct wg_import im;
	const char *source;
	json_t *root = NULL;
	char tenant[37];
	enum wg_err rc;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(root, "source", 1, 8, &source, req->why,
	    sizeof(req->why))) != WG_OK)
		goto done;
	if (strcmp(source, "csv") != 0 && strcmp(source, "json") != 0) {
		rc = http_fail(req, WG_E_JSON_FIELD, "field \"source\" must be "
		    "\"csv\" or \"json\"");
		goto done;
	}
	if ((rc = http_db(req, &c)) != WG_OK ||
	    (rc = store_import_create(c, tenant, source, req->srv->instance_id,
	    &im)) != WG_OK)
		goto done;
	rc = import_answer(resp, 201, c, &im);
done:
	json_decref(root);
	return rc;
}

/* GET /admin/v1/imports: the tenant's latest imports. */
static enum wg_err
import_list(struct http_req *req, struct http_resp *resp)
{
	struct wg_import *list = NULL;
	struct store_conn *c;
	char tenant[37];
	enum wg_err rc;
	json_t *arr, *o;
	size_t i, n = 0;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK ||
	    (rc = store_import_list(c, tenant, IMPORT_LIST_MAX, &list, &n)) !=
	    WG_OK)
		return rc;
	arr = json_array();
	for (i = 0; i < n && rc == WG_OK; i++) {
		rc = import_json(c, &list[i], &o);
		json_array_append_new(arr, o);
	}
	free(list);
	if (rc == WG_OK)
		http_resp_json(resp, 200, json_pack("{s:o}", "value", arr));
	else
		json_decref(arr);
	return rc;
}

static enum wg_err
import_load(struct http_req *req, char tenant[37], struct wg_import *im,
    struct store_conn **c)
{
	enum wg_err rc;

	if ((rc = admin_path_scope(req, "import", tenant, c)) != WG_OK)
		return rc;
	rc = store_import_get(*c, tenant, req->params[0], im);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, rc, "import not found");
	return rc;
}

/* GET /admin/v1/imports/{id} */
static enum wg_err
import_get(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_import im;
	char tenant[37];
	enum wg_err rc;

	if ((rc = import_load(req, tenant, &im, &c)) != WG_OK)
		return rc;
	return import_answer(resp, 200, c, &im);
}

static json_t *
result_json(const struct wg_import_result *r)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "rowNumber",
	    (json_int_t)r->row_number, "serialNumber", r->serial, "productKey",
	    r->product_key, "groupTag", r->group_tag,
	    "assignedUserPrincipalName", r->upn, "state",
	    state_json(r->code, r->ztd_id));

	if (r->message[0])
		json_object_set_new(o, "message", json_string(r->message));
	return o;
}

/* GET /admin/v1/imports/{id}/rows?after=ROW&limit=N&state=error */
static enum wg_err
import_rows(struct http_req *req, struct http_resp *resp)
{
	struct wg_import_result *list = NULL;
	const char *state = http_query(req, "state");
	long long after, limit;
	struct store_conn *c;
	struct wg_import im;
	char tenant[37];
	enum wg_err rc;
	json_t *arr;
	size_t i, n = 0;

	if ((rc = import_load(req, tenant, &im, &c)) != WG_OK ||
	    (rc = admin_query_int(req, "after", 0, INT64_MAX, 0, &after)) !=
	    WG_OK || (rc = admin_query_int(req, "limit", 1, ROWS_PAGE_MAX, 100,
	    &limit)) != WG_OK)
		return rc;
	if (state != NULL && strcmp(state, "error") != 0)
		return http_fail(req, WG_E_JSON_FIELD, "query parameter "
		    "'state' may only be \"error\"");
	if ((rc = store_import_rows(c, im.id, after, (size_t)limit,
	    state != NULL, &list, &n)) != WG_OK)
		return rc;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, result_json(&list[i]));
	http_resp_json(resp, 200, json_pack("{s:o, s:o}", "value", arr,
	    "next", n == (size_t)limit ?
	    json_integer((json_int_t)list[n - 1].row_number) : json_null()));
	free(list);
	return WG_OK;
}

/* ---- POST …/import: a JSON batch ---- */

/* Appends each written row with its state to the response array. */
static void
json_rows_flushed(void *arg, const struct wg_import_row *rows, size_t n)
{
	json_t *arr = arg;
	struct wg_import_result r;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.row_number = rows[i].row_number;
		snprintf(r.serial, sizeof(r.serial), "%s",
		    rows[i].serial ? rows[i].serial : "");
		snprintf(r.product_key, sizeof(r.product_key), "%s",
		    rows[i].product_key ? rows[i].product_key : "");
		snprintf(r.group_tag, sizeof(r.group_tag), "%s",
		    rows[i].group_tag ? rows[i].group_tag : "");
		snprintf(r.upn, sizeof(r.upn), "%s",
		    rows[i].upn ? rows[i].upn : "");
		r.code = rows[i].err == WG_OK ? 0 : wg_err_code(rows[i].err);
		snprintf(r.ztd_id, sizeof(r.ztd_id), "%s", rows[i].ztd_id);
		snprintf(r.message, sizeof(r.message), "%s", rows[i].message);
		json_array_append_new(arr, result_json(&r));
	}
}

/*
 * One item of importedDeviceIdentities: the Graph fields as strings or
 * null (Graph's own bookkeeping fields are ignored).  A bad item is a
 * failed row (801), not a failed request.
 */
static enum wg_err
json_item(const json_t *item, struct import_fields *f, char *why,
    size_t whylen)
{
	static const char *const allowed[] = { "serialNumber", "productKey",
		"hardwareIdentifier", "groupTag", "assignedUserPrincipalName",
		"@odata.type", "id", "orderIdentifier", "importId", "state",
		NULL };
	static const char *const names[] = { "serialNumber", "productKey",
		"hardwareIdentifier", "groupTag", "assignedUserPrincipalName" };
	const char **slots[] = { &f->serial, &f->product_key, &f->hash,
		&f->group_tag, &f->upn };
	const json_t *v;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (!json_is_object(item)) {
		snprintf(why, whylen, "the item is not a JSON object");
		return WG_E_DDS_INVALID_REQUEST;
	}
	if (wg_json_only(item, allowed, why, whylen) != WG_OK)
		return WG_E_DDS_INVALID_REQUEST;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = json_object_get(item, names[i]);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(why, whylen, "field \"%s\" must be a string "
			    "without NUL", names[i]);
			return WG_E_DDS_INVALID_REQUEST;
		}
		*slots[i] = json_string_value(v);
	}
	return WG_OK;
}

static enum wg_err
import_json_post(struct http_req *req, struct http_resp *resp)
{
	static const char *const allowed[] = { "importedDeviceIdentities",
		NULL };
	struct import_job *job = NULL;
	struct import_fields f;
	struct store_conn *c;
	json_t *root = NULL, *items, *rows = json_array();
	char tenant[37], why[160];
	enum wg_err rc, early;
	size_t i;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK)
		goto done;
	items = json_object_get(root, "importedDeviceIdentities");
	if (!json_is_array(items) || json_array_size(items) == 0 ||
	    json_array_size(items) > IMPORT_JSON_ROWS_MAX) {
		rc = http_fail(req, WG_E_JSON_FIELD, "field "
		    "\"importedDeviceIdentities\" must be an array of 1 to %d "
		    "devices", IMPORT_JSON_ROWS_MAX);
		goto done;
	}
	if ((rc = http_db(req, &c)) != WG_OK ||
	    (rc = import_job_new(req->srv->store, c, tenant, "json",
	    http_query(req, "importId"), req->srv->instance_id, &job)) !=
	    WG_OK) {
		if (rc == WG_E_CONFLICT || rc == WG_E_NOT_FOUND)
			rc = http_fail(req, rc, "importId names no unused "
			    "JSON import of this tenant");
		goto done;
	}
	import_job_on_flushed(job, json_rows_flushed, rows);
	for (i = 0; i < json_array_size(items); i++) {
		why[0] = '\0';
		early = json_item(json_array_get(items, i), &f, why,
		    sizeof(why));
		if ((rc = import_job_row(job, (int64_t)i + 1, &f, early, why)) !=
		    WG_OK)
			break;
	}
	if (import_job_finish(job, rc == WG_OK ? NULL : "the database "
	    "failed during the import", rc != WG_OK) != WG_OK && rc == WG_OK)
		rc = WG_E_DB_UNAVAILABLE;
	if (rc == WG_OK)
		rc = registry_import_done(req, c, tenant,
		    import_job_import(job), resp, json_incref(rows));
done:
	import_job_free(job);
	json_decref(rows);
	json_decref(root);
	return rc;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_POST, "/admin/v1/imports", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 4096, import_create),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/imports", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, import_list),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/imports/{id}", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, import_get),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/imports/{id}/rows", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, import_rows),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/importedDeviceIdentities/import",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, IMPORT_JSON_BODY_MAX,
	    import_json_post),
	{ .method = HTTP_POST,
	  .pattern = "/admin/v1/importedDeviceIdentities/importCsv",
	  .service = WG_SVC_REGISTRY,
	  .auth = HTTP_AUTH_ADMIN,
	  .max_body = IMPORT_CSV_BODY_MAX,
	  .stream = &import_csv_stream,
	  .content_type = "text/csv" },
};

const struct http_routes registry_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
