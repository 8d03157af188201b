/*
 * libmicrohttpd glue: request contexts, body collection under per-route
 * caps, routing, authentication, JSON error bodies, the access log and the
 * drain on shutdown.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/server.h"

/* Body cap for requests on unknown routes (the body is discarded). */
#define UNROUTED_BODY_MAX 4096
/* How much of a rejected body is read and dropped before hanging up. */
#define DISCARD_MAX (1024 * 1024)

static const char *const method_names[HTTP_METHOD_MAX] = {
	"GET", "POST", "PUT", "PATCH", "DELETE"
};

static const char *const service_names[WG_SVC_MAX] = {
	"admin", "registry", "ztd", "ekcert", "aik", "drs", "token", "mdm"
};

static const struct http_routes *const route_tables[] = {
	&health_routes,
	&admin_routes,
	&registry_routes,
	&devices_routes,
	&ekcert_routes,
	&aik_routes,
	&profiles_routes,
	&ztd_routes,
	&token_routes,
	&drs_routes,
	&mdm_routes,
	&apps_routes,
	&users_routes,
	&events_routes,
};

/* Per-request state, from the first callback to the completion notice. */
struct req_ctx {
	struct http_req req;
	const struct http_route *route;
	enum wg_err early; /* a failure found before the body was read */
	char *body;
	size_t body_len;
	size_t body_cap;
	char allow[64];
	int64_t start_ms;
	int64_t cpu_ns;	/* this thread's CPU in the request's callbacks */
	int status;
	int counted; /* counted in srv->inflight */
	int replayed; /* the answer is a stored one (idem.c) */
	void *stream_state; /* of ctx->route->stream */
	char params[HTTP_MAX_PARAMS][256];
	char content_range[96]; /* a 206's or 416's Content-Range */
};

const char *
http_method_name(enum http_method m)
{
	return (unsigned)m < HTTP_METHOD_MAX ? method_names[m] : "?";
}

const char *
wg_service_name(enum wg_service s)
{
	return (unsigned)s < WG_SVC_MAX ? service_names[s] : "core";
}

int
wg_service_parse_list(const char *list, unsigned *mask, char *why,
    size_t whylen)
{
	const char *p = list, *end;
	size_t n;
	int i, found;

	*mask = 0;
	if (strcmp(list, "all") == 0) {
		*mask = (1u << WG_SVC_MAX) - 1;
		return 0;
	}
	while (*p) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		found = 0;
		for (i = 0; i < WG_SVC_MAX; i++) {
			if (strlen(service_names[i]) == n &&
			    strncmp(service_names[i], p, n) == 0) {
				*mask |= 1u << i;
				found = 1;
			}
		}
		if (!found) {
			snprintf(why, whylen, "unknown service '%.*s' (known: "
			    "all, admin, registry, ztd, ekcert, aik, drs, token, "
			    "mdm)", (int)(n > 32 ? 32 : n), p);
			return -1;
		}
		p = end ? end + 1 : p + n;
	}
	return *mask ? 0 : -1;
}

enum wg_err
http_fail(struct http_req *req, enum wg_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->why, sizeof(req->why), fmt, ap);
	va_end(ap);
	return err;
}

const char *
http_query(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->mhd_conn,
	    MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->mhd_conn, MHD_HEADER_KIND,
	    name);
}

void
http_resp_json(struct http_resp *resp, int status, json_t *body)
{
	json_decref(resp->json);
	resp->status = status;
	resp->json = body;
}

enum wg_err
http_db(struct http_req *req, struct store_conn **out)
{
	enum wg_err rc;

	if (req->db == NULL) {
		rc = store_conn_get(req->srv->store, &req->db);
		if (rc != WG_OK) {
			*out = NULL;
			return http_fail(req, rc, "the database cannot be "
			    "reached; retry later");
		}
	}
	*out = req->db;
	return WG_OK;
}

