/*
 * X.509 for whiteglove's own CAs: create a CA, issue certificates from
 * it, read and write PEM files.  One module so every certificate the
 * project issues is built the same way (RFC 5280 profile).
 */
#ifndef WG_X509_H
#define WG_X509_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/errors.h"

/* A new EC P-256 key; NULL only if OpenSSL fails (logged). */
EVP_PKEY *x509_key_new_p256(void);

/*
 * A certificate skeleton for pub (NULL: the caller sets the key): v3, a random positive 127-bit serial
 * (RFC 5280 4.1.2.2), valid from an hour ago (clock skew) for `days`,
 * subject CN=cn (NULL: an empty subject), issuer issuer's subject (NULL:
 * its own).  The caller adds extensions and signs it, and frees it; NULL
 * on failure.
 */
X509 *x509_cert_new(EVP_PKEY *pub, const char *cn, X509 *issuer, int days);

/*
 * Adds extension nid written in OpenSSL's configuration syntax (value),
 * with issuer for the authority key identifier; 1 on success, else 0.
 */
int x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);

/*
 * A self-signed CA certificate for key, subject CN=cn, valid `days` from
 * now (backdated one hour for clock skew), basicConstraints CA:TRUE
 * (critical), keyUsage keyCertSign|cRLSign (critical), SKI.  The caller
 * frees the result with X509_free; NULL on failure (logged).
 */
X509 *x509_ca_self_signed(EVP_PKEY *key, const char *cn, int days);

/*
 * An issuing CA certificate for pub under parent_cert/parent_key: subject
 * CN=cn, basicConstraints CA:TRUE pathlen:0 (critical), keyUsage
 * keyCertSign|cRLSign (critical), SKI, AKI.  The caller frees it; NULL on
 * failure (logged).
 */
X509 *x509_issue_ca(EVP_PKEY *parent_key, X509 *parent_cert, EVP_PKEY *pub,
    const char *cn, int days);

/*
 * A TLS server certificate for pub issued by ca_cert/ca_key: subject
 * CN=names[0], subjectAltName with every name (IPv4/IPv6 literals as IP
 * addresses, others as DNS names), EKU serverAuth, keyUsage
 * digitalSignature.  The caller frees it; NULL on failure (logged).
 */
X509 *x509_issue_server(EVP_PKEY *ca_key, X509 *ca_cert, EVP_PKEY *pub,
    const char *const *names, size_t nnames, int days);

/*
 * Finishes an end-entity certificate cert (from x509_cert_new, its key
 * set; NULL passes through): CA:FALSE, digitalSignature (critical), EKU
 * eku, subjectAltName san (NULL: none), SKI, AKI, signed by ca_key.  Takes
 * cert: returns it, or NULL (freed, logged with what) on failure.
 */
X509 *x509_leaf_sign(X509 *cert, EVP_PKEY *ca_key, X509 *ca_cert,
    const char *eku, const char *san, const char *what);

/* Writes key as unencrypted PKCS#8 PEM to path, mode 0600, atomically. */
enum wg_err x509_key_write(const char *path, EVP_PKEY *key)
    __attribute__((warn_unused_result));
/* Writes cert as PEM to path, mode 0644, atomically. */
enum wg_err x509_cert_write(const char *path, X509 *cert)
    __attribute__((warn_unused_result));
/* Reads a PEM private key / certificate; NULL if absent or bad (logged). */
EVP_PKEY *x509_key_read(const char *path);
X509 *x509_cert_read(const char *path);

/* 1 if cert was signed by issuer's key and is within its validity now. */
int x509_cert_verify_issued(X509 *cert, X509 *issuer);

/* The serial number in lower-case hex, cut at outlen - 1 ("" if none). */
void x509_serial_hex(X509 *cert, char *out, size_t outlen);

/* SHA-256 fingerprint of the DER certificate as lower-case hex (65 B). */
void x509_cert_sha256_hex(X509 *cert, char out[65]);

#endif
