/*
 * The timeline of a bundle's events (common/timeline.c) from synthetic
 * event lines, as the agent writes them: the failure classes the
 * integration suite (tests/integration/test_diag_timeline.py) cannot
 * make the device see (another tenant: an import's refusal; an EK
 * certificate service without the certificate), other shapes of the
 * classes it does make (GetCACaps 400, a clock set back), and the rules:
 * time order, failures made good by a later success, failed tries, lines
 * that are not events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/timeline.h"

/* One event line: second s past 10:00:00, the rest as written. */
static void
line(char *buf, size_t len, int s, const char *channel, int id,
    const char *level, const char *phase, const char *code,
    const char *name, const char *msg, const char *details)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "{\"time\":\"2026-01-10T10:%02d:%02d.000Z\","
	    "\"channel\":\"%s\",\"eventId\":%d,\"level\":\"%s\","
	    "\"correlationId\":\"c0ffee\",\"phase\":\"%s\",\"code\":\"%s\","
	    "\"name\":\"%s\",\"message\":\"%s\",\"details\":%s}\n", s / 60,
	    s % 60, channel, id, level, phase, code, name, msg,
	    details ? details : "{}");
}

#define OK_CODE "0x00000000", "WG_OK"

static struct timeline *
of(const char *text)
{
	struct timeline *tl = timeline_new();

	timeline_add_text(tl, text, strlen(text));
	timeline_finish(tl);
	return tl;
}

static void
test_timeline_finish_getcacaps_400(void **state)
{
	char b[4096] = "";
	struct timeline *tl;

	(void)state;
	line(b, sizeof(b), 0, "tpm", 1100, "info", "securing_hardware",
	    OK_CODE, "started", NULL);
	line(b, sizeof(b), 1, "tpm", 86, "error", "securing_hardware",
	    "0x80190190", "HTTP_E_STATUS_BAD_REQUEST", "GET /aik/scep: HTTP 400",
	    "{\"try\":\"1/10\"}");
	line(b, sizeof(b), 2, "tpm", 1105, "error", "securing_hardware",
	    "0x80190190", "HTTP_E_STATUS_BAD_REQUEST", "failed", NULL);
	tl = of(b);
	assert_int_equal(tl->nevents, 3);
	assert_int_equal(tl->cls, TIMELINE_CLASS_GETCACAPS_400);
	assert_int_equal(tl->failure->event_id, 1105);
	assert_int_equal(tl->cause->event_id, 86);
	assert_string_equal(timeline_class_name(tl->cls), "getcacaps-400");
	assert_int_equal(tl->nphases, 1);
	assert_true(tl->phases[0].failed);
	assert_int_equal(tl->phases[0].errors, 2);
	assert_int_equal(tl->phases[0].end_ms - tl->phases[0].start_ms, 2000);
	timeline_free(tl);
}

static void
test_timeline_finish_clock_skew_words(void **state)
{
	char b[4096] = "";
	struct timeline *tl;

	(void)state;
	line(b, sizeof(b), 0, "autopilot", 172, "warning", "profile",
	    "0xA0570303", "WG_E_NET_TLS", "try 1/3: SSL certificate problem: "
	    "certificate is not yet valid", NULL);
	line(b, sizeof(b), 1, "autopilot", 172, "error", "profile",
	    "0xA0570303", "WG_E_NET_TLS", "3 tries failed", NULL);
	tl = of(b);
	assert_int_equal(tl->cls, TIMELINE_CLASS_CLOCK_SKEW);
	assert_non_null(tl->cause);
	timeline_free(tl);
}

static void
test_timeline_finish_clock_set_back(void **state)
{
	char b[4096] = "";
	struct timeline *tl;

	(void)state;
	/* the aad channel's time goes back an hour: the clock was set */
	line(b, sizeof(b), 3599, "aad", 1404, "info", "account_setup", OK_CODE,
	    "session key", NULL);
	line(b, sizeof(b), 0, "aad", 1403, "error", "account_setup",
	    "0xA0570B0A", "WG_E_TICKET_INVALID", "the ticket has expired",
	    NULL);
	tl = of(b);
	assert_true(tl->clock_back_ms >= 3599000);
	assert_int_equal(tl->cls, TIMELINE_CLASS_CLOCK_SKEW);
	/* time order across the cut */
	assert_int_equal(tl->events[0]->event_id, 1403);
	timeline_free(tl);
}

