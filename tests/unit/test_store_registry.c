/*
 * The store's tests of the device registry and attestation: EK
 * certificates and revocations, the EK list, the hardware hash as bytes
 * (migration 004), and imports on a bulk connection.  Every case runs on
 * SQLite and on PostgreSQL (store_fixture.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

/* ---- attestation ---- */

static void
ekcert_fill(struct wg_ekcert *e, char id_char)
{
	memset(e, 0, sizeof(*e));
	memset(e->ek_id, id_char, WG_EK_ID_LEN);
	snprintf(e->ek_alg, sizeof(e->ek_alg), "rsa");
	memset(e->ek_sha256, 'd', 64);
	snprintf(e->ek_public, sizeof(e->ek_public), "AAE=");
	snprintf(e->certificate, sizeof(e->certificate), "MIIB");
	snprintf(e->cert_serial, sizeof(e->cert_serial), "01");
	snprintf(e->manufacturer, sizeof(e->manufacturer), "id:49424D00");
	snprintf(e->model, sizeof(e->model), "swtpm");
	snprintf(e->version, sizeof(e->version), "id:20191023");
}

/* Registered once, listed in id order, revoked once for good. */
static void
test_store_ekcert_put_list_revoke(void **state)
{
	struct fx *f = *state;
	struct wg_ekcert a, b, got, *list = NULL;
	char reason[WG_REASON_MAX + 1];
	int64_t when;
	size_t n;

	ekcert_fill(&a, 'B');
	ekcert_fill(&b, 'A');
	OK(store_ekcert_put(f->c, &a));
	OK(store_ekcert_put(f->c, &b));
	assert_int_equal(store_ekcert_put(f->c, &a), WG_E_CONFLICT);
	OK(store_ekcert_get(f->c, a.ek_id, &got));
	assert_string_equal(got.model, "swtpm");
	assert_int_equal(got.revoked_ms, 0);
	OK(store_ekcert_list(f->c, "", 10, &list, &n));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].ek_id, b.ek_id);
	free(list);
	OK(store_ek_revoked(f->c, a.ek_id, &when, reason));
	assert_int_equal(when, 0);
	OK(store_ek_revoke(f->c, a.ek_id, "firmware recall"));
	OK(store_ek_revoke(f->c, a.ek_id, "again"));
	OK(store_ek_revoked(f->c, a.ek_id, &when, reason));
	assert_true(when > 0);
	assert_string_equal(reason, "firmware recall");
	OK(store_ekcert_get(f->c, a.ek_id, &got));
	assert_int_equal(got.revoked_ms, when);
	/* an EK nobody certified can be revoked too */
	OK(store_ek_revoke(f->c, "not-certified-here", "stolen"));
	OK(store_ek_revoked(f->c, "not-certified-here", &when, reason));
	assert_true(when > 0);
	assert_int_equal(store_ekcert_get(f->c, "none", &got), WG_E_NOT_FOUND);
}

/* An EK is on the list once some tenant imported a hash carrying it. */
static void
test_store_ek_on_list_any_tenant(void **state)
{
	struct fx *f = *state;
	struct wg_import_row row = {.row_number = 1, .serial = "SER-9",
	    .hardware_hash = (const unsigned char *)"WGHH",
	    .hardware_hash_len = 4};
	struct wg_tenant t;
	struct wg_import im;
	int found = 1;

	memset(row.ek_sha256, 'e', 64);
	OK(store_ek_on_list(f->c, row.ek_sha256, &found));
	assert_int_equal(found, 0);
	OK(store_tenant_create(f->c, "list", &t));
	OK(store_import_create(f->c, t.id, "csv", "test", &im));
	OK(store_import_batch(f->c, t.id, im.id, &row, 1));
	OK(store_ek_on_list(f->c, row.ek_sha256, &found));
	assert_int_equal(found, 1);
	row.ek_sha256[63] = 'f'; /* same ek_key, another digest */
	OK(store_ek_on_list(f->c, row.ek_sha256, &found));
	assert_int_equal(found, 0);
}

/* A statement id of the tests' own (the store's end below it). */
#define Q_TEST (STORE_STMT_MAX - 1)

/* Runs migration v's parts for f's backend, as the store would. */
static void
run_migration(struct fx *f, int v)
{
	const char *schema = is_pg(f) ? "pg" : "sqlite";
	size_t i, ran = 0;

	for (i = 0; i < store_nmigrations; i++) {
		const struct store_migration *m = &store_migrations[i];

		if (m->version != v || (m->backend[0] != '\0' &&
		    strcmp(m->backend, schema) != 0))
			continue;
		OK(store_conn_script(f->c, m->sql));
		ran++;
	}
	assert_true(ran > 0);
}

/*
 * 004_hash_bytes turns the base64 text hashes of earlier versions into
 * their bytes: the column is put back as 003 left it, then 004 runs.
 */
