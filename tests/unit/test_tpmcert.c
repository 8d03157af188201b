/*
 * Certificates about TPM keys: EK certificates issued here and by swtpm's
 * local CA (tests/corpus/tpmcert) verify, with the TPM read back from
 * them; every rule of the checks refuses what breaks it, with its code
 * and a message naming the rule (AIK certificates, the PKCS#7 and trust
 * directories: test_tpmcert_aik.c).
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

/* tpmcert_verify_ek of cert gives want; on failure, why holds rule. */
static void
ek_check(X509 *cert, const struct key *ek, X509_STORE *roots,
    STACK_OF(X509) *untrusted, enum wg_err want, const char *rule)
{
	struct tpmcert_tpm tpm;
	unsigned char *der;
	char why[512];
	size_t len;

	memset(&tpm, 'x', sizeof(tpm));
	der = der_of(cert, &len);
	assert_int_equal(tpmcert_verify_ek(der, len, &ek->pub, roots,
	    untrusted, &tpm, why, sizeof(why)), want);
	if (want != WG_OK && strstr(why, rule) == NULL)
		fail_msg("message '%s' lacks '%s'", why, rule);
	if (want != WG_OK)
		assert_int_equal(tpm.manufacturer[0], '\0');
	OPENSSL_free(der);
}

static void
tpm_equal(const struct tpmcert_tpm *a, const struct tpmcert_tpm *b)
{
	assert_string_equal(a->manufacturer, b->manufacturer);
	assert_string_equal(a->model, b->model);
	assert_string_equal(a->version, b->version);
}

/* Issues an EK certificate for rel, verifies it, checks the profile. */
static void
issue_and_verify(const char *rel, int usage)
{
	X509_EXTENSION *san;
	struct tpmcert_tpm tpm;
	unsigned char *der;
	char why[512] = "";
	struct key ek;
	X509 *cert;
	size_t len;

	key_load(rel, &ek);
	cert = tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &test_tpm, 30);
	assert_non_null(cert);
	der = der_of(cert, &len);
	if (tpmcert_verify_ek(der, len, &ek.pub, ca.store, NULL, &tpm, why,
	    sizeof(why)) != WG_OK)
		fail_msg("issued EK certificate refused: %s", why);
	tpm_equal(&tpm, &test_tpm);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(cert)),
	    0);
	san = X509_get_ext(cert, X509_get_ext_by_NID(cert,
	    NID_subject_alt_name, -1));
	assert_int_equal(X509_EXTENSION_get_critical(san), 1);
	assert_int_equal(X509_get_key_usage(cert), usage);
	assert_true(X509_get_extension_flags(cert) & EXFLAG_BCONS);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_non_null(X509_get0_authority_key_id(cert));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(
	    cert), X509_get0_subject_key_id(ca.cert)), 0);
	assert_int_equal(X509_check_issued(ca.cert, cert), X509_V_OK);
	OPENSSL_free(der);
	X509_free(cert);
	free(ek.buf);
}

static void
test_tpmcert_issue_ek_rsa_verifies(void **state)
{
	issue_and_verify(RSA_EK, KU_KEY_ENCIPHERMENT);
}

static void
test_tpmcert_issue_ek_ecc_verifies(void **state)
{
	issue_and_verify(ECC_EK, KU_KEY_AGREEMENT);
}

static void
test_tpmcert_issue_ek_refuses_bad_attributes(void **state)
{
	struct tpmcert_tpm tpm = test_tpm;
	struct key ek;

	key_load(RSA_EK, &ek);
	tpm.model[0] = '\0';
	assert_null(tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &tpm, 30));
	tpm = test_tpm;
	tpm.version[2] = '\n';
	assert_null(tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &tpm, 30));
	tpm = test_tpm;
	memset(tpm.manufacturer, 'A', sizeof(tpm.manufacturer));
	assert_null(tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &tpm, 30));
	free(ek.buf);
}

