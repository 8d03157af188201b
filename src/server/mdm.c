/*
 * The mdm service: "Registering your device for mobile management"
 * (step 4 of the flow; the role of MDM enrollment, MS-MDE2, with JSON in
 * place of SOAP).  A joined device shows its device token and an MDM key
 * its TPM made and its AIK certified over a fresh nonce, with a PKCS#10
 * request that key signed; the answer is the MDM device certificate (the
 * MDM CA) and the management URL.  A device enrolls once: a second
 * enrollment is refused with 0x80180014 until an admin deletes the
 * enrollment or allows one more (devices.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmpub.h"
#include "server/admin_util.h"
#include "server/idem.h"
#include "server/server.h"
#include "server/tpmproof.h"

#define ENROLL_BODY_MAX 32768
#define MDM_CERT_DAYS 365
#define MDM_EVT_ENROLLED 75
#define MDM_EVT_REFUSED 76

/* What an enrollment request carries, decoded. */
struct mdm_req {
	struct device_claims tok;
	unsigned char *csr_der;
	size_t csr_len;
	struct proof proof;
	struct proof_key key;
};

static void
mdm_req_free(struct mdm_req *m)
{
	free(m->csr_der);
	proof_free(&m->proof);
	proof_key_free(&m->key);
}

/* GET /mdm/v1/discovery: where and how a device enrolls. */
static enum wg_err
mdm_discovery(struct http_req *req, struct http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:s, s:s, s:s, s:s}",
	    "EnrollmentServiceUrl", "/mdm/v1/enroll", "ManagementServiceUrl",
	    "/mdm/v1/manage", "AuthPolicy", "DeviceToken",
	    "EnrollmentVersion", "1.0"));
	return WG_OK;
}

/* {"CertificateRequest", "AikCertificate", "AttestationData"} */
static enum wg_err
mdm_parse(struct http_req *req, const json_t *root, struct mdm_req *m)
{
	static const char *const allowed[] = {"CertificateRequest",
	    "AikCertificate", "AttestationData", NULL};
	static const char *const keys[] = {"MdmKey", NULL};
	const json_t *csr = json_object_get(root, "CertificateRequest");
	const json_t *att = json_object_get(root, "AttestationData");
	const char *type;
	char why[128];
	enum wg_err rc;

	if ((rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK)
		return rc;
	if (!json_is_object(csr) || wg_json_string(csr, "Type", 1, 16, &type,
	    why, sizeof(why)) != WG_OK || strcmp(type, "pkcs10") != 0)
		return http_fail(req, WG_E_JSON_FIELD, "CertificateRequest must "
		    "be {\"Type\": \"pkcs10\", \"Data\": base64 DER}");
	if ((rc = proof_b64(req, csr, "CertificateRequest.", "Data", 8192,
	    &m->csr_der, &m->csr_len)) != WG_OK ||
	    (rc = proof_parse(req, root, att, keys, &m->proof)) != WG_OK)
		return rc;
	return proof_key_parse(req, att, "MdmKey", 1, &m->key);
}

/* The joined device the token names. */
static enum wg_err
mdm_device(struct http_req *req, struct store_conn *c,
    const struct mdm_req *m, struct wg_device *d)
{
	enum wg_err rc;

	rc = store_device_by_ztd(c, m->tok.tenant_id, m->tok.ztd_id, d);
	if (rc == WG_OK && d->directory_device_id[0] == '\0')
		rc = WG_E_NOT_FOUND;
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND, "the "
		    "directory object of device %s was deleted", m->tok.ztd_id);
	if (rc == WG_OK && !d->enabled)
		return http_fail(req, WG_E_MDM_NOT_JOINED, "device %s has not "
		    "joined: its directory object is not enabled", d->serial);
	return rc;
}

