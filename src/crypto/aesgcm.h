/*
 * AES-256-GCM in the one layout whiteglove sends sealed data in:
 * 12-byte random IV || ciphertext || 16-byte tag (NIST SP 800-38D), no
 * additional data.  The attestation CA seals the AIK certificate under
 * the secret only the device's TPM can activate.
 */
#ifndef WG_AESGCM_H
#define WG_AESGCM_H

#include <stddef.h>

#include "common/errors.h"
#include "crypto/tpmpub.h"

#define AESGCM_IV_LEN 12
#define AESGCM_TAG_LEN 16
#define AESGCM_OVERHEAD (AESGCM_IV_LEN + AESGCM_TAG_LEN)

/*
 * Seals n bytes of pt under key (32 bytes) with a fresh random IV; *out
 * (n + AESGCM_OVERHEAD bytes) is xmalloc'd, the caller frees it.
 * WG_E_CRYPTO if OpenSSL fails (logged).
 */
enum wg_err aesgcm_seal(const unsigned char key[32], const unsigned char *pt,
    size_t n, unsigned char **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Opens what aesgcm_seal() made: *out (xmalloc'd, the caller frees it)
 * holds the plaintext.  WG_E_CRYPTO if the input is too short or does not
 * authenticate under key (*out NULL).
 */
enum wg_err aesgcm_open(const unsigned char key[32], const unsigned char *in,
    size_t n, unsigned char **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Data sealed for one TPM, as the aik and ztd services send it: a fresh
 * 32-byte secret made into a TPM2_MakeCredential credential for the EK
 * and the key named name, and the data sealed under that secret (the
 * layout above).  Each member is base64, xmalloc'd.
 */
struct aesgcm_for_tpm {
	char *blob;	/* TPM2B_ID_OBJECT */
	char *secret;	/* TPM2B_ENCRYPTED_SECRET */
	char *sealed;	/* IV || ciphertext || tag */
};

/*
 * Seals n bytes of data for the TPM holding ek and the object named name
 * (its TPM name, name_len bytes).  The secret is wiped.  WG_E_CRYPTO or
 * makecred's code, with why, on failure (*out then empty).
 */
enum wg_err aesgcm_seal_for_tpm(const struct tpm_public *ek,
    const unsigned char *name, size_t name_len, const unsigned char *data,
    size_t n, struct aesgcm_for_tpm *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Frees the members of s (not s); NULL members are fine. */
void aesgcm_for_tpm_free(struct aesgcm_for_tpm *s);

#endif
