/*
 * The user phase's TPM work (tpm.h): opening the session key the token
 * service wrapped to the transport key (TPM2_RSA_Decrypt with OAEP), and
 * keeping it between runs sealed to this TPM (a keyedhash data object
 * under the SRK, TPM2_Create and TPM2_Unseal).
 *
 * The session key is a secret: every copy this file makes or receives
 * from ESAPI is wiped before it is freed, and the caller's buffer is
 * wiped when a call fails.  Nor does it cross the bus in clear, which
 * a probe on the board reads for a discrete TPM: each of the three
 * commands carries a second session, salted with the SRK, that encrypts
 * the secret parameter (RSA_Decrypt's and Unseal's response, Create's
 * command; TPM 2.0 Part 1, 21).  The key itself is still authorized by
 * its empty password in the first session.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <tss2/tss2_mu.h>

#include "agent/tpm_int.h"
#include "common/log.h"

static const TPM2B_DATA no_outside;
static const TPML_PCR_SELECTION no_pcrs;

/*
 * An HMAC session salted with the SRK that encrypts the parameter attrs
 * says (tpm_salted_session_start); the SRK is flushed again at once, as
 * tpm_key_load() wants the object slots.  The caller flushes *session.
 */
static enum wg_err
srk_session_start(struct tpm_ctx *ctx, TPMA_SESSION attrs, ESYS_TR *session)
{
	ESYS_TR srk = ESYS_TR_NONE;
	enum wg_err err;

	*session = ESYS_TR_NONE;
	if ((err = tpm_srk_create(ctx, &srk)) != WG_OK)
		return err;
	err = tpm_salted_session_start(ctx, srk, TPM2_SE_HMAC, attrs,
	    "encrypting session", session);
	if ((err = tpm_flush(ctx, &srk, "SRK", err)) != WG_OK)
		err = tpm_flush(ctx, session, "encrypting session", err);
	return err;
}

/*
 * What a failed TPM2_RSA_Decrypt means.  The TPM's refusals of a
 * ciphertext (TPM 2.0 Part 3, 14.3, error codes): TPM_RC_SIZE, cipherText
 * is not the modulus' length (the reference code also gives it for a
 * value not below the modulus); TPM_RC_VALUE, it is not below the
 * modulus or its OAEP encoding does not decode with this key, hash and
 * label, which is what another key's or another hash's ciphertext gives.
 * libtpms (swtpm, the vTPM of QEMU and libvirt guests) decrypts with
 * OpenSSL since 0.8 and answers TPM_RC_FAILURE for whatever OpenSSL
 * refuses; TPM_RC_FAILURE otherwise means a TPM in failure mode, so it
 * is taken as a refusal only if TPM2_GetTestResult (Part 3, 10.4, which
 * a TPM in failure mode still answers) says the TPM has not failed.  The
 * other codes (TPM_RC_SCHEME, TPM_RC_HASH, TPM_RC_KEY,
 * TPM_RC_ATTRIBUTES) are about the scheme the agent chose or the key it
 * passed, not the ciphertext: TPM errors.
 */
static enum wg_err
decrypt_failed(struct tpm_ctx *ctx, TSS2_RC rc)
{
	static const char what[] = "RSA_Decrypt(TK)";
	TSS2_RC code = tpm_rc_code(rc), result = TPM2_RC_FAILURE;
	TPM2B_MAX_BUFFER *data = NULL;

	if (code == TPM2_RC_SIZE || code == TPM2_RC_VALUE)
		return tpm_rc_as(WG_E_SESSION_KEY_INVALID, rc, what);
	if (code != TPM2_RC_FAILURE)
		return tpm_rc(rc, what);
	if (Esys_GetTestResult(ctx->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &data, &result) != TSS2_RC_SUCCESS)
		result = TPM2_RC_FAILURE;
	Esys_Free(data);
	if (result == TPM2_RC_FAILURE)
		return tpm_rc(rc, what);
	return tpm_fail(WG_E_SESSION_KEY_INVALID, "TPM %s refused the "
	    "wrapped session key: TPM_RC_FAILURE (TSS2_RC 0x%08x), which "
	    "libtpms gives for a ciphertext it cannot decrypt; the TPM is "
	    "not in failure mode", what, (unsigned)rc);
}

enum wg_err
tpm_rsa_decrypt(struct tpm_ctx *ctx, const struct tpm_aik *key,
    enum tpm_oaep_hash hash, const unsigned char *in, size_t in_len,
    unsigned char *out, size_t *out_len)
{
	static const TPMI_ALG_HASH oaep_hash[TPM_OAEP_MAX] = {
		[TPM_OAEP_SHA256] = TPM2_ALG_SHA256,
		[TPM_OAEP_SHA1] = TPM2_ALG_SHA1,
	};
	TPMT_RSA_DECRYPT scheme = { .scheme = TPM2_ALG_OAEP };
	TPM2B_PUBLIC_KEY_RSA cipher = { 0 };
	TPM2B_PUBLIC_KEY_RSA *msg = NULL;
	TPM2B_DATA label = { .size = 0 }; /* empty: as JWE's RSA-OAEP */
	ESYS_TR tr = ESYS_TR_NONE, session = ESYS_TR_NONE;
	size_t cap = *out_len;
	enum wg_err err;
	TSS2_RC rc;

	*out_len = 0;
	if ((unsigned)hash >= TPM_OAEP_MAX) {
		err = tpm_fail(WG_E_INTERNAL, "unknown OAEP hash %d", hash);
		goto done;
	}
	if (in_len > sizeof(cipher.buffer)) {
		err = tpm_fail(WG_E_SESSION_KEY_INVALID, "a wrapped session "
		    "key of %zu bytes: the TK's modulus has 256", in_len);
		goto done;
	}
	scheme.details.oaep.hashAlg = oaep_hash[hash];
	cipher.size = (UINT16)in_len;
	memcpy(cipher.buffer, in, in_len);
	if ((err = srk_session_start(ctx, TPMA_SESSION_ENCRYPT, &session)) !=
	    WG_OK || (err = tpm_key_load(ctx, key, "TK", &tr)) != WG_OK)
		goto done;
	if ((rc = Esys_RSA_Decrypt(ctx->esys, tr, ESYS_TR_PASSWORD, session,
	    ESYS_TR_NONE, &cipher, &scheme, &label, &msg)) != TSS2_RC_SUCCESS)
		err = decrypt_failed(ctx, rc);
	else if (msg->size > cap)
		err = tpm_fail(WG_E_INTERNAL, "a buffer of %zu bytes for a "
		    "session key of %u", cap, (unsigned)msg->size);
	else {
		memcpy(out, msg->buffer, msg->size);
		*out_len = msg->size;
	}
	if (msg != NULL) {
		OPENSSL_cleanse(msg, sizeof(*msg));
		Esys_Free(msg);
	}
done:
	err = tpm_flush(ctx, &tr, "TK", err);
	err = tpm_flush(ctx, &session, "encrypting session", err);
	if (err != WG_OK) {
		OPENSSL_cleanse(out, cap);
		*out_len = 0;
	}
	return err;
}

