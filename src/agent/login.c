/*
 * The user's phase on the device (login.h): the files the earlier steps
 * left, the sign-in request the DK signs in the TPM, the answer parsed
 * once (answer.h), the session key opened and sealed by the TPM, the
 * join restored, session.json written (prt.c); and what the PRT's use
 * shares with it (login_int.h).  Every secret is wiped from the buffers
 * that held it; jansson's and cjose's internal copies are freed without wiping
 * (their allocators are not ours to replace for the whole process).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent/devtoken.h"
#include "agent/join.h"
#include "agent/login.h"
#include "agent/login_int.h"
#include "agent/reseal.h"
#include "agent/state.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define FORM_TYPE "application/x-www-form-urlencoded"
#define STATE_FILE_MAX 8192	/* bytes of ticket.json, join.json,
				   session.json at most */

struct login {
	struct devtoken d;
	struct login_result *res;
	const char *upn, *password;
	size_t pw_len;
	char ticket[ANSWER_TICKET_MAX + 1];	/* a secret */
	char bound_to[65];
	char device_id[37];			/* join.json's */
	char display_name[ANSWER_NAME_MAX + 1];
	struct tpm_aik dk, tk;
	struct tpm_public dk_pub, tk_pub;
	char kid[65];				/* hex SHA-256 of the DK */
	struct signin_answer answer;
	struct login_session session;
	int signing_in;				/* the request was made */
	int recover;				/* --recover */
	int later;				/* no ticket: not the first */
	char request_key[80];			/* Idempotency-Key */
	char *why;
	size_t whylen;
};

/* ---- small things ---- */

void
login_devtoken_init(struct devtoken *d, const struct agent_phase_opts *o,
    const char *request_phase, char *why, size_t whylen)
{
	*d = (struct devtoken){ .o = o, .channel = LOGIN_CHANNEL,
	    .phase = WG_PHASE_ACCOUNT_SETUP, .refused_event = 0,
	    .try_event = LOGIN_EVT_TRY_FAILED, .request_phase = request_phase,
	    .why = why, .whylen = whylen };
}

void
login_secret_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* s form-encoded (application/x-www-form-urlencoded), xmalloc'd. */
static char *
form_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(3 * strlen(s) + 1), *p = out;
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

enum wg_err
login_request_post(struct devtoken *d, const char *jws, const char *key,
    struct wg_httpc_resp *resp, int *retry)
{
	char *grant = form_escape(LOGIN_GRANT_JWT_BEARER);
	char *req = form_escape(jws), *form;
	enum wg_err rc;

	form = xasprintf("grant_type=%s&request=%s", grant, req);
	rc = devtoken_exchange(d, "POST", d->token_path, NULL, FORM_TYPE, form,
	    key, resp, retry);
	login_secret_free(form);
	login_secret_free(req);
	free(grant);
	return rc;
}

/* ---- the files of earlier steps ---- */

int
login_state_json(const char *dir, const char *name, json_t **o, char *why,
    size_t whylen)
{
	char buf[STATE_FILE_MAX];
	size_t len = 0;
	int ok;

	*o = NULL;
	ok = agent_state_read(dir, name, (unsigned char *)buf, sizeof(buf),
	    &len) == 0 && wg_json_load_object(buf, len, o, why, whylen) ==
	    WG_OK;
	OPENSSL_cleanse(buf, sizeof(buf)); /* ticket.json, session.json */
	return ok ? 0 : -1;
}

/*
 * The reseal's ticket (a secret) and the key it is bound to.  Without
 * one, a later sign-in: the server allows it once the device's first
 * sign-in used its ticket, and says so when it did not.
 */
