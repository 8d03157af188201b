/*
 * Admin API keys: "wgk.<key id>.<secret>".  Only SHA-256 of the secret is
 * stored; the id finds the row, the hash is compared in constant time.
 */
#ifndef WG_AUTH_H
#define WG_AUTH_H

#include "server/http.h"
#include "store/store.h"

#define AUTH_SECRET_BYTES 32

/*
 * A new key of role for tenant_id ("" for the operator) named name: fills
 * rec (ready for store_api_key_insert) and sets *key_text to the key as
 * given to its holder (caller frees with xfree_secret on strlen+1).
 */
enum wg_err auth_key_new(enum wg_key_role role, const char *tenant_id,
    const char *name, struct wg_api_key *rec, char **key_text)
    __attribute__((warn_unused_result));

/*
 * Splits a key text into its id (37 bytes with NUL) and the SHA-256 of
 * its secret.  WG_E_AUTH_INVALID if it is not of the key form.
 */
enum wg_err auth_key_parse(const char *key_text, char id[37],
    unsigned char hash[32]) __attribute__((warn_unused_result));

/*
 * Authenticates an Authorization header value ("Bearer KEY") against the
 * store: WG_E_AUTH_MISSING, WG_E_AUTH_INVALID (unknown, wrong secret or
 * revoked), or a database error.  On success fills *caller.
 */
enum wg_err auth_check(struct store_conn *c, const char *authorization,
    struct http_caller *caller, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif
