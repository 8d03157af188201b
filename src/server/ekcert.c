/*
 * The ekcert service: the TPM manufacturer's online EK certificate
 * service (the role of Intel's ekop and AMD's ftpm services for firmware
 * TPMs, whose EK certificates are not in NV).  The factory registers an
 * EK and gets its certificate; a device fetches it by Intel's lookup key
 * (GET /ekcertservice/<base64url(SHA-256(modulus || exponent))>, so the
 * stock tpm2_getekcertificate works); the operator lists and revokes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmcert.h"
#include "crypto/tpmpub.h"
#include "crypto/x509.h"
#include "server/admin_util.h"
#include "server/server.h"

#define EKCERT_BODY_MAX 8192
#define EKCERT_DAYS (20 * 365) /* as long as the TPM lives */
#define EKCERT_PAGE_MAX 500

/*
 * The {id} of a lookup: 43 base64url characters, with the '=' pad
 * tpm2_getekcertificate keeps (sent as %3D) or without it.
 */
static enum wg_err
ek_id_param(struct http_req *req, char id[WG_EK_ID_LEN + 1])
{
	const char *p = req->params[0];
	size_t n = strlen(p), i;

	if (n == WG_EK_ID_LEN + 1 && p[WG_EK_ID_LEN] == '=')
		n--;
	else if (n == WG_EK_ID_LEN + 3 && strcmp(p + WG_EK_ID_LEN, "%3D") == 0)
		n = WG_EK_ID_LEN;
	for (i = 0; i < n && n == WG_EK_ID_LEN; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' &&
		    p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '-' || p[i] == '_'))
			break;
	if (n != WG_EK_ID_LEN || i != n)
		return http_fail(req, WG_E_NOT_FOUND, "not an EK lookup key: "
		    "expected the base64url SHA-256 of the EK public key "
		    "(43 characters)");
	memcpy(id, p, WG_EK_ID_LEN);
	id[WG_EK_ID_LEN] = '\0';
	return WG_OK;
}

/*
 * Standard base64 (the stored form) as Intel's service writes it:
 * base64url with the '=' pad, in place.
 */
static void
b64_to_url(char *s)
{
	for (; *s != '\0'; s++)
		*s = *s == '+' ? '-' : *s == '/' ? '_' : *s;
}

