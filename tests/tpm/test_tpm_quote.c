/*
 * The attestation parser and signature check (src/crypto/tpmattest.c)
 * against what a real TPM 2.0 makes: each test starts its own swtpm, and
 * tpm2-tools, as the independent client, makes an AIK and has it quote
 * PCRs with a fresh nonce (tpm2_quote) or certify a key (tpm2_certify).
 * What the tools write must parse, verify with the AIK, and say what the
 * tools said: the nonce, the banks asked for, the pcrDigest tpm2_quote
 * computed from the PCRs it read, the name tpm2_load gave the key.
 * Exits 77 (skipped) when swtpm or tpm2-tools are not installed.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "common/util.h"
#include "crypto/tpmattest.h"

#include "tpm_fixture.h"

/* Runs a tool that must succeed, then flushes what it left loaded (no
 * resource manager: the TPM would run out of object slots). */
#define TOOL(fx, out, ...)                                                  \
	do {                                                                \
		RUN((fx), (out), __VA_ARGS__);                              \
		RUN((fx), NULL, "tpm2_flushcontext", "-t");                 \
		RUN((fx), NULL, "tpm2_flushcontext", "-l");                 \
	} while (0)

/* The AIK the tests sign with, from tpm2_createak, parsed. */
struct aik {
	unsigned char *pub;
	struct tpm_public key;
	char ctx[PATH_MAX];
};

/* An EK, then an AIK of alg ("rsa" RSASSA or "ecc" ECDSA, SHA-256). */
static void
aik_make(struct fx *fx, const char *alg, struct aik *aik)
{
	char ek[PATH_MAX], pub[PATH_MAX], why[256] = "";
	size_t len;

	TOOL(fx, NULL, "tpm2_createek", "-Q", "-G", "rsa", "-c",
	    fx_path(fx, "ek.ctx", ek));
	TOOL(fx, NULL, "tpm2_createak", "-Q", "-C", ek, "-c",
	    fx_path(fx, "aik.ctx", aik->ctx), "-G", alg, "-g", "sha256", "-s",
	    strcmp(alg, "rsa") == 0 ? "rsassa" : "ecdsa", "-u",
	    fx_path(fx, "aik.pub", pub));
	aik->pub = read_file(pub, &len);
	if (tpm_public_parse(aik->pub, len, &aik->key, why, sizeof(why)) !=
	    WG_OK)
		fail_msg("the AIK was refused: %s", why);
}

/* msg (TPMS_ATTEST) and sig (TPMT_SIGNATURE) parse and verify. */
static void
attest_check(struct fx *fx, const struct aik *aik, const char *msg,
    const char *sig, struct tpm_attest *a)
{
	unsigned char *m, *s;
	size_t mlen, slen;
	char path[PATH_MAX], why[256] = "";

	m = read_file(fx_path(fx, msg, path), &mlen);
	s = read_file(fx_path(fx, sig, path), &slen);
	if (tpm_attest_parse(m, mlen, a, why, sizeof(why)) != WG_OK)
		fail_msg("%s refused: %s", msg, why);
	if (tpm_attest_verify(&aik->key, m, mlen, s, slen, why,
	    sizeof(why)) != WG_OK)
		fail_msg("%s: %s", sig, why);
	/* and the TPM's signature covers every byte */
	m[mlen / 2] ^= 0x01;
	assert_int_equal(tpm_attest_verify(&aik->key, m, mlen, s, slen, why,
	    sizeof(why)), WG_E_JSON_FIELD);
	free(m);
	free(s);
}

