/*
 * Strict JSON input: what every request parser stands on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/xmalloc.h"

static enum wg_err
load(const char *text, json_t **out)
{
	char why[256] = "";
	enum wg_err rc;

	rc = wg_json_load_object(text, strlen(text), out, why, sizeof(why));
	if (rc != WG_OK) {
		assert_null(*out);
		assert_true(why[0] != '\0');
	}
	return rc;
}

/* {"a":[[...[]...]]} with depth arrays: the innermost at that depth. */
static char *
nested(int depth)
{
	size_t len = 6 + 2 * (size_t)depth + 2, off = 0;
	char *s = xmalloc(len);
	int i;

	memcpy(s, "{\"a\":", 5);
	off = 5;
	for (i = 0; i < depth; i++)
		s[off++] = '[';
	for (i = 0; i < depth; i++)
		s[off++] = ']';
	s[off++] = '}';
	s[off] = '\0';
	return s;
}

static void
test_wg_json_load_object_valid(void **state)
{
	json_t *o = NULL;

	assert_int_equal(load("{\"name\":\"Contoso\",\"n\":[1,2]}", &o), WG_OK);
	assert_true(json_is_object(o));
	json_decref(o);
}

static void
test_wg_json_load_object_malformed(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":}", "{\"a\":1,}", "{'a':1}", "{\"a\":1} x",
		"nul", "{\"name\":\"a\\u0000b\"}", /* NUL inside a string */
	};
	json_t *o = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (load(bad[i], &o) != WG_E_JSON_MALFORMED)
			fail_msg("'%s' was not refused as malformed", bad[i]);
}

static void
test_wg_json_load_object_duplicate_key(void **state)
{
	json_t *o = NULL;

	assert_int_equal(load("{\"name\":\"a\",\"name\":\"b\"}", &o),
	    WG_E_JSON_MALFORMED);
	assert_int_equal(load("{\"x\":{\"k\":1,\"k\":1}}", &o),
	    WG_E_JSON_MALFORMED);
}

static void
test_wg_json_load_object_not_object(void **state)
{
	json_t *o = NULL;

	assert_int_equal(load("[1,2]", &o), WG_E_JSON_FIELD);
	assert_int_equal(load("[]", &o), WG_E_JSON_FIELD);
}

static void
test_wg_json_load_object_too_deep(void **state)
{
	json_t *o = NULL;
	char *s;

	s = nested(WG_JSON_MAX_DEPTH); /* the deepest allowed */
	assert_int_equal(load(s, &o), WG_OK);
	json_decref(o);
	free(s);
	s = nested(WG_JSON_MAX_DEPTH + 1);
	assert_int_equal(load(s, &o), WG_E_JSON_MALFORMED);
	free(s);
}

/* Reads field name of the object text; got is its value or "<NULL>". */
static enum wg_err
field(const char *text, const char *name, int required, size_t max,
    char got[256])
{
	const char *s = "unset";
	char why[256] = "";
	json_t *o = NULL;
	enum wg_err rc;

	assert_int_equal(load(text, &o), WG_OK);
	rc = wg_json_string(o, name, required, max, &s, why, sizeof(why));
	if (rc != WG_OK) {
		assert_null(s);
		assert_non_null(strstr(why, name)); /* names the field */
	}
	snprintf(got, 256, "%s", s != NULL ? s : "<NULL>");
	json_decref(o);
	return rc;
}

static void
test_wg_json_string_valid(void **state)
{
	char s[256];

	assert_int_equal(field("{\"name\":\"Contoso\"}", "name", 1, 64, s),
	    WG_OK);
	assert_string_equal(s, "Contoso");
	assert_int_equal(field("{\"name\":\"Zürich 東京\"}", "name", 1, 64,
	    s), WG_OK);
	assert_string_equal(s, "Zürich 東京");
}

