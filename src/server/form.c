/*
 * application/x-www-form-urlencoded bodies (form.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "server/form.h"

static int
name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Decodes n bytes at s ('+', %XX) into a new string; NULL if malformed. */
static char *
decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= n ||
			    (hi = wg_hex_value((unsigned char)s[i + 1])) < 0 ||
			    (lo = wg_hex_value((unsigned char)s[i + 2])) < 0 ||
			    (hi == 0 && lo == 0))
				goto bad;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (wg_str_printable(out))
		return out;
bad:
	free(out);
	return NULL;
}

/* One name=value pair of n bytes at p into f; -1 with why. */
static int
pair(struct form *f, const char *p, size_t n, char *why, size_t whylen)
{
	const char *eq = memchr(p, '=', n);
	size_t nl = eq ? (size_t)(eq - p) : n, i;
	char *value;

	if (eq == NULL || nl == 0 || nl > FORM_NAME_MAX) {
		wg_say(why, whylen, "form field '%.*s' is not name=value with a "
		    "name of 1 to %d characters", (int)(n > 32 ? 32 : n), p,
		    FORM_NAME_MAX);
		return -1;
	}
	for (i = 0; i < nl; i++)
		if (!name_char((unsigned char)p[i])) {
			wg_say(why, whylen, "form field name '%.*s': only "
			    "letters, digits and _.- are allowed", (int)nl, p);
			return -1;
		}
	if (f->n == FORM_FIELDS_MAX) {
		wg_say(why, whylen, "more than %d form fields",
		    FORM_FIELDS_MAX);
		return -1;
	}
	f->names[f->n] = xstrndup(p, nl);
	if (form_get(f, f->names[f->n]) != NULL) {
		wg_say(why, whylen, "form field '%s' is given twice",
		    f->names[f->n]);
		free(f->names[f->n]);
		return -1;
	}
	if ((value = decode(eq + 1, n - nl - 1)) == NULL) {
		wg_say(why, whylen, "form field '%s': the value is not "
		    "percent-encoded printable text", f->names[f->n]);
		free(f->names[f->n]);
		return -1;
	}
	f->values[f->n++] = value;
	return 0;
}

enum wg_err
form_parse(const char *body, size_t len, struct form *out, char *why,
    size_t whylen)
{
	const char *p = body, *end = body + len, *amp;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (pair(out, p, (size_t)(amp - p), why, whylen) != 0) {
			form_free(out);
			return WG_E_JSON_FIELD;
		}
		p = amp + 1;
	}
	return WG_OK;
}

const char *
form_get(const struct form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return f->values[i];
	return NULL;
}

int
form_only(const struct form *f, const char *const *allowed, char *why,
    size_t whylen)
{
	size_t i, j;

	for (i = 0; i < f->n; i++) {
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(f->names[i], allowed[j]) == 0)
				break;
		if (allowed[j] == NULL) {
			wg_say(why, whylen, "form field '%s' is not known here",
			    f->names[i]);
			return -1;
		}
	}
	return 0;
}

void
form_free(struct form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->values[i]);
	}
	memset(f, 0, sizeof(*f));
}
