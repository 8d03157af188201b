/*
 * The user's sign-in and the primary refresh token (step 7 of the flow;
 * docs/api.md, "The user's sign-in"): POST /token with
 * grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer, the role of
 * the token service's answer to CloudAP in MS-OAPXBC.
 *
 * A sign-in (a request JWS signed by the device key in the TPM) is
 * checked from the device inwards: the device key's signature first, so
 * that only a real device's request gets to the user, whose password
 * costs an Argon2id; then the nonce, the ticket, the TPM's attestation
 * and the reboot policy, the directory object.  Every refusal leaves the
 * database as it was, except the failed sign-ins counted against the
 * user and the device and the audit records of refusals (credentials, a
 * lost join).  An accepted sign-in writes everything it changes in one
 * transaction: the nonce and ticket used up, the device certificate
 * issued again, the owner, the PRT.  With an Idempotency-Key, its answer
 * is kept for the same device key and user (idem.c).
 *
 * A request with a PRT (HS256) goes to prt.c.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/jose.h"
#include "crypto/passwd.h"
#include "crypto/signin.h"
#include "crypto/tpmattest.h"
#include "crypto/tpmpub.h"
#include "server/admin_util.h"
#include "server/form.h"
#include "server/idem.h"
#include "server/sealbox.h"
#include "server/server.h"
#include "server/signin.h"
#include "server/signin_int.h"
#include "server/tpmproof.h"

#define TICKET_LEN 32
#define ID_TOKEN_LIFE_S 3600
#define PASSWORD_MAX 256
#define AUD_AGENT "urn:whiteglove:agent"
#define PURGE_EVERY 64		/* requests per purge */
#define PURGE_ROWS 200		/* rows of each kind per purge, at most */
#define PURGE_AFTER_MS ((int64_t)86400 * 1000)

/* A sign-in request, decoded; the password is borrowed from the claims. */
struct signin {
	struct signin_jws jws;
	const char *kid, *upn, *password;
	size_t password_len;
	unsigned char *nonce, *ticket, *quote, *sig;
	size_t nonce_len, ticket_len, quote_len, sig_len;
	char nonce_hex[65], ticket_hex[65];
	struct proof proof;		/* the AIK certificate, the AIK */
	struct tpm_attest att;
	struct wg_signin_device sd;
	unsigned char *dk_raw, *tk_raw;
	size_t dk_raw_len, tk_raw_len;
	struct tpm_public dk, tk;
	struct wg_ticket t;
	struct wg_profile prof;
	int have_prof;
	uint32_t boots;			/* TPM resets since the reseal */
	struct wg_user user;
	struct wg_tenant tenant;
	char dk_hex[65];		/* kid, in lower case */
	int recover;			/* the claim "recover": true */
	int later;			/* no ticket: not the first sign-in */
	char recovered[160];		/* what the recovery waived, or "" */
};

static void
signin_free(struct signin *s)
{
	signin_jws_free(&s->jws);
	free(s->nonce);
	if (s->ticket != NULL)
		OPENSSL_cleanse(s->ticket, s->ticket_len);
	free(s->ticket);
	free(s->quote);
	free(s->sig);
	free(s->dk_raw);
	free(s->tk_raw);
	proof_free(&s->proof);
	OPENSSL_cleanse(&s->user, sizeof(s->user));
}

/* signin_int.h */
enum wg_err
signin_claim_b64url(struct http_req *req, const json_t *o, const char *name,
    size_t max, enum wg_err err, unsigned char **out, size_t *len)
{
	const char *v;

	*out = NULL;
	*len = 0;
	if (wg_json_string(o, name, 1, (max + 2) / 3 * 4, &v, req->why,
	    sizeof(req->why)) != WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "claim \"%s\": missing, "
		    "not a string, or too long", name);
	if (wg_b64url_decode(v, out, len) != 0 || *len == 0 || *len > max) {
		free(*out);
		*out = NULL;
		*len = 0;
		return http_fail(req, err, "claim \"%s\" is not base64url of 1 "
		    "to %zu bytes", name, max);
	}
	return WG_OK;
}

/* signin_int.h */
enum wg_err
signin_claim_iat(struct http_req *req, const json_t *claims)
{
	if (!json_is_integer(json_object_get(claims, "iat")))
		return http_fail(req, WG_E_JSON_FIELD, "claim \"iat\" must be an "
		    "integer (seconds since the epoch)");
	return WG_OK;
}

