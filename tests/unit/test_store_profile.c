/*
 * The store's tests of deployment profiles (step 1, the ztd service):
 * profiles, their group-tag and default assignments, the profile a device
 * gets, and the device lookups by EK the ztd service makes.  Every case
 * runs on SQLite and on PostgreSQL (store_fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store_fixture.h"

/* A profile of tenant_id with every field set, name and numbers by seed. */
static struct wg_profile
make_profile(const char *tenant_id, const char *name, int seed)
{
	struct wg_profile p;

	memset(&p, 0, sizeof(p));
	snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant_id);
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.deployment_mode, sizeof(p.deployment_mode),
	    "preProvisioning");
	snprintf(p.join_method, sizeof(p.join_method), "hybrid");
	snprintf(p.name_template, sizeof(p.name_template), "WG-%%SERIAL%%");
	p.oobe_flags = 1310 + seed;
	p.esp_timeout_min = 90 + seed;
	snprintf(p.reboot_policy, sizeof(p.reboot_policy), "tolerant");
	p.ticket_days = 30 + seed;
	return p;
}

/* make_profile(), created. */
static struct wg_profile
add_profile(struct fx *f, const char *tenant_id, const char *name)
{
	struct wg_profile p = make_profile(tenant_id, name, 0);

	OK(store_profile_create(f->c, &p));
	return p;
}

static struct wg_tenant
add_tenant(struct fx *f, const char *name)
{
	struct wg_tenant t;

	OK(store_tenant_create(f->c, name, &t));
	return t;
}

static void
assert_profile_equal(const struct wg_profile *got,
    const struct wg_profile *want)
{
	assert_string_equal(got->id, want->id);
	assert_string_equal(got->tenant_id, want->tenant_id);
	assert_string_equal(got->name, want->name);
	assert_string_equal(got->deployment_mode, want->deployment_mode);
	assert_string_equal(got->join_method, want->join_method);
	assert_string_equal(got->name_template, want->name_template);
	assert_int_equal(got->oobe_flags, want->oobe_flags);
	assert_int_equal(got->esp_timeout_min, want->esp_timeout_min);
	assert_string_equal(got->reboot_policy, want->reboot_policy);
	assert_int_equal(got->ticket_days, want->ticket_days);
	assert_int_equal(got->is_default, want->is_default);
	assert_int_equal(got->created_ms, want->created_ms);
}

/* Whether profile id of tenant_id is the default (it must exist). */
static int
is_default(struct fx *f, const char *tenant_id, const char *id)
{
	struct wg_profile p;

	OK(store_profile_get(f->c, tenant_id, id, &p));
	return p.is_default;
}

/* The group tags of profile id, joined with ',' into out[len]. */
static const char *
tags_of(struct fx *f, const char *tenant_id, const char *id, char *out,
    size_t len)
{
	char **tags = (char **)1;
	size_t n = 99, i, o = 0;

	OK(store_profile_tags(f->c, tenant_id, id, &tags, &n));
	out[0] = '\0';
	if (n == 0)
		assert_null(tags);
	for (i = 0; i < n; i++) {
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "," : "",
		    tags[i]);
		assert_true(o < len);
		free(tags[i]);
	}
	free(tags);
	return out;
}

/*
 * Asserts that a device of tenant_id with group_tag gets profile want_id
 * ("": none, WG_E_NOT_FOUND) through its tag (by_tag 1) or the default.
 */
static void
assert_profile_for(struct fx *f, const char *tenant_id, const char *group_tag,
    const char *want_id, int want_by_tag)
{
	struct wg_profile p;
	int by_tag = -1;

	if (want_id[0] == '\0') {
		assert_int_equal(store_profile_for(f->c, tenant_id, group_tag,
		    &p, &by_tag), WG_E_NOT_FOUND);
		assert_int_equal(by_tag, 0);
		return;
	}
	OK(store_profile_for(f->c, tenant_id, group_tag, &p, &by_tag));
	assert_string_equal(p.id, want_id);
	assert_string_equal(p.tenant_id, tenant_id);
	assert_int_equal(by_tag, want_by_tag);
}