static enum wg_err
ticket_read(struct login *l)
{
	const char *dir = l->d.o->state_dir, *t, *b;
	char why[256];
	json_t *o = NULL;
	int ok;

	if (login_state_json(dir, RESEAL_TICKET_FILE, &o, why,
	    sizeof(why)) != 0) {
		if (access(dir, F_OK) == 0 && login_state_json(dir,
		    RESEAL_FILE, &o, why, sizeof(why)) != 0)
			return WG_FAIL(l, WG_E_TICKET_INVALID, "%s/%s is "
			    "missing: the device was not resealed "
			    "(whiteglove-agent reseal)", dir, RESEAL_FILE);
		json_decref(o);
		l->later = 1;
		return WG_OK;
	}
	ok = wg_json_string(o, "Ticket", 1, ANSWER_TICKET_MAX, &t, why,
	    sizeof(why)) == WG_OK && wg_json_string(o, "BoundTo", 1, 64, &b,
	    why, sizeof(why)) == WG_OK;
	if (ok) {
		memcpy(l->ticket, t, strlen(t) + 1);
		memcpy(l->bound_to, b, strlen(b) + 1);
	}
	answer_wipe_member(o, "Ticket");
	json_decref(o);
	if (!ok)
		return WG_FAIL(l, WG_E_TICKET_INVALID, "%s/%s: %s", dir,
		    RESEAL_TICKET_FILE, why);
	return WG_OK;
}

/*
 * The sign-in's Idempotency-Key: --request-key's, else one kept in
 * login.json from the first try until session.json is written, so a
 * run made again after the server answered (and the answer was lost)
 * gets that answer.
 */
static enum wg_err
request_key_read(struct login *l)
{
	const char *dir = l->d.o->state_dir, *k;
	unsigned char raw[16];
	char why[256], hex[33], text[96];
	json_t *o = NULL;
	enum wg_err rc;
	int n;

	if (l->d.o->request_key != NULL) {
		snprintf(l->request_key, sizeof(l->request_key), "%s.login",
		    l->d.o->request_key);
		return WG_OK;
	}
	if (login_state_json(dir, LOGIN_KEY_FILE, &o, why, sizeof(why)) ==
	    0 && wg_json_string(o, "RequestKey", 1, 32, &k, why,
	    sizeof(why)) == WG_OK) {
		snprintf(l->request_key, sizeof(l->request_key), "%s", k);
		json_decref(o);
		return WG_OK;
	}
	json_decref(o);
	if ((rc = wg_random(raw, sizeof(raw))) != WG_OK)
		return WG_FAIL(l, rc, "no randomness for the request key");
	wg_hex(raw, sizeof(raw), hex);
	n = snprintf(text, sizeof(text), "{\n  \"RequestKey\": \"%s\"\n}\n",
	    hex);
	if ((rc = agent_state_write(dir, LOGIN_KEY_FILE, text, (size_t)n,
	    l->why, l->whylen)) != WG_OK)
		return rc;
	memcpy(l->request_key, hex, sizeof(hex));
	return WG_OK;
}

/* join.json: the directory object the device joined as. */
static enum wg_err
join_read(struct login *l)
{
	const char *dir = l->d.o->state_dir, *id, *name;
	char why[256];
	json_t *o = NULL;
	int ok;

	ok = login_state_json(dir, JOIN_FILE, &o, why, sizeof(why)) == 0 &&
	    wg_json_string(o, "DeviceId", 1, WG_UUID_LEN, &id, why,
	    sizeof(why)) == WG_OK && wg_is_uuid(id) &&
	    wg_json_string(o, "DisplayName", 1, ANSWER_NAME_MAX, &name, why,
	    sizeof(why)) == WG_OK;
	if (ok) {
		memcpy(l->device_id, id, strlen(id) + 1);
		memcpy(l->display_name, name, strlen(name) + 1);
	}
	json_decref(o);
	if (!ok)
		return WG_FAIL(l, WG_E_NET_PROTOCOL, "%s/%s does not name the "
		    "directory object the device joined as: join first "
		    "(whiteglove-agent join)", dir, JOIN_FILE);
	return WG_OK;
}

/* The key kept as dir/NAME.pub and dir/NAME.priv (never made here). */
static enum wg_err
key_read(struct login *l, const char *name, struct tpm_aik *k,
    struct tpm_public *pub)
{
	const char *dir = l->d.o->state_dir;
	char file[16], text[128];
	int ok;

	snprintf(file, sizeof(file), "%s.pub", name);
	ok = agent_state_read(dir, file, k->pub, sizeof(k->pub),
	    &k->pub_len) == 0;
	snprintf(file, sizeof(file), "%s.priv", name);
	ok = ok && agent_state_read(dir, file, k->priv, sizeof(k->priv),
	    &k->priv_len) == 0 && tpm_public_parse(k->pub, k->pub_len, pub,
	    text, sizeof(text)) == WG_OK && pub->type == TPM_ALG_RSA;
	if (!ok)
		return WG_FAIL(l, WG_E_NET_PROTOCOL, "%s/%s.pub and %s.priv "
		    "are not the join's RSA key: the device's join is lost "
		    "(pre-provision it again)", dir, name, name);
	return WG_OK;
}