/* signin_int.h */
enum wg_err
signin_nonce_usable(struct http_req *req, struct store_conn *c, const char *hex)
{
	const char *why = NULL;
	enum wg_err rc = store_nonce_check(c, hex, TOKEN_NONCE_PURPOSE, &why);

	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_NONCE_INVALID, "request_nonce is %s; "
		    "ask for a new one (grant_type=srv_challenge)", why);
	return rc;
}

/* ---- the sign-in ---- */

/* The header's kid names a directory object; the JWS is its DK's. */
static enum wg_err
signin_key(struct http_req *req, struct store_conn *c, struct signin *s)
{
	const json_t *kid = json_object_get(s->jws.header, "kid");
	unsigned char md[32];
	char why[256] = "", hex[65];
	enum wg_err rc;

	if (!json_is_string(kid) || json_string_length(kid) != 64 ||
	    wg_hex_decode(json_string_value(kid), md, sizeof(md)) != 0)
		return http_fail(req, WG_E_JSON_FIELD, "the request's header "
		    "\"kid\" must be the device key id: 64 hex digits");
	wg_hex(md, sizeof(md), hex);
	memcpy(s->dk_hex, hex, sizeof(s->dk_hex));
	s->kid = json_string_value(kid);
	rc = store_signin_device(c, hex, &s->sd);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_SIGNIN_PROOF_INVALID, "no directory "
		    "object holds the device key %s", hex);
	if (rc != WG_OK)
		return rc;
	if (s->sd.dk_public[0] == '\0' || s->sd.tk_public[0] == '\0')
		return http_fail(req, WG_E_SIGNIN_PROOF_INVALID, "device %s "
		    "joined before this server kept its keys; pre-provision it "
		    "again", s->sd.dev.serial);
	if (wg_b64_decode_text(s->sd.dk_public, &s->dk_raw,
	    &s->dk_raw_len) != 0 || tpm_public_parse(s->dk_raw,
	    s->dk_raw_len, &s->dk, why, sizeof(why)) != WG_OK ||
	    wg_b64_decode_text(s->sd.tk_public, &s->tk_raw,
	    &s->tk_raw_len) != 0 || tpm_public_parse(s->tk_raw,
	    s->tk_raw_len, &s->tk, why, sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_INTERNAL, "the directory object's "
		    "keys do not parse: %s", why);
	rc = signin_rs256_verify(&s->jws, &s->dk, why, sizeof(why));
	if (rc == WG_E_JSON_FIELD)
		return http_fail(req, WG_E_SIGNIN_PROOF_INVALID, "the request is "
		    "not signed by the device key %s: %s", hex, why);
	return rc;
}

