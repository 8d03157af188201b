/*
 * Certificates about TPM keys: EK certificates as a TPM manufacturer's CA
 * issues them (TCG EK Credential Profile for TPM Family 2.0, section 3)
 * and as the attestation CA checks them; AIK certificates as the
 * attestation CA issues them and the agent checks them; the CA chain as
 * SCEP's GetCACert sends it (RFC 8894, section 4.2.1.2: a degenerate
 * certs-only PKCS#7 SignedData).
 */
#ifndef WG_TPMCERT_H
#define WG_TPMCERT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/errors.h"
#include "crypto/tpmpub.h"

/* Bytes of a DER certificate accepted from the wire or NV at most. */
#define TPMCERT_DER_MAX 8192

/* Text of the TPM attributes an EK certificate names (2.23.133.2.1-3). */
#define TPMCERT_ATTR_MAX 64

/* The SAN directoryName of an EK certificate (TCG EK profile 3.2.9). */
struct tpmcert_tpm {
	char manufacturer[TPMCERT_ATTR_MAX + 1]; /* "id:49424D00" */
	char model[TPMCERT_ATTR_MAX + 1];	 /* "swtpm" */
	char version[TPMCERT_ATTR_MAX + 1];	 /* "id:20191023" */
};

/* The TCG OIDs (arc 2.23.133) these certificates carry. */
#define TPMCERT_OID_TPM_MANUFACTURER "2.23.133.2.1"
#define TPMCERT_OID_TPM_MODEL "2.23.133.2.2"
#define TPMCERT_OID_TPM_VERSION "2.23.133.2.3"
#define TPMCERT_OID_KP_EK "2.23.133.8.1"  /* tcg-kp-EKCertificate */
#define TPMCERT_OID_KP_AIK "2.23.133.8.3" /* tcg-kp-AIKCertificate */

/* The AIK certificate's policies (Microsoft's, as its attestation CA). */
#define TPMCERT_OID_POLICY_EK_ON_LIST "1.3.6.1.4.1.311.21.30"
#define TPMCERT_OID_POLICY_EK_CERT "1.3.6.1.4.1.311.21.31"

/* How the attestation CA came to trust an EK (the AIK's policy OID). */
enum tpmcert_assurance {
	TPMCERT_EK_ON_LIST,   /* TPMCERT_OID_POLICY_EK_ON_LIST: imported */
	TPMCERT_EK_CERT,      /* TPMCERT_OID_POLICY_EK_CERT: EK cert chain */
	TPMCERT_ASSURANCE_MAX /* also "none" (a failed tpmcert_verify_aik) */
};

/*
 * Sets the subject key of cert to p's key bits with its algorithm (RFC
 * 3279), as they are, without OpenSSL's key encoders (X509_set_pubkey
 * costs more than the signature in OpenSSL 3.0).  1, or 0 on failure.
 */
int tpmcert_set_key(X509 *cert, const struct tpm_public *p);

/*
 * A client certificate (x509_leaf_sign: EKU clientAuth) for a key made
 * in a TPM, key its public area (a joined device's DK, its MDM key):
 * subject CN=cn, valid `days`, issued by ca_cert/ca_key.  The caller frees it; NULL on failure (logged).
 */
X509 *tpmcert_issue_client(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct tpm_public *key, const char *cn, int days);

/*
 * An EK certificate for ek issued by ca_cert/ca_key, valid `days`: empty
 * subject; subjectAltName (critical) with one directoryName holding
 * tpmManufacturer, tpmModel and tpmVersion (2.23.133.2.1/.2/.3) from tpm;
 * basicConstraints CA:FALSE (critical); keyUsage keyEncipherment (RSA) or
 * keyAgreement (ECC) (critical); extendedKeyUsage 2.23.133.8.1; AKI; a
 * random serial.  The caller frees it; NULL on failure (logged).
 */
X509 *tpmcert_issue_ek(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct tpm_public *ek, const struct tpmcert_tpm *tpm, int days);