/* The DK and TK; the DK's id, which the ticket must be bound to. */
static enum wg_err
keys_read(struct login *l)
{
	unsigned char md[32];
	enum wg_err rc;

	if ((rc = key_read(l, "dk", &l->dk, &l->dk_pub)) != WG_OK ||
	    (rc = key_read(l, "tk", &l->tk, &l->tk_pub)) != WG_OK)
		return rc;
	tpm_public_sha256(&l->dk_pub, md);
	wg_hex(md, sizeof(md), l->kid);
	if (!l->later && strcasecmp(l->kid, l->bound_to) != 0)
		return WG_FAIL(l, WG_E_RESEAL_KEY_MISMATCH, "the ticket is "
		    "bound to the device key %s, not to this device's "
		    "%s/dk.pub (%s)", l->bound_to, l->d.o->state_dir, l->kid);
	return WG_OK;
}

/* ---- the sign-in ---- */


/* The claims of the sign-in (docs/api.md, "Sign-in"); NULL if pw is
 * not UTF-8. */
static json_t *
signin_claims(struct login *l, const struct nonce_answer *n,
    const unsigned char *quote, size_t qlen, const unsigned char *sig,
    size_t slen)
{
	json_t *pw = json_stringn(l->password, l->pw_len), *claims;

	if (pw == NULL)
		return NULL;
	claims = json_pack("{s:s, s:s, s:o, s:s, s:{s:o, s:o, s:o}, s:I}",
	    "grant_type", "password", "username", l->upn, "password", pw,
	    "request_nonce", n->text,
	    "tpm_attestation", "AikCertificate", devtoken_b64_json(
	    l->d.aik_cert, l->d.aik_cert_len), "Quote", devtoken_b64_json(
	    quote, qlen), "Signature", devtoken_b64_json(sig, slen),
	    "iat", (json_int_t)(wg_now_ms() / 1000));
	if (claims != NULL && !l->later)
		json_object_set_new(claims, "pp_ticket",
		    json_string(l->ticket));
	if (claims != NULL && l->recover)
		json_object_set_new(claims, "recover", json_true());
	return claims;
}

/*
 * The RS256 JWS of claims (docs/api.md: kid the DK's id), signed by the
 * DK in the TPM; *jws is xmalloc'd (a secret: it carries the password).
 */
static enum wg_err
signin_jws(struct login *l, json_t *claims, char **jws)
{
	char *header = xasprintf("{\"alg\":\"RS256\",\"typ\":\"JWT\","
	    "\"kid\":\"%s\"}", l->kid);
	char *text = devtoken_json_text(json_incref(claims));
	char *h = wg_b64url(header, strlen(header));
	char *c = wg_b64url(text, strlen(text)), *in, *s;
	unsigned char md[32], sig[TPM_KEY_SIG_LEN];
	size_t sig_len = sizeof(sig);
	enum wg_err rc;

	*jws = NULL;
	in = xasprintf("%s.%s", h, c);
	wg_sha256(in, strlen(in), md);
	if ((rc = tpm_sign_digest(l->d.tpm, &l->dk, md, sig, &sig_len)) ==
	    WG_OK) {
		s = wg_b64url(sig, sig_len);
		*jws = xasprintf("%s.%s", in, s);
		free(s);
	} else
		WG_FAIL(l, rc, "the TPM did not sign the sign-in request with "
		    "the device key");
	login_secret_free(in);
	login_secret_free(c);
	login_secret_free(text);
	free(h);
	free(header);
	return rc;
}

