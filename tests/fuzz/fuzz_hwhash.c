/*
 * libFuzzer harness for the hardware hash parser (src/crypto/hwhash.c).
 *
 * Each input is tried as a binary hash and as base64 text (whole, and
 * without white space at its ends, so the .b64 corpus files count).  A
 * refusal must leave no result and say why; an accepted hash must keep
 * the promises of hwhash.h (serial and EK present, text printable, counts
 * within their caps, the SHA-256 that of the EK) and re-encode to a blob
 * that parses and re-encodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "crypto/hwhash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
check_text(const char *s)
{
	if (s != NULL)
		CHECK(s[0] != '\0' && strlen(s) <= HWHASH_MAX_STR &&
		    wg_str_printable(s));
}

static void
check_hash(const struct wg_hwhash *h)
{
	unsigned char sha[32];
	size_t i;

	CHECK(h->version == HWHASH_VERSION);
	CHECK(h->serial != NULL && h->ek_public != NULL);
	CHECK(h->ek_public_len >= 2 &&
	    h->ek_public_len <= HWHASH_MAX_EK_PUBLIC);
	CHECK(h->ndisks <= HWHASH_MAX_DISKS && h->nmacs <= HWHASH_MAX_MACS);
	check_text(h->serial);
	check_text(h->manufacturer);
	check_text(h->model);
	check_text(h->family);
	check_text(h->sku);
	check_text(h->smbios_uuid);
	check_text(h->tpm_vendor);
	for (i = 0; i < h->ndisks; i++) {
		CHECK(h->disk_serials[i] != NULL);
		check_text(h->disk_serials[i]);
	}
	wg_sha256(h->ek_public + 2, h->ek_public_len - 2, sha);
	CHECK(memcmp(sha, h->ek_sha256, 32) == 0);
}

/* Encode, parse, encode: the two encodings are the same bytes. */
static void
check_round_trip(const struct wg_hwhash *h)
{
	struct wg_hwhash *again = NULL;
	unsigned char *a = NULL, *b = NULL;
	size_t alen, blen;
	char why[256];

	CHECK(hwhash_encode(h, &a, &alen) == WG_OK);
	CHECK(alen <= HWHASH_MAX_BYTES);
	CHECK(hwhash_parse(a, alen, &again, why, sizeof(why)) == WG_OK);
	CHECK(hwhash_encode(again, &b, &blen) == WG_OK);
	CHECK(alen == blen && memcmp(a, b, alen) == 0);
	hwhash_free(again);
	free(a);
	free(b);
}

static void
outcome(enum wg_err rc, struct wg_hwhash *h, const char *why)
{
	if (rc != WG_OK) {
		CHECK(rc == WG_E_DDS_INVALID_HASH && h == NULL);
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(h != NULL);
	check_hash(h);
	check_round_trip(h);
	hwhash_free(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_hwhash *h = NULL;
	const char *text = (const char *)data;
	char why[256] = "";
	enum wg_err rc;

	rc = hwhash_parse(data, size, &h, why, sizeof(why));
	outcome(rc, h, why);
	h = NULL;
	why[0] = '\0';
	rc = hwhash_parse_b64(text, size, &h, why, sizeof(why));
	outcome(rc, h, why);
	while (size > 0 && memchr(" \t\r\n", text[size - 1], 4) != NULL)
		size--;
	h = NULL;
	why[0] = '\0';
	rc = hwhash_parse_b64(text, size, &h, why, sizeof(why));
	outcome(rc, h, why);
	return 0;
}