/* swtpm_localca's certificate of rel_ek verifies to its root. */
static void
swtpm_verifies(const char *rel_cert, const char *rel_ek)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE *roots = X509_STORE_new(), *both = X509_STORE_new();
	X509 *root = pem_cert(SWTPM_ROOT), *inter = pem_cert(SWTPM_CA);
	struct tpmcert_tpm tpm;
	unsigned char *der;
	char why[512] = "";
	struct key ek;
	size_t len;

	key_load(rel_ek, &ek);
	der = (unsigned char *)corpus_file_text(rel_cert, &len);
	assert_int_equal(X509_STORE_add_cert(roots, root), 1);
	assert_int_equal(sk_X509_push(untrusted, inter), 1);
	if (tpmcert_verify_ek(der, len, &ek.pub, roots, untrusted, &tpm, why,
	    sizeof(why)) != WG_OK)
		fail_msg("%s refused: %s", rel_cert, why);
	tpm_equal(&tpm, &swtpm_tpm);
	/* The intermediate may come from the store too. */
	assert_int_equal(X509_STORE_add_cert(both, root), 1);
	assert_int_equal(X509_STORE_add_cert(both, inter), 1);
	assert_int_equal(tpmcert_verify_ek(der, len, &ek.pub, both, NULL,
	    &tpm, why, sizeof(why)), WG_OK);
	/* Without it there is no path; an intermediate is no anchor. */
	assert_int_equal(tpmcert_verify_ek(der, len, &ek.pub, roots, NULL,
	    &tpm, why, sizeof(why)), WG_E_EK_CERT_UNTRUSTED);
	assert_non_null(strstr(why, "RFC 5280 6.1"));
	X509_STORE_free(both);
	X509_STORE_free(roots);
	roots = X509_STORE_new();
	assert_int_equal(X509_STORE_add_cert(roots, inter), 1);
	assert_int_equal(tpmcert_verify_ek(der, len, &ek.pub, roots, NULL,
	    &tpm, why, sizeof(why)), WG_E_EK_CERT_UNTRUSTED);
	X509_STORE_free(roots);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(root);
	free(der);
	free(ek.buf);
}

static void
test_tpmcert_verify_ek_swtpm_localca_rsa(void **state)
{
	swtpm_verifies("tpmcert/ek-rsa.der", "tpmcert/ek-rsa.hex");
}

static void
test_tpmcert_verify_ek_swtpm_localca_ecc(void **state)
{
	swtpm_verifies("tpmcert/ek-ecc.der", "tpmcert/ek-ecc.hex");
}

/* A certificate of another TPM's EK, in good standing otherwise. */
static void
test_tpmcert_verify_ek_refuses_other_key(void **state)
{
	struct key rsa, ecc;
	X509 *cert;

	key_load(RSA_EK, &rsa);
	key_load(ECC_EK, &ecc);
	cert = tpmcert_issue_ek(ca.key, ca.cert, &ecc.pub, &test_tpm, 30);
	assert_non_null(cert);
	ek_check(cert, &rsa, ca.store, NULL, WG_E_EK_CERT_INVALID,
	    "subjectPublicKeyInfo is not the TPM's EK");
	X509_free(cert);
	cert = tpmcert_issue_ek(ca.key, ca.cert, &rsa.pub, &test_tpm, 30);
	ek_check(cert, &rsa, ca.store, NULL, WG_OK, NULL);
	X509_free(cert);
	free(rsa.buf);
	free(ecc.buf);
}

