/*
 * Inside the store: the driver interface between store.c (all business
 * logic and SQL text, written once) and the two backends, sqlite.c and
 * pg.c, which hold only what their library forces: connecting, binding
 * parameters, stepping, copying results, and translating errors.
 *
 * SQL is written with $1, $2, ... parameters, which both libraries accept.
 * Values come back as text (integers in decimal), NULL for SQL NULL.
 */
#ifndef WG_STORE_INT_H
#define WG_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Statements a connection caches (ids index store_conn.prep). */
#define STORE_STMT_MAX 208
/*
 * Statement ids: store.c from 0, store_import.c, store_device.c and
 * store_attest.c, store_profile.c, store_token.c, store_join.c,
 * store_mdm.c, store_apps.c, store_idem.c, store_users.c,
 * store_signin.c, store_events.c from here.
 */
#define STORE_Q_IMPORT_BASE 32
#define STORE_Q_DEVICE_BASE 56
#define STORE_Q_ATTEST_BASE 64
#define STORE_Q_PROFILE_BASE 80
#define STORE_Q_TOKEN_BASE 96
#define STORE_Q_JOIN_BASE 104
#define STORE_Q_MDM_BASE 112
#define STORE_Q_APPS_BASE 128
#define STORE_Q_IDEM_BASE 144
#define STORE_Q_USERS_BASE 160
#define STORE_Q_SIGNIN_BASE 176
#define STORE_Q_EVENTS_BASE 192
/* Parameters one statement takes at the most. */
#define STORE_PARAM_MAX 4096

#define STORE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define P_TEXT(s) ((struct store_param){STORE_P_TEXT, (s), 0})
#define P_INT(v) ((struct store_param){STORE_P_INT, NULL, (v)})
#define P_NULL ((struct store_param){STORE_P_NULL, NULL, 0})
/* n bytes at b, as a binary value (BLOB, bytea). */
#define P_BLOB(b, n) \
	((struct store_param){STORE_P_BLOB, (const char *)(b), (int64_t)(n)})
/* A text column that holds NULL when the C side has "" or NULL. */
#define P_OPT(s) ((s) != NULL && (s)[0] != '\0' ? P_TEXT(s) : P_NULL)

enum store_ptype {
	STORE_P_NULL,
	STORE_P_TEXT,
	STORE_P_INT,
	STORE_P_BLOB,
};

struct store_param {
	enum store_ptype type;
	const char *text; /* STORE_P_TEXT, STORE_P_BLOB's bytes; borrowed */
	int64_t i;	  /* STORE_P_INT, STORE_P_BLOB's length */
};

/* Rows of a result; cell[r * ncols + c] is xmalloc'd text or NULL. */
struct store_res {
	size_t nrows;
	size_t ncols;
	size_t cap; /* rows allocated */
	char **cell;
};

struct store {
	const struct store_driver *drv;
	char *target; /* the path or URL the driver opens */
	int version;
	pthread_key_t key; /* the calling thread's struct store_conn */
	pthread_mutex_t mu;
	struct store_conn *conns; /* guarded by mu */
};

struct store_conn {
	struct store *st;
	void *db;    /* sqlite3 * or PGconn *; NULL while disconnected */
	int broken;  /* the driver saw the connection die; reconnect */
	int depth;   /* store_begin() nesting; 0: autocommit */
	int aborted; /* a statement failed inside the transaction */
	void *prep[STORE_STMT_MAX]; /* per-statement driver state */
	struct store_conn *prev, *next; /* all of a store's connections */
};

struct store_driver {
	const char *name;   /* what store_backend() says */
	const char *schema; /* its own migration files: NNN_x.<schema>.sql */
	const char *begin_sql; /* takes the write lock where that matters */
	/* Serialises migrations across servers; NULL if begin_sql does. */
	const char *migrate_lock_sql;
	/* Opens c->db for target; logs and returns WG_E_DB_UNAVAILABLE. */
	enum wg_err (*connect)(struct store_conn *c, const char *target);
	/* Frees what c->prep and c->db hold (store.c clears them after). */
	void (*disconnect)(struct store_conn *c);
	/*
	 * Runs statement id (prepared once per connection from sql) with np
	 * parameters; appends the rows to res.  Errors are logged once and
	 * translated; a lost connection sets c->broken.
	 */
	enum wg_err (*exec)(struct store_conn *c, unsigned id, const char *sql,
	    const struct store_param *p, size_t np, struct store_res *res);
	/* Runs a script of statements without parameters or results. */
	enum wg_err (*script)(struct store_conn *c, const char *sql);
	/* 0 if an idle connection is known dead (NULL: never checked). */
	int (*alive)(struct store_conn *c);
	/*
	 * 1 if a write transaction holds the database's only write lock
	 * from its first statement (BEGIN IMMEDIATE), so that nothing else
	 * writes between its reads and its writes.
	 */
	int serial_writes;
	/*
	 * 1 if the import's multi-row inserts say INSERT OR FAIL: SQLite
	 * otherwise copies every existing page such a statement touches into
	 * a statement journal, to be able to undo that statement alone,
	 * which the store never does (a failed statement dooms its whole
	 * transaction: store_conn_run()).
	 */
	int insert_or_fail;
	/* Run on a connection about to write in bulk (NULL: nothing). */
	const char *bulk_sql;
	/*
	 * Moves committed log pages into the database without blocking
	 * writers, for a bulk writer's companion (NULL: the backend has no
	 * such step).
	 */
	const char *checkpoint_sql;
	/*
	 * 1 if the planner needs fresh statistics (ANALYZE) while a bulk
	 * write grows a table from nothing: PostgreSQL plans by them, and a
	 * plan made for an empty table scans the whole tenant per lookup.
	 */
	int analyze_bulk;
};

