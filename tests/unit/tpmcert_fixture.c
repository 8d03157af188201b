/*
 * What the tpmcert tests share (tpmcert_fixture.h): two test CAs, the
 * corpus keys and certificates, and certificate surgery.
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

/* swtpm's TCG vendor id for IBM, its model, its firmware date; ours. */
const struct tpmcert_tpm swtpm_tpm = { "id:00001014", "swtpm",
	"id:20191023" };
const struct tpmcert_tpm test_tpm = { "id:49424D00", "SLB9670",
	"id:00070055" };

/* The trusted CA and one nobody trusts. */
struct ca ca, forger;

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

int
group_setup(void **state)
{
	ca_new(&ca, "whiteglove test TPM CA");
	ca_new(&forger, "whiteglove test TPM CA"); /* same name, other key */
	return 0;
}

int
group_teardown(void **state)
{
	ca_free(&ca);
	ca_free(&forger);
	return 0;
}

void
key_load(const char *rel, struct key *k)
{
	char why[256] = "";
	size_t len;

	k->buf = corpus_file_hex(rel, &len);
	if (tpm_public_parse(k->buf, len, &k->pub, why, sizeof(why)) != WG_OK)
		fail_msg("%s: %s", rel, why);
}

X509 *
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
unsigned char *
der_of(X509 *cert, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);

	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

/* Signs cert again with key once a test has changed it. */
void
resign(X509 *cert, EVP_PKEY *key)
{
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
}

/* Replaces extension nid of cert by value (config syntax); NULL: drop. */
void
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
void
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
