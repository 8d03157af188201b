/*
 * Secrets out of the diagnostics bundle (diag_redact.h).  Member names
 * are matched whole or by their ending ("access_token", "Ticket",
 * "session_key_jwe"); text is matched by two POSIX extended regular
 * expressions: `name: value` / `name = value` pairs whose name says
 * secret (with an optional "Bearer "/"Basic "), and JWS/JWE compact
 * serializations (base64url of a JSON header: "eyJ").  It errs towards
 * redacting too much: a diagnostics bundle leaves the device.
 */
#include <strings.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "agent/diag_redact.h"
#include "common/util.h"
#include "common/xmalloc.h"

/* Member names that are secrets whole (compared without case). */
static const char *const secret_names[] = { "ticket", "authorization",
    "password", "passwd", "secret", "session_key", "sessionkey",
    "session_key_jwe", "cookie", "set-cookie", "api_key", "apikey",
    "private_key", "privatekey", NULL };

/* Endings of member names that are secrets ("access_token", "idToken"). */
static const char *const secret_endings[] = { "token", "password",
    "secret", "ticket", "_jwe", "sessionkey", "session_key", NULL };

/* Words that make a text line worth the regular expression. */
static const char *const secret_words[] = { "ticket", "token", "passw",
    "secret", "session", "authorization", "cookie", "key", "pwd", NULL };

#define PAIR_RE                                                          \
	"[A-Za-z0-9_.-]*(ticket|token|passw(or)?d|pwd|secret|"           \
	"session[ _-]?key|authorization|cookie|api[_-]?key)"            \
	"[A-Za-z0-9_-]*\\\\?\"?'?[[:space:]]*[:=][[:space:]]*\\\\?\"?'?"  \
	"((bearer|basic)[[:space:]]+)?"
#define PAIR_VALUE_RE "[^[:space:]\"'\\\\,;&]+"
#define JWT_RE "eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{2,}(\\.[A-Za-z0-9_-]*){0,3}"

static regex_t pair_re, jwt_re;
static int compiled;

/* The expressions, compiled once (they are constants: failing is a bug). */
static void
compile(void)
{
	if (compiled)
		return;
	if (regcomp(&pair_re, "(" PAIR_RE ")(" PAIR_VALUE_RE ")",
	    REG_EXTENDED | REG_ICASE) != 0 ||
	    regcomp(&jwt_re, JWT_RE, REG_EXTENDED) != 0)
		abort();
	compiled = 1;
}

int
diag_secret_name(const char *name)
{
	size_t i, n = strlen(name), m;

	for (i = 0; secret_names[i] != NULL; i++)
		if (strcasecmp(name, secret_names[i]) == 0)
			return 1;
	for (i = 0; secret_endings[i] != NULL; i++) {
		m = strlen(secret_endings[i]);
		if (n >= m && strcasecmp(name + n - m, secret_endings[i]) == 0)
			return 1;
	}
	return 0;
}

/* 1 if s holds a word of secret_words (any case). */
static int
has_secret_word(const char *s)
{
	size_t i;

	for (i = 0; secret_words[i] != NULL; i++)
		if (strcasestr(s, secret_words[i]) != NULL)
			return 1;
	return 0;
}