/* A nonce, the AIK's quote of it, the signed request, its answer. */
static enum wg_err
login_once(void *arg, int *retry)
{
	struct login *l = arg;
	struct wg_httpc_resp resp = { 0 };
	struct nonce_answer n;
	unsigned char *quote = NULL, *sig = NULL;
	size_t qlen = 0, slen = 0;
	char *jws = NULL, why[256];
	json_t *claims = NULL;
	enum wg_err rc;

	if ((rc = devtoken_quote(&l->d, "the sign-in", &n, &quote, &qlen,
	    &sig, &slen, retry)) != WG_OK)
		goto done;
	*retry = 0;
	if ((claims = signin_claims(l, &n, quote, qlen, sig, slen)) == NULL) {
		rc = WG_FAIL(l, WG_E_USER_PASSWORD_WRONG, "the password is not "
		    "UTF-8 text");
		goto done;
	}
	if ((rc = signin_jws(l, claims, &jws)) != WG_OK)
		goto done;
	l->signing_in = 1;
	rc = login_request_post(&l->d, jws, l->request_key, &resp, retry);
	if (rc == WG_OK && signin_answer_parse(resp.body, resp.body_len,
	    l->display_name, &l->answer, why, sizeof(why)) != WG_OK)
		/* the ticket may be used up: another try would be refused */
		rc = WG_FAIL(l, WG_E_NET_PROTOCOL, "POST %s (sign-in): the "
		    "answer: %s", l->d.token_path, why);
done:
	answer_wipe_member(claims, "password");
	answer_wipe_member(claims, "pp_ticket");
	json_decref(claims);
	login_secret_free(jws);
	free(quote);
	free(sig);
	wg_httpc_resp_free(&resp); /* wipes the PRT's copy */
	return rc;
}

/*
 * The session key: opened from the JWE by the TK in the TPM, the JWE's
 * content authenticated under it and naming this device, then sealed to
 * the TPM.  It exists in clear only in key[], wiped on return.
 */
static enum wg_err
session_key_take(struct login *l)
{
	unsigned char key[TPM_SEAL_MAX];
	size_t klen = sizeof(key);
	struct signin_jwe jwe;
	json_t *payload = NULL;
	const char *id = NULL;
	char text[256];
	enum wg_err rc;

	if (signin_jwe_split(l->answer.jwe, &jwe, text, sizeof(text)) != WG_OK)
		return WG_FAIL(l, WG_E_NET_PROTOCOL, "session_key_jwe: %s",
		    text);
	if ((rc = tpm_rsa_decrypt(l->d.tpm, &l->tk, jwe.wrap ==
	    SIGNIN_WRAP_OAEP ? TPM_OAEP_SHA1 : TPM_OAEP_SHA256, jwe.ek,
	    jwe.ek_len, key, &klen)) != WG_OK)
		rc = WG_FAIL(l, rc, "the TPM did not open the session key (%s) "
		    "with the transport key", signin_wrap_name(jwe.wrap));
	else if (klen != SIGNIN_KEY_LEN)
		rc = WG_FAIL(l, WG_E_SESSION_KEY_INVALID, "the session key is "
		    "%zu bytes, not %d", klen, SIGNIN_KEY_LEN);
	else if ((rc = signin_jwe_open(&jwe, key, &payload, l->why,
	    l->whylen)) == WG_OK && (wg_json_string(payload, "DeviceId", 1,
	    WG_UUID_LEN, &id, text, sizeof(text)) != WG_OK ||
	    strcmp(id, l->device_id) != 0))
		rc = WG_FAIL(l, WG_E_SESSION_KEY_INVALID, "the session key's "
		    "JWE names another device than %s", l->device_id);
	else if (rc == WG_OK && (rc = tpm_seal(l->d.tpm, key, klen,
	    &l->session.sealed)) != WG_OK)
		rc = WG_FAIL(l, rc, "the TPM did not seal the session key");
	if (rc == WG_OK) {
		l->session.wrap = jwe.wrap;
		devtoken_event(&l->d, LOGIN_EVT_SESSION_KEY, WG_LEVEL_INFO,
		    WG_OK, "session key unwrapped by the transport key (%s) "
		    "and sealed to the TPM", signin_wrap_name(jwe.wrap));
	}
	OPENSSL_cleanse(key, sizeof(key));
	json_decref(payload);
	signin_jwe_free(&jwe);
	return rc;
}

/* The device certificate issued again: stored as the join stores it. */
static enum wg_err
join_restore(struct login *l)
{
	struct join_answer *j = &l->answer.join;
	enum wg_err rc;

	if (strcmp(j->device_id, l->device_id) != 0)
		return WG_FAIL(l, WG_E_NET_PROTOCOL, "the sign-in answer's "
		    "DeviceId %s is not the join's %s", j->device_id,
		    l->device_id);
	if ((rc = devtoken_cert_check(&l->d, "device certificate", j->cert,
	    j->chain, &l->dk_pub)) != WG_OK)
		return rc;
	return devtoken_store(&l->d, JOIN_CERT_FILE, j->cert, JOIN_CA_FILE,
	    j->chain, JOIN_FILE, json_pack("{s:s, s:s, s:s}", "DeviceId",
	    j->device_id, "DisplayName", l->display_name, "Thumbprint",
	    j->thumbprint));
}

