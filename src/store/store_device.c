/*
 * Registered devices and their directory objects, for both backends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum device_q {
	Q_DEVICE_LIST = STORE_Q_DEVICE_BASE,
	Q_DEVICE_GET,
	Q_DEVICE_DELETE,
	Q_DIR_DELETE,
	Q_DEVICE_UPDATE,
	Q_DIR_LIST,
	Q_DEVICE_BY_EK,
	Q_DEVICE_CONTACTED,
	Q_DEVICE_Q_END
};
_Static_assert(Q_DEVICE_Q_END <= STORE_Q_ATTEST_BASE, "renumber the bases");

#define DIRLIST_COLS \
	"id, tenant_id, COALESCE(ztd_id, ''), COALESCE(display_name, ''), " \
	"enabled, COALESCE(trust_type, ''), COALESCE(os_version, ''), " \
	"COALESCE(registered_owner, ''), COALESCE(join_ms, 0), created_ms"

static const char *const device_sql[Q_DEVICE_Q_END - STORE_Q_DEVICE_BASE] = {
	/* $2..$4: '' matches any; paging strictly after ($5, $6) */
	[Q_DEVICE_LIST - STORE_Q_DEVICE_BASE] = "SELECT " DEVICE_COLS " FROM "
	    "device_identities d LEFT JOIN directory_devices dd ON dd.id = "
	    "d.directory_device_id WHERE d.tenant_id = $1 AND ($2 = '' OR "
	    "d.serial_number LIKE $2 ESCAPE '!') AND ($3 = '' OR d.group_tag "
	    "= $3) AND ($4 = '' OR d.import_id = $4) AND (d.serial_number > "
	    "$5 OR (d.serial_number = $5 AND d.id > $6)) ORDER BY "
	    "d.serial_number, d.id LIMIT $7",
	[Q_DEVICE_GET - STORE_Q_DEVICE_BASE] = "SELECT " DEVICE_COLS " FROM "
	    "device_identities d LEFT JOIN directory_devices dd ON dd.id = "
	    "d.directory_device_id WHERE d.tenant_id = $1 AND d.id = $2",
	[Q_DEVICE_DELETE - STORE_Q_DEVICE_BASE] = "DELETE FROM "
	    "device_identities WHERE tenant_id = $1 AND id = $2 RETURNING "
	    "COALESCE(directory_device_id, ''), serial_number",
	[Q_DIR_DELETE - STORE_Q_DEVICE_BASE] = "DELETE FROM directory_devices "
	    "WHERE tenant_id = $1 AND id = $2",
	[Q_DEVICE_UPDATE - STORE_Q_DEVICE_BASE] = "UPDATE device_identities "
	    "SET group_tag = CASE WHEN $3 = 1 THEN $4 ELSE group_tag END, "
	    "assigned_upn = CASE WHEN $5 = 1 THEN $6 ELSE assigned_upn END "
	    "WHERE tenant_id = $1 AND id = $2 RETURNING id",
	[Q_DIR_LIST - STORE_Q_DEVICE_BASE] = "SELECT " DIRLIST_COLS " FROM "
	    "directory_devices WHERE tenant_id = $1 AND id > $2 ORDER BY id "
	    "LIMIT $3",
	/* by ek_key (its index, 003), then the whole digest; hash as hex */
	[Q_DEVICE_BY_EK - STORE_Q_DEVICE_BASE] = "SELECT " DEVICE_COLS ", "
	    "encode(d.hardware_hash, 'hex') FROM device_identities d LEFT JOIN "
	    "directory_devices dd ON dd.id = d.directory_device_id WHERE "
	    "d.ek_key = $1 AND d.ek_sha256 = $2",
	[Q_DEVICE_CONTACTED - STORE_Q_DEVICE_BASE] = "UPDATE "
	    "device_identities SET last_contacted_ms = $2 WHERE id = $1",
};

static const char *
sql_of(enum device_q id)
{
	return device_sql[id - STORE_Q_DEVICE_BASE];
}

