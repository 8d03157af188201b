/*
 * whiteglove-agent: what runs on the device (hash collection now; the
 * pre-provisioning flow in later subcommands).
 */
#include <stdio.h>
#include <stdlib.h>

#include "agent/agent.h"
#include "common/log.h"
#include "wg_version.h"

#define LOG_LEVEL_ENV "WHITEGLOVE_LOG_LEVEL"

static const struct wg_cmd commands[] = {
	{ "hash", cmd_hash, "print this device's hardware hash (CSV or JSON)" },
	{ "profile", cmd_profile, "acquire the deployment profile, sealed to "
	    "this TPM" },
	{ "attest", cmd_attest, "secure the hardware: AIK certificate from "
	    "the attestation CA" },
	{ "join", cmd_join, "join the organization's network: device "
	    "certificate for TPM keys" },
	{ "version", cmd_version, "print the version" },
};

static const struct wg_cmdtab table = {
	.prog = "whiteglove-agent",
	.about = "whiteglove-agent " WG_VERSION
	    ": the device side of zero-touch pre-provisioning.",
	.footer = "The TPM is reached through WHITEGLOVE_TCTI (default "
	    "device:/dev/tpmrm0);\nWHITEGLOVE_LOG_LEVEL=debug shows more.\n",
	.cmds = commands,
	.ncmds = sizeof(commands) / sizeof(commands[0]),
	.version = cmd_version,
};

int
main(int argc, char **argv)
{
	const char *lvl = getenv(LOG_LEVEL_ENV);
	enum wg_level level = WG_LEVEL_INFO;

	if (lvl != NULL && wg_level_parse(lvl, &level) != 0)
		fprintf(stderr, "whiteglove-agent: ignoring %s=%s (debug, "
		    "info, warning or error)\n", LOG_LEVEL_ENV, lvl);
	wg_log_setup(WG_LOG_TEXT, level);
	return wg_cmd_main(&table, argc, argv);
}
