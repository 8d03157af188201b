/*
 * The network check's output (diag_network.h): the table, the failures
 * in words and the firewall list for a person, the same as JSON for
 * scripts, and the summary event the diagnostics bundle carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/diag_network.h"
#include "agent/eventlog.h"
#include "common/event.h"
#include "common/xmalloc.h"

#define CELL_MAX 1100 /* a URL */
#define URL_SHOWN 64

enum { COL_NAME, COL_URL, COL_HOST, COL_DNS, COL_CONNECT, COL_TLS, COL_HTTP,
	COL_VERDICT, COL_MAX };

static const char *const heads[COL_MAX] = { "ENDPOINT", "URL", "HOST:PORT",
	"DNS", "CONNECT", "TLS", "HTTP", "VERDICT" };

const char *
diag_network_state(enum dn_state s)
{
	switch (s) {
	case DN_PASS: return "pass";
	case DN_WARN: return "warn";
	case DN_FAIL: return "fail";
	case DN_SKIP: return "skip";
	default: return "-";
	}
}

static void
ms_text(long us, char *out, size_t outlen)
{
	snprintf(out, outlen, "%ld.%ld ms", us / 1000, (us % 1000) / 100);
}

/* One row's cells, short: the facts are in the lines below the table. */
static void
cells(const struct dn_endpoint *e, char cell[COL_MAX][CELL_MAX])
{
	const struct dn_transport *t = e->t;
	const struct dn_check *c;
	int i;

	for (i = 0; i < COL_MAX; i++)
		snprintf(cell[i], CELL_MAX, "-");
	snprintf(cell[COL_NAME], CELL_MAX, "%s", e->name);
	/* the table keeps a URL's first URL_SHOWN bytes; JSON has it all */
	snprintf(cell[COL_URL], CELL_MAX, strlen(e->url) > URL_SHOWN ?
	    "%.*s..." : "%.*s", URL_SHOWN, e->url[0] ? e->url : "-");
	snprintf(cell[COL_VERDICT], CELL_MAX, "%s", e->verdict == DN_FAIL ? "FAIL" :
	    e->verdict == DN_WARN ? "WARN" : diag_network_state(e->verdict));
	if (t == NULL)
		return;
	snprintf(cell[COL_HOST], CELL_MAX, "%s", t->hostport);
	c = &t->step[DN_DNS];
	if (c->state == DN_PASS)
		snprintf(cell[COL_DNS], CELL_MAX, t->naddrs > 1 ? "%s +%zu" : "%s",
		    t->addrs[0], t->naddrs - 1);
	else if (c->state == DN_FAIL)
		snprintf(cell[COL_DNS], CELL_MAX, "FAIL");
	c = &t->step[DN_CONNECT];
	if (c->state == DN_PASS)
		ms_text(c->us, cell[COL_CONNECT], CELL_MAX);
	else if (c->state == DN_FAIL)
		snprintf(cell[COL_CONNECT], CELL_MAX, "FAIL");
	c = &t->step[DN_TLS];
	if (c->state != DN_NOT_RUN && !t->tls)
		snprintf(cell[COL_TLS], CELL_MAX, "none");
	else if (c->state == DN_PASS || c->state == DN_WARN)
		snprintf(cell[COL_TLS], CELL_MAX, "%s %ldd", c->state == DN_PASS ?
		    "ok" : "WARN", t->cert.days_left);
	else if (c->state == DN_FAIL)
		snprintf(cell[COL_TLS], CELL_MAX, "FAIL");
	if (e->http.state == DN_PASS)
		snprintf(cell[COL_HTTP], CELL_MAX, "%ld", e->status);
	else if (e->http.state == DN_FAIL && e->status != 0)
		snprintf(cell[COL_HTTP], CELL_MAX, "FAIL %ld", e->status);
	else if (e->http.state == DN_FAIL)
		snprintf(cell[COL_HTTP], CELL_MAX, "FAIL");
}

/* Whether endpoint i's host:port is an earlier endpoint's. */
static int
seen_before(const struct dn_result *res, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (res->ep[j].t == res->ep[i].t)
			return 1;
	return 0;
}

