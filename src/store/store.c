/*
 * The store's one implementation of opening, migrations and every business
 * function, for both backends, over the driver interface in store_int.h
 * (connections and transactions are in store_conn.c).  All SQL text lives
 * here, once, with $1..$n parameters.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

/* api_key_touch writes at most this often per key. */
#define KEY_TOUCH_EVERY_MS 60000

enum store_q {
	Q_PING,
	Q_MIG_STATE,
	Q_MIG_RECORD,
	Q_TENANT_INSERT,
	Q_TENANT_GET,
	Q_TENANT_LIST,
	Q_TENANT_SET_RECOVERY,
	Q_KEY_INSERT,
	Q_KEY_GET,
	Q_KEY_LIST,
	Q_KEY_REVOKE,
	Q_KEY_TOUCH,
	Q_AUDIT_INSERT,
	Q_AUDIT_LIST,
	Q_AUDIT_LIST_NONE,
	Q_MAX
};
_Static_assert(Q_MAX <= STORE_STMT_MAX, "raise STORE_STMT_MAX");

#define TENANT_COLS "id, name, created_ms, allow_join_recovery"
#define KEY_COLS \
	"id, tenant_id, role, name, secret_hash, created_ms, revoked_ms, " \
	"last_used_ms"
#define AUDIT_COLS "seq, tenant_id, device_id, request_id, event"

