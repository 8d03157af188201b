/*
 * The aik service: the attestation CA (the role of Microsoft's AIK CA in
 * the Autopilot flow).  SCEP's discovery operations (RFC 8894, 3.5.1
 * GetCACert and 3.5.2 GetCACaps) let standard tooling find it; the
 * enrollment itself is JSON: the device sends its EK (with the
 * manufacturer's certificate, if it has one) and its AIK, and gets the
 * AIK certificate sealed under a secret that only the TPM holding both
 * keys can open (TPM2_MakeCredential / TPM2_ActivateCredential).
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
#include "crypto/aesgcm.h"
#include "crypto/tpmcert.h"
#include "crypto/tpmpub.h"
#include "crypto/x509.h"
#include "server/admin_util.h"
#include "server/server.h"

#define AIK_BODY_MAX 16384

/* What an enrollment request carries, parsed. */
struct enroll {
	unsigned char *ek_raw, *aik_raw, *ek_cert;
	size_t ek_raw_len, aik_raw_len, ek_cert_len;
	struct tpm_public ek, aik;
	unsigned char aik_name[34]; /* what MakeCredential binds to */
	char ek_id[WG_EK_ID_LEN + 1];
	char serial[WG_SERIAL_MAX + 1];
	enum tpmcert_assurance assurance;
};

static void
enroll_free(struct enroll *e)
{
	free(e->ek_raw);
	free(e->aik_raw);
	free(e->ek_cert);
}

/* GET /aik/scep?operation=GetCACaps|GetCACert */
static enum wg_err
aik_scep(struct http_req *req, struct http_resp *resp)
{
	const struct attest_cas *cas = &req->srv->cas;
	const char *op = http_query(req, "operation");
	unsigned char *p7;
	size_t n;

	if (op == NULL)
		return http_fail(req, WG_E_JSON_FIELD, "query parameter "
		    "'operation' is missing (GetCACaps or GetCACert; RFC "
		    "8894 3.5)");
	if (strcmp(op, "GetCACaps") == 0) {
		/* enrollment is POST /aik/enroll, not PKIOperation */
		resp->status = 200;
		resp->text = xstrdup("AES\nSHA-256\n");
		resp->content_type = "text/plain";
		return WG_OK;
	}
	if (strcmp(op, "GetCACert") != 0)
		return http_fail(req, WG_E_JSON_FIELD, "operation '%.32s' is "
		    "not offered (GetCACaps, GetCACert)", wg_str_printable(op) ?
		    op : "(not printable)");
	/* a CA with an intermediate answers with the chain (RFC 8894 4.2.1) */
	p7 = xmalloc(cas->aik_p7_len);
	memcpy(p7, cas->aik_p7, cas->aik_p7_len);
	n = cas->aik_p7_len;
	resp->status = 200;
	resp->text = (char *)p7;
	resp->text_len = n;
	resp->content_type = "application/x-x509-ca-ra-cert";
	return WG_OK;
}

static enum wg_err
enroll_parse(struct http_req *req, struct enroll *e)
{
	static const char *const allowed[] = {"ekPublic", "ekCertificate",
	    "aikPublic", "serialNumber", NULL};
	const char *serial;
	json_t *root = NULL;
	enum wg_err rc;

	if ((rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = admin_tpm_public(req, root, "ekPublic", 1, &e->ek_raw,
	    &e->ek_raw_len, &e->ek)) != WG_OK ||
	    (rc = admin_aik_public(req, root, "aikPublic", &e->aik_raw,
	    &e->aik_raw_len, &e->aik)) != WG_OK ||
	    (rc = admin_b64_field(req, root, "ekCertificate", 0,
	    TPMCERT_DER_MAX, &e->ek_cert, &e->ek_cert_len)) != WG_OK ||
	    (rc = wg_json_string(root, "serialNumber", 1, WG_SERIAL_MAX,
	    &serial, req->why, sizeof(req->why))) != WG_OK)
		goto done;
	snprintf(e->serial, sizeof(e->serial), "%s", serial);
	tpm_public_ek_lookup_id(&e->ek, e->ek_id);
	tpm_public_name(&e->aik, e->aik_name);
done:
	json_decref(root);
	return rc;
}

/*
 * The CA's refusal of a registered device's TPM in that device's
 * timeline (event 1041, channel tpm); nothing for an EK no device has.
 */