static void
test_timeline_finish_other_tenant(void **state)
{
	char b[4096] = "";
	struct timeline *tl;

	(void)state;
	line(b, sizeof(b), 0, "autopilot", 172, "error", "registration", "808",
	    "ZtdDeviceAssignedToOtherTenant", "refused", NULL);
	tl = of(b);
	assert_int_equal(tl->cls, TIMELINE_CLASS_OTHER_TENANT);
	timeline_free(tl);
}

static void
test_timeline_finish_ekcert_missing(void **state)
{
	char b[4096] = "";
	struct timeline *tl;

	(void)state;
	line(b, sizeof(b), 0, "tpm", 1102, "warning", "securing_hardware",
	    "0xA0570507", "WG_E_EK_CERT_MISSING", "no certificate", NULL);
	line(b, sizeof(b), 1, "tpm", 1103, "error", "securing_hardware",
	    "0x80190190", "HTTP_E_STATUS_BAD_REQUEST", "EK unknown",
	    "{\"try\":\"1/10\"}");
	line(b, sizeof(b), 2, "tpm", 1105, "error", "securing_hardware",
	    "0x80190190", "HTTP_E_STATUS_BAD_REQUEST", "failed", NULL);
	tl = of(b);
	assert_int_equal(tl->cls, TIMELINE_CLASS_EKCERT_MISSING);
	assert_int_equal(tl->context->event_id, 1102);
	timeline_free(tl);
	/* the CA itself unreachable on every try: not the EK service's */
	b[0] = '\0';
	line(b, sizeof(b), 0, "tpm", 1102, "warning", "securing_hardware",
	    "0xA0570301", "WG_E_NET_DNS", "no certificate", NULL);
	line(b, sizeof(b), 1, "tpm", 86, "error", "securing_hardware",
	    "0xA0570301", "WG_E_NET_DNS", "GET", "{\"try\":\"1/2\"}");
	line(b, sizeof(b), 2, "tpm", 1105, "error", "securing_hardware",
	    "0x81039001", "E_AUTOPILOT_CLIENT_TPM_MAX_ATTESTATION_RETRY_EXCEEDED",
	    "failed", NULL);
	tl = of(b);
	assert_int_equal(tl->cls, TIMELINE_CLASS_ATTESTATION_RETRIES);
	assert_null(tl->context);
	assert_int_equal(tl->cause->err, WG_E_NET_DNS);
	timeline_free(tl);
}

static void
test_timeline_finish_made_good(void **state)
{
	char b[8192] = "";
	struct timeline *tl;

	(void)state;
	/* refused, allowed again, enrolled: no failure left */
	line(b, sizeof(b), 0, "enrollment", 76, "error", "mdm", "0x80180014",
	    "MENROLL_E_DEVICENOTSUPPORTED", "refused", NULL);
	line(b, sizeof(b), 5, "enrollment", 75, "info", "mdm", OK_CODE,
	    "enrolled", NULL);
	tl = of(b);
	assert_null(tl->failure);
	assert_int_equal(tl->cls, TIMELINE_CLASS_NONE);
	assert_true(tl->phases[0].done);
	assert_false(tl->phases[0].failed);
	timeline_free(tl);
	/* the green screen makes the technician's errors good, not the
	 * user's */
	b[0] = '\0';
	line(b, sizeof(b), 0, "apps", 1902, "error", "device_setup",
	    "0xA0570A13", "WG_E_APP_INSTALL_FAILED", "exit 3", NULL);
	line(b, sizeof(b), 9, "autopilot", 1503, "info", "general", OK_CODE,
	    "resealed", NULL);
	line(b, sizeof(b), 20, "aad", 1403, "error", "account_setup",
	    "0xA0570B0C", "WG_E_LOST_JOIN", "started 2 times", NULL);
	tl = of(b);
	assert_int_equal(tl->cls, TIMELINE_CLASS_LOST_JOIN);
	assert_string_equal(tl->failure->channel, "aad");
	timeline_free(tl);
}

