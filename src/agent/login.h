/*
 * The user's phase on the device (step 7 of the flow; docs/api.md, "The
 * user's sign-in"), the part Windows' sign-in screen and CloudAP play:
 *
 * login_run(): the user's UPN and password, the reseal's one-time ticket
 * (STATE/ticket.json), a fresh nonce the AIK quotes, all in a JWS the
 * device key (DK) signs in the TPM, sent as the jwt-bearer grant.  The
 * answer's session key, wrapped to the transport key (TK), is opened by
 * the TPM (TPM2_RSA_Decrypt), checked against the JWE's content and
 * sealed to the TPM at once; the primary refresh token (PRT) and the
 * sealed session key are kept in STATE/session.json (0600, written
 * whole); the device certificate the server issued again is stored as
 * the join stored it (device.crt, device-ca.pem, join.json); the ticket,
 * used up, is deleted.
 *
 * login_token() (prt.c): the PRT used, in an HS256 JWS keyed with the
 * key derived from the unsealed session key and a fresh context: an
 * access token for a resource, or a new PRT that replaces the old one.
 *
 * The server's answers are parsed by answer.h's signin_answer_parse()
 * and prt_answer_parse(); login_int.h is what login.c and prt.c share.
 *
 * Events of the `aad` channel (Windows' AAD operational log plays this
 * part) with the profile's correlation id: 1401 signed in, 1402 a try
 * failed and is made again (warning), 1403 the sign-in failed (with the
 * server's code), 1404 the session key unwrapped and sealed, 1405 an
 * access token issued, 1406 the PRT renewed, 1407 a token request
 * failed.  The password, the ticket, the PRT, the session key and the
 * tokens are in no event, log line or message, and are wiped from the
 * buffers that held them.
 */
#ifndef WG_AGENT_LOGIN_H
#define WG_AGENT_LOGIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/answer.h"
#include "agent/phaseopts.h"
#include "common/errors.h"
#include "crypto/signin.h"

enum {
	LOGIN_EVT_DONE = 1401,
	LOGIN_EVT_TRY_FAILED = 1402,
	LOGIN_EVT_FAILED = 1403,
	LOGIN_EVT_SESSION_KEY = 1404,
	LOGIN_EVT_ACCESS_TOKEN = 1405,
	LOGIN_EVT_PRT_RENEWED = 1406,
	LOGIN_EVT_TOKEN_FAILED = 1407,
};

#define LOGIN_CHANNEL "aad"
#define LOGIN_TRIES_DEFAULT 3
#define LOGIN_SESSION_FILE "session.json"
#define LOGIN_KEY_FILE "login.json"	/* the sign-in's request key */
#define LOGIN_GRANT_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define LOGIN_UPN_MAX ANSWER_UPN_MAX	   /* bytes of a UPN */
#define LOGIN_RESOURCE_MAX ANSWER_RESOURCE_MAX /* bytes of a resource name */
#define LOGIN_PRT_MAX ANSWER_PRT_MAX	   /* bytes of a PRT's text */

struct login_result {
	char upn[LOGIN_UPN_MAX + 1];	/* as the user typed it */
	char owner[LOGIN_UPN_MAX + 1];	/* the server's Owner */
	char device_id[37];		/* the directory object */
	char thumbprint[41];		/* the restored device.crt's SHA-1 */
	char prt_expires_at[32];	/* RFC 3339 UTC */
	enum signin_wrap wrap;		/* how the session key came */
	int64_t boots;			/* BootsSinceReseal */
	int recovered;			/* the lost join was recovered */
	int later;			/* not the device's first sign-in */
	unsigned tries;
};

/*
 * Signs upn in with the password (pw_len bytes; the caller wipes it)
 * against o->server's token service.  WG_OK with session.json written
 * and the join restored; else the catalog code a person reads: the
 * server's for a refusal (WG_E_USER_PASSWORD_WRONG, WG_E_TICKET_INVALID,
 * WG_E_LOST_JOIN, ...; tries end at once), the last try's when every try
 * failed on the network or the server's trouble, WG_E_TICKET_INVALID when
 * the device was never resealed (without a ticket the sign-in is a later
 * one, which the server allows after the first; recover: the claim
 * "recover", a lost join recovered where the tenant allows it),
 * WG_E_SESSION_KEY_INVALID when the session key does not open or
 * authenticate, WG_E_NET_PROTOCOL for an answer that does not hold
 * together, WG_E_TPM_* from the TPM, WG_E_IO when a file cannot be
 * written; why says what happened (never a secret).
 */
enum wg_err login_run(const struct agent_phase_opts *o, const char *upn,
    const char *password, size_t pw_len, int recover,
    struct login_result *res, char *why, size_t whylen)
    __attribute__((warn_unused_result));

struct login_token_result {
	char *access_token;	/* with a resource: a secret (xmalloc'd) */
	json_t *answer;		/* the whole answer; holds secrets */
	int64_t expires_in;	/* the access token's seconds */
	char prt_expires_at[32]; /* the PRT's new expiry, RFC 3339 UTC */
	char upn[LOGIN_UPN_MAX + 1];
};

/*
 * Uses the PRT of session.json: with resource (1 to LOGIN_RESOURCE_MAX
 * of A-Za-z0-9 and ":/._-"), an access token for it; with NULL, a new
 * PRT stored in session.json in the old one's place.  Either way
 * session.json's expiry moves (the PRT's 14 days start again).  WG_OK
 * with *res filled (free with login_token_result_free, which wipes it);
 * else as login_run() (WG_E_PRT_INVALID when no one signed in here).
 */
enum wg_err login_token(const struct agent_phase_opts *o,
    const char *resource, struct login_token_result *res, char *why,
    size_t whylen) __attribute__((warn_unused_result));
void login_token_result_free(struct login_token_result *r);

/* 1 if s is a resource name docs/api.md allows. */
int login_resource_ok(const char *s);

#endif
