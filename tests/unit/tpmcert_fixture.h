/*
 * What the tpmcert tests share: a trusted test CA and a forger with the
 * same name, the corpus keys, and helpers that change a certificate and
 * sign it again.
 */
#ifndef WG_TPMCERT_FIXTURE_H
#define WG_TPMCERT_FIXTURE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "crypto/tpmcert.h"
#include "crypto/tpmpub.h"

#define RSA_EK "tpmpub/good/ek-rsa.hex"
#define ECC_EK "tpmpub/good/ek-ecc.hex"
#define SWTPM_ROOT "tpmcert/swtpm-localca-rootca.pem"
#define SWTPM_CA "tpmcert/swtpm-localca.pem"

/* A CA of the tests: a P-256 key, its certificate, a store of it. */
struct ca {
	EVP_PKEY *key;
	X509 *cert;
	X509_STORE *store;
};

/* A TPM key of the corpus; pub.area points into buf. */
struct key {
	unsigned char *buf;
	struct tpm_public pub;
};

/* swtpm's TCG vendor id for IBM, its model, its firmware date; ours. */
extern const struct tpmcert_tpm swtpm_tpm, test_tpm;
/* The trusted CA and one nobody trusts (made by group_setup). */
extern struct ca ca, forger;

int group_setup(void **state);
int group_teardown(void **state);
void key_load(const char *rel, struct key *k);
X509 *pem_cert(const char *rel);
/* DER of cert; the caller frees it with OPENSSL_free. */
unsigned char *der_of(X509 *cert, size_t *len);
/* Signs cert again with key once a test has changed it. */
void resign(X509 *cert, EVP_PKEY *key);
/* Replaces extension nid of cert by value (config syntax); NULL: drop. */
void ext_set(X509 *cert, int nid, const char *value);
/* Replaces the certificatePolicies by the n oids (0: none). */
void policies_set(X509 *cert, const char *const *oids, int n);

#endif
