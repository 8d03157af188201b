/*
 * TPM attestations: quotes and certifies marshalled here and signed with
 * OpenSSL keys parse to every field and verify; the swtpm attestations of
 * tests/corpus/tpmattest verify with their AIKs and carry what tpm2-tools
 * said about them; every rule refuses what breaks it, naming the field.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "crypto/tpmattest.h"
#include "corpus_file.h"
#include "tpmattest_fixture.h"

/*
 * What tpm2-tools 5.4 said about the corpus: the pcrDigest tpm2_quote
 * computed from the PCRs it read (calcDigest), and the name of the key
 * tpm2_certify certified (tpm2_load -n).
 */
static const char swtpm_pcr_digest[] = "b393978842a0fa3d3e1470196f098f473f"
    "9678e72463cb65ec4ab5581856c2e4";
static const char swtpm_dk_name[] = "000b16a07a985842f5e5b6c5f0bd86e4a914"
    "c94dafe838aa03659af6fe535af37a17";

static void
has(const char *why, const char *want)
{
	if (strstr(why, want) == NULL)
		fail_msg("message '%s' lacks '%s'", why, want);
}

/* Each cut of a fresh quote or certify is refused; *out stays zero. */
static void
refused_all(uint16_t type, const struct cut *cuts, size_t n)
{
	static const struct tpm_attest zero;
	struct tpm_attest a;
	struct buf w, b;
	char why[256];
	size_t i;

	if (type == TPM_ST_ATTEST_QUOTE)
		quote_make(&w);
	else
		certify_make(&w);
	for (i = 0; i < n; i++) {
		b = splice(&w, cuts[i].off, cuts[i].del, cuts[i].ins,
		    cuts[i].inslen);
		assert_int_equal(tpm_attest_parse(b.b, b.len, &a, why,
		    sizeof(why)), WG_E_JSON_FIELD);
		has(why, cuts[i].want);
		assert_memory_equal(&a, &zero, sizeof(a));
	}
}

/* The fields every attestation of the fixture has. */
static void
check_head(const struct tpm_attest *a, uint16_t type)
{
	assert_int_equal(a->type, type);
	assert_int_equal(a->signer_len, 34);
	assert_int_equal(wg_get_be(a->signer, 2), TPM_ALG_SHA256);
	assert_int_equal(a->signer[33], 0x10 + 33);
	assert_int_equal(a->extra_len, 32);
	assert_int_equal(a->extra[0], 0xa0);
	assert_int_equal(a->extra[31], 0xa0 + 31);
	assert_true(a->clock == 0x0102030405060708ull);
	assert_int_equal(a->reset_count, 9);
	assert_int_equal(a->restart_count, 10);
	assert_int_equal(a->safe, 1);
	assert_true(a->firmware == 0x1122334455667788ull);
}

