/*
 * x509.c: a certificate skeleton carries its key byte for byte as
 * i2d_PUBKEY writes it, RSA or EC, and signs and verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/x509.h"

/*
 * cert's public key is pub: the same DER as i2d_PUBKEY, and the same key
 * once the certificate is written and read back (as a device reads it).
 */
static void
assert_same_key(X509 *cert, EVP_PKEY *pub)
{
	unsigned char *want = NULL, *have = NULL, *der = NULL;
	const unsigned char *p;
	int wn = i2d_PUBKEY(pub, &want);
	int hn = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &have);
	int n = i2d_X509(cert, &der);
	X509 *back;

	assert_true(wn > 0);
	assert_int_equal(hn, wn);
	assert_memory_equal(have, want, (size_t)wn);
	assert_true(n > 0);
	p = der;
	back = d2i_X509(NULL, &p, n);
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(back), pub), 1);
	X509_free(back);
	OPENSSL_free(der);
	OPENSSL_free(want);
	OPENSSL_free(have);
}

static void
test_x509_cert_new_rsa_key(void **state)
{
	EVP_PKEY *ca = x509_key_new_p256();
	EVP_PKEY *pub = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	X509 *cert;

	(void)state;
	assert_non_null(ca);
	assert_non_null(pub);
	cert = x509_cert_new(pub, "device", NULL, 30);
	assert_non_null(cert);
	/* it signs and verifies as any certificate */
	assert_true(X509_sign(cert, ca, EVP_sha256()) > 0);
	assert_int_equal(X509_verify(cert, ca), 1);
	assert_same_key(cert, pub);
	X509_free(cert);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(ca);
}

static void
test_x509_cert_new_ec_key(void **state)
{
	EVP_PKEY *pub = x509_key_new_p256();
	X509 *cert;

	(void)state;
	assert_non_null(pub);
	cert = x509_cert_new(pub, "server", NULL, 30);
	assert_non_null(cert);
	assert_true(X509_sign(cert, pub, EVP_sha256()) > 0);
	assert_same_key(cert, pub);
	X509_free(cert);
	EVP_PKEY_free(pub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x509_cert_new_rsa_key),
		cmocka_unit_test(test_x509_cert_new_ec_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
