/*
 * The agent's HTTP trace (trace.h): an observer of httpc that appends
 * one redacted JSON line per exchange to STATE/trace/http.jsonl.  Each
 * line is written with one write() on a file opened O_APPEND, so that a
 * run killed right after an answer (the crash tests) still has its line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/diag_redact.h"
#include "agent/state.h"
#include "agent/trace.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

/* The one trace of this process (agent_trace_start()). */
static struct {
	char dir[PATH_MAX];	/* STATE/trace */
	const char *cmd;
	int failed;		/* a write failed: said once, then off */
} tr;

int
agent_trace_value(const char *s)
{
	static const char *const on[] = { "on", "1", "yes", "true", NULL };
	static const char *const off[] = { "off", "0", "no", "false", NULL };
	size_t i;

	if (s == NULL)
		return 1;
	for (i = 0; on[i] != NULL; i++)
		if (strcmp(s, on[i]) == 0)
			return 1;
	for (i = 0; off[i] != NULL; i++)
		if (strcmp(s, off[i]) == 0)
			return 0;
	return -1;
}

int
agent_trace_env(void)
{
	const char *v = getenv(AGENT_TRACE_ENV);

	return v != NULL && agent_trace_value(v) == 1;
}

int
agent_trace_configured(const char *config)
{
	static const struct option longopts[] = {
		{ "trace", optional_argument, NULL, 1 },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_config cfg;
	char why[256];
	int on = agent_trace_env();
	size_t i;

	if (config == NULL || agent_config_read(config, longopts, &cfg, why,
	    sizeof(why)) != WG_OK)
		return on;
	for (i = 0; i < cfg.n; i++)
		if (cfg.opts[i] == 1 && agent_trace_value(cfg.values[i]) >= 0)
			on = agent_trace_value(cfg.values[i]);
	agent_config_free(&cfg);
	return on;
}

/* One header into o (a repeated name's values joined by ", "). */
static void
add_header(json_t *o, const char *name, const char *value)
{
	const char *old;
	char *v, *both;

	if (!wg_str_printable(name) || !wg_str_printable(value))
		return;
	v = agent_trace_header(name, value);
	if ((old = json_string_value(json_object_get(o, name))) != NULL) {
		both = xasprintf("%s, %s", old, v);
		free(v);
		v = both;
	}
	json_object_set_new(o, name, json_string(v));
	free(v);
}

/* The request's headers as they were sent (those libcurl adds aside). */
static json_t *
request_headers(const struct wg_httpc_exchange *x)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < x->req->nheaders; i++)
		add_header(o, x->req->headers[i].name,
		    x->req->headers[i].value);
	if (x->req->content_type != NULL)
		add_header(o, "Content-Type", x->req->content_type);
	if (x->bearer)
		add_header(o, "Authorization", "Bearer");
	if (x->user_agent != NULL)
		add_header(o, "User-Agent", x->user_agent);
	return o;
}

static json_t *
response_headers(const struct wg_httpc_exchange *x)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < x->nresp_headers; i++)
		add_header(o, x->resp_headers[i].name,
		    x->resp_headers[i].value);
	return o;
}

/* The request's body: in memory, streamed, or none (NULL). */
static json_t *
request_body(const struct wg_httpc_exchange *x)
{
	if (x->req->upload != NULL)
		return json_pack("{s:I, s:b}", "bytes",
		    (json_int_t)x->req->upload_len, "streamed", 1);
	return agent_trace_body(x->req->content_type, x->req->body,
	    x->req->body_len);
}

/* The response's body: streamed to the receiver, in memory, or none. */
static json_t *
response_body(const struct wg_httpc_exchange *x)
{
	char hex[65];

	if (x->req->download != NULL && x->resp->body == NULL &&
	    x->resp->status >= 200 && x->resp->status < 300) {
		wg_hex(x->download_sha256, sizeof(x->download_sha256), hex);
		return json_pack("{s:I, s:s, s:b}", "bytes",
		    (json_int_t)x->download_len, "sha256", hex, "streamed", 1);
	}
	return agent_trace_body(x->resp->content_type, x->resp->body,
	    x->resp->body_len);
}

/* curl's times since the start, in microseconds (unknown ones left out). */
static json_t *
timing(const struct wg_httpc_exchange *x)
{
	const struct {
		const char *name;
		int64_t us;
	} t[] = { { "dns", x->dns_us }, { "connect", x->connect_us },
	    { "tls", x->tls_us }, { "firstByte", x->first_byte_us },
	    { "total", x->total_us } };
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++)
		if (t[i].us >= 0)
			json_object_set_new(o, t[i].name,
			    json_integer((json_int_t)t[i].us));
	return o;
}

/* The failure of an exchange that got no usable answer. */
static json_t *
error_of(const struct wg_httpc_exchange *x)
{
	char code[16], *detail;
	unsigned count = 0;
	json_t *o;

	wg_err_code_str(x->rc, code, sizeof(code));
	detail = diag_redact_text(x->resp->detail, &count);
	o = json_pack("{s:s, s:s, s:s}", "code", code, "name",
	    wg_err_name(x->rc), "detail", wg_str_printable(detail) ? detail :
	    "(not printable)");
	free(detail);
	return o;
}

