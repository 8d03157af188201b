/*
 * The store's tests of device events and the device's timeline
 * (store_events.c): an upload stored once however often it is sent, the
 * server's audit records and the device's events merged in time order,
 * the first failure, the per-device cap, and one tenant's device unseen
 * by another.  Every case runs on SQLite and on PostgreSQL
 * (store_fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "store_fixture.h"

static struct wg_tenant
add_tenant(struct fx *f, const char *name)
{
	struct wg_tenant t;

	OK(store_tenant_create(f->c, name, &t));
	return t;
}

/* A device of tenant_id; its id into id[37]. */
static void
add_device(struct fx *f, const char *tenant_id, const char *serial,
    char ek_fill, char id[37])
{
	static const unsigned char hash[] = { 1, 2, 3 };
	struct wg_import_row row;
	struct wg_import im;

	memset(&row, 0, sizeof(row));
	row.row_number = 1;
	row.serial = serial;
	row.hardware_hash = hash;
	row.hardware_hash_len = sizeof(hash);
	memset(row.ek_sha256, ek_fill, 64);
	OK(store_import_create(f->c, tenant_id, "csv", "test", &im));
	OK(store_import_batch(f->c, tenant_id, im.id, &row, 1));
	OK(row.err);
	memcpy(id, row.device_id, 37);
}

/* An event of channel at time ms: an error with err, else info. */
static struct wg_event *
event_at(const char *channel, int id, int64_t ms, enum wg_err err,
    const char *msg)
{
	struct wg_event *ev = wg_event_new(channel, id, err == WG_OK ?
	    WG_LEVEL_INFO : WG_LEVEL_ERROR, WG_PHASE_MDM, err, "%s", msg);

	ev->time_ms = ms;
	wg_event_set_correlation(ev, "6f1d2c3b-0000-4000-8000-000000000001");
	return ev;
}

static void
events_free(struct wg_event **evs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		wg_event_free(evs[i]);
}

/* Appends an audit record of device_id at ms. */
static void
audit_at(struct fx *f, const char *tenant_id, const char *device_id,
    int id, int64_t ms, enum wg_err err)
{
	struct wg_event *ev = event_at("enrollment", id, ms, err, "server");

	OK(store_audit_append(f->c, tenant_id, device_id, NULL, ev));
	wg_event_free(ev);
}

static void
test_store_device_events_add_idempotent(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_timeline_entry *list;
	struct wg_event *evs[4];
	char dev[37];
	size_t stored, n;
	int more;

	add_device(f, t.id, "SN-1", 'a', dev);
	evs[0] = event_at("autopilot", 160, 1000, WG_OK, "profile");
	evs[1] = event_at("registration", 306, 3000, WG_OK, "joined");
	evs[2] = event_at("tpm", 100, 2000, WG_OK, "aik");
	OK(store_device_events_add(f->c, t.id, dev, evs, 3, 5000, &stored));
	assert_int_equal(stored, 3);
	/* the same three again and one more: only the new one is stored */
	evs[3] = event_at("enrollment", 75, 4000, WG_OK, "enrolled");
	OK(store_device_events_add(f->c, t.id, dev, evs, 4, 6000, &stored));
	assert_int_equal(stored, 1);
	/* the same record on another channel is another event */
	free(evs[3]->channel);
	evs[3]->channel = xstrdup("apps");
	OK(store_device_events_add(f->c, t.id, dev, evs + 3, 1, 7000,
	    &stored));
	assert_int_equal(stored, 1);

	OK(store_timeline_list(f->c, t.id, dev, 100, &list, &n, &more));
	assert_int_equal(n, 5);
	assert_int_equal(more, 0);
	assert_int_equal(list[0].event->event_id, 160);
	assert_int_equal(list[1].event->event_id, 100);
	assert_string_equal(list[1].event->channel, "tpm");
	assert_int_equal(list[2].event->event_id, 306);
	assert_int_equal(list[3].event->time_ms, 4000);
	assert_int_equal(list[4].event->time_ms, 4000);
	assert_int_equal(list[0].from_server, 0);
	assert_string_equal(list[0].event->correlation_id,
	    "6f1d2c3b-0000-4000-8000-000000000001");
	store_timeline_free(list, n);
	events_free(evs, 4);
}

