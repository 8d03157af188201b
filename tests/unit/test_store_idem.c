/*
 * The store's tests of idempotency keys (server/idem.c): a claim, the
 * answer stored with it, a second claim refused while the answer lives,
 * an expired answer taken over, expired rows removed, and a claim rolled
 * back with its transaction.  Every case runs on SQLite and on
 * PostgreSQL (store_fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

#define ROUTE "/mdm/v1/enroll"
#define NOW ((int64_t)1700000000000)
#define CUTOFF (NOW - WG_IDEM_LIFE_MS)

/* Claims scope at now and stores an answer, in one transaction. */
static void
claim_answer(struct fx *f, const char *scope, int64_t now, const char *body)
{
	OK(store_begin(f->c));
	OK(store_idem_claim(f->c, scope, ROUTE, now, now - WG_IDEM_LIFE_MS));
	OK(store_idem_put(f->c, scope, 200, "application/json", body));
	OK(store_commit(f->c));
}

static void
test_store_idem_claim_then_replay(void **state)
{
	struct fx *f = *state;
	struct wg_idem a;

	assert_int_equal(store_idem_get(f->c, "s1", CUTOFF, &a),
	    WG_E_NOT_FOUND);
	claim_answer(f, "s1", NOW, "sealed-1");
	OK(store_idem_get(f->c, "s1", CUTOFF, &a));
	assert_int_equal(a.status, 200);
	assert_string_equal(a.content_type, "application/json");
	assert_string_equal(a.body, "sealed-1");
	assert_int_equal(a.created_ms, NOW);
	wg_idem_free(&a);
	/* the live answer holds the scope: no second claim */
	OK(store_begin(f->c));
	assert_int_equal(store_idem_claim(f->c, "s1", ROUTE, NOW + 1, CUTOFF +
	    1), WG_E_CONFLICT);
	store_rollback(f->c);
	/* another scope (another device, another key) is free */
	claim_answer(f, "s2", NOW, "sealed-2");
	OK(store_idem_get(f->c, "s2", CUTOFF, &a));
	assert_string_equal(a.body, "sealed-2");
	wg_idem_free(&a);
}

static void
test_store_idem_claim_rolled_back(void **state)
{
	struct fx *f = *state;
	struct wg_idem a;

	OK(store_begin(f->c));
	OK(store_idem_claim(f->c, "s1", ROUTE, NOW, CUTOFF));
	/* unanswered within its own transaction: nothing to replay */
	assert_int_equal(store_idem_get(f->c, "s1", CUTOFF, &a),
	    WG_E_NOT_FOUND);
	store_rollback(f->c);
	/* the work failed: the key is free again */
	claim_answer(f, "s1", NOW, "sealed");
	assert_int_equal(store_idem_put(f->c, "nope", 200, "x", "y"),
	    WG_E_NOT_FOUND);
}

/* How many of old-0 .. old-(n-1) are still stored. */
static int
count_left(struct fx *f, int n)
{
	struct wg_idem a;
	char scope[32];
	int i, left = 0;

	for (i = 0; i < n; i++) {
		snprintf(scope, sizeof(scope), "old-%d", i);
		if (store_idem_get(f->c, scope, 0, &a) == WG_OK)
			left++;
		wg_idem_free(&a);
	}
	return left;
}

static void
test_store_idem_claim_expired(void **state)
{
	struct fx *f = *state;
	int64_t later = NOW + WG_IDEM_LIFE_MS + 1;
	struct wg_idem a;
	char scope[32];
	int i;

	for (i = 0; i < 150; i++) {
		snprintf(scope, sizeof(scope), "old-%d", i);
		claim_answer(f, scope, NOW, "old");
	}
	/* past its life an answer is not replayed, and is taken over */
	assert_int_equal(store_idem_get(f->c, "old-0", later -
	    WG_IDEM_LIFE_MS, &a), WG_E_NOT_FOUND);
	claim_answer(f, "old-149", later, "new");
	OK(store_idem_get(f->c, "old-149", later - WG_IDEM_LIFE_MS, &a));
	assert_string_equal(a.body, "new");
	assert_int_equal(a.created_ms, later);
	wg_idem_free(&a);
	/* the claim removed 100 of the route's 149 other expired rows */
	assert_int_equal(count_left(f, 149), 49);
	claim_answer(f, "fresh", later, "x");
	assert_int_equal(count_left(f, 149), 0);
}

#define CASES(be) \
	T(test_store_idem_claim_then_replay, be), \
	T(test_store_idem_claim_rolled_back, be), \
	T(test_store_idem_claim_expired, be)

STORE_FX_MAIN("test_store_idem", "store_idem")
