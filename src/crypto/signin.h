/*
 * The sign-in's JOSE (step 7 of the flow, docs/api.md "The user's
 * sign-in"), shared by the token service and the agent: compact JWS split
 * into its parts, the session key's JWE (RFC 7516: RSA-OAEP-256 or
 * RSA-OAEP to the transport key, A256GCM; the content encryption key is
 * the session key), the proof-of-possession key derived from the session
 * key (SP 800-108 counter mode, HMAC-SHA256, label
 * "AzureAD-SecureConversation", as MS-OAPXBC derives it), and HS256 JWS
 * with that key.
 *
 * cjose has no RSA-OAEP-256 and chooses the content encryption key
 * itself, so the JWE is made here with OpenSSL; the HS256 JWS goes
 * through cjose.  The RS256 signature of a sign-in request is made by the
 * TPM (the agent) and checked with the device key's public area (the
 * server), so only its split is here.
 */
#ifndef WG_CRYPTO_SIGNIN_H
#define WG_CRYPTO_SIGNIN_H

#include <stddef.h>

#include <jansson.h>

#include "common/errors.h"
#include "crypto/tpmpub.h"

#define SIGNIN_KEY_LEN 32	/* the session key, the PoP key */
#define SIGNIN_CTX_LEN 24	/* the PoP request's header "ctx" */
#define SIGNIN_KDF_LABEL "AzureAD-SecureConversation"
#define SIGNIN_JWS_MAX 16384	/* bytes of a request JWS at most */

/* How the session key is wrapped to the TK (the profile's choice). */
enum signin_wrap {
	SIGNIN_WRAP_OAEP256,	/* "RSA-OAEP-256": OAEP with SHA-256 */
	SIGNIN_WRAP_OAEP,	/* "RSA-OAEP": OAEP with SHA-1 (Windows) */
	SIGNIN_WRAP_MAX
};

/* "RSA-OAEP-256" or "RSA-OAEP"; NULL for another value. */
const char *signin_wrap_name(enum signin_wrap w);
/* The wrap a JWE "alg" names; -1 if neither. */
int signin_wrap_parse(const char *alg);

/*
 * A compact JWS in its parts.  header and claims are the decoded JSON
 * objects (new references; signin_jws_free drops them), signing_input
 * points into the caller's text (BASE64URL(header) "." BASE64URL(claims),
 * signing_input_len bytes), sig the decoded signature (xmalloc'd).
 */
struct signin_jws {
	json_t *header, *claims;
	const char *signing_input;
	size_t signing_input_len;
	unsigned char *sig;
	size_t sig_len;
};

/*
 * Splits jws (at most SIGNIN_JWS_MAX bytes): three base64url parts
 * without padding, the first two JSON objects (no duplicate members), the
 * third 1 to 512 bytes.  Verifies nothing.  WG_E_JSON_FIELD with why
 * otherwise (*out zeroed).
 */
enum wg_err signin_jws_split(const char *jws, struct signin_jws *out,
    char *why, size_t whylen) __attribute__((warn_unused_result));
void signin_jws_free(struct signin_jws *j);

/*
 * Whether j's signature is RS256 (RSASSA-PKCS1-v1_5, SHA-256) over its
 * signing input by key, an RSA key tpm_public_parse() accepted.  WG_OK,
 * WG_E_JSON_FIELD with why if not (a signature of the wrong size too),
 * WG_E_CRYPTO (logged) if OpenSSL cannot check it.
 */
enum wg_err signin_rs256_verify(const struct signin_jws *j,
    const struct tpm_public *key, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * The proof-of-possession key: SP 800-108 counter mode with HMAC-SHA256
 * of the session key, label SIGNIN_KDF_LABEL, context ctx (its 24
 * bytes), 256 bits.  0, or -1 if OpenSSL fails (logged).
 */
int signin_pop_key(const unsigned char session_key[SIGNIN_KEY_LEN],
    const unsigned char ctx[SIGNIN_CTX_LEN],
    unsigned char out[SIGNIN_KEY_LEN]) __attribute__((warn_unused_result));

/*
 * A compact JWS of claims with the header {"alg":"HS256","typ":"JWT",
 * "ctx":"<base64 of ctx>"}, keyed with key (through cjose); *out is
 * xmalloc'd.  WG_E_CRYPTO (logged) on failure.
 */
enum wg_err signin_hs256_sign(const unsigned char key[SIGNIN_KEY_LEN],
    const unsigned char ctx[SIGNIN_CTX_LEN], const json_t *claims,
    char **out) __attribute__((warn_unused_result));

/*
 * Whether j (split from text, the whole compact JWS) is HS256 with key
 * (through cjose).  WG_OK, else WG_E_JSON_FIELD with why.
 */
enum wg_err signin_hs256_verify(const char *text,
    const unsigned char key[SIGNIN_KEY_LEN], char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * The session key's JWE: protected header {"alg": wrap's name, "enc":
 * "A256GCM", "kid": kid}, the encrypted key RSA-OAEP (wrap's hash, MGF1
 * with the same hash, empty label) of session_key to tk (an RSA key
 * tpm_public_parse() accepted), a fresh 12-byte IV, content A256GCM of
 * payload (compact JSON text) with the ASCII of the encoded header as
 * additional data.  *out (compact) is xmalloc'd.  WG_E_CRYPTO (logged)
 * on failure.
 */
enum wg_err signin_jwe_make(const struct tpm_public *tk, enum signin_wrap wrap,
    const char *kid, const unsigned char session_key[SIGNIN_KEY_LEN],
    const json_t *payload, char **out) __attribute__((warn_unused_result));

/* A session key JWE in its parts (signin_jwe_split). */
struct signin_jwe {
	enum signin_wrap wrap;
	char kid[65];
	unsigned char *ek;	/* the encrypted key */
	size_t ek_len;
	unsigned char iv[12];
	unsigned char *ct;	/* the content, encrypted */
	size_t ct_len;
	unsigned char tag[16];
	char *aad;		/* the encoded header, as sent */
};

/*
 * Splits a compact JWE: five parts; the header JSON with "alg" a wrap
 * signin_wrap_parse() knows, "enc" "A256GCM", optional "kid" (at most 64
 * characters); the encrypted key 1 to 512 bytes, an IV of 12, a tag of
 * 16, content up to 4096.  WG_E_JSON_FIELD with why otherwise (*out
 * zeroed).
 */
enum wg_err signin_jwe_split(const char *jwe, struct signin_jwe *out,
    char *why, size_t whylen) __attribute__((warn_unused_result));
void signin_jwe_free(struct signin_jwe *j);

/*
 * Opens j's content with cek (the session key the TPM decrypted): *payload
 * is its JSON object (new reference).  WG_E_SESSION_KEY_INVALID with why
 * if it does not authenticate or is not a JSON object.
 */
enum wg_err signin_jwe_open(const struct signin_jwe *j,
    const unsigned char cek[SIGNIN_KEY_LEN], json_t **payload, char *why,
    size_t whylen) __attribute__((warn_unused_result));

#endif
