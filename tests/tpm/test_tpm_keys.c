/*
 * The join's keys in a real TPM 2.0 (swtpm, no resource manager): the
 * device key and the transport key have the attributes the drs service
 * requires, the AIK's certification of each verifies with the server's
 * own verifier (crypto/tpmattest.c) and names the key and the nonce, the
 * DK's signature verifies with OpenSSL, the TK refuses to sign, and the
 * CSR the DK signs in the TPM verifies with OpenSSL's API and with
 * `openssl req -verify` as an independent tool.  Nothing stays loaded.
 * Exits 77 (skipped) when swtpm, tpm2-tools or openssl are missing.
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
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "agent/csr.h"
#include "common/util.h"
#include "crypto/tpmattest.h"
#include "crypto/tpmpub.h"

#include "tpm_fixture.h"

/* The attributes every join key has (DESIGN.md step 3). */
#define FIXED (TPMA_FIXEDTPM | TPMA_FIXEDPARENT | TPMA_SENSITIVEDATAORIGIN | \
	TPMA_USERWITHAUTH)

/* An AIK, a DK and a TK made on the test's TPM, their publics parsed. */
struct keys {
	struct tpm_aik aik, dk, tk;
	struct tpm_public aik_pub, dk_pub, tk_pub;
};

static void
parse(const struct tpm_aik *k, struct tpm_public *pub)
{
	char why[256] = "";

	if (tpm_public_parse(k->pub, k->pub_len, pub, why, sizeof(why)) !=
	    WG_OK)
		fail_msg("the key's public area was refused: %s", why);
}

/*
 * Makes the keys, then closes and opens the TPM again: what follows
 * loads them from their blobs, as a later run of the agent does.
 */
static void
keys_make(struct fx *fx, struct keys *k)
{
	up(fx);
	assert_int_equal(tpm_aik_create(fx->tpm, &k->aik), WG_OK);
	assert_int_equal(tpm_key_create(fx->tpm, TPM_KEY_DEVICE, &k->dk),
	    WG_OK);
	assert_int_equal(tpm_key_create(fx->tpm, TPM_KEY_TRANSPORT, &k->tk),
	    WG_OK);
	down(fx);
	parse(&k->aik, &k->aik_pub);
	parse(&k->dk, &k->dk_pub);
	parse(&k->tk, &k->tk_pub);
	up(fx);
}

/* An RSA-2048 key with a SHA-256 name, these attributes and scheme. */
static void
key_check(const struct tpm_public *p, uint32_t attributes, uint16_t scheme,
    uint16_t hash)
{
	assert_int_equal(p->type, TPM_ALG_RSA);
	assert_int_equal(p->rsa_bits, 2048);
	assert_int_equal(p->name_alg, TPM_ALG_SHA256);
	assert_int_equal(p->sym_alg, TPM_ALG_NULL);
	assert_int_equal(p->attributes, attributes);
	assert_int_equal(p->scheme, scheme);
	assert_int_equal(p->scheme_hash, hash);
}

/*
 * The DK signs without decrypting and is not restricted, the TK the
 * other way round; the AIK, made the same way, signs and is restricted.
 */
static void
test_tpm_key_create_attributes(void **state)
{
	struct fx *fx = *state;
	struct tpm_aik bad;
	struct keys k;

	keys_make(fx, &k);
	assert_int_equal(tpm_key_create(fx->tpm, TPM_KEY_KIND_MAX, &bad),
	    WG_E_INTERNAL);
	down(fx);
	key_check(&k.dk_pub, FIXED | TPMA_SIGN, TPM_ALG_RSASSA,
	    TPM_ALG_SHA256);
	key_check(&k.tk_pub, FIXED | TPMA_DECRYPT, TPM_ALG_NULL, TPM_ALG_NULL);
	key_check(&k.aik_pub, FIXED | TPMA_SIGN | TPMA_RESTRICTED,
	    TPM_ALG_RSASSA, TPM_ALG_SHA256);
	/* three keys, not one made three times */
	assert_memory_not_equal(k.dk_pub.rsa_modulus, k.tk_pub.rsa_modulus,
	    256);
	assert_memory_not_equal(k.dk_pub.rsa_modulus, k.aik_pub.rsa_modulus,
	    256);
	assert_true(tpm_is_clean(fx));
}

