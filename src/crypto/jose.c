/*
 * Signed tokens through cjose (jose.h).  OpenSSL holds the key as it was
 * read from its file; cjose gets the same key as its raw coordinates.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/jose.h"

#define P256_LEN 32
#define VERIFIED_SLOTS 512	/* tokens remembered as verified */

/*
 * Tokens this signer verified, by the SHA-256 of their text: a device
 * sends the same token with every request of a run (a dozen), and the
 * same bytes verify the same way until they expire, so only the first
 * costs a signature check.  A slot holds the claims (one JSON object
 * every caller shares: jansson's reference counts are atomic, and no one
 * changes it) until the token's exp; a newer token takes an older one's
 * slot.
 */
struct verified_slot {
	unsigned char hash[SHA256_DIGEST_LENGTH];
	json_t *claims;		/* NULL: empty; shared, never changed */
	int64_t exp_s;
};

struct jose_signer {
	cjose_jwk_t *jwk;
	char kid[44];
	unsigned char x[P256_LEN], y[P256_LEN];
	pthread_mutex_t lock;	/* of verified */
	struct verified_slot verified[VERIFIED_SLOTS];
};

/* d, x and y of an EC P-256 private key; -1 if it is not one. */
static int
p256_parts(EVP_PKEY *key, unsigned char d[P256_LEN],
    unsigned char x[P256_LEN], unsigned char y[P256_LEN])
{
	unsigned char pt[1 + 2 * P256_LEN];
	char curve[32];
	BIGNUM *bd = NULL;
	size_t n = 0;
	int ok;

	ok = EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	    curve, sizeof(curve), NULL) && strcmp(curve, "prime256v1") == 0 &&
	    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &n) && n == sizeof(pt) && pt[0] == 0x04 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &bd) &&
	    BN_bn2binpad(bd, d, P256_LEN) == P256_LEN;
	BN_clear_free(bd);
	if (!ok)
		return -1;
	memcpy(x, pt + 1, P256_LEN);
	memcpy(y, pt + 1 + P256_LEN, P256_LEN);
	return 0;
}

/* RFC 7638: SHA-256 of {"crv","kty","x","y"} in that order, no spaces. */
static void
thumbprint(const unsigned char *x, const unsigned char *y, char kid[44])
{
	char *bx = wg_b64url(x, P256_LEN), *by = wg_b64url(y, P256_LEN);
	char *text = xasprintf("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
	    "\"y\":\"%s\"}", bx, by);
	unsigned char md[32];
	char *b;

	wg_sha256(text, strlen(text), md);
	b = wg_b64url(md, sizeof(md));
	memcpy(kid, b, 44);
	kid[43] = '\0';
	free(b);
	free(text);
	free(bx);
	free(by);
}

enum wg_err
jose_signer_new(EVP_PKEY *key, struct jose_signer **out)
{
	struct jose_signer *s = xcalloc(1, sizeof(*s));
	unsigned char d[P256_LEN];
	cjose_jwk_ec_keyspec spec;
	cjose_err err;

	*out = NULL;
	if (p256_parts(key, d, s->x, s->y) != 0) {
		free(s);
		wg_error("token signing key: not an EC P-256 private key");
		return WG_E_CRYPTO;
	}
	memset(&spec, 0, sizeof(spec));
	spec.crv = CJOSE_JWK_EC_P_256;
	spec.d = d;
	spec.dlen = sizeof(d);
	spec.x = s->x;
	spec.xlen = P256_LEN;
	spec.y = s->y;
	spec.ylen = P256_LEN;
	thumbprint(s->x, s->y, s->kid);
	pthread_mutex_init(&s->lock, NULL);
	s->jwk = cjose_jwk_create_EC_spec(&spec, &err);
	OPENSSL_cleanse(d, sizeof(d));
	if (s->jwk == NULL || !cjose_jwk_set_kid(s->jwk, s->kid,
	    strlen(s->kid), &err)) {
		wg_error("token signing key: cjose: %s", err.message);
		jose_signer_free(s);
		return WG_E_CRYPTO;
	}
	*out = s;
	return WG_OK;
}

void
jose_signer_free(struct jose_signer *s)
{
	size_t i;

	if (s == NULL)
		return;
	cjose_jwk_release(s->jwk);
	for (i = 0; i < VERIFIED_SLOTS; i++)
		json_decref(s->verified[i].claims);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *
jose_signer_kid(const struct jose_signer *s)
{
	return s->kid;
}

enum wg_err
jose_sign(const struct jose_signer *s, const json_t *claims, char **out)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	cjose_header_t *h = NULL;
	cjose_jws_t *jws = NULL;
	const char *ser = NULL;
	cjose_err err;
	enum wg_err rc = WG_E_CRYPTO;

	*out = NULL;
	memset(&err, 0, sizeof(err));
	if (payload != NULL && (h = cjose_header_new(&err)) != NULL &&
	    cjose_header_set(h, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &err) &&
	    cjose_header_set(h, "typ", "JWT", &err) &&
	    cjose_header_set(h, CJOSE_HDR_KID, s->kid, &err) &&
	    (jws = cjose_jws_sign(s->jwk, h, (const uint8_t *)payload,
	    strlen(payload), &err)) != NULL &&
	    cjose_jws_export(jws, &ser, &err)) {
		*out = xstrdup(ser);
		rc = WG_OK;
	} else {
		wg_error("token not signed: cjose: %s", err.message ?
		    err.message : "out of memory");
	}
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(payload);
	return rc;
}

