/*
 * A deployment profile's words: the OOBE flags, the enumerations and the
 * device name template with Windows' rules (at most 15 letters, digits
 * and '-', not all digits; %SERIAL% and %RAND:n%).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/profile.h"
#include "common/util.h"

/* ---- a random source the tests control ---- */

static const unsigned char *rnd_bytes;
static size_t rnd_len, rnd_off;

/* Gives the bytes set by rnd_set(), then fails. */
static enum wg_err
rnd_script(void *buf, size_t n)
{
	if (n > rnd_len - rnd_off)
		return WG_E_CRYPTO;
	memcpy(buf, rnd_bytes + rnd_off, n);
	rnd_off += n;
	return WG_OK;
}

static void
rnd_set(const unsigned char *b, size_t n)
{
	rnd_bytes = b;
	rnd_len = n;
	rnd_off = 0;
}

/* Bytes 0, 1, 2, …: digits "0123456789012…". */
static const unsigned char counting[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	11, 12, 13, 14, 15, 16, 17, 18, 19 };

/* Expands tmpl with serial and the counting source; returns the code. */
static enum wg_err
expand(const char *tmpl, const char *serial, char out[16], char *why,
    size_t whylen)
{
	rnd_set(counting, sizeof(counting));
	why[0] = '\0';
	return wg_name_template_expand(tmpl, serial, rnd_script, out, why,
	    whylen);
}

/* Asserts tmpl is refused with a message holding want. */
static void
check_refused(const char *tmpl, const char *want)
{
	char why[256] = "";

	if (wg_name_template_check(tmpl, why, sizeof(why)) != -1)
		fail_msg("template '%s' accepted", tmpl);
	if (strstr(why, want) == NULL)
		fail_msg("template '%s': '%s' does not say '%s'", tmpl, why,
		    want);
}

/* ---- OOBE flags ---- */

static void
test_wg_oobe_bit_names(void **state)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} want[] = {
		{ "userNotLocalAdmin", 2 },
		{ "skipExpressSettings", 4 },
		{ "skipOemRegistration", 8 },
		{ "skipEula", 16 },
		{ "skipKeyboardSelection", 1024 },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(wg_oobe_bit(want[i].name), want[i].bit);
		assert_string_equal(wg_oobe_name(want[i].bit), want[i].name);
	}
	assert_int_equal(wg_oobe_supported(), 2 | 4 | 8 | 16 | 1024);
}

static void
test_wg_oobe_bit_unknown(void **state)
{
	assert_int_equal(wg_oobe_bit("skipeula"), 0); /* exact case */
	assert_int_equal(wg_oobe_bit("SkipEula"), 0);
	assert_int_equal(wg_oobe_bit(""), 0);
	assert_int_equal(wg_oobe_bit("skipEula,"), 0);
	assert_null(wg_oobe_name(0));
	assert_null(wg_oobe_name(1));	/* a Windows bit we do not offer */
	assert_null(wg_oobe_name(6));	/* two bits */
	assert_null(wg_oobe_name(32));
}

static void
test_wg_oobe_flag_at_iterates_in_bit_order(void **state)
{
	const struct wg_oobe_flag *f;
	uint32_t last = 0, mask = 0;
	char list[256];
	size_t i;

	for (i = 0; (f = wg_oobe_flag_at(i)) != NULL; i++) {
		assert_true(f->bit > last);
		assert_int_equal(wg_oobe_bit(f->name), f->bit);
		last = f->bit;
		mask |= f->bit;
	}
	assert_int_equal(i, 5);
	assert_int_equal(mask, wg_oobe_supported());
	wg_oobe_list(list, sizeof(list));
	assert_string_equal(list, "userNotLocalAdmin, skipExpressSettings, "
	    "skipOemRegistration, skipEula, skipKeyboardSelection");
	wg_oobe_list(list, 10); /* cut, still terminated */
	assert_true(strlen(list) < 10);
}

/* ---- enumerations ---- */

static void
test_wg_profile_enum_parse_api_and_cli(void **state)
{
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE, "userDriven",
	    0), WG_MODE_USER_DRIVEN);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE,
	    "selfDeploying", 0), WG_MODE_SELF_DEPLOYING);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE,
	    "preProvisioning", 0), WG_MODE_PRE_PROVISIONING);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE,
	    "pre-provisioning", 1), WG_MODE_PRE_PROVISIONING);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE,
	    "user-driven", 1), WG_MODE_USER_DRIVEN);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_JOIN, "hybrid", 0),
	    WG_JOIN_HYBRID);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_JOIN, "cloud", 1),
	    WG_JOIN_CLOUD);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_REBOOT, "tolerant",
	    0), WG_REBOOT_TOLERANT);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_REBOOT, "strict",
	    1), WG_REBOOT_STRICT);
	assert_string_equal(wg_profile_enum_name(WG_PROFILE_MODE,
	    WG_MODE_SELF_DEPLOYING, 1), "self-deploying");
	assert_string_equal(wg_profile_enum_name(WG_PROFILE_MODE,
	    WG_MODE_SELF_DEPLOYING, 0), "selfDeploying");
}

