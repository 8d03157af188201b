/*
 * The primary refresh token in use (docs/api.md, "Using the PRT"): a
 * request JWS keyed (HS256) with the key derived from the PRT's session
 * key and the request's ctx (crypto/signin.h); the session key is kept
 * sealed (sealbox.h) with the PRT's hash as scope.  An access token for a
 * resource moves the PRT's 14 days on; a renewal replaces the PRT with
 * another bound to the same session key and device.  signin.c's
 * signin_grant() sends the HS256 requests here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/jose.h"
#include "crypto/signin.h"
#include "server/admin_util.h"
#include "server/sealbox.h"
#include "server/server.h"
#include "server/signin_int.h"

#define ACCESS_TOKEN_LIFE_S 3600
#define RESOURCE_MAX 128

/* A request presenting a PRT, decoded. */
struct prt_req {
	unsigned char ctx[SIGNIN_CTX_LEN];
	unsigned char *prt, *nonce;
	size_t prt_len, nonce_len;
	char prt_hex[65], nonce_hex[65];
	const char *deviceid, *resource;
	struct wg_prt row;
	struct wg_user user;
	unsigned char key[SIGNIN_KEY_LEN]; /* its session key, once opened */
};

static void
prt_req_free(struct prt_req *p)
{
	if (p->prt != NULL)
		OPENSSL_cleanse(p->prt, p->prt_len);
	free(p->prt);
	free(p->nonce);
	OPENSSL_cleanse(&p->user, sizeof(p->user));
	OPENSSL_cleanse(p->key, sizeof(p->key));
}

/* 1 if r is a resource name: 1..RESOURCE_MAX of A-Za-z0-9 and :/._- */
static int
resource_ok(const char *r)
{
	size_t n = strlen(r);

	return n >= 1 && n <= RESOURCE_MAX && strspn(r, "abcdefghijklmnopqrst"
	    "uvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/._-") == n;
}

/* The header's ctx and the claims of a PRT request. */
static enum wg_err
prt_parse(struct http_req *req, const struct signin_jws *j,
    struct prt_req *p)
{
	static const char *const allowed[] = {"grant_type", "refresh_token",
	    "request_nonce", "deviceid", "iat", "resource", NULL};
	const json_t *ctx = json_object_get(j->header, "ctx");
	unsigned char *raw = NULL;
	const char *grant;
	char why[256] = "";
	size_t n = 0;
	enum wg_err rc;

	if (!json_is_string(ctx) || wg_b64_decode_text(json_string_value(ctx),
	    &raw, &n) != 0 || n != SIGNIN_CTX_LEN) {
		free(raw);
		return http_fail(req, WG_E_JSON_FIELD, "the request's header "
		    "\"ctx\" must be base64 of %d bytes", SIGNIN_CTX_LEN);
	}
	memcpy(p->ctx, raw, n);
	free(raw);
	if (wg_json_only(j->claims, allowed, req->why, sizeof(req->why)) !=
	    WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "the request: %s",
		    req->why);
	if (wg_json_string(j->claims, "grant_type", 1, 32, &grant, why,
	    sizeof(why)) != WG_OK || strcmp(grant, "refresh_token") != 0)
		return http_fail(req, WG_E_JSON_FIELD, "claim \"grant_type\" of "
		    "a request with a PRT must be \"refresh_token\"");
	if (wg_json_string(j->claims, "deviceid", 1, 36, &p->deviceid, why,
	    sizeof(why)) != WG_OK)
		return http_fail(req, WG_E_JSON_FIELD, "claim \"deviceid\": %s",
		    why);
	if (wg_json_string(j->claims, "resource", 0, RESOURCE_MAX + 1,
	    &p->resource, why, sizeof(why)) != WG_OK ||
	    (p->resource != NULL && !resource_ok(p->resource)))
		return http_fail(req, WG_E_JSON_FIELD, "claim \"resource\" must "
		    "be 1 to %d of A-Z a-z 0-9 : / . _ -", RESOURCE_MAX);
	if ((rc = signin_claim_iat(req, j->claims)) != WG_OK ||
	    (rc = signin_claim_b64url(req, j->claims, "refresh_token", PRT_LEN,
	    WG_E_PRT_INVALID, &p->prt, &p->prt_len)) != WG_OK ||
	    (rc = signin_claim_b64url(req, j->claims, "request_nonce", NONCE_MAX,
	    WG_E_JSON_FIELD, &p->nonce, &p->nonce_len)) != WG_OK)
		return rc;
	wg_sha256_hex(p->prt, p->prt_len, p->prt_hex);
	wg_sha256_hex(p->nonce, p->nonce_len, p->nonce_hex);
	return WG_OK;
}