/* The line's JSON: the bodies left out when full is 0. */
static json_t *
line_json(const struct wg_httpc_exchange *x, const char *cmd, int full)
{
	char when[32], *url;
	unsigned count = 0;
	json_t *o, *req, *resp, *b;
	int64_t now = wg_now_ms();

	wg_time_rfc3339(x->total_us > 0 ? now - x->total_us / 1000 : now,
	    when);
	url = diag_redact_text(x->url, &count);
	o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:i}", "time", when, "cmd",
	    cmd != NULL ? cmd : "", "pid", (json_int_t)getpid(), "method",
	    x->req->method != NULL ? x->req->method : "", "url",
	    wg_str_printable(url) ? url : "(not printable)", "status",
	    (int)x->resp->status);
	free(url);
	if (x->resp->request_id[0] != '\0')
		json_object_set_new(o, "requestId",
		    json_string(x->resp->request_id));
	json_object_set_new(o, "timingUs", timing(x));
	if (x->rc != WG_OK)
		json_object_set_new(o, "error", error_of(x));
	req = json_pack("{s:o}", "headers", request_headers(x));
	resp = json_pack("{s:o}", "headers", response_headers(x));
	if (full && (b = request_body(x)) != NULL)
		json_object_set_new(req, "body", b);
	if (full && (b = response_body(x)) != NULL)
		json_object_set_new(resp, "body", b);
	json_object_set_new(o, "request", req);
	json_object_set_new(o, "response", resp);
	if (!full)
		json_object_set_new(o, "note", json_string("bodies left out: "
		    "the line would be too long"));
	diag_redact_json(o); /* defence in depth: nothing should be left */
	return o;
}

char *
agent_trace_line(const struct wg_httpc_exchange *x, const char *cmd)
{
	json_t *o;
	char *s;
	int full;

	for (full = 1; full >= 0; full--) {
		o = line_json(x, cmd, full);
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (s == NULL)
			abort(); /* every string was checked: only memory */
		if (strlen(s) <= AGENT_TRACE_LINE_MAX)
			return s;
		free(s);
	}
	return xasprintf("{\"cmd\":\"%s\",\"note\":\"an exchange whose "
	    "headers alone are too long for a trace line\"}",
	    cmd != NULL && wg_str_printable(cmd) && strlen(cmd) < 64 &&
	    strpbrk(cmd, "\"\\") == NULL ? cmd : "");
}

/*
 * dir/http.jsonl opened for appending (0600), rotated to http.jsonl.1
 * first when add more bytes would take it past AGENT_TRACE_FILE_MAX; -1
 * with errno.
 */
static int
open_trace(size_t add)
{
	char path[PATH_MAX], old[PATH_MAX];
	struct stat st;
	int fd;

	if (snprintf(path, sizeof(path), "%s/" AGENT_TRACE_FILE, tr.dir) >=
	    (int)sizeof(path) || snprintf(old, sizeof(old), "%s/"
	    AGENT_TRACE_OLD, tr.dir) >= (int)sizeof(old)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (st.st_size > 0 && (uint64_t)st.st_size + add >
	    AGENT_TRACE_FILE_MAX) {
		close(fd);
		if (rename(path, old) != 0)
			return -1;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	}
	if (fd >= 0 && (st.st_mode & 077) != 0)
		(void)fchmod(fd, 0600);
	return fd;
}

/* The observer: one line a exchange. */
static void
trace_exchange(const struct wg_httpc_exchange *x, void *ctx)
{
	char *line;
	size_t len;
	ssize_t n;
	int fd, err = 0;

	(void)ctx;
	if (tr.failed)
		return;
	line = agent_trace_line(x, tr.cmd);
	len = strlen(line);
	line[len++] = '\n'; /* over the NUL: the line is written by length */
	if ((fd = open_trace(len)) < 0)
		err = errno;
	else {
		n = write(fd, line, len);
		if (n < 0 || (size_t)n != len)
			err = n < 0 ? errno : EIO;
		if (close(fd) != 0 && err == 0)
			err = errno;
	}
	free(line);
	if (err != 0) {
		tr.failed = 1;
		fprintf(stderr, "whiteglove-agent: warning: the HTTP trace "
		    "cannot be written in %s: %s (tracing stopped)\n", tr.dir,
		    strerror(err));
	}
}

enum wg_err
agent_trace_start(const char *state_dir, const char *cmd, char *why,
    size_t whylen)
{
	enum wg_err rc;

	if (snprintf(tr.dir, sizeof(tr.dir), "%s/" AGENT_TRACE_DIR,
	    state_dir) >= (int)sizeof(tr.dir))
		return wg_fail(WG_E_IO, why, whylen, "the trace's folder: the "
		    "path is too long");
	if ((rc = agent_state_dir(state_dir, why, whylen)) != WG_OK ||
	    (rc = agent_state_dir(tr.dir, why, whylen)) != WG_OK)
		return rc;
	tr.cmd = cmd;
	tr.failed = 0;
	if (wg_httpc_add_observer(trace_exchange, NULL) != 0)
		return wg_fail(WG_E_INTERNAL, why, whylen, "no room for the "
		    "trace among the HTTP observers");
	return WG_OK;
}
