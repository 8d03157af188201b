/*
 * The HTTP trace's lines (src/agent/trace.h): what a body, a header, a
 * JWS and a whole exchange become, and that no planted secret survives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/trace.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define PASSWORD "Hunter2-planted-password"
#define TICKET "TICKET-planted-0123456789"
#define PRT "PRT-planted-refresh-token"
#define ACCESS "AT-planted-access"
#define SESSION_KEY "planted-session-key-bytes"
#define IDEM "planted-idempotency-key.login"

/* A compact JWS of header and claims (JSON text), its signature sig. */
static char *
jws(const char *header, const char *claims, const char *sig)
{
	char *h = wg_b64url(header, strlen(header));
	char *c = wg_b64url(claims, strlen(claims));
	char *s = wg_b64url(sig, strlen(sig));
	char *out = xasprintf("%s.%s.%s", h, c, s);

	free(h);
	free(c);
	free(s);
	return out;
}

/* The sign-in's request JWS: the password and ticket in its claims. */
static char *
signin_jws(void)
{
	return jws("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"dk\"}",
	    "{\"username\":\"ana@contoso.com\",\"password\":\"" PASSWORD
	    "\",\"ticket\":\"" TICKET "\",\"request_nonce\":\"n1\"}",
	    "signature-bytes");
}

/* v dumped; the caller frees it. */
static char *
dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(s);
	return s;
}

static void
assert_none(const char *text, const char *const *secrets)
{
	for (; *secrets != NULL; secrets++)
		if (strstr(text, *secrets) != NULL)
			fail_msg("'%s' found in %s", *secrets, text);
}

static const char *const planted[] = { PASSWORD, TICKET, PRT, ACCESS,
    SESSION_KEY, IDEM, "signature-bytes", NULL };

static void
test_agent_trace_body_json_secrets_redacted(void **state)
{
	char *token = signin_jws(), *body, *text;
	json_t *b, *j, *r;

	(void)state;
	body = xasprintf("{\"access_token\":\"%s\",\"refresh_token\":\"%s\","
	    "\"session_key_jwe\":\"%s\",\"Ticket\":\"" TICKET "\","
	    "\"note\":\"password=" PASSWORD "\",\"list\":[\"%s\"],"
	    "\"expires_in\":3600}", ACCESS, PRT, SESSION_KEY, token);
	b = agent_trace_body("application/json; charset=utf-8", body,
	    strlen(body));
	assert_non_null(b);
	text = dump(b);
	assert_none(text, planted);
	j = json_object_get(b, "json");
	assert_string_equal(json_string_value(json_object_get(j,
	    "access_token")), "[redacted]");
	assert_string_equal(json_string_value(json_object_get(j, "Ticket")),
	    "[redacted]");
	assert_int_equal(json_integer_value(json_object_get(j, "expires_in")),
	    3600);
	/* the JWS in the list: its header and the names of its claims */
	r = json_object_get(json_array_get(json_object_get(j, "list"), 0),
	    "jws");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    r, "header"), "alg")), "RS256");
	assert_int_equal(json_array_size(json_object_get(r, "claims")), 4);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    r, "claims"), 1)), "password");
	free(text);
	free(body);
	free(token);
	json_decref(b);
}

static void
test_agent_trace_body_form_fields_by_name(void **state)
{
	char *token = signin_jws(), *body, *text;
	json_t *b, *f, *req;

	(void)state;
	body = xasprintf("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-"
	    "type%%3Ajwt-bearer&request=%s&password=%s&refresh_token=%s&"
	    "client_id=dev+1", token, PASSWORD, PRT);
	b = agent_trace_body("application/x-www-form-urlencoded", body,
	    strlen(body));
	text = dump(b);
	assert_none(text, planted);
	f = json_object_get(b, "form");
	assert_string_equal(json_string_value(json_object_get(f,
	    "grant_type")), "urn:ietf:params:oauth:grant-type:jwt-bearer");
	assert_string_equal(json_string_value(json_object_get(f, "password")),
	    "[redacted]");
	assert_string_equal(json_string_value(json_object_get(f,
	    "refresh_token")), "[redacted]");
	assert_string_equal(json_string_value(json_object_get(f, "client_id")),
	    "dev 1");
	req = json_object_get(json_object_get(f, "request"), "jws");
	assert_non_null(req);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    req, "header"), "kid")), "dk");
	free(text);
	free(body);
	/* a request that is not a JWS is left out whole */
	json_decref(b);
	b = agent_trace_body("application/x-www-form-urlencoded",
	    "request=" PASSWORD, strlen("request=" PASSWORD));
	text = dump(b);
	assert_none(text, planted);
	free(text);
	json_decref(b);
	free(token);
}

