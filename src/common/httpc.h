/*
 * httpc: the project's one HTTP client (libcurl).  The admin CLI and the
 * device agent talk to every whiteglove service through it.
 *
 * One struct wg_httpc per service base URL: it keeps the TLS trust (a
 * pinned CA file, or the system store), the bearer token and the timeouts,
 * and reuses its connection between requests.  A handle is used by one
 * thread at a time; separate handles may be used from separate threads.
 *
 * CURLcode never leaves this module: a failed exchange returns one of
 * WG_E_NET_DNS, WG_E_NET_CONNECT, WG_E_NET_TLS, WG_E_NET_TIMEOUT or
 * WG_E_NET_PROTOCOL, and resp->detail holds curl's own words for a person.
 * An exchange that completed returns WG_OK whatever the HTTP status; the
 * caller reads resp->status and, on a failure status, wg_httpc_resp_error().
 */
#ifndef WG_HTTPC_H
#define WG_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "errors.h"

#define WG_HTTPC_MAX_BODY (8u * 1024 * 1024)	/* default response cap */
#define WG_HTTPC_CONNECT_TIMEOUT_MS 10000
#define WG_HTTPC_TIMEOUT_MS 60000
#define WG_HTTPC_REQUEST_ID_MAX 64
#define WG_HTTPC_DETAIL_MAX 512

struct wg_httpc;

struct wg_httpc_opts {
	const char *base_url;	/* "https://host:port[/prefix]"; required */
	const char *ca_file;	/* PEM; when set, the only CA trusted */
	const char *bearer;	/* sent as Authorization: Bearer; may be NULL */
	long connect_timeout_ms; /* 0: WG_HTTPC_CONNECT_TIMEOUT_MS */
	long timeout_ms;	/* whole exchange; 0: WG_HTTPC_TIMEOUT_MS */
	size_t max_body;	/* response cap; 0: WG_HTTPC_MAX_BODY */
	const char *user_agent;	/* NULL: "whiteglove/VERSION" */
};

struct wg_httpc_header {
	const char *name;
	const char *value;
};

/*
 * Streams a request body: fills up to cap bytes of buf and sets *got (0 at
 * the end).  A non-WG_OK return aborts the exchange with that code.
 */
typedef enum wg_err (*wg_httpc_read_fn)(void *ctx, char *buf, size_t cap,
    size_t *got);

/*
 * Takes len bytes of a streamed response body (a download); a non-WG_OK
 * return aborts the exchange with that code.
 */
typedef enum wg_err (*wg_httpc_write_fn)(void *ctx, const char *data,
    size_t len);

struct wg_httpc_req {
	const char *method;	/* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *path;	/* "/admin/v1/tenants"; starts with '/' */
	/* NULL-terminated name, value, name, value... list; encoded here */
	const char *const *query;
	const struct wg_httpc_header *headers;
	size_t nheaders;
	const char *content_type; /* of the body; NULL: none sent */
	const void *body;	/* whole body in memory, or NULL */
	size_t body_len;
	/* Streaming upload instead of body: read until *got == 0. */
	wg_httpc_read_fn upload;
	void *upload_ctx;
	int64_t upload_len;	/* -1: unknown (sent chunked) */
	/*
	 * Streaming download: a 2xx response's body goes to download() as it
	 * arrives, not into resp->body, and the handle's body cap does not
	 * apply (the callback caps it); any other status's body is read into
	 * resp->body as usual (resp->status and resp->content_range are set
	 * before the first call).  The handle's timeout then only bounds a
	 * stall (less than 1 byte/s for that long).
	 */
	wg_httpc_write_fn download;
	void *download_ctx;
	/* This exchange's whole time; 0: the handle's (a download: none). */
	long timeout_ms;
	/* A diagnostic exchange's extras (diag network); NULL: none. */
	struct wg_httpc_probe *probe;
};

/*
 * What `whiteglove-agent diag network` asks of an exchange beside its
 * answer, through the one TLS implementation (libcurl's): where to
 * connect, whether to stop after the handshake, and the timings and the
 * server's certificates it learns.  Zero it, set the in-members, pass it
 * as req->probe; wg_httpc_probe_free() frees the out-members.
 */
#define WG_HTTPC_PROBE_CERTS_MAX 8
struct wg_httpc_probe {
	/* in */
	const char *resolve;	/* "host:port:address": connect to this
				   address (the one the caller checked);
				   NULL: resolve as usual */
	int handshake_only;	/* stop after the TLS handshake: no request
				   is sent, resp->status stays 0 */
	int no_verify;		/* with handshake_only only: accept any
				   certificate, to read the chain of a
				   server that fails verification */
	/* out, filled whether the exchange worked or not */
	long connect_us;	/* TCP connected, from the start; 0: not */
	long tls_us;		/* TLS handshake done, from the start; 0: not */
	long total_us;
	long verify_result;	/* the TLS library's verify code (OpenSSL:
				   X509_V_ERR_*); 0: verified or not checked */
	char *certs[WG_HTTPC_PROBE_CERTS_MAX]; /* the server's chain as it
				   sent it, PEM, leaf first */
	size_t ncerts;
};

/* Frees a probe's certificates; the probe may be reused. */
void wg_httpc_probe_free(struct wg_httpc_probe *p);

