/*
 * The HTTP client against a one-connection server on loopback (plain or
 * TLS, in a thread): what goes on the wire, what comes back, and that each
 * kind of failure becomes its catalog code.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/httpc.h"

enum srv_mode {
	SRV_REPLY,	/* read a request, send reply */
	SRV_SILENT,	/* accept, never answer */
	SRV_GARBAGE,	/* answer anything with bytes that are not TLS */
	SRV_TLS,	/* SRV_REPLY over TLS */
};

struct srv {
	enum srv_mode mode;
	const char *reply;
	SSL_CTX *tls;
	int lfd;
	unsigned short port;
	pthread_t thread;
	char req[65536];	/* what the client sent */
	size_t req_len;
	char url[64];
};

struct certs {
	char dir[64];
	char ca[96];		/* the server's self-signed certificate */
	char other[96];		/* a certificate of no relation to it */
	SSL_CTX *tls;
};

static struct certs certs;

#define REPLY_200 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
	"X-Request-Id: req-200\r\nContent-Length: 15\r\nConnection: close" \
	"\r\n\r\n{\"status\":\"ok\"}"

static ssize_t
srv_read(int fd, SSL *ssl, char *buf, size_t n)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (ssl != NULL && SSL_pending(ssl) == 0 && poll(&p, 1, 5000) != 1)
		return -1;
	if (ssl != NULL)
		return SSL_read(ssl, buf, (int)n);
	if (poll(&p, 1, 5000) != 1)
		return -1;
	return recv(fd, buf, n, 0);
}

/* Reads headers and, by Content-Length, the body into s->req. */
static void
srv_read_request(struct srv *s, int fd, SSL *ssl)
{
	const char *end, *cl;
	size_t need = 0;
	ssize_t n;

	for (;;) {
		end = memmem(s->req, s->req_len, "\r\n\r\n", 4);
		if (end != NULL) {
			cl = strcasestr(s->req, "\r\nContent-Length:");
			need = (size_t)(end + 4 - s->req);
			if (cl != NULL && cl < end)
				need += strtoul(cl + 17, NULL, 10);
			if (s->req_len >= need)
				return;
		}
		n = srv_read(fd, ssl, s->req + s->req_len,
		    sizeof(s->req) - 1 - s->req_len);
		if (n <= 0)
			return;
		s->req_len += (size_t)n;
		s->req[s->req_len] = '\0';
	}
}

static void
srv_session(struct srv *s, int fd)
{
	SSL *ssl = NULL;
	char buf[4096];

	if (s->mode == SRV_SILENT) {
		while (srv_read(fd, NULL, buf, sizeof(buf)) > 0)
			;
		return;
	}
	if (s->mode == SRV_GARBAGE) {
		(void)srv_read(fd, NULL, buf, sizeof(buf));
		(void)send(fd, "garbage\r\n\r\n", 11, MSG_NOSIGNAL);
		return;
	}
	if (s->mode == SRV_TLS) {
		ssl = SSL_new(s->tls);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			goto done;
	}
	srv_read_request(s, fd, ssl);
	if (ssl != NULL)
		SSL_write(ssl, s->reply, (int)strlen(s->reply));
	else
		(void)send(fd, s->reply, strlen(s->reply), MSG_NOSIGNAL);
done:
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	ERR_clear_error();
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd p = { s->lfd, POLLIN, 0 };
	int fd;

	if (poll(&p, 1, 5000) != 1 || (fd = accept(s->lfd, NULL, NULL)) < 0)
		return NULL;
	srv_session(s, fd);
	close(fd);
	return NULL;
}

/* A listening socket on a free loopback port, closed if !serve. */
static void
srv_start(struct srv *s, enum srv_mode mode, const char *reply, int serve)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->reply = reply;
	s->tls = certs.tls;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((s->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%u",
	    mode == SRV_TLS || mode == SRV_GARBAGE ? "https" : "http",
	    s->port);
	if (!serve) {
		close(s->lfd); /* nothing listens there now: refused */
		s->lfd = -1;
		return;
	}
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
}

