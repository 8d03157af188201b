/*
 * The PostgreSQL driver: what libpq forces and nothing else.  One
 * connection per thread; statements are prepared once per connection
 * under a stable name ("wg<id>") and prepared again after a reconnect.
 * A connection that dies is marked broken; the store reconnects on its
 * next use, so the server recovers by itself when PostgreSQL comes back.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

/*
 * Session defaults; the URL's own parameters override them.  A short
 * connect timeout makes /ready fail fast while the database is down, TCP
 * keepalives find a vanished server, and statement_timeout bounds how long
 * a request thread can wait on a stuck statement.  (The import's lookups
 * keep good plans because the import refreshes the statistics as the
 * tables grow: store_import_analyze().)
 */
#define PG_CONNECT_TIMEOUT_S "3"
#define PG_OPTIONS \
	"-c statement_timeout=30000 -c client_min_messages=warning"
/* Any fixed number: the lock every server takes to migrate. */
#define PG_MIGRATE_LOCK "SELECT pg_advisory_xact_lock(7779616837100101)"

static char pg_prepared; /* what c->prep holds for a prepared statement */

/* Logs what libpq or the server said, on one line, escaped. */
static void
pg_log(enum wg_level level, const char *what, const char *state,
    const char *msg)
{
	char line[512], esc[1024];
	size_t i, n = 0;

	/* libpq's messages span lines: fold their white space */
	for (i = 0; msg[i] != '\0' && n < sizeof(line) - 1; i++) {
		if (msg[i] != '\n' && msg[i] != '\t')
			line[n++] = msg[i];
		else if (n > 0 && line[n - 1] != ' ')
			line[n++] = ' ';
	}
	while (n > 0 && line[n - 1] == ' ')
		n--;
	wg_escape_log(line, n, esc, sizeof(esc));
	wg_log(level, "postgresql: %s: %s%s%s%s", what, esc,
	    state[0] != '\0' ? " (SQLSTATE " : "", state,
	    state[0] != '\0' ? ")" : "");
}

static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	pg_log(WG_LEVEL_WARNING, "server says", "", msg);
}

