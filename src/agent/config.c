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

/* The getopt value of long option key taking a value, or -1. */
static int
option_of(const struct option *longopts, const char *key)
{
	size_t i;

	if (strcmp(key, "config") == 0)
		return -1;
	for (i = 0; longopts[i].name != NULL; i++)
		if (strcmp(longopts[i].name, key) == 0 &&
		    longopts[i].has_arg == required_argument)
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
	if ((opt = option_of(longopts, key)) < 0) {
		wg_say(why, whylen, "unknown setting '%.64s' (the settings are "
		    "the subcommand's long options)", key);
		return -1;
	}
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