/* ---- profiles ---- */

/* Every field is stored and read back, by id and by name. */
static void
test_store_profile_create_get(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	struct wg_profile p, got;
	char name[WG_PROFILE_NAME_MAX + 1], id[WG_UUID_LEN + 1];
	int64_t now = wg_now_ms();

	memset(name, 'n', WG_PROFILE_NAME_MAX); /* the longest name fits */
	name[WG_PROFILE_NAME_MAX] = '\0';
	p = make_profile(t.id, name, 7);
	memset(p.name_template, 'x', WG_NAME_TEMPLATE_MAX);
	p.is_default = 1; /* a new profile is not the default */
	OK(store_profile_create(f->c, &p));
	assert_true(wg_is_uuid(p.id));
	assert_int_equal(p.is_default, 0);
	assert_true(p.created_ms >= now - 1000 && p.created_ms <= now + 1000);
	assert_int_equal(p.updated_ms, p.created_ms);

	OK(store_profile_get(f->c, t.id, p.id, &got));
	assert_profile_equal(&got, &p);
	assert_int_equal(got.oobe_flags, 1317);
	assert_int_equal(got.updated_ms, p.updated_ms);
	memset(&got, 0, sizeof(got));
	OK(store_profile_get_by_name(f->c, t.id, name, &got));
	assert_profile_equal(&got, &p);

	/* another tenant sees nothing of it */
	assert_int_equal(store_profile_get(f->c, other.id, p.id, &got),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_profile_get_by_name(f->c, other.id, name, &got),
	    WG_E_NOT_FOUND);
	wg_uuid(id);
	assert_int_equal(store_profile_get(f->c, t.id, id, &got),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_profile_get_by_name(f->c, t.id, "n", &got),
	    WG_E_NOT_FOUND);
}

/* Pages by name, strictly after the last name seen, one tenant only. */
static void
test_store_profile_list_paging(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = {"delta", "alpha", "echo",
	    "charlie", "bravo"};
	static const char *const want[][2] = {{"alpha", "bravo"},
	    {"charlie", "delta"}, {"echo", NULL}};
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	struct wg_profile *list;
	char after[WG_PROFILE_NAME_MAX + 1] = "";
	size_t i, n, page;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		add_profile(f, t.id, names[i]);
	add_profile(f, other.id, "aardvark");
	add_profile(f, other.id, "bravo0");

	for (page = 0; page < 3; page++) {
		OK(store_profile_list(f->c, t.id, after, 2, &list, &n));
		assert_int_equal(n, want[page][1] != NULL ? 2 : 1);
		for (i = 0; i < n; i++) {
			assert_string_equal(list[i].name, want[page][i]);
			assert_string_equal(list[i].tenant_id, t.id);
		}
		snprintf(after, sizeof(after), "%s", list[n - 1].name);
		free(list);
	}
	OK(store_profile_list(f->c, t.id, after, 2, &list, &n));
	assert_int_equal(n, 0);
	free(list);
	/* NULL is the start too, and a large limit gives all */
	OK(store_profile_list(f->c, t.id, NULL, 100, &list, &n));
	assert_int_equal(n, 5);
	assert_string_equal(list[4].name, "echo");
	free(list);
}

/* A name is unique in its tenant, not across tenants. */
static void
test_store_profile_create_duplicate(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	struct wg_profile a = add_profile(f, t.id, "kiosk");
	struct wg_profile dup = make_profile(t.id, "kiosk", 1);
	struct wg_profile b, got, *list;
	size_t n;

	assert_int_equal(store_profile_create(f->c, &dup), WG_E_CONFLICT);
	OK(store_profile_list(f->c, t.id, "", 10, &list, &n));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, a.id);
	free(list);

	b = add_profile(f, other.id, "kiosk");
	OK(store_profile_get_by_name(f->c, t.id, "kiosk", &got));
	assert_string_equal(got.id, a.id);
	OK(store_profile_get_by_name(f->c, other.id, "kiosk", &got));
	assert_string_equal(got.id, b.id);
}

/* ---- assignments ---- */