/* session.json, then the used ticket deleted. */
static enum wg_err
session_store(struct login *l)
{
	struct login_session *s = &l->session;
	struct login_result *r = l->res;
	char path[4096];
	enum wg_err rc;

	memcpy(s->prt, l->answer.prt, sizeof(s->prt));
	login_expiry(l->answer.prt_life_s, s->prt_expires_at);
	memcpy(s->upn, l->upn, strlen(l->upn) + 1);
	memcpy(s->device_id, l->device_id, sizeof(s->device_id));
	wg_time_rfc3339(wg_now_ms(), s->signed_in_at);
	if ((rc = login_session_write(l->d.o->state_dir, s, l->why,
	    l->whylen)) != WG_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", l->d.o->state_dir,
	    RESEAL_TICKET_FILE);
	if (unlink(path) != 0 && errno != ENOENT)
		wg_warn("the used ticket %s cannot be deleted: %s", path,
		    strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", l->d.o->state_dir,
	    LOGIN_KEY_FILE);
	if (unlink(path) != 0 && errno != ENOENT)
		wg_warn("%s cannot be deleted: %s", path, strerror(errno));
	memcpy(r->upn, s->upn, sizeof(r->upn));
	memcpy(r->owner, l->answer.owner, sizeof(r->owner));
	memcpy(r->device_id, s->device_id, sizeof(r->device_id));
	memcpy(r->thumbprint, l->answer.join.thumbprint,
	    sizeof(r->thumbprint));
	memcpy(r->prt_expires_at, s->prt_expires_at,
	    sizeof(r->prt_expires_at));
	r->wrap = s->wrap;
	r->boots = l->answer.boots;
	r->recovered = l->answer.recovered;
	r->later = l->answer.later;
	return WG_OK;
}

static enum wg_err
login_steps(struct login *l)
{
	enum wg_err rc;

	if ((rc = ticket_read(l)) == WG_OK && (rc = join_read(l)) == WG_OK &&
	    (rc = keys_read(l)) == WG_OK && (rc = request_key_read(l)) ==
	    WG_OK && (rc = devtoken_open(&l->d)) ==
	    WG_OK && (rc = devtoken_discover(&l->d)) == WG_OK &&
	    (rc = devtoken_tries(&l->d, login_once, l, &l->res->tries)) ==
	    WG_OK && (rc = session_key_take(l)) == WG_OK &&
	    (rc = join_restore(l)) == WG_OK)
		rc = session_store(l);
	return rc;
}

enum wg_err
login_run(const struct agent_phase_opts *o, const char *upn,
    const char *password, size_t pw_len, int recover,
    struct login_result *res, char *why, size_t whylen)
{
	struct login *l = xcalloc(1, sizeof(*l));
	enum wg_err rc;

	login_devtoken_init(&l->d, o, "login", why, whylen);
	l->res = res;
	l->upn = upn;
	l->password = password;
	l->pw_len = pw_len;
	l->recover = recover;
	l->why = why;
	l->whylen = whylen;
	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	if ((rc = agent_state_dir(o->state_dir, why, whylen)) == WG_OK)
		rc = login_steps(l);
	rc = agent_phase_code(rc, why, whylen);
	if (rc == WG_OK)
		devtoken_event(&l->d, LOGIN_EVT_DONE, WG_LEVEL_INFO, WG_OK,
		    "signed in as %s (owner %s), device %s, certificate %s "
		    "restored, %lld boots since the reseal (%u %s)", res->upn,
		    res->owner, res->device_id, res->thumbprint,
		    (long long)res->boots, res->tries, res->tries == 1 ?
		    "try" : "tries");
	else
		devtoken_event(&l->d, LOGIN_EVT_FAILED, WG_LEVEL_ERROR, rc,
		    "%s: %s", l->signing_in ? "the sign-in failed" : "the "
		    "sign-in could not be prepared", why);
	signin_answer_free(&l->answer);
	devtoken_close(&l->d);
	OPENSSL_cleanse(l, sizeof(*l));
	free(l);
	return rc;
}

