/*
 * whiteglove-agent attest: "Securing your hardware" (step 2 of the flow)
 * on its own, as the full flow will run it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/attest.h"
#include "agent/config.h"
#include "agent/phaseopts.h"
#include "common/errors.h"
#include "common/util.h"
#include "common/xmalloc.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent attest --server URL --aik-root "
	    "FILE [OPTIONS]\n\n"
	    "Secures the device's hardware with the attestation CA: reads "
	    "the TPM's EK\ncertificate (NV, else the manufacturer's service "
	    "with --ekcert-url), makes\nan AIK, asks the CA (GetCACaps, "
	    "GetCACert, enrollment), opens its\ncredential in the TPM and "
	    "stores the checked AIK certificate in the state\ndirectory "
	    "(aik.crt, aik-ca.pem).  The CA exchange is tried up to --tries "
	    "times\nwith growing waits; every try is recorded in "
	    ATTEST_TRAIL_FILE ".\n\n"
	    "Options:\n");
	attest_usage_options(f);
	agent_phase_usage(f, "the attestation CA, e.g. https://host:8443",
	    ATTEST_TRIES_DEFAULT);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
attest_option(void *opts, int ch, const char *arg)
{
	struct attest_opts *o = opts;
	char why[128];

	switch (agent_phase_option(&o->p, ch, arg, why, sizeof(why))) {
	case 0:
		return -1;
	case -1:
		return agent_usage_error("attest", usage, "%s", why);
	}
	switch (ch) {
	case 'h':
		usage(stdout);
		return AGENT_EXIT_OK;
	default:
		if (attest_option_apply(o, ch, arg) == 0)
			return -1;
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
}

/* The phase with its options settled: what a person sees. */
static int
attest_main(void *opts)
{
	struct attest_opts *o = opts;
	struct attest_result res;
	char why[1024], see[1024], *serial = NULL;
	enum wg_err rc;

	if (o->p.server == NULL || o->aik_root == NULL)
		return agent_usage_error("attest", usage, "--server and "
		    "--aik-root are needed");
	if (o->p.serial == NULL && (o->p.serial = serial =
	    attest_firmware_serial()) == NULL)
		return agent_usage_error("attest", usage, "the firmware reports "
		    "no serial number: give --serial");
	printf("Securing your hardware (attestation CA %s)...\n", o->p.server);
	fflush(stdout);
	rc = attest_run(o, &res, why, sizeof(why));
	free(serial);
	if (rc == WG_OK) {
		printf("  EK certificate: %s\n  AIK certificate: %s/aik.crt "
		    "(%s; %u %s)\nSecuring your hardware: done\n",
		    res.ek_cert_source, o->p.state_dir, res.assurance_cert ?
		    "EK certificate verified" : "EK on the imported list",
		    res.tries, res.tries == 1 ? "try" : "tries");
		return AGENT_EXIT_OK;
	}
	snprintf(see, sizeof(see), "%s/%s", o->p.state_dir, ATTEST_TRAIL_FILE);
	return agent_phase_failed("Securing your hardware", "attest", rc, why,
	    see);
}

int
cmd_attest(int argc, char **argv)
{
	static const struct option longopts[] = {
		ATTEST_LONGOPTS,
		PHASE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct attest_opts o;

	memset(&o, 0, sizeof(o));
	agent_phase_defaults(&o.p, ATTEST_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "attest", longopts, attest_option,
	    usage, &o, attest_main);
}
