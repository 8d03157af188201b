/*
 * The user's sign-in and the primary refresh token (signin.c): the
 * token service's grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer.
 */
#ifndef WG_SERVER_SIGNIN_H
#define WG_SERVER_SIGNIN_H

#include "server/form.h"
#include "server/http.h"

#define SIGNIN_GRANT "urn:ietf:params:oauth:grant-type:jwt-bearer"

/*
 * POST /token with grant_type=SIGNIN_GRANT (form f): a sign-in (request
 * JWS RS256, by the device key) or a request with a PRT (HS256, by the
 * key of its session).  docs/api.md says what each checks and answers.
 */
enum wg_err signin_grant(struct http_req *req, struct http_resp *resp,
    const struct form *f) __attribute__((warn_unused_result));

#endif
