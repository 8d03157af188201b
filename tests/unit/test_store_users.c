/*
 * The store's tests of users (step 7, the token service): UPNs unique
 * per tenant whatever their case, paging, disabling, password changes
 * that unlock, and the counting of failed sign-ins per user (lockout
 * every N failures) and per device (a window).  Every case runs on SQLite
 * and on PostgreSQL (store_fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store_fixture.h"

#define HASH "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$" \
	"aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
#define MIN_MS ((int64_t)60 * 1000)

static struct wg_tenant
add_tenant(struct fx *f, const char *name)
{
	struct wg_tenant t;

	OK(store_tenant_create(f->c, name, &t));
	return t;
}

static enum wg_err
add_user(struct fx *f, const char *tenant_id, const char *upn,
    struct wg_user *u)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->tenant_id, sizeof(u->tenant_id), "%s", tenant_id);
	snprintf(u->upn, sizeof(u->upn), "%s", upn);
	snprintf(u->display_name, sizeof(u->display_name), "User %s", upn);
	snprintf(u->password_hash, sizeof(u->password_hash), "%s", HASH);
	return store_user_create(f->c, u);
}

static void
test_store_user_create_get(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_user u, got;

	OK(add_user(f, t.id, "Ana.Silva@Contoso.COM", &u));
	assert_true(wg_is_uuid(u.id));
	assert_string_equal(u.upn, "ana.silva@contoso.com");
	OK(store_user_get(f->c, t.id, u.id, &got));
	assert_string_equal(got.id, u.id);
	assert_string_equal(got.tenant_id, t.id);
	assert_string_equal(got.upn, "ana.silva@contoso.com");
	assert_string_equal(got.display_name, "User Ana.Silva@Contoso.COM");
	assert_string_equal(got.password_hash, HASH);
	assert_int_equal(got.disabled, 0);
	assert_int_equal(got.failed_count, 0);
	assert_int_equal(got.locked_until_ms, 0);
	assert_int_equal(got.last_sign_in_ms, 0);
	assert_int_equal(got.created_ms, u.created_ms);
	assert_int_equal(got.updated_ms, u.created_ms);
	/* by UPN in any case */
	OK(store_user_get_by_upn(f->c, t.id, "ANA.silva@contoso.com", &got));
	assert_string_equal(got.id, u.id);
	assert_int_equal(store_user_get_by_upn(f->c, t.id, "ana@contoso.com",
	    &got), WG_E_NOT_FOUND);
	assert_int_equal(store_user_get(f->c, t.id, "nope", &got),
	    WG_E_NOT_FOUND);
}

static void
test_store_user_create_upn_unique_per_tenant(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme"), o = add_tenant(f, "other");
	struct wg_user u, got;

	OK(add_user(f, t.id, "ana@contoso.com", &u));
	assert_int_equal(add_user(f, t.id, "ANA@contoso.com", &u),
	    WG_E_CONFLICT);
	/* another tenant may have the same UPN, and does not see ours */
	OK(add_user(f, o.id, "Ana@Contoso.com", &u));
	OK(store_user_get_by_upn(f->c, o.id, "ana@contoso.com", &got));
	assert_string_equal(got.id, u.id);
	OK(store_user_get_by_upn(f->c, t.id, "ana@contoso.com", &got));
	assert_string_not_equal(got.id, u.id);
	assert_int_equal(store_user_get(f->c, t.id, u.id, &got),
	    WG_E_NOT_FOUND);
}

static void
test_store_user_list_paging(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme"), o = add_tenant(f, "o");
	struct wg_user u, *list;
	size_t n;

	OK(add_user(f, t.id, "c@x.org", &u));
	OK(add_user(f, t.id, "A@x.org", &u));
	OK(add_user(f, t.id, "b@x.org", &u));
	OK(add_user(f, o.id, "z@x.org", &u));
	OK(store_user_list(f->c, t.id, "", 2, &list, &n));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].upn, "a@x.org");
	assert_string_equal(list[1].upn, "b@x.org");
	free(list);
	OK(store_user_list(f->c, t.id, "b@x.org", 2, &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].upn, "c@x.org");
	free(list);
}

static void
test_store_user_set_disabled(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme"), o = add_tenant(f, "o");
	struct wg_user u, got;

	OK(add_user(f, t.id, "ana@x.org", &u));
	OK(store_user_set_disabled(f->c, t.id, u.id, 1, &got));
	assert_int_equal(got.disabled, 1);
	assert_true(got.updated_ms >= u.updated_ms);
	OK(store_user_get(f->c, t.id, u.id, &got));
	assert_int_equal(got.disabled, 1);
	OK(store_user_set_disabled(f->c, t.id, u.id, 0, &got));
	assert_int_equal(got.disabled, 0);
	assert_int_equal(store_user_set_disabled(f->c, o.id, u.id, 1, &got),
	    WG_E_NOT_FOUND);
	OK(store_user_get(f->c, t.id, u.id, &got));
	assert_int_equal(got.disabled, 0);
}

