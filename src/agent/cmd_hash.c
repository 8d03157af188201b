/*
 * whiteglove-agent hash: collects this device's hardware hash (SMBIOS
 * identity, disks, network adapters, TPM and its EK; DESIGN.md section 2,
 * step 0) and prints it as an Autopilot CSV row or as one JSON object with
 * the Graph import field names, ready for `whiteglove` import.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/hwid.h"
#include "agent/sysinfo.h"
#include "agent/tpm.h"
#include "common/csv.h"
#include "common/util.h"
#include "crypto/hwhash.h"

/* The registry's limits (Graph's): longer values would fail the import. */
#define SERIAL_MAX 128
#define GROUP_TAG_MAX 128
#define UPN_MAX (HWHASH_MAX_STR - 1)

enum { OPT_TCTI = 0x100, OPT_EK_ALG, OPT_CSV, OPT_JSON, OPT_GROUP_TAG,
	OPT_CONFIG,
	OPT_USER, OPT_SERIAL };

struct hash_opts {
	const char *tcti;	/* NULL: tpm_tcti_default() */
	enum tpm_ek_alg alg;
	int json;
	const char *group_tag;	/* "" if none */
	const char *user;	/* "" if none */
	const char *serial;	/* --serial, NULL if not given */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove-agent hash [--tcti SPEC] "
	    "[--ek-alg rsa|ecc] [--csv|--json]\n"
	    "                             [--group-tag TAG] [--user UPN] "
	    "[--serial S]\n\n"
	    "Collects this device's hardware hash (SMBIOS serial, "
	    "manufacturer, model,\nUUID, disk serials, MAC addresses, TPM "
	    "and its endorsement key) and prints\nit as an Autopilot CSV "
	    "(header and one row) or as JSON for an import.\nValues the "
	    "device does not report are listed as warnings (and in JSON's\n"
	    "\"missing\"), never invented.  Reading every SMBIOS field and "
	    "the TPM\nusually needs root.\n\n"
	    "Options:\n"
	    "  --tcti SPEC      the TPM (WHITEGLOVE_TCTI; default "
	    TPM_TCTI_DEFAULT ");\n"
	    "                   e.g. swtpm:host=127.0.0.1,port=2321\n"
	    "  --ek-alg ALG     the endorsement key: rsa (default) or ecc\n"
	    "  --csv            print CSV (default)\n"
	    "  --json           print JSON\n"
	    "  --group-tag TAG  the Group Tag column\n"
	    "  --user UPN       the Assigned User column\n"
	    "  --serial S       the serial number for a device whose firmware "
	    "has none\n"
	    "                   (virtual machines); refused when it has one\n"
	    "  --config FILE    the agent's settings (tcti, ek-alg, serial "
	    "apply here;\n"
	    "                   WHITEGLOVE_AGENT_CONFIG; default "
	    "/etc/whiteglove/agent.conf)\n"
	    "  -h, --help       print this help\n\n"
	    "Environment: WHITEGLOVE_SYSFS_ROOT (default /sys), TSS2_LOG "
	    "(the TPM\nlibrary's own messages, e.g. all+debug).\n");
}

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "whiteglove-agent hash: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'whiteglove-agent hash --help' for usage.\n");
	return AGENT_EXIT_USAGE;
}

/* 1 if a text option of at most max bytes fits a hash and an import. */
static int
text_ok(const char *s, size_t max)
{
	return *s != '\0' && strlen(s) <= max && wg_str_printable(s);
}