/* The right key, the right profile, but not from a trusted root. */
static void
test_tpmcert_verify_ek_refuses_forged(void **state)
{
	struct key ek;
	X509 *cert;

	key_load(RSA_EK, &ek);
	/* another CA, even one of the same name */
	cert = tpmcert_issue_ek(forger.key, forger.cert, &ek.pub, &test_tpm,
	    30);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_UNTRUSTED,
	    "chain to a trusted root");
	X509_free(cert);
	/* the trusted CA's name and key id, another CA's signature */
	cert = tpmcert_issue_ek(forger.key, ca.cert, &ek.pub, &test_tpm, 30);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_UNTRUSTED,
	    "signature failure");
	X509_free(cert);
	/* self-signed: issuer and subject the same, no AKI */
	cert = tpmcert_issue_ek(forger.key, forger.cert, &ek.pub, &test_tpm,
	    30);
	assert_int_equal(X509_set_subject_name(cert,
	    X509_get_issuer_name(cert)), 1);
	ext_set(cert, NID_authority_key_identifier, NULL);
	resign(cert, forger.key);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_UNTRUSTED,
	    "chain to a trusted root");
	ek_check(cert, &ek, NULL, NULL, WG_E_EK_CERT_UNTRUSTED,
	    "chain to a trusted root");
	X509_free(cert);
	free(ek.buf);
}

static void
test_tpmcert_verify_ek_refuses_eku(void **state)
{
	struct key ek;
	X509 *cert;

	key_load(ECC_EK, &ek);
	cert = tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &test_tpm, 30);
	ext_set(cert, NID_ext_key_usage, NULL);
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_INVALID,
	    "extendedKeyUsage absent (RFC 5280 4.2.1.12; it must list "
	    "2.23.133.8.1)");
	ext_set(cert, NID_ext_key_usage, TPMCERT_OID_KP_AIK);
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_INVALID,
	    "extendedKeyUsage does not list 2.23.133.8.1");
	ext_set(cert, NID_ext_key_usage, "anyExtendedKeyUsage");
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_INVALID,
	    "does not list 2.23.133.8.1");
	ext_set(cert, NID_ext_key_usage, "serverAuth,2.23.133.8.1");
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_OK, NULL);
	X509_free(cert);
	free(ek.buf);
}

/*
 * Decision: an EK certificate out of its validity is UNTRUSTED, as an
 * intermediate out of its validity is: the certificate names the right
 * TPM, only the chain no longer vouches for it now, so the attestation
 * CA may still trust the EK by its imported hash (src/server/aik.c falls
 * back on UNTRUSTED, stops on INVALID).
 */
static void
test_tpmcert_verify_ek_refuses_expired(void **state)
{
	struct key ek;
	X509 *cert;

	key_load(RSA_EK, &ek);
	cert = tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &test_tpm, 30);
	X509_gmtime_adj(X509_getm_notBefore(cert), -2 * 86400);
	X509_gmtime_adj(X509_getm_notAfter(cert), -86400);
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_UNTRUSTED,
	    "certificate has expired at chain depth 0 (validity, RFC 5280 "
	    "4.1.2.5)");
	X509_gmtime_adj(X509_getm_notBefore(cert), 86400);
	X509_gmtime_adj(X509_getm_notAfter(cert), 2 * 86400);
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_UNTRUSTED,
	    "not yet valid at chain depth 0 (validity");
	X509_free(cert);
	free(ek.buf);
}

/* An intermediate CA issued by ca, its validity ending `end` from now. */
static X509 *
intermediate(EVP_PKEY *key, long end)
{
	X509 *cert = x509_ca_self_signed(key, "TPM intermediate", 30);

	assert_non_null(cert);
	assert_int_equal(X509_set_issuer_name(cert,
	    X509_get_subject_name(ca.cert)), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -2 * 86400);
	X509_gmtime_adj(X509_getm_notAfter(cert), end);
	resign(cert, ca.key);
	return cert;
}

