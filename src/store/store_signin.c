/*
 * The user's sign-in (step 7 of the flow), for both backends: the device
 * a device key names, its pre-provisioning ticket read and used up, the
 * registered owner, and the primary refresh tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum signin_q {
	Q_SIGNIN_DEVICE = STORE_Q_SIGNIN_BASE,
	Q_TICKET_GET,
	Q_TICKET_LATEST,
	Q_TICKET_USE,
	Q_OWNER_SET,
	Q_PRT_INSERT,
	Q_PRT_GET,
	Q_PRT_TOUCH,
	Q_PRT_REPLACE,
	Q_PRT_PURGE,
	Q_SIGNIN_DEVICES_PURGE,
	Q_SIGNIN_Q_END
};
_Static_assert(Q_SIGNIN_Q_END <= STORE_STMT_MAX, "raise STORE_STMT_MAX");

#define TICKET_COLS \
	"ticket_sha256, tenant_id, device_id, dk_id, COALESCE(aik_name, ''), " \
	"reset_count, restart_count, created_ms, expires_ms, used_ms"

#define PRT_COLS \
	"prt_sha256, tenant_id, user_id, device_id, directory_device_id, " \
	"session_key, created_ms, expires_ms, replaced_ms"

static const char *const signin_sql[Q_SIGNIN_Q_END - STORE_Q_SIGNIN_BASE] = {
	[Q_SIGNIN_DEVICE - STORE_Q_SIGNIN_BASE] = "SELECT " DEVICE_COLS ", "
	    "COALESCE(dd.dk_public, ''), COALESCE(dd.tk_public, ''), "
	    "COALESCE(dd.transport_key_id, ''), COALESCE(dd.display_name, '') "
	    "FROM directory_devices dd JOIN device_identities d ON "
	    "d.directory_device_id = dd.id WHERE dd.device_key_id = $1",
	[Q_TICKET_GET - STORE_Q_SIGNIN_BASE] = "SELECT " TICKET_COLS " FROM "
	    "pp_tickets WHERE ticket_sha256 = $1",
	[Q_TICKET_LATEST - STORE_Q_SIGNIN_BASE] = "SELECT " TICKET_COLS
	    " FROM pp_tickets WHERE device_id = $1 ORDER BY created_ms DESC "
	    "LIMIT 1",
	[Q_TICKET_USE - STORE_Q_SIGNIN_BASE] = "UPDATE pp_tickets SET used_ms "
	    "= $2 WHERE ticket_sha256 = $1 AND used_ms = 0 RETURNING "
	    "ticket_sha256",
	[Q_OWNER_SET - STORE_Q_SIGNIN_BASE] = "UPDATE directory_devices SET "
	    "registered_owner = $3 WHERE tenant_id = $1 AND id = $2 RETURNING "
	    "id",
	[Q_PRT_INSERT - STORE_Q_SIGNIN_BASE] = "INSERT INTO prts (" PRT_COLS
	    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)",
	[Q_PRT_GET - STORE_Q_SIGNIN_BASE] = "SELECT " PRT_COLS " FROM prts "
	    "WHERE prt_sha256 = $1",
	[Q_PRT_TOUCH - STORE_Q_SIGNIN_BASE] = "UPDATE prts SET expires_ms = $2 "
	    "WHERE prt_sha256 = $1 AND replaced_ms = 0 RETURNING prt_sha256",
	[Q_PRT_REPLACE - STORE_Q_SIGNIN_BASE] = "UPDATE prts SET replaced_ms = "
	    "$2 WHERE prt_sha256 = $1 AND replaced_ms = 0 RETURNING "
	    "prt_sha256",
	/* the purges: a bounded batch each */
	[Q_PRT_PURGE - STORE_Q_SIGNIN_BASE] = "DELETE FROM prts WHERE "
	    "prt_sha256 IN (SELECT prt_sha256 FROM prts WHERE expires_ms < $1 "
	    "OR (replaced_ms > 0 AND replaced_ms < $1) LIMIT $2)",
	[Q_SIGNIN_DEVICES_PURGE - STORE_Q_SIGNIN_BASE] = "DELETE FROM "
	    "signin_devices WHERE (tenant_id, device_id) IN (SELECT tenant_id, "
	    "device_id FROM signin_devices WHERE window_start_ms < $1 LIMIT "
	    "$2)",
};

