/*
 * The error catalog: every form a person types resolves, and every entry
 * is complete and unique (docs/errors.md and `explain` rely on it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common/errors.h"

static void
expect_lookup(const char *text, enum wg_err want)
{
	const struct wg_err_info *e = wg_err_lookup(text);

	if (e == NULL)
		fail_msg("'%s' did not resolve", text);
	assert_int_equal(e->err, want);
}

static void
test_wg_err_lookup_hex_prefixed(void **state)
{
	expect_lookup("0x80180014", WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	expect_lookup("0X80180014", WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	expect_lookup("0xA0570009", WG_E_AUTH_INVALID);
}

static void
test_wg_err_lookup_hex_lowercase(void **state)
{
	expect_lookup("0x801c03f3", WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND);
	expect_lookup("0xa0570009", WG_E_AUTH_INVALID);
	expect_lookup("0x800705b4", WG_E_TIMEOUT);
}

static void
test_wg_err_lookup_hex_unprefixed(void **state)
{
	expect_lookup("80180014", WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	expect_lookup("801c03f3", WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND);
	expect_lookup("A0570302", WG_E_NET_CONNECT);
}

static void
test_wg_err_lookup_dds_decimal(void **state)
{
	expect_lookup("801", WG_E_DDS_INVALID_REQUEST);
	expect_lookup("806", WG_E_DDS_ALREADY_ASSIGNED);
	expect_lookup("814", WG_E_DDS_DUPLICATED);
}

static void
test_wg_err_lookup_decimal_hresult(void **state)
{
	/* 0x80180014 as Windows logs print it, signed and unsigned. */
	expect_lookup("-2145910764", WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	expect_lookup("2149056532", WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	/* 0x800705B4 */
	expect_lookup("-2147023436", WG_E_TIMEOUT);
}

static void
test_wg_err_lookup_name_any_case(void **state)
{
	expect_lookup("MENROLL_E_DEVICENOTSUPPORTED",
	    WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	expect_lookup("menroll_e_devicenotsupported",
	    WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	expect_lookup("ztddevicealreadyassigned", WG_E_DDS_ALREADY_ASSIGNED);
	expect_lookup("ZtdDeviceAlreadyAssigned", WG_E_DDS_ALREADY_ASSIGNED);
	expect_lookup("wg_e_auth_invalid", WG_E_AUTH_INVALID);
}

static void
test_wg_err_lookup_unknown(void **state)
{
	static const char *const bad[] = {
		"", "0x", "0x12345678", "12345678", "999", "0", "-1",
		"nosuch", "0x801800140", "0x8018001G", "806 ", " 806",
		"806x", "-99999999999", "99999999999", "4294967296",
		"-2147483649", "+806", "WG_OK", "0x00000000",
	};
	size_t i;

	assert_null(wg_err_lookup(NULL));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wg_err_lookup(bad[i]) != NULL)
			fail_msg("'%s' resolved but should not", bad[i]);
}

static void
test_wg_err_code_str_forms(void **state)
{
	char buf[16];

	assert_string_equal(wg_err_code_str(WG_E_DDS_ALREADY_ASSIGNED, buf,
	    sizeof(buf)), "806");
	assert_string_equal(wg_err_code_str(WG_E_MENROLL_DEVICE_NOT_SUPPORTED,
	    buf, sizeof(buf)), "0x80180014");
	assert_string_equal(wg_err_code_str(WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND,
	    buf, sizeof(buf)), "0x801C03F3");
	assert_string_equal(wg_err_code_str(WG_E_AUTH_INVALID, buf,
	    sizeof(buf)), "0xA0570009");
	/* A short buffer is cut, never overrun. */
	wg_err_code_str(WG_E_AUTH_INVALID, buf, 5);
	assert_string_equal(buf, "0xA0");
}

static void
test_wg_err_info_every_entry_complete(void **state)
{
	const struct wg_err_info *e;
	int i;

	assert_true(wg_err_count() > 0);
	assert_int_equal(wg_err_count(), WG_E_MAX - 1);
	for (i = 1; i <= wg_err_count(); i++) {
		e = wg_err_info((enum wg_err)i);
		assert_int_equal(e->err, i);
		assert_true(e->code != 0);
		if (e->name[0] == '\0' || e->meaning[0] == '\0' ||
		    e->causes[0] == '\0' || e->remedy[0] == '\0')
			fail_msg("entry %d (%s) has an empty column", i,
			    e->name);
		assert_true((unsigned)e->phase < WG_PHASE_MAX);
		assert_true(e->http_status == 0 ||
		    (e->http_status >= 400 && e->http_status <= 599));
	}
}

static void
test_wg_err_info_codes_and_names_unique(void **state)
{
	const struct wg_err_info *a, *b;
	int i, j;

	for (i = 1; i <= wg_err_count(); i++) {
		a = wg_err_info((enum wg_err)i);
		for (j = i + 1; j <= wg_err_count(); j++) {
			b = wg_err_info((enum wg_err)j);
			if (a->code == b->code)
				fail_msg("%s and %s share code 0x%08X", a->name,
				    b->name, (unsigned)a->code);
			/* Names are looked up case-insensitively. */
			if (strcasecmp(a->name, b->name) == 0)
				fail_msg("name %s appears twice", a->name);
		}
	}
}

static void
test_wg_err_lookup_every_entry_round_trips(void **state)
{
	const struct wg_err_info *e;
	char code[16];
	int i;

	for (i = 1; i <= wg_err_count(); i++) {
		e = wg_err_info((enum wg_err)i);
		wg_err_code_str(e->err, code, sizeof(code));
		assert_ptr_equal(wg_err_lookup(code), e);
		assert_ptr_equal(wg_err_lookup(e->name), e);
	}
}

static void
test_wg_err_info_out_of_range(void **state)
{
	assert_int_equal(wg_err_info(WG_E_MAX)->err, WG_E_INTERNAL);
	assert_int_equal(wg_err_info((enum wg_err)-1)->err, WG_E_INTERNAL);
	assert_int_equal(wg_err_http_status(WG_E_NET_DNS), 500);
	assert_int_equal(wg_err_http_status(WG_E_AUTH_INVALID), 401);
}

static void
test_wg_phase_title_every_phase(void **state)
{
	int i;

	for (i = 0; i < WG_PHASE_MAX; i++) {
		assert_true(wg_phase_title((enum wg_phase)i)[0] != '\0');
		assert_true(wg_phase_name((enum wg_phase)i)[0] != '\0');
	}
	assert_string_equal(wg_phase_title(WG_PHASE_SECURING_HARDWARE),
	    "Securing your hardware");
	assert_string_equal(wg_phase_name(WG_PHASE_MAX), "general");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg_err_lookup_hex_prefixed),
		cmocka_unit_test(test_wg_err_lookup_hex_lowercase),
		cmocka_unit_test(test_wg_err_lookup_hex_unprefixed),
		cmocka_unit_test(test_wg_err_lookup_dds_decimal),
		cmocka_unit_test(test_wg_err_lookup_decimal_hresult),
		cmocka_unit_test(test_wg_err_lookup_name_any_case),
		cmocka_unit_test(test_wg_err_lookup_unknown),
		cmocka_unit_test(test_wg_err_code_str_forms),
		cmocka_unit_test(test_wg_err_info_every_entry_complete),
		cmocka_unit_test(test_wg_err_info_codes_and_names_unique),
		cmocka_unit_test(test_wg_err_lookup_every_entry_round_trips),
		cmocka_unit_test(test_wg_err_info_out_of_range),
		cmocka_unit_test(test_wg_phase_title_every_phase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
