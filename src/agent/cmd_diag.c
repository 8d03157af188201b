/*
 * whiteglove-agent diag collect: the diagnostics bundle an admin asks a
 * technician for when pre-provisioning failed (diag.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/diag.h"
#include "agent/diag_network.h"
#include "agent/phaseopts.h"
#include "common/errors.h"

enum { OPT_STATE = 0x100, OPT_TCTI, OPT_CONFIG };

struct diag_args {
	const char *state_dir, *tcti, *config, *out;
	char file_state_dir[4096], file_tcti[TPM_TCTI_MAX + 1]; /* the
						config file's, kept here */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent diag collect [-o FILE] "
	    "[--state-dir DIR] [--tcti SPEC]\n"
	    "                                     [--config FILE]\n"
	    "       whiteglove-agent diag network [--server URL] [--ca FILE] "
	    "[--json] ...\n"
	    "                                     (diag network --help)\n\n"
	    "Writes one .tar.gz for the admin when pre-provisioning failed: "
	    "the event\nchannels, the phases' records (profile, AIK "
	    "enrollment trail, provision,\njoin, mdm, reseal, apps), the "
	    "apps' install logs and the agent's\nconfiguration, each with "
	    "its secrets replaced by \"[redacted]\" and cut to\nits last %d "
	    "MiB; certificates.json (every certificate of the state\n"
	    "directory: subject, issuer, serial, dates, SHA-1 and SHA-256 "
	    "thumbprints);\ntpm.json (the TPM read now, or why it cannot "
	    "be); manifest.json.  Private\nkeys, TPM key blobs, the ticket "
	    "and tokens are never copied.  A file that\ncannot be read, or "
	    "a TPM that does not answer, does not stop the bundle.\n\n"
	    "Options:\n"
	    "  -o, --output FILE  the bundle (default: whiteglove-diag-"
	    "<host>-<UTC time>.tar.gz\n"
	    "                     in the current directory)\n"
	    "  --state-dir DIR    the agent's state directory (default "
	    AGENT_STATE_DEFAULT ")\n"
	    "  --tcti SPEC        the TPM (WHITEGLOVE_TCTI; default "
	    TPM_TCTI_DEFAULT ")\n"
	    "  --config FILE      the agent's settings (state-dir and tcti "
	    "apply here), also\n"
	    "                     bundled (WHITEGLOVE_AGENT_CONFIG; default "
	    AGENT_CONFIG_DEFAULT ")\n"
	    "  -h, --help         print this help\n", DIAG_FILE_MAX >> 20);
}

/*
 * The configuration file to bundle: --config, else $WHITEGLOVE_AGENT_CONFIG,
 * else the default when it exists (as agent_config_read() picks it);
 * NULL when there is none.
 */
static const char *
config_path(const char *given)
{
	const char *env = getenv(AGENT_CONFIG_ENV);

	if (given != NULL)
		return given;
	if (env != NULL && env[0] != '\0')
		return env;
	return access(AGENT_CONFIG_DEFAULT, F_OK) == 0 ? AGENT_CONFIG_DEFAULT :
	    NULL;
}

/*
 * The file's state-dir and tcti where the command line gave none.  A
 * file the agent cannot use is still bundled: *error says why (static).
 */
static void
apply_config(struct diag_args *a, const struct option *longopts,
    const char **error)
{
	static char why[512];
	struct agent_config cfg;
	size_t i;

	*error = NULL;
	if (a->config == NULL)
		return;
	if (agent_config_read(a->config, longopts, &cfg, why, sizeof(why)) !=
	    WG_OK) {
		fprintf(stderr, "whiteglove-agent diag: warning: %s (bundled "
		    "as it is)\n", why);
		*error = why;
		return;
	}
	for (i = 0; i < cfg.n; i++) {
		if (cfg.opts[i] == OPT_STATE && a->state_dir == NULL) {
			snprintf(a->file_state_dir, sizeof(a->file_state_dir),
			    "%s", cfg.values[i]);
			a->state_dir = a->file_state_dir;
		} else if (cfg.opts[i] == OPT_TCTI && a->tcti == NULL) {
			snprintf(a->file_tcti, sizeof(a->file_tcti), "%s",
			    cfg.values[i]);
			a->tcti = a->file_tcti;
		}
	}
	agent_config_free(&cfg);
}

/* The options after the verb; -1 to go on, else an exit code. */
static int
parse(int argc, char **argv, struct diag_args *a,
    const struct option *longopts)
{
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			if (strcmp(optarg, "-") == 0 || optarg[0] == '\0')
				return agent_usage_error("diag", usage, "-o: a "
				    "file name is needed (not stdout)");
			a->out = optarg;
			break;
		case OPT_STATE:
			a->state_dir = optarg;
			break;
		case OPT_TCTI:
			a->tcti = optarg;
			break;
		case OPT_CONFIG:
			a->config = optarg;
			break;
		case 'h':
			usage(stdout);
			return AGENT_EXIT_OK;
		default:
			usage(stderr);
			return AGENT_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return agent_usage_error("diag", usage, "unexpected argument "
		    "'%s'", argv[optind]);
	return -1;
}

/* What was written, as a person reads it. */
static void
report(const struct diag_result *res)
{
	size_t i;

	printf("Wrote %s (%llu bytes, %u files)\n", res->path,
	    (unsigned long long)res->size, res->files);
	for (i = 0; i < res->nunreadable; i++)
		printf("  could not read %s\n", res->unreadable[i]);
	printf("Send this file to your administrator: secrets in it are "
	    "[redacted],\nprivate keys and the ticket are not in it.\n");
}

int
cmd_diag(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "tcti", required_argument, NULL, OPT_TCTI },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct diag_args a;
	struct diag_opts o;
	struct diag_result res;
	char why[1024], code[16];
	enum wg_err err;
	int ret;

	memset(&a, 0, sizeof(a));
	if (argc < 2)
		return agent_usage_error("diag", usage, "a verb is needed: "
		    "collect, network");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return AGENT_EXIT_OK;
	}
	if (strcmp(argv[1], "network") == 0)
		return cmd_diag_network(argc - 1, argv + 1);
	if (strcmp(argv[1], "collect") != 0)
		return agent_usage_error("diag", usage, "unknown verb '%s' "
		    "(collect, network)", argv[1]);
	if ((ret = parse(argc - 1, argv + 1, &a, longopts)) >= 0)
		return ret;
	a.config = config_path(a.config);
	memset(&o, 0, sizeof(o));
	apply_config(&a, longopts, &o.config_error);
	o.state_dir = a.state_dir != NULL ? a.state_dir : AGENT_STATE_DEFAULT;
	o.tcti = a.tcti;
	o.config = a.config;
	o.out = a.out;
	err = diag_collect(&o, &res, why, sizeof(why));
	if (err != WG_OK) {
		wg_err_code_str(err, code, sizeof(code));
		fprintf(stderr, "whiteglove-agent diag collect: failed: %s "
		    "%s: %s\n", code, wg_err_name(err), why);
		return AGENT_EXIT_FAIL;
	}
	report(&res);
	diag_result_free(&res);
	return AGENT_EXIT_OK;
}
