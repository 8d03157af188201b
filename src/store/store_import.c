/*
 * Imports (step 0 of the flow), for both backends.  An import writes in
 * batches: each batch is one transaction (or part of the caller's)
 * with its devices, their pre-created directory objects, its failed rows
 * and the import's counts, so a crash loses whole batches, never half a
 * row.  Batches use multi-row statements of 64, 16, 4 and 1 rows, so a
 * batch of n rows costs a handful of statements on either backend.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

/* Interrupted imports are also recognised by silence this long. */
#define IMPORT_STALE_MS (10 * 60 * 1000)

enum import_q {
	Q_EK_LOOKUP = STORE_Q_IMPORT_BASE,
	Q_SERIAL_LOOKUP,
	Q_DIR_INSERT,			  /* + 4 sizes */
	Q_DEV_INSERT = Q_DIR_INSERT + 4,  /* + 4 sizes */
	Q_ERR_INSERT = Q_DEV_INSERT + 4,  /* + 4 sizes */
	Q_IMPORT_COUNTS = Q_ERR_INSERT + 4,
	Q_IMPORT_INSERT,
	Q_IMPORT_GET,
	Q_IMPORT_LIST,
	Q_IMPORT_START,
	Q_IMPORT_FINISH,
	Q_IMPORT_INTERRUPT,
	Q_IMPORT_ERROR_COUNTS,
	Q_IMPORT_ROWS,
	Q_IMPORT_ROWS_ERRORS,
	Q_IMPORT_Q_END
};
_Static_assert(Q_IMPORT_Q_END <= STORE_Q_DEVICE_BASE, "renumber statements");

/* Rows per multi-row insert, largest first. */
static const size_t chunk_rows[4] = { 64, 16, 4, 1 };

#define DIR_COLS "id, tenant_id, ztd_id, display_name, created_ms"
#define DIR_NCOLS 5
#define DEV_COLS \
	"id, tenant_id, import_id, row_number, serial_number, product_key, " \
	"manufacturer, model, group_tag, assigned_upn, hardware_hash, " \
	"ek_sha256, ek_key, ztd_id, directory_device_id, created_ms"
#define DEV_NCOLS 16
#define ERR_COLS \
	"import_id, row_number, serial_number, product_key, group_tag, " \
	"assigned_upn, error_code, message"
#define ERR_NCOLS 8
#define IMPORT_COLS \
	"id, tenant_id, status, source, total_count, imported_count, " \
	"failed_count, created_ms, updated_ms, COALESCE(completed_ms, 0), " \
	"interrupted, COALESCE(message, '')"
/*
 * Built once; the inserts in two forms, [1] for a driver that wants
 * INSERT OR FAIL (store_int.h), the other statements alike in both.
 */
static char *import_sql[2][STORE_STMT_MAX];
static pthread_once_t import_sql_once = PTHREAD_ONCE_INIT;

/* "($1, $2), ($3, $4)" style VALUES lists for rows × cols parameters. */
static char *
values_sql(const char *head, size_t first, size_t rows, size_t cols)
{
	size_t cap = strlen(head) + rows * cols * 8 + rows * 4 + 16, len, r, k;
	char *s = xmalloc(cap);

	len = (size_t)snprintf(s, cap, "%s", head);
	for (r = 0; r < rows; r++) {
		len += (size_t)snprintf(s + len, cap - len, "%s(", r ? ", " : "");
		for (k = 0; k < cols; k++)
			len += (size_t)snprintf(s + len, cap - len, "%s$%zu",
			    k ? ", " : "", first + r * cols + k);
		len += (size_t)snprintf(s + len, cap - len, ")");
	}
	return s;
}

/* "head($first, …, $first+n-1)tail" */
static char *
in_sql(const char *head, size_t first, size_t n, const char *tail)
{
	size_t cap = strlen(head) + strlen(tail) + n * 8 + 8, len, i;
	char *s = xmalloc(cap);

	len = (size_t)snprintf(s, cap, "%s(", head);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s$%zu",
		    i ? ", " : "", first + i);
	snprintf(s + len, cap - len, ")%s", tail);
	return s;
}