/* 1 if state says the connection is gone (class 08, admin shutdown). */
static int
pg_lost(const char *state)
{
	return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

/* 1 if retrying later may succeed: resources, timeouts, deadlocks. */
static int
pg_transient(const char *state)
{
	return strncmp(state, "53", 2) == 0 || strncmp(state, "40", 2) == 0 ||
	    strcmp(state, "57014") == 0;
}

/*
 * Translates the outcome r of a command and logs the server's message
 * once (constraint failures, which callers expect, at info level).  Only
 * the primary message is logged: the detail can quote parameter values.
 */
static enum wg_err
pg_check(struct store_conn *c, const PGresult *r, const char *what)
{
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state = NULL, *msg = NULL;
	enum wg_err err = WG_E_DB_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return WG_OK;
	if (r != NULL) {
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	}
	if (state == NULL)
		state = "";
	if (msg == NULL)
		msg = PQerrorMessage(c->db);
	if (PQstatus(c->db) != CONNECTION_OK || pg_lost(state)) {
		c->broken = 1;
		err = WG_E_DB_UNAVAILABLE;
	} else if (pg_transient(state)) {
		err = WG_E_DB_UNAVAILABLE;
	} else if (strcmp(state, "23505") == 0) {
		err = WG_E_CONFLICT;
	} else if (strcmp(state, "23503") == 0) {
		err = WG_E_NOT_FOUND; /* the row's parent does not exist */
	}
	pg_log(err == WG_E_CONFLICT || err == WG_E_NOT_FOUND ? WG_LEVEL_INFO :
	    WG_LEVEL_ERROR, what, state, msg);
	return err;
}

static enum wg_err
pg_connect(struct store_conn *c, const char *url)
{
	/* Before dbname, so that the URL's own settings win. */
	static const char *const keys[] = {"connect_timeout",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "options", "fallback_application_name", "dbname", NULL};
	const char *vals[] = {PG_CONNECT_TIMEOUT_S, "30", "10", "3",
	    PG_OPTIONS, "whiteglove", url, NULL};
	PGconn *pg;

	if ((pg = PQconnectdbParams(keys, vals, 1)) == NULL)
		abort(); /* out of memory */
	if (PQstatus(pg) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password */
		pg_log(WG_LEVEL_ERROR, "cannot connect", "",
		    PQerrorMessage(pg));
		PQfinish(pg);
		return WG_E_DB_UNAVAILABLE;
	}
	PQsetNoticeProcessor(pg, pg_notice, NULL);
	c->db = pg;
	return WG_OK;
}

static void
pg_disconnect(struct store_conn *c)
{
	PQfinish(c->db);
}

static enum wg_err
pg_script(struct store_conn *c, const char *sql)
{
	PGresult *r = PQexec(c->db, sql);
	enum wg_err err = pg_check(c, r, "script");

	PQclear(r);
	return err;
}

static void
pg_rows(const PGresult *r, struct store_res *res)
{
	int i, j, nrows = PQntuples(r), ncols = PQnfields(r);
	char **row;

	for (i = 0; i < nrows; i++) {
		row = store_res_push(res, (size_t)ncols);
		for (j = 0; j < ncols; j++)
			if (!PQgetisnull(r, i, j))
				row[j] = xstrndup(PQgetvalue(r, i, j),
				    (size_t)PQgetlength(r, i, j));
	}
}

static enum wg_err
pg_exec(struct store_conn *c, unsigned id, const char *sql,
    const struct store_param *p, size_t np, struct store_res *res)
{
	char name[16], (*num)[24] = NULL;
	const char **vals = NULL;
	int *lens, *fmts;
	enum wg_err err;
	PGresult *r;
	size_t i;

	snprintf(name, sizeof(name), "wg%u", id);
	if (c->prep[id] == NULL) {
		/* no types given: the server infers them from the SQL */
		r = PQprepare(c->db, name, sql, 0, NULL);
		err = pg_check(c, r, "prepare");
		PQclear(r);
		if (err != WG_OK)
			return err;
		c->prep[id] = &pg_prepared;
	}
	vals = xcalloc(np + 1, sizeof(*vals));
	num = xcalloc(np + 1, sizeof(*num));
	lens = xcalloc(np + 1, sizeof(*lens));
	fmts = xcalloc(np + 1, sizeof(*fmts));
	for (i = 0; i < np; i++) {
		vals[i] = p[i].type == STORE_P_TEXT ? p[i].text : NULL;
		if (p[i].type == STORE_P_INT) {
			snprintf(num[i], sizeof(num[i]), "%" PRId64, p[i].i);
			vals[i] = num[i];
		} else if (p[i].type == STORE_P_BLOB) {
			/* bytes as they are: bytea's binary format */
			vals[i] = p[i].text;
			lens[i] = (int)p[i].i;
			fmts[i] = 1;
		}
	}
	r = PQexecPrepared(c->db, name, (int)np, vals, lens, fmts, 0);
	free(vals);
	free(num);
	free(lens);
	free(fmts);
	if ((err = pg_check(c, r, "statement")) == WG_OK)
		pg_rows(r, res);
	PQclear(r);
	return err;
}

/*
 * Whether an idle connection is still usable.  When PostgreSQL shuts down
 * or restarts it tells each client (SQLSTATE 57P01) and closes the socket;
 * an idle socket that has something to read is such a goodbye, so the
 * connection is replaced before a request's statement is lost on it.
 */
static int
pg_alive(struct store_conn *c)
{
	struct pollfd pfd = { .fd = PQsocket(c->db), .events = POLLIN };

	if (pfd.fd < 0)
		return 0;
	if (poll(&pfd, 1, 0) == 0)
		return 1;
	return PQconsumeInput(c->db) == 1 && PQstatus(c->db) == CONNECTION_OK &&
	    !(pfd.revents & (POLLHUP | POLLERR));
}

const struct store_driver store_pg_driver = {
	.name = "postgresql",
	.schema = "pg",
	.begin_sql = "BEGIN",
	.migrate_lock_sql = PG_MIGRATE_LOCK,
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.exec = pg_exec,
	.script = pg_script,
	.alive = pg_alive,
	.analyze_bulk = 1,
};
