/*
 * The keys under the SRK (tpm.h): the AIK, the join's device key (DK) and
 * transport key (TK), how each is made and loaded again, the AIK's
 * certification of the others (TPM2_Certify), the DK's signature of a
 * digest (TPM2_Sign); and what a quote and a certification share
 * (tpm_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <tss2/tss2_mu.h>

#include "agent/tpm_int.h"
#include "common/log.h"
#include "common/xmalloc.h"

static const TPM2B_SENSITIVE_CREATE no_sensitive; /* empty auth, no data */
static const TPM2B_DATA no_outside;
static const TPML_PCR_SELECTION no_pcrs;

/* The signing key's own scheme (the AIK's: RSASSA, SHA-256). */
static const TPMT_SIG_SCHEME own_scheme = { .scheme = TPM2_ALG_NULL };

/*
 * The template of a key of kind: RSA-2048 with a SHA-256 name, made in
 * the TPM and bound to it (fixedTPM, fixedParent, sensitiveDataOrigin),
 * used with its empty password (userWithAuth).  The AIK is restricted (it
 * signs only what the TPM made: quotes, certifications), the DK is not (it
 * signs a CSR's and a JWT's digests), nor is the MDM key (made like the
 * DK, for the MDM enrollment's CSR); all three are bound to RSASSA with
 * SHA-256 so the TPM refuses any other use.  The TK decrypts only, its
 * scheme chosen per use (OAEP).
 */
static void
key_template(enum tpm_key_kind kind, TPM2B_PUBLIC *t)
{
	TPMT_PUBLIC *p = &t->publicArea;
	TPMS_RSA_PARMS *rsa = &p->parameters.rsaDetail;

	memset(t, 0, sizeof(*t));
	p->type = TPM2_ALG_RSA;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
	rsa->symmetric.algorithm = TPM2_ALG_NULL;
	rsa->keyBits = 2048; /* exponent 0: 65537 */
	rsa->scheme.scheme = TPM2_ALG_NULL;
	if (kind == TPM_KEY_TRANSPORT) {
		p->objectAttributes |= TPMA_OBJECT_DECRYPT;
		return;
	}
	p->objectAttributes |= TPMA_OBJECT_SIGN_ENCRYPT;
	if (kind == TPM_KEY_AIK)
		p->objectAttributes |= TPMA_OBJECT_RESTRICTED;
	rsa->scheme.scheme = TPM2_ALG_RSASSA;
	rsa->scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
}

const char *
tpm_key_kind_name(enum tpm_key_kind kind)
{
	static const char *const names[TPM_KEY_KIND_MAX] = {
		[TPM_KEY_AIK] = "AIK", [TPM_KEY_DEVICE] = "DK",
		[TPM_KEY_TRANSPORT] = "TK", [TPM_KEY_MDM] = "MDM key" };

	return (unsigned)kind < TPM_KEY_KIND_MAX ? names[kind] : "key";
}

enum wg_err
tpm_key_create(struct tpm_ctx *ctx, enum tpm_key_kind kind,
    struct tpm_aik *out)
{
	const char *what = tpm_key_kind_name(kind);
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC tmpl, *pub = NULL;
	ESYS_TR srk = ESYS_TR_NONE;
	char msg[64];
	enum wg_err err;
	TSS2_RC rc;

