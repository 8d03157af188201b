/*
 * Idempotency keys (docs/architecture.md, "Idempotent device requests").
 *
 * The scope of a key is the SHA-256 of the route, the device (tenant and
 * ZTDID from its verified device token) and the key: a device that sends
 * another device's key gets a scope of its own, never the other's answer.
 * The claim, the handler's writes and the stored answer are one
 * transaction: the claim is the scope's primary key, so a concurrent
 * request with the same key waits (PostgreSQL) or cannot start (SQLite's
 * write lock) until the first commits, then finds its answer; if the
 * first fails, nothing of it stays and the second does the work.
 *
 * Stored answers are sealed (sealbox.h) with the scope as theirs: the
 * reseal's answer holds a ticket the database keeps only hashed
 * otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/idem.h"
#include "server/sealbox.h"
#include "server/server.h"

#define SCOPE_LEN SEALBOX_SCOPE_LEN

/* 1 if k is 1 to IDEM_KEY_MAX printable ASCII characters. */
static int
key_valid(const char *k)
{
	size_t n;

	for (n = 0; k[n] != '\0'; n++)
		if (n >= IDEM_KEY_MAX || k[n] < 0x20 || k[n] > 0x7e)
			return 0;
	return n > 0;
}

/*
 * SHA-256 (hex) of route, the caller (two parts: tenant and ZTDID of a
 * device token, or what idem_run_for() was given) and key, each ended by
 * a NUL.
 */
static void
scope_of(const char *route, const char *who1, const char *who2,
    const char *key, char out[SCOPE_LEN + 1])
{
	const char *part[] = {"whiteglove idempotency 1", route, who1, who2,
	    key};
	char buf[512];
	unsigned char md[32];
	size_t i, n = 0, len;

	/* each part is capped: the key, ids and a route template */
	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		len = strlen(part[i]) + 1;
		if (len > sizeof(buf) - n)
			abort();
		memcpy(buf + n, part[i], len);
		n += len;
	}
	wg_sha256(buf, n, md);
	wg_hex(md, sizeof(md), out);
}

/* The stored answer of scope into resp. */
static enum wg_err
replay(struct http_req *req, struct store_conn *c, const char *scope,
    struct http_resp *resp)
{
	struct wg_idem a;
	char *body = NULL;
	size_t n;
	enum wg_err rc;

	rc = store_idem_get(c, scope, wg_now_ms() - WG_IDEM_LIFE_MS, &a);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, WG_E_CONFLICT, "a request with this "
		    "Idempotency-Key is still being answered; retry");
	if (rc != WG_OK)
		return rc;
	if (strcmp(a.content_type, "application/json") != 0) {
		wg_idem_free(&a);
		return http_fail(req, WG_E_INTERNAL, "a stored answer of an "
		    "unexpected type");
	}
	rc = sealbox_open(req, scope, a.body, &body, &n);
	wg_idem_free(&a);
	if (rc != WG_OK)
		return http_fail(req, rc, "the stored answer of this "
		    "Idempotency-Key cannot be opened");
	resp->status = a.status;
	resp->text = body;
	resp->text_len = n;
	resp->content_type = "application/json";
	resp->replayed = 1;
	return WG_OK;
}

/*
 * Turns the handler's JSON answer into the text sent (so the replay is
 * the same bytes) and stores it sealed under scope.
 */
static enum wg_err
answer_store(struct http_req *req, struct store_conn *c, const char *scope,
    struct http_resp *resp)
{
	char *sealed = NULL;
	size_t n;
	enum wg_err rc;