/*
 * The PRT is live and the device's; the request is keyed with its
 * session key and ctx; the nonce is usable; the user is enabled.
 */
static enum wg_err
prt_check(struct http_req *req, struct store_conn *c, const char *text,
    struct prt_req *p)
{
	unsigned char pop[SIGNIN_KEY_LEN];
	char *key = NULL, why[256] = "", at[32];
	size_t n = 0;
	enum wg_err rc = store_prt_get(c, p->prt_hex, &p->row);

	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_PRT_INVALID, "the primary refresh "
		    "token is unknown");
	if (rc != WG_OK)
		return rc;
	if (p->row.replaced_ms != 0) {
		wg_time_rfc3339(p->row.replaced_ms, at);
		return http_fail(req, WG_E_PRT_INVALID, "the primary refresh "
		    "token was replaced by a renewal at %s", at);
	}
	if (p->row.expires_ms <= wg_now_ms()) {
		wg_time_rfc3339(p->row.expires_ms, at);
		return http_fail(req, WG_E_PRT_INVALID, "the primary refresh "
		    "token expired at %s", at);
	}
	if (strcmp(p->deviceid, p->row.directory_device_id) != 0)
		return http_fail(req, WG_E_PRT_OTHER_DEVICE, "the primary "
		    "refresh token was issued to another device");
	if ((rc = sealbox_open(req, p->prt_hex, p->row.session_key, &key,
	    &n)) != WG_OK)
		return http_fail(req, rc, "the token's session key cannot be "
		    "opened");
	if (n == SIGNIN_KEY_LEN)
		memcpy(p->key, key, n); /* a renewal seals it again */
	rc = n == SIGNIN_KEY_LEN && signin_pop_key(p->key, p->ctx, pop) == 0 ?
	    WG_OK : WG_E_CRYPTO;
	OPENSSL_cleanse(key, n);
	free(key);
	if (rc == WG_OK)
		rc = signin_hs256_verify(text, pop, why, sizeof(why));
	OPENSSL_cleanse(pop, sizeof(pop));
	if (rc == WG_E_JSON_FIELD)
		return http_fail(req, WG_E_PRT_POP_INVALID, "the request is not "
		    "signed with the key of the token's session and its ctx: "
		    "%s", why);
	if (rc != WG_OK)
		return http_fail(req, rc, "the proof of possession cannot be "
		    "checked");
	if ((rc = signin_nonce_usable(req, c, p->nonce_hex)) != WG_OK)
		return rc;
	rc = store_user_get(c, p->row.tenant_id, p->row.user_id, &p->user);
	if (rc == WG_OK && p->user.disabled)
		return http_fail(req, WG_E_USER_DISABLED, "user \"%s\" is "
		    "disabled", p->user.upn);
	return rc == WG_E_NOT_FOUND ? http_fail(req, WG_E_PRT_INVALID, "the "
	    "token's user is gone") : rc;
}

/* The device of a PRT, for its audit records. */
static enum wg_err
prt_audit(struct http_req *req, struct store_conn *c, const struct prt_req *p,
    int id, const char *msg)
{
	struct wg_device d;
	enum wg_err rc = store_device_get(c, p->row.tenant_id,
	    p->row.device_id, &d);

	if (rc != WG_OK)
		return rc;
	return admin_device_audit(req, c, &d, "token", id,
	    WG_PHASE_ACCOUNT_SETUP, WG_OK, NULL, "userId", p->user.id, msg);
}

/* An access token for p->resource; the PRT's lifetime starts again. */
static enum wg_err
prt_access(struct http_req *req, struct http_resp *resp,
    struct store_conn *c, const struct prt_req *p)
{
	int64_t now = wg_now_ms();
	const char *why = NULL;
	char jti[37], *jwt = NULL;
	json_t *claims;
	enum wg_err rc;

