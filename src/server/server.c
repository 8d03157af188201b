/*
 * `whiteglove serve`: start, serve until SIGTERM, drain, exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "crypto/jose.h"
#include "server/server.h"
#include "wg_version.h"

#define MAX_NAMES 16

/* Splits "HOST:PORT" / "[V6]:PORT" / ":PORT" into host and port. */
static enum wg_err
split_listen(const char *listen, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char *colon, *p = listen;
	size_t n;

	if (*p == '[') {
		colon = strchr(p, ']');
		if (colon == NULL || colon[1] != ':')
			goto bad;
		n = (size_t)(colon - p - 1);
		p++;
		colon++;
	} else {
		colon = strrchr(p, ':');
		if (colon == NULL)
			goto bad;
		n = (size_t)(colon - p);
	}
	if (n >= hlen || strlen(colon + 1) == 0 || strlen(colon + 1) >= plen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad;
	memcpy(host, p, n);
	host[n] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return WG_OK;
bad:
	wg_error("--listen '%s' is not HOST:PORT or [IPV6]:PORT", listen);
	return WG_E_CONFIG;
}

/* Adds name to names unless present; names are borrowed or from pool. */
static void
add_name(const char **names, size_t *n, const char *name)
{
	size_t i;

	if (*n >= MAX_NAMES || name == NULL || name[0] == '\0')
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return;
	names[(*n)++] = name;
}

/*
 * The names the TLS certificate covers: the listen host (or this host's
 * name for a wildcard), the loopback names, and --tls-names.
 */
static size_t
cert_names(const struct server_config *cfg, const char *host,
    char *hostname, size_t hlen, char *extra, const char **names)
{
	size_t n = 0;
	char *tok, *save = NULL;

	if (strcmp(host, "") != 0 && strcmp(host, "0.0.0.0") != 0 &&
	    strcmp(host, "::") != 0)
		add_name(names, &n, host);
	else if (gethostname(hostname, hlen) == 0)
		add_name(names, &n, hostname);
	add_name(names, &n, "localhost");
	add_name(names, &n, "127.0.0.1");
	add_name(names, &n, "::1");
	if (cfg->tls_names != NULL) {
		snprintf(extra, 1024, "%s", cfg->tls_names);
		for (tok = strtok_r(extra, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			add_name(names, &n, tok);
	}
	return n;
}

static void
setup_logging(const struct server_config *cfg)
{
	enum wg_log_format f = WG_LOG_TEXT;
	enum wg_level l = WG_LEVEL_INFO;

	(void)wg_log_format_parse(cfg->log_format, &f);
	(void)wg_level_parse(cfg->log_level, &l);
	wg_log_setup(f, l);
}

/* Blocks until SIGTERM or SIGINT; the signals are blocked in all threads. */
static int
wait_for_signal(const sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

/* Imports this instance ran when it stopped will not go on: say so. */
static enum wg_err
interrupt_imports(struct server *srv)
{
	struct store_conn *c;
	enum wg_err rc;
	size_t n = 0;

	if ((rc = store_conn_get(srv->store, &c)) != WG_OK ||
	    (rc = store_import_interrupt_owner(c, srv->instance_id, &n)) !=
	    WG_OK)
		return rc;
	if (n > 0)
		wg_warn("%zu import(s) were running when this server stopped; "
		    "they are marked interrupted", n);
	return WG_OK;
}

int
server_run(const struct server_config *cfg)
{
	struct server srv = { 0 };
	struct http_options opt = { 0 };
	const char *names[MAX_NAMES];
	char host[256], port[8], hostname[256] = "", extra[1024], why[256];
	char *db = NULL, *cert_pem = NULL, *key_pem = NULL;
	sigset_t set;
	size_t nnames;
	unsigned left;
	int rc = 1;

	setup_logging(cfg);
	srv.cfg = cfg;
	if (wg_service_parse_list(cfg->services, &srv.services, why,
	    sizeof(why)) != 0) {
		wg_error("--services: %s", why);
		return 1;
	}
	if (split_listen(cfg->listen, host, sizeof(host), port,
	    sizeof(port)) != WG_OK)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit the mask */
	signal(SIGPIPE, SIG_IGN);

	nnames = cert_names(cfg, host, hostname, sizeof(hostname), extra,
	    names);
	if (state_tls_load(cfg->state_dir, names, nnames, &cert_pem,
	    &key_pem) != WG_OK)
		goto done;
	db = cfg->db ? xstrdup(cfg->db) :
	    xasprintf("sqlite:%s/whiteglove.db", cfg->state_dir);
	if (store_open(db, &srv.store) != WG_OK) {
		wg_error("cannot open the database; see the lines above");
		goto done;
	}
	if (state_attest_load(cfg, srv.services, &srv.cas) != WG_OK ||
	    state_token_load(cfg, srv.services, &srv.signer) != WG_OK ||
	    state_operator_key(cfg->state_dir, srv.store) != WG_OK ||
	    state_instance_id(cfg->state_dir, srv.instance_id) != WG_OK ||
	    interrupt_imports(&srv) != WG_OK)
		goto done;
	apps_content_sweep(cfg->state_dir);

	opt.listen_host = host;
	opt.listen_port = port;
	opt.tls_cert_pem = cfg->tls ? cert_pem : NULL;
	opt.tls_key_pem = cfg->tls ? key_pem : NULL;
	opt.threads = cfg->threads;
	opt.conn_limit = cfg->conn_limit;
	opt.conn_memory = cfg->conn_memory;
	opt.conn_timeout_s = cfg->conn_timeout_s;
	if (http_start(&srv, &opt) != WG_OK)
		goto done;
	wg_info("whiteglove %s listening on %s://%s%s%s:%u (database %s, "
	    "services %s)", WG_VERSION, cfg->tls ? "https" : "http",
	    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
	    http_bound_port(&srv), store_backend(srv.store), cfg->services);

	wg_info("received %s; draining requests in flight",
	    strsignal(wait_for_signal(&set)));
	left = http_drain_and_stop(&srv,
	    (int64_t)cfg->drain_timeout_s * 1000);
	if (left > 0)
		wg_warn("%u request(s) still in flight after %us; stopped "
		    "anyway", left, cfg->drain_timeout_s);
	else
		wg_info("drained; stopped");
	rc = 0;
done:
	state_attest_free(&srv.cas);
	jose_signer_free(srv.signer);
	store_close(srv.store);
	if (key_pem != NULL)
		xfree_secret(key_pem, strlen(key_pem));
	free(cert_pem);
	free(db);
	return rc;
}
