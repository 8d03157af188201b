/*
 * The store's tests: opening and migrating, tenants, API keys, audit,
 * transactions and connections.  Every case runs on SQLite and on
 * PostgreSQL (store_fixture.h); the registry's are in test_store_registry.c,
 * the profiles' in test_store_profile.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store_fixture.h"

static struct wg_api_key
make_key(const char *tenant_id, const char *name, unsigned char fill)
{
	struct wg_api_key k;

	memset(&k, 0, sizeof(k));
	wg_uuid(k.id);
	snprintf(k.tenant_id, sizeof(k.tenant_id), "%s", tenant_id);
	k.role = tenant_id[0] != '\0' ? WG_KEY_ADMIN : WG_KEY_OPERATOR;
	snprintf(k.name, sizeof(k.name), "%s", name);
	memset(k.secret_hash, fill, sizeof(k.secret_hash));
	k.secret_hash[0] = 0x0f; /* both hex digits of a byte matter */
	k.created_ms = 1700000000000 + fill;
	return k;
}

/* make_key(), inserted. */
static struct wg_api_key
add_key(struct fx *f, const char *tenant_id, const char *name, int fill)
{
	struct wg_api_key k = make_key(tenant_id, name, (unsigned char)fill);

	OK(store_api_key_insert(f->c, &k));
	return k;
}

static struct wg_api_key
get_key(struct fx *f, const char *id)
{
	struct wg_api_key k;

	OK(store_api_key_get(f->c, id, &k));
	return k;
}

static struct wg_event *
make_event(int i)
{
	struct wg_event *ev = wg_event_new("autopilot", 160 + i,
	    WG_LEVEL_INFO, WG_PHASE_PROFILE, i % 2 ? WG_E_DB_UNAVAILABLE :
	    WG_OK, "event %d", i);

	wg_event_set_correlation(ev, "ztd-correlation");
	wg_event_add(ev, "serial", "SN-%d", i);
	return ev;
}

static void
append(struct fx *f, const char *tenant, int i)
{
	struct wg_event *ev = make_event(i);

	OK(store_audit_append(f->c, tenant, NULL, NULL, ev));
	wg_event_free(ev);
}

static size_t
tenant_count(struct fx *f)
{
	struct wg_tenant *list;
	size_t n;

	OK(store_tenant_list(f->c, &list, &n));
	free(list);
	return n;
}

/* ---- open and migrations ---- */


/* Every migration is recorded exactly once, up to the newest. */
static void
assert_applied_once(struct store_conn *c)
{
	int64_t v, n;

	OK(store_migrations_applied(c, &v, &n));
	assert_int_equal(v, store_known_version());
	assert_int_equal(n, store_known_version());
}

static void
test_store_open_migrates(void **state)
{
	struct fx *f = *state;

	assert_string_equal(store_backend(f->st), f->be->name);
	assert_int_equal(store_schema_version(f->st), store_known_version());
	assert_applied_once(f->c);
	OK(store_ping(f->c));
}

static void
test_store_open_idempotent(void **state)
{
	struct fx *f = *state;
	struct store *again;

	OK(store_open(f->url, &again));
	assert_int_equal(store_schema_version(again), store_known_version());
	store_close(again);
	assert_applied_once(f->c);
}

static void
test_store_open_newer_schema(void **state)
{
	struct fx *f = *state;
	struct store *st = (struct store *)1;

	OK(store_conn_script(f->c, "INSERT INTO "
	    "schema_migrations (version, name, applied_ms) "
	    "VALUES (999, 'from_the_future', 0)"));
	assert_int_equal(store_open(f->url, &st), WG_E_DB_SCHEMA);
	assert_null(st);
}

#define OPENERS 6

struct opener {
	const char *url;
	pthread_barrier_t *go;
	enum wg_err rc;
	int version;
};

static void *
opener_run(void *arg)
{
	struct opener *o = arg;
	struct store *st;

	pthread_barrier_wait(o->go);
	if ((o->rc = store_open(o->url, &st)) == WG_OK)
		o->version = store_schema_version(st);
	store_close(st);
	return NULL;
}

