/*
 * What signin.c (the sign-in) and prt.c (the PRT in use) share: the
 * jwt-bearer grant's limits and its claim checks.  Private to them.
 */
#ifndef WG_SERVER_SIGNIN_INT_H
#define WG_SERVER_SIGNIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/signin.h"
#include "server/http.h"
#include "store/store.h"

#define NONCE_MAX 32		/* bytes of a srv_challenge nonce */
#define PRT_LEN 32		/* bytes of a PRT */
#define PRT_LIFE_MS ((int64_t)14 * 86400 * 1000) /* sliding */

/*
 * Claim name of o: base64url of 1..max bytes into *out (xmalloc'd);
 * err (WG_E_JSON_FIELD, or the code of what it carries) answered if not.
 */
enum wg_err signin_claim_b64url(struct http_req *req, const json_t *o,
    const char *name, size_t max, enum wg_err err, unsigned char **out,
    size_t *len) __attribute__((warn_unused_result));

/* "iat": an integer (informative: the nonce makes a request fresh). */
enum wg_err signin_claim_iat(struct http_req *req, const json_t *claims)
    __attribute__((warn_unused_result));

/*
 * The nonce whose SHA-256 is hex is usable (not taken: a refusal must
 * not use it up); WG_E_NONCE_INVALID answered otherwise.
 */
enum wg_err signin_nonce_usable(struct http_req *req, struct store_conn *c,
    const char *hex) __attribute__((warn_unused_result));

/*
 * A request with a PRT (j, split from text: HS256 with "ctx"): an access
 * token for its resource, or the PRT renewed (prt.c).
 */
enum wg_err signin_prt(struct http_req *req, struct http_resp *resp,
    const struct signin_jws *j, const char *text)
    __attribute__((warn_unused_result));

#endif
