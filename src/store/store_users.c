/*
 * Users of a tenant (step 7 of the flow, the token service) and the
 * failed sign-ins counted per user and per device, for both backends.
 * Each count is one statement (UPDATE … RETURNING, INSERT … ON CONFLICT
 * … RETURNING) so that sign-ins failing at once on several instances all
 * count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum users_q {
	Q_USER_INSERT = STORE_Q_USERS_BASE,
	Q_USER_GET,
	Q_USER_BY_UPN,
	Q_USER_LIST,
	Q_USER_DISABLED,
	Q_USER_PASSWORD,
	Q_USER_FAILED,
	Q_USER_OK,
	Q_DEVICE_FAILED,
	Q_DEVICE_FAILURES,
	Q_USER_Q_END
};
_Static_assert(Q_USER_Q_END <= STORE_Q_SIGNIN_BASE, "renumber the bases");

#define USER_COLS \
	"id, tenant_id, upn, display_name, password_hash, disabled, " \
	"failed_count, locked_until_ms, last_sign_in_ms, created_ms, " \
	"updated_ms"

static const char *const users_sql[Q_USER_Q_END - STORE_Q_USERS_BASE] = {
	[Q_USER_INSERT - STORE_Q_USERS_BASE] = "INSERT INTO users (id, "
	    "tenant_id, upn, display_name, password_hash, disabled, "
	    "failed_count, locked_until_ms, last_sign_in_ms, created_ms, "
	    "updated_ms) VALUES ($1, $2, $3, $4, $5, 0, 0, 0, 0, $6, $6)",
	[Q_USER_GET - STORE_Q_USERS_BASE] = "SELECT " USER_COLS " FROM users "
	    "WHERE tenant_id = $1 AND id = $2",
	[Q_USER_BY_UPN - STORE_Q_USERS_BASE] = "SELECT " USER_COLS " FROM "
	    "users WHERE tenant_id = $1 AND upn = $2",
	[Q_USER_LIST - STORE_Q_USERS_BASE] = "SELECT " USER_COLS " FROM users "
	    "WHERE tenant_id = $1 AND upn > $2 ORDER BY upn LIMIT $3",
	[Q_USER_DISABLED - STORE_Q_USERS_BASE] = "UPDATE users SET disabled "
	    "= $3, updated_ms = $4 WHERE tenant_id = $1 AND id = $2 RETURNING "
	    USER_COLS,
	[Q_USER_PASSWORD - STORE_Q_USERS_BASE] = "UPDATE users SET "
	    "password_hash = $3, failed_count = 0, locked_until_ms = 0, "
	    "updated_ms = $4 WHERE tenant_id = $1 AND id = $2 RETURNING "
	    USER_COLS,
	/* the right-hand sides read the row as it was (both backends) */
	[Q_USER_FAILED - STORE_Q_USERS_BASE] = "UPDATE users SET "
	    "failed_count = failed_count + 1, locked_until_ms = CASE WHEN "
	    "(failed_count + 1) % CAST($4 AS BIGINT) = 0 THEN CAST($3 AS "
	    "BIGINT) + CAST($5 AS BIGINT) ELSE locked_until_ms END WHERE "
	    "tenant_id = $1 AND id = $2 RETURNING " USER_COLS,
	[Q_USER_OK - STORE_Q_USERS_BASE] = "UPDATE users SET failed_count = "
	    "0, locked_until_ms = 0, last_sign_in_ms = $3 WHERE tenant_id = $1 "
	    "AND id = $2 RETURNING " USER_COLS,
	[Q_DEVICE_FAILED - STORE_Q_USERS_BASE] = "INSERT INTO signin_devices "
	    "(tenant_id, device_id, failures, window_start_ms) VALUES ($1, $2, "
	    "1, $3) ON CONFLICT (tenant_id, device_id) DO UPDATE SET failures "
	    "= CASE WHEN signin_devices.window_start_ms <= CAST($4 AS BIGINT) "
	    "THEN 1 ELSE signin_devices.failures + 1 END, window_start_ms = "
	    "CASE WHEN signin_devices.window_start_ms <= CAST($4 AS BIGINT) "
	    "THEN excluded.window_start_ms ELSE signin_devices.window_start_ms "
	    "END RETURNING failures",
	[Q_DEVICE_FAILURES - STORE_Q_USERS_BASE] = "SELECT failures FROM "
	    "signin_devices WHERE tenant_id = $1 AND device_id = $2 AND "
	    "window_start_ms > $3",
};

static const char *
sql_of(enum users_q id)
{
	return users_sql[id - STORE_Q_USERS_BASE];
}

static int
user_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_user *u = out;

	memset(u, 0, sizeof(*u));
	u->disabled = store_res_int(res, r, 5) != 0;
	u->failed_count = store_res_int(res, r, 6);
	u->locked_until_ms = store_res_int(res, r, 7);
	u->last_sign_in_ms = store_res_int(res, r, 8);
	u->created_ms = store_res_int(res, r, 9);
	u->updated_ms = store_res_int(res, r, 10);
	return store_res_copy(res, r, 0, u->id, sizeof(u->id)) ||
	    store_res_copy(res, r, 1, u->tenant_id, sizeof(u->tenant_id)) ||
	    store_res_copy(res, r, 2, u->upn, sizeof(u->upn)) ||
	    store_res_copy(res, r, 3, u->display_name,
	    sizeof(u->display_name)) ||
	    store_res_copy(res, r, 4, u->password_hash,
	    sizeof(u->password_hash)) ? -1 : 0;
}