/* Servers starting at once on an empty database migrate it once. */
static void
test_store_open_concurrent(void **state)
{
	struct fx *f = *state;
	struct opener o[OPENERS];
	pthread_t th[OPENERS];
	pthread_barrier_t go;
	struct store *st;
	struct store_conn *c;
	char url[1024];
	int i;

	fresh_url(f, url, sizeof(url));
	assert_int_equal(pthread_barrier_init(&go, NULL, OPENERS), 0);
	for (i = 0; i < OPENERS; i++) {
		o[i] = (struct opener){url, &go, WG_E_INTERNAL, 0};
		assert_int_equal(pthread_create(&th[i], NULL, opener_run,
		    &o[i]), 0);
	}
	for (i = 0; i < OPENERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&go);
	for (i = 0; i < OPENERS; i++) {
		OK(o[i].rc);
		assert_int_equal(o[i].version, store_known_version());
	}
	OK(store_open(url, &st));
	OK(store_conn_get(st, &c));
	assert_applied_once(c);
	store_close(st);
}

static void
test_store_open_unreachable(void **state)
{
	struct fx *f = *state;
	struct store *st = (struct store *)1;
	char url[128], name[32];
	int64_t t0 = wg_mono_ms();

	if (is_pg(f)) {
		/* port 1 (tcpmux): nothing listens there */
		snprintf(url, sizeof(url), "postgresql://postgres@127.0.0.1:"
		    "1/postgres");
	} else {
		random_name(name, sizeof(name), "wg-none-");
		snprintf(url, sizeof(url), "sqlite:/tmp/%s/wg.db", name);
	}
	assert_int_equal(store_open(url, &st), WG_E_DB_UNAVAILABLE);
	assert_null(st);
	assert_true(wg_mono_ms() - t0 < 5000);
}

static void
test_store_open_bad_url(void **state)
{
	struct store *st = (struct store *)1;

	(void)state;
	assert_int_equal(store_open("mysql://h/db", &st), WG_E_DB_URL);
	assert_null(st);
	assert_int_equal(store_open("sqlite:", &st), WG_E_DB_URL);
	assert_int_equal(store_open("/var/lib/wg.db", &st), WG_E_DB_URL);
}

/* ---- tenants ---- */

static void
test_store_tenant_create_get(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t, got;
	int64_t now = wg_now_ms();

	OK(store_tenant_create(f->c, "acme", &t));
	assert_true(wg_is_uuid(t.id));
	assert_string_equal(t.name, "acme");
	assert_true(t.created_ms >= now - 1000 && t.created_ms <= now + 1000);
	OK(store_tenant_get(f->c, t.id, &got));
	assert_string_equal(got.id, t.id);
	assert_string_equal(got.name, "acme");
	assert_int_equal(got.created_ms, t.created_ms);
}

static void
test_store_tenant_create_duplicate(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t;

	OK(store_tenant_create(f->c, "acme", &t));
	assert_int_equal(store_tenant_create(f->c, "acme", &t),
	    WG_E_CONFLICT);
	assert_int_equal(tenant_count(f), 1);
}

static void
test_store_tenant_get_unknown(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t;
	char id[WG_UUID_LEN + 1];

	wg_uuid(id);
	assert_int_equal(store_tenant_get(f->c, id, &t), WG_E_NOT_FOUND);
	assert_int_equal(store_tenant_get(f->c, "", &t), WG_E_NOT_FOUND);
}

static void
test_store_tenant_list_all(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t, *list;
	size_t n, i;
	int seen = 0;

	assert_int_equal(tenant_count(f), 0);
	OK(store_tenant_create(f->c, "a", &t));
	OK(store_tenant_create(f->c, "b", &t));
	OK(store_tenant_create(f->c, "c", &t));
	OK(store_tenant_list(f->c, &list, &n));
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_true(wg_is_uuid(list[i].id));
		seen |= 1 << (list[i].name[0] - 'a');
	}
	assert_int_equal(seen, 7);
	free(list);
}