/* A tag has one profile: assigning it again moves it. */
static void
test_store_profile_assign_tag(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	struct wg_profile a = add_profile(f, t.id, "a");
	struct wg_profile b = add_profile(f, t.id, "b");
	struct wg_profile c = add_profile(f, other.id, "c");
	char tags[256], id[WG_UUID_LEN + 1];

	assert_string_equal(tags_of(f, t.id, a.id, tags, sizeof(tags)), "");
	OK(store_profile_assign(f->c, t.id, a.id, "kiosk"));
	OK(store_profile_assign(f->c, t.id, a.id, "kiosk")); /* again */
	assert_string_equal(tags_of(f, t.id, a.id, tags, sizeof(tags)),
	    "kiosk");
	assert_int_equal(is_default(f, t.id, a.id), 0);

	OK(store_profile_assign(f->c, t.id, b.id, "kiosk"));
	assert_string_equal(tags_of(f, t.id, a.id, tags, sizeof(tags)), "");
	assert_string_equal(tags_of(f, t.id, b.id, tags, sizeof(tags)),
	    "kiosk");
	OK(store_profile_assign(f->c, t.id, b.id, "lab"));
	OK(store_profile_assign(f->c, t.id, b.id, "desk"));
	assert_string_equal(tags_of(f, t.id, b.id, tags, sizeof(tags)),
	    "desk,kiosk,lab");

	/* the same tag in another tenant is that tenant's own */
	OK(store_profile_assign(f->c, other.id, c.id, "kiosk"));
	assert_string_equal(tags_of(f, t.id, b.id, tags, sizeof(tags)),
	    "desk,kiosk,lab");
	assert_string_equal(tags_of(f, t.id, c.id, tags, sizeof(tags)), "");

	/* only a profile of the tenant can be assigned */
	assert_int_equal(store_profile_assign(f->c, t.id, c.id, "kiosk"),
	    WG_E_NOT_FOUND);
	wg_uuid(id);
	assert_int_equal(store_profile_assign(f->c, t.id, id, "kiosk"),
	    WG_E_NOT_FOUND);
	assert_string_equal(tags_of(f, t.id, b.id, tags, sizeof(tags)),
	    "desk,kiosk,lab");
}

/* A tenant has one default: making another one moves it. */
static void
test_store_profile_assign_default(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	struct wg_profile a = add_profile(f, t.id, "a");
	struct wg_profile b = add_profile(f, t.id, "b");
	struct wg_profile c = add_profile(f, other.id, "c");
	char id[WG_UUID_LEN + 1];

	OK(store_profile_assign(f->c, t.id, a.id, NULL));
	assert_int_equal(is_default(f, t.id, a.id), 1);
	assert_int_equal(is_default(f, t.id, b.id), 0);
	OK(store_profile_assign(f->c, t.id, b.id, NULL));
	assert_int_equal(is_default(f, t.id, a.id), 0);
	assert_int_equal(is_default(f, t.id, b.id), 1);
	OK(store_profile_assign(f->c, t.id, b.id, NULL)); /* again */
	assert_int_equal(is_default(f, t.id, b.id), 1);

	/* another tenant's default leaves this one's alone */
	OK(store_profile_assign(f->c, other.id, c.id, NULL));
	assert_int_equal(is_default(f, other.id, c.id), 1);
	assert_int_equal(is_default(f, t.id, b.id), 1);

	/* a failed assignment keeps the default there was */
	wg_uuid(id);
	assert_int_equal(store_profile_assign(f->c, t.id, id, NULL),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_profile_assign(f->c, t.id, c.id, NULL),
	    WG_E_NOT_FOUND);
	assert_int_equal(is_default(f, t.id, b.id), 1);
	assert_int_equal(is_default(f, other.id, c.id), 1);
}

