/*
 * libFuzzer harness for the certificate checks of src/crypto/
 * tpmcert_verify.c: each input is a DER certificate checked as an EK
 * certificate and as an AIK certificate.  The expected key is the
 * input's own (when it is an RSA-2048 or P-256 key), so the checks after
 * the key comparison (usage, TPM names, policies, the chain) are reached.
 * Whatever the input, the result is WG_OK or one of the certificate codes
 * with a reason, and a refusal leaves the TPM names zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>

#include "crypto/tpmcert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* p as the TPM key of k (RSA-2048 or P-256); 0 if k is neither. */
static int
key_of(EVP_PKEY *k, struct tpm_public *p)
{
	unsigned char pt[65];
	size_t n = 0;
	BIGNUM *bn = NULL;
	int ok = 0;

	memset(p, 0, sizeof(*p));
	p->name_alg = TPM_ALG_SHA256;
	p->attributes = TPMA_FIXEDTPM | TPMA_FIXEDPARENT |
	    TPMA_SENSITIVEDATAORIGIN | TPMA_RESTRICTED | TPMA_DECRYPT;
	if (EVP_PKEY_is_a(k, "RSA") && EVP_PKEY_get_bits(k) == 2048 &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn) &&
	    BN_bn2binpad(bn, p->rsa_modulus, 256) == 256) {
		p->type = TPM_ALG_RSA;
		p->rsa_bits = 2048;
		p->rsa_modulus_len = 256;
		ok = 1;
	} else if (EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_octet_string_param(k,
	    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n) && n == 65) {
		p->type = TPM_ALG_ECC;
		p->ecc_curve = TPM_ECC_NIST_P256;
		memcpy(p->ecc_x, pt + 1, 32);
		memcpy(p->ecc_y, pt + 33, 32);
		p->ecc_x_len = p->ecc_y_len = 32;
		ok = 1;
	}
	BN_free(bn);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tpmcert_tpm zero;
	const unsigned char *q = data;
	X509_STORE *roots = X509_STORE_new();
	enum tpmcert_assurance how;
	struct tpmcert_tpm tpm;
	struct tpm_public key;
	char why[256];
	X509 *x;
	EVP_PKEY *k;
	enum wg_err rc;

	CHECK(roots != NULL);
	memset(&key, 0, sizeof(key));
	key.type = TPM_ALG_RSA; /* a key no input has, unless it is its own */
	key.rsa_bits = 2048;
	key.rsa_modulus_len = 256;
	memset(key.rsa_modulus, 0xc5, 256);
	if ((x = d2i_X509(NULL, &q, (long)size)) != NULL &&
	    (k = X509_get0_pubkey(x)) != NULL)
		(void)key_of(k, &key);
	X509_free(x);
	why[0] = '\0';
	rc = tpmcert_verify_ek(data, size, &key, roots, NULL, &tpm, why,
	    sizeof(why));
	CHECK(rc == WG_E_EK_CERT_INVALID || rc == WG_E_EK_CERT_UNTRUSTED);
	CHECK(why[0] != '\0' && memcmp(&tpm, &zero, sizeof(tpm)) == 0);
	why[0] = '\0';
	rc = tpmcert_verify_aik(data, size, &key, roots, NULL, &how, why,
	    sizeof(why));
	CHECK(rc == WG_E_AIK_CERT_INVALID && why[0] != '\0');
	X509_STORE_free(roots);
	return 0;
}