/* Off by default; set and cleared per tenant; unknown ids not found. */
static void
test_store_tenant_set_recovery(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t1, t2, got, *list;
	char id[WG_UUID_LEN + 1];
	size_t n;

	OK(store_tenant_create(f->c, "one", &t1));
	OK(store_tenant_create(f->c, "two", &t2));
	assert_int_equal(t1.allow_join_recovery, 0);
	OK(store_tenant_get(f->c, t1.id, &got));
	assert_int_equal(got.allow_join_recovery, 0);

	OK(store_tenant_set_recovery(f->c, t1.id, 1, &got));
	assert_string_equal(got.id, t1.id);
	assert_string_equal(got.name, "one");
	assert_int_equal(got.created_ms, t1.created_ms);
	assert_int_equal(got.allow_join_recovery, 1);
	OK(store_tenant_get(f->c, t1.id, &got));
	assert_int_equal(got.allow_join_recovery, 1);
	OK(store_tenant_get(f->c, t2.id, &got));
	assert_int_equal(got.allow_join_recovery, 0);
	OK(store_tenant_list(f->c, &list, &n));
	assert_int_equal(n, 2);
	assert_int_equal(list[0].allow_join_recovery +
	    list[1].allow_join_recovery, 1);
	assert_int_equal(strcmp(list[0].id, t1.id) == 0 ?
	    list[0].allow_join_recovery : list[1].allow_join_recovery, 1);
	free(list);

	/* any non-zero is stored as 1: the column's CHECK allows 0 and 1 */
	OK(store_tenant_set_recovery(f->c, t1.id, 7, &got));
	assert_int_equal(got.allow_join_recovery, 1);
	OK(store_tenant_set_recovery(f->c, t1.id, 0, &got));
	assert_int_equal(got.allow_join_recovery, 0);
	OK(store_tenant_get(f->c, t1.id, &got));
	assert_int_equal(got.allow_join_recovery, 0);

	wg_uuid(id);
	assert_int_equal(store_tenant_set_recovery(f->c, id, 1, &got),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_tenant_set_recovery(f->c, "", 1, &got),
	    WG_E_NOT_FOUND);
	assert_string_equal(got.id, "");
}

/* The column refuses anything but 0 and 1, whoever writes it. */
static void
test_store_tenant_recovery_check(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t;
	char sql[256];

	OK(store_tenant_create(f->c, "acme", &t));
	snprintf(sql, sizeof(sql), "UPDATE tenants SET allow_join_recovery "
	    "= 2 WHERE id = '%s'", t.id);
	assert_int_not_equal(store_conn_script(f->c, sql), WG_OK);
}

/* ---- API keys ---- */

static void
test_store_api_key_insert_get(void **state)
{
	struct fx *f = *state;
	struct wg_api_key k, got;
	struct wg_tenant t;

	OK(store_tenant_create(f->c, "acme", &t));
	k = make_key(t.id, "ci key", 0xa5);
	k.last_used_ms = 42;
	OK(store_api_key_insert(f->c, &k));
	OK(store_api_key_get(f->c, k.id, &got));
	assert_string_equal(got.id, k.id);
	assert_string_equal(got.tenant_id, t.id);
	assert_int_equal(got.role, WG_KEY_ADMIN);
	assert_string_equal(got.name, "ci key");
	assert_memory_equal(got.secret_hash, k.secret_hash, 32);
	assert_int_equal(got.created_ms, k.created_ms);
	assert_int_equal(got.revoked_ms, 0);
	assert_int_equal(got.last_used_ms, 42);
	assert_int_equal(store_api_key_insert(f->c, &k), WG_E_CONFLICT);
	wg_uuid(k.id);
	assert_int_equal(store_api_key_get(f->c, k.id, &got), WG_E_NOT_FOUND);
}

static void
test_store_api_key_insert_unknown_tenant(void **state)
{
	struct fx *f = *state;
	struct wg_api_key k, got;
	char id[WG_UUID_LEN + 1];

	wg_uuid(id);
	k = make_key(id, "orphan", 1);
	assert_int_equal(store_api_key_insert(f->c, &k), WG_E_NOT_FOUND);
	assert_int_equal(store_api_key_get(f->c, k.id, &got), WG_E_NOT_FOUND);
}

static void
test_store_api_key_list_per_tenant(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t1, t2;
	struct wg_api_key *list;
	size_t n;

	OK(store_tenant_create(f->c, "one", &t1));
	OK(store_tenant_create(f->c, "two", &t2));
	add_key(f, t1.id, "1a", 1);
	add_key(f, t1.id, "1b", 2);
	add_key(f, t2.id, "2a", 3);
	add_key(f, "", "op", 4);

	OK(store_api_key_list(f->c, t1.id, &list, &n));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "1a"); /* by creation */
	assert_string_equal(list[1].name, "1b");
	free(list);
	OK(store_api_key_list(f->c, t2.id, &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].tenant_id, t2.id);
	free(list);
	OK(store_api_key_list(f->c, "", &list, &n));
	assert_int_equal(n, 1);
	assert_int_equal(list[0].role, WG_KEY_OPERATOR);
	assert_string_equal(list[0].tenant_id, "");
	free(list);
}