/* The claims of a sign-in (docs/api.md). */
static enum wg_err
signin_claims(struct http_req *req, struct signin *s)
{
	static const char *const allowed[] = {"grant_type", "username",
	    "password", "request_nonce", "pp_ticket", "tpm_attestation", "iat",
	    "recover", NULL};
	static const char *const att_allowed[] = {"AikCertificate", "Quote",
	    "Signature", NULL};
	const json_t *cl = s->jws.claims, *att, *pw;
	const char *grant;
	char why[256] = "";
	enum wg_err rc;

	if (wg_json_only(cl, allowed, req->why, sizeof(req->why)) != WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "the request: %s",
		    req->why);
	if (wg_json_string(cl, "grant_type", 1, 32, &grant, why,
	    sizeof(why)) != WG_OK || strcmp(grant, "password") != 0)
		return http_fail(req, WG_E_JSON_FIELD, "claim \"grant_type\" of "
		    "a sign-in must be \"password\"");
	if (wg_json_string(cl, "username", 1, WG_UPN_MAX, &s->upn, why,
	    sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "claim \"username\": "
		    "%s", why);
	pw = json_object_get(cl, "password");
	if (!json_is_string(pw) || json_string_length(pw) == 0 ||
	    json_string_length(pw) > PASSWORD_MAX)
		return http_fail(req, WG_E_JSON_FIELD, "claim \"password\" must "
		    "be a string of 1 to %d bytes", PASSWORD_MAX);
	s->password = json_string_value(pw);
	s->password_len = json_string_length(pw);
	if (json_object_get(cl, "recover") != NULL &&
	    !json_is_boolean(json_object_get(cl, "recover")))
		return http_fail(req, WG_E_JSON_FIELD, "claim \"recover\" must "
		    "be a boolean");
	s->recover = json_is_true(json_object_get(cl, "recover"));
	att = json_object_get(cl, "tpm_attestation");
	if (!json_is_object(att) || wg_json_only(att, att_allowed, req->why,
	    sizeof(req->why)) != WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "claim "
		    "\"tpm_attestation\" must be an object of AikCertificate, "
		    "Quote and Signature");
	if ((rc = signin_claim_iat(req, cl)) != WG_OK ||
	    (rc = signin_claim_b64url(req, cl, "request_nonce", NONCE_MAX,
	    WG_E_JSON_FIELD, &s->nonce, &s->nonce_len)) != WG_OK ||
	    (json_object_get(cl, "pp_ticket") != NULL &&
	    (rc = signin_claim_b64url(req, cl, "pp_ticket", TICKET_LEN,
	    WG_E_TICKET_INVALID, &s->ticket, &s->ticket_len)) != WG_OK) ||
	    (rc = proof_b64(req, att, "tpm_attestation.", "AikCertificate",
	    WG_CERT_B64_MAX / 4 * 3, &s->proof.aik_cert,
	    &s->proof.aik_cert_len)) != WG_OK ||
	    (rc = proof_b64(req, att, "tpm_attestation.", "Quote",
	    PROOF_TPM_MAX, &s->quote, &s->quote_len)) != WG_OK ||
	    (rc = proof_b64(req, att, "tpm_attestation.", "Signature",
	    PROOF_TPM_MAX, &s->sig, &s->sig_len)) != WG_OK)
		return rc;
	if (tpm_attest_parse(s->quote, s->quote_len, &s->att, why,
	    sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "tpm_attestation."
		    "Quote: %s", why);
	wg_sha256_hex(s->nonce, s->nonce_len, s->nonce_hex);
	if (s->ticket != NULL)
		wg_sha256_hex(s->ticket, s->ticket_len, s->ticket_hex);
	return WG_OK;
}

/* What a refused device can do about a lost join, by its tenant's rule. */
static const char *
recovery_hint(const struct signin *s)
{
	return s->tenant.allow_join_recovery ? "; this tenant allows "
	    "recovery: sign in with `whiteglove-agent login --recover`" :
	    "; this tenant does not allow recovery: an admin can allow it "
	    "(`whiteglove tenant set TENANT --allow-join-recovery on`) or have "
	    "the device pre-provisioned again";
}

/* The device's tenant; a recovery only where the tenant allows it. */
static enum wg_err
signin_tenant(struct http_req *req, struct store_conn *c, struct signin *s)
{
	enum wg_err rc = store_tenant_get(c, s->sd.dev.tenant_id, &s->tenant);

	if (rc != WG_OK)
		return rc;
	if (s->recover && !s->tenant.allow_join_recovery)
		return http_fail(req, WG_E_RECOVERY_NOT_ALLOWED, "tenant \"%s\" "
		    "does not allow a lost join to be recovered at sign-in",
		    s->tenant.name);
	return WG_OK;
}

/*
 * A sign-in without a ticket: the device's newest ticket must have been
 * used, by the first sign-in (the join is restored since); a resealed
 * device waiting for its user needs its ticket.  The ticket found gives
 * the AIK the quote must be by.
 */
static enum wg_err
signin_later(struct http_req *req, struct store_conn *c, struct signin *s)
{
	enum wg_err rc = store_ticket_latest(c, s->sd.dev.id, &s->t);

	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_TICKET_INVALID, "device %s was never "
		    "resealed: it cannot be signed in to", s->sd.dev.serial);
	if (rc != WG_OK)
		return rc;
	if (s->t.used_ms == 0)
		return http_fail(req, WG_E_TICKET_INVALID, "device %s is "
		    "resealed and waits for its first sign-in, which needs its "
		    "pre-provisioning ticket (pp_ticket)", s->sd.dev.serial);
	if (strcasecmp(s->t.dk_id, s->kid) != 0)
		return http_fail(req, WG_E_TICKET_INVALID, "device %s joined "
		    "again with another device key since its first sign-in; "
		    "reseal it again", s->sd.dev.serial);
	s->later = 1;
	return WG_OK;
}

/*
 * The ticket: known, this device's and this DK's, unused and unexpired
 * (both waived by a recovery the tenant allows).  Without one, a later
 * sign-in (signin_later).
 */
static enum wg_err
signin_ticket(struct http_req *req, struct store_conn *c, struct signin *s)
{
	int64_t now = wg_now_ms();
	char at[32];
	enum wg_err rc;

	if (s->ticket == NULL)
		return signin_later(req, c, s);
	rc = store_ticket_get(c, s->ticket_hex, &s->t);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_TICKET_INVALID, "the pre-provisioning "
		    "ticket is unknown (a later reseal replaces a ticket)");
	if (rc != WG_OK)
		return rc;
	if (strcmp(s->t.device_id, s->sd.dev.id) != 0 ||
	    strcasecmp(s->t.dk_id, s->kid) != 0)
		return http_fail(req, WG_E_TICKET_INVALID, "the "
		    "pre-provisioning ticket belongs to another device");
	if (s->t.used_ms != 0) {
		wg_time_rfc3339(s->t.used_ms, at);
		if (!s->recover)
			return http_fail(req, WG_E_TICKET_INVALID, "the "
			    "pre-provisioning ticket was used at %s: a ticket "
			    "serves one sign-in%s", at, recovery_hint(s));
		snprintf(s->recovered, sizeof(s->recovered), "the ticket was "
		    "used at %s", at);
	} else if (s->t.expires_ms <= now) {
		wg_time_rfc3339(s->t.expires_ms, at);
		if (!s->recover)
			return http_fail(req, WG_E_TICKET_INVALID, "the "
			    "pre-provisioning ticket expired at %s%s", at,
			    recovery_hint(s));
		snprintf(s->recovered, sizeof(s->recovered), "the ticket "
		    "expired at %s", at);
	}
	if (s->t.aik_name[0] == '\0')
		return http_fail(req, WG_E_TICKET_INVALID, "the "
		    "pre-provisioning ticket predates sign-ins; reseal the "
		    "device again");
	return WG_OK;
}

