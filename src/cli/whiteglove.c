/*
 * whiteglove: the admin CLI and the server (`whiteglove serve`).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "wg_version.h"

static int cmd_help(int argc, char **argv);

static const struct cli_cmd commands[] = {
	{ "serve", cmd_serve, "run the server (all services or --services)" },
	{ "tenant", cmd_tenant, "create and list tenants (operator key)" },
	{ "key", cmd_key, "create, list and revoke tenant admin API keys" },
	{ "import", cmd_import, "import devices from a CSV or JSON file" },
	{ "devices", cmd_devices, "list registered devices" },
	{ "device", cmd_device, "show, delete or change one device" },
	{ "hash", cmd_hash, "decode a hardware hash and show its fields" },
	{ "explain", cmd_explain, "explain an error code or name" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "list commands, or show one command's help" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: whiteglove COMMAND [ARGS]\n\n"
	    "whiteglove " WG_VERSION
	    ": zero-touch pre-provisioned device deployment.\n\n"
	    "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'whiteglove COMMAND --help' for a command's options."
	    "\nClient commands read WHITEGLOVE_URL, WHITEGLOVE_TOKEN and "
	    "WHITEGLOVE_CA\nwhen --url, --token and --ca are not given.\n");
}

static const struct cli_cmd *
find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
cmd_help(int argc, char **argv)
{
	const struct cli_cmd *c;
	char help[] = "--help";
	char *sub[] = { NULL, help, NULL };

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if ((c = find(argv[1])) == NULL || c->run == cmd_help) {
		if (c != NULL) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		fprintf(stderr, "whiteglove: unknown command '%s'\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	sub[0] = argv[1];
	return c->run(2, sub);
}

int
main(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "whiteglove: unknown command '%s'; run "
		    "'whiteglove help'\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