static void
test_store_api_key_revoke_own(void **state)
{
	struct fx *f = *state;
	struct wg_api_key k;
	struct wg_tenant t;

	OK(store_tenant_create(f->c, "acme", &t));
	k = add_key(f, t.id, "k", 1);
	OK(store_api_key_revoke(f->c, t.id, k.id, 5000));
	assert_int_equal(get_key(f, k.id).revoked_ms, 5000);
	/* revoking again keeps the first time */
	OK(store_api_key_revoke(f->c, t.id, k.id, 6000));
	assert_int_equal(get_key(f, k.id).revoked_ms, 5000);
	/* the operator's key is revoked through "" */
	k = add_key(f, "", "op", 2);
	OK(store_api_key_revoke(f->c, "", k.id, 7000));
	assert_int_equal(get_key(f, k.id).revoked_ms, 7000);
}

static void
test_store_api_key_revoke_other_tenant(void **state)
{
	struct fx *f = *state;
	struct wg_api_key k, op;
	struct wg_tenant t1, t2;

	OK(store_tenant_create(f->c, "one", &t1));
	OK(store_tenant_create(f->c, "two", &t2));
	k = add_key(f, t1.id, "k", 1);
	op = add_key(f, "", "op", 2);

	assert_int_equal(store_api_key_revoke(f->c, t2.id, k.id, 5000),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_api_key_revoke(f->c, "", k.id, 5000),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_api_key_revoke(f->c, t1.id, op.id, 5000),
	    WG_E_NOT_FOUND);
	assert_int_equal(get_key(f, k.id).revoked_ms, 0);
	assert_int_equal(get_key(f, op.id).revoked_ms, 0);
}

static void
test_store_api_key_touch_coarse(void **state)
{
	struct fx *f = *state;
	struct wg_api_key k;
	const int64_t t0 = 1700000000000;

	k = add_key(f, "", "op", 1);
	OK(store_api_key_touch(f->c, k.id, t0));
	assert_int_equal(get_key(f, k.id).last_used_ms, t0);
	OK(store_api_key_touch(f->c, k.id, t0 + 30000));
	assert_int_equal(get_key(f, k.id).last_used_ms, t0);
	OK(store_api_key_touch(f->c, k.id, t0 + 61000));
	assert_int_equal(get_key(f, k.id).last_used_ms, t0 + 61000);
}

/* ---- audit ---- */

static void
test_store_audit_append_list(void **state)
{
	struct fx *f = *state;
	struct wg_event *ev = make_event(1);
	char dev[WG_UUID_LEN + 1], req[WG_UUID_LEN + 1];
	struct wg_audit *list;
	struct wg_tenant t;
	size_t n;

	wg_uuid(dev);
	wg_uuid(req);
	wg_event_add(ev, "quote", "say \"hi\"\\ 'there'");
	OK(store_tenant_create(f->c, "acme", &t));
	OK(store_audit_append(f->c, t.id, dev, req, ev));
	OK(store_audit_list(f->c, t.id, 0, 100, &list, &n));
	assert_int_equal(n, 1);
	assert_true(list[0].seq > 0);
	assert_string_equal(list[0].tenant_id, t.id);
	assert_string_equal(list[0].device_id, dev);
	assert_string_equal(list[0].request_id, req);
	assert_int_equal(list[0].event->time_ms, ev->time_ms);
	assert_string_equal(list[0].event->channel, "autopilot");
	assert_int_equal(list[0].event->event_id, 161);
	assert_int_equal(list[0].event->level, WG_LEVEL_INFO);
	assert_int_equal(list[0].event->phase, WG_PHASE_PROFILE);
	assert_int_equal(list[0].event->err, WG_E_DB_UNAVAILABLE);
	assert_string_equal(list[0].event->message, "event 1");
	assert_string_equal(list[0].event->correlation_id, "ztd-correlation");
	assert_string_equal(wg_event_get(list[0].event, "serial"), "SN-1");
	assert_string_equal(wg_event_get(list[0].event, "quote"),
	    "say \"hi\"\\ 'there'");
	store_audit_list_free(list, n);
	wg_event_free(ev);
}

static void
test_store_audit_list_isolation(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t1, t2;
	struct wg_audit *list;
	size_t n, i;

	OK(store_tenant_create(f->c, "one", &t1));
	OK(store_tenant_create(f->c, "two", &t2));
	for (i = 0; i < 3; i++)
		append(f, t1.id, (int)i);
	append(f, t2.id, 10);
	append(f, t2.id, 11);
	append(f, NULL, 20);

	OK(store_audit_list(f->c, t1.id, 0, 100, &list, &n));
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		assert_string_equal(list[i].tenant_id, t1.id);
	store_audit_list_free(list, n);
	OK(store_audit_list(f->c, t2.id, 0, 100, &list, &n));
	assert_int_equal(n, 2);
	assert_int_equal(list[0].event->event_id, 170);
	store_audit_list_free(list, n);
	OK(store_audit_list(f->c, "", 0, 100, &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].tenant_id, "");
	assert_int_equal(list[0].event->event_id, 180);
	store_audit_list_free(list, n);
}

