/*
 * The agent's configuration file (config.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define LINE_MAX_BYTES 1024

/*
 * The settings a configuration file may hold: the device's, shared by the
 * subcommands (each applies those among its own options).
 */
static const char *const known[] = {"server", "aik-root", "ekcert-url",
    "ek-roots", "ca", "state-dir", "tcti", "ek-alg", "serial", "tries",
    "timeout", "backoff-ms", "max-app-size", "screen", "trace", NULL};

static int
is_known(const char *key)
{
	size_t i;

	for (i = 0; known[i] != NULL; i++)
		if (strcmp(known[i], key) == 0)
			return 1;
	return 0;
}

/* The getopt value of long option key taking a value (or may), or -1. */
static int
option_of(const struct option *longopts, const char *key)
{
	size_t i;

	for (i = 0; longopts[i].name != NULL; i++)
		if (strcmp(longopts[i].name, key) == 0 &&
		    longopts[i].has_arg != no_argument)
			return longopts[i].val;
	return -1;
}

/* One `key = value` line into c; 0, or -1 with why. */
static int
config_line(char *line, const struct option *longopts, struct agent_config *c,
    char *why, size_t whylen)
{
	char *eq = strchr(line, '='), *key, *val;
	int opt;

	if (eq == NULL) {
		wg_say(why, whylen, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = wg_trim(line);
	val = wg_trim(eq + 1);
	if (!is_known(key)) {
		wg_say(why, whylen, "unknown setting '%.64s' (the settings are "
		    "the long option names of the agent's subcommands: server, "
		    "tcti, ek-alg, ...)", key);
		return -1;
	}
	opt = option_of(longopts, key); /* -1: another subcommand's */
	if (!wg_str_printable(val) || c->n == AGENT_CONFIG_LINES_MAX) {
		wg_say(why, whylen, "'%.64s': not printable text, or more than "
		    "%d settings", key, AGENT_CONFIG_LINES_MAX);
		return -1;
	}
	c->keys[c->n] = xstrdup(key);
	c->values[c->n] = xstrdup(val);
	c->opts[c->n++] = opt;
	return 0;
}

enum wg_err
agent_config_read(const char *path, const struct option *longopts,
    struct agent_config *out, char *why, size_t whylen)
{
	const char *env = getenv(AGENT_CONFIG_ENV);
	char line[LINE_MAX_BYTES + 2], reason[256], *s;
	unsigned lineno = 0;
	int given = path != NULL || (env != NULL && env[0] != '\0'), bad = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	if (path == NULL)
		path = given ? env : AGENT_CONFIG_DEFAULT;
	if ((f = fopen(path, "r")) == NULL) {
		if (!given && errno == ENOENT)
			return WG_OK; /* no default file: nothing to apply */
		wg_say(why, whylen, "cannot read the configuration %s: %s",
		    path, strerror(errno));
		return WG_E_CONFIG;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		s = wg_trim(line);
		if (strlen(s) > LINE_MAX_BYTES) {
			wg_say(why, whylen, "%s:%u: line too long", path, lineno);
			bad = 1;
			break;
		}
		if (*s == '\0' || *s == '#')
			continue;
		if (config_line(s, longopts, out, reason, sizeof(reason)) != 0) {
			wg_say(why, whylen, "%s:%u: %s", path, lineno, reason);
			bad = 1;
			break;
		}
	}
	if (!bad && ferror(f)) {
		wg_say(why, whylen, "%s: read error", path);
		bad = 1;
	}
	fclose(f);
	if (bad) {
		agent_config_free(out);
		return WG_E_CONFIG;
	}
	return WG_OK;
}

void
agent_config_free(struct agent_config *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->values[i]);
	}
	memset(c, 0, sizeof(*c));
}

int
agent_options(int argc, char **argv, const struct option *longopts,
    int config_opt, int (*apply)(void *o, int ch, const char *arg), void *o,
    struct agent_config *cfg, char *why, size_t whylen)
{
	const char *path = NULL;
	int ch, ret = -1;
	size_t i;

	/* the file first, so that the command line wins */
	optind = 1;
	opterr = 0; /* the second pass reports bad options */
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		if (ch == config_opt)
			path = optarg;
	opterr = 1;
	if (agent_config_read(path, longopts, cfg, why, whylen) != WG_OK)
		return -2;
	for (i = 0; i < cfg->n && ret < 0; i++)
		if (cfg->opts[i] >= 0)
			ret = apply(o, cfg->opts[i], cfg->values[i]);
	optind = 1;
	while (ret < 0 && (ch = getopt_long(argc, argv, "h", longopts,
	    NULL)) != -1)
		if (ch != config_opt)
			ret = apply(o, ch, optarg);
	return ret;
}

long
agent_number(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s != '\0' && *end == '\0' && v >= min && v <= max ? v : -1;
}