static void
test_wg_profile_enum_parse_refuses(void **state)
{
	/* each spelling only where it belongs */
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE,
	    "pre-provisioning", 0), -1);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE,
	    "preProvisioning", 1), -1);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE, "userdriven",
	    0), -1);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_MODE, "", 0), -1);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_JOIN, "strict", 0),
	    -1);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_REBOOT, "Strict",
	    0), -1);
	assert_int_equal(wg_profile_enum_parse(WG_PROFILE_ENUM_MAX, "cloud",
	    0), -1);
	assert_null(wg_profile_enum_name(WG_PROFILE_JOIN, WG_JOIN_MAX, 0));
	assert_null(wg_profile_enum_name(WG_PROFILE_JOIN, -1, 0));
	assert_null(wg_profile_enum_name(WG_PROFILE_ENUM_MAX, 0, 0));
}

static void
test_wg_profile_enum_list_words(void **state)
{
	char buf[128];

	wg_profile_enum_list(WG_PROFILE_MODE, 0, buf, sizeof(buf));
	assert_string_equal(buf, "userDriven, selfDeploying or "
	    "preProvisioning");
	wg_profile_enum_list(WG_PROFILE_MODE, 1, buf, sizeof(buf));
	assert_string_equal(buf, "user-driven, self-deploying or "
	    "pre-provisioning");
	wg_profile_enum_list(WG_PROFILE_JOIN, 0, buf, sizeof(buf));
	assert_string_equal(buf, "cloud or hybrid");
	wg_profile_enum_list(WG_PROFILE_REBOOT, 0, buf, sizeof(buf));
	assert_string_equal(buf, "strict or tolerant");
}

/* ---- device name template: check ---- */

static void
test_wg_name_template_check_valid(void **state)
{
	static const char *const good[] = {
		"",			/* no name */
		"%SERIAL%",
		"CONTOSO-%SERIAL%",
		"%SERIAL%-LAB",
		"LAB-%RAND:4%",
		"%RAND:3%-%RAND:3%",
		"A%RAND:14%",		/* 15 exactly */
		"ABCDEFGHIJKLMNO",	/* 15 fixed characters */
		"X%RAND:13%%SERIAL%",	/* one character left for serial */
		"12-34",
		"%RAND:05%-x",		/* a leading zero */
	};
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (wg_name_template_check(good[i], why, sizeof(why)) != 0)
			fail_msg("'%s' refused: %s", good[i], why);
}

static void
test_wg_name_template_check_bad_character(void **state)
{
	check_refused("LAB_%SERIAL%", "character '_' at position 4");
	check_refused("LAB %RAND:3%", "character ' ' at position 4");
	check_refused("A.B", "character '.' at position 2");
	check_refused("caf\xc3\xa9", "byte 0xC3 at position 4");
	check_refused("A\tB", "byte 0x09 at position 2");
}

static void
test_wg_name_template_check_unknown_macro(void **state)
{
	check_refused("PC-%SERIALNUMBER%", "unknown macro %SERIALNUMBER% at "
	    "position 4");
	check_refused("PC-%serial%", "unknown macro %serial% at position 4");
	check_refused("PC-%RAND%", "unknown macro %RAND% at position 4");
	check_refused("%%", "unknown macro %% at position 1");
}

static void
test_wg_name_template_check_rand_range(void **state)
{
	check_refused("PC-%RAND:0%", "%RAND:0% at position 4: n must be a "
	    "number from 1 to 15");
	check_refused("P%RAND:16%", "%RAND:16% at position 2: n must be");
	check_refused("P%RAND:%", "%RAND:% at position 2: n must be");
	check_refused("P%RAND:x%", "%RAND:x% at position 2: n must be");
	check_refused("P%RAND:-1%", "%RAND:-1% at position 2: n must be");
	check_refused("P%RAND:100%", "%RAND:100% at position 2: n must be");
	check_refused("P%RAND: 3%", "%RAND: 3% at position 2: n must be");
}

