/*
 * The network check's steps (diag_network.h).  DNS is getaddrinfo_a(),
 * waited for with gai_suspend() up to the timeout, so that a resolver
 * that does not answer cannot hang the check (glibc's own thread keeps
 * resolving; an unanswered request is cancelled, or left to it when it
 * cannot be).  TCP connect is a non-blocking socket and poll().  TLS and
 * HTTP go through httpc (libcurl), the TLS the agent itself uses: the
 * same trust (the pinned CA) and the same library's verdict, pinned to
 * the address the connect step reached; when curl refuses the server, a
 * second handshake without verification (nothing sent) reads the chain
 * so that OpenSSL here can say why: not signed by the pinned CA,
 * expired, or another name.
 */
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>


#include "agent/answer.h"
#include "agent/diag_network.h"
#include "agent/profile.h"
#include "common/httpc.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define CONNECT_ADDRS_MAX 4	/* addresses of a name tried to connect */

/* An endpoint's GET: what it asks and what the service answers. */
struct spec {
	const char *name, *what;
	const char *path;	/* on the server; NULL: from elsewhere */
	const char *query;	/* one "name=value", or NULL */
	long expect;		/* the service's answer to this GET */
	const char *answer;	/* that answer in words */
	const char *missing;	/* what a 404 of the path means */
};

/* The flow's order (docs/flow.md); no GET here changes anything. */
static const struct spec specs[] = {
	{ "ztd", "deployment service (profile)", "/ztd/v1/profile", NULL,
	    405, "served (POST only)", "the deployment service (ztd) is not "
	    "served at this URL: the device cannot acquire its profile" },
	{ "ekcert", "TPM manufacturer's EK certificate service", NULL, NULL,
	    404, "answers (no certificate for a made-up EK, as expected)",
	    "no EK certificate service at this URL: a firmware TPM gets no "
	    "EK certificate" },
	{ "aik", "attestation CA (GetCACaps)", "/aik/scep",
	    "operation=GetCACaps", 200, "GetCACaps answered", "GetCACaps 404: "
	    "no attestation CA at this URL (Windows logs event 86, "
	    "0x80190194): the aik service is off on the server or the URL is "
	    "wrong" },
	{ "drs-discovery", "registration discovery", NULL, NULL, 200,
	    "discovery document", "the registration service (drs) is not "
	    "served at this URL, or does not know the tenant" },
	{ "drs-enrollment", "device registration (join)",
	    "/EnrollmentServer/device/", NULL, 405, "served (POST only)",
	    "the registration service (drs) is not served at this URL: the "
	    "device cannot join" },
	{ "token", "token service", "/token", NULL, 405, "served (POST only)",
	    "the token service is not served at this URL: the device gets no "
	    "device token" },
	{ "mdm-discovery", "MDM discovery", "/mdm/v1/discovery", NULL, 200,
	    "discovery document", "the MDM service is not served at this URL: "
	    "the device cannot enroll" },
	{ "mdm-enrollment", "MDM enrollment", "/mdm/v1/enroll", NULL, 405,
	    "served (POST only)", "the MDM enrollment is not served at this "
	    "URL" },
	{ "content", "app content", "/mdm/v1/content/"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    NULL, 401, "served (needs the device token)", "the app content is "
	    "not served at this URL: device setup cannot download apps" },
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* A URL cut into what the steps use. */
struct url {
	int tls;
	char host[256];
	int port;
	char path[768];		/* "" or "/a/b", no trailing '/' */
};

/* The check's own state beside the result. */
struct run {
	const struct dn_opts *o;
	struct dn_result *res;
	struct url server;
	struct url target[NSPECS]; /* each endpoint's host and path */
	char query[NSPECS][64];
};

/* ---- URLs ---- */

static int
host_ok(const char *h)
{
	for (; *h != '\0'; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		    (*h >= '0' && *h <= '9') || *h == '.' || *h == '-' ||
		    *h == '_' || *h == ':'))
			return 0;
	return 1;
}