/* Only an assignment there is can be removed, and only that one. */
static void
test_store_profile_unassign(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	struct wg_profile a = add_profile(f, t.id, "a");
	struct wg_profile b = add_profile(f, t.id, "b");
	char tags[256];

	OK(store_profile_assign(f->c, t.id, a.id, "kiosk"));
	OK(store_profile_assign(f->c, t.id, a.id, "lab"));
	assert_int_equal(store_profile_unassign(f->c, t.id, b.id, "kiosk"),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_profile_unassign(f->c, other.id, a.id,
	    "kiosk"), WG_E_NOT_FOUND);
	assert_int_equal(store_profile_unassign(f->c, t.id, a.id, "desk"),
	    WG_E_NOT_FOUND);
	assert_string_equal(tags_of(f, t.id, a.id, tags, sizeof(tags)),
	    "kiosk,lab");
	OK(store_profile_unassign(f->c, t.id, a.id, "kiosk"));
	assert_string_equal(tags_of(f, t.id, a.id, tags, sizeof(tags)),
	    "lab");
	assert_int_equal(store_profile_unassign(f->c, t.id, a.id, "kiosk"),
	    WG_E_NOT_FOUND);

	/* the default */
	assert_int_equal(store_profile_unassign(f->c, t.id, a.id, NULL),
	    WG_E_NOT_FOUND);
	OK(store_profile_assign(f->c, t.id, a.id, NULL));
	assert_int_equal(store_profile_unassign(f->c, t.id, b.id, NULL),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_profile_unassign(f->c, other.id, a.id, NULL),
	    WG_E_NOT_FOUND);
	assert_int_equal(is_default(f, t.id, a.id), 1);
	OK(store_profile_unassign(f->c, t.id, a.id, NULL));
	assert_int_equal(is_default(f, t.id, a.id), 0);
	assert_int_equal(store_profile_unassign(f->c, t.id, a.id, NULL),
	    WG_E_NOT_FOUND);
	assert_string_equal(tags_of(f, t.id, a.id, tags, sizeof(tags)),
	    "lab");
	assert_profile_for(f, t.id, "", "", 0);
}

/* ---- the profile a device gets ---- */

/* Its tag's profile, else the default, with the whole profile. */
static void
test_store_profile_for_tag_over_default(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_profile a = add_profile(f, t.id, "a");
	struct wg_profile b = make_profile(t.id, "b", 3);
	struct wg_profile got;
	int by_tag = -1;

	OK(store_profile_create(f->c, &b));
	OK(store_profile_assign(f->c, t.id, a.id, NULL));
	OK(store_profile_assign(f->c, t.id, b.id, "kiosk"));
	OK(store_profile_for(f->c, t.id, "kiosk", &got, &by_tag));
	assert_int_equal(by_tag, 1);
	assert_profile_equal(&got, &b);
	assert_profile_for(f, t.id, "lab", a.id, 0);
	assert_profile_for(f, t.id, "", a.id, 0);

	/* the default itself assigned to a tag: found by the tag */
	OK(store_profile_assign(f->c, t.id, a.id, "lab"));
	assert_profile_for(f, t.id, "lab", a.id, 1);
	OK(store_profile_for(f->c, t.id, "", &got, &by_tag));
	assert_int_equal(by_tag, 0);
	a.is_default = 1;
	assert_profile_equal(&got, &a);
}

/* Neither an assignment of its tag nor a default: nothing. */
static void
test_store_profile_for_none(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_profile b;

	assert_profile_for(f, t.id, "", "", 0);
	assert_profile_for(f, t.id, "kiosk", "", 0);
	b = add_profile(f, t.id, "b");
	assert_profile_for(f, t.id, "kiosk", "", 0); /* not assigned yet */
	OK(store_profile_assign(f->c, t.id, b.id, "kiosk"));
	assert_profile_for(f, t.id, "kiosk", b.id, 1);
	assert_profile_for(f, t.id, "lab", "", 0);
	assert_profile_for(f, t.id, "", "", 0);
}

/* Another tenant's assignments and default are never used. */
static void
test_store_profile_for_other_tenant(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	struct wg_profile c = add_profile(f, other.id, "c");
	struct wg_profile d = add_profile(f, other.id, "d");
	struct wg_profile a;

	OK(store_profile_assign(f->c, other.id, c.id, "kiosk"));
	OK(store_profile_assign(f->c, other.id, d.id, NULL));
	assert_profile_for(f, t.id, "kiosk", "", 0);
	assert_profile_for(f, t.id, "lab", "", 0);
	assert_profile_for(f, t.id, "", "", 0);

	a = add_profile(f, t.id, "a");
	OK(store_profile_assign(f->c, t.id, a.id, NULL));
	assert_profile_for(f, t.id, "kiosk", a.id, 0);
	assert_profile_for(f, other.id, "kiosk", c.id, 1);
	assert_profile_for(f, other.id, "", d.id, 0);
}

