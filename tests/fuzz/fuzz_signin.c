/*
 * libFuzzer harness for the sign-in's JOSE splits (src/crypto/signin.c):
 * each input, up to its first NUL, is split as a compact JWS (the
 * sign-in and PRT requests the token service reads) and as the session
 * key's compact JWE (the answer the agent reads).  A refusal says why and
 * leaves the result empty; a JWS taken has JSON objects for header and
 * claims, a signature of 1 to 512 bytes and its signing input the text up
 * to the second dot; a JWE taken has a known wrap, a kid of at most 64
 * characters, an encrypted key of 1 to 512 bytes, content of at most 4096
 * and its additional data the text up to the first dot.  The JWE's
 * content is then opened with a fixed key: it cannot authenticate, so the
 * open must fail and give no payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/signin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
jws_split(const char *text)
{
	static const struct signin_jws zero;
	struct signin_jws j;
	char why[256] = "";

	if (signin_jws_split(text, &j, why, sizeof(why)) != WG_OK) {
		CHECK(why[0] != '\0' && memcmp(&j, &zero, sizeof(j)) == 0);
		return;
	}
	CHECK(strlen(text) <= SIGNIN_JWS_MAX);
	CHECK(json_is_object(j.header) && json_is_object(j.claims));
	CHECK(j.sig != NULL && j.sig_len >= 1 && j.sig_len <= 512);
	CHECK(j.signing_input == text && j.signing_input_len < strlen(text));
	CHECK(text[j.signing_input_len] == '.' &&
	    memchr(text, '.', j.signing_input_len) != NULL);
	signin_jws_free(&j);
	CHECK(memcmp(&j, &zero, sizeof(j)) == 0);
	signin_jws_free(&j); /* twice: a no-op */
}

static void
jwe_split(const char *text)
{
	static const unsigned char key[SIGNIN_KEY_LEN] = { 1 };
	static const struct signin_jwe zero;
	struct signin_jwe j;
	json_t *payload = NULL;
	char why[256] = "";
	size_t n;

	if (signin_jwe_split(text, &j, why, sizeof(why)) != WG_OK) {
		CHECK(why[0] != '\0' && memcmp(&j, &zero, sizeof(j)) == 0);
		return;
	}
	CHECK(j.wrap == SIGNIN_WRAP_OAEP256 || j.wrap == SIGNIN_WRAP_OAEP);
	CHECK(strlen(j.kid) <= 64);
	CHECK(j.ek != NULL && j.ek_len >= 1 && j.ek_len <= 512);
	CHECK(j.ct_len <= 4096 && (j.ct_len == 0 || j.ct != NULL));
	n = strlen(j.aad);
	CHECK(strncmp(j.aad, text, n) == 0 && text[n] == '.');
	why[0] = '\0';
	CHECK(signin_jwe_open(&j, key, &payload, why, sizeof(why)) != WG_OK);
	CHECK(payload == NULL && why[0] != '\0');
	signin_jwe_free(&j);
	CHECK(memcmp(&j, &zero, sizeof(j)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	jws_split(text);
	jwe_split(text);
	free(text);
	return 0;
}