/*
 * Checks an EK certificate (DER, at most TPMCERT_DER_MAX bytes) for the
 * EK ek: it parses, with no byte after it (a caller reading an NV index
 * larger than the certificate cuts it to its DER length first); its key
 * is ek's; its extendedKeyUsage holds 2.23.133.8.1; its SAN names the TPM
 * (filled into *tpm: each attribute once, a UTF8String or PrintableString
 * of 1..TPMCERT_ATTR_MAX printable characters); and it chains, through
 * the intermediates in `untrusted` (may be NULL) or in roots, to a
 * self-signed root in roots, at the current time (RFC 5280 6.1, OpenSSL's
 * defaults: critical extensions OpenSSL does not process are refused,
 * none is waived; a critical SAN of directoryName passes).
 * WG_OK; else *tpm zeroed and why naming the rule that failed, with
 * WG_E_EK_CERT_INVALID if the certificate itself is wrong whoever issued
 * it (not DER, a key other than ek, the EKU or TPM names wrong, a
 * critical extension OpenSSL does not process) or WG_E_EK_CERT_UNTRUSTED
 * if its chain does not vouch for the EK now (no trusted root,
 * self-signed, a bad signature, an intermediate missing, and any
 * certificate of the chain, this one included, expired or not yet
 * valid: time says nothing about which TPM it names, so a caller may
 * still trust the EK another way, as the attestation CA does with the
 * imported hardware hashes).
 */
enum wg_err tpmcert_verify_ek(const unsigned char *der, size_t len,
    const struct tpm_public *ek, X509_STORE *roots,
    STACK_OF(X509) *untrusted, struct tpmcert_tpm *tpm, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/*
 * An AIK certificate for aik issued by ca_cert/ca_key, valid `days`:
 * subject CN = the digest of the AIK's TPM name in hex (the name without
 * its nameAlg, SHA-256 being the only one: 64 characters, RFC 5280's
 * ub-common-name); basicConstraints CA:FALSE (critical); extendedKeyUsage
 * 2.23.133.8.3; keyUsage digitalSignature (critical); certificatePolicies
 * with the assurance OID; the extension TPMCERT_OID_EK_SHA256 (non-critical,
 * an OCTET STRING of the SHA-256 of the EK's TPMT_PUBLIC:
 * tpm_public_sha256()); AKI, SKI, a random serial.  The caller frees it;
 * NULL on failure (logged).
 */
X509 *tpmcert_issue_aik(EVP_PKEY *ca_key, X509 *ca_cert,
    const struct tpm_public *aik, const struct tpm_public *ek,
    enum tpmcert_assurance assurance, int days);

/* 2.25.<UUID>: an OID of our own (ITU-T X.667), for the EK digest. */
#define TPMCERT_OID_EK_SHA256 \
	"2.25.19462708453119349057327204349829063347"

/*
 * Checks an AIK certificate (DER, at most TPMCERT_DER_MAX bytes, nothing
 * after it) on the device: it parses; its key is aik's; it carries
 * 2.23.133.8.3; its certificatePolicies hold exactly one of the two
 * assurance OIDs; it chains to a root of roots through `untrusted` at the
 * current time, as tpmcert_verify_ek's chain.  *assurance gets its policy
 * OID's meaning.  WG_OK, or WG_E_AIK_CERT_INVALID with why and
 * *assurance = TPMCERT_ASSURANCE_MAX.
 */
enum wg_err tpmcert_verify_aik(const unsigned char *der, size_t len,
    const struct tpm_public *aik, X509_STORE *roots,
    STACK_OF(X509) *untrusted, enum tpmcert_assurance *assurance,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/*
 * The certificates (at least one), in their order, as a DER certs-only
 * PKCS#7 SignedData (version 1, no digest algorithms, content type data
 * with the content absent, no signers), as RFC 8894 GetCACert answers
 * with more than one certificate.  *out is xmalloc'd (the caller frees
 * it); WG_E_CRYPTO on failure (logged).
 */
enum wg_err tpmcert_p7_certs(STACK_OF(X509) *certs, unsigned char **out,
    size_t *len) __attribute__((warn_unused_result));

/*
 * Reads every certificate of the regular files in directory dir (sorted
 * by name; dotfiles and subdirectories skipped) into a new store; *n
 * says how many.  A file is one DER certificate, or PEM with one or more
 * CERTIFICATE blocks and no other kind, told apart by content; at most
 * 1 MiB each, 4096 files.  NULL (and *n 0) if dir cannot be read or a
 * file there is not that (logged, naming the file).  An empty directory
 * gives an empty store.  The caller frees it with X509_STORE_free.
 */
X509_STORE *tpmcert_store_load_dir(const char *dir, size_t *n);

#endif
