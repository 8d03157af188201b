/*
 * TPM2_MakeCredential in software: KDFa, KDFe and whole credentials
 * against vectors computed apart from this code (Python's hashlib and
 * hmac, `openssl enc -aes-128-cfb`, pyca/cryptography for the ECDH; see
 * VECTORS below), random credentials opened again the way
 * TPM2_ActivateCredential opens them with keys made here, and the EKs,
 * names and credentials that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/util.h"
#include "crypto/makecred.h"
#include "corpus_file.h"

#define RSA_EK "tpmpub/good/ek-rsa.hex"
#define ECC_EK "tpmpub/good/ek-ecc.hex"

/* Offsets in the corpus EKs, counted from the TPM2B size field. */
#define OFF_ATTRS 6
#define OFF_SYM 44
#define OFF_RSA_N 60 /* after unique.rsa's size */
#define OFF_ECC_X 58 /* after unique.x's size */

/*
 * VECTORS, from a throwaway script (not committed):
 *   kdfa(key, label, u, v, bits): for i = 1..: HMAC-SHA256(key,
 *     i as 4 bytes BE || label || NUL || u || v || bits as 4 bytes BE)
 *   kdfe(z, label, u, v, bits): SHA-256(i || z || label || NUL || u || v)
 *   encIdentity: openssl enc -aes-128-cfb -K <symKey> -iv 00..00 -nopad
 *     of TPM2B_DIGEST(cred)
 *   ECC: cryptography's derive_private_key(d) and exchange(ECDH()) with
 *     the corpus ECC EK.
 * name = 000b || SHA-256("whiteglove test AK"); key1 = 00 01 .. 1f;
 * key3 = 16 bytes of a5; z = 40 .. 5f, u = 60 .. 7f, v = 80 .. 9f;
 * seed = c0 .. df; d = SHA-256("whiteglove ephemeral").
 */
static const char name_hex[] = "000b8242f195dc2a4c9cc8e6b713fce10cac1a4a"
    "7a2245329e8b5366a245db4ed88b";
static const char kdfa_storage[] = "c3b7d4c25b03e85bb736d4e5520df284";
static const char kdfa_integrity[] = "bacf689f634ece301e1f1b15b072d9c87db6"
    "a69585db42b1a0cb8f73ebe2692e";
static const char kdfa_long[] = "4c651e1f184f65afd84cfefc7ae9a2e2b908e694cb"
    "8f7d60f455fb17ef662004253aa141cbeaeb793e99250dfb3a14916147e51c9d2b0b"
    "9802570b239df9360a99";
static const char kdfe_identity[] = "09889693e119f3fcbd0e9fab79ba8a81a68874"
    "d97d7929d67587b1fe260bd34c";
static const char kdfe_long[] = "df5c7e3b187a3a8ac551604ac09e859c8148aff948"
    "6473587c9232bd4ef982f9e693b576e29eca3cd96025fa605f98f3cba0";
static const char cred32[] = "0123456789abcdef0123456789abcdef";
static const char cred16[] = "sixteen byte key";
static const char rsa_blob32[] = "004400208252c1277a0dabc2a9fa3e3ea2b8ba82"
    "7998f42b951240942a69b9e740f58ccfe5fa4c9d971909f238117eddfa9e3098d20f"
    "a35f558edaa6f5059f43187431767efa";
static const char rsa_blob16[] = "003400208a9106af368e082cb94f861394321501"
    "71c787a4ff3e1096021afa4637889de0e5ca0fc5dd5e58a26006249def997397008a";
static const char ecc_eph_hex[] = "663c8e9a1cfb0a6799c676a8ba8a953936b8e3ae"
    "80e294137303a40858f1f995";
static const char ecc_secret[] = "00440020b0a50ade3a799bcae9fdb66f0c864553"
    "3d076e2984d70ea35659c13de32ccde400200c9226101f5b929bf6a444f7e23fde39"
    "b746d217761ce40368a48c8c0eae4175";
static const char ecc_blob[] = "004400205a28887742d17e74ca13886ef87bd6a3cb"
    "218d80ad04d21fbd0d6bffd2b81efbc6601ca19706c2a9c37a8551e49ffd9f23d642"
    "3c668134b6384ed66269b57b011675";
/* The order n of P-256 (FIPS 186-4 D.1.2.3). */
static const char p256_n[] = "ffffffff00000000ffffffffffffffffbce6faada717"
    "9e84f3b9cac2fc632551";

