/*
 * libFuzzer harness for the streaming CSV reader (src/common/csv.c).
 *
 * Reads the input twice: whole, and cut at a point the first byte picks
 * with the rest in pieces the second byte sizes.  Both reads must give the
 * same records, record errors and syntax error; every record must keep
 * the promises of csv.h (limits, NUL-terminated fields without NUL bytes,
 * valid UTF-8, lines that never go back).  Small limits, so that inputs
 * of a few hundred bytes reach every limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct csv_limits lim = { .max_field = 24, .max_fields = 5,
	.max_record = 64 };

struct seen {
	uint64_t hash;		/* FNV-1a over everything the callback got */
	uint64_t last_line;
	size_t records;
};

static void
mix(struct seen *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		s->hash ^= b[i];
		s->hash *= UINT64_C(0x100000001b3);
	}
}

/* 1 if p[0..n) is valid UTF-8 (RFC 3629), checked without csv.c. */
static int
utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			need = 1, cp = p[i] & 0x1f;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			need = 2, cp = p[i] & 0x0f;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			need = 3, cp = p[i] & 0x07;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static enum wg_err
on_record(void *arg, const struct csv_record *rec)
{
	struct seen *s = arg;
	size_t i, total = 0;

	if (rec->line < s->last_line || rec->line == 0)
		abort();
	s->last_line = rec->line;
	s->records++;
	mix(s, &rec->line, sizeof(rec->line));
	mix(s, &rec->err, sizeof(rec->err));
	if (rec->err != CSV_REC_OK) {
		if (rec->nfields != 0 || rec->why[0] == '\0' ||
		    rec->err_line < rec->line || rec->err_column == 0)
			abort();
		mix(s, rec->why, strlen(rec->why));
		return WG_OK;
	}
	if (rec->nfields == 0 || rec->nfields > lim.max_fields ||
	    rec->why[0] != '\0')
		abort();
	for (i = 0; i < rec->nfields; i++) {
		const struct csv_field *f = &rec->fields[i];

		total += f->len;
		if (f->len > lim.max_field || f->data[f->len] != '\0' ||
		    memchr(f->data, '\0', f->len) != NULL ||
		    !utf8_ok((const unsigned char *)f->data, f->len))
			abort();
		mix(s, &f->len, sizeof(f->len));
		mix(s, f->data, f->len);
	}
	if (total > lim.max_record)
		abort();
	return WG_OK;
}

/* Reads data in pieces: the first of cut bytes, then of step bytes. */
static enum wg_err
read_pieces(const uint8_t *data, size_t size, size_t cut, size_t step,
    struct seen *s, struct csv_reader *r)
{
	const char *p = (const char *)data;
	enum wg_err rc;
	size_t off, k;

	if ((rc = csv_feed(r, p, cut, on_record, s)) != WG_OK)
		return rc;
	for (off = cut; off < size; off += k) {
		k = size - off < step ? size - off : step;
		if ((rc = csv_feed(r, p + off, k, on_record, s)) != WG_OK)
			return rc;
	}
	return csv_finish(r, on_record, s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen a = { UINT64_C(0xcbf29ce484222325), 0, 0 }, b = a;
	struct csv_reader *ra = csv_new(&lim), *rb = csv_new(&lim);
	size_t cut = size > 0 ? (size_t)data[0] * size / 256 : 0;
	size_t step = size > 1 ? (size_t)data[1] % 16 + 1 : 1;
	enum wg_err rca, rcb;

	if (ra == NULL || rb == NULL)
		abort();
	rca = read_pieces(data, size, size, 1, &a, ra);
	rcb = read_pieces(data, size, cut, step, &b, rb);
	if (rca != rcb || a.hash != b.hash || a.records != b.records ||
	    strcmp(csv_error(ra), csv_error(rb)) != 0)
		abort();
	if (rca != WG_OK && (rca != WG_E_CSV_SYNTAX ||
	    strncmp(csv_error(ra), "line ", 5) != 0))
		abort();
	csv_free(ra);
	csv_free(rb);
	return 0;
}
