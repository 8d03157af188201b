/*
 * What the files that call tpm2-tss (tpm.c, tpm_attest.c, tpm_quote.c,
 * tpm_keys.c, tpm_caps.c, tpm_session.c) share: the context, the one
 * translation of a TSS2_RC into a catalog code, NV reads, flushing, the
 * EK as a loaded object, the SRK and the keys under it.  Private to
 * src/agent.
 */
#ifndef WG_AGENT_TPM_INT_H
#define WG_AGENT_TPM_INT_H

#include <stddef.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "agent/tpm.h"

struct tpm_ctx {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	/*
	 * A created EK, once made, is kept as a saved context (flushed from
	 * the TPM) so that later uses load it instead of generating the key
	 * again, which takes seconds on some TPMs; freed by tpm_close().
	 */
	TPMS_CONTEXT *ek_saved[TPM_EK_ALG_MAX];
	TPM2B_PUBLIC *ek_saved_pub[TPM_EK_ALG_MAX];
	TPMS_CONTEXT *srk_saved; /* the same for the SRK */
};

/* The EK while it is in use (tpm_ek_open .. tpm_ek_close). */
struct tpm_ek {
	ESYS_TR tr;	   /* ESYS_TR_NONE when not open */
	int created;	   /* 1: a transient primary (flushed), 0: persistent */
	TPM2B_PUBLIC *pub; /* ESAPI allocation */
	const char *src;   /* where it came from, for the debug log */
	enum tpm_ek_alg alg;
};

/* Logs msg once with the catalog code and name; returns err. */
enum wg_err tpm_fail(enum wg_err err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The TPM's own response code in rc, with the handle, parameter or
 * session number of a format-one code dropped (TPM 2.0 Part 2, 6.6.3);
 * 0 if rc was not made by the TPM (TCTI, ESAPI, MU layers).
 */
TSS2_RC tpm_rc_code(TSS2_RC rc);

/*
 * Logs the failed TSS call `what` with the TSS's text for rc and returns
 * err: the one place a TSS2_RC becomes a catalog code.  tpm_rc() picks
 * err from rc (tpm_rc_err); tpm_rc_as() is for a caller that knows
 * better what a TPM refusal means (a credential not made for this TPM).
 */
enum wg_err tpm_rc(TSS2_RC rc, const char *what);
enum wg_err tpm_rc_as(enum wg_err err, TSS2_RC rc, const char *what);

/*
 * Flushes the transient object or session *tr (what names it in the
 * log) and sets *tr to ESYS_TR_NONE; ESYS_TR_NONE is a no-op.  Returns
 * err, or the flush's own code if err is WG_OK and the flush failed, so
 * that a cleanup label reads err = tpm_flush(ctx, &x, "X", err).
 */
enum wg_err tpm_flush(struct tpm_ctx *ctx, ESYS_TR *tr, const char *what,
    enum wg_err err) __attribute__((warn_unused_result));

/*
 * Starts a session of type (TPM2_SE_HMAC, TPM2_SE_POLICY) salted with
 * the loaded asymmetric key salt (TPM 2.0 Part 1, 19.6.13; Part 3, 11.1),
 * unbound, SHA-256, with AES-128-CFB parameter encryption and attrs
 * (TPMA_SESSION_ENCRYPT: the response's first parameter, _DECRYPT: the
 * command's) besides continueSession.  The salt is encrypted to salt, so
 * one who only reads the bus cannot derive the session key and with it
 * the parameters.  The key may be flushed once the session is started.
 * The caller flushes *session (what names it in the log); ESYS_TR_NONE
 * on failure.
 */
enum wg_err tpm_salted_session_start(struct tpm_ctx *ctx, ESYS_TR salt,
    TPM2_SE type, TPMA_SESSION attrs, const char *what, ESYS_TR *session)
    __attribute__((warn_unused_result));

/*
 * Reads the whole of NV index `index` if it exists and was written: *buf
 * (xmalloc'd, caller frees; NULL if absent or never written) and *len.
 * An index larger than max, or one that only platform authorization may
 * read, fails with WG_E_TPM_ERROR.
 */
enum wg_err tpm_nv_read_all(struct tpm_ctx *ctx, TPM2_HANDLE index,
    size_t max, unsigned char **buf, size_t *len)
    __attribute__((warn_unused_result));

/*
 * Opens the EK of alg as tpm_ek_public() describes (persistent, else
 * created from the NV or the default template, or loaded from the context
 * saved when it was first created on ctx) and keeps it loaded.  On
 * failure nothing stays open.  tpm_ek_close() releases it (saves a
 * created EK's context once, then flushes it) and returns err or the
 * flush's failure, like tpm_flush().
 */
enum wg_err tpm_ek_open(struct tpm_ctx *ctx, enum tpm_ek_alg alg,
    struct tpm_ek *ek) __attribute__((warn_unused_result));
enum wg_err tpm_ek_close(struct tpm_ctx *ctx, struct tpm_ek *ek,
    enum wg_err err) __attribute__((warn_unused_result));

/*
 * Creates the SRK (tpm_attest.c says which), or loads the context saved
 * when it was first created on ctx (a TPM reset drops that: then it is
 * created again); the caller flushes *srk.
 */
enum wg_err tpm_srk_create(struct tpm_ctx *ctx, ESYS_TR *srk)
    __attribute__((warn_unused_result));

/*
 * Loads key (made by tpm_key_create) under the SRK, which is flushed again
 * at once: the key stays usable without its parent, and a TPM without a
 * resource manager may have only three object slots.  The caller flushes
 * *out.  A private part the TPM's integrity check refuses was made by
 * another TPM or before a TPM2_Clear: WG_E_TPM_ACTIVATION.  what names
 * the key in the log.
 */
enum wg_err tpm_key_load(struct tpm_ctx *ctx, const struct tpm_aik *key,
    const char *what, ESYS_TR *out) __attribute__((warn_unused_result));

/* tpm_key_load() of the AIK. */
static inline enum wg_err __attribute__((warn_unused_result))
tpm_aik_load(struct tpm_ctx *ctx, const struct tpm_aik *aik, ESYS_TR *out)
{
	return tpm_key_load(ctx, aik, "AIK", out);
}

/*
 * qd (1 to 64 bytes: a server's nonce) as the qualifying data of a
 * quote or a certification; WG_E_INTERNAL (logged) for any other size.
 */
enum wg_err tpm_qualifying_data(const unsigned char *qd, size_t qd_len,
    TPM2B_DATA *out) __attribute__((warn_unused_result));

/*
 * What a signed attestation (TPM2_Quote, TPM2_Certify) gives the caller:
 * *attest the TPMS_ATTEST exactly as signed (the body of info), *sig the
 * marshalled signature, both xmalloc'd; what names it in the log.  On
 * failure both are NULL and the lengths 0.
 */
enum wg_err tpm_attest_out(const TPM2B_ATTEST *info,
    const TPMT_SIGNATURE *signature, const char *what, unsigned char **attest,
    size_t *attest_len, unsigned char **sig, size_t *sig_len)
    __attribute__((warn_unused_result));

#endif
