/*
 * libFuzzer harness for the device's answer parsers (src/agent/answer.c):
 * each input is parsed as an enrollment answer and as an EK certificate
 * service answer.  Accepted: every part within its cap and a chain of
 * 1..ANSWER_CHAIN_MAX certificates; refused: an empty result and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct enroll_answer zero;
	struct enroll_answer a;
	unsigned char *der;
	char why[256];
	size_t n;
	int k;

	why[0] = '\0';
	if (enroll_answer_parse((const char *)data, size, &a, why,
	    sizeof(why)) == WG_OK) {
		k = sk_X509_num(a.chain);
		CHECK(a.blob_len >= 1 && a.blob_len <= ANSWER_BLOB_MAX);
		CHECK(a.secret_len >= 1 && a.secret_len <= ANSWER_SECRET_MAX);
		CHECK(a.sealed_len >= 1 && a.sealed_len <= ANSWER_SEALED_MAX);
		CHECK(k >= 1 && k <= ANSWER_CHAIN_MAX);
		enroll_answer_free(&a);
	} else {
		CHECK(why[0] != '\0' && memcmp(&a, &zero, sizeof(a)) == 0);
	}
	why[0] = '\0';
	if (ekcert_answer_parse((const char *)data, size, &der, &n, why,
	    sizeof(why)) == WG_OK) {
		CHECK(n >= 1 && n <= ANSWER_CERT_MAX && der != NULL);
		free(der);
	} else {
		CHECK(why[0] != '\0' && der == NULL && n == 0);
	}
	return 0;
}