static void
test_wg_name_template_check_unterminated(void **state)
{
	check_refused("PC-%SERIAL", "the '%' at position 4 is not closed");
	check_refused("PC%", "the '%' at position 3 is not closed");
	check_refused("%SERIAL%%", "the '%' at position 9 is not closed");
}

static void
test_wg_name_template_check_length(void **state)
{
	char big[WG_NAME_TEMPLATE_LEN_MAX + 2];

	check_refused("ABCDEFGHIJKLMNOP", "the fixed part (16 characters) "
	    "plus the %RAND% digits (0) make 16 characters");
	check_refused("ABCDEF-%RAND:10%", "the fixed part (7 characters) plus "
	    "the %RAND% digits (10) make 17 characters");
	check_refused("AB%RAND:13%%SERIAL%", "make 15 characters, leaving "
	    "none for %SERIAL%");
	check_refused("%RAND:8%%RAND:8%", "plus the %RAND% digits (16)");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	check_refused(big, "the template is 65 bytes long; at most 64");
}

static void
test_wg_name_template_check_all_digits(void **state)
{
	check_refused("12345", "only digits");
	check_refused("%RAND:5%", "only digits");
	check_refused("12%RAND:5%", "only digits");
}

static void
test_wg_name_template_check_serial_twice(void **state)
{
	check_refused("%SERIAL%-%SERIAL%", "%SERIAL% at position 10 is the "
	    "second one");
}

/* ---- device name template: expansion ---- */

static void
test_wg_name_template_expand_serial(void **state)
{
	char out[16], why[256];

	assert_int_equal(expand("%SERIAL%", "PF1ABC23", out, why,
	    sizeof(why)), WG_OK);
	assert_string_equal(out, "PF1ABC23");
	assert_int_equal(expand("LAB-%SERIAL%", "PF1ABC23", out, why,
	    sizeof(why)), WG_OK);
	assert_string_equal(out, "LAB-PF1ABC23");
	assert_int_equal(expand("", "PF1ABC23", out, why, sizeof(why)), WG_OK);
	assert_string_equal(out, "");
	assert_int_equal(expand("KIOSK", "PF1ABC23", out, why, sizeof(why)),
	    WG_OK);
	assert_string_equal(out, "KIOSK");
}

static void
test_wg_name_template_expand_serial_truncated(void **state)
{
	char out[16], why[256];

	/* a VM's serial: cut at its end so the whole name is 15 */
	assert_int_equal(expand("CONTOSO-%SERIAL%",
	    "VMware-56 4d 1a 2b 3c 4d", out, why, sizeof(why)), WG_OK);
	assert_string_equal(out, "CONTOSO-VMware-");
	assert_int_equal(strlen(out), 15);
	assert_int_equal(expand("%SERIAL%", "0123456789ABCDEFGHIJ", out, why,
	    sizeof(why)), WG_OK);
	assert_string_equal(out, "0123456789ABCDE");
	/* the serial gets what the fixed part and %RAND% leave */
	assert_int_equal(expand("%SERIAL%-%RAND:4%", "ABCDEFGHIJKLMNOP", out,
	    why, sizeof(why)), WG_OK);
	assert_string_equal(out, "ABCDEFGHIJ-0123");
}

static void
test_wg_name_template_expand_serial_dropped_chars(void **state)
{
	char out[16], why[256];

	assert_int_equal(expand("PC-%SERIAL%", "AB_12.c d/\xc3\xa9-9", out,
	    why, sizeof(why)), WG_OK);
	assert_string_equal(out, "PC-AB12cd-9");
	/* dropped characters do not count against the 15 */
	assert_int_equal(expand("%SERIAL%", "A.B.C.D.E.F.G.H.I.J.K.L.M.N.O.P",
	    out, why, sizeof(why)), WG_OK);
	assert_string_equal(out, "ABCDEFGHIJKLMNO");
}

static void
test_wg_name_template_expand_rand(void **state)
{
	static const unsigned char rejects[] = { 250, 255, 7, 251, 19 };
	char out[16], why[256];

	assert_int_equal(expand("LAB-%RAND:4%", "X", out, why, sizeof(why)),
	    WG_OK);
	assert_string_equal(out, "LAB-0123");
	assert_int_equal(expand("%RAND:3%-%RAND:3%", "X", out, why,
	    sizeof(why)), WG_OK);
	assert_string_equal(out, "012-345");
	assert_int_equal(expand("A%RAND:14%", "X", out, why, sizeof(why)),
	    WG_OK);
	assert_string_equal(out, "A01234567890123"); /* exactly 15 */
	/* bytes of 250 and up are drawn again: 0-9 stay equally likely */
	rnd_set(rejects, sizeof(rejects));
	assert_int_equal(wg_name_template_expand("R%RAND:2%", "", rnd_script,
	    out, why, sizeof(why)), WG_OK);
	assert_string_equal(out, "R79");
}

