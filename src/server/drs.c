/*
 * The drs service: device registration, "Joining your organization's
 * network" (step 3 of the flow; the role of the device registration
 * service, MS-DVRD discovery and MS-DVRJ join).  The device shows its
 * device token (token.c), the TPM's certification of its device key (DK)
 * and transport key (TK) by the AIK the token is bound to, over a fresh
 * nonce, and a PKCS#10 request signed by the DK.  The answer is the
 * device certificate (the drs device CA; subject CN = the directory
 * device id); the directory object pre-created at import is enabled and
 * updated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "common/json.h"
#include "common/log.h"
#include "common/profile.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmpub.h"
#include "crypto/x509.h"
#include "server/admin_util.h"
#include "server/idem.h"
#include "server/server.h"
#include "server/tpmproof.h"

#define JOIN_BODY_MAX 65536
#define DRS_EVT_JOINED 306

/* What a join request carries, decoded. */
struct join_req {
	struct device_claims tok;
	unsigned char *csr_der;
	size_t csr_len;
	struct proof proof;
	struct proof_key dk, tk;
	const char *domain, *os, *name, *type;
};

static void
join_req_free(struct join_req *j)
{
	free(j->csr_der);
	proof_free(&j->proof);
	proof_key_free(&j->dk);
	proof_key_free(&j->tk);
}

/* GET /{tenant}/Discover: where a device joins, by the tenant's id or name. */
static enum wg_err
drs_discover(struct http_req *req, struct http_resp *resp)
{
	const char *host = http_header(req, "Host");
	struct wg_tenant t, *list = NULL;
	struct store_conn *c;
	char *base;
	size_t i, n = 0;
	enum wg_err rc;

	if (host == NULL || !wg_str_printable(host) || strpbrk(host, "/@ ") !=
	    NULL)
		return http_fail(req, WG_E_JSON_FIELD, "the request has no "
		    "usable Host header");
	if ((rc = http_db(req, &c)) != WG_OK)
		return rc;
	rc = store_tenant_get(c, req->params[0], &t);
	if (rc == WG_E_NOT_FOUND && (rc = store_tenant_list(c, &list, &n)) ==
	    WG_OK) {
		rc = WG_E_NOT_FOUND;
		for (i = 0; i < n && rc != WG_OK; i++)
			if (strcmp(list[i].name, req->params[0]) == 0) {
				t = list[i];
				rc = WG_OK;
			}
		free(list);
	}
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_NOT_FOUND, "no tenant '%.64s' on this "
		    "server", wg_str_printable(req->params[0]) ?
		    req->params[0] : "?");
	if (rc != WG_OK)
		return rc;
	base = xasprintf("https://%s", host);
	http_resp_json(resp, 200, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, "
	    "s:{s:{s:s, s:s}}, s:{s:s, s:s}}",
	    "TenantId", t.id, "TenantDomain", t.name,
	    "DeviceRegistrationService", "RegistrationEndpoint",
	    "/EnrollmentServer/device/", "RegistrationResourceId",
	    TOKEN_AUD_DRS, "ServiceVersion", "1.0",
	    "AuthenticationService", "OAuth2", "TokenEndpoint", "/token",
	    "NonceEndpoint", "/token",
	    "ServiceBase", "Url", base, "KeysEndpoint", "/token/keys"));
	free(base);
	return WG_OK;
}