static void
import_sql_build(void)
{
	static const char *const verb[2] = {"INSERT INTO ",
	    "INSERT OR FAIL INTO "};
	char head[256];
	size_t i, v;

	/* by ek_key (its index, 003); find_ek() compares whole digests */
	import_sql[0][Q_EK_LOOKUP] = in_sql("SELECT id, tenant_id, "
	    "ek_sha256, COALESCE(import_id, ''), serial_number, "
	    "COALESCE(manufacturer, '') FROM device_identities WHERE ek_key "
	    "IN ", 1, WG_IMPORT_BATCH_MAX, "");
	import_sql[0][Q_SERIAL_LOOKUP] = in_sql("SELECT id, tenant_id, "
	    "ek_sha256, COALESCE(import_id, ''), serial_number, "
	    "COALESCE(manufacturer, '') FROM device_identities WHERE "
	    "tenant_id = $1 AND serial_number IN ", 2, WG_IMPORT_BATCH_MAX,
	    "");
	import_sql[0][Q_IMPORT_COUNTS] = xstrdup("UPDATE imports SET "
	    "total_count = total_count + $2, imported_count = imported_count "
	    "+ $3, failed_count = failed_count + $4, updated_ms = $5 WHERE "
	    "id = $1 AND tenant_id = $6 RETURNING id");
	memcpy(import_sql[1], import_sql[0], sizeof(import_sql[0]));
	for (v = 0; v < 2; v++)
		for (i = 0; i < 4; i++) {
			snprintf(head, sizeof(head), "%sdirectory_devices ("
			    DIR_COLS ") VALUES ", verb[v]);
			import_sql[v][Q_DIR_INSERT + i] = values_sql(head, 1,
			    chunk_rows[i], DIR_NCOLS);
			snprintf(head, sizeof(head), "%sdevice_identities ("
			    DEV_COLS ") VALUES ", verb[v]);
			import_sql[v][Q_DEV_INSERT + i] = values_sql(head, 1,
			    chunk_rows[i], DEV_NCOLS);
			snprintf(head, sizeof(head), "%simport_errors ("
			    ERR_COLS ") VALUES ", verb[v]);
			import_sql[v][Q_ERR_INSERT + i] = values_sql(head, 1,
			    chunk_rows[i], ERR_NCOLS);
		}
}

