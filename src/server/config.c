/*
 * Server configuration: defaults, `key = value` config files and flags
 * share one setter, so a config file takes exactly the flag names.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/passwd.h"
#include "server/server.h"

#define CONFIG_LINE_MAX 1024

void
server_config_defaults(struct server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->state_dir = xstrdup("/var/lib/whiteglove");
	cfg->listen = xstrdup("127.0.0.1:8443");
	cfg->services = xstrdup("all");
	cfg->log_format = xstrdup("text");
	cfg->log_level = xstrdup("info");
	cfg->tls = 1;
	cfg->threads = 4;
	cfg->conn_limit = 1024;
	cfg->conn_timeout_s = 30;
	cfg->drain_timeout_s = 30;
	cfg->conn_memory = 64 * 1024;
	cfg->aik_days = 365;
	cfg->argon2_m_kib = PASSWD_M_KIB_DEFAULT;
	cfg->argon2_t = PASSWD_T_DEFAULT;
	cfg->argon2_lanes = PASSWD_P_DEFAULT;
	cfg->signin_lockout_after = 5;
	cfg->signin_lockout_min = 15;
	cfg->signin_device_limit = 20;
}

static int
parse_uint(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *out >= min && *out <= max ? 0 :
	    -1;
}

static void
set_str(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* A whole-number setting: its key, its field, its range. */
struct uint_setting {
	const char *key;
	size_t off;
	unsigned min, max;
};

static const struct uint_setting uint_settings[] = {
	{ "aik-days", offsetof(struct server_config, aik_days), 1, 3650 },
	{ "argon2-memory-kib", offsetof(struct server_config, argon2_m_kib),
	    PASSWD_M_KIB_MIN, PASSWD_M_KIB_MAX },
	{ "argon2-time", offsetof(struct server_config, argon2_t), 1,
	    PASSWD_T_MAX },
	{ "argon2-lanes", offsetof(struct server_config, argon2_lanes), 1,
	    PASSWD_P_MAX },
	{ "signin-lockout-after", offsetof(struct server_config,
	    signin_lockout_after), 1, 100 },
	{ "signin-lockout-minutes", offsetof(struct server_config,
	    signin_lockout_min), 1, 1440 },
	{ "signin-device-limit", offsetof(struct server_config,
	    signin_device_limit), 1, 10000 },
};

/* The whole-number setting key, or NULL. */
static const struct uint_setting *
uint_field(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(uint_settings) / sizeof(uint_settings[0]); i++)
		if (strcmp(uint_settings[i].key, key) == 0)
			return &uint_settings[i];
	return NULL;
}

/* The free-text settings, which only must not be empty. */
static char **
text_field(struct server_config *cfg, const char *key)
{
	if (strcmp(key, "state-dir") == 0)
		return &cfg->state_dir;
	if (strcmp(key, "listen") == 0)
		return &cfg->listen;
	if (strcmp(key, "db") == 0)
		return &cfg->db;
	if (strcmp(key, "tls-names") == 0)
		return &cfg->tls_names;
	if (strcmp(key, "ek-trust-dir") == 0)
		return &cfg->ek_trust_dir;
	return NULL;
}

enum wg_err
server_config_set(struct server_config *cfg, const char *key,
    const char *value, char *why, size_t whylen)
{
	const struct uint_setting *us;
	unsigned long long u;
	enum wg_log_format f;
	enum wg_level l;
	unsigned mask;
	char **text;

	if ((us = uint_field(key)) != NULL) {
		if (parse_uint(value, us->min, us->max, &u) != 0) {
			snprintf(why, whylen, "invalid value '%.64s' for %s: a "
			    "whole number from %u to %u", value, key, us->min,
			    us->max);
			return WG_E_CONFIG;
		}
		*(unsigned *)(void *)((char *)cfg + us->off) = (unsigned)u;
	} else if ((text = text_field(cfg, key)) != NULL) {
		if (value[0] == '\0') {
			snprintf(why, whylen, "%s must not be empty", key);
			return WG_E_CONFIG;
		}
		set_str(text, value);
	} else if (strcmp(key, "services") == 0) {
		if (wg_service_parse_list(value, &mask, why, whylen) != 0)
			return WG_E_CONFIG;
		set_str(&cfg->services, value);
	} else if (strcmp(key, "log-format") == 0) {
		if (wg_log_format_parse(value, &f) != 0)
			goto bad;
		set_str(&cfg->log_format, value);
	} else if (strcmp(key, "log-level") == 0) {
		if (wg_level_parse(value, &l) != 0)
			goto bad;
		set_str(&cfg->log_level, value);
	} else if (strcmp(key, "tls") == 0) {
		if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
			goto bad;
		cfg->tls = strcmp(value, "on") == 0;
	} else if (strcmp(key, "threads") == 0) {
		if (parse_uint(value, 1, 256, &u) != 0)
			goto bad;
		cfg->threads = (unsigned)u;
	} else if (strcmp(key, "conn-limit") == 0) {
		if (parse_uint(value, 1, 65536, &u) != 0)
			goto bad;
		cfg->conn_limit = (unsigned)u;
	} else if (strcmp(key, "conn-timeout") == 0) {
		if (parse_uint(value, 1, 3600, &u) != 0)
			goto bad;
		cfg->conn_timeout_s = (unsigned)u;
	} else if (strcmp(key, "drain-timeout") == 0) {
		if (parse_uint(value, 0, 3600, &u) != 0)
			goto bad;
		cfg->drain_timeout_s = (unsigned)u;
	} else if (strcmp(key, "conn-memory") == 0) {
		if (parse_uint(value, 16384, 16 * 1024 * 1024, &u) != 0)
			goto bad;
		cfg->conn_memory = (size_t)u;
	} else {
		snprintf(why, whylen, "unknown setting '%.64s'", key);
		return WG_E_CONFIG;
	}
	return WG_OK;
bad:
	snprintf(why, whylen, "invalid value '%.64s' for %s (see "
	    "'whiteglove serve --help')", value, key);
	return WG_E_CONFIG;
}

enum wg_err
server_config_file(struct server_config *cfg, const char *path)
{
	char line[CONFIG_LINE_MAX + 2], why[256], *key, *val, *eq;
	enum wg_err rc = WG_OK;
	unsigned lineno = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		wg_error("cannot read config file %s: %s", path,
		    strerror(errno));
		return WG_E_CONFIG;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strlen(line) > CONFIG_LINE_MAX) {
			wg_error("%s:%u: line too long", path, lineno);
			rc = WG_E_CONFIG;
			break;
		}
		key = wg_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			wg_error("%s:%u: expected 'key = value'", path, lineno);
			rc = WG_E_CONFIG;
			break;
		}
		*eq = '\0';
		key = wg_trim(key);
		val = wg_trim(eq + 1);
		if (strcmp(key, "config") == 0 ||
		    server_config_set(cfg, key, val, why, sizeof(why)) !=
		    WG_OK) {
			wg_error("%s:%u: %s", path, lineno,
			    strcmp(key, "config") == 0 ?
			    "a config file cannot include another" : why);
			rc = WG_E_CONFIG;
			break;
		}
	}
	fclose(f);
	return rc;
}

void
server_config_free(struct server_config *cfg)
{
	free(cfg->state_dir);
	free(cfg->listen);
	free(cfg->db);
	free(cfg->services);
	free(cfg->log_format);
	free(cfg->log_level);
	free(cfg->tls_names);
	free(cfg->ek_trust_dir);
	memset(cfg, 0, sizeof(*cfg));
}