/* Writes an audit record of the device (channel token). */
static enum wg_err
signin_audit(struct http_req *req, struct store_conn *c,
    const struct signin *s, int id, enum wg_err err, const char *key,
    const char *value, const char *msg)
{
	return admin_device_audit(req, c, &s->sd.dev, "token", id,
	    WG_PHASE_ACCOUNT_SETUP, err, NULL, key, value, msg);
}

/*
 * The quote is the reseal's AIK's, over the nonce; the counters it shows
 * against the ticket's, by the profile's reboot policy.  Both quotes are
 * the same AIK's, so the TPM's per-key offset of the counters cancels
 * out in the difference (uint32 arithmetic, as the TPM's own).
 */
static enum wg_err
signin_boots(struct http_req *req, struct store_conn *c, struct signin *s)
{
	char msg[512];
	int by_tag, strict;
	enum wg_err rc;

	if ((rc = proof_aik(req, c, s->t.aik_name, &s->proof)) != WG_OK ||
	    (rc = proof_quote_check(req, &s->proof.aik, &s->att, s->quote,
	    s->quote_len, s->sig, s->sig_len, s->nonce, s->nonce_len)) !=
	    WG_OK)
		return rc;
	rc = store_profile_for(c, s->sd.dev.tenant_id, s->sd.dev.group_tag,
	    &s->prof, &by_tag);
	if (rc != WG_OK && rc != WG_E_NOT_FOUND)
		return rc;
	s->have_prof = rc == WG_OK;
	strict = !s->have_prof || strcmp(s->prof.reboot_policy, "strict") == 0;
	s->boots = (uint32_t)s->att.reset_count - (uint32_t)s->t.reset_count;
	if (s->later)
		strict = 0; /* a device in use boots as it likes */
	if (strict && s->boots > 1 && !s->recover) {
		snprintf(msg, sizeof(msg), "the TPM was started %lu times "
		    "since the reseal (its resetCount moved by %lu); the "
		    "profile's reboot policy, strict, allows one: the boot "
		    "that brings the device to its user%s",
		    (unsigned long)s->boots, (unsigned long)s->boots,
		    recovery_hint(s));
		/* the device's timeline on the server says it too */
		admin_device_refusal(req, c, &s->sd.dev, "token",
		    ADMIN_EVT_SIGNIN_FAILED, WG_PHASE_ACCOUNT_SETUP,
		    WG_E_LOST_JOIN, "upn", s->upn, msg);
		return http_fail(req, WG_E_LOST_JOIN, "%s", msg);
	}
	if (strict && s->boots > 1 && s->recovered[0] == '\0')
		snprintf(s->recovered, sizeof(s->recovered), "the TPM was "
		    "started %lu times since the reseal (strict policy)",
		    (unsigned long)s->boots);
	if (!s->sd.dev.enabled)
		return http_fail(req, WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND, "the "
		    "directory object of device %s is disabled",
		    s->sd.dev.serial);
	return WG_OK;
}