static void
test_wg_json_string_missing(void **state)
{
	char s[256];

	assert_int_equal(field("{}", "name", 1, 64, s), WG_E_JSON_FIELD);
	assert_int_equal(field("{\"name\":null}", "name", 1, 64, s),
	    WG_E_JSON_FIELD);
	/* Optional: absent and null are fine and give NULL. */
	assert_int_equal(field("{}", "name", 0, 64, s), WG_OK);
	assert_string_equal(s, "<NULL>");
	assert_int_equal(field("{\"name\":null}", "name", 0, 64, s), WG_OK);
	assert_string_equal(s, "<NULL>");
}

static void
test_wg_json_string_wrong_type(void **state)
{
	char s[256];

	assert_int_equal(field("{\"name\":1}", "name", 1, 64, s),
	    WG_E_JSON_FIELD);
	assert_int_equal(field("{\"name\":[\"a\"]}", "name", 0, 64, s),
	    WG_E_JSON_FIELD);
	assert_int_equal(field("{\"name\":true}", "name", 1, 64, s),
	    WG_E_JSON_FIELD);
}

static void
test_wg_json_string_too_long(void **state)
{
	char s[256];

	assert_int_equal(field("{\"name\":\"abcd\"}", "name", 1, 4, s),
	    WG_OK);
	assert_int_equal(field("{\"name\":\"abcde\"}", "name", 1, 4, s),
	    WG_E_JSON_FIELD);
	/* The limit is in bytes: "üüü" is 3 characters but 6 bytes. */
	assert_int_equal(field("{\"name\":\"üüü\"}", "name", 1, 4, s),
	    WG_E_JSON_FIELD);
	assert_int_equal(field("{\"name\":\"\"}", "name", 1, 4, s),
	    WG_E_JSON_FIELD);
}

static void
test_wg_json_string_control_chars(void **state)
{
	static const char *const bad[] = {
		"{\"name\":\"a\\nb\"}", "{\"name\":\"a\\tb\"}",
		"{\"name\":\"\\u001b[31m\"}", "{\"name\":\"a\\u007fb\"}",
	};
	char s[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (field(bad[i], "name", 1, 64, s) != WG_E_JSON_FIELD)
			fail_msg("%s was accepted", bad[i]);
}

static void
test_wg_json_only_allowed(void **state)
{
	static const char *const allowed[] = { "name", "groupTag", NULL };
	json_t *o = NULL;
	char why[128] = "";

	assert_int_equal(load("{\"name\":\"a\",\"groupTag\":\"b\"}", &o),
	    WG_OK);
	assert_int_equal(wg_json_only(o, allowed, why, sizeof(why)), WG_OK);
	json_decref(o);
	assert_int_equal(load("{}", &o), WG_OK);
	assert_int_equal(wg_json_only(o, allowed, why, sizeof(why)), WG_OK);
	json_decref(o);
}

static void
test_wg_json_only_unknown(void **state)
{
	static const char *const allowed[] = { "name", NULL };
	json_t *o = NULL;
	char why[128] = "";

	assert_int_equal(load("{\"name\":\"a\",\"nmae\":\"b\"}", &o), WG_OK);
	assert_int_equal(wg_json_only(o, allowed, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	assert_non_null(strstr(why, "nmae"));
	json_decref(o);
	/* An unknown key with control characters is escaped in why. */
	assert_int_equal(load("{\"a\\u001bb\":1}", &o), WG_OK);
	assert_int_equal(wg_json_only(o, allowed, why, sizeof(why)),
	    WG_E_JSON_FIELD);
	assert_null(strchr(why, 0x1b));
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg_json_load_object_valid),
		cmocka_unit_test(test_wg_json_load_object_malformed),
		cmocka_unit_test(test_wg_json_load_object_duplicate_key),
		cmocka_unit_test(test_wg_json_load_object_not_object),
		cmocka_unit_test(test_wg_json_load_object_too_deep),
		cmocka_unit_test(test_wg_json_string_valid),
		cmocka_unit_test(test_wg_json_string_missing),
		cmocka_unit_test(test_wg_json_string_wrong_type),
		cmocka_unit_test(test_wg_json_string_too_long),
		cmocka_unit_test(test_wg_json_string_control_chars),
		cmocka_unit_test(test_wg_json_only_allowed),
		cmocka_unit_test(test_wg_json_only_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
