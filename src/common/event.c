#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "event.h"
#include "util.h"
#include "xmalloc.h"

struct wg_event *
wg_event_new(const char *channel, int event_id, enum wg_level level,
    enum wg_phase phase, enum wg_err err, const char *fmt, ...)
{
	struct wg_event *ev = xcalloc(1, sizeof(*ev));
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev->time_ms = wg_now_ms();
	ev->channel = xstrdup(channel);
	ev->event_id = event_id;
	ev->level = level;
	ev->phase = phase;
	ev->err = err;
	ev->message = xstrdup(msg);
	return ev;
}

void
wg_event_set_correlation(struct wg_event *ev, const char *id)
{
	free(ev->correlation_id);
	ev->correlation_id = id ? xstrdup(id) : NULL;
}

void
wg_event_add(struct wg_event *ev, const char *key, const char *fmt, ...)
{
	char val[1024];
	va_list ap;

	if (ev->ndetails >= WG_EVENT_MAX_DETAILS)
		return;
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	ev->details[ev->ndetails].key = xstrdup(key);
	ev->details[ev->ndetails].value = xstrdup(val);
	ev->ndetails++;
}

const char *
wg_event_get(const struct wg_event *ev, const char *key)
{
	size_t i;

	for (i = 0; i < ev->ndetails; i++)
		if (strcmp(ev->details[i].key, key) == 0)
			return ev->details[i].value;
	return NULL;
}

char *
wg_event_to_json(const struct wg_event *ev)
{
	char ts[32], code[16];
	json_t *o, *d;
	char *s;
	size_t i;

	wg_time_rfc3339(ev->time_ms, ts);
	wg_err_code_str(ev->err, code, sizeof(code));
	if (ev->err == WG_OK)
		snprintf(code, sizeof(code), "0x00000000");
	d = json_object();
	for (i = 0; i < ev->ndetails; i++)
		json_object_set_new(d, ev->details[i].key,
		    json_string(ev->details[i].value));
	o = json_pack("{s:s, s:s, s:i, s:s, s:s?, s:s, s:s, s:s, s:s, s:o}",
	    "time", ts, "channel", ev->channel, "eventId", ev->event_id,
	    "level", wg_level_name(ev->level), "correlationId",
	    ev->correlation_id, "phase", wg_phase_name(ev->phase), "code",
	    code, "name", wg_err_name(ev->err), "message", ev->message,
	    "details", d);
	if (o == NULL)
		abort(); /* only invalid UTF-8 from our own code gets here */
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	return s;
}

static int
parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;
	long ms = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return -1;
	if (*end == '.') {
		if (strlen(end) != 5 || end[4] != 'Z' ||
		    !isdigit((unsigned char)end[1]) ||
		    !isdigit((unsigned char)end[2]) ||
		    !isdigit((unsigned char)end[3]))
			return -1;
		ms = strtol(end + 1, NULL, 10);
	} else if (strcmp(end, "Z") != 0) {
		return -1;
	}
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t * 1000 + ms;
	return 0;
}

static int
parse_phase(const char *s, enum wg_phase *out)
{
	int i;

	for (i = 0; i < WG_PHASE_MAX; i++) {
		if (strcmp(s, wg_phase_name((enum wg_phase)i)) == 0) {
			*out = (enum wg_phase)i;
			return 0;
		}
	}
	return -1;
}

static int
bounded(const char *s, size_t max)
{
	return s == NULL || (strlen(s) <= max && wg_str_printable(s));
}

/* The catalog entry of a code string ("0x00000000" is success). */
static int
parse_code(const char *code, enum wg_err *out)
{
	const struct wg_err_info *info;

	if (strcmp(code, "0x00000000") == 0) {
		*out = WG_OK;
		return 0;
	}
	if ((info = wg_err_lookup(code)) == NULL)
		return -1;
	*out = info->err;
	return 0;
}

/* Copies the details object: at most WG_EVENT_MAX_DETAILS short strings. */
static int
parse_details(json_t *d, struct wg_event *ev, char *why, size_t whylen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(d) || json_object_size(d) > WG_EVENT_MAX_DETAILS) {
		snprintf(why, whylen, "event: details must be an object of at "
		    "most %d strings", WG_EVENT_MAX_DETAILS);
		return -1;
	}
	json_object_foreach(d, key, v) {
		if (!json_is_string(v) || !bounded(key, 64) ||
		    !bounded(json_string_value(v), 1024)) {
			snprintf(why, whylen, "event: detail \"%.64s\" is not a "
			    "short printable string", key);
			return -1;
		}
		ev->details[ev->ndetails].key = xstrdup(key);
		ev->details[ev->ndetails].value = xstrdup(json_string_value(v));
		ev->ndetails++;
	}
	return 0;
}

