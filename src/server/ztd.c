/*
 * The ztd service: the deployment service (the role of Autopilot's DDS)
 * that hands a device its profile, step 1 of the flow.  The device sends
 * its hardware hash and an AIK; the service finds the device by its EK,
 * checks the hash against the imported one, picks the profile (group tag,
 * else the tenant's default) and answers with the profile JSON sealed so
 * that only the TPM holding that EK and AIK can open it: AES-256-GCM
 * under a random key that travels as a TPM2_MakeCredential credential
 * (the same construction as the AIK certificate of the aik service).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/event.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/aesgcm.h"
#include "crypto/hwhash.h"
#include "crypto/tpmpub.h"
#include "server/admin_util.h"
#include "server/server.h"

#define ZTD_BODY_MAX 32768
#define ZTD_PROFILE_VERSION 2049 /* the Version Windows' profile file has */

/* What a profile request carries, parsed. */
struct ztd_req {
	struct wg_hwhash *hash;	   /* as sent */
	unsigned char *aik_raw;
	size_t aik_raw_len;
	struct tpm_public ek, aik; /* the EK of the imported hash */
	unsigned char aik_name[34];
	char ek_hex[65];
	char correlation[37];
};

static void
ztd_req_free(struct ztd_req *z)
{
	hwhash_free(z->hash);
	free(z->aik_raw);
}

/* POST body: {"hardwareHash": base64, "aikPublic": base64 TPM2B_PUBLIC} */
static enum wg_err
ztd_parse(struct http_req *req, struct ztd_req *z)
{
	static const char *const allowed[] = {"hardwareHash", "aikPublic",
	    NULL};
	const char *b64;
	json_t *root = NULL;
	char why[256] = "";
	enum wg_err rc;

	if ((rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(root, "hardwareHash", 1, ZTD_BODY_MAX, &b64,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = admin_aik_public(req, root, "aikPublic", &z->aik_raw,
	    &z->aik_raw_len, &z->aik)) != WG_OK)
		goto done;
	if (hwhash_parse_b64(b64, strlen(b64), &z->hash, why, sizeof(why)) !=
	    WG_OK) {
		rc = http_fail(req, WG_E_DDS_INVALID_HASH, "hardwareHash: %s",
		    why);
		goto done;
	}
	if (tpm_public_parse(z->hash->ek_public, z->hash->ek_public_len,
	    &z->ek, why, sizeof(why)) != WG_OK) {
		rc = http_fail(req, WG_E_DDS_INVALID_HASH, "hardwareHash: the "
		    "EK: %s", why);
		goto done;
	}
	wg_hex(z->hash->ek_sha256, sizeof(z->hash->ek_sha256), z->ek_hex);
	tpm_public_name(&z->aik, z->aik_name);
	wg_uuid(z->correlation);
done:
	json_decref(root);
	return rc;
}

/* A ztd channel record in the device's server-side timeline. */
static enum wg_err
ztd_audit(struct http_req *req, struct store_conn *c,
    const struct wg_device *d, const struct ztd_req *z, int id,
    enum wg_err err, const char *msg, const char *profile)
{
	return admin_device_audit(req, c, d, "ztd", id, WG_PHASE_PROFILE, err,
	    z->correlation, "profile", profile, msg);
}

/*
 * The device of the hash's EK, which must be the device the imported hash
 * describes: 807 if no tenant has it, 809 (recorded in the device's
 * timeline) if the hash says other hardware.
 */
static enum wg_err
ztd_device(struct http_req *req, struct store_conn *c, struct ztd_req *z,
    struct wg_device *d)
{
	struct wg_hwhash *imported = NULL;
	unsigned char *raw = NULL;
	char why[256] = "", msg[400];
	enum wg_err rc;
	size_t n = 0;
	int same;

	rc = store_device_by_ek(c, z->ek_hex, d, &raw, &n);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_DDS_DEVICE_NOT_FOUND, "no tenant has "
		    "registered a device with this TPM (EK SHA-256 %.16s...) "
		    "and serial number '%s'", z->ek_hex, z->hash->serial);
	if (rc != WG_OK)
		return rc;
	if (hwhash_parse(raw, n, &imported, why, sizeof(why)) != WG_OK) {
		free(raw);
		wg_error("ztd: device %s: its imported hash: %s", d->id, why);
		return http_fail(req, WG_E_INTERNAL, "the device's imported "
		    "hardware hash cannot be read");
	}
	free(raw);
	same = hwhash_same_device(imported, z->hash, why, sizeof(why));
	hwhash_free(imported);
	if (same)
		return WG_OK;
	snprintf(msg, sizeof(msg), "the hardware hash differs from the "
	    "imported one: %s", why);
	if ((rc = ztd_audit(req, c, d, z, ADMIN_EVT_PROFILE_REFUSED,
	    WG_E_DDS_HASH_MISMATCH, msg, NULL)) != WG_OK)
		return rc;
	return http_fail(req, WG_E_DDS_HASH_MISMATCH, "%s (serial number "
	    "'%s')", msg, d->serial);
}

