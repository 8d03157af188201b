/*
 * Argon2id password hashes as PHC strings, through libargon2 (the
 * reference implementation of RFC 9106).  The only file that calls it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>

#include "common/log.h"
#include "common/util.h"
#include "crypto/passwd.h"

#define PHC_PREFIX "$argon2id$v=19$m="
/* Salt 8..64 bytes and hash 16..64 bytes, as unpadded base64. */
#define SALT_B64_MIN 11
#define HASH_B64_MIN 22
#define B64_FIELD_MAX 86

int
passwd_params_check(const struct passwd_params *prm, char *why,
    size_t whylen)
{
	if (prm->p < 1 || prm->p > PASSWD_P_MAX)
		wg_say(why, whylen, "lanes (p) must be 1 to %d", PASSWD_P_MAX);
	else if (prm->t < 1 || prm->t > PASSWD_T_MAX)
		wg_say(why, whylen, "time cost (t) must be 1 to %d",
		    PASSWD_T_MAX);
	else if (prm->m_kib < PASSWD_M_KIB_MIN ||
	    prm->m_kib > PASSWD_M_KIB_MAX || prm->m_kib < 8 * prm->p)
		wg_say(why, whylen, "memory (m) must be %d to %d KiB, and 8 "
		    "KiB per lane", PASSWD_M_KIB_MIN, PASSWD_M_KIB_MAX);
	else
		return 0;
	return -1;
}

enum wg_err
passwd_hash(const struct passwd_params *prm, const char *pw, size_t len,
    char out[PASSWD_PHC_MAX])
{
	unsigned char salt[PASSWD_SALT_LEN];
	char why[128];
	enum wg_err rc;
	int arc;

	out[0] = '\0';
	if (passwd_params_check(prm, why, sizeof(why)) != 0) {
		wg_error("argon2id: %s", why);
		return WG_E_CONFIG;
	}
	if ((rc = wg_random(salt, sizeof(salt))) != WG_OK)
		return rc;
	arc = argon2id_hash_encoded(prm->t, prm->m_kib, prm->p, pw, len, salt,
	    sizeof(salt), PASSWD_HASH_LEN, out, PASSWD_PHC_MAX);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (arc != ARGON2_OK) {
		wg_error("argon2id: %s", argon2_error_message(arc));
		out[0] = '\0';
		return WG_E_CRYPTO;
	}
	return WG_OK;
}

/* A decimal number without sign or leading zero, up to stop; NULL if not. */
static const char *
phc_number(const char *s, char stop, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != stop))
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (uint64_t)(*p - '0')) > max)
			return NULL;
	if (*p != stop)
		return NULL;
	*out = (uint32_t)v;
	return p + 1;
}

/* Unpadded base64 of min..B64_FIELD_MAX characters up to stop. */
static const char *
phc_b64(const char *s, char stop, size_t min)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789+/");

	if (n < min || n > B64_FIELD_MAX || s[n] != stop || n % 4 == 1)
		return NULL;
	return s + n + (stop != '\0');
}

int
passwd_phc_params(const char *phc, struct passwd_params *out)
{
	struct passwd_params prm;
	const char *s;
	char why[128];

	if (strnlen(phc, PASSWD_PHC_MAX) >= PASSWD_PHC_MAX ||
	    strncmp(phc, PHC_PREFIX, strlen(PHC_PREFIX)) != 0)
		return -1;
	s = phc + strlen(PHC_PREFIX);
	if ((s = phc_number(s, ',', PASSWD_M_KIB_MAX, &prm.m_kib)) == NULL ||
	    strncmp(s, "t=", 2) != 0 ||
	    (s = phc_number(s + 2, ',', PASSWD_T_MAX, &prm.t)) == NULL ||
	    strncmp(s, "p=", 2) != 0 ||
	    (s = phc_number(s + 2, '$', PASSWD_P_MAX, &prm.p)) == NULL ||
	    (s = phc_b64(s, '$', SALT_B64_MIN)) == NULL ||
	    phc_b64(s, '\0', HASH_B64_MIN) == NULL ||
	    passwd_params_check(&prm, why, sizeof(why)) != 0)
		return -1;
	*out = prm;
	return 0;
}

enum wg_err
passwd_verify(const char *phc, const char *pw, size_t len)
{
	struct passwd_params prm;
	int arc;

	if (passwd_phc_params(phc, &prm) != 0)
		return WG_E_PASSWD_HASH_INVALID;
	arc = argon2id_verify(phc, pw, len);
	if (arc == ARGON2_OK)
		return WG_OK;
	if (arc == ARGON2_VERIFY_MISMATCH)
		return WG_E_USER_PASSWORD_WRONG;
	if (arc == ARGON2_MEMORY_ALLOCATION_ERROR) {
		wg_error("argon2id: %s", argon2_error_message(arc));
		return WG_E_CRYPTO;
	}
	/* a string libargon2 cannot decode (a base64 tail it refuses) */
	return WG_E_PASSWD_HASH_INVALID;
}
