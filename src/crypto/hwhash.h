/*
 * The hardware hash: a versioned, self-describing TLV blob that names one
 * device (SMBIOS identity, disks, network adapters, TPM and its EK).  It is
 * base64 in CSV and JSON.  One encoder, one strict parser; the format is
 * docs/hwhash.md.
 */
#ifndef WG_HWHASH_H
#define WG_HWHASH_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"

#define HWHASH_VERSION 1
#define HWHASH_MAX_BYTES 8192	  /* a whole blob */
#define HWHASH_MAX_B64 11000	  /* its base64 text */
#define HWHASH_MAX_STR 256	  /* any text field */
#define HWHASH_MAX_DISKS 16
#define HWHASH_MAX_MACS 32
#define HWHASH_MAX_EK_PUBLIC 1024 /* TPM2B_PUBLIC bytes */

/*
 * A decoded hash.  Text fields are NUL-terminated printable UTF-8, NULL
 * when the device did not report them (containers, VMs).
 */
struct wg_hwhash {
	int version;
	int64_t created_ms;
	char *serial;
	char *manufacturer;
	char *model;
	char *family;
	char *sku;
	char *smbios_uuid;
	char *disk_serials[HWHASH_MAX_DISKS];
	size_t ndisks;
	unsigned char macs[HWHASH_MAX_MACS][6];
	size_t nmacs;
	uint32_t tpm_manufacturer;  /* TPM_PT_MANUFACTURER, e.g. "IBM " */
	char *tpm_vendor;	    /* TPM_PT_VENDOR_STRING_1..4 joined */
	uint64_t tpm_firmware;	    /* FIRMWARE_VERSION_1 << 32 | _2 */
	uint32_t tpm_spec_level;    /* TPM_PT_LEVEL */
	uint32_t tpm_spec_revision; /* TPM_PT_REVISION (e.g. 159 = 1.59) */
	unsigned char *ek_public;   /* TPM2B_PUBLIC as marshalled */
	size_t ek_public_len;
	unsigned char ek_sha256[32]; /* SHA-256 of ek_public's TPMT_PUBLIC */
};

/*
 * Encodes h (ek_sha256 is computed, not read from h; version is always
 * HWHASH_VERSION).  *out is xmalloc'd, the caller frees it.
 * WG_E_DDS_INVALID_HASH (logged) if a field breaks a rule of
 * docs/hwhash.md: a missing serial or EK, text that is empty, too long or
 * not printable, too many disks or MACs, a zero or repeated MAC, an EK
 * that is not RSA-2048 / ECC P-256.  Zero numbers and NULL strings are
 * left out.  The same h always gives the same bytes.
 */
enum wg_err hwhash_encode(const struct wg_hwhash *h, unsigned char **out,
    size_t *outlen) __attribute__((warn_unused_result));

/* Encodes h as standard base64 with padding; the caller frees it. */
enum wg_err hwhash_encode_b64(const struct wg_hwhash *h, char **out)
    __attribute__((warn_unused_result));

/*
 * hwhash_encode into the caller's buffer (HWHASH_MAX_BYTES always
 * suffices), for callers that encode many hashes; nothing is logged, why
 * names the field and the rule on failure.
 */
enum wg_err hwhash_encode_buf(const struct wg_hwhash *h, unsigned char *buf,
    size_t cap, size_t *outlen, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* The length of the padded base64 of n bytes (without a NUL). */
size_t hwhash_b64_len(size_t n);

/*
 * Parses a blob strictly (every length and count capped, unknown version,
 * duplicate singleton records, truncation, trailing bytes, an EK that is
 * not RSA-2048 or ECC P-256, a SHA-256 record that does not match the EK
 * are refused).  On success *out is a new hash the caller frees with
 * hwhash_free(); on failure *out is NULL, the result is
 * WG_E_DDS_INVALID_HASH and why names the record and the rule.
 */
enum wg_err hwhash_parse(const unsigned char *buf, size_t len,
    struct wg_hwhash **out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/*
 * The blob of a hash's base64 text (padded or not; no white space
 * inside), checked as base64 only: *out is xmalloc'd (the caller frees
 * it) and holds *n bytes for hwhash_parse().  WG_E_DDS_INVALID_HASH and
 * why on failure, as hwhash_parse_b64() says it.
 */
enum wg_err hwhash_b64_bytes(const char *b64, size_t len, unsigned char **out,
    size_t *n, char *why, size_t whylen) __attribute__((warn_unused_result));

/* hwhash_b64_bytes() then hwhash_parse(). */
enum wg_err hwhash_parse_b64(const char *b64, size_t len,
    struct wg_hwhash **out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

void hwhash_free(struct wg_hwhash *h);

/*
 * Whether sent, a hash the device sends now, describes the device that
 * imported describes (hwhash_match.c): the same serial, manufacturer,
 * model, family, SKU, SMBIOS UUID, set of disk serials, set of MAC
 * addresses, TPM manufacturer, vendor string and specification, and the
 * very same EK public area.  The creation time and the TPM's firmware
 * version may differ (a hash is made again for every request; a firmware
 * update keeps the TPM).  1 if it does; 0 with why naming the first field
 * that differs and both values.
 */
int hwhash_same_device(const struct wg_hwhash *imported,
    const struct wg_hwhash *sent, char *why, size_t whylen);

#endif