static const char *const crud_sql[Q_IMPORT_Q_END - Q_IMPORT_INSERT] = {
	[Q_IMPORT_INSERT - Q_IMPORT_INSERT] = "INSERT INTO imports (id, "
	    "tenant_id, status, source, created_ms, updated_ms, owner) "
	    "VALUES ($1, $2, 'unknown', $3, $4, $4, $5)",
	[Q_IMPORT_GET - Q_IMPORT_INSERT] = "SELECT " IMPORT_COLS " FROM "
	    "imports WHERE id = $1 AND tenant_id = $2",
	[Q_IMPORT_LIST - Q_IMPORT_INSERT] = "SELECT " IMPORT_COLS " FROM "
	    "imports WHERE tenant_id = $1 ORDER BY created_ms DESC, id "
	    "LIMIT $2",
	[Q_IMPORT_START - Q_IMPORT_INSERT] = "UPDATE imports SET status = "
	    "'pending', owner = $3, updated_ms = $4 WHERE id = $1 AND "
	    "tenant_id = $2 AND status = 'unknown' RETURNING id",
	/* partial if some rows failed, error if none went in */
	[Q_IMPORT_FINISH - Q_IMPORT_INSERT] = "UPDATE imports SET status = "
	    "CASE WHEN $4 = 1 OR (failed_count > 0 AND imported_count = 0) "
	    "THEN 'error' WHEN failed_count > 0 OR $4 = 2 THEN 'partial' "
	    "ELSE 'complete' END, message = $3, completed_ms = $5, "
	    "updated_ms = $5 WHERE id = $1 AND tenant_id = $2 RETURNING id",
	[Q_IMPORT_INTERRUPT - Q_IMPORT_INSERT] = "UPDATE imports SET status = "
	    "'error', interrupted = 1, completed_ms = $2, message = $3 "
	    "WHERE owner = $1 AND status IN ('unknown', 'pending') "
	    "RETURNING id",
	[Q_IMPORT_ERROR_COUNTS - Q_IMPORT_INSERT] = "SELECT error_code, "
	    "COUNT(*) FROM import_errors WHERE import_id = $1 GROUP BY "
	    "error_code ORDER BY error_code",
	[Q_IMPORT_ROWS - Q_IMPORT_INSERT] = "SELECT row_number, "
	    "serial_number, COALESCE(product_key, ''), COALESCE(group_tag, "
	    "''), COALESCE(assigned_upn, ''), 0, ztd_id, '' FROM "
	    "device_identities WHERE import_id = $1 AND row_number > $2 "
	    "UNION ALL SELECT row_number, COALESCE(serial_number, ''), "
	    "COALESCE(product_key, ''), COALESCE(group_tag, ''), "
	    "COALESCE(assigned_upn, ''), error_code, '', COALESCE(message, "
	    "'') FROM import_errors WHERE import_id = $1 AND row_number > $2 "
	    "ORDER BY 1 LIMIT $3",
	[Q_IMPORT_ROWS_ERRORS - Q_IMPORT_INSERT] = "SELECT row_number, "
	    "COALESCE(serial_number, ''), COALESCE(product_key, ''), "
	    "COALESCE(group_tag, ''), COALESCE(assigned_upn, ''), error_code, "
	    "'', COALESCE(message, '') FROM import_errors WHERE import_id = $1 "
	    "AND row_number > $2 ORDER BY row_number LIMIT $3",
};

static const char *
sql_of(const struct store_conn *c, enum import_q id)
{
	if (id >= Q_IMPORT_INSERT)
		return crud_sql[id - Q_IMPORT_INSERT];
	pthread_once(&import_sql_once, import_sql_build);
	return import_sql[c->st->drv->insert_or_fail != 0][id];
}

static enum wg_err
dq(struct store_conn *c, enum import_q id, const struct store_param *p,
    size_t np, struct store_res *res)
{
	return store_conn_run(c, (unsigned)id, sql_of(c, id), p, np, res);
}

static enum wg_err
dq_one(struct store_conn *c, enum import_q id, const struct store_param *p,
    size_t np, store_row_fn fn, void *out)
{
	return store_q_one(c, (unsigned)id, sql_of(c, id), p, np, fn, out);
}

static enum wg_err
dq_list(struct store_conn *c, enum import_q id, const struct store_param *p,
    size_t np, store_row_fn fn, size_t size, void **out, size_t *n)
{
	return store_q_list(c, (unsigned)id, sql_of(c, id), p, np, fn, size,
	    NULL, out, n);
}



/* ---- import records ---- */

static int
import_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_import *im = out;

	memset(im, 0, sizeof(*im));
	if (store_res_copy(res, r, 0, im->id, sizeof(im->id)) != 0 ||
	    store_res_copy(res, r, 1, im->tenant_id, sizeof(im->tenant_id)) ||
	    store_res_copy(res, r, 2, im->status, sizeof(im->status)) != 0 ||
	    store_res_copy(res, r, 3, im->source, sizeof(im->source)) != 0 ||
	    store_res_copy(res, r, 11, im->message, sizeof(im->message)) != 0)
		return -1;
	im->total = store_res_int(res, r, 4);
	im->imported = store_res_int(res, r, 5);
	im->failed = store_res_int(res, r, 6);
	im->created_ms = store_res_int(res, r, 7);
	im->updated_ms = store_res_int(res, r, 8);
	im->completed_ms = store_res_int(res, r, 9);
	im->interrupted = store_res_int(res, r, 10) != 0;
	/* A server that stopped answering long ago will not finish it. */
	if (strcmp(im->status, "pending") == 0 &&
	    wg_now_ms() - im->updated_ms > IMPORT_STALE_MS)
		im->interrupted = 1;
	/* An import that will not finish has failed, as far as anyone sees. */
	if (im->interrupted && strcmp(im->status, "pending") == 0)
		snprintf(im->status, sizeof(im->status), "error");
	return 0;
}

