/*
 * whiteglove-agent attest: "Securing your hardware" (step 2 of the flow)
 * on its own, as the full flow will run it.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/attest.h"
#include "agent/config.h"
#include "agent/sysinfo.h"
#include "common/errors.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define STATE_DEFAULT "/var/lib/whiteglove-agent"

enum {
	OPT_TCTI = 0x100, OPT_EK_ALG, OPT_SERVER, OPT_EKCERT, OPT_CA,
	OPT_EK_ROOTS, OPT_AIK_ROOT, OPT_STATE, OPT_SERIAL, OPT_TRIES,
	OPT_TIMEOUT, OPT_BACKOFF, OPT_CONFIG,
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent attest --server URL --aik-root "
	    "FILE [OPTIONS]\n\n"
	    "Secures the device's hardware with the attestation CA: reads "
	    "the TPM's EK\ncertificate (NV, else the manufacturer's service "
	    "with --ekcert-url), makes\nan AIK, asks the CA (GetCACaps, "
	    "GetCACert, enrollment), opens its\ncredential in the TPM and "
	    "stores the checked AIK certificate in the state\ndirectory "
	    "(aik.crt, aik-ca.pem).  The CA exchange is tried up to --tries "
	    "times\nwith growing waits; every try is recorded in "
	    ATTEST_TRAIL_FILE ".\n\n"
	    "Options:\n"
	    "  --server URL       the attestation CA, e.g. https://host:8443\n"
	    "  --aik-root FILE    the attestation CA's root certificate (PEM) "
	    "the AIK\n"
	    "                     certificate must chain to\n"
	    "  --ekcert-url URL   the TPM manufacturer's EK certificate "
	    "service, e.g.\n"
	    "                     https://host:8443/ekcertservice (firmware "
	    "TPMs)\n"
	    "  --ek-roots DIR     pinned manufacturer roots for a fetched EK "
	    "certificate\n"
	    "  --ca FILE          the only CA trusted for TLS (the server's "
	    "STATE/tls/ca.crt)\n"
	    "  --state-dir DIR    the agent's state (default " STATE_DEFAULT
	    ")\n"
	    "  --tcti SPEC        the TPM (WHITEGLOVE_TCTI; default "
	    TPM_TCTI_DEFAULT ")\n"
	    "  --ek-alg ALG       the endorsement key: rsa (default) or ecc\n"
	    "  --serial S         the serial number sent (default: the "
	    "firmware's)\n"
	    "  --tries N          tries of the CA exchange (default 10, at "
	    "most 20)\n"
	    "  --timeout S        per request (default 30)\n"
	    "  --backoff-ms MS    the first wait between tries, doubled each "
	    "time\n"
	    "                     (default 2000, with +-25%% jitter)\n"
	    "  --config FILE      settings as 'key = value' lines with these "
	    "names\n"
	    "                     (WHITEGLOVE_AGENT_CONFIG; default\n"
	    "                     " AGENT_CONFIG_DEFAULT " if present); the "
	    "command\n"
	    "                     line wins\n"
	    "  -h, --help         print this help\n");
}

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "whiteglove-agent attest: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n");
	usage(stderr);
	return AGENT_EXIT_USAGE;
}

/* A number option in [min, max]; -1 if it is not one. */
static long
number(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s != '\0' && *end == '\0' && v >= min && v <= max ? v : -1;
}

