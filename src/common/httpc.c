/*
 * The libcurl wrapper: the only file that sees CURL, CURLU or CURLcode.
 * Every CURLcode is translated (and logged, at debug level) here, once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "httpc.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "wg_version.h"
#include "xmalloc.h"

struct wg_httpc {
	CURL *curl;		/* kept between requests: connection reuse */
	CURLU *base;		/* the parsed base URL */
	char *base_url;
	char *base_path;	/* "" or "/prefix" without trailing '/' */
	char *ca_file;
	char *bearer;
	char *user_agent;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_body;
	char errbuf[CURL_ERROR_SIZE];
};

/* State of one exchange, shared with curl's callbacks. */
struct xfer {
	struct wg_httpc_resp *resp;
	char *buf;
	size_t len, cap, max;
	int too_large;
	const struct wg_httpc_req *req;
	enum wg_err upload_err;
	CURL *curl;
	enum wg_err download_err;
	EVP_MD_CTX *md;		/* a download's SHA-256, for observers */
	uint64_t download_len;
};

#define TRY(expr)                                \
	do {                                     \
		CURLcode try_cc_ = (expr);       \
		if (try_cc_ != CURLE_OK)         \
			return try_cc_;          \
	} while (0)

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The one translation of CURLcode into the catalog. */
static enum wg_err
net_err(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return WG_E_NET_DNS;
	case CURLE_COULDNT_CONNECT:
		return WG_E_NET_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return WG_E_NET_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return WG_E_NET_TLS;
	default:
		return WG_E_NET_PROTOCOL;
	}
}

