/*
 * whiteglove diag timeline BUNDLE [--json]: what a technician's
 * diagnostics bundle (`whiteglove-agent diag collect`) says happened: the
 * phases with start, end and duration, every error and warning in time
 * order, and the first failure with its code, the catalog's meaning and
 * remedy, and its failure class (common/timeline.h).  Works offline; the
 * bundle is untrusted input, read by common/ustar.h into memory only.
 * docs/flow.md, "Diagnostics bundle".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/errors.h"
#include "common/event.h"
#include "common/timeline.h"
#include "common/ustar.h"
#include "common/util.h"

#define CHANNEL_FILE_MAX (9u << 20)	/* the agent keeps 8 MiB, plus a note */
#define MANIFEST_MAX (4u << 20)
#define KEPT_MAX (96u << 20)
#define CHANNELS_MAX 64
#define FIELD_MAX 256			/* a manifest string shown */

static void
timeline_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove diag timeline [--json] BUNDLE\n\n"
	    "Reads a diagnostics bundle (the .tar.gz `whiteglove-agent diag "
	    "collect`\nwrites on the device) and prints what its event "
	    "channels tell: each phase\nwith its start, end and duration, "
	    "every error and warning in time order,\nand the first failure: "
	    "its code, what it means, its class (EK certificate\nservice "
	    "unreachable, GetCACaps 404, device already enrolled, lost join, "
	    "...)\nand what to do.  Works offline; nothing from the bundle is "
	    "written to disk.\n\n"
	    "Exit status: 0 when the bundle was read (whatever it shows), 1 "
	    "when it\ncannot be read, 2 on a usage error.\n\n"
	    "Options:\n"
	    "  --json         print JSON (docs/flow.md, \"Diagnostics "
	    "bundle\")\n"
	    "  -h, --help     print this help\n");
}

/* ---- reading the bundle ---- */

/* What the bundle gave: its channels' names and the manifest's facts. */
struct bundle {
	const char *path;
	struct ustar *tar;
	const char *channels[CHANNELS_MAX]; /* borrowed from tar's names */
	size_t nchannels;
	json_t *manifest;	/* the object, or NULL */
	char manifest_why[160];	/* why it is NULL, when it is there */
};

/* "TOP/events/CHANNEL.jsonl": CHANNEL's start, else NULL. */
static const char *
channel_of(const char *name, size_t *len)
{
	const char *slash = strchr(name, '/'), *base;
	size_t n;

	if (slash == NULL || strncmp(slash + 1, "events/", 7) != 0)
		return NULL;
	base = slash + 8;
	n = strlen(base);
	if (n <= 6 || strchr(base, '/') != NULL ||
	    strcmp(base + n - 6, ".jsonl") != 0)
		return NULL;
	*len = n - 6;
	return base;
}

static int
is_manifest(const char *name)
{
	const char *slash = strchr(name, '/');

	return slash != NULL && strcmp(slash + 1, "manifest.json") == 0;
}

/* ustar_want_fn: the channels and the manifest, nothing else. */
static int
want(void *arg, const char *name, uint64_t size)
{
	size_t n;

	(void)arg;
	if (channel_of(name, &n) != NULL)
		return size <= CHANNEL_FILE_MAX;
	return is_manifest(name) && size <= MANIFEST_MAX;
}

/* The manifest's object (duplicates refused), if it is one. */
static void
manifest_load(struct bundle *b, const struct ustar_member *m)
{
	json_error_t e;

	b->manifest = json_loadb((const char *)m->data, m->len,
	    JSON_REJECT_DUPLICATES, &e);
	if (b->manifest != NULL && !json_is_object(b->manifest)) {
		json_decref(b->manifest);
		b->manifest = NULL;
		snprintf(b->manifest_why, sizeof(b->manifest_why), "not an "
		    "object");
	} else if (b->manifest == NULL) {
		snprintf(b->manifest_why, sizeof(b->manifest_why), "%.100s "
		    "at line %d", e.text, e.line);
	}
}

