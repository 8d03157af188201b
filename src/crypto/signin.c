/*
 * The sign-in's JOSE (signin.h): compact serializations split strictly
 * by hand (each part base64url without padding, each JSON part loaded
 * once, duplicates refused), RS256 checked with OpenSSL, HS256 made and
 * checked through cjose, the session key's JWE made and opened with
 * OpenSSL (RSA-OAEP to the TK, AES-256-GCM with the encoded header as
 * additional data, RFC 7516 5.1), and the proof-of-possession key by the
 * TPM's KDFa (makecred.h), which is the same SP 800-108 construction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/makecred.h"
#include "crypto/signin.h"

#define SIG_MAX 512		/* bytes of a JWS signature at most */
#define JWE_EK_MAX 512		/* bytes of an encrypted key at most */
#define JWE_IV_LEN 12
#define JWE_TAG_LEN 16
#define JWE_CT_MAX 4096		/* bytes of JWE content at most */
#define JWE_KID_MAX 64
/* A JWE of the largest parts, encoded, with its dots and a header. */
#define JWE_TEXT_MAX (1024 + (JWE_EK_MAX + JWE_IV_LEN + JWE_CT_MAX + \
	JWE_TAG_LEN) * 4 / 3 + 16)
#define PARTS_MAX 5

static const char *const wrap_names[SIGNIN_WRAP_MAX] = {
	[SIGNIN_WRAP_OAEP256] = "RSA-OAEP-256",
	[SIGNIN_WRAP_OAEP] = "RSA-OAEP",
};

const char *
signin_wrap_name(enum signin_wrap w)
{
	return (unsigned)w < SIGNIN_WRAP_MAX ? wrap_names[w] : NULL;
}

int
signin_wrap_parse(const char *alg)
{
	int i;

	for (i = 0; alg != NULL && i < SIGNIN_WRAP_MAX; i++)
		if (strcmp(alg, wrap_names[i]) == 0)
			return i;
	return -1;
}

/* ---- compact serializations ---- */

/* One part of a compact serialization, decoded (xmalloc'd). */
struct part {
	const char *text;	/* into the caller's string */
	size_t text_len;
	unsigned char *bytes;
	size_t len;
};

static void
parts_free(struct part *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i].bytes != NULL)
			OPENSSL_cleanse(p[i].bytes, p[i].len);
		free(p[i].bytes);
	}
	memset(p, 0, n * sizeof(*p));
}

/*
 * Splits text (at most max bytes) at its dots into exactly n parts, each
 * decoded as base64url without padding (RFC 7515 2, "Base64url
 * Encoding"); what names the object for why.
 */
static enum wg_err
parts_split(const char *text, size_t max, const char *what, struct part *p,
    size_t n, char *why, size_t whylen)
{
	const char *s = text, *dot;
	size_t i, len = strnlen(text, max + 1), bad = 0, dots;

	memset(p, 0, n * sizeof(*p));
	if (len > max)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "%s: over %zu "
		    "bytes", what, max);
	for (i = 0, dots = 0; i < len; i++)
		dots += text[i] == '.';
	if (dots != n - 1)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "%s: not %zu "
		    "base64url parts separated by dots (RFC 7515 7.1, RFC "
		    "7516 7.1)", what, n);
	for (i = 0; i < n; i++) {
		dot = memchr(s, '.', len - (size_t)(s - text));
		p[i].text = s;
		p[i].text_len = dot != NULL ? (size_t)(dot - s) :
		    len - (size_t)(s - text);
		p[i].bytes = xmalloc(p[i].text_len * 3 / 4 + 1);
		if (wg_b64_decode(s, p[i].text_len, WG_B64_URL, p[i].bytes,
		    &p[i].len, &bad) != WG_B64_OK) {
			parts_free(p, n);
			return wg_fail(WG_E_JSON_FIELD, why, whylen, "%s: part "
			    "%zu is not base64url without padding", what,
			    i + 1);
		}
		s = dot + 1;
	}
	return WG_OK;
}

/* Part p as a JSON object (no duplicate members) into *out. */
static enum wg_err
part_json(const struct part *p, const char *what, json_t **out, char *why,
    size_t whylen)
{
	char text[256];

	if (wg_json_load_object((const char *)p->bytes, p->len, out, text,
	    sizeof(text)) != WG_OK)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "%s: %s", what,
		    text);
	return WG_OK;
}