enum wg_err
http_scope_tenant(struct http_req *req, char out[37])
{
	const char *want = http_query(req, "tenantId");
	struct store_conn *c;
	struct wg_tenant t;
	enum wg_err rc;

	out[0] = '\0';
	if (req->caller.role == WG_KEY_ADMIN) {
		if (want != NULL && strcmp(want, req->caller.tenant_id) != 0)
			return http_fail(req, WG_E_NOT_FOUND, "tenant not found");
		memcpy(out, req->caller.tenant_id, 37);
		return WG_OK;
	}
	if (want == NULL)
		return http_fail(req, WG_E_FORBIDDEN, "the operator key must "
		    "name the tenant with ?tenantId=ID");
	if (!wg_is_uuid(want))
		return http_fail(req, WG_E_NOT_FOUND, "tenant not found");
	if ((rc = http_db(req, &c)) != WG_OK)
		return rc;
	rc = store_tenant_get(c, want, &t);
	if (rc == WG_E_NOT_FOUND)
		return http_fail(req, rc, "tenant not found");
	if (rc != WG_OK)
		return http_fail(req, rc, "cannot read the tenant");
	memcpy(out, t.id, 37);
	return WG_OK;
}

static int
method_parse(const char *s, enum http_method *out)
{
	int i;

	for (i = 0; i < HTTP_METHOD_MAX; i++) {
		if (strcmp(s, method_names[i]) == 0) {
			*out = (enum http_method)i;
			return 0;
		}
	}
	return -1;
}

/* Matches path against pattern; {name} takes one non-empty segment. */
static int
route_match(const char *pattern, const char *path, struct req_ctx *ctx)
{
	const char *p = pattern, *q = path, *end;
	size_t n, np = 0;

	while (*p && *q) {
		if (*p == '{') {
			p = strchr(p, '}');
			if (p == NULL)
				return 0;
			p++;
			end = strchr(q, '/');
			n = end ? (size_t)(end - q) : strlen(q);
			if (n == 0 || n >= sizeof(ctx->params[0]) ||
			    np >= HTTP_MAX_PARAMS)
				return 0;
			memcpy(ctx->params[np], q, n);
			ctx->params[np][n] = '\0';
			ctx->req.params[np] = ctx->params[np];
			np++;
			q += n;
			continue;
		}
		if (*p != *q)
			return 0;
		p++;
		q++;
	}
	return *p == '\0' && *q == '\0';
}

/*
 * Finds the route for method and path among enabled services.  Returns
 * WG_E_ROUTE_NOT_FOUND or WG_E_METHOD_NOT_ALLOWED (ctx->allow filled).
 */
static enum wg_err
route_find(struct server *srv, struct req_ctx *ctx, const char *method,
    const char *path)
{
	const struct http_route *r;
	enum http_method m;
	int known = method_parse(method, &m) == 0, path_found = 0;
	size_t t, i;

	for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
		for (i = 0; i < route_tables[t]->n; i++) {
			r = &route_tables[t]->routes[i];
			if (r->service < WG_SVC_MAX &&
			    !(srv->services & (1u << r->service)))
				continue;
			if (!route_match(r->pattern, path, ctx))
				continue;
			if (known && r->method == m) {
				ctx->route = r;
				ctx->req.method = m;
				return WG_OK;
			}
			path_found = 1;
			if (strlen(ctx->allow) + 8 < sizeof(ctx->allow)) {
				if (ctx->allow[0])
					strncat(ctx->allow, ", ",
					    sizeof(ctx->allow) -
					    strlen(ctx->allow) - 1);
				strncat(ctx->allow, method_names[r->method],
				    sizeof(ctx->allow) - strlen(ctx->allow) - 1);
			}
		}
	}
	memset(ctx->req.params, 0, sizeof(ctx->req.params));
	if (path_found)
		return http_fail(&ctx->req, WG_E_METHOD_NOT_ALLOWED,
		    "%s is not allowed on this path (allowed: %s)",
		    known ? method : "this method", ctx->allow);
	return http_fail(&ctx->req, WG_E_ROUTE_NOT_FOUND,
	    "no endpoint at this path on this server");
}

/* Queues r (destroyed here) with the headers every answer has. */
static enum MHD_Result
queue_resp(struct req_ctx *ctx, struct MHD_Connection *conn, int status,
    struct MHD_Response *r, const char *ctype)
{
	enum MHD_Result ret;

