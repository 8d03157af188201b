/*
 * The diagnostics bundle's own parts: the .tar.gz writer (inflated here
 * with zlib and read back block by block: ustar fields, checksum, a long
 * name split into prefix and name, padding, the end blocks) and the
 * redaction of text, JSON members and JSON lines.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "agent/diag_redact.h"
#include "agent/diag_tar.h"

#define OUT_MAX (64 * 1024)

/* The gzip file at fd inflated into out; returns its size. */
static size_t
inflate_all(int fd, unsigned char *out, size_t max)
{
	unsigned char in[OUT_MAX];
	z_stream z;
	ssize_t n;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, in, sizeof(in));
	assert_true(n > 18 && in[0] == 0x1f && in[1] == 0x8b); /* gzip */
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 31), Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)max;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	inflateEnd(&z);
	return max - z.avail_out;
}

/* The octal field of n bytes at p. */
static unsigned long long
octal_field(const unsigned char *p, size_t n)
{
	char buf[16];

	memcpy(buf, p, n);
	buf[n] = '\0';
	return strtoull(buf, NULL, 8);
}

/* 1 if the header block h carries its right checksum. */
static int
checksum_ok(const unsigned char *h)
{
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < 512; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	return sum == octal_field(h + 148, 7);
}

static void
test_diag_tar_members_read_back(void **state)
{
	static unsigned char out[OUT_MAX];
	const char *long_name = "whiteglove-diag-host-20260101T000000Z/apps/"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    ".log";
	char tmpl[] = "/tmp/test_diag_tar.XXXXXX", why[256];
	FILE *src = tmpfile();
	struct diag_tar *t;
	size_t n;
	int fd;

	(void)state;
	assert_non_null(src);
	fputs("hello\n", src);
	rewind(src);
	assert_true((fd = mkstemp(tmpl)) >= 0);
	unlink(tmpl);
	t = diag_tar_new(fd, 1700000000);
	assert_int_equal(diag_tar_add_mem(t, "top/a.json", "{}", 2, why,
	    sizeof(why)), WG_OK);
	/* a source shorter than said is padded to what the header says */
	assert_int_equal(diag_tar_add_file(t, long_name, src, 10, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(diag_tar_count(t), 2);
	assert_int_equal(diag_tar_close(t, why, sizeof(why)), WG_OK);
	fclose(src);
	n = inflate_all(fd, out, sizeof(out));
	close(fd);
	/* two members of one data block each, then two zero blocks */
	assert_int_equal(n, 6 * 512);
	assert_string_equal((char *)out, "top/a.json");
	assert_int_equal(octal_field(out + 124, 11), 2);
	assert_int_equal(octal_field(out + 136, 11), 1700000000);
	assert_int_equal(octal_field(out + 100, 7), 0600);
	assert_memory_equal(out + 257, "ustar\0" "00", 8);
	assert_int_equal(out[156], '0');
	assert_true(checksum_ok(out));
	assert_memory_equal(out + 512, "{}\0", 3);
	/* the long name: its folders in the prefix field */
	assert_string_equal((char *)out + 1024 + 345,
	    "whiteglove-diag-host-20260101T000000Z/apps");
	assert_int_equal(strncmp((char *)out + 1024, long_name + 43, 100), 0);
	assert_int_equal(octal_field(out + 1024 + 124, 11), 10);
	assert_true(checksum_ok(out + 1024));
	assert_memory_equal(out + 1536, "hello\n\0\0\0\0\0", 11);
	for (n = 4 * 512; n < 6 * 512; n++)
		assert_int_equal(out[n], 0);
}

static void
test_diag_tar_add_mem_name_too_long(void **state)
{
	char name[300], why[256];
	struct diag_tar *t;
	int fd = open("/dev/null", O_WRONLY);

	(void)state;
	memset(name, 'a', sizeof(name) - 1); /* no '/' to split at */
	name[sizeof(name) - 1] = '\0';
	t = diag_tar_new(fd, 0);
	assert_int_not_equal(diag_tar_add_mem(t, name, "x", 1, why,
	    sizeof(why)), WG_OK);
	diag_tar_free(t);
	close(fd);
}

/* diag_redact_text(in) must be want, with count redactions. */
static void
redacts(const char *in, const char *want, unsigned count)
{
	unsigned n = 0;
	char *s = diag_redact_text(in, &n);

	if (strcmp(s, want) != 0 || n != count)
		fail_msg("\"%s\" -> \"%s\" (%u), not \"%s\" (%u)", in, s, n,
		    want, count);
	free(s);
}

static void
test_diag_redact_text_patterns(void **state)
{
	(void)state;
	redacts("Authorization: Bearer abc.def", "Authorization: Bearer "
	    "[redacted]", 1);
	redacts("password = hunter2 # x", "password = [redacted] # x", 1);
	redacts("GET /x?access_token=abc&y=1", "GET /x?access_token="
	    "[redacted]&y=1", 1);
	redacts("{\"Ticket\":\"T1\",\"refresh_token\": \"R\"}",
	    "{\"Ticket\":\"[redacted]\",\"refresh_token\": \"[redacted]\"}",
	    2);
	redacts("session key: AAAA", "session key: [redacted]", 1);
	/* a URL's path is no secret's name; a secret after it still is */
	redacts("POST https://h/token: HTTP 404 807", "POST https://h/token: "
	    "HTTP 404 807", 0);
	redacts("POST /token: HTTP 400; token: abc", "POST /token: HTTP 400; "
	    "token: [redacted]", 1);
	redacts("id eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln end",
	    "id [redacted] end", 1);
	/* nothing secret: the line as it is */
	redacts("step join done in 427 ms (ticket expires later)",
	    "step join done in 427 ms (ticket expires later)", 0);
	redacts("", "", 0);
}

static void
test_diag_secret_name_members(void **state)
{
	const char *yes[] = { "Ticket", "access_token", "id_token",
		"refresh_token", "session_key_jwe", "Authorization", "password",
		"deviceToken", "client_secret" };
	const char *no[] = { "ExpiresAt", "ResetCount", "RequestKey",
		"Thumbprint", "TicketLifetimeHours", "tokenEndpoint" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!diag_secret_name(yes[i]))
			fail_msg("%s is a secret", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (diag_secret_name(no[i]))
			fail_msg("%s is not a secret", no[i]);
}

/* in through diag_redact_copy() as kind; the output (static). */
static const char *
copied(const char *in, enum diag_kind kind, unsigned *count)
{
	static char out[4096];
	FILE *f = tmpfile(), *g = tmpfile();
	char why[128];
	size_t n;

	fputs(in, f);
	rewind(f);
	assert_int_equal(diag_redact_copy(f, g, kind, count, why,
	    sizeof(why)), WG_OK);
	rewind(g);
	n = fread(out, 1, sizeof(out) - 1, g);
	out[n] = '\0';
	fclose(f);
	fclose(g);
	return out;
}

static void
test_diag_redact_copy_kinds(void **state)
{
	unsigned n;
	char *long_line;

	(void)state;
	assert_string_equal(copied("{\"a\":{\"Ticket\":{\"x\":1}},\"b\":[\"t\""
	    "]}\nnot json token=x\n", DIAG_JSONL, &n),
	    "{\"a\":{\"Ticket\":\"[redacted]\"},\"b\":[\"t\"]}\n"
	    "not json token=[redacted]\n");
	assert_int_equal(n, 2);
	assert_string_equal(copied("{\"access_token\": \"x\", \"n\": 1}",
	    DIAG_JSON, &n), "{\n  \"access_token\": \"[redacted]\",\n"
	    "  \"n\": 1\n}\n");
	assert_int_equal(n, 1);
	/* not JSON after all: as text */
	assert_string_equal(copied("{password=p", DIAG_JSON, &n),
	    "{password=[redacted]\n");
	/* a line too long to look at is left out whole */
	long_line = malloc(DIAG_LINE_MAX + 100);
	memset(long_line, 'x', DIAG_LINE_MAX + 98);
	memcpy(long_line + 10, " token=abc", 10);
	long_line[DIAG_LINE_MAX + 98] = '\n';
	long_line[DIAG_LINE_MAX + 99] = '\0';
	assert_non_null(strstr(copied(long_line, DIAG_TEXT, &n),
	    "left out]\n"));
	assert_null(strstr(copied(long_line, DIAG_TEXT, &n), "abc"));
	free(long_line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_tar_members_read_back),
		cmocka_unit_test(test_diag_tar_add_mem_name_too_long),
		cmocka_unit_test(test_diag_redact_text_patterns),
		cmocka_unit_test(test_diag_secret_name_members),
		cmocka_unit_test(test_diag_redact_copy_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