static void
test_tpmcert_verify_ek_refuses_expired_intermediate(void **state)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	EVP_PKEY *ikey = x509_key_new_p256();
	X509 *good = intermediate(ikey, 86400), *old = intermediate(ikey,
	    -86400), *cert;
	struct key ek;

	key_load(ECC_EK, &ek);
	cert = tpmcert_issue_ek(ikey, good, &ek.pub, &test_tpm, 30);
	assert_non_null(cert);
	assert_int_equal(sk_X509_push(untrusted, good), 1);
	ek_check(cert, &ek, ca.store, untrusted, WG_OK, NULL);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_UNTRUSTED,
	    "unable to get local issuer certificate at chain depth 0 (chain "
	    "to a trusted root, RFC 5280 6.1)");
	(void)sk_X509_pop(untrusted);
	assert_int_equal(sk_X509_push(untrusted, old), 1);
	ek_check(cert, &ek, ca.store, untrusted, WG_E_EK_CERT_UNTRUSTED,
	    "certificate has expired at chain depth 1 (validity");
	sk_X509_free(untrusted);
	X509_free(cert);
	X509_free(good);
	X509_free(old);
	EVP_PKEY_free(ikey);
	free(ek.buf);
}

static void
test_tpmcert_verify_ek_refuses_der(void **state)
{
	unsigned char *der, *big, junk[64];
	struct tpmcert_tpm tpm;
	char why[512];
	struct key ek;
	size_t len, n;
	X509 *cert;

	key_load(RSA_EK, &ek);
	cert = tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &test_tpm, 30);
	der = der_of(cert, &len);
	big = calloc(1, TPMCERT_DER_MAX + 1);
	assert_non_null(big);
	memcpy(big, der, len);
	assert_int_equal(tpmcert_verify_ek(big, TPMCERT_DER_MAX + 1, &ek.pub,
	    ca.store, NULL, &tpm, why, sizeof(why)), WG_E_EK_CERT_INVALID);
	assert_non_null(strstr(why, "8193 bytes, not 1 to 8192"));
	assert_int_equal(tpmcert_verify_ek(big, 0, &ek.pub, ca.store, NULL,
	    &tpm, why, sizeof(why)), WG_E_EK_CERT_INVALID);
	assert_int_equal(tpmcert_verify_ek(big, len + 1, &ek.pub, ca.store,
	    NULL, &tpm, why, sizeof(why)), WG_E_EK_CERT_INVALID);
	assert_non_null(strstr(why, "1 bytes follow the DER certificate"));
	for (n = 1; n < len; n++) {
		assert_int_equal(tpmcert_verify_ek(der, n, &ek.pub, ca.store,
		    NULL, &tpm, why, sizeof(why)), WG_E_EK_CERT_INVALID);
		assert_non_null(strstr(why, "not a DER X.509 certificate"));
	}
	assert_int_equal(wg_random(junk, sizeof(junk)), WG_OK);
	assert_int_equal(tpmcert_verify_ek(junk, sizeof(junk), &ek.pub,
	    ca.store, NULL, &tpm, why, sizeof(why)), WG_E_EK_CERT_INVALID);
	/* a short why buffer is cut, never overrun */
	assert_int_equal(tpmcert_verify_ek(der, len - 1, &ek.pub, ca.store,
	    NULL, &tpm, why, 8), WG_E_EK_CERT_INVALID);
	assert_int_equal(strlen(why), 7);
	free(big);
	OPENSSL_free(der);
	X509_free(cert);
	free(ek.buf);
}

/* One attribute of a SAN directoryName a test builds. */
struct attr {
	const char *oid;
	int type;
	const char *value;
	int merge; /* into the RDN before (a multi-valued RDN) */
};