/* Applies one option; returns an exit code, or -1 to go on. */
static int
attest_option(void *opts, int ch, const char *arg)
{
	struct attest_opts *o = opts;
	long v;

	/* every value ends up in events and the trail: text only */
	if (arg != NULL && !wg_str_printable(arg))
		return usage_error("option values must be printable UTF-8");
	switch (ch) {
	case 'h':
		usage(stdout);
		return AGENT_EXIT_OK;
	case OPT_TCTI: o->tcti = arg; break;
	case OPT_SERVER: o->aik_url = arg; break;
	case OPT_EKCERT: o->ekcert_url = arg; break;
	case OPT_CA: o->ca_file = arg; break;
	case OPT_EK_ROOTS: o->ek_roots = arg; break;
	case OPT_AIK_ROOT: o->aik_root = arg; break;
	case OPT_STATE: o->state_dir = arg; break;
	case OPT_SERIAL: o->serial = arg; break;
	case OPT_EK_ALG:
		if (tpm_ek_alg_parse(arg, &o->ek_alg) != 0)
			return usage_error("--ek-alg is rsa or ecc");
		break;
	case OPT_TRIES:
		if ((v = number(arg, 1, 20)) < 0)
			return usage_error("--tries is 1 to 20");
		o->tries = (unsigned)v;
		break;
	case OPT_TIMEOUT:
		if ((v = number(arg, 1, 600)) < 0)
			return usage_error("--timeout is 1 to 600 seconds");
		o->timeout_ms = v * 1000;
		break;
	case OPT_BACKOFF:
		if ((v = number(arg, 0, 60000)) < 0)
			return usage_error("--backoff-ms is 0 to 60000");
		o->backoff_ms = v;
		break;
	default:
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
	return -1;
}

/* The firmware's serial number when --serial did not give one. */
static char *
firmware_serial(void)
{
	struct sysinfo *si = NULL;
	char *s = NULL;

	if (sysinfo_collect(NULL, &si) == WG_OK && si->serial != NULL)
		s = xstrdup(si->serial);
	sysinfo_free(si);
	return s;
}

/* The phase with its options settled: what a person sees. */
static int
attest_main(struct attest_opts *o)
{
	struct attest_result res;
	char why[1024], code[16], *serial = NULL;
	enum wg_err rc;

	if (o->aik_url == NULL || o->aik_root == NULL)
		return usage_error("--server and --aik-root are needed");
	if (o->serial == NULL && (o->serial = serial = firmware_serial()) ==
	    NULL)
		return usage_error("the firmware reports no serial number: "
		    "give --serial");
	printf("Securing your hardware (attestation CA %s)...\n", o->aik_url);
	fflush(stdout);
	rc = attest_run(o, &res, why, sizeof(why));
	free(serial);
	if (rc == WG_OK) {
		printf("  EK certificate: %s\n  AIK certificate: %s/aik.crt "
		    "(%s; %u %s)\nSecuring your hardware: done\n",
		    res.ek_cert_source, o->state_dir, res.assurance_cert ?
		    "EK certificate verified" : "EK on the imported list",
		    res.tries, res.tries == 1 ? "try" : "tries");
		return AGENT_EXIT_OK;
	}
	wg_err_code_str(rc, code, sizeof(code));
	fprintf(stderr, "Securing your hardware: failed\nwhiteglove-agent "
	    "attest: %s %s: %s\n  %s\n  see %s/%s and whiteglove explain "
	    "%s\n", code, wg_err_name(rc), wg_err_info(rc) ?
	    wg_err_info(rc)->meaning : "", why, o->state_dir,
	    ATTEST_TRAIL_FILE, code);
	return AGENT_EXIT_FAIL;
}

int
cmd_attest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "aik-root", required_argument, NULL, OPT_AIK_ROOT },
		{ "ekcert-url", required_argument, NULL, OPT_EKCERT },
		{ "ek-roots", required_argument, NULL, OPT_EK_ROOTS },
		{ "ca", required_argument, NULL, OPT_CA },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "tcti", required_argument, NULL, OPT_TCTI },
		{ "ek-alg", required_argument, NULL, OPT_EK_ALG },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "tries", required_argument, NULL, OPT_TRIES },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "backoff-ms", required_argument, NULL, OPT_BACKOFF },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct attest_opts o = {.state_dir = STATE_DEFAULT,
	    .ek_alg = TPM_EK_RSA, .tries = ATTEST_TRIES_DEFAULT,
	    .timeout_ms = 30000, .backoff_ms = 2000};
	struct agent_config cfg;
	char why[256];
	int ret;

	ret = agent_options(argc, argv, longopts, OPT_CONFIG, attest_option, &o,
	    &cfg, why, sizeof(why));
	if (ret == -2)
		ret = usage_error("%s", why);
	if (ret >= 0) {
		agent_config_free(&cfg);
		return ret;
	}
	ret = optind != argc ? usage_error("unexpected argument '%s'",
	    argv[optind]) : attest_main(&o);
	agent_config_free(&cfg);
	return ret;
}