/* Parses and checks the base URL; fills c->base and c->base_path. */
static enum wg_err
parse_base(struct wg_httpc *c, const char *url, char *why, size_t whylen)
{
	char *scheme = NULL, *path = NULL, *query = NULL, *frag = NULL;
	enum wg_err rc = WG_E_CONFIG;
	size_t n;

	c->base = curl_url();
	if (c->base == NULL)
		abort(); /* out of memory */
	if (curl_url_set(c->base, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(c->base, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		snprintf(why, whylen, "'%.200s' is not an http:// or https:// "
		    "URL", url);
		goto done;
	}
	if (curl_url_get(c->base, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	    curl_url_get(c->base, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
		snprintf(why, whylen, "URL '%.200s' must not have a query or "
		    "fragment", url);
		goto done;
	}
	if (curl_url_get(c->base, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto done;
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	c->base_path = xstrndup(path, n);
	rc = WG_OK;
done:
	curl_free(scheme);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	return rc;
}

enum wg_err
wg_httpc_new(const struct wg_httpc_opts *opts, struct wg_httpc **out,
    char *why, size_t whylen)
{
	struct wg_httpc *c = NULL;
	enum wg_err rc = WG_E_CONFIG;
	FILE *f;

	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		snprintf(why, whylen, "libcurl: %s",
		    curl_easy_strerror(global_rc));
		return WG_E_INTERNAL;
	}
	if (opts->base_url == NULL) {
		snprintf(why, whylen, "no server URL given");
		return WG_E_CONFIG;
	}
	c = xcalloc(1, sizeof(*c));
	if ((rc = parse_base(c, opts->base_url, why, whylen)) != WG_OK)
		goto done;
	if (opts->ca_file != NULL) {
		/* Checked now so a typo is reported as such, not as TLS. */
		if ((f = fopen(opts->ca_file, "r")) == NULL) {
			snprintf(why, whylen, "cannot read CA file %.200s: %s",
			    opts->ca_file, strerror(errno));
			rc = WG_E_CONFIG;
			goto done;
		}
		fclose(f);
		c->ca_file = xstrdup(opts->ca_file);
	}
	if ((c->curl = curl_easy_init()) == NULL)
		abort(); /* out of memory */
	c->base_url = xstrdup(opts->base_url);
	c->user_agent = xstrdup(opts->user_agent ? opts->user_agent :
	    "whiteglove/" WG_VERSION);
	c->connect_timeout_ms = opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms : WG_HTTPC_CONNECT_TIMEOUT_MS;
	c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms :
	    WG_HTTPC_TIMEOUT_MS;
	c->max_body = opts->max_body > 0 ? opts->max_body : WG_HTTPC_MAX_BODY;
	wg_httpc_set_bearer(c, opts->bearer);
	*out = c;
	c = NULL;
	rc = WG_OK;
done:
	wg_httpc_free(c);
	return rc;
}

void
wg_httpc_free(struct wg_httpc *c)
{
	if (c == NULL)
		return;
	wg_httpc_set_bearer(c, NULL);
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_url_cleanup(c->base);
	free(c->base_url);
	free(c->base_path);
	free(c->ca_file);
	free(c->user_agent);
	free(c);
}

void
wg_httpc_set_bearer(struct wg_httpc *c, const char *token)
{
	if (c->bearer != NULL)
		xfree_secret(c->bearer, strlen(c->bearer));
	c->bearer = token != NULL && *token != '\0' ? xstrdup(token) : NULL;
}

const char *
wg_httpc_base_url(const struct wg_httpc *c)
{
	return c->base_url;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = nmemb; /* size is always 1 */
	char *nbuf;
	long status = 0;

	(void)size;
	if (x->req->download != NULL) {
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			x->resp->status = status;
			x->download_err = x->req->download(
			    x->req->download_ctx, data, n);
			if (x->download_err != WG_OK)
				return 0;
			x->download_len += n;
			if (x->md != NULL)
				EVP_DigestUpdate(x->md, data, n);
			return n;
		}
	}
	if (n > x->max - x->len) {
		x->too_large = 1;
		return 0; /* aborts the transfer */
	}
	if (n + 1 > x->cap - x->len) {
		/* Grow by copying so that no unwiped copy is left behind. */
		x->cap = x->len + n + 1 > 2 * x->cap ? x->len + n + 1 :
		    2 * x->cap;
		nbuf = xmalloc(x->cap);
		if (x->len > 0)
			memcpy(nbuf, x->buf, x->len);
		xfree_secret(x->buf, x->len);
		x->buf = nbuf;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return n;
}

/* Copies a header value (trimmed) into out if it is short printable text. */
static void
header_value(const char *v, size_t n, char *out, size_t outlen)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
	    v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= outlen) {
		out[0] = '\0';
		return;
	}
	memcpy(out, v, n);
	out[n] = '\0';
	if (!wg_str_printable(out))
		out[0] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	static const char rid[] = "X-Request-Id:", ctype[] = "Content-Type:",
	    crange[] = "Content-Range:";
	struct xfer *x = arg;
	size_t n = nmemb; /* size is always 1 */

	(void)size;
	/* A new status line (after 100 Continue, a proxy) starts afresh. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		x->resp->request_id[0] = '\0';
		x->resp->content_type[0] = '\0';
		x->resp->content_range[0] = '\0';
	} else if (n >= sizeof(crange) - 1 &&
	    strncasecmp(data, crange, sizeof(crange) - 1) == 0) {
		header_value(data + sizeof(crange) - 1, n - (sizeof(crange) -
		    1), x->resp->content_range,
		    sizeof(x->resp->content_range));
	} else if (n >= sizeof(rid) - 1 &&
	    strncasecmp(data, rid, sizeof(rid) - 1) == 0) {
		header_value(data + sizeof(rid) - 1, n - (sizeof(rid) - 1),
		    x->resp->request_id, sizeof(x->resp->request_id));
	} else if (n >= sizeof(ctype) - 1 &&
	    strncasecmp(data, ctype, sizeof(ctype) - 1) == 0) {
		header_value(data + sizeof(ctype) - 1, n - (sizeof(ctype) - 1),
		    x->resp->content_type, sizeof(x->resp->content_type));
	}
	return n;
}

static size_t
on_upload(char *buf, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t got = 0;

	x->upload_err = x->req->upload(x->req->upload_ctx, buf, size * nitems,
	    &got);
	if (x->upload_err == WG_OK && got > size * nitems)
		x->upload_err = WG_E_INTERNAL; /* the callback overran buf */
	if (x->upload_err != WG_OK)
		return CURL_READFUNC_ABORT;
	return got;
}

/* Base URL + path + query, each part percent-encoded where needed. */
static enum wg_err
build_url(struct wg_httpc *c, const struct wg_httpc_req *req, CURLU **out)
{
	enum wg_err rc = WG_E_INTERNAL;
	char *path = NULL, *q = NULL;
	const char *const *p;
	CURLU *u;

	if ((u = curl_url_dup(c->base)) == NULL)
		abort(); /* out of memory */
	if (req->path == NULL || req->path[0] != '/')
		goto done;
	path = xasprintf("%s%s", c->base_path, req->path);
	if (curl_url_set(u, CURLUPART_PATH, path, CURLU_URLENCODE) !=
	    CURLUE_OK)
		goto done;
	for (p = req->query; p != NULL && p[0] != NULL; p += 2) {
		if (p[1] == NULL)
			goto done;
		free(q);
		q = xasprintf("%s=%s", p[0], p[1]);
		if (curl_url_set(u, CURLUPART_QUERY, q,
		    CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
			goto done;
	}
	*out = u;
	u = NULL;
	rc = WG_OK;
done:
	curl_url_cleanup(u);
	free(path);
	free(q);
	return rc;
}

/* wg_httpc_share_connections()'s: NULL until a program asks for it. */
static CURLSH *share;

static void
share_free(void)
{
	curl_share_cleanup(share);
	share = NULL;
}

void
wg_httpc_share_connections(void)
{
	if (share != NULL || (share = curl_share_init()) == NULL)
		return;
	if (curl_share_setopt(share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
	    curl_share_setopt(share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
	    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
	    CURLSHE_OK) {
		share_free(); /* an old libcurl: each handle its own */
		return;
	}
	atexit(share_free);
}

/* Options every exchange of c has: trust, timeouts, limits, callbacks. */
static CURLcode
set_common(struct wg_httpc *c, struct xfer *x)
{
	CURL *h = c->curl;

	if (share != NULL)
		TRY(curl_easy_setopt(h, CURLOPT_SHARE, share));
	TRY(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
	TRY(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf));
	TRY(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"));
	TRY(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
	TRY(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L));
	TRY(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L));
	TRY(curl_easy_setopt(h, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2));
	if (c->ca_file != NULL) {
		/* Pinned: this CA and no other (no system bundle, no dir). */
		TRY(curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file));
		TRY(curl_easy_setopt(h, CURLOPT_CAPATH, NULL));
	}
	TRY(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    c->connect_timeout_ms));
	if (x->req->download != NULL) {
		/* A download may take long: only a stall is a timeout. */
		TRY(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
		    x->req->timeout_ms > 0 ? x->req->timeout_ms : 0L));
		TRY(curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L));
		TRY(curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
		    (c->timeout_ms + 999) / 1000));
	} else {
		TRY(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->req->timeout_ms >
		    0 ? x->req->timeout_ms : c->timeout_ms));
		TRY(curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)c->max_body));
	}
	TRY(curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent));
	TRY(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body));
	TRY(curl_easy_setopt(h, CURLOPT_WRITEDATA, x));
	TRY(curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header));
	TRY(curl_easy_setopt(h, CURLOPT_HEADERDATA, x));
	if (c->bearer != NULL) {
		TRY(curl_easy_setopt(h, CURLOPT_HTTPAUTH,
		    (long)CURLAUTH_BEARER));;
		TRY(curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, c->bearer));
	}
	return CURLE_OK;
}

