/*
 * The token service's device token (step 3 of the flow; the role of the
 * token service's srv_challenge and device authentication in the
 * Windows flow, MS-OAPXBC).  A device asks for a nonce
 * (grant_type=srv_challenge), has its TPM quote it with the AIK
 * (TPM2_Quote, the nonce as qualifying data) and sends the quote, the
 * AIK and its AIK certificate; the answer is a device token: a JWT (ES256)
 * for the drs and mdm services, whose subject is the device's ZTDID and
 * which is bound to the AIK.  Nonces are single-use and live five
 * minutes, enforced in the database.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/json.h"
#include "common/log.h"
#include "common/profile.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/jose.h"
#include "crypto/tpmattest.h"
#include "crypto/tpmpub.h"
#include "server/admin_util.h"
#include "server/form.h"
#include "server/idem.h"
#include "server/server.h"
#include "server/signin.h"
#include "server/tpmproof.h"

#define TOKEN_BODY_MAX 16384
#define NONCE_LEN 32
#define NONCE_LIFE_MS (5 * 60 * 1000)
#define NONCE_PURGE_AFTER_MS (60 * 60 * 1000)
#define NONCE_PURGE_EVERY 16	/* challenges per purge */
#define NONCE_PURGE_ROWS 200	/* expired nonces per purge, at most */
#define DEVICE_TOKEN_LIFE_S 3600
#define GRANT_CHALLENGE "srv_challenge"
#define GRANT_TPM_QUOTE "urn:whiteglove:params:oauth:grant-type:tpm-quote"

/* What a device token request carries, decoded. */
struct quote_req {
	unsigned char *nonce, *aik_raw, *cert, *quote, *sig;
	size_t nonce_len, aik_raw_len, cert_len, quote_len, sig_len;
	struct tpm_public aik;
	struct tpm_attest att;
	char aik_name[69];
	char nonce_hex[65];
};

static void
quote_req_free(struct quote_req *q)
{
	free(q->nonce);
	free(q->aik_raw);
	free(q->cert);
	free(q->quote);
	free(q->sig);
}

/* A base64url form field into *out (1..max bytes once decoded). */
static enum wg_err
form_b64(struct http_req *req, const struct form *f, const char *name,
    size_t max, unsigned char **out, size_t *len)
{
	const char *v = form_get(f, name);

	*out = NULL;
	*len = 0;
	if (v == NULL)
		return http_fail(req, WG_E_JSON_FIELD, "form field '%s' is "
		    "missing", name);
	if (strlen(v) > (max + 2) / 3 * 4 || wg_b64url_decode(v, out, len) !=
	    0 || *len == 0 || *len > max) {
		free(*out);
		*out = NULL;
		return http_fail(req, WG_E_JSON_FIELD, "form field '%s' is not "
		    "base64url of 1 to %zu bytes", name, max);
	}
	return WG_OK;
}

/* Challenges this process answered: every NONCE_PURGE_EVERY-th purges. */
static atomic_uint challenges;

/* grant_type=srv_challenge: a fresh nonce, recorded by its hash. */
static enum wg_err
token_challenge(struct http_req *req, struct http_resp *resp)
{
	unsigned char nonce[NONCE_LEN];
	struct store_conn *c;
	char hex[65], *text;
	int64_t now = wg_now_ms();
	enum wg_err rc;

	if ((rc = wg_random(nonce, sizeof(nonce))) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK)
		return rc;
	wg_sha256_hex(nonce, sizeof(nonce), hex);
	/*
	 * Expired nonces go a little at a time, by every NONCE_PURGE_EVERY-th
	 * asker: NONCE_PURGE_ROWS a time outpaces the one nonce each adds,
	 * and the others' challenge is one write, not two.
	 */
	if (atomic_fetch_add(&challenges, 1) % NONCE_PURGE_EVERY == 0 &&
	    (rc = store_nonce_purge(c, now - NONCE_PURGE_AFTER_MS,
	    NONCE_PURGE_ROWS)) != WG_OK)
		return rc;
	if ((rc = store_nonce_put(c, hex, TOKEN_NONCE_PURPOSE, now +
	    NONCE_LIFE_MS)) != WG_OK)
		return rc;
	text = wg_b64url(nonce, sizeof(nonce));
	http_resp_json(resp, 200, json_pack("{s:s, s:i}", "Nonce", text,
	    "expires_in", NONCE_LIFE_MS / 1000));
	free(text);
	return WG_OK;
}

