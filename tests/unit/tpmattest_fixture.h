/*
 * What the tpmattest tests build: OpenSSL signing keys with the public
 * areas of AIKs, quotes and certifies marshalled by hand, their
 * TPMT_SIGNATUREs, and changes to those bytes.
 */
#ifndef WG_TPMATTEST_FIXTURE_H
#define WG_TPMATTEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "crypto/tpmpub.h"

/* Offsets in the quote quote_make() writes (34-byte signer, 32-byte
 * extraData, banks sha256 {0, 7, 16} and sha1 {1}). */
#define OFF_TYPE 4
#define OFF_SIGNER 6
#define OFF_EXTRA 42
#define OFF_CLOCK 76
#define OFF_SAFE 92
#define OFF_COUNT 101
#define OFF_BANK0 105
#define OFF_SELECT0 107
#define OFF_BANK1 111
#define OFF_DIGEST 115
#define QUOTE_LEN 149
#define OFF_NAME 101 /* certify */
#define CERTIFY_LEN 173

/* A marshalling buffer. */
struct buf {
	unsigned char b[1024];
	size_t len;
};

/* A signing key made by OpenSSL and its TPM2B_PUBLIC, parsed. */
struct key {
	EVP_PKEY *pkey;
	struct buf area;
	struct tpm_public pub;
};

/* A change to an attestation or a signature: del bytes at off become
 * ins, which must then be refused with want in the message. */
struct cut {
	size_t off, del;
	const char *ins;
	size_t inslen;
	const char *want;
};
#define CUT(off, del, ins, want) { off, del, ins, sizeof(ins) - 1, want }
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* RSA-2048 and P-256 keys, RSASSA and ECDSA with SHA-256, and another of
 * each (made by group_setup). */
extern struct key rsa_key, rsa_other, ecc_key, ecc_other;

int group_setup(void **state);
int group_teardown(void **state);
/* v as n bytes big-endian; a TPM2B of the n bytes at p. */
void put(struct buf *w, uint64_t v, size_t n);
void put_2b(struct buf *w, const void *p, size_t n);
/* k's TPM2B_PUBLIC made again with scheme and hash, parsed into k->pub. */
void key_public(struct key *k, uint16_t scheme, uint16_t hash);
/*
 * The quote and the certify the offsets above describe: qualifiedSigner
 * 000b 12 13 .. 31, extraData a0 .. bf, clock 0x0102030405060708,
 * resetCount 9, restartCount 10, safe 1, firmwareVersion
 * 0x1122334455667788; the quote's banks sha256 {0, 7, 16} and sha1 {1},
 * pcrDigest d0 .. ef; the certify's name 000b 42 .. 61, qualifiedName
 * 000b 72 .. 91.
 */
void quote_make(struct buf *w);
void certify_make(struct buf *w);
/* k's TPMT_SIGNATURE over p into sig: RSASSA or ECDSA with SHA-256,
 * r and s padded to 32 bytes or not. */
void sign(const struct key *k, const struct buf *p, int pad,
    struct buf *sig);
/* w with del bytes at off replaced by the inslen bytes of ins. */
struct buf splice(const struct buf *w, size_t off, size_t del,
    const void *ins, size_t inslen);

#endif