/* An EK certificate whose SAN is one directoryName of attrs. */
static X509 *
ek_with_san(const struct key *ek, const struct attr *attrs, size_t n)
{
	X509 *cert = tpmcert_issue_ek(ca.key, ca.cert, &ek->pub, &test_tpm,
	    30);
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gen = GENERAL_NAME_new();
	X509_NAME *dn = X509_NAME_new();
	ASN1_OBJECT *obj;
	size_t i;

	for (i = 0; i < n; i++) {
		obj = OBJ_txt2obj(attrs[i].oid, 1);
		assert_int_equal(X509_NAME_add_entry_by_OBJ(dn, obj,
		    attrs[i].type, (const unsigned char *)attrs[i].value, -1,
		    -1, attrs[i].merge ? -1 : 0), 1);
		ASN1_OBJECT_free(obj);
	}
	GENERAL_NAME_set0_value(gen, GEN_DIRNAME, dn);
	assert_true(sk_GENERAL_NAME_push(gens, gen) > 0);
	ext_set(cert, NID_subject_alt_name, NULL);
	assert_int_equal(X509_add1_ext_i2d(cert, NID_subject_alt_name, gens,
	    1, X509V3_ADD_DEFAULT), 1);
	GENERAL_NAMES_free(gens);
	resign(cert, ca.key);
	return cert;
}

#define MANU TPMCERT_OID_TPM_MANUFACTURER
#define MODEL TPMCERT_OID_TPM_MODEL
#define VERS TPMCERT_OID_TPM_VERSION
#define UTF8 V_ASN1_UTF8STRING

static void
san_refused(const struct key *ek, const struct attr *attrs, size_t n,
    const char *rule)
{
	X509 *cert = ek_with_san(ek, attrs, n);

	ek_check(cert, ek, ca.store, NULL, WG_E_EK_CERT_INVALID, rule);
	X509_free(cert);
}

static void
test_tpmcert_verify_ek_refuses_san(void **state)
{
	static const struct attr no_version[] = { { MANU, UTF8, "id:1", 0 },
		{ MODEL, UTF8, "m", 0 } };
	static const struct attr twice[] = { { MANU, UTF8, "id:1", 0 },
		{ MODEL, UTF8, "m", 0 }, { MODEL, UTF8, "n", 0 },
		{ VERS, UTF8, "id:2", 0 } };
	static const struct attr control[] = { { MANU, UTF8, "id:\x01", 0 },
		{ MODEL, UTF8, "m", 0 }, { VERS, UTF8, "id:2", 0 } };
	static const struct attr empty[] = { { MANU, UTF8, "id:1", 0 },
		{ MODEL, UTF8, "", 0 }, { VERS, UTF8, "id:2", 0 } };
	static const struct attr bmp[] = { { MANU, UTF8, "id:1", 0 },
		{ MODEL, V_ASN1_BMPSTRING, "mm", 0 }, /* U+6D6D */
		{ VERS, UTF8, "id:2", 0 } };
	char long_model[TPMCERT_ATTR_MAX + 2];
	struct attr too_long[] = { { MANU, UTF8, "id:1", 0 },
		{ MODEL, UTF8, long_model, 0 }, { VERS, UTF8, "id:2", 0 } };
	struct key ek;
	X509 *cert;

	key_load(RSA_EK, &ek);
	memset(long_model, 'M', sizeof(long_model) - 1);
	long_model[sizeof(long_model) - 1] = '\0';
	san_refused(&ek, no_version, 2, "subjectAltName lacks tpmVersion "
	    "(2.23.133.2.3)");
	san_refused(&ek, twice, 4, "names tpmModel (2.23.133.2.2) twice");
	san_refused(&ek, control, 3, "tpmManufacturer (2.23.133.2.1) is not "
	    "a UTF8String or PrintableString of 1 to 64 printable");
	san_refused(&ek, empty, 3, "tpmModel (2.23.133.2.2) is not");
	san_refused(&ek, bmp, 3, "tpmModel (2.23.133.2.2) is not");
	san_refused(&ek, too_long, 3, "1 to 64 printable characters");
	cert = tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &test_tpm, 30);
	ext_set(cert, NID_subject_alt_name, NULL);
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_INVALID,
	    "subjectAltName absent");
	X509_free(cert);
	free(ek.buf);
}