/* The fields of a quote grant, decoded and parsed. */
static enum wg_err
quote_parse(struct http_req *req, const struct form *f, struct quote_req *q)
{
	static const char *const allowed[] = {"grant_type", "nonce",
	    "aik_public", "aik_certificate", "quote", "signature", NULL};
	unsigned char name[34];
	char why[256] = "";
	enum wg_err rc;

	if (form_only(f, allowed, why, sizeof(why)) != 0)
		return http_fail(req, WG_E_JSON_FIELD, "%s", why);
	if ((rc = form_b64(req, f, "nonce", NONCE_LEN, &q->nonce,
	    &q->nonce_len)) != WG_OK ||
	    (rc = form_b64(req, f, "aik_public", 1024, &q->aik_raw,
	    &q->aik_raw_len)) != WG_OK ||
	    (rc = form_b64(req, f, "aik_certificate", WG_CERT_B64_MAX / 4 * 3,
	    &q->cert, &q->cert_len)) != WG_OK ||
	    (rc = form_b64(req, f, "quote", 1024, &q->quote, &q->quote_len)) !=
	    WG_OK ||
	    (rc = form_b64(req, f, "signature", 1024, &q->sig,
	    &q->sig_len)) != WG_OK)
		return rc;
	if (tpm_public_parse(q->aik_raw, q->aik_raw_len, &q->aik, why,
	    sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "form field "
		    "'aik_public': %s", why);
	if ((rc = admin_aik_check(req, "aik_public", &q->aik)) != WG_OK)
		return rc;
	if (tpm_attest_parse(q->quote, q->quote_len, &q->att, why,
	    sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "quote: %s",
		    why);
	tpm_public_name(&q->aik, name);
	wg_hex(name, sizeof(name), q->aik_name);
	wg_sha256_hex(q->nonce, q->nonce_len, q->nonce_hex);
	return WG_OK;
}

/* The quote is the AIK's, over this nonce. */
static enum wg_err
quote_check(struct http_req *req, const struct quote_req *q)
{
	return proof_quote_check(req, &q->aik, &q->att, q->quote, q->quote_len,
	    q->sig, q->sig_len, q->nonce, q->nonce_len);
}

/*
 * The AIK certificate must be one the attestation CA issued for this AIK
 * and still valid; it leads to the EK, which leads to the device.
 */
static enum wg_err
quote_device(struct http_req *req, struct store_conn *c,
    const struct quote_req *q, struct wg_aik_cert *rec, struct wg_device *d)
{
	char *b64 = wg_b64(q->cert, q->cert_len), reason[WG_REASON_MAX + 1];
	unsigned char *hash = NULL;
	int64_t revoked = 0;
	enum wg_err rc;
	size_t n = 0;

	rc = store_aik_cert_find(c, q->aik_name, b64, rec);
	free(b64);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "aik_certificate "
		    "is not a certificate the attestation CA issued for this "
		    "AIK");
	if (rc != WG_OK)
		return rc;
	if (rec->not_after_ms <= wg_now_ms() || rec->ek_sha256[0] == '\0')
		return http_fail(req, WG_E_ATTESTATION_INVALID, "the AIK "
		    "certificate %s; run \"Securing your hardware\" again",
		    rec->ek_sha256[0] ? "has expired" : "predates device "
		    "tokens");
	if ((rc = store_ek_revoked(c, rec->ek_id, &revoked, reason)) !=
	    WG_OK)
		return rc;
	if (revoked != 0)
		return http_fail(req, WG_E_TPM_VULNERABLE, "this TPM's EK %s "
		    "was revoked: %s", rec->ek_id, reason);
	rc = store_device_by_ek(c, rec->ek_sha256, d, &hash, &n);
	free(hash);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_DDS_DEVICE_NOT_FOUND, "the AIK's TPM "
		    "belongs to no registered device");
	return rc;
}

