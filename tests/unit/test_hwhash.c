/*
 * The hardware hash: encoding is deterministic and matches the format of
 * docs/hwhash.md as tests/corpus/hwhash/make_corpus.py (a separate Python
 * encoder) writes it; parsing gives back what was encoded; the encoder
 * refuses what the parser would refuse.  The corpus runner and the fuzz
 * harness cover the parser's rejections one file each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "crypto/hwhash.h"
#include "corpus_file.h"

#define RSA_EK "tpmpub/good/ek-rsa.hex"
#define ECC_EK "tpmpub/good/ek-ecc.hex"

/* make_corpus.py's full() with the RSA EK: good/full_rsa.b64. */
static void
fill_full(struct wg_hwhash *h)
{
	static const unsigned char macs[2][6] = {
		{ 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5 },
		{ 0x02, 0x00, 0x00, 0xab, 0xcd, 0xef },
	};

	memset(h, 0, sizeof(*h));
	h->version = HWHASH_VERSION;
	h->serial = "PF3ABC12";
	h->manufacturer = "Contoso Ltd";
	h->model = "Surface Test 9";
	h->family = "Surface";
	h->sku = "Surface_Test_9_1990";
	h->smbios_uuid = "4c4c4544-0042-3510-8054-b7c04f4e3732";
	h->created_ms = INT64_C(1767225600000);
	h->disk_serials[0] = "S4EVNX0N123456";
	h->disk_serials[1] = "WD-WX12A3456789";
	h->ndisks = 2;
	memcpy(h->macs, macs, sizeof(macs));
	h->nmacs = 2;
	h->tpm_manufacturer = 0x49424D00;
	h->tpm_vendor = "SW   TPM";
	h->tpm_firmware = UINT64_C(0x2019102300163636);
	h->tpm_spec_level = 0;
	h->tpm_spec_revision = 164;
	h->ek_public = corpus_file_hex(RSA_EK, &h->ek_public_len);
}

/* Both NULL, or the same text. */
static void
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_same(const struct wg_hwhash *a, const struct wg_hwhash *b)
{
	size_t i;

	same_text(a->serial, b->serial);
	same_text(a->manufacturer, b->manufacturer);
	same_text(a->model, b->model);
	same_text(a->family, b->family);
	same_text(a->sku, b->sku);
	same_text(a->smbios_uuid, b->smbios_uuid);
	assert_true(a->created_ms == b->created_ms);
	assert_int_equal(a->ndisks, b->ndisks);
	for (i = 0; i < a->ndisks; i++)
		assert_string_equal(a->disk_serials[i], b->disk_serials[i]);
	assert_int_equal(a->nmacs, b->nmacs);
	assert_memory_equal(a->macs, b->macs, 6 * a->nmacs);
	assert_int_equal(a->tpm_manufacturer, b->tpm_manufacturer);
	same_text(a->tpm_vendor, b->tpm_vendor);
	assert_true(a->tpm_firmware == b->tpm_firmware);
	assert_int_equal(a->tpm_spec_level, b->tpm_spec_level);
	assert_int_equal(a->tpm_spec_revision, b->tpm_spec_revision);
	assert_int_equal(a->ek_public_len, b->ek_public_len);
	assert_memory_equal(a->ek_public, b->ek_public, a->ek_public_len);
}

static void
test_hwhash_encode_round_trip(void **state)
{
	struct wg_hwhash h, *got = NULL;
	unsigned char *blob, sha[32];
	char why[256] = "";
	size_t len;

	fill_full(&h);
	assert_int_equal(hwhash_encode(&h, &blob, &len), WG_OK);
	assert_memory_equal(blob, "WGHH\x01", 5);
	if (hwhash_parse(blob, len, &got, why, sizeof(why)) != WG_OK)
		fail_msg("refused: %s", why);
	assert_int_equal(got->version, HWHASH_VERSION);
	assert_same(&h, got);
	wg_sha256(h.ek_public + 2, h.ek_public_len - 2, sha);
	assert_memory_equal(got->ek_sha256, sha, 32);
	hwhash_free(got);
	free(blob);
	free(h.ek_public);
}

