/*
 * AIK certificates round-trip and are refused when they break a rule; the
 * certs-only PKCS#7 lists its certificates; trust directories load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "common/util.h"
#include "crypto/tpmcert.h"
#include "crypto/tpmpub.h"
#include "crypto/x509.h"
#include "corpus_file.h"
#include "tpmcert_fixture.h"

/* An AIK certificate for the ECC key of the corpus, for the RSA EK. */
static X509 *
aik_issue(struct ca *by, enum tpmcert_assurance a, struct key *aik,
    struct key *ek)
{
	X509 *cert;

	key_load(ECC_EK, aik);
	key_load(RSA_EK, ek);
	cert = tpmcert_issue_aik(by->key, by->cert, &aik->pub, &ek->pub, a,
	    30);
	assert_non_null(cert);
	return cert;
}

/* tpmcert_verify_aik of cert for key gives want, why naming rule. */
static void
aik_check(X509 *cert, const struct key *key, X509_STORE *roots,
    enum wg_err want, enum tpmcert_assurance assurance, const char *rule)
{
	enum tpmcert_assurance got;
	unsigned char *der;
	char why[512];
	size_t len;

	der = der_of(cert, &len);
	assert_int_equal(tpmcert_verify_aik(der, len, &key->pub, roots, NULL,
	    &got, why, sizeof(why)), want);
	assert_int_equal(got, assurance);
	if (want != WG_OK && strstr(why, rule) == NULL)
		fail_msg("message '%s' lacks '%s'", why, rule);
	OPENSSL_free(der);
}

/* The fields of an AIK certificate the header promises. */
static void
aik_profile(X509 *cert, const struct key *aik, const struct key *ek,
    const char *policy)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(TPMCERT_OID_EK_SHA256, 1);
	unsigned char name[34], md[32], want[34] = { 0x04, 0x20 };
	const ASN1_OCTET_STRING *value;
	CERTIFICATEPOLICIES *pols;
	X509_EXTENSION *ext;
	char hex[65], cn[80], oid[80];
	int i;

	tpm_public_name(&aik->pub, name);
	wg_hex(name + 2, 32, hex);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
	    NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, hex);
	assert_int_equal(X509_get_key_usage(cert), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_non_null(X509_get0_subject_key_id(cert));
	i = X509_get_ext_by_OBJ(cert, obj, -1);
	assert_true(i >= 0);
	ext = X509_get_ext(cert, i);
	assert_int_equal(X509_EXTENSION_get_critical(ext), 0);
	value = X509_EXTENSION_get_data(ext);
	tpm_public_sha256(&ek->pub, md);
	memcpy(want + 2, md, 32);
	assert_int_equal(ASN1_STRING_length(value), 34);
	assert_memory_equal(ASN1_STRING_get0_data(value), want, 34);
	pols = X509_get_ext_d2i(cert, NID_certificate_policies, NULL, NULL);
	assert_int_equal(sk_POLICYINFO_num(pols), 1);
	OBJ_obj2txt(oid, sizeof(oid), sk_POLICYINFO_value(pols, 0)->policyid,
	    1);
	assert_string_equal(oid, policy);
	CERTIFICATEPOLICIES_free(pols);
	ASN1_OBJECT_free(obj);
}

static void
test_tpmcert_issue_aik_round_trip(void **state)
{
	static const char *const policy[TPMCERT_ASSURANCE_MAX] = {
		TPMCERT_OID_POLICY_EK_ON_LIST, TPMCERT_OID_POLICY_EK_CERT };
	struct key aik, ek;
	X509 *cert;
	int a;

	for (a = 0; a < TPMCERT_ASSURANCE_MAX; a++) {
		cert = aik_issue(&ca, (enum tpmcert_assurance)a, &aik, &ek);
		aik_profile(cert, &aik, &ek, policy[a]);
		aik_check(cert, &aik, ca.store, WG_OK,
		    (enum tpmcert_assurance)a, NULL);
		X509_free(cert);
		free(aik.buf);
		free(ek.buf);
	}
	key_load(ECC_EK, &aik);
	assert_null(tpmcert_issue_aik(ca.key, ca.cert, &aik.pub, &aik.pub,
	    TPMCERT_ASSURANCE_MAX, 30));
	free(aik.buf);
}

static void
test_tpmcert_verify_aik_refuses_other_key(void **state)
{
	struct key aik, ek;
	X509 *cert = aik_issue(&ca, TPMCERT_EK_CERT, &aik, &ek);

	aik_check(cert, &ek, ca.store, WG_E_AIK_CERT_INVALID,
	    TPMCERT_ASSURANCE_MAX, "subjectPublicKeyInfo is not the AIK");
	X509_free(cert);
	free(aik.buf);
	free(ek.buf);
}

