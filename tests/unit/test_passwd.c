/*
 * Argon2id password hashes (crypto/passwd.c): what hashes verifies, what
 * was not hashed or was tampered with does not, absurd parameters are
 * refused before any work, and a string made by another implementation
 * verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/passwd.h"

#define PW "correct horse battery"

/*
 * Known answer, made by the reference command-line tool of Debian's
 * `argon2` package (0~20171227), independently of this module:
 *   echo -n "correct horse battery" | argon2 wgknownanswersalt -id -t 2 \
 *       -k 1024 -p 1 -e
 */
#define KAT "$argon2id$v=19$m=1024,t=2,p=1$d2drbm93bmFuc3dlcnNhbHQ$" \
	"XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG+Ds"

/* Small parameters, so the tests run quickly. */
static const struct passwd_params fast = { 1024, 1, 1 };

static void
test_passwd_hash_verifies(void **state)
{
	struct passwd_params got;
	char phc[PASSWD_PHC_MAX];

	assert_int_equal(passwd_hash(&fast, PW, strlen(PW), phc), WG_OK);
	assert_true(strncmp(phc, "$argon2id$v=19$m=1024,t=1,p=1$", 30) == 0);
	assert_int_equal(passwd_phc_params(phc, &got), 0);
	assert_int_equal(got.m_kib, 1024);
	assert_int_equal(got.t, 1);
	assert_int_equal(got.p, 1);
	assert_int_equal(passwd_verify(phc, PW, strlen(PW)), WG_OK);
}

static void
test_passwd_verify_wrong_password(void **state)
{
	char phc[PASSWD_PHC_MAX];

	assert_int_equal(passwd_hash(&fast, PW, strlen(PW), phc), WG_OK);
	assert_int_equal(passwd_verify(phc, "correct horse batterY",
	    strlen(PW)), WG_E_USER_PASSWORD_WRONG);
	/* a prefix is not the password */
	assert_int_equal(passwd_verify(phc, PW, strlen(PW) - 1),
	    WG_E_USER_PASSWORD_WRONG);
	assert_int_equal(passwd_verify(phc, "", 0), WG_E_USER_PASSWORD_WRONG);
}

static void
test_passwd_verify_tampered(void **state)
{
	char phc[PASSWD_PHC_MAX], t[PASSWD_PHC_MAX];
	size_t n;

	assert_int_equal(passwd_hash(&fast, PW, strlen(PW), phc), WG_OK);
	n = strlen(phc);
	/* one character of the hash changed */
	memcpy(t, phc, n + 1);
	t[n - 3] = t[n - 3] == 'A' ? 'B' : 'A';
	assert_int_equal(passwd_verify(t, PW, strlen(PW)),
	    WG_E_USER_PASSWORD_WRONG);
	/* the salt changed */
	memcpy(t, phc, n + 1);
	t[31] = t[31] == 'A' ? 'B' : 'A';
	assert_int_equal(passwd_verify(t, PW, strlen(PW)),
	    WG_E_USER_PASSWORD_WRONG);
	/* the time cost changed: another hash */
	memcpy(t, phc, n + 1);
	t[strlen("$argon2id$v=19$m=1024,t=")] = '2';
	assert_int_equal(passwd_verify(t, PW, strlen(PW)),
	    WG_E_USER_PASSWORD_WRONG);
	/* another variant, version or shape is not accepted at all */
	memcpy(t, phc, n + 1);
	t[8] = 'i';	/* $argon2ii */
	assert_int_equal(passwd_verify(t, PW, strlen(PW)),
	    WG_E_PASSWD_HASH_INVALID);
	assert_int_equal(passwd_verify(phc + 1, PW, strlen(PW)),
	    WG_E_PASSWD_HASH_INVALID);
	memcpy(t, phc, n + 1);
	t[n - 10] = '\0';	/* 33 base64 characters: no whole bytes */
	assert_int_equal(passwd_verify(t, PW, strlen(PW)),
	    WG_E_PASSWD_HASH_INVALID);
	assert_int_equal(passwd_verify("", PW, strlen(PW)),
	    WG_E_PASSWD_HASH_INVALID);
	assert_int_equal(passwd_verify("$argon2id$v=16$m=1024,t=1,p=1$"
	    "d2drbm93bmFuc3dlcnNhbHQ$XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG"
	    "+Ds", PW, strlen(PW)), WG_E_PASSWD_HASH_INVALID);
	assert_int_equal(passwd_verify("$argon2id$v=19$m=01024,t=2,p=1$"
	    "d2drbm93bmFuc3dlcnNhbHQ$XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG"
	    "+Ds", PW, strlen(PW)), WG_E_PASSWD_HASH_INVALID);
	assert_int_equal(passwd_verify(KAT "=", PW, strlen(PW)),
	    WG_E_PASSWD_HASH_INVALID);
}