/*
 * A failed sign-in for the user's credentials: the device's count, the
 * user's (when there is one: it may lock the account), the audit, in one
 * transaction that commits although the request fails.
 */
static enum wg_err
signin_count(struct http_req *req, struct store_conn *c, struct signin *s,
    enum wg_err why)
{
	const struct server_config *cfg = req->srv->cfg;
	int64_t now = wg_now_ms(), lock_ms = (int64_t)cfg->signin_lockout_min *
	    60 * 1000, failures = 0;
	struct wg_user u;
	char msg[WG_UPN_MAX + 128], until[32];
	enum wg_err rc;

	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	rc = store_signin_device_failed(c, s->sd.dev.tenant_id, s->sd.dev.id,
	    now, lock_ms, &failures);
	if (rc == WG_OK && why == WG_E_USER_PASSWORD_WRONG &&
	    (rc = store_user_signin_failed(c, s->user.tenant_id, s->user.id,
	    now, cfg->signin_lockout_after, lock_ms, &u)) == WG_OK &&
	    u.locked_until_ms > now && s->user.locked_until_ms <= now) {
		wg_time_rfc3339(u.locked_until_ms, until);
		snprintf(msg, sizeof(msg), "user \"%s\" locked until %s after "
		    "%lld failed sign-ins", u.upn, until,
		    (long long)u.failed_count);
		rc = signin_audit(req, c, s, ADMIN_EVT_USER_LOCKED, WG_OK,
		    "userId", u.id, msg);
	}
	snprintf(msg, sizeof(msg), "sign-in refused for \"%s\"", s->upn);
	if (rc == WG_OK)
		rc = signin_audit(req, c, s, ADMIN_EVT_SIGNIN_FAILED, why, "upn",
		    s->upn, msg);
	if (rc == WG_OK && (rc = store_commit(c)) == WG_OK)
		return why;
	store_rollback(c);
	return rc;
}

/* The user: the device's failures, the account, the password. */
static enum wg_err
signin_user(struct http_req *req, struct store_conn *c, struct signin *s)
{
	const struct server_config *cfg = req->srv->cfg;
	int64_t now = wg_now_ms(), failures = 0;
	char until[32];
	enum wg_err rc;

	if ((rc = store_signin_device_failures(c, s->sd.dev.tenant_id,
	    s->sd.dev.id, now, (int64_t)cfg->signin_lockout_min * 60 * 1000,
	    &failures)) != WG_OK)
		return rc;
	if (failures >= (int64_t)cfg->signin_device_limit)
		return http_fail(req, WG_E_SIGNIN_THROTTLED, "this device made "
		    "%lld failed sign-ins in %u minutes; wait before trying "
		    "again", (long long)failures, cfg->signin_lockout_min);
	rc = store_user_get_by_upn(c, s->sd.dev.tenant_id, s->upn, &s->user);
	if (rc == WG_E_NOT_FOUND) {
		rc = signin_count(req, c, s, WG_E_USER_NOT_FOUND);
		return rc == WG_E_USER_NOT_FOUND ? http_fail(req, rc, "the "
		    "tenant has no user \"%s\"", s->upn) : rc;
	}
	if (rc != WG_OK)
		return rc;
	if (s->user.disabled)
		return http_fail(req, WG_E_USER_DISABLED, "user \"%s\" is "
		    "disabled", s->user.upn);
	if (s->user.locked_until_ms > now) {
		wg_time_rfc3339(s->user.locked_until_ms, until);
		return http_fail(req, WG_E_USER_LOCKED, "user \"%s\" is locked "
		    "until %s after failed sign-ins", s->user.upn, until);
	}
	rc = passwd_verify(s->user.password_hash, s->password,
	    s->password_len);
	if (rc == WG_E_USER_PASSWORD_WRONG) {
		rc = signin_count(req, c, s, rc);
		return rc == WG_E_USER_PASSWORD_WRONG ? http_fail(req, rc, "the "
		    "password of \"%s\" is wrong", s->user.upn) : rc;
	}
	if (rc != WG_OK)
		return http_fail(req, rc, "the password of \"%s\" cannot be "
		    "checked", s->user.upn);
	if (s->sd.dev.upn[0] != '\0' && strcasecmp(s->sd.dev.upn,
	    s->user.upn) != 0)
		return http_fail(req, WG_E_USER_NOT_ASSIGNED, "device %s is "
		    "assigned to another user", s->sd.dev.serial);
	return WG_OK;
}