/* Reads the bundle and adds its channels' events to tl; CLI exit code. */
static int
bundle_read(struct bundle *b, struct timeline *tl)
{
	const struct ustar_limits lim = { .member_max = CHANNEL_FILE_MAX,
	    .kept_max = KEPT_MAX };
	const struct ustar_member *m;
	char why[256], shown[512];
	size_t i, n;

	if (ustar_read_file(b->path, &lim, want, NULL, &b->tar, why,
	    sizeof(why)) != WG_OK) {
		wg_escape_log(b->path, strlen(b->path), shown, sizeof(shown));
		fprintf(stderr, "whiteglove diag timeline: %s: %s\n", shown,
		    why);
		return CLI_EXIT_FAIL;
	}
	for (i = 0; i < b->tar->n; i++) {
		m = &b->tar->members[i];
		if (is_manifest(m->name)) {
			if (b->manifest == NULL)
				manifest_load(b, m);
			continue;
		}
		if (channel_of(m->name, &n) == NULL)
			continue;
		if (b->nchannels < CHANNELS_MAX)
			b->channels[b->nchannels++] = m->name;
		timeline_add_text(tl, (const char *)m->data, m->len);
	}
	timeline_finish(tl);
	return CLI_EXIT_OK;
}

/* A printable string member of the manifest, at most FIELD_MAX bytes. */
static const char *
manifest_text(const struct bundle *b, const char *key)
{
	const char *s = json_string_value(json_object_get(b->manifest, key));

	return s != NULL && strlen(s) <= FIELD_MAX && wg_str_printable(s) ?
	    s : NULL;
}

/* ---- JSON ---- */

static json_t *
event_json(const struct wg_event *ev)
{
	char t[32], code[16];
	json_t *o;

	wg_time_rfc3339(ev->time_ms, t);
	if (ev->err == WG_OK)
		snprintf(code, sizeof(code), "0x00000000");
	else
		wg_err_code_str(ev->err, code, sizeof(code));
	o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s?, s:s}",
	    "time", t, "channel", ev->channel, "eventId", ev->event_id,
	    "level", wg_level_name(ev->level), "phase",
	    wg_phase_name(ev->phase), "code", code, "name",
	    wg_err_name(ev->err), "correlationId", ev->correlation_id,
	    "message", ev->message);
	if (o == NULL)
		abort(); /* parsed events are printable: only memory fails */
	return o;
}

static json_t *
phase_json(const struct timeline_phase *p)
{
	char s[32], e[32];
	json_t *o;

	wg_time_rfc3339(p->start_ms, s);
	wg_time_rfc3339(p->end_ms, e);
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s}",
	    "phase", wg_phase_name(p->phase), "title",
	    wg_phase_title(p->phase), "start", s, "end", e, "durationMs",
	    (json_int_t)(p->end_ms - p->start_ms), "events",
	    (json_int_t)p->events, "errors", (json_int_t)p->errors,
	    "warnings", (json_int_t)p->warnings, "status", p->failed ?
	    "failed" : p->done ? "done" : "incomplete");
	if (o == NULL)
		abort();
	return o;
}

static json_t *
failure_json(const struct timeline *tl)
{
	const struct wg_err_info *info;
	json_t *o;

	if (tl->failure == NULL)
		return json_null();
	info = wg_err_info(tl->failure->err);
	o = event_json(tl->failure);
	json_object_set_new(o, "phaseTitle", json_string(wg_phase_title(
	    tl->failure->phase)));
	json_object_set_new(o, "meaning", json_string(info->meaning));
	json_object_set_new(o, "causes", json_string(info->causes));
	json_object_set_new(o, "remedy", json_string(info->remedy));
	json_object_set_new(o, "class", json_string(timeline_class_name(
	    tl->cls)));
	json_object_set_new(o, "classText", json_string(timeline_class_text(
	    tl->cls)));
	json_object_set_new(o, "failedTry", tl->cause != NULL ?
	    event_json(tl->cause) : json_null());
	json_object_set_new(o, "evidence", tl->context != NULL ?
	    event_json(tl->context) : json_null());
	return o;
}