static void
test_passwd_verify_absurd_parameters(void **state)
{
	static const char *const absurd[] = {
		/* 2 GiB of memory */
		"$argon2id$v=19$m=2097152,t=1,p=1$d2drbm93bmFuc3dlcnNhbHQ$"
		    "XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG+Ds",
		"$argon2id$v=19$m=4294967295,t=1,p=1$d2drbm93bmFuc3dlcnNhbHQ$"
		    "XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG+Ds",
		"$argon2id$v=19$m=1024,t=11,p=1$d2drbm93bmFuc3dlcnNhbHQ$"
		    "XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG+Ds",
		"$argon2id$v=19$m=1024,t=1000000,p=1$d2drbm93bmFuc3dlcnNhbHQ$"
		    "XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG+Ds",
		"$argon2id$v=19$m=1024,t=1,p=17$d2drbm93bmFuc3dlcnNhbHQ$"
		    "XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG+Ds",
		"$argon2id$v=19$m=1024,t=0,p=1$d2drbm93bmFuc3dlcnNhbHQ$"
		    "XPT+dxY8i3qSZemWAki+hjZfR+iJwzB66ge6nCnG+Ds",
	};
	struct passwd_params prm;
	char why[128], phc[PASSWD_PHC_MAX];
	size_t i;

	for (i = 0; i < sizeof(absurd) / sizeof(absurd[0]); i++) {
		assert_int_equal(passwd_phc_params(absurd[i], &prm), -1);
		assert_int_equal(passwd_verify(absurd[i], PW, strlen(PW)),
		    WG_E_PASSWD_HASH_INVALID);
	}
	prm = (struct passwd_params){ PASSWD_M_KIB_MAX + 1, 1, 1 };
	assert_int_equal(passwd_params_check(&prm, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "memory"));
	prm = (struct passwd_params){ 1024, 11, 1 };
	assert_int_equal(passwd_params_check(&prm, why, sizeof(why)), -1);
	prm = (struct passwd_params){ 1024, 1, 17 };
	assert_int_equal(passwd_params_check(&prm, why, sizeof(why)), -1);
	assert_int_equal(passwd_hash(&prm, PW, strlen(PW), phc), WG_E_CONFIG);
	assert_string_equal(phc, "");
}

static void
test_passwd_hash_salted(void **state)
{
	char a[PASSWD_PHC_MAX], b[PASSWD_PHC_MAX];

	assert_int_equal(passwd_hash(&fast, PW, strlen(PW), a), WG_OK);
	assert_int_equal(passwd_hash(&fast, PW, strlen(PW), b), WG_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(passwd_verify(a, PW, strlen(PW)), WG_OK);
	assert_int_equal(passwd_verify(b, PW, strlen(PW)), WG_OK);
}

static void
test_passwd_verify_known_answer(void **state)
{
	struct passwd_params prm;

	assert_int_equal(passwd_phc_params(KAT, &prm), 0);
	assert_int_equal(prm.m_kib, 1024);
	assert_int_equal(prm.t, 2);
	assert_int_equal(passwd_verify(KAT, PW, strlen(PW)), WG_OK);
	assert_int_equal(passwd_verify(KAT, "correct horse batter", 20),
	    WG_E_USER_PASSWORD_WRONG);
}

static void
test_passwd_hash_default_parameters(void **state)
{
	const struct passwd_params def = { PASSWD_M_KIB_DEFAULT,
		PASSWD_T_DEFAULT, PASSWD_P_DEFAULT };
	char phc[PASSWD_PHC_MAX];

	assert_int_equal(passwd_hash(&def, PW, strlen(PW), phc), WG_OK);
	assert_true(strncmp(phc, "$argon2id$v=19$m=65536,t=3,p=1$", 31) == 0);
	assert_int_equal(passwd_verify(phc, PW, strlen(PW)), WG_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passwd_hash_verifies),
		cmocka_unit_test(test_passwd_verify_wrong_password),
		cmocka_unit_test(test_passwd_verify_tampered),
		cmocka_unit_test(test_passwd_verify_absurd_parameters),
		cmocka_unit_test(test_passwd_hash_salted),
		cmocka_unit_test(test_passwd_verify_known_answer),
		cmocka_unit_test(test_passwd_hash_default_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
