/*
 * The timeline of a diagnostics bundle's events (timeline.h).  The event
 * ids named here are the agent's (the headers of src/agent): which events end a
 * phase well, which say a try failed, which say where the EK certificate
 * came from.  A failure is classed by its code first, then by the
 * evidence around it, since the same code (0x81039001, a network error)
 * has different causes a person fixes differently.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeline.h"
#include "common/xmalloc.h"

#define EVT_GETCACAPS_FAILED 86	/* tpm: a try's GetCACaps failed */
#define EVT_EK_CERT_MISSING 1102 /* tpm: no EK certificate from NV or
				    the manufacturer's service */
#define EVT_RESEALED 1503	/* autopilot: the green screen */
#define CLOCK_BACK_MS (5 * 60 * 1000) /* a channel's time going back this
				         far means the clock was set */

/* The events that end a phase well (attest.h, profile.h, join.h, mdm.h,
 * reseal.h, login.h, apps.h, provision.h). */
static const int done_ids[] = { 161, 1104, 306, 75, 1301, 1401, 1909, 1501 };

static const struct {
	const char *name;
	const char *text;
} classes[TIMELINE_CLASS_MAX] = {
	[TIMELINE_CLASS_NONE] = { "none", "No failure: every error in the "
	    "bundle was followed by a success of its phase." },
	[TIMELINE_CLASS_EKCERT_UNREACHABLE] = { "ekcert-unreachable", "The "
	    "TPM has no EK certificate of its own (a firmware TPM) and the "
	    "manufacturer's EK certificate service could not be reached, so "
	    "the attestation CA could not trust the TPM: a firewall or proxy "
	    "blocking the manufacturer's EK URL is the usual cause; allow it "
	    "(`whiteglove-agent diag network` lists it)." },
	[TIMELINE_CLASS_EKCERT_MISSING] = { "ekcert-missing", "The TPM has "
	    "no EK certificate in NV and the manufacturer's EK certificate "
	    "service answered without one, so the attestation CA could not "
	    "trust the TPM: import the device's hash so that its EK is "
	    "known, or have the manufacturer register the EK." },
	[TIMELINE_CLASS_GETCACAPS_404] = { "getcacaps-404", "The attestation "
	    "CA answered GetCACaps with 404 Not Found: the CA's URL is wrong, "
	    "or a proxy answers in its place." },
	[TIMELINE_CLASS_GETCACAPS_400] = { "getcacaps-400", "The attestation "
	    "CA refused GetCACaps with 400 Bad Request: the request does not "
	    "reach the CA as the device sent it (a proxy rewriting it), or "
	    "the CA does not serve this device." },
	[TIMELINE_CLASS_ATTESTATION_TIMEOUT] = { "attestation-timeout", "TPM "
	    "attestation timed out (0x800705B4): the TPM could not be used, "
	    "or the attestation services did not answer in time." },
	[TIMELINE_CLASS_ATTESTATION_RETRIES] = { "attestation-retries",
	    "TPM attestation failed on every try (0x81039001); the first "
	    "failed try says why." },
	[TIMELINE_CLASS_TPM_REVOKED] = { "tpm-revoked", "The attestation CA "
	    "refused the TPM because its EK is revoked or the TPM is known "
	    "to be vulnerable (0x81039024): only new TPM firmware or another "
	    "device helps." },
	[TIMELINE_CLASS_NOT_REGISTERED] = { "device-not-registered", "The "
	    "device is not registered in any tenant (807): its hardware hash "
	    "was never imported, or its record was deleted." },
	[TIMELINE_CLASS_OTHER_TENANT] = { "device-other-tenant", "The device "
	    "is registered in another tenant (808): that tenant must release "
	    "it first." },
	[TIMELINE_CLASS_ALREADY_ENROLLED] = { "device-already-enrolled", "The "
	    "device enrolled in device management before (0x80180014): a "
	    "pre-provisioned device enrolls once, unless the admin deletes its "
	    "management record or allows one more enrollment." },
	[TIMELINE_CLASS_DEVICE_DELETED] = { "directory-device-deleted", "The "
	    "device's directory object was deleted while the device was being "
	    "prepared (0x801C03F3): it cannot join an object that is gone." },
	[TIMELINE_CLASS_APP_INSTALL] = { "app-install-failed", "An app's "
	    "install command failed, or ran past its time, during device "
	    "setup; its install log in the bundle (apps/*.log) shows why." },
	[TIMELINE_CLASS_APP_DOWNLOAD] = { "app-download-failed", "An app's "
	    "content could not be downloaded, or what arrived is not the "
	    "content the app list names." },
	[TIMELINE_CLASS_ESP_TIMEOUT] = { "esp-timeout", "Device setup did "
	    "not finish in the time the deployment allows (the ESP timeout): "
	    "an app is slow or hangs, or the deadline is too short." },
	[TIMELINE_CLASS_DNS] = { "dns-failure", "A server's name could not "
	    "be resolved (DNS): a wrong URL, no DNS server, or a DNS filter "
	    "that blocks the name." },
	[TIMELINE_CLASS_UNREACHABLE] = { "service-unreachable", "A service "
	    "could not be reached: the connection was refused or timed out "
	    "(a stopped server, a firewall, a wrong port or URL)." },
	[TIMELINE_CLASS_CLOCK_SKEW] = { "clock-skew", "The device's clock is "
	    "wrong: certificates or tokens looked not yet valid or expired; "
	    "set the clock (NTP) and run the flow again." },
	[TIMELINE_CLASS_LOST_JOIN] = { "lost-join", "The device lost its "
	    "join: it was started more often after its reseal than its "
	    "profile allows before the user's first sign-in (the field's "
	    "\"lost Azure AD join after a reboot\")." },
	[TIMELINE_CLASS_OTHER] = { "other", "A failure of no known class: "
	    "its meaning and remedy below say what to do." },
};