/* http(s)://host[:port][/path], no query or fragment; 0 or -1. */
static int
url_parse(const char *s, struct url *u)
{
	const char *p, *h;
	size_t n;
	long port;
	char *end;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "https://", 8) == 0) {
		u->tls = 1;
		p = s + 8;
	} else if (strncmp(s, "http://", 7) == 0) {
		p = s + 7;
	} else {
		return -1;
	}
	if (*p == '[') {
		h = p + 1;
		if ((p = strchr(h, ']')) == NULL)
			return -1;
		n = (size_t)(p++ - h);
	} else {
		h = p;
		n = strcspn(p, ":/?#");
		p += n;
	}
	if (n == 0 || n >= sizeof(u->host))
		return -1;
	memcpy(u->host, h, n);
	u->port = u->tls ? 443 : 80;
	if (*p == ':') {
		errno = 0;
		port = strtol(p + 1, &end, 10);
		if (end == p + 1 || errno != 0 || port < 1 || port > 65535)
			return -1;
		u->port = (int)port;
		p = end;
	}
	if ((*p != '\0' && *p != '/') || strpbrk(p, "?# \t") != NULL ||
	    !host_ok(u->host) || !wg_str_printable(p))
		return -1;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n >= sizeof(u->path))
		return -1;
	memcpy(u->path, p, n);
	return 0;
}

/* "host:port", with brackets around an IPv6 address. */
static void
hostport(const char *host, int port, char *out, size_t outlen)
{
	snprintf(out, outlen, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
	    port);
}

int
dn_is_ip_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

/* The transport of u's host:port, made on first use. */
static struct dn_transport *
transport_get(struct dn_result *res, const struct url *u)
{
	struct dn_transport *t;
	size_t i;

	for (i = 0; i < res->ntr; i++) {
		t = &res->tr[i];
		if (strcmp(t->host, u->host) == 0 && t->port == u->port &&
		    t->tls == u->tls)
			return t;
	}
	t = &res->tr[res->ntr++]; /* at most one per endpoint */
	memset(t, 0, sizeof(*t));
	snprintf(t->host, sizeof(t->host), "%s", u->host);
	t->port = u->port;
	t->tls = u->tls;
	hostport(u->host, u->port, t->hostport, sizeof(t->hostport));
	return t;
}

/* A monotonic clock in microseconds: loopback connects take less than 1 ms. */
static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- DNS ---- */

/*
 * getaddrinfo_a() for t, waited for at most timeout_ms.  Returns 0 with
 * *out (freeaddrinfo), an EAI_* code, or EAI_INPROGRESS for no answer in
 * time.
 */
static int
dns_lookup(const struct dn_transport *t, long timeout_ms,
    struct addrinfo **out)
{
	struct gaicb *cb = xcalloc(1, sizeof(*cb)), *list[1] = { cb };
	struct addrinfo *hints = xcalloc(1, sizeof(*hints));
	int64_t end = wg_mono_ms() + timeout_ms, left;
	struct timespec ts;
	int rc, c;

