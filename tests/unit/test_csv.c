/*
 * The streaming CSV reader: RFC 4180 rules, the two kinds of error, the
 * limits, and that the way the input is cut into pieces never matters.
 * Every check reads its input whole and byte by byte and requires the
 * same outcome (csv_dump.h shows the outcome format).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/csv.h"
#include "common/xmalloc.h"
#include "csv_dump.h"

static const struct csv_limits small = { .max_field = 8, .max_fields = 3,
	.max_record = 16 };

/* The outcome of reading in, which must not depend on the pieces. */
static char *
outcome(const struct csv_limits *lim, const char *in, size_t n)
{
	char *whole = csv_dump(lim, in, n, 0);
	char *bytes = csv_dump(lim, in, n, 1);
	char *threes = csv_dump(lim, in, n, 3);

	assert_string_equal(bytes, whole);
	assert_string_equal(threes, whole);
	free(bytes);
	free(threes);
	return whole;
}

static void
check_n(const struct csv_limits *lim, const char *in, size_t n,
    const char *want)
{
	char *got = outcome(lim, in, n);

	assert_string_equal(got, want);
	free(got);
}

#define CHECK(lim, in, want) check_n((lim), (in), sizeof(in) - 1, (want))

static void
test_csv_feed_records(void **state)
{
	CHECK(NULL, "a,b,c\n1,2,3\n",
	    "1: \"a\" \"b\" \"c\"\n2: \"1\" \"2\" \"3\"\nend\n");
	/* The last line needs no line end. */
	CHECK(NULL, "a,b\n1,2", "1: \"a\" \"b\"\n2: \"1\" \"2\"\nend\n");
	/* Empty fields: before, between and after separators. */
	CHECK(NULL, ",a,,b,\n", "1: \"\" \"a\" \"\" \"b\" \"\"\nend\n");
	CHECK(NULL, ",\n", "1: \"\" \"\"\nend\n");
	/* Spaces are data. */
	CHECK(NULL, " a , b \n", "1: \" a \" \" b \"\nend\n");
}

static void
test_csv_feed_line_ends(void **state)
{
	CHECK(NULL, "a,b\r\n1,2\r\n", "1: \"a\" \"b\"\n2: \"1\" \"2\"\nend\n");
	CHECK(NULL, "a\r\nb\nc\r\n", "1: \"a\"\n2: \"b\"\n3: \"c\"\nend\n");
	/* A CR not followed by LF is data; one at the very end is not. */
	CHECK(NULL, "a\rb,\rc\n", "1: \"a\\rb\" \"\\rc\"\nend\n");
	CHECK(NULL, "\rx\n", "1: \"\\rx\"\nend\n");
	CHECK(NULL, "a,b\r", "1: \"a\" \"b\"\nend\n");
	CHECK(NULL, "\"a\"\r\n\"b\"\r", "1: \"a\"\n2: \"b\"\nend\n");
}

static void
test_csv_feed_blank_lines(void **state)
{
	CHECK(NULL, "\n\na\n\r\n\nb\n\n", "3: \"a\"\n6: \"b\"\nend\n");
	CHECK(NULL, "\r\n\r\n", "end\n");
	CHECK(NULL, "\r", "end\n");
	CHECK(NULL, "", "end\n");
}

static void
test_csv_feed_bom(void **state)
{
	CHECK(NULL, "\xef\xbb\xbf" "a,b\n", "1: \"a\" \"b\"\nend\n");
	CHECK(NULL, "\xef\xbb\xbf", "end\n");
	CHECK(NULL, "\xef\xbb\xbf\r\n", "end\n");
	/* Columns do not count the BOM. */
	CHECK(NULL, "\xef\xbb\xbf" "ab\"c\n",
	    "fatal: line 1, column 3: a quote inside an unquoted field "
	    "(quote the whole field, and write a quote in it as two)\n");
	/* Only at the very start: elsewhere it is data (U+FEFF). */
	CHECK(NULL, "a\n\xef\xbb\xbf" "b\n",
	    "1: \"a\"\n2: \"\xef\xbb\xbf" "b\"\nend\n");
	CHECK(NULL, "\xef\xbb\xbf\xef\xbb\xbf" "b\n",
	    "1: \"\xef\xbb\xbf" "b\"\nend\n");
	/* A BOM cut short is data: here, invalid UTF-8. */
	CHECK(NULL, "\xef\xbb",
	    "1: error: line 1, column 1: invalid UTF-8 in field 1\nend\n");
	CHECK(NULL, "\xef\xbb" "a\n",
	    "1: error: line 1, column 1: invalid UTF-8 in field 1\nend\n");
	CHECK(NULL, "\xef" "a\n",
	    "1: error: line 1, column 1: invalid UTF-8 in field 1\nend\n");
}