static void
test_store_migration_004_hash_bytes(void **state)
{
	struct fx *f = *state;
	static const unsigned char blob[5] = {'W', 'G', 'H', 'H', 1};
	struct wg_import_row row = {.row_number = 1, .serial = "SER-1",
	    .hardware_hash = blob, .hardware_hash_len = sizeof(blob)};
	struct store_res res = {0};
	struct wg_tenant t;
	struct wg_import im;

	OK(store_tenant_create(f->c, "m4", &t));
	OK(store_import_create(f->c, t.id, "csv", "test", &im));
	memset(row.ek_sha256, 'c', 64);
	OK(store_import_batch(f->c, t.id, im.id, &row, 1));
	OK(row.err);
	OK(store_conn_script(f->c, is_pg(f) ?
	    "ALTER TABLE device_identities ALTER COLUMN hardware_hash TYPE "
	    "TEXT USING encode(hardware_hash, 'base64')" :
	    "UPDATE device_identities SET hardware_hash = 'V0dISAE='"));
	run_migration(f, 4);
	OK(store_conn_run(f->c, Q_TEST, is_pg(f) ?
	    "SELECT encode(hardware_hash, 'hex'), pg_typeof(hardware_hash) "
	    "FROM device_identities" : "SELECT lower(hex(hardware_hash)), "
	    "typeof(hardware_hash) FROM device_identities", NULL, 0, &res));
	assert_int_equal(res.nrows, 1);
	assert_string_equal(res.cell[0], "5747484801");
	assert_string_equal(res.cell[1], is_pg(f) ? "bytea" : "blob");
	store_res_free(&res);
}

/* ---- imports on a bulk connection ---- */

struct bulk_case {
	struct store *st;
	const char *tenant_id, *import_id;
	struct wg_import_row rows[2];
	enum wg_err rc;
};

/* One batch on a thread's own connection, made a bulk writer's. */
static void *
bulk_run(void *arg)
{
	struct bulk_case *b = arg;
	struct store_conn *c;

	if ((b->rc = store_conn_get(b->st, &c)) == WG_OK &&
	    (b->rc = store_conn_bulk(c)) == WG_OK)
		b->rc = store_import_batch(c, b->tenant_id, b->import_id,
		    b->rows, 2);
	return NULL;
}

static enum wg_err
bulk_batch(struct fx *f, const char *tenant_id, const char *import_id)
{
	struct bulk_case b = {f->st, tenant_id, import_id, {{0}}, WG_OK};
	pthread_t th;
	int i;

	for (i = 0; i < 2; i++) {
		b.rows[i].row_number = i + 1;
		b.rows[i].serial = i ? "SER-2" : "SER-1";
		b.rows[i].hardware_hash = (const unsigned char *)"WGHH";
		b.rows[i].hardware_hash_len = 4;
		memset(b.rows[i].ek_sha256, i ? 'b' : 'a', 64);
	}
	assert_int_equal(pthread_create(&th, NULL, bulk_run, &b), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	return b.rc;
}

static size_t
device_count(struct fx *f, const char *tenant_id)
{
	struct wg_device_filter all = {.limit = 100};
	struct wg_directory_device *dirs;
	struct wg_device *devs;
	size_t n, ndir;

	OK(store_device_list(f->c, tenant_id, &all, &devs, &n));
	OK(store_directory_list(f->c, tenant_id, "", 100, &dirs, &ndir));
	free(devs);
	free(dirs);
	assert_int_equal(n, ndir);
	return n;
}

/*
 * A bulk writer skips SQLite's per-row foreign-key checks: the batch's
 * own check of its import (and tenant) must refuse, writing nothing.
 */
static void
test_store_import_bulk_checks_parents(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t, other;
	struct wg_import im;

	OK(store_tenant_create(f->c, "bulk", &t));
	OK(store_tenant_create(f->c, "bulk-other", &other));
	OK(store_import_create(f->c, t.id, "csv", "test", &im));
	assert_int_equal(bulk_batch(f, t.id,
	    "00000000-0000-7000-8000-000000000000"), WG_E_NOT_FOUND);
	assert_int_equal(bulk_batch(f, other.id, im.id), WG_E_NOT_FOUND);
	assert_int_equal(device_count(f, t.id), 0);
	assert_int_equal(device_count(f, other.id), 0);
	OK(bulk_batch(f, t.id, im.id));
	assert_int_equal(device_count(f, t.id), 2);
	OK(store_import_get(f->c, t.id, im.id, &im));
	assert_int_equal(im.imported, 2);
	assert_int_equal(im.total, 2);
}

#define CASES(be) \
	T(test_store_import_bulk_checks_parents, be), \
	T(test_store_migration_004_hash_bytes, be), \
	T(test_store_ekcert_put_list_revoke, be), \
	T(test_store_ek_on_list_any_tenant, be)

STORE_FX_MAIN("test_store_registry", "store_registry")