/* The device token's claims. */
static json_t *
token_claims(const struct wg_device *d, const struct quote_req *q,
    int64_t now_s)
{
	unsigned char md[32];
	char jti[37], *x5t;
	json_t *claims;

	wg_uuid(jti);
	wg_sha256(q->cert, q->cert_len, md);
	x5t = wg_b64url(md, sizeof(md));
	claims = json_pack("{s:s, s:[s, s], s:s, s:s, s:s, s:s, s:I, s:I, "
	    "s:I, s:s, s:{s:s, s:s}}", "iss", TOKEN_ISSUER,
	    "aud", TOKEN_AUD_DRS, TOKEN_AUD_MDM,
	    "sub", d->ztd_id, "tid", d->tenant_id,
	    "deviceid", d->directory_device_id, "serialNumber", d->serial,
	    "iat", (json_int_t)now_s, "nbf", (json_int_t)now_s,
	    "exp", (json_int_t)(now_s + DEVICE_TOKEN_LIFE_S), "jti", jti,
	    "cnf", "tpm_aik_name", q->aik_name, "x5t#S256", x5t);
	free(x5t);
	return claims;
}

/* Takes the nonce and records the token, in one transaction. */
static enum wg_err
token_commit(struct http_req *req, struct store_conn *c,
    const struct quote_req *q, const struct wg_device *d)
{
	const char *why = NULL;
	enum wg_err rc;

	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	rc = store_nonce_take(c, q->nonce_hex, TOKEN_NONCE_PURPOSE, &why);
	if (rc == WG_OK)
		rc = admin_device_audit(req, c, d, "token",
		    ADMIN_EVT_DEVICE_TOKEN, WG_PHASE_JOINING, WG_OK, NULL,
		    "aikName", q->aik_name, "device token issued");
	if (rc == WG_OK)
		return store_commit(c);
	store_rollback(c);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_NONCE_INVALID, "the nonce is %s; ask "
		    "for a new one (grant_type=srv_challenge)", why);
	return rc;
}

/* grant_type=...:tpm-quote: the device token. */
static enum wg_err
token_quote(struct http_req *req, struct http_resp *resp,
    const struct form *f)
{
	struct quote_req q;
	struct wg_aik_cert rec;
	struct wg_device d;
	struct store_conn *c;
	int64_t now_s = wg_now_ms() / 1000;
	json_t *claims = NULL;
	char *jwt = NULL;
	enum wg_err rc;

	memset(&q, 0, sizeof(q));
	if ((rc = quote_parse(req, f, &q)) == WG_OK &&
	    (rc = quote_check(req, &q)) == WG_OK &&
	    (rc = http_db(req, &c)) == WG_OK &&
	    (rc = quote_device(req, c, &q, &rec, &d)) == WG_OK &&
	    (rc = jose_sign(req->srv->signer, claims = token_claims(&d, &q,
	    now_s), &jwt)) == WG_OK &&
	    (rc = token_commit(req, c, &q, &d)) == WG_OK)
		http_resp_json(resp, 200, json_pack("{s:s, s:s, s:i, s:s}",
		    "access_token", jwt, "token_type", "Bearer", "expires_in",
		    DEVICE_TOKEN_LIFE_S, "resource", "urn:whiteglove:drs "
		    "urn:whiteglove:mdm"));
	if (jwt != NULL)
		OPENSSL_cleanse(jwt, strlen(jwt));
	free(jwt);
	json_decref(claims);
	quote_req_free(&q);
	return rc;
}

