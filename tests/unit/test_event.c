/*
 * Event records: what wg_event_to_json writes, wg_event_parse reads back
 * exactly, and the parser refuses anything else; the log file holds one
 * line per event and is private to its owner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/event.h"
#include "common/xmalloc.h"

/* A line shaped like wg_event_to_json's, with one field replaced. */
#define LINE_HEAD                                                  \
	"{\"time\":\"2026-11-24T14:00:00.123Z\",\"channel\":\"tpm\"," \
	"\"eventId\":86,\"level\":\"error\","
#define LINE_TAIL "\"phase\":\"securing_hardware\",\"code\":\"0x800705B4\"," \
	"\"name\":\"ERROR_TIMEOUT\",\"message\":\"m\",\"details\":{}}"

static enum wg_err
parse(const char *line, struct wg_event **ev)
{
	char why[256] = "";
	enum wg_err rc;

	rc = wg_event_parse(line, strlen(line), ev, why, sizeof(why));
	if (rc != WG_OK) {
		assert_null(*ev);
		assert_true(why[0] != '\0'); /* a failure always says why */
	}
	return rc;
}

static void
test_wg_event_to_json_parse_round_trip(void **state)
{
	struct wg_event *ev, *back = NULL;
	char *line;

	ev = wg_event_new("autopilot", 172, WG_LEVEL_ERROR, WG_PHASE_MDM,
	    WG_E_MENROLL_DEVICE_NOT_SUPPORTED, "enrollment %s", "refused");
	ev->time_ms = 1795528800123LL;
	wg_event_set_correlation(ev, "7d1c1f7e-5b7e-4a8e-9c11-0f9d2c3b4a5e");
	wg_event_add(ev, "serial", "%s", "SN-1234");
	wg_event_add(ev, "attempt", "%d", 3);
	wg_event_add(ev, "text", "%s", "quote \" and ü");
	line = wg_event_to_json(ev);
	assert_null(strchr(line, '\n'));
	assert_int_equal(parse(line, &back), WG_OK);
	assert_int_equal(back->time_ms, ev->time_ms);
	assert_string_equal(back->channel, "autopilot");
	assert_int_equal(back->event_id, 172);
	assert_int_equal(back->level, WG_LEVEL_ERROR);
	assert_int_equal(back->phase, WG_PHASE_MDM);
	assert_int_equal(back->err, WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	assert_string_equal(back->message, "enrollment refused");
	assert_string_equal(back->correlation_id, ev->correlation_id);
	assert_int_equal(back->ndetails, 3);
	assert_string_equal(wg_event_get(back, "serial"), "SN-1234");
	assert_string_equal(wg_event_get(back, "attempt"), "3");
	assert_string_equal(wg_event_get(back, "text"), "quote \" and ü");
	assert_null(wg_event_get(back, "absent"));
	free(line);
	wg_event_free(ev);
	wg_event_free(back);
}

static void
test_wg_event_to_json_parse_success_without_correlation(void **state)
{
	struct wg_event *ev, *back = NULL;
	char *line;

	ev = wg_event_new("tpm", 1, WG_LEVEL_INFO, WG_PHASE_NONE, WG_OK,
	    "ok");
	line = wg_event_to_json(ev);
	assert_non_null(strstr(line, "\"code\":\"0x00000000\""));
	assert_int_equal(parse(line, &back), WG_OK);
	assert_int_equal(back->err, WG_OK);
	assert_null(back->correlation_id);
	assert_int_equal(back->ndetails, 0);
	free(line);
	wg_event_free(ev);
	wg_event_free(back);
}

static void
test_wg_event_parse_accepts_template(void **state)
{
	struct wg_event *ev = NULL;

	/* The fixture the rejections below are variations of is valid. */
	assert_int_equal(parse(LINE_HEAD LINE_TAIL, &ev), WG_OK);
	assert_int_equal(ev->err, WG_E_TIMEOUT);
	wg_event_free(ev);
}

static void
test_wg_event_parse_rejects_duplicate_key(void **state)
{
	struct wg_event *ev = NULL;

	assert_int_equal(parse(LINE_HEAD "\"level\":\"info\"," LINE_TAIL, &ev),
	    WG_E_JSON_MALFORMED);
}

static void
test_wg_event_parse_rejects_unknown_field(void **state)
{
	struct wg_event *ev = NULL;

	assert_int_equal(parse(LINE_HEAD "\"extra\":1," LINE_TAIL, &ev),
	    WG_E_JSON_FIELD);
}

static void
test_wg_event_parse_rejects_bad_time(void **state)
{
	static const char *const times[] = {
		"yesterday", "2026-13-24T14:00:00Z", "2026-11-24T14:00:00",
		"2026-11-24T14:00:00.12Z", "2026-11-24T14:00:00.1234Z",
		"2026-11-24T14:00:00.1a2Z", "2026-11-24T14:00:00+01:00",
		"2026-11-24 14:00:00Z", "",
	};
	struct wg_event *ev = NULL;
	char line[512];
	size_t i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		snprintf(line, sizeof(line), "{\"time\":\"%s\",\"channel\":"
		    "\"tpm\",\"eventId\":86,\"level\":\"error\"," LINE_TAIL,
		    times[i]);
		if (parse(line, &ev) != WG_E_JSON_FIELD)
			fail_msg("time \"%s\" was accepted", times[i]);
	}
}

static void
test_wg_event_parse_rejects_unknown_code(void **state)
{
	struct wg_event *ev = NULL;

	assert_int_equal(parse(LINE_HEAD "\"phase\":\"mdm\",\"code\":"
	    "\"0x12345678\",\"name\":\"X\",\"message\":\"m\",\"details\":{}}",
	    &ev), WG_E_JSON_FIELD);
}