static void
enroll_refused_audit(struct http_req *req, struct store_conn *c,
    const struct enroll *e, enum wg_err err, const char *msg)
{
	unsigned char md[32], *hash = NULL;
	struct wg_device d;
	char hex[65];
	size_t n = 0;

	tpm_public_sha256(&e->ek, md);
	wg_hex(md, sizeof(md), hex);
	if (store_device_by_ek(c, hex, &d, &hash, &n) == WG_OK)
		admin_device_refusal(req, c, &d, "tpm", ADMIN_EVT_AIK_REFUSED,
		    WG_PHASE_SECURING_HARDWARE, err, "ekId", e->ek_id, msg);
	free(hash);
}

/*
 * Why the CA trusts this EK: its certificate chains to a manufacturer
 * root (.31); or, with no certificate or one whose chain is unknown, the
 * EK is in an imported hardware hash (.30).  A certificate that is not
 * this EK's, or not an EK certificate, is refused outright.
 */
static enum wg_err
enroll_trust(struct http_req *req, struct store_conn *c, struct enroll *e)
{
	const struct attest_cas *cas = &req->srv->cas;
	unsigned char digest[32];
	char hex[65], reason[WG_REASON_MAX + 1], why[256] = "";
	struct tpmcert_tpm tpm;
	enum wg_err rc, cert_rc = WG_E_EK_UNKNOWN;
	int64_t revoked = 0;
	int found = 0;

	if ((rc = store_ek_revoked(c, e->ek_id, &revoked, reason)) != WG_OK)
		return rc;
	if (revoked != 0) {
		char msg[WG_REASON_MAX + 128];

		snprintf(msg, sizeof(msg), "this TPM's EK %s was revoked: %s",
		    e->ek_id, reason);
		enroll_refused_audit(req, c, e, WG_E_TPM_VULNERABLE, msg);
		return http_fail(req, WG_E_TPM_VULNERABLE, "%s", msg);
	}
	if (e->ek_cert != NULL) {
		cert_rc = tpmcert_verify_ek(e->ek_cert, e->ek_cert_len, &e->ek,
		    cas->ek_roots, NULL, &tpm, why, sizeof(why));
		if (cert_rc == WG_OK) {
			e->assurance = TPMCERT_EK_CERT;
			return WG_OK;
		}
		if (cert_rc != WG_E_EK_CERT_UNTRUSTED)
			return http_fail(req, cert_rc, "ekCertificate: %s",
			    why);
	}
	tpm_public_sha256(&e->ek, digest);
	wg_hex(digest, sizeof(digest), hex);
	if ((rc = store_ek_on_list(c, hex, &found)) != WG_OK)
		return rc;
	if (found) {
		e->assurance = TPMCERT_EK_ON_LIST;
		return WG_OK;
	}
	if (cert_rc == WG_E_EK_CERT_UNTRUSTED)
		return http_fail(req, cert_rc, "ekCertificate: %s; and the EK "
		    "is in no imported hardware hash", why);
	return http_fail(req, WG_E_EK_UNKNOWN, "no valid TPM EK certificate, "
	    "and the EK (SHA-256 %s) is in no imported hardware hash", hex);
}

/* The AIK certificate for e, DER into *der (OPENSSL_free) and *rec. */
static enum wg_err
enroll_issue(struct http_req *req, const struct enroll *e,
    unsigned char **der, size_t *len, struct wg_aik_cert *rec)
{
	const struct attest_cas *cas = &req->srv->cas;
	unsigned char digest[32];
	char *b64;
	X509 *cert;
	int n;

	*der = NULL;
	if ((cert = tpmcert_issue_aik(cas->aik_key, cas->aik_cert, &e->aik,
	    &e->ek, e->assurance, (int)req->srv->cfg->aik_days)) == NULL ||
	    (n = i2d_X509(cert, der)) <= 0 ||
	    (size_t)n > WG_CERT_B64_MAX / 4 * 3) {
		X509_free(cert);
		OPENSSL_free(*der);
		*der = NULL;
		return http_fail(req, WG_E_CRYPTO, "the AIK certificate could "
		    "not be issued");
	}
	*len = (size_t)n;
	memset(rec, 0, sizeof(*rec));
	x509_serial_hex(cert, rec->cert_serial, sizeof(rec->cert_serial));
	wg_hex(e->aik_name, sizeof(e->aik_name), rec->aik_name);
	snprintf(rec->ek_id, sizeof(rec->ek_id), "%s", e->ek_id);
	tpm_public_sha256(&e->ek, digest);
	wg_hex(digest, sizeof(digest), rec->ek_sha256);
	b64 = wg_b64(e->aik_raw, e->aik_raw_len);
	snprintf(rec->aik_public, sizeof(rec->aik_public), "%s", b64);
	free(b64);
	snprintf(rec->assurance, sizeof(rec->assurance), "%s",
	    e->assurance == TPMCERT_EK_CERT ? "ek-certificate" : "ek-on-list");
	snprintf(rec->serial_number, sizeof(rec->serial_number), "%s",
	    e->serial);
	b64 = wg_b64(*der, *len);
	snprintf(rec->certificate, sizeof(rec->certificate), "%s", b64);
	free(b64);
	rec->created_ms = wg_now_ms();
	rec->not_after_ms = rec->created_ms + (int64_t)req->srv->cfg->aik_days *
	    86400 * 1000;
	X509_free(cert);
	return WG_OK;
}

