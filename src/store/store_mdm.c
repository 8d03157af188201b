/*
 * MDM enrollments (step 4 of the flow), for both backends: one per
 * device, a second one only when an admin allowed it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum mdm_q {
	Q_MDM_UPSERT = STORE_Q_MDM_BASE,
	Q_MDM_MARK,
	Q_MDM_GET,
	Q_MDM_DELETE,
	Q_MDM_ALLOW,
	Q_MDM_Q_END
};
_Static_assert(Q_MDM_Q_END <= STORE_STMT_MAX, "raise STORE_STMT_MAX");

#define MDM_COLS \
	"device_id, tenant_id, enrollment_id, cert_serial, thumbprint, " \
	"certificate, key_name, created_ms, not_after_ms"

static const char *const mdm_sql[Q_MDM_Q_END - STORE_Q_MDM_BASE] = {
	/* a second enrollment replaces the first only if allowed */
	[Q_MDM_UPSERT - STORE_Q_MDM_BASE] = "INSERT INTO mdm_enrollments ("
	    MDM_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
	    "ON CONFLICT (device_id) DO UPDATE SET enrollment_id = "
	    "excluded.enrollment_id, cert_serial = excluded.cert_serial, "
	    "thumbprint = excluded.thumbprint, certificate = "
	    "excluded.certificate, key_name = excluded.key_name, created_ms = "
	    "excluded.created_ms, not_after_ms = excluded.not_after_ms WHERE "
	    "(SELECT allow_next_enrollment FROM device_identities WHERE id = "
	    "excluded.device_id) = 1 RETURNING device_id",
	[Q_MDM_MARK - STORE_Q_MDM_BASE] = "UPDATE device_identities SET "
	    "allow_next_enrollment = 0, enrollment_state = 'enrolled' WHERE "
	    "id = $1",
	[Q_MDM_GET - STORE_Q_MDM_BASE] = "SELECT " MDM_COLS " FROM "
	    "mdm_enrollments WHERE tenant_id = $1 AND device_id = $2",
	[Q_MDM_DELETE - STORE_Q_MDM_BASE] = "DELETE FROM mdm_enrollments WHERE "
	    "tenant_id = $1 AND device_id = $2 RETURNING device_id",
	[Q_MDM_ALLOW - STORE_Q_MDM_BASE] = "UPDATE device_identities SET "
	    "allow_next_enrollment = 1 WHERE tenant_id = $1 AND id = $2 "
	    "RETURNING id",
};

static const char *
sql_of(enum mdm_q id)
{
	return mdm_sql[id - STORE_Q_MDM_BASE];
}


enum wg_err
store_mdm_enroll(struct store_conn *c, const struct wg_mdm_enrollment *e)
{
	struct store_param p[] = {P_TEXT(e->device_id), P_TEXT(e->tenant_id),
	    P_TEXT(e->enrollment_id), P_TEXT(e->cert_serial),
	    P_TEXT(e->thumbprint), P_TEXT(e->certificate),
	    P_TEXT(e->key_name), P_INT(e->created_ms), P_INT(e->not_after_ms)};
	struct store_param m[] = {P_TEXT(e->device_id)};
	enum wg_err rc;

	rc = store_q_changed(c, Q_MDM_UPSERT, sql_of(Q_MDM_UPSERT), p,
	    ARRAY_LEN(p));
	if (rc == WG_E_NOT_FOUND)
		return WG_E_CONFLICT;
	if (rc != WG_OK)
		return rc;
	return store_conn_run(c, Q_MDM_MARK, sql_of(Q_MDM_MARK), m,
	    ARRAY_LEN(m), NULL);
}

static int
mdm_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_mdm_enrollment *e = out;

	memset(e, 0, sizeof(*e));
	e->created_ms = store_res_int(res, r, 7);
	e->not_after_ms = store_res_int(res, r, 8);
	return store_res_copy(res, r, 0, e->device_id, sizeof(e->device_id)) ||
	    store_res_copy(res, r, 1, e->tenant_id, sizeof(e->tenant_id)) ||
	    store_res_copy(res, r, 2, e->enrollment_id,
	    sizeof(e->enrollment_id)) ||
	    store_res_copy(res, r, 3, e->cert_serial, sizeof(e->cert_serial)) ||
	    store_res_copy(res, r, 4, e->thumbprint, sizeof(e->thumbprint)) ||
	    store_res_copy(res, r, 5, e->certificate,
	    sizeof(e->certificate)) ||
	    store_res_copy(res, r, 6, e->key_name, sizeof(e->key_name)) ?
	    -1 : 0;
}

enum wg_err
store_mdm_get(struct store_conn *c, const char *tenant_id,
    const char *device_id, struct wg_mdm_enrollment *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(device_id)};

	return store_q_one(c, Q_MDM_GET, sql_of(Q_MDM_GET), p, ARRAY_LEN(p),
	    mdm_row, out);
}

enum wg_err
store_mdm_delete(struct store_conn *c, const char *tenant_id,
    const char *device_id)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(device_id)};

	return store_q_changed(c, Q_MDM_DELETE, sql_of(Q_MDM_DELETE), p,
	    ARRAY_LEN(p));
}

enum wg_err
store_mdm_allow_next(struct store_conn *c, const char *tenant_id,
    const char *device_id)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(device_id)};

	return store_q_changed(c, Q_MDM_ALLOW, sql_of(Q_MDM_ALLOW), p,
	    ARRAY_LEN(p));
}