/* The profile file's JSON (Autopilot's names, then ours). */
static json_t *
ztd_profile_json(const struct wg_tenant *t, const struct wg_device *d,
    const struct wg_profile *p, const struct ztd_req *z)
{
	char now[32], comment[WG_PROFILE_NAME_MAX + WG_TENANT_NAME_MAX +
	    WG_SERIAL_MAX + 64];

	wg_time_rfc3339(wg_now_ms(), now);
	snprintf(comment, sizeof(comment), "Profile %s of %s for device %s",
	    p->name, t->name, d->serial);
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:i, s:i, s:s, s:s, "
	    "s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:s, s:I, s:s}",
	    "Version", ZTD_PROFILE_VERSION, "Comment_File", comment,
	    "CloudAssignedTenantId", t->id,
	    "CloudAssignedTenantDomain", t->name,
	    "CloudAssignedOobeConfig", (json_int_t)p->oobe_flags,
	    "CloudAssignedDomainJoinMethod",
	    strcmp(p->join_method, "hybrid") == 0 ? 1 : 0,
	    "CloudAssignedForcedEnrollment", 1,
	    "CloudAssignedDeviceName", p->name_template,
	    "ZtdCorrelationId", z->correlation,
	    "PolicyDownloadDate", now,
	    "DeploymentProfileName", p->name,
	    "DeploymentProfileId", p->id,
	    "DeploymentMode", p->deployment_mode,
	    "ZtdDeviceId", d->ztd_id,
	    "SerialNumber", d->serial,
	    "GroupTag", d->group_tag[0] ? d->group_tag : NULL,
	    "AssignedUserPrincipalName", d->upn[0] ? d->upn : NULL,
	    "EspTimeoutMinutes", (json_int_t)p->esp_timeout_min,
	    "RebootPolicy", p->reboot_policy,
	    "TicketLifetimeDays", (json_int_t)p->ticket_days,
	    "DirectoryDeviceId", d->directory_device_id);
}

/* The answer: the profile sealed to the TPM of the imported EK. */
static enum wg_err
ztd_seal(struct http_req *req, const struct ztd_req *z, const json_t *profile,
    json_t **out)
{
	struct aesgcm_for_tpm sealed;
	char why[256] = "", *text;
	enum wg_err rc;

	*out = NULL;
	if ((text = json_dumps(profile, JSON_COMPACT)) == NULL)
		abort(); /* out of memory */
	rc = aesgcm_seal_for_tpm(&z->ek, z->aik_name, sizeof(z->aik_name),
	    (const unsigned char *)text, strlen(text), &sealed, why,
	    sizeof(why));
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (rc != WG_OK)
		return http_fail(req, rc, "the profile could not be sealed%s%s",
		    why[0] ? ": " : "", why);
	*out = json_pack("{s:s, s:s, s:s}", "credentialBlob", sealed.blob,
	    "encryptedSecret", sealed.secret, "encryptedProfile",
	    sealed.sealed);
	aesgcm_for_tpm_free(&sealed);
	return WG_OK;
}

/* The device's profile, and the record of its delivery, in one tx. */
static enum wg_err
ztd_deliver(struct http_req *req, struct store_conn *c, struct ztd_req *z,
    const struct wg_device *d, json_t **body)
{
	struct wg_profile p;
	struct wg_tenant t;
	json_t *profile;
	char msg[300];
	enum wg_err rc;
	int by_tag = 0;

	rc = store_profile_for(c, d->tenant_id, d->group_tag, &p, &by_tag);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_PROFILE_NOT_ASSIGNED, "device '%s' "
		    "(group tag '%s') is registered, but no profile is "
		    "assigned to its group tag and its tenant has no default "
		    "profile", d->serial, d->group_tag);
	if (rc != WG_OK || (rc = store_tenant_get(c, d->tenant_id, &t)) !=
	    WG_OK)
		return rc;
	profile = ztd_profile_json(&t, d, &p, z);
	rc = ztd_seal(req, z, profile, body);
	json_decref(profile);
	if (rc != WG_OK)
		return rc;
	snprintf(msg, sizeof(msg), "profile \"%s\" delivered (%s)", p.name,
	    by_tag ? "assigned to the group tag" : "the tenant's default");
	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	if ((rc = store_device_contacted(c, d->id)) == WG_OK &&
	    (rc = ztd_audit(req, c, d, z, ADMIN_EVT_PROFILE_DELIVERED, WG_OK,
	    msg, p.name)) == WG_OK)
		rc = store_commit(c);
	else
		store_rollback(c);
	return rc;
}

/* POST /ztd/v1/profile {"hardwareHash", "aikPublic"} */
static enum wg_err
ztd_profile(struct http_req *req, struct http_resp *resp)
{
	struct ztd_req z;
	struct wg_device d;
	struct store_conn *c;
	json_t *body = NULL;
	enum wg_err rc;

	memset(&z, 0, sizeof(z));
	if ((rc = ztd_parse(req, &z)) == WG_OK &&
	    (rc = http_db(req, &c)) == WG_OK &&
	    (rc = ztd_device(req, c, &z, &d)) == WG_OK &&
	    (rc = ztd_deliver(req, c, &z, &d, &body)) == WG_OK) {
		http_resp_json(resp, 200, body);
		body = NULL;
	}
	json_decref(body);
	ztd_req_free(&z);
	return rc;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_POST, "/ztd/v1/profile", WG_SVC_ZTD, HTTP_AUTH_NONE,
	    ZTD_BODY_MAX, ztd_profile),
};

const struct http_routes ztd_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
