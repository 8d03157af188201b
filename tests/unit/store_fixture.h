/*
 * The store tests' fixture (test_store*.c): every case runs twice, on
 * SQLite (a fresh file) and on PostgreSQL (a fresh database, created
 * through the admin URL in WG_TEST_PG_URL and dropped after the case).
 * Without WG_TEST_PG_URL a run fails, unless WG_TEST_SKIP_PG=1 says to test
 * SQLite only.
 */
#ifndef WG_TESTS_STORE_FIXTURE_H
#define WG_TESTS_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store_int.h"

#define OK(x) assert_int_equal((x), WG_OK)
#define is_pg(f) ((f)->be == &be_pg)

struct backend {
	const char *name; /* as store_backend() says */
};

extern const struct backend be_sqlite, be_pg;

/* One case's database and the store opened on it. */
struct fx {
	const struct backend *be;
	char url[1024];
	char dir[64];	 /* SQLite: the case's folder */
	char dbname[64]; /* PostgreSQL: the case's database */
	int second;	 /* fresh_url() made a second, empty database */
	struct store *st;
	struct store_conn *c;
};

/* Runs one statement on the PostgreSQL admin database; 0 on success. */
int admin_exec(const char *sql);
/* prefix and 12 random hex digits into out[len]. */
void random_name(char *out, size_t len, const char *prefix);
/*
 * cmocka setup: a fresh, migrated database of the backend the prestate
 * names, opened as *state (a struct fx); teardown closes and removes it.
 */
int setup(void **state);
int teardown(void **state);
/* A second database of the case's backend, empty (not migrated). */
void fresh_url(struct fx *f, char *url, size_t len);

/* Case fn on backend be (&be_sqlite or &be_pg). */
#define T(fn, be) \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, \
	    (void *)(be))

/*
 * The main() of a store test program `prog`: runs the n cases of
 * sqlite_cases as group "<group>_sqlite", then pg_cases (the same cases
 * on &be_pg) as "<group>_postgresql" unless WG_TEST_SKIP_PG=1; fails
 * without WG_TEST_PG_URL otherwise.  Returns the exit status.
 */
int store_fx_main(const char *prog, const char *group,
    const struct CMUnitTest *sqlite_cases,
    const struct CMUnitTest *pg_cases, size_t n);

/* Defines main(): the cases the file's CASES(be) lists, on both backends. */
#define STORE_FX_MAIN(prog, group) \
	int \
	main(void) \
	{ \
		const struct CMUnitTest sqlite_cases[] = {CASES(&be_sqlite)}; \
		const struct CMUnitTest pg_cases[] = {CASES(&be_pg)}; \
\
		return store_fx_main((prog), (group), sqlite_cases, \
		    pg_cases, sizeof(sqlite_cases) / sizeof(sqlite_cases[0])); \
	}

#endif