/* What an accepted sign-in makes before it is written. */
struct signin_out {
	unsigned char session_key[SIGNIN_KEY_LEN];
	unsigned char prt_raw[PRT_LEN];
	char *prt, *sealed, *jwe, *id_token;
	struct wg_prt row;
	struct proof_cert cert;
	struct wg_join rec;	/* the device certificate's record */
};

static void
signin_out_free(struct signin_out *o)
{
	OPENSSL_cleanse(o->session_key, sizeof(o->session_key));
	OPENSSL_cleanse(o->prt_raw, sizeof(o->prt_raw));
	if (o->prt != NULL)
		OPENSSL_cleanse(o->prt, strlen(o->prt));
	free(o->prt);
	free(o->sealed);
	free(o->jwe);
	free(o->id_token);
	free(o->cert.b64);
}

/* The session key, the PRT and its row, the JWE, the id_token, the cert. */
static enum wg_err
signin_make(struct http_req *req, const struct signin *s,
    struct signin_out *o)
{
	const struct wg_device *d = &s->sd.dev;
	int64_t now = wg_now_ms();
	const char *wrap = s->have_prof ? s->prof.session_key_wrap :
	    WG_SESSION_KEY_WRAP_DEFAULT;
	unsigned char name[34];
	json_t *payload, *claims;
	enum wg_err rc;
	int w;

	if ((w = signin_wrap_parse(wrap)) < 0)
		return http_fail(req, WG_E_INTERNAL, "the profile's session key "
		    "wrap \"%s\" is unknown", wrap);
	if ((rc = wg_random(o->session_key, sizeof(o->session_key))) !=
	    WG_OK || (rc = wg_random(o->prt_raw, sizeof(o->prt_raw))) != WG_OK)
		return rc;
	o->prt = wg_b64url(o->prt_raw, sizeof(o->prt_raw));
	wg_sha256_hex(o->prt_raw, sizeof(o->prt_raw), o->row.prt_sha256);
	if ((rc = sealbox_seal(req, o->row.prt_sha256, o->session_key,
	    sizeof(o->session_key), &o->sealed)) != WG_OK)
		return rc;
	if (strlen(o->sealed) > WG_PRT_SEALED_MAX)
		return http_fail(req, WG_E_INTERNAL, "a sealed session key of "
		    "%zu characters", strlen(o->sealed));
	snprintf(o->row.tenant_id, sizeof(o->row.tenant_id), "%s",
	    d->tenant_id);
	snprintf(o->row.user_id, sizeof(o->row.user_id), "%s", s->user.id);
	snprintf(o->row.device_id, sizeof(o->row.device_id), "%s", d->id);
	snprintf(o->row.directory_device_id,
	    sizeof(o->row.directory_device_id), "%s", d->directory_device_id);
	snprintf(o->row.session_key, sizeof(o->row.session_key), "%s",
	    o->sealed);
	o->row.created_ms = now;
	o->row.expires_ms = now + PRT_LIFE_MS;
	payload = json_pack("{s:i, s:s}", "ver", 1, "DeviceId",
	    d->directory_device_id);
	rc = signin_jwe_make(&s->tk, (enum signin_wrap)w,
	    s->sd.transport_key_id, o->session_key, payload, &o->jwe);
	json_decref(payload);
	if (rc != WG_OK)
		return http_fail(req, rc, "the session key could not be wrapped "
		    "to the transport key");
	claims = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
	    "iss", TOKEN_ISSUER, "aud", AUD_AGENT, "sub", s->user.id, "upn",
	    s->user.upn, "name", s->user.display_name, "tid", d->tenant_id,
	    "deviceid", d->directory_device_id, "iat", (json_int_t)(now / 1000),
	    "exp", (json_int_t)(now / 1000 + ID_TOKEN_LIFE_S));
	rc = jose_sign(req->srv->signer, claims, &o->id_token);
	json_decref(claims);
	if (rc != WG_OK)
		return rc;
	/* the join restored: the device certificate again, for the same DK */
	if ((rc = proof_issue(req, &req->srv->cas.drs, &s->dk,
	    d->directory_device_id, PROOF_DEVICE_CERT_DAYS, &o->cert)) !=
	    WG_OK)
		return rc;
	snprintf(o->rec.tenant_id, sizeof(o->rec.tenant_id), "%s",
	    d->tenant_id);
	snprintf(o->rec.device_id, sizeof(o->rec.device_id), "%s", d->id);
	snprintf(o->rec.directory_device_id,
	    sizeof(o->rec.directory_device_id), "%s", d->directory_device_id);
	tpm_public_name(&s->dk, name);
	wg_hex(name, sizeof(name), o->rec.dk_name);
	memcpy(o->rec.cert_serial, o->cert.serial, sizeof(o->cert.serial));
	memcpy(o->rec.thumbprint, o->cert.thumbprint,
	    sizeof(o->cert.thumbprint));
	snprintf(o->rec.certificate, sizeof(o->rec.certificate), "%s",
	    o->cert.b64);
	o->rec.join_ms = o->cert.created_ms;
	o->rec.not_after_ms = o->cert.not_after_ms;
	return WG_OK;
}