/* The C encoder and make_corpus.py agree to the byte. */
static void
test_hwhash_encode_b64_matches_independent_encoder(void **state)
{
	struct wg_hwhash h;
	char *b64 = NULL, *want;
	size_t n;

	fill_full(&h);
	want = corpus_file_text("hwhash/good/full_rsa.b64", &n);
	while (n > 0 && (want[n - 1] == '\n' || want[n - 1] == '\r'))
		want[--n] = '\0';
	assert_int_equal(hwhash_encode_b64(&h, &b64), WG_OK);
	assert_string_equal(b64, want);
	free(b64);
	free(want);
	free(h.ek_public);
}

static void
test_hwhash_encode_deterministic(void **state)
{
	unsigned char a[HWHASH_MAX_BYTES], b[HWHASH_MAX_BYTES], *c;
	struct wg_hwhash h;
	size_t alen, blen, clen;
	char why[256];

	fill_full(&h);
	h.version = 0; /* ignored: always the current version */
	assert_int_equal(hwhash_encode_buf(&h, a, sizeof(a), &alen, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(hwhash_encode_buf(&h, b, sizeof(b), &blen, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(hwhash_encode(&h, &c, &clen), WG_OK);
	assert_int_equal(alen, blen);
	assert_int_equal(alen, clen);
	assert_memory_equal(a, b, alen);
	assert_memory_equal(a, c, alen);
	assert_int_equal(hwhash_b64_len(alen), 4 * ((alen + 2) / 3));
	free(c);
	free(h.ek_public);
}

/* A VM or container: serial and EK only; absent fields stay absent. */
static void
test_hwhash_parse_minimal(void **state)
{
	struct wg_hwhash h, *got = NULL;
	char *b64 = NULL, why[256] = "";

	memset(&h, 0, sizeof(h));
	h.serial = "VM-0042";
	h.ek_public = corpus_file_hex(ECC_EK, &h.ek_public_len);
	assert_int_equal(hwhash_encode_b64(&h, &b64), WG_OK);
	if (hwhash_parse_b64(b64, strlen(b64), &got, why, sizeof(why)) !=
	    WG_OK)
		fail_msg("refused: %s", why);
	assert_string_equal(got->serial, "VM-0042");
	assert_null(got->manufacturer);
	assert_null(got->model);
	assert_null(got->smbios_uuid);
	assert_null(got->tpm_vendor);
	assert_int_equal(got->ndisks, 0);
	assert_int_equal(got->nmacs, 0);
	assert_true(got->created_ms == 0);
	assert_int_equal(got->tpm_manufacturer, 0);
	assert_int_equal(got->tpm_spec_revision, 0);
	hwhash_free(got);
	free(b64);
	free(h.ek_public);
}

static void
test_hwhash_parse_b64_padding_optional(void **state)
{
	struct wg_hwhash h, *a = NULL, *b = NULL;
	char *b64 = NULL, why[256] = "";
	size_t n;

	memset(&h, 0, sizeof(h));
	h.serial = "VM-00421"; /* 370 bytes: two '=' */
	h.ek_public = corpus_file_hex(RSA_EK, &h.ek_public_len);
	assert_int_equal(hwhash_encode_b64(&h, &b64), WG_OK);
	n = strlen(b64);
	assert_string_equal(b64 + n - 2, "==");
	assert_int_equal(hwhash_parse_b64(b64, n, &a, why, sizeof(why)),
	    WG_OK);
	assert_int_equal(hwhash_parse_b64(b64, n - 2, &b, why, sizeof(why)),
	    WG_OK);
	assert_same(a, b);
	hwhash_free(a);
	hwhash_free(b);
	free(b64);
	free(h.ek_public);
}

/* The bytes of the text, padded or not, are what the encoder wrote. */
static void
test_hwhash_b64_bytes(void **state)
{
	struct wg_hwhash h;
	unsigned char *raw = NULL, *got = NULL;
	char *b64 = NULL, why[256] = "";
	size_t rawlen, n;

	memset(&h, 0, sizeof(h));
	h.serial = "VM-00421";
	h.ek_public = corpus_file_hex(RSA_EK, &h.ek_public_len);
	assert_int_equal(hwhash_encode(&h, &raw, &rawlen), WG_OK);
	assert_int_equal(hwhash_encode_b64(&h, &b64), WG_OK);
	assert_int_equal(hwhash_b64_bytes(b64, strlen(b64), &got, &n, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(n, rawlen);
	assert_memory_equal(got, raw, n);
	free(got);
	assert_int_equal(hwhash_b64_bytes(b64, strlen(b64) - 2, &got, &n, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(n, rawlen);
	assert_memory_equal(got, raw, n);
	free(got);
	assert_int_equal(hwhash_b64_bytes("V0dI SA==", 9, &got, &n, why,
	    sizeof(why)), WG_E_DDS_INVALID_HASH);
	assert_string_equal(why, "base64: character 0x20 at offset 4 is not "
	    "in the base64 alphabet");
	assert_null(got);
	assert_int_equal(n, 0);
	free(raw);
	free(b64);
	free(h.ek_public);
}

/* Every prefix of a valid hash is refused with a message, never read. */
static void
test_hwhash_parse_rejects_every_truncation(void **state)
{
	struct wg_hwhash h, *got;
	unsigned char *blob;
	char why[256];
	size_t len, n;

	fill_full(&h);
	assert_int_equal(hwhash_encode(&h, &blob, &len), WG_OK);
	for (n = 0; n < len; n++) {
		why[0] = '\0';
		got = (struct wg_hwhash *)&h; /* must be reset to NULL */
		assert_int_equal(hwhash_parse(blob, n, &got, why,
		    sizeof(why)), WG_E_DDS_INVALID_HASH);
		assert_null(got);
		assert_true(why[0] != '\0');
	}
	free(blob);
	free(h.ek_public);
}

/* Changing any one byte is either refused or still parses (the text
 * changed); it never breaks the parser.  ASan watches. */
static void
test_hwhash_parse_survives_every_byte_flip(void **state)
{
	struct wg_hwhash h, *got = NULL;
	unsigned char *blob;
	char why[256];
	size_t len, i;
	int accepted = 0;

	fill_full(&h);
	assert_int_equal(hwhash_encode(&h, &blob, &len), WG_OK);
	for (i = 0; i < len; i++) {
		blob[i] ^= 0x41;
		if (hwhash_parse(blob, len, &got, why, sizeof(why)) == WG_OK)
			accepted++;
		hwhash_free(got);
		got = NULL;
		blob[i] ^= 0x41;
	}
	/* Only bytes inside text can change unnoticed; not the EK. */
	assert_true(accepted > 0 && (size_t)accepted < len / 2);
	free(blob);
	free(h.ek_public);
}

/* A hash with a may-ignore record after the EK SHA-256 parses, and the
 * record is dropped when it is encoded again. */
static void
test_hwhash_parse_skips_ignorable_records(void **state)
{
	struct wg_hwhash h, *got = NULL;
	unsigned char *blob, *longer, *again;
	size_t len, n;
	char why[256] = "";

	fill_full(&h);
	assert_int_equal(hwhash_encode(&h, &blob, &len), WG_OK);
	longer = malloc(len + 5);
	assert_non_null(longer);
	memcpy(longer, blob, len);
	memcpy(longer + len, "\x85\x00\x02hi", 5);
	if (hwhash_parse(longer, len + 5, &got, why, sizeof(why)) != WG_OK)
		fail_msg("refused: %s", why);
	assert_int_equal(hwhash_encode(got, &again, &n), WG_OK);
	assert_int_equal(n, len);
	assert_memory_equal(again, blob, len);
	hwhash_free(got);
	/* The same without the may-ignore bit is refused. */
	longer[len] = 0x45;
	assert_int_equal(hwhash_parse(longer, len + 5, &got, why,
	    sizeof(why)), WG_E_DDS_INVALID_HASH);
	assert_non_null(strstr(why, "record 0x45"));
	assert_non_null(strstr(why, "trailing bytes after the EK SHA-256"));
	free(again);
	free(longer);
	free(blob);
	free(h.ek_public);
}

/* Every field at its limit still fits HWHASH_MAX_BYTES and the b64 cap. */
static void
test_hwhash_encode_limits_fit(void **state)
{
	struct wg_hwhash h, *got = NULL;
	char text[HWHASH_MAX_STR + 1], *b64 = NULL, why[256] = "";
	size_t i;

	fill_full(&h);
	memset(text, 'x', HWHASH_MAX_STR);
	text[HWHASH_MAX_STR] = '\0';
	h.serial = h.manufacturer = h.model = h.family = h.sku =
	    h.smbios_uuid = text;
	for (i = 0; i < HWHASH_MAX_DISKS; i++)
		h.disk_serials[i] = text;
	h.ndisks = HWHASH_MAX_DISKS;
	for (i = 0; i < HWHASH_MAX_MACS; i++) {
		memset(h.macs[i], 0x02, 6);
		h.macs[i][5] = (unsigned char)(i + 1);
	}
	h.nmacs = HWHASH_MAX_MACS;
	h.tpm_vendor = "0123456789abcdef";
	assert_int_equal(hwhash_encode_b64(&h, &b64), WG_OK);
	assert_true(strlen(b64) <= HWHASH_MAX_B64);
	if (hwhash_parse_b64(b64, strlen(b64), &got, why, sizeof(why)) !=
	    WG_OK)
		fail_msg("refused: %s", why);
	assert_same(&h, got);
	hwhash_free(got);
	free(b64);
	free(h.ek_public);
}

/* Encoding h fails (nothing returned) and why contains want. */
static void
encode_refused(const struct wg_hwhash *h, const char *want)
{
	unsigned char buf[HWHASH_MAX_BYTES];
	char why[256] = "", *b64 = (char *)"x";
	size_t n = 1;

	assert_int_equal(hwhash_encode_buf(h, buf, sizeof(buf), &n, why,
	    sizeof(why)), WG_E_DDS_INVALID_HASH);
	assert_int_equal(n, 0);
	if (strstr(why, want) == NULL)
		fail_msg("message '%s' lacks '%s'", why, want);
	assert_int_equal(hwhash_encode_b64(h, &b64), WG_E_DDS_INVALID_HASH);
	assert_null(b64);
}

static void
test_hwhash_encode_rejects_bad_fields(void **state)
{
	struct wg_hwhash h;
	char long_text[HWHASH_MAX_STR + 2];
	unsigned char *ek;

	memset(long_text, 'y', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	fill_full(&h);
	ek = h.ek_public;
	h.serial = NULL;
	encode_refused(&h, "serial: missing");
	h.serial = "";
	encode_refused(&h, "serial: empty text");
	h.serial = "PF3ABC12";
	h.model = "bad\x1b[0m";
	encode_refused(&h, "model: text is not printable");
	h.model = "\xc3\x28";
	encode_refused(&h, "not printable UTF-8");
	h.model = long_text;
	encode_refused(&h, "model: text longer");
	h.model = "M";
	h.tpm_vendor = "0123456789abcdefX";
	encode_refused(&h, "TPM vendor: text longer");
	h.tpm_vendor = NULL;
	h.ndisks = HWHASH_MAX_DISKS + 1;
	encode_refused(&h, "over the limits");
	h.ndisks = 1;
	memset(h.macs[1], 0, 6);
	encode_refused(&h, "MAC 1: MAC 00:00:00:00:00:00");
	memcpy(h.macs[1], h.macs[0], 6);
	encode_refused(&h, "MAC 1: MAC appears twice");
	h.nmacs = 1;
	h.created_ms = -5;
	encode_refused(&h, "creation time");
	h.created_ms = 1;
	h.tpm_spec_revision = 0;
	h.tpm_spec_level = 2;
	encode_refused(&h, "level without a revision");
	h.tpm_spec_level = 0;
	h.ek_public = NULL;
	encode_refused(&h, "EK public: missing");
	h.ek_public = ek;
	h.ek_public_len--;
	encode_refused(&h, "EK public: TPM2B_PUBLIC.size");
	free(ek);
}

/* Zero numbers are written by leaving their records out. */
static void
test_hwhash_encode_omits_zero_fields(void **state)
{
	struct wg_hwhash h;
	unsigned char *full, *bare;
	size_t flen, blen;

	fill_full(&h);
	assert_int_equal(hwhash_encode(&h, &full, &flen), WG_OK);
	h.created_ms = 0;
	h.tpm_manufacturer = 0;
	h.tpm_firmware = 0;
	h.tpm_spec_revision = 0;
	assert_int_equal(hwhash_encode(&h, &bare, &blen), WG_OK);
	assert_int_equal(flen - blen, 4 * 3 + 8 + 4 + 8 + 8);
	free(full);
	free(bare);
	free(h.ek_public);
}

static void
test_hwhash_parse_names_record_and_offset(void **state)
{
	static const unsigned char bad[] = "WGHH\x01\x01\x00\x02" "ab"
	    "\x03\x00\x02\xff\xfe";
	struct wg_hwhash *got = NULL;
	char why[256];

	assert_int_equal(hwhash_parse(bad, sizeof(bad) - 1, &got, why,
	    sizeof(why)), WG_E_DDS_INVALID_HASH);
	assert_string_equal(why, "record 0x03 (model) at offset 10: text is "
	    "not printable UTF-8 (RFC 3629, no control characters)");
	assert_int_equal(hwhash_parse(bad, sizeof(bad) - 1, &got, NULL, 0),
	    WG_E_DDS_INVALID_HASH);
}

static void
test_hwhash_parse_b64_rejects_text(void **state)
{
	struct wg_hwhash *got = NULL;
	char why[256];

	assert_int_equal(hwhash_parse_b64("V0dI SA==", 9, &got, why,
	    sizeof(why)), WG_E_DDS_INVALID_HASH);
	assert_string_equal(why, "base64: character 0x20 at offset 4 is not "
	    "in the base64 alphabet");
	assert_int_equal(hwhash_parse_b64("", 0, &got, why, sizeof(why)),
	    WG_E_DDS_INVALID_HASH);
	assert_non_null(strstr(why, "empty"));
	/* len counts: a NUL inside is a character like any other. */
	assert_int_equal(hwhash_parse_b64("V0dI\0SA=", 8, &got, why,
	    sizeof(why)), WG_E_DDS_INVALID_HASH);
	assert_non_null(strstr(why, "0x00 at offset 4"));
	assert_null(got);
}

static void
test_hwhash_free_null(void **state)
{
	hwhash_free(NULL);
}

/*
 * hwhash_same_device: a hash made again (other time, other TPM firmware,
 * disks and MACs in another order) is the same device; each field that
 * differs is named.
 */
static void
test_hwhash_same_device(void **state)
{
	struct wg_hwhash a, b;
	unsigned char *ecc;
	size_t ecc_len;
	char why[256];
	char *disk0;

	fill_full(&a);
	fill_full(&b);
	b.created_ms += 86400000;
	b.tpm_firmware++;
	disk0 = b.disk_serials[0];
	b.disk_serials[0] = b.disk_serials[1];
	b.disk_serials[1] = disk0;
	memcpy(b.macs[0], a.macs[1], 6);
	memcpy(b.macs[1], a.macs[0], 6);
	assert_int_equal(hwhash_same_device(&a, &b, why, sizeof(why)), 1);

	b.serial = "PF3ABC13";
	assert_int_equal(hwhash_same_device(&a, &b, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "serial number"));
	assert_non_null(strstr(why, "PF3ABC13"));
	b.serial = a.serial;

	b.smbios_uuid = NULL;
	assert_int_equal(hwhash_same_device(&a, &b, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "SMBIOS UUID"));
	assert_non_null(strstr(why, "(absent)"));
	b.smbios_uuid = a.smbios_uuid;

	b.ndisks = 1; /* one disk fewer */
	assert_int_equal(hwhash_same_device(&a, &b, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "disk serial"));
	b.ndisks = 2;

	b.macs[0][5] ^= 1;
	assert_int_equal(hwhash_same_device(&a, &b, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "MAC address"));
	b.macs[0][5] ^= 1;

	b.tpm_spec_revision = 159;
	assert_int_equal(hwhash_same_device(&a, &b, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "TPM specification"));
	b.tpm_spec_revision = a.tpm_spec_revision;

	ecc = corpus_file_hex(ECC_EK, &ecc_len);
	free(b.ek_public);
	b.ek_public = ecc;
	b.ek_public_len = ecc_len;
	assert_int_equal(hwhash_same_device(&a, &b, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "EK"));
	free(a.ek_public);
	free(b.ek_public);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hwhash_encode_round_trip),
		cmocka_unit_test(
		    test_hwhash_encode_b64_matches_independent_encoder),
		cmocka_unit_test(test_hwhash_encode_deterministic),
		cmocka_unit_test(test_hwhash_parse_minimal),
		cmocka_unit_test(test_hwhash_parse_b64_padding_optional),
		cmocka_unit_test(test_hwhash_b64_bytes),
		cmocka_unit_test(test_hwhash_parse_rejects_every_truncation),
		cmocka_unit_test(test_hwhash_parse_survives_every_byte_flip),
		cmocka_unit_test(test_hwhash_parse_skips_ignorable_records),
		cmocka_unit_test(test_hwhash_encode_limits_fit),
		cmocka_unit_test(test_hwhash_encode_rejects_bad_fields),
		cmocka_unit_test(test_hwhash_encode_omits_zero_fields),
		cmocka_unit_test(test_hwhash_parse_names_record_and_offset),
		cmocka_unit_test(test_hwhash_parse_b64_rejects_text),
		cmocka_unit_test(test_hwhash_free_null),
		cmocka_unit_test(test_hwhash_same_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