/* The AIK's certification of key verifies and says key and nonce. */
static void
certify_check(struct fx *fx, const struct keys *k, const struct tpm_aik *key,
    const struct tpm_public *key_pub)
{
	struct tpm_attest att;
	unsigned char nonce[32], name[34], *info = NULL, *sig = NULL;
	size_t info_len = 0, sig_len = 0;
	char why[256] = "";

	assert_int_equal(RAND_bytes(nonce, sizeof(nonce)), 1);
	assert_int_equal(tpm_certify(fx->tpm, &k->aik, key, nonce, sizeof(nonce),
	    &info, &info_len, &sig, &sig_len), WG_OK);
	if (tpm_attest_parse(info, info_len, &att, why, sizeof(why)) != WG_OK)
		fail_msg("the certification was refused: %s", why);
	assert_int_equal(att.type, TPM_ST_ATTEST_CERTIFY);
	tpm_public_name(key_pub, name);
	assert_int_equal(att.name_len, sizeof(name));
	assert_memory_equal(att.name, name, sizeof(name));
	assert_int_equal(att.extra_len, sizeof(nonce));
	assert_memory_equal(att.extra, nonce, sizeof(nonce));
	if (tpm_attest_verify(&k->aik_pub, info, info_len, sig, sig_len, why,
	    sizeof(why)) != WG_OK)
		fail_msg("the certification does not verify: %s", why);
	/* the signature covers the name: another key's does not pass */
	info[info_len - 1] ^= 0x01;
	assert_int_not_equal(tpm_attest_verify(&k->aik_pub, info, info_len,
	    sig, sig_len, why, sizeof(why)), WG_OK);
	free(info);
	free(sig);
}

/* TPM2_Certify of the DK and of the TK by the AIK, with a nonce. */
static void
test_tpm_certify_dk_and_tk(void **state)
{
	struct fx *fx = *state;
	unsigned char nonce[65] = { 0 }, *info = NULL, *sig = NULL;
	size_t info_len = 1, sig_len = 1;
	struct keys k;

	keys_make(fx, &k);
	certify_check(fx, &k, &k.dk, &k.dk_pub);
	certify_check(fx, &k, &k.tk, &k.tk_pub);
	/* qualifying data is 1 to 64 bytes */
	assert_int_equal(tpm_certify(fx->tpm, &k.aik, &k.dk, nonce, 0, &info,
	    &info_len, &sig, &sig_len), WG_E_INTERNAL);
	assert_int_equal(tpm_certify(fx->tpm, &k.aik, &k.dk, nonce, 65, &info,
	    &info_len, &sig, &sig_len), WG_E_INTERNAL);
	assert_null(info);
	assert_null(sig);
	assert_int_equal(info_len + sig_len, 0);
	/* a key whose private part is damaged does not load: nothing left */
	k.dk.priv[k.dk.priv_len - 1] ^= 0x01;
	assert_int_not_equal(tpm_certify(fx->tpm, &k.aik, &k.dk, nonce, 32,
	    &info, &info_len, &sig, &sig_len), WG_OK);
	assert_null(info);
	down(fx);
	assert_true(tpm_is_clean(fx));
}

/* RSASSA-PKCS1-v1_5 with SHA-256 of digest by pkey: 1 if sig is good. */
static int
rsassa_verify(EVP_PKEY *pkey, const unsigned char digest[32],
    const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pkey, NULL);
	int ok;

	assert_non_null(c);
	ok = EVP_PKEY_verify_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
	    EVP_PKEY_verify(c, sig, sig_len, digest, 32) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

