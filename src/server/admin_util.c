#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/event.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/admin_util.h"

json_t *
admin_json_time(int64_t ms)
{
	char ts[32];

	if (ms == 0)
		return json_null();
	wg_time_rfc3339(ms, ts);
	return json_string(ts);
}

enum wg_err
admin_query_int(struct http_req *req, const char *name, long long min,
    long long max, long long def, long long *out)
{
	const char *s = http_query(req, name);
	char *end;

	*out = def;
	if (s == NULL)
		return WG_OK;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || *out < min ||
	    *out > max)
		return http_fail(req, WG_E_JSON_FIELD, "query parameter '%s' "
		    "must be an integer from %lld to %lld", name, min, max);
	return WG_OK;
}

enum wg_err
admin_path_scope(struct http_req *req, const char *what, char tenant[37],
    struct store_conn **c)
{
	enum wg_err rc;

	if ((rc = http_scope_tenant(req, tenant)) != WG_OK)
		return rc;
	if (!wg_is_uuid(req->params[0]))
		return http_fail(req, WG_E_NOT_FOUND, "%s not found", what);
	return http_db(req, c);
}

enum wg_err
admin_name_cursor(struct http_req *req, const char *what, size_t max,
    char **after)
{
	const char *s = http_query(req, "after");
	unsigned char *raw = NULL;
	size_t n = 0;

	*after = NULL;
	if (s == NULL)
		return WG_OK;
	if (strlen(s) <= ADMIN_CURSOR_MAX && wg_b64url_decode(s, &raw, &n) ==
	    0 && n > 0 && n <= max) {
		raw = xrealloc(raw, n + 1);
		raw[n] = '\0';
		if (strlen((char *)raw) == n && wg_str_printable((char *)raw)) {
			*after = (char *)raw;
			return WG_OK;
		}
	}
	free(raw);
	return http_fail(req, WG_E_JSON_FIELD, "query parameter 'after' is "
	    "not %s cursor this server gave", what);
}

static const char *
verb_of(int event_id)
{
	switch (event_id) {
	case ADMIN_EVT_KEY_REVOKED:
	case ADMIN_EVT_EK_REVOKED:
		return "revoked";
	case ADMIN_EVT_EKCERT_REGISTERED:
		return "registered";
	case ADMIN_EVT_AIK_ISSUED:
		return "certified";
	case ADMIN_EVT_DEVICE_DELETED:
	case ADMIN_EVT_PROFILE_DELETED:
		return "deleted";
	case ADMIN_EVT_PROFILE_ASSIGNED:
		return "assigned";
	case ADMIN_EVT_PROFILE_UNASSIGNED:
		return "unassigned";
	case ADMIN_EVT_PROFILE_DELIVERED:
		return "delivered";
	case ADMIN_EVT_PROFILE_REFUSED:
		return "refused";
	case ADMIN_EVT_DEVICE_TOKEN:
		return "issued";
	case ADMIN_EVT_MDM_ALLOWED:
		return "allowed to enroll once more";
	case ADMIN_EVT_MDM_DELETED:
		return "unenrolled";
	case ADMIN_EVT_IMPORT_ENDED:
		return "ended";
	default:
		return "created";
	}
}

enum wg_err
admin_audit(struct http_req *req, struct store_conn *c, const char *tenant_id,
    int event_id, const char *what, const char *name, const char *key,
    const char *value)
{
	struct wg_event *ev;
	enum wg_err rc;

	ev = wg_event_new("admin", event_id, WG_LEVEL_INFO, WG_PHASE_ADMIN,
	    WG_OK, "%s \"%s\" %s", what, name, verb_of(event_id));
	wg_event_add(ev, key, "%s", value);
	if (req->caller.key_id[0] != '\0') /* a route with a key */
		wg_event_add(ev, "byKeyId", "%s", req->caller.key_id);
	rc = store_audit_append(c, tenant_id, NULL, req->request_id, ev);
	wg_event_free(ev);
	return rc;
}

