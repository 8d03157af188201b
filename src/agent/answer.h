/*
 * The answers the device reads during "Acquire profile" and "Securing
 * your hardware", each parsed once, strictly, into a typed struct
 * (docs/api.md): the deployment service's sealed profile, the
 * attestation CA's enrollment answer and the manufacturer's EK
 * certificate answer (Intel's {"pubhash", "certificate"}).
 */
#ifndef WG_AGENT_ANSWER_H
#define WG_AGENT_ANSWER_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/errors.h"

/* Bytes of an enrollment answer and of each of its parts, at most. */
#define ANSWER_BODY_MAX (64 * 1024)
#define ANSWER_BLOB_MAX 512	  /* TPM2B_ID_OBJECT */
#define ANSWER_SECRET_MAX 512	  /* TPM2B_ENCRYPTED_SECRET */
#define ANSWER_SEALED_MAX 16384	  /* IV || AES-256-GCM(certificate) || tag */
#define ANSWER_CHAIN_MAX 4	  /* CA certificates */
#define ANSWER_CERT_MAX 8192	  /* one DER certificate */

struct enroll_answer {
	unsigned char *blob, *secret, *sealed;
	size_t blob_len, secret_len, sealed_len;
	STACK_OF(X509) *chain;	/* caChain, issuing CA first */
};

/*
 * Parses POST /aik/enroll's answer (len bytes of JSON): exactly the four
 * fields, each base64 within its cap, caChain 1..ANSWER_CHAIN_MAX DER
 * certificates without trailing bytes.  On success *out holds them (free
 * with enroll_answer_free); on failure *out is empty, the result is
 * WG_E_NET_PROTOCOL and why names the field and the rule.
 */
enum wg_err enroll_answer_parse(const char *body, size_t len,
    struct enroll_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void enroll_answer_free(struct enroll_answer *a);

/*
 * Parses POST /ztd/v1/profile's answer the same way: exactly
 * credentialBlob, encryptedSecret and encryptedProfile (the profile JSON
 * sealed like the AIK certificate); out->chain stays NULL.
 */
enum wg_err profile_answer_parse(const char *body, size_t len,
    struct enroll_answer *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * Parses an EK certificate service's answer {"pubhash", "certificate":
 * base64url DER, padded or not}: *der (xmalloc'd, the caller frees it)
 * is the certificate's bytes, at most ANSWER_CERT_MAX.  WG_E_NET_PROTOCOL
 * and why otherwise.
 */
enum wg_err ekcert_answer_parse(const char *body, size_t len,
    unsigned char **der, size_t *n, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