	MHD_add_response_header(r, "X-Request-Id", ctx->req.request_id);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (ctx->replayed)
		MHD_add_response_header(r, "Idempotency-Replayed", "true");
	if (ctype != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == 405 && ctx->allow[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, ctx->allow);
	if (ctx->content_range[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE,
		    ctx->content_range);
	if (atomic_load(&ctx->req.srv->draining) || status == 413)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	if (status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"whiteglove\"");
	ctx->status = status;
	ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_body(struct req_ctx *ctx, struct MHD_Connection *conn, int status,
    char *body, size_t len, const char *ctype)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, body,
	    body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	return queue_resp(ctx, conn, status, r, body ? ctype : NULL);
}

void
http_resp_file(struct http_resp *resp, int fd, uint64_t size,
    const char *content_type)
{
	resp->status = 200;
	resp->file_set = 1;
	resp->file_fd = fd;
	resp->file_size = size;
	resp->content_type = content_type;
}

/* 1 if s is 1 to 19 decimal digits (so it fits a uint64_t) and *end. */
static int
range_num(const char *s, uint64_t *v, const char **end)
{
	size_t i;

	*v = 0;
	for (i = 0; isdigit((unsigned char)s[i]) && i < 19; i++)
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	*end = s + i;
	return i > 0 && !isdigit((unsigned char)s[i]);
}

/*
 * Range header h (RFC 9110 section 14.1.2) against size bytes: *ranged
 * 0 for no Range; 1 with [*first, *last] for "bytes=N-" or "bytes=N-M"
 * (M capped at the end).  WG_E_RANGE_NOT_SATISFIABLE if N is at or past
 * the end; WG_E_RANGE_INVALID for anything else (several ranges, suffix
 * ranges, another unit, garbage): refused rather than ignored, so a
 * client that resumes a download never appends a whole file to its
 * partial one.
 */
static enum wg_err
range_parse(struct http_req *req, const char *h, uint64_t size,
    int *ranged, uint64_t *first, uint64_t *last)
{
	uint64_t a, b = UINT64_MAX;
	const char *end;

	*ranged = 0;
	if (h == NULL)
		return WG_OK;
	if (strncmp(h, "bytes=", 6) != 0 || !range_num(h + 6, &a, &end) ||
	    *end != '-' || (end[1] != '\0' && (!range_num(end + 1, &b,
	    &end) || *end != '\0' || b < a)))
		return http_fail(req, WG_E_RANGE_INVALID, "Range must be one "
		    "range bytes=N- or bytes=N-M (M >= N)");
	if (a >= size)
		return http_fail(req, WG_E_RANGE_NOT_SATISFIABLE, "range "
		    "starts at byte %llu, the content has %llu bytes",
		    (unsigned long long)a, (unsigned long long)size);
	*ranged = 1;
	*first = a;
	*last = b < size - 1 ? b : size - 1;
	return WG_OK;
}

static enum MHD_Result send_error(struct req_ctx *ctx,
    struct MHD_Connection *conn, enum wg_err err);

/* Sends the file of http_resp_file(), whole or the range asked for. */
static enum MHD_Result
send_file(struct req_ctx *ctx, struct MHD_Connection *conn,
    struct http_resp *resp)
{
	uint64_t first = 0, last = 0, size = resp->file_size;
	struct MHD_Response *r = NULL;
	enum wg_err rc;
	int kind;

	rc = range_parse(&ctx->req, http_header(&ctx->req, "Range"), size,
	    &kind, &first, &last);
	resp->file_set = 0;
	if (rc != WG_OK) {
		close(resp->file_fd);
		if (rc == WG_E_RANGE_NOT_SATISFIABLE)
			snprintf(ctx->content_range, sizeof(ctx->content_range),
			    "bytes */%llu", (unsigned long long)size);
		return send_error(ctx, conn, rc);
	}
	if (kind == 1)
		snprintf(ctx->content_range, sizeof(ctx->content_range),
		    "bytes %llu-%llu/%llu", (unsigned long long)first,
		    (unsigned long long)last, (unsigned long long)size);
	if (size > 0)
		r = MHD_create_response_from_fd_at_offset64(kind == 1 ? last -
		    first + 1 : size, resp->file_fd, (int64_t)first);
	else
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	if (r == NULL || size == 0)
		close(resp->file_fd); /* else the response owns it */
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	return queue_resp(ctx, conn, kind == 1 ? 206 : 200, r,
	    resp->content_type);
}

/* The error body {"error":{code,name,message,requestId}}. */
static enum MHD_Result
send_error(struct req_ctx *ctx, struct MHD_Connection *conn, enum wg_err err)
{
	const struct wg_err_info *info = wg_err_info(err);
	char code[16];
	json_t *o;
	char *s;

	wg_err_code_str(err, code, sizeof(code));
	if (ctx->req.why[0] == '\0')
		snprintf(ctx->req.why, sizeof(ctx->req.why), "%s",
		    info->meaning);
	o = json_pack("{s:{s:s, s:s, s:s, s:s}}", "error", "code", code,
	    "name", info->name, "message", ctx->req.why, "requestId",
	    ctx->req.request_id);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (wg_err_http_status(err) >= 500)
		wg_error("%s %s failed: %s %s: %s",
		    http_method_name(ctx->req.method), ctx->req.path, code,
		    info->name, ctx->req.why);
	return send_body(ctx, conn, wg_err_http_status(err), s,
	    s ? strlen(s) : 0, "application/json");
}

static enum MHD_Result
send_resp(struct req_ctx *ctx, struct MHD_Connection *conn,
    struct http_resp *resp)
{
	char *s = NULL;

	if (resp->json != NULL) {
		s = json_dumps(resp->json, JSON_COMPACT);
		return send_body(ctx, conn, resp->status, s, s ? strlen(s) : 0,
		    "application/json");
	}
	if (resp->file_set)
		return send_file(ctx, conn, resp);
	if (resp->text != NULL) {
		s = resp->text;
		resp->text = NULL;
		return send_body(ctx, conn, resp->status, s, resp->text_len ?
		    resp->text_len : strlen(s), resp->content_type ?
		    resp->content_type : "text/plain");
	}
	return send_body(ctx, conn, resp->status ? resp->status : 204, NULL,
	    0, NULL);
}

/* Checks what can be checked from the headers alone. */
static enum wg_err
precheck(struct req_ctx *ctx, struct MHD_Connection *conn)
{
	const char *cl, *ct, *want;
	char *end;
	unsigned long long len;
	size_t n;

	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		errno = 0;
		len = strtoull(cl, &end, 10);
		if (errno == 0 && *end == '\0' && len > ctx->body_cap)
			return http_fail(&ctx->req, WG_E_BODY_TOO_LARGE,
			    "body of %llu bytes is over this endpoint's limit "
			    "of %zu bytes", len, ctx->body_cap);
	}
	if (ctx->route == NULL || ctx->route->max_body == 0)
		return WG_OK;
	want = ctx->route->content_type ? ctx->route->content_type :
	    "application/json";
	n = strlen(want);
	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ctx->route->method != HTTP_GET &&
	    ctx->route->method != HTTP_DELETE &&
	    (ct == NULL || strncasecmp(ct, want, n) != 0 ||
	    (ct[n] != '\0' && ct[n] != ';')))
		return http_fail(&ctx->req, WG_E_MEDIA_TYPE, "Content-Type "
		    "must be %s", want);
	return WG_OK;
}