struct timeline *
timeline_new(void)
{
	return xcalloc(1, sizeof(struct timeline));
}

/* Adds one line (len bytes, no newline). */
static void
add_line(struct timeline *tl, const char *line, size_t len, int64_t *last)
{
	struct wg_event *ev;
	char why[160];

	if (len == 0)
		return;
	if (wg_event_parse(line, len, &ev, why, sizeof(why)) != WG_OK) {
		if (tl->skipped++ == 0)
			snprintf(tl->skipped_why, sizeof(tl->skipped_why),
			    "%s", why);
		return;
	}
	if (tl->nevents >= TIMELINE_EVENTS_MAX) {
		tl->dropped++;
		wg_event_free(ev);
		return;
	}
	/* INT64_MIN: no line before this one in its channel */
	if (*last != INT64_MIN && ev->time_ms < *last &&
	    *last - ev->time_ms > tl->clock_back_ms)
		tl->clock_back_ms = *last - ev->time_ms;
	*last = ev->time_ms;
	if ((tl->nevents & (tl->nevents - 1)) == 0) /* 0, 1, 2, 4, ... */
		tl->events = xrealloc(tl->events, (tl->nevents ?
		    2 * tl->nevents : 1) * sizeof(*tl->events));
	tl->events[tl->nevents++] = ev;
}

void
timeline_add_text(struct timeline *tl, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	int64_t last = INT64_MIN;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		add_line(tl, p, (size_t)(nl - p), &last);
		p = nl + 1;
	}
}

/* An event and the order it was added in, which breaks time's ties. */
struct ord {
	struct wg_event *ev;
	size_t seq;
};

static int
by_time(const void *a, const void *b)
{
	const struct ord *x = a, *y = b;

	if (x->ev->time_ms != y->ev->time_ms)
		return x->ev->time_ms < y->ev->time_ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
sort_events(struct timeline *tl)
{
	struct ord *o;
	size_t i;

	if (tl->nevents < 2)
		return;
	o = xcalloc(tl->nevents, sizeof(*o));
	for (i = 0; i < tl->nevents; i++)
		o[i] = (struct ord){ tl->events[i], i };
	qsort(o, tl->nevents, sizeof(*o), by_time);
	for (i = 0; i < tl->nevents; i++)
		tl->events[i] = o[i].ev;
	free(o);
}

int
timeline_is_issue(const struct wg_event *ev)
{
	return ev->level == WG_LEVEL_ERROR || ev->level == WG_LEVEL_WARNING;
}

static int
is_done(const struct wg_event *ev)
{
	size_t i;

	if (ev->level != WG_LEVEL_INFO)
		return 0;
	for (i = 0; i < sizeof(done_ids) / sizeof(done_ids[0]); i++)
		if (ev->event_id == done_ids[i])
			return 1;
	return ev->event_id == EVT_RESEALED;
}

/* Where each phase last ended well: event i of a phase is made good
 * when a later event is that phase's success or the green screen. */
struct goods {
	size_t last_done[WG_PHASE_MAX];	/* index + 1; 0: never */
	size_t resealed;		/* index + 1; 0: never */
};

static void
goods_find(const struct timeline *tl, struct goods *g)
{
	const struct wg_event *ev;
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < tl->nevents; i++) {
		ev = tl->events[i];
		if (!is_done(ev))
			continue;
		if (ev->event_id == EVT_RESEALED)
			g->resealed = i + 1;
		else if (ev->phase < WG_PHASE_MAX)
			g->last_done[ev->phase] = i + 1;
	}
}

