/*
 * The token service's signed tokens: compact JWS (RFC 7515) with ES256
 * (ECDSA P-256, SHA-256) through cjose, and the JWK Set (RFC 7517) that
 * publishes the verification key.  The key id is the key's RFC 7638
 * thumbprint.
 */
#ifndef WG_CRYPTO_JOSE_H
#define WG_CRYPTO_JOSE_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/errors.h"

/* An ES256 signing key; opaque. */
struct jose_signer;

/*
 * A signer for key, an EC P-256 private key (copied: the caller keeps
 * key).  WG_E_CRYPTO (logged) if it is not one.
 */
enum wg_err jose_signer_new(EVP_PKEY *key, struct jose_signer **out)
    __attribute__((warn_unused_result));
void jose_signer_free(struct jose_signer *s);

/* The key id (RFC 7638 thumbprint, base64url); borrowed. */
const char *jose_signer_kid(const struct jose_signer *s);

/*
 * A compact JWS of claims (a JSON object) with the protected header
 * {"alg":"ES256","typ":"JWT","kid":...}; *out is xmalloc'd.
 */
enum wg_err jose_sign(const struct jose_signer *s, const json_t *claims,
    char **out) __attribute__((warn_unused_result));

/* {"keys": [the public JWK with kid, "use":"sig", "alg":"ES256"]}. */
json_t *jose_jwks(const struct jose_signer *s);

/*
 * Verifies a compact JWS made by jose_sign() with s: the header must say
 * ES256 and s's kid, the signature must verify; *claims (a new reference,
 * to an object that may be shared: read it, never change it) is its
 * payload, a JSON object.  WG_E_TOKEN_INVALID with why otherwise.
 * Times (exp, nbf) are the caller's to check.  A token that verified is
 * remembered by the SHA-256 of its text until its exp: the same bytes
 * again are not checked again (a device sends one token with every
 * request of its run); any other bytes are.  Thread-safe.
 */
enum wg_err jose_verify(const struct jose_signer *s, const char *jws,
    json_t **claims, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
