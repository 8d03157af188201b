/*
 * The device's answer parsers against tests/corpus/answer: every good/
 * file is accepted by the parser its name says (enroll*, ekcert*,
 * discovery*, nonce*, token*, join*, mdm*, mdmdisc*, reseal*, apps*) and
 * by no other, every bad/ file refused by all of them, with a reason; the
 * app list's bad files each for the rule their name says.
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
#include "agent/apps.h"

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(ANSWER_APPS_BODY_MAX + 1);

	assert_non_null(f);
	assert_non_null(buf);
	*n = fread(buf, 1, ANSWER_APPS_BODY_MAX + 1, f);
	fclose(f);
	return buf;
}

/* The parsers, in the order of their bits in parse_file()'s result. */
static const char *const parsers[] = { "enroll", "ekcert", "discovery",
	"nonce", "token", "join", "mdm", "mdmdisc", "reseal", "apps" };

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

/*
 * Steps 4 to 6: bit 64 MDM enrollment, 128 MDM discovery, 256 reseal,
 * 512 the app list.
 */
static int
parse_later_answers(const char *body, size_t n, char *why, size_t whylen)
{
	struct mdm_discovery_answer d;
	struct mdm_answer m;
	struct reseal_answer r;
	struct apps_answer apps;
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
	if (apps_answer_parse(body, n, &apps, why, whylen) == WG_OK) {
		assert_true(apps.n <= APPS_MAX);
		assert_true(apps.n == 0 || apps.app != NULL);
		apps_answer_free(&apps);
		took |= 512;
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

/* The app list of the corpus file good/<name>; the caller frees it. */
static void
apps_good(const char *name, struct apps_answer *a)
{
	char path[1024], why[256] = "";
	size_t n;
	char *body;

	snprintf(path, sizeof(path), "%s/good/%s", WG_CORPUS_DIR "/answer",
	    name);
	body = slurp(path, &n);
	if (apps_answer_parse(body, n, a, why, sizeof(why)) != WG_OK)
		fail_msg("%s: %s", name, why);
	free(body);
}

static void
test_apps_answer_parse_fields(void **state)
{
	struct apps_answer a;

	(void)state;
	apps_good("apps.json", &a);
	assert_int_equal(a.n, 2);
	/* in the server's order: the order they are installed in */
	assert_string_equal(a.app[0].id,
	    "0b6c5a2e-4f1d-4c8a-9e3b-7d2f1a6c8e40");
	assert_string_equal(a.app[0].name, "Firefox");
	assert_int_equal(a.app[0].size, 3158073);
	assert_int_equal(a.app[0].timeout_s, 600);
	assert_string_equal(a.app[0].install_command,
	    "sh ./install.sh \"$WHITEGLOVE_APP_FILE\"");
	assert_int_equal(strlen(a.app[0].sha256), 64);
	assert_string_equal(a.app[0].content_url + strlen(ANSWER_CONTENT_PATH),
	    a.app[0].sha256);
	assert_string_equal(a.app[1].name, "Monitoring agent");
	assert_int_equal(a.app[1].size, 1);
	assert_int_equal(a.app[1].timeout_s, 1);
	apps_answer_free(&a);
	assert_null(a.app);
	apps_answer_free(&a); /* twice: a no-op */
}

static void
test_apps_answer_parse_largest(void **state)
{
	struct apps_answer a;

	(void)state;
	apps_good("apps-largest.json", &a);
	assert_int_equal(a.n, 1);
	assert_true(a.app[0].size == ANSWER_APP_SIZE_MAX);
	assert_int_equal(a.app[0].timeout_s, ANSWER_APP_TIMEOUT_MAX);
	assert_int_equal(strlen(a.app[0].name), ANSWER_APP_NAME_MAX);
	assert_int_equal(strlen(a.app[0].install_command),
	    ANSWER_APP_COMMAND_MAX);
	apps_answer_free(&a);

	apps_good("apps-empty.json", &a);
	assert_int_equal(a.n, 0);
	assert_null(a.app);
}

/* A list of count apps, each its own id and content. */
static char *
apps_list(size_t count, size_t *len)
{
	static const char sha[] = "00000000000000000000000000000000000000000000"
	    "00000000000000000000";
	size_t cap = 64 + count * 400, i;
	char *body = malloc(cap);
	int w;

	assert_non_null(body);
	*len = (size_t)snprintf(body, cap, "{\"value\": [");
	for (i = 0; i < count; i++) {
		w = snprintf(body + *len, cap - *len, "%s{\"id\": \"5e9d3c71-"
		    "2a84-4b06-b1f5-%012zx\", \"name\": \"App %zu\", "
		    "\"sha256\": \"%.52s%012zx\", \"size\": 1, "
		    "\"installCommand\": \"true\", \"timeoutSeconds\": 1, "
		    "\"contentUrl\": \"" ANSWER_CONTENT_PATH "%.52s%012zx\"}",
		    i ? ", " : "", i, i, sha, i, sha, i);
		assert_true(w > 0 && (size_t)w < cap - *len);
		*len += (size_t)w;
	}
	*len += (size_t)snprintf(body + *len, cap - *len, "]}");
	return body;
}

static void
test_apps_answer_parse_most_apps(void **state)
{
	struct apps_answer a;
	char why[256] = "", *body;
	size_t len;

	(void)state;
	body = apps_list(APPS_MAX, &len);
	if (apps_answer_parse(body, len, &a, why, sizeof(why)) != WG_OK)
		fail_msg("%d apps: %s", APPS_MAX, why);
	assert_int_equal(a.n, APPS_MAX);
	snprintf(why, sizeof(why), "App %d", APPS_MAX - 1);
	assert_string_equal(a.app[APPS_MAX - 1].name, why);
	apps_answer_free(&a);
	free(body);

	body = apps_list(APPS_MAX + 1, &len);
	assert_int_equal(apps_answer_parse(body, len, &a, why, sizeof(why)),
	    WG_E_NET_PROTOCOL);
	assert_null(a.app);
	assert_int_equal(a.n, 0);
	assert_non_null(strstr(why, "at most"));
	free(body);
}

/* Each bad/apps-* file and what its reason must name. */
static const struct {
	const char *file, *why;
} apps_bad[] = {
	{ "apps-unknown-field.json", "value[1]: unknown field \"version\"" },
	{ "apps-missing-field.json", "value[1]: timeoutSeconds is not" },
	{ "apps-top-unknown-field.json", "unknown field \"nextLink\"" },
	{ "apps-value-not-list.json", "value is not a list" },
	{ "apps-app-not-object.json", "value[1]: not an object" },
	{ "apps-id-not-uuid.json", "value[1]: id is not a lower case UUID" },
	{ "apps-id-upper-case.json", "value[1]: id is not a lower case UUID" },
	{ "apps-id-twice.json", "value[1]: id is value[0]'s" },
	{ "apps-name-empty.json", "value[1]: field \"name\" must be 1 to 128" },
	{ "apps-name-too-long.json", "value[1]: field \"name\" must be 1 to" },
	{ "apps-name-control.json", "value[1]: field \"name\" must be printable" },
	{ "apps-sha256-upper-case.json", "value[1]: sha256 is not 64 lower" },
	{ "apps-sha256-short.json", "value[1]: sha256 is not 64 lower" },
	{ "apps-size-zero.json", "value[1]: size is not an integer 1 to" },
	{ "apps-size-too-large.json", "value[1]: size is not an integer 1 to" },
	{ "apps-size-fraction.json", "value[1]: size is not an integer" },
	{ "apps-size-string.json", "value[1]: size is not an integer" },
	{ "apps-command-empty.json", "value[1]: field \"installCommand\"" },
	{ "apps-command-too-long.json", "value[1]: field \"installCommand\"" },
	{ "apps-command-nul.json", "NUL" },
	{ "apps-timeout-zero.json", "value[1]: timeoutSeconds is not an integer "
	    "1 to 7200" },
	{ "apps-timeout-too-large.json", "value[1]: timeoutSeconds is not an "
	    "integer 1 to 7200" },
	{ "apps-url-other-content.json", "value[1]: contentUrl is not" },
	{ "apps-url-absolute.json", "value[1]: contentUrl is not" },
	{ "apps-url-traversal.json", "value[1]: contentUrl is not" },
	{ "apps-duplicate-key.json", "duplicate" },
	{ "apps-too-many.json", "value is not a list of at most 1000 apps" },
};

static void
test_apps_answer_parse_reasons(void **state)
{
	struct apps_answer a;
	char path[1024], why[256];
	size_t i, n;
	char *body;

	(void)state;
	for (i = 0; i < sizeof(apps_bad) / sizeof(apps_bad[0]); i++) {
		snprintf(path, sizeof(path), "%s/bad/%s", WG_CORPUS_DIR
		    "/answer", apps_bad[i].file);
		body = slurp(path, &n);
		why[0] = '\0';
		assert_int_equal(apps_answer_parse(body, n, &a, why,
		    sizeof(why)), WG_E_NET_PROTOCOL);
		assert_null(a.app);
		if (strstr(why, apps_bad[i].why) == NULL)
			fail_msg("%s: \"%s\", not \"%s\"", apps_bad[i].file,
			    why, apps_bad[i].why);
		free(body);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enroll_answer_parse_corpus_good),
		cmocka_unit_test(test_enroll_answer_parse_corpus_bad),
		cmocka_unit_test(test_apps_answer_parse_fields),
		cmocka_unit_test(test_apps_answer_parse_largest),
		cmocka_unit_test(test_apps_answer_parse_most_apps),
		cmocka_unit_test(test_apps_answer_parse_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