enum wg_err
signin_jws_split(const char *jws, struct signin_jws *out, char *why,
    size_t whylen)
{
	struct part p[3];
	enum wg_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parts_split(jws, SIGNIN_JWS_MAX, "the JWS", p, 3, why,
	    whylen)) != WG_OK)
		return rc;
	if ((rc = part_json(&p[0], "the JWS header", &out->header, why,
	    whylen)) == WG_OK && (rc = part_json(&p[1], "the JWS claims",
	    &out->claims, why, whylen)) == WG_OK && (p[2].len == 0 ||
	    p[2].len > SIG_MAX))
		rc = wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWS signature: "
		    "%zu bytes, not 1 to %d", p[2].len, SIG_MAX);
	if (rc == WG_OK) {
		out->signing_input = jws;
		out->signing_input_len = p[0].text_len + 1 + p[1].text_len;
		out->sig = p[2].bytes;
		out->sig_len = p[2].len;
		p[2].bytes = NULL;
	} else
		signin_jws_free(out);
	parts_free(p, 3);
	return rc;
}

void
signin_jws_free(struct signin_jws *j)
{
	if (j == NULL)
		return;
	json_decref(j->header);
	json_decref(j->claims);
	free(j->sig);
	memset(j, 0, sizeof(*j));
}

/* Whether j's header says alg (RFC 7515 4.1.1). */
static enum wg_err
alg_check(const json_t *header, const char *alg, char *why, size_t whylen)
{
	const char *a = json_string_value(json_object_get(header, "alg"));

	if (a == NULL || strcmp(a, alg) != 0)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWS header's "
		    "alg is not %s", alg);
	return WG_OK;
}

enum wg_err
signin_rs256_verify(const struct signin_jws *j, const struct tpm_public *key,
    char *why, size_t whylen)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pkey = NULL;
	enum wg_err rc;
	int v;

	if ((rc = alg_check(j->header, "RS256", why, whylen)) != WG_OK)
		return rc;
	if (key->type != TPM_ALG_RSA || j->sig_len != key->rsa_modulus_len)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the RS256 "
		    "signature has %zu bytes, not the device key's %zu (RFC "
		    "7518 3.3)", j->sig_len, key->type == TPM_ALG_RSA ?
		    key->rsa_modulus_len : 0);
	if ((pkey = tpm_public_to_pkey(key)) == NULL)
		return WG_E_CRYPTO;
	if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestVerifyInit(md, NULL,
	    EVP_sha256(), NULL, pkey) != 1) {
		wg_log_openssl("RS256 verification");
		rc = WG_E_CRYPTO;
		goto done;
	}
	v = EVP_DigestVerify(md, j->sig, j->sig_len,
	    (const unsigned char *)j->signing_input, j->signing_input_len);
	ERR_clear_error(); /* a bad signature is no failure of OpenSSL's */
	if (v != 1)
		rc = wg_fail(WG_E_JSON_FIELD, why, whylen, "the RS256 signature "
		    "does not verify with the device key");
done:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return rc;
}

/* ---- the proof-of-possession key and HS256 ---- */

int
signin_pop_key(const unsigned char session_key[SIGNIN_KEY_LEN],
    const unsigned char ctx[SIGNIN_CTX_LEN], unsigned char out[SIGNIN_KEY_LEN])
{
	/*
	 * KDFa's fixed input is label || 00 || contextU || contextV || L:
	 * MS-OAPXBC's with contextU = ctx and no contextV.
	 */
	return makecred_kdfa(session_key, SIGNIN_KEY_LEN, SIGNIN_KDF_LABEL,
	    ctx, SIGNIN_CTX_LEN, NULL, 0, 8 * SIGNIN_KEY_LEN, out);
}