/* Checks the caller's key before any of the body is read. */
static enum wg_err
authenticate(struct req_ctx *ctx)
{
	struct http_req *req = &ctx->req;
	struct store_conn *db;
	enum wg_err rc;

	if (ctx->route->auth == HTTP_AUTH_NONE)
		return WG_OK;
	if ((rc = http_db(req, &db)) != WG_OK)
		return rc;
	rc = auth_check(db, http_header(req, "Authorization"), &req->caller,
	    req->why, sizeof(req->why));
	if (rc != WG_OK)
		return rc;
	if (ctx->route->auth == HTTP_AUTH_OPERATOR &&
	    req->caller.role != WG_KEY_OPERATOR)
		return http_fail(req, WG_E_FORBIDDEN, "this endpoint needs "
		    "the operator key");
	return WG_OK;
}

static struct req_ctx *
ctx_new(struct server *srv, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	struct req_ctx *ctx = xcalloc(1, sizeof(*ctx));

	ctx->req.srv = srv;
	ctx->req.mhd_conn = conn;
	ctx->req.path = url;
	wg_uuid(ctx->req.request_id);
	ctx->start_ms = wg_mono_ms();
	wg_log_set_request_id(ctx->req.request_id);
	if (method_parse(method, &ctx->req.method) != 0)
		ctx->req.method = HTTP_GET; /* only for the log line */
	if (atomic_load(&srv->draining)) {
		ctx->early = http_fail(&ctx->req, WG_E_SHUTTING_DOWN,
		    "the server is shutting down; retry");
		ctx->body_cap = UNROUTED_BODY_MAX;
		return ctx;
	}
	ctx->counted = 1;
	atomic_fetch_add(&srv->inflight, 1);
	ctx->early = route_find(srv, ctx, method, url);
	ctx->body_cap = ctx->route ? ctx->route->max_body : UNROUTED_BODY_MAX;
	if (ctx->early == WG_OK)
		ctx->early = precheck(ctx, conn);
	else
		(void)precheck(ctx, conn);
	if (ctx->early == WG_OK)
		ctx->early = authenticate(ctx);
	if (ctx->early == WG_OK && ctx->route->stream != NULL)
		ctx->early = ctx->route->stream->begin(&ctx->req,
		    &ctx->stream_state);
	return ctx;
}

