/*
 * Users' passwords (step 7, the token service): Argon2id (RFC 9106)
 * through libargon2, kept as the PHC string
 * `$argon2id$v=19$m=KIB,t=T,p=P$SALT$HASH` (salt and hash unpadded
 * base64).  A hash is verified with the parameters its own string names,
 * so changing the defaults later leaves every stored hash verifiable;
 * a string whose parameters would make verifying it a denial of service
 * is refused before any work is done.
 */
#ifndef WG_PASSWD_H
#define WG_PASSWD_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"

/* Defaults (RFC 9106 section 7.4's second choice: 64 MiB, t=3, p=1). */
#define PASSWD_M_KIB_DEFAULT 65536
#define PASSWD_T_DEFAULT 3
#define PASSWD_P_DEFAULT 1
/* What a stored string may ask for at the most; the least. */
#define PASSWD_M_KIB_MAX (1024 * 1024)	/* 1 GiB */
#define PASSWD_T_MAX 10
#define PASSWD_P_MAX 16
#define PASSWD_M_KIB_MIN 1024
#define PASSWD_SALT_LEN 16
#define PASSWD_HASH_LEN 32
/* A PHC string this module makes or accepts, with its NUL. */
#define PASSWD_PHC_MAX 192
/* The password rule of the admin API: 12 to 256 bytes. */
#define PASSWD_LEN_MIN 12
#define PASSWD_LEN_MAX 256

struct passwd_params {
	uint32_t m_kib; /* memory, KiB */
	uint32_t t;	/* passes */
	uint32_t p;	/* lanes */
};

/*
 * 0 if prm is within the limits above (m at least 8 KiB per lane, as
 * Argon2 needs); else -1 and why names the parameter and its range.
 */
int passwd_params_check(const struct passwd_params *prm, char *why,
    size_t whylen);

/*
 * Hashes the len bytes of pw with a fresh 16-byte random salt into out
 * (a PHC string).  WG_E_CRYPTO (logged) if randomness or Argon2 fails,
 * WG_E_CONFIG if prm is out of range.
 */
enum wg_err passwd_hash(const struct passwd_params *prm, const char *pw,
    size_t len, char out[PASSWD_PHC_MAX]) __attribute__((warn_unused_result));

/*
 * Verifies pw against the PHC string phc in constant time (libargon2's
 * comparison): WG_OK if it matches, WG_E_USER_PASSWORD_WRONG if not,
 * WG_E_PASSWD_HASH_INVALID if phc is not an argon2id v=19 string within
 * the limits above (nothing is computed then).
 */
enum wg_err passwd_verify(const char *phc, const char *pw, size_t len)
    __attribute__((warn_unused_result));

/*
 * The parameters phc names, parsed strictly; -1 if it is not an argon2id
 * v=19 PHC string or they are outside the limits.
 */
int passwd_phc_params(const char *phc, struct passwd_params *out);

#endif