enum wg_err
signin_hs256_sign(const unsigned char key[SIGNIN_KEY_LEN],
    const unsigned char ctx[SIGNIN_CTX_LEN], const json_t *claims, char **out)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	char *ctx_b64 = wg_b64(ctx, SIGNIN_CTX_LEN);
	cjose_header_t *h = NULL;
	cjose_jws_t *jws = NULL;
	cjose_jwk_t *jwk = NULL;
	const char *ser = NULL;
	cjose_err err;
	enum wg_err rc = WG_E_CRYPTO;

	*out = NULL;
	memset(&err, 0, sizeof(err));
	if (payload != NULL &&
	    (jwk = cjose_jwk_create_oct_spec(key, SIGNIN_KEY_LEN, &err)) !=
	    NULL && (h = cjose_header_new(&err)) != NULL &&
	    cjose_header_set(h, CJOSE_HDR_ALG, CJOSE_HDR_ALG_HS256, &err) &&
	    cjose_header_set(h, "typ", "JWT", &err) &&
	    cjose_header_set(h, "ctx", ctx_b64, &err) &&
	    (jws = cjose_jws_sign(jwk, h, (const uint8_t *)payload,
	    strlen(payload), &err)) != NULL &&
	    cjose_jws_export(jws, &ser, &err)) {
		*out = xstrdup(ser);
		rc = WG_OK;
	} else
		wg_error("HS256 request not signed: cjose: %s", err.message ?
		    err.message : "out of memory");
	cjose_jws_release(jws);
	cjose_header_release(h);
	cjose_jwk_release(jwk);
	if (payload != NULL) /* the claims carry the PRT */
		OPENSSL_cleanse(payload, strlen(payload));
	free(payload);
	free(ctx_b64);
	return rc;
}

enum wg_err
signin_hs256_verify(const char *text, const unsigned char key[SIGNIN_KEY_LEN],
    char *why, size_t whylen)
{
	size_t len = strnlen(text, SIGNIN_JWS_MAX + 1);
	cjose_jws_t *jws = NULL;
	cjose_jwk_t *jwk = NULL;
	cjose_header_t *h;
	const char *alg;
	cjose_err err;
	enum wg_err rc = WG_E_JSON_FIELD;

	memset(&err, 0, sizeof(err));
	if (len > SIGNIN_JWS_MAX ||
	    (jws = cjose_jws_import(text, len, &err)) == NULL) {
		wg_say(why, whylen, "the request is not a compact JWS of at "
		    "most %d bytes", SIGNIN_JWS_MAX);
		return rc;
	}
	h = cjose_jws_get_protected(jws);
	alg = h != NULL ? cjose_header_get(h, CJOSE_HDR_ALG, &err) : NULL;
	if (alg == NULL || strcmp(alg, CJOSE_HDR_ALG_HS256) != 0)
		wg_say(why, whylen, "the JWS header's alg is not HS256");
	else if ((jwk = cjose_jwk_create_oct_spec(key, SIGNIN_KEY_LEN,
	    &err)) == NULL)
		wg_say(why, whylen, "the HS256 key cannot be used");
	else if (!cjose_jws_verify(jws, jwk, &err))
		wg_say(why, whylen, "the HS256 signature does not verify with "
		    "the key derived from the session key and ctx");
	else
		rc = WG_OK;
	cjose_jwk_release(jwk);
	cjose_jws_release(jws);
	return rc;
}

/* ---- the session key's JWE ---- */

/*
 * One AES-256-GCM pass (enc 1 seals, 0 opens) of n bytes with aad, a
 * 12-byte iv and a 16-byte tag (NIST SP 800-38D; RFC 7518 5.3).  aesgcm.c
 * has its own sealed layout without additional data.  0 on success; a
 * tag that does not authenticate clears OpenSSL's queue.
 */
static int
gcm_aad(int enc, const unsigned char key[SIGNIN_KEY_LEN],
    const unsigned char iv[JWE_IV_LEN], const char *aad,
    const unsigned char *in, size_t n, unsigned char *out,
    unsigned char tag[JWE_TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t alen = strlen(aad);
	int len = 0, fin = 0, ok;

	ok = c != NULL && n <= JWE_CT_MAX && alen <= INT32_MAX &&
	    EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv, enc) &&
	    EVP_CipherUpdate(c, NULL, &fin, (const unsigned char *)aad,
	    (int)alen) &&
	    (n == 0 || EVP_CipherUpdate(c, out, &len, in, (int)n)) &&
	    (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, JWE_TAG_LEN,
	    tag)) &&
	    EVP_CipherFinal_ex(c, out + len, &fin) &&
	    (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, JWE_TAG_LEN,
	    tag));
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* RSA-OAEP of wrap's hash (MGF1 the same, no label) of the CEK to pkey. */
static int
oaep_encrypt(EVP_PKEY *pkey, enum signin_wrap wrap,
    const unsigned char cek[SIGNIN_KEY_LEN], unsigned char *out,
    size_t *outlen)
{
	const EVP_MD *md = wrap == SIGNIN_WRAP_OAEP ? EVP_sha1() :
	    EVP_sha256();
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pkey, NULL);
	int ok;

	ok = c != NULL && EVP_PKEY_encrypt_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(c, md) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) == 1 &&
	    EVP_PKEY_encrypt(c, out, outlen, cek, SIGNIN_KEY_LEN) == 1;
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

