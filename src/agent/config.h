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
	int opts[AGENT_CONFIG_LINES_MAX]; /* the option's getopt value */
	size_t n;
};

/*
 * Reads path (NULL: $WHITEGLOVE_AGENT_CONFIG, else AGENT_CONFIG_DEFAULT,
 * which may be absent) into *out, each key checked against longopts
 * (options that take a value; "config" and "help" are not settings).
 * WG_E_CONFIG with why naming the file and line otherwise.  The caller
 * frees *out with agent_config_free().
 */
enum wg_err agent_config_read(const char *path, const struct option *longopts,
    struct agent_config *out, char *why, size_t whylen)
    __attribute__((warn_unused_result));
void agent_config_free(struct agent_config *c);

#endif
