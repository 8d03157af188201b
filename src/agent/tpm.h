/*
 * The device's TPM 2.0, as the agent uses it.  tpm.c is the only file that
 * calls tpm2-tss (ESAPI through the TCTI loader); every TSS2_RC is
 * translated there into a catalog code and logged once with the TSS's own
 * text (Tss2_RC_Decode), so callers pass the code up without logging it.
 *
 * Every transient object a function creates is flushed before it returns,
 * so the agent works the same with the kernel's resource manager
 * (device:/dev/tpmrm0) and with a TPM or simulator without one.
 */
#ifndef WG_AGENT_TPM_H
#define WG_AGENT_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"

#define TPM_TCTI_ENV "WHITEGLOVE_TCTI"
#define TPM_TCTI_DEFAULT "device:/dev/tpmrm0"
#define TPM_TCTI_MAX 1024 /* bytes of a --tcti value */

/* An open TPM; opaque. */
struct tpm_ctx;

/* The EK algorithms of the TCG EK Credential Profile's low range. */
enum tpm_ek_alg {
	TPM_EK_RSA,	/* template L-1: RSA 2048, handle 0x81010001 */
	TPM_EK_ECC,	/* template L-2: ECC NIST P-256, handle 0x81010002 */
	TPM_EK_ALG_MAX
};

/* What the TPM says about itself (TPM2_GetCapability, fixed properties). */
struct tpm_info {
	uint32_t manufacturer;	 /* TPM_PT_MANUFACTURER, e.g. "IBM " */
	char vendor[17];	 /* TPM_PT_VENDOR_STRING_1..4, NULs dropped */
	uint64_t firmware;	 /* FIRMWARE_VERSION_1 << 32 | _2 */
	uint32_t spec_level;	 /* TPM_PT_LEVEL */
	uint32_t spec_revision;	 /* TPM_PT_REVISION (159 = 1.59) */
};

/*
 * The TCTI to use when none is given: $WHITEGLOVE_TCTI, else
 * TPM_TCTI_DEFAULT.  Borrowed (the environment's or a constant).
 */
const char *tpm_tcti_default(void);

/*
 * Makes the phases of this process share one TPM context: a tpm_open of
 * the same TCTI after the first returns the context already open, and
 * tpm_close leaves it open (it is closed at exit), so that what it keeps
 * for the run (a created EK and the SRK as saved contexts, not generated
 * again) serves every phase.  For `provision`, which runs the phases one
 * after another in one thread.
 */
void tpm_share(void);

/*
 * Opens the TPM through the TCTI loader.  tcti is a loader string such as
 * "device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321" or "mssim:..."
 * (NULL: tpm_tcti_default()).  Unless TSS2_LOG is set, the TSS's own
 * logging is silenced so that a failure is reported once, by us.  On
 * success *out is a new context the caller closes with tpm_close(); on
 * failure *out is NULL and the result is WG_E_TPM_UNAVAILABLE (or
 * WG_E_CONFIG for an unusable tcti string).
 */
enum wg_err tpm_open(const char *tcti, struct tpm_ctx **out)
    __attribute__((warn_unused_result));

/* Closes the TPM; NULL is a no-op. */
void tpm_close(struct tpm_ctx *ctx);

/*
 * Reads the TPM's manufacturer, vendor string, firmware version and
 * specification level and revision into *out.  WG_E_TPM_* on failure.
 */
enum wg_err tpm_info_read(struct tpm_ctx *ctx, struct tpm_info *out)
    __attribute__((warn_unused_result));

/*
 * The public area of the TPM's endorsement key (TCG EK Credential Profile
 * 2.0, section 2.2.1): the persistent EK at 0x81010001 (RSA) or
 * 0x81010002 (ECC) if it is there and is a restricted decryption key of
 * that algorithm; else the EK created with Esys_CreatePrimary in the
 * endorsement hierarchy from the template in NV (0x01C00004 RSA,
 * 0x01C0000C ECC; its unique field replaced by the nonce in 0x01C00003 /
 * 0x01C0000B if present) or, when there is none, from the default template
 * L-1 or L-2.  The created object is flushed.
 *
 * On success *out is the TPM2B_PUBLIC as marshalled by
 * Tss2_MU_TPM2B_PUBLIC_Marshal (xmalloc'd, the caller frees it), *outlen
 * its size (the debug log says where it came from).  On failure *out is
 * NULL and the result is WG_E_TPM_*.
 */
enum wg_err tpm_ek_public(struct tpm_ctx *ctx, enum tpm_ek_alg alg,
    unsigned char **out, size_t *outlen) __attribute__((warn_unused_result));

