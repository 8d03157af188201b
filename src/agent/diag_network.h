/*
 * The network check (`whiteglove-agent diag network`): for every endpoint
 * the device needs -- from its configuration (the server, the TPM
 * manufacturer's EK certificate service) and from the discovery
 * documents (drs /{tenant}/Discover, mdm /mdm/v1/discovery) -- DNS, TCP
 * connect, TLS (the chain against the pinned CA, the expiry, the name)
 * and a harmless HTTP GET the service answers, each step's result in
 * words a person acts on, and the host:port pairs a firewall must allow.
 * docs/flow.md, "Network check".
 *
 * diag_network.c runs the checks (diag_network_tls.c the TLS step);
 * diag_network_out.c prints them (a table or JSON) and writes the
 * summary event.
 */
#ifndef WG_AGENT_DIAG_NETWORK_H
#define WG_AGENT_DIAG_NETWORK_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/errors.h"

#define DN_EVT_CHECKED 1700	/* autopilot channel: the check's summary */
#define DN_ENDPOINTS_MAX 12
#define DN_ADDRS_MAX 8		/* addresses of a name tried and kept */
#define DN_TIMEOUT_DEFAULT_S 10
#define DN_EXPIRY_WARN_DAYS 30

struct dn_opts {
	const char *server;	/* https://host:port[/prefix]; required */
	const char *ca_file;	/* the pinned CA; NULL: the system's */
	const char *ekcert_url;	/* the manufacturer's service; NULL: none */
	const char *state_dir;	/* the profile (tenant) and the event */
	long timeout_ms;	/* per step */
};

enum dn_step { DN_DNS, DN_CONNECT, DN_TLS, DN_HTTP, DN_STEP_MAX };

enum dn_state { DN_NOT_RUN, DN_PASS, DN_WARN, DN_FAIL, DN_SKIP };

/* One step of one endpoint: its state, time and what a person reads. */
struct dn_check {
	enum dn_state state;
	long us;		/* how long it took; 0: not measured */
	char text[384];		/* a pass: the facts; a failure: why */
};

/* What the TLS step read from the server's leaf certificate. */
struct dn_tls_facts {
	int read;		/* 1: the fields below are set */
	char subject[256], issuer[256];
	char not_after[32];	/* "YYYY-MM-DD HH:MM:SS UTC" */
	long days_left;		/* negative: expired */
	int name_ok;		/* the certificate names the host */
};

/* The DNS, connect and TLS steps of one host:port, shared by its rows. */
struct dn_transport {
	char host[256];
	int port, tls;
	char hostport[272];	/* "host:port", "[v6]:port" */
	char addrs[DN_ADDRS_MAX][64];
	size_t naddrs;
	char used[64];		/* the address that connected */
	struct dn_check step[DN_HTTP]; /* DN_DNS, DN_CONNECT, DN_TLS */
	struct dn_tls_facts cert;
	enum wg_err err;	/* the first failure's code; WG_OK: none */
};

struct dn_endpoint {
	const char *name;	/* "aik", "drs-discovery", ... */
	const char *what;	/* "attestation CA (GetCACaps)" */
	char url[1024];		/* the URL of the GET */
	int manufacturer;	/* the TPM manufacturer's EK service */
	struct dn_transport *t;	/* NULL: skipped before any step */
	struct dn_check http;
	long status;		/* the HTTP status; 0: none */
	enum dn_state verdict;	/* DN_PASS, DN_WARN, DN_FAIL, DN_SKIP */
	char reason[512];	/* a failure's, a warning's, a skip's */
	enum wg_err err;	/* a failure's code; WG_OK otherwise */
};

struct dn_result {
	struct dn_endpoint ep[DN_ENDPOINTS_MAX];
	size_t n;
	struct dn_transport tr[DN_ENDPOINTS_MAX];
	size_t ntr;
	char tenant_id[37];	/* the profile's, or "" */
	char correlation_id[37];
	unsigned failed;	/* endpoints whose verdict is DN_FAIL */
};

/*
 * Runs the check o describes into *res (every endpoint, in the flow's
 * order: ztd, ekcert, aik, drs, token, mdm, content).  WG_OK when it ran,
 * whatever it found (res->failed counts the failures); WG_E_CONFIG with
 * why when o cannot be used (a URL that is not one).
 */
enum wg_err diag_network_run(const struct dn_opts *o, struct dn_result *res,
    char *why, size_t whylen) __attribute__((warn_unused_result));

/* ---- what diag_network.c and diag_network_tls.c share ---- */

/* A failed step: its state and why. */
void dn_check_fail(struct dn_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 1 if host is an IPv4 or IPv6 address, not a name. */
int dn_is_ip_literal(const char *host);

/*
 * One exchange with t through httpc (the pinned CA of o, o's timeout),
 * connecting to the address the connect step used; req->probe is
 * required.  wg_httpc_do()'s result; resp->detail says why it failed.
 */
struct wg_httpc_req;
struct wg_httpc_resp;
enum wg_err dn_exchange(const struct dn_transport *t, const struct dn_opts *o,
    const char *prefix, struct wg_httpc_req *req, struct wg_httpc_resp *resp)
    __attribute__((warn_unused_result));

/* The TLS step of t (after a connect that passed): t->step[DN_TLS]. */
void dn_step_tls(struct dn_transport *t, const struct dn_opts *o);

/* ---- diag_network_out.c ---- */

/* The table, the failures in words and the firewall list, on f. */
void diag_network_print(const struct dn_result *res, FILE *f);

/* The same for scripts (docs/flow.md, "Network check"); a new reference. */
json_t *diag_network_json(const struct dn_result *res);

/* One summary event on the autopilot channel under state_dir. */
void diag_network_event(const struct dn_result *res, const char *state_dir);

/* The state's word: "pass", "warn", "fail", "skip", "-". */
const char *diag_network_state(enum dn_state s);

/* `whiteglove-agent diag network` (cmd_diag_network.c). */
int cmd_diag_network(int argc, char **argv);

#endif