static const char *const store_sql[Q_MAX] = {
	[Q_PING] = "SELECT 1",
	[Q_MIG_STATE] = "SELECT COALESCE(MAX(version), 0), COUNT(*) "
	    "FROM schema_migrations",
	[Q_MIG_RECORD] = "INSERT INTO schema_migrations (version, name, "
	    "applied_ms) VALUES ($1, $2, $3)",
	[Q_TENANT_INSERT] = "INSERT INTO tenants (id, name, created_ms) "
	    "VALUES ($1, $2, $3)",
	[Q_TENANT_GET] = "SELECT " TENANT_COLS " FROM tenants WHERE id = $1",
	[Q_TENANT_LIST] = "SELECT " TENANT_COLS " FROM tenants "
	    "ORDER BY created_ms, id",
	[Q_TENANT_SET_RECOVERY] = "UPDATE tenants SET allow_join_recovery = $2 "
	    "WHERE id = $1 RETURNING " TENANT_COLS,
	[Q_KEY_INSERT] = "INSERT INTO api_keys (" KEY_COLS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	[Q_KEY_GET] = "SELECT " KEY_COLS " FROM api_keys WHERE id = $1",
	/* api_keys is small: COALESCE keeps one statement for "". */
	[Q_KEY_LIST] = "SELECT " KEY_COLS " FROM api_keys "
	    "WHERE COALESCE(tenant_id, '') = $1 ORDER BY created_ms, id",
	/* A second revoke keeps the first time. */
	[Q_KEY_REVOKE] = "UPDATE api_keys SET revoked_ms = CASE WHEN "
	    "revoked_ms = 0 THEN $3 ELSE revoked_ms END "
	    "WHERE id = $1 AND COALESCE(tenant_id, '') = $2 RETURNING id",
	[Q_KEY_TOUCH] = "UPDATE api_keys SET last_used_ms = $2 "
	    "WHERE id = $1 AND last_used_ms < $3",
	[Q_AUDIT_INSERT] = "INSERT INTO audit_events (tenant_id, device_id, "
	    "request_id, time_ms, channel, event_id, level, correlation_id, "
	    "phase, code, message, details, event) VALUES ($1, $2, $3, $4, "
	    "$5, $6, $7, $8, $9, $10, $11, $12, $13)",
	/* Two statements so that both use the (tenant_id, seq) index. */
	[Q_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit_events "
	    "WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
	[Q_AUDIT_LIST_NONE] = "SELECT " AUDIT_COLS " FROM audit_events "
	    "WHERE tenant_id IS NULL AND seq > $1 ORDER BY seq LIMIT $2",
};

/* ---- statements ---- */

/* Runs statement id of the table above; see store_conn_run(). */
static enum wg_err
q(struct store_conn *c, enum store_q id, const struct store_param *p,
    size_t np, struct store_res *res)
{
	return store_conn_run(c, (unsigned)id, store_sql[id], p, np, res);
}

static enum wg_err
q_one(struct store_conn *c, enum store_q id, const struct store_param *p,
    size_t np, store_row_fn fn, void *out)
{
	return store_q_one(c, (unsigned)id, store_sql[id], p, np, fn, out);
}

static enum wg_err
q_list(struct store_conn *c, enum store_q id, const struct store_param *p,
    size_t np, store_row_fn fn, size_t size, void (*free_fn)(void *, size_t),
    void **out, size_t *n)
{
	return store_q_list(c, (unsigned)id, store_sql[id], p, np, fn, size,
	    free_fn, out, n);
}

/* Round trip for /ready; reconnects first if the connection was lost. */
enum wg_err
store_ping(struct store_conn *c)
{
	return q(c, Q_PING, NULL, 0, NULL);
}

/* ---- open, migrate, close ---- */

int
store_known_version(void)
{
	size_t i;
	int v = 0;

	for (i = 0; i < store_nmigrations; i++)
		if (store_migrations[i].version > v)
			v = store_migrations[i].version;
	return v;
}

/* The highest migration version applied and how many rows record them. */
enum wg_err
store_migrations_applied(struct store_conn *c, int64_t *version,
    int64_t *count)
{
	struct store_res res = {0};
	enum wg_err rc;

	if ((rc = q(c, Q_MIG_STATE, NULL, 0, &res)) == WG_OK) {
		*version = store_res_int(&res, 0, 0);
		*count = store_res_int(&res, 0, 1);
	}
	store_res_free(&res);
	return rc;
}

/* Runs the parts of migration v meant for this backend and records it. */
static enum wg_err
migrate_apply(struct store_conn *c, int v)
{
	const struct store_migration *m, *first = NULL;
	enum wg_err rc = WG_OK;
	size_t i;

	for (i = 0; i < store_nmigrations && rc == WG_OK; i++) {
		m = &store_migrations[i];
		if (m->version != v || (m->backend[0] != '\0' &&
		    strcmp(m->backend, c->st->drv->schema) != 0))
			continue;
		if (first == NULL)
			first = m;
		rc = store_conn_script(c, m->sql);
	}
	if (rc == WG_E_DB_UNAVAILABLE)
		return rc; /* not the migration's fault: retry later */
	if (rc != WG_OK || first == NULL) {
		wg_error("store: schema migration %03d failed", v);
		return WG_E_DB_SCHEMA;
	}
	struct store_param p[] = {P_INT(v), P_TEXT(first->name),
	    P_INT(wg_now_ms())};
	if ((rc = q(c, Q_MIG_RECORD, p, ARRAY_LEN(p), NULL)) != WG_OK)
		return rc;
	wg_info("store: applied schema migration %03d_%s", v, first->name);
	return WG_OK;
}

/*
 * One step, in its own transaction under the migration lock: reads the
 * version (another server may have moved it) and applies the next one.
 */
static enum wg_err
migrate_step(struct store_conn *c, int known, int *at)
{
	const struct store_driver *drv = c->st->drv;
	int64_t v = 0, n = 0;
	enum wg_err rc;

	if ((rc = store_begin(c)) != WG_OK)
		return rc;
	if (drv->migrate_lock_sql != NULL &&
	    (rc = store_conn_script(c, drv->migrate_lock_sql)) != WG_OK)
		goto done;
	rc = store_conn_script(c, "CREATE TABLE IF NOT EXISTS "
	    "schema_migrations (version INTEGER PRIMARY KEY, "
	    "name TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
	if (rc != WG_OK || (rc = store_migrations_applied(c, &v, &n)) != WG_OK)
		goto done;
	if (v > known) {
		wg_error("store: the database schema is at version %lld but "
		    "this whiteglove knows versions up to %d: run the newer "
		    "whiteglove, or restore a backup made for this one",
		    (long long)v, known);
		rc = WG_E_DB_SCHEMA;
		goto done;
	}
	if (v < known && (rc = migrate_apply(c, (int)v + 1)) == WG_OK)
		v++;
done:
	if (rc == WG_OK)
		rc = store_commit(c);
	else
		store_rollback(c);
	if (rc == WG_OK)
		*at = (int)v;
	return rc;
}

static enum wg_err
store_migrate(struct store *st, struct store_conn *c)
{
	int known = store_known_version(), at = -1;
	enum wg_err rc;

	do {
		if ((rc = migrate_step(c, known, &at)) != WG_OK)
			return rc;
	} while (at < known);
	st->version = at;
	return WG_OK;
}

/* Picks the driver for url; the target is the path or the whole URL. */
static enum wg_err
parse_url(const char *url, const struct store_driver **drv,
    const char **target)
{
	if (strncmp(url, "sqlite:", 7) == 0) {
		*drv = &store_sqlite_driver;
		*target = url + 7;
		if (**target == '\0' || strcmp(*target, ":memory:") == 0) {
			wg_error("store: sqlite: needs a file path (each "
			    "thread has its own connection)");
			return WG_E_DB_URL;
		}
		return WG_OK;
	}
	if (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0) {
		*drv = &store_pg_driver;
		*target = url;
		return WG_OK;
	}
	/* Not logged whole: a URL may carry a password. */
	wg_error("store: the database URL must start with sqlite: or "
	    "postgresql://");
	return WG_E_DB_URL;
}

/*
 * Opens url, connects the calling thread, and migrates.  *out is a new
 * store the caller frees with store_close(), NULL on failure.
 */
enum wg_err
store_open(const char *url, struct store **out)
{
	const struct store_driver *drv;
	struct store *st = NULL;
	struct store_conn *c;
	const char *target;
	enum wg_err rc;

	*out = NULL;
	if ((rc = parse_url(url, &drv, &target)) != WG_OK)
		return rc;
	st = xcalloc(1, sizeof(*st));
	st->drv = drv;
	st->target = xstrdup(target);
	if (pthread_mutex_init(&st->mu, NULL) != 0 ||
	    pthread_key_create(&st->key, store_conn_destroy) != 0)
		abort(); /* only resource exhaustion */
	if ((rc = store_conn_get(st, &c)) != WG_OK ||
	    (rc = store_migrate(st, c)) != WG_OK)
		goto done;
	*out = st;
	st = NULL;
done:
	store_close(st);
	return rc;
}

/*
 * Closes every connection (call it after the threads that used the store
 * stopped) and frees st.  NULL is a no-op.
 */
void
store_close(struct store *st)
{
	struct store_conn *c, *next;

	if (st == NULL)
		return;
	pthread_key_delete(st->key);
	for (c = st->conns; c != NULL; c = next) {
		next = c->next;
		store_conn_free(c);
	}
	pthread_mutex_destroy(&st->mu);
	free(st->target);
	free(st);
}

/* "sqlite" or "postgresql"; static. */
const char *
store_backend(const struct store *st)
{
	return st->drv->name;
}

/* The schema version found or reached by store_open(). */
int
store_schema_version(const struct store *st)
{
	return st->version;
}

/* ---- tenants ---- */

static int
tenant_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_tenant *t = out;

	memset(t, 0, sizeof(*t));
	if (store_res_copy(res, r, 0, t->id, sizeof(t->id)) != 0 ||
	    store_res_copy(res, r, 1, t->name, sizeof(t->name)) != 0)
		return -1;
	t->created_ms = store_res_int(res, r, 2);
	t->allow_join_recovery = store_res_int(res, r, 3) != 0;
	return 0;
}

/* Inserts a tenant with a fresh id into *out; WG_E_CONFLICT if taken. */
enum wg_err
store_tenant_create(struct store_conn *c, const char *name,
    struct wg_tenant *out)
{
	struct wg_tenant t;
	enum wg_err rc;
	size_t n = strlen(name);

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > WG_TENANT_NAME_MAX) {
		wg_error("store: tenant name of %zu bytes (1 to %d allowed)", n,
		    WG_TENANT_NAME_MAX);
		return WG_E_INTERNAL;
	}
	memset(&t, 0, sizeof(t));
	wg_uuid(t.id);
	memcpy(t.name, name, n + 1);
	t.created_ms = wg_now_ms();
	struct store_param p[] = {P_TEXT(t.id), P_TEXT(t.name),
	    P_INT(t.created_ms)};
	if ((rc = q(c, Q_TENANT_INSERT, p, ARRAY_LEN(p), NULL)) == WG_OK)
		*out = t;
	return rc;
}

