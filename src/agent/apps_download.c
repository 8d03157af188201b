/*
 * An app's content (apps_int.h): STATE/apps/<sha256>.part opened (an
 * earlier run's bytes hashed first), the rest fetched with `Range:
 * bytes=N-` and checked as it arrives (a 206's Content-Range, no byte past
 * the declared size), written and hashed, then its SHA-256 compared with
 * the list's before the file is renamed into place.  Never held in
 * memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/apps_int.h"
#include "agent/retry.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define PROGRESS_EVERY_MS 250

/* Starts the hash over with the first *got bytes the .part holds. */
static enum wg_err
part_rehash(struct apps *s, const char *part)
{
	unsigned char buf[65536];
	uint64_t left = s->got;
	ssize_t n = -1;

	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		abort(); /* out of memory */
	if (lseek(s->fd, 0, SEEK_SET) != 0)
		goto fail;
	while (left > 0) {
		n = read(s->fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n <= 0)
			goto fail;
		EVP_DigestUpdate(s->md, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	return WG_OK;
fail:
	return WG_FAIL(s, WG_E_IO, "cannot read %s: %s", part,
	    n == 0 ? "shorter than it was" : strerror(errno));
}

/* Empties the .part: the download starts over. */
static enum wg_err
part_reset(struct apps *s, const char *part)
{
	s->got = 0;
	if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0)
		return WG_FAIL(s, WG_E_IO, "cannot empty %s: %s", part,
		    strerror(errno));
	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		abort();
	return WG_OK;
}

/* A 206's Content-Range must be "bytes <got>-<size-1>/<size>". */
static int
range_ok(struct apps *s, const char *cr)
{
	char want[96];

	snprintf(want, sizeof(want), "bytes %llu-%llu/%llu",
	    (unsigned long long)s->got, (unsigned long long)s->cur->size - 1,
	    (unsigned long long)s->cur->size);
	return strcmp(cr, want) == 0;
}

/*
 * Before the first bytes: a 206 must continue where the .part ends; a
 * 200 is the whole content, so the .part starts over.
 */
static enum wg_err
on_start(struct apps *s)
{
	s->started = 1;
	if (s->resp->status == 206 && !range_ok(s, s->resp->content_range)) {
		s->stop = WG_FAIL(s, WG_E_NET_PROTOCOL, "the server answered "
		    "bytes=%llu- with Content-Range \"%.64s\": the download "
		    "starts over", (unsigned long long)s->got,
		    s->resp->content_range);
		(void)part_reset(s, s->part);
		return s->stop;
	}
	if (s->resp->status != 206 && s->got > 0) {
		wg_info("apps: the server sent all of %s, not the range asked "
		    "for: the download starts over", s->cur->sha256);
		if ((s->stop = part_reset(s, s->part)) != WG_OK)
			return s->stop;
	}
	return WG_OK;
}

/* The response body as it arrives: checked, written, hashed, shown. */
static enum wg_err
on_content(void *arg, const char *data, size_t len)
{
	struct apps *s = arg;
	const struct app *a = s->cur;
	ssize_t w;
	size_t off;

	if (!s->started && on_start(s) != WG_OK)
		return s->stop;
	if (len > a->size - s->got) {
		s->stop = WG_FAIL(s, WG_E_APP_TOO_LARGE, "app \"%s\": the "
		    "server sent more than the %llu bytes the app list "
		    "declares", a->name, (unsigned long long)a->size);
		return s->stop;
	}
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(s->fd, data + off, len - off)) < 0) {
			s->stop = WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "cannot "
			    "write %s/%s.part: %s", s->dir, a->sha256,
			    strerror(errno));
			return s->stop;
		}
	EVP_DigestUpdate(s->md, data, len);
	s->got += len;
	if (wg_mono_ms() - s->shown_ms >= PROGRESS_EVERY_MS) {
		s->shown_ms = wg_mono_ms();
		apps_show(s, a, ST_DOWNLOADING);
		if ((s->stop = apps_deadline(s, "while an app was being "
		    "downloaded")) != WG_OK)
			return s->stop;
	}
	return WG_OK;
}