/* The method and the body: in memory, streamed, or none. */
static CURLcode
set_method(struct wg_httpc *c, const struct wg_httpc_req *req,
    struct xfer *x)
{
	CURL *h = c->curl;
	int has_body = req->body != NULL || req->upload != NULL;

	if (has_body || strcmp(req->method, "POST") == 0) {
		TRY(curl_easy_setopt(h, CURLOPT_POST, 1L));
		if (req->upload != NULL) {
			TRY(curl_easy_setopt(h, CURLOPT_READFUNCTION,
			    on_upload));
			TRY(curl_easy_setopt(h, CURLOPT_READDATA, x));
			TRY(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->upload_len));
		} else {
			TRY(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->body_len));
			TRY(curl_easy_setopt(h, CURLOPT_POSTFIELDS,
			    req->body != NULL ? req->body : ""));
		}
	} else if (strcmp(req->method, "HEAD") == 0) {
		TRY(curl_easy_setopt(h, CURLOPT_NOBODY, 1L));
	}
	if (strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "POST") != 0 &&
	    strcmp(req->method, "HEAD") != 0)
		TRY(curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method));
	return CURLE_OK;
}

/* Request headers; NULL if one would split the request (CR or LF). */
static struct curl_slist *
make_headers(const struct wg_httpc_req *req)
{
	struct curl_slist *l = NULL, *n;
	char *line;
	size_t i;
	int bad = 0;

	/* No "Expect: 100-continue" round trip before bodies. */
	if ((l = curl_slist_append(l, "Expect:")) == NULL)
		abort();
	for (i = 0; i <= req->nheaders; i++) {
		if (i < req->nheaders)
			line = xasprintf("%s: %s", req->headers[i].name,
			    req->headers[i].value);
		else if (req->content_type != NULL)
			line = xasprintf("Content-Type: %s", req->content_type);
		else
			break;
		bad |= strpbrk(line, "\r\n") != NULL;
		n = curl_slist_append(l, line);
		free(line);
		if (n == NULL)
			abort();
		l = n;
	}
	if (bad) {
		curl_slist_free_all(l);
		return NULL;
	}
	return l;
}