static void
test_store_audit_list_after_seq(void **state)
{
	struct fx *f = *state;
	struct wg_audit *list;
	struct wg_tenant t;
	int64_t after = 0;
	size_t n, i, total = 0;
	int pages = 0;

	OK(store_tenant_create(f->c, "acme", &t));
	for (i = 0; i < 10; i++)
		append(f, t.id, (int)i);
	do {
		OK(store_audit_list(f->c, t.id, after, 4, &list, &n));
		assert_true(n <= 4);
		for (i = 0; i < n; i++) {
			assert_true(list[i].seq > after);
			after = list[i].seq;
			assert_int_equal(list[i].event->event_id,
			    160 + (int)total);
			total++;
		}
		store_audit_list_free(list, n);
		pages++;
	} while (n > 0);
	assert_int_equal(total, 10);
	assert_int_equal(pages, 4); /* 4 + 4 + 2 + an empty one */
}

static void
test_store_audit_append_bad_id(void **state)
{
	struct fx *f = *state;
	struct wg_event *ev = make_event(1);
	struct wg_audit *list;
	size_t n;

	assert_int_equal(store_audit_append(f->c, NULL,
	    "a-device-id-much-longer-than-a-uuid-is-allowed-to-be", NULL, ev),
	    WG_E_INTERNAL);
	OK(store_audit_list(f->c, "", 0, 100, &list, &n));
	assert_int_equal(n, 0);
	store_audit_list_free(list, n);
	wg_event_free(ev);
}

/* ---- transactions ---- */

static void
test_store_rollback_discards(void **state)
{
	struct fx *f = *state;
	struct wg_api_key k, got;
	struct wg_tenant t;

	OK(store_begin(f->c));
	OK(store_tenant_create(f->c, "acme", &t));
	k = add_key(f, t.id, "k", 1);
	store_rollback(f->c);
	assert_int_equal(tenant_count(f), 0);
	assert_int_equal(store_api_key_get(f->c, k.id, &got), WG_E_NOT_FOUND);
	store_rollback(f->c); /* outside a transaction: nothing */
	OK(store_tenant_create(f->c, "acme", &t));
}

/* A write that fails halfway leaves nothing, and its commit says so. */
static void
test_store_rollback_failed_write(void **state)
{
	struct fx *f = *state;
	struct wg_api_key k;
	struct wg_tenant t;
	char id[WG_UUID_LEN + 1];

	wg_uuid(id);
	OK(store_begin(f->c));
	OK(store_tenant_create(f->c, "acme", &t));
	k = make_key(id, "k", 1); /* no such tenant */
	assert_int_equal(store_api_key_insert(f->c, &k), WG_E_NOT_FOUND);
	assert_int_equal(store_commit(f->c), WG_E_DB_ERROR);
	assert_int_equal(tenant_count(f), 0);

	OK(store_begin(f->c));
	OK(store_tenant_create(f->c, "x", &t));
	assert_int_equal(store_tenant_create(f->c, "x", &t), WG_E_CONFLICT);
	store_rollback(f->c);
	assert_int_equal(tenant_count(f), 0);
}

static void
test_store_commit_nested(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t;

	/* an inner commit only leaves its level */
	OK(store_begin(f->c));
	OK(store_begin(f->c));
	OK(store_tenant_create(f->c, "a", &t));
	OK(store_commit(f->c));
	store_rollback(f->c);
	assert_int_equal(tenant_count(f), 0);

	/* an inner rollback dooms the outer transaction */
	OK(store_begin(f->c));
	OK(store_tenant_create(f->c, "a", &t));
	OK(store_begin(f->c));
	store_rollback(f->c);
	assert_int_equal(store_tenant_create(f->c, "b", &t), WG_E_DB_ERROR);
	assert_int_equal(store_commit(f->c), WG_E_DB_ERROR);
	assert_int_equal(tenant_count(f), 0);

	OK(store_begin(f->c));
	OK(store_begin(f->c));
	OK(store_tenant_create(f->c, "a", &t));
	OK(store_commit(f->c));
	OK(store_commit(f->c));
	assert_int_equal(tenant_count(f), 1);
	assert_int_equal(store_commit(f->c), WG_E_INTERNAL);
}