static void
test_store_timeline_list_merges_and_limits(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_timeline_entry *list;
	struct wg_event *evs[3];
	char dev[37], other[37];
	size_t stored, n;
	int more;

	add_device(f, t.id, "SN-1", 'a', dev);
	add_device(f, t.id, "SN-2", 'b', other);
	evs[0] = event_at("registration", 305, 1000, WG_OK, "d1");
	evs[1] = event_at("enrollment", 76, 3000, WG_OK, "d3");
	evs[2] = event_at("enrollment", 77, 5000, WG_OK, "d5");
	OK(store_device_events_add(f->c, t.id, dev, evs, 3, 9000, &stored));
	audit_at(f, t.id, dev, 306, 2000, WG_OK);
	audit_at(f, t.id, dev, 75, 3000, WG_OK); /* the same ms as d3 */
	audit_at(f, t.id, dev, 1018, 4000, WG_OK);
	audit_at(f, t.id, other, 1015, 2500, WG_OK);  /* another device's */
	audit_at(f, t.id, NULL, 1001, 2500, WG_OK);   /* no device's */

	OK(store_timeline_list(f->c, t.id, dev, 100, &list, &n, &more));
	assert_int_equal(n, 6);
	assert_int_equal(more, 0);
	int want_ids[] = { 305, 306, 75, 76, 1018, 77 };
	int want_srv[] = { 0, 1, 1, 0, 1, 0 };
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(list[i].event->event_id, want_ids[i]);
		assert_int_equal(list[i].from_server, want_srv[i]);
	}
	store_timeline_free(list, n);

	/* the newest 4, oldest first, with more */
	OK(store_timeline_list(f->c, t.id, dev, 4, &list, &n, &more));
	assert_int_equal(n, 4);
	assert_int_equal(more, 1);
	assert_int_equal(list[0].event->event_id, 75);
	assert_int_equal(list[3].event->event_id, 77);
	store_timeline_free(list, n);

	/* another tenant's key sees nothing of the device */
	OK(store_timeline_list(f->c, add_tenant(f, "other").id, dev, 100,
	    &list, &n, &more));
	assert_int_equal(n, 0);
	store_timeline_free(list, n);
	events_free(evs, 3);
}

static void
test_store_timeline_first_error_earliest(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_timeline_entry e;
	struct wg_event *evs[2];
	char dev[37];
	size_t stored;

	add_device(f, t.id, "SN-1", 'a', dev);
	assert_int_equal(store_timeline_first_error(f->c, t.id, dev, &e),
	    WG_E_NOT_FOUND);
	assert_null(e.event);
	evs[0] = event_at("enrollment", 76, 3000,
	    WG_E_MENROLL_DEVICE_NOT_SUPPORTED, "refused");
	evs[1] = event_at("enrollment", 77, 4000, WG_E_TIMEOUT, "later");
	OK(store_device_events_add(f->c, t.id, dev, evs, 2, 9000, &stored));
	audit_at(f, t.id, dev, 75, 1000, WG_OK);
	OK(store_timeline_first_error(f->c, t.id, dev, &e));
	assert_int_equal(e.from_server, 0);
	assert_int_equal(e.event->err, WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	wg_event_free(e.event);
	/* a server error at the same ms comes first */
	audit_at(f, t.id, dev, 76, 3000, WG_E_MENROLL_DEVICE_NOT_SUPPORTED);
	OK(store_timeline_first_error(f->c, t.id, dev, &e));
	assert_int_equal(e.from_server, 1);
	assert_int_equal(e.event->event_id, 76);
	wg_event_free(e.event);
	events_free(evs, 2);
}

static void
test_store_device_events_keep_newest(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	enum { BATCH = 100, EXTRA = 5 };
	struct wg_timeline_entry *list, e;
	struct wg_event *evs[BATCH];
	char dev[37], msg[32];
	size_t stored, n, sent = 0, i;
	int more;

	add_device(f, t.id, "SN-1", 'a', dev);
	/* the first EXTRA are errors: the oldest, trimmed in the end */
	while (sent < WG_DEVICE_EVENTS_KEEP + EXTRA) {
		size_t k = WG_DEVICE_EVENTS_KEEP + EXTRA - sent;

		k = k < BATCH ? k : BATCH;
		for (i = 0; i < k; i++) {
			snprintf(msg, sizeof(msg), "event %zu", sent + i);
			evs[i] = event_at("apps", 1900, (int64_t)(sent + i),
			    sent + i < EXTRA ? WG_E_TIMEOUT : WG_OK, msg);
		}
		OK(store_device_events_add(f->c, t.id, dev, evs, k, 1, &stored));
		assert_int_equal(stored, k);
		events_free(evs, k);
		sent += k;
	}
	assert_int_equal(store_timeline_first_error(f->c, t.id, dev, &e),
	    WG_E_NOT_FOUND);
	OK(store_timeline_list(f->c, t.id, dev, 0, &list, &n, &more));
	assert_int_equal(n, WG_TIMELINE_MAX);
	assert_int_equal(more, 1);
	assert_int_equal(list[n - 1].event->time_ms,
	    WG_DEVICE_EVENTS_KEEP + EXTRA - 1);
	store_timeline_free(list, n);
}

static void
test_store_device_events_gone_with_device(void **state)
{
	struct fx *f = *state;
	struct wg_tenant t = add_tenant(f, "acme");
	struct wg_timeline_entry *list;
	struct wg_event *ev = event_at("tpm", 100, 1000, WG_OK, "aik");
	char dev[37], serial[WG_SERIAL_MAX + 1];
	size_t stored, n;
	int more;

	add_device(f, t.id, "SN-1", 'a', dev);
	OK(store_device_events_add(f->c, t.id, dev, &ev, 1, 2000, &stored));
	OK(store_device_delete(f->c, t.id, dev, serial));
	OK(store_timeline_list(f->c, t.id, dev, 10, &list, &n, &more));
	assert_int_equal(n, 0);
	store_timeline_free(list, n);
	wg_event_free(ev);
}

#define CASES(be) \
	T(test_store_device_events_add_idempotent, be), \
	T(test_store_timeline_list_merges_and_limits, be), \
	T(test_store_timeline_first_error_earliest, be), \
	T(test_store_device_events_keep_newest, be), \
	T(test_store_device_events_gone_with_device, be)

STORE_FX_MAIN("test_store_events", "store_events")
