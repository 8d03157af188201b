/*
 * The device's answer parsers against tests/corpus/answer: every good/
 * file is accepted by the parser its name says (enroll*, ekcert*,
 * discovery*, nonce*, token*, join*, mdm*, mdmdisc*, reseal*) and by no
 * other, every bad/ file
 * refused by all of them, with a reason.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/answer.h"

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(ANSWER_BODY_MAX + 1);

	assert_non_null(f);
	assert_non_null(buf);
	*n = fread(buf, 1, ANSWER_BODY_MAX + 1, f);
	fclose(f);
	return buf;
}

/* The parsers, in the order of their bits in parse_file()'s result. */
static const char *const parsers[] = { "enroll", "ekcert", "discovery",
	"nonce", "token", "join", "mdm", "mdmdisc", "reseal" };

/* The join's parsers: bit 4 discovery, 8 nonce, 16 token, 32 join. */
static int
parse_join_answers(const char *body, size_t n, char *why, size_t whylen)
{
	struct discovery_answer d;
	struct nonce_answer nonce;
	struct join_answer j;
	char *token;
	int took = 0;

	if (discovery_answer_parse(body, n, &d, why, whylen) == WG_OK) {
		assert_true(d.registration[0] != '\0' && d.token[0] != '\0');
		took |= 4;
	}
	if (nonce_answer_parse(body, n, &nonce, why, whylen) == WG_OK) {
		assert_true(nonce.len >= 1 && nonce.len <= 64);
		took |= 8;
	}
	if (token_answer_parse(body, n, &token, why, whylen) == WG_OK) {
		assert_non_null(strchr(token, '.'));
		free(token);
		took |= 16;
	}
	if (join_answer_parse(body, n, &j, why, whylen) == WG_OK) {
		assert_non_null(j.cert);
		assert_int_equal(strlen(j.thumbprint), 40);
		assert_int_equal(sk_X509_num(j.chain), 2);
		join_answer_free(&j);
		took |= 32;
	}
	return took;
}

/* Steps 4 and 6: bit 64 MDM enrollment, 128 MDM discovery, 256 reseal. */
static int
parse_later_answers(const char *body, size_t n, char *why, size_t whylen)
{
	struct mdm_discovery_answer d;
	struct mdm_answer m;
	struct reseal_answer r;
	int took = 0;

	if (mdm_answer_parse(body, n, &m, why, whylen) == WG_OK) {
		assert_non_null(m.cert);
		assert_int_equal(strlen(m.thumbprint), 40);
		assert_int_equal(strlen(m.enrollment_id), 36);
		assert_int_equal(strncmp(m.management_url, "https://", 8), 0);
		assert_int_equal(sk_X509_num(m.chain), 2);
		mdm_answer_free(&m);
		took |= 64;
	}
	if (mdm_discovery_answer_parse(body, n, &d, why, whylen) == WG_OK) {
		assert_true(d.enroll[0] != '\0');
		took |= 128;
	}
	if (reseal_answer_parse(body, n, &r, why, whylen) == WG_OK) {
		assert_int_equal(strlen(r.bound_to), 64);
		assert_true(strlen(r.ticket) >= 22);
		assert_int_equal(r.expires_at[strlen(r.expires_at) - 1], 'Z');
		took |= 256;
	}
	return took;
}

/* Which parsers take the file: bit 1 enrollment, 2 EK, then the join's. */
static int
parse_file(const char *path, char *why, size_t whylen)
{
	struct enroll_answer a;
	unsigned char *der;
	size_t n, dn;
	char *body = slurp(path, &n);
	int took = 0;

	if (enroll_answer_parse(body, n, &a, why, whylen) == WG_OK) {
		assert_int_equal(sk_X509_num(a.chain), 2);
		enroll_answer_free(&a);
		took |= 1;
	}
	if (ekcert_answer_parse(body, n, &der, &dn, why, whylen) == WG_OK) {
		assert_true(dn > 100);
		free(der);
		took |= 2;
	}
	took |= parse_join_answers(body, n, why, whylen);
	took |= parse_later_answers(body, n, why, whylen);
	free(body);
	return took;
}

static void
each(const char *sub, void (*check)(const char *name, const char *path))
{
	char dir[512], path[1024];
	struct dirent *d;
	DIR *dp;
	int count = 0;

	snprintf(dir, sizeof(dir), "%s/%s", WG_CORPUS_DIR "/answer", sub);
	assert_non_null(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		check(d->d_name, path);
		count++;
	}
	closedir(dp);
	assert_true(count > 0);
}

static void
good_one(const char *name, const char *path)
{
	char why[256] = "";
	int want = 0;
	size_t i;

	for (i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++)
		if (strncmp(name, parsers[i], strlen(parsers[i])) == 0)
			want = 1 << i;
	assert_int_not_equal(want, 0);

	if (parse_file(path, why, sizeof(why)) != want)
		fail_msg("%s: not taken as it should be (%s)", name, why);
}

static void
bad_one(const char *name, const char *path)
{
	char why[256] = "";

	if (parse_file(path, why, sizeof(why)) != 0)
		fail_msg("%s: accepted", name);
	assert_true(why[0] != '\0');
}

static void
test_enroll_answer_parse_corpus_good(void **state)
{
	(void)state;
	each("good", good_one);
}

static void
test_enroll_answer_parse_corpus_bad(void **state)
{
	(void)state;
	each("bad", bad_one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enroll_answer_parse_corpus_good),
		cmocka_unit_test(test_enroll_answer_parse_corpus_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