static void
srv_stop(struct srv *s)
{
	if (s->lfd < 0)
		return;
	pthread_join(s->thread, NULL);
	close(s->lfd);
}

static struct wg_httpc *
client(const char *url, const char *ca, const char *bearer, size_t max)
{
	struct wg_httpc_opts o = { .base_url = url, .ca_file = ca,
		.bearer = bearer, .max_body = max, .timeout_ms = 3000 };
	struct wg_httpc *c = NULL;
	char why[256];

	assert_int_equal(wg_httpc_new(&o, &c, why, sizeof(why)), WG_OK);
	return c;
}

/* One GET of path against a fresh server; returns wg_httpc_do's code. */
static enum wg_err
get_once(enum srv_mode mode, const char *reply, const char *ca,
    size_t max, struct wg_httpc_resp *resp)
{
	struct wg_httpc_req req = { .method = "GET", .path = "/health" };
	struct wg_httpc *c;
	struct srv s;
	enum wg_err rc;

	srv_start(&s, mode, reply, 1);
	c = client(s.url, ca, NULL, max);
	rc = wg_httpc_do(c, &req, resp);
	wg_httpc_free(c);
	srv_stop(&s);
	return rc;
}

static void
test_wg_httpc_do_reads_status_body_request_id(void **state)
{
	struct wg_httpc_resp r = { 0 };

	assert_int_equal(get_once(SRV_REPLY, REPLY_200, NULL, 0, &r), WG_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	assert_int_equal(r.body_len, 15);
	assert_string_equal(r.request_id, "req-200");
	assert_string_equal(r.content_type, "application/json");
	wg_httpc_resp_free(&r);
	assert_null(r.body);
}

static void
test_wg_httpc_json_sends_bearer_body_query(void **state)
{
	static const char *const query[] = { "tenantId", "a b&c=d", NULL };
	struct wg_httpc_resp r = { 0 };
	struct wg_httpc *c;
	json_t *body = json_pack("{s:s}", "name", "ci");
	struct srv s;

	srv_start(&s, SRV_REPLY, REPLY_200, 1);
	c = client(s.url, NULL, "wgk.k.secret", 0);
	assert_int_equal(wg_httpc_json(c, "POST", "/admin/v1/apiKeys", query,
	    body, &r), WG_OK);
	wg_httpc_free(c);
	srv_stop(&s);
	/* The query value is encoded: '&' and '=' cannot add parameters. */
	assert_non_null(strstr(s.req, "POST /admin/v1/apiKeys?tenantId="
	    "a+b%26c%3dd HTTP/1.1\r\n"));
	assert_non_null(strstr(s.req, "\r\nAuthorization: Bearer "
	    "wgk.k.secret\r\n"));
	assert_non_null(strstr(s.req, "\r\nContent-Type: application/json"));
	assert_non_null(strstr(s.req, "\r\nAccept: application/json\r\n"));
	assert_null(strcasestr(s.req, "Expect:"));
	assert_non_null(strstr(s.req, "\r\n\r\n{\"name\":\"ci\"}"));
	json_decref(body);
	wg_httpc_resp_free(&r);
}

static void
test_wg_httpc_do_base_path_prefix(void **state)
{
	struct wg_httpc_req req = { .method = "DELETE",
		.path = "/admin/v1/apiKeys/a b?x" };
	struct wg_httpc_resp r = { 0 };
	struct wg_httpc *c;
	char url[96];
	struct srv s;

	srv_start(&s, SRV_REPLY, "HTTP/1.1 204 No Content\r\nX-Request-Id: "
	    "r-1\r\nConnection: close\r\n\r\n", 1);
	snprintf(url, sizeof(url), "%s/wg/", s.url);
	c = client(url, NULL, NULL, 0);
	assert_int_equal(wg_httpc_do(c, &req, &r), WG_OK);
	wg_httpc_free(c);
	srv_stop(&s);
	assert_int_equal(r.status, 204);
	assert_null(r.body);
	assert_string_equal(r.request_id, "r-1");
	/* Prefix kept, path encoded: no query smuggled in through it. */
	assert_non_null(strstr(s.req, "DELETE /wg/admin/v1/apiKeys/a%20b%3fx "
	    "HTTP/1.1\r\n"));
	assert_null(strstr(s.req, "Authorization"));
}

struct chunks {
	const char *const *parts;
	size_t next;
	enum wg_err fail;
};

static enum wg_err
read_chunks(void *ctx, char *buf, size_t cap, size_t *got)
{
	struct chunks *ch = ctx;
	size_t n;

	*got = 0;
	if (ch->parts[ch->next] == NULL)
		return ch->fail;
	n = strlen(ch->parts[ch->next]);
	assert_true(n <= cap);
	memcpy(buf, ch->parts[ch->next++], n);
	*got = n;
	return WG_OK;
}

static enum wg_err
upload(const char *const *parts, enum wg_err fail, int64_t len,
    struct srv *s)
{
	struct chunks ch = { parts, 0, fail };
	struct wg_httpc_req req = { .method = "PUT", .path = "/content",
		.content_type = "application/octet-stream",
		.upload = read_chunks, .upload_ctx = &ch, .upload_len = len };
	struct wg_httpc_resp r = { 0 };
	struct wg_httpc *c;
	enum wg_err rc;

	srv_start(s, SRV_REPLY, REPLY_200, 1);
	c = client(s->url, NULL, NULL, 0);
	rc = wg_httpc_do(c, &req, &r);
	wg_httpc_free(c);
	srv_stop(s);
	wg_httpc_resp_free(&r);
	return rc;
}

static void
test_wg_httpc_do_streams_upload(void **state)
{
	static const char *const parts[] = { "hello ", "world", NULL };
	struct srv s;

	assert_int_equal(upload(parts, WG_OK, 11, &s), WG_OK);
	assert_non_null(strstr(s.req, "PUT /content HTTP/1.1\r\n"));
	assert_non_null(strstr(s.req, "\r\nContent-Length: 11\r\n"));
	assert_non_null(strstr(s.req, "\r\n\r\nhello world"));
}

static void
test_wg_httpc_do_upload_error_aborts(void **state)
{
	static const char *const parts[] = { "hello ", NULL };
	struct srv s;

	assert_int_equal(upload(parts, WG_E_IO, 11, &s), WG_E_IO);
}

static void
test_wg_httpc_do_body_cap(void **state)
{
	static const char sized[] = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n"
	    "Connection: close\r\n\r\n0123456789012345678901234567890123456789";
	static const char unsized[] = "HTTP/1.1 200 OK\r\nConnection: close"
	    "\r\n\r\n0123456789012345678901234567890123456789";
	struct wg_httpc_resp r = { 0 };

	assert_int_equal(get_once(SRV_REPLY, sized, NULL, 16, &r),
	    WG_E_NET_PROTOCOL);
	assert_null(r.body);
	assert_int_equal(get_once(SRV_REPLY, unsized, NULL, 16, &r),
	    WG_E_NET_PROTOCOL);
	assert_null(r.body);
	assert_non_null(strstr(r.detail, "larger than 16 bytes"));
	/* Exactly at the cap is fine. */
	assert_int_equal(get_once(SRV_REPLY, unsized, NULL, 40, &r), WG_OK);
	assert_int_equal(r.body_len, 40);
	wg_httpc_resp_free(&r);
}

static void
test_wg_httpc_do_connect_refused(void **state)
{
	struct wg_httpc_req req = { .method = "GET", .path = "/health" };
	struct wg_httpc_resp r = { 0 };
	struct wg_httpc *c;
	struct srv s;

	srv_start(&s, SRV_REPLY, NULL, 0);
	c = client(s.url, NULL, NULL, 0);
	assert_int_equal(wg_httpc_do(c, &req, &r), WG_E_NET_CONNECT);
	assert_int_equal(r.status, 0);
	assert_true(r.detail[0] != '\0');
	wg_httpc_free(c);
}

static void
test_wg_httpc_do_timeout(void **state)
{
	struct wg_httpc_opts o = { .timeout_ms = 300 };
	struct wg_httpc_req req = { .method = "GET", .path = "/health" };
	struct wg_httpc_resp r = { 0 };
	struct wg_httpc *c = NULL;
	char why[128];
	struct srv s;

	srv_start(&s, SRV_SILENT, NULL, 1);
	o.base_url = s.url;
	assert_int_equal(wg_httpc_new(&o, &c, why, sizeof(why)), WG_OK);
	assert_int_equal(wg_httpc_do(c, &req, &r), WG_E_NET_TIMEOUT);
	wg_httpc_free(c); /* closes the connection: the server returns */
	srv_stop(&s);
}

static void
test_wg_httpc_do_tls_garbage(void **state)
{
	struct wg_httpc_resp r = { 0 };

	assert_int_equal(get_once(SRV_GARBAGE, NULL, certs.ca, 0, &r),
	    WG_E_NET_TLS);
}

static void
test_wg_httpc_do_pinned_ca_trusted(void **state)
{
	struct wg_httpc_resp r = { 0 };

	assert_int_equal(get_once(SRV_TLS, REPLY_200, certs.ca, 0, &r), WG_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.request_id, "req-200");
	wg_httpc_resp_free(&r);
}

static void
test_wg_httpc_do_other_ca_rejected(void **state)
{
	struct wg_httpc_resp r = { 0 };

	assert_int_equal(get_once(SRV_TLS, REPLY_200, certs.other, 0, &r),
	    WG_E_NET_TLS);
	assert_int_equal(r.status, 0);
	assert_true(r.detail[0] != '\0');
	/* Nor does the system store know this server's CA. */
	assert_int_equal(get_once(SRV_TLS, REPLY_200, NULL, 0, &r),
	    WG_E_NET_TLS);
}

static void
test_wg_httpc_do_dns_failure(void **state)
{
	struct wg_httpc_req req = { .method = "GET", .path = "/health" };
	struct wg_httpc_resp r = { 0 };
	struct wg_httpc *c;

	/* .invalid never resolves (RFC 6761). */
	c = client("https://whiteglove.invalid", NULL, NULL, 0);
	assert_int_equal(wg_httpc_do(c, &req, &r), WG_E_NET_DNS);
	wg_httpc_free(c);
}

static void
test_wg_httpc_do_rejects_header_injection(void **state)
{
	struct wg_httpc_header h = { "X-Note", "a\r\nX-Admin: yes" };
	struct wg_httpc_req req = { .method = "GET", .path = "/health",
		.headers = &h, .nheaders = 1 };
	struct wg_httpc_req nopath = { .method = "GET", .path = "health" };
	struct wg_httpc_resp r = { 0 };
	struct wg_httpc *c;

	/* Refused before connecting: nothing listens on port 9. */
	c = client("http://127.0.0.1:9", NULL, NULL, 0);
	assert_int_equal(wg_httpc_do(c, &req, &r), WG_E_INTERNAL);
	assert_int_equal(wg_httpc_do(c, &nopath, &r), WG_E_INTERNAL);
	wg_httpc_free(c);
}

static void
test_wg_httpc_new_rejects_bad_url(void **state)
{
	static const char *const bad[] = {
		"ftp://127.0.0.1/", "127.0.0.1:8443", "not a url", "",
		"https://h/?q=1", "https://h/#f", "file:///etc/passwd",
	};
	struct wg_httpc_opts o = { 0 };
	struct wg_httpc *c = (struct wg_httpc *)&o;
	char why[256];
	size_t i;

	assert_int_equal(wg_httpc_new(&o, &c, why, sizeof(why)), WG_E_CONFIG);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.base_url = bad[i];
		why[0] = '\0';
		if (wg_httpc_new(&o, &c, why, sizeof(why)) != WG_E_CONFIG)
			fail_msg("'%s' accepted as a base URL", bad[i]);
		assert_null(c);
		assert_true(why[0] != '\0');
	}
}