static void
print_json(const struct bundle *b, const struct timeline *tl)
{
	json_t *o, *phases = json_array(), *issues = json_array();
	json_t *channels = json_array();
	size_t i, n;
	const char *c;

	for (i = 0; i < b->nchannels; i++) {
		c = channel_of(b->channels[i], &n);
		json_array_append_new(channels, json_stringn(c, n));
	}
	for (i = 0; i < tl->nphases; i++)
		json_array_append_new(phases, phase_json(&tl->phases[i]));
	for (i = 0; i < tl->nevents; i++)
		if (timeline_is_issue(tl->events[i]))
			json_array_append_new(issues,
			    event_json(tl->events[i]));
	o = json_pack("{s:s?, s:s?, s:s?, s:I, s:I, s:I, s:o, s:o, s:o, "
	    "s:o}", "hostname", manifest_text(b, "hostname"), "collectedAt",
	    manifest_text(b, "createdAt"), "agentVersion",
	    manifest_text(b, "version"), "events", (json_int_t)tl->nevents,
	    "skippedLines", (json_int_t)tl->skipped, "droppedEvents",
	    (json_int_t)tl->dropped, "channels", channels, "phases", phases,
	    "issues", issues, "firstFailure", failure_json(tl));
	if (o == NULL)
		abort();
	clientopts_print_json(o);
	json_decref(o);
}

/* ---- text ---- */

static void
print_duration(int64_t ms, char *buf, size_t len)
{
	if (ms < 60000)
		snprintf(buf, len, "%lld.%03lld s", (long long)(ms / 1000),
		    (long long)(ms % 1000));
	else
		snprintf(buf, len, "%lld min %02lld s", (long long)(ms /
		    60000), (long long)(ms / 1000 % 60));
}

static void
print_event_line(const struct wg_event *ev, int indent)
{
	char t[32], code[16];

	wg_time_rfc3339(ev->time_ms, t);
	wg_err_code_str(ev->err, code, sizeof(code));
	printf("%*s%s  %-7s  %s %d  %s %s\n", indent, "", t,
	    wg_level_name(ev->level), ev->channel, ev->event_id, code,
	    wg_err_name(ev->err));
	cli_print_wrapped(ev->message, indent + 4);
}

static void
print_header(const struct bundle *b, const struct timeline *tl)
{
	const char *host = manifest_text(b, "hostname");
	const char *when = manifest_text(b, "createdAt");
	size_t i, n;
	const char *c;

	printf("Bundle: %s\n", b->path);
	if (host != NULL || when != NULL)
		printf("Device: %s, collected %s\n", host ? host : "?",
		    when ? when : "?");
	else if (b->manifest_why[0] != '\0')
		printf("Manifest: unreadable (%s)\n", b->manifest_why);
	printf("Events: %zu in %zu channel%s", tl->nevents, b->nchannels,
	    b->nchannels == 1 ? "" : "s");
	for (i = 0; i < b->nchannels; i++) {
		c = channel_of(b->channels[i], &n);
		printf("%s%.*s", i == 0 ? " (" : ", ", (int)n, c);
	}
	printf("%s\n", b->nchannels ? ")" : "");
	if (tl->skipped > 0)
		printf("  %zu line%s not an event (the first: %s)\n",
		    tl->skipped, tl->skipped == 1 ? "" : "s", tl->skipped_why);
	if (tl->dropped > 0)
		printf("  %zu events past the first %d not read\n", tl->dropped,
		    TIMELINE_EVENTS_MAX);
}