/* Fills resp->detail and logs the failed exchange (once, here). */
static enum wg_err
fail(struct wg_httpc *c, const struct wg_httpc_req *req, struct xfer *x,
    CURLcode cc)
{
	enum wg_err rc = net_err(cc);

	if (x->too_large) {
		rc = WG_E_NET_PROTOCOL;
		snprintf(x->resp->detail, sizeof(x->resp->detail),
		    "response body larger than %zu bytes", x->max);
	} else if (x->download_err != WG_OK) {
		rc = x->download_err;
		snprintf(x->resp->detail, sizeof(x->resp->detail),
		    "the download was stopped by its receiver");
	} else if (cc == CURLE_ABORTED_BY_CALLBACK && x->upload_err != WG_OK) {
		rc = x->upload_err;
		snprintf(x->resp->detail, sizeof(x->resp->detail),
		    "the request body could not be read");
	} else {
		snprintf(x->resp->detail, sizeof(x->resp->detail), "%s",
		    c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
	}
	wg_debug("http %s %s%s: curl error %d: %s", req->method, c->base_url,
	    req->path, (int)cc, x->resp->detail);
	return rc;
}

static void
resp_reset(struct wg_httpc_resp *resp)
{
	wg_httpc_resp_free(resp);
	memset(resp, 0, sizeof(*resp));
}

static struct {
	wg_httpc_observer_fn fn;
	void *ctx;
} observers[WG_HTTPC_OBSERVERS_MAX];
static size_t nobservers;

int
wg_httpc_add_observer(wg_httpc_observer_fn fn, void *ctx)
{
	if (nobservers == WG_HTTPC_OBSERVERS_MAX)
		return -1;
	observers[nobservers].fn = fn;
	observers[nobservers++].ctx = ctx;
	return 0;
}

/* A curl time (microseconds since the start), or -1. */
static int64_t
time_us(CURL *h, CURLINFO what)
{
	curl_off_t v = -1;

	return curl_easy_getinfo(h, what, &v) == CURLE_OK ? (int64_t)v : -1;
}

#define OBSERVED_HEADERS_MAX 64

/* Tells every observer (newest first) how the exchange went. */
static void
observe(struct wg_httpc *c, const struct wg_httpc_req *req,
    const struct wg_httpc_resp *resp, enum wg_err rc, CURLU *url,
    struct xfer *x)
{
	struct wg_httpc_header hdrs[OBSERVED_HEADERS_MAX];
	struct wg_httpc_exchange e = { .req = req, .resp = resp, .rc = rc,
	    .url = "", .user_agent = c->user_agent, .bearer = c->bearer !=
	    NULL, .download_len = x->download_len };
	struct curl_header *h = NULL;
	char *u = NULL;
	size_t i;

	if (url != NULL && curl_url_get(url, CURLUPART_URL, &u, 0) ==
	    CURLUE_OK)
		e.url = u;
	e.dns_us = time_us(c->curl, CURLINFO_NAMELOOKUP_TIME_T);
	e.connect_us = time_us(c->curl, CURLINFO_CONNECT_TIME_T);
	e.tls_us = time_us(c->curl, CURLINFO_APPCONNECT_TIME_T);
	e.first_byte_us = time_us(c->curl, CURLINFO_STARTTRANSFER_TIME_T);
	e.total_us = time_us(c->curl, CURLINFO_TOTAL_TIME_T);
	while (resp->status > 0 && e.nresp_headers < OBSERVED_HEADERS_MAX &&
	    (h = curl_easy_nextheader(c->curl, CURLH_HEADER, -1, h)) !=
	    NULL) {
		hdrs[e.nresp_headers].name = h->name;
		hdrs[e.nresp_headers++].value = h->value;
	}
	e.resp_headers = hdrs;
	if (x->md != NULL)
		EVP_DigestFinal_ex(x->md, e.download_sha256, NULL);
	for (i = nobservers; i > 0; i--)
		observers[i - 1].fn(&e, observers[i - 1].ctx);
	curl_free(u);
}

/* ---- diagnostic exchanges (struct wg_httpc_probe) ---- */

/*
 * A probe's options: the address to connect to, the server's chain
 * (CURLOPT_CERTINFO), and, for a handshake only, no request.  Not
 * verifying is refused unless nothing is sent.
 */
static CURLcode
probe_set(struct wg_httpc *c, const struct wg_httpc_probe *p,
    struct curl_slist **pinned)
{
	CURL *h = c->curl;

	if (p->no_verify && !p->handshake_only)
		return CURLE_BAD_FUNCTION_ARGUMENT;
	if (p->resolve != NULL) {
		if ((*pinned = curl_slist_append(NULL, p->resolve)) == NULL)
			abort(); /* out of memory */
		TRY(curl_easy_setopt(h, CURLOPT_RESOLVE, *pinned));
	}
	TRY(curl_easy_setopt(h, CURLOPT_CERTINFO, 1L));
	TRY(curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L));
	if (p->handshake_only)
		TRY(curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L));
	if (p->no_verify) {
		TRY(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L));
		TRY(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L));
	}
	return CURLE_OK;
}

