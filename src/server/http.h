/*
 * The HTTP layer: libmicrohttpd with a thread pool, a small router over
 * per-service route tables, per-route body caps and auth levels, request
 * ids, JSON error bodies.  Only this layer maps catalog codes to statuses.
 */
#ifndef WG_HTTP_H
#define WG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/errors.h"
#include "store/store.h"

struct server;

enum http_method {
	HTTP_GET,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_METHOD_MAX
};

/* Services a server instance can host (DESIGN.md section 1). */
enum wg_service {
	WG_SVC_ADMIN,
	WG_SVC_REGISTRY,
	WG_SVC_ZTD,
	WG_SVC_EKCERT,
	WG_SVC_AIK,
	WG_SVC_DRS,
	WG_SVC_TOKEN,
	WG_SVC_MDM,
	WG_SVC_MAX
};

/* Who may call a route. */
enum http_auth {
	HTTP_AUTH_NONE,	    /* public */
	HTTP_AUTH_OPERATOR, /* the operator key only */
	HTTP_AUTH_ADMIN,    /* a tenant admin key, or the operator naming a tenant */
};

#define HTTP_MAX_PARAMS 4

/* The authenticated caller of a request. */
struct http_caller {
	enum wg_key_role role;
	char key_id[37];
	char tenant_id[37]; /* empty for the operator */
};

struct http_req {
	enum http_method method;
	const char *path; /* without the query string */
	const char *params[HTTP_MAX_PARAMS]; /* {name} path segments */
	char request_id[37];
	const char *body;
	size_t body_len;
	struct http_caller caller; /* valid when the route needs auth */
	struct server *srv;
	struct store_conn *db; /* the thread's connection, when fetched */
	void *mhd_conn;	       /* for query arguments and headers */
	char why[512];	       /* message for the error body */
};

struct http_resp {
	int status;
	json_t *json; /* owned; serialized by the HTTP layer */
	char *text;   /* owned; alternative to json */
	size_t text_len; /* bytes of text if it is binary; 0: a string */
	const char *content_type;
	char location[256];
	int file_set;	 /* http_resp_file(): send file_fd instead */
	int file_fd;	 /* owned: the HTTP layer closes it */
	uint64_t file_size;
	int replayed; /* idem.c: a stored answer, sent again */
};

typedef enum wg_err (*http_handler)(struct http_req *req,
    struct http_resp *resp);

/*
 * A route that takes its body as it arrives instead of whole (for bodies
 * too large to hold, like a CSV import).  begin runs once the headers are
 * in and the caller is authenticated; data for each piece of the body;
 * end after the last.  free always runs, also when the client goes away.
 * A failure of begin or data is answered with its error body once the
 * rest of the body is dropped (or the connection is closed, if the client
 * goes on sending more than a megabyte).
 */
struct http_stream {
	enum wg_err (*begin)(struct http_req *req, void **state);
	enum wg_err (*data)(struct http_req *req, void *state, const char *buf,
	    size_t n);
	enum wg_err (*end)(struct http_req *req, void *state,
	    struct http_resp *resp);
	void (*free)(void *state);
};

struct http_route {
	enum http_method method;
	const char *pattern; /* "/admin/v1/apiKeys/{id}" */
	enum wg_service service;
	enum http_auth auth;
	size_t max_body; /* 0: no body accepted */
	http_handler handler;
	const struct http_stream *stream; /* instead of handler */
	const char *content_type; /* of the body; NULL: application/json */
};

/* A route with a whole-body handler (most routes). */
#define HTTP_ROUTE(m, pattern, svc, auth, max_body, handler) \
	{ (m), (pattern), (svc), (auth), (max_body), (handler), NULL, NULL }

/*
 * Records a failure: sets req->why from fmt and returns err, so a handler
 * can `return http_fail(req, WG_E_JSON_FIELD, "…", …);`.
 */
enum wg_err http_fail(struct http_req *req, enum wg_err err,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A query argument of the request, or NULL; borrowed. */
const char *http_query(const struct http_req *req, const char *name);

/* A request header, or NULL; borrowed. */
const char *http_header(const struct http_req *req, const char *name);

/* Sets a JSON response (steals body). */
void http_resp_json(struct http_resp *resp, int status, json_t *body);

/*
 * Answers with the bytes of the open file fd (size bytes; fd is taken
 * over and closed by the HTTP layer, also if the handler then fails),
 * streamed from the file, as content_type.  A single `Range: bytes=N-`
 * or `bytes=N-M` (RFC 9110 section 14) is honoured: 206 with
 * Content-Range; WG_E_RANGE_NOT_SATISFIABLE (416, Content-Range
 * "bytes * /SIZE") when N is not within the file; any other Range header
 * is refused with WG_E_RANGE_INVALID (400).
 */
void http_resp_file(struct http_resp *resp, int fd, uint64_t size,
    const char *content_type);

/*
 * The thread's database connection for this request (cached in req).
 * WG_E_DB_UNAVAILABLE when the database cannot be reached.
 */
enum wg_err http_db(struct http_req *req, struct store_conn **out)
    __attribute__((warn_unused_result));

/*
 * Resolves the tenant an admin request acts on: a tenant admin's own
 * tenant (a different ?tenantId= is "not found"), or for the operator the
 * ?tenantId= it names (which must exist).  Writes 37 bytes to out.
 */
enum wg_err http_scope_tenant(struct http_req *req, char out[37])
    __attribute__((warn_unused_result));

/* "GET", "POST", … */
const char *http_method_name(enum http_method m);

/* Service name ("admin") and parsing of "admin,ztd" lists. */
const char *wg_service_name(enum wg_service s);
int wg_service_parse_list(const char *list, unsigned *mask, char *why,
    size_t whylen);

/* Limits and options of the listener. */
struct http_options {
	const char *listen_host;
	const char *listen_port;
	const char *tls_cert_pem; /* NULL: plain HTTP */
	const char *tls_key_pem;
	unsigned threads;
	unsigned conn_limit;
	size_t conn_memory;
	unsigned conn_timeout_s;
};

/*
 * Starts listening with the route tables of every enabled service.
 * WG_E_LISTEN if the address cannot be bound.
 */
enum wg_err http_start(struct server *srv, const struct http_options *opt)
    __attribute__((warn_unused_result));

/*
 * Stops accepting connections, answers new requests on open connections
 * with 503 WG_E_SHUTTING_DOWN, waits up to timeout_ms for requests in
 * flight to finish, then stops the daemon.  Returns the number of requests
 * still in flight when it gave up (0: drained cleanly).
 */
unsigned http_drain_and_stop(struct server *srv, int64_t timeout_ms);

/* The port actually bound (useful with port 0). */
unsigned http_bound_port(const struct server *srv);

#endif
