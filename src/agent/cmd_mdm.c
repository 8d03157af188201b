/*
 * whiteglove-agent mdm: "Registering your device for mobile management"
 * (step 4 of the flow) on its own, as the full flow runs it, with the
 * unjoin of pre-provisioning.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/join.h"
#include "agent/mdm.h"
#include "agent/phaseopts.h"
#include "common/errors.h"

#define TITLE "Registering your device for mobile management"

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent mdm --server URL [OPTIONS]\n\n"
	    "Enrolls the joined device in device management: reads the MDM "
	    "discovery\ndocument, gets a device token for a nonce the AIK "
	    "quotes, makes the MDM key\nin the TPM (kept in the state "
	    "directory), has the AIK certify it, and sends\na CSR the MDM key "
	    "signs in the TPM.  The MDM certificate that comes back is\n"
	    "checked and stored (" MDM_CERT_FILE ", " MDM_CA_FILE ", "
	    MDM_FILE ").  With a pre-provisioning\nprofile the device then "
	    "leaves the directory until the user's phase:\n" JOIN_CERT_FILE
	    " and " JOIN_CA_FILE " are deleted, the device and transport "
	    "keys stay.\nA device enrolls once: a run made again after the "
	    "enrollment sends nothing.\nIt needs the join (whiteglove-agent "
	    "join).  Network failures and the\nserver's trouble are tried "
	    "again up to --tries times with growing waits; a\nrefusal "
	    "(0x80180014: enrolled before) is final.\n\nOptions:\n");
	agent_phase_usage(f, "the server whose discovery documents name the "
	    "enrollment,\n                     e.g. https://host:8443",
	    MDM_TRIES_DEFAULT);
	fputs(PHASE_USAGE_REQUEST_KEY, f);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
mdm_option(void *opts, int ch, const char *arg)
{
	return agent_phase_only_option(opts, ch, arg, "mdm", usage);
}

/* The phase with its options settled: what a person sees. */
static int
mdm_main(void *opts)
{
	const struct agent_phase_opts *o = opts;
	struct mdm_result res;
	char why[1024], see[1024];
	enum wg_err rc;

	if (o->server == NULL)
		return agent_usage_error("mdm", usage, "--server is needed");
	printf(TITLE " (%s)...\n", o->server);
	fflush(stdout);
	rc = mdm_run(o, &res, why, sizeof(why));
	if (rc == WG_OK) {
		printf("%s  Tenant: %s\n  Enrollment: %s\n  Management: %s\n"
		    "  Certificate: %s/%s (thumbprint %s)\n%s" TITLE ": done\n",
		    res.already ? "  Enrolled by an earlier run: nothing "
		    "sent\n" : "", res.tenant, res.enrollment_id,
		    res.management_url, o->state_dir, MDM_CERT_FILE,
		    res.thumbprint, res.unjoined ? "  Unjoined until the "
		    "user's phase (" JOIN_CERT_FILE " deleted, keys kept)\n" :
		    "");
		return AGENT_EXIT_OK;
	}
	snprintf(see, sizeof(see), "%s/events/enrollment.jsonl", o->state_dir);
	return agent_phase_failed(TITLE, "mdm", rc, why, see);
}

int
cmd_mdm(int argc, char **argv)
{
	static const struct option longopts[] = {
		PHASE_LONGOPTS,
		PHASE_LONGOPT_REQUEST_KEY,
		{ NULL, 0, NULL, 0 },
	};
	struct agent_phase_opts o;

	agent_phase_defaults(&o, MDM_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "mdm", longopts, mdm_option,
	    usage, &o, mdm_main);
}