static void
test_store_user_signin_failed_locks(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_user u, got;
	int64_t now = 1000000;
	int i;

	OK(add_user(f, t.id, "ana@x.org", &u));
	for (i = 1; i < 5; i++) {
		OK(store_user_signin_failed(f->c, t.id, u.id, now + i, 5,
		    15 * MIN_MS, &got));
		assert_int_equal(got.failed_count, i);
		assert_int_equal(got.locked_until_ms, 0);
	}
	/* the 5th locks for 15 minutes from then */
	OK(store_user_signin_failed(f->c, t.id, u.id, now + 5, 5, 15 * MIN_MS,
	    &got));
	assert_int_equal(got.failed_count, 5);
	assert_int_equal(got.locked_until_ms, now + 5 + 15 * MIN_MS);
	OK(store_user_get(f->c, t.id, u.id, &got));
	assert_int_equal(got.locked_until_ms, now + 5 + 15 * MIN_MS);
	/* after the lockout, 5 more tries before the next one */
	now += 20 * MIN_MS;
	for (i = 6; i < 10; i++) {
		OK(store_user_signin_failed(f->c, t.id, u.id, now, 5,
		    15 * MIN_MS, &got));
		assert_int_equal(got.locked_until_ms, now - 20 * MIN_MS + 5 +
		    15 * MIN_MS);
	}
	OK(store_user_signin_failed(f->c, t.id, u.id, now, 5, 15 * MIN_MS,
	    &got));
	assert_int_equal(got.failed_count, 10);
	assert_int_equal(got.locked_until_ms, now + 15 * MIN_MS);
	assert_int_equal(store_user_signin_failed(f->c, t.id, "nope", now, 5,
	    MIN_MS, &got), WG_E_NOT_FOUND);
}

static void
test_store_user_signin_ok_resets(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_user u, got;

	OK(add_user(f, t.id, "ana@x.org", &u));
	OK(store_user_signin_failed(f->c, t.id, u.id, 5000, 1, MIN_MS, &got));
	assert_int_equal(got.locked_until_ms, 5000 + MIN_MS);
	OK(store_user_signin_ok(f->c, t.id, u.id, 7000, &got));
	assert_int_equal(got.failed_count, 0);
	assert_int_equal(got.locked_until_ms, 0);
	assert_int_equal(got.last_sign_in_ms, 7000);
	OK(store_user_get(f->c, t.id, u.id, &got));
	assert_int_equal(got.last_sign_in_ms, 7000);
}

static void
test_store_user_set_password_unlocks(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_user u, got;
	const char *h2 = "$argon2id$v=19$m=2048,t=2,p=1$bmV3c2FsdG5ld3M$"
	    "bmV3aGFzaG5ld2hhc2huZXdoYXNobmV3aGFzaG5ld2g";

	OK(add_user(f, t.id, "ana@x.org", &u));
	OK(store_user_signin_failed(f->c, t.id, u.id, 5000, 2, MIN_MS, &got));
	OK(store_user_signin_failed(f->c, t.id, u.id, 5001, 2, MIN_MS, &got));
	assert_int_equal(got.locked_until_ms, 5001 + MIN_MS);
	OK(store_user_set_password(f->c, t.id, u.id, h2, &got));
	assert_string_equal(got.password_hash, h2);
	assert_int_equal(got.failed_count, 0);
	assert_int_equal(got.locked_until_ms, 0);
	assert_int_equal(store_user_set_password(f->c, add_tenant(f, "o").id,
	    u.id, HASH, &got), WG_E_NOT_FOUND);
	OK(store_user_get(f->c, t.id, u.id, &got));
	assert_string_equal(got.password_hash, h2);
}