/* The MS-DVRJ body, every field checked for shape. */
static enum wg_err
join_parse(struct http_req *req, json_t *root, struct join_req *j)
{
	static const char *const allowed[] = {"CertificateRequest",
	    "TransportKey", "TargetDomain", "DeviceType", "OSVersion",
	    "DeviceDisplayName", "JoinType", "AikCertificate",
	    "AttestationData", NULL};
	static const char *const keys[] = {"DeviceKey", "TransportKey",
	    NULL};
	const json_t *csr = json_object_get(root, "CertificateRequest");
	const json_t *att = json_object_get(root, "AttestationData");
	const json_t *type = json_object_get(root, "JoinType");
	const char *ct;
	char why[256];
	enum wg_err rc;

	if ((rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK)
		return rc;
	if (!json_is_object(csr) || wg_json_string(csr, "Type", 1, 16, &ct,
	    why, sizeof(why)) != WG_OK || strcmp(ct, "pkcs10") != 0)
		return http_fail(req, WG_E_JSON_FIELD, "CertificateRequest must "
		    "be {\"Type\": \"pkcs10\", \"Data\": base64 DER}");
	if (!json_is_integer(type) || json_integer_value(type) != 0)
		return http_fail(req, WG_E_JSON_FIELD, "JoinType must be 0 (a "
		    "device join)");
	if ((rc = proof_b64(req, csr, "CertificateRequest.", "Data", 8192,
	    &j->csr_der, &j->csr_len)) != WG_OK ||
	    (rc = proof_b64(req, root, "", "TransportKey", PROOF_TPM_MAX,
	    &j->tk.pub, &j->tk.pub_len)) != WG_OK ||
	    (rc = wg_json_string(root, "TargetDomain", 1, WG_TENANT_NAME_MAX,
	    &j->domain, req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_string(root, "DeviceType", 1, 32, &j->type,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_string(root, "OSVersion", 1, 63, &j->os, req->why,
	    sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_string(root, "DeviceDisplayName", 0,
	    WG_NAME_TEMPLATE_MAX, &j->name, req->why, sizeof(req->why))) !=
	    WG_OK)
		return rc;
	if ((rc = proof_parse(req, root, att, keys, &j->proof)) != WG_OK ||
	    (rc = proof_key_parse(req, att, "DeviceKey", 1, &j->dk)) != WG_OK)
		return rc;
	return proof_key_parse(req, att, "TransportKey", 0, &j->tk);
}

/* Both keys are the TPM's, certified by the token's AIK; the CSR the DK's. */
static enum wg_err
keys_check(struct http_req *req, struct store_conn *c, struct join_req *j)
{
	enum wg_err rc;

	if ((rc = proof_aik(req, c, j->tok.aik_name, &j->proof)) != WG_OK ||
	    (rc = proof_key_check(req, &j->proof, "the device key", &j->dk,
	    1)) != WG_OK ||
	    (rc = proof_key_check(req, &j->proof, "the transport key", &j->tk,
	    0)) != WG_OK)
		return rc;
	return proof_csr(req, j->csr_der, j->csr_len, &j->dk.key,
	    "the device key");
}

/* The device the token names, its directory object, its display name. */
static enum wg_err
join_device(struct http_req *req, struct store_conn *c, struct join_req *j,
    struct wg_device *d, struct wg_join *out)
{
	struct wg_profile prof;
	struct wg_tenant t;
	char why[256] = "";
	enum wg_err rc;
	int by_tag;

	if ((rc = store_tenant_get(c, j->tok.tenant_id, &t)) != WG_OK ||
	    (strcmp(j->domain, t.name) != 0 && strcmp(j->domain, t.id) != 0))
		return http_fail(req, WG_E_DSREG_NOT_AUTHORIZED, "the device "
		    "token is for another tenant than TargetDomain '%.64s'",
		    wg_str_printable(j->domain) ? j->domain : "?");
	rc = store_device_by_ztd(c, t.id, j->tok.ztd_id, d);
	if (rc == WG_OK && d->directory_device_id[0] == '\0')
		rc = WG_E_NOT_FOUND;
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND, "the "
		    "directory object of device %s was deleted", j->tok.ztd_id);
	if (rc != WG_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	/* the profile's template names the device, else the serial does */
	rc = store_profile_for(c, t.id, d->group_tag, &prof, &by_tag);
	if (rc == WG_OK && prof.name_template[0] != '\0')
		rc = wg_name_template_expand(prof.name_template, d->serial,
		    wg_random, out->display_name, why, sizeof(why));
	else if (rc == WG_OK || rc == WG_E_NOT_FOUND)
		rc = wg_name_template_expand("%SERIAL%", d->serial, wg_random,
		    out->display_name, why, sizeof(why));
	if (rc != WG_OK)
		return http_fail(req, rc, "the device's name: %s", why);
	return WG_OK;
}

/*
 * A key's TPM2B_PUBLIC as the directory object keeps it (base64): the
 * sign-in checks the DK's signature and wraps the session key to the TK.
 * proof_key_parse() bounds it by PROOF_TPM_MAX.
 */
static void
keep_public(const unsigned char *pub, size_t n,
    char out[WG_TPM_PUBLIC_B64_MAX + 1])
{
	char *b64 = wg_b64(pub, n);

	_Static_assert((PROOF_TPM_MAX + 2) / 3 * 4 <= WG_TPM_PUBLIC_B64_MAX,
	    "a TPM2B_PUBLIC's base64 must fit");
	snprintf(out, WG_TPM_PUBLIC_B64_MAX + 1, "%s", b64);
	free(b64);
}

/* The device certificate for the DK, and the join's record. */
static enum wg_err
join_issue(struct http_req *req, const struct join_req *j,
    const struct wg_device *d, struct wg_join *out)
{
	unsigned char md[32], name[34];
	struct proof_cert pc;
	enum wg_err rc;

	if ((rc = proof_issue(req, &req->srv->cas.drs, &j->dk.key,
	    d->directory_device_id, PROOF_DEVICE_CERT_DAYS, &pc)) != WG_OK)
		return rc;
	snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", d->tenant_id);
	snprintf(out->device_id, sizeof(out->device_id), "%s", d->id);
	snprintf(out->directory_device_id, sizeof(out->directory_device_id),
	    "%s", d->directory_device_id);
	snprintf(out->os_version, sizeof(out->os_version), "%s", j->os);
	snprintf(out->trust_type, sizeof(out->trust_type), "joined");
	tpm_public_sha256(&j->dk.key, md);
	wg_hex(md, sizeof(md), out->device_key_id);
	tpm_public_sha256(&j->tk.key, md);
	wg_hex(md, sizeof(md), out->transport_key_id);
	tpm_public_name(&j->dk.key, name);
	wg_hex(name, sizeof(name), out->dk_name);
	keep_public(j->dk.pub, j->dk.pub_len, out->dk_public);
	keep_public(j->tk.pub, j->tk.pub_len, out->tk_public);
	memcpy(out->cert_serial, pc.serial, sizeof(pc.serial));
	memcpy(out->thumbprint, pc.thumbprint, sizeof(pc.thumbprint));
	snprintf(out->certificate, sizeof(out->certificate), "%s", pc.b64);
	out->join_ms = pc.created_ms;
	out->not_after_ms = pc.not_after_ms;
	free(pc.b64);
	return WG_OK;
}

/* Takes the nonce and writes the join, in one transaction. */
static enum wg_err
join_commit(struct http_req *req, struct store_conn *c,
    const struct join_req *j, const struct wg_device *d,
    const struct wg_join *w)
{
	char msg[160];
	enum wg_err rc;

	snprintf(msg, sizeof(msg), "device joined as %s (certificate %s)",
	    w->display_name, w->thumbprint);
	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	rc = proof_nonce_take(req, c, &j->proof);
	if (rc == WG_OK && (rc = store_join_record(c, w)) == WG_E_NOT_FOUND) {
		store_rollback(c);
		return http_fail(req, WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND, "the "
		    "directory object of device %s was deleted", d->ztd_id);
	}
	if (rc == WG_OK && (rc = admin_device_audit(req, c, d, "registration",
	    DRS_EVT_JOINED, WG_PHASE_JOINING, WG_OK, NULL, "directoryDeviceId",
	    w->directory_device_id, msg)) == WG_OK)
		return store_commit(c);
	store_rollback(c);
	return rc;
}

/* POST /EnrollmentServer/device/: the join (MS-DVRJ field names). */
static enum wg_err
drs_join(struct http_req *req, struct http_resp *resp)
{
	const struct attest_cas *cas = &req->srv->cas;
	struct join_req j;
	struct wg_device d;
	struct wg_join *w = xcalloc(1, sizeof(*w));
	struct store_conn *c;
	json_t *root = NULL;
	enum wg_err rc;

	memset(&j, 0, sizeof(j));
	if ((rc = token_device_check(req, TOKEN_AUD_DRS, &j.tok)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = join_parse(req, root, &j)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK ||
	    (rc = keys_check(req, c, &j)) != WG_OK ||
	    (rc = join_device(req, c, &j, &d, w)) != WG_OK ||
	    (rc = join_issue(req, &j, &d, w)) != WG_OK)
		goto done;
	if ((rc = join_commit(req, c, &j, &d, w)) == WG_OK)
		http_resp_json(resp, 200, json_pack("{s:{s:s, s:s}, s:s, s:s, "
		    "s:[s, s]}", "Certificate", "RawBody", w->certificate,
		    "Thumbprint", w->thumbprint, "DeviceId",
		    w->directory_device_id, "DisplayName", w->display_name,
		    "CaChain", cas->drs.chain_b64[0], cas->drs.chain_b64[1]));
done:
	json_decref(root);
	join_req_free(&j);
	free(w);
	return rc;
}

/* The join, idempotent per device with an Idempotency-Key (idem.c). */
static enum wg_err
drs_join_idem(struct http_req *req, struct http_resp *resp)
{
	return idem_run(req, resp, "/EnrollmentServer/device/", TOKEN_AUD_DRS,
	    drs_join);
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_POST, "/EnrollmentServer/device/", WG_SVC_DRS,
	    HTTP_AUTH_NONE, JOIN_BODY_MAX, drs_join_idem),
	HTTP_ROUTE(HTTP_POST, "/EnrollmentServer/device", WG_SVC_DRS,
	    HTTP_AUTH_NONE, JOIN_BODY_MAX, drs_join_idem),
	HTTP_ROUTE(HTTP_GET, "/{tenant}/Discover", WG_SVC_DRS, HTTP_AUTH_NONE,
	    0, drs_discover),
};

const struct http_routes drs_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