/* Copies the tenant with id into *out; WG_E_NOT_FOUND if none. */
enum wg_err
store_tenant_get(struct store_conn *c, const char *id, struct wg_tenant *out)
{
	struct store_param p[] = {P_TEXT(id)};

	memset(out, 0, sizeof(*out));
	return q_one(c, Q_TENANT_GET, p, ARRAY_LEN(p), tenant_row, out);
}

/* All tenants by creation; *out is xmalloc'd (the caller frees it). */
enum wg_err
store_tenant_list(struct store_conn *c, struct wg_tenant **out, size_t *n)
{
	void *list;
	enum wg_err rc;

	rc = q_list(c, Q_TENANT_LIST, NULL, 0, tenant_row, sizeof(**out),
	    NULL, &list, n);
	*out = list;
	return rc;
}

/* Sets tenant id's join recovery setting; WG_E_NOT_FOUND if none. */
enum wg_err
store_tenant_set_recovery(struct store_conn *c, const char *id, int allow,
    struct wg_tenant *out)
{
	struct store_param p[] = {P_TEXT(id), P_INT(allow ? 1 : 0)};

	memset(out, 0, sizeof(*out));
	return q_one(c, Q_TENANT_SET_RECOVERY, p, ARRAY_LEN(p), tenant_row,
	    out);
}

