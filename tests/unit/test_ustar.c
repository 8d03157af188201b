/*
 * The bundle reader (common/ustar.c): archives built here block by block
 * (the writer's constants, common/ustar.h), gzipped by zlib, read back;
 * each rule of the reader broken once; then tests/corpus/ustar: good/
 * files read, bad/ ones fail with the words of NAME.expect.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "common/ustar.h"

#define TAR_MAX (64 * 1024)

struct tar {
	unsigned char b[TAR_MAX];
	size_t len;
};

static void
octal(unsigned char *f, size_t n, unsigned long long v)
{
	size_t i = n - 1;

	f[i] = '\0';
	while (i-- > 0) {
		f[i] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
}

/* Appends a member; type '0' file, '5' folder, '2' symlink... */
static unsigned char *
add(struct tar *t, const char *name, char type, const char *data)
{
	unsigned char *h = t->b + t->len;
	size_t len = data ? strlen(data) : 0, i;
	unsigned sum = 0;

	assert_true(t->len + USTAR_BLOCK * 2 + len < TAR_MAX);
	memset(h, 0, USTAR_BLOCK);
	memcpy(h + USTAR_NAME_OFF, name, strlen(name));
	octal(h + USTAR_MODE_OFF, 8, 0600);
	octal(h + USTAR_UID_OFF, 8, 0);
	octal(h + USTAR_GID_OFF, 8, 0);
	octal(h + USTAR_SIZE_OFF, USTAR_SIZE_LEN, len);
	octal(h + USTAR_MTIME_OFF, USTAR_MTIME_LEN, 1700000000);
	h[USTAR_TYPE_OFF] = (unsigned char)type;
	memcpy(h + USTAR_MAGIC_OFF, "ustar\0" "00", 8);
	memset(h + USTAR_CHKSUM_OFF, ' ', USTAR_CHKSUM_LEN);
	for (i = 0; i < USTAR_BLOCK; i++)
		sum += h[i];
	octal(h + USTAR_CHKSUM_OFF, 7, sum);
	t->len += USTAR_BLOCK;
	memcpy(t->b + t->len, data ? data : "", len);
	t->len += (len + USTAR_BLOCK - 1) / USTAR_BLOCK * USTAR_BLOCK;
	return h;
}

static void
end(struct tar *t, int blocks)
{
	memset(t->b + t->len, 0, (size_t)blocks * USTAR_BLOCK);
	t->len += (size_t)blocks * USTAR_BLOCK;
}

/* Reads len bytes (gzipped first when gz) with the reader. */
static enum wg_err
read_bytes(const void *b, size_t len, int gz, const struct ustar_limits *lim,
    ustar_want_fn want, struct ustar **out, char *why, size_t whylen)
{
	FILE *f = tmpfile();
	gzFile g;
	enum wg_err rc;

	assert_non_null(f);
	if (gz) {
		g = gzdopen(dup(fileno(f)), "wb");
		assert_non_null(g);
		assert_int_equal(gzwrite(g, b, (unsigned)len), (int)len);
		assert_int_equal(gzclose(g), Z_OK);
	} else {
		assert_int_equal(fwrite(b, 1, len, f), len);
		fflush(f);
	}
	assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
	rc = ustar_read_fd(fileno(f), lim, want, NULL, out, why, whylen);
	fclose(f);
	return rc;
}

/* A read of t that must fail with code and words in why. */
static void
refused(struct tar *t, enum wg_err code, const char *words)
{
	struct ustar *u = (struct ustar *)1;
	char why[256] = "";

	assert_int_equal(read_bytes(t->b, t->len, 1, NULL, NULL, &u, why,
	    sizeof(why)), code);
	assert_null(u);
	if (strstr(why, words) == NULL)
		fail_msg("'%s' does not say '%s'", why, words);
}