static const char *
sql_of(enum signin_q id)
{
	return signin_sql[id - STORE_Q_SIGNIN_BASE];
}

/* The sign-in's columns follow DEVICE_COLS. */
#define SIGNIN_COL0 DEVICE_NCOLS

static int
signin_device_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_signin_device *s = out;

	memset(s, 0, sizeof(*s));
	return store_device_row(res, r, &s->dev) ||
	    store_res_copy(res, r, SIGNIN_COL0, s->dk_public,
	    sizeof(s->dk_public)) ||
	    store_res_copy(res, r, SIGNIN_COL0 + 1, s->tk_public,
	    sizeof(s->tk_public)) ||
	    store_res_copy(res, r, SIGNIN_COL0 + 2, s->transport_key_id,
	    sizeof(s->transport_key_id)) ||
	    store_res_copy(res, r, SIGNIN_COL0 + 3, s->display_name,
	    sizeof(s->display_name)) ? -1 : 0;
}

enum wg_err
store_signin_device(struct store_conn *c, const char *dk_id,
    struct wg_signin_device *out)
{
	struct store_param p[] = {P_TEXT(dk_id)};

	return store_q_one(c, Q_SIGNIN_DEVICE, sql_of(Q_SIGNIN_DEVICE), p,
	    ARRAY_LEN(p), signin_device_row, out);
}

static int
ticket_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_ticket *t = out;

	memset(t, 0, sizeof(*t));
	t->reset_count = store_res_int(res, r, 5);
	t->restart_count = store_res_int(res, r, 6);
	t->created_ms = store_res_int(res, r, 7);
	t->expires_ms = store_res_int(res, r, 8);
	t->used_ms = store_res_int(res, r, 9);
	return store_res_copy(res, r, 0, t->ticket_sha256,
	    sizeof(t->ticket_sha256)) ||
	    store_res_copy(res, r, 1, t->tenant_id, sizeof(t->tenant_id)) ||
	    store_res_copy(res, r, 2, t->device_id, sizeof(t->device_id)) ||
	    store_res_copy(res, r, 3, t->dk_id, sizeof(t->dk_id)) ||
	    store_res_copy(res, r, 4, t->aik_name, sizeof(t->aik_name)) ?
	    -1 : 0;
}

enum wg_err
store_ticket_get(struct store_conn *c, const char *ticket_sha256,
    struct wg_ticket *out)
{
	struct store_param p[] = {P_TEXT(ticket_sha256)};

	return store_q_one(c, Q_TICKET_GET, sql_of(Q_TICKET_GET), p,
	    ARRAY_LEN(p), ticket_row, out);
}

enum wg_err
store_ticket_latest(struct store_conn *c, const char *device_id,
    struct wg_ticket *out)
{
	struct store_param p[] = {P_TEXT(device_id)};

	return store_q_one(c, Q_TICKET_LATEST, sql_of(Q_TICKET_LATEST), p,
	    ARRAY_LEN(p), ticket_row, out);
}

/* Runs id, an UPDATE ... RETURNING of one row: WG_E_NOT_FOUND if none. */
static enum wg_err
update_one(struct store_conn *c, enum signin_q id,
    const struct store_param *p, size_t np)
{
	struct store_res res = {0};
	enum wg_err rc;

	rc = store_conn_run(c, id, sql_of(id), p, np, &res);
	if (rc == WG_OK && res.nrows != 1)
		rc = WG_E_NOT_FOUND;
	store_res_free(&res);
	return rc;
}

