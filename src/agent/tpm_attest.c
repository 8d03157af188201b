/*
 * The TPM's part of attestation, through tpm2-tss: the EK certificate in
 * NV, the storage root key the AIK is made under (tpm_keys.c makes and
 * loads the keys), and credential activation.  See
 * tpm.h for the contract; tpm_int.h for what this file shares with tpm.c.
 *
 * The SRK is always a transient primary made from the ECC P-256 template
 * of the TCG TPM v2.0 Provisioning Guidance (1.0, 7.5.1) in the owner
 * hierarchy, never the object an OS may have made persistent at
 * 0x81000001: that one may be RSA, carry a password, or hold a unique
 * value of its own, and the AIK must load again under the same parent.
 * The primary is the same key every time while the owner seed stays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include "agent/tpm.h"
#include "agent/tpm_int.h"
#include "common/log.h"

/* EK certificate NV indices (TCG EK Credential Profile 2.0, 2.2.1.5). */
static const TPM2_HANDLE ek_cert_nv[TPM_EK_ALG_MAX] = {
	[TPM_EK_RSA] = 0x01C00002u, /* RSA 2048 */
	[TPM_EK_ECC] = 0x01C0000Au, /* ECC NIST P-256 */
};

static const TPM2B_SENSITIVE_CREATE no_sensitive; /* empty auth, no data */
static const TPM2B_DATA no_outside;
static const TPML_PCR_SELECTION no_pcrs;

/* The ECC P-256 SRK template, Provisioning Guidance 7.5.1 (Table 2). */
static const TPM2B_PUBLIC srk_template = {
	.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_FIXEDTPM |
		    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
		    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
		    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
		.parameters.eccDetail = {
			.symmetric = { .algorithm = TPM2_ALG_AES,
			    .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB },
			.scheme.scheme = TPM2_ALG_NULL,
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		},
		/* unique: empty x and y */
	},
};

/*
 * The length of the DER SEQUENCE buf starts with (header and contents):
 * tag 0x30, a definite length in the fewest bytes (X.690 8.1.3, 10.1),
 * at most two length bytes (TPM_EK_CERT_MAX needs no more), all of it
 * within len.  0 if buf does not start with one.
 */
static size_t
der_sequence_len(const unsigned char *buf, size_t len)
{
	size_t hdr, body, n, i;

	if (len < 2 || buf[0] != 0x30)
		return 0;
	if (buf[1] < 0x80) {
		hdr = 2;
		body = buf[1];
	} else {
		n = buf[1] & 0x7F;
		if (n == 0 || n > 2 || len - 2 < n)
			return 0;
		for (body = 0, i = 0; i < n; i++)
			body = body << 8 | buf[2 + i];
		if (body < 0x80 || (n == 2 && body < 0x100))
			return 0; /* not the shortest form */
		hdr = 2 + n;
	}
	if (body > len - hdr)
		return 0;
	return hdr + body;
}