enum wg_err
store_import_create(struct store_conn *c, const char *tenant_id,
    const char *source, const char *owner, struct wg_import *out)
{
	struct wg_import im;
	enum wg_err rc;

	memset(&im, 0, sizeof(im));
	wg_uuid(im.id);
	snprintf(im.tenant_id, sizeof(im.tenant_id), "%s", tenant_id);
	snprintf(im.status, sizeof(im.status), "unknown");
	snprintf(im.source, sizeof(im.source), "%s", source);
	im.created_ms = im.updated_ms = wg_now_ms();
	struct store_param p[] = {P_TEXT(im.id), P_TEXT(tenant_id),
	    P_TEXT(source), P_INT(im.created_ms), P_OPT(owner)};
	if ((rc = dq(c, Q_IMPORT_INSERT, p, ARRAY_LEN(p), NULL)) == WG_OK)
		*out = im;
	return rc;
}

enum wg_err
store_import_get(struct store_conn *c, const char *tenant_id, const char *id,
    struct wg_import *out)
{
	struct store_param p[] = {P_TEXT(id), P_TEXT(tenant_id)};

	return dq_one(c, Q_IMPORT_GET, p, ARRAY_LEN(p), import_row, out);
}

enum wg_err
store_import_list(struct store_conn *c, const char *tenant_id, size_t limit,
    struct wg_import **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_INT((int64_t)limit)};
	void *list;
	enum wg_err rc;

	rc = dq_list(c, Q_IMPORT_LIST, p, ARRAY_LEN(p), import_row,
	    sizeof(**out), &list, n);
	*out = list;
	return rc;
}

/* Runs an UPDATE … RETURNING id; WG_E_NOT_FOUND if it touched nothing. */
static enum wg_err
update_one(struct store_conn *c, enum import_q id, const struct store_param *p,
    size_t np)
{
	struct store_res res = {0};
	enum wg_err rc;

	rc = dq(c, id, p, np, &res);
	if (rc == WG_OK && res.nrows == 0)
		rc = WG_E_NOT_FOUND;
	store_res_free(&res);
	return rc;
}

enum wg_err
store_import_start(struct store_conn *c, const char *tenant_id,
    const char *id, const char *owner)
{
	struct store_param p[] = {P_TEXT(id), P_TEXT(tenant_id), P_OPT(owner),
	    P_INT(wg_now_ms())};
	enum wg_err rc;

	rc = update_one(c, Q_IMPORT_START, p, ARRAY_LEN(p));
	return rc == WG_E_NOT_FOUND ? WG_E_CONFLICT : rc;
}

enum wg_err
store_import_finish(struct store_conn *c, const char *tenant_id,
    const char *id, const char *message, int failed_hard)
{
	struct store_param p[] = {P_TEXT(id), P_TEXT(tenant_id),
	    P_OPT(message), P_INT(failed_hard), P_INT(wg_now_ms())};

	return update_one(c, Q_IMPORT_FINISH, p, ARRAY_LEN(p));
}

enum wg_err
store_import_interrupt_owner(struct store_conn *c, const char *owner,
    size_t *n)
{
	struct store_param p[] = {P_TEXT(owner), P_INT(wg_now_ms()),
	    P_TEXT("the server stopped during this import; rows it had "
	    "committed are kept: import the file again to complete it "
	    "(rows already imported are reported as 806)")};
	struct store_res res = {0};
	enum wg_err rc;

	rc = dq(c, Q_IMPORT_INTERRUPT, p, ARRAY_LEN(p), &res);
	*n = rc == WG_OK ? res.nrows : 0;
	store_res_free(&res);
	return rc;
}

static int
count_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_code_count *cc = out;

	cc->code = (uint32_t)store_res_int(res, r, 0);
	cc->count = store_res_int(res, r, 1);
	return 0;
}