/* BASE64URL of each of n byte strings, joined by dots (xmalloc'd). */
static char *
compact_join(const unsigned char *const *p, const size_t *len, size_t n)
{
	char *out = xstrdup(""), *b, *next;
	size_t i;

	for (i = 0; i < n; i++) {
		b = wg_b64url(p[i], len[i]);
		next = xasprintf("%s%s%s", out, i > 0 ? "." : "", b);
		free(b);
		free(out);
		out = next;
	}
	return out;
}

/* The protected header {"alg", "enc", "kid"?}, BASE64URL'd (xmalloc'd). */
static char *
jwe_header(enum signin_wrap wrap, const char *kid)
{
	json_t *h = json_pack("{s:s, s:s, s:s*}", "alg",
	    signin_wrap_name(wrap), "enc", "A256GCM", "kid", kid);
	char *text, *eh;

	if (h == NULL || (text = json_dumps(h, JSON_COMPACT)) == NULL)
		abort(); /* out of memory */
	json_decref(h);
	eh = wg_b64url(text, strlen(text));
	free(text);
	return eh;
}

enum wg_err
signin_jwe_make(const struct tpm_public *tk, enum signin_wrap wrap,
    const char *kid, const unsigned char session_key[SIGNIN_KEY_LEN],
    const json_t *payload, char **out)
{
	unsigned char ek[JWE_EK_MAX], iv[JWE_IV_LEN], tag[JWE_TAG_LEN];
	unsigned char ct[JWE_CT_MAX];
	const unsigned char *p[4] = { ek, iv, ct, tag };
	size_t len[4] = { sizeof(ek), JWE_IV_LEN, 0, JWE_TAG_LEN };
	char *eh = NULL, *pt = NULL, *rest;
	EVP_PKEY *pkey = NULL;
	enum wg_err rc = WG_E_CRYPTO;

	*out = NULL;
	if (signin_wrap_name(wrap) == NULL || tk->type != TPM_ALG_RSA ||
	    (kid != NULL && strlen(kid) > JWE_KID_MAX)) {
		wg_error("session key JWE: wrap %d, a key of type 0x%04x or a "
		    "kid over %d characters", (int)wrap, tk->type, JWE_KID_MAX);
		return WG_E_CRYPTO;
	}
	if ((pt = json_dumps(payload, JSON_COMPACT)) == NULL ||
	    (len[2] = strlen(pt)) > JWE_CT_MAX) {
		wg_error("session key JWE: the content is not JSON of at most "
		    "%d bytes", JWE_CT_MAX);
		goto done;
	}
	eh = jwe_header(wrap, kid);
	if ((pkey = tpm_public_to_pkey(tk)) == NULL)
		goto done;
	if (oaep_encrypt(pkey, wrap, session_key, ek, &len[0]) != 0 ||
	    wg_random(iv, sizeof(iv)) != WG_OK ||
	    gcm_aad(1, session_key, iv, eh, (const unsigned char *)pt, len[2],
	    ct, tag) != 0) {
		wg_log_openssl("session key JWE");
		goto done;
	}
	rest = compact_join(p, len, 4);
	*out = xasprintf("%s.%s", eh, rest);
	free(rest);
	rc = WG_OK;
done:
	if (pt != NULL)
		OPENSSL_cleanse(pt, strlen(pt));
	free(pt);
	free(eh);
	EVP_PKEY_free(pkey);
	return rc;
}

