/*
 * Keys a device's TPM made and its AIK certified (tpmproof.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "common/json.h"
#include "common/util.h"
#include "crypto/tpmcert.h"
#include "crypto/x509.h"
#include "server/server.h"
#include "server/tpmproof.h"

void
proof_key_free(struct proof_key *k)
{
	free(k->pub);
	free(k->info);
	free(k->sig);
}

void
proof_free(struct proof *p)
{
	free(p->aik_cert);
	free(p->nonce);
}

enum wg_err
proof_b64(struct http_req *req, const json_t *o, const char *path,
    const char *name, size_t max, unsigned char **out, size_t *len)
{
	const char *s;

	*out = NULL;
	*len = 0;
	if (wg_json_string(o, name, 1, (max + 2) / 3 * 4 + 2, &s, req->why,
	    sizeof(req->why)) != WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "%s%s: missing, not a "
		    "string, or over %zu bytes", path, name, max);
	if (wg_b64_decode_text(s, out, len) != 0 || *len == 0 || *len > max) {
		free(*out);
		*out = NULL;
		return http_fail(req, WG_E_JSON_FIELD, "%s%s is not base64 of 1 "
		    "to %zu bytes", path, name, max);
	}
	return WG_OK;
}

enum wg_err
proof_parse(struct http_req *req, const json_t *root, const json_t *att,
    const char *const *keys, struct proof *p)
{
	const char *allowed[8] = {"Nonce"}, *nonce;
	unsigned char md[32];
	char why[256];
	size_t i;

	for (i = 0; keys[i] != NULL && i + 2 < 8; i++)
		allowed[i + 1] = keys[i];
	allowed[i + 1] = NULL;
	if (!json_is_object(att) || wg_json_only(att, allowed, why,
	    sizeof(why)) != WG_OK ||
	    wg_json_string(att, "Nonce", 1, 64, &nonce, why, sizeof(why)) !=
	    WG_OK || wg_b64url_decode(nonce, &p->nonce, &p->nonce_len) != 0 ||
	    p->nonce_len == 0 || p->nonce_len > TPM_ATTEST_DATA_MAX)
		return http_fail(req, WG_E_JSON_FIELD, "AttestationData must "
		    "be an object of Nonce (base64url) and the certified keys");
	wg_sha256(p->nonce, p->nonce_len, md);
	wg_hex(md, sizeof(md), p->nonce_hex);
	return proof_b64(req, root, "", "AikCertificate",
	    WG_CERT_B64_MAX / 4 * 3, &p->aik_cert, &p->aik_cert_len);
}

enum wg_err
proof_key_parse(struct http_req *req, const json_t *att, const char *name,
    int with_public, struct proof_key *k)
{
	static const char *const allowed[] = {"Public", "CertifyInfo",
	    "Signature", NULL};
	const json_t *o = json_object_get(att, name);
	char path[64], why[256];
	enum wg_err rc;

	snprintf(path, sizeof(path), "AttestationData.%s.", name);
	if (!json_is_object(o) || wg_json_only(o, allowed, why, sizeof(why)) !=
	    WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "AttestationData.%s is "
		    "not an object of Public, CertifyInfo and Signature", name);
	if ((with_public && (rc = proof_b64(req, o, path, "Public",
	    PROOF_TPM_MAX, &k->pub, &k->pub_len)) != WG_OK) ||
	    (rc = proof_b64(req, o, path, "CertifyInfo", PROOF_TPM_MAX,
	    &k->info, &k->info_len)) != WG_OK ||
	    (rc = proof_b64(req, o, path, "Signature", PROOF_TPM_MAX, &k->sig,
	    &k->sig_len)) != WG_OK)
		return rc;
	if (tpm_attest_parse(k->info, k->info_len, &k->att, why,
	    sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "%sCertifyInfo: "
		    "%s", path, why);
	return WG_OK;
}

enum wg_err
proof_aik(struct http_req *req, struct store_conn *c, const char *aik_name,
    struct proof *p)
{
	struct wg_aik_cert rec;
	unsigned char *raw = NULL;
	char *b64 = wg_b64(p->aik_cert, p->aik_cert_len), why[256] = "";
	enum wg_err rc;
	size_t n = 0;

	rc = store_aik_cert_find(c, aik_name, b64, &rec);
	free(b64);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "AikCertificate "
		    "is not the certificate of the AIK the request is bound "
		    "to (the device token's; for a sign-in, the reseal's)");
	if (rc != WG_OK)
		return rc;
	if (rec.aik_public[0] == '\0' ||
	    wg_b64_decode_text(rec.aik_public, &raw, &n) != 0 ||
	    tpm_public_parse(raw, n, &p->aik, why, sizeof(why)) != WG_OK)
		rc = http_fail(req, WG_E_ATTESTATION_INVALID, "the AIK "
		    "certificate predates this check; run \"Securing your "
		    "hardware\" again");
	free(raw);
	return rc;
}

/* The attributes of a key made in the TPM, sign or decrypt only. */
static enum wg_err
key_kind(struct http_req *req, const char *what, const struct tpm_public *k,
    int sign)
{
	uint32_t need = TPMA_FIXEDTPM | TPMA_FIXEDPARENT |
	    TPMA_SENSITIVEDATAORIGIN | (sign ? TPMA_SIGN : TPMA_DECRYPT);
	uint32_t never = TPMA_RESTRICTED | (sign ? TPMA_DECRYPT : TPMA_SIGN);
	char have[256];

	tpm_public_attributes_str(k->attributes, have, sizeof(have));
	if ((k->attributes & need) != need || (k->attributes & never) != 0 ||
	    k->type != TPM_ALG_RSA)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "%s: an RSA "
		    "key with objectAttributes %s; it must be made in the TPM "
		    "(fixedTPM, fixedParent, sensitiveDataOrigin), %s, not "
		    "restricted", what, have, sign ? "sign only" :
		    "decrypt only");
	return WG_OK;
}

