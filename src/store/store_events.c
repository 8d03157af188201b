/*
 * Device events and the device's timeline, for both backends: the events
 * a device uploads from its channels (migration 016, device_events) and,
 * merged with them, its server-side audit records (audit_events where
 * device_id is the device).
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/store_int.h"

#define ARRAY_LEN(a) STORE_ARRAY_LEN(a)

enum events_q {
	Q_EV_INSERT = STORE_Q_EVENTS_BASE,
	Q_EV_TRIM,
	Q_EV_NEWEST,
	Q_EV_AUDIT_NEWEST,
	Q_EV_FIRST_ERROR,
	Q_EV_AUDIT_FIRST_ERROR,
	Q_EVENTS_Q_END
};
_Static_assert(Q_EVENTS_Q_END <= STORE_STMT_MAX, "raise STORE_STMT_MAX");

static const char *const events_sql[Q_EVENTS_Q_END - STORE_Q_EVENTS_BASE] = {
	/* an event stored before changes nothing and returns no row */
	[Q_EV_INSERT - STORE_Q_EVENTS_BASE] = "INSERT INTO device_events "
	    "(tenant_id, device_id, event_hash, time_ms, received_ms, "
	    "channel, event_id, level, phase, code, correlation_id, event) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
	    "ON CONFLICT (device_id, channel, event_hash) DO NOTHING "
	    "RETURNING seq",
	/* no row at that offset: NULL, and nothing is deleted */
	[Q_EV_TRIM - STORE_Q_EVENTS_BASE] = "DELETE FROM device_events "
	    "WHERE device_id = $1 AND seq <= (SELECT seq FROM device_events "
	    "WHERE device_id = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)",
	[Q_EV_NEWEST - STORE_Q_EVENTS_BASE] = "SELECT seq, event FROM "
	    "device_events WHERE tenant_id = $1 AND device_id = $2 "
	    "ORDER BY time_ms DESC, seq DESC LIMIT $3",
	[Q_EV_AUDIT_NEWEST - STORE_Q_EVENTS_BASE] = "SELECT seq, event FROM "
	    "audit_events WHERE tenant_id = $1 AND device_id = $2 "
	    "ORDER BY time_ms DESC, seq DESC LIMIT $3",
	[Q_EV_FIRST_ERROR - STORE_Q_EVENTS_BASE] = "SELECT seq, event FROM "
	    "device_events WHERE tenant_id = $1 AND device_id = $2 AND "
	    "level = 'error' ORDER BY time_ms, seq LIMIT 1",
	[Q_EV_AUDIT_FIRST_ERROR - STORE_Q_EVENTS_BASE] = "SELECT seq, event "
	    "FROM audit_events WHERE tenant_id = $1 AND device_id = $2 AND "
	    "level = 'error' ORDER BY time_ms, seq LIMIT 1",
};

static const char *
sql_of(enum events_q id)
{
	return events_sql[id - STORE_Q_EVENTS_BASE];
}

/* ---- uploads ---- */

struct add_args {
	const char *tenant_id, *device_id;
	struct wg_event *const *evs;
	size_t n;
	int64_t now_ms;
	size_t stored;
};

/* Inserts one event unless the device has it; *fresh: it was new. */
static enum wg_err
add_one(struct store_conn *c, const struct add_args *a,
    const struct wg_event *ev, int *fresh)
{
	char hash[65], code[16];
	char *line = wg_event_to_json(ev);
	enum wg_err rc;

	*fresh = 0;
	if (strlen(line) > WG_EVENT_MAX_LINE) {
		wg_error("store: device event %d longer than %d bytes",
		    ev->event_id, WG_EVENT_MAX_LINE);
		free(line);
		return WG_E_INTERNAL; /* the server's parser caps every field */
	}
	wg_sha256_hex(line, strlen(line), hash);
	wg_err_code_str(ev->err, code, sizeof(code));
	struct store_param p[] = {P_TEXT(a->tenant_id), P_TEXT(a->device_id),
	    P_TEXT(hash), P_INT(ev->time_ms), P_INT(a->now_ms),
	    P_TEXT(ev->channel), P_INT(ev->event_id),
	    P_TEXT(wg_level_name(ev->level)), P_TEXT(wg_phase_name(ev->phase)),
	    P_TEXT(ev->err == WG_OK ? "0x00000000" : code),
	    P_OPT(ev->correlation_id), P_TEXT(line)};
	rc = store_q_changed(c, Q_EV_INSERT, sql_of(Q_EV_INSERT), p,
	    ARRAY_LEN(p));
	free(line);
	if (rc == WG_E_NOT_FOUND)
		return WG_OK; /* stored before */
	if (rc == WG_OK)
		*fresh = 1;
	return rc;
}

static enum wg_err
add_tx(struct store_conn *c, void *arg)
{
	struct add_args *a = arg;
	struct store_param trim[] = {P_TEXT(a->device_id),
	    P_INT(WG_DEVICE_EVENTS_KEEP)};
	enum wg_err rc;
	size_t i;
	int fresh;

	a->stored = 0;
	for (i = 0; i < a->n; i++) {
		if ((rc = add_one(c, a, a->evs[i], &fresh)) != WG_OK)
			return rc;
		a->stored += (size_t)fresh;
	}
	if (a->stored == 0)
		return WG_OK;
	return store_conn_run(c, Q_EV_TRIM, sql_of(Q_EV_TRIM), trim,
	    ARRAY_LEN(trim), NULL);
}