static void
test_wg_name_template_expand_rand_source_fails(void **state)
{
	static const unsigned char two[2] = { 0 };
	unsigned char always_high[600];
	char out[16], why[256];

	rnd_set(two, sizeof(two)); /* two bytes where four are needed */
	assert_int_equal(wg_name_template_expand("P%RAND:4%", "", rnd_script,
	    out, why, sizeof(why)), WG_E_CRYPTO);
	assert_string_equal(out, "");
	assert_non_null(strstr(why, "random source failed"));
	/* a source that never gives a usable byte is given up on */
	memset(always_high, 0xff, sizeof(always_high));
	rnd_set(always_high, sizeof(always_high));
	assert_int_equal(wg_name_template_expand("P%RAND:4%", "", rnd_script,
	    out, why, sizeof(why)), WG_E_CRYPTO);
	assert_string_equal(out, "");
}

static void
test_wg_name_template_expand_refuses(void **state)
{
	char out[16], why[256];

	/* all digits: the serial made it so */
	assert_int_equal(expand("%SERIAL%", "123456", out, why, sizeof(why)),
	    WG_E_CONFIG);
	assert_string_equal(out, "");
	assert_non_null(strstr(why, "only digits"));
	assert_int_equal(expand("1%SERIAL%", "23", out, why, sizeof(why)),
	    WG_E_CONFIG);
	/* nothing of the serial can stand in a name: the name is empty */
	assert_int_equal(expand("%SERIAL%", "#._ /", out, why, sizeof(why)),
	    WG_E_CONFIG);
	assert_string_equal(out, "");
	assert_non_null(strstr(why, "would be empty"));
	assert_int_equal(expand("%SERIAL%", "", out, why, sizeof(why)),
	    WG_E_CONFIG);
	/* a template that fails the check is not expanded */
	assert_int_equal(expand("PC_%SERIAL%", "ABC", out, why, sizeof(why)),
	    WG_E_CONFIG);
	assert_non_null(strstr(why, "character '_' at position 3"));
	assert_string_equal(out, "");
	/* a serial with a letter rescues digits-only fixed parts */
	assert_int_equal(expand("12%SERIAL%", "3a", out, why, sizeof(why)),
	    WG_OK);
	assert_string_equal(out, "123a");
}

static void
test_wg_name_template_expand_with_wg_random(void **state)
{
	char out[16], why[256];
	int i;

	for (i = 0; i < 20; i++) {
		assert_int_equal(wg_name_template_expand("LAB-%RAND:11%", "",
		    wg_random, out, why, sizeof(why)), WG_OK);
		assert_int_equal(strlen(out), 15);
		assert_int_equal(strspn(out + 4, "0123456789"), 11);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg_oobe_bit_names),
		cmocka_unit_test(test_wg_oobe_bit_unknown),
		cmocka_unit_test(test_wg_oobe_flag_at_iterates_in_bit_order),
		cmocka_unit_test(test_wg_profile_enum_parse_api_and_cli),
		cmocka_unit_test(test_wg_profile_enum_parse_refuses),
		cmocka_unit_test(test_wg_profile_enum_list_words),
		cmocka_unit_test(test_wg_name_template_check_valid),
		cmocka_unit_test(test_wg_name_template_check_bad_character),
		cmocka_unit_test(test_wg_name_template_check_unknown_macro),
		cmocka_unit_test(test_wg_name_template_check_rand_range),
		cmocka_unit_test(test_wg_name_template_check_unterminated),
		cmocka_unit_test(test_wg_name_template_check_length),
		cmocka_unit_test(test_wg_name_template_check_all_digits),
		cmocka_unit_test(test_wg_name_template_check_serial_twice),
		cmocka_unit_test(test_wg_name_template_expand_serial),
		cmocka_unit_test(test_wg_name_template_expand_serial_truncated),
		cmocka_unit_test(
		    test_wg_name_template_expand_serial_dropped_chars),
		cmocka_unit_test(test_wg_name_template_expand_rand),
		cmocka_unit_test(
		    test_wg_name_template_expand_rand_source_fails),
		cmocka_unit_test(test_wg_name_template_expand_refuses),
		cmocka_unit_test(test_wg_name_template_expand_with_wg_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
