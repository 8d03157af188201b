/*
 * What the sign-in (login.c) and the PRT's use (prt.c) share: the token
 * service request both make, session.json, the state files' reader.  Not
 * for the rest of the agent (login.h is).
 */
#ifndef WG_AGENT_LOGIN_INT_H
#define WG_AGENT_LOGIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/devtoken.h"
#include "agent/login.h"
#include "agent/tpm.h"
#include "common/errors.h"
#include "common/httpc.h"

/* STATE/session.json: who signed in, the PRT, the sealed session key. */
struct login_session {
	char prt[LOGIN_PRT_MAX + 1];	/* RefreshToken: a secret */
	char prt_expires_at[32];	/* RefreshTokenExpiresAt */
	char upn[LOGIN_UPN_MAX + 1];	/* Upn */
	char device_id[37];		/* DeviceId */
	enum signin_wrap wrap;		/* Wrap */
	struct tpm_aik sealed;		/* SessionKey {Public, Private} */
	char signed_in_at[32];		/* SignedInAt */
};

/*
 * d set for the user's phase (the aad channel, ACCOUNT_SETUP, event 1402
 * for a failed try); request_phase names the request ("login", "token").
 */
void login_devtoken_init(struct devtoken *d, const struct agent_phase_opts *o,
    const char *request_phase, char *why, size_t whylen);

/*
 * POST {TokenEndpoint} grant_type=jwt-bearer&request=jws (form-encoded,
 * the form wiped after), through devtoken_exchange() with key (NULL:
 * no Idempotency-Key): its result.
 */
enum wg_err login_request_post(struct devtoken *d, const char *jws,
    const char *key, struct wg_httpc_resp *resp, int *retry)
    __attribute__((warn_unused_result));

/*
 * The JSON object of the state file dir/name (fewer than 8 KiB) into *o
 * (the caller decrefs it; NULL on failure), the bytes read wiped; 0, or
 * -1 with why.
 */
int login_state_json(const char *dir, const char *name, json_t **o,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/* Wipes and frees a string (NULL is fine). */
void login_secret_free(char *s);

/*
 * session.json from s, written whole (0600), its text wiped after:
 * WG_OK, or agent_state_write()'s code with why.
 */
enum wg_err login_session_write(const char *dir,
    const struct login_session *s, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* The PRT's expiry life_s seconds from now, RFC 3339 UTC, into out. */
void login_expiry(int64_t life_s, char out[32]);

#endif
