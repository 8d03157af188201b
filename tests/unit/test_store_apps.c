/*
 * The store's tests of apps (step 5, device setup): apps and their
 * content, group-tag assignments, what a device gets, and each device's
 * state of an app, written only when it changes.  Every case runs on
 * SQLite and on PostgreSQL (store_fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store_fixture.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct wg_tenant
add_tenant(struct fx *f, const char *name)
{
	struct wg_tenant t;

	OK(store_tenant_create(f->c, name, &t));
	return t;
}

/* An app of tenant_id named name (target device), created. */
static struct wg_app
add_app(struct fx *f, const char *tenant_id, const char *name,
    const char *target)
{
	struct wg_app a;

	memset(&a, 0, sizeof(a));
	snprintf(a.tenant_id, sizeof(a.tenant_id), "%s", tenant_id);
	snprintf(a.name, sizeof(a.name), "%s", name);
	snprintf(a.install_command, sizeof(a.install_command),
	    "sh ./install.sh '%s'", name);
	snprintf(a.target, sizeof(a.target), "%s", target);
	a.timeout_s = 300;
	OK(store_app_create(f->c, &a));
	assert_true(wg_is_uuid(a.id));
	return a;
}

/* A device with group tag tag in tenant_id; its id into id[37]. */
static void
add_device(struct fx *f, const char *tenant_id, const char *serial,
    const char *tag, char ek_fill, char id[37])
{
	static const unsigned char hash[] = { 1, 2, 3 };
	struct wg_import_row row;
	struct wg_import im;

	memset(&row, 0, sizeof(row));
	row.row_number = 1;
	row.serial = serial;
	row.group_tag = tag;
	row.hardware_hash = hash;
	row.hardware_hash_len = sizeof(hash);
	memset(row.ek_sha256, ek_fill, 64);
	OK(store_import_create(f->c, tenant_id, "csv", "test", &im));
	OK(store_import_batch(f->c, tenant_id, im.id, &row, 1));
	OK(row.err);
	memcpy(id, row.device_id, 37);
}

static void
test_store_app_create_get(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_app a = add_app(f, t.id, "Firefox", "device"), got;

	OK(store_app_get(f->c, t.id, a.id, &got));
	assert_string_equal(got.id, a.id);
	assert_string_equal(got.tenant_id, t.id);
	assert_string_equal(got.name, "Firefox");
	assert_string_equal(got.install_command, "sh ./install.sh 'Firefox'");
	assert_string_equal(got.target, "device");
	assert_int_equal(got.timeout_s, 300);
	assert_string_equal(got.sha256, "");
	assert_int_equal(got.size, 0);
	assert_int_equal(got.created_ms, a.created_ms);
	OK(store_app_get_by_name(f->c, t.id, "Firefox", &got));
	assert_string_equal(got.id, a.id);
	assert_int_equal(store_app_get_by_name(f->c, t.id, "firefox", &got),
	    WG_E_NOT_FOUND);
}

/* Names are unique per tenant; another tenant sees nothing. */
static void
test_store_app_create_duplicate_other_tenant(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme"), o = add_tenant(f, "o");
	struct wg_app a = add_app(f, t.id, "Firefox", "device"), dup, got;

	dup = a;
	assert_int_equal(store_app_create(f->c, &dup), WG_E_CONFLICT);
	add_app(f, o.id, "Firefox", "user");
	assert_int_equal(store_app_get(f->c, o.id, a.id, &got),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_app_delete(f->c, o.id, a.id), WG_E_NOT_FOUND);
	assert_int_equal(store_app_set_content(f->c, o.id, a.id, SHA_A, 5),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_app_assign(f->c, o.id, a.id, "kiosk"),
	    WG_E_NOT_FOUND);
	OK(store_app_get(f->c, t.id, a.id, &got));
}

static void
test_store_app_list_paging(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme"), o = add_tenant(f, "o");
	struct wg_app *list = NULL;
	size_t n = 0;

	add_app(f, t.id, "c", "device");
	add_app(f, t.id, "a", "device");
	add_app(f, t.id, "b", "user");
	add_app(f, o.id, "aa", "device");
	OK(store_app_list(f->c, t.id, "", 2, &list, &n));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "a");
	assert_string_equal(list[1].name, "b");
	free(list);
	OK(store_app_list(f->c, t.id, "b", 2, &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "c");
	free(list);
}

