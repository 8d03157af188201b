/*
 * Secrets out of the HTTP trace's lines (trace.h): bodies by their
 * content type, JOSE objects by their shape, headers by their name.  It
 * errs towards leaving out: a trace goes into the diagnostics bundle,
 * which leaves the device.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/diag_redact.h"
#include "agent/trace.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define JOSE_PART_MAX (16 * 1024) /* a header or claims decoded at most */
#define FORM_FIELDS_MAX 64
#define FORM_NAME_MAX 128

/* Headers whose values are secrets whatever they hold. */
static const char *const secret_headers[] = { "authorization",
    "proxy-authorization", "cookie", "set-cookie", "idempotency-key",
    "x-api-key", NULL };

/* Form fields that are secrets besides diag_secret_name()'s. */
static const char *const secret_fields[] = { "request", "assertion",
    "client_assertion", "code", "pin", "pwd", "nonce_signature", NULL };

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(s, *list) == 0)
			return 1;
	return 0;
}

/* 1 if s is a base64url character. */
static int
b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * The JSON object base64url part p (n bytes) decodes to; NULL if it is
 * not one or is too long.
 */
static json_t *
decode_part(const char *p, size_t n)
{
	unsigned char *raw = NULL;
	size_t len = 0;
	json_t *v = NULL;
	char *s;

	if (n == 0 || n > JOSE_PART_MAX)
		return NULL;
	s = xstrndup(p, n);
	if (wg_b64url_decode(s, &raw, &len) == 0) {
		v = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES,
		    NULL);
		if (v != NULL && !json_is_object(v)) {
			json_decref(v);
			v = NULL;
		}
		xfree_secret(raw, len);
	}
	free(s);
	return v;
}

json_t *
agent_trace_jose(const char *s)
{
	const char *dot[4];
	size_t i, n = 0, len = strlen(s);
	json_t *header, *claims, *names, *out;
	const char *key;
	json_t *v;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (n == 4)
				return NULL;
			dot[n++] = s + i;
		} else if (!b64url_char(s[i]))
			return NULL;
	}
	if ((n != 2 && n != 4) || (header = decode_part(s, (size_t)(dot[0] -
	    s))) == NULL)
		return NULL;
	diag_redact_json(header);
	if (n == 4)
		return json_pack("{s:{s:o}}", "jwe", "header", header);
	names = json_array();
	claims = decode_part(dot[0] + 1, (size_t)(dot[1] - dot[0] - 1));
	json_object_foreach(claims, key, v)
		json_array_append_new(names, json_string(key));
	out = json_pack("{s:{s:o, s:o}}", "jws", "header", header, "claims",
	    claims != NULL ? names : json_null());
	if (claims == NULL)
		json_decref(names);
	json_decref(claims);
	return out;
}

/*
 * Takes the secrets out of v in place: members named as secrets, JOSE
 * strings reduced; then diag_redact_json() over what is left.
 */
static void
redact_json(json_t *v)
{
	const char *key;
	json_t *m, *r;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, m) {
			if (diag_secret_name(key) && !json_is_null(m))
				json_object_set_new(v, key,
				    json_string(DIAG_REDACTED));
			else if (json_is_string(m) && (r = agent_trace_jose(
			    json_string_value(m))) != NULL)
				json_object_set_new(v, key, r);
			else
				redact_json(m);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			if (json_is_string(m) && (r = agent_trace_jose(
			    json_string_value(m))) != NULL)
				json_array_set_new(v, i, r);
			else
				redact_json(m);
		}
	}
}

/* {"bytes": len, "sha256": hex}: what a trace says of a body it skips. */
static json_t *
digest(const void *body, size_t len)
{
	char hex[65];

	wg_sha256_hex(body, len, hex);
	return json_pack("{s:I, s:s}", "bytes", (json_int_t)len, "sha256",
	    hex);
}

/* 1 if content type type (parameters after ';' aside) is sub's. */
static int
type_is(const char *type, const char *sub)
{
	size_t n = strlen(sub);

	while (*type == ' ')
		type++;
	return strncasecmp(type, sub, n) == 0 && (type[n] == '\0' ||
	    type[n] == ';' || type[n] == ' ');
}

/* 1 if type is JSON: application/json or any "+json" type. */
static int
type_json(const char *type)
{
	const char *semi = strchr(type, ';'), *plus = strstr(type, "+json");

	return type_is(type, "application/json") || (plus != NULL &&
	    (semi == NULL || plus < semi));
}

/* %XX and '+' decoded from s (n bytes); NULL if it is not text. */
static char *
form_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *p = out;
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*p++ = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (hi = wg_hex_value(s[i + 1])) >= 0 &&
		    (lo = wg_hex_value(s[i + 2])) >= 0) {
			*p++ = (char)(hi << 4 | lo);
			i += 2;
		} else
			*p++ = s[i];
	}
	*p = '\0';
	if ((size_t)(p - out) != strlen(out) || !wg_str_printable(out)) {
		xfree_secret(out, n + 1);
		return NULL;
	}
	return out;
}

/* One field's value as a trace shows it (value is consumed). */
static json_t *
form_value(const char *name, char *value)
{
	unsigned count = 0;
	json_t *r;
	char *t;

	if (value == NULL)
		return json_string("[not text]");
	if (diag_secret_name(name))
		r = json_string(DIAG_REDACTED);
	else if ((r = agent_trace_jose(value)) != NULL)
		; /* a JWS (the sign-in's request): header and claim names */
	else if (in_list(name, secret_fields))
		r = json_string(DIAG_REDACTED);
	else {
		t = diag_redact_text(value, &count);
		r = json_string(t);
		free(t);
	}
	xfree_secret(value, strlen(value));
	return r;
}

/* A form body's fields, each value redacted by its name; NULL if not. */
static json_t *
form_body(const char *body, size_t len)
{
	const char *p = body, *end = body + len, *amp, *eq;
	json_t *out = json_object();
	char *name;
	size_t n = 0;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		if (++n > FORM_FIELDS_MAX || (size_t)(eq - p) > FORM_NAME_MAX ||
		    (name = form_decode(p, (size_t)(eq - p))) == NULL) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, name, form_value(name, eq < amp ?
		    form_decode(eq + 1, (size_t)(amp - eq - 1)) :
		    xstrdup("")));
		free(name);
		p = amp + 1;
	}
	return out;
}

json_t *
agent_trace_body(const char *type, const void *body, size_t len)
{
	json_t *v = NULL;

	if (body == NULL || len == 0)
		return NULL;
	if (type != NULL && len <= AGENT_TRACE_JSON_MAX && type_json(type) &&
	    (v = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) !=
	    NULL) {
		redact_json(v);
		diag_redact_json(v);
		return json_pack("{s:o}", "json", v);
	}
	if (type != NULL && len <= AGENT_TRACE_JSON_MAX &&
	    type_is(type, "application/x-www-form-urlencoded") &&
	    memchr(body, '\0', len) == NULL &&
	    (v = form_body(body, len)) != NULL) {
		diag_redact_json(v);
		return json_pack("{s:o}", "form", v);
	}
	return digest(body, len);
}

char *
agent_trace_header(const char *name, const char *value)
{
	unsigned count = 0;

	if (in_list(name, secret_headers) || diag_secret_name(name))
		return xstrdup(DIAG_REDACTED);
	return diag_redact_text(value, &count);
}