enum wg_err
store_import_error_counts(struct store_conn *c, const char *import_id,
    struct wg_code_count **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(import_id)};
	void *list;
	enum wg_err rc;

	rc = dq_list(c, Q_IMPORT_ERROR_COUNTS, p, ARRAY_LEN(p), count_row,
	    sizeof(**out), &list, n);
	*out = list;
	return rc;
}

static int
result_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_import_result *x = out;

	memset(x, 0, sizeof(*x));
	x->row_number = store_res_int(res, r, 0);
	x->code = (uint32_t)store_res_int(res, r, 5);
	return store_res_copy(res, r, 1, x->serial, sizeof(x->serial)) ||
	    store_res_copy(res, r, 2, x->product_key,
	    sizeof(x->product_key)) ||
	    store_res_copy(res, r, 3, x->group_tag, sizeof(x->group_tag)) ||
	    store_res_copy(res, r, 4, x->upn, sizeof(x->upn)) ||
	    store_res_copy(res, r, 6, x->ztd_id, sizeof(x->ztd_id)) ||
	    store_res_copy(res, r, 7, x->message, sizeof(x->message)) ? -1 : 0;
}

enum wg_err
store_import_rows(struct store_conn *c, const char *import_id, int64_t after,
    size_t limit, int errors_only, struct wg_import_result **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(import_id), P_INT(after),
	    P_INT((int64_t)limit)};
	void *list;
	enum wg_err rc;

	rc = dq_list(c, errors_only ? Q_IMPORT_ROWS_ERRORS : Q_IMPORT_ROWS, p,
	    ARRAY_LEN(p), result_row, sizeof(**out), &list, n);
	*out = list;
	return rc;
}

enum wg_err
store_import_analyze(struct store_conn *c)
{
	if (!c->st->drv->analyze_bulk)
		return WG_OK;
	return store_conn_script(c, "ANALYZE device_identities, "
	    "directory_devices, import_errors");
}

/* ---- the batch ---- */

/* What the database already holds that a batch's rows may match. */
struct known {
	char id[37];
	char tenant_id[37];
	char ek[65];
	char import_id[37];
	char serial[WG_SERIAL_MAX + 1];
	char manufacturer[WG_SERIAL_MAX + 1];
};

static int
known_row(const struct store_res *res, size_t r, void *out)
{
	struct known *k = out;

	memset(k, 0, sizeof(*k));
	return store_res_copy(res, r, 0, k->id, sizeof(k->id)) ||
	    store_res_copy(res, r, 1, k->tenant_id, sizeof(k->tenant_id)) ||
	    store_res_copy(res, r, 2, k->ek, sizeof(k->ek)) ||
	    store_res_copy(res, r, 3, k->import_id, sizeof(k->import_id)) ||
	    store_res_copy(res, r, 4, k->serial, sizeof(k->serial)) ||
	    store_res_copy(res, r, 5, k->manufacturer,
	    sizeof(k->manufacturer)) ? -1 : 0;
}

struct batch {
	const char *tenant_id;
	const char *import_id;
	struct wg_import_row *rows;
	size_t n;
	char dir_id[WG_IMPORT_BATCH_MAX][37];
	enum wg_err caller_err[WG_IMPORT_BATCH_MAX];
	int64_t now;
	struct known *by_ek, *by_serial;
	size_t nek, nserial;
};