/* Takes the nonce, records the enrollment, in one transaction. */
static enum wg_err
mdm_commit(struct http_req *req, struct store_conn *c,
    const struct mdm_req *m, const struct wg_device *d,
    struct wg_mdm_enrollment *e)
{
	char msg[160];
	enum wg_err rc;

	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	if ((rc = proof_nonce_take(req, c, &m->proof)) == WG_OK &&
	    (rc = store_mdm_enroll(c, e)) == WG_OK) {
		snprintf(msg, sizeof(msg), "MDM enrollment %s (certificate %s)",
		    e->enrollment_id, e->thumbprint);
		if ((rc = admin_device_audit(req, c, d, "enrollment",
		    MDM_EVT_ENROLLED, WG_PHASE_MDM, WG_OK, NULL,
		    "enrollmentId", e->enrollment_id, msg)) == WG_OK)
			return store_commit(c);
	}
	if (rc != WG_E_CONFLICT) {
		store_rollback(c);
		return rc;
	}
	/*
	 * The refusal stays in the device's timeline, committed with the
	 * nonce taken (the enrollment wrote nothing): within the
	 * transaction, since an idempotent request's one (idem.c) would
	 * lose a write made after a rollback.
	 */
	if (admin_device_audit(req, c, d, "enrollment", MDM_EVT_REFUSED,
	    WG_PHASE_MDM, WG_E_MENROLL_DEVICE_NOT_SUPPORTED, NULL, NULL, NULL,
	    "a second MDM enrollment refused") != WG_OK ||
	    store_commit(c) != WG_OK) {
		store_rollback(c);
		wg_warn("mdm: the refusal of device %s was not recorded",
		    d->id);
	}
	return http_fail(req, WG_E_MENROLL_DEVICE_NOT_SUPPORTED, "device %s "
	    "is enrolled already; an admin deletes its enrollment or allows "
	    "one more (whiteglove device allow-next-enrollment %s)",
	    d->serial, d->id);
}

/* POST /mdm/v1/enroll */
static enum wg_err
mdm_enroll(struct http_req *req, struct http_resp *resp)
{
	struct wg_mdm_enrollment *e = xcalloc(1, sizeof(*e));
	unsigned char name[34];
	struct mdm_req m;
	struct wg_device d;
	struct store_conn *c;
	struct proof_cert pc = {0};
	json_t *root = NULL;
	const char *host = http_header(req, "Host");
	char *url = NULL;
	enum wg_err rc;

	memset(&m, 0, sizeof(m));
	if ((rc = token_device_check(req, TOKEN_AUD_MDM, &m.tok)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = mdm_parse(req, root, &m)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK ||
	    (rc = proof_aik(req, c, m.tok.aik_name, &m.proof)) != WG_OK ||
	    (rc = proof_key_check(req, &m.proof, "the MDM key", &m.key, 1)) !=
	    WG_OK ||
	    (rc = proof_csr(req, m.csr_der, m.csr_len, &m.key.key,
	    "the MDM key")) != WG_OK ||
	    (rc = mdm_device(req, c, &m, &d)) != WG_OK ||
	    (rc = proof_issue(req, &req->srv->cas.mdm, &m.key.key,
	    d.directory_device_id, MDM_CERT_DAYS, &pc)) != WG_OK)
		goto done;
	snprintf(e->device_id, sizeof(e->device_id), "%s", d.id);
	snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", d.tenant_id);
	wg_uuid(e->enrollment_id);
	memcpy(e->cert_serial, pc.serial, sizeof(pc.serial));
	memcpy(e->thumbprint, pc.thumbprint, sizeof(pc.thumbprint));
	snprintf(e->certificate, sizeof(e->certificate), "%s", pc.b64);
	tpm_public_name(&m.key.key, name);
	wg_hex(name, sizeof(name), e->key_name);
	e->created_ms = pc.created_ms;
	e->not_after_ms = pc.not_after_ms;
	if ((rc = mdm_commit(req, c, &m, &d, e)) != WG_OK)
		goto done;
	url = xasprintf("https://%s/mdm/v1/manage", host && wg_str_printable(
	    host) ? host : "localhost");
	http_resp_json(resp, 200, json_pack("{s:{s:s, s:s}, s:s, s:s, s:[s, "
	    "s]}", "Certificate", "RawBody", pc.b64, "Thumbprint",
	    pc.thumbprint, "EnrollmentId", e->enrollment_id, "ManagementUrl",
	    url, "CaChain", req->srv->cas.mdm.chain_b64[0],
	    req->srv->cas.mdm.chain_b64[1]));
done:
	free(url);
	free(pc.b64);
	json_decref(root);
	mdm_req_free(&m);
	free(e);
	return rc;
}

/* The enrollment, idempotent per device with an Idempotency-Key. */
static enum wg_err
mdm_enroll_idem(struct http_req *req, struct http_resp *resp)
{
	return idem_run(req, resp, "/mdm/v1/enroll", TOKEN_AUD_MDM,
	    mdm_enroll);
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_GET, "/mdm/v1/discovery", WG_SVC_MDM, HTTP_AUTH_NONE,
	    0, mdm_discovery),
	HTTP_ROUTE(HTTP_POST, "/mdm/v1/enroll", WG_SVC_MDM, HTTP_AUTH_NONE,
	    ENROLL_BODY_MAX, mdm_enroll_idem),
};

const struct http_routes mdm_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
