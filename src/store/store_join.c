/*
 * The join (step 3 of the flow), for both backends: the device a device
 * token names, and what a join writes (the directory object enabled and
 * updated, the device certificate recorded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum join_q {
	Q_DEVICE_BY_ZTD = STORE_Q_JOIN_BASE,
	Q_DIR_JOIN,
	Q_DEVICE_CERT_INSERT,
	Q_DEVICE_CERT_COUNT,
	Q_JOIN_Q_END
};
_Static_assert(Q_JOIN_Q_END <= STORE_Q_MDM_BASE, "renumber the bases");

static const char *const join_sql[Q_JOIN_Q_END - STORE_Q_JOIN_BASE] = {
	[Q_DEVICE_BY_ZTD - STORE_Q_JOIN_BASE] = "SELECT " DEVICE_COLS " FROM "
	    "device_identities d LEFT JOIN directory_devices dd ON dd.id = "
	    "d.directory_device_id WHERE d.tenant_id = $1 AND d.ztd_id = $2",
	[Q_DIR_JOIN - STORE_Q_JOIN_BASE] = "UPDATE directory_devices SET "
	    "enabled = 1, display_name = $3, os_version = $4, trust_type = "
	    "$5, device_key_id = $6, transport_key_id = $7, join_ms = $8, "
	    "dk_public = $9, tk_public = $10 WHERE tenant_id = $1 AND id = $2 "
	    "RETURNING id",
	[Q_DEVICE_CERT_INSERT - STORE_Q_JOIN_BASE] = "INSERT INTO "
	    "device_certificates (cert_serial, tenant_id, device_id, "
	    "directory_device_id, dk_name, thumbprint, certificate, "
	    "created_ms, not_after_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "$9)",
	[Q_DEVICE_CERT_COUNT - STORE_Q_JOIN_BASE] = "SELECT COUNT(*) FROM "
	    "device_certificates WHERE device_id = $1",
};

static const char *
sql_of(enum join_q id)
{
	return join_sql[id - STORE_Q_JOIN_BASE];
}

enum wg_err
store_device_by_ztd(struct store_conn *c, const char *tenant_id,
    const char *ztd_id, struct wg_device *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(ztd_id)};

	return store_q_one(c, Q_DEVICE_BY_ZTD, sql_of(Q_DEVICE_BY_ZTD), p,
	    ARRAY_LEN(p), store_device_row, out);
}

enum wg_err
store_join_record(struct store_conn *c, const struct wg_join *j)
{
	struct store_param d[] = {P_TEXT(j->tenant_id),
	    P_TEXT(j->directory_device_id), P_TEXT(j->display_name),
	    P_TEXT(j->os_version), P_TEXT(j->trust_type),
	    P_TEXT(j->device_key_id), P_TEXT(j->transport_key_id),
	    P_INT(j->join_ms), P_TEXT(j->dk_public), P_TEXT(j->tk_public)};
	struct store_res res = {0};
	enum wg_err rc;

	rc = store_conn_run(c, Q_DIR_JOIN, sql_of(Q_DIR_JOIN), d,
	    ARRAY_LEN(d), &res);
	if (rc == WG_OK && res.nrows == 0)
		rc = WG_E_NOT_FOUND;
	store_res_free(&res);
	if (rc != WG_OK)
		return rc;
	return store_device_cert_add(c, j);
}

enum wg_err
store_device_cert_add(struct store_conn *c, const struct wg_join *j)
{
	struct store_param k[] = {P_TEXT(j->cert_serial), P_TEXT(j->tenant_id),
	    P_TEXT(j->device_id), P_TEXT(j->directory_device_id),
	    P_TEXT(j->dk_name), P_TEXT(j->thumbprint), P_TEXT(j->certificate),
	    P_INT(j->join_ms), P_INT(j->not_after_ms)};

	return store_conn_run(c, Q_DEVICE_CERT_INSERT,
	    sql_of(Q_DEVICE_CERT_INSERT), k, ARRAY_LEN(k), NULL);
}

enum wg_err
store_device_cert_count(struct store_conn *c, const char *device_id,
    int64_t *n)
{
	struct store_param p[] = {P_TEXT(device_id)};
	struct store_res res = {0};
	enum wg_err rc;

	*n = 0;
	rc = store_conn_run(c, Q_DEVICE_CERT_COUNT,
	    sql_of(Q_DEVICE_CERT_COUNT), p, ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows == 1)
		*n = store_res_int(&res, 0, 0);
	store_res_free(&res);
	return rc;
}
