/*
 * libFuzzer harness for the TPM2B_PUBLIC parser (src/crypto/tpmpub.c).
 *
 * Each input is parsed as the marshalled bytes and, when it is hex text
 * (as the tests/corpus/tpmpub files are), as the bytes the hex spells.
 * A refusal must leave a zeroed result and say why; an accepted area must
 * point into the input, be one of the key shapes tpmpub.h promises, and
 * convert to an OpenSSL key.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "crypto/tpmpub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
check_accepted(const uint8_t *data, size_t size, const struct tpm_public *p)
{
	unsigned char name[34], digest[32];
	char id[44];
	EVP_PKEY *k;

	CHECK(p->area == data + 2 && p->area_len == size - 2);
	CHECK(p->name_alg == TPM_ALG_SHA256);
	CHECK((p->attributes & TPMA_RESERVED) == 0);
	if (p->type == TPM_ALG_RSA)
		CHECK(p->rsa_bits == 2048 && p->rsa_modulus_len == 256);
	else
		CHECK(p->type == TPM_ALG_ECC && p->ecc_x_len == 32 &&
		    p->ecc_y_len == 32 && p->ecc_curve == TPM_ECC_NIST_P256);
	tpm_public_name(p, name);
	tpm_public_ek_lookup_hash(p, digest);
	tpm_public_ek_lookup_id(p, id);
	CHECK(strlen(id) == 43);
	CHECK((k = tpm_public_to_pkey(p)) != NULL);
	EVP_PKEY_free(k);
}

static void
parse(const uint8_t *data, size_t size)
{
	static const struct tpm_public zero;
	struct tpm_public p;
	char why[256] = "";

	if (tpm_public_parse(data, size, &p, why, sizeof(why)) == WG_OK) {
		check_accepted(data, size, &p);
		return;
	}
	CHECK(why[0] != '\0');
	CHECK(memcmp(&p, &zero, sizeof(p)) == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *bytes;
	size_t i, n = 0;
	int hi = -1, v;

	parse(data, size);
	if ((bytes = malloc(size / 2 + 1)) == NULL)
		abort();
	for (i = 0; i < size; i++) {
		if (isspace(data[i]))
			continue;
		if ((v = wg_hex_value(data[i])) < 0)
			break;
		if (hi < 0) {
			hi = v;
		} else {
			bytes[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (i == size && hi < 0)
		parse(bytes, n);
	free(bytes);
	return 0;
}