/* Content: set, counted per SHA-256 over all tenants, gone on delete. */
static void
test_store_app_set_content_users(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme"), o = add_tenant(f, "o");
	struct wg_app a = add_app(f, t.id, "a", "device");
	struct wg_app b = add_app(f, o.id, "b", "device"), got;
	int64_t used = -1;

	OK(store_app_content_users(f->c, SHA_A, &used));
	assert_int_equal(used, 0);
	OK(store_app_set_content(f->c, t.id, a.id, SHA_A, 12345678));
	OK(store_app_set_content(f->c, o.id, b.id, SHA_A, 12345678));
	OK(store_app_get(f->c, t.id, a.id, &got));
	assert_string_equal(got.sha256, SHA_A);
	assert_int_equal(got.size, 12345678);
	OK(store_app_content_users(f->c, SHA_A, &used));
	assert_int_equal(used, 2);
	OK(store_app_delete(f->c, t.id, a.id));
	assert_int_equal(store_app_delete(f->c, t.id, a.id), WG_E_NOT_FOUND);
	OK(store_app_content_users(f->c, SHA_A, &used));
	assert_int_equal(used, 1);
	OK(store_app_set_content(f->c, o.id, b.id, SHA_B, 3));
	OK(store_app_content_users(f->c, SHA_A, &used));
	assert_int_equal(used, 0);
}

