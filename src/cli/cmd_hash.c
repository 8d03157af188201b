/*
 * whiteglove hash decode B64|FILE|-: what a hardware hash holds, field by
 * field (docs/hwhash.md), as text or JSON.  Offline; the parser is the
 * server's, so a hash this command refuses the server refuses too, for
 * the reason printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/hwhash.h"
#include "crypto/tpmpub.h"

/* A file or stdin: a hash with white space around it, with room to spare. */
#define INPUT_MAX (4 * HWHASH_MAX_B64)

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove hash decode [--json] B64|FILE|-\n\n"
	    "Decodes a hardware hash (the Hardware Hash column of an "
	    "Autopilot CSV,\nhardwareIdentifier in JSON) and prints every "
	    "field.  The argument is the\nbase64 text itself, a FILE holding "
	    "it (or the raw binary hash), or - for\nstandard input.  A hash "
	    "that is not valid is refused with the reason, which\nnames the "
	    "record and the rule (exit 1).\n\n"
	    "Options:\n"
	    "  --json         print JSON\n"
	    "  -h, --help     print this help\n");
}

/* The argument's bytes: stdin, a file, or the argument itself. */
static unsigned char *
read_input(const char *arg, size_t *len)
{
	unsigned char *buf;
	struct stat st;
	FILE *f;

	if (strcmp(arg, "-") == 0)
		return clientopts_slurp("hash", stdin, "standard input",
		    INPUT_MAX, len);
	if (stat(arg, &st) != 0 || S_ISDIR(st.st_mode)) {
		*len = strlen(arg);
		buf = xmalloc(*len + 1);
		memcpy(buf, arg, *len + 1);
		return buf;
	}
	if ((f = fopen(arg, "rb")) == NULL) {
		fprintf(stderr, "whiteglove hash: %s: %s\n", arg,
		    strerror(errno));
		return NULL;
	}
	buf = clientopts_slurp("hash", f, arg, INPUT_MAX, len);
	fclose(f);
	return buf;
}

/* Parses raw bytes (starting "WGHH") or base64 text with white space
 * around it; *bytes is the binary hash's size. */
static enum wg_err
decode(const unsigned char *in, size_t len, struct wg_hwhash **h,
    size_t *bytes, char *why, size_t whylen)
{
	static const char ws[] = " \t\r\n";
	size_t data;

	*bytes = len;
	if (len >= 4 && memcmp(in, "WGHH", 4) == 0)
		return hwhash_parse(in, len, h, why, whylen);
	while (len > 0 && memchr(ws, in[len - 1], sizeof(ws) - 1) != NULL)
		len--;
	while (len > 0 && memchr(ws, in[0], sizeof(ws) - 1) != NULL) {
		in++;
		len--;
	}
	for (data = len; data > 0 && in[data - 1] == '='; data--)
		;
	*bytes = data * 3 / 4;
	return hwhash_parse_b64((const char *)in, len, h, why, whylen);
}

/* The derived text of the TPM and EK fields both outputs show. */
struct shown {
	struct tpm_public ek;
	char manufacturer[5], firmware[48], spec[48], created[32];
	char attrs[256], name[69], sha[65], lookup[44], alg[8];
};

static void
shown_fill(const struct wg_hwhash *h, struct shown *s)
{
	unsigned char name[34];
	char why[8];
	uint32_t fw1 = (uint32_t)(h->tpm_firmware >> 32);
	uint32_t fw2 = (uint32_t)h->tpm_firmware;

	memset(s, 0, sizeof(*s));
	if (tpm_public_parse(h->ek_public, h->ek_public_len, &s->ek, why,
	    sizeof(why)) != WG_OK)
		abort(); /* hwhash_parse checked it */
	tpm_words_text(&h->tpm_manufacturer, 1, s->manufacturer);
	snprintf(s->firmware, sizeof(s->firmware), "%u.%u.%u.%u",
	    fw1 >> 16, fw1 & 0xffff, fw2 >> 16, fw2 & 0xffff);
	snprintf(s->spec, sizeof(s->spec), "2.0 level %u rev %u.%02u",
	    h->tpm_spec_level, h->tpm_spec_revision / 100,
	    h->tpm_spec_revision % 100);
	if (h->created_ms != 0)
		wg_time_rfc3339(h->created_ms, s->created);
	tpm_public_attributes_str(s->ek.attributes, s->attrs,
	    sizeof(s->attrs));
	tpm_public_name(&s->ek, name);
	wg_hex(name, sizeof(name), s->name);
	wg_hex(h->ek_sha256, sizeof(h->ek_sha256), s->sha);
	tpm_public_ek_lookup_id(&s->ek, s->lookup);
}