static void
test_timeline_finish_first_in_time(void **state)
{
	char b[8192] = "";
	struct timeline *tl;

	(void)state;
	/* added out of order (channel by channel); the earlier one counts;
	 * a step's failure in the autopilot channel repeats it later */
	line(b, sizeof(b), 30, "autopilot", 1502, "error", "device_setup",
	    "0xA0570A15", "WG_E_ESP_TIMEOUT", "provisioning stopped", NULL);
	line(b, sizeof(b), 29, "apps", 1910, "error", "device_setup",
	    "0xA0570A15", "WG_E_ESP_TIMEOUT", "device setup failed", NULL);
	line(b, sizeof(b), 29, "apps", 1902, "error", "device_setup",
	    "0xA0570A15", "WG_E_ESP_TIMEOUT", "Slow: the deadline", NULL);
	tl = of(b);
	assert_int_equal(tl->failure->event_id, 1910); /* ties: as added */
	assert_int_equal(tl->cls, TIMELINE_CLASS_ESP_TIMEOUT);
	timeline_free(tl);
}

static void
test_timeline_finish_network_outside_attestation(void **state)
{
	char b[4096] = "";
	struct timeline *tl;

	(void)state;
	line(b, sizeof(b), 0, "enrollment", 76, "warning", "mdm",
	    "0x800705B4", "ERROR_TIMEOUT", "try 1/2: timed out", NULL);
	line(b, sizeof(b), 1, "enrollment", 76, "error", "mdm", "0x800705B4",
	    "ERROR_TIMEOUT", "2 tries failed", NULL);
	tl = of(b);
	assert_int_equal(tl->cls, TIMELINE_CLASS_UNREACHABLE);
	timeline_free(tl);
}

static void
test_timeline_add_text_not_events(void **state)
{
	char b[4096] = "[... 1234 bytes left out ...]\n\n";
	struct timeline *tl;

	(void)state;
	line(b, sizeof(b), 0, "tpm", 1100, "info", "securing_hardware",
	    OK_CODE, "started", NULL);
	strcat(b, "{\"time\":\"x\"}\n{\"a\":1,\"a\":2}");
	tl = of(b);
	assert_int_equal(tl->nevents, 1);
	assert_int_equal(tl->skipped, 3);
	assert_non_null(strstr(tl->skipped_why, "not JSON"));
	assert_null(tl->failure);
	timeline_free(tl);
	timeline_free(NULL);
}

static void
test_timeline_finish_only_tries(void **state)
{
	char b[4096] = "";
	struct timeline *tl;

	(void)state;
	/* the agent stopped between tries: the try is all there is */
	line(b, sizeof(b), 0, "tpm", 86, "error", "securing_hardware",
	    "0x80190194", "HTTP_E_STATUS_NOT_FOUND", "GET", "{\"try\":\"1/10\"}");
	tl = of(b);
	assert_non_null(tl->failure);
	assert_int_equal(tl->failure->event_id, 86);
	timeline_free(tl);
}

static void
test_timeline_class_name_unique(void **state)
{
	int i, k;

	(void)state;
	for (i = 0; i < TIMELINE_CLASS_MAX; i++) {
		assert_true(strlen(timeline_class_text(i)) > 20);
		for (k = 0; k < i; k++)
			assert_string_not_equal(timeline_class_name(i),
			    timeline_class_name(k));
	}
	assert_string_equal(timeline_class_name(TIMELINE_CLASS_MAX), "other");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeline_finish_getcacaps_400),
		cmocka_unit_test(test_timeline_finish_clock_skew_words),
		cmocka_unit_test(test_timeline_finish_clock_set_back),
		cmocka_unit_test(test_timeline_finish_other_tenant),
		cmocka_unit_test(test_timeline_finish_ekcert_missing),
		cmocka_unit_test(test_timeline_finish_made_good),
		cmocka_unit_test(test_timeline_finish_first_in_time),
		cmocka_unit_test(test_timeline_finish_network_outside_attestation),
		cmocka_unit_test(test_timeline_add_text_not_events),
		cmocka_unit_test(test_timeline_finish_only_tries),
		cmocka_unit_test(test_timeline_class_name_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
