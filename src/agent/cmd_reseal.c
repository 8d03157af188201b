/*
 * whiteglove-agent reseal: the reseal (step 6 of the flow) on its own,
 * as the full flow runs it: the one-time pre-provisioning ticket.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/phaseopts.h"
#include "agent/reseal.h"
#include "common/errors.h"

#define TITLE "Resealing the device"

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent reseal --server URL [OPTIONS]\n\n"
	    "Ends the technician's part: gets a device token for a nonce the "
	    "AIK quotes,\nthen the one-time pre-provisioning ticket for "
	    "another nonce the AIK\nquotes (the quote carries the TPM's "
	    "resetCount).  The ticket, bound to the\njoin's device key, is "
	    "stored in " RESEAL_TICKET_FILE " (0600) and the device marked\n"
	    "resealed (" RESEAL_FILE ").  A run made again after that sends "
	    "nothing.  It\nneeds the join (whiteglove-agent join).  Network "
	    "failures and the server's\ntrouble are tried again up to "
	    "--tries times with growing waits; a refusal\nis final.\n\n"
	    "Options:\n");
	agent_phase_usage(f, "the server whose discovery document names the "
	    "token\n                     service, e.g. https://host:8443",
	    RESEAL_TRIES_DEFAULT);
	fputs(PHASE_USAGE_REQUEST_KEY, f);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
reseal_option(void *opts, int ch, const char *arg)
{
	return agent_phase_only_option(opts, ch, arg, "reseal", usage);
}

/* The phase with its options settled: what a person sees. */
static int
reseal_main(void *opts)
{
	const struct agent_phase_opts *o = opts;
	struct reseal_result res;
	char why[1024], see[1024];
	enum wg_err rc;

	if (o->server == NULL)
		return agent_usage_error("reseal", usage, "--server is needed");
	printf(TITLE " (%s)...\n", o->server);
	fflush(stdout);
	rc = reseal_run(o, &res, why, sizeof(why));
	if (rc == WG_OK) {
		printf("%s  Ticket: %s/%s, valid until %s\n  TPM resetCount "
		    "%lu (as the AIK's quotes show it)\n" TITLE ": done\n", res.already ? "  Resealed by an "
		    "earlier run: nothing sent\n" : "", o->state_dir,
		    RESEAL_TICKET_FILE, res.expires_at,
		    (unsigned long)res.reset_count);
		return AGENT_EXIT_OK;
	}
	snprintf(see, sizeof(see), "%s/events/autopilot.jsonl", o->state_dir);
	return agent_phase_failed(TITLE, "reseal", rc, why, see);
}

int
cmd_reseal(int argc, char **argv)
{
	static const struct option longopts[] = {
		PHASE_LONGOPTS,
		PHASE_LONGOPT_REQUEST_KEY,
		{ NULL, 0, NULL, 0 },
	};
	struct agent_phase_opts o;

	agent_phase_defaults(&o, RESEAL_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "reseal", longopts, reseal_option,
	    usage, &o, reseal_main);
}