static void
test_wg_httpc_new_rejects_missing_ca(void **state)
{
	struct wg_httpc_opts o = { .base_url = "https://127.0.0.1:8443",
		.ca_file = "/nonexistent/ca.crt" };
	struct wg_httpc *c = NULL;
	char why[256];

	assert_int_equal(wg_httpc_new(&o, &c, why, sizeof(why)), WG_E_CONFIG);
	assert_null(c);
	assert_non_null(strstr(why, "/nonexistent/ca.crt"));
}

static void
set_body(struct wg_httpc_resp *r, long status, const char *body)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->body = body != NULL ? strdup(body) : NULL;
	r->body_len = body != NULL ? strlen(body) : 0;
}

static void
test_wg_httpc_resp_error_whiteglove_body(void **state)
{
	struct wg_httpc_resp r;
	struct wg_httpc_error e;

	set_body(&r, 401, "{\"error\":{\"code\":\"0xA0570009\",\"name\":"
	    "\"WG_E_AUTH_INVALID\",\"message\":\"the key \\\"x\\\" is "
	    "revoked\",\"requestId\":\"rid-1\"}}");
	wg_httpc_resp_error(&r, &e);
	assert_int_equal(e.err, WG_E_AUTH_INVALID);
	assert_string_equal(e.code, "0xA0570009");
	assert_string_equal(e.name, "WG_E_AUTH_INVALID");
	assert_string_equal(e.message, "the key \"x\" is revoked");
	assert_string_equal(e.request_id, "rid-1");
	wg_httpc_resp_free(&r);
	/* A code this client does not know: kept, err from the status. */
	set_body(&r, 404, "{\"error\":{\"code\":\"0xA0579999\",\"name\":"
	    "\"WG_E_NEWER\",\"message\":\"m\"}}");
	snprintf(r.request_id, sizeof(r.request_id), "hdr-1");
	wg_httpc_resp_error(&r, &e);
	assert_int_equal(e.err, WG_E_HTTP_NOT_FOUND);
	assert_string_equal(e.code, "0xA0579999");
	assert_string_equal(e.request_id, "hdr-1");
	wg_httpc_resp_free(&r);
}