/* Older EK certificates: PrintableStrings, one multi-valued RDN. */
static void
test_tpmcert_verify_ek_accepts_san_variants(void **state)
{
	static const struct attr one_rdn[] = {
		{ MANU, V_ASN1_PRINTABLESTRING, "id:4E544300", 0 },
		{ MODEL, V_ASN1_PRINTABLESTRING, "NPCT75x", 1 },
		{ VERS, V_ASN1_PRINTABLESTRING, "id:00070002", 1 },
		{ "2.5.4.3", UTF8, "ignored", 1 },
	};
	static const struct tpmcert_tpm want = { "id:4E544300", "NPCT75x",
		"id:00070002" };
	struct tpmcert_tpm tpm;
	GENERAL_NAMES *gens;
	unsigned char *der;
	char why[512] = "";
	struct key ek;
	X509 *cert;
	size_t len;

	key_load(ECC_EK, &ek);
	cert = ek_with_san(&ek, one_rdn, 4);
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	assert_int_equal(X509_NAME_entry_count(GENERAL_NAME_get0_value(
	    sk_GENERAL_NAME_value(gens, 0), NULL)), 4);
	GENERAL_NAMES_free(gens);
	der = der_of(cert, &len);
	if (tpmcert_verify_ek(der, len, &ek.pub, ca.store, NULL, &tpm, why,
	    sizeof(why)) != WG_OK)
		fail_msg("refused: %s", why);
	tpm_equal(&tpm, &want);
	OPENSSL_free(der);
	X509_free(cert);
	free(ek.buf);
}

/*
 * Decision: no critical extension is waived.  OpenSSL processes the
 * critical SAN (any name form, directoryName included), so real EK
 * certificates pass; subjectDirectoryAttributes (TPM specification) must
 * be non-critical (RFC 5280 4.2.1.8, as swtpm and vendors make it), and a
 * critical one that nobody processes is refused (RFC 5280 4.2).
 */
static void
test_tpmcert_verify_ek_refuses_critical_extension(void **state)
{
	static const char sda[] = "DER:3019301706056781050210310E300C0C03322E"
	    "30020100020200A4";
	char critical[128];
	struct key ek;
	X509 *cert;

	snprintf(critical, sizeof(critical), "critical,%s", sda);
	key_load(RSA_EK, &ek);
	cert = tpmcert_issue_ek(ca.key, ca.cert, &ek.pub, &test_tpm, 30);
	ext_set(cert, NID_subject_directory_attributes, sda);
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_OK, NULL);
	ext_set(cert, NID_subject_directory_attributes, critical);
	resign(cert, ca.key);
	ek_check(cert, &ek, ca.store, NULL, WG_E_EK_CERT_INVALID,
	    "unhandled critical extension at chain depth 0 (critical "
	    "extensions, RFC 5280 4.2)");
	X509_free(cert);
	free(ek.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpmcert_issue_ek_rsa_verifies),
		cmocka_unit_test(test_tpmcert_issue_ek_ecc_verifies),
		cmocka_unit_test(test_tpmcert_issue_ek_refuses_bad_attributes),
		cmocka_unit_test(test_tpmcert_verify_ek_swtpm_localca_rsa),
		cmocka_unit_test(test_tpmcert_verify_ek_swtpm_localca_ecc),
		cmocka_unit_test(test_tpmcert_verify_ek_refuses_other_key),
		cmocka_unit_test(test_tpmcert_verify_ek_refuses_forged),
		cmocka_unit_test(test_tpmcert_verify_ek_refuses_eku),
		cmocka_unit_test(test_tpmcert_verify_ek_refuses_expired),
		cmocka_unit_test(
		    test_tpmcert_verify_ek_refuses_expired_intermediate),
		cmocka_unit_test(test_tpmcert_verify_ek_refuses_der),
		cmocka_unit_test(test_tpmcert_verify_ek_refuses_san),
		cmocka_unit_test(test_tpmcert_verify_ek_accepts_san_variants),
		cmocka_unit_test(
		    test_tpmcert_verify_ek_refuses_critical_extension),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
