/*
 * signin.c: compact JWS split strictly; RS256 checked with the device
 * key's public area; the PoP key against a vector computed elsewhere;
 * HS256 made and checked; the session key's JWE made, its key opened as
 * the TPM opens it (OpenSSL's RSA-OAEP here), its content opened, every
 * altered part refused, and the RSA-OAEP form opened whole by cjose, an
 * implementation of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/signin.h"
#include "tpmattest_fixture.h"

#define DEVICE_ID "6f1c2a3e-1b2c-4d5e-8f90-0123456789ab"

/* BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(sig). */
static char *
jws_text(const char *header, const char *claims, const unsigned char *sig,
    size_t sig_len)
{
	char *h = wg_b64url(header, strlen(header));
	char *c = wg_b64url(claims, strlen(claims));
	char *s = wg_b64url(sig, sig_len), *out;

	out = xasprintf("%s.%s.%s", h, c, s);
	free(h);
	free(c);
	free(s);
	return out;
}

/* An RS256 JWS of claims by key (as the TPM signs: PKCS#1 v1.5). */
static char *
rs256_text(EVP_PKEY *key, const char *header, const char *claims)
{
	unsigned char sig[512];
	size_t sig_len = sizeof(sig);
	char *in = jws_text(header, claims, (const unsigned char *)"", 0);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char *out;

	in[strlen(in) - 1] = '\0'; /* the empty signature's dot */
	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len,
	    (const unsigned char *)in, strlen(in)), 1);
	EVP_MD_CTX_free(md);
	out = jws_text(header, claims, sig, sig_len);
	free(in);
	return out;
}

