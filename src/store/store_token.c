/*
 * The token service's nonces, for both backends: recorded by their
 * SHA-256, taken once by a single UPDATE so that the rule holds across
 * every server instance sharing the database; and its pre-provisioning
 * tickets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum token_q {
	Q_NONCE_PUT = STORE_Q_TOKEN_BASE,
	Q_NONCE_TAKE,
	Q_NONCE_STATE,
	Q_NONCE_PURGE,
	Q_TICKET_DROP,
	Q_TICKET_INSERT,
	Q_TOKEN_Q_END
};
_Static_assert(Q_TOKEN_Q_END <= STORE_Q_JOIN_BASE, "renumber the bases");

static const char *const token_sql[Q_TOKEN_Q_END - STORE_Q_TOKEN_BASE] = {
	[Q_NONCE_PUT - STORE_Q_TOKEN_BASE] = "INSERT INTO nonces "
	    "(nonce_sha256, purpose, created_ms, expires_ms) VALUES ($1, $2, "
	    "$3, $4)",
	[Q_NONCE_TAKE - STORE_Q_TOKEN_BASE] = "UPDATE nonces SET used_ms = $3 "
	    "WHERE nonce_sha256 = $1 AND purpose = $2 AND used_ms = 0 AND "
	    "expires_ms > $3 RETURNING nonce_sha256",
	[Q_NONCE_STATE - STORE_Q_TOKEN_BASE] = "SELECT purpose, expires_ms, "
	    "used_ms FROM nonces WHERE nonce_sha256 = $1",
	[Q_NONCE_PURGE - STORE_Q_TOKEN_BASE] = "DELETE FROM nonces WHERE "
	    "nonce_sha256 IN (SELECT nonce_sha256 FROM nonces WHERE "
	    "expires_ms < $1 LIMIT $2)",
	[Q_TICKET_DROP - STORE_Q_TOKEN_BASE] = "DELETE FROM pp_tickets WHERE "
	    "device_id = $1 AND used_ms = 0",
	/* bound to the device key of the join: none, no ticket */
	[Q_TICKET_INSERT - STORE_Q_TOKEN_BASE] = "INSERT INTO pp_tickets "
	    "(ticket_sha256, tenant_id, device_id, dk_id, reset_count, "
	    "restart_count, created_ms, expires_ms, aik_name) SELECT $1, $2, "
	    "$3, dd.device_key_id, $5, $6, $7, $8, $9 FROM directory_devices "
	    "dd WHERE "
	    "dd.tenant_id = $2 AND dd.id = $4 AND dd.enabled = 1 AND "
	    "dd.device_key_id IS NOT NULL RETURNING dk_id",
};

static const char *
sql_of(enum token_q id)
{
	return token_sql[id - STORE_Q_TOKEN_BASE];
}

enum wg_err
store_nonce_put(struct store_conn *c, const char *sha256_hex,
    const char *purpose, int64_t expires_ms)
{
	struct store_param p[] = {P_TEXT(sha256_hex), P_TEXT(purpose),
	    P_INT(wg_now_ms()), P_INT(expires_ms)};

	return store_conn_run(c, Q_NONCE_PUT, sql_of(Q_NONCE_PUT), p,
	    ARRAY_LEN(p), NULL);
}

/* Why a nonce could not be taken (read after the UPDATE found none). */
static enum wg_err
nonce_why(struct store_conn *c, const char *sha256_hex, const char *purpose,
    int64_t now, const char **why)
{
	struct store_param p[] = {P_TEXT(sha256_hex)};
	struct store_res res = {0};
	enum wg_err rc;

	*why = "unknown";
	rc = store_conn_run(c, Q_NONCE_STATE, sql_of(Q_NONCE_STATE), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows == 1) {
		const char *got = store_res_text(&res, 0, 0);

		if (got == NULL || strcmp(got, purpose) != 0)
			*why = "issued for another purpose";
		else if (store_res_int(&res, 0, 2) != 0)
			*why = "already used";
		else if (store_res_int(&res, 0, 1) <= now)
			*why = "expired";
	}
	store_res_free(&res);
	return rc == WG_OK ? WG_E_NOT_FOUND : rc;
}

enum wg_err
store_nonce_take(struct store_conn *c, const char *sha256_hex,
    const char *purpose, const char **why)
{
	int64_t now = wg_now_ms();
	struct store_param p[] = {P_TEXT(sha256_hex), P_TEXT(purpose),
	    P_INT(now)};
	struct store_res res = {0};
	enum wg_err rc;
	size_t n;

	*why = NULL;
	rc = store_conn_run(c, Q_NONCE_TAKE, sql_of(Q_NONCE_TAKE), p,
	    ARRAY_LEN(p), &res);
	n = res.nrows;
	store_res_free(&res);
	if (rc != WG_OK || n == 1)
		return rc;
	return nonce_why(c, sha256_hex, purpose, now, why);
}

enum wg_err
store_nonce_check(struct store_conn *c, const char *sha256_hex,
    const char *purpose, const char **why)
{
	struct store_param p[] = {P_TEXT(sha256_hex)};
	struct store_res res = {0};
	int64_t now = wg_now_ms();
	const char *got;
	enum wg_err rc;

	*why = NULL;
	rc = store_conn_run(c, Q_NONCE_STATE, sql_of(Q_NONCE_STATE), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows == 1 && (got = store_res_text(&res, 0,
	    0)) != NULL && strcmp(got, purpose) == 0 &&
	    store_res_int(&res, 0, 2) == 0 && store_res_int(&res, 0, 1) > now) {
		store_res_free(&res);
		return WG_OK;
	}
	store_res_free(&res);
	return rc != WG_OK ? rc : nonce_why(c, sha256_hex, purpose, now, why);
}

enum wg_err
store_nonce_purge(struct store_conn *c, int64_t before, size_t limit)
{
	struct store_param p[] = {P_INT(before), P_INT((int64_t)limit)};

	return store_conn_run(c, Q_NONCE_PURGE, sql_of(Q_NONCE_PURGE), p,
	    ARRAY_LEN(p), NULL);
}

enum wg_err
store_ticket_put(struct store_conn *c, struct wg_ticket *t,
    const char *directory_device_id)
{
	struct store_param d[] = {P_TEXT(t->device_id)};
	struct store_param p[] = {P_TEXT(t->ticket_sha256),
	    P_TEXT(t->tenant_id), P_TEXT(t->device_id),
	    P_TEXT(directory_device_id), P_INT(t->reset_count),
	    P_INT(t->restart_count), P_INT(t->created_ms),
	    P_INT(t->expires_ms), P_TEXT(t->aik_name)};
	struct store_res res = {0};
	enum wg_err rc;

	if ((rc = store_conn_run(c, Q_TICKET_DROP, sql_of(Q_TICKET_DROP), d,
	    ARRAY_LEN(d), NULL)) != WG_OK)
		return rc;
	rc = store_conn_run(c, Q_TICKET_INSERT, sql_of(Q_TICKET_INSERT), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK && (res.nrows != 1 || store_res_copy(&res, 0, 0,
	    t->dk_id, sizeof(t->dk_id)) != 0))
		rc = WG_E_NOT_FOUND;
	store_res_free(&res);
	return rc;
}
