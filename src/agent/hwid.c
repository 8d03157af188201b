/*
 * This device's hardware hash (hwid.h): the identity sysinfo collected,
 * the TPM's facts and its EK, in the TLV format of crypto/hwhash.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/hwid.h"
#include "common/util.h"
#include "crypto/hwhash.h"

/* The reason the firmware gave no serial (from the missing list). */
static const char *
serial_reason(const struct sysinfo *si)
{
	size_t i;

	for (i = 0; i < si->nmissing; i++)
		if (strcmp(si->missing[i].field, "product_serial") == 0)
			return si->missing[i].reason;
	return "not reported";
}

const char *
hwid_serial(const struct sysinfo *si, const char *given, char *why,
    size_t whylen)
{
	char code[16];

	if (si->serial != NULL && given != NULL &&
	    strcmp(si->serial, given) != 0) {
		wg_say(why, whylen, "--serial is only for devices whose "
		    "firmware reports no serial number; this one reports '%s'",
		    si->serial);
		return NULL;
	}
	if (si->serial != NULL)
		return si->serial;
	if (given != NULL)
		return given;
	wg_err_code_str(WG_E_DDS_MISSING_SERIAL, code, sizeof(code));
	wg_say(why, whylen, "%s %s: the firmware reports no serial number "
	    "(product_serial: %s); a device cannot be registered without "
	    "one. On a virtual machine set one in its configuration or give "
	    "it with --serial.", code, wg_err_name(WG_E_DDS_MISSING_SERIAL),
	    serial_reason(si));
	return NULL;
}

/* The TPM part of the hash: info and EK public (h->ek_public: caller). */
static enum wg_err
hwid_tpm(struct tpm_ctx *tpm, enum tpm_ek_alg alg, struct wg_hwhash *h,
    char vendor[17])
{
	struct tpm_info info;
	enum wg_err err;

	if ((err = tpm_info_read(tpm, &info)) != WG_OK ||
	    (err = tpm_ek_public(tpm, alg, &h->ek_public,
	    &h->ek_public_len)) != WG_OK)
		return err;
	memcpy(vendor, info.vendor, sizeof(info.vendor));
	h->tpm_manufacturer = info.manufacturer;
	h->tpm_vendor = vendor[0] != '\0' ? vendor : NULL;
	h->tpm_firmware = info.firmware;
	h->tpm_spec_level = info.spec_level;
	h->tpm_spec_revision = info.spec_revision;
	return WG_OK;
}

enum wg_err
hwid_build(struct tpm_ctx *tpm, enum tpm_ek_alg alg, const struct sysinfo *si,
    const char *serial, char **b64)
{
	struct wg_hwhash h;
	char vendor[17];
	enum wg_err err;
	size_t i;

	*b64 = NULL;
	memset(&h, 0, sizeof(h));
	h.version = HWHASH_VERSION;
	h.created_ms = wg_now_ms();
	/* the strings are borrowed from si, serial and the stack */
	h.serial = (char *)serial;
	h.manufacturer = si->manufacturer;
	h.model = si->model;
	h.family = si->family;
	h.sku = si->sku;
	h.smbios_uuid = si->uuid;
	for (i = 0; i < si->ndisks; i++)
		h.disk_serials[i] = si->disk_serials[i];
	h.ndisks = si->ndisks;
	memcpy(h.macs, si->macs, sizeof(h.macs));
	h.nmacs = si->nmacs;
	if ((err = hwid_tpm(tpm, alg, &h, vendor)) == WG_OK)
		err = hwhash_encode_b64(&h, b64);
	free(h.ek_public);
	return err;
}
