/*
 * whiteglove-agent: what runs on the device (hash collection now; the
 * pre-provisioning flow in later subcommands).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "common/log.h"
#include "wg_version.h"

#define LOG_LEVEL_ENV "WHITEGLOVE_LOG_LEVEL"

static int cmd_help(int argc, char **argv);

static const struct agent_cmd commands[] = {
	{ "hash", cmd_hash, "print this device's hardware hash (CSV or JSON)" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "list commands, or show one command's help" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: whiteglove-agent COMMAND [ARGS]\n\n"
	    "whiteglove-agent " WG_VERSION
	    ": the device side of zero-touch pre-provisioning.\n\n"
	    "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'whiteglove-agent COMMAND --help' for a command's "
	    "options.\nThe TPM is reached through WHITEGLOVE_TCTI (default "
	    "device:/dev/tpmrm0);\nWHITEGLOVE_LOG_LEVEL=debug shows more.\n");
}

static const struct agent_cmd *
find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
cmd_help(int argc, char **argv)
{
	const struct agent_cmd *c;
	char help[] = "--help";
	char *sub[] = { NULL, help, NULL };

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return AGENT_EXIT_OK;
	}
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "whiteglove-agent: unknown command '%s'\n",
		    argv[1]);
		return AGENT_EXIT_USAGE;
	}
	sub[0] = argv[1];
	return c->run(2, sub);
}

int
main(int argc, char **argv)
{
	const struct agent_cmd *c;
	const char *lvl = getenv(LOG_LEVEL_ENV);
	enum wg_level level = WG_LEVEL_INFO;

	if (lvl != NULL && wg_level_parse(lvl, &level) != 0)
		fprintf(stderr, "whiteglove-agent: ignoring %s=%s (debug, "
		    "info, warning or error)\n", LOG_LEVEL_ENV, lvl);
	wg_log_setup(WG_LOG_TEXT, level);
	if (argc < 2) {
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return AGENT_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "whiteglove-agent: unknown command '%s'; run "
		    "'whiteglove-agent help'\n", argv[1]);
		return AGENT_EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
