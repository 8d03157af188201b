/*
 * The store tests' fixture: a fresh database per case on each backend,
 * and the main() that runs a program's cases on both (store_fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common/log.h"
#include "common/util.h"
#include "store_fixture.h"

const struct backend be_sqlite = {"sqlite"};
const struct backend be_pg = {"postgresql"};
static const char *admin_url; /* WG_TEST_PG_URL */

int
admin_exec(const char *sql)
{
	PGconn *pg = PQconnectdb(admin_url);
	PGresult *r = NULL;
	int ok = 0;

	if (PQstatus(pg) == CONNECTION_OK) {
		r = PQexec(pg, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		    PQresultStatus(r) == PGRES_TUPLES_OK;
	}
	if (!ok)
		fprintf(stderr, "admin: %s: %s\n", sql, PQerrorMessage(pg));
	PQclear(r);
	PQfinish(pg);
	return ok ? 0 : -1;
}

/* The admin URL with its database name replaced by db. */
static void
url_with_db(const char *url, const char *db, char *out, size_t len)
{
	const char *host = strstr(url, "://"), *path, *query;

	assert_non_null(host);
	host += 3;
	path = strchr(host, '/');
	query = strchr(host, '?');
	if (path == NULL || (query != NULL && query < path))
		path = query != NULL ? query : host + strlen(host);
	if (query == NULL || query < path)
		query = path + strcspn(path, "?");
	assert_true((size_t)snprintf(out, len, "%.*s/%s%s",
	    (int)(path - url), url, db, query) < len);
}

void
random_name(char *out, size_t len, const char *prefix)
{
	char u[WG_UUID_LEN + 1];

	wg_uuid(u);
	snprintf(out, len, "%s%.8s%.4s", prefix, u, u + 9);
}

int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char sql[128];

	assert_non_null(f);
	f->be = *state;
	if (is_pg(f)) {
		random_name(f->dbname, sizeof(f->dbname), "wgtest_");
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->dbname);
		assert_int_equal(admin_exec(sql), 0);
		url_with_db(admin_url, f->dbname, f->url, sizeof(f->url));
	} else {
		snprintf(f->dir, sizeof(f->dir), "/tmp/wgstore.XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->url, sizeof(f->url), "sqlite:%s/wg.db", f->dir);
	}
	OK(store_open(f->url, &f->st));
	OK(store_conn_get(f->st, &f->c));
	*state = f;
	return 0;
}

int
teardown(void **state)
{
	struct fx *f = *state;
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char path[128], sql[128];
	size_t i;

	store_close(f->st);
	if (is_pg(f)) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s "
		    "WITH (FORCE)", f->dbname);
		assert_int_equal(admin_exec(sql), 0);
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s_2 "
		    "WITH (FORCE)", f->dbname);
		assert_int_equal(f->second ? admin_exec(sql) : 0, 0);
	} else {
		for (i = 0; i < 6; i++) {
			snprintf(path, sizeof(path), "%s/wg%s.db%s", f->dir,
			    i < 3 ? "" : "2", suffix[i % 3]);
			unlink(path);
		}
		assert_int_equal(rmdir(f->dir), 0);
	}
	free(f);
	return 0;
}

void
fresh_url(struct fx *f, char *url, size_t len)
{
	char sql[128], db[80];

	f->second = 1;
	if (is_pg(f)) {
		snprintf(db, sizeof(db), "%s_2", f->dbname);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
		assert_int_equal(admin_exec(sql), 0);
		url_with_db(admin_url, db, url, len);
	} else {
		snprintf(url, len, "sqlite:%s/wg2.db", f->dir);
	}
}

int
store_fx_main(const char *prog, const char *group,
    const struct CMUnitTest *sqlite_cases,
    const struct CMUnitTest *pg_cases, size_t n)
{
	const char *skip_pg = getenv("WG_TEST_SKIP_PG");
	char name[64];
	int failed;

	wg_log_setup(WG_LOG_TEXT, WG_LEVEL_WARNING);
	admin_url = getenv("WG_TEST_PG_URL");
	if ((admin_url == NULL || admin_url[0] == '\0') &&
	    (skip_pg == NULL || strcmp(skip_pg, "1") != 0)) {
		fprintf(stderr, "%s: WG_TEST_PG_URL is not set, so the "
		    "PostgreSQL backend cannot be tested.\n"
		    "Start a throwaway cluster with `tests/pgcluster.sh start "
		    "$(mktemp -d /tmp/wgpg.XXXXXX)` and set WG_TEST_PG_URL to "
		    "the URL it prints,\nor set WG_TEST_SKIP_PG=1 to test "
		    "SQLite only.\n", prog);
		return 1;
	}
	/* cmocka_run_group_tests_name() wants an array, not a pointer */
	snprintf(name, sizeof(name), "%s_sqlite", group);
	failed = _cmocka_run_group_tests(name, sqlite_cases, n, NULL, NULL);
	if (admin_url != NULL && admin_url[0] != '\0') {
		snprintf(name, sizeof(name), "%s_postgresql", group);
		failed += _cmocka_run_group_tests(name, pg_cases, n, NULL,
		    NULL);
	} else {
		fprintf(stderr, "%s: PostgreSQL skipped (WG_TEST_SKIP_PG=1)\n",
		    prog);
	}
	return failed != 0;
}