json_t *
jose_jwks(const struct jose_signer *s)
{
	char *x = wg_b64url(s->x, P256_LEN), *y = wg_b64url(s->y, P256_LEN);
	json_t *doc;

	doc = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s}]}", "keys",
	    "kty", "EC", "crv", "P-256", "x", x, "y", y, "kid", s->kid, "use",
	    "sig", "alg", "ES256");
	free(x);
	free(y);
	return doc;
}

/* The header's alg and kid must be ES256 and ours. */
static int
header_ok(cjose_jws_t *jws, const struct jose_signer *s, char *why,
    size_t whylen)
{
	cjose_header_t *h = cjose_jws_get_protected(jws);
	const char *alg, *kid;
	cjose_err err;

	alg = h ? cjose_header_get(h, CJOSE_HDR_ALG, &err) : NULL;
	kid = h ? cjose_header_get(h, CJOSE_HDR_KID, &err) : NULL;
	if (alg == NULL || strcmp(alg, CJOSE_HDR_ALG_ES256) != 0) {
		wg_say(why, whylen, "the token's alg is %.16s, not ES256",
		    alg && wg_str_printable(alg) ? alg : "(none)");
		return 0;
	}
	if (kid == NULL || strcmp(kid, s->kid) != 0) {
		wg_say(why, whylen, "the token was signed by another key (kid "
		    "%.48s)", kid && wg_str_printable(kid) ? kid : "(none)");
		return 0;
	}
	return 1;
}

/* The slot of hash. */
static struct verified_slot *
verified_slot(const struct jose_signer *s, const unsigned char *hash)
{
	unsigned idx = ((unsigned)hash[0] << 8 | hash[1]) % VERIFIED_SLOTS;

	return (struct verified_slot *)&s->verified[idx];
}

/* The claims of a token verified before and not expired, or NULL. */
static json_t *
verified_get(const struct jose_signer *s, const unsigned char *hash)
{
	pthread_mutex_t *lock = (pthread_mutex_t *)&s->lock;
	struct verified_slot *v = verified_slot(s, hash);
	json_t *claims = NULL;

	pthread_mutex_lock(lock);
	if (v->claims != NULL && memcmp(v->hash, hash, sizeof(v->hash)) ==
	    0 && v->exp_s > wg_now_ms() / 1000)
		claims = json_incref(v->claims);
	pthread_mutex_unlock(lock);
	return claims;
}

/* Remembers a verified token's claims until its exp (if it has one). */
static void
verified_put(const struct jose_signer *s, const unsigned char *hash,
    json_t *claims)
{
	pthread_mutex_t *lock = (pthread_mutex_t *)&s->lock;
	const json_t *exp = json_object_get(claims, "exp");
	struct verified_slot *v = verified_slot(s, hash);
	json_t *old;

	if (!json_is_integer(exp))
		return;
	pthread_mutex_lock(lock);
	old = v->claims;
	v->claims = json_incref(claims);
	memcpy(v->hash, hash, sizeof(v->hash));
	v->exp_s = json_integer_value(exp);
	pthread_mutex_unlock(lock);
	json_decref(old);
}

enum wg_err
jose_verify(const struct jose_signer *s, const char *text, json_t **claims,
    char *why, size_t whylen)
{
	unsigned char hash[SHA256_DIGEST_LENGTH];
	cjose_jws_t *jws;
	uint8_t *payload = NULL;
	size_t n = 0, len = strlen(text);
	cjose_err err;
	enum wg_err rc = WG_E_TOKEN_INVALID;

	wg_sha256(text, len, hash);
	if ((*claims = verified_get(s, hash)) != NULL)
		return WG_OK;
	if ((jws = cjose_jws_import(text, len, &err)) == NULL) {
		wg_say(why, whylen, "not a compact JWS");
		return rc;
	}
	if (!header_ok(jws, s, why, whylen))
		goto done;
	if (!cjose_jws_verify(jws, s->jwk, &err)) {
		wg_say(why, whylen, "the token's signature does not verify");
		goto done;
	}
	if (!cjose_jws_get_plaintext(jws, &payload, &n, &err) ||
	    wg_json_load_object((const char *)payload, n, claims, why,
	    whylen) != WG_OK) {
		*claims = NULL;
		wg_say(why, whylen, "the token's payload is not a JSON object");
		goto done;
	}
	verified_put(s, hash, *claims);
	rc = WG_OK;
done:
	cjose_jws_release(jws);
	return rc;
}