static void
assert_split_refused(const char *jws, const char *want)
{
	struct signin_jws j;
	char why[256] = "";

	assert_int_equal(signin_jws_split(jws, &j, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	if (strstr(why, want) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", jws, why, want);
	assert_null(j.header);
	assert_null(j.claims);
	assert_null(j.sig);
}

static void
test_signin_jws_split_good(void **state)
{
	char *t = jws_text("{\"alg\":\"RS256\"}", "{\"a\":1}",
	    (const unsigned char *)"\x01\x02", 2);
	struct signin_jws j;
	char why[256] = "";

	(void)state;
	assert_int_equal(signin_jws_split(t, &j, why, sizeof(why)), WG_OK);
	assert_string_equal(json_string_value(json_object_get(j.header,
	    "alg")), "RS256");
	assert_int_equal(json_integer_value(json_object_get(j.claims, "a")),
	    1);
	assert_ptr_equal(j.signing_input, t);
	assert_int_equal(j.signing_input_len, strrchr(t, '.') - t);
	assert_int_equal(j.sig_len, 2);
	assert_memory_equal(j.sig, "\x01\x02", 2);
	signin_jws_free(&j);
	signin_jws_free(NULL);
	free(t);
}

static void
test_signin_jws_split_refusals(void **state)
{
	unsigned char big[600];
	char *t, *longer;

	(void)state;
	memset(big, 7, sizeof(big));
	assert_split_refused("", "3 base64url parts");
	assert_split_refused("eyJ9.e30", "3 base64url parts");
	assert_split_refused("e30.e30.AQ.AQ", "3 base64url parts");
	assert_split_refused("e30=.e30.AQ", "part 1 is not base64url");
	assert_split_refused("e30.e30.AQ==", "part 3 is not base64url");
	assert_split_refused("e30.e3+.AQ", "part 2 is not base64url");
	assert_split_refused("e30.e30.", "signature: 0 bytes");
	t = jws_text("{\"a\":1}", "{}", big, sizeof(big));
	assert_split_refused(t, "signature: 600 bytes");
	free(t);
	t = jws_text("not json", "{}", big, 1);
	assert_split_refused(t, "the JWS header");
	free(t);
	t = jws_text("{}", "[1]", big, 1);
	assert_split_refused(t, "the JWS claims");
	free(t);
	t = jws_text("{\"alg\":\"RS256\",\"alg\":\"HS256\"}", "{}", big, 1);
	assert_split_refused(t, "the JWS header");
	free(t);
	t = jws_text("{}", "{\"a\":1,\"a\":2}", big, 1);
	assert_split_refused(t, "the JWS claims");
	free(t);
	longer = xmalloc(SIGNIN_JWS_MAX + 2);
	memset(longer, 'A', SIGNIN_JWS_MAX + 1);
	longer[SIGNIN_JWS_MAX + 1] = '\0';
	longer[10] = longer[20] = '.';
	assert_split_refused(longer, "over 16384 bytes");
	free(longer);
}

static void
assert_rs256(const char *t, const struct tpm_public *key, enum wg_err want,
    const char *say)
{
	struct signin_jws j;
	char why[256] = "";

	assert_int_equal(signin_jws_split(t, &j, why, sizeof(why)), WG_OK);
	assert_int_equal(signin_rs256_verify(&j, key, why, sizeof(why)), want);
	if (say != NULL && strstr(why, say) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", why, say);
	signin_jws_free(&j);
}

static void
test_signin_rs256_verify(void **state)
{
	const char *hdr = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k\"}";
	char *t = rs256_text(rsa_key.pkey, hdr, "{\"username\":\"ana\"}");
	char *other = rs256_text(rsa_key.pkey, hdr, "{\"username\":\"bob\"}");
	char *mixed, *dot, *hs;

	(void)state;
	assert_rs256(t, &rsa_key.pub, WG_OK, NULL);
	assert_rs256(t, &rsa_other.pub, WG_E_JSON_FIELD, "does not verify");
	assert_rs256(t, &ecc_key.pub, WG_E_JSON_FIELD, "not the device key");
	/* bob's claims under ana's signature */
	dot = strrchr(t, '.');
	mixed = xasprintf("%.*s%s", (int)(strrchr(other, '.') - other), other,
	    dot);
	assert_rs256(mixed, &rsa_key.pub, WG_E_JSON_FIELD, "does not verify");
	free(mixed);
	/* a signature one byte short */
	mixed = xasprintf("%.*s.%s", (int)(dot - t), t, "AQID");
	assert_rs256(mixed, &rsa_key.pub, WG_E_JSON_FIELD, "3 bytes");
	free(mixed);
	hs = rs256_text(rsa_key.pkey, "{\"alg\":\"HS256\"}", "{}");
	assert_rs256(hs, &rsa_key.pub, WG_E_JSON_FIELD, "not RS256");
	free(hs);
	free(t);
	free(other);
}

/*
 * The vector, from Debian's /usr/bin/python3 with python3-cryptography:
 *   KBKDFHMAC(algorithm=SHA256(), mode=Mode.CounterMode, length=32,
 *       rlen=4, llen=4, location=CounterLocation.BeforeFixed,
 *       label=b"AzureAD-SecureConversation", context=ctx,
 *       fixed=None).derive(key)
 * with key = bytes(range(32)) and ctx = bytes(range(0x40, 0x58)); the
 * same as HMAC-SHA256(key, 00000001 || label || 00 || ctx || 00000100)
 * (docs/api.md).
 */
static void
test_signin_pop_key_vector(void **state)
{
	static const unsigned char want[32] = {
		0x26, 0x17, 0x04, 0x50, 0x8f, 0xac, 0x96, 0x24, 0x8f, 0x7d,
		0x3b, 0xe9, 0x1a, 0x01, 0x74, 0x95, 0xfc, 0x86, 0x7b, 0x98,
		0x4e, 0xff, 0xbb, 0xd3, 0x60, 0x59, 0xd6, 0x97, 0x19, 0xda,
		0x63, 0x75 };
	unsigned char key[SIGNIN_KEY_LEN], ctx[SIGNIN_CTX_LEN];
	unsigned char out[SIGNIN_KEY_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < sizeof(ctx); i++)
		ctx[i] = (unsigned char)(0x40 + i);
	assert_int_equal(signin_pop_key(key, ctx, out), 0);
	assert_memory_equal(out, want, sizeof(want));
	ctx[0] ^= 1; /* another context, another key */
	assert_int_equal(signin_pop_key(key, ctx, out), 0);
	assert_memory_not_equal(out, want, sizeof(want));
}

/* An HS256 request of claims under key with ctx 0x10, 0x11, ... */
static char *
hs256_text(const unsigned char key[SIGNIN_KEY_LEN], const char *deviceid)
{
	unsigned char ctx[SIGNIN_CTX_LEN];
	json_t *claims = json_pack("{s:s, s:s, s:s}", "grant_type",
	    "refresh_token", "refresh_token", "prt", "deviceid", deviceid);
	char *out = NULL;
	size_t i;

	for (i = 0; i < sizeof(ctx); i++)
		ctx[i] = (unsigned char)(0x10 + i);
	assert_int_equal(signin_hs256_sign(key, ctx, claims, &out), WG_OK);
	json_decref(claims);
	return out;
}

static void
test_signin_hs256_sign_verify(void **state)
{
	unsigned char key[SIGNIN_KEY_LEN], other[SIGNIN_KEY_LEN], *ctx = NULL;
	char why[256] = "", *t, *u, *mixed, *ctx_b64;
	struct signin_jws j;
	size_t n = 0;

	(void)state;
	memset(key, 0x33, sizeof(key));
	memcpy(other, key, sizeof(other));
	other[31] ^= 0x80;
	t = hs256_text(key, DEVICE_ID);
	assert_int_equal(signin_jws_split(t, &j, why, sizeof(why)), WG_OK);
	assert_string_equal(json_string_value(json_object_get(j.header,
	    "alg")), "HS256");
	assert_string_equal(json_string_value(json_object_get(j.header,
	    "typ")), "JWT");
	ctx_b64 = (char *)json_string_value(json_object_get(j.header, "ctx"));
	assert_non_null(ctx_b64);
	assert_int_equal(wg_b64_decode_text(ctx_b64, &ctx, &n), 0);
	assert_int_equal(n, SIGNIN_CTX_LEN);
	assert_int_equal(ctx[0], 0x10);
	assert_int_equal(ctx[23], 0x27);
	free(ctx);
	assert_string_equal(json_string_value(json_object_get(j.claims,
	    "deviceid")), DEVICE_ID);
	signin_jws_free(&j);

	assert_int_equal(signin_hs256_verify(t, key, why, sizeof(why)), WG_OK);
	assert_int_equal(signin_hs256_verify(t, other, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	assert_non_null(strstr(why, "does not verify"));
	/* another device's claims under this signature */
	u = hs256_text(key, "00000000-0000-4000-8000-000000000000");
	mixed = xasprintf("%.*s%s", (int)(strrchr(u, '.') - u), u,
	    strrchr(t, '.'));
	assert_int_equal(signin_hs256_verify(mixed, key, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	free(mixed);
	free(u);
	/* an RS256 header is not HS256, whatever the signature */
	u = rs256_text(rsa_key.pkey, "{\"alg\":\"RS256\"}", "{}");
	assert_int_equal(signin_hs256_verify(u, key, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	assert_non_null(strstr(why, "not HS256"));
	free(u);
	assert_int_equal(signin_hs256_verify("a.b", key, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	free(t);
}

/* ---- the session key's JWE ---- */

static const unsigned char session_key[SIGNIN_KEY_LEN] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
	0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
	0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf };

static char *
jwe_make(enum signin_wrap wrap)
{
	json_t *payload = json_pack("{s:i, s:s}", "ver", 1, "DeviceId",
	    DEVICE_ID);
	char *out = NULL;

	assert_int_equal(signin_jwe_make(&rsa_key.pub, wrap, "tk-id",
	    session_key, payload, &out), WG_OK);
	json_decref(payload);
	return out;
}

/* The encrypted key opened with the private key, as the TPM opens it. */
static void
oaep_open(const struct signin_jwe *j, unsigned char cek[SIGNIN_KEY_LEN])
{
	const EVP_MD *md = j->wrap == SIGNIN_WRAP_OAEP ? EVP_sha1() :
	    EVP_sha256();
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(rsa_key.pkey, NULL);
	unsigned char out[256];
	size_t n = sizeof(out);

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_decrypt_init(c), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c,
	    RSA_PKCS1_OAEP_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(c, md), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(c, md), 1);
	assert_int_equal(EVP_PKEY_decrypt(c, out, &n, j->ek, j->ek_len), 1);
	EVP_PKEY_CTX_free(c);
	assert_int_equal(n, SIGNIN_KEY_LEN);
	memcpy(cek, out, SIGNIN_KEY_LEN);
}

static void
assert_open_refused(const struct signin_jwe *j,
    const unsigned char cek[SIGNIN_KEY_LEN])
{
	json_t *payload = NULL;
	char why[256] = "";

	assert_int_equal(signin_jwe_open(j, cek, &payload, why, sizeof(why)),
	    WG_E_SESSION_KEY_INVALID);
	assert_null(payload);
	assert_non_null(strstr(why, "does not authenticate"));
}

static void
jwe_round_trip(enum signin_wrap wrap, const char *alg)
{
	unsigned char cek[SIGNIN_KEY_LEN], wrong[SIGNIN_KEY_LEN];
	char *t = jwe_make(wrap), why[256] = "";
	struct signin_jwe j;
	json_t *payload = NULL, *h = NULL;
	unsigned char *hb = NULL;
	size_t hn = 0;

	assert_int_equal(signin_jwe_split(t, &j, why, sizeof(why)), WG_OK);
	assert_int_equal(j.wrap, wrap);
	assert_string_equal(j.kid, "tk-id");
	assert_int_equal(j.ek_len, 256);
	assert_int_equal(strncmp(t, j.aad, strlen(j.aad)), 0);
	assert_int_equal(wg_b64url_decode(j.aad, &hb, &hn), 0);
	h = json_loadb((const char *)hb, hn, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), alg);
	assert_string_equal(json_string_value(json_object_get(h, "enc")),
	    "A256GCM");
	json_decref(h);
	free(hb);

	oaep_open(&j, cek);
	assert_memory_equal(cek, session_key, SIGNIN_KEY_LEN);
	assert_int_equal(signin_jwe_open(&j, cek, &payload, why, sizeof(why)),
	    WG_OK);
	assert_string_equal(json_string_value(json_object_get(payload,
	    "DeviceId")), DEVICE_ID);
	assert_int_equal(json_integer_value(json_object_get(payload, "ver")),
	    1);
	json_decref(payload);

	memcpy(wrong, cek, sizeof(wrong));
	wrong[0] ^= 1;
	assert_open_refused(&j, wrong);
	j.ct[0] ^= 1;
	assert_open_refused(&j, cek);
	j.ct[0] ^= 1;
	j.tag[15] ^= 1;
	assert_open_refused(&j, cek);
	j.tag[15] ^= 1;
	j.aad[strlen(j.aad) - 1] = j.aad[strlen(j.aad) - 1] == 'A' ? 'B' :
	    'A';
	assert_open_refused(&j, cek);
	signin_jwe_free(&j);
	signin_jwe_free(NULL);
	free(t);
}

static void
test_signin_jwe_make_oaep256(void **state)
{
	(void)state;
	jwe_round_trip(SIGNIN_WRAP_OAEP256, "RSA-OAEP-256");
}

static void
test_signin_jwe_make_oaep(void **state)
{
	(void)state;
	jwe_round_trip(SIGNIN_WRAP_OAEP, "RSA-OAEP");
}

/* One RSA parameter of rsa_key as big-endian bytes (xmalloc'd). */
static uint8_t *
rsa_param(const char *name, size_t *len)
{
	BIGNUM *bn = NULL;
	uint8_t *b;

	assert_int_equal(EVP_PKEY_get_bn_param(rsa_key.pkey, name, &bn), 1);
	*len = (size_t)BN_num_bytes(bn);
	b = xmalloc(*len);
	BN_bn2bin(bn, b);
	BN_free(bn);
	return b;
}

/* RSA-OAEP (SHA-1) with A256GCM, opened whole by cjose. */
static void
test_signin_jwe_make_oaep_cjose(void **state)
{
	cjose_jwk_rsa_keyspec spec;
	cjose_jwk_t *jwk;
	cjose_jwe_t *jwe;
	cjose_err err;
	uint8_t *pt;
	size_t n = 0;
	char *t = jwe_make(SIGNIN_WRAP_OAEP);
	json_t *payload;

	(void)state;
	memset(&spec, 0, sizeof(spec));
	spec.e = rsa_param(OSSL_PKEY_PARAM_RSA_E, &spec.elen);
	spec.n = rsa_param(OSSL_PKEY_PARAM_RSA_N, &spec.nlen);
	spec.d = rsa_param(OSSL_PKEY_PARAM_RSA_D, &spec.dlen);
	spec.p = rsa_param(OSSL_PKEY_PARAM_RSA_FACTOR1, &spec.plen);
	spec.q = rsa_param(OSSL_PKEY_PARAM_RSA_FACTOR2, &spec.qlen);
	spec.dp = rsa_param(OSSL_PKEY_PARAM_RSA_EXPONENT1, &spec.dplen);
	spec.dq = rsa_param(OSSL_PKEY_PARAM_RSA_EXPONENT2, &spec.dqlen);
	spec.qi = rsa_param(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &spec.qilen);
	jwk = cjose_jwk_create_RSA_spec(&spec, &err);
	assert_non_null(jwk);
	jwe = cjose_jwe_import(t, strlen(t), &err);
	if (jwe == NULL)
		fail_msg("cjose: %s", err.message);
	pt = cjose_jwe_decrypt(jwe, jwk, &n, &err);
	if (pt == NULL)
		fail_msg("cjose: %s", err.message);
	payload = json_loadb((const char *)pt, n, 0, NULL);
	assert_non_null(payload);
	assert_string_equal(json_string_value(json_object_get(payload,
	    "DeviceId")), DEVICE_ID);
	json_decref(payload);
	free(pt);
	cjose_jwe_release(jwe);
	cjose_jwk_release(jwk);
	free(spec.e);
	free(spec.n);
	free(spec.d);
	free(spec.p);
	free(spec.q);
	free(spec.dp);
	free(spec.dq);
	free(spec.qi);
	free(t);
}

/* A JWE of header h and parts of the given sizes (content ct bytes). */
static char *
jwe_shaped(const char *h, size_t ek, size_t iv, size_t ct, size_t tag)
{
	static unsigned char z[8192];
	char *hb = wg_b64url(h, strlen(h)), *p[4], *out;
	size_t len[4] = { ek, iv, ct, tag }, i;

	for (i = 0; i < 4; i++)
		p[i] = wg_b64url(z, len[i]);
	out = xasprintf("%s.%s.%s.%s.%s", hb, p[0], p[1], p[2], p[3]);
	for (i = 0; i < 4; i++)
		free(p[i]);
	free(hb);
	return out;
}

static void
assert_jwe_refused(char *t, const char *want)
{
	struct signin_jwe j;
	char why[256] = "";

	assert_int_equal(signin_jwe_split(t, &j, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	if (strstr(why, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", why, want);
	assert_null(j.ek);
	assert_null(j.ct);
	assert_null(j.aad);
	free(t);
}

static void
test_signin_jwe_split_refusals(void **state)
{
	const char *good = "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}";
	struct signin_jwe j;
	char why[256] = "", *t;

	(void)state;
	t = jwe_shaped(good, 256, 12, 40, 16);
	assert_int_equal(signin_jwe_split(t, &j, why, sizeof(why)), WG_OK);
	assert_string_equal(j.kid, "");
	signin_jwe_free(&j);
	free(t);
	assert_jwe_refused(xstrdup("a.b.c.d"), "5 base64url parts");
	assert_jwe_refused(xstrdup("e30.AA.AA.AA.AA.AA"), "5 base64url parts");
	assert_jwe_refused(jwe_shaped("{\"alg\":\"RSA1_5\",\"enc\":"
	    "\"A256GCM\"}", 256, 12, 40, 16), "alg is neither");
	assert_jwe_refused(jwe_shaped("{\"alg\":\"RSA-OAEP\",\"enc\":"
	    "\"A128GCM\"}", 256, 12, 40, 16), "enc is not A256GCM");
	assert_jwe_refused(jwe_shaped("{\"alg\":\"RSA-OAEP\",\"enc\":"
	    "\"A256GCM\",\"zip\":\"DEF\"}", 256, 12, 40, 16), "zip");
	assert_jwe_refused(jwe_shaped("{\"alg\":\"RSA-OAEP\",\"enc\":"
	    "\"A256GCM\",\"kid\":\"0123456789012345678901234567890123456789"
	    "01234567890123456789012345\"}", 256, 12, 40, 16), "kid");
	assert_jwe_refused(jwe_shaped("{\"alg\":\"RSA-OAEP\",\"alg\":"
	    "\"RSA-OAEP\",\"enc\":\"A256GCM\"}", 256, 12, 40, 16),
	    "the JWE header");
	assert_jwe_refused(jwe_shaped(good, 0, 12, 40, 16), "encrypted key");
	assert_jwe_refused(jwe_shaped(good, 513, 12, 40, 16),
	    "encrypted key");
	assert_jwe_refused(jwe_shaped(good, 256, 16, 40, 16), "IV");
	assert_jwe_refused(jwe_shaped(good, 256, 12, 4097, 16), "content");
	assert_jwe_refused(jwe_shaped(good, 256, 12, 40, 12), "tag");
}

static void
test_signin_wrap_names(void **state)
{
	(void)state;
	assert_string_equal(signin_wrap_name(SIGNIN_WRAP_OAEP256),
	    "RSA-OAEP-256");
	assert_string_equal(signin_wrap_name(SIGNIN_WRAP_OAEP), "RSA-OAEP");
	assert_null(signin_wrap_name(SIGNIN_WRAP_MAX));
	assert_int_equal(signin_wrap_parse("RSA-OAEP-256"),
	    SIGNIN_WRAP_OAEP256);
	assert_int_equal(signin_wrap_parse("RSA-OAEP"), SIGNIN_WRAP_OAEP);
	assert_int_equal(signin_wrap_parse("rsa-oaep"), -1);
	assert_int_equal(signin_wrap_parse(NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signin_jws_split_good),
		cmocka_unit_test(test_signin_jws_split_refusals),
		cmocka_unit_test(test_signin_rs256_verify),
		cmocka_unit_test(test_signin_pop_key_vector),
		cmocka_unit_test(test_signin_hs256_sign_verify),
		cmocka_unit_test(test_signin_jwe_make_oaep256),
		cmocka_unit_test(test_signin_jwe_make_oaep),
		cmocka_unit_test(test_signin_jwe_make_oaep_cjose),
		cmocka_unit_test(test_signin_jwe_split_refusals),
		cmocka_unit_test(test_signin_wrap_names),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