	memset(out, 0, sizeof(*out));
	if ((unsigned)kind >= TPM_KEY_KIND_MAX)
		return tpm_fail(WG_E_INTERNAL, "unknown key kind %d", kind);
	key_template(kind, &tmpl);
	if ((err = tpm_srk_create(ctx, &srk)) != WG_OK)
		return err;
	snprintf(msg, sizeof(msg), "Create(%s)", what);
	if ((rc = Esys_Create(ctx->esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &no_sensitive, &tmpl, &no_outside, &no_pcrs, &priv,
	    &pub, NULL, NULL, NULL)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, msg);
	else if ((rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, out->pub,
	    sizeof(out->pub), &out->pub_len)) != TSS2_RC_SUCCESS ||
	    (rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, out->priv,
	    sizeof(out->priv), &out->priv_len)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "marshalling a created key");
	err = tpm_flush(ctx, &srk, "SRK", err);
	if (err != WG_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	else
		wg_debug("TPM: %s created (public %zu, private %zu bytes)",
		    what, out->pub_len, out->priv_len);
	Esys_Free(pub);
	Esys_Free(priv);
	return err;
}

/* tpm_int.h */
enum wg_err
tpm_key_load(struct tpm_ctx *ctx, const struct tpm_aik *key, const char *what,
    ESYS_TR *out)
{
	TPM2B_PUBLIC pub = { 0 };
	TPM2B_PRIVATE priv = { 0 };
	size_t pub_off = 0, priv_off = 0;
	ESYS_TR srk = ESYS_TR_NONE;
	char msg[64];
	enum wg_err err;
	TSS2_RC rc;

	*out = ESYS_TR_NONE;
	if (key->pub_len > sizeof(key->pub) ||
	    key->priv_len > sizeof(key->priv) ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(key->pub, key->pub_len, &pub_off,
	    &pub) != TSS2_RC_SUCCESS || pub_off != key->pub_len ||
	    Tss2_MU_TPM2B_PRIVATE_Unmarshal(key->priv, key->priv_len,
	    &priv_off, &priv) != TSS2_RC_SUCCESS || priv_off != key->priv_len)
		return tpm_fail(WG_E_TPM_ERROR, "the %s is not one marshalled "
		    "TPM2B_PUBLIC and one TPM2B_PRIVATE as tpm_key_create() "
		    "writes them", what);
	if ((err = tpm_srk_create(ctx, &srk)) != WG_OK)
		return err;
	snprintf(msg, sizeof(msg), "Load(%s)", what);
	if ((rc = Esys_Load(ctx->esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &priv, &pub, out)) != TSS2_RC_SUCCESS) {
		*out = ESYS_TR_NONE;
		err = tpm_rc_code(rc) == TPM2_RC_INTEGRITY ?
		    tpm_rc_as(WG_E_TPM_ACTIVATION, rc, msg) : tpm_rc(rc, msg);
	}
	OPENSSL_cleanse(&priv, sizeof(priv));
	return tpm_flush(ctx, &srk, "SRK", err);
}

/* tpm_int.h */
enum wg_err
tpm_qualifying_data(const unsigned char *qd, size_t qd_len, TPM2B_DATA *out)
{
	memset(out, 0, sizeof(*out));
	if (qd_len == 0 || qd_len > sizeof(out->buffer))
		return tpm_fail(WG_E_INTERNAL, "qualifying data of %zu bytes "
		    "(1 to %zu)", qd_len, sizeof(out->buffer));
	out->size = (UINT16)qd_len;
	memcpy(out->buffer, qd, qd_len);
	return WG_OK;
}

/* tpm_int.h */
enum wg_err
tpm_attest_out(const TPM2B_ATTEST *info, const TPMT_SIGNATURE *signature,
    const char *what, unsigned char **attest, size_t *attest_len,
    unsigned char **sig, size_t *sig_len)
{
	char msg[96];
	size_t n = 0;
	TSS2_RC rc;

	*sig = xmalloc(sizeof(*signature));
	if ((rc = Tss2_MU_TPMT_SIGNATURE_Marshal(signature, *sig,
	    sizeof(*signature), &n)) != TSS2_RC_SUCCESS) {
		free(*sig);
		*sig = *attest = NULL;
		*sig_len = *attest_len = 0;
		snprintf(msg, sizeof(msg), "marshalling %s's signature", what);
		return tpm_rc(rc, msg);
	}
	*sig_len = n;
	*attest = xmalloc(info->size > 0 ? info->size : 1);
	memcpy(*attest, info->attestationData, info->size);
	*attest_len = info->size;
	return WG_OK;
}

enum wg_err
tpm_certify(struct tpm_ctx *ctx, const struct tpm_aik *aik,
    const struct tpm_aik *key, const unsigned char *qd, size_t qd_len,
    unsigned char **attest, size_t *attest_len, unsigned char **sig,
    size_t *sig_len)
{
	TPM2B_DATA data;
	TPM2B_ATTEST *info = NULL;
	TPMT_SIGNATURE *signature = NULL;
	ESYS_TR key_tr = ESYS_TR_NONE, aik_tr = ESYS_TR_NONE;
	enum wg_err err;
	TSS2_RC rc;

	*attest = *sig = NULL;
	*attest_len = *sig_len = 0;
	if ((err = tpm_qualifying_data(qd, qd_len, &data)) != WG_OK ||
	    (err = tpm_key_load(ctx, key, "certified key", &key_tr)) != WG_OK)
		return err;
	if ((err = tpm_aik_load(ctx, aik, &aik_tr)) != WG_OK)
		goto done;
	/* objectHandle: ADMIN role, its password (no adminWithPolicy) */
	if ((rc = Esys_Certify(ctx->esys, key_tr, aik_tr, ESYS_TR_PASSWORD,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, &data, &own_scheme, &info,
	    &signature)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "Certify");
	else
		err = tpm_attest_out(info, signature, "the certification",
		    attest, attest_len, sig, sig_len);
done:
	Esys_Free(info);
	Esys_Free(signature);
	err = tpm_flush(ctx, &aik_tr, "AIK", err);
	err = tpm_flush(ctx, &key_tr, "certified key", err);
	if (err != WG_OK) {
		free(*attest);
		free(*sig);
		*attest = *sig = NULL;
		*attest_len = *sig_len = 0;
	}
	return err;
}

enum wg_err
tpm_sign_digest(struct tpm_ctx *ctx, const struct tpm_aik *key,
    const unsigned char digest[32], unsigned char *sig, size_t *sig_len)
{
	static const TPMT_SIG_SCHEME rsassa = { .scheme = TPM2_ALG_RSASSA,
		.details.rsassa.hashAlg = TPM2_ALG_SHA256 };
	static const TPMT_TK_HASHCHECK null_ticket = {
		.tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL };
	TPM2B_DIGEST d = { .size = 32 };
	TPMT_SIGNATURE *s = NULL;
	ESYS_TR tr = ESYS_TR_NONE;
	size_t cap = *sig_len;
	enum wg_err err;
	TSS2_RC rc;

	*sig_len = 0;
	if (cap < TPM_KEY_SIG_LEN)
		return tpm_fail(WG_E_INTERNAL, "a buffer of %zu bytes for a "
		    "signature of %d", cap, TPM_KEY_SIG_LEN);
	memcpy(d.buffer, digest, 32);
	if ((err = tpm_key_load(ctx, key, "DK", &tr)) != WG_OK)
		return err;
	if ((rc = Esys_Sign(ctx->esys, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &d, &rsassa, &null_ticket, &s)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "Sign(DK)");
	else if (s->sigAlg != TPM2_ALG_RSASSA ||
	    s->signature.rsassa.hash != TPM2_ALG_SHA256 ||
	    s->signature.rsassa.sig.size != TPM_KEY_SIG_LEN)
		err = tpm_fail(WG_E_TPM_ERROR, "Sign(DK) gave no RSASSA-SHA256 "
		    "signature of %d bytes", TPM_KEY_SIG_LEN);
	else {
		memcpy(sig, s->signature.rsassa.sig.buffer, TPM_KEY_SIG_LEN);
		*sig_len = TPM_KEY_SIG_LEN;
	}
	Esys_Free(s);
	err = tpm_flush(ctx, &tr, "DK", err);
	if (err != WG_OK)
		*sig_len = 0;
	return err;
}