/* ---- API keys ---- */


static int
key_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_api_key *k = out;
	int64_t role = store_res_int(res, r, 2);

	memset(k, 0, sizeof(*k));
	if (store_res_copy(res, r, 0, k->id, sizeof(k->id)) != 0 ||
	    store_res_copy(res, r, 1, k->tenant_id, sizeof(k->tenant_id)) != 0 ||
	    store_res_copy(res, r, 3, k->name, sizeof(k->name)) != 0)
		return -1;
	if (role < 0 || role >= WG_KEY_ROLE_MAX ||
	    wg_hex_decode(store_res_text(res, r, 4), k->secret_hash,
	    sizeof(k->secret_hash)) != 0) {
		wg_error("store: API key %s has a bad role or secret hash",
		    k->id);
		return -1;
	}
	k->role = (enum wg_key_role)role;
	k->created_ms = store_res_int(res, r, 5);
	k->revoked_ms = store_res_int(res, r, 6);
	k->last_used_ms = store_res_int(res, r, 7);
	return 0;
}

/* Inserts key; WG_E_NOT_FOUND if its tenant does not exist. */
enum wg_err
store_api_key_insert(struct store_conn *c, const struct wg_api_key *key)
{
	char hash[2 * sizeof(key->secret_hash) + 1];

	if ((unsigned)key->role >= WG_KEY_ROLE_MAX) {
		wg_error("store: API key role %d out of range", key->role);
		return WG_E_INTERNAL;
	}
	wg_hex(key->secret_hash, sizeof(key->secret_hash), hash);
	struct store_param p[] = {P_TEXT(key->id), P_OPT(key->tenant_id),
	    P_INT(key->role), P_TEXT(key->name), P_TEXT(hash),
	    P_INT(key->created_ms), P_INT(key->revoked_ms),
	    P_INT(key->last_used_ms)};
	return q(c, Q_KEY_INSERT, p, ARRAY_LEN(p), NULL);
}

