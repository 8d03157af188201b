/*
 * libFuzzer harness for the device's answer parsers (src/agent/answer.c):
 * each input is parsed as an enrollment answer, an EK certificate service
 * answer, each of the join's answers (discovery, nonce, device token,
 * join), the MDM discovery and enrollment answers, the reseal's, the
 * app list, the user's sign-in and the answers to the PRT's use (an
 * access token, a renewal).  Accepted: every part within its cap and a chain of
 * 1..ANSWER_CHAIN_MAX certificates; refused: an empty result and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/answer.h"
#include "agent/apps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* The join's answers: within their caps when taken, empty when not. */
static void
join_answers(const char *body, size_t size)
{
	static const struct discovery_answer no_d;
	static const struct nonce_answer no_n;
	static const struct join_answer no_j;
	struct discovery_answer d;
	struct nonce_answer n;
	struct join_answer j;
	char why[256], *token;

	why[0] = '\0';
	if (discovery_answer_parse(body, size, &d, why, sizeof(why)) == WG_OK)
		CHECK(d.registration[0] != '\0' && d.token[0] != '\0');
	else
		CHECK(why[0] != '\0' && memcmp(&d, &no_d, sizeof(d)) == 0);
	why[0] = '\0';
	if (nonce_answer_parse(body, size, &n, why, sizeof(why)) == WG_OK)
		CHECK(n.len >= 1 && n.len <= sizeof(n.bytes));
	else
		CHECK(why[0] != '\0' && memcmp(&n, &no_n, sizeof(n)) == 0);
	why[0] = '\0';
	if (token_answer_parse(body, size, &token, why, sizeof(why)) == WG_OK) {
		CHECK(strlen(token) <= ANSWER_TOKEN_MAX);
		free(token);
	} else {
		CHECK(why[0] != '\0' && token == NULL);
	}
	why[0] = '\0';
	if (join_answer_parse(body, size, &j, why, sizeof(why)) == WG_OK) {
		CHECK(j.cert != NULL && strlen(j.thumbprint) == 40);
		CHECK(sk_X509_num(j.chain) >= 1 &&
		    sk_X509_num(j.chain) <= ANSWER_CHAIN_MAX);
		join_answer_free(&j);
	} else {
		CHECK(why[0] != '\0' && memcmp(&j, &no_j, sizeof(j)) == 0);
	}
}

/* Steps 4 and 6: within their caps when taken, empty when not. */
static void
later_answers(const char *body, size_t size)
{
	static const struct mdm_discovery_answer no_d;
	static const struct mdm_answer no_m;
	static const struct reseal_answer no_r;
	struct mdm_discovery_answer d;
	struct mdm_answer m;
	struct reseal_answer r;
	char why[256];

	why[0] = '\0';
	if (mdm_discovery_answer_parse(body, size, &d, why, sizeof(why)) ==
	    WG_OK)
		CHECK(d.enroll[0] != '\0');
	else
		CHECK(why[0] != '\0' && memcmp(&d, &no_d, sizeof(d)) == 0);
	why[0] = '\0';
	if (mdm_answer_parse(body, size, &m, why, sizeof(why)) == WG_OK) {
		CHECK(m.cert != NULL && strlen(m.thumbprint) == 40);
		CHECK(strncmp(m.management_url, "https://", 8) == 0);
		CHECK(sk_X509_num(m.chain) >= 1 &&
		    sk_X509_num(m.chain) <= ANSWER_CHAIN_MAX);
		mdm_answer_free(&m);
	} else {
		CHECK(why[0] != '\0' && memcmp(&m, &no_m, sizeof(m)) == 0);
	}
	why[0] = '\0';
	if (reseal_answer_parse(body, size, &r, why, sizeof(why)) == WG_OK)
		CHECK(strlen(r.ticket) <= ANSWER_TICKET_MAX &&
		    strlen(r.bound_to) == 64);
	else
		CHECK(why[0] != '\0' && memcmp(&r, &no_r, sizeof(r)) == 0);
}

