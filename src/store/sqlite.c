/*
 * The SQLite driver: what libsqlite3 forces and nothing else.  One
 * connection per thread (the store's pthread key), so connections are
 * opened without SQLite's own mutex.  WAL, a busy timeout, foreign keys on
 * (off on an import's bulk writer: see .bulk_sql).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

#define SQ_BUSY_TIMEOUT_MS 5000

/*
 * Translates rc and logs the database's message once.  Constraint
 * failures are outcomes the caller expects (a taken name, a missing
 * parent): logged at info level.
 */
/* A prepared statement and where each $N of its SQL is bound. */
struct sq_stmt {
	sqlite3_stmt *s;
	int *index; /* index[N - 1]: SQLite's index of $N (0: absent) */
	size_t n;
};

static enum wg_err
sq_err(struct store_conn *c, int rc, const char *what)
{
	enum wg_err err = WG_E_DB_ERROR;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
		err = WG_E_DB_UNAVAILABLE;
		break;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			err = WG_E_CONFLICT;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			err = WG_E_NOT_FOUND;
		break;
	}
	wg_log(err == WG_E_CONFLICT || err == WG_E_NOT_FOUND ? WG_LEVEL_INFO :
	    WG_LEVEL_ERROR, "sqlite: %s: %s (%s)", what,
	    c->db != NULL ? sqlite3_errmsg(c->db) : "-", sqlite3_errstr(rc));
	return err;
}