/* Applies option ch; returns -1 to go on or an exit code. */
static int
hash_option(void *opts, int ch, const char *arg)
{
	struct hash_opts *o = opts;
	size_t max;

	switch (ch) {
	case OPT_TCTI:
		o->tcti = arg;
		break;
	case OPT_EK_ALG:
		if (tpm_ek_alg_parse(arg, &o->alg) != 0)
			return usage_error("--ek-alg '%s': use rsa or ecc",
			    arg);
		break;
	case OPT_CSV:
	case OPT_JSON:
		o->json = ch == OPT_JSON;
		break;
	case OPT_GROUP_TAG:
	case OPT_USER:
	case OPT_SERIAL:
		max = ch == OPT_SERIAL ? SERIAL_MAX : ch == OPT_USER ?
		    UPN_MAX : GROUP_TAG_MAX;
		if (!text_ok(arg, max))
			return usage_error("'%s': must be printable text of 1 "
			    "to %zu bytes", arg, max);
		if (ch == OPT_USER && strchr(arg, '@') == NULL)
			return usage_error("--user '%s': not a user principal "
			    "name (user@domain)", arg);
		if (ch == OPT_SERIAL && sysinfo_is_placeholder(arg))
			return usage_error("--serial '%s': a placeholder, "
			    "not a serial number", arg);
		*(ch == OPT_GROUP_TAG ? &o->group_tag : ch == OPT_USER ?
		    &o->user : &o->serial) = arg;
		break;
	case 'h':
		usage(stdout);
		return AGENT_EXIT_OK;
	default:
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
	return -1;
}

/*
 * Parses the configuration file's device settings (tcti, ek-alg, serial)
 * and the command line into o; returns -1 to go on or an exit code.  cfg
 * keeps the file's values alive (the caller frees it).
 */
static int
hash_parse_args(int argc, char **argv, struct hash_opts *o,
    struct agent_config *cfg)
{
	static const struct option longopts[] = {
		{ "tcti", required_argument, NULL, OPT_TCTI },
		{ "ek-alg", required_argument, NULL, OPT_EK_ALG },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "group-tag", required_argument, NULL, OPT_GROUP_TAG },
		{ "user", required_argument, NULL, OPT_USER },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char why[256];
	int ret;

	memset(o, 0, sizeof(*o));
	o->alg = TPM_EK_RSA;
	o->group_tag = o->user = "";
	ret = agent_options(argc, argv, longopts, OPT_CONFIG, hash_option, o,
	    cfg, why, sizeof(why));
	if (ret == -2)
		return usage_error("%s", why);
	if (ret < 0 && optind != argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return ret;
}

/* The Autopilot CSV: its header and one row. */
static void
print_csv(const struct hash_opts *o, const char *serial, const char *b64)
{
	printf("%s\n", CSV_AUTOPILOT_HEADER);
	csv_write_field(stdout, serial);
	fputs(",,", stdout); /* no Windows product ID */
	csv_write_field(stdout, b64);
	fputc(',', stdout);
	csv_write_field(stdout, o->group_tag);
	fputc(',', stdout);
	csv_write_field(stdout, o->user);
	fputc('\n', stdout);
}

static int
print_json(const struct hash_opts *o, const struct sysinfo *si,
    const char *serial, const char *b64)
{
	json_t *doc, *missing = json_array();
	size_t i;
	int rc;

	for (i = 0; i < si->nmissing; i++)
		json_array_append_new(missing, json_pack("{s:s, s:s}", "field",
		    si->missing[i].field, "reason", si->missing[i].reason));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "serialNumber",
	    serial, "productKey", "", "hardwareIdentifier", b64, "groupTag",
	    o->group_tag, "assignedUserPrincipalName", o->user, "missing",
	    missing);
	if (doc == NULL)
		return -1;
	rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

static void
report_missing(const struct sysinfo *si)
{
	size_t i;

	for (i = 0; i < si->nmissing; i++)
		fprintf(stderr, "whiteglove-agent hash: warning: %s missing: "
		    "%s\n", si->missing[i].field, si->missing[i].reason);
}

int
cmd_hash(int argc, char **argv)
{
	struct hash_opts o;
	struct agent_config cfg;
	struct sysinfo *si = NULL;
	struct tpm_ctx *tpm = NULL;
	const char *serial;
	char *b64 = NULL, code[16], why[512];
	enum wg_err err;
	int ret;

	if ((ret = hash_parse_args(argc, argv, &o, &cfg)) >= 0) {
		agent_config_free(&cfg);
		return ret;
	}
	ret = AGENT_EXIT_FAIL;
	if ((err = sysinfo_collect(NULL, &si)) != WG_OK)
		goto done;
	report_missing(si);
	if ((serial = hwid_serial(si, o.serial, why, sizeof(why))) == NULL) {
		fprintf(stderr, "whiteglove-agent hash: %s\n", why);
		goto done;
	}
	if ((err = tpm_open(o.tcti, &tpm)) != WG_OK ||
	    (err = hwid_build(tpm, o.alg, si, serial, &b64)) != WG_OK)
		goto done;
	if (o.json) {
		if (print_json(&o, si, serial, b64) != 0)
			goto done;
	} else
		print_csv(&o, serial, b64);
	if (fflush(stdout) == 0 && !ferror(stdout))
		ret = AGENT_EXIT_OK;
done:
	if (err != WG_OK) {
		wg_err_code_str(err, code, sizeof(code));
		fprintf(stderr, "whiteglove-agent hash: no hardware hash "
		    "collected (%s %s; 'whiteglove explain %s' says more)\n",
		    code, wg_err_name(err), code);
	}
	free(b64);
	tpm_close(tpm);
	sysinfo_free(si);
	agent_config_free(&cfg);
	return ret;
}
