/*
 * TPM 2.0 public areas (TPM2B_PUBLIC / TPMT_PUBLIC, TPM 2.0 Part 2
 * section 12.2) as they travel on the wire: one strict parser, the TPM
 * "name" of a key, and conversion to an OpenSSL public key.
 */
#ifndef WG_TPMPUB_H
#define WG_TPMPUB_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/errors.h"

#define TPM_ALG_RSA 0x0001
#define TPM_ALG_SHA1 0x0004
#define TPM_ALG_AES 0x0006
#define TPM_ALG_SHA256 0x000B
#define TPM_ALG_SHA384 0x000C
#define TPM_ALG_SHA512 0x000D
#define TPM_ALG_NULL 0x0010
#define TPM_ALG_RSASSA 0x0014
#define TPM_ALG_RSAES 0x0015
#define TPM_ALG_RSAPSS 0x0016
#define TPM_ALG_OAEP 0x0017
#define TPM_ALG_ECDSA 0x0018
#define TPM_ALG_ECDH 0x0019
#define TPM_ALG_ECDAA 0x001A
#define TPM_ALG_ECSCHNORR 0x001C
#define TPM_ALG_ECC 0x0023
#define TPM_ALG_CFB 0x0043
#define TPM_ECC_NIST_P256 0x0003

/* TPMA_OBJECT bits (Part 2, 8.3). */
#define TPMA_FIXEDTPM (1u << 1)
#define TPMA_STCLEAR (1u << 2)
#define TPMA_FIXEDPARENT (1u << 4)
#define TPMA_SENSITIVEDATAORIGIN (1u << 5)
#define TPMA_USERWITHAUTH (1u << 6)
#define TPMA_ADMINWITHPOLICY (1u << 7)
#define TPMA_NODA (1u << 10)
#define TPMA_ENCRYPTEDDUPLICATION (1u << 11)
#define TPMA_RESTRICTED (1u << 16)
#define TPMA_DECRYPT (1u << 17)
#define TPMA_SIGN (1u << 18)
#define TPMA_X509SIGN (1u << 19)
/* The bits Part 2 (revision 1.59) leaves reserved: they must be clear. */
#define TPMA_RESERVED 0xFFF0F309u

struct tpm_public {
	uint16_t type;	   /* TPM_ALG_RSA or TPM_ALG_ECC */
	uint16_t name_alg; /* TPM_ALG_SHA256 */
	uint32_t attributes;
	unsigned char auth_policy[64];
	size_t auth_policy_len;
	/* parameters both types have (TPM_ALG_NULL when absent) */
	uint16_t sym_alg;      /* TPM_ALG_NULL or TPM_ALG_AES */
	uint16_t sym_bits;     /* 128 with AES */
	uint16_t sym_mode;     /* TPM_ALG_CFB with AES */
	uint16_t scheme;       /* TPM_ALG_NULL, TPM_ALG_RSASSA, ... */
	uint16_t scheme_hash;  /* the scheme's hashAlg, or TPM_ALG_NULL */
	uint16_t scheme_count; /* ECDAA's count, else 0 */
	/* RSA */
	uint16_t rsa_bits;
	uint32_t rsa_exponent; /* 0 means 65537 */
	unsigned char rsa_modulus[512];
	size_t rsa_modulus_len;
	/* ECC */
	uint16_t ecc_curve;
	unsigned char ecc_x[66], ecc_y[66];
	size_t ecc_x_len, ecc_y_len;
	/* the TPMT_PUBLIC bytes as received (for the name) */
	const unsigned char *area;
	size_t area_len;
};

/*
 * Parses a TPM2B_PUBLIC (2-byte size, then TPMT_PUBLIC) of exactly len
 * bytes.  Accepts RSA (2048 bits) and ECC (NIST P-256) keys with a SHA-256
 * name algorithm; out->area points into buf (borrowed).  WG_E_JSON_FIELD
 * with why naming the field and the rule on failure.
 *
 * Also refused: reserved TPMA_OBJECT bits, an authPolicy that is neither
 * empty nor 32 bytes, a symmetric other than TPM_ALG_NULL or
 * AES-128-CFB, schemes other than NULL/RSASSA/RSAES/RSAPSS/OAEP (RSA) or
 * NULL/ECDSA/ECDH/ECDAA/ECSCHNORR (ECC) with a SHA-1/256/384/512 hash, a
 * KDF other than TPM_ALG_NULL, an exponent other than 0 or 65537, a
 * modulus that is not exactly 2048 bits, an ECC point that is not 32+32
 * bytes on P-256.
 */
enum wg_err tpm_public_parse(const unsigned char *buf, size_t len,
    struct tpm_public *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * Whether a parsed public area can be an endorsement key that
 * TPM2_MakeCredential wraps to: restricted decrypt, not sign, with the
 * AES-128-CFB symmetric of the TCG EK templates.  0, or -1 with why.
 */
int tpm_public_ek_check(const struct tpm_public *ek, char *why,
    size_t whylen);

/* The TPM name: nameAlg (2 bytes) || SHA-256(TPMT_PUBLIC): 34 bytes. */
void tpm_public_name(const struct tpm_public *p, unsigned char name[34]);

/* SHA-256 of the TPMT_PUBLIC area (what the hardware hash records). */
void tpm_public_sha256(const struct tpm_public *p, unsigned char out[32]);

/*
 * Intel's EK certificate service key: SHA-256 of modulus || exponent (RSA,
 * exponent as 3 big-endian bytes 01 00 01 for 65537) or of x || y (ECC).
 */
void tpm_public_ek_lookup_hash(const struct tpm_public *p,
    unsigned char out[32]);

/*
 * The lookup hash as Intel's service names it, base64url without the
 * padding: 43 characters and a NUL.  tpm2_getekcertificate requests
 * <base>/<this>%3D (it keeps the '=' pad, URL-escaped).
 */
void tpm_public_ek_lookup_id(const struct tpm_public *p, char out[44]);

/* "rsa", "ecc", "sha256", "aes", "cfb", "null", ...; "0xNNNN" otherwise
 * (into buf, which the result may point to). */
const char *tpm_alg_name(uint16_t alg, char buf[8]);

/* objectAttributes as "fixedTPM|fixedParent|..." (Part 2 names), always
 * NUL-terminated, cut at outlen - 1. */
void tpm_public_attributes_str(uint32_t attributes, char *out,
    size_t outlen);

/*
 * The subjectPublicKey of p as X.509 carries it (RFC 3279 2.3): the DER
 * RSAPublicKey {modulus, 65537} (270 bytes) or the uncompressed point
 * 04 || x || y (65 bytes), into out[TPM_PUBLIC_KEY_BITS_MAX]; returns its
 * length.  For certificates made and checked without OpenSSL's key
 * encoders, which cost more than the signatures (OpenSSL 3.0).
 */
#define TPM_PUBLIC_KEY_BITS_RSA 270
#define TPM_PUBLIC_KEY_BITS_MAX TPM_PUBLIC_KEY_BITS_RSA
size_t tpm_public_key_bits(const struct tpm_public *p, unsigned char *out);

/* An OpenSSL public key for p; NULL on failure (logged). Caller frees. */
EVP_PKEY *tpm_public_to_pkey(const struct tpm_public *p);

/*
 * Text the TPM packs four characters to a 32-bit word, big-endian
 * (TPM_PT_MANUFACTURER "IBM ", TPM_PT_VENDOR_STRING_1..4): the printable
 * characters of n words, trailing spaces trimmed, into out[4 * n + 1].
 */
void tpm_words_text(const uint32_t *words, size_t n, char *out);

#endif