static void
test_csv_feed_quoted(void **state)
{
	CHECK(NULL, "\"a,b\",\"c\"\"d\"\n", "1: \"a,b\" \"c\\\"d\"\nend\n");
	CHECK(NULL, "\"\"\n", "1: \"\"\nend\n");
	CHECK(NULL, "\"\"\"\"\n", "1: \"\\\"\"\nend\n");
	CHECK(NULL, "\"\",\"\"", "1: \"\" \"\"\nend\n");
	/* Line ends inside quotes are data, kept as they are; the record
	 * is numbered by its first line and the next one by its own. */
	CHECK(NULL, "x,\"a\nb\r\nc\"\ny\n",
	    "1: \"x\" \"a\\nb\\r\\nc\"\n4: \"y\"\nend\n");
	CHECK(NULL, "\"\n\n\"\r\n\"z\"", "1: \"\\n\\n\"\n4: \"z\"\nend\n");
	/* A lone CR in quotes is data too. */
	CHECK(NULL, "\"a\rb\"\n", "1: \"a\\rb\"\nend\n");
}

static void
test_csv_feed_utf8(void **state)
{
	CHECK(NULL, "Caf\xc3\xa9,\xe2\x82\xac,\xf0\x9f\x92\xbb\n",
	    "1: \"Caf\xc3\xa9\" \"\xe2\x82\xac\" \"\xf0\x9f\x92\xbb\"\nend\n");
	/* Overlong, surrogate, above U+10FFFF, stray continuation, bad
	 * lead: the column is where the sequence starts. */
	CHECK(NULL, "ab,c\xc0\x80\n",
	    "1: error: line 1, column 5: invalid UTF-8 in field 2\nend\n");
	CHECK(NULL, "\xed\xa0\x80\n",
	    "1: error: line 1, column 1: invalid UTF-8 in field 1\nend\n");
	CHECK(NULL, "x\xf4\x90\x80\x80\n",
	    "1: error: line 1, column 2: invalid UTF-8 in field 1\nend\n");
	CHECK(NULL, "xy\x80\n",
	    "1: error: line 1, column 3: invalid UTF-8 in field 1\nend\n");
	CHECK(NULL, "\xf5\x80\x80\x80\n",
	    "1: error: line 1, column 1: invalid UTF-8 in field 1\nend\n");
	/* Cut by the end of the field, quoted or not. */
	CHECK(NULL, "a\xe2\x82,b\n",
	    "1: error: line 1, column 2: invalid UTF-8 in field 1\nend\n");
	CHECK(NULL, "\"a\xe2\x82\"\n",
	    "1: error: line 1, column 3: invalid UTF-8 in field 1\nend\n");
	/* The reader goes on with the next record. */
	CHECK(NULL, "\xff\nok\n",
	    "1: error: line 1, column 1: invalid UTF-8 in field 1\n"
	    "2: \"ok\"\nend\n");
}

static void
test_csv_feed_nul(void **state)
{
	CHECK(NULL, "a,b\0c\nd\n",
	    "1: error: line 1, column 4: a NUL byte in field 2\n"
	    "2: \"d\"\nend\n");
	CHECK(NULL, "\"x\ny\0\",z\nd",
	    "1: error: line 2, column 2: a NUL byte in field 1\n"
	    "3: \"d\"\nend\n");
	CHECK(NULL, "\0", "1: error: line 1, column 1: a NUL byte in field "
	    "1\nend\n");
}