/* POST /token (application/x-www-form-urlencoded) */
static enum wg_err
token_post(struct http_req *req, struct http_resp *resp)
{
	const char *grant;
	char why[256] = "";
	struct form f;
	enum wg_err rc;

	if (form_parse(req->body, req->body_len, &f, why, sizeof(why)) !=
	    WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "%s", why);
	grant = form_get(&f, "grant_type");
	if (grant == NULL)
		rc = http_fail(req, WG_E_JSON_FIELD, "form field 'grant_type' "
		    "is missing (" GRANT_CHALLENGE ", " GRANT_TPM_QUOTE " or "
		    SIGNIN_GRANT ")");
	else if (strcmp(grant, GRANT_CHALLENGE) == 0)
		rc = f.n == 1 ? token_challenge(req, resp) : http_fail(req,
		    WG_E_JSON_FIELD, "grant_type=" GRANT_CHALLENGE " takes no "
		    "other field");
	else if (strcmp(grant, GRANT_TPM_QUOTE) == 0)
		rc = token_quote(req, resp, &f);
	else if (strcmp(grant, SIGNIN_GRANT) == 0)
		rc = signin_grant(req, resp, &f);
	else
		rc = http_fail(req, WG_E_JSON_FIELD, "grant_type '%.64s' is not "
		    "offered (" GRANT_CHALLENGE ", " GRANT_TPM_QUOTE ", "
		    SIGNIN_GRANT ")", grant);
	form_free(&f);
	return rc;
}

/* The reseal's body: the AIK's quote of a nonce. */
static enum wg_err
reseal_parse(struct http_req *req, const json_t *root, struct quote_req *q,
    struct proof *p)
{
	static const char *const allowed[] = {"AikCertificate", "Nonce",
	    "Quote", "Signature", NULL};
	const char *nonce;
	char why[256] = "";
	enum wg_err rc;

	if ((rc = wg_json_only(root, allowed, req->why, sizeof(req->why))) !=
	    WG_OK ||
	    (rc = proof_b64(req, root, "", "AikCertificate",
	    WG_CERT_B64_MAX / 4 * 3, &p->aik_cert, &p->aik_cert_len)) !=
	    WG_OK ||
	    (rc = proof_b64(req, root, "", "Quote", PROOF_TPM_MAX, &q->quote,
	    &q->quote_len)) != WG_OK ||
	    (rc = proof_b64(req, root, "", "Signature", PROOF_TPM_MAX, &q->sig,
	    &q->sig_len)) != WG_OK)
		return rc;
	if (wg_json_string(root, "Nonce", 1, 64, &nonce, why, sizeof(why)) !=
	    WG_OK || wg_b64url_decode(nonce, &q->nonce, &q->nonce_len) != 0 ||
	    q->nonce_len == 0 || q->nonce_len > NONCE_LEN)
		return http_fail(req, WG_E_JSON_FIELD, "Nonce must be the "
		    "base64url nonce of POST /token grant_type=srv_challenge");
	if (tpm_attest_parse(q->quote, q->quote_len, &q->att, why,
	    sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_ATTESTATION_INVALID, "Quote: %s",
		    why);
	wg_sha256_hex(q->nonce, q->nonce_len, q->nonce_hex);
	return WG_OK;
}

/* The ticket, recorded with the nonce taken and the event, in one tx. */
static enum wg_err
reseal_commit(struct http_req *req, struct store_conn *c,
    const struct quote_req *q, const struct wg_device *d,
    struct wg_ticket *t)
{
	const char *why = NULL;
	char msg[128];
	enum wg_err rc;

