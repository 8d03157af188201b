/*
 * The catalog table built from errors.def, and lookups into it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"

static const struct wg_err_info catalog[] = {
	{ WG_OK, 0, "WG_OK", WG_PHASE_NONE, 200, "Success.", "", "" },
#define WG_ERR(sym, code, name, phase, http, meaning, causes, remedy) \
	{ WG_E_##sym, code, name, phase, http, meaning, causes, remedy },
#include "errors.def"
#undef WG_ERR
};

static const struct {
	const char *name;
	const char *title;
} phases[WG_PHASE_MAX] = {
	[WG_PHASE_NONE] = { "general", "General" },
	[WG_PHASE_REGISTRATION] = { "registration", "Device registration" },
	[WG_PHASE_PROFILE] = { "profile", "Acquire profile" },
	[WG_PHASE_SECURING_HARDWARE] = { "securing_hardware",
	    "Securing your hardware" },
	[WG_PHASE_JOINING] = { "joining",
	    "Joining your organization's network" },
	[WG_PHASE_MDM] = { "mdm",
	    "Registering your device for mobile management" },
	[WG_PHASE_DEVICE_SETUP] = { "device_setup", "Device setup" },
	[WG_PHASE_RESEAL] = { "reseal", "Reseal" },
	[WG_PHASE_ACCOUNT_SETUP] = { "account_setup", "Account setup" },
	[WG_PHASE_ADMIN] = { "admin", "Administration" },
};

const struct wg_err_info *
wg_err_info(enum wg_err err)
{
	if ((unsigned)err >= (unsigned)WG_E_MAX)
		err = WG_E_INTERNAL;
	return &catalog[err];
}

int
wg_err_count(void)
{
	return WG_E_MAX - 1;
}

uint32_t
wg_err_code(enum wg_err err)
{
	return wg_err_info(err)->code;
}

const char *
wg_err_name(enum wg_err err)
{
	return wg_err_info(err)->name;
}

int
wg_err_http_status(enum wg_err err)
{
	int s = wg_err_info(err)->http_status;

	return s == 0 ? 500 : s;
}

char *
wg_err_code_str(enum wg_err err, char *buf, unsigned long len)
{
	uint32_t code = wg_err_code(err);

	if (code < 0x10000u)
		snprintf(buf, len, "%u", (unsigned)code);
	else
		snprintf(buf, len, "0x%08X", (unsigned)code);
	return buf;
}

const char *
wg_phase_title(enum wg_phase phase)
{
	if ((unsigned)phase >= WG_PHASE_MAX)
		phase = WG_PHASE_NONE;
	return phases[phase].title;
}

const char *
wg_phase_name(enum wg_phase phase)
{
	if ((unsigned)phase >= WG_PHASE_MAX)
		phase = WG_PHASE_NONE;
	return phases[phase].name;
}

const struct wg_err_info *
wg_err_by_code(uint32_t code)
{
	int i;

	for (i = 1; i < WG_E_MAX; i++)
		if (catalog[i].code == code)
			return &catalog[i];
	return NULL;
}

static int
all_of(const char *s, int (*pred)(int))
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!pred((unsigned char)*s))
			return 0;
	return 1;
}

const struct wg_err_info *
wg_err_lookup(const char *text)
{
	const char *s = text;
	char *end;
	long long v;
	size_t n;
	int i;

	if (text == NULL)
		return NULL;
	n = strlen(s);
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && n <= 10 &&
	    all_of(s + 2, isxdigit))
		return wg_err_by_code((uint32_t)strtoul(s + 2, NULL, 16));
	/* Eight hex digits: how HRESULTs are written without the prefix. */
	if (n == 8 && all_of(s, isxdigit))
		return wg_err_by_code((uint32_t)strtoul(s, NULL, 16));
	if (n > 0 && n <= 11 && (all_of(s, isdigit) ||
	    (s[0] == '-' && all_of(s + 1, isdigit)))) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0' || v < -2147483648LL ||
		    v > 4294967295LL)
			return NULL;
		return wg_err_by_code((uint32_t)v);
	}
	for (i = 1; i < WG_E_MAX; i++)
		if (strcasecmp(catalog[i].name, s) == 0)
			return &catalog[i];
	return NULL;
}