/* ---- connections ---- */

#define THREADS 4
#define PER_THREAD 50

struct worker {
	struct store *st;
	int id;
	struct store_conn *c;
	enum wg_err rc;
	pthread_barrier_t *all_done; /* threads live until compared */
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct wg_tenant t;
	char name[32];
	int i;

	w->rc = store_conn_get(w->st, &w->c);
	for (i = 0; i < PER_THREAD && w->rc == WG_OK; i++) {
		snprintf(name, sizeof(name), "t%d-%d", w->id, i);
		w->rc = store_tenant_create(w->c, name, &t);
	}
	pthread_barrier_wait(w->all_done); /* the work is done */
	pthread_barrier_wait(w->all_done); /* the test compared */
	return NULL;
}

static void
test_store_conn_get_threads(void **state)
{
	struct fx *f = *state;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	pthread_barrier_t all_done;
	int i, j;

	/*
	 * A thread's connection is freed when it exits and its memory may
	 * be reused: the pointers are compared while every thread lives.
	 */
	assert_int_equal(pthread_barrier_init(&all_done, NULL, THREADS + 1),
	    0);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){f->st, i, NULL, WG_E_INTERNAL,
		    &all_done};
		assert_int_equal(pthread_create(&th[i], NULL, worker_run,
		    &w[i]), 0);
	}
	pthread_barrier_wait(&all_done);
	for (i = 0; i < THREADS; i++) {
		assert_ptr_not_equal(w[i].c, f->c);
		for (j = 0; j < i; j++)
			assert_ptr_not_equal(w[i].c, w[j].c);
	}
	pthread_barrier_wait(&all_done);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		OK(w[i].rc);
	}
	pthread_barrier_destroy(&all_done);
	assert_int_equal(tenant_count(f), THREADS * PER_THREAD);
}

/* PostgreSQL drops the connection: the store says so, then reconnects. */
static void
test_store_conn_get_reconnects(void **state)
{
	struct fx *f = *state;
	struct store_conn *c;
	struct wg_tenant t;
	char sql[256];

	if (!is_pg(f))
		skip(); /* a file cannot go away like a server */
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE datname = '%s'", f->dbname);

	assert_int_equal(admin_exec(sql), 0);
	assert_int_equal(store_ping(f->c), WG_E_DB_UNAVAILABLE);
	OK(store_conn_get(f->st, &c));
	assert_ptr_equal(c, f->c);
	OK(store_tenant_create(c, "after", &t));

	/* inside a transaction the loss sticks until the rollback */
	OK(store_begin(c));
	OK(store_tenant_create(c, "in-tx", &t));
	assert_int_equal(admin_exec(sql), 0);
	assert_int_equal(store_tenant_create(c, "lost", &t),
	    WG_E_DB_UNAVAILABLE);
	assert_int_not_equal(store_ping(c), WG_OK);
	store_rollback(c);
	OK(store_ping(c));
	assert_int_equal(tenant_count(f), 1);
}

#define CASES(be) \
	T(test_store_open_migrates, be), \
	T(test_store_open_idempotent, be), \
	T(test_store_open_newer_schema, be), \
	T(test_store_open_concurrent, be), \
	T(test_store_open_unreachable, be), \
	T(test_store_open_bad_url, be), \
	T(test_store_tenant_create_get, be), \
	T(test_store_tenant_create_duplicate, be), \
	T(test_store_tenant_get_unknown, be), \
	T(test_store_tenant_list_all, be), \
	T(test_store_tenant_set_recovery, be), \
	T(test_store_tenant_recovery_check, be), \
	T(test_store_api_key_insert_get, be), \
	T(test_store_api_key_insert_unknown_tenant, be), \
	T(test_store_api_key_list_per_tenant, be), \
	T(test_store_api_key_revoke_own, be), \
	T(test_store_api_key_revoke_other_tenant, be), \
	T(test_store_api_key_touch_coarse, be), \
	T(test_store_audit_append_list, be), \
	T(test_store_audit_list_isolation, be), \
	T(test_store_audit_list_after_seq, be), \
	T(test_store_audit_append_bad_id, be), \
	T(test_store_rollback_discards, be), \
	T(test_store_rollback_failed_write, be), \
	T(test_store_commit_nested, be), \
	T(test_store_conn_get_threads, be), \
	T(test_store_conn_get_reconnects, be)

STORE_FX_MAIN("test_store", "store")