/* An EK: its TPM2B_PUBLIC bytes and the parsed key pointing into them. */
struct ek {
	unsigned char *buf;
	size_t len;
	struct tpm_public pub;
};

static void
unhex(const char *hex, unsigned char *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	assert_int_equal(wg_hex_decode(hex, out, n), 0);
}

static void
assert_hex(const unsigned char *got, size_t len, const char *want)
{
	char hex[2 * 512 + 1];

	assert_true(len <= 512);
	wg_hex(got, len, hex);
	assert_string_equal(hex, want);
}

/*
 * The corpus EK ek with del bytes at off replaced by inslen bytes of ins
 * (the TPM2B size fixed up), parsed into e; free e->buf.
 */
static void
ek_load(const char *ek, size_t off, size_t del, const void *ins,
    size_t inslen, struct ek *e)
{
	unsigned char *src;
	char why[256] = "";
	size_t n;

	src = corpus_file_hex(ek, &n);
	assert_true(off + del <= n);
	e->len = n - del + inslen;
	e->buf = malloc(e->len);
	assert_non_null(e->buf);
	memcpy(e->buf, src, off);
	if (inslen > 0)
		memcpy(e->buf + off, ins, inslen);
	memcpy(e->buf + off + inslen, src + off + del, n - off - del);
	e->buf[0] = (unsigned char)((e->len - 2) >> 8);
	e->buf[1] = (unsigned char)(e->len - 2);
	free(src);
	if (tpm_public_parse(e->buf, e->len, &e->pub, why, sizeof(why)) !=
	    WG_OK)
		fail_msg("%s refused: %s", ek, why);
}

static void
ek_corpus(const char *ek, struct ek *e)
{
	ek_load(ek, 0, 0, NULL, 0, e);
}

static void
test_makecred_kdfa_vectors(void **state)
{
	unsigned char key1[32], key3[16], name[34], out[65];
	size_t i;

	for (i = 0; i < sizeof(key1); i++)
		key1[i] = (unsigned char)i;
	memset(key3, 0xa5, sizeof(key3));
	unhex(name_hex, name, sizeof(name));
	assert_int_equal(makecred_kdfa(key1, 32, "STORAGE", name, 34, NULL, 0,
	    128, out), 0);
	assert_hex(out, 16, kdfa_storage);
	assert_int_equal(makecred_kdfa(key1, 32, "INTEGRITY", NULL, 0, NULL, 0,
	    256, out), 0);
	assert_hex(out, 32, kdfa_integrity);
	/* three blocks, the last one cut: the counter and the bits field */
	assert_int_equal(makecred_kdfa(key3, 16, "TEST",
	    (const unsigned char *)"abc", 3, (const unsigned char *)"defg", 4,
	    520, out), 0);
	assert_hex(out, 65, kdfa_long);
}

static void
test_makecred_kdfa_refuses_bits(void **state)
{
	static const size_t bad[] = { 0, 12, MAKECRED_KDF_MAX_BITS + 8 };
	unsigned char key[32] = { 0 }, out[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(makecred_kdfa(key, 32, "STORAGE", NULL, 0,
		    NULL, 0, bad[i], out), -1);
}

static void
test_makecred_kdfe_vectors(void **state)
{
	unsigned char z[32], u[32], v[32], out[50];
	size_t i;

	for (i = 0; i < 32; i++) {
		z[i] = (unsigned char)(0x40 + i);
		u[i] = (unsigned char)(0x60 + i);
		v[i] = (unsigned char)(0x80 + i);
	}
	assert_int_equal(makecred_kdfe(z, 32, "IDENTITY", u, 32, v, 32, 256,
	    out), 0);
	assert_hex(out, 32, kdfe_identity);
	assert_int_equal(makecred_kdfe(z, 32, "X", NULL, 0, v, 32, 400, out),
	    0);
	assert_hex(out, 50, kdfe_long);
	assert_int_equal(makecred_kdfe(z, 32, "X", NULL, 0, v, 32, 7, out), -1);
}

/* makecred_with() of the corpus RSA EK with the fixed seed and cred. */
static void
rsa_vector(const char *cred, const char *want)
{
	unsigned char seed[32], name[34];
	struct makecred mc;
	struct ek e;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)(0xc0 + i);
	unhex(name_hex, name, sizeof(name));
	ek_corpus(RSA_EK, &e);
	assert_int_equal(makecred_with(&e.pub, name, 34,
	    (const unsigned char *)cred, strlen(cred), seed, NULL, &mc, why,
	    sizeof(why)), WG_OK);
	assert_hex(mc.blob, mc.blob_len, want);
	/* TPM2B_ENCRYPTED_SECRET of one 2048-bit OAEP block */
	assert_int_equal(mc.secret_len, 2 + 256);
	assert_int_equal(mc.secret[0], 0x01);
	assert_int_equal(mc.secret[1], 0x00);
	free(e.buf);
}