/* The response: credential, encrypted certificate, CA chain. */
static enum wg_err
enroll_answer(struct http_req *req, const struct enroll *e,
    const unsigned char *der, size_t len, json_t **out)
{
	const struct attest_cas *cas = &req->srv->cas;
	struct aesgcm_for_tpm sealed;
	char why[256] = "";
	enum wg_err rc;

	*out = NULL;
	if ((rc = aesgcm_seal_for_tpm(&e->ek, e->aik_name,
	    sizeof(e->aik_name), der, len, &sealed, why, sizeof(why))) !=
	    WG_OK)
		return http_fail(req, rc, "the credential could not be made%s%s",
		    why[0] ? ": " : "", why);
	*out = json_pack("{s:s, s:s, s:s, s:[s, s]}", "credentialBlob",
	    sealed.blob, "encryptedSecret", sealed.secret,
	    "encryptedCertificate", sealed.sealed, "caChain",
	    cas->aik_chain_b64[0], cas->aik_chain_b64[1]);
	aesgcm_for_tpm_free(&sealed);
	return WG_OK;
}

/* POST /aik/enroll {"ekPublic", "ekCertificate"?, "aikPublic", "serialNumber"} */
static enum wg_err
aik_enroll(struct http_req *req, struct http_resp *resp)
{
	struct enroll e;
	struct wg_aik_cert *rec = xcalloc(1, sizeof(*rec));
	char reason[WG_REASON_MAX + 1];
	unsigned char *der = NULL;
	struct store_conn *c;
	json_t *body = NULL;
	int64_t revoked = 0;
	enum wg_err rc;
	size_t len = 0;

	memset(&e, 0, sizeof(e));
	if ((rc = enroll_parse(req, &e)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK ||
	    (rc = enroll_trust(req, c, &e)) != WG_OK ||
	    (rc = enroll_issue(req, &e, &der, &len, rec)) != WG_OK ||
	    (rc = enroll_answer(req, &e, der, len, &body)) != WG_OK)
		goto done;
	if ((rc = store_begin(c)) != WG_OK)
		goto done;
	/* a revocation committed while the certificate was made wins */
	if ((rc = store_ek_revoked(c, e.ek_id, &revoked, reason)) == WG_OK &&
	    revoked != 0)
		rc = http_fail(req, WG_E_TPM_VULNERABLE, "this TPM's EK %s was "
		    "revoked: %s", e.ek_id, reason);
	if (rc == WG_OK && (rc = store_aik_cert_put(c, rec)) == WG_OK &&
	    (rc = admin_audit(req, c, NULL, ADMIN_EVT_AIK_ISSUED, "AIK",
	    rec->aik_name, "assurance", rec->assurance)) == WG_OK)
		rc = store_commit(c);
	else
		store_rollback(c);
	if (rc == WG_OK) {
		http_resp_json(resp, 200, body);
		body = NULL;
	}
done:
	json_decref(body);
	OPENSSL_free(der);
	enroll_free(&e);
	free(rec);
	return rc;
}

static const struct http_route routes[] = {
	HTTP_ROUTE(HTTP_GET, "/aik/scep", WG_SVC_AIK, HTTP_AUTH_NONE, 0,
	    aik_scep),
	HTTP_ROUTE(HTTP_POST, "/aik/enroll", WG_SVC_AIK, HTTP_AUTH_NONE,
	    AIK_BODY_MAX, aik_enroll),
};

const struct http_routes aik_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
