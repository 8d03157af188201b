/*
 * TPM 2.0 attestations as they travel on the wire (TPM 2.0 Library Part 2,
 * revision 1.59): one strict parser of TPMS_ATTEST for the two kinds the
 * server checks, TPM2_Quote (the device token: the AIK quotes PCRs with
 * the server's nonce) and TPM2_Certify (join: the AIK certifies the
 * device key and the transport key), and the check of the TPMT_SIGNATURE
 * the signing key made over it.
 */
#ifndef WG_TPMATTEST_H
#define WG_TPMATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"
#include "crypto/tpmpub.h"

#define TPM_GENERATED_VALUE 0xff544347u
#define TPM_ST_ATTEST_CERTIFY 0x8017
#define TPM_ST_ATTEST_QUOTE 0x8018

#define TPM_ATTEST_NAME_MAX 66	 /* sizeof(TPMU_NAME): a SHA-512 name */
#define TPM_ATTEST_DATA_MAX 64	 /* extraData: a nonce up to SHA-512 */
#define TPM_ATTEST_DIGEST_MAX 64 /* pcrDigest: up to SHA-512 */
#define TPM_ATTEST_BANKS_MAX 4	 /* TPML_PCR_SELECTION.count */
#define TPM_ATTEST_SELECT_MAX 4	 /* sizeofSelect: PCRs 0 to 31 */

/* One TPMS_PCR_SELECTION (Part 2 10.6.2): a bank and its chosen PCRs. */
struct tpm_pcr_bank {
	uint16_t hash;	    /* TPM_ALG_SHA1, _SHA256, _SHA384 or _SHA512 */
	uint8_t select_len; /* sizeofSelect as received, 1 to 4 */
	uint32_t pcrs;	    /* bit n set: PCR n (pcrSelect[n / 8] bit n % 8) */
};

/* A parsed TPMS_ATTEST (Part 2 10.12.12): quote or certify. */
struct tpm_attest {
	uint16_t type; /* TPM_ST_ATTEST_QUOTE or TPM_ST_ATTEST_CERTIFY */
	unsigned char signer[TPM_ATTEST_NAME_MAX]; /* qualifiedSigner */
	size_t signer_len;
	unsigned char extra[TPM_ATTEST_DATA_MAX]; /* extraData: the nonce */
	size_t extra_len;
	/* clockInfo (TPMS_CLOCK_INFO, Part 2 10.11.1) */
	uint64_t clock;
	uint32_t reset_count, restart_count;
	int safe; /* 0 or 1 */
	uint64_t firmware;
	/* certify (TPMS_CERTIFY_INFO): the certified object's name and
	 * qualifiedName; empty in a quote */
	unsigned char name[TPM_ATTEST_NAME_MAX];
	unsigned char qualified_name[TPM_ATTEST_NAME_MAX];
	size_t name_len, qualified_name_len;
	/* quote (TPMS_QUOTE_INFO): pcrSelect in its order, and pcrDigest;
	 * empty in a certify */
	struct tpm_pcr_bank banks[TPM_ATTEST_BANKS_MAX];
	size_t bank_count;
	unsigned char pcr_digest[TPM_ATTEST_DIGEST_MAX];
	size_t pcr_digest_len;
};

/*
 * Parses a TPMS_ATTEST of exactly len bytes (the body of a TPM2B_ATTEST,
 * the bytes the TPM signed), strictly: magic TPM_GENERATED_VALUE, type
 * quote or certify (the other attestations are refused by name), every
 * TPM2B within its cap above and within the buffer, each name empty, a
 * handle or a hash algorithm with a digest of its size, safe 0 or 1, at
 * most 4 PCR banks of known hashes, none twice, sizeofSelect 1 to 4, no
 * trailing bytes.  WG_OK, or WG_E_JSON_FIELD with why naming the field,
 * its byte offset (from buf) and the rule; *out is then all zero.
 */
enum wg_err tpm_attest_parse(const unsigned char *buf, size_t len,
    struct tpm_attest *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * The same for a marshalled TPM2B_ATTEST (Part 2 10.12.13): a 2-byte size
 * that must be len - 2, then the TPMS_ATTEST; offsets in why count from
 * the size field.  The signed bytes are buf + 2, len - 2.
 */
enum wg_err tpm_attest_parse_2b(const unsigned char *buf, size_t len,
    struct tpm_attest *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * Verifies a marshalled TPMT_SIGNATURE (Part 2 11.3.4; exactly one, no
 * trailing bytes) over attest (the TPMS_ATTEST exactly as signed) with
 * key, a key tpm_public_parse() accepted: RSASSA-PKCS1-v1_5 with SHA-256
 * for an RSA key (the signature as long as the modulus), ECDSA with
 * SHA-256 for a P-256 key (r and s, TPM2B_ECC_PARAMETERs of 1 to 32
 * bytes).  Refused: any other sigAlg or hash, and a sigAlg or hash that
 * differs from the key's own scheme when it has one (key->scheme is not
 * TPM_ALG_NULL).
 *
 * WG_OK if the signature is good; WG_E_JSON_FIELD with why saying which
 * of structure, algorithm or signature failed; WG_E_CRYPTO (logged) if
 * OpenSSL could not check it at all; WG_E_INTERNAL (logged) if key is
 * not one tpm_public_parse() filled in.
 */
enum wg_err tpm_attest_verify(const struct tpm_public *key,
    const unsigned char *attest, size_t attest_len, const unsigned char *sig,
    size_t sig_len, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