static void
test_tpmcert_verify_aik_refuses_other_ca(void **state)
{
	struct key aik, ek;
	X509 *cert = aik_issue(&forger, TPMCERT_EK_CERT, &aik, &ek);

	aik_check(cert, &aik, ca.store, WG_E_AIK_CERT_INVALID,
	    TPMCERT_ASSURANCE_MAX, "chain to a trusted root");
	aik_check(cert, &aik, forger.store, WG_OK, TPMCERT_EK_CERT, NULL);
	X509_free(cert);
	free(aik.buf);
	free(ek.buf);
}

static void
test_tpmcert_verify_aik_refuses_profile(void **state)
{
	static const char *const both[] = { TPMCERT_OID_POLICY_EK_ON_LIST,
		TPMCERT_OID_POLICY_EK_CERT };
	static const char *const other[] = { "2.5.29.32.0",
		"1.3.6.1.4.1.311.21.29", TPMCERT_OID_POLICY_EK_CERT };
	struct key aik, ek;
	X509 *cert, *ekcert;

	cert = aik_issue(&ca, TPMCERT_EK_ON_LIST, &aik, &ek);
	policies_set(cert, both, 2);
	resign(cert, ca.key);
	aik_check(cert, &aik, ca.store, WG_E_AIK_CERT_INVALID,
	    TPMCERT_ASSURANCE_MAX, "holds 2 of");
	policies_set(cert, other, 2);
	resign(cert, ca.key);
	aik_check(cert, &aik, ca.store, WG_E_AIK_CERT_INVALID,
	    TPMCERT_ASSURANCE_MAX, "holds 0 of");
	policies_set(cert, other + 1, 2); /* another one beside is fine */
	resign(cert, ca.key);
	aik_check(cert, &aik, ca.store, WG_OK, TPMCERT_EK_CERT, NULL);
	policies_set(cert, NULL, 0);
	resign(cert, ca.key);
	aik_check(cert, &aik, ca.store, WG_E_AIK_CERT_INVALID,
	    TPMCERT_ASSURANCE_MAX, "holds 0 of");
	ext_set(cert, NID_ext_key_usage, TPMCERT_OID_KP_EK);
	resign(cert, ca.key);
	aik_check(cert, &aik, ca.store, WG_E_AIK_CERT_INVALID,
	    TPMCERT_ASSURANCE_MAX, "does not list 2.23.133.8.3");
	/* an EK certificate is no AIK certificate */
	ekcert = tpmcert_issue_ek(ca.key, ca.cert, &aik.pub, &test_tpm, 30);
	aik_check(ekcert, &aik, ca.store, WG_E_AIK_CERT_INVALID,
	    TPMCERT_ASSURANCE_MAX, "does not list 2.23.133.8.3");
	X509_free(ekcert);
	X509_free(cert);
	free(aik.buf);
	free(ek.buf);
}

static void
test_tpmcert_p7_certs_lists_all(void **state)
{
	STACK_OF(X509) *certs = sk_X509_new_null(), *got;
	const unsigned char *p;
	unsigned char *der;
	PKCS7 *p7;
	size_t len;
	int i;

	assert_int_equal(tpmcert_p7_certs(certs, &der, &len), WG_E_CRYPTO);
	assert_null(der);
	sk_X509_push(certs, ca.cert);
	sk_X509_push(certs, forger.cert);
	sk_X509_push(certs, pem_cert(SWTPM_ROOT));
	assert_int_equal(tpmcert_p7_certs(certs, &der, &len), WG_OK);
	p = der;
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	assert_non_null(p7);
	assert_ptr_equal(p, der + len);
	assert_true(PKCS7_type_is_signed(p7));
	assert_int_equal(ASN1_INTEGER_get(p7->d.sign->version), 1);
	assert_int_equal(sk_X509_ALGOR_num(p7->d.sign->md_algs), 0);
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info),
	    0);
	assert_true(PKCS7_type_is_data(p7->d.sign->contents));
	assert_null(p7->d.sign->contents->d.data);
	got = p7->d.sign->cert;
	assert_int_equal(sk_X509_num(got), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(X509_cmp(sk_X509_value(got, i),
		    sk_X509_value(certs, i)), 0);
	PKCS7_free(p7);
	free(der);
	X509_free(sk_X509_value(certs, 2));
	sk_X509_free(certs);
}