	*out = NULL;
	hints->ai_family = AF_UNSPEC;
	hints->ai_socktype = SOCK_STREAM;
	cb->ar_name = xstrdup(t->host);
	cb->ar_service = xasprintf("%d", t->port);
	cb->ar_request = hints;
	if ((rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0)
		goto done;
	while ((rc = gai_error(cb)) == EAI_INPROGRESS &&
	    (left = end - wg_mono_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000L;
		(void)gai_suspend((const struct gaicb *const *)list, 1, &ts);
	}
	if (rc == EAI_INPROGRESS) {
		if ((c = gai_cancel(cb)) == EAI_ALLDONE)
			rc = gai_error(cb);
		else if (c != EAI_CANCELED)
			return EAI_INPROGRESS; /* still glibc's: left to it */
	}
	if (rc == 0) {
		*out = cb->ar_result;
		cb->ar_result = NULL;
	}
done:
	if (cb->ar_result != NULL)
		freeaddrinfo(cb->ar_result);
	free((char *)cb->ar_name);
	free((char *)cb->ar_service);
	free(hints);
	free(cb);
	return rc;
}

void
dn_check_fail(struct dn_check *c, const char *fmt, ...)
{
	va_list ap;

	c->state = DN_FAIL;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

static void
addr_text(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
	if (getnameinfo(sa, len, out, outlen, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, outlen, "?");
}

/* DNS of t: its addresses (kept in t), or why not. */
static struct addrinfo *
step_dns(struct dn_transport *t, long timeout_ms)
{
	struct dn_check *c = &t->step[DN_DNS];
	struct addrinfo *ai = NULL, *a;
	int64_t t0 = mono_us();
	size_t len = 0;
	int rc;

	rc = dns_lookup(t, timeout_ms, &ai);
	c->us = (long)(mono_us() - t0);
	if (rc != 0) {
		t->err = WG_E_NET_DNS;
		if (rc == EAI_NONAME)
			dn_check_fail(c, "DNS: name not found (%s)", t->host);
		else if (rc == EAI_NODATA)
			dn_check_fail(c, "DNS: %s has no address", t->host);
		else if (rc == EAI_AGAIN)
			dn_check_fail(c, "DNS: no DNS server answered for %s "
			    "(temporary failure)", t->host);
		else if (rc == EAI_INPROGRESS)
			dn_check_fail(c, "DNS: no answer for %s within %ld s",
			    t->host, timeout_ms / 1000);
		else
			dn_check_fail(c, "DNS: %s: %s", t->host, gai_strerror(rc));
		return NULL;
	}
	for (a = ai; a != NULL && t->naddrs < DN_ADDRS_MAX; a = a->ai_next) {
		addr_text(a->ai_addr, a->ai_addrlen, t->addrs[t->naddrs],
		    sizeof(t->addrs[0]));
		len += (size_t)snprintf(c->text + len, len < sizeof(c->text) ?
		    sizeof(c->text) - len : 0, "%s%s", t->naddrs ? ", " : "",
		    t->addrs[t->naddrs]);
		if (len >= sizeof(c->text))
			len = sizeof(c->text) - 1;
		t->naddrs++;
	}
	c->state = DN_PASS;
	return ai;
}

/* ---- TCP connect ---- */

/* One address: 0, or the errno (ETIMEDOUT when poll gave up). */
static int
connect_one(const struct addrinfo *a, long timeout_ms)
{
	int64_t end = wg_mono_ms() + timeout_ms, left;
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0, n;

	fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, a->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
		err = errno;
		while (err == EINPROGRESS || err == EINTR) {
			if ((left = end - wg_mono_ms()) <= 0) {
				err = ETIMEDOUT;
				break;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			n = poll(&pfd, 1, (int)left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				err = ETIMEDOUT;
			else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &err, &len) != 0)
				err = errno;
			break;
		}
	}
	close(fd);
	return err;
}

/* Connect to t's addresses in order until one answers. */
static void
step_connect(struct dn_transport *t, const struct addrinfo *ai,
    long timeout_ms)
{
	struct dn_check *c = &t->step[DN_CONNECT];
	const struct addrinfo *a;
	char addr[64] = "";
	int64_t t0;
	int err = 0, tried = 0;

	for (a = ai; a != NULL && tried < CONNECT_ADDRS_MAX; a = a->ai_next,
	    tried++) {
		addr_text(a->ai_addr, a->ai_addrlen, addr, sizeof(addr));
		t0 = mono_us();
		err = connect_one(a, timeout_ms);
		c->us = (long)(mono_us() - t0);
		if (err == 0) {
			c->state = DN_PASS;
			snprintf(t->used, sizeof(t->used), "%s", addr);
			snprintf(c->text, sizeof(c->text), "%s", addr);
			return;
		}
	}
	t->err = err == ETIMEDOUT ? WG_E_NET_TIMEOUT : WG_E_NET_CONNECT;
	if (err == ECONNREFUSED)
		dn_check_fail(c, "connect: refused by %s port %d (nothing listens "
		    "there, or a firewall rejects it)", addr, t->port);
	else if (err == ETIMEDOUT)
		dn_check_fail(c, "connect: no answer from %s port %d within %ld s "
		    "(a firewall dropping the packets?)", addr, t->port,
		    timeout_ms / 1000);
	else if (err == ENETUNREACH || err == EHOSTUNREACH)
		dn_check_fail(c, "connect: %s is unreachable (no route)", addr);
	else
		dn_check_fail(c, "connect: %s port %d: %s", addr, t->port,
		    strerror(err));
}

/* DNS, connect, TLS of t, once; 0 when all passed (or warned). */
static int
transport_check(struct dn_transport *t, const struct dn_opts *o)
{
	struct addrinfo *ai;
	int i;

	if (t->step[DN_DNS].state == DN_NOT_RUN) {
		if ((ai = step_dns(t, o->timeout_ms)) != NULL) {
			step_connect(t, ai, o->timeout_ms);
			freeaddrinfo(ai);
			if (t->step[DN_CONNECT].state == DN_PASS)
				dn_step_tls(t, o);
		}
	}
	for (i = 0; i < DN_HTTP; i++)
		if (t->step[i].state == DN_FAIL)
			return -1;
	return 0;
}

/* ---- HTTP ---- */

/* An answer that is not the service's: the failure in words. */
static void
http_failed(struct dn_endpoint *e, const struct spec *s,
    const struct wg_httpc_resp *resp)
{
	struct wg_httpc_error he;
	int ours;

	wg_httpc_resp_error(resp, &he);
	ours = resp->body != NULL && strstr(resp->body, "\"error\"") != NULL;
	e->err = he.err;
	if (resp->status == 404 && (!ours || he.err == WG_E_ROUTE_NOT_FOUND)) {
		e->err = WG_E_HTTP_NOT_FOUND;
		dn_check_fail(&e->http, "HTTP 404: %s", s->missing);
	} else if (resp->status == 404) {
		e->err = WG_E_HTTP_NOT_FOUND;
		dn_check_fail(&e->http, "HTTP 404 %s: %s (%s)", he.name,
		    he.message, s->missing);
	} else if (resp->status >= 500) {
		dn_check_fail(&e->http, "HTTP %ld %s: the service is in trouble: "
		    "%s", resp->status, he.name, he.message);
	} else if (resp->status >= 200 && resp->status < 300) {
		e->err = WG_E_NET_PROTOCOL;
		dn_check_fail(&e->http, "HTTP %ld where the service answers %ld: "
		    "something else answers at this URL (a proxy or a captive "
		    "portal?)", resp->status, s->expect);
	} else {
		dn_check_fail(&e->http, "HTTP %ld %s: %s (the service answers "
		    "%ld here)", resp->status, he.name, he.message, s->expect);
	}
}

/* Whether the answer is the service's. */
static int
http_expected(const struct spec *s, const struct wg_httpc_resp *resp)
{
	struct wg_httpc_error he;

	if (strcmp(s->name, "ekcert") == 0) {
		/* a manufacturer's own service: any answer about the EK */
		if (resp->status == 200 || resp->status == 400)
			return 1;
		if (resp->status != 404)
			return 0;
		wg_httpc_resp_error(resp, &he);
		return he.err != WG_E_ROUTE_NOT_FOUND;
	}
	return resp->status == s->expect;
}

/* A discovery document: the later endpoints' URLs from it. */
static void
discovered(struct run *r, size_t i, const struct wg_httpc_resp *resp);

/* The GET of endpoint i, on its transport that passed. */
static void
step_http(struct run *r, size_t i)
{
	struct dn_endpoint *e = &r->res->ep[i];
	const struct spec *s = &specs[i];
	const char *q[3] = { NULL, NULL, NULL };
	char qbuf[64], *eq;
	static const struct wg_httpc_header accept = { "Accept",
		"application/json" };
	struct wg_httpc_probe p = { 0 };
	struct wg_httpc_req req = { .method = "GET", .headers = &accept,
	    .nheaders = 1, .probe = &p };
	struct wg_httpc_resp resp = { 0 };
	enum wg_err rc;

	req.path = r->target[i].path;
	if (r->query[i][0] != '\0') {
		snprintf(qbuf, sizeof(qbuf), "%s", r->query[i]);
		if ((eq = strchr(qbuf, '=')) != NULL) {
			*eq = '\0';
			q[0] = qbuf;
			q[1] = eq + 1;
			req.query = q;
		}
	}
	rc = dn_exchange(e->t, r->o, "", &req, &resp);
	e->http.us = p.total_us;
	e->status = resp.status;
	if (rc != WG_OK) {
		e->err = rc;
		dn_check_fail(&e->http, "HTTP: %s", resp.detail);
	} else if (!http_expected(s, &resp)) {
		http_failed(e, s, &resp);
	} else {
		e->http.state = DN_PASS;
		snprintf(e->http.text, sizeof(e->http.text), "%ld %s",
		    resp.status, s->answer);
		discovered(r, i, &resp);
	}
	wg_httpc_probe_free(&p);
	wg_httpc_resp_free(&resp);
}

/* ---- the endpoints ---- */

/* Endpoint i's URL from its target. */
static void
target_url(struct run *r, size_t i)
{
	const struct url *u = &r->target[i];
	char hp[272];

	hostport(u->host, u->port, hp, sizeof(hp));
	snprintf(r->res->ep[i].url, sizeof(r->res->ep[i].url), "%s://%s%s%s%s",
	    u->tls ? "https" : "http", hp, u->path, r->query[i][0] ? "?" : "",
	    r->query[i]);
}

/*
 * Points endpoint i at ep, a discovery document's path on the server
 * (as the agent uses it) or an absolute URL.
 */
static void
retarget(struct run *r, size_t i, const char *ep)
{
	struct url u;

	if (ep[0] == '/') {
		u = r->server;
		snprintf(u.path, sizeof(u.path), "%s%s", r->server.path, ep);
	} else if (url_parse(ep, &u) != 0) {
		return; /* the parser took it: a URL; kept as documented */
	}
	r->target[i] = u;
	target_url(r, i);
}

static size_t
spec_index(const char *name)
{
	size_t i;

	for (i = 0; i < NSPECS; i++)
		if (strcmp(specs[i].name, name) == 0)
			return i;
	abort(); /* a name of this file's table */
}

static void
discovered(struct run *r, size_t i, const struct wg_httpc_resp *resp)
{
	struct dn_endpoint *e = &r->res->ep[i];
	struct discovery_answer da;
	struct mdm_discovery_answer ma;
	char why[256];

	if (strcmp(specs[i].name, "drs-discovery") == 0) {
		if (discovery_answer_parse(resp->body, resp->body_len, &da, why,
		    sizeof(why)) != WG_OK) {
			e->err = WG_E_NET_PROTOCOL;
			dn_check_fail(&e->http, "HTTP 200, but not a discovery "
			    "document: %s", why);
			return;
		}
		retarget(r, spec_index("drs-enrollment"), da.registration);
		retarget(r, spec_index("token"), da.token);
	} else if (strcmp(specs[i].name, "mdm-discovery") == 0) {
		if (mdm_discovery_answer_parse(resp->body, resp->body_len, &ma,
		    why, sizeof(why)) != WG_OK) {
			e->err = WG_E_NET_PROTOCOL;
			dn_check_fail(&e->http, "HTTP 200, but not an MDM discovery "
			    "document: %s", why);
			return;
		}
		retarget(r, spec_index("mdm-enrollment"), ma.enroll);
	}
}

/* The endpoints' first URLs: the server's paths, the EK service's. */
static enum wg_err
targets(struct run *r, char *why, size_t whylen)
{
	struct dn_result *res = r->res;
	struct profile_file pf;
	char pwhy[256];
	size_t i;

	if (url_parse(r->o->server, &r->server) != 0)
		return wg_fail(WG_E_CONFIG, why, whylen, "--server: '%.200s' "
		    "is not an http(s)://host[:port][/path] URL", r->o->server);
	if (profile_file_read(r->o->state_dir, &pf, pwhy, sizeof(pwhy)) ==
	    WG_OK) {
		memcpy(res->tenant_id, pf.tenant_id, sizeof(res->tenant_id));
		memcpy(res->correlation_id, pf.correlation_id,
		    sizeof(res->correlation_id));
	}
	for (i = 0; i < NSPECS; i++) {
		res->ep[i].name = specs[i].name;
		res->ep[i].what = specs[i].what;
		r->target[i] = r->server;
		if (specs[i].query != NULL)
			snprintf(r->query[i], sizeof(r->query[i]), "%s",
			    specs[i].query);
		if (specs[i].path != NULL)
			snprintf(r->target[i].path, sizeof(r->target[i].path),
			    "%s%s", r->server.path, specs[i].path);
	}
	res->n = NSPECS;
	i = spec_index("ekcert");
	res->ep[i].manufacturer = 1;
	if (r->o->ekcert_url != NULL && url_parse(r->o->ekcert_url,
	    &r->target[i]) != 0)
		return wg_fail(WG_E_CONFIG, why, whylen, "--ekcert-url: "
		    "'%.200s' is not an http(s)://host[:port][/path] URL",
		    r->o->ekcert_url);
	if (r->o->ekcert_url != NULL)
		/* Intel's lookup of a made-up EK-ID: 43 base64url, '=' */
		snprintf(r->target[i].path + strlen(r->target[i].path),
		    sizeof(r->target[i].path) - strlen(r->target[i].path),
		    "/%s%%3D", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	i = spec_index("drs-discovery");
	snprintf(r->target[i].path, sizeof(r->target[i].path),
	    "%.700s/%s/Discover", r->server.path, res->tenant_id[0] ?
	    res->tenant_id : "{tenant}");
	for (i = 0; i < NSPECS; i++)
		target_url(r, i);
	if (r->o->ekcert_url == NULL)
		res->ep[spec_index("ekcert")].url[0] = '\0';
	return WG_OK;
}

/* Why endpoint i is not checked, or NULL: it is. */
static const char *
skipped(const struct run *r, size_t i)
{
	if (strcmp(specs[i].name, "ekcert") == 0 && r->o->ekcert_url == NULL)
		return "not configured (ekcert-url): the device needs an EK "
		    "certificate in its TPM's NV";
	if (strcmp(specs[i].name, "drs-discovery") == 0 &&
	    r->res->tenant_id[0] == '\0')
		return "the tenant is not known yet (no profile in the state "
		    "directory: `whiteglove-agent profile` first); the join "
		    "and token endpoints are checked at their usual paths";
	return NULL;
}

/* The endpoint's verdict from its steps, the first failure first. */
static void
verdict(struct dn_endpoint *e)
{
	const struct dn_check *c[DN_STEP_MAX];
	int i;

	for (i = 0; i < DN_HTTP; i++)
		c[i] = &e->t->step[i];
	c[DN_HTTP] = &e->http;
	e->verdict = DN_PASS;
	for (i = 0; i < DN_STEP_MAX; i++)
		if (c[i]->state == DN_FAIL) {
			e->verdict = DN_FAIL;
			snprintf(e->reason, sizeof(e->reason), "%s", c[i]->text);
			if (i < DN_HTTP)
				e->err = e->t->err;
			return;
		}
	for (i = 0; i < DN_STEP_MAX; i++)
		if (c[i]->state == DN_WARN) {
			e->verdict = DN_WARN;
			snprintf(e->reason, sizeof(e->reason), "%s", c[i]->text);
			return;
		}
}

enum wg_err
diag_network_run(const struct dn_opts *o, struct dn_result *res, char *why,
    size_t whylen)
{
	struct run *r = xcalloc(1, sizeof(*r));
	struct dn_endpoint *e;
	const char *skip;
	enum wg_err rc;
	size_t i;

	memset(res, 0, sizeof(*res));
	r->o = o;
	r->res = res;
	if ((rc = targets(r, why, whylen)) != WG_OK)
		goto done;
	for (i = 0; i < res->n; i++) {
		e = &res->ep[i];
		if ((skip = skipped(r, i)) != NULL) {
			e->verdict = DN_SKIP;
			snprintf(e->reason, sizeof(e->reason), "%s", skip);
			continue;
		}
		e->t = transport_get(res, &r->target[i]);
		if (transport_check(e->t, o) == 0)
			step_http(r, i);
		verdict(e);
		res->failed += e->verdict == DN_FAIL;
	}
done:
	free(r);
	return rc;
}