/* ---- deleting ---- */

/* A deleted profile's assignments go with it. */
static void
test_store_profile_delete_assignments(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_profile a = add_profile(f, t.id, "a");
	struct wg_profile b = add_profile(f, t.id, "b");
	struct wg_profile got, *list;
	char tags[256];
	size_t n;

	OK(store_profile_assign(f->c, t.id, a.id, NULL));
	OK(store_profile_assign(f->c, t.id, b.id, "kiosk"));
	OK(store_profile_assign(f->c, t.id, b.id, "lab"));
	OK(store_profile_delete(f->c, t.id, b.id));
	assert_int_equal(store_profile_get(f->c, t.id, b.id, &got),
	    WG_E_NOT_FOUND);
	assert_int_equal(store_profile_get_by_name(f->c, t.id, "b", &got),
	    WG_E_NOT_FOUND);
	assert_string_equal(tags_of(f, t.id, b.id, tags, sizeof(tags)), "");
	assert_profile_for(f, t.id, "kiosk", a.id, 0);
	assert_profile_for(f, t.id, "lab", a.id, 0);
	assert_int_equal(store_profile_delete(f->c, t.id, b.id),
	    WG_E_NOT_FOUND);

	OK(store_profile_delete(f->c, t.id, a.id));
	assert_profile_for(f, t.id, "kiosk", "", 0);
	assert_profile_for(f, t.id, "", "", 0);
	OK(store_profile_list(f->c, t.id, "", 10, &list, &n));
	assert_int_equal(n, 0);
	free(list);

	/* the name and the tags are free again */
	b = add_profile(f, t.id, "b");
	OK(store_profile_assign(f->c, t.id, b.id, "kiosk"));
	OK(store_profile_assign(f->c, t.id, b.id, NULL));
	assert_profile_for(f, t.id, "kiosk", b.id, 1);
	assert_profile_for(f, t.id, "", b.id, 0);
}

/* Another tenant cannot delete a profile, nor learn it exists. */
static void
test_store_profile_delete_other_tenant(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	struct wg_profile a = add_profile(f, t.id, "a");
	struct wg_profile got;

	OK(store_profile_assign(f->c, t.id, a.id, NULL));
	OK(store_profile_assign(f->c, t.id, a.id, "kiosk"));
	assert_int_equal(store_profile_delete(f->c, other.id, a.id),
	    WG_E_NOT_FOUND);
	OK(store_profile_get(f->c, t.id, a.id, &got));
	assert_int_equal(got.is_default, 1);
	assert_profile_for(f, t.id, "kiosk", a.id, 1);
	assert_profile_for(f, t.id, "", a.id, 0);
}

/* ---- devices by EK (the ztd service's lookups) ---- */

/* Every byte value, from 0x00 on, and then 0x00 again. */
#define HASH_LEN 258

/*
 * Registers a device with serial, an EK digest of ek_fill and the hash
 * bytes hash[len] in a new import of tenant_id; row gets its ids.
 */
static void
add_device(struct fx *f, const char *tenant_id, const char *serial,
    char ek_fill, const unsigned char *hash, size_t len,
    struct wg_import_row *row)
{
	struct wg_import im;

	memset(row, 0, sizeof(*row));
	row->row_number = 1;
	row->serial = serial;
	row->group_tag = "kiosk";
	row->hardware_hash = hash;
	row->hardware_hash_len = len;
	memset(row->ek_sha256, ek_fill, 64);
	OK(store_import_create(f->c, tenant_id, "csv", "test", &im));
	OK(store_import_batch(f->c, tenant_id, im.id, row, 1));
	OK(row->err);
	assert_true(wg_is_uuid(row->device_id));
}