/* 1 if the n bytes at p are all zero. */
static int
all_zero(const unsigned char *p, size_t n)
{
	unsigned char acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

enum wg_err
tpm_ek_cert(struct tpm_ctx *ctx, enum tpm_ek_alg alg, unsigned char **out,
    size_t *outlen)
{
	unsigned char *buf = NULL;
	size_t len, der_len = 0;
	TPM2_HANDLE index;
	enum wg_err err;

	*out = NULL;
	*outlen = 0;
	if ((unsigned)alg >= TPM_EK_ALG_MAX)
		return tpm_fail(WG_E_INTERNAL, "unknown EK algorithm %d", alg);
	index = ek_cert_nv[alg];
	if ((err = tpm_nv_read_all(ctx, index, TPM_EK_CERT_MAX, &buf,
	    &len)) != WG_OK)
		return err;
	if (buf == NULL) {
		wg_info("TPM: no %s EK certificate in NV index 0x%08x",
		    tpm_ek_alg_name(alg), (unsigned)index);
		return WG_E_EK_CERT_MISSING;
	}
	if ((der_len = der_sequence_len(buf, len)) == 0)
		err = tpm_fail(WG_E_EK_CERT_INVALID, "the EK certificate in "
		    "NV index 0x%08x does not start with a DER SEQUENCE that "
		    "fits its %zu bytes (X.690 8.1.3, 10.1)", (unsigned)index,
		    len);
	else if (!all_zero(buf + der_len, len - der_len))
		err = tpm_fail(WG_E_EK_CERT_INVALID, "the EK certificate in "
		    "NV index 0x%08x is followed by %zu bytes that are not "
		    "zero padding", (unsigned)index, len - der_len);
	if (err != WG_OK) {
		free(buf);
		return err;
	}
	wg_debug("TPM: %s EK certificate from NV 0x%08x (%zu of %zu bytes)",
	    tpm_ek_alg_name(alg), (unsigned)index, der_len, len);
	*out = buf;
	*outlen = der_len;
	return WG_OK;
}

/* tpm_int.h */
enum wg_err
tpm_srk_create(struct tpm_ctx *ctx, ESYS_TR *srk)
{
	TSS2_RC rc;

	if (ctx->srk_saved != NULL) {
		if (Esys_ContextLoad(ctx->esys, ctx->srk_saved, srk) ==
		    TSS2_RC_SUCCESS)
			return WG_OK;
		Esys_Free(ctx->srk_saved);
		ctx->srk_saved = NULL;
	}
	if ((rc = Esys_CreatePrimary(ctx->esys, ESYS_TR_RH_OWNER,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &no_sensitive,
	    &srk_template, &no_outside, &no_pcrs, srk, NULL, NULL, NULL,
	    NULL)) != TSS2_RC_SUCCESS) {
		*srk = ESYS_TR_NONE;
		return tpm_rc(rc, "CreatePrimary(SRK)");
	}
	if (Esys_ContextSave(ctx->esys, *srk, &ctx->srk_saved) !=
	    TSS2_RC_SUCCESS)
		ctx->srk_saved = NULL; /* made again next time: only slower */
	return WG_OK;
}

enum wg_err
tpm_aik_create(struct tpm_ctx *ctx, struct tpm_aik *out)
{
	return tpm_key_create(ctx, TPM_KEY_AIK, out);
}

/*
 * The authorization of the EK for ActivateCredential (USER role).  The
 * L-1/L-2 EK has no userWithAuth and the policy PolicySecret(TPM_RH_
 * ENDORSEMENT): *session is a policy session that satisfies it, salted
 * with the EK itself and encrypting the response, so that the activated
 * credential does not cross the bus in clear.  An EK from an NV template
 * with userWithAuth (the high-range style) takes its empty password:
 * *session stays ESYS_TR_NONE.  The caller flushes *session.
 */
static enum wg_err
ek_session_start(struct tpm_ctx *ctx, const struct tpm_ek *ek,
    ESYS_TR *session)
{
	static const TPM2B_NONCE no_nonce;
	static const TPM2B_DIGEST no_cphash;
	static const TPM2B_NONCE no_policy_ref;
	enum wg_err err;
	TSS2_RC rc;

	*session = ESYS_TR_NONE;
	if (ek->pub->publicArea.objectAttributes & TPMA_OBJECT_USERWITHAUTH)
		return WG_OK;
	if ((err = tpm_salted_session_start(ctx, ek->tr, TPM2_SE_POLICY,
	    TPMA_SESSION_ENCRYPT, "EK policy session", session)) != WG_OK)
		return err;
	if ((rc = Esys_PolicySecret(ctx->esys, ESYS_TR_RH_ENDORSEMENT,
	    *session, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &no_nonce,
	    &no_cphash, &no_policy_ref, 0, NULL, NULL)) != TSS2_RC_SUCCESS)
		return tpm_flush(ctx, session, "EK policy session",
		    tpm_rc(rc, "PolicySecret(TPM_RH_ENDORSEMENT)"));
	return WG_OK;
}

/*
 * 1 if rc is the TPM saying the credential was not made for this EK and
 * AIK name, or is damaged (TPM 2.0 Part 3, 12.5: the response codes of
 * ActivateCredential for credentialBlob and secret).
 */
static int
activation_refused(TSS2_RC rc)
{
	switch (tpm_rc_code(rc)) {
	case TPM2_RC_INTEGRITY:
	case TPM2_RC_VALUE:
	case TPM2_RC_SIZE:
	case TPM2_RC_ECC_POINT:
	case TPM2_RC_INSUFFICIENT:
	case TPM2_RC_NO_RESULT:
		return 1;
	default:
		return 0;
	}
}

/* The credential as the TPM takes it: each part exactly one TPM2B. */
static enum wg_err
credential_parse(const unsigned char *blob, size_t blob_len,
    const unsigned char *secret, size_t secret_len, TPM2B_ID_OBJECT *id,
    TPM2B_ENCRYPTED_SECRET *enc)
{
	size_t off = 0;

	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &off, id) !=
	    TSS2_RC_SUCCESS || off != blob_len)
		return tpm_fail(WG_E_TPM_ACTIVATION, "the credential blob "
		    "(%zu bytes) is not exactly one TPM2B_ID_OBJECT (TPM 2.0 "
		    "Part 2, 10.6.3)", blob_len);
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(secret, secret_len, &off,
	    enc) != TSS2_RC_SUCCESS || off != secret_len)
		return tpm_fail(WG_E_TPM_ACTIVATION, "the credential secret "
		    "(%zu bytes) is not exactly one TPM2B_ENCRYPTED_SECRET "
		    "(TPM 2.0 Part 2, 11.4.33)", secret_len);
	return WG_OK;
}