static void
test_wg_event_parse_rejects_unknown_level_and_phase(void **state)
{
	struct wg_event *ev = NULL;

	assert_int_equal(parse("{\"time\":\"2026-11-24T14:00:00Z\",\"channel\":"
	    "\"tpm\",\"eventId\":1,\"level\":\"loud\"," LINE_TAIL, &ev),
	    WG_E_JSON_FIELD);
	assert_int_equal(parse(LINE_HEAD "\"phase\":\"lunch\",\"code\":"
	    "\"806\",\"name\":\"x\",\"message\":\"m\",\"details\":{}}", &ev),
	    WG_E_JSON_FIELD);
}

static void
test_wg_event_parse_rejects_bad_details(void **state)
{
	struct wg_event *ev = NULL;

	assert_int_equal(parse(LINE_HEAD "\"phase\":\"mdm\",\"code\":\"806\","
	    "\"name\":\"x\",\"message\":\"m\",\"details\":{\"n\":1}}", &ev),
	    WG_E_JSON_FIELD);
	assert_int_equal(parse(LINE_HEAD "\"phase\":\"mdm\",\"code\":\"806\","
	    "\"name\":\"x\",\"message\":\"m\",\"details\":"
	    "{\"k\":\"a\\u0007\"}}", &ev), WG_E_JSON_FIELD);
}

static void
test_wg_event_parse_rejects_oversized_line(void **state)
{
	size_t len = WG_EVENT_MAX_LINE + 1, head = strlen(LINE_HEAD);
	struct wg_event *ev = NULL;
	char why[128];
	char *line = xmalloc(len);

	/* A well-formed start padded with spaces: refused for its size. */
	memset(line, ' ', len);
	memcpy(line, LINE_HEAD, head);
	assert_int_equal(wg_event_parse(line, len, &ev, why, sizeof(why)),
	    WG_E_BODY_TOO_LARGE);
	assert_null(ev);
	free(line);
}

static void
test_wg_event_parse_rejects_garbage(void **state)
{
	struct wg_event *ev = NULL;

	assert_int_equal(parse("not json", &ev), WG_E_JSON_MALFORMED);
	assert_int_equal(parse("[]", &ev), WG_E_JSON_FIELD);
	assert_int_equal(parse(LINE_HEAD, &ev), WG_E_JSON_MALFORMED);
}

static void
test_wg_event_add_caps_details(void **state)
{
	struct wg_event *ev;
	int i;

	ev = wg_event_new("apps", 1, WG_LEVEL_INFO, WG_PHASE_DEVICE_SETUP,
	    WG_OK, "m");
	for (i = 0; i < WG_EVENT_MAX_DETAILS + 8; i++)
		wg_event_add(ev, "k", "%d", i);
	assert_int_equal(ev->ndetails, WG_EVENT_MAX_DETAILS);
	wg_event_free(ev);
}

static void
test_wg_event_append_one_line_per_event(void **state)
{
	char dir[] = "/tmp/wg-test-event-XXXXXX", path[64], buf[8192];
	struct wg_event *ev, *back;
	struct stat st;
	mode_t old;
	size_t n, lines = 0;
	char *p, *nl;
	FILE *f;
	int i;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/autopilot.log", dir);
	old = umask(0); /* the mode must come from the code, not the umask */
	for (i = 0; i < 3; i++) {
		ev = wg_event_new("autopilot", 160 + i, WG_LEVEL_INFO,
		    WG_PHASE_PROFILE, WG_OK, "step %d", i);
		assert_int_equal(wg_event_append(ev, path), WG_OK);
		wg_event_free(ev);
	}
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_true(n > 0 && buf[n - 1] == '\n');
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1, lines++) {
		back = NULL;
		assert_int_equal(wg_event_parse(p, (size_t)(nl - p), &back,
		    path, sizeof(path)), WG_OK);
		assert_int_equal(back->event_id, 160 + (int)lines);
		wg_event_free(back);
	}
	assert_int_equal(lines, 3);
	unlink(path);
	rmdir(dir);
}

static void
test_wg_event_append_unwritable_path(void **state)
{
	struct wg_event *ev;

	ev = wg_event_new("tpm", 1, WG_LEVEL_INFO, WG_PHASE_NONE, WG_OK, "m");
	assert_int_equal(wg_event_append(ev, "/nonexistent-dir/x.log"),
	    WG_E_IO);
	wg_event_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg_event_to_json_parse_round_trip),
		cmocka_unit_test(
		    test_wg_event_to_json_parse_success_without_correlation),
		cmocka_unit_test(test_wg_event_parse_accepts_template),
		cmocka_unit_test(test_wg_event_parse_rejects_duplicate_key),
		cmocka_unit_test(test_wg_event_parse_rejects_unknown_field),
		cmocka_unit_test(test_wg_event_parse_rejects_bad_time),
		cmocka_unit_test(test_wg_event_parse_rejects_unknown_code),
		cmocka_unit_test(
		    test_wg_event_parse_rejects_unknown_level_and_phase),
		cmocka_unit_test(test_wg_event_parse_rejects_bad_details),
		cmocka_unit_test(test_wg_event_parse_rejects_oversized_line),
		cmocka_unit_test(test_wg_event_parse_rejects_garbage),
		cmocka_unit_test(test_wg_event_add_caps_details),
		cmocka_unit_test(test_wg_event_append_one_line_per_event),
		cmocka_unit_test(test_wg_event_append_unwritable_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
