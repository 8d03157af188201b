/*
 * gen_hashes: N distinct, valid hardware hashes for tests and benchmarks,
 * as an Autopilot CSV or a JSON import body.  Row i (from --start K) has
 * serial "WG-<seed>-<K+i>" and an RSA-2048 EK public area with the TCG
 * default EK template's attributes and policy (EK Credential Profile 2.0,
 * template L-1) whose modulus is pseudo-random bytes made from the seed
 * and the index: not a real key, but one the parser accepts.  The same
 * seed gives the same output; runs with disjoint [K, K+N) give disjoint
 * devices.  Fast: one encoder buffer for all rows, no allocation per row.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/csv.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/hwhash.h"

#define MAX_ROWS UINT64_C(1000000000)
#define EK_LEN 316		/* TPM2B_PUBLIC of an RSA-2048 EK */
#define MODULUS_OFF 60
#define CREATED_BASE INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

/* Template L-1 up to the unique field's size (0x0100). */
static const unsigned char ek_head[MODULUS_OFF] = {
	0x01, 0x3a, 0x00, 0x01, 0x00, 0x0b, 0x00, 0x03, 0x00, 0xb2, 0x00,
	0x20, 0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90,
	0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06,
	0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
	0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00,
};

struct opts {
	int json;
	uint64_t seed, start, n;
	uint64_t ek_seed; /* the EKs' seed: seed unless --ek-seed */
	int ek_seed_set;
	const char *group_tag;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: gen_hashes [--csv|--json] [--seed S] [--start K] "
	    "[--ek-seed E] [--group-tag T] N\n\n"
	    "Writes N distinct valid hardware hashes (serials WG-S-K .. "
	    "WG-S-(K+N-1)) as an\nAutopilot CSV (default) or a JSON "
	    "{\"importedDeviceIdentities\": [...]} body.\nThe same seed "
	    "gives the same output (default seed 1, start 0).\n"
	    "--ek-seed E makes the EKs from E instead of S: the same "
	    "devices with other TPMs.\n");
}