/* The host:port pairs a firewall must let the device reach. */
static void
print_firewall(const struct dn_result *res, FILE *f)
{
	const struct dn_transport *t;
	size_t i, j, k;

	fprintf(f, "\nWhat to allow in the firewall (outbound TCP from the "
	    "device):\n");
	for (i = 0; i < res->n; i++) {
		if ((t = res->ep[i].t) == NULL || seen_before(res, i))
			continue;
		fprintf(f, "  %-28s ", t->hostport);
		for (j = i, k = 0; j < res->n; j++)
			if (res->ep[j].t == t)
				fprintf(f, "%s%s", k++ ? ", " : "",
				    res->ep[j].name);
		if (res->ep[i].manufacturer)
			fprintf(f, " (the TPM manufacturer's EK certificate "
			    "service: allow %s by name, its addresses may "
			    "change)", t->host);
		if (t->naddrs > 0 && strcmp(t->addrs[0], t->host) != 0) {
			fprintf(f, "\n  %-28s addresses now:", "");
			for (j = 0; j < t->naddrs; j++)
				fprintf(f, " %s", t->addrs[j]);
		}
		fprintf(f, "\n");
	}
}

void
diag_network_print(const struct dn_result *res, FILE *f)
{
	char (*cell)[COL_MAX][CELL_MAX] = xcalloc(res->n, sizeof(*cell));
	size_t w[COL_MAX], i, n;
	const struct dn_endpoint *e;
	int c;

	for (c = 0; c < COL_MAX; c++)
		w[c] = strlen(heads[c]);
	for (i = 0; i < res->n; i++) {
		cells(&res->ep[i], cell[i]);
		for (c = 0; c < COL_MAX; c++)
			if ((n = strlen(cell[i][c])) > w[c])
				w[c] = n;
	}
	for (c = 0; c < COL_MAX; c++)
		fprintf(f, "%-*s%s", (int)w[c], heads[c], c + 1 < COL_MAX ?
		    "  " : "\n");
	for (i = 0; i < res->n; i++)
		for (c = 0; c < COL_MAX; c++)
			fprintf(f, "%-*s%s", c + 1 < COL_MAX ? (int)w[c] : 0,
			    cell[i][c], c + 1 < COL_MAX ? "  " : "\n");
	free(cell);
	fprintf(f, "\n");
	for (i = 0; i < res->n; i++) {
		e = &res->ep[i];
		if (e->verdict == DN_PASS && e->t != NULL)
			fprintf(f, "  pass %s: %s; %s\n", e->name, e->t->tls ?
			    e->t->step[DN_TLS].text : "plain http",
			    e->http.text);
		else if (e->verdict != DN_PASS)
			fprintf(f, "  %s %s (%s): %s\n", e->verdict == DN_FAIL ?
			    "FAIL" : e->verdict == DN_WARN ? "WARN" : "skip",
			    e->name, e->what, e->reason);
	}
	print_firewall(res, f);
	if (res->failed == 0)
		fprintf(f, "\nEvery endpoint checked answers as the device "
		    "needs.\n");
	else
		fprintf(f, "\n%u endpoint%s the device needs fail%s: see FAIL "
		    "above.\n", res->failed, res->failed == 1 ? "" : "s",
		    res->failed == 1 ? "s" : "");
}

/* ---- JSON ---- */

static json_t *
str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
check_json(const struct dn_check *c)
{
	return json_pack("{s:s, s:f, s:o}", "state",
	    diag_network_state(c->state), "ms", c->us / 1000.0, "text",
	    str_or_null(c->state == DN_NOT_RUN ? NULL : c->text));
}

static json_t *
addrs_json(const struct dn_transport *t)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < t->naddrs; i++)
		json_array_append_new(a, json_string(t->addrs[i]));
	return a;
}

static json_t *
endpoint_json(const struct dn_endpoint *e)
{
	const struct dn_transport *t = e->t;
	char code[16] = "";
	json_t *o, *tls;

	if (e->verdict == DN_FAIL && e->err != WG_OK)
		wg_err_code_str(e->err, code, sizeof(code));
	o = json_pack("{s:s, s:s, s:o, s:o, s:b, s:s, s:o, s:o, s:o}",
	    "name", e->name, "what", e->what, "url", str_or_null(e->url),
	    "hostPort", str_or_null(t ? t->hostport : NULL), "manufacturer",
	    e->manufacturer, "verdict", diag_network_state(e->verdict),
	    "reason", str_or_null(e->verdict == DN_PASS ? NULL : e->reason),
	    "code", str_or_null(code), "codeName", str_or_null(code[0] ?
	    wg_err_name(e->err) : NULL));
	if (o == NULL)
		abort();
	if (t == NULL)
		return o;
	json_object_set_new(o, "dns", check_json(&t->step[DN_DNS]));
	json_object_set_new(json_object_get(o, "dns"), "addresses",
	    addrs_json(t));
	json_object_set_new(o, "connect", check_json(&t->step[DN_CONNECT]));
	json_object_set_new(json_object_get(o, "connect"), "address",
	    str_or_null(t->used));
	tls = check_json(&t->step[DN_TLS]);
	if (t->cert.read)
		json_object_update_new(tls, json_pack("{s:s, s:s, s:s, s:I, "
		    "s:b}", "subject", t->cert.subject, "issuer",
		    t->cert.issuer, "notAfter", t->cert.not_after, "daysLeft",
		    (json_int_t)t->cert.days_left, "nameMatches",
		    t->cert.name_ok));
	json_object_set_new(o, "tls", tls);
	json_object_set_new(o, "http", check_json(&e->http));
	json_object_set_new(json_object_get(o, "http"), "status",
	    e->status ? json_integer(e->status) : json_null());
	return o;
}

