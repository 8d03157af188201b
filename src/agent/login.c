/*
 * The user's phase on the device (login.h): the files the earlier steps
 * left, the sign-in request the DK signs in the TPM, the answer parsed
 * once, the session key opened and sealed by the TPM, the join restored;
 * then the PRT's use.  Every secret is wiped from the buffers that held
 * it; jansson's and cjose's internal copies are freed without wiping
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
#include "agent/reseal.h"
#include "agent/state.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define FORM_TYPE "application/x-www-form-urlencoded"
#define STATE_FILE_MAX 8192	/* bytes of ticket.json, join.json,
				   session.json at most */
#define JWE_TEXT_MAX 8192	/* bytes of session_key_jwe at most */
#define PRT_LIFE_MAX (366 * 86400) /* refresh_token_expires_in */

/* The token service's sign-in answer, parsed (docs/api.md). */
struct signin_answer {
	char prt[LOGIN_PRT_MAX + 1];	/* refresh_token: a secret */
	int64_t prt_life_s;		/* refresh_token_expires_in */
	char *jwe;			/* session_key_jwe (xmalloc'd) */
	char owner[LOGIN_UPN_MAX + 1];	/* Owner */
	int64_t boots;			/* BootsSinceReseal */
	struct join_answer join;	/* Certificate, CaChain, DeviceId */
};

/* STATE/session.json. */
struct session_file {
	char prt[LOGIN_PRT_MAX + 1];	/* RefreshToken: a secret */
	char prt_expires_at[32];	/* RefreshTokenExpiresAt */
	char upn[LOGIN_UPN_MAX + 1];	/* Upn */
	char device_id[37];		/* DeviceId */
	enum signin_wrap wrap;		/* Wrap */
	struct tpm_aik sealed;		/* SessionKey {Public, Private} */
	char signed_in_at[32];		/* SignedInAt */
};

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
	struct session_file session;
	int signing_in;				/* the request was made */
	char *why;
	size_t whylen;
};

/* ---- small things ---- */

/* Wipes the string member name of o (a secret) before o goes. */
static void
json_wipe_member(json_t *o, const char *name)
{
	json_t *s = json_object_get(o, name);

	if (json_is_string(s))
		OPENSSL_cleanse((char *)json_string_value(s),
		    json_string_length(s));
}

/* Wipes and frees a string (NULL is fine). */
static void
secret_free(char *s)
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

/* POST {TokenEndpoint} grant_type=jwt-bearer&request=jws. */
static enum wg_err
request_post(struct devtoken *d, const char *jws, struct wg_httpc_resp *resp,
    int *retry)
{
	char *grant = form_escape(LOGIN_GRANT_JWT_BEARER);
	char *req = form_escape(jws), *form;
	enum wg_err rc;

	form = xasprintf("grant_type=%s&request=%s", grant, req);
	rc = devtoken_call(d, "POST", d->token_path, FORM_TYPE, form, resp,
	    retry);
	secret_free(form);
	secret_free(req);
	free(grant);
	return rc;
}

