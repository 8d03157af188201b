/*
 * The join's certificate request (csr.h).  OpenSSL builds the request
 * and encodes it, but cannot sign it: the DK's private part is in the
 * TPM.  So the signature is made the way ASN1_item_sign() would make it,
 * with the TPM in place of EVP_DigestSign: the DER of the
 * CertificationRequestInfo, its SHA-256, TPM2_Sign (RSASSA-PKCS1-v1_5),
 * and the result as a BIT STRING with no unused bits.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "agent/csr.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/tpmpub.h"

/* The request with subject CN=cn and key, not yet signed; NULL: failed. */
static X509_REQ *
csr_build(const char *cn, EVP_PKEY *key)
{
	X509_REQ *req = X509_REQ_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	int ok;

	/* RFC 4055 2.1: sha256WithRSAEncryption takes NULL parameters */
	ok = req != NULL && alg != NULL && X509_ALGOR_set0(alg,
	    OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, NULL) &&
	    X509_REQ_set_version(req, 0) &&
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
	    X509_REQ_set_pubkey(req, key) &&
	    X509_REQ_set1_signature_algo(req, alg);
	X509_ALGOR_free(alg);
	if (!ok) {
		wg_log_openssl("building the certificate request");
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

/* Sets the DK's signature of req's CertificationRequestInfo. */
static enum wg_err
csr_sign(struct tpm_ctx *ctx, const struct tpm_aik *dk, X509_REQ *req,
    char *why, size_t whylen)
{
	unsigned char *tbs = NULL, digest[32], sig[TPM_KEY_SIG_LEN];
	size_t sig_len = sizeof(sig);
	ASN1_BIT_STRING *bits = NULL;
	enum wg_err rc;
	int n;

	if ((n = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0) {
		wg_log_openssl("encoding the certificate request");
		return wg_fail(WG_E_CRYPTO, why, whylen, "the certificate "
		    "request cannot be encoded");
	}
	wg_sha256(tbs, (size_t)n, digest);
	OPENSSL_free(tbs);
	if ((rc = tpm_sign_digest(ctx, dk, digest, sig, &sig_len)) != WG_OK)
		return wg_fail(rc, why, whylen, "the TPM did not sign the "
		    "certificate request with the DK");
	if ((bits = ASN1_BIT_STRING_new()) == NULL ||
	    !ASN1_BIT_STRING_set(bits, sig, (int)sig_len)) {
		ASN1_BIT_STRING_free(bits);
		wg_log_openssl("setting the request's signature");
		return wg_fail(WG_E_CRYPTO, why, whylen, "the certificate "
		    "request's signature cannot be set");
	}
	/* whole bytes: no unused bits (as ASN1_item_sign() leaves them) */
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	return WG_OK;
}

enum wg_err
csr_make(struct tpm_ctx *ctx, const struct tpm_aik *dk, const char *cn,
    unsigned char **der, size_t *len, char *why, size_t whylen)
{
	struct tpm_public pub;
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	unsigned char *out = NULL;
	char text[256] = "";
	enum wg_err rc;
	int n;

	*der = NULL;
	*len = 0;
	if (cn[0] == '\0' || strlen(cn) > CSR_CN_MAX || !wg_str_printable(cn))
		return wg_fail(WG_E_INTERNAL, why, whylen, "the request's "
		    "common name is not 1 to %d bytes of printable UTF-8",
		    CSR_CN_MAX);
	if (tpm_public_parse(dk->pub, dk->pub_len, &pub, text,
	    sizeof(text)) != WG_OK || pub.type != TPM_ALG_RSA ||
	    (pub.attributes & (TPMA_SIGN | TPMA_RESTRICTED)) != TPMA_SIGN)
		return wg_fail(WG_E_INTERNAL, why, whylen, "the DK is not an "
		    "unrestricted RSA signing key%s%s", text[0] ? ": " : "",
		    text);
	if ((key = tpm_public_to_pkey(&pub)) == NULL)
		return wg_fail(WG_E_CRYPTO, why, whylen, "the DK's public key "
		    "cannot be read");
	if ((req = csr_build(cn, key)) == NULL) {
		rc = wg_fail(WG_E_CRYPTO, why, whylen, "the certificate "
		    "request cannot be built");
		goto done;
	}
	if ((rc = csr_sign(ctx, dk, req, why, whylen)) != WG_OK)
		goto done;
	if ((n = i2d_X509_REQ(req, &out)) <= 0) {
		wg_log_openssl("encoding the signed certificate request");
		rc = wg_fail(WG_E_CRYPTO, why, whylen, "the certificate "
		    "request cannot be encoded");
		goto done;
	}
	*der = xmalloc((size_t)n);
	memcpy(*der, out, (size_t)n);
	*len = (size_t)n;
done:
	OPENSSL_free(out);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return rc;
}