static enum wg_err
sq_script(struct store_conn *c, const char *sql)
{
	int rc;

	if ((rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return sq_err(c, rc, "script");
	return WG_OK;
}

/*
 * SQL function wg_base64_blob(text): the bytes of standard base64 text
 * (padded or not), for migrations that turn base64 columns into BLOBs;
 * NULL stays NULL, anything that is not canonical base64 is an error.
 */
static void
sq_base64_blob(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *in = (const char *)sqlite3_value_text(argv[0]);
	size_t len, n, bad;
	unsigned char *out;

	(void)argc;
	if (in == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	len = (size_t)sqlite3_value_bytes(argv[0]);
	if (len > 0 && in[len - 1] == '=')
		len -= 1 + (len > 1 && in[len - 2] == '=');
	out = xmalloc(len * 3 / 4 + 1);
	if (wg_b64_decode(in, len, WG_B64_STD, out, &n, &bad) != WG_B64_OK) {
		free(out);
		sqlite3_result_error(ctx, "wg_base64_blob: not base64", -1);
		return;
	}
	sqlite3_result_blob64(ctx, out, n, free);
}

/*
 * SQL function encode(blob, 'hex'): the bytes as lower-case hex, as
 * PostgreSQL's encode() gives them, so that a query reading bytes is
 * written once for both backends.  NULL stays NULL; other formats are an
 * error.
 */
static void
sq_encode(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *fmt = (const char *)sqlite3_value_text(argv[1]);
	const void *in;
	size_t n;
	char *out;

	(void)argc;
	if (fmt == NULL || strcmp(fmt, "hex") != 0) {
		sqlite3_result_error(ctx, "encode: only 'hex' is known", -1);
		return;
	}
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	in = sqlite3_value_blob(argv[0]);
	n = (size_t)sqlite3_value_bytes(argv[0]);
	out = xmalloc(2 * n + 1);
	wg_hex(in != NULL ? in : "", n, out);
	sqlite3_result_text64(ctx, out, 2 * n, free, SQLITE_UTF8);
}

/*
 * Runs a connection's setup script.  Servers opening a new database at
 * once race to make it WAL: a connection that read the header (the page
 * size) and then wants the write lock is answered SQLITE_BUSY at once,
 * not after the busy timeout (SQLite's deadlock avoidance), so the script
 * is tried again, for as long as the busy timeout.
 */
static enum wg_err
sq_setup(struct store_conn *c, const char *sql)
{
	int rc, waited;

	for (waited = 0;; waited += 10) {
		rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= SQ_BUSY_TIMEOUT_MS)
			break;
		usleep(10 * 1000);
	}
	return rc == SQLITE_OK ? WG_OK : sq_err(c, rc, "setup");
}

static pthread_once_t sq_config_once = PTHREAD_ONCE_INIT;

/*
 * Process-wide settings, made before the first connection: no memory
 * statistics (each allocation would take a global mutex, a measurable
 * share of a bulk import; nothing here reads them).
 */
static void
sq_config(void)
{
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		wg_warn("sqlite: memory statistics stay on");
}

/*
 * Creates path 0600 if it is not there (SQLite gives its -wal and -shm
 * the same mode).  Only a file that did not exist is opened and closed
 * here: closing any descriptor of a file drops every POSIX lock this
 * process holds on it, and the lock each open WAL connection keeps is
 * what tells another process (a backup, sqlite3 at a shell) that the
 * database is in use; without it, that process's last close checkpoints
 * and deletes the -wal and -shm under the server.  The lock makes a
 * connection opened meanwhile by another thread wait for the close.
 */
static enum wg_err
sq_create(const char *path)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	enum wg_err err = WG_OK;
	int fd;

	pthread_mutex_lock(&lock);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
	} else if (errno != EEXIST) {
		wg_error("sqlite: cannot create %s: %s", path, strerror(errno));
		err = WG_E_DB_UNAVAILABLE;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

static enum wg_err
sq_connect(struct store_conn *c, const char *path)
{
	sqlite3 *db = NULL;
	enum wg_err err;
	int rc;

	pthread_once(&sq_config_once, sq_config);
	if ((err = sq_create(path)) != WG_OK)
		return err;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		wg_error("sqlite: cannot open %s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return WG_E_DB_UNAVAILABLE;
	}
	sqlite3_extended_result_codes(db, 1);
	rc = sqlite3_create_function_v2(db, "wg_base64_blob", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, sq_base64_blob, NULL,
	    NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "encode", 2, SQLITE_UTF8 |
		    SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, sq_encode,
		    NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		wg_error("sqlite: cannot register SQL functions: %s",
		    sqlite3_errstr(rc));
		sqlite3_close(db);
		return WG_E_DB_UNAVAILABLE;
	}
	sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
	c->db = db;
	/*
	 * WAL with synchronous=NORMAL: a commit is a write, not an fsync
	 * (a crash keeps the database consistent; a power loss may take the
	 * last commits).  An 8 MiB page cache per connection and checkpoints
	 * every 4096 pages (32 MiB) of WAL keep bulk imports off the disk's
	 * fsync path.
	 * A new database gets 8 KiB pages: a registry row with its hash is
	 * about 1.5 KiB, and larger pages mean fewer B-tree splits per row
	 * (an existing database keeps the page size it was created with).
	 */
	err = sq_setup(c, "PRAGMA page_size = 8192; "
	    "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
	    "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY; "
	    "PRAGMA wal_autocheckpoint = 4096");
	if (err != WG_OK) {
		sqlite3_close(db);
		c->db = NULL;
	}
	return err;
}

static void
sq_disconnect(struct store_conn *c)
{
	struct sq_stmt *st;
	size_t i;

	for (i = 0; i < STORE_STMT_MAX; i++) {
		if ((st = c->prep[i]) == NULL)
			continue;
		sqlite3_finalize(st->s);
		free(st->index);
		free(st);
	}
	sqlite3_close(c->db);
}

static int
sq_bind(struct sq_stmt *st, size_t i, const struct store_param *p)
{
	int idx;

	if (i >= st->n || (idx = st->index[i]) == 0)
		return SQLITE_RANGE;
	switch (p->type) {
	case STORE_P_TEXT:
		return sqlite3_bind_text(st->s, idx, p->text, -1,
		    SQLITE_STATIC);
	case STORE_P_INT:
		return sqlite3_bind_int64(st->s, idx, p->i);
	case STORE_P_BLOB:
		return sqlite3_bind_blob64(st->s, idx, p->text,
		    (sqlite3_uint64)p->i, SQLITE_STATIC);
	default:
		return sqlite3_bind_null(st->s, idx);
	}
}

/*
 * Prepares sql and maps each $N to SQLite's own parameter index, once:
 * looking names up per bind is linear in the parameter count, which the
 * batch statements (thousands of parameters) cannot afford.
 */
static int
sq_prepare(struct store_conn *c, const char *sql, struct sq_stmt **out)
{
	struct sq_stmt *st = xcalloc(1, sizeof(*st));
	const char *name;
	char *end;
	long num;
	int rc, i, count;

	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st->s, NULL);
	if (rc != SQLITE_OK) {
		free(st);
		return rc;
	}
	count = sqlite3_bind_parameter_count(st->s);
	st->n = (size_t)count;
	st->index = xcalloc(st->n + 1, sizeof(*st->index));
	for (i = 1; i <= count; i++) {
		name = sqlite3_bind_parameter_name(st->s, i);
		num = name != NULL && name[0] == '$' ?
		    strtol(name + 1, &end, 10) : 0;
		if (num >= 1 && num <= count && *end == '\0')
			st->index[num - 1] = i;
	}
	*out = st;
	return SQLITE_OK;
}

static void
sq_row(sqlite3_stmt *s, struct store_res *res)
{
	size_t i, n = (size_t)sqlite3_column_count(s);
	char **row = store_res_push(res, n);
	const char *t;

	for (i = 0; i < n; i++) {
		if (sqlite3_column_type(s, (int)i) == SQLITE_NULL)
			continue;
		/* text first, then its length, as the SQLite manual says */
		t = (const char *)sqlite3_column_text(s, (int)i);
		if (t == NULL)
			abort(); /* out of memory */
		row[i] = xstrndup(t, (size_t)sqlite3_column_bytes(s, (int)i));
	}
}

static enum wg_err
sq_exec(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np, struct store_res *res)
{
	struct sq_stmt *st = c->prep[id];
	enum wg_err err = WG_OK;
	sqlite3_stmt *s;
	size_t i;
	int rc = SQLITE_OK;

	if (st == NULL) {
		if ((rc = sq_prepare(c, sql, &st)) != SQLITE_OK)
			return sq_err(c, rc, "prepare");
		c->prep[id] = st;
	}
	s = st->s;
	for (i = 0; i < np && rc == SQLITE_OK; i++)
		rc = sq_bind(st, i, &p[i]);
	if (rc != SQLITE_OK) {
		err = sq_err(c, rc, "bind");
		goto done;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		sq_row(s, res);
	if (rc != SQLITE_DONE)
		err = sq_err(c, rc, "statement");
done:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return err;
}

const struct store_driver store_sqlite_driver = {
	.name = "sqlite",
	.schema = "sqlite",
	/* Takes the write lock at once, so that no deferred reader has to
	 * upgrade later and fail with SQLITE_BUSY mid-transaction. */
	.begin_sql = "BEGIN IMMEDIATE",
	.migrate_lock_sql = NULL,
	.connect = sq_connect,
	.disconnect = sq_disconnect,
	.exec = sq_exec,
	.script = sq_script,
	.serial_writes = 1,
	.insert_or_fail = 1,
	/*
	 * A bulk writer's index pages stay cached across its commits (24 MiB
	 * holds the EK index of several million devices), and it leaves
	 * checkpoints to a companion thread (store_checkpoint()), which
	 * copies the log into the database while it writes on.  Its own
	 * checkpoint, every 256 MiB of log, finds most pages copied and lets
	 * the log start over (the companion cannot: the writer's next
	 * transaction has begun on the log before it catches up).  It writes
	 * only import batches, which check their parent rows once per batch
	 * under the write lock (store_import.c), so the four parent lookups
	 * per row of foreign-key enforcement are off.
	 */
	.bulk_sql = "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -24576; "
	    "PRAGMA wal_autocheckpoint = 32768",
	.checkpoint_sql = "PRAGMA wal_checkpoint(PASSIVE)",
};