/* The device of an EK, in any tenant, with its hash's bytes exactly. */
static void
test_store_device_by_ek_hash_bytes(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_tenant other = add_tenant(f, "other");
	static const unsigned char small[3] = {0xff, 0x00, 0xff};
	unsigned char big[HASH_LEN], *hash = (unsigned char *)1;
	struct wg_import_row row, row2;
	struct wg_device d;
	char ek[65];
	size_t i, len = 99;

	for (i = 0; i < HASH_LEN; i++)
		big[i] = (unsigned char)i;
	add_device(f, t.id, "SER-1", 'a', big, sizeof(big), &row);
	add_device(f, other.id, "SER-2", 'b', small, sizeof(small), &row2);

	OK(store_device_by_ek(f->c, row.ek_sha256, &d, &hash, &len));
	assert_string_equal(d.id, row.device_id);
	assert_string_equal(d.tenant_id, t.id);
	assert_string_equal(d.serial, "SER-1");
	assert_string_equal(d.group_tag, "kiosk");
	assert_string_equal(d.ztd_id, row.ztd_id);
	assert_string_equal(d.ek_sha256, row.ek_sha256);
	assert_int_equal(len, HASH_LEN);
	assert_memory_equal(hash, big, HASH_LEN);
	free(hash);

	OK(store_device_by_ek(f->c, row2.ek_sha256, &d, &hash, &len));
	assert_string_equal(d.id, row2.device_id);
	assert_string_equal(d.tenant_id, other.id);
	assert_int_equal(len, sizeof(small));
	assert_memory_equal(hash, small, sizeof(small));
	free(hash);

	/* the same lookup key (first 32 bits), another digest */
	memcpy(ek, row.ek_sha256, sizeof(ek));
	ek[63] = 'b';
	assert_int_equal(store_device_by_ek(f->c, ek, &d, &hash, &len),
	    WG_E_NOT_FOUND);
	assert_null(hash);
	assert_int_equal(len, 0);
	memset(ek, 'c', 64);
	assert_int_equal(store_device_by_ek(f->c, ek, &d, &hash, &len),
	    WG_E_NOT_FOUND);
	assert_null(hash);
}

/* Contact is recorded on the device, and on that device only. */
static void
test_store_device_contacted_sets_time(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	static const unsigned char hash[4] = {'W', 'G', 'H', 'H'};
	struct wg_import_row row, row2;
	struct wg_device d;
	unsigned char *bytes;
	size_t len;
	int64_t t0;

	add_device(f, t.id, "SER-1", 'a', hash, sizeof(hash), &row);
	add_device(f, t.id, "SER-2", 'b', hash, sizeof(hash), &row2);
	OK(store_device_get(f->c, t.id, row.device_id, &d));
	assert_int_equal(d.last_contacted_ms, 0);

	t0 = wg_now_ms();
	OK(store_device_contacted(f->c, row.device_id));
	OK(store_device_get(f->c, t.id, row.device_id, &d));
	assert_true(d.last_contacted_ms >= t0 &&
	    d.last_contacted_ms <= wg_now_ms());
	OK(store_device_by_ek(f->c, row.ek_sha256, &d, &bytes, &len));
	assert_true(d.last_contacted_ms >= t0);
	free(bytes);
	OK(store_device_get(f->c, t.id, row2.device_id, &d));
	assert_int_equal(d.last_contacted_ms, 0);
}

#define CASES(be) \
	T(test_store_profile_create_get, be), \
	T(test_store_profile_list_paging, be), \
	T(test_store_profile_create_duplicate, be), \
	T(test_store_profile_assign_tag, be), \
	T(test_store_profile_assign_default, be), \
	T(test_store_profile_unassign, be), \
	T(test_store_profile_for_tag_over_default, be), \
	T(test_store_profile_for_none, be), \
	T(test_store_profile_for_other_tenant, be), \
	T(test_store_profile_delete_assignments, be), \
	T(test_store_profile_delete_other_tenant, be), \
	T(test_store_device_by_ek_hash_bytes, be), \
	T(test_store_device_contacted_sets_time, be)

STORE_FX_MAIN("test_store_profile", "store_profile")
