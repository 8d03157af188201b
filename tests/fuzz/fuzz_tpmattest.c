/*
 * libFuzzer harness for the attestation parser and signature check
 * (src/crypto/tpmattest.c).
 *
 * Each input is taken as the marshalled bytes and, when it is hex text
 * (as the tests/corpus/tpmattest files are), as the bytes the hex spells.
 * The bytes go whole to both parsers; then, read as the corpus lays them
 * out (a TPM2B_PUBLIC, a TPM2B_ATTEST, a TPMT_SIGNATURE), the attestation
 * is parsed and the signature verified with the key the input carries
 * when tpm_public_parse accepts it, else with a fixed one, so that the
 * swtpm seeds reach a good signature and every path after it.
 * A refusal must leave a zeroed result and say why; an accepted
 * attestation must be one of the shapes tpmattest.h promises.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "crypto/tpmattest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
check_accepted(const struct tpm_attest *a)
{
	size_t i;

	CHECK(a->signer_len <= TPM_ATTEST_NAME_MAX);
	CHECK(a->extra_len <= TPM_ATTEST_DATA_MAX);
	CHECK(a->safe == 0 || a->safe == 1);
	if (a->type == TPM_ST_ATTEST_CERTIFY) {
		CHECK(a->bank_count == 0 && a->pcr_digest_len == 0);
		CHECK(a->name_len <= TPM_ATTEST_NAME_MAX);
		CHECK(a->qualified_name_len <= TPM_ATTEST_NAME_MAX);
		return;
	}
	CHECK(a->type == TPM_ST_ATTEST_QUOTE);
	CHECK(a->name_len == 0 && a->qualified_name_len == 0);
	CHECK(a->bank_count <= TPM_ATTEST_BANKS_MAX);
	CHECK(a->pcr_digest_len <= TPM_ATTEST_DIGEST_MAX);
	for (i = 0; i < a->bank_count; i++)
		CHECK(a->banks[i].select_len >= 1 &&
		    a->banks[i].select_len <= TPM_ATTEST_SELECT_MAX);
}

static void
parse(const uint8_t *data, size_t size, int sized)
{
	static const struct tpm_attest zero;
	struct tpm_attest a;
	char why[256] = "";
	enum wg_err rc;

	rc = sized ? tpm_attest_parse_2b(data, size, &a, why, sizeof(why)) :
	    tpm_attest_parse(data, size, &a, why, sizeof(why));
	if (rc == WG_OK) {
		check_accepted(&a);
		return;
	}
	CHECK(rc == WG_E_JSON_FIELD && why[0] != '\0');
	CHECK(memcmp(&a, &zero, sizeof(a)) == 0);
}

/*
 * The key an input without one of its own is checked with: an RSA-2048
 * AIK-shaped TPM2B_PUBLIC (restricted sign key, RSASSA-SHA256) whose
 * modulus is 0x80 then 0x01s; no signature verifies with it, but every
 * check before OpenSSL's runs.
 */
static int
fixed_key(struct tpm_public *key)
{
	static unsigned char area[2 + 24 + 256];
	static const unsigned char head[] = { 0x01, 0x18, 0x00, 0x01, 0x00,
		0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10, 0x00,
		0x14, 0x00, 0x0b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x00 };

	memcpy(area, head, sizeof(head));
	memset(area + sizeof(head), 0x01, 256);
	area[sizeof(head)] = 0x80;
	return tpm_public_parse(area, sizeof(area), key, NULL, 0) == WG_OK;
}

/* The input as the corpus lays it out: key, TPM2B_ATTEST, signature. */
static void
split(const uint8_t *data, size_t size)
{
	struct tpm_public key;
	size_t n, m;
	char why[256] = "";
	enum wg_err rc;

	if (size < 2 || (n = 2 + (size_t)wg_get_be(data, 2)) > size - 2)
		return;
	m = 2 + (size_t)wg_get_be(data + n, 2);
	if (m > size - n)
		return;
	parse(data + n, m, 1);
	if (tpm_public_parse(data, n, &key, NULL, 0) != WG_OK &&
	    !fixed_key(&key))
		abort();
	rc = tpm_attest_verify(&key, data + n + 2, m - 2, data + n + m,
	    size - n - m, why, sizeof(why));
	CHECK(rc == WG_OK ? why[0] == '\0' : rc == WG_E_JSON_FIELD &&
	    why[0] != '\0');
}

static void
run(const uint8_t *data, size_t size)
{
	parse(data, size, 0);
	parse(data, size, 1);
	split(data, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *bytes;
	char *hex;
	size_t i, n = 0;

	run(data, size);
	/* As hex: white space dropped, then wg_hex_decode's strict rules. */
	if ((hex = malloc(size + 1)) == NULL ||
	    (bytes = malloc(size / 2 + 1)) == NULL)
		abort();
	for (i = 0; i < size; i++)
		if (!isspace(data[i]))
			hex[n++] = data[i] != '\0' ? (char)data[i] : 'x';
	hex[n] = '\0';
	if (n % 2 == 0 && wg_hex_decode(hex, bytes, n / 2) == 0)
		run(bytes, n / 2);
	free(bytes);
	free(hex);
	return 0;
}