static void
test_agent_trace_body_other_is_digest(void **state)
{
	static const char content[] = "abc";
	json_t *b;

	(void)state;
	b = agent_trace_body("application/octet-stream", content, 3);
	assert_int_equal(json_integer_value(json_object_get(b, "bytes")), 3);
	assert_string_equal(json_string_value(json_object_get(b, "sha256")),
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(json_object_size(b), 2);
	json_decref(b);
	/* JSON that does not parse: a digest too, never the text */
	b = agent_trace_body("application/json", "{\"password\":\"" PASSWORD,
	    strlen("{\"password\":\"" PASSWORD));
	assert_non_null(json_object_get(b, "sha256"));
	json_decref(b);
	assert_null(agent_trace_body("application/json", NULL, 0));
}

static void
test_agent_trace_jose_shapes(void **state)
{
	char *t = jws("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}", "x",
	    "y"), *jwe;
	json_t *v;

	(void)state;
	assert_null(agent_trace_jose("1.2.3"));
	assert_null(agent_trace_jose("not a jws"));
	assert_null(agent_trace_jose("a.b"));
	/* five parts: a JWE, its header only */
	jwe = xasprintf("%s.AAAA.BBBB", t);
	v = agent_trace_jose(jwe);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(v, "jwe"), "header"), "enc")), "A256GCM");
	assert_null(json_object_get(json_object_get(v, "jwe"), "claims"));
	json_decref(v);
	free(jwe);
	free(t);
}

static void
test_agent_trace_header_secrets(void **state)
{
	static const char *const secret[] = { "Authorization",
	    "authorization", "Cookie", "Set-Cookie", "Idempotency-Key",
	    "Proxy-Authorization", NULL };
	const char *const *n;
	char *v;

	(void)state;
	for (n = secret; *n != NULL; n++) {
		v = agent_trace_header(*n, "Bearer " ACCESS);
		assert_string_equal(v, "[redacted]");
		free(v);
	}
	v = agent_trace_header("X-Request-Id", "req-1");
	assert_string_equal(v, "req-1");
	free(v);
	v = agent_trace_header("Warning", "token=" ACCESS);
	assert_null(strstr(v, ACCESS));
	free(v);
}

/* A sign-in exchange: an Idempotency-Key, a form, a JSON answer. */
static void
test_agent_trace_line_signin(void **state)
{
	char *token = signin_jws(), *form, *answer, *line;
	const struct wg_httpc_header req_h[] = { { "Accept",
	    "application/json" }, { "Idempotency-Key", IDEM } };
	const struct wg_httpc_header resp_h[] = { { "Content-Type",
	    "application/json" }, { "Set-Cookie", "s=" SESSION_KEY },
	    { "X-Request-Id", "r-42" } };
	struct wg_httpc_req req = { .method = "POST", .path = "/token",
	    .headers = req_h, .nheaders = 2, .content_type =
	    "application/x-www-form-urlencoded" };
	struct wg_httpc_resp resp = { .status = 200 };
	struct wg_httpc_exchange x = { .req = &req, .resp = &resp, .rc = WG_OK,
	    .url = "https://127.0.0.1:8443/token", .user_agent = "wg/1",
	    .bearer = 1, .dns_us = 10, .connect_us = 20, .tls_us = 30,
	    .first_byte_us = 40, .total_us = 50, .resp_headers = resp_h,
	    .nresp_headers = 3 };
	json_t *o;

	(void)state;
	form = xasprintf("grant_type=x&request=%s", token);
	req.body = form;
	req.body_len = strlen(form);
	answer = xasprintf("{\"refresh_token\":\"%s\",\"session_key_jwe\":"
	    "\"%s\",\"token_type\":\"Bearer\"}", PRT, SESSION_KEY);
	resp.body = answer;
	resp.body_len = strlen(answer);
	snprintf(resp.content_type, sizeof(resp.content_type),
	    "application/json");
	snprintf(resp.request_id, sizeof(resp.request_id), "r-42");
	line = agent_trace_line(&x, "login");
	assert_none(line, planted);
	assert_null(strchr(line, '\n'));
	o = json_loads(line, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "method")),
	    "POST");
	assert_string_equal(json_string_value(json_object_get(o, "url")),
	    "https://127.0.0.1:8443/token");
	assert_string_equal(json_string_value(json_object_get(o, "cmd")),
	    "login");
	assert_int_equal(json_integer_value(json_object_get(o, "status")),
	    200);
	assert_string_equal(json_string_value(json_object_get(o,
	    "requestId")), "r-42");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "timingUs"), "tls")), 30);
	assert_null(json_object_get(o, "error"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(o, "request"), "headers"), "Authorization")),
	    "[redacted]");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(o, "response"), "headers"), "X-Request-Id")),
	    "r-42");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(o, "response"), "body"), "json"),
	    "token_type")), "Bearer");
	json_decref(o);
	free(line);
	free(answer);
	free(form);
	free(token);
}