/* The timings, the verify code and the chain's PEM ("Cert" fields). */
static void
probe_collect(struct wg_httpc *c, struct wg_httpc_probe *p)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *f;
	curl_off_t t = 0;
	int i;

	wg_httpc_probe_free(p);
	if (curl_easy_getinfo(c->curl, CURLINFO_CONNECT_TIME_T, &t) ==
	    CURLE_OK)
		p->connect_us = (long)t;
	t = 0;
	if (curl_easy_getinfo(c->curl, CURLINFO_APPCONNECT_TIME_T, &t) ==
	    CURLE_OK)
		p->tls_us = (long)t;
	t = 0;
	if (curl_easy_getinfo(c->curl, CURLINFO_TOTAL_TIME_T, &t) == CURLE_OK)
		p->total_us = (long)t;
	if (curl_easy_getinfo(c->curl, CURLINFO_SSL_VERIFYRESULT,
	    &p->verify_result) != CURLE_OK)
		p->verify_result = 0;
	if (curl_easy_getinfo(c->curl, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL)
		return;
	for (i = 0; i < ci->num_of_certs &&
	    p->ncerts < WG_HTTPC_PROBE_CERTS_MAX; i++)
		for (f = ci->certinfo[i]; f != NULL; f = f->next)
			if (strncmp(f->data, "Cert:", 5) == 0) {
				p->certs[p->ncerts++] = xstrdup(f->data + 5);
				break;
			}
}