/* Looks up every candidate row's EK (all tenants) and serial (tenant). */
static enum wg_err
batch_lookup(struct store_conn *c, struct batch *b)
{
	struct store_param p[WG_IMPORT_BATCH_MAX + 1];
	enum wg_err rc;
	void *list;
	size_t i;

	for (i = 0; i < WG_IMPORT_BATCH_MAX; i++)
		p[i] = i < b->n && b->rows[i].err == WG_OK ?
		    P_INT(store_ek_key(b->rows[i].ek_sha256)) : P_NULL;
	rc = dq_list(c, Q_EK_LOOKUP, p, WG_IMPORT_BATCH_MAX, known_row,
	    sizeof(struct known), &list, &b->nek);
	b->by_ek = list;
	if (rc != WG_OK)
		return rc;
	p[0] = P_TEXT(b->tenant_id);
	for (i = 0; i < WG_IMPORT_BATCH_MAX; i++)
		p[i + 1] = P_TEXT(i < b->n && b->rows[i].err == WG_OK ?
		    b->rows[i].serial : "");
	rc = dq_list(c, Q_SERIAL_LOOKUP, p, WG_IMPORT_BATCH_MAX + 1,
	    known_row, sizeof(struct known), &list, &b->nserial);
	b->by_serial = list;
	return rc;
}

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static const struct known *
find_ek(const struct batch *b, const char *ek)
{
	size_t i;

	for (i = 0; i < b->nek; i++)
		if (strcmp(b->by_ek[i].ek, ek) == 0)
			return &b->by_ek[i];
	return NULL;
}

static const struct known *
find_serial(const struct batch *b, const struct wg_import_row *row)
{
	size_t i;

	for (i = 0; i < b->nserial; i++)
		if (strcmp(b->by_serial[i].serial, row->serial) == 0 &&
		    strcmp(b->by_serial[i].manufacturer,
		    or_empty(row->manufacturer)) == 0)
			return &b->by_serial[i];
	return NULL;
}

static void
row_fail(struct wg_import_row *row, enum wg_err err, const char *msg)
{
	row->err = err;
	snprintf(row->message, sizeof(row->message), "%s", msg);
}

/*
 * The rows of a batch accepted so far, by EK and by make and serial: open
 * addressing over row numbers + 1 (0 is an empty slot), so the check for
 * a device twice in one batch costs one probe, not a pass over the batch.
 */
#define SEEN_SLOTS (4 * WG_IMPORT_BATCH_MAX)
struct seen {
	uint16_t by_ek[SEEN_SLOTS], by_serial[SEEN_SLOTS];
};
_Static_assert((SEEN_SLOTS & (SEEN_SLOTS - 1)) == 0, "a power of two");
_Static_assert(WG_IMPORT_BATCH_MAX < 65535, "rows fit uint16_t");