static void
test_makecred_with_rsa_vectors(void **state)
{
	rsa_vector(cred32, rsa_blob32);
	rsa_vector(cred16, rsa_blob16);
}

static void
test_makecred_with_ecc_vector(void **state)
{
	unsigned char eph[32], name[34];
	struct makecred mc;
	struct ek e;
	char why[256];

	unhex(ecc_eph_hex, eph, sizeof(eph));
	unhex(name_hex, name, sizeof(name));
	ek_corpus(ECC_EK, &e);
	assert_int_equal(makecred_with(&e.pub, name, 34,
	    (const unsigned char *)cred32, 32, NULL, eph, &mc, why,
	    sizeof(why)), WG_OK);
	assert_hex(mc.secret, mc.secret_len, ecc_secret);
	assert_hex(mc.blob, mc.blob_len, ecc_blob);
	free(e.buf);
}

/*
 * What TPM2_ActivateCredential does once it has the seed (Part 1 24.5,
 * 24.6): check outerHMAC, decrypt encIdentity, unmarshal the
 * TPM2B_DIGEST into cred; its length, or -1 if the HMAC is wrong.
 */
static int
unwrap(const unsigned char seed[32], const unsigned char name[34],
    const struct makecred *mc, unsigned char cred[MAKECRED_MAX])
{
	static const unsigned char iv[16];
	unsigned char sym[16], hkey[32], mac[32], buf[2 + MAKECRED_MAX + 34];
	size_t enc_len = mc->blob_len - 36, len = 0;
	EVP_CIPHER_CTX *ctx;
	int n = 0;

	assert_true(mc->blob_len > 38 && mc->blob_len <= sizeof(mc->blob));
	assert_int_equal(mc->blob[0] << 8 | mc->blob[1], mc->blob_len - 2);
	assert_int_equal(mc->blob[2] << 8 | mc->blob[3], 32);
	assert_int_equal(makecred_kdfa(seed, 32, "INTEGRITY", NULL, 0, NULL, 0,
	    256, hkey), 0);
	memcpy(buf, mc->blob + 36, enc_len);
	memcpy(buf + enc_len, name, 34);
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, hkey, 32,
	    buf, enc_len + 34, mac, sizeof(mac), &len));
	if (CRYPTO_memcmp(mac, mc->blob + 4, 32) != 0)
		return -1;
	assert_int_equal(makecred_kdfa(seed, 32, "STORAGE", name, 34, NULL, 0,
	    128, sym), 0);
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_128_cfb128(), NULL,
	    sym, iv), 1);
	assert_int_equal(EVP_DecryptUpdate(ctx, buf, &n, mc->blob + 36,
	    (int)enc_len), 1);
	assert_int_equal((size_t)n, enc_len);
	EVP_CIPHER_CTX_free(ctx);
	len = (size_t)(buf[0] << 8 | buf[1]);
	assert_int_equal(len, enc_len - 2);
	memcpy(cred, buf + 2, len);
	return (int)len;
}

/* A fresh name: 000b || 32 random bytes. */
static void
random_name(unsigned char name[34])
{
	name[0] = 0x00;
	name[1] = 0x0b;
	assert_int_equal(wg_random(name + 2, 32), WG_OK);
}

/* The bytes of an OpenSSL key's BIGNUM parameter, padded to n. */
static void
key_bytes(EVP_PKEY *k, const char *param, unsigned char *out, size_t n)
{
	BIGNUM *bn = NULL;

	assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, out, (int)n), (int)n);
	BN_free(bn);
}

/*
 * An RSA key made now, as the corpus EK's TPM2B_PUBLIC with its modulus:
 * what the TPM's EK would be, with the private key at hand.
 */
static EVP_PKEY *
rsa_ek_new(struct ek *e)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	unsigned char n[256];

	assert_non_null(k);
	key_bytes(k, OSSL_PKEY_PARAM_RSA_N, n, sizeof(n));
	ek_load(RSA_EK, OFF_RSA_N, sizeof(n), n, sizeof(n), e);
	return k;
}