static void
print_phases(const struct timeline *tl)
{
	const struct timeline_phase *p;
	char s[32], e[32], d[32];
	size_t i;

	if (tl->nphases == 0) {
		printf("\nNo phase has events.\n");
		return;
	}
	printf("\n%-32s  %-24s  %-24s  %10s  %s\n", "PHASE", "START", "END",
	    "DURATION", "STATUS");
	for (i = 0; i < tl->nphases; i++) {
		p = &tl->phases[i];
		wg_time_rfc3339(p->start_ms, s);
		wg_time_rfc3339(p->end_ms, e);
		print_duration(p->end_ms - p->start_ms, d, sizeof(d));
		printf("%-32s  %-24s  %-24s  %10s  %s\n",
		    wg_phase_title(p->phase), s, e, d, p->failed ? "failed" :
		    p->done ? "done" : "incomplete");
	}
}

static void
print_failure(const struct timeline *tl)
{
	const struct wg_event *f = tl->failure;
	const struct wg_err_info *info;
	char code[16], t[32];

	if (f == NULL) {
		printf("\nNo failure: %s\n", timeline_class_text(tl->cls));
		return;
	}
	info = wg_err_info(f->err);
	wg_err_code_str(f->err, code, sizeof(code));
	wg_time_rfc3339(f->time_ms, t);
	printf("\nFirst failure: %s %s\n", code, info->name);
	printf("  In \"%s\" at %s (%s event %d)\n", wg_phase_title(f->phase),
	    t, f->channel, f->event_id);
	if (f->correlation_id != NULL)
		printf("  Correlation id: %s\n", f->correlation_id);
	cli_print_wrapped(f->message, 2);
	printf("\n  Class: %s\n", timeline_class_name(tl->cls));
	cli_print_wrapped(timeline_class_text(tl->cls), 4);
	if (tl->cause != NULL) {
		printf("  The first failed try:\n");
		print_event_line(tl->cause, 4);
	}
	if (tl->context != NULL) {
		printf("  Evidence:\n");
		print_event_line(tl->context, 4);
	}
	printf("\n  Meaning:\n");
	cli_print_wrapped(info->meaning, 4);
	printf("  Likely causes:\n");
	cli_print_wrapped(info->causes, 4);
	printf("\nWhat to do:\n");
	cli_print_wrapped(info->remedy, 2);
}

static void
print_text(const struct bundle *b, const struct timeline *tl)
{
	size_t i, n = 0;

	print_header(b, tl);
	print_phases(tl);
	for (i = 0; i < tl->nevents; i++)
		n += timeline_is_issue(tl->events[i]);
	printf("\nErrors and warnings: %zu\n", n);
	for (i = 0; i < tl->nevents; i++)
		if (timeline_is_issue(tl->events[i]))
			print_event_line(tl->events[i], 2);
	print_failure(tl);
}

/* ---- the verbs ---- */

static int
diag_timeline(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, CLIENTOPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "diag timeline",
		timeline_usage, "", longopts };
	static const struct clientopts_arg none[] = { { 0, NULL, NULL } };
	struct bundle b = { 0 };
	struct timeline *tl;
	struct clientopts co;
	int ret = CLI_EXIT_USAGE;

	if (clientopts_parse(&co, argc, argv, &spec, none, &ret) != 0)
		return ret;
	if (argc - optind != 1)
		return clientopts_usage_error("diag timeline", timeline_usage,
		    "give one BUNDLE");
	b.path = argv[optind];
	tl = timeline_new();
	if ((ret = bundle_read(&b, tl)) == CLI_EXIT_OK) {
		if (co.json)
			print_json(&b, tl);
		else
			print_text(&b, tl);
	}
	timeline_free(tl);
	json_decref(b.manifest);
	ustar_free(b.tar);
	return ret;
}

int
cmd_diag(int argc, char **argv)
{
	static const struct wg_cmd cmds[] = {
		{ "timeline", diag_timeline, "the phases, the errors and the "
		    "first failure of a diagnostics bundle" },
	};
	static const struct wg_cmdtab table = {
		.prog = "whiteglove diag",
		.about = "Reads what a device's diagnostics bundle "
		    "(`whiteglove-agent diag collect`)\nsays, offline.",
		.cmds = cmds,
		.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	};

	return wg_cmd_main(&table, argc, argv);
}