int
store_device_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_device *d = out;

	memset(d, 0, sizeof(*d));
	d->enabled = store_res_int(res, r, 13) != 0;
	d->created_ms = store_res_int(res, r, 14);
	d->last_contacted_ms = store_res_int(res, r, 15);
	return store_res_copy(res, r, 0, d->id, sizeof(d->id)) ||
	    store_res_copy(res, r, 1, d->tenant_id, sizeof(d->tenant_id)) ||
	    store_res_copy(res, r, 2, d->import_id, sizeof(d->import_id)) ||
	    store_res_copy(res, r, 3, d->serial, sizeof(d->serial)) ||
	    store_res_copy(res, r, 4, d->product_key,
	    sizeof(d->product_key)) ||
	    store_res_copy(res, r, 5, d->manufacturer,
	    sizeof(d->manufacturer)) ||
	    store_res_copy(res, r, 6, d->model, sizeof(d->model)) ||
	    store_res_copy(res, r, 7, d->group_tag, sizeof(d->group_tag)) ||
	    store_res_copy(res, r, 8, d->upn, sizeof(d->upn)) ||
	    store_res_copy(res, r, 9, d->ek_sha256, sizeof(d->ek_sha256)) ||
	    store_res_copy(res, r, 10, d->ztd_id, sizeof(d->ztd_id)) ||
	    store_res_copy(res, r, 11, d->directory_device_id,
	    sizeof(d->directory_device_id)) ||
	    store_res_copy(res, r, 12, d->enrollment_state,
	    sizeof(d->enrollment_state)) ||
	    store_res_copy(res, r, 16, d->owner, sizeof(d->owner)) ? -1 : 0;
}

/* A LIKE pattern for "starts with prefix" ('!' escapes % _ and !). */
static char *
like_prefix(const char *prefix)
{
	size_t n = strlen(prefix), i, o = 0;
	char *s = xmalloc(2 * n + 2);

	for (i = 0; i < n; i++) {
		if (prefix[i] == '%' || prefix[i] == '_' || prefix[i] == '!')
			s[o++] = '!';
		s[o++] = prefix[i];
	}
	s[o++] = '%';
	s[o] = '\0';
	return s;
}

enum wg_err
store_device_list(struct store_conn *c, const char *tenant_id,
    const struct wg_device_filter *f, struct wg_device **out, size_t *n)
{
	char *like = f->serial_prefix && f->serial_prefix[0] ?
	    like_prefix(f->serial_prefix) : xstrdup("");
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(like),
	    P_TEXT(f->group_tag ? f->group_tag : ""),
	    P_TEXT(f->import_id ? f->import_id : ""),
	    P_TEXT(f->after_serial ? f->after_serial : ""),
	    P_TEXT(f->after_id ? f->after_id : ""), P_INT((int64_t)f->limit)};
	void *list;
	enum wg_err rc;

	rc = store_q_list(c, Q_DEVICE_LIST, sql_of(Q_DEVICE_LIST), p,
	    ARRAY_LEN(p), store_device_row, sizeof(**out), NULL, &list, n);
	*out = list;
	free(like);
	return rc;
}

enum wg_err
store_device_get(struct store_conn *c, const char *tenant_id, const char *id,
    struct wg_device *out)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id)};

	return store_q_one(c, Q_DEVICE_GET, sql_of(Q_DEVICE_GET), p,
	    ARRAY_LEN(p), store_device_row, out);
}

struct delete_args {
	const char *tenant_id;
	const char *id;
	char *serial; /* [WG_SERIAL_MAX + 1] */
};

static enum wg_err
device_delete_tx(struct store_conn *c, void *arg)
{
	const struct delete_args *a = arg;
	struct store_param p[] = {P_TEXT(a->tenant_id), P_TEXT(a->id)};
	struct store_res res = {0};
	enum wg_err rc;

	rc = store_conn_run(c, Q_DEVICE_DELETE, sql_of(Q_DEVICE_DELETE), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows == 0)
		rc = WG_E_NOT_FOUND;
	if (rc == WG_OK && store_res_copy(&res, 0, 1, a->serial,
	    WG_SERIAL_MAX + 1) != 0)
		rc = WG_E_INTERNAL;
	if (rc == WG_OK && store_res_text(&res, 0, 0)[0] != '\0') {
		struct store_param q[] = {P_TEXT(a->tenant_id),
		    P_TEXT(store_res_text(&res, 0, 0))};

		rc = store_conn_run(c, Q_DIR_DELETE, sql_of(Q_DIR_DELETE), q,
		    ARRAY_LEN(q), NULL);
	}
	store_res_free(&res);
	return rc;
}