/* A growing string. */
struct buf {
	char *s;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (n + 1 > b->cap - b->len) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/*
 * The next secret in s: *start and *end of the part to replace; 0 if
 * there is none.  The pair's value is its last group (the second).
 */
static int
next_secret(const char *s, char prev, int notbol, int words, regoff_t *start,
    regoff_t *end)
{
	regmatch_t m[8], j[1];
	int flags = notbol ? REG_NOTBOL : 0, found = 0, fl = flags;
	size_t v = 6; /* (PAIR_RE)(VALUE): group 6 is the value */
	const char *t = s;
	char before;

	/* a name right after '/' is a URL's path ("POST …/token: HTTP 404") */
	while (words && regexec(&pair_re, t, 8, m, fl) == 0) {
		before = m[0].rm_so > 0 ? t[m[0].rm_so - 1] : t > s ? t[-1] :
		    prev;
		if (before != '/') {
			*start = (regoff_t)(t - s) + m[v].rm_so;
			*end = (regoff_t)(t - s) + m[v].rm_eo;
			found = 1;
			break;
		}
		t += m[0].rm_so + 1;
		fl = REG_NOTBOL;
	}
	if (strstr(s, "eyJ") != NULL && regexec(&jwt_re, s, 1, j, flags) ==
	    0 && (!found || j[0].rm_so < *start)) {
		*start = j[0].rm_so;
		*end = j[0].rm_eo;
		found = 1;
	}
	return found;
}

char *
diag_redact_text(const char *in, unsigned *count)
{
	struct buf b = { xstrdup(""), 0, 1 };
	int words = has_secret_word(in);
	regoff_t start, end;
	const char *p = in;

	compile();
	while (*p != '\0' && next_secret(p, p != in ? p[-1] : '\0', p != in,
	    words, &start, &end)) {
		/* both expressions match one character at least */
		buf_add(&b, p, (size_t)start);
		buf_add(&b, DIAG_REDACTED, strlen(DIAG_REDACTED));
		(*count)++;
		p += end;
	}
	buf_add(&b, p, strlen(p));
	return b.s;
}

unsigned
diag_redact_json(json_t *v)
{
	const char *key;
	unsigned n = 0;
	json_t *m;
	size_t i;
	char *s;

	if (json_is_object(v)) {
		json_object_foreach(v, key, m) {
			if (diag_secret_name(key) && !json_is_null(m)) {
				json_object_set_new(v, key,
				    json_string(DIAG_REDACTED));
				n++;
			} else
				n += diag_redact_json(m);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			n += diag_redact_json(m);
	} else if (json_is_string(v)) {
		s = diag_redact_text(json_string_value(v), &n);
		if (n > 0)
			json_string_set(v, s);
		free(s);
	}
	return n;
}

/* Writes v (JSON) redacted, as one line or indented; -1 if it fails. */
static int
put_json(json_t *v, FILE *out, int line, unsigned *count)
{
	*count += diag_redact_json(v);
	if (json_dumpf(v, out, JSON_PRESERVE_ORDER | (line ? JSON_COMPACT :
	    JSON_INDENT(2))) != 0)
		return -1;
	return fputc('\n', out) == EOF ? -1 : 0;
}

/* One line (its newline cut off) redacted: as JSON or as text. */
static int
put_line(char *line, size_t len, FILE *out, enum diag_kind kind,
    unsigned *count)
{
	json_t *v;
	char *s;
	int rc;

	if (kind == DIAG_JSONL && (v = json_loadb(line, len, 0, NULL)) !=
	    NULL) {
		rc = put_json(v, out, 1, count);
		json_decref(v);
		return rc;
	}
	if (memchr(line, '\0', len) != NULL)
		return fputs("[whiteglove diag: a line with a NUL byte left "
		    "out]\n", out) == EOF ? -1 : 0;
	s = diag_redact_text(line, count);
	rc = fputs(s, out) == EOF || fputc('\n', out) == EOF ? -1 : 0;
	free(s);
	return rc;
}

/* in line by line into out; the part of a line over the buffer dropped. */
static enum wg_err
copy_lines(FILE *in, FILE *out, enum diag_kind kind, unsigned *count,
    char *why, size_t whylen)
{
	char *line = xmalloc(DIAG_LINE_MAX + 2);
	enum wg_err err = WG_OK;
	int too_long = 0;
	size_t len;

	while (fgets(line, DIAG_LINE_MAX + 2, in) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n') {
			line[--len] = '\0';
			if (too_long) {
				too_long = 0;
				continue; /* the end of a line left out */
			}
		} else if (!feof(in) || too_long) {
			if (!too_long && fprintf(out, "[whiteglove diag: a "
			    "line of more than %d bytes left out]\n",
			    DIAG_LINE_MAX) < 0)
				break;
			too_long = 1;
			continue;
		}
		if (put_line(line, len, out, kind, count) != 0)
			break;
	}
	if (ferror(in) || ferror(out))
		err = wg_fail(WG_E_IO, why, whylen, "%s failed",
		    ferror(in) ? "reading" : "writing a temporary file");
	free(line);
	return err;
}

enum wg_err
diag_redact_copy(FILE *in, FILE *out, enum diag_kind kind, unsigned *count,
    char *why, size_t whylen)
{
	char *buf;
	long at = ftell(in);
	size_t len;
	json_t *v = NULL;

	*count = 0;
	if (kind != DIAG_JSON)
		return copy_lines(in, out, kind, count, why, whylen);
	buf = xmalloc(DIAG_JSON_MAX + 1);
	len = fread(buf, 1, DIAG_JSON_MAX + 1, in);
	if (len <= DIAG_JSON_MAX && !ferror(in))
		v = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (v == NULL) { /* too big or not JSON: as text, from the start */
		if (at < 0 || fseek(in, at, SEEK_SET) != 0)
			return wg_fail(WG_E_IO, why, whylen, "cannot read it "
			    "again as text");
		clearerr(in);
		return copy_lines(in, out, DIAG_TEXT, count, why, whylen);
	}
	if (put_json(v, out, 0, count) != 0 || ferror(out)) {
		json_decref(v);
		return wg_fail(WG_E_IO, why, whylen, "writing a temporary "
		    "file failed");
	}
	json_decref(v);
	return WG_OK;
}
