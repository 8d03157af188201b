/*
 * The agent's configuration file: `key = value` lines whose keys are a
 * subcommand's long option names (`server = https://...`), '#' comments.
 * Options given on the command line win over the file.
 */
#ifndef WG_AGENT_CONFIG_H
#define WG_AGENT_CONFIG_H

#include <getopt.h>
#include <stddef.h>

#include "common/errors.h"

#define AGENT_CONFIG_ENV "WHITEGLOVE_AGENT_CONFIG"
#define AGENT_CONFIG_DEFAULT "/etc/whiteglove/agent.conf"
#define AGENT_CONFIG_LINES_MAX 64

struct agent_config {
	char *keys[AGENT_CONFIG_LINES_MAX];
	char *values[AGENT_CONFIG_LINES_MAX];
	int opts[AGENT_CONFIG_LINES_MAX]; /* its getopt value; -1: a setting
					     of another subcommand */
	size_t n;
};

/*
 * Reads path (NULL: $WHITEGLOVE_AGENT_CONFIG, else AGENT_CONFIG_DEFAULT,
 * which may be absent) into *out: every key must be a known agent
 * setting; opts[i] says which of longopts (those taking a value) it is.
 * WG_E_CONFIG with why naming the file and line otherwise.  The caller
 * frees *out with agent_config_free().
 */
enum wg_err agent_config_read(const char *path, const struct option *longopts,
    struct agent_config *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void agent_config_free(struct agent_config *c);

/*
 * A subcommand's options: the configuration file's settings that are
 * among longopts, then the command line (config_opt, the --config
 * option, read first), each through apply(o, ch, value), which returns -1
 * to go on or an exit code.  Returns -1 to go on, apply's exit code, or
 * -2 when the file cannot be used (why says so).  cfg keeps the values
 * alive: the caller frees it with agent_config_free() in every case.
 */
int agent_options(int argc, char **argv, const struct option *longopts,
    int config_opt, int (*apply)(void *o, int ch, const char *arg), void *o,
    struct agent_config *cfg, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* A number option value in [min, max]; -1 if it is not one. */
long agent_number(const char *s, long min, long max);

#endif
