/*
 * The outcome of a CSV read as text (csv_dump.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "csv_dump.h"

struct text {
	char *s;
	size_t len, cap;
};

static void
put(struct text *t, const char *s, size_t n)
{
	if (n + 1 > t->cap - t->len) {
		t->cap = 2 * (t->len + n + 1);
		t->s = xrealloc(t->s, t->cap);
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void
puts_text(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void
put_field(struct text *t, const struct csv_field *f)
{
	char esc[8];
	size_t i;
	unsigned char c;

	put(t, " \"", 2);
	for (i = 0; i < f->len; i++) {
		c = (unsigned char)f->data[i];
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\r' || c == '\n' || c == '\t')
			snprintf(esc, sizeof(esc), "\\%c", c == '\r' ? 'r' :
			    c == '\n' ? 'n' : 't');
		else if (c < 0x20 || c == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			snprintf(esc, sizeof(esc), "%c", c);
		puts_text(t, esc);
	}
	put(t, "\"", 1);
}

static enum wg_err
on_record(void *arg, const struct csv_record *rec)
{
	struct text *t = arg;
	char head[64];
	size_t i;

	snprintf(head, sizeof(head), "%" PRIu64 ":", rec->line);
	puts_text(t, head);
	if (rec->err != CSV_REC_OK) {
		puts_text(t, " error: ");
		puts_text(t, rec->why);
	}
	for (i = 0; i < rec->nfields; i++)
		put_field(t, &rec->fields[i]);
	put(t, "\n", 1);
	return WG_OK;
}

char *
csv_dump(const struct csv_limits *lim, const char *in, size_t n, size_t step)
{
	struct text t = { NULL, 0, 0 };
	struct csv_reader *r;
	enum wg_err rc = WG_OK;
	size_t off, k;

	if ((r = csv_new(lim)) == NULL) {
		puts_text(&t, "bad limits\n");
		return t.s;
	}
	if (step == 0)
		step = n > 0 ? n : 1;
	for (off = 0; off < n && rc == WG_OK; off += k) {
		k = n - off < step ? n - off : step;
		rc = csv_feed(r, in + off, k, on_record, &t);
	}
	if (rc == WG_OK)
		rc = csv_finish(r, on_record, &t);
	if (rc == WG_E_CSV_SYNTAX) {
		puts_text(&t, "fatal: ");
		puts_text(&t, csv_error(r));
		puts_text(&t, "\n");
	} else {
		puts_text(&t, rc == WG_OK ? "end\n" : "stopped\n");
	}
	csv_free(r);
	return t.s;
}