static void
test_store_app_assign_unassign(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_app a = add_app(f, t.id, "a", "device");
	char **tags = NULL;
	size_t i, n = 0;

	OK(store_app_assign(f->c, t.id, a.id, "kiosk"));
	OK(store_app_assign(f->c, t.id, a.id, "kiosk")); /* no change */
	OK(store_app_assign(f->c, t.id, a.id, "desk"));
	OK(store_app_tags(f->c, t.id, a.id, &tags, &n));
	assert_int_equal(n, 2);
	assert_string_equal(tags[0], "desk");
	assert_string_equal(tags[1], "kiosk");
	for (i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
	OK(store_app_unassign(f->c, t.id, a.id, "kiosk"));
	assert_int_equal(store_app_unassign(f->c, t.id, a.id, "kiosk"),
	    WG_E_NOT_FOUND);
	OK(store_app_tags(f->c, t.id, a.id, &tags, &n));
	assert_int_equal(n, 1);
	free(tags[0]);
	free(tags);
	assert_int_equal(store_app_assign(f->c, t.id,
	    "00000000-0000-4000-8000-000000000000", "kiosk"), WG_E_NOT_FOUND);
}

/*
 * A device gets the device-target apps of its tag that have content, by
 * name; not another tag's, not a user app, not one without content.
 */
static void
test_store_app_for_device_filters(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme"), o = add_tenant(f, "o");
	struct wg_app z = add_app(f, t.id, "zeta", "device");
	struct wg_app a = add_app(f, t.id, "alpha", "device");
	struct wg_app u = add_app(f, t.id, "user-app", "user");
	struct wg_app e = add_app(f, t.id, "empty", "device");
	struct wg_app other = add_app(f, t.id, "other-tag", "device");
	struct wg_app *list = NULL, got;
	size_t n = 0;

	OK(store_app_set_content(f->c, t.id, z.id, SHA_A, 1));
	OK(store_app_set_content(f->c, t.id, a.id, SHA_B, 2));
	OK(store_app_set_content(f->c, t.id, u.id, SHA_A, 1));
	OK(store_app_set_content(f->c, t.id, other.id, SHA_A, 1));
	OK(store_app_assign(f->c, t.id, z.id, "kiosk"));
	OK(store_app_assign(f->c, t.id, a.id, "kiosk"));
	OK(store_app_assign(f->c, t.id, u.id, "kiosk"));
	OK(store_app_assign(f->c, t.id, e.id, "kiosk"));
	OK(store_app_assign(f->c, t.id, other.id, "desk"));
	OK(store_app_for_device(f->c, t.id, "kiosk", "device", &list, &n));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, a.id);
	assert_string_equal(list[1].id, z.id);
	free(list);
	/* account setup: the user-target ones */
	OK(store_app_for_device(f->c, t.id, "kiosk", "user", &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, u.id);
	free(list);
	OK(store_app_for_device(f->c, o.id, "kiosk", "device", &list, &n));
	assert_int_equal(n, 0);
	free(list);
	OK(store_app_device_get(f->c, t.id, "kiosk", u.id, NULL, &got));
	assert_string_equal(got.target, "user");

	OK(store_app_device_get(f->c, t.id, "kiosk", z.id, NULL, &got));
	assert_string_equal(got.name, "zeta");
	OK(store_app_device_get(f->c, t.id, "kiosk", NULL, SHA_B, &got));
	assert_string_equal(got.id, a.id);
	assert_int_equal(store_app_device_get(f->c, t.id, "kiosk", other.id,
	    NULL, &got), WG_E_NOT_FOUND);
	assert_int_equal(store_app_device_get(f->c, t.id, "kiosk", e.id,
	    NULL, &got), WG_E_NOT_FOUND);
	assert_int_equal(store_app_device_get(f->c, t.id, "desk", NULL, SHA_B,
	    &got), WG_E_NOT_FOUND);
	assert_int_equal(store_app_device_get(f->c, o.id, "kiosk", NULL,
	    SHA_A, &got), WG_E_NOT_FOUND);
}

/* A state is written when new or changed, not when reported again. */
static void
test_store_app_state_set_changed(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_app a = add_app(f, t.id, "a", "device");
	struct wg_app_state s, *list = NULL;
	int changed = -1;
	size_t n = 0;

	memset(&s, 0, sizeof(s));
	add_device(f, t.id, "SER-1", "kiosk", 'a', s.device_id);
	memcpy(s.app_id, a.id, sizeof(s.app_id));
	snprintf(s.state, sizeof(s.state), "downloading");
	s.updated_ms = 1000;
	OK(store_app_state_set(f->c, &s, &changed));
	assert_int_equal(changed, 1);
	s.updated_ms = 2000;
	OK(store_app_state_set(f->c, &s, &changed));
	assert_int_equal(changed, 0);
	OK(store_app_states(f->c, t.id, s.device_id, &list, &n));
	assert_int_equal(n, 1);
	assert_int_equal(list[0].updated_ms, 1000);
	free(list);

	snprintf(s.state, sizeof(s.state), "failed");
	snprintf(s.code, sizeof(s.code), "0xA0570A03");
	snprintf(s.message, sizeof(s.message), "exit status 3");
	s.updated_ms = 3000;
	OK(store_app_state_set(f->c, &s, &changed));
	assert_int_equal(changed, 1);
	OK(store_app_state_set(f->c, &s, &changed));
	assert_int_equal(changed, 0);
	snprintf(s.message, sizeof(s.message), "exit status 4");
	OK(store_app_state_set(f->c, &s, &changed));
	assert_int_equal(changed, 1);
	OK(store_app_states(f->c, t.id, s.device_id, &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].app_id, a.id);
	assert_string_equal(list[0].app_name, "a");
	assert_string_equal(list[0].state, "failed");
	assert_string_equal(list[0].code, "0xA0570A03");
	assert_string_equal(list[0].message, "exit status 4");
	assert_int_equal(list[0].updated_ms, 3000);
	free(list);

	/* another tenant sees no state; the app's delete takes them */
	OK(store_app_states(f->c, add_tenant(f, "o").id, s.device_id, &list,
	    &n));
	assert_int_equal(n, 0);
	free(list);
	OK(store_app_delete(f->c, t.id, a.id));
	OK(store_app_states(f->c, t.id, s.device_id, &list, &n));
	assert_int_equal(n, 0);
	free(list);
}

#define CASES(be) \
	T(test_store_app_create_get, be), \
	T(test_store_app_create_duplicate_other_tenant, be), \
	T(test_store_app_list_paging, be), \
	T(test_store_app_set_content_users, be), \
	T(test_store_app_assign_unassign, be), \
	T(test_store_app_for_device_filters, be), \
	T(test_store_app_state_set_changed, be)

STORE_FX_MAIN("test_store_apps", "store_apps")
