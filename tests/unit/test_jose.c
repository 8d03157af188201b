/*
 * jose.c: device tokens signed and verified; a token verified once and
 * remembered is still checked byte for byte, so an altered copy of a
 * remembered token never passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "crypto/jose.h"

static struct jose_signer *
signer(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct jose_signer *s = NULL;

	assert_non_null(key);
	assert_int_equal(jose_signer_new(key, &s), WG_OK);
	EVP_PKEY_free(key);
	return s;
}

/* A token of s with subject sub and exp (0: no exp). */
static char *
token(struct jose_signer *s, const char *sub, int64_t exp)
{
	json_t *claims = json_pack("{s:s}", "sub", sub);
	char *out = NULL;

	if (exp != 0)
		json_object_set_new(claims, "exp", json_integer(exp));
	assert_int_equal(jose_sign(s, claims, &out), WG_OK);
	json_decref(claims);
	return out;
}

static void
assert_verifies(struct jose_signer *s, const char *t, const char *sub)
{
	json_t *claims = NULL;
	char why[256] = "";

	if (jose_verify(s, t, &claims, why, sizeof(why)) != WG_OK)
		fail_msg("%s", why);
	assert_string_equal(json_string_value(json_object_get(claims, "sub")),
	    sub);
	json_decref(claims);
}

static void
assert_refused(struct jose_signer *s, const char *t)
{
	json_t *claims = NULL;
	char why[256] = "";

	assert_int_equal(jose_verify(s, t, &claims, why, sizeof(why)),
	    WG_E_TOKEN_INVALID);
	assert_null(claims);
	assert_true(why[0] != '\0');
}

static void
test_jose_verify_again(void **state)
{
	struct jose_signer *s = signer();
	int64_t exp = wg_now_ms() / 1000 + 3600;
	char *a = token(s, "device-a", exp), *b = token(s, "device-b", exp);
	int i;

	(void)state;
	for (i = 0; i < 3; i++) { /* the first verifies, the others recall */
		assert_verifies(s, a, "device-a");
		assert_verifies(s, b, "device-b");
	}
	free(a);
	free(b);
	jose_signer_free(s);
}

static void
test_jose_verify_altered_after_remembered(void **state)
{
	struct jose_signer *s = signer();
	char *t = token(s, "device-a", wg_now_ms() / 1000 + 3600);
	char *sig = strrchr(t, '.') + 1, *dot, was = sig[3];

	(void)state;
	assert_verifies(s, t, "device-a");
	/* the signature altered */
	sig[3] = was == 'A' ? 'B' : 'A';
	assert_refused(s, t);
	sig[3] = was;
	assert_verifies(s, t, "device-a");
	/* the payload altered, the signature kept */
	dot = strchr(t, '.') + 1;
	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	assert_refused(s, t);
	free(t);
	jose_signer_free(s);
}

static void
test_jose_verify_other_signer(void **state)
{
	struct jose_signer *s = signer(), *other = signer();
	char *t = token(s, "device-a", wg_now_ms() / 1000 + 3600);

	(void)state;
	assert_verifies(s, t, "device-a");
	assert_refused(other, t); /* remembered by s, not by other */
	free(t);
	jose_signer_free(s);
	jose_signer_free(other);
}

static void
test_jose_verify_expired_or_without_exp(void **state)
{
	struct jose_signer *s = signer();
	char *old = token(s, "device-a", wg_now_ms() / 1000 - 10);
	char *none = token(s, "device-b", 0);

	(void)state;
	/* exp is the caller's to check: both verify, neither is recalled */
	assert_verifies(s, old, "device-a");
	assert_verifies(s, old, "device-a");
	assert_verifies(s, none, "device-b");
	assert_verifies(s, none, "device-b");
	free(old);
	free(none);
	jose_signer_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jose_verify_again),
		cmocka_unit_test(test_jose_verify_altered_after_remembered),
		cmocka_unit_test(test_jose_verify_other_signer),
		cmocka_unit_test(test_jose_verify_expired_or_without_exp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
