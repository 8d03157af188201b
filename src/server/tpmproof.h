/*
 * What a device proves with its TPM when it asks for a certificate (the
 * join's device key, the MDM key): keys made in the TPM and certified by
 * the AIK its device token is bound to (TPM2_Certify over a nonce of the
 * token service), and a PKCS#10 request signed by one of them.  The JSON
 * shapes are the join's (docs/api.md): "AikCertificate" and
 * "AttestationData": {"Nonce", "<Key>": {"Public", "CertifyInfo",
 * "Signature"}, ...}.
 */
#ifndef WG_SERVER_TPMPROOF_H
#define WG_SERVER_TPMPROOF_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/tpmattest.h"
#include "crypto/tpmpub.h"
#include "server/http.h"
#include "server/server.h"
#include "store/store.h"

#define PROOF_TPM_MAX 1024 /* a TPM2B_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE */

/* A key the TPM made, and the AIK's certification of it. */
struct proof_key {
	unsigned char *pub, *info, *sig;
	size_t pub_len, info_len, sig_len;
	struct tpm_public key;
	struct tpm_attest att;
};

/* The AIK certificate and the nonce the certifications are over. */
struct proof {
	unsigned char *aik_cert, *nonce;
	size_t aik_cert_len, nonce_len;
	struct tpm_public aik;	/* from the attestation CA's record */
	char nonce_hex[65];	/* SHA-256 of the nonce: its record */
};

void proof_key_free(struct proof_key *k);
void proof_free(struct proof *p);

/* A base64 member name of o (path: its place, for messages), 1..max. */
enum wg_err proof_b64(struct http_req *req, const json_t *o,
    const char *path, const char *name, size_t max, unsigned char **out,
    size_t *len) __attribute__((warn_unused_result));

/*
 * AikCertificate of root and AttestationData.Nonce of att into *p; each
 * name of keys (NULL-terminated) must be a member of att, nothing else.
 */
enum wg_err proof_parse(struct http_req *req, const json_t *root,
    const json_t *att, const char *const *keys, struct proof *p)
    __attribute__((warn_unused_result));

/*
 * AttestationData.<name>: {"Public" (when with_public), "CertifyInfo",
 * "Signature"} into *k, the certification parsed.
 */
enum wg_err proof_key_parse(struct http_req *req, const json_t *att,
    const char *name, int with_public, struct proof_key *k)
    __attribute__((warn_unused_result));

/*
 * The AIK: the certificate must be the attestation CA's for the AIK
 * named aik_name (the device token's); its public area into p->aik.
 */
enum wg_err proof_aik(struct http_req *req, struct store_conn *c,
    const char *aik_name, struct proof *p)
    __attribute__((warn_unused_result));

/*
 * k->pub parsed into k->key (what: the key, for messages), an RSA key made
 * in the TPM (fixedTPM, fixedParent, sensitiveDataOrigin), not restricted,
 * sign only (sign) or decrypt only; certified by p->aik over p->nonce.
 */
enum wg_err proof_key_check(struct http_req *req, const struct proof *p,
    const char *what, struct proof_key *k, int sign)
    __attribute__((warn_unused_result));

/*
 * A DER PKCS#10 request whose signature verifies and whose key is key.
 * what names the key.
 */
enum wg_err proof_csr(struct http_req *req, const unsigned char *der,
    size_t len, const struct tpm_public *key, const char *what)
    __attribute__((warn_unused_result));

/* Days a device certificate is valid: the join's and the sign-in's. */
#define PROOF_DEVICE_CERT_DAYS 365

/* A certificate issued for a proved key. */
struct proof_cert {
	char serial[65];	/* hex */
	char thumbprint[41];	/* SHA-1 of the DER, hex upper case */
	char *b64;		/* the DER in base64, xmalloc'd */
	int64_t created_ms, not_after_ms;
};

/*
 * A client certificate (tpmcert_issue_client) for the TPM key key from
 * ca, subject CN=cn, valid `days`; WG_E_CRYPTO answered if it cannot be
 * made.
 */
enum wg_err proof_issue(struct http_req *req, const struct service_ca *ca,
    const struct tpm_public *key, const char *cn, int days,
    struct proof_cert *out)
    __attribute__((warn_unused_result));

/*
 * A TPM2_Quote (att, parsed from quote) whose qualifying data is nonce,
 * signed by aik (sig).  WG_E_ATTESTATION_INVALID answered otherwise.
 */
enum wg_err proof_quote_check(struct http_req *req,
    const struct tpm_public *aik, const struct tpm_attest *att,
    const unsigned char *quote, size_t qlen, const unsigned char *sig,
    size_t slen, const unsigned char *nonce, size_t nlen)
    __attribute__((warn_unused_result));

/*
 * Takes p's nonce in the caller's transaction: WG_E_NONCE_INVALID (with
 * why it cannot be taken) if it is not there to take.
 */
enum wg_err proof_nonce_take(struct http_req *req, struct store_conn *c,
    const struct proof *p) __attribute__((warn_unused_result));

#endif
