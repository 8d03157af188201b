/*
 * TPM2_MakeCredential done in software (TPM 2.0 Part 1, section 24
 * "Credential Protection"; Part 3, TPM2_MakeCredential): the attestation
 * CA and the profile service wrap a secret so that only the TPM holding
 * both the EK and the key named by `name` can open it, with
 * TPM2_ActivateCredential.
 *
 * RSA EKs: the seed is encrypted with RSA-OAEP (SHA-256, label
 * "IDENTITY" with its NUL).  ECC EKs: the seed comes from one-pass ECDH
 * with an ephemeral P-256 key and KDFe (label "IDENTITY"); the encrypted
 * secret is the ephemeral public point.  Then, as Part 1 says:
 * symKey = KDFa(SHA-256, seed, "STORAGE", name, "", 128 bits),
 * encIdentity = AES-128-CFB(symKey, IV = 0) of TPM2B_DIGEST(credential),
 * HMACkey = KDFa(SHA-256, seed, "INTEGRITY", "", "", 256 bits),
 * outerHMAC = HMAC-SHA256(HMACkey, encIdentity || name).
 */
#ifndef WG_MAKECRED_H
#define WG_MAKECRED_H

#include <stddef.h>

#include "common/errors.h"
#include "crypto/tpmpub.h"

/* Bytes of a credential at most (TPM2B_DIGEST with SHA-256 EKs). */
#define MAKECRED_MAX 32

/* Bits of KDF output at most: far more than any key made here needs. */
#define MAKECRED_KDF_MAX_BITS 8192

struct makecred {
	/* TPM2B_ID_OBJECT, marshalled (2-byte size first) */
	unsigned char blob[2 + 2 + 32 + 2 + MAKECRED_MAX];
	size_t blob_len;
	/* TPM2B_ENCRYPTED_SECRET, marshalled: RSA ciphertext or ECC point */
	unsigned char secret[2 + 256];
	size_t secret_len;
};

/*
 * Wraps cred (1..MAKECRED_MAX bytes) for the TPM whose EK is ek (a
 * storage key: restricted decrypt, AES-128-CFB symmetric, SHA-256 name
 * algorithm, as the TCG EK templates L-1 and L-2 make it) and the object
 * whose TPM name is name (nameAlg || digest, 34 bytes for SHA-256), into
 * *out (the caller's; zeroed on failure).  The seed (and for ECC the
 * ephemeral key) come from OpenSSL's CSPRNG and are wiped before return.
 * WG_E_EK_CERT_INVALID with why if ek cannot be an EK (not a restricted
 * decryption key with AES-128-CFB); WG_E_INTERNAL with why if name or
 * cred has a length no caller should pass; WG_E_CRYPTO if OpenSSL fails
 * (logged).
 */
enum wg_err makecred(const struct tpm_public *ek, const unsigned char *name,
    size_t name_len, const unsigned char *cred, size_t cred_len,
    struct makecred *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * makecred() with the seed given (RSA: 32 bytes, encrypted with OAEP as
 * above but the OAEP padding's own randomness still from the CSPRNG, so
 * only blob is fixed; ECC: seed ignored, the ephemeral private key given
 * as 32 big-endian bytes in ecc_eph, so both outputs are fixed), for tests
 * against fixed vectors.  The one the EK's type needs must not be NULL,
 * and ecc_eph must be in [1, n - 1] (WG_E_INTERNAL otherwise).
 */
enum wg_err makecred_with(const struct tpm_public *ek,
    const unsigned char *name, size_t name_len, const unsigned char *cred,
    size_t cred_len, const unsigned char seed[32],
    const unsigned char ecc_eph[32], struct makecred *out, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/*
 * KDFa (Part 1, 11.4.10.2; SP800-108 counter mode with HMAC-SHA256):
 * bits/8 bytes into out from key, label (a C string, hashed with its
 * NUL), context_u and context_v (either may be NULL when its length is
 * 0).  bits must be a multiple of 8 from 8 to MAKECRED_KDF_MAX_BITS.
 * 0 on success, -1 if OpenSSL fails or bits is out of range (logged).
 */
int makecred_kdfa(const unsigned char *key, size_t key_len,
    const char *label, const unsigned char *context_u, size_t u_len,
    const unsigned char *context_v, size_t v_len, size_t bits,
    unsigned char *out) __attribute__((warn_unused_result));

/*
 * KDFe (Part 1, 11.4.10.3; SP800-56A concatenation KDF with SHA-256):
 * bits/8 bytes into out from the shared secret z, label (a C string,
 * hashed with its NUL), party_u and party_v (NULL when of length 0).
 * bits and the result as for makecred_kdfa().
 */
int makecred_kdfe(const unsigned char *z, size_t z_len, const char *label,
    const unsigned char *party_u, size_t u_len,
    const unsigned char *party_v, size_t v_len, size_t bits,
    unsigned char *out) __attribute__((warn_unused_result));

#endif