static void
quote(void **state, const char *alg)
{
	struct fx *fx = *state;
	unsigned char nonce[32], *text;
	char hex[2 * sizeof(nonce) + 1], out[PATH_MAX], msg[PATH_MAX],
	    sig[PATH_MAX], pcrs[PATH_MAX], *calc;
	struct tpm_attest a;
	struct aik aik;
	size_t len;

	aik_make(fx, alg, &aik);
	assert_int_equal(RAND_bytes(nonce, sizeof(nonce)), 1);
	wg_hex(nonce, sizeof(nonce), hex);
	TOOL(fx, fx_path(fx, "quote.txt", out), "tpm2_quote", "-c", aik.ctx,
	    "-l", "sha256:0,1,2,3,7+sha1:16", "-q", hex, "-g", "sha256", "-m",
	    fx_path(fx, "quote.msg", msg), "-s", fx_path(fx, "quote.sig", sig),
	    "-o", fx_path(fx, "quote.pcrs", pcrs)); /* -o: calcDigest */
	attest_check(fx, &aik, "quote.msg", "quote.sig", &a);
	assert_int_equal(a.type, TPM_ST_ATTEST_QUOTE);
	assert_int_equal(a.extra_len, sizeof(nonce));
	assert_memory_equal(a.extra, nonce, sizeof(nonce));
	assert_int_equal(a.bank_count, 2);
	assert_int_equal(a.banks[0].hash, TPM_ALG_SHA256);
	assert_int_equal(a.banks[0].pcrs, 0x8f);
	assert_int_equal(a.banks[1].hash, TPM_ALG_SHA1);
	assert_int_equal(a.banks[1].pcrs, 1u << 16);
	assert_int_equal(a.pcr_digest_len, 32);
	text = read_file(out, &len);
	assert_non_null(calc = strstr((char *)text, "calcDigest: "));
	wg_hex(a.pcr_digest, 32, hex);
	assert_memory_equal(calc + 12, hex, 64);
	free(text);
	free(aik.pub);
}

static void
test_tpm_attest_verify_tpm2_quote_rsa(void **state)
{
	quote(state, "rsa");
}

static void
test_tpm_attest_verify_tpm2_quote_ecc(void **state)
{
	quote(state, "ecc");
}

/* The AIK certifies a key made under an owner primary. */
static void
test_tpm_attest_verify_tpm2_certify(void **state)
{
	struct fx *fx = *state;
	char prim[PATH_MAX], pub[PATH_MAX], priv[PATH_MAX], ctx[PATH_MAX],
	    name[PATH_MAX], msg[PATH_MAX], sig[PATH_MAX];
	unsigned char *dk_name;
	struct tpm_attest a;
	struct aik aik;
	size_t len;

	aik_make(fx, "ecc", &aik);
	TOOL(fx, NULL, "tpm2_createprimary", "-Q", "-C", "o", "-g", "sha256",
	    "-G", "ecc", "-c", fx_path(fx, "prim.ctx", prim));
	TOOL(fx, NULL, "tpm2_create", "-Q", "-C", prim, "-G", "rsa", "-u",
	    fx_path(fx, "dk.pub", pub), "-r", fx_path(fx, "dk.priv", priv));
	TOOL(fx, NULL, "tpm2_load", "-Q", "-C", prim, "-u", pub, "-r", priv,
	    "-n", fx_path(fx, "dk.name", name), "-c",
	    fx_path(fx, "dk.ctx", ctx));
	TOOL(fx, NULL, "tpm2_certify", "-Q", "-c", ctx, "-C", aik.ctx, "-g",
	    "sha256", "-o", fx_path(fx, "certify.msg", msg), "-s",
	    fx_path(fx, "certify.sig", sig));
	attest_check(fx, &aik, "certify.msg", "certify.sig", &a);
	assert_int_equal(a.type, TPM_ST_ATTEST_CERTIFY);
	dk_name = read_file(name, &len);
	assert_int_equal(a.name_len, len);
	assert_memory_equal(a.name, dk_name, len);
	assert_int_equal(a.qualified_name_len, 34);
	free(dk_name);
	free(aik.pub);
}

/* 1 if every tool the tests run is in PATH; says which is not. */
static int
have_tools(void)
{
	return system("for t in swtpm tpm2_createek tpm2_createak tpm2_quote "
	    "tpm2_certify tpm2_flushcontext; do command -v $t >/dev/null || "
	    "{ echo \"skipped: $t is not installed\" >&2; exit 1; }; "
	    "done") == 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_fresh, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tpm_attest_verify_tpm2_quote_rsa),
		T(test_tpm_attest_verify_tpm2_quote_ecc),
		T(test_tpm_attest_verify_tpm2_certify),
	};

	if (!have_tools())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