static void
test_csv_feed_limits(void **state)
{
	/* max_field 8, max_fields 3, max_record 16 (raw bytes). */
	CHECK(&small, "12345678,a\n", "1: \"12345678\" \"a\"\nend\n");
	CHECK(&small, "123456789,a\nok\n",
	    "1: error: line 1, column 9: field 1 is longer than 8 bytes\n"
	    "2: \"ok\"\nend\n");
	CHECK(&small, "\"abcdefgh\"\"\"\n",
	    "1: error: line 1, column 11: field 1 is longer than 8 bytes\n"
	    "end\n");
	CHECK(&small, "a,b,c\n", "1: \"a\" \"b\" \"c\"\nend\n");
	CHECK(&small, "a,b,c,d\nok\n",
	    "1: error: line 1, column 6: the record has more than 3 fields\n"
	    "2: \"ok\"\nend\n");
	CHECK(&small, "1234567,12345678\n", "1: \"1234567\" \"12345678\"\n"
	    "end\n");
	CHECK(&small, "1234567,12345678,\nok\n",
	    "1: error: line 1, column 17: the record is longer than 16 "
	    "bytes\n2: \"ok\"\nend\n");
	/* Over the record limit partly inside quotes: the quoted field is
	 * still shorter than the limit, so the reader resynchronises. */
	CHECK(&small, "1234567,\"12,\n45\",\"6,\nx\"\nok\n",
	    "1: error: line 2, column 4: the record is longer than 16 "
	    "bytes\n4: \"ok\"\nend\n");
	/* The line end does not count. */
	CHECK(&small, "1234567,12345678\r\nok",
	    "1: \"1234567\" \"12345678\"\n2: \"ok\"\nend\n");
}

static void
test_csv_feed_syntax(void **state)
{
	CHECK(NULL, "a,b\nc,ab\"c\nd\n",
	    "1: \"a\" \"b\"\nfatal: line 2, column 5: a quote inside an "
	    "unquoted field (quote the whole field, and write a quote in "
	    "it as two)\n");
	CHECK(NULL, "\"ab\"c\n",
	    "fatal: line 1, column 5: characters after a closing quote "
	    "(write a quote inside a quoted field as two)\n");
	CHECK(NULL, "\"ab\" ,c\n",
	    "fatal: line 1, column 5: characters after a closing quote "
	    "(write a quote inside a quoted field as two)\n");
	CHECK(NULL, "\"ab\"\rc\n",
	    "fatal: line 1, column 5: characters after a closing quote "
	    "(a carriage return without a line feed)\n");
	CHECK(NULL, "ok\nx,\"abc\ndef",
	    "1: \"ok\"\nfatal: line 2, column 3: a quoted field opened "
	    "here is not closed at the end of the input\n");
	/* A quoted field longer than the record limit cannot be one: it
	 * is reported where it opened, before the end of the input. */
	CHECK(&small, "ok\nx,\"0123456789abcdef\nmore\n",
	    "1: \"ok\"\nfatal: line 2, column 3: a quoted field runs on for "
	    "more than 16 bytes; is its closing quote missing?\n");
	CHECK(&small, "\"0123456789abcd\"\n", "1: error: line 1, column 10: "
	    "field 1 is longer than 8 bytes\nend\n");
	CHECK(&small, "\"0123456789abcde\"\n", "fatal: line 1, column 1: a "
	    "quoted field runs on for more than 16 bytes; is its closing "
	    "quote missing?\n");
}

/* A stopped reader answers with its error again, without reading. */
static void
test_csv_feed_stopped(void **state)
{
	struct csv_reader *r = csv_new(NULL);
	char *t;

	assert_non_null(r);
	t = csv_dump(NULL, "a\"", 2, 0);
	assert_string_equal(t, "fatal: line 1, column 2: a quote inside an "
	    "unquoted field (quote the whole field, and write a quote in it "
	    "as two)\n");
	free(t);
	assert_int_equal(csv_feed(r, "a\"", 2, NULL, NULL), WG_E_CSV_SYNTAX);
	assert_int_equal(csv_feed(r, "b\n", 2, NULL, NULL), WG_E_CSV_SYNTAX);
	assert_int_equal(csv_finish(r, NULL, NULL), WG_E_CSV_SYNTAX);
	assert_string_equal(csv_error(r), "line 1, column 2: a quote inside "
	    "an unquoted field (quote the whole field, and write a quote in "
	    "it as two)");
	csv_free(r);
}

