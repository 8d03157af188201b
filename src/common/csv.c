/*
 * The streaming CSV reader (csv.h): one state machine over the bytes,
 * with data runs scanned by table lookup and copied in one memcpy, so the
 * cost per byte is a load and a test.  Every check happens at one byte of
 * the input, never at a piece boundary, so however the input is cut into
 * pieces the records and errors come out the same.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "xmalloc.h"

enum csv_state {
	ST_BOM,		/* at the very start: matching EF BB BF */
	ST_REC_START,	/* between records */
	ST_REC_START_CR, /* a CR where a record would start */
	ST_FIELD_START,	/* a field begins here */
	ST_UNQUOTED,
	ST_QUOTED,
	ST_QUOTE,	/* a quote in a quoted field: closing, or the first of "" */
	ST_CR,		/* a CR outside quotes inside a record */
	ST_DEAD,	/* stopped by an error; r->dead says which */
};

struct csv_reader {
	struct csv_limits lim;
	enum csv_state state;
	enum csv_state cr_from;	/* the state a CR in ST_CR came from */
	enum wg_err dead;
	unsigned bom_seen;	/* BOM bytes matched so far */
	int finished;
	uint64_t line, col;	/* position of the next byte */

	/* The record being read. */
	uint64_t rec_line;
	size_t rec_bytes;	/* raw bytes so far, up to lim.max_record */
	size_t qbytes;		/* raw bytes of the open quoted field */
	uint64_t qline, qcol;	/* where that field's quote opened */
	char *buf;		/* field values, each NUL-terminated */
	size_t len, cap;	/* cap <= max_record + max_fields + 1 */
	size_t *starts;		/* offset in buf of each field */
	struct csv_field *fields; /* built for the callback */
	size_t nfields, starts_cap; /* starts_cap <= lim.max_fields */

	/* UTF-8 decoding of the current field (RFC 3629 section 4). */
	unsigned u8_need;	/* continuation bytes still expected */
	unsigned char u8_lo, u8_hi; /* range of the next continuation byte */
	uint64_t u8_line, u8_col; /* where the sequence started */

	/* The record's error, if any. */
	enum csv_rec_err rec_err;
	uint64_t err_line, err_col;
	char why[192];

	char error[192];	/* the syntax error */
};

struct sink {
	csv_record_cb cb;
	void *arg;
};

/* Bytes that end a run of unquoted data. */
static const unsigned char unq_stop[256] = {
	[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1, [0] = 1,
};
/* Bytes that end a run of quoted data. */
static const unsigned char q_stop[256] = {
	['"'] = 1, ['\n'] = 1, [0] = 1,
};

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

static size_t
limit_or(size_t v, size_t dflt)
{
	return v != 0 ? v : dflt;
}

struct csv_reader *
csv_new(const struct csv_limits *lim)
{
	struct csv_limits l = { 0 };
	struct csv_reader *r;

	if (lim != NULL)
		l = *lim;
	l.max_field = limit_or(l.max_field, CSV_DEFAULT_MAX_FIELD);
	l.max_fields = limit_or(l.max_fields, CSV_DEFAULT_MAX_FIELDS);
	l.max_record = limit_or(l.max_record, CSV_DEFAULT_MAX_RECORD);
	if (l.max_record > CSV_LIMIT_MAX_RECORD ||
	    l.max_fields > CSV_LIMIT_MAX_FIELDS || l.max_field > l.max_record)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->lim = l;
	r->state = ST_BOM;
	r->line = 1;
	r->col = 1;
	return r;
}

void
csv_free(struct csv_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->starts);
	free(r->fields);
	free(r);
}

const char *
csv_error(const struct csv_reader *r)
{
	return r->error;
}

uint64_t
csv_line(const struct csv_reader *r)
{
	return r->line;
}

/* Stops the reader with a syntax error at line, col. */
static enum wg_err
syntax(struct csv_reader *r, uint64_t line, uint64_t col, const char *what)
{
	snprintf(r->error, sizeof(r->error), "line %" PRIu64 ", column %"
	    PRIu64 ": %s", line, col, what);
	r->state = ST_DEAD;
	r->dead = WG_E_CSV_SYNTAX;
	return WG_E_CSV_SYNTAX;
}