extern const struct store_driver store_sqlite_driver;
extern const struct store_driver store_pg_driver;

/*
 * The migrations embedded at build time by embed_schema.py from
 * schema/NNN_name.sql (backend "") and NNN_name.<backend>.sql, sorted by
 * version, the common part of a version first.
 */
struct store_migration {
	int version;
	const char *name;
	const char *backend;
	const char *sql;
};

extern const struct store_migration store_migrations[];
extern const size_t store_nmigrations;

/* The newest schema version this build carries (migrations run 1..N). */
int store_known_version(void);

/* Appends an empty row of ncols cells to res; returns its cells. */
char **store_res_push(struct store_res *res, size_t ncols);
/* Frees the cells of res and empties it; res itself is the caller's. */
void store_res_free(struct store_res *res);

/*
 * store_conn.c: runs a statement or a script on c, connecting first if
 * needed; a failure inside a transaction aborts it (its commit fails).
 */
enum wg_err store_conn_run(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np, struct store_res *res)
    __attribute__((warn_unused_result));
enum wg_err store_conn_script(struct store_conn *c, const char *sql)
    __attribute__((warn_unused_result));
/*
 * store_query.c: decoding result cells and running statements that
 * return one row or a list.  A row_fn decodes row r of res into out and
 * returns -1 (logged) if it does not fit.
 */
typedef int (*store_row_fn)(const struct store_res *res, size_t r, void *out);
const char *store_res_text(const struct store_res *res, size_t r, size_t c);
int64_t store_res_int(const struct store_res *res, size_t r, size_t c);
/*
 * The lookup key of an EK digest (hex): its first 32 bits as a signed
 * integer, as 003_import_keys computes it for older rows
 * (device_identities.ek_key).
 */
int64_t store_ek_key(const char *hex);
/* Copies column c of row r into dst[size]; -1 (logged) if it is longer. */
int store_res_copy(const struct store_res *res, size_t r, size_t c,
    char *dst, size_t size);
/* Runs id, which finds at most one row, into out; WG_E_NOT_FOUND if none. */
enum wg_err store_q_one(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np, store_row_fn fn, void *out)
    __attribute__((warn_unused_result));
/*
 * Runs id and decodes every row into *out, a new array of size-byte
 * elements the caller frees (free_fn frees what rows hold); NULL on failure.
 */
enum wg_err store_q_list(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np, store_row_fn fn, size_t size,
    void (*free_fn)(void *, size_t), void **out, size_t *n)
    __attribute__((warn_unused_result));
/*
 * Runs id, a statement that RETURNs a row for each row it changed:
 * WG_E_NOT_FOUND if it changed none.
 */
enum wg_err store_q_changed(struct store_conn *c, unsigned id,
    const char *sql, const struct store_param *p, size_t np)
    __attribute__((warn_unused_result));
/*
 * Runs fn(c, arg) in a transaction: its own, or the caller's if one is
 * open (store_begin nests).  Rolls back if fn fails.
 */
enum wg_err store_in_tx(struct store_conn *c,
    enum wg_err (*fn)(struct store_conn *, void *), void *arg)
    __attribute__((warn_unused_result));

/* Thread-exit destructor of struct store's key; frees c. */
void store_conn_destroy(void *c);
/* Disconnects and frees c (store_close(), for every connection). */
void store_conn_free(struct store_conn *c);
/* The highest migration version applied and how many rows record them. */
enum wg_err store_migrations_applied(struct store_conn *c, int64_t *version,
    int64_t *count) __attribute__((warn_unused_result));

/*
 * A device as store_device_row() decodes it: DEVICE_COLS of
 * device_identities d LEFT JOIN directory_devices dd (store_device.c).
 */
#define DEVICE_COLS \
	"d.id, d.tenant_id, COALESCE(d.import_id, ''), d.serial_number, " \
	"COALESCE(d.product_key, ''), COALESCE(d.manufacturer, ''), " \
	"COALESCE(d.model, ''), COALESCE(d.group_tag, ''), " \
	"COALESCE(d.assigned_upn, ''), COALESCE(d.ek_sha256, ''), d.ztd_id, " \
	"COALESCE(d.directory_device_id, ''), d.enrollment_state, " \
	"COALESCE(dd.enabled, 0), d.created_ms, " \
	"COALESCE(d.last_contacted_ms, 0), COALESCE(dd.registered_owner, '')"
#define DEVICE_NCOLS 17 /* columns a query adds come after these */
int store_device_row(const struct store_res *res, size_t r, void *out);

#endif