/* An integer member of o in [min, max] into *out; -1 with why if not. */
static int
int_member(const json_t *o, const char *name, int64_t min, int64_t max,
    int64_t *out, char *why, size_t whylen)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		wg_say(why, whylen, "%s is not an integer %lld to %lld", name,
		    (long long)min, (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* A PRT member: base64url of 16 to 64 bytes into prt. */
static int
prt_member(const json_t *o, const char *name, char prt[LOGIN_PRT_MAX + 1],
    char *why, size_t whylen)
{
	unsigned char *raw = NULL;
	const char *s;
	size_t n = 0;
	int ok;

	if (wg_json_string(o, name, 1, LOGIN_PRT_MAX, &s, why, whylen) !=
	    WG_OK)
		return -1;
	ok = wg_b64url_decode(s, &raw, &n) == 0 && n >= 16 && n <= 64;
	if (raw != NULL)
		OPENSSL_cleanse(raw, n);
	free(raw);
	if (!ok) {
		wg_say(why, whylen, "%s is not base64url of 16 to 64 bytes",
		    name);
		return -1;
	}
	memcpy(prt, s, strlen(s) + 1);
	return 0;
}

/* len bytes of body as a JSON object of at most ANSWER_BODY_MAX bytes. */
static int
answer_object(const char *body, size_t len, json_t **o, char *why,
    size_t whylen)
{
	*o = NULL;
	if (body == NULL || len > ANSWER_BODY_MAX) {
		wg_say(why, whylen, "the answer is empty or over %d bytes",
		    ANSWER_BODY_MAX);
		return -1;
	}
	return wg_json_load_object(body, len, o, why, whylen) == WG_OK ? 0 :
	    -1;
}

/* ---- the files of earlier steps ---- */

/* A JSON state file (fewer than STATE_FILE_MAX bytes) into *o. */
static int
state_json(const char *dir, const char *name, json_t **o, char *why,
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

/* The reseal's ticket (a secret) and the key it is bound to. */
static enum wg_err
ticket_read(struct login *l)
{
	const char *dir = l->d.o->state_dir, *t, *b;
	char why[256];
	json_t *o = NULL;
	int ok;

	if (state_json(dir, RESEAL_TICKET_FILE, &o, why, sizeof(why)) != 0) {
		if (access(dir, F_OK) == 0 && state_json(dir,
		    LOGIN_SESSION_FILE, &o, why, sizeof(why)) == 0) {
			json_decref(o);
			return WG_FAIL(l, WG_E_TICKET_INVALID, "%s/%s is gone: "
			    "this device was signed in already (%s); its "
			    "ticket served that sign-in", dir,
			    RESEAL_TICKET_FILE, LOGIN_SESSION_FILE);
		}
		return WG_FAIL(l, WG_E_TICKET_INVALID, "no pre-provisioning "
		    "ticket in %s/%s: the device was not resealed "
		    "(whiteglove-agent reseal)", dir, RESEAL_TICKET_FILE);
	}
	ok = wg_json_string(o, "Ticket", 1, ANSWER_TICKET_MAX, &t, why,
	    sizeof(why)) == WG_OK && wg_json_string(o, "BoundTo", 1, 64, &b,
	    why, sizeof(why)) == WG_OK;
	if (ok) {
		memcpy(l->ticket, t, strlen(t) + 1);
		memcpy(l->bound_to, b, strlen(b) + 1);
	}
	json_wipe_member(o, "Ticket");
	json_decref(o);
	if (!ok)
		return WG_FAIL(l, WG_E_TICKET_INVALID, "%s/%s: %s", dir,
		    RESEAL_TICKET_FILE, why);
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

	ok = state_json(dir, JOIN_FILE, &o, why, sizeof(why)) == 0 &&
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
	if (strcasecmp(l->kid, l->bound_to) != 0)
		return WG_FAIL(l, WG_E_RESEAL_KEY_MISMATCH, "the ticket is "
		    "bound to the device key %s, not to this device's "
		    "%s/dk.pub (%s)", l->bound_to, l->d.o->state_dir, l->kid);
	return WG_OK;
}

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
session_read(const char *dir, struct session_file *s, char *why,
    size_t whylen)
{
	const char *upn, *id, *at, *wrap, *in;
	char text[256] = "";
	json_t *o = NULL;
	int ok, w = -1;

	memset(s, 0, sizeof(*s));
	if (state_json(dir, LOGIN_SESSION_FILE, &o, text, sizeof(text)) != 0)
		return wg_fail(WG_E_PRT_INVALID, why, whylen, "no one signed "
		    "in on this device: %s/%s is missing or not JSON "
		    "(whiteglove-agent login)", dir, LOGIN_SESSION_FILE);
	ok = prt_member(o, "RefreshToken", s->prt, text, sizeof(text)) == 0 &&
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
	json_wipe_member(o, "RefreshToken");
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

/* session.json from s, whole (0600), its text wiped after. */
static enum wg_err
session_write(const char *dir, const struct session_file *s, char *why,
    size_t whylen)
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
	json_wipe_member(o, "RefreshToken");
	json_decref(o);
	rc = agent_state_write(dir, LOGIN_SESSION_FILE, text, strlen(text),
	    why, whylen);
	secret_free(text);
	return rc;
}

/* The PRT's expiry life_s seconds from now, RFC 3339 UTC. */
static void
expiry(int64_t life_s, char out[32])
{
	wg_time_rfc3339(wg_now_ms() + life_s * 1000, out);
}

/* ---- the sign-in ---- */

/*
 * The answer's members beside the join's, each by its rule (RFC 6749
 * 5.1: members not named are ignored).
 */
static int
signin_members(const json_t *o, struct signin_answer *out, char *why,
    size_t whylen)
{
	const char *type, *idt, *jwe, *owner;

	if (wg_json_string(o, "token_type", 1, 16, &type, why, whylen) !=
	    WG_OK || prt_member(o, "refresh_token", out->prt, why, whylen) !=
	    0 || int_member(o, "refresh_token_expires_in", 1, PRT_LIFE_MAX,
	    &out->prt_life_s, why, whylen) != 0 ||
	    wg_json_string(o, "id_token", 1, ANSWER_TOKEN_MAX, &idt, why,
	    whylen) != WG_OK || wg_json_string(o, "session_key_jwe", 1,
	    JWE_TEXT_MAX, &jwe, why, whylen) != WG_OK ||
	    wg_json_string(o, "Owner", 1, LOGIN_UPN_MAX, &owner, why,
	    whylen) != WG_OK || int_member(o, "BootsSinceReseal", 0,
	    UINT32_MAX, &out->boots, why, whylen) != 0)
		return -1;
	if (strcasecmp(type, "pop") != 0) {
		wg_say(why, whylen, "token_type is not pop");
		return -1;
	}
	out->jwe = xstrdup(jwe);
	memcpy(out->owner, owner, strlen(owner) + 1);
	return 0;
}

/*
 * The restored join: Certificate, CaChain and DeviceId are the join's
 * answer's members, read by its one parser (with the display name the
 * join stored, which the sign-in does not change).
 */
static int
signin_join(const json_t *o, const char *display_name,
    struct join_answer *out, char *why, size_t whylen)
{
	json_t *j = json_pack("{s:O, s:O, s:O, s:s}", "Certificate",
	    json_object_get(o, "Certificate"), "CaChain",
	    json_object_get(o, "CaChain"), "DeviceId",
	    json_object_get(o, "DeviceId"), "DisplayName", display_name);
	char *text;
	int rc;

	if (j == NULL) {
		wg_say(why, whylen, "Certificate, CaChain and DeviceId are "
		    "required");
		return -1;
	}
	text = devtoken_json_text(j);
	rc = join_answer_parse(text, strlen(text), out, why, whylen) ==
	    WG_OK ? 0 : -1;
	free(text);
	return rc;
}

/* The jwt-bearer grant's 200 (docs/api.md); WG_E_NET_PROTOCOL if not. */
static enum wg_err
signin_answer_parse(const char *body, size_t len, const char *display_name,
    struct signin_answer *out, char *why, size_t whylen)
{
	json_t *o = NULL;
	int ok;

	memset(out, 0, sizeof(*out));
	ok = answer_object(body, len, &o, why, whylen) == 0 &&
	    signin_members(o, out, why, whylen) == 0 &&
	    signin_join(o, display_name, &out->join, why, whylen) == 0;
	json_wipe_member(o, "refresh_token");
	json_decref(o);
	if (ok)
		return WG_OK;
	free(out->jwe);
	join_answer_free(&out->join);
	OPENSSL_cleanse(out, sizeof(*out));
	return WG_E_NET_PROTOCOL;
}

/* The claims of the sign-in (docs/api.md, "Sign-in"); NULL if pw is
 * not UTF-8. */
static json_t *
signin_claims(struct login *l, const struct nonce_answer *n,
    const unsigned char *quote, size_t qlen, const unsigned char *sig,
    size_t slen)
{
	json_t *pw = json_stringn(l->password, l->pw_len);

	if (pw == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:{s:o, s:o, s:o}, s:I}",
	    "grant_type", "password", "username", l->upn, "password", pw,
	    "request_nonce", n->text, "pp_ticket", l->ticket,
	    "tpm_attestation", "AikCertificate", devtoken_b64_json(
	    l->d.aik_cert, l->d.aik_cert_len), "Quote", devtoken_b64_json(
	    quote, qlen), "Signature", devtoken_b64_json(sig, slen),
	    "iat", (json_int_t)(wg_now_ms() / 1000));
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
	secret_free(in);
	secret_free(c);
	secret_free(text);
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
	rc = request_post(&l->d, jws, &resp, retry);
	if (rc == WG_OK && signin_answer_parse(resp.body, resp.body_len,
	    l->display_name, &l->answer, why, sizeof(why)) != WG_OK)
		/* the ticket may be used up: another try would be refused */
		rc = WG_FAIL(l, WG_E_NET_PROTOCOL, "POST %s (sign-in): the "
		    "answer: %s", l->d.token_path, why);
done:
	json_wipe_member(claims, "password");
	json_wipe_member(claims, "pp_ticket");
	json_decref(claims);
	secret_free(jws);
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
	struct session_file *s = &l->session;
	struct login_result *r = l->res;
	char path[4096];
	enum wg_err rc;

	memcpy(s->prt, l->answer.prt, sizeof(s->prt));
	expiry(l->answer.prt_life_s, s->prt_expires_at);
	memcpy(s->upn, l->upn, strlen(l->upn) + 1);
	memcpy(s->device_id, l->device_id, sizeof(s->device_id));
	wg_time_rfc3339(wg_now_ms(), s->signed_in_at);
	if ((rc = session_write(l->d.o->state_dir, s, l->why, l->whylen)) !=
	    WG_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", l->d.o->state_dir,
	    RESEAL_TICKET_FILE);
	if (unlink(path) != 0 && errno != ENOENT)
		wg_warn("the used ticket %s cannot be deleted: %s", path,
		    strerror(errno));
	memcpy(r->upn, s->upn, sizeof(r->upn));
	memcpy(r->owner, l->answer.owner, sizeof(r->owner));
	memcpy(r->device_id, s->device_id, sizeof(r->device_id));
	memcpy(r->thumbprint, l->answer.join.thumbprint,
	    sizeof(r->thumbprint));
	memcpy(r->prt_expires_at, s->prt_expires_at,
	    sizeof(r->prt_expires_at));
	r->wrap = s->wrap;
	r->boots = l->answer.boots;
	return WG_OK;
}

static enum wg_err
login_steps(struct login *l)
{
	enum wg_err rc;

	if ((rc = ticket_read(l)) == WG_OK && (rc = join_read(l)) == WG_OK &&
	    (rc = keys_read(l)) == WG_OK && (rc = devtoken_open(&l->d)) ==
	    WG_OK && (rc = devtoken_discover(&l->d)) == WG_OK &&
	    (rc = devtoken_tries(&l->d, login_once, l, &l->res->tries)) ==
	    WG_OK && (rc = session_key_take(l)) == WG_OK &&
	    (rc = join_restore(l)) == WG_OK)
		rc = session_store(l);
	return rc;
}

enum wg_err
login_run(const struct agent_phase_opts *o, const char *upn,
    const char *password, size_t pw_len, struct login_result *res,
    char *why, size_t whylen)
{
	struct login *l = xcalloc(1, sizeof(*l));
	enum wg_err rc;

	l->d = (struct devtoken){ .o = o, .channel = LOGIN_CHANNEL,
	    .phase = WG_PHASE_ACCOUNT_SETUP, .refused_event = 0,
	    .try_event = LOGIN_EVT_TRY_FAILED, .request_phase = "login",
	    .why = why, .whylen = whylen };
	l->res = res;
	l->upn = upn;
	l->password = password;
	l->pw_len = pw_len;
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
	free(l->answer.jwe);
	join_answer_free(&l->answer.join);
	devtoken_close(&l->d);
	OPENSSL_cleanse(l, sizeof(*l));
	free(l);
	return rc;
}

/* ---- the PRT's use ---- */

struct token {
	struct devtoken d;
	const char *resource;		/* NULL: renew the PRT */
	struct session_file s;		/* its prt: a secret */
	unsigned char session_key[SIGNIN_KEY_LEN]; /* a secret */
	struct login_token_result *res;
	char prt[LOGIN_PRT_MAX + 1];	/* the renewed PRT: a secret */
	int64_t prt_life_s;
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
	json_wipe_member(claims, "refresh_token");
	json_decref(claims);
	return rc;
}

/* The members of the access token's answer (docs/api.md). */
static int
access_members(struct token *t, const json_t *o, const char *type,
    const char **at, char *why, size_t whylen)
{
	const char *res;

	if (wg_json_string(o, "access_token", 1, ANSWER_TOKEN_MAX, at, why,
	    whylen) != WG_OK || int_member(o, "expires_in", 1, 86400,
	    &t->res->expires_in, why, whylen) != 0 || wg_json_string(o,
	    "resource", 1, LOGIN_RESOURCE_MAX, &res, why, whylen) != WG_OK)
		return -1;
	if (strcasecmp(type, "Bearer") != 0)
		wg_say(why, whylen, "token_type is not Bearer");
	else if (strcmp(res, t->resource) != 0)
		wg_say(why, whylen, "the token is for another resource");
	else
		return 0;
	return -1;
}

/*
 * The access token's answer, or without a resource the renewed PRT's
 * (RFC 6749 5.1: members not named are ignored).
 */
static enum wg_err
token_answer(struct token *t, const char *body, size_t len, char *why,
    size_t whylen)
{
	const char *type, *at = NULL;
	json_t *o = NULL;
	int ok;

	ok = answer_object(body, len, &o, why, whylen) == 0 &&
	    wg_json_string(o, "token_type", 1, 16, &type, why, whylen) ==
	    WG_OK && int_member(o, "refresh_token_expires_in", 1,
	    PRT_LIFE_MAX, &t->prt_life_s, why, whylen) == 0;
	if (ok && t->resource != NULL)
		ok = access_members(t, o, type, &at, why, whylen) == 0;
	else if (ok && (ok = prt_member(o, "refresh_token", t->prt, why,
	    whylen) == 0) && strcasecmp(type, "pop") != 0) {
		wg_say(why, whylen, "token_type is not pop");
		ok = 0;
	}
	if (ok) {
		t->res->access_token = at != NULL ? xstrdup(at) : NULL;
		t->res->answer = o;
		return WG_OK;
	}
	json_wipe_member(o, "access_token");
	json_wipe_member(o, "refresh_token");
	json_decref(o);
	return WG_E_NET_PROTOCOL;
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
	if ((rc = request_post(&t->d, jws, &resp, retry)) == WG_OK &&
	    token_answer(t, resp.body, resp.body_len, why, sizeof(why)) !=
	    WG_OK) {
		rc = WG_FAIL(t, WG_E_NET_PROTOCOL, "POST %s (PRT): the answer: "
		    "%s", t->d.token_path, why);
		*retry = 0; /* a renewal may have replaced the PRT */
	}
	secret_free(jws);
	wg_httpc_resp_free(&resp);
	return rc;
}

static enum wg_err
token_steps(struct token *t)
{
	size_t klen = sizeof(t->session_key);
	enum wg_err rc;

	if ((rc = session_read(t->d.o->state_dir, &t->s, t->why, t->whylen)) !=
	    WG_OK || (rc = devtoken_open(&t->d)) != WG_OK)
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
	if (t->resource == NULL)
		memcpy(t->s.prt, t->prt, sizeof(t->s.prt));
	expiry(t->prt_life_s, t->s.prt_expires_at);
	memcpy(t->res->prt_expires_at, t->s.prt_expires_at,
	    sizeof(t->res->prt_expires_at));
	return session_write(t->d.o->state_dir, &t->s, t->why, t->whylen);
}

enum wg_err
login_token(const struct agent_phase_opts *o, const char *resource,
    struct login_token_result *res, char *why, size_t whylen)
{
	struct token *t = xcalloc(1, sizeof(*t));
	enum wg_err rc;

	t->d = (struct devtoken){ .o = o, .channel = LOGIN_CHANNEL,
	    .phase = WG_PHASE_ACCOUNT_SETUP, .refused_event = 0,
	    .try_event = LOGIN_EVT_TRY_FAILED, .request_phase = "token",
	    .why = why, .whylen = whylen };
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
	secret_free(r->access_token);
	json_wipe_member(r->answer, "access_token");
	json_wipe_member(r->answer, "refresh_token");
	json_decref(r->answer);
	memset(r, 0, sizeof(*r));
}
