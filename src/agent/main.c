/*
 * whiteglove-agent: what runs on the device (hash collection now; the
 * pre-provisioning flow in later subcommands).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "common/httpc.h"
#include "common/log.h"
#include "wg_version.h"

#define LOG_LEVEL_ENV "WHITEGLOVE_LOG_LEVEL"

static const struct wg_cmd commands[] = {
	{ "provision", cmd_provision, "pre-provision the device: the profile "
	    "to the green reseal screen" },
	{ "hash", cmd_hash, "print this device's hardware hash (CSV or JSON)" },
	{ "profile", cmd_profile, "acquire the deployment profile, sealed to "
	    "this TPM" },
	{ "attest", cmd_attest, "secure the hardware: AIK certificate from "
	    "the attestation CA" },
	{ "join", cmd_join, "join the organization's network: device "
	    "certificate for TPM keys" },
	{ "mdm", cmd_mdm, "register for mobile management: MDM certificate, "
	    "then the unjoin" },
	{ "reseal", cmd_reseal, "reseal: the one-time pre-provisioning "
	    "ticket" },
	{ "login", cmd_login, "sign the user in: the primary refresh token, "
	    "the join restored" },
	{ "token", cmd_token, "the signed-in user's access token, or a "
	    "renewed refresh token" },
	{ "apps", cmd_apps, "device setup: download, verify and install the "
	    "device's apps" },
	{ "diag", cmd_diag, "collect the diagnostics bundle of a failed "
	    "pre-provisioning" },
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

/*
 * The hook for crash tests: with AGENT_CRASH_ENV set to PATH (not
 * empty), a 2xx answer to any request whose path contains PATH kills the
 * agent (SIGKILL) as soon as it has arrived, before it is used; with
 * PATH#N, the N-th such answer of the process does (the sign-in's POST
 * /token is the second: a nonce comes first).  A test then starts the
 * agent again and checks that the run resumes without duplicating
 * anything on the server (docs/flow.md).
 */
static void
crash_hook(const struct wg_httpc_exchange *x, void *ctx)
{
	static unsigned seen;
	const char *after = getenv(AGENT_CRASH_ENV), *hash;
	char path[256];
	unsigned long nth = 1;
	size_t n;

	(void)ctx;
	if (after == NULL || after[0] == '\0' || x->rc != WG_OK ||
	    x->resp->status < 200 || x->resp->status >= 300 ||
	    x->req->path == NULL)
		return;
	hash = strrchr(after, '#');
	n = hash != NULL ? (size_t)(hash - after) : strlen(after);
	if (hash != NULL)
		nth = strtoul(hash + 1, NULL, 10);
	if (n == 0 || n >= sizeof(path))
		return;
	memcpy(path, after, n);
	path[n] = '\0';
	if (strstr(x->req->path, path) != NULL && ++seen >= nth)
		raise(SIGKILL);
}

int
main(int argc, char **argv)
{
	const char *lvl = getenv(LOG_LEVEL_ENV);
	enum wg_level level = WG_LEVEL_INFO;

	if (lvl != NULL && wg_level_parse(lvl, &level) != 0)
		fprintf(stderr, "whiteglove-agent: ignoring %s=%s (debug, "
		    "info, warning or error)\n", LOG_LEVEL_ENV, lvl);
	wg_log_setup(WG_LOG_TEXT, level);
	if (getenv(AGENT_CRASH_ENV) != NULL)
		(void)wg_httpc_add_observer(crash_hook, NULL);
	return wg_cmd_main(&table, argc, argv);
}
