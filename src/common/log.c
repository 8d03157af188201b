#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

static enum wg_log_format log_format = WG_LOG_TEXT;
static enum wg_level log_min = WG_LEVEL_INFO;
static _Thread_local char log_request_id[64];

static const char *const level_names[WG_LEVEL_MAX] = {
	"debug", "info", "warning", "error"
};

void
wg_log_setup(enum wg_log_format format, enum wg_level min_level)
{
	log_format = format;
	log_min = min_level;
}

int
wg_log_format_parse(const char *s, enum wg_log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = WG_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = WG_LOG_JSON;
	else
		return -1;
	return 0;
}

const char *
wg_level_name(enum wg_level level)
{
	return (unsigned)level < WG_LEVEL_MAX ? level_names[level] : "info";
}

int
wg_level_parse(const char *s, enum wg_level *out)
{
	int i;

	for (i = 0; i < WG_LEVEL_MAX; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum wg_level)i;
			return 0;
		}
	}
	return -1;
}

void
wg_log_set_request_id(const char *request_id)
{
	if (request_id == NULL)
		log_request_id[0] = '\0';
	else
		snprintf(log_request_id, sizeof(log_request_id), "%s",
		    request_id);
}

const char *
wg_log_request_id(void)
{
	return log_request_id[0] ? log_request_id : NULL;
}

void
wg_log(enum wg_level level, const char *fmt, ...)
{
	char msg[2048], ts[32], *line = NULL;
	json_t *o;
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wg_time_rfc3339(wg_now_ms(), ts);
	if (log_format == WG_LOG_JSON) {
		o = json_pack("{s:s, s:s, s:s}", "time", ts, "level",
		    wg_level_name(level), "msg", msg);
		if (o != NULL && log_request_id[0])
			json_object_set_new(o, "requestId",
			    json_string(log_request_id));
		if (o != NULL)
			line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(o);
		if (line != NULL) {
			/* One write per line so concurrent lines never mix. */
			dprintf(STDERR_FILENO, "%s\n", line);
			free(line);
			return;
		}
	}
	if (log_request_id[0])
		dprintf(STDERR_FILENO, "%s %-7s [%s] %s\n", ts,
		    wg_level_name(level), log_request_id, msg);
	else
		dprintf(STDERR_FILENO, "%s %-7s %s\n", ts,
		    wg_level_name(level), msg);
}