enum wg_err
wg_event_parse(const char *line, size_t len, struct wg_event **out,
    char *why, size_t whylen)
{
	const char *ts, *channel, *level, *corr = NULL, *phase, *code, *name;
	const char *msg;
	struct wg_event *ev = NULL;
	json_t *o = NULL, *d = NULL, *jcorr = NULL;
	json_error_t jerr;
	enum wg_err rc = WG_E_JSON_FIELD;
	int event_id;

	*out = NULL;
	if (len > WG_EVENT_MAX_LINE) {
		snprintf(why, whylen, "event line longer than %d bytes",
		    WG_EVENT_MAX_LINE);
		return WG_E_BODY_TOO_LARGE;
	}
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		snprintf(why, whylen, "event is not JSON: %s at column %d",
		    jerr.text, jerr.column);
		return WG_E_JSON_MALFORMED;
	}
	if (json_unpack_ex(o, &jerr, JSON_STRICT,
	    "{s:s, s:s, s:i, s:s, s?:o, s:s, s:s, s:s, s:s, s:o}", "time", &ts,
	    "channel", &channel, "eventId", &event_id, "level", &level,
	    "correlationId", &jcorr, "phase", &phase, "code", &code, "name",
	    &name, "message", &msg, "details", &d) != 0) {
		snprintf(why, whylen, "event: %s", jerr.text);
		goto done;
	}
	/* wg_event_to_json writes null when there is no correlation id. */
	if (jcorr != NULL && !json_is_null(jcorr) &&
	    (corr = json_string_value(jcorr)) == NULL) {
		snprintf(why, whylen, "event: correlationId must be a string "
		    "or null");
		goto done;
	}
	ev = xcalloc(1, sizeof(*ev));
	if (parse_time(ts, &ev->time_ms) != 0) {
		snprintf(why, whylen, "event: time \"%.40s\" is not RFC 3339",
		    ts);
		goto done;
	}
	if (!bounded(channel, 32) || !bounded(corr, 64) ||
	    !bounded(msg, 2048)) {
		snprintf(why, whylen, "event: channel, correlationId or "
		    "message too long or not printable");
		goto done;
	}
	if (wg_level_parse(level, &ev->level) != 0 ||
	    parse_phase(phase, &ev->phase) != 0) {
		snprintf(why, whylen, "event: unknown level or phase");
		goto done;
	}
	if (parse_code(code, &ev->err) != 0) {
		snprintf(why, whylen, "event: unknown code \"%.16s\"", code);
		goto done;
	}
	if (parse_details(d, ev, why, whylen) != 0)
		goto done;
	ev->event_id = event_id;
	ev->channel = xstrdup(channel);
	ev->correlation_id = corr ? xstrdup(corr) : NULL;
	ev->message = xstrdup(msg);
	*out = ev;
	ev = NULL;
	rc = WG_OK;
done:
	wg_event_free(ev);
	json_decref(o);
	return rc;
}

enum wg_err
wg_event_append(const struct wg_event *ev, const char *path)
{
	char *line = wg_event_to_json(ev);
	size_t n = strlen(line);
	enum wg_err rc = WG_OK;
	ssize_t w;
	int fd;

	line[n] = '\n'; /* replaces the NUL: written with its length below */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		wg_error("cannot open event log %s: %s", path,
		    strerror(errno));
		rc = WG_E_IO;
		goto done;
	}
	/* O_APPEND with one write keeps lines whole between writers. */
	w = write(fd, line, n + 1);
	if (w != (ssize_t)(n + 1)) {
		wg_error("cannot write event log %s: %s", path,
		    w < 0 ? strerror(errno) : "short write");
		rc = WG_E_IO;
	}
	if (close(fd) != 0 && rc == WG_OK)
		rc = WG_E_IO;
done:
	free(line);
	return rc;
}

void
wg_event_free(struct wg_event *ev)
{
	size_t i;

	if (ev == NULL)
		return;
	for (i = 0; i < ev->ndetails; i++) {
		free(ev->details[i].key);
		free(ev->details[i].value);
	}
	free(ev->channel);
	free(ev->correlation_id);
	free(ev->message);
	free(ev);
}

const char *const wg_device_channels[WG_DEVICE_NCHANNELS + 1] = {
	"autopilot", "tpm", "registration", "enrollment", "apps", "aad", NULL
};

int
wg_device_channel(const char *channel)
{
	size_t i;

	for (i = 0; wg_device_channels[i] != NULL; i++)
		if (strcmp(channel, wg_device_channels[i]) == 0)
			return 1;
	return 0;
}