/* Runs the route's handler on the complete request (or ends its stream). */
static enum MHD_Result
dispatch(struct req_ctx *ctx, struct MHD_Connection *conn)
{
	struct http_req *req = &ctx->req;
	struct http_resp resp = { 0 };
	enum MHD_Result ret;
	enum wg_err rc;

	req->body = ctx->body ? ctx->body : "";
	req->body_len = ctx->body_len;
	if (ctx->route->stream != NULL)
		rc = ctx->route->stream->end(req, ctx->stream_state, &resp);
	else
		rc = ctx->route->handler(req, &resp);
	if (req->db != NULL)
		store_rollback(req->db); /* no-op unless a handler left a tx */
	if (rc != WG_OK)
		goto fail;
	ctx->replayed = resp.replayed;
	ret = send_resp(ctx, conn, &resp);
	json_decref(resp.json);
	free(resp.text);
	return ret;
fail:
	json_decref(resp.json);
	free(resp.text);
	if (resp.file_set)
		close(resp.file_fd);
	return send_error(ctx, conn, rc);
}

/* This thread's CPU time in ns (0 if the clock cannot be read). */
static int64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static enum MHD_Result on_request_timed(struct server *srv,
    struct MHD_Connection *conn, const char *url, const char *method,
    const char *upload_data, size_t *upload_data_size, void **con_cls);

/*
 * MHD's request callback: on_request_timed, with the CPU time this thread
 * spends in it added to the request's (the access log's cpu=): what
 * parsing, the handler and the database cost, not the TLS records or the
 * connection's other requests.
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	int64_t t0 = thread_cpu_ns();
	enum MHD_Result ret;
	struct req_ctx *ctx;

	(void)version;
	ret = on_request_timed(cls, conn, url, method, upload_data,
	    upload_data_size, con_cls);
	if ((ctx = *con_cls) != NULL)
		ctx->cpu_ns += thread_cpu_ns() - t0;
	return ret;
}

static enum MHD_Result
on_request_timed(struct server *srv, struct MHD_Connection *conn,
    const char *url, const char *method, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct req_ctx *ctx = *con_cls;
	enum MHD_Result ret;
	size_t n = *upload_data_size;

	if (ctx == NULL) {
		ctx = ctx_new(srv, conn, url, method);
		*con_cls = ctx;
		wg_log_set_request_id(NULL);
		/* Refused before its body: answered without reading it. */
		if (ctx->early != WG_OK)
			return send_error(ctx, conn, ctx->early);
		return MHD_YES;
	}
	wg_log_set_request_id(ctx->req.request_id);
	if (ctx->status != 0) {
		/* Answered early: the rest of the body is discarded. */
		*upload_data_size = 0;
		ret = MHD_YES;
		goto out;
	}
	if (n > 0) {
		*upload_data_size = 0;
		if (ctx->early == WG_OK && n > ctx->body_cap - ctx->body_len)
			ctx->early = http_fail(&ctx->req, WG_E_BODY_TOO_LARGE,
			    "body is over this endpoint's limit of %zu bytes",
			    ctx->body_cap);
		if (ctx->early == WG_OK && ctx->route->stream != NULL) {
			ctx->early = ctx->route->stream->data(&ctx->req,
			    ctx->stream_state, upload_data, n);
			if (ctx->early != WG_OK)
				ctx->body_cap = ctx->body_len; /* drop the rest */
		} else if (ctx->early == WG_OK) {
			if (ctx->body == NULL)
				ctx->body = xmalloc(ctx->body_cap + 1);
			memcpy(ctx->body + ctx->body_len, upload_data, n);
			ctx->body[ctx->body_len + n] = '\0';
		}
		/*
		 * A rejected body is read and dropped so the client gets
		 * its error (libmicrohttpd answers only once the body is
		 * in), but not forever: past DISCARD_MAX we hang up.
		 */
		ctx->body_len += n;
		if (ctx->body_len > ctx->body_cap + DISCARD_MAX) {
			wg_warn("closing a connection that keeps sending a "
			    "rejected body");
			ret = MHD_NO;
			goto out;
		}
		ret = MHD_YES;
		goto out;
	}
	if (ctx->early != WG_OK)
		ret = send_error(ctx, conn, ctx->early);
	else
		ret = dispatch(ctx, conn);