/* The TPM's side of RSA secret sharing: the seed from the secret. */
static void
rsa_open_seed(EVP_PKEY *k, const struct makecred *mc, unsigned char seed[32])
{
	unsigned char out[256];
	size_t len = sizeof(out);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	unsigned char *label = OPENSSL_memdup("IDENTITY", 9);

	assert_non_null(ctx);
	assert_non_null(label);
	assert_int_equal(mc->secret_len, 258);
	assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx,
	    RSA_PKCS1_OAEP_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, 9), 1);
	assert_int_equal(EVP_PKEY_decrypt(ctx, out, &len, mc->secret + 2,
	    256), 1);
	assert_int_equal(len, 32);
	memcpy(seed, out, 32);
	EVP_PKEY_CTX_free(ctx);
}

/* A random RSA credential opens with the EK's private key, and the
 * seed it carries gives the same blob through makecred_with(). */
static void
test_makecred_rsa_opens(void **state)
{
	unsigned char name[34], cred[MAKECRED_MAX], got[MAKECRED_MAX];
	unsigned char seed[32];
	struct makecred mc, again;
	struct ek e;
	EVP_PKEY *k = rsa_ek_new(&e);
	char why[256];

	random_name(name);
	assert_int_equal(wg_random(cred, sizeof(cred)), WG_OK);
	assert_int_equal(makecred(&e.pub, name, 34, cred, 32, &mc, why,
	    sizeof(why)), WG_OK);
	rsa_open_seed(k, &mc, seed);
	assert_int_equal(unwrap(seed, name, &mc, got), 32);
	assert_memory_equal(got, cred, 32);
	assert_int_equal(makecred_with(&e.pub, name, 34, cred, 32, seed, NULL,
	    &again, why, sizeof(why)), WG_OK);
	assert_memory_equal(again.blob, mc.blob, mc.blob_len);
	/* the credential is bound to the name */
	name[33] ^= 1;
	assert_int_equal(unwrap(seed, name, &mc, got), -1);
	EVP_PKEY_free(k);
	free(e.buf);
}

/* The TPM's side of ECC secret sharing: Z = x(d_EK * Q_e), then KDFe. */
static void
ecc_open_seed(EVP_PKEY *k, const struct ek *e, const struct makecred *mc,
    unsigned char seed[32])
{
	unsigned char z[32];
	size_t len = sizeof(z);
	struct ek qe; /* Q_e as a TPM2B_PUBLIC, to make an OpenSSL key */
	EVP_PKEY *peer;
	EVP_PKEY_CTX *ctx;

	assert_int_equal(mc->secret_len, 70);
	assert_hex(mc->secret, 4, "00440020");
	assert_hex(mc->secret + 36, 2, "0020");
	/* x, y's size, y: the TPMS_ECC_POINT less x's size; parsing it
	 * checks that Q_e is on the curve */
	ek_load(ECC_EK, OFF_ECC_X, 66, mc->secret + 4, 66, &qe);
	assert_non_null(peer = tpm_public_to_pkey(&qe.pub));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL));
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, peer), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, z, &len), 1);
	assert_int_equal(len, 32);
	assert_int_equal(makecred_kdfe(z, 32, "IDENTITY", mc->secret + 4, 32,
	    e->pub.ecc_x, 32, 256, seed), 0);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	free(qe.buf);
}

/* A random ECC credential opens with the EK's private key. */
static void
test_makecred_ecc_opens(void **state)
{
	unsigned char name[34], cred[MAKECRED_MAX], got[MAKECRED_MAX];
	unsigned char xy[32 + 2 + 32], seed[32];
	struct makecred mc;
	struct ek e;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	char why[256];

	assert_non_null(k);
	key_bytes(k, OSSL_PKEY_PARAM_EC_PUB_X, xy, 32);
	xy[32] = 0x00;
	xy[33] = 0x20;
	key_bytes(k, OSSL_PKEY_PARAM_EC_PUB_Y, xy + 34, 32);
	ek_load(ECC_EK, OFF_ECC_X, sizeof(xy), xy, sizeof(xy), &e);
	random_name(name);
	assert_int_equal(wg_random(cred, 20), WG_OK);
	assert_int_equal(makecred(&e.pub, name, 34, cred, 20, &mc, why,
	    sizeof(why)), WG_OK);
	ecc_open_seed(k, &e, &mc, seed);
	assert_int_equal(unwrap(seed, name, &mc, got), 20);
	assert_memory_equal(got, cred, 20);
	EVP_PKEY_free(k);
	free(e.buf);
}