/* The JWE header's alg, enc and kid into out (RFC 7516 4.1). */
static enum wg_err
jwe_header_parse(const json_t *h, struct signin_jwe *out, char *why,
    size_t whylen)
{
	static const char *const allowed[] = { "alg", "enc", "kid", NULL };
	const char *alg, *enc, *kid;
	char text[256];
	int w;

	if (wg_json_only(h, allowed, text, sizeof(text)) != WG_OK ||
	    wg_json_string(h, "alg", 1, 32, &alg, text, sizeof(text)) !=
	    WG_OK || wg_json_string(h, "enc", 1, 32, &enc, text,
	    sizeof(text)) != WG_OK || wg_json_string(h, "kid", 0, JWE_KID_MAX,
	    &kid, text, sizeof(text)) != WG_OK)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWE header: "
		    "%s", text);
	if ((w = signin_wrap_parse(alg)) < 0)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWE header's "
		    "alg is neither RSA-OAEP-256 nor RSA-OAEP");
	if (strcmp(enc, "A256GCM") != 0)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWE header's "
		    "enc is not A256GCM");
	out->wrap = (enum signin_wrap)w;
	if (kid != NULL)
		memcpy(out->kid, kid, strlen(kid) + 1);
	return WG_OK;
}

/* The sizes of the JWE's binary parts, each by its rule. */
static enum wg_err
jwe_sizes(const struct part *p, char *why, size_t whylen)
{
	if (p[1].len == 0 || p[1].len > JWE_EK_MAX)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWE encrypted "
		    "key: %zu bytes, not 1 to %d", p[1].len, JWE_EK_MAX);
	if (p[2].len != JWE_IV_LEN)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWE IV: %zu "
		    "bytes, not %d (RFC 7518 5.3)", p[2].len, JWE_IV_LEN);
	if (p[3].len > JWE_CT_MAX)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWE content: "
		    "%zu bytes, more than %d", p[3].len, JWE_CT_MAX);
	if (p[4].len != JWE_TAG_LEN)
		return wg_fail(WG_E_JSON_FIELD, why, whylen, "the JWE tag: %zu "
		    "bytes, not %d (RFC 7518 5.3)", p[4].len, JWE_TAG_LEN);
	return WG_OK;
}

enum wg_err
signin_jwe_split(const char *jwe, struct signin_jwe *out, char *why,
    size_t whylen)
{
	struct part p[PARTS_MAX];
	json_t *h = NULL;
	enum wg_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parts_split(jwe, JWE_TEXT_MAX, "the JWE", p, 5, why,
	    whylen)) != WG_OK)
		return rc;
	if ((rc = part_json(&p[0], "the JWE header", &h, why, whylen)) ==
	    WG_OK && (rc = jwe_header_parse(h, out, why, whylen)) == WG_OK &&
	    (rc = jwe_sizes(p, why, whylen)) == WG_OK) {
		out->aad = xstrndup(p[0].text, p[0].text_len);
		out->ek = p[1].bytes;
		out->ek_len = p[1].len;
		p[1].bytes = NULL;
		memcpy(out->iv, p[2].bytes, JWE_IV_LEN);
		out->ct = p[3].bytes;
		out->ct_len = p[3].len;
		p[3].bytes = NULL;
		memcpy(out->tag, p[4].bytes, JWE_TAG_LEN);
	} else
		memset(out, 0, sizeof(*out));
	json_decref(h);
	parts_free(p, 5);
	return rc;
}

void
signin_jwe_free(struct signin_jwe *j)
{
	if (j == NULL)
		return;
	free(j->ek);
	free(j->ct);
	free(j->aad);
	memset(j, 0, sizeof(*j));
}

enum wg_err
signin_jwe_open(const struct signin_jwe *j,
    const unsigned char cek[SIGNIN_KEY_LEN], json_t **payload, char *why,
    size_t whylen)
{
	unsigned char tag[JWE_TAG_LEN], *pt;
	char text[256];
	enum wg_err rc = WG_OK;

	*payload = NULL;
	pt = xmalloc(j->ct_len + 1);
	memcpy(tag, j->tag, sizeof(tag));
	if (j->aad == NULL || gcm_aad(0, cek, j->iv, j->aad, j->ct,
	    j->ct_len, pt, tag) != 0) {
		ERR_clear_error(); /* a forgery or the wrong key: no log */
		rc = wg_fail(WG_E_SESSION_KEY_INVALID, why, whylen, "the "
		    "session key JWE does not authenticate under the key the "
		    "TPM opened (RFC 7516 5.2)");
	} else if (wg_json_load_object((const char *)pt, j->ct_len, payload,
	    text, sizeof(text)) != WG_OK)
		rc = wg_fail(WG_E_SESSION_KEY_INVALID, why, whylen, "the "
		    "session key JWE's content: %s", text);
	OPENSSL_cleanse(pt, j->ct_len + 1);
	free(pt);
	return rc;
}
