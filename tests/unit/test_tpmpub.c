/*
 * TPM public areas: the swtpm EKs of tests/corpus/tpmpub parse to what
 * tpm2-tools says about them (name, Intel EK-certificate lookup id, PEM),
 * and every rule of the parser refuses what breaks it, naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "common/util.h"
#include "crypto/tpmpub.h"
#include "corpus_file.h"

#define RSA_EK "tpmpub/good/ek-rsa.hex"
#define ECC_EK "tpmpub/good/ek-ecc.hex"
#define RSA_PEM "tpmpub/good/ek-rsa.pem"
#define ECC_PEM "tpmpub/good/ek-ecc.pem"

/* RSA EK offsets, counted from the TPM2B size field. */
#define OFF_TYPE 2
#define OFF_NAMEALG 4
#define OFF_ATTRS 6
#define OFF_POLICY 10
#define OFF_SYM 44
#define OFF_SCHEME 50
#define OFF_KEYBITS 52 /* ECC: curveID */
#define OFF_EXPONENT 54 /* ECC: kdf */
#define OFF_UNIQUE 58 /* ECC: unique.x size is at 56 */

/*
 * What tpm2-tools 5.4 computed for the corpus EKs: the name from
 * `tpm2_readpublic -c ek.ctx` and the lookup id from the path
 * `tpm2_getekcertificate -x -u ek.pub http://127.0.0.1:PORT/` requested
 * (".../<id>%3D"), captured with a local HTTP server.
 */
static const char rsa_name[] = "000b696a5ac43bf6de3acdad68a1d3a5eb873d24"
    "6e771d382a2e2d4cd8be0eea1b48";
static const char rsa_lookup_hex[] = "fd692b2c43877262ecea1272647db7c2a07f"
    "4fbcd53b79c80564b9306fea5832";
static const char rsa_lookup_id[] = "_WkrLEOHcmLs6hJyZH23wqB_T7zVO3nIBWS5MG"
    "_qWDI";
static const char ecc_name[] = "000b94743b7a71813d8caa1de8bb60e661d7a370"
    "93440d42280266b575397b119118";
static const char ecc_lookup_hex[] = "a336934800903a04299c0839949c43cd6024"
    "4ea85425d6ac45b652a12e2524d7";
static const char ecc_lookup_id[] = "ozaTSACQOgQpnAg5lJxDzWAkTqhUJdasRbZSoS"
    "4lJNc";
/* PolicySecret(TPM_RH_ENDORSEMENT): the TCG EK templates' authPolicy. */
static const char ek_policy[] = "837197674484b3f81a90cc8d46a5d724fd52d76e"
    "06520b64f2a1da1b331469aa";

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/*
 * A copy of the EK in *len bytes with del bytes at off replaced by ins
 * (inslen bytes) and the TPM2B size fixed up; the caller frees it.
 */
static unsigned char *
splice(const char *ek, size_t off, size_t del, const void *ins,
    size_t inslen, size_t *len)
{
	size_t n;
	unsigned char *src = corpus_file_hex(ek, &n), *out;

	assert_true(off + del <= n);
	out = malloc(n - del + inslen);
	assert_non_null(out);
	memcpy(out, src, off);
	memcpy(out + off, ins, inslen);
	memcpy(out + off + inslen, src + off + del, n - off - del);
	*len = n - del + inslen;
	put16(out, (unsigned)(*len - 2));
	free(src);
	return out;
}

