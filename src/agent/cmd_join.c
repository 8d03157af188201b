/*
 * whiteglove-agent join: "Joining your organization's network" (step 3
 * of the flow) on its own, as the full flow will run it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/join.h"
#include "agent/phaseopts.h"
#include "common/errors.h"
#include "common/util.h"

#define TITLE "Joining your organization's network"

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent join --server URL [OPTIONS]\n\n"
	    "Joins the device to its tenant's directory: reads the tenant's "
	    "discovery\ndocument, gets a device token for a nonce the AIK "
	    "quotes, makes the device\nand transport keys in the TPM (kept "
	    "in the state directory), has the AIK\ncertify them, and sends "
	    "a CSR the device key signs in the TPM.  The device\ncertificate "
	    "that comes back is checked and stored (" JOIN_CERT_FILE ", "
	    JOIN_CA_FILE ",\n" JOIN_FILE ").  It needs the profile and the "
	    "AIK certificate of the earlier\nsteps (whiteglove-agent profile, "
	    "attest).  Network failures and the server's\ntrouble are tried "
	    "again up to --tries times with growing waits; a refusal is\n"
	    "final.\n\nOptions:\n");
	agent_phase_usage(f, "the server whose discovery document names the "
	    "join, e.g.\n                     https://host:8443",
	    JOIN_TRIES_DEFAULT);
	fputs(PHASE_USAGE_REQUEST_KEY, f);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
join_option(void *opts, int ch, const char *arg)
{
	return agent_phase_only_option(opts, ch, arg, "join", usage);
}

/* The phase with its options settled: what a person sees. */
static int
join_main(void *opts)
{
	const struct agent_phase_opts *o = opts;
	struct join_result res;
	char why[1024], see[1024];
	enum wg_err rc;

	if (o->server == NULL)
		return agent_usage_error("join", usage, "--server is needed");
	printf(TITLE " (%s)...\n", o->server);
	fflush(stdout);
	rc = join_run(o, &res, why, sizeof(why));
	if (rc == WG_OK) {
		printf("  Tenant: %s\n  Device: %s (device id %s)\n  "
		    "Certificate: %s/%s (thumbprint %s)\n" TITLE ": done\n",
		    res.tenant, res.display_name, res.device_id, o->state_dir,
		    JOIN_CERT_FILE, res.thumbprint);
		return AGENT_EXIT_OK;
	}
	snprintf(see, sizeof(see), "%s/events/registration.jsonl",
	    o->state_dir);
	return agent_phase_failed(TITLE, "join", rc, why, see);
}

int
cmd_join(int argc, char **argv)
{
	static const struct option longopts[] = {
		PHASE_LONGOPTS,
		PHASE_LONGOPT_REQUEST_KEY,
		{ NULL, 0, NULL, 0 },
	};
	struct agent_phase_opts o;

	agent_phase_defaults(&o, JOIN_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "join", longopts, join_option,
	    usage, &o, join_main);
}
