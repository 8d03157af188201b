/*
 * Small helpers: ids, encodings, the printable-text check every parser
 * uses, time formatting and log escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"

static void
test_wg_uuid_format(void **state)
{
	char a[WG_UUID_LEN + 1], b[WG_UUID_LEN + 1];
	int i;

	for (i = 0; i < 64; i++) {
		wg_uuid(a);
		assert_int_equal(strlen(a), WG_UUID_LEN);
		assert_true(wg_is_uuid(a));
		assert_int_equal(a[14], '4'); /* version 4 */
		assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
		wg_uuid(b);
		assert_string_not_equal(a, b);
	}
}

static void
test_wg_is_uuid_rejects(void **state)
{
	static const char *const bad[] = {
		"", "7d1c1f7e-5b7e-4a8e-9c11-0f9d2c3b4a5", /* short */
		"7d1c1f7e-5b7e-4a8e-9c11-0f9d2c3b4a5e0", /* long */
		"7D1C1F7E-5B7E-4A8E-9C11-0F9D2C3B4A5E", /* upper case */
		"7d1c1f7e5b7e-4a8e-9c11-0f9d2c3b4a5e-", /* dash moved */
		"7d1c1f7e-5b7e-4a8e-9c11-0f9d2c3b4a5g", /* not hex */
		"../../../../../../../../etc/passwd/x",
	};
	size_t i;

	assert_true(wg_is_uuid("7d1c1f7e-5b7e-4a8e-9c11-0f9d2c3b4a5e"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wg_is_uuid(bad[i]))
			fail_msg("'%s' accepted as a UUID", bad[i]);
}

static void
test_wg_b64url_vectors(void **state)
{
	/* RFC 4648 section 10, without padding. */
	static const char *const in[] = { "", "f", "fo", "foo", "foob",
		"fooba", "foobar" };
	static const char *const want[] = { "", "Zg", "Zm8", "Zm9v",
		"Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	static const unsigned char url[] = { 0xfb, 0xff, 0xbf };
	char *s;
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		s = wg_b64url(in[i], strlen(in[i]));
		assert_string_equal(s, want[i]);
		free(s);
	}
	/* The URL alphabet: "+/" in standard base64 become "-_". */
	s = wg_b64url(url, sizeof(url));
	assert_string_equal(s, "-_-_");
	free(s);
}

static void
test_wg_hex_vectors(void **state)
{
	static const unsigned char in[] = { 0x00, 0x0f, 0xab, 0xff };
	char out[2 * sizeof(in) + 1];

	wg_hex(in, sizeof(in), out);
	assert_string_equal(out, "000fabff");
	wg_hex(in, 0, out);
	assert_string_equal(out, "");
}

static void
test_wg_hex_decode_round_trip(void **state)
{
	unsigned char out[4];

	(void)state;
	assert_int_equal(wg_hex_decode("00fFa5", out, 3), 0);
	assert_memory_equal(out, "\x00\xff\xa5", 3);
	assert_int_equal(wg_hex_decode("00ff", out, 3), -1);   /* short */
	assert_int_equal(wg_hex_decode("00ffa5b", out, 3), -1); /* long */
	assert_int_equal(wg_hex_decode("0g", out, 1), -1);
	assert_int_equal(wg_hex_value('9'), 9);
	assert_int_equal(wg_hex_value('B'), 11);
	assert_int_equal(wg_hex_value(':'), -1);
}

static void
test_wg_b64url_decode_strict(void **state)
{
	unsigned char *out;
	size_t n;

	(void)state;
	assert_int_equal(wg_b64url_decode("_-8", &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\xff\xef", 2);
	free(out);
	assert_int_equal(wg_b64url_decode("a+b=", &out, &n), -1);
	assert_null(out);
	assert_int_equal(wg_b64url_decode("A", &out, &n), -1);
	assert_int_equal(wg_b64url_decode("AB", &out, &n), -1); /* stray bits */
}

/* Standard base64 with padding, and back, padded or not. */
static void
test_wg_b64_round_trip_padding(void **state)
{
	unsigned char *out;
	char *text;
	size_t n;

	(void)state;
	text = wg_b64("\xfb\xff", 2);
	assert_string_equal(text, "+/8=");
	assert_int_equal(wg_b64_decode_text(text, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\xfb\xff", 2);
	free(out);
	free(text);
	assert_int_equal(wg_b64_decode_text("+/8", &out, &n), 0);
	assert_int_equal(n, 2);
	free(out);
	assert_int_equal(wg_b64_decode_text("+/8==", &out, &n), -1);
	assert_null(out);
	assert_int_equal(wg_b64_decode_text("+/==", &out, &n), -1);
	assert_int_equal(wg_b64_decode_text("_-8=", &out, &n), -1);
}

/* Both alphabets through the shared decoder, whole groups and the rest. */
static void
test_wg_b64_decode_alphabets_and_errors(void **state)
{
	unsigned char out[16];
	size_t n, bad = 99;

	(void)state;
	assert_int_equal(wg_b64_decode("+/+/AA", 6, WG_B64_STD, out, &n,
	    &bad), WG_B64_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "\xfb\xff\xbf\x00", 4);
	assert_int_equal(wg_b64_decode("-_-_AA", 6, WG_B64_URL, out, &n,
	    &bad), WG_B64_OK);
	assert_memory_equal(out, "\xfb\xff\xbf\x00", 4);
	/* each alphabet refuses the other's two characters, where they are */
	assert_int_equal(wg_b64_decode("AAAAA-", 6, WG_B64_STD, out, &n,
	    &bad), WG_B64_BAD_CHAR);
	assert_int_equal(bad, 5);
	assert_int_equal(wg_b64_decode("AA+A", 4, WG_B64_URL, out, &n,
	    &bad), WG_B64_BAD_CHAR);
	assert_int_equal(bad, 2);
	assert_int_equal(wg_b64_decode("AAAAA", 5, WG_B64_STD, out, &n,
	    &bad), WG_B64_BAD_LEN);
	assert_int_equal(wg_b64_decode("AB", 2, WG_B64_STD, out, &n, &bad),
	    WG_B64_BAD_BITS);
}

static void
test_wg_sha256_vector(void **state)
{
	unsigned char md[32];
	char hex[65];

	wg_sha256("abc", 3, md);
	wg_hex(md, sizeof(md), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

static void
test_wg_str_printable_accepts(void **state)
{
	static const char *const good[] = {
		"", "Contoso Ltd.", "Zürich", "東京", "\xf0\x9f\x98\x80",
		"\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "~",
		"\xc2\xa0",	/* NO-BREAK SPACE: the first after C1 */
		"\xed\x9f\xbf",	/* U+D7FF: the last before surrogates */
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!wg_str_printable(good[i]))
			fail_msg("good string %zu refused", i);
}

static void
test_wg_str_printable_rejects(void **state)
{
	static const char *const bad[] = {
		"a\nb", "a\tb", "\x1b[31m", "a\x7f", "\x01",
		"\x80",		/* a lone continuation byte */
		"\xc3",		/* cut short */
		"\xe6\x97",	/* cut short */
		"\xc0\x80",	/* overlong NUL */
		"\xc1\xbf",	/* overlong */
		"\xe0\x80\xaf",	/* overlong '/' */
		"\xed\xa0\x80",	/* a UTF-16 surrogate */
		"\xf0\x80\x80\xaf", /* overlong */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xf5\x80\x80\x80",
		"\xff",
		"\xc2\x9b",	/* C1 CSI: an escape to some terminals */
		"\xc2\x85",	/* C1 NEL */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wg_str_printable(bad[i]))
			fail_msg("bad string %zu accepted", i);
}

static void
test_wg_time_rfc3339_format(void **state)
{
	char buf[32];

	wg_time_rfc3339(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	wg_time_rfc3339(1795528800123LL, buf);
	assert_string_equal(buf, "2026-11-24T14:00:00.123Z");
	wg_time_rfc3339(-1, buf); /* before the epoch: still 0..999 ms */
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void
test_wg_escape_log_escapes(void **state)
{
	char out[64];

	wg_escape_log("a\"b\\\n\x1b", 6, out, sizeof(out));
	assert_string_equal(out, "a\\x22b\\x5c\\x0a\\x1b");
	/* A NUL inside the input is shown, not taken as the end. */
	wg_escape_log("a\0b", 3, out, sizeof(out));
	assert_string_equal(out, "a\\x00b");
}

static void
test_wg_escape_log_truncates(void **state)
{
	char out[8];

	memset(out, 'X', sizeof(out));
	wg_escape_log("abcdefghijklmnop", 16, out, sizeof(out));
	assert_true(strlen(out) < sizeof(out));
	assert_int_equal(strncmp(out, "abc", 3), 0);
	wg_escape_log("\n\n\n\n", 4, out, sizeof(out));
	assert_true(strlen(out) < sizeof(out));
}

static void
test_wg_random_fills(void **state)
{
	unsigned char a[32], b[32];

	assert_int_equal(wg_random(a, sizeof(a)), WG_OK);
	assert_int_equal(wg_random(b, sizeof(b)), WG_OK);
	assert_memory_not_equal(a, b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg_uuid_format),
		cmocka_unit_test(test_wg_is_uuid_rejects),
		cmocka_unit_test(test_wg_b64url_vectors),
		cmocka_unit_test(test_wg_hex_vectors),
		cmocka_unit_test(test_wg_hex_decode_round_trip),
		cmocka_unit_test(test_wg_b64url_decode_strict),
		cmocka_unit_test(test_wg_b64_decode_alphabets_and_errors),
		cmocka_unit_test(test_wg_sha256_vector),
		cmocka_unit_test(test_wg_str_printable_accepts),
		cmocka_unit_test(test_wg_str_printable_rejects),
		cmocka_unit_test(test_wg_time_rfc3339_format),
		cmocka_unit_test(test_wg_escape_log_escapes),
		cmocka_unit_test(test_wg_escape_log_truncates),
		cmocka_unit_test(test_wg_random_fills),
		cmocka_unit_test(test_wg_b64_round_trip_padding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