/* Parsing the EK with bytes at off replaced by ins fails naming `want`. */
static void
refused(const char *ek, size_t off, size_t del, const void *ins,
    size_t inslen, const char *want)
{
	struct tpm_public p;
	unsigned char *buf;
	char why[256];
	size_t len;

	buf = splice(ek, off, del, ins, inslen, &len);
	assert_int_equal(tpm_public_parse(buf, len, &p, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	if (strstr(why, want) == NULL)
		fail_msg("message '%s' lacks '%s'", why, want);
	assert_int_equal(p.type, 0); /* nothing half-parsed escapes */
	assert_null(p.area);
	free(buf);
}

static void
parse_ok(const char *ek, unsigned char **buf, struct tpm_public *p)
{
	char why[256] = "";
	size_t len;

	*buf = corpus_file_hex(ek, &len);
	if (tpm_public_parse(*buf, len, p, why, sizeof(why)) != WG_OK)
		fail_msg("%s refused: %s", ek, why);
	assert_ptr_equal(p->area, *buf + 2);
	assert_int_equal(p->area_len, len - 2);
}

static void
test_tpm_public_parse_rsa_ek(void **state)
{
	struct tpm_public p;
	unsigned char *buf;
	char hex[65];

	parse_ok(RSA_EK, &buf, &p);
	assert_int_equal(p.type, TPM_ALG_RSA);
	assert_int_equal(p.name_alg, TPM_ALG_SHA256);
	assert_int_equal(p.attributes, TPMA_FIXEDTPM | TPMA_FIXEDPARENT |
	    TPMA_SENSITIVEDATAORIGIN | TPMA_ADMINWITHPOLICY |
	    TPMA_RESTRICTED | TPMA_DECRYPT);
	assert_int_equal(p.auth_policy_len, 32);
	wg_hex(p.auth_policy, 32, hex);
	assert_string_equal(hex, ek_policy);
	assert_int_equal(p.sym_alg, TPM_ALG_AES);
	assert_int_equal(p.sym_bits, 128);
	assert_int_equal(p.sym_mode, TPM_ALG_CFB);
	assert_int_equal(p.scheme, TPM_ALG_NULL);
	assert_int_equal(p.rsa_bits, 2048);
	assert_int_equal(p.rsa_exponent, 0);
	assert_int_equal(p.rsa_modulus_len, 256);
	assert_int_equal(p.area_len, 0x13a);
	free(buf);
}

static void
test_tpm_public_parse_ecc_ek(void **state)
{
	struct tpm_public p;
	unsigned char *buf;

	parse_ok(ECC_EK, &buf, &p);
	assert_int_equal(p.type, TPM_ALG_ECC);
	assert_int_equal(p.ecc_curve, TPM_ECC_NIST_P256);
	assert_int_equal(p.ecc_x_len, 32);
	assert_int_equal(p.ecc_y_len, 32);
	assert_int_equal(p.sym_alg, TPM_ALG_AES);
	assert_int_equal(p.scheme, TPM_ALG_NULL);
	free(buf);
}

static void
check_ids(const char *ek, const char *name_hex, const char *lookup_hex,
    const char *lookup_id)
{
	unsigned char name[34], digest[32], *buf;
	struct tpm_public p;
	char hex[69], id[44];

	parse_ok(ek, &buf, &p);
	tpm_public_name(&p, name);
	wg_hex(name, sizeof(name), hex);
	assert_string_equal(hex, name_hex);
	tpm_public_sha256(&p, digest);
	assert_memory_equal(digest, name + 2, 32);
	tpm_public_ek_lookup_hash(&p, digest);
	wg_hex(digest, sizeof(digest), hex);
	assert_string_equal(hex, lookup_hex);
	tpm_public_ek_lookup_id(&p, id);
	assert_string_equal(id, lookup_id);
	free(buf);
}

static void
test_tpm_public_ek_lookup_hash_rsa_matches_tpm2_tools(void **state)
{
	check_ids(RSA_EK, rsa_name, rsa_lookup_hex, rsa_lookup_id);
}

static void
test_tpm_public_ek_lookup_hash_ecc_matches_tpm2_tools(void **state)
{
	check_ids(ECC_EK, ecc_name, ecc_lookup_hex, ecc_lookup_id);
}

/* tpm_public_to_pkey gives the key tpm2_readpublic -f pem wrote. */
static void
check_pkey(const char *ek, const char *pem, const char *type, int bits)
{
	EVP_PKEY *got, *want;
	struct tpm_public p;
	unsigned char *buf;
	char *text;
	size_t n;
	BIO *bio;

	parse_ok(ek, &buf, &p);
	text = corpus_file_text(pem, &n);
	bio = BIO_new_mem_buf(text, (int)n);
	want = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	assert_non_null(want);
	got = tpm_public_to_pkey(&p);
	assert_non_null(got);
	assert_true(EVP_PKEY_is_a(got, type));
	assert_int_equal(EVP_PKEY_get_bits(got), bits);
	assert_int_equal(EVP_PKEY_eq(got, want), 1);
	EVP_PKEY_free(got);
	EVP_PKEY_free(want);
	BIO_free(bio);
	free(text);
	free(buf);
}

static void
test_tpm_public_to_pkey_rsa(void **state)
{
	check_pkey(RSA_EK, RSA_PEM, "RSA", 2048);
}

static void
test_tpm_public_to_pkey_ecc(void **state)
{
	check_pkey(ECC_EK, ECC_PEM, "EC", 256);
}

static void
test_tpm_public_to_pkey_refuses_unparsed(void **state)
{
	struct tpm_public p;

	memset(&p, 0, sizeof(p));
	assert_null(tpm_public_to_pkey(&p));
	p.type = TPM_ALG_ECC;
	p.ecc_curve = 0x0004; /* P-384 */
	p.ecc_x_len = p.ecc_y_len = 48;
	assert_null(tpm_public_to_pkey(&p));
}

static void
test_tpm_public_parse_rejects_size(void **state)
{
	static const unsigned char one[1] = { 0 };
	unsigned char extra[1] = { 0 }, *buf;
	struct tpm_public p;
	char why[256];
	size_t len;

	assert_int_equal(tpm_public_parse(one, 1, &p, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	assert_non_null(strstr(why, "TPM2B_PUBLIC.size"));
	buf = corpus_file_hex(RSA_EK, &len);
	assert_int_equal(tpm_public_parse(buf, len - 1, &p, why,
	    sizeof(why)), WG_E_JSON_FIELD);
	assert_non_null(strstr(why, "truncated"));
	free(buf);
	/* A byte more than the key, counted in the size: trailing. */
	refused(RSA_EK, 316, 0, extra, 1, "unique: 1 bytes follow");
}

/* Every cut of the area, with its size field saying so, is refused. */
static void
test_tpm_public_parse_rejects_every_truncation(void **state)
{
	unsigned char *buf, *cut;
	struct tpm_public p;
	char why[256];
	size_t len, n;

	buf = corpus_file_hex(ECC_EK, &len);
	cut = malloc(len);
	assert_non_null(cut);
	for (n = 2; n < len; n++) {
		memcpy(cut, buf, n);
		put16(cut, (unsigned)(n - 2));
		assert_int_equal(tpm_public_parse(cut, n, &p, why,
		    sizeof(why)), WG_E_JSON_FIELD);
		assert_true(why[0] != '\0');
	}
	free(cut);
	free(buf);
}

static void
test_tpm_public_parse_rejects_head(void **state)
{
	static const unsigned char keyedhash[2] = { 0x00, 0x08 };
	static const unsigned char sha1[2] = { 0x00, 0x04 };
	static const unsigned char reserved[4] = { 0x00, 0x03, 0x00, 0xb3 };
	static const unsigned char policy20[2] = { 0x00, 0x14 };

	refused(RSA_EK, OFF_TYPE, 2, keyedhash, 2, "TPMT_PUBLIC.type");
	refused(RSA_EK, OFF_NAMEALG, 2, sha1, 2, "nameAlg: 0x0004 is "
	    "not SHA-256");
	refused(RSA_EK, OFF_ATTRS, 4, reserved, 4, "reserved bit 0");
	refused(RSA_EK, OFF_POLICY, 2, policy20, 2, "authPolicy: size "
	    "20");
}

static void
test_tpm_public_parse_rejects_parameters(void **state)
{
	static const unsigned char sm4[2] = { 0x00, 0x13 };
	static const unsigned char aes256[4] = { 0x00, 0x06, 0x01, 0x00 };
	static const unsigned char ecdsa[2] = { 0x00, 0x18 };
	static const unsigned char sm3[4] = { 0x00, 0x14, 0x00, 0x12 };
	static const unsigned char bits1024[2] = { 0x04, 0x00 };
	static const unsigned char exp3[4] = { 0, 0, 0, 3 };
	static const unsigned char p384[2] = { 0x00, 0x04 };
	static const unsigned char kdf[4] = { 0x00, 0x20, 0x00, 0x0b };

	refused(RSA_EK, OFF_SYM, 2, sm4, 2, "symmetric.algorithm");
	refused(RSA_EK, OFF_SYM, 4, aes256, 4, "not AES-128-CFB");
	refused(RSA_EK, OFF_SCHEME, 2, ecdsa, 2, "parameters.scheme: "
	    "0x0018 is not a scheme accepted for RSA");
	refused(RSA_EK, OFF_SCHEME, 2, sm3, 4, "scheme.hashAlg");
	refused(RSA_EK, OFF_KEYBITS, 2, bits1024, 2, "keyBits: 1024");
	refused(RSA_EK, OFF_EXPONENT, 4, exp3, 4, "exponent: 3");
	refused(ECC_EK, OFF_KEYBITS, 2, p384, 2, "curveID: 0x0004");
	refused(ECC_EK, OFF_EXPONENT, 2, kdf, 4, "kdf.scheme");
}

static void
test_tpm_public_parse_rejects_unique(void **state)
{
	static const unsigned char size255[2] = { 0x00, 0xff };
	static const unsigned char top_clear[1] = { 0x7f };
	static const unsigned char x31[2] = { 0x00, 0x1f };
	static const unsigned char ff[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff,
	};

	refused(RSA_EK, OFF_UNIQUE, 3, size255, 2, "unique.rsa: size "
	    "255");
	refused(RSA_EK, OFF_UNIQUE + 2, 1, top_clear, 1, "not a "
	    "2048-bit modulus");
	refused(ECC_EK, 56, 3, x31, 2, "unique.ecc.x: size 31");
	refused(ECC_EK, 58, 32, ff, 32, "not on the P-256 curve");
	refused(ECC_EK, 123, 1, "\x00", 1, "not on the P-256 curve");
}

/* An AIK-shaped key: RSASSA-SHA256, no symmetric; an ECDAA key. */
static void
test_tpm_public_parse_accepts_signing_schemes(void **state)
{
	static const unsigned char rsassa[4] = { 0x00, 0x10, 0x00, 0x14 };
	static const unsigned char sha256[2] = { 0x00, 0x0b };
	static const unsigned char ecdaa[8] = { 0x00, 0x10, 0x00, 0x1a, 0x00,
		0x0b, 0x00, 0x07 };
	struct tpm_public p;
	unsigned char *a, *b;
	char why[256] = "";
	size_t alen, blen;

	/* Symmetric AES-128-CFB + scheme NULL (8 bytes) become NULL +
	 * RSASSA, then the hash is appended after the scheme. */
	a = splice(RSA_EK, OFF_SYM, 8, rsassa, 4, &alen);
	b = malloc(alen + 2);
	assert_non_null(b);
	memcpy(b, a, OFF_SYM + 4);
	memcpy(b + OFF_SYM + 4, sha256, 2);
	memcpy(b + OFF_SYM + 6, a + OFF_SYM + 4, alen - OFF_SYM - 4);
	blen = alen + 2;
	put16(b, (unsigned)(blen - 2));
	if (tpm_public_parse(b, blen, &p, why, sizeof(why)) != WG_OK)
		fail_msg("RSASSA key refused: %s", why);
	assert_int_equal(p.sym_alg, TPM_ALG_NULL);
	assert_int_equal(p.scheme, TPM_ALG_RSASSA);
	assert_int_equal(p.scheme_hash, TPM_ALG_SHA256);
	free(a);
	free(b);
	a = splice(ECC_EK, OFF_SYM, 8, ecdaa, 8, &alen);
	if (tpm_public_parse(a, alen, &p, why, sizeof(why)) != WG_OK)
		fail_msg("ECDAA key refused: %s", why);
	assert_int_equal(p.scheme, TPM_ALG_ECDAA);
	assert_int_equal(p.scheme_count, 7);
	free(a);
}

/* Every file of tests/corpus/tpmpub/bad is refused. */
static void
test_tpm_public_parse_refuses_bad_corpus(void **state)
{
	static const char *const bad[] = { "empty_modulus", "keyedhash",
		"name_sha1", "off_curve", "p384", "policy_oversized", "rsa1024",
		"size_too_big", "trailing", "truncated" };
	struct tpm_public p;
	unsigned char *buf;
	char path[64], why[256];
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "tpmpub/bad/%s.hex", bad[i]);
		buf = corpus_file_hex(path, &len);
		if (tpm_public_parse(buf, len, &p, why, sizeof(why)) == WG_OK)
			fail_msg("%s was accepted", path);
		free(buf);
	}
}

static void
test_tpm_public_parse_without_why(void **state)
{
	static const unsigned char junk[4] = { 0x00, 0x02, 0xff, 0xff };
	struct tpm_public p;

	assert_int_equal(tpm_public_parse(junk, sizeof(junk), &p, NULL, 0),
	    WG_E_JSON_FIELD);
}

static void
test_tpm_public_attributes_str_names(void **state)
{
	char buf[200], small[12];

	tpm_public_attributes_str(0x000300b2, buf, sizeof(buf));
	assert_string_equal(buf, "fixedTPM|fixedParent|sensitiveDataOrigin|"
	    "adminWithPolicy|restricted|decrypt");
	tpm_public_attributes_str(0x80000001, buf, sizeof(buf));
	assert_string_equal(buf, "bit0|bit31");
	tpm_public_attributes_str(0x000300b2, small, sizeof(small));
	assert_string_equal(small, "fixedTPM"); /* cut whole */
	tpm_public_attributes_str(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void
test_tpm_alg_name_known_and_unknown(void **state)
{
	char buf[8];

	assert_string_equal(tpm_alg_name(TPM_ALG_SHA256, buf), "sha256");
	assert_string_equal(tpm_alg_name(TPM_ALG_CFB, buf), "cfb");
	assert_string_equal(tpm_alg_name(0x1234, buf), "0x1234");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpm_public_parse_rsa_ek),
		cmocka_unit_test(test_tpm_public_parse_ecc_ek),
		cmocka_unit_test(
		    test_tpm_public_ek_lookup_hash_rsa_matches_tpm2_tools),
		cmocka_unit_test(
		    test_tpm_public_ek_lookup_hash_ecc_matches_tpm2_tools),
		cmocka_unit_test(test_tpm_public_to_pkey_rsa),
		cmocka_unit_test(test_tpm_public_to_pkey_ecc),
		cmocka_unit_test(test_tpm_public_to_pkey_refuses_unparsed),
		cmocka_unit_test(test_tpm_public_parse_rejects_size),
		cmocka_unit_test(
		    test_tpm_public_parse_rejects_every_truncation),
		cmocka_unit_test(test_tpm_public_parse_rejects_head),
		cmocka_unit_test(test_tpm_public_parse_rejects_parameters),
		cmocka_unit_test(test_tpm_public_parse_rejects_unique),
		cmocka_unit_test(test_tpm_public_parse_accepts_signing_schemes),
		cmocka_unit_test(test_tpm_public_parse_refuses_bad_corpus),
		cmocka_unit_test(test_tpm_public_parse_without_why),
		cmocka_unit_test(test_tpm_public_attributes_str_names),
		cmocka_unit_test(test_tpm_alg_name_known_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