/* Step 5's app list: each app by its rules, no id twice; or empty. */
static void
apps_answer(const char *body, size_t size)
{
	static const struct apps_answer none;
	const struct app_answer *p;
	struct apps_answer a;
	char why[256];
	size_t i, j;

	why[0] = '\0';
	if (apps_answer_parse(body, size, &a, why, sizeof(why)) != WG_OK) {
		CHECK(why[0] != '\0' && memcmp(&a, &none, sizeof(a)) == 0);
		return;
	}
	CHECK(a.n <= APPS_MAX && (a.n == 0) == (a.app == NULL));
	for (i = 0; i < a.n; i++) {
		p = &a.app[i];
		CHECK(strlen(p->id) == 36 && strlen(p->sha256) == 64);
		CHECK(p->name[0] != '\0' && p->install_command[0] != '\0');
		CHECK(p->size >= 1 && p->size <= ANSWER_APP_SIZE_MAX);
		CHECK(p->timeout_s >= 1 &&
		    p->timeout_s <= ANSWER_APP_TIMEOUT_MAX);
		CHECK(strncmp(p->content_url, ANSWER_CONTENT_PATH,
		    strlen(ANSWER_CONTENT_PATH)) == 0 && strcmp(p->content_url +
		    strlen(ANSWER_CONTENT_PATH), p->sha256) == 0);
		for (j = 0; j < i; j++)
			CHECK(strcmp(a.app[j].id, p->id) != 0);
	}
	apps_answer_free(&a);
}

/* Step 7: within their caps when taken, empty (wiped) when not. */
static void
signin_answers(const char *body, size_t size)
{
	static const char *const resources[] = { "urn:contoso:mail", NULL };
	static const struct signin_answer no_s;
	static const struct prt_answer no_p;
	struct signin_answer s;
	struct prt_answer p;
	char why[256];
	size_t i;

	why[0] = '\0';
	if (signin_answer_parse(body, size, "CT-JN-0001", &s, why,
	    sizeof(why)) == WG_OK) {
		CHECK(strlen(s.prt) >= 22 && strlen(s.prt) <= ANSWER_PRT_MAX);
		CHECK(s.prt_life_s >= 1 && s.prt_life_s <= ANSWER_PRT_LIFE_MAX);
		CHECK(s.jwe != NULL && strlen(s.jwe) <= ANSWER_JWE_MAX);
		CHECK(s.owner[0] != '\0' && s.boots >= 0 &&
		    s.boots <= (int64_t)UINT32_MAX);
		CHECK(s.join.cert != NULL && strlen(s.join.thumbprint) == 40);
		CHECK(strcmp(s.join.display_name, "CT-JN-0001") == 0);
		signin_answer_free(&s);
	} else {
		CHECK(why[0] != '\0' && memcmp(&s, &no_s, sizeof(s)) == 0);
	}
	for (i = 0; i < 2; i++) {
		why[0] = '\0';
		if (prt_answer_parse(body, size, resources[i], &p, why,
		    sizeof(why)) != WG_OK) {
			CHECK(why[0] != '\0' && memcmp(&p, &no_p,
			    sizeof(p)) == 0);
			continue;
		}
		CHECK(p.whole != NULL && p.prt_life_s >= 1 &&
		    p.prt_life_s <= ANSWER_PRT_LIFE_MAX);
		if (resources[i] != NULL)
			CHECK(p.access_token != NULL && strlen(p.access_token) <=
			    ANSWER_TOKEN_MAX && p.expires_in >= 1 &&
			    p.expires_in <= 86400 && p.prt[0] == '\0');
		else
			CHECK(p.access_token == NULL && strlen(p.prt) >= 22 &&
			    strlen(p.prt) <= ANSWER_PRT_MAX);
		prt_answer_free(&p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct enroll_answer zero;
	struct enroll_answer a;
	unsigned char *der;
	char why[256];
	size_t n;
	int k;

	why[0] = '\0';
	if (enroll_answer_parse((const char *)data, size, &a, why,
	    sizeof(why)) == WG_OK) {
		k = sk_X509_num(a.chain);
		CHECK(a.blob_len >= 1 && a.blob_len <= ANSWER_BLOB_MAX);
		CHECK(a.secret_len >= 1 && a.secret_len <= ANSWER_SECRET_MAX);
		CHECK(a.sealed_len >= 1 && a.sealed_len <= ANSWER_SEALED_MAX);
		CHECK(k >= 1 && k <= ANSWER_CHAIN_MAX);
		enroll_answer_free(&a);
	} else {
		CHECK(why[0] != '\0' && memcmp(&a, &zero, sizeof(a)) == 0);
	}
	why[0] = '\0';
	if (ekcert_answer_parse((const char *)data, size, &der, &n, why,
	    sizeof(why)) == WG_OK) {
		CHECK(n >= 1 && n <= ANSWER_CERT_MAX && der != NULL);
		free(der);
	} else {
		CHECK(why[0] != '\0' && der == NULL && n == 0);
	}
	join_answers((const char *)data, size);
	later_answers((const char *)data, size);
	apps_answer((const char *)data, size);
	signin_answers((const char *)data, size);
	return 0;
}
