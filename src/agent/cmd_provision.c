/*
 * whiteglove-agent provision: the technician's flow on the device, from
 * the profile to the green reseal screen (provision.h), under the
 * Enrollment Status Page.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/attest.h"
#include "agent/devtoken.h"
#include "agent/esp.h"
#include "agent/phaseopts.h"
#include "agent/provision.h"
#include "agent/tpm.h"
#include "common/errors.h"
#include "common/httpc.h"
#include "common/util.h"

enum { OPT_SCREEN = ATTEST_OPT_END, OPT_MAX_APP_SIZE };

struct cmd_provision {
	struct provision_opts o;
	enum esp_screen screen;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent provision --server URL --aik-root "
	    "FILE [OPTIONS]\n\n"
	    "Pre-provisions the device, as a technician in the depot does: "
	    "acquires its\ndeployment profile, secures the hardware "
	    "(attestation), joins the\norganization's network, registers for "
	    "mobile management (and, in\npre-provisioning, leaves the "
	    "network again until the user signs in),\ninstalls the device's "
	    "apps, and reseals it: the green screen.  The\nEnrollment Status "
	    "Page shows each step with its state and time.\n\n"
	    "Every step is saved in the state directory (" PROVISION_FILE
	    " and each\nstep's files): stopped at any point and run again, "
	    "it resumes where it\nstood, without redoing finished TPM work; "
	    "the join, MDM enrollment and\nreseal requests carry idempotency "
	    "keys so that the server never does\nthem twice.  A failure shows "
	    "its code, what it means and where to look.\n\n"
	    "Options:\n");
	attest_usage_options(f);
	fprintf(f, ESP_SCREEN_USAGE
	    "  --max-app-size N   refuse an app bigger than N bytes (default "
	    "4 GiB)\n");
	agent_phase_usage(f, "the service (every endpoint is on it), e.g.\n"
	    "                     https://host:8443", PROVISION_TRIES_DEFAULT);
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
provision_option(void *opts, int ch, const char *arg)
{
	struct cmd_provision *c = opts;
	char why[128];

	switch (agent_phase_option(&c->o.a.p, ch, arg, why, sizeof(why))) {
	case 0:
		return -1;
	case -1:
		return agent_usage_error("provision", usage, "%s", why);
	}
	switch (ch) {
	case 'h':
		usage(stdout);
		return AGENT_EXIT_OK;
	case OPT_SCREEN:
		if (esp_screen_parse(arg, &c->screen) != 0)
			return agent_usage_error("provision", usage, "--screen "
			    "must be auto, redraw or lines");
		return -1;
	case OPT_MAX_APP_SIZE:
		if (agent_size_parse(arg, &c->o.max_app_size) != 0)
			return agent_usage_error("provision", usage,
			    "--max-app-size must be a number of bytes above 0");
		return -1;
	default:
		if (attest_option_apply(&c->o.a, ch, arg) == 0)
			return -1;
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
}

static int
provision_main(void *opts)
{
	struct cmd_provision *c = opts;
	struct provision_result res;
	char *serial = NULL;
	enum wg_err rc;

	if (c->o.a.p.server == NULL || c->o.a.aik_root == NULL)
		return agent_usage_error("provision", usage, "--server and "
		    "--aik-root are needed");
	if (c->o.a.p.serial == NULL && (c->o.a.p.serial = serial =
	    attest_firmware_serial()) == NULL)
		return agent_usage_error("provision", usage, "the firmware "
		    "reports no serial number: give --serial");
	c->o.redraw = esp_screen_redraw(c->screen, stdout);
	/*
	 * One connection to the server for every step, not one per step;
	 * one discovery and one device token (one TPM quote) for the join,
	 * the MDM enrollment, the apps and the reseal; one TPM context.
	 */
	wg_httpc_share_connections();
	devtoken_share();
	tpm_share(); /* the EK and SRK made once, not once per step */
	rc = provision_run(&c->o, &res);
	free(serial);
	return rc == WG_OK ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
}

int
cmd_provision(int argc, char **argv)
{
	static const struct option longopts[] = {
		ATTEST_LONGOPTS,
		{ "screen", required_argument, NULL, OPT_SCREEN },
		{ "max-app-size", required_argument, NULL, OPT_MAX_APP_SIZE },
		PHASE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_provision c;

	memset(&c, 0, sizeof(c));
	c.screen = ESP_SCREEN_AUTO;
	agent_phase_defaults(&c.o.a.p, PROVISION_TRIES_DEFAULT);
	return agent_phase_cmd(argc, argv, "provision", longopts,
	    provision_option, usage, &c, provision_main);
}
