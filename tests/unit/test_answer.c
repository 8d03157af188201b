/*
 * The device's answer parsers against tests/corpus/answer: every good/
 * file is accepted by the parser its name says (enroll*, ekcert*,
 * discovery*, nonce*, token*, join*, mdm*, mdmdisc*, reseal*, apps*,
 * signin*, prt*) and by no other, every bad/ file refused by all of them,
 * with a reason; the app list's bad files each for the rule their name
 * says; the sign-in's and the PRT's answers with each member missing, of
 * the wrong type and over its cap.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

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
	"nonce", "token", "join", "mdm", "mdmdisc", "reseal", "apps",
	"signin", "prt-access", "prt-renew" };

/* The resource of the corpus's access token answers (prt-access*). */
#define PRT_RESOURCE "urn:contoso:mail"
/* The display name the join stored, given to the sign-in's parser. */
#define JOIN_NAME "CT-JN-0001"

/*
 * Answers of the same RFC 6749 5.1 shape (members not named ignored): an
 * access token answer to the PRT is, to the device token's parser, a
 * device token answer (a JWS, Bearer, expires_in), so prt-access* files
 * may be taken by it (bit 16); the sign-in's answer holds a renewed PRT's
 * members (pop, refresh_token and its expiry), so signin* files may be
 * taken by the renewal's parser (bit 4096).
 */
static int
also_taken(const char *name)
{
	if (strncmp(name, "prt-access", 10) == 0)
		return 16;
	if (strncmp(name, "signin", 6) == 0)
		return 4096;
	return 0;
}

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