/* Copies the key with id, revoked or not, into *out; WG_E_NOT_FOUND. */
enum wg_err
store_api_key_get(struct store_conn *c, const char *id, struct wg_api_key *out)
{
	struct store_param p[] = {P_TEXT(id)};

	memset(out, 0, sizeof(*out));
	return q_one(c, Q_KEY_GET, p, ARRAY_LEN(p), key_row, out);
}

/* Keys of tenant_id ("" for the operator's) by creation; caller frees. */
enum wg_err
store_api_key_list(struct store_conn *c, const char *tenant_id,
    struct wg_api_key **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id)};
	void *list;
	enum wg_err rc;

	rc = q_list(c, Q_KEY_LIST, p, ARRAY_LEN(p), key_row, sizeof(**out),
	    NULL, &list, n);
	*out = list;
	return rc;
}

/* Revokes key id of tenant_id; WG_E_NOT_FOUND if that tenant has none. */
enum wg_err
store_api_key_revoke(struct store_conn *c, const char *tenant_id,
    const char *id, int64_t now_ms)
{
	struct store_param p[] = {P_TEXT(id), P_TEXT(tenant_id), P_INT(now_ms)};
	struct store_res res = {0};
	enum wg_err rc;

	rc = q(c, Q_KEY_REVOKE, p, ARRAY_LEN(p), &res);
	if (rc == WG_OK && res.nrows == 0)
		rc = WG_E_NOT_FOUND;
	store_res_free(&res);
	return rc;
}

/* Sets last_used_ms unless it was set less than a minute ago. */
enum wg_err
store_api_key_touch(struct store_conn *c, const char *id, int64_t now_ms)
{
	struct store_param p[] = {P_TEXT(id), P_INT(now_ms),
	    P_INT(now_ms - KEY_TOUCH_EVERY_MS)};

	return q(c, Q_KEY_TOUCH, p, ARRAY_LEN(p), NULL);
}

/* ---- audit ---- */

/*
 * The line stored for ev: wg_event_to_json(), with details dropped from
 * the end until it fits what wg_event_parse() reads back.  Caller frees.
 */
static char *
audit_line(const struct wg_event *ev)
{
	struct wg_event tmp = *ev; /* shallow: only ndetails changes */
	char *line;

	for (;;) {
		line = wg_event_to_json(&tmp);
		if (strlen(line) <= WG_EVENT_MAX_LINE || tmp.ndetails == 0)
			break;
		free(line);
		tmp.ndetails--;
	}
	if (tmp.ndetails < ev->ndetails)
		wg_warn("store: audit event %d: %zu details dropped to fit %d "
		    "bytes", ev->event_id, ev->ndetails - tmp.ndetails,
		    WG_EVENT_MAX_LINE);
	return line;
}

/* The details of ev as a JSON object, for SQL readers; caller frees. */
static char *
audit_details(const struct wg_event *ev)
{
	json_t *d = json_object();
	char *s;
	size_t i;

	for (i = 0; i < ev->ndetails; i++)
		json_object_set_new(d, ev->details[i].key,
		    json_string(ev->details[i].value));
	s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(d);
	if (s == NULL)
		abort(); /* out of memory: the strings were checked */
	return s;
}

static int
id_ok(const char *id)
{
	return id == NULL || strlen(id) <= WG_UUID_LEN;
}