_Static_assert(sizeof(((TPM2B_DIGEST *)0)->buffer) == 64,
    "tpm_activate_credential's out[64] holds any TPM2B_DIGEST");

enum wg_err
tpm_activate_credential(struct tpm_ctx *ctx, enum tpm_ek_alg alg,
    const struct tpm_aik *aik, const unsigned char *blob, size_t blob_len,
    const unsigned char *secret, size_t secret_len, unsigned char out[64],
    size_t *outlen)
{
	TPM2B_ID_OBJECT id;
	TPM2B_ENCRYPTED_SECRET enc;
	TPM2B_DIGEST *cred = NULL;
	ESYS_TR aik_tr = ESYS_TR_NONE, session = ESYS_TR_NONE;
	struct tpm_ek ek = { .tr = ESYS_TR_NONE };
	enum wg_err err;
	TSS2_RC rc;

	*outlen = 0;
	if ((err = credential_parse(blob, blob_len, secret, secret_len, &id,
	    &enc)) != WG_OK || (err = tpm_aik_load(ctx, aik, &aik_tr)) != WG_OK)
		return err;
	if ((err = tpm_ek_open(ctx, alg, &ek)) != WG_OK ||
	    (err = ek_session_start(ctx, &ek, &session)) != WG_OK)
		goto done;
	if ((rc = Esys_ActivateCredential(ctx->esys, aik_tr, ek.tr,
	    ESYS_TR_PASSWORD, session != ESYS_TR_NONE ? session :
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, &id, &enc, &cred)) !=
	    TSS2_RC_SUCCESS) {
		err = activation_refused(rc) ? tpm_rc_as(WG_E_TPM_ACTIVATION,
		    rc, "ActivateCredential") : tpm_rc(rc,
		    "ActivateCredential");
		goto done;
	}
	memcpy(out, cred->buffer, cred->size);
	*outlen = cred->size;
	wg_debug("TPM: credential activated with the %s EK (%s)",
	    tpm_ek_alg_name(alg), ek.src);
done:
	if (cred != NULL) {
		OPENSSL_cleanse(cred, sizeof(*cred));
		Esys_Free(cred);
	}
	err = tpm_flush(ctx, &session, "EK policy session", err);
	err = tpm_ek_close(ctx, &ek, err);
	err = tpm_flush(ctx, &aik_tr, "AIK", err);
	if (err != WG_OK) {
		OPENSSL_cleanse(out, 64);
		*outlen = 0;
	}
	return err;
}