/* The DK signs a digest as OpenSSL verifies it; the TK cannot sign. */
static void
test_tpm_sign_digest(void **state)
{
	struct fx *fx = *state;
	unsigned char digest[32], sig[TPM_KEY_SIG_LEN + 8];
	size_t sig_len = sizeof(sig);
	EVP_PKEY *pkey;
	struct keys k;

	keys_make(fx, &k);
	wg_sha256("the to-be-signed bytes", 22, digest);
	assert_int_equal(tpm_sign_digest(fx->tpm, &k.dk, digest, sig,
	    &sig_len), WG_OK);
	assert_int_equal(sig_len, TPM_KEY_SIG_LEN);
	assert_non_null(pkey = tpm_public_to_pkey(&k.dk_pub));
	assert_true(rsassa_verify(pkey, digest, sig, sig_len));
	digest[0] ^= 0x01;
	assert_false(rsassa_verify(pkey, digest, sig, sig_len));
	EVP_PKEY_free(pkey);
	/* the TPM refuses: the TK is not a signing key */
	sig_len = sizeof(sig);
	assert_int_equal(tpm_sign_digest(fx->tpm, &k.tk, digest, sig,
	    &sig_len), WG_E_TPM_ERROR);
	assert_int_equal(sig_len, 0);
	/* a buffer too small for the signature */
	sig_len = TPM_KEY_SIG_LEN - 1;
	assert_int_equal(tpm_sign_digest(fx->tpm, &k.dk, digest, sig,
	    &sig_len), WG_E_INTERNAL);
	assert_int_equal(sig_len, 0);
	down(fx);
	assert_true(tpm_is_clean(fx));
}

/* `openssl req -verify` of the DER at path: 1 if it says verify OK. */
static int
openssl_req_verify(struct fx *fx, const char *path)
{
	const char *argv[] = { "sh", "-c", "openssl req -verify -noout "
		"-inform DER -in \"$0\" 2>&1", path, NULL };
	char out[PATH_MAX];
	unsigned char *text;
	size_t len;
	int status, ok;

	status = run(NULL, fx_path(fx, "req-verify.txt", out), argv);
	text = read_file(out, &len);
	ok = status == 0 && strstr((char *)text, "verify OK") != NULL &&
	    strstr((char *)text, "fail") == NULL;
	if (!ok)
		fprintf(stderr, "openssl req -verify: %s", (char *)text);
	free(text);
	return ok;
}

/* The CSR: CN, the DK's key, signed by the TPM, verified twice. */
static void
test_csr_make(void **state)
{
	struct fx *fx = *state;
	unsigned char *der = NULL;
	const unsigned char *p;
	char path[PATH_MAX], why[256] = "", cn[CSR_CN_MAX + 2];
	X509_REQ *req;
	EVP_PKEY *pkey;
	struct keys k;
	size_t len = 0;

	keys_make(fx, &k);
	assert_int_equal(csr_make(fx->tpm, &k.dk, "ZTD-0001-test", &der, &len,
	    why, sizeof(why)), WG_OK);
	p = der;
	assert_non_null(req = d2i_X509_REQ(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	assert_non_null(pkey = tpm_public_to_pkey(&k.dk_pub));
	assert_int_equal(X509_REQ_verify(req, pkey), 1);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), pkey), 1);
	assert_int_equal(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(
	    req), NID_commonName, cn, sizeof(cn)), 13);
	assert_string_equal(cn, "ZTD-0001-test");
	assert_int_equal(X509_REQ_get_signature_nid(req),
	    NID_sha256WithRSAEncryption);
	EVP_PKEY_free(pkey);
	X509_REQ_free(req);
	write_file(fx_path(fx, "dk.csr", path), der, len);
	assert_true(openssl_req_verify(fx, path));
	/* and the tool says so only for a good signature */
	der[len - 1] ^= 0x01;
	write_file(fx_path(fx, "bad.csr", path), der, len);
	assert_false(openssl_req_verify(fx, path));
	free(der);
	/* a common name that cannot be used; a key that cannot sign */
	memset(cn, 'a', CSR_CN_MAX + 1);
	cn[CSR_CN_MAX + 1] = '\0';
	assert_int_equal(csr_make(fx->tpm, &k.dk, cn, &der, &len, why,
	    sizeof(why)), WG_E_INTERNAL);
	assert_int_equal(csr_make(fx->tpm, &k.tk, "x", &der, &len, why,
	    sizeof(why)), WG_E_INTERNAL);
	assert_int_equal(csr_make(fx->tpm, &k.aik, "x", &der, &len, why,
	    sizeof(why)), WG_E_INTERNAL);
	assert_null(der);
	down(fx);
	assert_true(tpm_is_clean(fx));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_fresh, teardown)

int
main(void)
{
	static const char *const tools[] = { "swtpm", "swtpm_setup",
		"tpm2_getcap", "openssl", NULL };
	const struct CMUnitTest tests[] = {
		T(test_tpm_key_create_attributes),
		T(test_tpm_certify_dk_and_tk),
		T(test_tpm_sign_digest),
		T(test_csr_make),
	};

	if (!fx_have_tools(tools))
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