enum wg_err
proof_key_check(struct http_req *req, const struct proof *p,
    const char *what, struct proof_key *k, int sign)
{
	unsigned char name[34];
	char why[256] = "";
	enum wg_err rc;

	if (tpm_public_parse(k->pub, k->pub_len, &k->key, why, sizeof(why)) !=
	    WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "%s: %s", what, why);
	if ((rc = key_kind(req, what, &k->key, sign)) != WG_OK)
		return rc;
	tpm_public_name(&k->key, name);
	if (k->att.type != TPM_ST_ATTEST_CERTIFY)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "%s: a "
		    "TPM2_Certify is needed, not type 0x%04x", what,
		    k->att.type);
	if (k->att.name_len != sizeof(name) ||
	    memcmp(k->att.name, name, sizeof(name)) != 0)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "%s: the "
		    "certified object is not the key sent", what);
	if (k->att.extra_len != p->nonce_len || CRYPTO_memcmp(k->att.extra,
	    p->nonce, p->nonce_len) != 0)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "%s: its "
		    "certification's qualifying data is not the nonce sent",
		    what);
	rc = tpm_attest_verify(&p->aik, k->info, k->info_len, k->sig,
	    k->sig_len, why, sizeof(why));
	if (rc == WG_E_JSON_FIELD)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "%s: its "
		    "certification: %s (it must be signed by the AIK the "
		    "device token is bound to)", what, why);
	return rc;
}

enum wg_err
proof_csr(struct http_req *req, const unsigned char *der, size_t len,
    const struct tpm_public *key, const char *what)
{
	const unsigned char *p = der;
	X509_REQ *csr = d2i_X509_REQ(NULL, &p, (long)len);
	EVP_PKEY *got = csr ? X509_REQ_get0_pubkey(csr) : NULL;
	EVP_PKEY *want = tpm_public_to_pkey(key);
	enum wg_err rc = WG_OK;

	if (csr == NULL || p != der + len)
		rc = http_fail(req, WG_E_JSON_FIELD, "CertificateRequest.Data "
		    "is not one DER PKCS#10 request");
	else if (got == NULL || X509_REQ_verify(csr, got) != 1)
		rc = http_fail(req, WG_E_ATTESTATION_INVALID, "the certificate "
		    "request's signature does not verify");
	else if (want == NULL || EVP_PKEY_eq(got, want) != 1)
		rc = http_fail(req, WG_E_ATTESTATION_INVALID, "the certificate "
		    "request's key is not %s the TPM certified", what);
	ERR_clear_error();
	X509_REQ_free(csr);
	EVP_PKEY_free(want);
	return rc;
}

enum wg_err
proof_issue(struct http_req *req, const struct service_ca *ca,
    const struct tpm_public *key, const char *cn, int days,
    struct proof_cert *out)
{
	unsigned char sha1[SHA_DIGEST_LENGTH], *der = NULL;
	X509 *cert;
	size_t i;
	int n;

	memset(out, 0, sizeof(*out));
	cert = tpmcert_issue_client(ca->key, ca->cert, key, cn, days);
	if (cert == NULL || (n = i2d_X509(cert, &der)) <= 0 ||
	    (size_t)n > WG_CERT_B64_MAX / 4 * 3) {
		X509_free(cert);
		OPENSSL_free(der);
		return http_fail(req, WG_E_CRYPTO, "the certificate could not be "
		    "issued");
	}
	x509_serial_hex(cert, out->serial, sizeof(out->serial));
	SHA1(der, (size_t)n, sha1);
	wg_hex(sha1, sizeof(sha1), out->thumbprint);
	for (i = 0; out->thumbprint[i] != '\0'; i++)
		if (out->thumbprint[i] >= 'a' && out->thumbprint[i] <= 'f')
			out->thumbprint[i] = (char)(out->thumbprint[i] - 32);
	out->b64 = wg_b64(der, (size_t)n);
	out->created_ms = wg_now_ms();
	out->not_after_ms = out->created_ms + (int64_t)days * 86400 * 1000;
	X509_free(cert);
	OPENSSL_free(der);
	return WG_OK;
}

enum wg_err
proof_nonce_take(struct http_req *req, struct store_conn *c,
    const struct proof *p)
{
	const char *why = NULL;
	enum wg_err rc;

	rc = store_nonce_take(c, p->nonce_hex, TOKEN_NONCE_PURPOSE, &why);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_NONCE_INVALID, "AttestationData."
		    "Nonce is %s; ask for a new one", why);
	return rc;
}

enum wg_err
proof_quote_check(struct http_req *req, const struct tpm_public *aik,
    const struct tpm_attest *att, const unsigned char *quote, size_t qlen,
    const unsigned char *sig, size_t slen, const unsigned char *nonce,
    size_t nlen)
{
	char why[256] = "";
	enum wg_err rc;

	if (att->type != TPM_ST_ATTEST_QUOTE)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "quote: a "
		    "TPM2_Quote is needed, not attestation type 0x%04x",
		    att->type);
	if (att->extra_len != nlen || CRYPTO_memcmp(att->extra, nonce,
	    nlen) != 0)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "quote: its "
		    "qualifying data is not the nonce sent with it");
	rc = tpm_attest_verify(aik, quote, qlen, sig, slen, why, sizeof(why));
	if (rc == WG_E_JSON_FIELD)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "signature: %s "
		    "(it must be the AIK's over the quote)", why);
	return rc != WG_OK ? http_fail(req, rc, "the quote's signature could "
	    "not be checked") : WG_OK;
}
