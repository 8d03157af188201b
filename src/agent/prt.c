/*
 * The PRT's use (login.h's login_token(), step 7 of the flow;
 * docs/api.md, "Using the PRT"): session.json read, the session key
 * unsealed by the TPM, an HS256 request keyed with the key derived from
 * it, the answer parsed once (answer.h), session.json written again.
 * session.json's writer serves the sign-in too (login_int.h).  The PRT,
 * the session key and the tokens are wiped from the buffers that held
 * them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "agent/devtoken.h"
#include "agent/login.h"
#include "agent/login_int.h"
#include "agent/state.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

/* ---- session.json ---- */

/* SessionKey {Public, Private}: the sealed object, base64. */
static int
sealed_member(const json_t *o, struct tpm_aik *k, char *why, size_t whylen)
{
	const json_t *sk = json_object_get(o, "SessionKey");
	const char *pub, *priv;
	unsigned char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	int ok;

	ok = json_is_object(sk) && wg_json_string(sk, "Public", 1, 2048, &pub,
	    why, whylen) == WG_OK && wg_json_string(sk, "Private", 1, 2048,
	    &priv, why, whylen) == WG_OK &&
	    wg_b64_decode_text(pub, &a, &na) == 0 && na <= sizeof(k->pub) &&
	    wg_b64_decode_text(priv, &b, &nb) == 0 && nb <= sizeof(k->priv);
	if (ok) {
		memcpy(k->pub, a, na);
		k->pub_len = na;
		memcpy(k->priv, b, nb);
		k->priv_len = nb;
	} else
		wg_say(why, whylen, "SessionKey is not {\"Public\", "
		    "\"Private\"} of base64 TPM objects");
	free(a);
	free(b);
	return ok ? 0 : -1;
}

/* session.json into *s (the caller wipes it). */
static enum wg_err
session_read(const char *dir, struct login_session *s, char *why,
    size_t whylen)
{
	const char *upn, *id, *at, *wrap, *in;
	char text[256] = "";
	json_t *o = NULL;
	int ok, w = -1;

	memset(s, 0, sizeof(*s));
	if (login_state_json(dir, LOGIN_SESSION_FILE, &o, text,
	    sizeof(text)) != 0)
		return wg_fail(WG_E_PRT_INVALID, why, whylen, "no one signed "
		    "in on this device: %s/%s is missing or not JSON "
		    "(whiteglove-agent login)", dir, LOGIN_SESSION_FILE);
	ok = answer_prt_member(o, "RefreshToken", s->prt, text,
	    sizeof(text)) == WG_OK &&
	    wg_json_string(o, "RefreshTokenExpiresAt", 1, 31, &at, text,
	    sizeof(text)) == WG_OK && wg_json_string(o, "Upn", 1,
	    LOGIN_UPN_MAX, &upn, text, sizeof(text)) == WG_OK &&
	    wg_json_string(o, "DeviceId", 1, WG_UUID_LEN, &id, text,
	    sizeof(text)) == WG_OK && wg_is_uuid(id) &&
	    wg_json_string(o, "Wrap", 1, 16, &wrap, text, sizeof(text)) ==
	    WG_OK && (w = signin_wrap_parse(wrap)) >= 0 &&
	    wg_json_string(o, "SignedInAt", 1, 31, &in, text, sizeof(text)) ==
	    WG_OK && sealed_member(o, &s->sealed, text, sizeof(text)) == 0;
	if (ok) {
		memcpy(s->prt_expires_at, at, strlen(at) + 1);
		memcpy(s->upn, upn, strlen(upn) + 1);
		memcpy(s->device_id, id, strlen(id) + 1);
		memcpy(s->signed_in_at, in, strlen(in) + 1);
		s->wrap = (enum signin_wrap)w;
	}
	answer_wipe_member(o, "RefreshToken");
	json_decref(o);
	if (!ok) {
		OPENSSL_cleanse(s, sizeof(*s));
		return wg_fail(WG_E_PRT_INVALID, why, whylen, "%s/%s: %s; sign "
		    "in again (whiteglove-agent login)", dir,
		    LOGIN_SESSION_FILE, text[0] ? text : "a member is not "
		    "what the agent writes");
	}
	return WG_OK;
}