/* GET /ekcertservice/{id}: {"pubhash", "certificate"} like Intel's. */
static enum wg_err
ekcert_get(struct http_req *req, struct http_resp *resp)
{
	struct wg_ekcert *e = xcalloc(1, sizeof(*e));
	char id[WG_EK_ID_LEN + 1];
	struct store_conn *c;
	enum wg_err rc;

	if ((rc = ek_id_param(req, id)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK)
		goto done;
	rc = store_ekcert_get(c, id, e);
	if (rc == WG_E_NOT_FOUND || (rc == WG_OK && e->revoked_ms != 0)) {
		rc = http_fail(req, WG_E_EK_CERT_MISSING, "%s", rc == WG_OK ?
		    "this EK was revoked; its certificate is no longer served" :
		    "no EK certificate for this EK: the factory did not "
		    "register it");
		goto done;
	}
	if (rc != WG_OK)
		goto done;
	b64_to_url(e->certificate); /* the padding stays */
	http_resp_json(resp, 200, json_pack("{s:s+, s:s}", "pubhash", id,
	    "=", "certificate", e->certificate));
done:
	free(e);
	return rc;
}

/* The TPM attributes of a register request (TCG EK profile 3.2.9). */
static enum wg_err
tpm_attrs(struct http_req *req, const json_t *root, struct tpmcert_tpm *t)
{
	static const char *const names[] = {"manufacturer", "model",
	    "version"};
	char *dst[] = {t->manufacturer, t->model, t->version};
	const char *v;
	enum wg_err rc;
	size_t i;

	for (i = 0; i < 3; i++) {
		if ((rc = wg_json_string(root, names[i], 1, TPMCERT_ATTR_MAX,
		    &v, req->why, sizeof(req->why))) != WG_OK)
			return rc;
		snprintf(dst[i], TPMCERT_ATTR_MAX + 1, "%s", v);
	}
	return WG_OK;
}

/* A new EK certificate record for ek from the service's CA. */
static enum wg_err
ekcert_issue(struct http_req *req, const struct tpm_public *ek,
    const unsigned char *raw, size_t rawlen, const struct tpmcert_tpm *t,
    struct wg_ekcert *e)
{
	const struct attest_cas *cas = &req->srv->cas;
	unsigned char digest[32], *der = NULL;
	char *b64;
	X509 *cert;
	int n;

	if ((cert = tpmcert_issue_ek(cas->ekcert_key, cas->ekcert_cert, ek,
	    t, EKCERT_DAYS)) == NULL || (n = i2d_X509(cert, &der)) <= 0 ||
	    (size_t)n > WG_CERT_B64_MAX / 4 * 3) {
		X509_free(cert);
		OPENSSL_free(der);
		return http_fail(req, WG_E_CRYPTO, "the EK certificate could "
		    "not be issued");
	}
	tpm_public_ek_lookup_id(ek, e->ek_id);
	snprintf(e->ek_alg, sizeof(e->ek_alg), "%s", ek->type == TPM_ALG_RSA ?
	    "rsa" : "ecc");
	tpm_public_sha256(ek, digest);
	wg_hex(digest, sizeof(digest), e->ek_sha256);
	b64 = wg_b64(raw, rawlen);
	snprintf(e->ek_public, sizeof(e->ek_public), "%s", b64);
	free(b64);
	b64 = wg_b64(der, (size_t)n);
	snprintf(e->certificate, sizeof(e->certificate), "%s", b64);
	free(b64);
	x509_serial_hex(cert, e->cert_serial, sizeof(e->cert_serial));
	snprintf(e->manufacturer, sizeof(e->manufacturer), "%s",
	    t->manufacturer);
	snprintf(e->model, sizeof(e->model), "%s", t->model);
	snprintf(e->version, sizeof(e->version), "%s", t->version);
	X509_free(cert);
	OPENSSL_free(der);
	return WG_OK;
}

static json_t *
ekcert_json(const struct wg_ekcert *e)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s?}",
	    "ekId", e->ek_id, "ekAlgorithm", e->ek_alg, "ekSha256",
	    e->ek_sha256, "manufacturer", e->manufacturer, "model", e->model,
	    "version", e->version, "certificate", e->certificate, "createdAt",
	    admin_json_time(e->created_ms), "revokedAt",
	    admin_json_time(e->revoked_ms), "revocationReason",
	    e->revoked_ms ? e->reason : NULL);
}

/*
 * The certificate the EK has already (*found 1), or a refusal if it is
 * revoked: checked before a new one is signed.
 */
static enum wg_err
ekcert_existing(struct http_req *req, struct store_conn *c, const char *id,
    struct wg_ekcert *e, int *found)
{
	char reason[WG_REASON_MAX + 1];
	int64_t when = 0;
	enum wg_err rc;

	*found = 0;
	if ((rc = store_ek_revoked(c, id, &when, reason)) != WG_OK)
		return rc;
	if (when != 0)
		return http_fail(req, WG_E_CONFLICT, "this EK was revoked (%s); "
		    "it gets no certificate", reason);
	rc = store_ekcert_get(c, id, e);
	if (rc == WG_E_NOT_FOUND)
		return WG_OK;
	*found = rc == WG_OK;
	return rc;
}

/*
 * POST /ekcertservice/register {"ekPublic", "manufacturer", "model",
 * "version"} (operator): 201 with the new certificate, 200 with the one
 * the EK has already; a revoked EK is refused.
 */