/*
 * Appends ev.  The stored line is first read back with wg_event_parse():
 * an event that would not parse is refused (WG_E_INTERNAL), since it would
 * break every later listing of its tenant.
 */
enum wg_err
store_audit_append(struct store_conn *c, const char *tenant_id,
    const char *device_id, const char *request_id, const struct wg_event *ev)
{
	char code[16], why[160];
	struct wg_event *e = NULL;
	char *line, *details = NULL;
	enum wg_err rc = WG_E_INTERNAL;

	line = audit_line(ev);
	if (!id_ok(tenant_id) || !id_ok(device_id) || !id_ok(request_id)) {
		wg_error("store: audit event %d: an id longer than %d bytes",
		    ev->event_id, WG_UUID_LEN);
		goto done;
	}
	if (wg_event_parse(line, strlen(line), &e, why, sizeof(why)) !=
	    WG_OK) {
		wg_error("store: audit event %d not stored: %s", ev->event_id,
		    why);
		goto done;
	}
	details = audit_details(e);
	wg_err_code_str(e->err, code, sizeof(code));
	struct store_param p[] = {P_OPT(tenant_id), P_OPT(device_id),
	    P_OPT(request_id), P_INT(e->time_ms), P_TEXT(e->channel),
	    P_INT(e->event_id), P_TEXT(wg_level_name(e->level)),
	    P_OPT(e->correlation_id), P_TEXT(wg_phase_name(e->phase)),
	    P_TEXT(e->err == WG_OK ? "0x00000000" : code), P_TEXT(e->message),
	    P_TEXT(details), P_TEXT(line)};
	rc = q(c, Q_AUDIT_INSERT, p, ARRAY_LEN(p), NULL);
done:
	wg_event_free(e);
	free(details);
	free(line);
	return rc;
}

static int
audit_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_audit *a = out;
	const char *line = store_res_text(res, r, 4);
	char why[160];

	memset(a, 0, sizeof(*a));
	a->seq = store_res_int(res, r, 0);
	if (store_res_copy(res, r, 1, a->tenant_id, sizeof(a->tenant_id)) != 0 ||
	    store_res_copy(res, r, 2, a->device_id, sizeof(a->device_id)) != 0 ||
	    store_res_copy(res, r, 3, a->request_id, sizeof(a->request_id)) != 0)
		return -1;
	if (wg_event_parse(line, strlen(line), &a->event, why, sizeof(why)) !=
	    WG_OK) {
		wg_error("store: audit record %lld does not parse: %s",
		    (long long)a->seq, why);
		return -1;
	}
	return 0;
}

static void
audit_free(void *list, size_t n)
{
	store_audit_list_free(list, n);
}

/*
 * Records of tenant_id ("" for those without) after after_seq, oldest
 * first, at most limit (capped at WG_AUDIT_LIST_MAX).  Free *out with
 * store_audit_list_free().
 */
enum wg_err
store_audit_list(struct store_conn *c, const char *tenant_id,
    int64_t after_seq, size_t limit, struct wg_audit **out, size_t *n)
{
	int64_t lim = limit < WG_AUDIT_LIST_MAX ? (int64_t)limit :
	    WG_AUDIT_LIST_MAX;
	struct store_param p[] = {P_TEXT(tenant_id), P_INT(after_seq),
	    P_INT(lim)};
	void *list;
	enum wg_err rc;

	if (tenant_id[0] != '\0')
		rc = q_list(c, Q_AUDIT_LIST, p, 3, audit_row, sizeof(**out),
		    audit_free, &list, n);
	else
		rc = q_list(c, Q_AUDIT_LIST_NONE, p + 1, 2, audit_row,
		    sizeof(**out), audit_free, &list, n);
	*out = list;
	return rc;
}

/* Frees list and the events it owns; NULL is a no-op. */
void
store_audit_list_free(struct wg_audit *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		wg_event_free(list[i].event);
	free(list);
}
