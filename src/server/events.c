/*
 * The device's timeline: the events a device uploads from its channels
 * (POST /mdm/v1/events, with its device token) and, for an admin, those
 * merged with the server's audit records of the device in time order,
 * with the first failure and the catalog's meaning and remedy of its
 * code (GET /admin/v1/devices/{id}/timeline).  docs/api.md, "Device
 * timeline".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/admin_util.h"
#include "server/server.h"

/* An upload: at most EVENTS_MAX records in at most EVENTS_BODY_MAX bytes. */
#define EVENTS_BODY_MAX (256 * 1024)
#define EVENTS_MAX 200

/* The events of an upload, parsed strictly. */
struct upload {
	struct wg_event *evs[EVENTS_MAX];
	size_t n;
};

static void
upload_free(struct upload *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		wg_event_free(u->evs[i]);
	u->n = 0;
}

/*
 * {"events": [record, ...]}: 1 to EVENTS_MAX records, each what
 * wg_event_parse() takes (known fields, bounded, no duplicates) of a
 * device channel.  WG_E_JSON_* naming the record and the rule otherwise.
 */
static enum wg_err
upload_parse(struct http_req *req, struct upload *u)
{
	static const char *const allowed[] = { "events", NULL };
	json_t *root = NULL, *arr, *v;
	char why[256], *line;
	enum wg_err rc;
	size_t i;

	if ((rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK)
		goto done;
	arr = json_object_get(root, "events");
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > EVENTS_MAX) {
		rc = http_fail(req, WG_E_JSON_FIELD, "field \"events\" must be "
		    "an array of 1 to %d event records", EVENTS_MAX);
		goto done;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_object(v)) {
			rc = http_fail(req, WG_E_JSON_FIELD, "events[%zu] is not "
			    "an object", i);
			goto done;
		}
		if ((line = json_dumps(v, JSON_COMPACT)) == NULL)
			abort(); /* out of memory: the body is capped */
		rc = wg_event_parse(line, strlen(line), &u->evs[u->n], why,
		    sizeof(why));
		free(line);
		if (rc != WG_OK) {
			rc = http_fail(req, rc == WG_E_BODY_TOO_LARGE ?
			    WG_E_JSON_FIELD : rc, "events[%zu]: %s", i, why);
			goto done;
		}
		if (!wg_device_channel(u->evs[u->n++]->channel)) {
			rc = http_fail(req, WG_E_JSON_FIELD, "events[%zu]: "
			    "channel \"%s\" is not a device channel", i,
			    u->evs[u->n - 1]->channel);
			goto done;
		}
	}
	rc = WG_OK;
done:
	json_decref(root);
	return rc;
}

/* POST /mdm/v1/events: the device's events, each stored once. */
static enum wg_err
events_upload(struct http_req *req, struct http_resp *resp)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	struct device_claims tok;
	struct store_conn *c;
	struct wg_device d;
	enum wg_err rc;
	size_t stored = 0;

	if ((rc = token_device_check(req, TOKEN_AUD_MDM, &tok)) != WG_OK ||
	    (rc = upload_parse(req, u)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK)
		goto done;
	rc = store_device_by_ztd(c, tok.tenant_id, tok.ztd_id, &d);
	if (rc == WG_E_NOT_FOUND)
		rc = http_fail(req, rc, "the device of this token is not "
		    "registered any more");
	if (rc != WG_OK || (rc = store_device_events_add(c, d.tenant_id, d.id,
	    u->evs, u->n, wg_now_ms(), &stored)) != WG_OK)
		goto done;
	http_resp_json(resp, 200, json_pack("{s:I, s:I}", "received",
	    (json_int_t)u->n, "stored", (json_int_t)stored));
done:
	upload_free(u);
	free(u);
	return rc;
}

/* An entry of the timeline: the event record and its source. */
static json_t *
entry_json(const struct wg_timeline_entry *e)
{
	char *line = wg_event_to_json(e->event);
	json_t *o = json_loads(line, 0, NULL);

	free(line);
	if (o == NULL)
		abort(); /* our own JSON; only out of memory gets here */
	json_object_set_new(o, "source", json_string(e->from_server ?
	    "server" : "device"));
	return o;
}

/* The first failure: its entry, and the catalog's words for its code. */
static json_t *
failure_json(const struct wg_timeline_entry *e)
{
	const struct wg_err_info *info = wg_err_info(e->event->err);
	json_t *o = entry_json(e);

	json_object_set_new(o, "meaning", json_string(info->meaning));
	json_object_set_new(o, "causes", json_string(info->causes));
	json_object_set_new(o, "remedy", json_string(info->remedy));
	return o;
}

/* GET /admin/v1/devices/{id}/timeline?limit=N */
static enum wg_err
device_timeline(struct http_req *req, struct http_resp *resp)
{
	struct wg_timeline_entry *list = NULL, first = { 0 };
	struct store_conn *c;
	struct wg_device d;
	char tenant[37];
	long long limit;
	json_t *arr, *fail = NULL;
	enum wg_err rc;
	size_t i, n = 0;
	int more = 0;

	if ((rc = admin_query_int(req, "limit", 1, WG_TIMELINE_MAX,
	    WG_TIMELINE_MAX, &limit)) != WG_OK ||
	    (rc = admin_path_scope(req, "device", tenant, &c)) != WG_OK)
		return rc;
	rc = store_device_get(c, tenant, req->params[0], &d);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, rc, "device not found");
	if (rc != WG_OK || (rc = store_timeline_list(c, tenant, d.id,
	    (size_t)limit, &list, &n, &more)) != WG_OK)
		return rc;
	rc = store_timeline_first_error(c, tenant, d.id, &first);
	if (rc == WG_OK)
		fail = failure_json(&first);
	else if (rc != WG_E_NOT_FOUND)
		goto done;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, entry_json(&list[i]));
	http_resp_json(resp, 200, json_pack("{s:s, s:s, s:o, s:b, s:o}",
	    "deviceId", d.id, "serialNumber", d.serial, "value", arr, "more",
	    more, "firstFailure", fail != NULL ? fail : json_null()));
	rc = WG_OK;
done:
	wg_event_free(first.event);
	store_timeline_free(list, n);
	return rc;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_POST, "/mdm/v1/events", WG_SVC_MDM, HTTP_AUTH_NONE,
	    EVENTS_BODY_MAX, events_upload),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/devices/{id}/timeline",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, 0, device_timeline),
};

const struct http_routes events_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
