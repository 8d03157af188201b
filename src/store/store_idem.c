/*
 * Idempotency keys, for both backends: the stored answers of requests a
 * device may send again (server/idem.c), each claimed inside the
 * request's own transaction and kept WG_IDEM_LIFE_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum idem_q {
	Q_IDEM_PURGE = STORE_Q_IDEM_BASE,
	Q_IDEM_PURGE_PG,
	Q_IDEM_CLAIM,
	Q_IDEM_GET,
	Q_IDEM_PUT,
	Q_IDEM_RELEASE,
	Q_IDEM_Q_END
};
_Static_assert(Q_IDEM_Q_END <= STORE_STMT_MAX, "raise STORE_STMT_MAX");

/* A claim removes up to 100 of its route's expired rows. */
#define PURGE_SQL(lock) \
	"DELETE FROM idempotency_keys WHERE scope IN (SELECT scope FROM " \
	"idempotency_keys WHERE route = $1 AND created_ms < $2 ORDER BY " \
	"created_ms LIMIT 100" lock ")"

static const char *const idem_sql[Q_IDEM_Q_END - STORE_Q_IDEM_BASE] = {
	[Q_IDEM_PURGE - STORE_Q_IDEM_BASE] = PURGE_SQL(""),
	/*
	 * Rows another purge or claim holds are left for later: two
	 * purges locking the same rows in another order would deadlock.
	 */
	[Q_IDEM_PURGE_PG - STORE_Q_IDEM_BASE] =
	    PURGE_SQL(" FOR UPDATE SKIP LOCKED"),
	/* an expired row is taken over; a live one is not touched */
	[Q_IDEM_CLAIM - STORE_Q_IDEM_BASE] = "INSERT INTO idempotency_keys "
	    "(scope, route, created_ms) VALUES ($1, $2, $3) ON CONFLICT "
	    "(scope) DO UPDATE SET route = excluded.route, created_ms = "
	    "excluded.created_ms, status = 0, content_type = '', body = NULL "
	    "WHERE idempotency_keys.created_ms < $4 RETURNING scope",
	[Q_IDEM_GET - STORE_Q_IDEM_BASE] = "SELECT status, content_type, "
	    "body, created_ms FROM idempotency_keys WHERE scope = $1 AND "
	    "created_ms >= $2 AND status > 0",
	[Q_IDEM_PUT - STORE_Q_IDEM_BASE] = "UPDATE idempotency_keys SET "
	    "status = $2, content_type = $3, body = $4 WHERE scope = $1 "
	    "RETURNING scope",
	[Q_IDEM_RELEASE - STORE_Q_IDEM_BASE] = "DELETE FROM idempotency_keys "
	    "WHERE scope = $1 AND status = 0",
};

static const char *
sql_of(enum idem_q id)
{
	return idem_sql[id - STORE_Q_IDEM_BASE];
}

enum wg_err
store_idem_claim(struct store_conn *c, const char *scope, const char *route,
    int64_t now_ms, int64_t cutoff_ms)
{
	struct store_param purge[] = {P_TEXT(route), P_INT(cutoff_ms)};
	struct store_param p[] = {P_TEXT(scope), P_TEXT(route), P_INT(now_ms),
	    P_INT(cutoff_ms)};
	enum idem_q q = store_writers_serialized(c) ? Q_IDEM_PURGE :
	    Q_IDEM_PURGE_PG;
	enum wg_err rc;

	if ((rc = store_conn_run(c, q, sql_of(q), purge, ARRAY_LEN(purge),
	    NULL)) != WG_OK)
		return rc;
	rc = store_q_changed(c, Q_IDEM_CLAIM, sql_of(Q_IDEM_CLAIM), p,
	    ARRAY_LEN(p));
	return rc == WG_E_NOT_FOUND ? WG_E_CONFLICT : rc;
}

static int
idem_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_idem *a = out;

	memset(a, 0, sizeof(*a));
	a->status = (int)store_res_int(res, r, 0);
	a->created_ms = store_res_int(res, r, 3);
	if (store_res_copy(res, r, 1, a->content_type,
	    sizeof(a->content_type)) != 0)
		return -1;
	a->body = xstrdup(store_res_text(res, r, 2));
	return 0;
}

enum wg_err
store_idem_get(struct store_conn *c, const char *scope, int64_t cutoff_ms,
    struct wg_idem *out)
{
	struct store_param p[] = {P_TEXT(scope), P_INT(cutoff_ms)};
	enum wg_err rc;

	memset(out, 0, sizeof(*out));
	rc = store_q_one(c, Q_IDEM_GET, sql_of(Q_IDEM_GET), p, ARRAY_LEN(p),
	    idem_row, out);
	if (rc != WG_OK)
		wg_idem_free(out);
	return rc;
}

enum wg_err
store_idem_put(struct store_conn *c, const char *scope, int status,
    const char *content_type, const char *body)
{
	struct store_param p[] = {P_TEXT(scope), P_INT(status),
	    P_TEXT(content_type), P_TEXT(body)};

	return store_q_changed(c, Q_IDEM_PUT, sql_of(Q_IDEM_PUT), p,
	    ARRAY_LEN(p));
}

enum wg_err
store_idem_release(struct store_conn *c, const char *scope)
{
	struct store_param p[] = {P_TEXT(scope)};

	return store_conn_run(c, Q_IDEM_RELEASE, sql_of(Q_IDEM_RELEASE), p,
	    ARRAY_LEN(p), NULL);
}

void
wg_idem_free(struct wg_idem *out)
{
	free(out->body);
	out->body = NULL;
}
