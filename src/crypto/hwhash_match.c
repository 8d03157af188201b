/*
 * Whether two hardware hashes describe the same device (hwhash.h): what
 * the deployment service asks when a device sends its hash for its
 * profile.  Fields are compared as values, lists as sets, so that the
 * order the device found its disks and interfaces in does not matter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "crypto/hwhash.h"

/* A field of the hash and its two values, printable (NULL: absent). */
static int
differs(const char *field, const char *a, const char *b, char *why,
    size_t whylen)
{
	if (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0))
		return 0;
	wg_say(why, whylen, "%s: imported '%.64s', sent '%.64s'", field,
	    a != NULL ? a : "(absent)", b != NULL ? b : "(absent)");
	return 1;
}

static int
in_strings(char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* The disk serials as a set: each of one side is on the other. */
static int
disks_differ(const struct wg_hwhash *a, const struct wg_hwhash *b, char *why,
    size_t whylen)
{
	size_t i;

	for (i = 0; i < a->ndisks; i++)
		if (!in_strings(b->disk_serials, b->ndisks, a->disk_serials[i]))
			return differs("disk serial", a->disk_serials[i], NULL,
			    why, whylen);
	for (i = 0; i < b->ndisks; i++)
		if (!in_strings(a->disk_serials, a->ndisks, b->disk_serials[i]))
			return differs("disk serial", NULL, b->disk_serials[i],
			    why, whylen);
	return 0;
}

static int
in_macs(const unsigned char (*macs)[6], size_t n, const unsigned char *m)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(macs[i], m, 6) == 0)
			return 1;
	return 0;
}

static void
mac_text(const unsigned char *m, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
}

/* The MAC addresses as a set. */
static int
macs_differ(const struct wg_hwhash *a, const struct wg_hwhash *b, char *why,
    size_t whylen)
{
	char text[18];
	size_t i;

	for (i = 0; i < a->nmacs; i++)
		if (!in_macs(b->macs, b->nmacs, a->macs[i])) {
			mac_text(a->macs[i], text);
			return differs("MAC address", text, NULL, why, whylen);
		}
	for (i = 0; i < b->nmacs; i++)
		if (!in_macs(a->macs, a->nmacs, b->macs[i])) {
			mac_text(b->macs[i], text);
			return differs("MAC address", NULL, text, why, whylen);
		}
	return 0;
}

/* The TPM's fixed properties, the firmware version aside. */
static int
tpm_differs(const struct wg_hwhash *a, const struct wg_hwhash *b, char *why,
    size_t whylen)
{
	char x[32], y[32];

	if (a->tpm_manufacturer != b->tpm_manufacturer) {
		snprintf(x, sizeof(x), "0x%08x", a->tpm_manufacturer);
		snprintf(y, sizeof(y), "0x%08x", b->tpm_manufacturer);
		return differs("TPM manufacturer", x, y, why, whylen);
	}
	if (a->tpm_spec_level != b->tpm_spec_level ||
	    a->tpm_spec_revision != b->tpm_spec_revision) {
		snprintf(x, sizeof(x), "level %u revision %u",
		    a->tpm_spec_level, a->tpm_spec_revision);
		snprintf(y, sizeof(y), "level %u revision %u",
		    b->tpm_spec_level, b->tpm_spec_revision);
		return differs("TPM specification", x, y, why, whylen);
	}
	if (differs("TPM vendor string", a->tpm_vendor, b->tpm_vendor, why,
	    whylen))
		return 1;
	if (a->ek_public_len != b->ek_public_len ||
	    memcmp(a->ek_public, b->ek_public, a->ek_public_len) != 0) {
		wg_hex(a->ek_sha256, 8, x);
		wg_hex(b->ek_sha256, 8, y);
		wg_say(why, whylen, "EK: imported SHA-256 %s..., sent %s...", x,
		    y);
		return 1;
	}
	return 0;
}

int
hwhash_same_device(const struct wg_hwhash *a, const struct wg_hwhash *b,
    char *why, size_t whylen)
{
	return !(differs("serial number", a->serial, b->serial, why, whylen) ||
	    differs("manufacturer", a->manufacturer, b->manufacturer, why,
	    whylen) ||
	    differs("model", a->model, b->model, why, whylen) ||
	    differs("family", a->family, b->family, why, whylen) ||
	    differs("SKU", a->sku, b->sku, why, whylen) ||
	    differs("SMBIOS UUID", a->smbios_uuid, b->smbios_uuid, why,
	    whylen) ||
	    disks_differ(a, b, why, whylen) || macs_differ(a, b, why, whylen) ||
	    tpm_differs(a, b, why, whylen));
}