enum wg_err
admin_b64_field(struct http_req *req, const json_t *root, const char *name,
    int required, size_t max, unsigned char **out, size_t *len)
{
	const char *s;
	enum wg_err rc;

	*out = NULL;
	*len = 0;
	if ((rc = wg_json_string(root, name, required, (max + 2) / 3 * 4, &s,
	    req->why, sizeof(req->why))) != WG_OK || s == NULL)
		return rc;
	if (wg_b64_decode_text(s, out, len) != 0)
		return http_fail(req, WG_E_JSON_FIELD, "field \"%s\" is not "
		    "base64", name);
	return WG_OK;
}

enum wg_err
admin_tpm_public(struct http_req *req, const json_t *root, const char *name,
    int ek, unsigned char **raw, size_t *len, struct tpm_public *out)
{
	char why[256];
	enum wg_err rc;

	if ((rc = admin_b64_field(req, root, name, 1, 1024, raw, len)) !=
	    WG_OK)
		return rc;
	if (tpm_public_parse(*raw, *len, out, why, sizeof(why)) != WG_OK ||
	    (ek && tpm_public_ek_check(out, why, sizeof(why)) != 0))
		return http_fail(req, WG_E_JSON_FIELD, "field \"%s\": %s",
		    name, why);
	return WG_OK;
}

/* The AIK attributes an AIK must have, and the one it must not. */
#define AIK_NEED (TPMA_RESTRICTED | TPMA_SIGN | TPMA_FIXEDTPM | \
	TPMA_FIXEDPARENT | TPMA_SENSITIVEDATAORIGIN)

enum wg_err
admin_aik_check(struct http_req *req, const char *name,
    const struct tpm_public *aik)
{
	char have[256];

	tpm_public_attributes_str(aik->attributes, have, sizeof(have));
	if ((aik->attributes & AIK_NEED) != AIK_NEED ||
	    (aik->attributes & TPMA_DECRYPT) != 0)
		return http_fail(req, WG_E_AIK_ATTRIBUTES, "%s: "
		    "objectAttributes %s; an AIK must be restricted, sign, "
		    "fixedTPM, fixedParent and sensitiveDataOrigin, and not "
		    "decrypt", name, have);
	return WG_OK; /* the parser took SHA-256 names only */
}

enum wg_err
admin_aik_public(struct http_req *req, const json_t *root, const char *name,
    unsigned char **raw, size_t *len, struct tpm_public *out)
{
	enum wg_err rc;

	if ((rc = admin_tpm_public(req, root, name, 0, raw, len, out)) !=
	    WG_OK)
		return rc;
	return admin_aik_check(req, name, out);
}

enum wg_err
admin_device_audit(struct http_req *req, struct store_conn *c,
    const struct wg_device *d, const char *channel, int id,
    enum wg_phase phase, enum wg_err err, const char *correlation,
    const char *key, const char *value, const char *msg)
{
	struct wg_event *ev;
	enum wg_err rc;

	ev = wg_event_new(channel, id, err == WG_OK ? WG_LEVEL_INFO :
	    WG_LEVEL_ERROR, phase, err, "%s", msg);
	if (correlation != NULL)
		wg_event_set_correlation(ev, correlation);
	wg_event_add(ev, "serialNumber", "%s", d->serial);
	if (key != NULL && value != NULL)
		wg_event_add(ev, key, "%s", value);
	rc = store_audit_append(c, d->tenant_id, d->id, req->request_id, ev);
	wg_event_free(ev);
	return rc;
}

void
admin_device_refusal(struct http_req *req, struct store_conn *c,
    const struct wg_device *d, const char *channel, int id,
    enum wg_phase phase, enum wg_err err, const char *key, const char *value,
    const char *msg)
{
	if (store_begin(c) == WG_OK) {
		if (admin_device_audit(req, c, d, channel, id, phase, err, NULL,
		    key, value, msg) == WG_OK && store_commit(c) == WG_OK)
			return;
		store_rollback(c);
	}
	wg_warn("the refusal of device %s (%s event %d) was not recorded",
	    d->id, channel, id);
}