enum wg_err
login_session_write(const char *dir, const struct login_session *s,
    char *why, size_t whylen)
{
	json_t *o;
	char *text;
	enum wg_err rc;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:o, s:o}, s:s}",
	    "RefreshToken", s->prt, "RefreshTokenExpiresAt", s->prt_expires_at,
	    "Upn", s->upn, "DeviceId", s->device_id, "Wrap",
	    signin_wrap_name(s->wrap), "SessionKey", "Public",
	    devtoken_b64_json(s->sealed.pub, s->sealed.pub_len), "Private",
	    devtoken_b64_json(s->sealed.priv, s->sealed.priv_len),
	    "SignedInAt", s->signed_in_at);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL)
		abort(); /* out of memory; every member was checked */
	answer_wipe_member(o, "RefreshToken");
	json_decref(o);
	rc = agent_state_write(dir, LOGIN_SESSION_FILE, text, strlen(text),
	    why, whylen);
	login_secret_free(text);
	return rc;
}

void
login_expiry(int64_t life_s, char out[32])
{
	wg_time_rfc3339(wg_now_ms() + life_s * 1000, out);
}

/* ---- the PRT's use ---- */

struct token {
	struct devtoken d;
	const char *resource;		/* NULL: renew the PRT */
	struct login_session s;		/* its prt: a secret */
	unsigned char session_key[SIGNIN_KEY_LEN]; /* a secret */
	struct login_token_result *res;
	struct prt_answer answer;	/* its tokens: secrets */
	char *why;
	size_t whylen;
};

int
login_resource_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' &&
		    s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
		    strchr(":/._-", s[n]) != NULL))
			return 0;
	return n >= 1 && n <= LOGIN_RESOURCE_MAX;
}

/* The HS256 request (docs/api.md, "Using the PRT"); *jws a secret. */
static enum wg_err
token_jws(struct token *t, const struct nonce_answer *n, char **jws)
{
	unsigned char ctx[SIGNIN_CTX_LEN], key[SIGNIN_KEY_LEN];
	json_t *claims;
	enum wg_err rc;

	*jws = NULL;
	claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s*}", "grant_type",
	    "refresh_token", "refresh_token", t->s.prt, "request_nonce",
	    n->text, "deviceid", t->s.device_id, "iat",
	    (json_int_t)(wg_now_ms() / 1000), "resource", t->resource);
	if (claims == NULL)
		abort(); /* out of memory: every member was checked */
	if ((rc = wg_random(ctx, sizeof(ctx))) != WG_OK)
		rc = WG_FAIL(t, rc, "no random bytes for the request's ctx");
	else if (signin_pop_key(t->session_key, ctx, key) != 0)
		rc = WG_FAIL(t, WG_E_CRYPTO, "the proof-of-possession key "
		    "cannot be derived");
	else if ((rc = signin_hs256_sign(key, ctx, claims, jws)) != WG_OK)
		rc = WG_FAIL(t, rc, "the request cannot be signed");
	OPENSSL_cleanse(key, sizeof(key));
	answer_wipe_member(claims, "refresh_token");
	json_decref(claims);
	return rc;
}

/* A fresh nonce, the signed request, its answer. */
static enum wg_err
token_once(void *arg, int *retry)
{
	struct token *t = arg;
	struct wg_httpc_resp resp = { 0 };
	struct nonce_answer n;
	char *jws = NULL, why[256] = "";
	enum wg_err rc;

	if ((rc = devtoken_nonce(&t->d, &n, retry)) != WG_OK)
		return rc;
	if ((rc = token_jws(t, &n, &jws)) != WG_OK) {
		*retry = 0;
		return rc;
	}
	if ((rc = login_request_post(&t->d, jws, NULL, &resp, retry)) == WG_OK &&
	    prt_answer_parse(resp.body, resp.body_len, t->resource,
	    &t->answer, why, sizeof(why)) != WG_OK) {
		rc = WG_FAIL(t, WG_E_NET_PROTOCOL, "POST %s (PRT): the answer: "
		    "%s", t->d.token_path, why);
		*retry = 0; /* a renewal may have replaced the PRT */
	}
	login_secret_free(jws);
	wg_httpc_resp_free(&resp);
	return rc;
}

