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
 * Stored answers are sealed with AES-256-GCM under a key of the server's
 * (STATE/idempotency.key, 0600, made at first use): the reseal's answer
 * holds a ticket the database keeps only hashed otherwise.  The sealed
 * text starts with the scope, so an answer copied to another row does
 * not open as that row's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/aesgcm.h"
#include "server/idem.h"
#include "server/server.h"

#define IDEM_KEY_FILE "idempotency.key"
#define SCOPE_LEN 64 /* hex SHA-256 */

/* The sealing key, read or made once per process. */
static pthread_mutex_t seal_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char seal_key[32];
static int seal_loaded;

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

/* Makes path (0600) with a new key unless it exists; never half-written. */
static enum wg_err
seal_key_make(const char *path)
{
	unsigned char raw[32];
	char hex[65], *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	enum wg_err rc = WG_E_IO;
	int fd;

	if (wg_random(raw, sizeof(raw)) != WG_OK) {
		free(tmp);
		return WG_E_CRYPTO;
	}
	wg_hex(raw, sizeof(raw), hex);
	hex[64] = '\n';
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 && write(fd, hex, 65) == 65 && fsync(fd) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		/* link, not rename: a key another server made first stays */
		if (link(tmp, path) == 0 || errno == EEXIST)
			rc = WG_OK;
	}
	if (rc != WG_OK)
		wg_error("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

/* Reads the key of path into seal_key. */
static enum wg_err
seal_key_read(const char *path)
{
	char hex[66] = "";
	ssize_t n = -1;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, hex, sizeof(hex) - 1);
		close(fd);
	}
	if (n == 65 && hex[64] == '\n')
		hex[64] = '\0';
	if (n < 64 || n > 65 || wg_hex_decode(hex, seal_key,
	    sizeof(seal_key)) != 0) {
		OPENSSL_cleanse(hex, sizeof(hex));
		wg_error("%s is not 64 hex digits (the key that seals stored "
		    "idempotent answers)", path);
		return WG_E_IO;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	return WG_OK;
}

/* The sealing key: STATE/idempotency.key, made on first use. */
static enum wg_err
seal_key_get(struct http_req *req)
{
	char *path;
	enum wg_err rc = WG_OK;

	pthread_mutex_lock(&seal_mu);
	if (!seal_loaded) {
		path = xasprintf("%s/" IDEM_KEY_FILE,
		    req->srv->cfg->state_dir);
		if (access(path, F_OK) != 0)
			rc = seal_key_make(path);
		if (rc == WG_OK)
			rc = seal_key_read(path);
		seal_loaded = rc == WG_OK;
		free(path);
	}
	pthread_mutex_unlock(&seal_mu);
	if (rc != WG_OK)
		return http_fail(req, rc, "the server cannot read or make its "
		    "key for idempotent answers (STATE/" IDEM_KEY_FILE ")");
	return WG_OK;
}

/* SHA-256 (hex) of route, the device and key, each ended by a NUL. */
static void
scope_of(const char *route, const struct device_claims *tok, const char *key,
    char out[SCOPE_LEN + 1])
{
	const char *part[] = {"whiteglove idempotency 1", route,
	    tok->tenant_id, tok->ztd_id, key};
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

/* Seals scope || body (n bytes) as base64; the caller frees *out. */
static enum wg_err
seal(const char *scope, const char *body, size_t n, char **out)
{
	unsigned char *pt = xmalloc(SCOPE_LEN + n + 1), *ct = NULL;
	size_t len;
	enum wg_err rc;

	*out = NULL;
	memcpy(pt, scope, SCOPE_LEN);
	memcpy(pt + SCOPE_LEN, body, n);
	rc = aesgcm_seal(seal_key, pt, SCOPE_LEN + n, &ct, &len);
	OPENSSL_cleanse(pt, SCOPE_LEN + n);
	free(pt);
	if (rc == WG_OK)
		*out = wg_b64(ct, len);
	free(ct);
	return rc;
}

/* Opens what seal() made for scope: *body (n bytes) the caller frees. */
static enum wg_err
unseal(const char *scope, const char *text, char **body, size_t *n)
{
	unsigned char *ct = NULL, *pt = NULL;
	size_t ct_len, len = 0;
	enum wg_err rc = WG_E_CRYPTO;

	*body = NULL;
	*n = 0;
	if (wg_b64_decode_text(text, &ct, &ct_len) == 0 &&
	    aesgcm_open(seal_key, ct, ct_len, &pt, &len) == WG_OK &&
	    len >= SCOPE_LEN && memcmp(pt, scope, SCOPE_LEN) == 0) {
		*n = len - SCOPE_LEN;
		*body = xmalloc(*n + 1);
		memcpy(*body, pt + SCOPE_LEN, *n);
		(*body)[*n] = '\0';
		rc = WG_OK;
	} else {
		wg_error("idem: a stored answer does not open under "
		    "STATE/" IDEM_KEY_FILE " (another server's key?)");
	}
	if (pt != NULL)
		OPENSSL_cleanse(pt, len);
	free(pt);
	free(ct);
	return rc;
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
	rc = unseal(scope, a.body, &body, &n);
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
	if ((rc = seal(scope, resp->text, n, &sealed)) == WG_OK)
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

enum wg_err
idem_run(struct http_req *req, struct http_resp *resp, const char *route,
    const char *audience, http_handler handler)
{
	const char *key = http_header(req, "Idempotency-Key");
	struct device_claims tok;
	struct store_conn *c;
	char scope[SCOPE_LEN + 1];
	int64_t now = wg_now_ms();
	enum wg_err rc;

	if (key == NULL)
		return handler(req, resp);
	if (!key_valid(key))
		return http_fail(req, WG_E_IDEMPOTENCY_KEY, "Idempotency-Key "
		    "must be 1 to %d printable ASCII characters", IDEM_KEY_MAX);
	if ((rc = token_device_check(req, audience, &tok)) != WG_OK ||
	    (rc = seal_key_get(req)) != WG_OK ||
	    (rc = http_db(req, &c)) != WG_OK)
		return rc;
	scope_of(route, &tok, key, scope);
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
	if ((rc = handler(req, resp)) != WG_OK) {
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