/*
 * upn lower-cased (ASCII: the UPNs the admin API accepts) into out, here
 * and not in SQL, where SQLite's lower() and PostgreSQL's (by locale)
 * could disagree.
 */
static void
upn_lower(const char *upn, char out[WG_UPN_MAX + 1])
{
	size_t i;

	for (i = 0; upn[i] != '\0' && i < WG_UPN_MAX; i++)
		out[i] = upn[i] >= 'A' && upn[i] <= 'Z' ? (char)(upn[i] -
		    'A' + 'a') : upn[i];
	out[i] = '\0';
}

enum wg_err
store_user_create(struct store_conn *c, struct wg_user *u)
{
	wg_uuid(u->id);
	upn_lower(u->upn, u->upn);
	u->created_ms = u->updated_ms = wg_now_ms();
	u->disabled = 0;
	u->failed_count = u->locked_until_ms = u->last_sign_in_ms = 0;
	struct store_param p[] = {P_TEXT(u->id), P_TEXT(u->tenant_id),
	    P_TEXT(u->upn), P_TEXT(u->display_name), P_TEXT(u->password_hash),
	    P_INT(u->created_ms)};

	return store_conn_run(c, Q_USER_INSERT, sql_of(Q_USER_INSERT), p,
	    ARRAY_LEN(p), NULL);
}

enum wg_err
store_user_get(struct store_conn *c, const char *tenant_id, const char *id,
    struct wg_user *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id)};

	return store_q_one(c, Q_USER_GET, sql_of(Q_USER_GET), p, ARRAY_LEN(p),
	    user_row, out);
}

enum wg_err
store_user_get_by_upn(struct store_conn *c, const char *tenant_id,
    const char *upn, struct wg_user *out)
{
	char lower[WG_UPN_MAX + 1];

	if (strlen(upn) > WG_UPN_MAX)
		return WG_E_NOT_FOUND;
	upn_lower(upn, lower);
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(lower)};

	return store_q_one(c, Q_USER_BY_UPN, sql_of(Q_USER_BY_UPN), p,
	    ARRAY_LEN(p), user_row, out);
}

enum wg_err
store_user_list(struct store_conn *c, const char *tenant_id,
    const char *after, size_t limit, struct wg_user **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(after ? after : ""),
	    P_INT((int64_t)limit)};
	void *list = NULL;
	enum wg_err rc;

	rc = store_q_list(c, Q_USER_LIST, sql_of(Q_USER_LIST), p, ARRAY_LEN(p),
	    user_row, sizeof(**out), NULL, &list, n);
	*out = list;
	return rc;
}

enum wg_err
store_user_set_disabled(struct store_conn *c, const char *tenant_id,
    const char *id, int disabled, struct wg_user *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id),
	    P_INT(disabled != 0), P_INT(wg_now_ms())};

	return store_q_one(c, Q_USER_DISABLED, sql_of(Q_USER_DISABLED), p,
	    ARRAY_LEN(p), user_row, out);
}

enum wg_err
store_user_set_password(struct store_conn *c, const char *tenant_id,
    const char *id, const char *password_hash, struct wg_user *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id),
	    P_TEXT(password_hash), P_INT(wg_now_ms())};

	return store_q_one(c, Q_USER_PASSWORD, sql_of(Q_USER_PASSWORD), p,
	    ARRAY_LEN(p), user_row, out);
}

enum wg_err
store_user_signin_failed(struct store_conn *c, const char *tenant_id,
    const char *id, int64_t now_ms, int64_t lockout_after,
    int64_t lockout_ms, struct wg_user *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id), P_INT(now_ms),
	    P_INT(lockout_after > 0 ? lockout_after : 1), P_INT(lockout_ms)};

	return store_q_one(c, Q_USER_FAILED, sql_of(Q_USER_FAILED), p,
	    ARRAY_LEN(p), user_row, out);
}

enum wg_err
store_user_signin_ok(struct store_conn *c, const char *tenant_id,
    const char *id, int64_t now_ms, struct wg_user *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id),
	    P_INT(now_ms)};

	return store_q_one(c, Q_USER_OK, sql_of(Q_USER_OK), p, ARRAY_LEN(p),
	    user_row, out);
}

/* Runs q, whose one row (if any) is a count, into *count (0: no row). */
static enum wg_err
device_count(struct store_conn *c, enum users_q q,
    const struct store_param *p, size_t np, int64_t *count)
{
	struct store_res res = {0};
	enum wg_err rc;

	*count = 0;
	rc = store_conn_run(c, q, sql_of(q), p, np, &res);
	if (rc == WG_OK && res.nrows == 1)
		*count = store_res_int(&res, 0, 0);
	store_res_free(&res);
	return rc;
}

enum wg_err
store_signin_device_failed(struct store_conn *c, const char *tenant_id,
    const char *device_id, int64_t now_ms, int64_t window_ms,
    int64_t *failures)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(device_id),
	    P_INT(now_ms), P_INT(now_ms - window_ms)};

	return device_count(c, Q_DEVICE_FAILED, p, ARRAY_LEN(p), failures);
}

enum wg_err
store_signin_device_failures(struct store_conn *c, const char *tenant_id,
    const char *device_id, int64_t now_ms, int64_t window_ms,
    int64_t *failures)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(device_id),
	    P_INT(now_ms - window_ms)};

	return device_count(c, Q_DEVICE_FAILURES, p, ARRAY_LEN(p), failures);
}