static enum wg_err
token_steps(struct token *t)
{
	size_t klen = sizeof(t->session_key);
	enum wg_err rc;

	if ((rc = session_read(t->d.o->state_dir, &t->s, t->why,
	    t->whylen)) != WG_OK || (rc = devtoken_open(&t->d)) != WG_OK)
		return rc;
	memcpy(t->res->upn, t->s.upn, sizeof(t->res->upn));
	if ((rc = tpm_unseal(t->d.tpm, &t->s.sealed, t->session_key,
	    &klen)) != WG_OK)
		return WG_FAIL(t, rc, "the TPM did not unseal the session key "
		    "of %s/%s", t->d.o->state_dir, LOGIN_SESSION_FILE);
	if (klen != SIGNIN_KEY_LEN)
		return WG_FAIL(t, WG_E_SESSION_KEY_INVALID, "the sealed session "
		    "key is %zu bytes, not %d", klen, SIGNIN_KEY_LEN);
	if ((rc = devtoken_discover(&t->d)) != WG_OK ||
	    (rc = devtoken_tries(&t->d, token_once, t, NULL)) != WG_OK)
		return rc;
	t->res->access_token = t->answer.access_token;
	t->answer.access_token = NULL;
	t->res->answer = t->answer.whole;
	t->answer.whole = NULL;
	t->res->expires_in = t->answer.expires_in;
	if (t->resource == NULL)
		memcpy(t->s.prt, t->answer.prt, sizeof(t->s.prt));
	login_expiry(t->answer.prt_life_s, t->s.prt_expires_at);
	memcpy(t->res->prt_expires_at, t->s.prt_expires_at,
	    sizeof(t->res->prt_expires_at));
	return login_session_write(t->d.o->state_dir, &t->s, t->why,
	    t->whylen);
}

enum wg_err
login_token(const struct agent_phase_opts *o, const char *resource,
    struct login_token_result *res, char *why, size_t whylen)
{
	struct token *t = xcalloc(1, sizeof(*t));
	enum wg_err rc;

	login_devtoken_init(&t->d, o, "token", why, whylen);
	t->resource = resource;
	t->res = res;
	t->why = why;
	t->whylen = whylen;
	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	if (resource != NULL && !login_resource_ok(resource))
		rc = WG_FAIL(t, WG_E_CONFIG, "--resource: 1 to %d of A-Za-z0-9 "
		    "and :/._-", LOGIN_RESOURCE_MAX);
	else
		rc = agent_phase_code(token_steps(t), why, whylen);
	if (rc == WG_OK && resource != NULL)
		devtoken_event(&t->d, LOGIN_EVT_ACCESS_TOKEN, WG_LEVEL_INFO,
		    WG_OK, "access token issued to %s for %s (%lld s); the "
		    "PRT is valid until %s", res->upn, resource,
		    (long long)res->expires_in, res->prt_expires_at);
	else if (rc == WG_OK)
		devtoken_event(&t->d, LOGIN_EVT_PRT_RENEWED, WG_LEVEL_INFO,
		    WG_OK, "PRT of %s renewed, valid until %s", res->upn,
		    res->prt_expires_at);
	else
		devtoken_event(&t->d, LOGIN_EVT_TOKEN_FAILED, WG_LEVEL_ERROR,
		    rc, "%s failed: %s", resource != NULL ? "the access "
		    "token request" : "the PRT renewal", why);
	if (rc != WG_OK)
		login_token_result_free(res);
	prt_answer_free(&t->answer);
	devtoken_close(&t->d);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
	return rc;
}

void
login_token_result_free(struct login_token_result *r)
{
	if (r == NULL)
		return;
	login_secret_free(r->access_token);
	answer_wipe_member(r->answer, "access_token");
	answer_wipe_member(r->answer, "refresh_token");
	json_decref(r->answer);
	memset(r, 0, sizeof(*r));
}
