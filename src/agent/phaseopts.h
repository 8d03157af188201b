/*
 * The options every phase of the flow takes (`attest`, `profile`, and the
 * full flow): the TPM, the server and its CA, the state directory, the
 * serial number, and how requests are tried.  Each is also a `key =
 * value` setting of the configuration file (config.h).
 */
#ifndef WG_AGENT_PHASEOPTS_H
#define WG_AGENT_PHASEOPTS_H

#include <getopt.h>
#include <stdio.h>

#include "agent/tpm.h"

#define AGENT_STATE_DEFAULT "/var/lib/whiteglove-agent"

struct agent_phase_opts {
	const char *state_dir;	/* the agent's files and event channels */
	const char *tcti;	/* NULL: tpm_tcti_default() */
	enum tpm_ek_alg ek_alg;
	const char *server;	/* the service: https://host:port */
	const char *ca_file;	/* the only CA trusted for TLS; NULL: system */
	const char *serial;	/* when the firmware reports none */
	unsigned tries;		/* of each exchange, 1..20 */
	long timeout_ms;	/* per request */
	long backoff_ms;	/* the first wait; doubled per try, <= 60 s */
	int trace;		/* the HTTP trace (trace.h) is on */
	const char *request_key; /* NULL: none; else the state-changing
				    request of a phase carries
				    "Idempotency-Key: <request_key>.<phase>"
				    (phase: join | mdm | reseal) */
};

/* getopt values of the phase options; a subcommand's own follow. */
enum {
	PHASE_OPT_TCTI = 0x100, PHASE_OPT_EK_ALG, PHASE_OPT_SERVER,
	PHASE_OPT_CA, PHASE_OPT_STATE, PHASE_OPT_SERIAL, PHASE_OPT_TRIES,
	PHASE_OPT_TIMEOUT, PHASE_OPT_BACKOFF, PHASE_OPT_CONFIG,
	PHASE_OPT_REQUEST_KEY, PHASE_OPT_TRACE, PHASE_OPT_END
};

/* The phase options' entries of a struct option table (and --help). */
#define PHASE_LONGOPTS \
	{ "server", required_argument, NULL, PHASE_OPT_SERVER }, \
	{ "ca", required_argument, NULL, PHASE_OPT_CA }, \
	{ "state-dir", required_argument, NULL, PHASE_OPT_STATE }, \
	{ "tcti", required_argument, NULL, PHASE_OPT_TCTI }, \
	{ "ek-alg", required_argument, NULL, PHASE_OPT_EK_ALG }, \
	{ "serial", required_argument, NULL, PHASE_OPT_SERIAL }, \
	{ "tries", required_argument, NULL, PHASE_OPT_TRIES }, \
	{ "timeout", required_argument, NULL, PHASE_OPT_TIMEOUT }, \
	{ "backoff-ms", required_argument, NULL, PHASE_OPT_BACKOFF }, \
	{ "config", required_argument, NULL, PHASE_OPT_CONFIG }, \
	{ "trace", optional_argument, NULL, PHASE_OPT_TRACE }, \
	{ "help", no_argument, NULL, 'h' }

/*
 * --request-key, for the phases whose request changes the server's state
 * (join, mdm, reseal): their longopts add this entry and their help the
 * line below; agent_phase_option() checks the value (1 to
 * AGENT_REQUEST_KEY_MAX letters, digits, '-', '_', '.', ':': with
 * ".reseal" the header's value stays within the server's 64 characters).
 */
#define AGENT_REQUEST_KEY_MAX 57
#define PHASE_LONGOPT_REQUEST_KEY \
	{ "request-key", required_argument, NULL, PHASE_OPT_REQUEST_KEY }
#define PHASE_USAGE_REQUEST_KEY \
	"  --request-key K    sends \"Idempotency-Key: K.<phase>\" with the " \
	"phase's\n                     request, so that a run made again " \
	"after a crash gets\n                     the server's first answer " \
	"instead of a second one\n"

/*
 * The defaults: RSA EK, 30 s per request, 2 s first wait, tries as given,
 * the trace as WHITEGLOVE_AGENT_TRACE says.
 */
void agent_phase_defaults(struct agent_phase_opts *p, unsigned tries);

/*
 * Applies option ch with value arg (every value must be printable text:
 * it ends up in events): 0 if it was a phase option, 1 if it is not one
 * (the subcommand's own), -1 with why if the value is not allowed.
 */
int agent_phase_option(struct agent_phase_opts *p, int ch, const char *arg,
    char *why, size_t whylen);

/*
 * --max-app-size's BYTES: a whole number of bytes, 1 to 2^62, into *out;
 * -1 if s is not one (apps, provision, login's account setup).
 */
int agent_size_parse(const char *s, uint64_t *out);

/*
 * Prints the phase options' help: server_is says what --server names,
 * tries_default is --tries' default.
 */
void agent_phase_usage(FILE *f, const char *server_is, unsigned tries_default);

/*
 * A phase subcommand's body: reads the options (the configuration file,
 * then the command line) into o through apply (which returns -1 to go on
 * or an exit code), refuses arguments that are not options, starts the
 * HTTP trace when it is on (WHITEGLOVE_AGENT_TRACE, then `trace`, then
 * --trace) and runs run(o).  Returns the exit code.
 */
int agent_phase_cmd(int argc, char **argv, const char *cmd,
    const struct option *longopts, int (*apply)(void *o, int ch,
    const char *arg), void (*usage)(FILE *), void *o, int (*run)(void *o));

/*
 * "whiteglove-agent CMD: <message>", a blank line and CMD's usage on
 * stderr; returns the usage exit code (2).
 */
int agent_usage_error(const char *cmd, void (*usage)(FILE *),
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The option callback of a phase that takes the phase options only:
 * applies one (returns -1: go on), answers --help (AGENT_EXIT_OK), or
 * refuses any other (the usage exit code) with cmd's usage.
 */
int agent_phase_only_option(struct agent_phase_opts *p, int ch,
    const char *arg, const char *cmd, void (*usage)(FILE *));

/*
 * What a person reads when phase `title` (its subcommand: cmd) failed
 * with rc: the code, its name and meaning, why, and where to look (see:
 * the events or trail file), on stderr.  Returns AGENT_EXIT_FAIL.
 */
int agent_phase_failed(const char *title, const char *cmd, enum wg_err rc,
    const char *why, const char *see);

/*
 * The code a phase ends with for rc: without a usable TPM
 * (WG_E_TPM_UNAVAILABLE) a phase fails with 0x800705B4, as Windows'
 * does, and why (holding the TPM's failure) is prefixed to say so;
 * any other rc is returned as it is.
 */
enum wg_err agent_phase_code(enum wg_err rc, char *why, size_t whylen);

#endif