/* Step 7: bit 1024 the sign-in, 2048 an access token, 4096 a new PRT. */
static int
parse_signin_answers(const char *body, size_t n, char *why, size_t whylen)
{
	struct signin_answer s;
	struct prt_answer p;
	int took = 0;

	if (signin_answer_parse(body, n, JOIN_NAME, &s, why, whylen) ==
	    WG_OK) {
		assert_true(strlen(s.prt) >= 22);
		assert_non_null(s.jwe);
		assert_non_null(s.join.cert);
		assert_string_equal(s.join.display_name, JOIN_NAME);
		assert_int_equal(sk_X509_num(s.join.chain), 2);
		signin_answer_free(&s);
		took |= 1024;
	}
	if (prt_answer_parse(body, n, PRT_RESOURCE, &p, why, whylen) ==
	    WG_OK) {
		assert_non_null(p.access_token);
		assert_non_null(p.whole);
		assert_true(p.expires_in >= 1);
		prt_answer_free(&p);
		took |= 2048;
	}
	if (prt_answer_parse(body, n, NULL, &p, why, whylen) == WG_OK) {
		assert_null(p.access_token);
		assert_true(strlen(p.prt) >= 22);
		prt_answer_free(&p);
		took |= 4096;
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
	took |= parse_signin_answers(body, n, why, whylen);
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
	want |= also_taken(name);

	if (parse_file(path, why, sizeof(why)) != want)
		fail_msg("%s: not taken as it should be (%s)", name, why);
}

static void
bad_one(const char *name, const char *path)
{
	char why[256] = "";

	if ((parse_file(path, why, sizeof(why)) & ~also_taken(name)) != 0)
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

/* ---- step 7: each member of the sign-in's and the PRT's answers ---- */

/*
 * One member changed: value is the JSON text it becomes, NULL to drop it,
 * "#N" a string of N letters, "@chain5" five certificates, "@bigcert" a
 * Certificate whose RawBody is over its cap; why is what the reason says.
 */
struct member_case {
	const char *member, *value, *why;
};

#define STRING_CASES(m, cap) \
	{ m, NULL, "field \"" m "\" is required" }, \
	{ m, "7", "field \"" m "\" must be a string" }, \
	{ m, "[\"x\"]", "field \"" m "\" must be a string" }, \
	{ m, "\"\"", "field \"" m "\" must be 1 to " #cap " bytes" }, \
	{ m, "\"a\\u0001b\"", "field \"" m "\" must be printable" }
#define RANGE_CASES(m, min, max, over) \
	{ m, NULL, m " is not an integer " #min " to " #max }, \
	{ m, "\"1\"", m " is not an integer " #min " to " #max }, \
	{ m, "1.5", m " is not an integer " #min " to " #max }, \
	{ m, #over, m " is not an integer " #min " to " #max }

static const struct member_case signin_cases[] = {
	STRING_CASES("token_type", 16),
	{ "token_type", "#17", "field \"token_type\" must be 1 to 16" },
	{ "token_type", "\"Bearer\"", "token_type is not pop" },
	STRING_CASES("refresh_token", 128),
	{ "refresh_token", "#129", "field \"refresh_token\" must be 1 to 128" },
	{ "refresh_token", "#20", "refresh_token is not base64url of 16" },
	RANGE_CASES("refresh_token_expires_in", 1, 31622400, 31622401),
	{ "refresh_token_expires_in", "0", "refresh_token_expires_in is not" },
	STRING_CASES("id_token", 8192),
	{ "id_token", "#8193", "field \"id_token\" must be 1 to 8192" },
	STRING_CASES("session_key_jwe", 8192),
	{ "session_key_jwe", "#8193", "field \"session_key_jwe\" must be 1 to" },
	STRING_CASES("Owner", 256),
	{ "Owner", "#257", "field \"Owner\" must be 1 to 256" },
	RANGE_CASES("BootsSinceReseal", 0, 4294967295, 4294967296),
	{ "BootsSinceReseal", "-1", "BootsSinceReseal is not an integer 0" },
	{ "Certificate", NULL, "Certificate, CaChain and DeviceId are required" },
	{ "Certificate", "\"x\"", "Certificate is not {\"RawBody\"" },
	{ "Certificate", "@bigcert", "Certificate.RawBody is not one base64 DER "
	    "certificate of at most 8192 bytes" },
	{ "CaChain", NULL, "Certificate, CaChain and DeviceId are required" },
	{ "CaChain", "{}", "CaChain is not a list of 1 to 4 certificates" },
	{ "CaChain", "[]", "CaChain is not a list of 1 to 4 certificates" },
	{ "CaChain", "@chain5", "CaChain is not a list of 1 to 4 certificates" },
	{ "CaChain", "[7]", "CaChain[0] is not one base64 DER certificate" },
	{ "DeviceId", NULL, "Certificate, CaChain and DeviceId are required" },
	{ "DeviceId", "7", "field \"DeviceId\" must be a string" },
	{ "DeviceId", "#37", "field \"DeviceId\" must be 1 to 36" },
	{ "DeviceId", "#36", "DeviceId is not a UUID" },
};

static const struct member_case access_cases[] = {
	STRING_CASES("token_type", 16),
	{ "token_type", "#17", "field \"token_type\" must be 1 to 16" },
	{ "token_type", "\"pop\"", "token_type is not Bearer" },
	STRING_CASES("access_token", 8192),
	{ "access_token", "#8193", "field \"access_token\" must be 1 to 8192" },
	RANGE_CASES("expires_in", 1, 86400, 86401),
	{ "expires_in", "0", "expires_in is not an integer 1 to 86400" },
	STRING_CASES("resource", 128),
	{ "resource", "#129", "field \"resource\" must be 1 to 128" },
	{ "resource", "\"urn:contoso:files\"", "the token is for another "
	    "resource" },
	RANGE_CASES("refresh_token_expires_in", 1, 31622400, 31622401),
};

static const struct member_case renewal_cases[] = {
	STRING_CASES("token_type", 16),
	{ "token_type", "#17", "field \"token_type\" must be 1 to 16" },
	{ "token_type", "\"Bearer\"", "token_type is not pop" },
	STRING_CASES("refresh_token", 128),
	{ "refresh_token", "#129", "field \"refresh_token\" must be 1 to 128" },
	{ "refresh_token", "\"AAAA\"", "refresh_token is not base64url of 16 "
	    "to 64 bytes" },
	{ "refresh_token", "\"+/+/+/+/+/+/+/+/+/+/+/+/\"",
	    "refresh_token is not base64url" },
	RANGE_CASES("refresh_token_expires_in", 1, 31622400, 31622401),
};

/* The corpus file good/<name> as a JSON object. */
static json_t *
good_object(const char *name)
{
	char path[1024];
	json_error_t err;
	json_t *o;

	snprintf(path, sizeof(path), "%s/good/%s", WG_CORPUS_DIR "/answer",
	    name);
	if ((o = json_load_file(path, 0, &err)) == NULL)
		fail_msg("%s: %s", name, err.text);
	return o;
}

/* A string of n letters. */
static json_t *
letters(size_t n)
{
	char *s = malloc(n + 1);
	json_t *v;

	assert_non_null(s);
	memset(s, 'A', n);
	s[n] = '\0';
	v = json_string(s);
	free(s);
	return v;
}

/* The value c->value names (see struct member_case), o's own used. */
static json_t *
case_value(const json_t *o, const struct member_case *c)
{
	json_error_t err;
	json_t *v;
	size_t i;

	if (strcmp(c->value, "@chain5") == 0) {
		v = json_array();
		for (i = 0; i < 5; i++)
			json_array_append(v, json_array_get(json_object_get(o,
			    "CaChain"), 0));
		return v;
	}
	if (strcmp(c->value, "@bigcert") == 0)
		return json_pack("{s:o, s:s}", "RawBody", letters(11000),
		    "Thumbprint", "0000000000000000000000000000000000000000");
	if (c->value[0] == '#')
		return letters(strtoul(c->value + 1, NULL, 10));
	if ((v = json_loads(c->value, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &err)) == NULL)
		fail_msg("%s: %s", c->value, err.text);
	return v;
}

/* The corpus file good/<name> with c's change, as JSON text. */
static char *
case_body(const char *name, const struct member_case *c)
{
	json_t *o = good_object(name);
	char *text;

	if (c->value == NULL)
		assert_int_equal(json_object_del(o, c->member), 0);
	else
		assert_int_equal(json_object_set_new(o, c->member,
		    case_value(o, c)), 0);
	assert_non_null(text = json_dumps(o, JSON_COMPACT));
	json_decref(o);
	return text;
}

/* A parser the cases are for: its result, *out checked empty if not 0. */
typedef enum wg_err (*case_parse)(const char *body, size_t len, char *why,
    size_t whylen);

static enum wg_err
signin_case(const char *body, size_t len, char *why, size_t whylen)
{
	static const struct signin_answer zero;
	struct signin_answer a;
	enum wg_err rc;

	rc = signin_answer_parse(body, len, JOIN_NAME, &a, why, whylen);
	if (rc == WG_OK)
		signin_answer_free(&a);
	else
		assert_memory_equal(&a, &zero, sizeof(a));
	return rc;
}

static enum wg_err
prt_case(const char *body, size_t len, const char *resource, char *why,
    size_t whylen)
{
	static const struct prt_answer zero;
	struct prt_answer a;
	enum wg_err rc;

	rc = prt_answer_parse(body, len, resource, &a, why, whylen);
	if (rc == WG_OK)
		prt_answer_free(&a);
	else
		assert_memory_equal(&a, &zero, sizeof(a));
	return rc;
}

static enum wg_err
access_case(const char *body, size_t len, char *why, size_t whylen)
{
	return prt_case(body, len, PRT_RESOURCE, why, whylen);
}

static enum wg_err
renewal_case(const char *body, size_t len, char *why, size_t whylen)
{
	return prt_case(body, len, NULL, why, whylen);
}

/*
 * The file good/<name> taken with a member it does not know (RFC 6749
 * 5.1); each case refused with its reason and nothing kept.
 */
static void
member_cases(const char *name, case_parse parse,
    const struct member_case *cases, size_t n)
{
	const struct member_case unknown = { "Unknown", "true", NULL };
	char why[256], *body;
	size_t i;

	body = case_body(name, &unknown);
	why[0] = '\0';
	if (parse(body, strlen(body), why, sizeof(why)) != WG_OK)
		fail_msg("%s: %s", name, why);
	free(body);
	for (i = 0; i < n; i++) {
		body = case_body(name, &cases[i]);
		why[0] = '\0';
		if (parse(body, strlen(body), why, sizeof(why)) !=
		    WG_E_NET_PROTOCOL)
			fail_msg("%s: %s %s: taken", name, cases[i].member,
			    cases[i].value ? cases[i].value : "dropped");
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("%s: %s %s: \"%s\", not \"%s\"", name,
			    cases[i].member, cases[i].value ? cases[i].value :
			    "dropped", why, cases[i].why);
		free(body);
	}
}

static void
test_signin_answer_parse_members(void **state)
{
	(void)state;
	member_cases("signin.json", signin_case, signin_cases,
	    sizeof(signin_cases) / sizeof(signin_cases[0]));
}

static void
test_signin_answer_parse_fields(void **state)
{
	struct signin_answer a;
	char path[1024], why[256] = "", *body;
	size_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/good/signin-largest.json",
	    WG_CORPUS_DIR "/answer");
	body = slurp(path, &n);
	if (signin_answer_parse(body, n, JOIN_NAME, &a, why, sizeof(why)) !=
	    WG_OK)
		fail_msg("signin-largest.json: %s", why);
	free(body);
	assert_int_equal(strlen(a.prt), 86); /* 64 bytes */
	assert_true(a.prt_life_s == ANSWER_PRT_LIFE_MAX);
	assert_true(a.boots == UINT32_MAX);
	assert_string_equal(a.owner, "ana@contoso.com");
	assert_string_equal(a.join.device_id,
	    "01a20f87-4166-7002-a5c2-feb9d8ef2e67");
	assert_string_equal(a.join.display_name, JOIN_NAME);
	assert_int_equal(strlen(a.join.thumbprint), 40);
	assert_int_equal(strncmp(a.jwe, "eyJ", 3), 0);
	signin_answer_free(&a);
	assert_null(a.jwe);
	signin_answer_free(&a); /* twice: a no-op */
	signin_answer_free(NULL);
}

static void
test_prt_answer_parse_access_members(void **state)
{
	(void)state;
	member_cases("prt-access.json", access_case, access_cases,
	    sizeof(access_cases) / sizeof(access_cases[0]));
}

static void
test_prt_answer_parse_renewal_members(void **state)
{
	(void)state;
	member_cases("prt-renew.json", renewal_case, renewal_cases,
	    sizeof(renewal_cases) / sizeof(renewal_cases[0]));
}

static void
test_prt_answer_parse_fields(void **state)
{
	json_t *o = good_object("prt-access.json");
	struct prt_answer a;
	char why[256] = "", *body;

	(void)state;
	assert_non_null(body = json_dumps(o, JSON_COMPACT));
	if (prt_answer_parse(body, strlen(body), PRT_RESOURCE, &a, why,
	    sizeof(why)) != WG_OK)
		fail_msg("prt-access.json: %s", why);
	assert_string_equal(a.access_token, json_string_value(
	    json_object_get(o, "access_token")));
	assert_true(a.expires_in == 3600 && a.prt_life_s == 1209600);
	assert_string_equal(a.prt, ""); /* not a renewal */
	assert_true(json_equal(a.whole, o)); /* as it came, for --json */
	prt_answer_free(&a);
	assert_null(a.whole);
	/* an access token's answer is not a renewal's, nor the reverse */
	assert_int_equal(prt_answer_parse(body, strlen(body), NULL, &a, why,
	    sizeof(why)), WG_E_NET_PROTOCOL);
	free(body);
	json_decref(o);

	o = good_object("prt-renew.json");
	assert_non_null(body = json_dumps(o, JSON_COMPACT));
	assert_int_equal(prt_answer_parse(body, strlen(body), NULL, &a, why,
	    sizeof(why)), WG_OK);
	assert_null(a.access_token);
	assert_string_equal(a.prt, json_string_value(json_object_get(o,
	    "refresh_token")));
	prt_answer_free(&a);
	prt_answer_free(NULL);
	assert_int_equal(prt_answer_parse(body, strlen(body), PRT_RESOURCE, &a,
	    why, sizeof(why)), WG_E_NET_PROTOCOL);
	assert_non_null(strstr(why, "access_token"));
	free(body);
	json_decref(o);
}

static void
test_prt_answer_parse_not_json(void **state)
{
	static const char *const bodies[] = { "", "[]", "{", "null",
	    "{\"a\":1,\"a\":2}" };
	struct signin_answer s;
	struct prt_answer a;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		why[0] = '\0';
		assert_int_equal(prt_answer_parse(bodies[i], strlen(bodies[i]),
		    PRT_RESOURCE, &a, why, sizeof(why)), WG_E_NET_PROTOCOL);
		assert_true(why[0] != '\0');
		why[0] = '\0';
		assert_int_equal(signin_answer_parse(bodies[i],
		    strlen(bodies[i]), JOIN_NAME, &s, why, sizeof(why)),
		    WG_E_NET_PROTOCOL);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(prt_answer_parse(NULL, 0, NULL, &a, why,
	    sizeof(why)), WG_E_NET_PROTOCOL);
	assert_int_equal(signin_answer_parse("{}", ANSWER_BODY_MAX + 1,
	    JOIN_NAME, &s, why, sizeof(why)), WG_E_NET_PROTOCOL);
	assert_non_null(strstr(why, "over 65536 bytes"));
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
		cmocka_unit_test(test_signin_answer_parse_members),
		cmocka_unit_test(test_signin_answer_parse_fields),
		cmocka_unit_test(test_prt_answer_parse_access_members),
		cmocka_unit_test(test_prt_answer_parse_renewal_members),
		cmocka_unit_test(test_prt_answer_parse_fields),
		cmocka_unit_test(test_prt_answer_parse_not_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