static enum wg_err
ekcert_register(struct http_req *req, struct http_resp *resp)
{
	static const char *const allowed[] = {"ekPublic", "manufacturer",
	    "model", "version", NULL};
	struct wg_ekcert *e = xcalloc(1, sizeof(*e));
	struct tpm_public ek;
	struct tpmcert_tpm t;
	unsigned char *raw = NULL;
	struct store_conn *c;
	json_t *root = NULL;
	char id[WG_EK_ID_LEN + 1];
	enum wg_err rc;
	size_t len = 0;
	int found = 0;

	if ((rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = admin_tpm_public(req, root, "ekPublic", 1, &raw, &len, &ek)) !=
	    WG_OK || (rc = tpm_attrs(req, root, &t)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK)
		goto done;
	tpm_public_ek_lookup_id(&ek, id);
	if ((rc = ekcert_existing(req, c, id, e, &found)) != WG_OK || found ||
	    (rc = ekcert_issue(req, &ek, raw, len, &t, e)) != WG_OK ||
	    (rc = store_begin(c)) != WG_OK)
		goto done;
	rc = store_ekcert_put(c, e);
	if (rc == WG_E_CONFLICT) /* registered meanwhile: that one stands */
		rc = ekcert_existing(req, c, id, e, &found);
	else if (rc == WG_OK)
		rc = admin_audit(req, c, NULL, ADMIN_EVT_EKCERT_REGISTERED,
		    "EK", e->ek_id, "model", e->model);
	if (rc == WG_OK)
		rc = store_commit(c);
	else
		store_rollback(c);
done:
	if (rc == WG_OK)
		http_resp_json(resp, found ? 200 : 201, ekcert_json(e));
	json_decref(root);
	free(raw);
	free(e);
	return rc;
}

/* GET /admin/v1/ekcerts?after=ID&limit=N (operator). */
static enum wg_err
ekcert_list(struct http_req *req, struct http_resp *resp)
{
	const char *after = http_query(req, "after");
	struct wg_ekcert *list = NULL;
	struct store_conn *c;
	long long limit;
	enum wg_err rc;
	json_t *arr;
	size_t i, n = 0;

	if ((rc = admin_query_int(req, "limit", 1, EKCERT_PAGE_MAX, 100,
	    &limit)) != WG_OK || (rc = http_db(req, &c)) != WG_OK ||
	    (rc = store_ekcert_list(c, after ? after : "", (size_t)limit,
	    &list, &n)) != WG_OK)
		return rc;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, ekcert_json(&list[i]));
	http_resp_json(resp, 200, json_pack("{s:o, s:s?}", "value", arr,
	    "next", n == (size_t)limit ? list[n - 1].ek_id : NULL));
	free(list);
	return WG_OK;
}

/*
 * POST /admin/v1/ekcerts/{id}/revoke {"reason"} (operator): any EK by
 * its lookup key, certified here or not.
 */
static enum wg_err
ekcert_revoke(struct http_req *req, struct http_resp *resp)
{
	static const char *const allowed[] = {"reason", NULL};
	char id[WG_EK_ID_LEN + 1], reason[WG_REASON_MAX + 1];
	const char *why = NULL;
	struct store_conn *c;
	json_t *root = NULL;
	int64_t when = 0;
	enum wg_err rc;

	if ((rc = ek_id_param(req, id)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = wg_json_string(root, "reason", 1, WG_REASON_MAX, &why,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK || (rc = store_begin(c)) != WG_OK)
		goto done;
	if ((rc = store_ek_revoke(c, id, why)) == WG_OK &&
	    (rc = store_ek_revoked(c, id, &when, reason)) == WG_OK &&
	    (rc = admin_audit(req, c, NULL, ADMIN_EVT_EK_REVOKED, "EK", id,
	    "reason", why)) == WG_OK)
		rc = store_commit(c);
	else
		store_rollback(c);
	if (rc == WG_OK)
		http_resp_json(resp, 200, json_pack("{s:s, s:o, s:s}", "ekId",
		    id, "revokedAt", admin_json_time(when), "reason",
		    reason));
done:
	json_decref(root);
	return rc;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_GET, "/ekcertservice/{id}", WG_SVC_EKCERT,
	    HTTP_AUTH_NONE, 0, ekcert_get),
	HTTP_ROUTE(HTTP_POST, "/ekcertservice/register", WG_SVC_EKCERT,
	    HTTP_AUTH_OPERATOR, EKCERT_BODY_MAX, ekcert_register),
	HTTP_ROUTE(HTTP_GET, "/admin/v1/ekcerts", WG_SVC_EKCERT,
	    HTTP_AUTH_OPERATOR, 0, ekcert_list),
	HTTP_ROUTE(HTTP_POST, "/admin/v1/ekcerts/{id}/revoke", WG_SVC_EKCERT,
	    HTTP_AUTH_OPERATOR, 1024, ekcert_revoke),
};

const struct http_routes ekcert_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
