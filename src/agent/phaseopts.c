/*
 * The options every phase of the flow takes (phaseopts.h).
 */
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/phaseopts.h"
#include "agent/trace.h"
#include "common/util.h"

void
agent_phase_defaults(struct agent_phase_opts *p, unsigned tries)
{
	memset(p, 0, sizeof(*p));
	p->state_dir = AGENT_STATE_DEFAULT;
	p->ek_alg = TPM_EK_RSA;
	p->tries = tries;
	p->timeout_ms = 30000;
	p->backoff_ms = 2000;
	p->trace = agent_trace_env();
}

/* Whether s may be an Idempotency-Key's prefix (phaseopts.h). */
static int
request_key_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    strchr("-_.:", s[i]) != NULL))
			return 0;
	return i >= 1 && i <= AGENT_REQUEST_KEY_MAX;
}

int
agent_phase_option(struct agent_phase_opts *p, int ch, const char *arg,
    char *why, size_t whylen)
{
	long v;

	if (arg != NULL && !wg_str_printable(arg)) {
		wg_say(why, whylen, "option values must be printable UTF-8");
		return -1;
	}
	switch (ch) {
	case PHASE_OPT_TCTI: p->tcti = arg; return 0;
	case PHASE_OPT_SERVER: p->server = arg; return 0;
	case PHASE_OPT_CA: p->ca_file = arg; return 0;
	case PHASE_OPT_STATE: p->state_dir = arg; return 0;
	case PHASE_OPT_SERIAL: p->serial = arg; return 0;
	case PHASE_OPT_EK_ALG:
		if (tpm_ek_alg_parse(arg, &p->ek_alg) == 0)
			return 0;
		wg_say(why, whylen, "--ek-alg is rsa or ecc");
		return -1;
	case PHASE_OPT_TRIES:
		if ((v = agent_number(arg, 1, 20)) >= 0) {
			p->tries = (unsigned)v;
			return 0;
		}
		wg_say(why, whylen, "--tries is 1 to 20");
		return -1;
	case PHASE_OPT_TIMEOUT:
		if ((v = agent_number(arg, 1, 600)) >= 0) {
			p->timeout_ms = v * 1000;
			return 0;
		}
		wg_say(why, whylen, "--timeout is 1 to 600 seconds");
		return -1;
	case PHASE_OPT_REQUEST_KEY:
		if (request_key_ok(arg)) {
			p->request_key = arg;
			return 0;
		}
		wg_say(why, whylen, "--request-key is 1 to %d letters, digits, "
		    "'-', '_', '.' or ':'", AGENT_REQUEST_KEY_MAX);
		return -1;
	case PHASE_OPT_TRACE:
		if ((v = agent_trace_value(arg)) >= 0) {
			p->trace = (int)v;
			return 0;
		}
		wg_say(why, whylen, "--trace is on or off");
		return -1;
	case PHASE_OPT_BACKOFF:
		if ((v = agent_number(arg, 0, 60000)) >= 0) {
			p->backoff_ms = v;
			return 0;
		}
		wg_say(why, whylen, "--backoff-ms is 0 to 60000");
		return -1;
	default:
		return 1;
	}
}

void
agent_phase_usage(FILE *f, const char *server_is, unsigned tries_default)
{
	fprintf(f,
	    "  --server URL       %s\n"
	    "  --ca FILE          the only CA trusted for TLS (the server's "
	    "STATE/tls/ca.crt)\n"
	    "  --state-dir DIR    the agent's state (default "
	    AGENT_STATE_DEFAULT ")\n"
	    "  --tcti SPEC        the TPM (WHITEGLOVE_TCTI; default "
	    TPM_TCTI_DEFAULT ")\n"
	    "  --ek-alg ALG       the endorsement key: rsa (default) or ecc "
	    "(the one the\n"
	    "                     imported hardware hash carries)\n"
	    "  --serial S         the serial number, for a device whose "
	    "firmware reports\n"
	    "                     none (as given to `whiteglove-agent hash`)\n"
	    "  --tries N          tries of each exchange (default %u, at most "
	    "20)\n"
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
	    "  --trace[=on|off]   record every HTTP request and response, "
	    "secrets\n"
	    "                     redacted, in STATE/trace/http.jsonl (for "
	    "`diag collect`;\n"
	    "                     also `trace = on`, " AGENT_TRACE_ENV "=1)\n"
	    "  -h, --help         print this help\n", server_is,
	    tries_default);
}