/* Everything an accepted sign-in changes, in one transaction. */
static enum wg_err
signin_commit(struct http_req *req, struct store_conn *c,
    const struct signin *s, const struct signin_out *o)
{
	const struct wg_device *d = &s->sd.dev;
	const char *why = NULL;
	struct wg_user u;
	char msg[WG_UPN_MAX + 320];
	enum wg_err rc;

	if (s->later)
		snprintf(msg, sizeof(msg), "\"%s\" signed in; device "
		    "certificate %s", s->user.upn, o->cert.thumbprint);
	else
		snprintf(msg, sizeof(msg), "\"%s\" signed in first, the "
		    "device's owner now (%lu boot%s since the reseal); device "
		    "certificate %s", s->user.upn, (unsigned long)s->boots,
		    s->boots == 1 ? "" : "s", o->cert.thumbprint);
	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	rc = store_nonce_take(c, s->nonce_hex, TOKEN_NONCE_PURPOSE, &why);
	if (rc == WG_E_NOT_FOUND)
		rc = http_fail(req, WG_E_NONCE_INVALID, "request_nonce is %s",
		    why);
	/* a recovery's ticket may be used; used meanwhile is no different */
	if (rc == WG_OK && s->t.used_ms == 0 && (rc = store_ticket_use(c,
	    s->ticket_hex, wg_now_ms())) == WG_E_NOT_FOUND)
		rc = s->recover ? WG_OK : http_fail(req, WG_E_TICKET_INVALID,
		    "the pre-provisioning ticket was used meanwhile");
	/* the owner is the first sign-in's user; later ones leave it */
	if (rc == WG_OK && !s->later && (rc = store_owner_set(c, d->tenant_id,
	    d->directory_device_id, s->user.upn)) == WG_E_NOT_FOUND)
		rc = http_fail(req, WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND, "the "
		    "directory object was deleted meanwhile");
	if (rc == WG_OK)
		rc = store_device_cert_add(c, &o->rec);
	if (rc == WG_OK)
		rc = store_user_signin_ok(c, s->user.tenant_id, s->user.id,
		    wg_now_ms(), &u);
	if (rc == WG_OK)
		rc = store_prt_put(c, &o->row);
	if (rc == WG_OK)
		rc = signin_audit(req, c, s, ADMIN_EVT_SIGNED_IN, WG_OK,
		    "userId", s->user.id, msg);
	if (rc == WG_OK)
		rc = signin_audit(req, c, s, ADMIN_EVT_PRT_ISSUED, WG_OK,
		    "userId", s->user.id, "primary refresh token issued");
	if (rc == WG_OK && s->recovered[0] != '\0') {
		snprintf(msg, sizeof(msg), "lost join recovered by the sign-in "
		    "of \"%s\": %s", s->user.upn, s->recovered);
		rc = signin_audit(req, c, s, ADMIN_EVT_JOIN_RECOVERED, WG_OK,
		    "userId", s->user.id, msg);
	}
	if (rc == WG_OK)
		return store_commit(c);
	store_rollback(c);
	return rc;
}