void
wg_httpc_probe_free(struct wg_httpc_probe *p)
{
	size_t i;

	for (i = 0; i < p->ncerts; i++)
		free(p->certs[i]);
	memset(p->certs, 0, sizeof(p->certs));
	p->ncerts = 0;
}

enum wg_err
wg_httpc_do(struct wg_httpc *c, const struct wg_httpc_req *req,
    struct wg_httpc_resp *resp)
{
	struct xfer x = { .resp = resp, .max = c->max_body, .req = req,
	    .curl = c->curl };
	struct curl_slist *hdrs = NULL, *pinned = NULL;
	enum wg_err rc = WG_E_INTERNAL;
	CURLU *url = NULL;
	CURLcode cc;

	resp_reset(resp);
	curl_easy_reset(c->curl); /* keeps the connection cache */
	c->errbuf[0] = '\0';
	if (nobservers > 0 && req->download != NULL &&
	    ((x.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(x.md, EVP_sha256(), NULL) != 1))
		abort(); /* out of memory */
	if (req->method == NULL || build_url(c, req, &url) != WG_OK ||
	    (hdrs = make_headers(req)) == NULL) {
		snprintf(resp->detail, sizeof(resp->detail), "invalid request "
		    "(method, path, query or header)");
		goto done;
	}
	if ((cc = set_common(c, &x)) != CURLE_OK ||
	    (cc = set_method(c, req, &x)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_CURLU, url)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs)) !=
	    CURLE_OK ||
	    (req->probe != NULL && (cc = probe_set(c, req->probe, &pinned)) !=
	    CURLE_OK) ||
	    (cc = curl_easy_perform(c->curl)) != CURLE_OK) {
		rc = fail(c, req, &x, cc);
		goto done;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = x.buf;
	resp->body_len = x.len;
	x.buf = NULL;
	rc = WG_OK;
done:
	if (nobservers > 0)
		observe(c, req, resp, rc, url, &x);
	EVP_MD_CTX_free(x.md);
	xfree_secret(x.buf, x.len);
	if (req->probe != NULL)
		probe_collect(c, req->probe);
	curl_slist_free_all(pinned);
	curl_slist_free_all(hdrs);
	curl_url_cleanup(url);
	/* Drop the pointers into this call's stack and req from the handle. */
	curl_easy_reset(c->curl);
	return rc;
}

enum wg_err
wg_httpc_json(struct wg_httpc *c, const char *method, const char *path,
    const char *const *query, const json_t *body, struct wg_httpc_resp *resp)
{
	static const struct wg_httpc_header accept = { "Accept",
		"application/json" };
	struct wg_httpc_req req = { .method = method, .path = path,
		.query = query, .headers = &accept, .nheaders = 1 };
	char *text = NULL;
	enum wg_err rc;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL)
			abort(); /* our own object: only memory can fail */
		req.body = text;
		req.body_len = strlen(text);
		req.content_type = "application/json";
	}
	rc = wg_httpc_do(c, &req, resp);
	if (text != NULL)
		xfree_secret(text, strlen(text));
	return rc;
}