struct count {
	int records;
	int stop_at;
};

static enum wg_err
count_cb(void *arg, const struct csv_record *rec)
{
	struct count *c = arg;

	assert_int_equal(rec->err, CSV_REC_OK);
	assert_string_equal(rec->why, "");
	assert_int_equal(rec->fields[rec->nfields - 1].data[
	    rec->fields[rec->nfields - 1].len], '\0');
	return ++c->records == c->stop_at ? WG_E_DB_ERROR : WG_OK;
}

static void
test_csv_feed_callback_stops(void **state)
{
	struct csv_reader *r = csv_new(NULL);
	struct count c = { 0, 2 };
	static const char in[] = "a\nb\nc\nd\n";

	assert_non_null(r);
	assert_int_equal(csv_feed(r, in, sizeof(in) - 1, count_cb, &c),
	    WG_E_DB_ERROR);
	assert_int_equal(c.records, 2);
	assert_int_equal(csv_feed(r, "e\n", 2, count_cb, &c), WG_E_DB_ERROR);
	assert_int_equal(csv_finish(r, count_cb, &c), WG_E_DB_ERROR);
	assert_int_equal(c.records, 2);
	assert_string_equal(csv_error(r), "");
	csv_free(r);
}

static void
test_csv_finish_once(void **state)
{
	struct csv_reader *r = csv_new(NULL);
	struct count c = { 0, 0 };

	assert_non_null(r);
	assert_int_equal(csv_feed(r, "a,b\nc", 5, count_cb, &c), WG_OK);
	assert_int_equal(c.records, 1);
	assert_int_equal(csv_line(r), 2);
	assert_int_equal(csv_finish(r, count_cb, &c), WG_OK);
	assert_int_equal(c.records, 2);
	assert_int_equal(csv_feed(r, "d\n", 2, count_cb, &c), WG_E_INTERNAL);
	assert_int_equal(csv_finish(r, count_cb, &c), WG_E_INTERNAL);
	assert_int_equal(csv_feed(r, NULL, 0, count_cb, &c), WG_E_INTERNAL);
	csv_free(r);
}

static void
test_csv_new_limits(void **state)
{
	struct csv_limits l = { .max_field = 10, .max_fields = 1,
		.max_record = 9 };

	assert_null(csv_new(&l)); /* a field longer than a record */
	l.max_record = CSV_LIMIT_MAX_RECORD + 1;
	assert_null(csv_new(&l));
	l.max_record = 10;
	l.max_fields = CSV_LIMIT_MAX_FIELDS + 1;
	assert_null(csv_new(&l));
	l.max_fields = 1;
	csv_free(csv_new(&l));
	csv_free(NULL);
	/* Defaults: 64 fields are fine, 65 are not. */
	check_n(NULL, ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"
	    ",,,,,,,,,\n", 64, "1: \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" "
	    "\"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" "
	    "\"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" "
	    "\"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" "
	    "\"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\"\n"
	    "end\n");
	check_n(NULL, ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"
	    ",,,,,,,,,,\n", 65, "1: error: line 1, column 64: the record has "
	    "more than 64 fields\nend\n");
}

/*
 * One input with every rule in it, cut into two pieces at every byte and
 * fed byte by byte: always the same outcome as read whole.
 */