/* Parses "rsa" or "ecc"; returns -1 if s is neither. */
int tpm_ek_alg_parse(const char *s, enum tpm_ek_alg *out);

/* "rsa" or "ecc". */
const char *tpm_ek_alg_name(enum tpm_ek_alg alg);

/* ---- attestation: EK certificate, AIK, credential activation ---- */

/* Bytes of an EK certificate read from NV at most. */
#define TPM_EK_CERT_MAX 4096

/*
 * The EK certificate the manufacturer stored in NV (TCG EK Credential
 * Profile 2.0, 2.2.1.5: 0x01C00002 for the RSA EK, 0x01C0000A for the ECC
 * EK), DER as stored: the zero padding some TPMs add after it is cut off
 * at the length of its outer SEQUENCE.  *out is xmalloc'd (the caller
 * frees it), *outlen the DER's length.  WG_E_EK_CERT_MISSING if the index
 * is not defined or was never written (a firmware TPM: logged as info
 * only, since the caller goes on to the manufacturer's service);
 * WG_E_EK_CERT_INVALID if the index does not hold one DER SEQUENCE
 * followed by nothing but zeros; WG_E_TPM_* on failure (an index larger
 * than TPM_EK_CERT_MAX too).  On failure *out is NULL.
 */
enum wg_err tpm_ek_cert(struct tpm_ctx *ctx, enum tpm_ek_alg alg,
    unsigned char **out, size_t *outlen) __attribute__((warn_unused_result));

/*
 * A key under the SRK as the agent keeps it (state dir files): the
 * attestation identity key, and the same layout for the device and
 * transport keys (tpm_key_create()).
 */
struct tpm_aik {
	unsigned char pub[1024];  /* TPM2B_PUBLIC, marshalled */
	size_t pub_len;
	unsigned char priv[1024]; /* TPM2B_PRIVATE, marshalled (sealed to
				     the TPM: useless elsewhere) */
	size_t priv_len;
};

/*
 * Creates an AIK: an RSA-2048 restricted signing key (RSASSA, SHA-256;
 * fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted,
 * sign; SHA-256 name; empty auth) under the storage root key: the ECC
 * P-256 SRK of the TCG TPM v2.0 Provisioning Guidance (7.5.1), created in
 * the owner hierarchy and flushed after; a persistent SRK at 0x81000001
 * is not used (tpm_attest.c says why).  The AIK's name, which a
 * credential is made for, is 0x000B || SHA-256(pub without its 2-byte
 * size).  On failure *out is zeroed and the result is WG_E_TPM_*
 * (WG_E_TPM_AUTH if the owner hierarchy has a password).
 */
enum wg_err tpm_aik_create(struct tpm_ctx *ctx, struct tpm_aik *out)
    __attribute__((warn_unused_result));

/*
 * TPM2_ActivateCredential (TPM 2.0 Part 3, 12.5): opens the credential
 * (blob: TPM2B_ID_OBJECT, secret: TPM2B_ENCRYPTED_SECRET, each marshalled
 * and exactly blob_len / secret_len bytes) made for this TPM's EK of
 * algorithm alg (as tpm_ek_public() finds or creates it) and for aik,
 * which is loaded under the SRK again.  The EK is authorized with a
 * policy session doing PolicySecret(TPM_RH_ENDORSEMENT) (the policy of
 * templates L-1 and L-2), salted with the EK and encrypting the response
 * so the credential does not cross the bus in clear; an EK made from an
 * NV template with userWithAuth takes its empty password instead.
 *
 * *out (at most 64 bytes, *outlen) is the credential; the caller wipes
 * it.  WG_E_TPM_ACTIVATION if the credential is malformed, if the TPM
 * refuses it (made for another EK or AIK name: TPM_RC_INTEGRITY,
 * TPM_RC_VALUE, TPM_RC_SIZE, TPM_RC_ECC_POINT and the like; the TPM's
 * text is in the log) or if aik does not load on this TPM (made by
 * another one, or before the TPM was cleared); WG_E_TPM_* on other
 * failures, *outlen 0 then.  Every object and session it loads or starts
 * is flushed on every path.
 */
enum wg_err tpm_activate_credential(struct tpm_ctx *ctx, enum tpm_ek_alg alg,
    const struct tpm_aik *aik, const unsigned char *blob, size_t blob_len,
    const unsigned char *secret, size_t secret_len, unsigned char out[64],
    size_t *outlen) __attribute__((warn_unused_result));