/* A scratch trust directory under /tmp, removed by dir_remove. */
static char *
dir_new(void)
{
	char *dir = strdup("/tmp/test_tpmcert.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
file_put(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
file_drop(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	rmdir(path);
}

/* tpmcert_store_load_dir(dir) with what it logged into log. */
static X509_STORE *
load_logged(const char *dir, size_t *n, char *log, size_t loglen)
{
	FILE *tmp = tmpfile();
	X509_STORE *store;
	int saved = dup(STDERR_FILENO);
	size_t got;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	store = tpmcert_store_load_dir(dir, n);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	got = fread(log, 1, loglen - 1, tmp);
	log[got] = '\0';
	fclose(tmp);
	return store;
}

/* The swtpm chain in one PEM file, our CA in DER, things skipped. */
static void
test_tpmcert_store_load_dir_pem_and_der(void **state)
{
	char *dir = dir_new(), *root, *inter, *pem, log[1024], path[256];
	size_t rlen, ilen, len, n = 99;
	unsigned char *der, *swtpm;
	struct tpmcert_tpm tpm;
	X509_STORE *store;
	char why[512] = "";
	struct key ek;

	root = corpus_file_text(SWTPM_ROOT, &rlen);
	inter = corpus_file_text(SWTPM_CA, &ilen);
	pem = malloc(rlen + ilen + 32);
	assert_non_null(pem);
	len = (size_t)snprintf(pem, rlen + ilen + 32, "swtpm\n%s\n%s", root,
	    inter);
	file_put(dir, "a-swtpm.pem", pem, len);
	der = der_of(ca.cert, &len);
	file_put(dir, "b-ca.der", der, len);
	file_put(dir, ".hidden", "not a certificate", 17);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	store = load_logged(dir, &n, log, sizeof(log));
	assert_non_null(store);
	assert_int_equal(n, 3);
	key_load("tpmcert/ek-rsa.hex", &ek);
	swtpm = (unsigned char *)corpus_file_text("tpmcert/ek-rsa.der", &len);
	if (tpmcert_verify_ek(swtpm, len, &ek.pub, store, NULL, &tpm, why,
	    sizeof(why)) != WG_OK)
		fail_msg("swtpm EK refused with the loaded store: %s", why);
	X509_STORE_free(store);
	/* an empty directory is an empty store */
	file_drop(dir, "a-swtpm.pem");
	file_drop(dir, "b-ca.der");
	store = load_logged(dir, &n, log, sizeof(log));
	assert_non_null(store);
	assert_int_equal(n, 0);
	X509_STORE_free(store);
	file_drop(dir, ".hidden");
	file_drop(dir, "sub");
	assert_int_equal(rmdir(dir), 0);
	free(swtpm);
	free(ek.buf);
	OPENSSL_free(der);
	free(pem);
	free(inter);
	free(root);
	free(dir);
}

/* dir with a good certificate and name holding buf is refused. */
static void
bad_file_refused(const char *name, const void *buf, size_t len)
{
	char *dir = dir_new(), log[2048];
	X509_STORE *store;
	unsigned char *der;
	size_t dlen, n = 99;

	der = der_of(ca.cert, &dlen);
	file_put(dir, "a-good.der", der, dlen);
	file_put(dir, name, buf, len);
	store = load_logged(dir, &n, log, sizeof(log));
	assert_null(store);
	assert_int_equal(n, 0);
	if (strstr(log, name) == NULL)
		fail_msg("log '%s' does not name %s", log, name);
	file_drop(dir, "a-good.der");
	file_drop(dir, name);
	assert_int_equal(rmdir(dir), 0);
	OPENSSL_free(der);
	free(dir);
}

static void
test_tpmcert_store_load_dir_refuses_bad_file(void **state)
{
	static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
	    "AAAA\n"
	    "-----END PRIVATE KEY-----\n";
	unsigned char *der, *longer;
	size_t len, rlen;
	char *root, *mixed;

	bad_file_refused("notes.txt", "hello, world\n", 13);
	bad_file_refused("empty.pem", "", 0);
	bad_file_refused("key.pem", key_pem, sizeof(key_pem) - 1);
	root = corpus_file_text(SWTPM_ROOT, &rlen);
	mixed = malloc(rlen + sizeof(key_pem));
	assert_non_null(mixed);
	memcpy(mixed, root, rlen);
	memcpy(mixed + rlen, key_pem, sizeof(key_pem));
	bad_file_refused("cert-and-key.pem", mixed, rlen + sizeof(key_pem) -
	    1);
	/* a PEM certificate cut short */
	bad_file_refused("cut.pem", root, rlen - 40);
	der = der_of(ca.cert, &len);
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, der, len);
	longer[len] = 0;
	bad_file_refused("trailing.der", longer, len + 1);
	bad_file_refused("cut.der", der, len - 1);
	assert_null(tpmcert_store_load_dir("/nonexistent/tpmcert", &len));
	free(longer);
	OPENSSL_free(der);
	free(mixed);
	free(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpmcert_issue_aik_round_trip),
		cmocka_unit_test(test_tpmcert_verify_aik_refuses_other_key),
		cmocka_unit_test(test_tpmcert_verify_aik_refuses_other_ca),
		cmocka_unit_test(test_tpmcert_verify_aik_refuses_profile),
		cmocka_unit_test(test_tpmcert_p7_certs_lists_all),
		cmocka_unit_test(test_tpmcert_store_load_dir_pem_and_der),
		cmocka_unit_test(test_tpmcert_store_load_dir_refuses_bad_file),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