enum wg_err
wg_httpc_resp_json(const struct wg_httpc_resp *resp, json_t **out, char *why,
    size_t whylen)
{
	char inner[256];

	*out = NULL;
	if (resp->body == NULL) {
		snprintf(why, whylen, "server response: empty body where JSON "
		    "was expected");
		return WG_E_NET_PROTOCOL;
	}
	if (wg_json_load_object(resp->body, resp->body_len, out, inner,
	    sizeof(inner)) != WG_OK) {
		snprintf(why, whylen, "server response: %s", inner);
		return WG_E_NET_PROTOCOL;
	}
	return WG_OK;
}

static enum wg_err
err_by_status(long status)
{
	static const struct {
		long status;
		enum wg_err err;
	} map[] = {
		{ 400, WG_E_HTTP_BAD_REQUEST }, { 401, WG_E_AUTH_INVALID },
		{ 403, WG_E_FORBIDDEN }, { 404, WG_E_HTTP_NOT_FOUND },
		{ 405, WG_E_METHOD_NOT_ALLOWED }, { 409, WG_E_CONFLICT },
		{ 413, WG_E_BODY_TOO_LARGE }, { 415, WG_E_MEDIA_TYPE },
		{ 500, WG_E_INTERNAL }, { 503, WG_E_SERVER_BUSY },
		{ 504, WG_E_TIMEOUT },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].status == status)
			return map[i].err;
	return WG_E_NET_PROTOCOL;
}

/*
 * Copies string field name of o into out: as is when it is printable text
 * that fits, else escaped (it is untrusted and goes to a terminal).
 */
static int
copy_field(const json_t *o, const char *name, char *out, size_t outlen)
{
	const json_t *v = json_object_get(o, name);
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n < outlen && strlen(s) == n && wg_str_printable(s))
		memcpy(out, s, n + 1);
	else
		wg_escape_log(s, n, out, outlen);
	return 0;
}

void
wg_httpc_resp_error(const struct wg_httpc_resp *resp,
    struct wg_httpc_error *out)
{
	const struct wg_err_info *info = NULL;
	json_t *o = NULL, *e;
	char why[8];

	memset(out, 0, sizeof(*out));
	snprintf(out->request_id, sizeof(out->request_id), "%s",
	    resp->request_id);
	if (resp->body != NULL && wg_json_load_object(resp->body,
	    resp->body_len, &o, why, sizeof(why)) == WG_OK &&
	    json_is_object(e = json_object_get(o, "error")) &&
	    copy_field(e, "code", out->code, sizeof(out->code)) == 0 &&
	    copy_field(e, "message", out->message, sizeof(out->message)) == 0) {
		if (copy_field(e, "name", out->name, sizeof(out->name)) != 0)
			out->name[0] = '\0';
		(void)copy_field(e, "requestId", out->request_id,
		    sizeof(out->request_id));
		info = wg_err_lookup(out->code);
		out->err = info != NULL ? info->err :
		    err_by_status(resp->status);
		if (out->name[0] == '\0')
			snprintf(out->name, sizeof(out->name), "%s",
			    wg_err_name(out->err));
	} else {
		out->err = err_by_status(resp->status);
		wg_err_code_str(out->err, out->code, sizeof(out->code));
		snprintf(out->name, sizeof(out->name), "%s",
		    wg_err_name(out->err));
		snprintf(out->message, sizeof(out->message), "HTTP %ld from "
		    "the server without a whiteglove error body%s%s",
		    resp->status, resp->content_type[0] ? "; Content-Type: " :
		    "", resp->content_type);
	}
	json_decref(o);
}

void
wg_httpc_resp_free(struct wg_httpc_resp *resp)
{
	if (resp == NULL)
		return;
	xfree_secret(resp->body, resp->body_len);
	resp->body = NULL;
	resp->body_len = 0;
}