json_t *
diag_network_json(const struct dn_result *res)
{
	json_t *eps = json_array(), *fw = json_array(), *fails = json_array();
	json_t *names, *o;
	const struct dn_transport *t;
	size_t i, j;

	for (i = 0; i < res->n; i++) {
		json_array_append_new(eps, endpoint_json(&res->ep[i]));
		if (res->ep[i].verdict == DN_FAIL)
			json_array_append_new(fails, json_pack("{s:s, s:s}",
			    "endpoint", res->ep[i].name, "reason",
			    res->ep[i].reason));
		if ((t = res->ep[i].t) == NULL || seen_before(res, i))
			continue;
		names = json_array();
		for (j = i; j < res->n; j++)
			if (res->ep[j].t == t)
				json_array_append_new(names,
				    json_string(res->ep[j].name));
		json_array_append_new(fw, json_pack("{s:s, s:s, s:i, s:o, s:o, "
		    "s:b}", "hostPort", t->hostport, "host", t->host, "port",
		    t->port, "addresses", addrs_json(t), "endpoints", names,
		    "manufacturer", res->ep[i].manufacturer));
	}
	o = json_pack("{s:b, s:o, s:o, s:o, s:o}", "ok", res->failed == 0,
	    "tenantId", str_or_null(res->tenant_id), "endpoints", eps,
	    "firewall", fw, "failures", fails);
	if (o == NULL)
		abort(); /* our own values: only memory can fail */
	return o;
}

/* ---- the event ---- */

void
diag_network_event(const struct dn_result *res, const char *state_dir)
{
	const struct dn_endpoint *e;
	struct wg_event *ev;
	enum wg_err err = WG_OK;
	char names[256] = "";
	size_t i, len = 0;

	for (i = 0; i < res->n; i++) {
		e = &res->ep[i];
		if (e->verdict != DN_FAIL)
			continue;
		if (err == WG_OK)
			err = e->err != WG_OK ? e->err : WG_E_NET_PROTOCOL;
		len += (size_t)snprintf(names + len, len < sizeof(names) ?
		    sizeof(names) - len : 0, "%s%s", len ? ", " : "", e->name);
		if (len >= sizeof(names))
			len = sizeof(names) - 1;
	}
	if (res->failed == 0)
		ev = wg_event_new("autopilot", DN_EVT_CHECKED, WG_LEVEL_INFO,
		    WG_PHASE_NONE, WG_OK, "network check: every endpoint the "
		    "device needs answers");
	else
		ev = wg_event_new("autopilot", DN_EVT_CHECKED, WG_LEVEL_ERROR,
		    WG_PHASE_NONE, err, "network check: %u endpoint%s fail: "
		    "%s", res->failed, res->failed == 1 ? "" : "s", names);
	if (res->correlation_id[0] != '\0')
		wg_event_set_correlation(ev, res->correlation_id);
	wg_event_add(ev, "failed", "%s", names);
	for (i = 0; i < res->n; i++) {
		e = &res->ep[i];
		if (e->verdict == DN_FAIL || e->verdict == DN_WARN)
			wg_event_add(ev, e->name, "%s", e->reason);
	}
	len = 0;
	names[0] = '\0';
	for (i = 0; i < res->n; i++) {
		if (res->ep[i].t == NULL || seen_before(res, i))
			continue;
		len += (size_t)snprintf(names + len, len < sizeof(names) ?
		    sizeof(names) - len : 0, "%s%s", len ? ", " : "",
		    res->ep[i].t->hostport);
		if (len >= sizeof(names))
			len = sizeof(names) - 1;
	}
	wg_event_add(ev, "allow", "%s", names);
	eventlog_write(state_dir, ev);
	wg_event_free(ev);
}