/*
 * TPM2_Quote (TPM 2.0 Part 3, 18.4) by aik, loaded under the SRK again,
 * over PCR 0 of the SHA-256 bank, with qd (1 to 64 bytes: a server's
 * nonce) as qualifying data and the AIK's own scheme (RSASSA, SHA-256).
 * *attest is the TPMS_ATTEST exactly as the TPM signed it (the body of
 * the TPM2B_ATTEST), *sig the marshalled TPMT_SIGNATURE; both xmalloc'd,
 * the caller frees them.  The AIK is flushed on every path.  WG_E_TPM_*
 * on failure (WG_E_TPM_ACTIVATION if aik does not load on this TPM), with
 * both NULL.
 */
enum wg_err tpm_quote(struct tpm_ctx *ctx, const struct tpm_aik *aik,
    const unsigned char *qd, size_t qd_len, unsigned char **attest,
    size_t *attest_len, unsigned char **sig, size_t *sig_len)
    __attribute__((warn_unused_result));

/* ---- keys under the SRK; the join's device and transport keys ---- */

/* The keys the agent makes under the SRK (DESIGN.md, steps 2 and 3). */
enum tpm_key_kind {
	TPM_KEY_AIK,	   /* quotes and certifies (tpm_aik_create) */
	TPM_KEY_DEVICE,	   /* DK: signs the CSR, later the user's JWTs */
	TPM_KEY_TRANSPORT, /* TK: the session key is wrapped to it */
	TPM_KEY_MDM,	   /* signs the MDM enrollment's CSR (step 4) */
	TPM_KEY_KIND_MAX
};

/* Bytes of a DK signature: RSA-2048. */
#define TPM_KEY_SIG_LEN 256

/*
 * Creates a key of kind under the SRK, with an empty auth: the AIK as
 * tpm_aik_create() says; the device key: RSA-2048, sign without decrypt,
 * not restricted (it signs digests it did not make: a CSR, JWTs), scheme
 * RSASSA with SHA-256; the transport key: RSA-2048, decrypt without
 * sign, not restricted, scheme NULL (so that TPM2_RSA_Decrypt picks
 * OAEP); the MDM key as the device key.  All fixedTPM, fixedParent,
 * sensitiveDataOrigin, userWithAuth, SHA-256 name.  *out has the layout
 * of an AIK; on failure it is zeroed and the result is WG_E_TPM_*.
 */
enum wg_err tpm_key_create(struct tpm_ctx *ctx, enum tpm_key_kind kind,
    struct tpm_aik *out) __attribute__((warn_unused_result));

/*
 * TPM2_Certify (TPM 2.0 Part 3, 18.2): aik certifies key, both loaded
 * under the SRK again (key's auth: its empty password), with qd (1 to 64
 * bytes: a server's nonce) as qualifying data and the AIK's own scheme.
 * *attest is the TPMS_ATTEST (TPM_ST_ATTEST_CERTIFY, key's name) exactly
 * as signed, *sig the marshalled TPMT_SIGNATURE; both xmalloc'd, the
 * caller frees them.  Both keys are flushed on every path.  WG_E_TPM_* on
 * failure (WG_E_TPM_ACTIVATION if a key does not load on this TPM), with
 * both NULL.
 */
enum wg_err tpm_certify(struct tpm_ctx *ctx, const struct tpm_aik *aik,
    const struct tpm_aik *key, const unsigned char *qd, size_t qd_len,
    unsigned char **attest, size_t *attest_len, unsigned char **sig,
    size_t *sig_len) __attribute__((warn_unused_result));

/*
 * TPM2_Sign (Part 3, 20.2) by key (the DK), loaded and flushed again, of
 * a SHA-256 digest with RSASSA: the raw PKCS#1 v1.5 signature a CSR or a
 * JWT (RS256) carries, into sig; *sig_len is sig's size on entry (at
 * least TPM_KEY_SIG_LEN) and the signature's on return.  The digest is
 * the caller's, so the ticket is the NULL one (TPM_ST_HASHCHECK,
 * TPM_RH_NULL), which only an unrestricted key takes.  WG_E_TPM_* on
 * failure (a key that may not sign: WG_E_TPM_ERROR), WG_E_INTERNAL for
 * a buffer too small; *sig_len 0 then.
 */
enum wg_err tpm_sign_digest(struct tpm_ctx *ctx, const struct tpm_aik *key,
    const unsigned char digest[32], unsigned char *sig, size_t *sig_len)
    __attribute__((warn_unused_result));

/* "AIK", "DK", "TK" or "MDM key". */
const char *tpm_key_kind_name(enum tpm_key_kind kind);

/* ---- the user phase: the session key (tpm_session.c) ---- */

/* The OAEP hash the session key was wrapped with (a profile option). */
enum tpm_oaep_hash {
	TPM_OAEP_SHA256,	/* JWE "RSA-OAEP-256" */
	TPM_OAEP_SHA1,		/* JWE "RSA-OAEP", as Windows wraps it */
	TPM_OAEP_MAX
};