static void
line(const char *title, const char *value)
{
	printf("  %-17s %s\n", title, value != NULL ? value : "-");
}

static void
print_ek(const struct shown *s)
{
	char buf[300];

	if (s->ek.type == TPM_ALG_RSA)
		snprintf(buf, sizeof(buf), "RSA %u, exponent %u",
		    s->ek.rsa_bits, s->ek.rsa_exponent ? s->ek.rsa_exponent :
		    65537u);
	else
		snprintf(buf, sizeof(buf), "ECC NIST P-256");
	line("EK", buf);
	snprintf(buf, sizeof(buf), "%s (0x%08x)", s->attrs, s->ek.attributes);
	line("EK attributes", buf);
	line("EK name", s->name);
	line("EK SHA-256", s->sha);
	line("EK lookup id", s->lookup);
}

static void
print_text(const struct wg_hwhash *h, size_t bytes)
{
	struct shown s;
	char buf[96];
	size_t i;

	shown_fill(h, &s);
	printf("Hardware hash, version %d, %zu bytes\n", h->version, bytes);
	line("serial", h->serial);
	line("manufacturer", h->manufacturer);
	line("model", h->model);
	line("family", h->family);
	line("SKU", h->sku);
	line("SMBIOS UUID", h->smbios_uuid);
	line("created", h->created_ms ? s.created : NULL);
	for (i = 0; i < h->ndisks; i++)
		line("disk serial", h->disk_serials[i]);
	for (i = 0; i < h->nmacs; i++) {
		snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x",
		    h->macs[i][0], h->macs[i][1], h->macs[i][2], h->macs[i][3],
		    h->macs[i][4], h->macs[i][5]);
		line("MAC", buf);
	}
	snprintf(buf, sizeof(buf), "%s (0x%08x)", s.manufacturer,
	    h->tpm_manufacturer);
	line("TPM manufacturer", h->tpm_manufacturer ? buf : NULL);
	line("TPM vendor", h->tpm_vendor);
	snprintf(buf, sizeof(buf), "%s (0x%016llx)", s.firmware,
	    (unsigned long long)h->tpm_firmware);
	line("TPM firmware", h->tpm_firmware ? buf : NULL);
	line("TPM spec", h->tpm_spec_revision ? s.spec : NULL);
	print_ek(&s);
}

static json_t *
ek_json(const struct wg_hwhash *h, const struct shown *s)
{
	char attrs[16], *pub = xmalloc(2 * h->ek_public_len + 1);
	char policy[129];
	json_t *o;

	snprintf(attrs, sizeof(attrs), "0x%08x", s->ek.attributes);
	wg_hex(s->ek.auth_policy, s->ek.auth_policy_len, policy);
	wg_hex(h->ek_public, h->ek_public_len, pub);
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "type", s->ek.type == TPM_ALG_RSA ? "rsa" : "ecc", "bits",
	    s->ek.type == TPM_ALG_RSA ? s->ek.rsa_bits : 256, "nameAlg",
	    "sha256", "attributes", s->attrs, "attributesRaw", attrs,
	    "authPolicy", policy, "name", s->name, "sha256", s->sha,
	    "lookupId", s->lookup, "public", pub);
	free(pub);
	if (o != NULL && s->ek.type == TPM_ALG_ECC)
		json_object_set_new(o, "curve", json_string("nist-p256"));
	else if (o != NULL)
		json_object_set_new(o, "exponent", json_integer(
		    s->ek.rsa_exponent ? s->ek.rsa_exponent : 65537));
	return o;
}

