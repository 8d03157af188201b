/*
 * whiteglove: the admin CLI and the server (`whiteglove serve`).
 */
#include "cli/cli.h"
#include "common/cmdtab.h"
#include "wg_version.h"

static const struct wg_cmd commands[] = {
	{ "serve", cmd_serve, "run the server (all services or --services)" },
	{ "tenant", cmd_tenant, "create, list, show tenants and set their settings" },
	{ "key", cmd_key, "create, list and revoke tenant admin API keys" },
	{ "import", cmd_import, "import devices from a CSV or JSON file" },
	{ "devices", cmd_devices, "list registered devices" },
	{ "device", cmd_device, "show, delete or change one device; its timeline" },
	{ "hash", cmd_hash, "decode a hardware hash and show its fields" },
	{ "profile", cmd_profile, "create and assign deployment profiles" },
	{ "app", cmd_app, "create, upload and assign device setup apps" },
	{ "user", cmd_user, "create, list, disable users and set passwords" },
	{ "ekca", cmd_ekca, "issue, list and revoke EK certificates (operator)" },
	{ "explain", cmd_explain, "explain an error code or name" },
	{ "diag", cmd_diag, "read a device's diagnostics bundle (timeline)" },
	{ "version", cmd_version, "print the version" },
};

static const struct wg_cmdtab table = {
	.prog = "whiteglove",
	.about = "whiteglove " WG_VERSION
	    ": zero-touch pre-provisioned device deployment.",
	.footer = "Client commands read WHITEGLOVE_URL, WHITEGLOVE_TOKEN and "
	    "WHITEGLOVE_CA\nwhen --url, --token and --ca are not given.\n",
	.cmds = commands,
	.ncmds = sizeof(commands) / sizeof(commands[0]),
	.version = cmd_version,
};

int
main(int argc, char **argv)
{
	return wg_cmd_main(&table, argc, argv);
}
