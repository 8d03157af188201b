/*
 * The device's events to the server (evupload.h): each channel's lines
 * after the cursor, checked as the server will check them, batched into
 * {"events": [...]} and sent; the cursor moves only past what a 200
 * answer took.  A line that does not parse is passed over (the server
 * would refuse the whole batch for it); a line still being written (no
 * newline yet) waits for the next upload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/evupload.h"
#include "agent/state.h"
#include "common/event.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* The channels uploaded are the ones the server takes (common/event.h). */

/* What one request sends, and the cursor once the server took it. */
struct batch {
	char *body;
	size_t len, cap;
	size_t nevents;
	int full;		/* a cap was reached: more may wait */
	int64_t next[WG_DEVICE_NCHANNELS];
};

static void
batch_add(struct batch *b, const char *s, size_t n)
{
	if (n >= b->cap - b->len) {
		b->cap = (b->len + n + 1) * 2;
		b->body = xrealloc(b->body, b->cap);
	}
	memcpy(b->body + b->len, s, n);
	b->len += n;
	b->body[b->len] = '\0';
}

/* The cursor: per channel the bytes of its file sent; 0s if none. */
static void
cursor_read(const char *dir, int64_t cur[WG_DEVICE_NCHANNELS])
{
	unsigned char buf[2048];
	json_t *o, *v;
	size_t len, i;

	memset(cur, 0, WG_DEVICE_NCHANNELS * sizeof(*cur));
	if (agent_state_read(dir, EVUPLOAD_CURSOR, buf, sizeof(buf), &len) != 0)
		return;
	/* a bad cursor starts over: the server stores each event once */
	if ((o = json_loadb((char *)buf, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL)
		return;
	for (i = 0; i < WG_DEVICE_NCHANNELS; i++) {
		v = json_object_get(o, wg_device_channels[i]);
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			cur[i] = json_integer_value(v);
	}
	json_decref(o);
}

static void
cursor_write(const char *dir, const int64_t cur[WG_DEVICE_NCHANNELS])
{
	json_t *o = json_object();
	char why[256], *text;
	size_t i;

	for (i = 0; i < WG_DEVICE_NCHANNELS; i++)
		json_object_set_new(o, wg_device_channels[i],
		    json_integer(cur[i]));
	if ((text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL)
		abort(); /* out of memory */
	json_decref(o);
	if (agent_state_write(dir, EVUPLOAD_CURSOR, text, strlen(text), why,
	    sizeof(why)) != WG_OK)
		wg_debug("events: cursor not kept: %s", why);
	free(text);
}

/*
 * Up to max bytes of dir/channel.jsonl from *off into *buf (xmalloc'd;
 * *len bytes).  A file shorter than *off was replaced: read from 0.
 * -1 if there is no such regular file.
 */
static int
channel_read(const char *dir, const char *channel, int64_t *off,
    size_t max, char **buf, size_t *len)
{
	char *path = xasprintf("%s/%s.jsonl", dir, channel);
	struct stat st;
	ssize_t r;
	size_t want;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_size < *off)
		*off = 0;
	want = (uint64_t)(st.st_size - *off) < max ?
	    (size_t)(st.st_size - *off) : max;
	*buf = xmalloc(want + 1);
	while (*len < want && (r = pread(fd, *buf + *len, want - *len,
	    *off + (int64_t)*len)) > 0)
		*len += (size_t)r;
	(*buf)[*len] = '\0';
	close(fd);
	return 0;
}

/* Adds channel i's lines after b->next[i] to b, within the caps. */
static void
batch_channel(struct batch *b, const char *dir, size_t i)
{
	struct wg_event *ev;
	char why[128], *buf, *p, *nl;
	size_t len, n;

	if (channel_read(dir, wg_device_channels[i], &b->next[i],
	    EVUPLOAD_BODY_MAX + WG_EVENT_MAX_LINE, &buf, &len) != 0)
		return;
	for (p = buf; !b->full && p < buf + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', len - (size_t)(p - buf))) == NULL) {
			/* still being written, or junk longer than a line */
			if (len - (size_t)(p - buf) > WG_EVENT_MAX_LINE)
				b->next[i] += (int64_t)(len - (size_t)(p -
				    buf));
			break;
		}
		n = (size_t)(nl - p);
		if (wg_event_parse(p, n, &ev, why, sizeof(why)) != WG_OK ||
		    strcmp(ev->channel, wg_device_channels[i]) != 0) {
			wg_debug("events: %s.jsonl at %lld passed over: %s",
			    wg_device_channels[i], (long long)b->next[i], ev != NULL ?
			    "another channel's" : why);
			wg_event_free(ev);
			b->next[i] += (int64_t)n + 1;
			continue;
		}
		wg_event_free(ev);
		if (b->nevents == EVUPLOAD_EVENTS_MAX ||
		    b->len + n + 3 > EVUPLOAD_BODY_MAX) {
			b->full = 1;
			break;
		}
		if (b->nevents++ > 0)
			batch_add(b, ",", 1);
		batch_add(b, p, n);
		b->next[i] += (int64_t)n + 1;
	}
	free(buf);
}

/* POST /mdm/v1/events with b's body; 0 on a 200. */
static int
batch_send(struct wg_httpc *http, const char *token, long timeout_ms,
    const struct batch *b)
{
	const struct wg_httpc_header headers[] = { { "Accept",
	    "application/json" } };
	const struct wg_httpc_req req = { .method = "POST",
	    .path = "/mdm/v1/events", .headers = headers, .nheaders = 1,
	    .content_type = "application/json", .body = b->body,
	    .body_len = b->len, .timeout_ms = timeout_ms };
	struct wg_httpc_resp resp = { 0 };
	struct wg_httpc_error e;
	enum wg_err rc;
	int ret = -1;

	wg_httpc_set_bearer(http, token);
	rc = wg_httpc_do(http, &req, &resp);
	wg_httpc_set_bearer(http, NULL);
	if (rc != WG_OK) {
		wg_debug("events: not uploaded: %s", resp.detail);
	} else if (resp.status != 200) {
		wg_httpc_resp_error(&resp, &e);
		wg_debug("events: not uploaded: HTTP %ld %s %s: %s",
		    resp.status, e.code, e.name, e.message);
	} else {
		wg_debug("events: %zu uploaded", b->nevents);
		ret = 0;
	}
	wg_httpc_resp_free(&resp);
	return ret;
}

void
evupload_run(const char *state_dir, struct wg_httpc *http, const char *token,
    long timeout_ms)
{
	char *dir = xasprintf("%s/events", state_dir);
	int64_t cur[WG_DEVICE_NCHANNELS];
	struct batch b;
	unsigned round;
	size_t i;

	if (timeout_ms <= 0 || timeout_ms > EVUPLOAD_TIMEOUT_MS)
		timeout_ms = EVUPLOAD_TIMEOUT_MS;
	cursor_read(dir, cur);
	memset(&b, 0, sizeof(b));
	for (round = 0; round < EVUPLOAD_ROUNDS; round++) {
		b.len = b.nevents = 0;
		b.full = 0;
		memcpy(b.next, cur, sizeof(cur));
		batch_add(&b, "{\"events\":[", 11);
		for (i = 0; i < WG_DEVICE_NCHANNELS && !b.full; i++)
			batch_channel(&b, dir, i);
		batch_add(&b, "]}", 2);
		if (b.nevents > 0 && batch_send(http, token, timeout_ms,
		    &b) != 0)
			break;
		/* lines passed over move the cursor even when none is sent */
		if (memcmp(b.next, cur, sizeof(cur)) != 0) {
			memcpy(cur, b.next, sizeof(cur));
			cursor_write(dir, cur);
		}
		if (!b.full)
			break;
	}
	free(b.body);
	free(dir);
}
