/*
 * whiteglove serve: run the server.  Flags and config file share keys;
 * flags given on the command line win over the config file.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"

static const struct option serve_opts[] = {
	{ "state-dir", required_argument, NULL, 's' },
	{ "listen", required_argument, NULL, 'l' },
	{ "db", required_argument, NULL, 'd' },
	{ "services", required_argument, NULL, 'S' },
	{ "config", required_argument, NULL, 'c' },
	{ "log-format", required_argument, NULL, 'F' },
	{ "log-level", required_argument, NULL, 'L' },
	{ "tls", required_argument, NULL, 'T' },
	{ "tls-names", required_argument, NULL, 'N' },
	{ "threads", required_argument, NULL, 't' },
	{ "conn-limit", required_argument, NULL, 'C' },
	{ "conn-timeout", required_argument, NULL, 'O' },
	{ "conn-memory", required_argument, NULL, 'M' },
	{ "drain-timeout", required_argument, NULL, 'D' },
	{ "ek-trust-dir", required_argument, NULL, 'E' },
	{ "aik-days", required_argument, NULL, 'A' },
	{ "argon2-memory-kib", required_argument, NULL, 0x300 },
	{ "argon2-time", required_argument, NULL, 0x301 },
	{ "argon2-lanes", required_argument, NULL, 0x302 },
	{ "signin-lockout-after", required_argument, NULL, 0x303 },
	{ "signin-lockout-minutes", required_argument, NULL, 0x304 },
	{ "signin-device-limit", required_argument, NULL, 0x305 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
serve_usage(FILE *f)
{
	fprintf(f,
	    "usage: whiteglove serve [OPTIONS]\n\n"
	    "Runs the whiteglove server: every service, or those in --services.\n"
	    "On first start with an empty state directory it creates a private\n"
	    "CA, a TLS certificate for the listen names and the operator key\n"
	    "(STATE/operator.key); later starts reuse them.  SIGTERM or SIGINT\n"
	    "drains the requests in flight and exits 0.\n\n"
	    "Options (a --config file takes the same names as 'key = value'):\n"
	    "  --state-dir DIR      state directory (default /var/lib/whiteglove)\n"
	    "  --listen HOST:PORT   listen address (default 127.0.0.1:8443;\n"
	    "                       [::1]:8443 for IPv6, port 0 picks one)\n"
	    "  --db URL             sqlite:PATH (default STATE/whiteglove.db) or\n"
	    "                       postgresql://USER@HOST:PORT/DB\n"
	    "  --services LIST      all (default) or a comma list of admin,\n"
	    "                       registry, ztd, ekcert, aik, drs, token, mdm\n"
	    "  --config FILE        read settings from FILE first\n"
	    "  --log-format FMT     text (default) or json (one object a line)\n"
	    "  --log-level LEVEL    debug, info (default), warning, error\n"
	    "  --tls on|off         HTTPS (default on; off only behind a TLS\n"
	    "                       proxy)\n"
	    "  --tls-names LIST     more names for the TLS certificate\n"
	    "  --threads N          worker threads (default 4)\n"
	    "  --conn-limit N       concurrent connections (default 1024)\n"
	    "  --conn-timeout S     idle connection timeout (default 30)\n"
	    "  --conn-memory BYTES  memory per connection (default 65536)\n"
	    "  --drain-timeout S    longest wait for requests at shutdown\n"
	    "                       (default 30)\n"
	    "  --ek-trust-dir DIR   TPM manufacturer root and intermediate\n"
	    "                       certificates the attestation CA trusts for\n"
	    "                       EK certificates (default STATE/ek-trust)\n"
	    "  --aik-days N         lifetime of AIK certificates (default 365)\n"
	    "  --argon2-memory-kib N\n"
	    "                       users' password hashes (Argon2id): memory\n"
	    "                       in KiB, 1024 to 1048576 (default 65536)\n"
	    "  --argon2-time N      their passes, 1 to 10 (default 3)\n"
	    "  --argon2-lanes N     their lanes, 1 to 16 (default 1)\n"
	    "  --signin-lockout-after N\n"
	    "                       failed sign-ins that lock a user, 1 to 100\n"
	    "                       (default 5; every N more lock again)\n"
	    "  --signin-lockout-minutes N\n"
	    "                       how long a lockout lasts, 1 to 1440\n"
	    "                       (default 15)\n"
	    "  --signin-device-limit N\n"
	    "                       failed sign-ins one device may make in 15\n"
	    "                       minutes, 1 to 10000 (default 20)\n"
	    "  -h, --help           this help\n");
}

static const char *
opt_key(int ch)
{
	size_t i;

	for (i = 0; serve_opts[i].name != NULL; i++)
		if (serve_opts[i].val == ch)
			return serve_opts[i].name;
	return NULL;
}

int
cmd_serve(int argc, char **argv)
{
	struct server_config cfg;
	char why[256];
	const char *config = NULL;
	int ch, rc = CLI_EXIT_USAGE;

	/* First pass: --help and --config, so flags can override the file. */
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", serve_opts, NULL)) != -1) {
		if (ch == 'h') {
			serve_usage(stdout);
			return CLI_EXIT_OK;
		}
		if (ch == '?') {
			serve_usage(stderr);
			return CLI_EXIT_USAGE;
		}
		if (ch == 'c')
			config = optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "whiteglove serve: unexpected argument '%s'\n",
		    argv[optind]);
		return CLI_EXIT_USAGE;
	}
	server_config_defaults(&cfg);
	if (config != NULL && server_config_file(&cfg, config) != WG_OK)
		goto done;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", serve_opts, NULL)) != -1) {
		if (ch == 'c')
			continue;
		if (server_config_set(&cfg, opt_key(ch), optarg, why,
		    sizeof(why)) != WG_OK) {
			fprintf(stderr, "whiteglove serve: %s\n", why);
			goto done;
		}
	}
	rc = server_run(&cfg) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
done:
	server_config_free(&cfg);
	return rc;
}