/* A failed exchange: no answer, its error named. */
static void
test_agent_trace_line_failed(void **state)
{
	struct wg_httpc_req req = { .method = "GET", .path = "/ztd" };
	struct wg_httpc_resp resp = { 0 };
	struct wg_httpc_exchange x = { .req = &req, .resp = &resp, .rc =
	    WG_E_NET_CONNECT, .url = "https://127.0.0.1:9/ztd", .dns_us = -1,
	    .connect_us = -1, .tls_us = -1, .first_byte_us = -1,
	    .total_us = 1200 };
	json_t *o, *e;
	char *line;

	(void)state;
	snprintf(resp.detail, sizeof(resp.detail), "Failed to connect");
	line = agent_trace_line(&x, "profile");
	o = json_loads(line, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 0);
	e = json_object_get(o, "error");
	assert_string_equal(json_string_value(json_object_get(e, "name")),
	    "WG_E_NET_CONNECT");
	assert_string_equal(json_string_value(json_object_get(e, "detail")),
	    "Failed to connect");
	assert_int_equal(json_object_size(json_object_get(o, "timingUs")), 1);
	json_decref(o);
	free(line);
}

/* Bodies too big for a line are left out, the line stays JSON. */
static void
test_agent_trace_line_too_long(void **state)
{
	static char body[2 * AGENT_TRACE_LINE_MAX + 64];
	size_t n = 2 * AGENT_TRACE_LINE_MAX;
	char *line;
	struct wg_httpc_req req = { .method = "POST", .path = "/x",
	    .content_type = "application/json" };
	struct wg_httpc_resp resp = { .status = 200 };
	struct wg_httpc_exchange x = { .req = &req, .resp = &resp,
	    .url = "https://h/x", .total_us = -1, .dns_us = -1,
	    .connect_us = -1, .tls_us = -1, .first_byte_us = -1 };
	json_t *o;

	(void)state;
	memcpy(body, "{\"a\":\"", 6);
	memset(body + 6, 'x', n);
	memcpy(body + 6 + n, "\"}", 3);
	req.body = body;
	req.body_len = strlen(body);
	line = agent_trace_line(&x, "apps");
	assert_true(strlen(line) <= AGENT_TRACE_LINE_MAX);
	o = json_loads(line, 0, NULL);
	assert_non_null(o);
	assert_non_null(json_object_get(o, "note"));
	assert_null(json_object_get(json_object_get(o, "request"), "body"));
	json_decref(o);
	free(line);
}

static void
test_agent_trace_value_words(void **state)
{
	(void)state;
	assert_int_equal(agent_trace_value(NULL), 1);
	assert_int_equal(agent_trace_value("on"), 1);
	assert_int_equal(agent_trace_value("1"), 1);
	assert_int_equal(agent_trace_value("off"), 0);
	assert_int_equal(agent_trace_value("0"), 0);
	assert_int_equal(agent_trace_value("maybe"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_trace_body_json_secrets_redacted),
		cmocka_unit_test(test_agent_trace_body_form_fields_by_name),
		cmocka_unit_test(test_agent_trace_body_other_is_digest),
		cmocka_unit_test(test_agent_trace_jose_shapes),
		cmocka_unit_test(test_agent_trace_header_secrets),
		cmocka_unit_test(test_agent_trace_line_signin),
		cmocka_unit_test(test_agent_trace_line_failed),
		cmocka_unit_test(test_agent_trace_line_too_long),
		cmocka_unit_test(test_agent_trace_value_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