static void
test_store_signin_device_failed_window(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme"), o = add_tenant(f, "o");
	int64_t n, now = 1000000, win = 15 * MIN_MS;
	int i;

	OK(store_signin_device_failures(f->c, t.id, "dev-1", now, win, &n));
	assert_int_equal(n, 0);
	for (i = 1; i <= 3; i++) {
		OK(store_signin_device_failed(f->c, t.id, "dev-1", now + i,
		    win, &n));
		assert_int_equal(n, i);
	}
	OK(store_signin_device_failures(f->c, t.id, "dev-1", now + 10, win,
	    &n));
	assert_int_equal(n, 3);
	/* another device, another tenant: counted apart */
	OK(store_signin_device_failed(f->c, t.id, "dev-2", now, win, &n));
	assert_int_equal(n, 1);
	OK(store_signin_device_failures(f->c, o.id, "dev-1", now, win, &n));
	assert_int_equal(n, 0);
	/* the window began at the first failure; once over, a new one */
	OK(store_signin_device_failures(f->c, t.id, "dev-1", now + 1 + win,
	    win, &n));
	assert_int_equal(n, 0);
	OK(store_signin_device_failed(f->c, t.id, "dev-1", now + 1 + win, win,
	    &n));
	assert_int_equal(n, 1);
	OK(store_signin_device_failed(f->c, t.id, "dev-1", now + 2 + win, win,
	    &n));
	assert_int_equal(n, 2);
}

/* A PRT of user u stored with these times. */
static void
add_prt(struct fx *f, const struct wg_user *u, const char *sha,
    int64_t expires_ms, int64_t replaced_ms)
{
	struct wg_prt t;

	memset(&t, 0, sizeof(t));
	snprintf(t.prt_sha256, sizeof(t.prt_sha256), "%s", sha);
	snprintf(t.tenant_id, sizeof(t.tenant_id), "%s", u->tenant_id);
	snprintf(t.user_id, sizeof(t.user_id), "%s", u->id);
	snprintf(t.device_id, sizeof(t.device_id), "dev-1");
	snprintf(t.directory_device_id, sizeof(t.directory_device_id), "dd-1");
	snprintf(t.session_key, sizeof(t.session_key), "c2VhbGVk");
	t.created_ms = 1;
	t.expires_ms = expires_ms;
	OK(store_prt_put(f->c, &t));
	if (replaced_ms != 0)
		OK(store_prt_replace(f->c, sha, replaced_ms));
}

/*
 * The housekeeping purge: expired and replaced PRTs past the cut, and
 * sign-in windows that started before theirs, go; the rest stays.
 */
static void
test_store_signin_purge(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_user u;
	struct wg_prt got;
	int64_t n, now = 10 * MIN_MS;

	OK(add_user(f, t.id, "ana@acme.test", &u));
	add_prt(f, &u, "01", now - 5, 0);		/* expired: goes */
	add_prt(f, &u, "02", now + MIN_MS, now - 5);	/* replaced: goes */
	add_prt(f, &u, "03", now + MIN_MS, 0);	/* live: stays */
	add_prt(f, &u, "04", now + MIN_MS, now + 5);	/* replaced later */
	OK(store_signin_device_failed(f->c, t.id, "old", 1, MIN_MS, &n));
	OK(store_signin_device_failed(f->c, t.id, "new", now, MIN_MS, &n));
	OK(store_signin_purge(f->c, now, now - MIN_MS, 100));
	assert_int_equal(store_prt_get(f->c, "01", &got), WG_E_NOT_FOUND);
	assert_int_equal(store_prt_get(f->c, "02", &got), WG_E_NOT_FOUND);
	OK(store_prt_get(f->c, "03", &got));
	assert_string_equal(got.session_key, "c2VhbGVk");
	OK(store_prt_get(f->c, "04", &got));
	OK(store_signin_device_failures(f->c, t.id, "new", now, MIN_MS, &n));
	assert_int_equal(n, 1);
	/* "old" was purged: a failure now starts a fresh window */
	OK(store_signin_device_failed(f->c, t.id, "old", 2, MIN_MS, &n));
	assert_int_equal(n, 1);
	/* the batch is bounded */
	add_prt(f, &u, "05", 1, 0);
	add_prt(f, &u, "06", 1, 0);
	OK(store_signin_purge(f->c, now, 0, 1));
	assert_int_equal((store_prt_get(f->c, "05", &got) == WG_OK) +
	    (store_prt_get(f->c, "06", &got) == WG_OK), 1);
}

#define CASES(be) \
	T(test_store_user_create_get, be), \
	T(test_store_user_create_upn_unique_per_tenant, be), \
	T(test_store_user_list_paging, be), \
	T(test_store_user_set_disabled, be), \
	T(test_store_user_signin_failed_locks, be), \
	T(test_store_user_signin_ok_resets, be), \
	T(test_store_user_set_password_unlocks, be), \
	T(test_store_signin_device_failed_window, be), \
	T(test_store_signin_purge, be)

STORE_FX_MAIN("test_store_users", "store_users")