	if (resp->json == NULL || resp->text != NULL || resp->file_set)
		return http_fail(req, WG_E_INTERNAL, "an idempotent route "
		    "answered without JSON");
	resp->text = json_dumps(resp->json, JSON_COMPACT);
	json_decref(resp->json);
	resp->json = NULL;
	if (resp->text == NULL)
		return WG_E_INTERNAL;
	n = strlen(resp->text);
	resp->text_len = n;
	resp->content_type = "application/json";
	if (n > WG_IDEM_BODY_MAX)
		return http_fail(req, WG_E_INTERNAL, "an idempotent answer of "
		    "%zu bytes is too large to keep", n);
	if ((rc = sealbox_seal(req, scope, resp->text, n, &sealed)) == WG_OK)
		rc = store_idem_put(c, scope, resp->status ? resp->status : 200,
		    "application/json", sealed);
	free(sealed);
	return rc;
}

/* Wipes and frees what resp holds (it may hold a ticket). */
static void
resp_clear(struct http_resp *resp)
{
	if (resp->text != NULL)
		OPENSSL_cleanse(resp->text, strlen(resp->text));
	free(resp->text);
	resp->text = NULL;
	json_decref(resp->json);
	resp->json = NULL;
}

/*
 * Ends the transaction of a request that failed as the request would end
 * without a key: what the handler committed itself (like the MDM
 * refusal's audit event) stays, what it rolled back does not (then the
 * transaction is aborted and the release fails); the claim never stays.
 */
static void
fail_end(struct store_conn *c, const char *scope)
{
	if (store_idem_release(c, scope) != WG_OK || store_commit(c) != WG_OK)
		store_rollback(c);
}

/* idem.h */
enum wg_err
idem_run_for(struct http_req *req, struct http_resp *resp, const char *route,
    const char *who1, const char *who2, idem_work work, void *arg)
{
	const char *key = http_header(req, "Idempotency-Key");
	struct store_conn *c;
	char scope[SCOPE_LEN + 1];
	int64_t now = wg_now_ms();
	enum wg_err rc;

	if (key == NULL)
		return work(req, resp, arg);
	if (!key_valid(key))
		return http_fail(req, WG_E_IDEMPOTENCY_KEY, "Idempotency-Key "
		    "must be 1 to %d printable ASCII characters", IDEM_KEY_MAX);
	if ((rc = sealbox_ready(req)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK)
		return rc;
	scope_of(route, who1, who2, key, scope);
	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	rc = store_idem_claim(c, scope, route, now, now - WG_IDEM_LIFE_MS);
	if (rc == WG_E_CONFLICT) {
		rc = replay(req, c, scope, resp);
		store_rollback(c);
		return rc;
	}
	if (rc != WG_OK) {
		store_rollback(c);
		return rc;
	}
	if ((rc = work(req, resp, arg)) != WG_OK) {
		fail_end(c, scope);
		resp_clear(resp);
		return rc;
	}
	/* the work is kept only with its answer */
	if ((rc = answer_store(req, c, scope, resp)) != WG_OK ||
	    (rc = store_commit(c)) != WG_OK) {
		store_rollback(c);
		resp_clear(resp);
	}
	return rc;
}

/* A route's handler as idem_run_for()'s work. */
struct handler_box {
	http_handler handler;
};

static enum wg_err
run_handler(struct http_req *req, struct http_resp *resp, void *arg)
{
	return ((const struct handler_box *)arg)->handler(req, resp);
}

enum wg_err
idem_run(struct http_req *req, struct http_resp *resp, const char *route,
    const char *audience, http_handler handler)
{
	const char *key = http_header(req, "Idempotency-Key");
	struct handler_box box = { handler };
	struct device_claims tok;
	enum wg_err rc;

	if (key == NULL)
		return handler(req, resp);
	/* a malformed key is refused as such, before the token */
	if (!key_valid(key))
		return http_fail(req, WG_E_IDEMPOTENCY_KEY, "Idempotency-Key "
		    "must be 1 to %d printable ASCII characters", IDEM_KEY_MAX);
	if ((rc = token_device_check(req, audience, &tok)) != WG_OK)
		return rc;
	return idem_run_for(req, resp, route, tok.tenant_id, tok.ztd_id,
	    run_handler, &box);
}