	wg_uuid(jti);
	claims = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, "
	    "s:s}", "iss", TOKEN_ISSUER, "aud", p->resource, "sub",
	    p->user.id, "upn", p->user.upn, "tid", p->row.tenant_id,
	    "deviceid", p->row.directory_device_id, "iat",
	    (json_int_t)(now / 1000), "nbf", (json_int_t)(now / 1000), "exp",
	    (json_int_t)(now / 1000 + ACCESS_TOKEN_LIFE_S), "jti", jti);
	rc = jose_sign(req->srv->signer, claims, &jwt);
	json_decref(claims);
	if (rc != WG_OK || (rc = store_begin(c)) != WG_OK)
		goto done;
	rc = store_nonce_take(c, p->nonce_hex, TOKEN_NONCE_PURPOSE, &why);
	if (rc == WG_E_NOT_FOUND)
		rc = http_fail(req, WG_E_NONCE_INVALID, "request_nonce is %s",
		    why);
	else if (rc == WG_OK && (rc = store_prt_touch(c, p->prt_hex, now +
	    PRT_LIFE_MS)) == WG_E_NOT_FOUND)
		rc = http_fail(req, WG_E_PRT_INVALID, "the primary refresh "
		    "token was replaced meanwhile");
	if (rc == WG_OK && (rc = store_commit(c)) == WG_OK)
		http_resp_json(resp, 200, json_pack("{s:s, s:s, s:i, s:s, s:I}",
		    "token_type", "Bearer", "access_token", jwt, "expires_in",
		    ACCESS_TOKEN_LIFE_S, "resource", p->resource,
		    "refresh_token_expires_in",
		    (json_int_t)(PRT_LIFE_MS / 1000)));
	else if (rc != WG_OK)
		store_rollback(c);
done:
	if (jwt != NULL)
		OPENSSL_cleanse(jwt, strlen(jwt));
	free(jwt);
	return rc;
}

/* A new PRT, bound to the same session key and device, replaces p's. */
static enum wg_err
prt_renew(struct http_req *req, struct http_resp *resp,
    struct store_conn *c, const struct prt_req *p)
{
	unsigned char raw[PRT_LEN];
	struct wg_prt row = p->row;
	int64_t now = wg_now_ms();
	const char *why = NULL;
	char *sealed = NULL, *prt = NULL;
	enum wg_err rc;

	/* the session key prt_check() opened, sealed for the new PRT */
	if ((rc = wg_random(raw, sizeof(raw))) != WG_OK)
		goto done;
	wg_sha256_hex(raw, sizeof(raw), row.prt_sha256);
	if ((rc = sealbox_seal(req, row.prt_sha256, p->key, sizeof(p->key),
	    &sealed)) != WG_OK)
		goto done;
	if (strlen(sealed) > WG_PRT_SEALED_MAX) {
		rc = http_fail(req, WG_E_INTERNAL, "a sealed session key too "
		    "long");
		goto done;
	}
	snprintf(row.session_key, sizeof(row.session_key), "%s", sealed);
	row.created_ms = now;
	row.expires_ms = now + PRT_LIFE_MS;
	row.replaced_ms = 0;
	if ((rc = store_begin(c)) != WG_OK)
		goto done;
	rc = store_nonce_take(c, p->nonce_hex, TOKEN_NONCE_PURPOSE, &why);
	if (rc == WG_E_NOT_FOUND)
		rc = http_fail(req, WG_E_NONCE_INVALID, "request_nonce is %s",
		    why);
	else if (rc == WG_OK && (rc = store_prt_replace(c, p->prt_hex,
	    now)) == WG_E_NOT_FOUND)
		rc = http_fail(req, WG_E_PRT_INVALID, "the primary refresh "
		    "token was replaced meanwhile");
	if (rc == WG_OK)
		rc = store_prt_put(c, &row);
	if (rc == WG_OK)
		rc = prt_audit(req, c, p, ADMIN_EVT_PRT_RENEWED, "primary "
		    "refresh token renewed");
	if (rc == WG_OK && (rc = store_commit(c)) == WG_OK) {
		prt = wg_b64url(raw, sizeof(raw));
		http_resp_json(resp, 200, json_pack("{s:s, s:s, s:I}",
		    "token_type", "pop", "refresh_token", prt,
		    "refresh_token_expires_in",
		    (json_int_t)(PRT_LIFE_MS / 1000)));
		OPENSSL_cleanse(prt, strlen(prt));
	} else if (rc != WG_OK) {
		store_rollback(c);
	}
done:
	OPENSSL_cleanse(raw, sizeof(raw));
	free(sealed);
	free(prt);
	return rc;
}

/* signin_int.h */
enum wg_err
signin_prt(struct http_req *req, struct http_resp *resp,
    const struct signin_jws *j, const char *text)
{
	struct prt_req p;
	struct store_conn *c;
	enum wg_err rc;

	memset(&p, 0, sizeof(p));
	if ((rc = prt_parse(req, j, &p)) == WG_OK &&
	    (rc = http_db(req, &c)) == WG_OK &&
	    (rc = prt_check(req, c, text, &p)) == WG_OK)
		rc = p.resource != NULL ? prt_access(req, resp, c, &p) :
		    prt_renew(req, resp, c, &p);
	prt_req_free(&p);
	return rc;
}