/* One GET of the rest of the content into the open .part. */
static enum wg_err
fetch(struct apps *s, int *retry)
{
	const struct app *a = s->cur;
	char range[48];
	struct wg_httpc_header h = { "Range", range };
	struct wg_httpc_req req = { .method = "GET", .path = a->url,
	    .headers = &h, .nheaders = s->got > 0, .download = on_content,
	    .download_ctx = s };
	struct wg_httpc_resp resp = { 0 };
	struct wg_httpc_error e;
	int64_t left;
	enum wg_err rc;

	snprintf(range, sizeof(range), "bytes=%llu-",
	    (unsigned long long)s->got);
	if (s->ao->deadline_ms != 0) {
		left = s->ao->deadline_ms - wg_now_ms();
		req.timeout_ms = left > 1 ? (long)left : 1;
	}
	s->stop = WG_OK;
	s->started = 0;
	s->resp = &resp;
	rc = wg_httpc_do(s->d.http, &req, &resp);
	s->resp = NULL;
	*retry = 1;
	if (rc != WG_OK && s->stop != WG_OK) {
		*retry = s->stop != WG_E_APP_TOO_LARGE &&
		    s->stop != WG_E_ESP_TIMEOUT;
		rc = s->stop;
	} else if (rc != WG_OK) {
		rc = WG_FAIL(s, rc, "GET %s%s: %s", s->d.o->server, a->url,
		    resp.detail);
		if (apps_deadline(s, "while an app was being downloaded") !=
		    WG_OK) {
			*retry = 0;
			rc = WG_E_ESP_TIMEOUT;
		}
	} else if (resp.status == 416) {
		rc = WG_FAIL(s, WG_E_NET_PROTOCOL, "GET %s%s: HTTP 416 for "
		    "bytes %llu on: the download starts over", s->d.o->server,
		    a->url, (unsigned long long)s->got);
		if (part_reset(s, s->part) != WG_OK)
			*retry = 0;
	} else if (resp.status < 200 || resp.status > 299) {
		wg_httpc_resp_error(&resp, &e);
		*retry = agent_retryable(WG_OK, resp.status);
		rc = WG_FAIL(s, e.err, "GET %s%s: HTTP %ld %s %s: %s",
		    s->d.o->server, a->url, resp.status, e.code, e.name,
		    e.message);
	} else if (s->got != a->size) {
		rc = WG_FAIL(s, WG_E_NET_PROTOCOL, "GET %s%s: %llu of %llu "
		    "bytes came", s->d.o->server, a->url,
		    (unsigned long long)s->got, (unsigned long long)a->size);
	}
	wg_httpc_resp_free(&resp);
	return rc;
}

/* The .part is whole: its hash checked, then renamed into place. */
static enum wg_err
part_finish(struct apps *s, int *retry)
{
	const struct app *a = s->cur;
	unsigned char md[32];
	char hex[65], *path;
	enum wg_err rc = WG_OK;

	if (fsync(s->fd) != 0)
		return WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "cannot write %s: "
		    "%s", s->part, strerror(errno));
	EVP_DigestFinal_ex(s->md, md, NULL);
	wg_hex(md, sizeof(md), hex);
	if (strcmp(hex, a->sha256) != 0) {
		/* the next try starts over: a stale prefix may be the cause */
		if (unlink(s->part) != 0)
			*retry = 0;
		return WG_FAIL(s, WG_E_APP_HASH_MISMATCH, "app \"%s\": the "
		    "%llu bytes downloaded have SHA-256 %s, not %s; deleted",
		    a->name, (unsigned long long)a->size, hex, a->sha256);
	}
	path = apps_path(s, a, "");
	if (rename(s->part, path) != 0) {
		*retry = 0;
		rc = WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "cannot rename %s: "
		    "%s", s->part, strerror(errno));
	}
	free(path);
	return rc;
}

/* One try: the .part opened (resumed), the rest fetched, verified. */
static enum wg_err
download_once(void *arg, int *retry)
{
	struct apps *s = arg;
	struct stat st;
	enum wg_err rc;

	*retry = 0;
	if ((rc = apps_deadline(s, "before an app was downloaded")) !=
	    WG_OK || (rc = apps_token_fresh(s)) != WG_OK)
		return rc;
	s->fd = open(s->part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->fd < 0 || fstat(s->fd, &st) != 0) {
		rc = WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "cannot open %s: %s",
		    s->part, strerror(errno));
		goto done;
	}
	s->got = (uint64_t)st.st_size;
	if (s->got > s->cur->size)
		rc = part_reset(s, s->part);
	else
		rc = part_rehash(s, s->part);
	if (rc != WG_OK || lseek(s->fd, 0, SEEK_END) < 0) {
		rc = rc != WG_OK ? rc : WG_FAIL(s, WG_E_IO, "cannot seek %s",
		    s->part);
		goto done;
	}
	apps_event(s, s->cur, APPS_EVT_DOWNLOAD, WG_LEVEL_INFO, WG_OK,
	    "app \"%s\": downloading %llu bytes%s", s->cur->name,
	    (unsigned long long)s->cur->size, s->got > 0 ?
	    " (resumed)" : "");
	if (s->got > 0)
		wg_info("apps: %s: resuming at byte %llu", s->cur->sha256,
		    (unsigned long long)s->got);
	apps_show(s, s->cur, ST_DOWNLOADING);
	if (s->got < s->cur->size && (rc = fetch(s, retry)) != WG_OK)
		goto done;
	*retry = 1;
	if ((rc = part_finish(s, retry)) == WG_OK)
		apps_show(s, s->cur, ST_DOWNLOADING);
done:
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return rc;
}

enum wg_err
apps_download(struct apps *s, struct app *a)
{
	enum wg_err rc;

	s->part = apps_path(s, a, ".part");
	s->fd = -1;
	s->shown_ms = 0;
	if ((s->md = EVP_MD_CTX_new()) == NULL)
		abort(); /* out of memory */
	rc = devtoken_tries(&s->d, download_once, s, NULL);
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	free(s->part);
	s->part = NULL;
	if (rc == WG_OK)
		apps_event(s, a, APPS_EVT_DOWNLOADED, WG_LEVEL_INFO, WG_OK,
		    "app \"%s\": downloaded, SHA-256 %s verified", a->name,
		    a->sha256);
	else if (wg_err_info(rc)->phase != WG_PHASE_DEVICE_SETUP)
		/* the network's or the server's code: the app's is this */
		rc = WG_FAIL(s, WG_E_APP_DOWNLOAD_FAILED, "app \"%s\": %.900s",
		    a->name, s->why);
	return rc;
}
