/*
 * libFuzzer harness for the Argon2id PHC string parser (src/crypto/
 * passwd.c): each input, up to its first NUL, is a stored hash.
 * passwd_phc_params() either refuses it or gives parameters within
 * passwd.h's limits, which passwd_params_check() agrees with;
 * passwd_verify() refuses every string passwd_phc_params() refuses
 * (WG_E_PASSWD_HASH_INVALID, before any work), and for one it accepts
 * answers a match, a mismatch or a string libargon2 cannot decode.
 *
 * passwd_verify() computes Argon2 with the string's own parameters, up
 * to 1 GiB and 10 passes: a fuzzer would spend its time there.  Strings
 * with more than the least memory passwd.h allows (PASSWD_M_KIB_MIN, 1
 * MiB) or more than one pass are parsed but not verified, so every
 * verify is a 1 MiB, one-pass Argon2id (about a millisecond).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/passwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* The password of the corpus's good/ hashes but other-password.phc. */
#define PASSWORD "correct horse battery"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passwd_params prm;
	char *phc, why[128];
	enum wg_err rc;

	if ((phc = malloc(size + 1)) == NULL)
		abort();
	memcpy(phc, data, size);
	phc[size] = '\0';
	memset(&prm, 0, sizeof(prm));
	if (passwd_phc_params(phc, &prm) != 0) {
		CHECK(passwd_verify(phc, PASSWORD, strlen(PASSWORD)) ==
		    WG_E_PASSWD_HASH_INVALID);
		goto done;
	}
	CHECK(strlen(phc) < PASSWD_PHC_MAX);
	CHECK(prm.m_kib >= PASSWD_M_KIB_MIN && prm.m_kib <= PASSWD_M_KIB_MAX);
	CHECK(prm.t >= 1 && prm.t <= PASSWD_T_MAX);
	CHECK(prm.p >= 1 && prm.p <= PASSWD_P_MAX);
	CHECK(passwd_params_check(&prm, why, sizeof(why)) == 0);
	if (prm.m_kib > PASSWD_M_KIB_MIN || prm.t > 1)
		goto done; /* valid, but too dear to compute here */
	rc = passwd_verify(phc, PASSWORD, strlen(PASSWORD));
	CHECK(rc == WG_OK || rc == WG_E_USER_PASSWORD_WRONG ||
	    rc == WG_E_PASSWD_HASH_INVALID);
	/* a match is the password's alone */
	if (rc == WG_OK)
		CHECK(passwd_verify(phc, PASSWORD "!", strlen(PASSWORD) + 1) ==
		    WG_E_USER_PASSWORD_WRONG);
done:
	free(phc);
	return 0;
}