/*
 * A sealed data object (TPM 2.0 Part 1, 27.2; Part 3, 12.1.1): keyedhash
 * with scheme NULL, neither sign nor decrypt, bound to this TPM and the
 * SRK, its data given by the caller (so sensitiveDataOrigin clear: the
 * TPM refuses data with it set), unsealed with its empty password.
 */
static void
seal_template(TPM2B_PUBLIC *t)
{
	TPMT_PUBLIC *p = &t->publicArea;

	memset(t, 0, sizeof(*t));
	p->type = TPM2_ALG_KEYEDHASH;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_USERWITHAUTH;
	p->parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
	/* unique: empty, the TPM computes it */
}

enum wg_err
tpm_seal(struct tpm_ctx *ctx, const unsigned char *data, size_t len,
    struct tpm_aik *out)
{
	TPM2B_SENSITIVE_CREATE sensitive;
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC tmpl, *pub = NULL;
	ESYS_TR srk = ESYS_TR_NONE, session = ESYS_TR_NONE;
	enum wg_err err;
	TSS2_RC rc;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > TPM_SEAL_MAX)
		return tpm_fail(WG_E_INTERNAL, "a secret of %zu bytes to seal "
		    "(1 to %d)", len, TPM_SEAL_MAX);
	memset(&sensitive, 0, sizeof(sensitive));
	sensitive.sensitive.data.size = (UINT16)len;
	memcpy(sensitive.sensitive.data.buffer, data, len);
	seal_template(&tmpl);
	if ((err = tpm_srk_create(ctx, &srk)) != WG_OK ||
	    (err = tpm_salted_session_start(ctx, srk, TPM2_SE_HMAC,
	    TPMA_SESSION_DECRYPT, "encrypting session", &session)) != WG_OK)
		goto done;
	if ((rc = Esys_Create(ctx->esys, srk, ESYS_TR_PASSWORD, session,
	    ESYS_TR_NONE, &sensitive, &tmpl, &no_outside, &no_pcrs, &priv,
	    &pub, NULL, NULL, NULL)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "Create(sealed session key)");
	else if ((rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, out->pub,
	    sizeof(out->pub), &out->pub_len)) != TSS2_RC_SUCCESS ||
	    (rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, out->priv,
	    sizeof(out->priv), &out->priv_len)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "marshalling a sealed object");
done:
	err = tpm_flush(ctx, &session, "encrypting session", err);
	err = tpm_flush(ctx, &srk, "SRK", err);
	OPENSSL_cleanse(&sensitive, sizeof(sensitive));
	if (err != WG_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	else
		wg_debug("TPM: %zu bytes sealed (public %zu, private %zu "
		    "bytes)", len, out->pub_len, out->priv_len);
	Esys_Free(pub);
	Esys_Free(priv);
	return err;
}

enum wg_err
tpm_unseal(struct tpm_ctx *ctx, const struct tpm_aik *sealed,
    unsigned char *out, size_t *out_len)
{
	TPM2B_SENSITIVE_DATA *data = NULL;
	ESYS_TR tr = ESYS_TR_NONE, session = ESYS_TR_NONE;
	size_t cap = *out_len;
	enum wg_err err;
	TSS2_RC rc;

	*out_len = 0;
	if ((err = srk_session_start(ctx, TPMA_SESSION_ENCRYPT, &session)) !=
	    WG_OK || (err = tpm_key_load(ctx, sealed, "sealed session key",
	    &tr)) != WG_OK)
		goto done;
	if ((rc = Esys_Unseal(ctx->esys, tr, ESYS_TR_PASSWORD, session,
	    ESYS_TR_NONE, &data)) != TSS2_RC_SUCCESS)
		err = tpm_rc(rc, "Unseal(sealed session key)");
	else if (data->size > cap)
		err = tpm_fail(WG_E_INTERNAL, "a buffer of %zu bytes for a "
		    "sealed secret of %u", cap, (unsigned)data->size);
	else {
		memcpy(out, data->buffer, data->size);
		*out_len = data->size;
	}
	if (data != NULL) {
		OPENSSL_cleanse(data, sizeof(*data));
		Esys_Free(data);
	}
done:
	err = tpm_flush(ctx, &tr, "sealed session key", err);
	err = tpm_flush(ctx, &session, "encrypting session", err);
	if (err != WG_OK) {
		OPENSSL_cleanse(out, cap);
		*out_len = 0;
	}
	return err;
}