static void
test_ustar_read_fd_members(void **state)
{
	static struct tar t;
	struct ustar *u;
	char why[256];
	const struct ustar_member *m;

	(void)state;
	t.len = 0;
	add(&t, "top", '5', NULL);
	add(&t, "top/events/tpm.jsonl", '0', "{\"a\":1}\n");
	add(&t, "top/empty", '0', "");
	end(&t, 2);
	assert_int_equal(read_bytes(t.b, t.len, 1, NULL, NULL, &u, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(u->n, 2);
	assert_int_equal(u->files, 2);
	m = ustar_find(u, "top/events/tpm.jsonl");
	assert_non_null(m);
	assert_int_equal(m->len, 8);
	assert_memory_equal(m->data, "{\"a\":1}\n", 8);
	assert_int_equal(m->data[m->len], '\0');
	assert_null(ustar_find(u, "top"));
	ustar_free(u);
	ustar_free(NULL);
}

static int
only_events(void *arg, const char *name, uint64_t size)
{
	(void)arg;
	(void)size;
	return strstr(name, "/events/") != NULL;
}

static void
test_ustar_read_fd_want_skips(void **state)
{
	static struct tar t;
	static char big[3000];
	const struct ustar_limits lim = { .member_max = 100 };
	struct ustar *u;
	char why[256];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	t.len = 0;
	add(&t, "top/apps/big.log", '0', big);	/* over member_max: skipped */
	add(&t, "top/events/aad.jsonl", '0', "line\n");
	end(&t, 2);
	assert_int_equal(read_bytes(t.b, t.len, 1, &lim, only_events, &u, why,
	    sizeof(why)), WG_OK);
	assert_int_equal(u->n, 1);
	assert_int_equal(u->files, 2);
	assert_string_equal(u->members[0].name, "top/events/aad.jsonl");
	ustar_free(u);
	/* kept, it is over the cap */
	assert_int_equal(read_bytes(t.b, t.len, 1, &lim, NULL, &u, why,
	    sizeof(why)), WG_E_BODY_TOO_LARGE);
	assert_null(u);
	assert_non_null(strstr(why, "top/apps/big.log"));
}

static void
test_ustar_read_fd_names(void **state)
{
	static const char *const bad[] = { "../etc/passwd", "/etc/passwd",
		"top/../../x", "top//x", "top/./x", "top/a\\b", "top/\x01" };
	static struct tar t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.len = 0;
		add(&t, bad[i], '0', "x");
		end(&t, 2);
		refused(&t, WG_E_IO, "not a relative name");
	}
}

static void
test_ustar_read_fd_types(void **state)
{
	static struct tar t;

	(void)state;
	t.len = 0;
	add(&t, "top/link", '2', NULL);
	end(&t, 2);
	refused(&t, WG_E_IO, "type '2' is not a regular file");
	t.len = 0;
	add(&t, "top/pax", 'x', "30 path=../../../../etc/shadow\n");
	end(&t, 2);
	refused(&t, WG_E_IO, "type 'x'");
}

static void
test_ustar_read_fd_headers(void **state)
{
	static struct tar t;
	unsigned char *h;

	(void)state;
	t.len = 0;
	h = add(&t, "top/a", '0', "abc");
	h[USTAR_NAME_OFF] = 'b';	/* the checksum no longer holds */
	end(&t, 2);
	refused(&t, WG_E_IO, "checksum");
	t.len = 0;
	h = add(&t, "top/a", '0', "abc");
	memcpy(h + USTAR_MAGIC_OFF, "nottar", 6);
	end(&t, 2);
	refused(&t, WG_E_IO, "not a ustar header");
	t.len = 0;
	add(&t, "top/a", '0', "abc");
	add(&t, "top/a", '0', "def");
	end(&t, 2);
	refused(&t, WG_E_IO, "twice");
}

static void
test_ustar_read_fd_size_base256(void **state)
{
	static struct tar t;
	unsigned char *h;
	unsigned sum = 0;
	size_t i;

	(void)state;
	t.len = 0;
	h = add(&t, "top/a", '0', "abc");
	memset(h + USTAR_SIZE_OFF, 0, USTAR_SIZE_LEN);
	h[USTAR_SIZE_OFF] = 0x80;	/* GNU base-256: 2^88 - ... */
	h[USTAR_SIZE_OFF + USTAR_SIZE_LEN - 1] = 0xff;
	memset(h + USTAR_CHKSUM_OFF, ' ', USTAR_CHKSUM_LEN);
	for (i = 0; i < USTAR_BLOCK; i++)
		sum += h[i];
	octal(h + USTAR_CHKSUM_OFF, 7, sum);
	end(&t, 2);
	refused(&t, WG_E_IO, "not an octal number");
}

static void
test_ustar_read_fd_ends(void **state)
{
	static struct tar t;
	struct ustar *u = NULL;
	char why[256];

	(void)state;
	t.len = 0;
	add(&t, "top/a", '0', "abc");
	end(&t, 1);
	refused(&t, WG_E_IO, "one zero block");
	t.len = 0;
	add(&t, "top/a", '0', "abc");
	refused(&t, WG_E_IO, "cut short");
	t.len = 0;
	add(&t, "top/a", '0', "abc");
	t.len -= USTAR_BLOCK; /* the data block gone */
	refused(&t, WG_E_IO, "cut short");
	/* a plain tar, and a gzip stream cut in its middle */
	t.len = 0;
	add(&t, "top/a", '0', "abc");
	end(&t, 2);
	assert_int_equal(read_bytes(t.b, t.len, 0, NULL, NULL, &u, why,
	    sizeof(why)), WG_E_IO);
	assert_non_null(strstr(why, "not a gzip file"));
	assert_int_equal(read_bytes("", 0, 0, NULL, NULL, &u, why,
	    sizeof(why)), WG_E_IO);
}

static void
test_ustar_read_fd_members_max(void **state)
{
	static struct tar t;
	const struct ustar_limits lim = { .members_max = 3 };
	struct ustar *u;
	char why[256], name[32];
	int i;

	(void)state;
	t.len = 0;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "top/%d", i);
		add(&t, name, '0', "x");
	}
	end(&t, 2);
	assert_int_equal(read_bytes(t.b, t.len, 1, &lim, NULL, &u, why,
	    sizeof(why)), WG_E_BODY_TOO_LARGE);
	assert_non_null(strstr(why, "more than 3 members"));
}