/* Each call draws a new seed (and for ECC a new ephemeral key). */
static void
test_makecred_differs_each_time(void **state)
{
	static const char *const eks[] = { RSA_EK, ECC_EK };
	unsigned char name[34] = { 0x00, 0x0b };
	struct makecred a, b;
	struct ek e;
	char why[256];
	size_t i;

	for (i = 0; i < 2; i++) {
		ek_corpus(eks[i], &e);
		assert_int_equal(makecred(&e.pub, name, 34,
		    (const unsigned char *)cred16, 16, &a, why, sizeof(why)),
		    WG_OK);
		assert_int_equal(makecred(&e.pub, name, 34,
		    (const unsigned char *)cred16, 16, &b, why, sizeof(why)),
		    WG_OK);
		assert_int_equal(a.blob_len, 2 + 34 + 18);
		assert_int_equal(a.blob_len, b.blob_len);
		assert_int_equal(a.secret_len, b.secret_len);
		assert_true(memcmp(a.blob, b.blob, a.blob_len) != 0);
		assert_true(memcmp(a.secret, b.secret, a.secret_len) != 0);
		free(e.buf);
	}
}

/* The out of a failed call: all zero, nothing half-made escapes. */
static void
assert_zeroed(const struct makecred *mc)
{
	static const struct makecred zero;

	assert_memory_equal(mc, &zero, sizeof(zero));
}

/*
 * makecred() of e fails with want and a why holding want_why; name is
 * the vectors' name cut or padded to name_len (name_bytes overrides).
 */
static void
refused(const struct tpm_public *ek, const unsigned char *name_bytes,
    size_t name_len, size_t cred_len, enum wg_err want,
    const char *want_why)
{
	unsigned char name[40] = { 0 }, cred[MAKECRED_MAX + 1] = { 0 };
	struct makecred mc;
	char why[256] = "";

	unhex(name_hex, name, 34);
	if (name_bytes != NULL)
		memcpy(name, name_bytes, 34);
	memset(&mc, 0xa5, sizeof(mc));
	assert_int_equal(makecred(ek, name, name_len, cred, cred_len, &mc, why,
	    sizeof(why)), want);
	if (strstr(why, want_why) == NULL)
		fail_msg("message '%s' lacks '%s'", why, want_why);
	assert_zeroed(&mc);
}

/* A restricted signing key (an AK) and a decryption key that is not
 * restricted are not EKs TPM2_ActivateCredential could use. */
static void
test_makecred_refuses_non_storage_ek(void **state)
{
	/* fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|... */
	static const unsigned char ak[4] = { 0x00, 0x05, 0x00, 0x72 };
	static const unsigned char dec[4] = { 0x00, 0x02, 0x00, 0x72 };
	static const unsigned char both[4] = { 0x00, 0x07, 0x00, 0x72 };
	struct ek e;

	ek_load(RSA_EK, OFF_ATTRS, 4, ak, 4, &e);
	refused(&e.pub, NULL, 34, 16, WG_E_EK_CERT_INVALID,
	    "objectAttributes fixedTPM|fixedParent|sensitiveDataOrigin|"
	    "userWithAuth|restricted|sign: not an endorsement key");
	free(e.buf);
	ek_load(ECC_EK, OFF_ATTRS, 4, dec, 4, &e);
	refused(&e.pub, NULL, 34, 16, WG_E_EK_CERT_INVALID, "|decrypt: not");
	free(e.buf);
	ek_load(RSA_EK, OFF_ATTRS, 4, both, 4, &e);
	refused(&e.pub, NULL, 34, 16, WG_E_EK_CERT_INVALID, "|sign: not");
	free(e.buf);
}

/* A storage key without a symmetric algorithm cannot hold a credential. */
static void
test_makecred_refuses_symmetric_null(void **state)
{
	static const unsigned char null[2] = { 0x00, 0x10 };
	struct ek e;

	ek_load(RSA_EK, OFF_SYM, 6, null, 2, &e);
	assert_int_equal(e.pub.sym_alg, TPM_ALG_NULL);
	refused(&e.pub, NULL, 34, 16, WG_E_EK_CERT_INVALID,
	    "parameters.symmetric null-0-");
	free(e.buf);
	ek_load(ECC_EK, OFF_SYM, 6, null, 2, &e);
	refused(&e.pub, NULL, 34, 16, WG_E_EK_CERT_INVALID,
	    "is not AES-128-CFB");
	free(e.buf);
}