static int
recovered(const struct timeline *tl, const struct goods *g, size_t i)
{
	enum wg_phase ph = tl->events[i]->phase;

	return (ph < WG_PHASE_MAX && g->last_done[ph] > i + 1) ||
	    (g->resealed > i + 1 && ph != WG_PHASE_ACCOUNT_SETUP);
}

/* A failed try: the tpm channel's "try" detail, or "try n/m:". */
static int
is_try(const struct wg_event *ev)
{
	return wg_event_get(ev, "try") != NULL ||
	    strncmp(ev->message, "try ", 4) == 0;
}

/* The phases, in the order they started. */
static void
phases(struct timeline *tl)
{
	struct timeline_phase *seen[WG_PHASE_MAX] = { 0 }, *p;
	const struct wg_event *ev;
	size_t i;

	for (i = 0; i < tl->nevents; i++) {
		ev = tl->events[i];
		if (ev->phase == WG_PHASE_NONE || ev->phase >= WG_PHASE_MAX)
			continue;
		if ((p = seen[ev->phase]) == NULL) {
			p = seen[ev->phase] = &tl->phases[tl->nphases++];
			p->phase = ev->phase;
			p->start_ms = ev->time_ms;
		}
		p->end_ms = ev->time_ms;
		p->events++;
		p->errors += ev->level == WG_LEVEL_ERROR;
		p->warnings += ev->level == WG_LEVEL_WARNING;
		p->done |= is_done(ev);
		p->failed |= ev == tl->failure;
	}
}

/*
 * The first failure: the first error that is not a failed try and that
 * no later success of its phase made good (else the first such try);
 * then the first failed try of its phase before it, not made good.
 */
static void
failure(struct timeline *tl, const struct goods *g)
{
	const struct wg_event *ev;
	size_t i, at = 0;
	int pass;

	for (pass = 0; pass < 2 && tl->failure == NULL; pass++)
		for (i = 0; i < tl->nevents && tl->failure == NULL; i++) {
			ev = tl->events[i];
			if (ev->level == WG_LEVEL_ERROR && ev->err != WG_OK &&
			    (pass == 1 || !is_try(ev)) && !recovered(tl, g, i)) {
				tl->failure = ev;
				at = i;
			}
		}
	for (i = 0; tl->failure != NULL && i < at; i++) {
		ev = tl->events[i];
		if (timeline_is_issue(ev) && ev->err != WG_OK && is_try(ev) &&
		    ev->phase == tl->failure->phase && !recovered(tl, g, i)) {
			tl->cause = ev;
			break;
		}
	}
}

static int
network(enum wg_err e)
{
	return e == WG_E_NET_DNS || e == WG_E_NET_CONNECT ||
	    e == WG_E_NET_TIMEOUT || e == WG_E_NET_TLS || e == WG_E_TIMEOUT;
}

/* 1 if text has needle, whatever its case. */
static int
has_words(const char *text, const char *needle)
{
	size_t n = strlen(needle), i, k;

	for (i = 0; text[i] != '\0'; i++) {
		for (k = 0; k < n && text[i + k] != '\0' &&
		    tolower((unsigned char)text[i + k]) == needle[k]; k++)
			;
		if (k == n)
			return 1;
	}
	return 0;
}

/* The words of a certificate or token checked against a wrong clock. */
static int
clock_words(const struct wg_event *ev)
{
	return ev != NULL && (has_words(ev->message, "not yet valid") ||
	    has_words(ev->message, "clock") || (ev->err == WG_E_NET_TLS &&
	    has_words(ev->message, "expired")));
}

static int
clock_skew(const struct timeline *tl)
{
	enum wg_err e = tl->failure->err;

	if (clock_words(tl->failure) || clock_words(tl->cause))
		return 1;
	/* a clock set back while the flow ran, then a time check failed */
	return tl->clock_back_ms > CLOCK_BACK_MS && (e == WG_E_NET_TLS ||
	    e == WG_E_TOKEN_INVALID || e == WG_E_TICKET_INVALID ||
	    e == WG_E_AIK_CERT_INVALID || e == WG_E_EK_CERT_INVALID);
}

/* The last word of the EK certificate's source before the failure. */
static const struct wg_event *
ekcert_event(const struct timeline *tl, const struct goods *g)
{
	const struct wg_event *found = NULL, *ev;
	size_t i;

	for (i = 0; i < tl->nevents && tl->events[i] != tl->failure; i++) {
		ev = tl->events[i];
		if (ev->event_id == EVT_EK_CERT_MISSING &&
		    strcmp(ev->channel, "tpm") == 0 && (network(ev->err) ||
		    ev->err == WG_E_EK_CERT_MISSING) && !recovered(tl, g, i))
			found = ev;
	}
	return found;
}