enum wg_err
store_ticket_use(struct store_conn *c, const char *ticket_sha256,
    int64_t now_ms)
{
	struct store_param p[] = {P_TEXT(ticket_sha256), P_INT(now_ms)};

	return update_one(c, Q_TICKET_USE, p, ARRAY_LEN(p));
}

enum wg_err
store_owner_set(struct store_conn *c, const char *tenant_id,
    const char *directory_device_id, const char *upn)
{
	struct store_param p[] = {P_TEXT(tenant_id),
	    P_TEXT(directory_device_id), P_TEXT(upn)};

	return update_one(c, Q_OWNER_SET, p, ARRAY_LEN(p));
}

enum wg_err
store_prt_put(struct store_conn *c, const struct wg_prt *t)
{
	struct store_param p[] = {P_TEXT(t->prt_sha256), P_TEXT(t->tenant_id),
	    P_TEXT(t->user_id), P_TEXT(t->device_id),
	    P_TEXT(t->directory_device_id), P_TEXT(t->session_key),
	    P_INT(t->created_ms), P_INT(t->expires_ms)};

	return store_conn_run(c, Q_PRT_INSERT, sql_of(Q_PRT_INSERT), p,
	    ARRAY_LEN(p), NULL);
}

static int
prt_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_prt *t = out;

	memset(t, 0, sizeof(*t));
	t->created_ms = store_res_int(res, r, 6);
	t->expires_ms = store_res_int(res, r, 7);
	t->replaced_ms = store_res_int(res, r, 8);
	return store_res_copy(res, r, 0, t->prt_sha256,
	    sizeof(t->prt_sha256)) ||
	    store_res_copy(res, r, 1, t->tenant_id, sizeof(t->tenant_id)) ||
	    store_res_copy(res, r, 2, t->user_id, sizeof(t->user_id)) ||
	    store_res_copy(res, r, 3, t->device_id, sizeof(t->device_id)) ||
	    store_res_copy(res, r, 4, t->directory_device_id,
	    sizeof(t->directory_device_id)) ||
	    store_res_copy(res, r, 5, t->session_key, sizeof(t->session_key)) ?
	    -1 : 0;
}

enum wg_err
store_prt_get(struct store_conn *c, const char *prt_sha256,
    struct wg_prt *out)
{
	struct store_param p[] = {P_TEXT(prt_sha256)};

	return store_q_one(c, Q_PRT_GET, sql_of(Q_PRT_GET), p, ARRAY_LEN(p),
	    prt_row, out);
}

enum wg_err
store_prt_touch(struct store_conn *c, const char *prt_sha256,
    int64_t expires_ms)
{
	struct store_param p[] = {P_TEXT(prt_sha256), P_INT(expires_ms)};

	return update_one(c, Q_PRT_TOUCH, p, ARRAY_LEN(p));
}

enum wg_err
store_prt_replace(struct store_conn *c, const char *prt_sha256,
    int64_t now_ms)
{
	struct store_param p[] = {P_TEXT(prt_sha256), P_INT(now_ms)};

	return update_one(c, Q_PRT_REPLACE, p, ARRAY_LEN(p));
}

enum wg_err
store_signin_purge(struct store_conn *c, int64_t prts_before,
    int64_t windows_before, size_t limit)
{
	struct store_param a[] = {P_INT(prts_before), P_INT((int64_t)limit)};
	struct store_param b[] = {P_INT(windows_before),
	    P_INT((int64_t)limit)};
	enum wg_err rc;

	rc = store_conn_run(c, Q_PRT_PURGE, sql_of(Q_PRT_PURGE), a,
	    ARRAY_LEN(a), NULL);
	if (rc == WG_OK)
		rc = store_conn_run(c, Q_SIGNIN_DEVICES_PURGE,
		    sql_of(Q_SIGNIN_DEVICES_PURGE), b, ARRAY_LEN(b), NULL);
	return rc;
}