int
agent_usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt,
    ...)
{
	va_list ap;

	fprintf(stderr, "whiteglove-agent %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n");
	usage(stderr);
	return AGENT_EXIT_USAGE;
}

/*
 * What agent_phase_cmd() needs of the options, whatever struct the
 * subcommand keeps them in: seen on their way to its apply().
 */
struct phase_seen {
	int (*apply)(void *o, int ch, const char *arg);
	void *o;
	const char *state_dir;
	int trace;
};

static int
apply_seen(void *arg, int ch, const char *val)
{
	struct phase_seen *s = arg;

	if (ch == PHASE_OPT_STATE && val != NULL)
		s->state_dir = val;
	else if (ch == PHASE_OPT_TRACE && agent_trace_value(val) >= 0)
		s->trace = agent_trace_value(val);
	return s->apply(s->o, ch, val);
}

/* The trace started for cmd, or a warning: the phase runs either way. */
static void
trace_start(const struct phase_seen *s, const char *cmd)
{
	char why[512];

	if (s->trace && agent_trace_start(s->state_dir, cmd, why,
	    sizeof(why)) != WG_OK)
		fprintf(stderr, "whiteglove-agent %s: warning: no HTTP trace: "
		    "%s\n", cmd, why);
}

int
agent_phase_cmd(int argc, char **argv, const char *cmd,
    const struct option *longopts, int (*apply)(void *o, int ch,
    const char *arg), void (*usage)(FILE *), void *o, int (*run)(void *o))
{
	struct phase_seen seen = { apply, o, AGENT_STATE_DEFAULT,
	    agent_trace_env() };
	struct agent_config cfg;
	char why[256];
	int ret;

	ret = agent_options(argc, argv, longopts, PHASE_OPT_CONFIG, apply_seen,
	    &seen, &cfg, why, sizeof(why));
	if (ret == -2)
		ret = agent_usage_error(cmd, usage, "%s", why);
	else if (ret < 0 && optind != argc)
		ret = agent_usage_error(cmd, usage, "unexpected argument '%s'",
		    argv[optind]);
	else if (ret < 0) {
		trace_start(&seen, cmd);
		ret = run(o);
	}
	agent_config_free(&cfg);
	return ret;
}

int
agent_phase_only_option(struct agent_phase_opts *p, int ch, const char *arg,
    const char *cmd, void (*usage)(FILE *))
{
	char why[128];

	switch (agent_phase_option(p, ch, arg, why, sizeof(why))) {
	case 0:
		return -1;
	case -1:
		return agent_usage_error(cmd, usage, "%s", why);
	}
	if (ch == 'h') {
		usage(stdout);
		return AGENT_EXIT_OK;
	}
	usage(stderr);
	return AGENT_EXIT_USAGE;
}

int
agent_phase_failed(const char *title, const char *cmd, enum wg_err rc,
    const char *why, const char *see)
{
	const struct wg_err_info *info = wg_err_info(rc);
	char code[16];

	wg_err_code_str(rc, code, sizeof(code));
	fprintf(stderr, "%s: failed\nwhiteglove-agent %s: %s %s: %s\n  %s\n"
	    "  see %s and whiteglove explain %s\n", title, cmd, code,
	    wg_err_name(rc), info != NULL ? info->meaning : "", why, see,
	    code);
	return AGENT_EXIT_FAIL;
}

enum wg_err
agent_phase_code(enum wg_err rc, char *why, size_t whylen)
{
	char cause[512];

	if (rc != WG_E_TPM_UNAVAILABLE)
		return rc;
	snprintf(cause, sizeof(cause), "%s", why);
	return wg_fail(WG_E_TIMEOUT, why, whylen, "no usable TPM (%s): %s",
	    wg_err_name(WG_E_TPM_UNAVAILABLE), cause);
}

/* phaseopts.h */
int
agent_size_parse(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > (1ull << 62))
		return -1;
	*out = v;
	return 0;
}