static void
test_csv_feed_every_cut(void **state)
{
	static const char in[] = "\xef\xbb\xbf" "Device Serial Number,Windows "
	    "Product ID,Hardware Hash\r\n\r\n"
	    "SN1,,\"T0Y=\"\r\n"
	    "\"S,N\"\"2\",\"a\r\nb\",\"Caf\xc3\xa9\"\n"
	    "x\ry,\xe2\x82\xac,\n"
	    "bad\0,nul\n"
	    "\"utf\xc3\",8\n"
	    "1,2,3,4\n"
	    "123456789,a\n"
	    "1234567,\"12,\n45\",\"6,\nx\"\n"
	    "\n"
	    "last,\"\"\"\"\r";
	char *whole, *a, *b, *buf;
	size_t n = sizeof(in) - 1, cut;

	whole = csv_dump(&small, in, n, 0);
	/* Spot checks that the input exercises what it should. */
	assert_string_equal(whole,
	    "1: error: line 1, column 9: field 1 is longer than 8 bytes\n"
	    "3: \"SN1\" \"\" \"T0Y=\"\n"
	    "4: error: line 5, column 4: the record is longer than 16 bytes\n"
	    "6: \"x\\ry\" \"\xe2\x82\xac\" \"\"\n"
	    "7: error: line 7, column 4: a NUL byte in field 1\n"
	    "8: error: line 8, column 5: invalid UTF-8 in field 1\n"
	    "9: error: line 9, column 6: the record has more than 3 fields\n"
	    "10: error: line 10, column 9: field 1 is longer than 8 bytes\n"
	    "11: error: line 12, column 4: the record is longer than 16 "
	    "bytes\n"
	    "15: \"last\" \"\\\"\"\n"
	    "end\n");
	for (cut = 0; cut <= n; cut++) {
		/* Two pieces, the first of cut bytes, via a copy so that a
		 * read past a piece's end is caught by ASan. */
		buf = xmalloc(n + 1);
		memcpy(buf, in, n);
		a = csv_dump(&small, buf, n, cut);
		free(buf);
		assert_string_equal(a, whole);
		free(a);
	}
	b = csv_dump(&small, in, n, 1);
	assert_string_equal(b, whole);
	free(b);
	free(whole);
}

/* Memory stays bounded whatever the input: a 4 MiB line is skipped. */
static void
test_csv_feed_long_line(void **state)
{
	size_t n = 4u << 20;
	char *in = xmalloc(n + 8), *got;

	memset(in, 'A', n);
	memcpy(in + n, "\nok\n", 4);
	got = csv_dump(&small, in, n + 4, 4096);
	assert_string_equal(got, "1: error: line 1, column 9: field 1 is "
	    "longer than 8 bytes\n2: \"ok\"\nend\n");
	free(got);
	in[0] = '"';
	got = csv_dump(&small, in, n + 4, 4096);
	assert_string_equal(got, "fatal: line 1, column 1: a quoted field "
	    "runs on for more than 16 bytes; is its closing quote missing?\n");
	free(got);
	free(in);
}

/* Fields are quoted exactly when the reader would not get them back. */
static void
test_csv_write_field_quotes_when_needed(void **state)
{
	static const char *const in[] = { "", "plain", "a,b", "say \"hi\"",
		"two\nlines", " edge", "edge ", "mid dle" };
	static const char *const want[] = { "", "plain", "\"a,b\"",
		"\"say \"\"hi\"\"\"", "\"two\nlines\"", "\" edge\"",
		"\"edge \"", "mid dle" };
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_non_null(f = open_memstream(&buf, &len));
		csv_write_field(f, in[i]);
		assert_int_equal(fclose(f), 0);
		assert_string_equal(buf, want[i]);
		free(buf);
		buf = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_feed_records),
		cmocka_unit_test(test_csv_feed_line_ends),
		cmocka_unit_test(test_csv_feed_blank_lines),
		cmocka_unit_test(test_csv_feed_bom),
		cmocka_unit_test(test_csv_feed_quoted),
		cmocka_unit_test(test_csv_feed_utf8),
		cmocka_unit_test(test_csv_feed_nul),
		cmocka_unit_test(test_csv_feed_limits),
		cmocka_unit_test(test_csv_feed_syntax),
		cmocka_unit_test(test_csv_feed_stopped),
		cmocka_unit_test(test_csv_feed_callback_stops),
		cmocka_unit_test(test_csv_finish_once),
		cmocka_unit_test(test_csv_new_limits),
		cmocka_unit_test(test_csv_feed_every_cut),
		cmocka_unit_test(test_csv_feed_long_line),
		cmocka_unit_test(test_csv_write_field_quotes_when_needed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
