/*
 * whiteglove-agent profile: "Acquire profile" (step 1 of the flow) on its
 * own, as the full flow will run it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/phaseopts.h"
#include "agent/profile.h"
#include "common/errors.h"
#include "common/util.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent profile --server URL [OPTIONS]\n\n"
	    "Acquires the device's deployment profile: sends its hardware "
	    "hash and an\nAIK to the deployment service, opens the answer, "
	    "which is sealed to this\nTPM, and saves the profile as "
	    PROFILE_FILE " in the state\ndirectory.  Network failures and "
	    "the server's trouble are tried again up to\n--tries times with "
	    "growing waits; a refusal (device not registered, other\n"
	    "hardware, no profile assigned) is final.\n\nOptions:\n");
	agent_phase_usage(f, "the deployment service, e.g. https://host:8443",
	    PROFILE_TRIES_DEFAULT);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
profile_option(void *opts, int ch, const char *arg)
{
	return agent_phase_only_option(opts, ch, arg, "profile", usage);
}

/* The phase with its options settled: what a person sees. */
static int
profile_main(void *opts)
{
	const struct agent_phase_opts *o = opts;
	struct profile_result res;
	char why[1024], see[1024];
	enum wg_err rc;

	if (o->server == NULL)
		return agent_usage_error("profile", usage, "--server is "
		    "needed");
	printf("Acquiring the deployment profile (%s)...\n", o->server);
	fflush(stdout);
	rc = profile_run(o, &res, why, sizeof(why));
	if (rc == WG_OK) {
		printf("  Tenant: %s\n  Profile: %s (%s)\n  Correlation id: "
		    "%s\n  Saved: %s/%s\nAcquire profile: done\n", res.tenant,
		    res.name, res.mode, res.correlation_id, o->state_dir,
		    PROFILE_FILE);
		return AGENT_EXIT_OK;
	}
	snprintf(see, sizeof(see), "%s/events/autopilot.jsonl", o->state_dir);
	return agent_phase_failed("Acquire profile", "profile", rc, why, see);
}

int
cmd_profile(int argc, char **argv)
{
	static const struct option longopts[] = {
		PHASE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct agent_phase_opts o;

	agent_phase_defaults(&o, PROFILE_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "profile", longopts, profile_option,
	    usage, &o, profile_main);
}