static json_t *
tpm_json(const struct wg_hwhash *h, const struct shown *s)
{
	char id[16], fw[24];

	snprintf(id, sizeof(id), "0x%08x", h->tpm_manufacturer);
	snprintf(fw, sizeof(fw), "0x%016llx",
	    (unsigned long long)h->tpm_firmware);
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:o?, s:o?, s:s?}",
	    "manufacturer", h->tpm_manufacturer ? s->manufacturer : NULL,
	    "manufacturerId", h->tpm_manufacturer ? id : NULL, "vendor",
	    h->tpm_vendor, "firmware", h->tpm_firmware ? s->firmware : NULL,
	    "firmwareRaw", h->tpm_firmware ? fw : NULL, "specLevel",
	    h->tpm_spec_revision ? json_integer(h->tpm_spec_level) : NULL,
	    "specRevision", h->tpm_spec_revision ?
	    json_integer(h->tpm_spec_revision) : NULL, "spec",
	    h->tpm_spec_revision ? s->spec : NULL);
}

static int
print_json(const struct wg_hwhash *h, size_t bytes)
{
	json_t *o, *disks = json_array(), *macs = json_array();
	struct shown s;
	char mac[18];
	size_t i;

	shown_fill(h, &s);
	for (i = 0; i < h->ndisks; i++)
		json_array_append_new(disks, json_string(h->disk_serials[i]));
	for (i = 0; i < h->nmacs; i++) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		    h->macs[i][0], h->macs[i][1], h->macs[i][2], h->macs[i][3],
		    h->macs[i][4], h->macs[i][5]);
		json_array_append_new(macs, json_string(mac));
	}
	o = json_pack("{s:i, s:I, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, "
	    "s:o, s:o, s:o, s:o}", "version", h->version, "bytes",
	    (json_int_t)bytes, "serialNumber", h->serial, "manufacturer",
	    h->manufacturer, "model", h->model, "family", h->family, "sku",
	    h->sku, "smbiosUuid", h->smbios_uuid, "created", h->created_ms ?
	    s.created : NULL, "diskSerials", disks, "macs", macs, "tpm",
	    tpm_json(h, &s), "ek", ek_json(h, &s));
	if (o == NULL) {
		fprintf(stderr, "whiteglove hash: cannot build the JSON\n");
		return CLI_EXIT_FAIL;
	}
	clientopts_print_json(o);
	json_decref(o);
	return CLI_EXIT_OK;
}

static int
hash_decode(const char *arg, int json)
{
	struct wg_hwhash *h = NULL;
	unsigned char *in;
	char why[300], code[16];
	size_t len, bytes;
	int ret = CLI_EXIT_FAIL;

	if ((in = read_input(arg, &len)) == NULL)
		return CLI_EXIT_FAIL;
	if (decode(in, len, &h, &bytes, why, sizeof(why)) != WG_OK) {
		wg_err_code_str(WG_E_DDS_INVALID_HASH, code, sizeof(code));
		fprintf(stderr, "whiteglove hash: %s %s: %s\n", code,
		    wg_err_name(WG_E_DDS_INVALID_HASH), why);
		goto done;
	}
	if (json) {
		ret = print_json(h, bytes);
	} else {
		print_text(h, bytes);
		ret = CLI_EXIT_OK;
	}
done:
	hwhash_free(h);
	free(in);
	return ret;
}

int
cmd_hash(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, CLIENTOPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "hash", usage, "",
		longopts };
	struct clientopts co;
	int ret = CLI_EXIT_USAGE;

	clientopts_init(&co);
	if (clientopts_next(&co, argc, argv, &spec, &ret) != CLIENTOPTS_DONE)
		return ret;
	if (optind >= argc)
		return clientopts_usage_error("hash", usage,
		    "give a subcommand: decode");
	if (strcmp(argv[optind], "decode") != 0)
		return clientopts_usage_error("hash", usage,
		    "unknown subcommand; the one there is: decode");
	if (argc - optind != 2)
		return clientopts_usage_error("hash", usage,
		    "decode takes one B64, FILE or -");
	return hash_decode(argv[optind + 1], co.json);
}