/* What follows the user's check (idem_run_for()'s work). */
static enum wg_err
signin_rest(struct http_req *req, struct http_resp *resp, void *arg)
{
	const struct attest_cas *cas = &req->srv->cas;
	struct signin *s = arg;
	struct signin_out o;
	struct store_conn *c;
	enum wg_err rc;

	memset(&o, 0, sizeof(o));
	if ((rc = http_db(req, &c)) != WG_OK ||
	    (rc = signin_nonce_usable(req, c, s->nonce_hex)) != WG_OK ||
	    (rc = signin_ticket(req, c, s)) != WG_OK ||
	    (rc = signin_boots(req, c, s)) != WG_OK ||
	    (rc = signin_make(req, s, &o)) != WG_OK ||
	    (rc = signin_commit(req, c, s, &o)) != WG_OK)
		goto done;
	http_resp_json(resp, 200, json_pack("{s:s, s:s, s:I, s:s, s:s, "
	    "s:{s:s, s:s}, s:[s, s], s:s, s:s, s:I, s:b, s:b}", "token_type",
	    "pop", "refresh_token", o.prt, "refresh_token_expires_in",
	    (json_int_t)(PRT_LIFE_MS / 1000), "id_token", o.id_token,
	    "session_key_jwe", o.jwe, "Certificate", "RawBody", o.cert.b64,
	    "Thumbprint", o.cert.thumbprint, "CaChain", cas->drs.chain_b64[0],
	    cas->drs.chain_b64[1], "DeviceId", s->sd.dev.directory_device_id,
	    "Owner", s->later && s->sd.dev.owner[0] != '\0' ? s->sd.dev.owner :
	    s->user.upn, "BootsSinceReseal", (json_int_t)s->boots,
	    "Recovered", s->recovered[0] != '\0', "FirstSignIn", !s->later));
done:
	signin_out_free(&o);
	return rc;
}

/*
 * A sign-in: the device key's signature, then the user (whose password
 * costs an Argon2id: only a request from a real device gets that far),
 * then the rest, idempotent per device key and user with an
 * Idempotency-Key: an answer lost on the way is sent again to the same
 * device for the same user and password, although its ticket is used up.
 */
static enum wg_err
signin_password(struct http_req *req, struct http_resp *resp,
    struct signin *s)
{
	struct store_conn *c;
	enum wg_err rc;

	if ((rc = http_db(req, &c)) != WG_OK ||
	    (rc = signin_key(req, c, s)) != WG_OK ||
	    (rc = signin_claims(req, s)) != WG_OK ||
	    (rc = signin_tenant(req, c, s)) != WG_OK ||
	    (rc = signin_user(req, c, s)) != WG_OK)
		return rc;
	return idem_run_for(req, resp, "/token#signin", s->user.id, s->dk_hex,
	    signin_rest, s);
}

/* jwt-bearer requests this process answered: every PURGE_EVERY-th purges. */
static atomic_uint grants;

/*
 * Housekeeping by every PURGE_EVERY-th request: PRTs a day past their
 * expiry or replacement, and the devices' sign-in windows long over.
 */
static void
signin_purge(struct http_req *req)
{
	int64_t now = wg_now_ms(), window = (int64_t)req->srv->cfg->
	    signin_lockout_min * 60 * 1000;
	struct store_conn *c;

	if (atomic_fetch_add(&grants, 1) % PURGE_EVERY != 0 ||
	    http_db(req, &c) != WG_OK)
		return;
	if (store_signin_purge(c, now - PURGE_AFTER_MS, now - 2 * window,
	    PURGE_ROWS) != WG_OK)
		wg_warn("sign-in: expired refresh tokens were not purged (next "
		    "time)");
}

/* signin.h */
enum wg_err
signin_grant(struct http_req *req, struct http_resp *resp,
    const struct form *f)
{
	static const char *const allowed[] = {"grant_type", "request", NULL};
	const char *text = form_get(f, "request"), *alg;
	struct signin s;
	char why[256] = "";
	enum wg_err rc;

	if (form_only(f, allowed, why, sizeof(why)) != 0)
		return http_fail(req, WG_E_JSON_FIELD, "%s", why);
	if (text == NULL)
		return http_fail(req, WG_E_JSON_FIELD, "form field 'request' is "
		    "missing: the request JWS");
	if (req->srv->signer == NULL)
		return http_fail(req, WG_E_INTERNAL, "no token signing key");
	signin_purge(req);
	memset(&s, 0, sizeof(s));
	if (signin_jws_split(text, &s.jws, why, sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "form field 'request': "
		    "%s", why);
	alg = json_string_value(json_object_get(s.jws.header, "alg"));
	if (alg != NULL && strcmp(alg, "RS256") == 0)
		rc = signin_password(req, resp, &s);
	else if (alg != NULL && strcmp(alg, "HS256") == 0)
		rc = signin_prt(req, resp, &s.jws, text);
	else
		rc = http_fail(req, WG_E_JSON_FIELD, "the request's \"alg\" must "
		    "be RS256 (a sign-in, by the device key) or HS256 (a "
		    "request with a PRT)");
	signin_free(&s);
	return rc;
}