static void
test_wg_httpc_resp_error_foreign_body(void **state)
{
	struct wg_httpc_resp r;
	struct wg_httpc_error e;

	set_body(&r, 502, "<html>Bad Gateway</html>");
	snprintf(r.content_type, sizeof(r.content_type), "text/html");
	wg_httpc_resp_error(&r, &e);
	assert_int_equal(e.err, WG_E_NET_PROTOCOL);
	assert_string_equal(e.name, "WG_E_NET_PROTOCOL");
	assert_non_null(strstr(e.message, "HTTP 502"));
	assert_non_null(strstr(e.message, "text/html"));
	wg_httpc_resp_free(&r);
	set_body(&r, 503, NULL);
	wg_httpc_resp_error(&r, &e);
	assert_int_equal(e.err, WG_E_SERVER_BUSY);
	assert_string_equal(e.code, "0xA057000E");
}

static void
test_wg_httpc_resp_error_escapes_terminal_codes(void **state)
{
	struct wg_httpc_resp r;
	struct wg_httpc_error e;

	set_body(&r, 400, "{\"error\":{\"code\":\"0xA0570003\",\"name\":"
	    "\"\\u001b]0;owned\\u0007\",\"message\":\"a\\u001b[2Jb\\nc\"}}");
	wg_httpc_resp_error(&r, &e);
	assert_int_equal(e.err, WG_E_JSON_FIELD);
	assert_null(strpbrk(e.message, "\x1b\n"));
	assert_null(strpbrk(e.name, "\x1b\x07"));
	assert_non_null(strstr(e.message, "\\x1b"));
	wg_httpc_resp_free(&r);
}

