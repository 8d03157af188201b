/*
 * whiteglove-agent diag network: can this device reach every endpoint it
 * needs, and what must a firewall allow (diag_network.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/diag_network.h"
#include "agent/phaseopts.h"
#include "common/errors.h"
#include "common/xmalloc.h"

enum { OPT_SERVER = 0x100, OPT_CA, OPT_STATE, OPT_CONFIG, OPT_EKCERT,
	OPT_TIMEOUT, OPT_JSON };

struct net_args {
	struct dn_opts o;
	int json;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent diag network [--server URL] "
	    "[--ca FILE] [--state-dir DIR]\n"
	    "                                     [--config FILE] "
	    "[--ekcert-url URL] [--timeout S]\n"
	    "                                     [--json]\n\n"
	    "Checks every endpoint the device needs, in the flow's order -- "
	    "ztd, ekcert\n(the TPM manufacturer's EK certificate service), "
	    "aik (GetCACaps), drs\n(discovery, enrollment), token, mdm "
	    "(discovery, enrollment), content --\nwith DNS, TCP connect, TLS "
	    "(the chain against the pinned CA, the expiry,\nthe name) and a "
	    "GET the service answers (nothing is changed).  Prints a\ntable, "
	    "each failure in words, and the host:port pairs a firewall must "
	    "allow.\nThe tenant's discovery needs the profile in the state "
	    "directory.  Writes a\nsummary event (autopilot channel, %d).  "
	    "Exits 0 when every endpoint checked\npasses, 1 when one fails.\n\n"
	    "Options:\n"
	    "  --server URL       the whiteglove server, https://host:port\n"
	    "  --ca FILE          the only CA trusted for TLS (default: the "
	    "system's)\n"
	    "  --state-dir DIR    the agent's state directory (default "
	    AGENT_STATE_DEFAULT ")\n"
	    "  --config FILE      the agent's settings: server, ca, state-dir, "
	    "ekcert-url,\n"
	    "                     timeout apply (WHITEGLOVE_AGENT_CONFIG; "
	    "default\n                     " AGENT_CONFIG_DEFAULT ")\n"
	    "  --ekcert-url URL   the TPM manufacturer's EK certificate "
	    "service (firmware TPMs)\n"
	    "  --timeout S        per step, 1 to 600 seconds (default %d)\n"
	    "  --json             the same as JSON, for scripts\n"
	    "  -h, --help         print this help\n", DN_EVT_CHECKED,
	    DN_TIMEOUT_DEFAULT_S);
}

/* One option (from the file or the command line); -1 to go on. */
static int
apply(void *arg, int ch, const char *val)
{
	struct net_args *a = arg;
	long v;

	switch (ch) {
	case OPT_SERVER: a->o.server = val; break;
	case OPT_CA: a->o.ca_file = val; break;
	case OPT_STATE: a->o.state_dir = val; break;
	case OPT_EKCERT: a->o.ekcert_url = val; break;
	case OPT_JSON: a->json = 1; break;
	case OPT_TIMEOUT:
		if ((v = agent_number(val, 1, 600)) < 0)
			return agent_usage_error("diag network", usage,
			    "--timeout is 1 to 600 seconds");
		a->o.timeout_ms = v * 1000;
		break;
	case 'h':
		usage(stdout);
		return AGENT_EXIT_OK;
	default:
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
	return -1;
}

/* argv[0] is "network". */
int
cmd_diag_network(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "ca", required_argument, NULL, OPT_CA },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "ekcert-url", required_argument, NULL, OPT_EKCERT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct net_args a = { .o = { .timeout_ms = DN_TIMEOUT_DEFAULT_S *
	    1000 } };
	struct agent_config cfg;
	struct dn_result *res = NULL;
	char why[1024];
	json_t *j;
	int ret;

	ret = agent_options(argc, argv, longopts, OPT_CONFIG, apply, &a, &cfg,
	    why, sizeof(why));
	if (ret == -2) {
		fprintf(stderr, "whiteglove-agent diag network: %s\n", why);
		ret = AGENT_EXIT_USAGE;
		goto done;
	}
	if (ret >= 0)
		goto done;
	if (optind != argc) {
		ret = agent_usage_error("diag network", usage, "unexpected "
		    "argument '%s'", argv[optind]);
		goto done;
	}
	if (a.o.server == NULL) {
		ret = agent_usage_error("diag network", usage, "--server is "
		    "needed (or `server = URL` in the configuration)");
		goto done;
	}
	if (a.o.state_dir == NULL)
		a.o.state_dir = AGENT_STATE_DEFAULT;
	res = xcalloc(1, sizeof(*res));
	if (diag_network_run(&a.o, res, why, sizeof(why)) != WG_OK) {
		ret = agent_usage_error("diag network", usage, "%s", why);
		goto done;
	}
	diag_network_event(res, a.o.state_dir);
	if (a.json) {
		j = diag_network_json(res);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		diag_network_print(res, stdout);
	}
	ret = res->failed == 0 ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
done:
	free(res);
	agent_config_free(&cfg);
	return ret;
}