/* Spoils the current record (the first error is the one reported). */
static void
rec_error(struct csv_reader *r, enum csv_rec_err err, uint64_t line,
    uint64_t col)
{
	char what[96];

	if (r->rec_err != CSV_REC_OK)
		return;
	r->rec_err = err;
	r->err_line = line;
	r->err_col = col;
	switch (err) {
	case CSV_REC_FIELD_TOO_LONG:
		snprintf(what, sizeof(what), "field %zu is longer than %zu "
		    "bytes", r->nfields + 1, r->lim.max_field);
		break;
	case CSV_REC_RECORD_TOO_LONG:
		snprintf(what, sizeof(what), "the record is longer than %zu "
		    "bytes", r->lim.max_record);
		break;
	case CSV_REC_TOO_MANY_FIELDS:
		snprintf(what, sizeof(what), "the record has more than %zu "
		    "fields", r->lim.max_fields);
		break;
	case CSV_REC_NUL:
		snprintf(what, sizeof(what), "a NUL byte in field %zu",
		    r->nfields + 1);
		break;
	default:
		snprintf(what, sizeof(what), "invalid UTF-8 in field %zu",
		    r->nfields + 1);
		break;
	}
	snprintf(r->why, sizeof(r->why), "line %" PRIu64 ", column %" PRIu64
	    ": %s", line, col, what);
}

/* Room for extra more bytes in buf; never beyond the limits' bound. */
static void
ensure(struct csv_reader *r, size_t extra)
{
	size_t hard = r->lim.max_record + r->lim.max_fields + 1;
	size_t need = r->len + extra, ncap;

	if (need <= r->cap)
		return;
	if (need > hard)
		abort(); /* a bug: the limits bound what is stored */
	ncap = r->cap < 256 ? 256 : r->cap;
	while (ncap < need)
		ncap = ncap > hard / 2 ? hard : 2 * ncap;
	r->buf = xrealloc(r->buf, ncap);
	r->cap = ncap;
}

/* Starts a UTF-8 sequence at lead byte c; 0 if c cannot start one. */
static int
utf8_lead(struct csv_reader *r, unsigned char c, uint64_t col)
{
	r->u8_lo = 0x80;
	r->u8_hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		r->u8_need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		r->u8_need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		r->u8_need = 3;
	else
		return 0;
	if (c == 0xe0)
		r->u8_lo = 0xa0;	/* overlong */
	else if (c == 0xed)
		r->u8_hi = 0x9f;	/* surrogates */
	else if (c == 0xf0)
		r->u8_lo = 0x90;	/* overlong */
	else if (c == 0xf4)
		r->u8_hi = 0x8f;	/* above U+10FFFF */
	r->u8_line = r->line;
	r->u8_col = col;
	return 1;
}

/*
 * Checks n bytes of field data starting at column col.  Returns the
 * offset of the byte that makes the field invalid UTF-8 (u8_line and
 * u8_col then name where its sequence started), or n.
 */