static void
test_ustar_read_fd_archive_max(void **state)
{
	/* a gzip bomb's worth of zeros after one member: read up to the cap */
	const struct ustar_limits lim = { .archive_max = 64 * 1024 };
	static unsigned char zeros[256 * 1024];
	static struct tar t;
	struct ustar *u;
	char why[256];
	unsigned char *h;

	(void)state;
	t.len = 0;
	h = add(&t, "top/a", '0', "x");
	octal(h + USTAR_SIZE_OFF, USTAR_SIZE_LEN, sizeof(zeros));
	memset(h + USTAR_CHKSUM_OFF, ' ', USTAR_CHKSUM_LEN);
	{
		unsigned sum = 0;
		size_t i;

		for (i = 0; i < USTAR_BLOCK; i++)
			sum += h[i];
		octal(h + USTAR_CHKSUM_OFF, 7, sum);
	}
	t.len -= USTAR_BLOCK;
	memcpy(zeros, t.b, t.len);
	assert_int_equal(read_bytes(zeros, sizeof(zeros), 1, &lim, NULL, &u,
	    why, sizeof(why)), WG_E_BODY_TOO_LARGE);
	assert_non_null(strstr(why, "more than 65536 bytes"));
}

/* ---- tests/corpus/ustar ---- */

static void
corpus_dir(const char *kind, int good)
{
	char dir[1024], path[1200], exp[1200], why[256], words[256];
	struct dirent *de;
	struct ustar *u;
	enum wg_err rc;
	FILE *f;
	DIR *d;
	size_t n, seen = 0;

	snprintf(dir, sizeof(dir), "%s/ustar/%s", WG_CORPUS_DIR, kind);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 4 || strcmp(de->d_name + n - 3, ".gz") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rc = ustar_read_file(path, NULL, NULL, NULL, &u, why,
		    sizeof(why));
		seen++;
		if (good) {
			if (rc != WG_OK)
				fail_msg("%s: %s", path, why);
			ustar_free(u);
			continue;
		}
		if (rc == WG_OK)
			fail_msg("%s was read", path);
		snprintf(exp, sizeof(exp), "%.*s.expect", (int)(strlen(path) -
		    7), path); /* NAME.tar.gz -> NAME.expect */
		assert_non_null(f = fopen(exp, "r"));
		assert_non_null(fgets(words, sizeof(words), f));
		fclose(f);
		words[strcspn(words, "\n")] = '\0';
		if (strstr(why, words) == NULL)
			fail_msg("%s: '%s' does not say '%s'", path, why, words);
	}
	closedir(d);
	assert_true(seen > 0);
}

static void
test_ustar_read_file_corpus(void **state)
{
	(void)state;
	corpus_dir("good", 1);
	corpus_dir("bad", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ustar_read_fd_members),
		cmocka_unit_test(test_ustar_read_fd_want_skips),
		cmocka_unit_test(test_ustar_read_fd_names),
		cmocka_unit_test(test_ustar_read_fd_types),
		cmocka_unit_test(test_ustar_read_fd_headers),
		cmocka_unit_test(test_ustar_read_fd_size_base256),
		cmocka_unit_test(test_ustar_read_fd_ends),
		cmocka_unit_test(test_ustar_read_fd_members_max),
		cmocka_unit_test(test_ustar_read_fd_archive_max),
		cmocka_unit_test(test_ustar_read_file_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