static void
test_makecred_refuses_credential_length(void **state)
{
	unsigned char name[34];
	struct makecred mc;
	struct ek e;
	char why[256];

	ek_corpus(RSA_EK, &e);
	refused(&e.pub, NULL, 34, 0, WG_E_INTERNAL, "credential: 0 bytes");
	refused(&e.pub, NULL, 34, MAKECRED_MAX + 1, WG_E_INTERNAL,
	    "credential: 33 bytes, must be 1 to 32");
	free(e.buf);
	ek_corpus(ECC_EK, &e);
	refused(&e.pub, NULL, 34, MAKECRED_MAX + 1, WG_E_INTERNAL,
	    "credential: 33 bytes");
	unhex(name_hex, name, 34);
	assert_int_equal(makecred(&e.pub, name, 34, NULL, 16, &mc, why,
	    sizeof(why)), WG_E_INTERNAL);
	assert_non_null(strstr(why, "credential: 16 bytes at NULL"));
	free(e.buf);
}

static void
test_makecred_refuses_name(void **state)
{
	static const unsigned char sha384[34] = { 0x00, 0x0c };
	struct makecred mc;
	struct ek e;
	char why[256];

	ek_corpus(RSA_EK, &e);
	refused(&e.pub, NULL, 33, 16, WG_E_INTERNAL, "name: 33 bytes");
	refused(&e.pub, NULL, 35, 16, WG_E_INTERNAL, "name: 35 bytes");
	refused(&e.pub, NULL, 0, 16, WG_E_INTERNAL, "name: 0 bytes");
	refused(&e.pub, sha384, 34, 16, WG_E_INTERNAL,
	    "not a SHA-256 TPM name");
	assert_int_equal(makecred(&e.pub, NULL, 34,
	    (const unsigned char *)cred16, 16, &mc, why, sizeof(why)),
	    WG_E_INTERNAL);
	assert_string_equal(why, "name: 34 bytes at NULL, not a SHA-256 TPM "
	    "name (nameAlg 0x000b and a 32-byte digest)");
	free(e.buf);
}

/* makecred_with() needs the fixed input the EK's type uses, and a
 * private key of P-256 (0 < d < n). */
static void
test_makecred_with_refuses_fixed_inputs(void **state)
{
	unsigned char zero[32] = { 0 }, n[32], name[34];
	const unsigned char *c = (const unsigned char *)cred16;
	struct makecred mc;
	struct ek rsa, ecc;
	char why[256];

	unhex(name_hex, name, 34);
	unhex(p256_n, n, 32);
	ek_corpus(RSA_EK, &rsa);
	ek_corpus(ECC_EK, &ecc);
	assert_int_equal(makecred_with(&rsa.pub, name, 34, c, 16, NULL, zero,
	    &mc, why, sizeof(why)), WG_E_INTERNAL);
	assert_string_equal(why, "seed: NULL, but this EK needs it (a fixed "
	    "vector)");
	assert_int_equal(makecred_with(&ecc.pub, name, 34, c, 16, zero, NULL,
	    &mc, why, sizeof(why)), WG_E_INTERNAL);
	assert_int_equal(makecred_with(&ecc.pub, name, 34, c, 16, NULL, zero,
	    &mc, why, sizeof(why)), WG_E_INTERNAL);
	assert_non_null(strstr(why, "ecc_eph: not a P-256 private key"));
	assert_zeroed(&mc);
	assert_int_equal(makecred_with(&ecc.pub, name, 34, c, 16, NULL, n,
	    &mc, why, sizeof(why)), WG_E_INTERNAL);
	n[31]--; /* n - 1 is the largest one */
	assert_int_equal(makecred_with(&ecc.pub, name, 34, c, 16, NULL, n,
	    &mc, NULL, 0), WG_OK);
	free(rsa.buf);
	free(ecc.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_makecred_kdfa_vectors),
		cmocka_unit_test(test_makecred_kdfa_refuses_bits),
		cmocka_unit_test(test_makecred_kdfe_vectors),
		cmocka_unit_test(test_makecred_with_rsa_vectors),
		cmocka_unit_test(test_makecred_with_ecc_vector),
		cmocka_unit_test(test_makecred_rsa_opens),
		cmocka_unit_test(test_makecred_ecc_opens),
		cmocka_unit_test(test_makecred_differs_each_time),
		cmocka_unit_test(test_makecred_refuses_non_storage_ek),
		cmocka_unit_test(test_makecred_refuses_symmetric_null),
		cmocka_unit_test(test_makecred_refuses_credential_length),
		cmocka_unit_test(test_makecred_refuses_name),
		cmocka_unit_test(test_makecred_with_refuses_fixed_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