/* FNV-1a over a then, after a 0 byte, b (NULL hashes as ""). */
static uint64_t
seen_hash(const char *a, const char *b)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *p;

	for (p = a; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	h *= 0x100000001b3ull;
	for (p = b ? b : ""; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

static int
same_ek(const struct wg_import_row *x, const struct wg_import_row *y)
{
	return strcmp(x->ek_sha256, y->ek_sha256) == 0;
}

static int
same_serial(const struct wg_import_row *x, const struct wg_import_row *y)
{
	return strcmp(x->serial, y->serial) == 0 &&
	    strcmp(or_empty(x->manufacturer), or_empty(y->manufacturer)) == 0;
}

/*
 * The empty slot of table t (probing from hash h) where row i goes, or
 * NULL if an accepted row there is the same device.
 */
static uint16_t *
seen_slot(uint16_t *t, uint64_t h, const struct batch *b, size_t i,
    int (*same)(const struct wg_import_row *, const struct wg_import_row *))
{
	size_t k = (size_t)h & (SEEN_SLOTS - 1);

	for (; t[k] != 0; k = (k + 1) & (SEEN_SLOTS - 1))
		if (same(&b->rows[t[k] - 1], &b->rows[i]))
			return NULL;
	return &t[k];
}

/* Decides each row: a new device (ids assigned) or its DDS code. */
static void
batch_classify(struct batch *b)
{
	const struct known *ek, *ser, *known;
	struct wg_import_row *r;
	struct seen *seen = xcalloc(1, sizeof(*seen));
	uint16_t *ek_slot = NULL, *ser_slot = NULL;
	size_t i;

	for (i = 0; i < b->n; i++) {
		r = &b->rows[i];
		if (r->err != WG_OK)
			continue;
		ek = find_ek(b, r->ek_sha256);
		ser = find_serial(b, r);
		known = ek != NULL ? ek : ser;
		if (ek != NULL && ser != NULL && strcmp(ek->id, ser->id) != 0)
			row_fail(r, WG_E_DDS_NOT_UNIQUE, "two registered "
			    "devices match: one by TPM EK, one by serial "
			    "number");
		else if (ek != NULL && strcmp(ek->tenant_id, b->tenant_id))
			row_fail(r, WG_E_DDS_OTHER_TENANT, "this device's TPM "
			    "is registered in another tenant");
		else if (known != NULL && strcmp(known->import_id,
		    b->import_id) == 0)
			row_fail(r, WG_E_DDS_DUPLICATED, "this device appears "
			    "earlier in the same import");
		else if (ek != NULL)
			row_fail(r, WG_E_DDS_ALREADY_ASSIGNED, "this device is "
			    "already registered in this tenant");
		else if (ser != NULL)
			row_fail(r, WG_E_DDS_ALREADY_ASSIGNED, "a device with "
			    "this manufacturer and serial number is already "
			    "registered with another TPM; delete it first if "
			    "its motherboard was replaced");
		else if ((ek_slot = seen_slot(seen->by_ek,
		    seen_hash(r->ek_sha256, NULL), b, i, same_ek)) == NULL ||
		    (ser_slot = seen_slot(seen->by_serial,
		    seen_hash(r->serial, r->manufacturer), b, i,
		    same_serial)) == NULL)
			row_fail(r, WG_E_DDS_DUPLICATED, "this device appears "
			    "earlier in the same import");
		else {
			wg_uuid7(r->device_id);
			wg_uuid7(r->ztd_id);
			wg_uuid7(b->dir_id[i]);
			*ek_slot = *ser_slot = (uint16_t)(i + 1);
		}
	}
	free(seen);
}

/* Parameters of row i for one of the three multi-row inserts. */
static size_t
dir_params(const struct batch *b, size_t i, struct store_param *p)
{
	const struct wg_import_row *r = &b->rows[i];

	p[0] = P_TEXT(b->dir_id[i]);
	p[1] = P_TEXT(b->tenant_id);
	p[2] = P_TEXT(r->ztd_id);
	p[3] = P_TEXT(r->serial);
	p[4] = P_INT(b->now);
	return DIR_NCOLS;
}

static size_t
dev_params(const struct batch *b, size_t i, struct store_param *p)
{
	const struct wg_import_row *r = &b->rows[i];

	p[0] = P_TEXT(r->device_id);
	p[1] = P_TEXT(b->tenant_id);
	p[2] = P_TEXT(b->import_id);
	p[3] = P_INT(r->row_number);
	p[4] = P_TEXT(r->serial);
	p[5] = P_OPT(r->product_key);
	p[6] = P_OPT(r->manufacturer);
	p[7] = P_OPT(r->model);
	p[8] = P_OPT(r->group_tag);
	p[9] = P_OPT(r->upn);
	p[10] = P_BLOB(r->hardware_hash, r->hardware_hash_len);
	p[11] = P_TEXT(r->ek_sha256);
	p[12] = P_INT(store_ek_key(r->ek_sha256));
	p[13] = P_TEXT(r->ztd_id);
	p[14] = P_TEXT(b->dir_id[i]);
	p[15] = P_INT(b->now);
	return DEV_NCOLS;
}

static size_t
err_params(const struct batch *b, size_t i, struct store_param *p)
{
	const struct wg_import_row *r = &b->rows[i];

	p[0] = P_TEXT(b->import_id);
	p[1] = P_INT(r->row_number);
	p[2] = P_OPT(r->serial);
	p[3] = P_OPT(r->product_key);
	p[4] = P_OPT(r->group_tag);
	p[5] = P_OPT(r->upn);
	p[6] = P_INT((int64_t)wg_err_code(r->err));
	p[7] = P_OPT(r->message);
	return ERR_NCOLS;
}

/*
 * Inserts the rows for which want() holds with statement family base (one
 * statement per chunk of 64, 16, 4 or 1 rows).
 */
static enum wg_err
insert_rows(struct store_conn *c, const struct batch *b, enum import_q base,
    int errors, size_t (*params)(const struct batch *, size_t,
    struct store_param *))
{
	struct store_param p[64 * DEV_NCOLS];
	size_t idx[WG_IMPORT_BATCH_MAX], n = 0, done = 0, k, i, np;
	enum wg_err rc;

	for (i = 0; i < b->n; i++)
		if ((b->rows[i].err != WG_OK) == errors)
			idx[n++] = i;
	while (done < n) {
		for (k = 0; chunk_rows[k] > n - done; k++)
			;
		for (i = 0, np = 0; i < chunk_rows[k]; i++)
			np += params(b, idx[done + i], p + np);
		if ((rc = dq(c, (enum import_q)(base + (int)k), p, np, NULL)) !=
		    WG_OK)
			return rc;
		done += chunk_rows[k];
	}
	return WG_OK;
}

/*
 * One batch's transaction.  The counts go first: the import's row (and so
 * its tenant, which would have taken it along) must still be there, and
 * every row written after refers to those two or to a directory object
 * written just before.  That one check is all a SQLite bulk connection
 * relies on: it skips the per-row foreign-key checks (store_conn_bulk()),
 * and holds the write lock from here to the commit.
 */
static enum wg_err
batch_write(struct store_conn *c, void *arg)
{
	struct batch *b = arg;
	int64_t ok = 0;
	enum wg_err rc;
	size_t i;

	if ((rc = batch_lookup(c, b)) != WG_OK)
		return rc;
	batch_classify(b);
	for (i = 0; i < b->n; i++)
		ok += b->rows[i].err == WG_OK;
	struct store_param p[] = {P_TEXT(b->import_id), P_INT((int64_t)b->n),
	    P_INT(ok), P_INT((int64_t)b->n - ok), P_INT(b->now),
	    P_TEXT(b->tenant_id)};
	if ((rc = update_one(c, Q_IMPORT_COUNTS, p, ARRAY_LEN(p))) != WG_OK ||
	    (rc = insert_rows(c, b, Q_DIR_INSERT, 0, dir_params)) != WG_OK ||
	    (rc = insert_rows(c, b, Q_DEV_INSERT, 0, dev_params)) != WG_OK)
		return rc;
	return insert_rows(c, b, Q_ERR_INSERT, 1, err_params);
}

/* Back to what the caller gave: its own errors, no results. */
static void
batch_reset(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		b->rows[i].err = b->caller_err[i];
		if (b->caller_err[i] == WG_OK)
			b->rows[i].message[0] = '\0';
		b->rows[i].device_id[0] = '\0';
		b->rows[i].ztd_id[0] = '\0';
	}
	free(b->by_ek);
	free(b->by_serial);
	b->by_ek = b->by_serial = NULL;
	b->nek = b->nserial = 0;
}

enum wg_err
store_import_batch(struct store_conn *c, const char *tenant_id,
    const char *import_id, struct wg_import_row *rows, size_t n)
{
	struct batch *b;
	enum wg_err rc = WG_OK;
	size_t i;
	int attempt;

	if (n > WG_IMPORT_BATCH_MAX) {
		wg_error("store: import batch of %zu rows (at most %d)", n,
		    WG_IMPORT_BATCH_MAX);
		return WG_E_INTERNAL;
	}
	b = xcalloc(1, sizeof(*b));
	b->tenant_id = tenant_id;
	b->import_id = import_id;
	b->rows = rows;
	b->n = n;
	b->now = wg_now_ms();
	for (i = 0; i < n; i++)
		b->caller_err[i] = rows[i].err;
	/*
	 * A concurrent import of the same device can win the unique index
	 * between our lookup and our insert: the second try then classifies
	 * the row as registered.  Inside the caller's transaction the
	 * failure dooms it, so the caller retries instead.
	 */
	for (attempt = 0; attempt < (c->depth == 0 ? 2 : 1); attempt++) {
		batch_reset(b);
		if ((rc = store_in_tx(c, batch_write, b)) != WG_E_CONFLICT)
			break;
	}
	if (rc != WG_OK)
		batch_reset(b); /* nothing was written */
	free(b->by_ek);
	free(b->by_serial);
	free(b);
	return rc;
}