enum wg_err
store_device_events_add(struct store_conn *c, const char *tenant_id,
    const char *device_id, struct wg_event *const *evs, size_t n,
    int64_t now_ms, size_t *stored)
{
	struct add_args a = { tenant_id, device_id, evs, n, now_ms, 0 };
	enum wg_err rc;

	*stored = 0;
	if ((rc = store_in_tx(c, add_tx, &a)) == WG_OK)
		*stored = a.stored;
	return rc;
}

/* ---- the timeline ---- */

/* Row r (seq, event line) into a wg_timeline_entry. */
static int
entry_row(const struct store_res *res, size_t r, void *out)
{
	struct wg_timeline_entry *e = out;
	const char *line = store_res_text(res, r, 1);
	char why[160];

	e->seq = store_res_int(res, r, 0);
	e->event = NULL;
	if (line == NULL || wg_event_parse(line, strlen(line), &e->event, why,
	    sizeof(why)) != WG_OK) {
		wg_error("store: timeline record %lld does not parse: %s",
		    (long long)e->seq, line == NULL ? "no event" : why);
		return -1;
	}
	return 0;
}

static void
entries_free(void *list, size_t n)
{
	store_timeline_free(list, n);
}

/* Runs id (tenant, device[, limit]) into *out, marking each's source. */
static enum wg_err
entries(struct store_conn *c, enum events_q id, const char *tenant_id,
    const char *device_id, int64_t limit, int from_server,
    struct wg_timeline_entry **out, size_t *n)
{
	struct store_param p[] = {P_TEXT(tenant_id), P_TEXT(device_id),
	    P_INT(limit)};
	void *list = NULL;
	enum wg_err rc;
	size_t i;

	rc = store_q_list(c, id, sql_of(id), p, limit > 0 ? 3 : 2, entry_row,
	    sizeof(**out), entries_free, &list, n);
	*out = list;
	for (i = 0; rc == WG_OK && i < *n; i++)
		(*out)[i].from_server = from_server;
	return rc;
}

/* Whether a comes after b in the timeline's order. */
static int
entry_after(const struct wg_timeline_entry *a,
    const struct wg_timeline_entry *b)
{
	if (a->event->time_ms != b->event->time_ms)
		return a->event->time_ms > b->event->time_ms;
	if (a->from_server != b->from_server)
		return b->from_server; /* at the same time, the server's first */
	return a->seq > b->seq;
}

enum wg_err
store_timeline_list(struct store_conn *c, const char *tenant_id,
    const char *device_id, size_t limit, struct wg_timeline_entry **out,
    size_t *n, int *more)
{
	struct wg_timeline_entry *srv = NULL, *dev = NULL, *list = NULL;
	size_t ns = 0, nd = 0, is = 0, id = 0, k = 0, i;
	int64_t lim;
	enum wg_err rc;

	*out = NULL;
	*n = 0;
	*more = 0;
	if (limit == 0 || limit > WG_TIMELINE_MAX)
		limit = WG_TIMELINE_MAX;
	lim = (int64_t)limit + 1; /* one more of each says whether more exist */
	if ((rc = entries(c, Q_EV_AUDIT_NEWEST, tenant_id, device_id, lim, 1,
	    &srv, &ns)) != WG_OK || (rc = entries(c, Q_EV_NEWEST, tenant_id,
	    device_id, lim, 0, &dev, &nd)) != WG_OK)
		goto done;
	/* both lists are newest first: take the newest limit of the two */
	list = xcalloc(limit, sizeof(*list));
	while (k < limit && (is < ns || id < nd)) {
		if (id >= nd || (is < ns && entry_after(&srv[is], &dev[id])))
			list[k++] = srv[is++];
		else
			list[k++] = dev[id++];
	}
	*more = is < ns || id < nd;
	/* oldest first; what was taken is list's now */
	for (i = 0; i < k / 2; i++) {
		struct wg_timeline_entry t = list[i];

		list[i] = list[k - 1 - i];
		list[k - 1 - i] = t;
	}
	memmove(srv, srv + is, (ns - is) * sizeof(*srv));
	memmove(dev, dev + id, (nd - id) * sizeof(*dev));
	ns -= is;
	nd -= id;
	*out = list;
	*n = k;
	list = NULL;
done:
	free(list);
	store_timeline_free(srv, ns);
	store_timeline_free(dev, nd);
	return rc;
}

enum wg_err
store_timeline_first_error(struct store_conn *c, const char *tenant_id,
    const char *device_id, struct wg_timeline_entry *out)
{
	struct wg_timeline_entry *srv = NULL, *dev = NULL, *pick;
	size_t ns = 0, nd = 0;
	enum wg_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = entries(c, Q_EV_AUDIT_FIRST_ERROR, tenant_id, device_id, 0,
	    1, &srv, &ns)) != WG_OK || (rc = entries(c, Q_EV_FIRST_ERROR,
	    tenant_id, device_id, 0, 0, &dev, &nd)) != WG_OK)
		goto done;
	if (ns == 0 && nd == 0) {
		rc = WG_E_NOT_FOUND;
		goto done;
	}
	pick = nd == 0 || (ns > 0 && !entry_after(&srv[0], &dev[0])) ? srv :
	    dev;
	*out = *pick;
	pick->event = NULL; /* moved to *out */
done:
	store_timeline_free(srv, ns);
	store_timeline_free(dev, nd);
	return rc;
}

/* Frees list and the events it owns; NULL is a no-op. */
void
store_timeline_free(struct wg_timeline_entry *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		wg_event_free(list[i].event);
	free(list);
}