/* The class of a failure in "Securing your hardware"; NONE if none. */
static enum timeline_class
classify_tpm(struct timeline *tl, const struct goods *g)
{
	const struct wg_event *c = tl->cause;

	if (c != NULL && c->event_id == EVT_GETCACAPS_FAILED &&
	    c->err == WG_E_HTTP_NOT_FOUND)
		return TIMELINE_CLASS_GETCACAPS_404;
	if (c != NULL && c->event_id == EVT_GETCACAPS_FAILED &&
	    c->err == WG_E_HTTP_BAD_REQUEST)
		return TIMELINE_CLASS_GETCACAPS_400;
	if ((c == NULL || !network(c->err)) &&
	    (tl->context = ekcert_event(tl, g)) != NULL)
		return network(tl->context->err) ?
		    TIMELINE_CLASS_EKCERT_UNREACHABLE :
		    TIMELINE_CLASS_EKCERT_MISSING;
	if (tl->failure->err == WG_E_TIMEOUT)
		return TIMELINE_CLASS_ATTESTATION_TIMEOUT;
	if (tl->failure->err == WG_E_TPM_ATTESTATION_RETRIES_EXHAUSTED)
		return TIMELINE_CLASS_ATTESTATION_RETRIES;
	return TIMELINE_CLASS_NONE;
}

static enum timeline_class
classify(struct timeline *tl, const struct goods *g)
{
	enum wg_err e = tl->failure->err;
	enum wg_err ce = tl->cause != NULL ? tl->cause->err : WG_OK;
	enum timeline_class c;

	switch (e) {
	case WG_E_TPM_VULNERABLE:
		return TIMELINE_CLASS_TPM_REVOKED;
	case WG_E_DDS_DEVICE_NOT_FOUND:
		return TIMELINE_CLASS_NOT_REGISTERED;
	case WG_E_DDS_OTHER_TENANT:
		return TIMELINE_CLASS_OTHER_TENANT;
	case WG_E_MENROLL_DEVICE_NOT_SUPPORTED:
		return TIMELINE_CLASS_ALREADY_ENROLLED;
	case WG_E_DSREG_DEVICE_OBJECT_NOT_FOUND:
		return TIMELINE_CLASS_DEVICE_DELETED;
	case WG_E_LOST_JOIN:
		return TIMELINE_CLASS_LOST_JOIN;
	case WG_E_APP_INSTALL_FAILED:
	case WG_E_APP_INSTALL_TIMEOUT:
		return TIMELINE_CLASS_APP_INSTALL;
	case WG_E_APP_DOWNLOAD_FAILED:
	case WG_E_APP_HASH_MISMATCH:
	case WG_E_APP_TOO_LARGE:
		return TIMELINE_CLASS_APP_DOWNLOAD;
	case WG_E_ESP_TIMEOUT:
		return TIMELINE_CLASS_ESP_TIMEOUT;
	default:
		break;
	}
	if (clock_skew(tl))
		return TIMELINE_CLASS_CLOCK_SKEW;
	if (tl->failure->phase == WG_PHASE_SECURING_HARDWARE &&
	    (c = classify_tpm(tl, g)) != TIMELINE_CLASS_NONE)
		return c;
	if (e == WG_E_NET_DNS || ce == WG_E_NET_DNS)
		return TIMELINE_CLASS_DNS;
	if (network(e) || network(ce))
		return TIMELINE_CLASS_UNREACHABLE;
	return TIMELINE_CLASS_OTHER;
}

void
timeline_finish(struct timeline *tl)
{
	struct goods g;

	sort_events(tl);
	goods_find(tl, &g);
	failure(tl, &g);
	tl->cls = tl->failure != NULL ? classify(tl, &g) : TIMELINE_CLASS_NONE;
	phases(tl);
}

const char *
timeline_class_name(enum timeline_class c)
{
	return c < TIMELINE_CLASS_MAX ? classes[c].name : "other";
}

const char *
timeline_class_text(enum timeline_class c)
{
	return c < TIMELINE_CLASS_MAX ? classes[c].text :
	    classes[TIMELINE_CLASS_OTHER].text;
}

void
timeline_free(struct timeline *tl)
{
	size_t i;

	if (tl == NULL)
		return;
	for (i = 0; i < tl->nevents; i++)
		wg_event_free(tl->events[i]);
	free(tl->events);
	free(tl);
}