enum wg_err
store_device_delete(struct store_conn *c, const char *tenant_id,
    const char *id, char serial[WG_SERIAL_MAX + 1])
{
	struct delete_args a = { tenant_id, id, serial };

	return store_in_tx(c, device_delete_tx, &a);
}

enum wg_err
store_device_update(struct store_conn *c, const char *tenant_id,
    const char *id, const char *group_tag, const char *upn)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(id),
	    P_INT(group_tag != NULL), P_OPT(group_tag), P_INT(upn != NULL),
	    P_OPT(upn)};
	struct store_res res = {0};
	enum wg_err rc;

	rc = store_conn_run(c, Q_DEVICE_UPDATE, sql_of(Q_DEVICE_UPDATE), p,
	    ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows == 0)
		rc = WG_E_NOT_FOUND;
	store_res_free(&res);
	return rc;
}

static int
dir_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_directory_device *d = out;

	memset(d, 0, sizeof(*d));
	d->enabled = store_res_int(res, r, 4) != 0;
	d->join_ms = store_res_int(res, r, 8);
	d->created_ms = store_res_int(res, r, 9);
	return store_res_copy(res, r, 0, d->id, sizeof(d->id)) ||
	    store_res_copy(res, r, 1, d->tenant_id, sizeof(d->tenant_id)) ||
	    store_res_copy(res, r, 2, d->ztd_id, sizeof(d->ztd_id)) ||
	    store_res_copy(res, r, 3, d->display_name,
	    sizeof(d->display_name)) ||
	    store_res_copy(res, r, 5, d->trust_type, sizeof(d->trust_type)) ||
	    store_res_copy(res, r, 6, d->os_version, sizeof(d->os_version)) ||
	    store_res_copy(res, r, 7, d->registered_owner,
	    sizeof(d->registered_owner)) ? -1 : 0;
}

enum wg_err
store_directory_list(struct store_conn *c, const char *tenant_id,
    const char *after, size_t limit, struct wg_directory_device **out,
    size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id),
	    P_TEXT(after ? after : ""), P_INT((int64_t)limit)};
	void *list;
	enum wg_err rc;

	rc = store_q_list(c, Q_DIR_LIST, sql_of(Q_DIR_LIST), p, ARRAY_LEN(p),
	    dir_row, sizeof(**out), NULL, &list, n);
	*out = list;
	return rc;
}

struct by_ek {
	struct wg_device *dev;
	unsigned char *hash;
	size_t len;
};

static int
by_ek_row(const struct store_res *res, size_t r, void *out)
{
	struct by_ek *b = out;
	const char *hex = store_res_text(res, r, DEVICE_NCOLS);
	size_t n = hex != NULL ? strlen(hex) : 0;

	if (store_device_row(res, r, b->dev) != 0)
		return -1;
	b->hash = xmalloc(n / 2 + 1);
	b->len = n / 2;
	if (n % 2 != 0 || wg_hex_decode(hex, b->hash, b->len) != 0) {
		wg_error("store: device %s has a hardware hash that is not "
		    "hex", b->dev->id);
		free(b->hash);
		b->hash = NULL;
		return -1;
	}
	return 0;
}

enum wg_err
store_device_by_ek(struct store_conn *c, const char *ek_sha256,
    struct wg_device *out, unsigned char **hash, size_t *hash_len)
{
	struct store_param p[] = {P_INT(store_ek_key(ek_sha256)),
	    P_TEXT(ek_sha256)};
	struct by_ek b = {out, NULL, 0};
	enum wg_err rc;

	rc = store_q_one(c, Q_DEVICE_BY_EK, sql_of(Q_DEVICE_BY_EK), p,
	    ARRAY_LEN(p), by_ek_row, &b);
	if (rc != WG_OK) {
		free(b.hash);
		b.hash = NULL;
		b.len = 0;
	}
	*hash = b.hash;
	*hash_len = b.len;
	return rc;
}

enum wg_err
store_device_contacted(struct store_conn *c, const char *id)
{
	struct store_param p[] = {P_TEXT(id), P_INT(wg_now_ms())};

	return store_conn_run(c, Q_DEVICE_CONTACTED, sql_of(Q_DEVICE_CONTACTED),
	    p, ARRAY_LEN(p), NULL);
}