out:
	wg_log_set_request_id(NULL);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req_ctx *ctx = *con_cls;
	char path[160];

	if (ctx == NULL)
		return;
	wg_escape_log(ctx->req.path, strlen(ctx->req.path), path,
	    sizeof(path));
	wg_log_set_request_id(ctx->req.request_id);
	wg_info("%s %s %d %lldms cpu=%lldus%s",
	    http_method_name(ctx->req.method), path, ctx->status,
	    (long long)(wg_mono_ms() - ctx->start_ms),
	    (long long)(ctx->cpu_ns / 1000),
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	wg_log_set_request_id(NULL);
	if (ctx->route != NULL && ctx->route->stream != NULL &&
	    ctx->stream_state != NULL)
		ctx->route->stream->free(ctx->stream_state);
	if (ctx->counted)
		atomic_fetch_sub(&srv->inflight, 1);
	/*
	 * Bodies carry passwords, tokens and proofs: wiped, not just freed.
	 * The buffer holds body_cap bytes; body_len also counts the bytes of
	 * a refused body that were read and dropped.
	 */
	if (ctx->body != NULL)
		xfree_secret(ctx->body, ctx->body_len < ctx->body_cap ?
		    ctx->body_len : ctx->body_cap);
	free(ctx);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	wg_debug("http: %s", msg);
}

static enum wg_err
resolve_listen(const struct http_options *opt, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	int e;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	e = getaddrinfo(opt->listen_host[0] ? opt->listen_host : NULL,
	    opt->listen_port, &hints, &ai);
	if (e != 0 || ai == NULL) {
		wg_error("cannot resolve listen address %s:%s: %s",
		    opt->listen_host, opt->listen_port, gai_strerror(e));
		return WG_E_LISTEN;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return WG_OK;
}

enum wg_err
http_start(struct server *srv, const struct http_options *opt)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	/*
	 * poll(), not epoll: with a thread pool, libmicrohttpd 0.9.7x's
	 * MHD_quiesce_daemon races a worker removing the listen socket
	 * from its epoll set and aborts the process ("Failed to remove
	 * listen FD from epoll set") during a drain.
	 */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;
	socklen_t sslen;
	enum wg_err rc;

	if ((rc = resolve_listen(opt, &ss, &sslen)) != WG_OK)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (opt->tls_cert_pem != NULL)
		flags |= MHD_USE_TLS;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, opt->threads,
	    MHD_OPTION_CONNECTION_LIMIT, opt->conn_limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, opt->conn_memory,
	    MHD_OPTION_CONNECTION_TIMEOUT, opt->conn_timeout_s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    opt->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    opt->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, opt->tls_key_pem,
	    MHD_OPTION_END);
	if (d == NULL) {
		wg_error("cannot listen on %s:%s (in use, or not an address "
		    "of this host?)", opt->listen_host, opt->listen_port);
		return WG_E_LISTEN;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	srv->mhd = d;
	return WG_OK;
}

unsigned
http_bound_port(const struct server *srv)
{
	return srv->port;
}

unsigned
http_drain_and_stop(struct server *srv, int64_t timeout_ms)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int64_t deadline = wg_mono_ms() + timeout_ms;
	MHD_socket fd;
	unsigned left;

	atomic_store(&srv->draining, 1);
	if (srv->mhd == NULL)
		return 0;
	/* No new connections: quiesce hands the listen socket back to us. */
	fd = MHD_quiesce_daemon(srv->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	while ((left = atomic_load(&srv->inflight)) > 0 &&
	    wg_mono_ms() < deadline)
		nanosleep(&tick, NULL);
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	return left;
}
