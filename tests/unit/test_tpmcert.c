/*
 * Certificates about TPM keys: EK certificates issued here and by swtpm's
 * local CA (tests/corpus/tpmcert) verify, with the TPM read back from
 * them; every rule of the checks refuses what breaks it, with its code
 * and a message naming the rule; AIK certificates round-trip; the
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

#define RSA_EK "tpmpub/good/ek-rsa.hex"
#define ECC_EK "tpmpub/good/ek-ecc.hex"
#define SWTPM_ROOT "tpmcert/swtpm-localca-rootca.pem"
#define SWTPM_CA "tpmcert/swtpm-localca.pem"

/* swtpm's TCG vendor id for IBM, its model, its firmware date. */
static const struct tpmcert_tpm swtpm_tpm = { "id:00001014", "swtpm",
	"id:20191023" };
static const struct tpmcert_tpm test_tpm = { "id:49424D00", "SLB9670",
	"id:00070055" };

/* A CA of the tests: a P-256 key, its certificate, a store of it. */
struct ca {
	EVP_PKEY *key;
	X509 *cert;
	X509_STORE *store;
};

/* The trusted CA and one nobody trusts. */
static struct ca ca, forger;

/* A TPM key of the corpus; pub.area points into buf. */
struct key {
	unsigned char *buf;
	struct tpm_public pub;
};

static void
ca_new(struct ca *c, const char *cn)
{
	c->key = x509_key_new_p256();
	assert_non_null(c->key);
	c->cert = x509_ca_self_signed(c->key, cn, 30);
	assert_non_null(c->cert);
	c->store = X509_STORE_new();
	assert_non_null(c->store);
	assert_int_equal(X509_STORE_add_cert(c->store, c->cert), 1);
}

static void
ca_free(struct ca *c)
{
	X509_STORE_free(c->store);
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
}

static int
group_setup(void **state)
{
	ca_new(&ca, "whiteglove test TPM CA");
	ca_new(&forger, "whiteglove test TPM CA"); /* same name, other key */
	return 0;
}

static int
group_teardown(void **state)
{
	ca_free(&ca);
	ca_free(&forger);
	return 0;
}

static void
key_load(const char *rel, struct key *k)
{
	char why[256] = "";
	size_t len;

	k->buf = corpus_file_hex(rel, &len);
	if (tpm_public_parse(k->buf, len, &k->pub, why, sizeof(why)) != WG_OK)
		fail_msg("%s: %s", rel, why);
}

static X509 *
pem_cert(const char *rel)
{
	size_t len;
	char *text = corpus_file_text(rel, &len);
	BIO *bio = BIO_new_mem_buf(text, (int)len);
	X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	assert_non_null(cert);
	BIO_free(bio);
	free(text);
	return cert;
}

/* DER of cert; the caller frees it with OPENSSL_free. */
static unsigned char *
der_of(X509 *cert, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);

	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

/* Signs cert again with key once a test has changed it. */
static void
resign(X509 *cert, EVP_PKEY *key)
{
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
}

/* Replaces extension nid of cert by value (config syntax); NULL: drop. */
static void
ext_set(X509 *cert, int nid, const char *value)
{
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	int i;

	while ((i = X509_get_ext_by_NID(cert, nid, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(cert, i));
	if (value == NULL)
		return;
	X509V3_set_ctx(&ctx, ca.cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* Replaces cert's certificatePolicies by the n policies oids. */
static void
policies_set(X509 *cert, const char *const *oids, int n)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi;
	int i;

	ext_set(cert, NID_certificate_policies, NULL);
	for (i = 0; i < n; i++) {
		pi = POLICYINFO_new();
		assert_non_null(pi);
		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = OBJ_txt2obj(oids[i], 1);
		assert_true(sk_POLICYINFO_push(pols, pi) > 0);
	}
	if (n > 0)
		assert_int_equal(X509_add1_ext_i2d(cert,
		    NID_certificate_policies, pols, 0, X509V3_ADD_DEFAULT), 1);
	CERTIFICATEPOLICIES_free(pols);
}

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