/* splitmix64 (Steele, Lea, Flood 2014): fast, fine for fake key bytes. */
static uint64_t
mix(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The EK of device (seed, index): index and seed in the modulus make it
 * distinct; the rest is pseudo-random; top bit set and odd. */
static void
fill_ek(unsigned char ek[EK_LEN], uint64_t seed, uint64_t index)
{
	unsigned char *m = ek + MODULUS_OFF;
	uint64_t state = seed * UINT64_C(0x100000001b3) ^ index, r = 0;
	size_t i;

	for (i = 17; i < EK_LEN - MODULUS_OFF; i++) {
		if ((i - 17) % 8 == 0)
			r = mix(&state);
		m[i] = (unsigned char)(r >> (8 * ((i - 17) % 8)));
	}
	m[0] = 0xc5;
	for (i = 0; i < 8; i++) {
		m[1 + i] = (unsigned char)(index >> (56 - 8 * i));
		m[9 + i] = (unsigned char)(seed >> (56 - 8 * i));
	}
	m[EK_LEN - MODULUS_OFF - 1] |= 1;
}

/* Parses a decimal number in [0, max]; -1 (said) if it is not one. */
static int
number(const char *what, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > max) {
		fprintf(stderr, "gen_hashes: %s '%s' is not a number from 0 to "
		    "%" PRIu64 "\n", what, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* The group tag as a JSON string. */
static char *
json_tag(const char *tag)
{
	json_t *s = json_string(tag);
	char *json = s != NULL ? json_dumps(s, JSON_ENCODE_ANY) : NULL;

	json_decref(s);
	if (json == NULL)
		abort(); /* printable UTF-8 was checked */
	return json;
}

/* Writes the rows; returns 0, or 1 after saying why. */
static int
generate(const struct opts *o)
{
	unsigned char ek[EK_LEN], blob[HWHASH_MAX_BYTES];
	char serial[64], disk[64], why[256], *b64, *tag_json;
	struct wg_hwhash h;
	uint64_t i, index, state;
	size_t n;

	memcpy(ek, ek_head, sizeof(ek_head));
	memset(&h, 0, sizeof(h));
	h.serial = serial;
	h.manufacturer = "Contoso";
	h.model = "WG Virtual 1";
	h.disk_serials[0] = disk;
	h.ndisks = 1;
	h.nmacs = 1;
	h.tpm_manufacturer = 0x49424D00; /* "IBM", as swtpm */
	h.tpm_vendor = "SW   TPM";
	h.tpm_spec_revision = 164;
	h.ek_public = ek;
	h.ek_public_len = sizeof(ek);
	b64 = xmalloc(hwhash_b64_len(HWHASH_MAX_BYTES) + 1);
	tag_json = json_tag(o->group_tag);
	fputs(o->json ? "{\"importedDeviceIdentities\": [\n" :
	    CSV_AUTOPILOT_HEADER "\n", stdout);
	for (i = 0; i < o->n; i++) {
		index = o->start + i;
		snprintf(serial, sizeof(serial), "WG-%" PRIu64 "-%" PRIu64,
		    o->seed, index);
		snprintf(disk, sizeof(disk), "WGD-%" PRIu64 "-%" PRIu64,
		    o->seed, index);
		state = o->seed ^ index << 20;
		h.macs[0][0] = 0x02; /* locally administered, unicast */
		for (n = 1; n < 6; n++)
			h.macs[0][n] = (unsigned char)(mix(&state) >> 32);
		h.created_ms = CREATED_BASE + (int64_t)(index % 86400000);
		fill_ek(ek, o->ek_seed_set ? o->ek_seed : o->seed, index);
		if (hwhash_encode_buf(&h, blob, sizeof(blob), &n, why,
		    sizeof(why)) != WG_OK) {
			fprintf(stderr, "gen_hashes: row %" PRIu64 ": %s\n",
			    index, why);
			break;
		}
		EVP_EncodeBlock((unsigned char *)b64, blob, (int)n);
		if (o->json)
			printf("%s{\"serialNumber\": \"%s\", \"productKey\": "
			    "\"\", \"hardwareIdentifier\": \"%s\", "
			    "\"groupTag\": %s, \"assignedUserPrincipalName\": "
			    "\"\"}", i ? ",\n" : "", serial, b64, tag_json);
		else {
			printf("%s,,%s,", serial, b64);
			csv_write_field(stdout, o->group_tag);
			fputs(",\n", stdout);
		}
	}
	if (o->json)
		fputs("\n]}\n", stdout);
	free(b64);
	free(tag_json);
	return i == o->n ? 0 : 1;
}

/* Fills o from argv; returns -1 when the program must exit with *code. */
static int
parse_args(int argc, char **argv, struct opts *o, int *code)
{
	const char *n = NULL;
	int i;

	*code = 2;
	o->seed = 1;
	o->group_tag = "";
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") ==
		    0) {
			usage(stdout);
			*code = 0;
			return -1;
		} else if (strcmp(argv[i], "--csv") == 0) {
			o->json = 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			o->json = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0) {
			if (number("seed", argv[++i], UINT64_MAX, &o->seed))
				return -1;
		} else if (i + 1 < argc && strcmp(argv[i], "--ek-seed") ==
		    0) {
			if (number("ek-seed", argv[++i], UINT64_MAX,
			    &o->ek_seed))
				return -1;
			o->ek_seed_set = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "--start") == 0) {
			if (number("start", argv[++i], UINT64_MAX - MAX_ROWS,
			    &o->start))
				return -1;
		} else if (i + 1 < argc && strcmp(argv[i], "--group-tag") ==
		    0) {
			o->group_tag = argv[++i];
		} else if (argv[i][0] != '-' && n == NULL) {
			n = argv[i];
		} else {
			usage(stderr);
			return -1;
		}
	}
	if (n == NULL || number("N", n, MAX_ROWS, &o->n) != 0) {
		if (n == NULL)
			usage(stderr);
		return -1;
	}
	if (!wg_str_printable(o->group_tag)) {
		fprintf(stderr, "gen_hashes: --group-tag must be printable "
		    "UTF-8\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 20];
	struct opts o = { 0 };
	int code;

	if (parse_args(argc, argv, &o, &code) != 0)
		return code;
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	code = generate(&o);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gen_hashes: writing: %s\n", strerror(errno));
		return 1;
	}
	return code;
}