static void
test_tpm_attest_parse_quote_fields(void **state)
{
	struct tpm_attest a;
	struct buf w, sized;
	char why[256] = "";

	quote_make(&w);
	if (tpm_attest_parse(w.b, w.len, &a, why, sizeof(why)) != WG_OK)
		fail_msg("quote refused: %s", why);
	check_head(&a, TPM_ST_ATTEST_QUOTE);
	assert_int_equal(a.bank_count, 2);
	assert_int_equal(a.banks[0].hash, TPM_ALG_SHA256);
	assert_int_equal(a.banks[0].select_len, 3);
	assert_int_equal(a.banks[0].pcrs, 1u << 0 | 1u << 7 | 1u << 16);
	assert_int_equal(a.banks[1].hash, TPM_ALG_SHA1);
	assert_int_equal(a.banks[1].select_len, 1);
	assert_int_equal(a.banks[1].pcrs, 1u << 1);
	assert_int_equal(a.pcr_digest_len, 32);
	assert_int_equal(a.pcr_digest[31], 0xd0 + 31);
	assert_int_equal(a.name_len + a.qualified_name_len, 0);
	/* The same as a TPM2B_ATTEST. */
	sized.len = 0;
	put_2b(&sized, w.b, w.len);
	memset(&a, 0xff, sizeof(a));
	assert_int_equal(tpm_attest_parse_2b(sized.b, sized.len, &a, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(a.banks[0].pcrs, 1u << 0 | 1u << 7 | 1u << 16);
	assert_string_equal(why, "");
}

static void
test_tpm_attest_parse_certify_fields(void **state)
{
	struct tpm_attest a;
	struct buf w;
	char why[256] = "";

	certify_make(&w);
	if (tpm_attest_parse(w.b, w.len, &a, why, sizeof(why)) != WG_OK)
		fail_msg("certify refused: %s", why);
	check_head(&a, TPM_ST_ATTEST_CERTIFY);
	assert_int_equal(a.name_len, 34);
	assert_memory_equal(a.name, w.b + OFF_NAME + 2, 34);
	assert_int_equal(a.qualified_name_len, 34);
	assert_int_equal(a.qualified_name[33], 0x70 + 33);
	assert_int_equal(a.bank_count + a.pcr_digest_len, 0);
}

/* Lengths and counts at their limits; empty and handle names. */
static void
test_tpm_attest_parse_accepts_limits(void **state)
{
	static const unsigned char banks4[] = { 0, 0, 0, 4, 0x00, 0x04, 4,
		0, 0, 0, 0x80, 0x00, 0x0b, 1, 1, 0x00, 0x0c, 2, 0, 1, 0x00,
		0x0d, 1, 0 };
	static const unsigned char handle[] = { 0x00, 0x04, 0x40, 0, 0, 7 };
	struct tpm_attest a;
	struct buf w, b;
	char why[256] = "";

	quote_make(&w);
	b = splice(&w, OFF_COUNT, OFF_DIGEST - OFF_COUNT, banks4,
	    sizeof(banks4));
	if (tpm_attest_parse(b.b, b.len, &a, why, sizeof(why)) != WG_OK)
		fail_msg("4 banks refused: %s", why);
	assert_int_equal(a.bank_count, 4);
	assert_int_equal(a.banks[0].pcrs, 1u << 31);
	assert_int_equal(a.banks[2].pcrs, 1u << 8);
	assert_int_equal(a.banks[3].hash, TPM_ALG_SHA512);
	b = splice(&w, OFF_COUNT, OFF_DIGEST - OFF_COUNT, "\0\0\0\0", 4);
	assert_int_equal(tpm_attest_parse(b.b, b.len, &a, why, sizeof(why)),
	    WG_OK);
	assert_int_equal(a.bank_count, 0);
	b = splice(&w, OFF_SIGNER, 36, handle, sizeof(handle));
	assert_int_equal(tpm_attest_parse(b.b, b.len, &a, why, sizeof(why)),
	    WG_OK);
	assert_int_equal(a.signer_len, 4);
	b = splice(&w, OFF_SIGNER, 36, "\0\0", 2);
	assert_int_equal(tpm_attest_parse(b.b, b.len, &a, why, sizeof(why)),
	    WG_OK);
	assert_int_equal(a.signer_len, 0);
	b = splice(&w, OFF_SAFE, 1, "\0", 1);
	assert_int_equal(tpm_attest_parse(b.b, b.len, &a, why, sizeof(why)),
	    WG_OK);
	assert_int_equal(a.safe, 0);
}

static void
test_tpm_attest_parse_2b_refuses_size(void **state)
{
	struct tpm_attest a;
	struct buf w, sized;
	char why[256];

	quote_make(&w);
	assert_int_equal(tpm_attest_parse_2b(w.b, 1, &a, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	has(why, "TPM2B_ATTEST.size: 1 bytes, shorter");
	sized.len = 0;
	put_2b(&sized, w.b, w.len);
	assert_int_equal(tpm_attest_parse_2b(sized.b, sized.len - 1, &a, why,
	    sizeof(why)), WG_E_JSON_FIELD);
	has(why, "TPM2B_ATTEST.size: 149, but 148 bytes follow (truncated");
	put(&sized, 0, 1);
	assert_int_equal(tpm_attest_parse_2b(sized.b, sized.len, &a, why,
	    sizeof(why)), WG_E_JSON_FIELD);
	has(why, "150 bytes follow (trailing bytes are refused");
	/* Offsets count from the size field. */
	sized.b[2] = 0;
	assert_int_equal(tpm_attest_parse_2b(sized.b, sized.len - 1, &a, why,
	    sizeof(why)), WG_E_JSON_FIELD);
	has(why, "TPMS_ATTEST.magic: 0x00544347 at offset 2 is not");
}

static void
test_tpm_attest_parse_refuses_magic_and_type(void **state)
{
	static const struct cut cuts[] = {
		CUT(0, 4, "\xff\x54\x43\x48", "TPMS_ATTEST.magic: 0xff544348 at "
		    "offset 0 is not TPM_GENERATED_VALUE"),
		CUT(OFF_TYPE, 2, "\x80\x19", "TPMS_ATTEST.type: "
		    "TPM_ST_ATTEST_TIME (0x8019) at offset 4 is refused"),
		CUT(OFF_TYPE, 2, "\x80\x1a", "TPM_ST_ATTEST_CREATION"),
		CUT(OFF_TYPE, 2, "\x80\x14", "TPM_ST_ATTEST_NV (0x8014)"),
		CUT(OFF_TYPE, 2, "\x12\x34", "TPMS_ATTEST.type: 0x1234 at "
		    "offset 4 is not an attestation type"),
	};

	refused_all(TPM_ST_ATTEST_QUOTE, cuts, NELEM(cuts));
}

/* Every cut of both kinds is refused, naming where it ran out. */
static void
test_tpm_attest_parse_refuses_every_truncation(void **state)
{
	struct tpm_attest a;
	struct buf w;
	char why[256];
	size_t n;
	int kind;

	for (kind = 0; kind < 2; kind++) {
		if (kind == 0)
			quote_make(&w);
		else
			certify_make(&w);
		for (n = 0; n < w.len; n++) {
			assert_int_equal(tpm_attest_parse(w.b, n, &a, why,
			    sizeof(why)), WG_E_JSON_FIELD);
			has(why, "truncated at offset");
		}
	}
}

static void
test_tpm_attest_parse_refuses_trailing(void **state)
{
	static const struct cut quote[] = {
		CUT(QUOTE_LEN, 0, "\0", "TPMS_ATTEST: 1 bytes follow the "
		    "attestation at offset 149"),
	};
	static const struct cut certify[] = {
		CUT(CERTIFY_LEN, 0, "\0\0", "2 bytes follow"),
	};

	refused_all(TPM_ST_ATTEST_QUOTE, quote, NELEM(quote));
	refused_all(TPM_ST_ATTEST_CERTIFY, certify, NELEM(certify));
}

static void
test_tpm_attest_parse_refuses_oversize(void **state)
{
	static const struct cut quote[] = {
		CUT(OFF_SIGNER, 2, "\x00\x43", "TPMS_ATTEST.qualifiedSigner: "
		    "size 67 at offset 6 is over the cap of 66"),
		CUT(OFF_SIGNER, 2, "\xff\xff", "size 65535"),
		CUT(OFF_EXTRA, 2, "\x00\x41", "TPMS_ATTEST.extraData: size 65 "
		    "at offset 42 is over the cap of 64"),
		CUT(OFF_DIGEST, 2, "\x00\x41", "attested.quote.pcrDigest: "
		    "size 65 at offset 115"),
		CUT(OFF_DIGEST, 2, "\x00\x40", "pcrDigest: truncated at "
		    "offset 117 (64 bytes needed, 32 left)"),
		CUT(OFF_SIGNER + 2, 2, "\x00\x04", "qualifiedSigner: the 34 "
		    "bytes at offset 8 are not a name"),
	};
	static const struct cut certify[] = {
		CUT(OFF_NAME, 2, "\x00\x43", "attested.certify.name: size 67"),
		CUT(OFF_NAME + 36, 2, "\x00\x03", "certify.qualifiedName: the "
		    "3 bytes at offset 139 are not a name"),
	};

	refused_all(TPM_ST_ATTEST_QUOTE, quote, NELEM(quote));
	refused_all(TPM_ST_ATTEST_CERTIFY, certify, NELEM(certify));
}

static void
test_tpm_attest_parse_refuses_pcr_select(void **state)
{
	static const struct cut cuts[] = {
		CUT(OFF_COUNT, 4, "\0\0\0\5", "TPMS_ATTEST.attested.quote."
		    "pcrSelect.count: 5 banks at offset 101, over the cap of 4"),
		CUT(OFF_COUNT, 4, "\xff\xff\xff\xff", "count: 4294967295 "
		    "banks"),
		CUT(OFF_SELECT0, 1, "\0", "pcrSelect.pcrSelections[0]."
		    "sizeofSelect: 0 at offset 107 is not 1 to 4"),
		CUT(OFF_SELECT0, 1, "\5", "sizeofSelect: 5"),
		CUT(OFF_BANK0, 2, "\x00\x12", "pcrSelections[0].hash: 0x0012 "
		    "at offset 105 is not SHA-1, SHA-256"),
		CUT(OFF_BANK1, 2, "\x00\x0b", "pcrSelections[1].hash: 0x000b "
		    "at offset 111 repeats pcrSelections[0]'s bank"),
	};

	refused_all(TPM_ST_ATTEST_QUOTE, cuts, NELEM(cuts));
}

static void
test_tpm_attest_parse_refuses_safe(void **state)
{
	static const struct cut cuts[] = {
		CUT(OFF_SAFE, 1, "\2", "TPMS_ATTEST.clockInfo.safe: 2 at offset "
		    "92 is not NO (0) or YES (1)"),
		CUT(OFF_SAFE, 1, "\xff", "safe: 255"),
	};

	refused_all(TPM_ST_ATTEST_QUOTE, cuts, NELEM(cuts));
}

static void
test_tpm_attest_parse_without_why(void **state)
{
	struct tpm_attest a;
	struct buf w;

	quote_make(&w);
	assert_int_equal(tpm_attest_parse(w.b, w.len - 1, &a, NULL, 0),
	    WG_E_JSON_FIELD);
	assert_int_equal(tpm_attest_parse_2b(w.b, 0, &a, NULL, 0),
	    WG_E_JSON_FIELD);
	assert_int_equal(tpm_attest_parse(w.b, w.len, &a, NULL, 0), WG_OK);
}

/* verify on p and sig gives rc with want in the message. */
static void
verify_is(const struct key *k, const struct buf *p, const struct buf *sig,
    enum wg_err rc, const char *want)
{
	char why[256] = "x";

	assert_int_equal(tpm_attest_verify(&k->pub, p->b, p->len, sig->b,
	    sig->len, why, sizeof(why)), rc);
	if (rc == WG_OK)
		assert_string_equal(why, "");
	else
		has(why, want);
}

/* Each cut of k's signature over a fresh quote is refused. */
static void
sig_refused(const struct key *k, const struct cut *cuts, size_t n)
{
	struct buf w, sig, b;
	size_t i;

	quote_make(&w);
	sign(k, &w, 1, &sig);
	for (i = 0; i < n; i++) {
		b = splice(&sig, cuts[i].off, cuts[i].del, cuts[i].ins,
		    cuts[i].inslen);
		verify_is(k, &w, &b, WG_E_JSON_FIELD, cuts[i].want);
	}
}

static void
verify_both_kinds(const struct key *k, int pad)
{
	struct buf w, sig;

	quote_make(&w);
	sign(k, &w, pad, &sig);
	verify_is(k, &w, &sig, WG_OK, NULL);
	certify_make(&w);
	sign(k, &w, pad, &sig);
	verify_is(k, &w, &sig, WG_OK, NULL);
}

static void
test_tpm_attest_verify_rsa(void **state)
{
	verify_both_kinds(&rsa_key, 1);
}

/* r and s padded to 32 bytes, and with leading zeros dropped. */
static void
test_tpm_attest_verify_ecc(void **state)
{
	verify_both_kinds(&ecc_key, 1);
	verify_both_kinds(&ecc_key, 0);
}

/* A key without a scheme of its own takes RSASSA or ECDSA with SHA-256. */
static void
test_tpm_attest_verify_null_scheme_key(void **state)
{
	struct key k = rsa_key;

	key_public(&k, TPM_ALG_NULL, 0);
	verify_both_kinds(&k, 1);
	k = ecc_key;
	key_public(&k, TPM_ALG_NULL, 0);
	verify_both_kinds(&k, 1);
}

/* Every byte of the attestation, flipped, breaks both signatures. */
static void
test_tpm_attest_verify_refuses_changed_attest(void **state)
{
	const struct key *keys[] = { &rsa_key, &ecc_key };
	struct buf w, sig;
	size_t i, k;

	for (k = 0; k < 2; k++) {
		quote_make(&w);
		sign(keys[k], &w, 1, &sig);
		for (i = 0; i < w.len; i++) {
			w.b[i] ^= 0x01;
			verify_is(keys[k], &w, &sig, WG_E_JSON_FIELD,
			    "signature does not verify over the 149 attested");
			w.b[i] ^= 0x01;
		}
		verify_is(keys[k], &w, &sig, WG_OK, NULL);
	}
}

static void
test_tpm_attest_verify_refuses_other_key(void **state)
{
	struct buf w, sig;

	certify_make(&w);
	sign(&rsa_other, &w, 1, &sig);
	verify_is(&rsa_key, &w, &sig, WG_E_JSON_FIELD, "the RSASSA signature "
	    "does not verify");
	sign(&ecc_other, &w, 1, &sig);
	verify_is(&ecc_key, &w, &sig, WG_E_JSON_FIELD, "the ECDSA signature "
	    "does not verify");
}

static void
test_tpm_attest_verify_refuses_algorithms(void **state)
{
	static const struct cut rsa[] = {
		CUT(0, 2, "\x00\x16", "TPMT_SIGNATURE.sigAlg: rsapss (0x0016) "
		    "at offset 0 is not the key's own scheme rsassa"),
		CUT(0, 2, "\x00\x05", "sigAlg: 0x0005 at offset 0 is not"),
		CUT(0, 2, "\x00\x18", "ecdsa (0x0018) at offset 0 is not the "
		    "key's own scheme rsassa"),
		CUT(2, 2, "\x00\x04", "TPMT_SIGNATURE.signature.hash: sha1 "
		    "(0x0004) at offset 2 is not the hash of the key's scheme, "
		    "sha256"),
	};
	static const struct cut ecc[] = {
		CUT(0, 2, "\x00\x1c", "ecschnorr (0x001c) at offset 0 is not "
		    "the key's own scheme ecdsa"),
	};
	/* Without a scheme of its own, the key takes RSASSA-SHA256 only. */
	static const struct cut no_scheme[] = {
		CUT(0, 2, "\x00\x16", "rsapss (0x0016) at offset 0 is not "
		    "rsassa, the scheme accepted for RSA keys"),
		CUT(2, 2, "\x00\x04", "hash: sha1 (0x0004) at offset 2 is not "
		    "SHA-256, the only hash accepted"),
	};
	/* A key whose scheme says SHA-384 refuses a SHA-256 signature. */
	static const struct cut sha384[] = {
		CUT(0, 0, "", "sha256 (0x000b) at offset 2 is not the hash of "
		    "the key's scheme, sha384"),
	};
	struct key k = rsa_key;

	sig_refused(&rsa_key, rsa, NELEM(rsa));
	sig_refused(&ecc_key, ecc, NELEM(ecc));
	key_public(&k, TPM_ALG_NULL, 0);
	sig_refused(&k, no_scheme, NELEM(no_scheme));
	key_public(&k, TPM_ALG_RSASSA, TPM_ALG_SHA384);
	sig_refused(&k, sha384, NELEM(sha384));
}

static void
test_tpm_attest_verify_refuses_structure(void **state)
{
	static const struct cut rsa[] = {
		CUT(262, 0, "\0", "TPMT_SIGNATURE: 1 bytes follow the "
		    "signature at offset 262"),
		CUT(4, 3, "\x00\xff", "signature.rsassa.sig: 255 bytes at "
		    "offset 4, not the key's modulus size 256"),
		CUT(4, 2, "\x01\x01", "rsassa.sig: size 257 at offset 4 is "
		    "over the cap of 256"),
	};
	static const struct cut ecc[] = {
		CUT(4, 34, "\0\0", "ecdsa.signatureR: empty at offset 4"),
		CUT(4, 2, "\x00\x21", "signatureR: size 33 at offset 4 is over "
		    "the cap of 32"),
		CUT(38, 2, "\0\0", "signatureS: empty"),
	};
	const struct key *keys[] = { &rsa_key, &ecc_key };
	struct buf w, sig, b;
	size_t k, n;

	sig_refused(&rsa_key, rsa, NELEM(rsa));
	sig_refused(&ecc_key, ecc, NELEM(ecc));
	quote_make(&w);
	for (k = 0; k < 2; k++) {
		sign(keys[k], &w, 1, &sig);
		for (n = 0, b = sig; n < sig.len; n++) {
			b.len = n;
			verify_is(keys[k], &w, &b, WG_E_JSON_FIELD,
			    "truncated at");
		}
	}
}

/* A key tpm_public_parse did not make is the caller's bug; one OpenSSL
 * cannot use fails as WG_E_CRYPTO, not as the input's fault. */
static void
test_tpm_attest_verify_refuses_unparsed_key(void **state)
{
	struct key k = ecc_key;
	struct buf w, sig;

	quote_make(&w);
	sign(&ecc_key, &w, 1, &sig);
	memset(&k.pub, 0, sizeof(k.pub));
	verify_is(&k, &w, &sig, WG_E_INTERNAL, "not a parsed RSA or ECC key");
	k.pub = ecc_key.pub;
	k.pub.ecc_curve = 0x0004; /* P-384 */
	verify_is(&k, &w, &sig, WG_E_CRYPTO, "OpenSSL could not check");
}

/* A corpus file: the key parsed, the TPM2B_ATTEST and the signature. */
struct sample {
	unsigned char *bytes;
	struct tpm_public key;
	const unsigned char *att2b, *sig;
	size_t att2b_len, sig_len;
};

static void
sample_load(const char *rel, struct sample *s)
{
	char why[256] = "";
	size_t len, n, m;

	s->bytes = corpus_file_hex(rel, &len);
	assert_true(len >= 2);
	n = 2 + (size_t)wg_get_be(s->bytes, 2);
	assert_true(n + 2 <= len);
	m = 2 + (size_t)wg_get_be(s->bytes + n, 2);
	assert_true(m <= len - n);
	if (tpm_public_parse(s->bytes, n, &s->key, why, sizeof(why)) != WG_OK)
		fail_msg("%s: the key was refused: %s", rel, why);
	s->att2b = s->bytes + n;
	s->att2b_len = m;
	s->sig = s->att2b + m;
	s->sig_len = len - n - m;
}

/* Parsing and verifying the sample; the first failure in why. */
static enum wg_err
sample_check(const struct sample *s, struct tpm_attest *a, char *why,
    size_t whylen)
{
	enum wg_err rc;

	rc = tpm_attest_parse_2b(s->att2b, s->att2b_len, a, why, whylen);
	if (rc == WG_OK)
		rc = tpm_attest_verify(&s->key, s->att2b + 2, s->att2b_len - 2,
		    s->sig, s->sig_len, why, whylen);
	return rc;
}

static void
test_tpm_attest_verify_swtpm_corpus(void **state)
{
	static const char *const good[] = { "quote-rsa", "quote-ecc",
		"certify-rsa", "certify-ecc" };
	struct tpm_attest a;
	struct sample s;
	char path[64], why[256], hex[2 * TPM_ATTEST_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(path, sizeof(path), "tpmattest/good/%s.hex", good[i]);
		sample_load(path, &s);
		if (sample_check(&s, &a, why, sizeof(why)) != WG_OK)
			fail_msg("%s refused: %s", path, why);
		assert_int_equal(a.signer_len, 34);
		if (i == 0) {
			assert_int_equal(a.extra_len, 16);
			assert_int_equal(a.bank_count, 1);
			assert_int_equal(a.banks[0].pcrs, 0x1000f);
			wg_hex(a.pcr_digest, a.pcr_digest_len, hex);
			assert_string_equal(hex, swtpm_pcr_digest);
		} else if (i == 1) {
			assert_int_equal(a.bank_count, 2);
			assert_int_equal(a.banks[1].hash, TPM_ALG_SHA1);
		} else {
			assert_int_equal(a.type, TPM_ST_ATTEST_CERTIFY);
			wg_hex(a.name, a.name_len, hex);
			assert_string_equal(hex, swtpm_dk_name);
		}
		free(s.bytes);
	}
}

/* tests/corpus/tpmattest/bad/NAME.hex fails with NAME.expect's text. */
static void
check_bad(const char *name)
{
	struct tpm_attest a;
	struct sample s;
	char path[300], why[256], *expect;
	size_t len;

	snprintf(path, sizeof(path), "tpmattest/bad/%s.hex", name);
	sample_load(path, &s);
	snprintf(path, sizeof(path), "tpmattest/bad/%s.expect", name);
	expect = corpus_file_text(path, &len);
	if (len > 0 && expect[len - 1] == '\n')
		expect[len - 1] = '\0';
	if (sample_check(&s, &a, why, sizeof(why)) == WG_OK)
		fail_msg("%s was accepted", name);
	if (strstr(why, expect) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", name, why, expect);
	free(expect);
	free(s.bytes);
}

static void
test_tpm_attest_verify_refuses_bad_corpus(void **state)
{
	struct dirent *e;
	size_t n = 0, len;
	char name[256];
	DIR *d;

	assert_non_null(d = opendir(WG_CORPUS_DIR "/tpmattest/bad"));
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 5 || len >= sizeof(name) ||
		    strcmp(e->d_name + len - 4, ".hex") != 0)
			continue;
		memcpy(name, e->d_name, len - 4);
		name[len - 4] = '\0';
		check_bad(name);
		n++;
	}
	closedir(d);
	assert_true(n >= 24);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpm_attest_parse_quote_fields),
		cmocka_unit_test(test_tpm_attest_parse_certify_fields),
		cmocka_unit_test(test_tpm_attest_parse_accepts_limits),
		cmocka_unit_test(test_tpm_attest_parse_2b_refuses_size),
		cmocka_unit_test(test_tpm_attest_parse_refuses_magic_and_type),
		cmocka_unit_test(
		    test_tpm_attest_parse_refuses_every_truncation),
		cmocka_unit_test(test_tpm_attest_parse_refuses_trailing),
		cmocka_unit_test(test_tpm_attest_parse_refuses_oversize),
		cmocka_unit_test(test_tpm_attest_parse_refuses_pcr_select),
		cmocka_unit_test(test_tpm_attest_parse_refuses_safe),
		cmocka_unit_test(test_tpm_attest_parse_without_why),
		cmocka_unit_test(test_tpm_attest_verify_rsa),
		cmocka_unit_test(test_tpm_attest_verify_ecc),
		cmocka_unit_test(test_tpm_attest_verify_null_scheme_key),
		cmocka_unit_test(test_tpm_attest_verify_refuses_changed_attest),
		cmocka_unit_test(test_tpm_attest_verify_refuses_other_key),
		cmocka_unit_test(test_tpm_attest_verify_refuses_algorithms),
		cmocka_unit_test(test_tpm_attest_verify_refuses_structure),
		cmocka_unit_test(test_tpm_attest_verify_refuses_unparsed_key),
		cmocka_unit_test(test_tpm_attest_verify_swtpm_corpus),
		cmocka_unit_test(test_tpm_attest_verify_refuses_bad_corpus),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