static size_t
utf8_scan(struct csv_reader *r, const unsigned char *p, size_t n,
    uint64_t col)
{
	uint64_t w;
	size_t i = 0;

	while (i < n) {
		if (r->u8_need == 0) {
			while (n - i >= 8) {
				memcpy(&w, p + i, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			while (i < n && p[i] < 0x80)
				i++;
			if (i == n)
				break;
			if (!utf8_lead(r, p[i], col + i)) {
				r->u8_line = r->line;
				r->u8_col = col + i;
				return i;
			}
		} else {
			if (p[i] < r->u8_lo || p[i] > r->u8_hi)
				return i;
			r->u8_lo = 0x80;
			r->u8_hi = 0xbf;
			r->u8_need--;
		}
		i++;
	}
	return n;
}

/*
 * Accounts n raw bytes of the record at the current column.  data, when
 * not NULL, is n bytes of the current field's value, checked and stored.
 */
static void
take(struct csv_reader *r, const char *data, size_t n)
{
	uint64_t col = r->col;
	size_t room, ok, fok, flen, bad;

	r->col += n;
	if (r->rec_err != CSV_REC_OK)
		return;
	room = r->lim.max_record - r->rec_bytes;
	ok = n <= room ? n : room;
	if (data != NULL) {
		flen = r->len - r->starts[r->nfields];
		fok = ok <= r->lim.max_field - flen ? ok :
		    r->lim.max_field - flen;
		bad = utf8_scan(r, (const unsigned char *)data, fok, col);
		if (bad < fok) {
			rec_error(r, CSV_REC_UTF8, r->u8_line, r->u8_col);
			return;
		}
		if (fok < ok) {
			rec_error(r, CSV_REC_FIELD_TOO_LONG, r->line, col + fok);
			return;
		}
		ensure(r, ok + 1);
		memcpy(r->buf + r->len, data, ok);
		r->len += ok;
	}
	if (ok < n)
		rec_error(r, CSV_REC_RECORD_TOO_LONG, r->line, col + ok);
	else
		r->rec_bytes += n;
}

/* A NUL byte at the current column: the record is spoiled. */
static void
take_nul(struct csv_reader *r)
{
	uint64_t col = r->col;

	take(r, NULL, 1);
	rec_error(r, CSV_REC_NUL, r->line, col);
}

/* A new field begins; sep_col is where its separator was. */
static void
field_begin(struct csv_reader *r, uint64_t sep_col)
{
	size_t ncap;

	if (r->rec_err != CSV_REC_OK)
		return;
	if (r->nfields == r->lim.max_fields) {
		rec_error(r, CSV_REC_TOO_MANY_FIELDS, r->line, sep_col);
		return;
	}
	if (r->nfields == r->starts_cap) {
		ncap = r->starts_cap < 8 ? 8 : 2 * r->starts_cap;
		if (ncap > r->lim.max_fields)
			ncap = r->lim.max_fields;
		r->starts = xrealloc(r->starts, ncap * sizeof(*r->starts));
		r->fields = xrealloc(r->fields, ncap * sizeof(*r->fields));
		r->starts_cap = ncap;
	}
	r->starts[r->nfields] = r->len;
}

static void
field_end(struct csv_reader *r)
{
	if (r->rec_err == CSV_REC_OK && r->u8_need != 0)
		rec_error(r, CSV_REC_UTF8, r->u8_line, r->u8_col);
	r->u8_need = 0;
	if (r->rec_err != CSV_REC_OK)
		return;
	ensure(r, 1);
	r->buf[r->len++] = '\0';
	r->nfields++;
}

/* A separator at the current column ends one field and begins the next. */
static void
separator(struct csv_reader *r)
{
	uint64_t col = r->col;

	take(r, NULL, 1);
	field_end(r);
	field_begin(r, col);
	r->state = ST_FIELD_START;
}

/* Hands the finished record to the callback and starts afresh. */
static enum wg_err
end_record(struct csv_reader *r, const struct sink *s)
{
	struct csv_record rec = { .line = r->rec_line, .why = "" };
	enum wg_err rc;
	size_t i, end;

	field_end(r);
	if (r->rec_err == CSV_REC_OK) {
		for (i = 0; i < r->nfields; i++) {
			end = i + 1 < r->nfields ? r->starts[i + 1] : r->len;
			r->fields[i].data = r->buf + r->starts[i];
			r->fields[i].len = end - r->starts[i] - 1;
		}
		rec.fields = r->fields;
		rec.nfields = r->nfields;
	} else {
		rec.err = r->rec_err;
		rec.err_line = r->err_line;
		rec.err_column = r->err_col;
		rec.why = r->why;
	}
	rc = s->cb(s->arg, &rec);
	r->len = 0;
	r->nfields = 0;
	r->rec_bytes = 0;
	r->rec_err = CSV_REC_OK;
	r->why[0] = '\0';
	r->state = ST_REC_START;
	if (rc != WG_OK) {
		r->state = ST_DEAD;
		r->dead = rc;
	}
	return rc;
}

/* A line end outside quotes (its last byte, LF, is at the cursor). */
static enum wg_err
line_end(struct csv_reader *r, const struct sink *s)
{
	enum wg_err rc = end_record(r, s);

	r->line++;
	r->col = 1;
	return rc;
}

/* Counts n more raw bytes of the open quoted field against the limit. */
static enum wg_err
quoted_bytes(struct csv_reader *r, size_t n)
{
	char what[160];

	if (n > r->lim.max_record - r->qbytes) {
		snprintf(what, sizeof(what), "a quoted field runs on for more "
		    "than %zu bytes; is its closing quote missing?",
		    r->lim.max_record);
		return syntax(r, r->qline, r->qcol, what);
	}
	r->qbytes += n;
	return WG_OK;
}

static void
begin_record(struct csv_reader *r)
{
	r->rec_line = r->line;
	field_begin(r, r->col);
	r->state = ST_FIELD_START;
}

/* Between records: blank lines are skipped. */
static void
step_rec_start(struct csv_reader *r, const char **pp)
{
	if (**pp == '\n') {
		r->line++;
		r->col = 1;
		(*pp)++;
	} else if (**pp == '\r') {
		r->state = ST_REC_START_CR;
		(*pp)++;
	} else {
		begin_record(r);
	}
}

/* After a CR where a record would start: CRLF is a blank line. */
static void
step_rec_start_cr(struct csv_reader *r, const char **pp)
{
	if (**pp == '\n') {
		r->line++;
		r->col = 1;
		r->state = ST_REC_START;
		(*pp)++;
		return;
	}
	begin_record(r);
	take(r, "\r", 1);
	r->state = ST_UNQUOTED;
}

/*
 * A byte outside quotes that may end a field: ',' or a line end.  Returns
 * 1 when c was one (and handled; *rc says how it went), else 0.  from is
 * the state a CR leaves behind until the next byte says what it is.
 */
static int
field_boundary(struct csv_reader *r, char c, enum csv_state from,
    const struct sink *s, enum wg_err *rc)
{
	*rc = WG_OK;
	switch (c) {
	case ',':
		separator(r);
		return 1;
	case '\n':
		*rc = line_end(r, s);
		return 1;
	case '\r':
		r->state = ST_CR;
		r->cr_from = from;
		return 1;
	default:
		return 0;
	}
}

static enum wg_err
step_field_start(struct csv_reader *r, const char **pp,
    const struct sink *s)
{
	enum wg_err rc = WG_OK;

	if (field_boundary(r, **pp, ST_FIELD_START, s, &rc)) {
		(*pp)++;
		return rc;
	}
	if (**pp != '"') {
		r->state = ST_UNQUOTED;
		return WG_OK; /* the byte is the field's first */
	}
	r->qline = r->line;
	r->qcol = r->col;
	r->qbytes = 0;
	if ((rc = quoted_bytes(r, 1)) != WG_OK)
		return rc;
	take(r, NULL, 1);
	r->state = ST_QUOTED;
	(*pp)++;
	return WG_OK;
}

static enum wg_err
step_unquoted(struct csv_reader *r, const char **pp, const char *end,
    const struct sink *s)
{
	const char *p = *pp, *q = p;
	enum wg_err rc = WG_OK;

	while (q < end && !unq_stop[(unsigned char)*q])
		q++;
	if (q > p)
		take(r, p, (size_t)(q - p));
	*pp = q;
	if (q == end)
		return WG_OK;
	*pp = q + 1;
	if (field_boundary(r, *q, ST_UNQUOTED, s, &rc))
		return rc;
	if (*q == '"')
		return syntax(r, r->line, r->col, "a quote inside an unquoted "
		    "field (quote the whole field, and write a quote in it "
		    "as two)");
	take_nul(r);
	return WG_OK;
}

static enum wg_err
step_quoted(struct csv_reader *r, const char **pp, const char *end)
{
	const char *p = *pp, *q = p;
	enum wg_err rc;

	while (q < end && !q_stop[(unsigned char)*q])
		q++;
	if (q > p) {
		if ((rc = quoted_bytes(r, (size_t)(q - p))) != WG_OK)
			return rc;
		take(r, p, (size_t)(q - p));
	}
	*pp = q;
	if (q == end)
		return WG_OK;
	if ((rc = quoted_bytes(r, 1)) != WG_OK)
		return rc;
	if (*q == '"') {
		take(r, NULL, 1);
		r->state = ST_QUOTE;
	} else if (*q == '\n') {
		take(r, "\n", 1);
		r->line++;
		r->col = 1;
	} else {
		take_nul(r);
	}
	*pp = q + 1;
	return WG_OK;
}

/* After a quote in a quoted field: "" goes on, else the field ended. */
static enum wg_err
step_quote(struct csv_reader *r, const char **pp, const struct sink *s)
{
	enum wg_err rc;

	if (field_boundary(r, **pp, ST_QUOTE, s, &rc)) {
		(*pp)++;
		return rc;
	}
	if (**pp != '"')
		return syntax(r, r->line, r->col, "characters after a closing "
		    "quote (write a quote inside a quoted field as two)");
	if ((rc = quoted_bytes(r, 1)) != WG_OK)
		return rc;
	take(r, "\"", 1);
	r->state = ST_QUOTED;
	(*pp)++;
	return WG_OK;
}

/* After a CR outside quotes (r->col is still the CR's): CRLF ends it. */
static enum wg_err
step_cr(struct csv_reader *r, const char **pp, const struct sink *s)
{
	if (**pp == '\n') {
		(*pp)++;
		return line_end(r, s);
	}
	if (r->cr_from == ST_QUOTE)
		return syntax(r, r->line, r->col, "characters after a closing "
		    "quote (a carriage return without a line feed)");
	take(r, "\r", 1);
	r->state = ST_UNQUOTED;
	return WG_OK;
}

static enum wg_err run(struct csv_reader *r, const char *p, const char *end,
    const struct sink *s);

/* The BOM bytes matched so far were data after all: read them as such. */
static enum wg_err
bom_replay(struct csv_reader *r, const struct sink *s)
{
	unsigned seen = r->bom_seen;

	r->state = ST_REC_START;
	r->bom_seen = 0;
	if (seen == 0)
		return WG_OK;
	return run(r, (const char *)bom, (const char *)bom + seen, s);
}

static enum wg_err
step_bom(struct csv_reader *r, const char **pp, const struct sink *s)
{
	if ((unsigned char)**pp != bom[r->bom_seen])
		return bom_replay(r, s);
	(*pp)++;
	if (++r->bom_seen == sizeof(bom))
		r->state = ST_REC_START;
	return WG_OK;
}

static enum wg_err
run(struct csv_reader *r, const char *p, const char *end,
    const struct sink *s)
{
	enum wg_err rc = WG_OK;

	while (p < end && rc == WG_OK) {
		switch (r->state) {
		case ST_BOM:
			rc = step_bom(r, &p, s);
			break;
		case ST_REC_START:
			step_rec_start(r, &p);
			break;
		case ST_REC_START_CR:
			step_rec_start_cr(r, &p);
			break;
		case ST_FIELD_START:
			rc = step_field_start(r, &p, s);
			break;
		case ST_UNQUOTED:
			rc = step_unquoted(r, &p, end, s);
			break;
		case ST_QUOTED:
			rc = step_quoted(r, &p, end);
			break;
		case ST_QUOTE:
			rc = step_quote(r, &p, s);
			break;
		case ST_CR:
			rc = step_cr(r, &p, s);
			break;
		case ST_DEAD:
			return r->dead;
		}
	}
	return rc;
}

enum wg_err
csv_feed(struct csv_reader *r, const char *data, size_t n, csv_record_cb cb,
    void *arg)
{
	struct sink s = { cb, arg };

	if (r->state == ST_DEAD)
		return r->dead;
	if (r->finished)
		return WG_E_INTERNAL;
	if (n == 0)
		return WG_OK;
	return run(r, data, data + n, &s);
}

enum wg_err
csv_finish(struct csv_reader *r, csv_record_cb cb, void *arg)
{
	struct sink s = { cb, arg };
	enum wg_err rc = WG_OK;

	if (r->state == ST_DEAD)
		return r->dead;
	if (r->finished)
		return WG_E_INTERNAL;
	if (r->state == ST_BOM && (rc = bom_replay(r, &s)) != WG_OK)
		return rc;
	switch (r->state) {
	case ST_FIELD_START:
	case ST_UNQUOTED:
	case ST_QUOTE:
	case ST_CR:
		rc = end_record(r, &s);
		break;
	case ST_QUOTED:
		rc = syntax(r, r->qline, r->qcol, "a quoted field opened here "
		    "is not closed at the end of the input");
		break;
	default:
		break;
	}
	r->finished = 1;
	return rc;
}

void
csv_write_field(FILE *f, const char *s)
{
	size_t len = strlen(s);

	if (strpbrk(s, ",\"\r\n") == NULL && (len == 0 || (s[0] != ' ' &&
	    s[len - 1] != ' '))) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