struct wg_httpc_resp {
	long status;		/* HTTP status; 0 if no response came */
	char *body;		/* NUL-terminated; NULL if empty */
	size_t body_len;
	char request_id[WG_HTTPC_REQUEST_ID_MAX]; /* X-Request-Id, or "" */
	char content_type[128];
	char content_range[128]; /* Content-Range (206, 416), or "" */
	char detail[WG_HTTPC_DETAIL_MAX]; /* why the exchange failed */
};

/* A whiteglove error body: {"error":{"code","name","message","requestId"}}. */
struct wg_httpc_error {
	enum wg_err err;	/* the catalog entry; see wg_httpc_resp_error */
	char code[16];		/* as the server sent it, or from the catalog */
	char name[96];
	char message[1024];	/* printable: control bytes escaped */
	char request_id[WG_HTTPC_REQUEST_ID_MAX];
};

/*
 * Makes a client for opts->base_url (http or https).  Fails with
 * WG_E_CONFIG and why set when the URL is not one, or the CA file cannot
 * be read.  On success *out is a new handle the caller frees with
 * wg_httpc_free(); on failure *out is NULL.
 */
enum wg_err wg_httpc_new(const struct wg_httpc_opts *opts,
    struct wg_httpc **out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Wipes the token and frees the handle; NULL is a no-op. */
void wg_httpc_free(struct wg_httpc *c);

/* Replaces (or, with NULL, removes) the bearer token for later requests. */
void wg_httpc_set_bearer(struct wg_httpc *c, const char *token);

/* The base URL the handle was made with; borrowed from c. */
const char *wg_httpc_base_url(const struct wg_httpc *c);

/*
 * Makes every handle of the process share one connection cache (and TLS
 * sessions, DNS answers): a handle made after another reuses its open
 * connection to the same server, so a program whose steps each make
 * their own handle (the agent's provision) opens one connection instead
 * of one per step.  For single-threaded programs; call it before any
 * handle exists.  Without it (or with a libcurl that cannot share
 * connections) each handle keeps its own.
 */
void wg_httpc_share_connections(void);

/*
 * What an observer sees of one exchange, answered or not.  Every pointer
 * is borrowed for the observer's call only.
 */
struct wg_httpc_exchange {
	const struct wg_httpc_req *req;
	const struct wg_httpc_resp *resp; /* status 0: no answer came */
	enum wg_err rc;		/* what wg_httpc_do returns */
	const char *url;	/* the whole URL, or "" when none was made */
	const char *user_agent;
	int bearer;		/* an Authorization: Bearer header was sent */
	/* curl's times since the start, in microseconds; -1 unknown */
	int64_t dns_us, connect_us, tls_us, first_byte_us, total_us;
	/* the last response's headers, in order (none without an answer) */
	const struct wg_httpc_header *resp_headers;
	size_t nresp_headers;
	/* req->download's: the bytes given to it and their SHA-256 */
	uint64_t download_len;
	unsigned char download_sha256[32];
};

/*
 * An observer of every exchange, answered or failed, called before
 * wg_httpc_do returns (the agent's crash-test hook, its HTTP trace).
 * Observers are called newest first, each with its ctx.  Process-wide;
 * add them before any exchange starts.  Returns 0, or -1 when
 * WG_HTTPC_OBSERVERS_MAX are already there.
 */
#define WG_HTTPC_OBSERVERS_MAX 4
typedef void (*wg_httpc_observer_fn)(const struct wg_httpc_exchange *x,
    void *ctx);
int wg_httpc_add_observer(wg_httpc_observer_fn fn, void *ctx);

/*
 * Performs one exchange.  resp must be zeroed or from an earlier call (its
 * old body is freed).  Returns WG_OK when a response arrived (any status),
 * else a WG_E_NET_* code (a transport failure, or a response larger than
 * the cap), the upload callback's code, or WG_E_INTERNAL for a request
 * this module refuses to send (no method, a path not starting with '/',
 * CR or LF in a header), with resp->detail set and resp->body NULL.  The
 * caller frees resp with wg_httpc_resp_free().
 */
enum wg_err wg_httpc_do(struct wg_httpc *c, const struct wg_httpc_req *req,
    struct wg_httpc_resp *resp) __attribute__((warn_unused_result));

/*
 * wg_httpc_do with a JSON body (body may be NULL for none) and
 * Accept: application/json.  Same results as wg_httpc_do.
 */
enum wg_err wg_httpc_json(struct wg_httpc *c, const char *method,
    const char *path, const char *const *query, const json_t *body,
    struct wg_httpc_resp *resp) __attribute__((warn_unused_result));

/*
 * Parses the response body as one JSON object (strictly: duplicate keys
 * rejected, depth bounded).  On success *out is a new reference the caller
 * decrefs; else *out is NULL, why says what was wrong and the result is
 * WG_E_NET_PROTOCOL (the server's answer is not what the API promises).
 */
enum wg_err wg_httpc_resp_json(const struct wg_httpc_resp *resp,
    json_t **out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * Reads the error of a response whose status is not 2xx into out: from the
 * whiteglove error body when there is one, otherwise (a proxy's page, an
 * empty body) from the status.  out->err is the catalog entry the body's
 * code names, else one chosen by the status (400, 401, 403, 404, 413,
 * 503 ...), else WG_E_NET_PROTOCOL; never WG_OK.
 */
void wg_httpc_resp_error(const struct wg_httpc_resp *resp,
    struct wg_httpc_error *out);

/* Frees (wiping: bodies may carry keys) the body; resp may be reused. */
void wg_httpc_resp_free(struct wg_httpc_resp *resp);

#endif