static void
test_wg_httpc_resp_json_strict(void **state)
{
	struct wg_httpc_resp r;
	json_t *o = NULL;
	char why[256];

	set_body(&r, 200, "{\"a\":1,\"a\":2}");
	assert_int_equal(wg_httpc_resp_json(&r, &o, why, sizeof(why)),
	    WG_E_NET_PROTOCOL);
	assert_null(o);
	wg_httpc_resp_free(&r);
	set_body(&r, 200, NULL);
	assert_int_equal(wg_httpc_resp_json(&r, &o, why, sizeof(why)),
	    WG_E_NET_PROTOCOL);
	set_body(&r, 200, "{\"value\":[]}");
	assert_int_equal(wg_httpc_resp_json(&r, &o, why, sizeof(why)), WG_OK);
	assert_true(json_is_array(json_object_get(o, "value")));
	json_decref(o);
	wg_httpc_resp_free(&r);
}

/* A self-signed certificate for 127.0.0.1, written to path as PEM. */
static void
make_cert(const char *path, EVP_PKEY **key_out, X509 **cert_out)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	FILE *f;

	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"whiteglove test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	    "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_non_null(f = fopen(path, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	*key_out = key;
	*cert_out = x;
}

static int
setup(void **state)
{
	EVP_PKEY *key, *other_key;
	X509 *cert, *other;

	/* A client that hangs up must not kill the server thread. */
	signal(SIGPIPE, SIG_IGN);
	/* The tests talk to loopback directly, whatever the environment. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	snprintf(certs.dir, sizeof(certs.dir), "/tmp/wg-test-httpc-XXXXXX");
	assert_non_null(mkdtemp(certs.dir));
	snprintf(certs.ca, sizeof(certs.ca), "%s/ca.pem", certs.dir);
	snprintf(certs.other, sizeof(certs.other), "%s/other.pem", certs.dir);
	make_cert(certs.ca, &key, &cert);
	make_cert(certs.other, &other_key, &other);
	certs.tls = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(certs.tls, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(certs.tls, key), 1);
	X509_free(cert);
	X509_free(other);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other_key);
	return 0;
}

static int
teardown(void **state)
{
	SSL_CTX_free(certs.tls);
	unlink(certs.ca);
	unlink(certs.other);
	rmdir(certs.dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg_httpc_do_reads_status_body_request_id),
		cmocka_unit_test(test_wg_httpc_json_sends_bearer_body_query),
		cmocka_unit_test(test_wg_httpc_do_base_path_prefix),
		cmocka_unit_test(test_wg_httpc_do_streams_upload),
		cmocka_unit_test(test_wg_httpc_do_upload_error_aborts),
		cmocka_unit_test(test_wg_httpc_do_body_cap),
		cmocka_unit_test(test_wg_httpc_do_connect_refused),
		cmocka_unit_test(test_wg_httpc_do_timeout),
		cmocka_unit_test(test_wg_httpc_do_tls_garbage),
		cmocka_unit_test(test_wg_httpc_do_pinned_ca_trusted),
		cmocka_unit_test(test_wg_httpc_do_other_ca_rejected),
		cmocka_unit_test(test_wg_httpc_do_dns_failure),
		cmocka_unit_test(test_wg_httpc_do_rejects_header_injection),
		cmocka_unit_test(test_wg_httpc_new_rejects_bad_url),
		cmocka_unit_test(test_wg_httpc_new_rejects_missing_ca),
		cmocka_unit_test(test_wg_httpc_resp_error_whiteglove_body),
		cmocka_unit_test(test_wg_httpc_resp_error_foreign_body),
		cmocka_unit_test(
		    test_wg_httpc_resp_error_escapes_terminal_codes),
		cmocka_unit_test(test_wg_httpc_resp_json_strict),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