	snprintf(msg, sizeof(msg), "pre-provisioning ticket issued (TPM "
	    "resetCount %lld)", (long long)t->reset_count);
	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	if ((rc = store_nonce_take(c, q->nonce_hex, TOKEN_NONCE_PURPOSE,
	    &why)) == WG_E_NOT_FOUND)
		rc = http_fail(req, WG_E_NONCE_INVALID, "the nonce is %s; ask "
		    "for a new one", why);
	else if (rc == WG_OK && (rc = store_ticket_put(c, t,
	    d->directory_device_id)) == WG_E_NOT_FOUND)
		rc = http_fail(req, WG_E_RESEAL_NOT_JOINED, "device %s has not "
		    "joined", d->serial);
	if (rc == WG_OK && (rc = admin_device_audit(req, c, d, "token",
	    ADMIN_EVT_TICKET_ISSUED, WG_PHASE_RESEAL, WG_OK, NULL, NULL,
	    NULL, msg)) == WG_OK)
		return store_commit(c);
	store_rollback(c);
	return rc;
}

/* POST /token/v1/reseal: the one-time pre-provisioning ticket. */
static enum wg_err
token_reseal(struct http_req *req, struct http_resp *resp)
{
	unsigned char raw[NONCE_LEN];
	struct device_claims tok;
	struct quote_req q;
	struct proof p;
	struct wg_device d;
	struct wg_profile prof;
	struct wg_ticket t;
	struct store_conn *c;
	json_t *root = NULL;
	char *ticket = NULL, at[32];
	enum wg_err rc;
	int by_tag;

	memset(&q, 0, sizeof(q));
	memset(&p, 0, sizeof(p));
	memset(&t, 0, sizeof(t));
	if ((rc = token_device_check(req, TOKEN_AUD_DRS, &tok)) != WG_OK ||
	    (rc = wg_json_load_object(req->body, req->body_len, &root,
	    req->why, sizeof(req->why))) != WG_OK ||
	    (rc = reseal_parse(req, root, &q, &p)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK ||
	    (rc = proof_aik(req, c, tok.aik_name, &p)) != WG_OK)
		goto done;
	q.aik = p.aik;
	if ((rc = quote_check(req, &q)) != WG_OK)
		goto done;
	if ((rc = store_device_by_ztd(c, tok.tenant_id, tok.ztd_id, &d)) ==
	    WG_E_NOT_FOUND) {
		rc = http_fail(req, WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND, "the "
		    "device was deleted");
		goto done;
	}
	if (rc != WG_OK || ((rc = store_profile_for(c, d.tenant_id,
	    d.group_tag, &prof, &by_tag)) != WG_OK && rc != WG_E_NOT_FOUND) ||
	    (rc = wg_random(raw, sizeof(raw))) != WG_OK)
		goto done;
	wg_sha256_hex(raw, sizeof(raw), t.ticket_sha256);
	snprintf(t.tenant_id, sizeof(t.tenant_id), "%s", d.tenant_id);
	snprintf(t.device_id, sizeof(t.device_id), "%s", d.id);
	t.reset_count = q.att.reset_count;
	t.restart_count = q.att.restart_count;
	snprintf(t.aik_name, sizeof(t.aik_name), "%s", tok.aik_name);
	t.created_ms = wg_now_ms();
	t.expires_ms = t.created_ms + (rc == WG_OK ? prof.ticket_days :
	    WG_TICKET_DAYS_DEFAULT) * 86400 * (int64_t)1000;
	if ((rc = reseal_commit(req, c, &q, &d, &t)) != WG_OK)
		goto done;
	ticket = wg_b64url(raw, sizeof(raw));
	wg_time_rfc3339(t.expires_ms, at);
	http_resp_json(resp, 200, json_pack("{s:s, s:s, s:I, s:I, s:s}",
	    "Ticket", ticket, "ExpiresAt", at, "ResetCount",
	    (json_int_t)t.reset_count, "RestartCount",
	    (json_int_t)t.restart_count, "BoundTo", t.dk_id));
	OPENSSL_cleanse(ticket, strlen(ticket));
done:
	OPENSSL_cleanse(raw, sizeof(raw));
	free(ticket);
	json_decref(root);
	quote_req_free(&q);
	proof_free(&p);
	return rc;
}

/* A string claim of at most size - 1 bytes into dst; -1 if not one. */
static int
claim(const json_t *claims, const char *name, char *dst, size_t size)
{
	const json_t *v = json_object_get(claims, name);

	if (!json_is_string(v) || json_string_length(v) >= size)
		return -1;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* Whether the token's aud names audience. */
static int
for_audience(const json_t *claims, const char *audience)
{
	const json_t *aud = json_object_get(claims, "aud"), *v;
	size_t i;

	json_array_foreach(aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    audience) == 0)
			return 1;
	return 0;
}

enum wg_err
token_device_check(struct http_req *req, const char *audience,
    struct device_claims *out)
{
	const char *auth = http_header(req, "Authorization");
	int64_t now = wg_now_ms() / 1000;
	json_t *claims = NULL, *cnf;
	char why[256] = "";
	enum wg_err rc = WG_E_TOKEN_INVALID;

	memset(out, 0, sizeof(*out));
	if (req->srv->signer == NULL)
		return http_fail(req, WG_E_INTERNAL, "no token signing key");
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return http_fail(req, rc, "missing 'Authorization: Bearer "
		    "<device token>'");
	if (jose_verify(req->srv->signer, auth + 7, &claims, why,
	    sizeof(why)) != WG_OK)
		return http_fail(req, rc, "device token: %s", why);
	cnf = json_object_get(claims, "cnf");
	if (!json_is_string(json_object_get(claims, "iss")) ||
	    strcmp(json_string_value(json_object_get(claims, "iss")),
	    TOKEN_ISSUER) != 0 || !for_audience(claims, audience))
		rc = http_fail(req, rc, "device token: not issued by this token "
		    "service for %s", audience);
	else if (!json_is_integer(json_object_get(claims, "exp")) ||
	    json_integer_value(json_object_get(claims, "exp")) <= now ||
	    !json_is_integer(json_object_get(claims, "nbf")) ||
	    json_integer_value(json_object_get(claims, "nbf")) > now + 60)
		rc = http_fail(req, rc, "device token: expired or not yet "
		    "valid; the device gets a new one");
	else if (claim(claims, "sub", out->ztd_id, sizeof(out->ztd_id)) ||
	    claim(claims, "tid", out->tenant_id, sizeof(out->tenant_id)) ||
	    claim(claims, "deviceid", out->directory_device_id,
	    sizeof(out->directory_device_id)) ||
	    claim(cnf, "tpm_aik_name", out->aik_name, sizeof(out->aik_name)))
		rc = http_fail(req, rc, "device token: a claim is missing");
	else
		rc = WG_OK;
	json_decref(claims);
	return rc;
}

/* GET /token/keys: the JWK Set that verifies device tokens. */
static enum wg_err
token_keys(struct http_req *req, struct http_resp *resp)
{
	http_resp_json(resp, 200, jose_jwks(req->srv->signer));
	return WG_OK;
}

/* The reseal, idempotent per device with an Idempotency-Key (idem.c). */
static enum wg_err
token_reseal_idem(struct http_req *req, struct http_resp *resp)
{
	return idem_run(req, resp, "/token/v1/reseal", TOKEN_AUD_DRS,
	    token_reseal);
}

static const struct http_route routes[] = {
	{ HTTP_POST, "/token", WG_SVC_TOKEN, HTTP_AUTH_NONE, TOKEN_BODY_MAX,
	    token_post, NULL, "application/x-www-form-urlencoded" },
	HTTP_ROUTE(HTTP_GET, "/token/keys", WG_SVC_TOKEN, HTTP_AUTH_NONE, 0,
	    token_keys),
	HTTP_ROUTE(HTTP_POST, "/token/v1/reseal", WG_SVC_TOKEN, HTTP_AUTH_NONE,
	    TOKEN_BODY_MAX, token_reseal_idem),
};

const struct http_routes token_routes = { routes,
	sizeof(routes) / sizeof(routes[0]) };
