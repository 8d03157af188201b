/*
 * Deployment profiles as the admin API shows them (Graph's
 * windowsAutopilotDeploymentProfiles, docs/api.md): create, list, read,
 * delete, and assign to a group tag or as the tenant's default.  A tenant
 * sees its own profiles only; another tenant's profile is "not found".
 * The ztd service delivers them to devices (ztd.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json.h"
#include "common/profile.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/signin.h"
#include "server/admin_util.h"
#include "server/server.h"

#define PROFILE_BODY_MAX 4096
#define PROFILE_PAGE_DEFAULT 100

_Static_assert(WG_NAME_TEMPLATE_MAX == WG_NAME_TEMPLATE_LEN_MAX,
    "store.h and common/profile.h disagree on a template's length");

/* The JSON an admin sees of a profile assigned to tags[0..ntags). */
static json_t *
profile_json(const struct wg_profile *p, char *const *tags, size_t ntags)
{
	const struct wg_oobe_flag *f;
	json_t *oobe = json_array(), *tj = json_array();
	size_t i;

	for (i = 0; (f = wg_oobe_flag_at(i)) != NULL; i++)
		if (((uint64_t)p->oobe_flags & f->bit) != 0)
			json_array_append_new(oobe, json_string(f->name));
	for (i = 0; i < ntags; i++)
		json_array_append_new(tj, json_string(tags[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:s, s:I, "
	    "s:s, s:b, s:o, s:o, s:o}", "id", p->id, "name", p->name,
	    "deploymentMode", p->deployment_mode, "joinMethod", p->join_method,
	    "deviceNameTemplate", p->name_template, "oobe", oobe,
	    "oobeConfig", (json_int_t)p->oobe_flags, "espTimeoutMinutes",
	    (json_int_t)p->esp_timeout_min, "rebootPolicy", p->reboot_policy,
	    "ticketLifetimeDays", (json_int_t)p->ticket_days,
	    "sessionKeyWrap", p->session_key_wrap, "isDefault",
	    p->is_default, "assignedGroupTags", tj, "createdAt",
	    admin_json_time(p->created_ms), "updatedAt",
	    admin_json_time(p->updated_ms));
}

/* The profile's JSON with its group tags read from the store. */
static enum wg_err
profile_read_json(struct store_conn *c, const struct wg_profile *p,
    json_t **out)
{
	char **tags = NULL;
	enum wg_err rc;
	size_t i, n = 0;

	*out = NULL;
	if ((rc = store_profile_tags(c, p->tenant_id, p->id, &tags, &n)) ==
	    WG_OK)
		*out = profile_json(p, tags, n);
	for (i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
	return rc;
}

/* Answers status with the profile and its group tags. */
static enum wg_err
profile_answer(struct http_resp *resp, int status, struct store_conn *c,
    const struct wg_profile *p)
{
	json_t *o;
	enum wg_err rc;

	if ((rc = profile_read_json(c, p, &o)) == WG_OK)
		http_resp_json(resp, status, o);
	return rc;
}

/* ---- the create body: one reader per field, each naming its field ---- */

/* A string field of enumeration e; def < 0: required. */
static enum wg_err
enum_field(struct http_req *req, const json_t *root, const char *name,
    enum wg_profile_enum e, int def, char *out, size_t outlen)
{
	const json_t *v = json_object_get(root, name);
	const char *s;
	char words[128];
	int val = def;

	if (v != NULL && !json_is_null(v)) {
		s = json_is_string(v) ? json_string_value(v) : "";
		val = strlen(s) == json_string_length(v) ?
		    wg_profile_enum_parse(e, s, 0) : -1;
	}
	if (val < 0) {
		wg_profile_enum_list(e, 0, words, sizeof(words));
		return http_fail(req, WG_E_JSON_FIELD, "field \"%s\" %s %s",
		    name, v == NULL || json_is_null(v) ? "is required:" :
		    "must be", words);
	}
	snprintf(out, outlen, "%s", wg_profile_enum_name(e, val, 0));
	return WG_OK;
}

/* An optional whole-number field in [min, max], def when absent. */
static enum wg_err
int_field(struct http_req *req, const json_t *root, const char *name,
    int64_t min, int64_t max, int64_t def, int64_t *out)
{
	const json_t *v = json_object_get(root, name);

	*out = def;
	if (v == NULL || json_is_null(v))
		return WG_OK;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return http_fail(req, WG_E_JSON_FIELD, "field \"%s\" must be a "
		    "whole number from %lld to %lld", name, (long long)min,
		    (long long)max);
	*out = json_integer_value(v);
	return WG_OK;
}

/* "deviceNameTemplate": a template (common/profile.h) or "" for none. */
static enum wg_err
template_field(struct http_req *req, const json_t *root,
    char out[WG_NAME_TEMPLATE_MAX + 1])
{
	const json_t *v = json_object_get(root, "deviceNameTemplate");
	char why[256];
	const char *s;

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return WG_OK;
	if (!json_is_string(v) ||
	    strlen(s = json_string_value(v)) != json_string_length(v))
		return http_fail(req, WG_E_JSON_FIELD, "field "
		    "\"deviceNameTemplate\" must be a string");
	if (wg_name_template_check(s, why, sizeof(why)) != 0)
		return http_fail(req, WG_E_JSON_FIELD, "field "
		    "\"deviceNameTemplate\": %s", why);
	snprintf(out, WG_NAME_TEMPLATE_MAX + 1, "%s", s);
	return WG_OK;
}

/* "oobe": an array of distinct flag names, into their bit mask. */
static enum wg_err
oobe_field(struct http_req *req, const json_t *root, int64_t *out)
{
	const json_t *arr = json_object_get(root, "oobe"), *v;
	char names[160], esc[80];
	uint32_t bit, mask = 0;
	const char *s;
	size_t i;

	*out = 0;
	if (arr == NULL || json_is_null(arr))
		return WG_OK;
	wg_oobe_list(names, sizeof(names));
	if (!json_is_array(arr))
		return http_fail(req, WG_E_JSON_FIELD, "field \"oobe\" must be "
		    "an array of flag names: %s", names);
	json_array_foreach(arr, i, v) {
		s = json_is_string(v) ? json_string_value(v) : "";
		bit = strlen(s) == json_string_length(v) ? wg_oobe_bit(s) : 0;
		wg_escape_log(s, strlen(s), esc, sizeof(esc));
		if (bit == 0)
			return http_fail(req, WG_E_JSON_FIELD, "field "
			    "\"oobe\": item %zu (\"%s\") is not a flag name; "
			    "the flags are %s", i + 1, esc, names);
		if ((mask & bit) != 0)
			return http_fail(req, WG_E_JSON_FIELD, "field \"oobe\" "
			    "names \"%s\" twice", esc);
		mask |= bit;
	}
	*out = mask;
	return WG_OK;
}

/* The create body into p (whose tenant the caller sets). */
static enum wg_err
profile_parse(struct http_req *req, const json_t *root, struct wg_profile *p)
{
	static const char *const allowed[] = { "name", "deploymentMode",
		"joinMethod", "deviceNameTemplate", "oobe", "espTimeoutMinutes",
		"rebootPolicy", "ticketLifetimeDays", "sessionKeyWrap", NULL };
	const char *name, *wrap = NULL;
	enum wg_err rc;

	if ((rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(root, "name", 1, WG_PROFILE_NAME_MAX, &name,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = enum_field(req, root, "deploymentMode", WG_PROFILE_MODE, -1,
	    p->deployment_mode, sizeof(p->deployment_mode))) != WG_OK ||
	    (rc = enum_field(req, root, "joinMethod", WG_PROFILE_JOIN,
	    WG_JOIN_CLOUD, p->join_method, sizeof(p->join_method))) != WG_OK ||
	    (rc = template_field(req, root, p->name_template)) != WG_OK ||
	    (rc = oobe_field(req, root, &p->oobe_flags)) != WG_OK ||
	    (rc = int_field(req, root, "espTimeoutMinutes", WG_ESP_TIMEOUT_MIN,
	    WG_ESP_TIMEOUT_MAX, WG_ESP_TIMEOUT_DEFAULT, &p->esp_timeout_min)) !=
	    WG_OK ||
	    (rc = enum_field(req, root, "rebootPolicy", WG_PROFILE_REBOOT,
	    WG_REBOOT_STRICT, p->reboot_policy, sizeof(p->reboot_policy))) !=
	    WG_OK ||
	    (rc = int_field(req, root, "ticketLifetimeDays",
	    WG_TICKET_DAYS_MIN, WG_TICKET_DAYS_MAX, WG_TICKET_DAYS_DEFAULT,
	    &p->ticket_days)) != WG_OK)
		return rc;
	if (wg_json_string(root, "sessionKeyWrap", 0, 15, &wrap, req->why,
	    sizeof(req->why)) != WG_OK || (wrap != NULL &&
	    signin_wrap_parse(wrap) < 0))
		return http_fail(req, WG_E_JSON_FIELD, "field \"sessionKeyWrap\" "
		    "must be \"%s\" (the default) or \"%s\" (with SHA-1, as "
		    "Windows wraps it)", signin_wrap_name(SIGNIN_WRAP_OAEP256),
		    signin_wrap_name(SIGNIN_WRAP_OAEP));
	snprintf(p->session_key_wrap, sizeof(p->session_key_wrap), "%s",
	    wrap != NULL ? wrap : WG_SESSION_KEY_WRAP_DEFAULT);
	snprintf(p->name, sizeof(p->name), "%s", name);
	return WG_OK;
}

/* POST /admin/v1/deploymentProfiles */
static enum wg_err
profile_create(struct http_req *req, struct http_resp *resp)
{
	struct wg_profile p = { .id = "" };
	struct store_conn *c;
	json_t *root = NULL;
	enum wg_err rc;

	if ((rc = http_scope_tenant(req, p.tenant_id)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = profile_parse(req, root, &p)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK || (rc = store_begin(c)) != WG_OK)
		goto done;
	if ((rc = store_profile_create(c, &p)) == WG_E_CONFLICT) {
		rc = http_fail(req, rc, "a profile named \"%s\" already exists",
		    p.name);
		goto done;
	}
	if (rc != WG_OK ||
	    (rc = admin_audit(req, c, p.tenant_id, ADMIN_EVT_PROFILE_CREATED,
	    "profile", p.name, "profileId", p.id)) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK)
		goto done;
	http_resp_json(resp, 201, profile_json(&p, NULL, 0));
done:
	json_decref(root);
	return rc;
}

/* ---- lists: by name, the cursor base64url(name of the last) ---- */


/* The profiles of a list page: one by ?name=, else a page after `after`. */
static enum wg_err
list_read(struct http_req *req, struct store_conn *c, const char *tenant,
    const char *after, size_t limit, struct wg_profile **out, size_t *n)
{
	const char *name = http_query(req, "name");
	enum wg_err rc;

	*out = NULL;
	*n = 0;
	if (name == NULL)
		return store_profile_list(c, tenant, after, limit, out, n);
	*out = xmalloc(sizeof(**out));
	rc = store_profile_get_by_name(c, tenant, name, *out);
	if (rc == WG_OK)
		*n = 1;
	return rc == WG_E_NOT_FOUND ? WG_OK : rc;
}

/* GET /admin/v1/deploymentProfiles[?name=][&after=][&limit=] */
static enum wg_err
profile_list(struct http_req *req, struct http_resp *resp)
{
	struct wg_profile *list = NULL;
	struct store_conn *c;
	char tenant[37], *after = NULL, *next = NULL;
	long long limit;
	json_t *arr = NULL, *o;
	enum wg_err rc;
	size_t i, n = 0;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK ||
	    (rc = admin_query_int(req, "limit", 1, WG_PROFILE_LIST_MAX,
	    PROFILE_PAGE_DEFAULT, &limit)) != WG_OK ||
	    (rc = admin_name_cursor(req, "a profile",
	    WG_PROFILE_NAME_MAX, &after)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK ||
	    (rc = list_read(req, c, tenant, after, (size_t)limit, &list, &n)) !=
	    WG_OK)
		goto done;
	arr = json_array();
	for (i = 0; i < n; i++) {
		if ((rc = profile_read_json(c, &list[i], &o)) != WG_OK)
			goto done;
		json_array_append_new(arr, o);
	}
	if (n > 0 && n == (size_t)limit)
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

/* ---- one profile, named by the path ---- */

/* rc, or the 404 answer if it is WG_E_NOT_FOUND. */
static enum wg_err
profile_found(struct http_req *req, enum wg_err rc)
{
	return rc == WG_E_NOT_FOUND ? http_fail(req, rc, "profile not "
	    "found") : rc;
}

/* The caller's tenant, a connection, and the profile the path names. */
static enum wg_err
profile_load(struct http_req *req, char tenant[37], struct store_conn **c,
    struct wg_profile *p)
{
	enum wg_err rc;

	if ((rc = admin_path_scope(req, "profile", tenant, c)) != WG_OK)
		return rc;
	return profile_found(req, store_profile_get(*c, tenant,
	    req->params[0], p));
}

/* GET /admin/v1/deploymentProfiles/{id} */
static enum wg_err
profile_get(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_profile p;
	char tenant[37];
	enum wg_err rc;

	if ((rc = profile_load(req, tenant, &c, &p)) != WG_OK)
		return rc;
	return profile_answer(resp, 200, c, &p);
}

/* DELETE /admin/v1/deploymentProfiles/{id}: its assignments go too. */
static enum wg_err
profile_delete(struct http_req *req, struct http_resp *resp)
{
	struct store_conn *c;
	struct wg_profile p;
	char tenant[37];
	enum wg_err rc;

	if ((rc = profile_load(req, tenant, &c, &p)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK)
		return rc;
	if ((rc = profile_found(req, store_profile_delete(c, tenant,
	    p.id))) != WG_OK ||
	    (rc = admin_audit(req, c, tenant, ADMIN_EVT_PROFILE_DELETED,
	    "profile", p.name, "profileId", p.id)) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK)
		return rc;
	resp->status = 204;
	return WG_OK;
}

/*
 * The body of assign and unassign: {"groupTag": "T"} (*tag borrowed from
 * *root, which the caller decrefs) or {"tenantDefault": true} (*tag NULL).
 */
static enum wg_err
target_parse(struct http_req *req, json_t **root, const char **tag)
{
	static const char *const allowed[] = { "groupTag", "tenantDefault",
		NULL };
	const json_t *def;
	enum wg_err rc;

	*tag = NULL;
	if ((rc = wg_json_load_object(req->body, req->body_len, root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(*root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(*root, "groupTag", 0, WG_GROUP_TAG_MAX, tag,
	    req->why, sizeof(req->why))) != WG_OK)
		return rc;
	def = json_object_get(*root, "tenantDefault");
	if (def != NULL && !json_is_true(def))
		return http_fail(req, WG_E_JSON_FIELD, "field "
		    "\"tenantDefault\" may only be true");
	if ((*tag == NULL) == (def == NULL))
		return http_fail(req, WG_E_JSON_FIELD, "give either "
		    "\"groupTag\" or \"tenantDefault\": true");
	return WG_OK;
}

/*
 * POST …/{id}/assign and …/{id}/unassign: the change and its audit record
 * in one transaction, then the profile as it is now.
 */
static enum wg_err
profile_target(struct http_req *req, struct http_resp *resp, int assign)
{
	struct store_conn *c;
	struct wg_profile p;
	json_t *root = NULL;
	const char *tag;
	char tenant[37];
	enum wg_err rc;

	if ((rc = target_parse(req, &root, &tag)) != WG_OK ||
	    (rc = profile_load(req, tenant, &c, &p)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK)
		goto done;
	rc = assign ? store_profile_assign(c, tenant, p.id, tag) :
	    store_profile_unassign(c, tenant, p.id, tag);
	if (rc == WG_E_NOT_FOUND && !assign && tag != NULL)
		rc = http_fail(req, rc, "group tag \"%s\" is not assigned to "
		    "this profile", tag);
	else if (rc == WG_E_NOT_FOUND && !assign)
		rc = http_fail(req, rc, "this profile is not the tenant's "
		    "default");
	else
		rc = profile_found(req, rc); /* deleted meanwhile */
	if (rc != WG_OK ||
	    (rc = admin_audit(req, c, tenant, assign ?
	    ADMIN_EVT_PROFILE_ASSIGNED : ADMIN_EVT_PROFILE_UNASSIGNED,
	    "profile", p.name, tag ? "groupTag" : "tenantDefault",
	    tag ? tag : "true")) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK ||
	    (rc = profile_found(req, store_profile_get(c, tenant, p.id,
	    &p))) != WG_OK)
		goto done;
	rc = profile_answer(resp, 200, c, &p);
done:
	json_decref(root);
	return rc;
}

static enum wg_err
profile_assign(struct http_req *req, struct http_resp *resp)
{
	return profile_target(req, resp, 1);
}

static enum wg_err
profile_unassign(struct http_req *req, struct http_resp *resp)
{
	return profile_target(req, resp, 0);
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_POST, "/admin/v1/deploymentProfiles", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, PROFILE_BODY_MAX, profile_create),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/deploymentProfiles", WG_SVC_REGISTRY,
	    HTTP_AUTH_ADMIN, 0, profile_list),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/deploymentProfiles/{id}",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, 0, profile_get),
	HTTP_ROUTE(HTTP_DELETE, "/admin/v1/deploymentProfiles/{id}",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, 0, profile_delete),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/deploymentProfiles/{id}/assign",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, PROFILE_BODY_MAX,
	    profile_assign),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/deploymentProfiles/{id}/unassign",
	    WG_SVC_REGISTRY, HTTP_AUTH_ADMIN, PROFILE_BODY_MAX,
	    profile_unassign),
};

const struct http_routes profiles_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