/* Bytes of a secret tpm_seal() takes at most (TPM2B_SENSITIVE_DATA). */
#define TPM_SEAL_MAX 128

/*
 * TPM2_RSA_Decrypt (TPM 2.0 Part 3, 14.3) by key (the TK), loaded under
 * the SRK again and flushed, with OAEP of hash and an empty label: in
 * (in_len bytes, the modulus' length: 256) into out; *out_len is out's
 * size on entry and the plaintext's on return.  WG_E_SESSION_KEY_INVALID
 * if the TPM refuses the ciphertext (not made for this key, or with
 * another hash: TPM_RC_VALUE or TPM_RC_SIZE, or TPM_RC_FAILURE from
 * libtpms, swtpm's and the vTPMs' engine, once TPM2_GetTestResult says
 * the TPM itself has not failed; the TPM's text in the log),
 * WG_E_TPM_ACTIVATION if key does not load on this TPM, WG_E_TPM_* on
 * other failures, WG_E_INTERNAL for an out too small; *out_len 0 then
 * and out wiped.  The plaintext crosses the bus encrypted (a session
 * salted with the SRK encrypts the response).
 */
enum wg_err tpm_rsa_decrypt(struct tpm_ctx *ctx, const struct tpm_aik *key,
    enum tpm_oaep_hash hash, const unsigned char *in, size_t in_len,
    unsigned char *out, size_t *out_len) __attribute__((warn_unused_result));

/*
 * Seals len bytes of data (1 to TPM_SEAL_MAX) to this TPM: a keyedhash
 * data object made with TPM2_Create under the SRK (fixedTPM,
 * fixedParent, userWithAuth, neither sign nor decrypt, SHA-256 name,
 * empty auth), in the layout of a key (its public and its private,
 * which only this TPM can load).  On failure *out is zeroed and the
 * result is WG_E_TPM_*, or WG_E_INTERNAL for a len out of range.  The
 * data crosses the bus encrypted (a session salted with the SRK encrypts
 * the command's inSensitive).
 */
enum wg_err tpm_seal(struct tpm_ctx *ctx, const unsigned char *data,
    size_t len, struct tpm_aik *out) __attribute__((warn_unused_result));

/*
 * TPM2_Unseal of what tpm_seal() made, loaded under the SRK again and
 * flushed: the data into out (*out_len: out's size on entry, the data's
 * on return; the caller wipes it).  WG_E_TPM_ACTIVATION if sealed does
 * not load on this TPM (made by another one, or before the TPM was
 * cleared), WG_E_TPM_* on other failures, WG_E_INTERNAL for an out too
 * small; *out_len 0 then.  The data crosses the bus encrypted (a session
 * salted with the SRK encrypts the response).
 */
enum wg_err tpm_unseal(struct tpm_ctx *ctx, const struct tpm_aik *sealed,
    unsigned char *out, size_t *out_len) __attribute__((warn_unused_result));

/* ---- diagnostics: what the TPM supports, its clock (tpm_caps.c) ---- */

#define TPM_ALGS_MAX 64
#define TPM_BANKS_MAX 16

/* TPM2_GetCapability of the algorithms and the PCR banks. */
struct tpm_caps {
	uint16_t algs[TPM_ALGS_MAX]; /* TPM2_CAP_ALGS, TPM_ALG_ID order */
	size_t nalgs;
	struct {
		uint16_t hash;	/* the bank's TPM_ALG_ID */
		unsigned npcrs;	/* PCRs allocated in it (0: inactive) */
	} banks[TPM_BANKS_MAX];
	size_t nbanks;
};

/* TPM2_ReadClock (TPM 2.0 Part 3, 29.1): the raw counters, unsigned. */
struct tpm_clock {
	uint64_t time_ms;	/* since the last TPM2_Startup */
	uint64_t clock_ms;	/* since the TPM was first powered (or cleared) */
	uint32_t reset_count;	/* TPM resets (power cycles) */
	uint32_t restart_count; /* TPM2_Shutdown(STATE) / Startup(STATE) */
	int safe;		/* the clock was never set back */
};

/*
 * The algorithms the TPM implements (at most TPM_ALGS_MAX) and its PCR
 * banks (at most TPM_BANKS_MAX) into *out.  WG_E_TPM_* on failure.
 */
enum wg_err tpm_caps_read(struct tpm_ctx *ctx, struct tpm_caps *out)
    __attribute__((warn_unused_result));

/* The TPM's clock and counters into *out.  WG_E_TPM_* on failure. */
enum wg_err tpm_clock_read(struct tpm_ctx *ctx, struct tpm_clock *out)
    __attribute__((warn_unused_result));

#endif
