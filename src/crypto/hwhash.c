/*
 * The hardware hash: "WGHH", a version byte, then tag-length-value
 * records in ascending tag order.  docs/hwhash.md is the format; this file
 * is its one encoder and its one parser, and the two share every rule
 * (the rec_defs table and the value checks below), so whatever the
 * encoder writes the parser reads back unchanged.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "crypto/hwhash.h"
#include "crypto/tpmpub.h"

#define MAGIC "WGHH"
#define HEADER_LEN 5	      /* magic and version */
#define REC_HEADER_LEN 3      /* tag and a 2-byte big-endian length */
#define TAG_MAY_IGNORE 0x80   /* an unknown tag with this bit is skipped */
#define VENDOR_MAX 16	      /* TPM_PT_VENDOR_STRING_1..4 */
#define CREATED_MAX INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

enum rec_tag {
	TAG_SERIAL = 0x01,
	TAG_MANUFACTURER = 0x02,
	TAG_MODEL = 0x03,
	TAG_FAMILY = 0x04,
	TAG_SKU = 0x05,
	TAG_SMBIOS_UUID = 0x06,
	TAG_CREATED = 0x07,
	TAG_DISK_SERIAL = 0x10,
	TAG_MAC = 0x11,
	TAG_TPM_MANUFACTURER = 0x20,
	TAG_TPM_VENDOR = 0x21,
	TAG_TPM_FIRMWARE = 0x22,
	TAG_TPM_SPEC = 0x23,
	TAG_EK_PUBLIC = 0x30,
	TAG_EK_SHA256 = 0x31,
};

enum rec_kind { K_TEXT, K_TIME, K_MAC, K_U32, K_U64, K_SPEC, K_EK, K_SHA };

/* One record type: docs/hwhash.md's table. */
struct rec_def {
	uint8_t tag;
	enum rec_kind kind;
	const char *name;
	uint16_t min, max;   /* value length */
	uint8_t max_count;   /* 1: a singleton */
	size_t text;	     /* K_TEXT singletons: offset of the char * */
};

static const struct rec_def rec_defs[] = {
	{ TAG_SERIAL, K_TEXT, "serial", 1, HWHASH_MAX_STR, 1,
	    offsetof(struct wg_hwhash, serial) },
	{ TAG_MANUFACTURER, K_TEXT, "manufacturer", 1, HWHASH_MAX_STR, 1,
	    offsetof(struct wg_hwhash, manufacturer) },
	{ TAG_MODEL, K_TEXT, "model", 1, HWHASH_MAX_STR, 1,
	    offsetof(struct wg_hwhash, model) },
	{ TAG_FAMILY, K_TEXT, "family", 1, HWHASH_MAX_STR, 1,
	    offsetof(struct wg_hwhash, family) },
	{ TAG_SKU, K_TEXT, "SKU", 1, HWHASH_MAX_STR, 1,
	    offsetof(struct wg_hwhash, sku) },
	{ TAG_SMBIOS_UUID, K_TEXT, "SMBIOS UUID", 1, HWHASH_MAX_STR, 1,
	    offsetof(struct wg_hwhash, smbios_uuid) },
	{ TAG_CREATED, K_TIME, "creation time", 8, 8, 1, 0 },
	{ TAG_DISK_SERIAL, K_TEXT, "disk serial", 1, HWHASH_MAX_STR,
	    HWHASH_MAX_DISKS, 0 },
	{ TAG_MAC, K_MAC, "MAC", 6, 6, HWHASH_MAX_MACS, 0 },
	{ TAG_TPM_MANUFACTURER, K_U32, "TPM manufacturer", 4, 4, 1, 0 },
	{ TAG_TPM_VENDOR, K_TEXT, "TPM vendor", 1, VENDOR_MAX, 1,
	    offsetof(struct wg_hwhash, tpm_vendor) },
	{ TAG_TPM_FIRMWARE, K_U64, "TPM firmware", 8, 8, 1, 0 },
	{ TAG_TPM_SPEC, K_SPEC, "TPM spec", 8, 8, 1, 0 },
	{ TAG_EK_PUBLIC, K_EK, "EK public", 2, HWHASH_MAX_EK_PUBLIC, 1, 0 },
	{ TAG_EK_SHA256, K_SHA, "EK SHA-256", 32, 32, 1, 0 },
};
#define NDEFS (sizeof(rec_defs) / sizeof(rec_defs[0]))

static const struct rec_def *
rec_def(unsigned tag)
{
	size_t i;

	for (i = 0; i < NDEFS; i++)
		if (rec_defs[i].tag == tag)
			return &rec_defs[i];
	return NULL;
}


/* ---- the rules both directions share ---- */

/* NULL if n bytes at s are acceptable text, else the rule they break. */
static const char *
text_rule(const char *s, size_t n, size_t max)
{
	char buf[HWHASH_MAX_STR + 1];

	if (n == 0)
		return "empty text (an absent value is written by leaving the "
		    "record out)";
	if (n > max)
		return "text longer than its limit";
	if (memchr(s, '\0', n) != NULL)
		return "text contains a NUL byte";
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!wg_str_printable(buf))
		return "text is not printable UTF-8 (RFC 3629, no control "
		    "characters)";
	return NULL;
}

/* NULL if mac may be the k-th MAC after macs[0..k), else the rule. */
static const char *
mac_rule(const unsigned char (*macs)[6], size_t k, const unsigned char *mac)
{
	static const unsigned char zero[6];
	size_t i;

	if (memcmp(mac, zero, 6) == 0)
		return "MAC 00:00:00:00:00:00 is not an adapter's address";
	for (i = 0; i < k; i++)
		if (memcmp(macs[i], mac, 6) == 0)
			return "MAC appears twice";
	return NULL;
}

/*
 * Parses an EK public area into ek (borrowing buf) and checks it is an EK:
 * RSA-2048 or ECC P-256 (tpmpub.c), and a restricted decryption key fixed
 * to its TPM as every TCG EK template makes it (EK Credential Profile
 * 2.0, 2.2.1).  0 if so, else -1 and why holds the reason.
 */
static int
ek_check(const unsigned char *buf, size_t len, struct tpm_public *ek,
    char *why, size_t whylen)
{
	const uint32_t want = TPMA_FIXEDTPM | TPMA_RESTRICTED | TPMA_DECRYPT;

	if (tpm_public_parse(buf, len, ek, why, whylen) != WG_OK)
		return -1;
	if ((ek->attributes & want) != want ||
	    (ek->attributes & TPMA_SIGN) != 0) {
		wg_say(why, whylen, "TPMT_PUBLIC.objectAttributes: 0x%08x is not "
		    "an EK's (fixedTPM, restricted and decrypt set, sign "
		    "clear; EK Credential Profile 2.2.1)", ek->attributes);
		return -1;
	}
	return 0;
}

/* ---- parsing ---- */

struct ps {
	const unsigned char *buf;
	size_t len, off;	 /* off: the current record's first byte */
	const struct rec_def *def;
	unsigned tag;
	struct wg_hwhash *h;
	struct tpm_public ek;
	unsigned counts[256];
	char *why;
	size_t whylen;
};

static int rec_fail(struct ps *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "record 0xTT (name) at offset N: <message>"; returns -1. */
static int
rec_fail(struct ps *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->why == NULL || s->whylen == 0)
		return -1;
	n = snprintf(s->why, s->whylen, "record 0x%02x (%s) at offset %zu: ",
	    s->tag, s->def != NULL ? s->def->name : "unknown", s->off);
	if (n < 0 || (size_t)n >= s->whylen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->why + n, s->whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
take_text(struct ps *s, const unsigned char *v, size_t n)
{
	const char *rule = text_rule((const char *)v, n, s->def->max);
	char **slot;

	if (rule != NULL)
		return rec_fail(s, "%s", rule);
	if (s->def->tag == TAG_DISK_SERIAL)
		slot = &s->h->disk_serials[s->h->ndisks++];
	else
		slot = (char **)((char *)s->h + s->def->text);
	*slot = xstrndup((const char *)v, n);
	return 0;
}

static int
take_ek(struct ps *s, const unsigned char *v, size_t n)
{
	char why[200];

	if (ek_check(v, n, &s->ek, why, sizeof(why)) != 0)
		return rec_fail(s, "%s", why);
	s->h->ek_public = xmalloc(n);
	memcpy(s->h->ek_public, v, n);
	s->h->ek_public_len = n;
	s->ek.area = s->h->ek_public + 2; /* point at our copy */
	tpm_public_sha256(&s->ek, s->h->ek_sha256);
	return 0;
}

/* The value of a record whose tag, length and count are known good. */
static int
take_value(struct ps *s, const unsigned char *v, size_t n)
{
	struct wg_hwhash *h = s->h;
	const char *rule;

	switch (s->def->kind) {
	case K_TEXT:
		return take_text(s, v, n);
	case K_TIME:
		h->created_ms = (int64_t)wg_get_be(v, 8);
		if (h->created_ms <= 0 || h->created_ms > CREATED_MAX)
			return rec_fail(s, "%lld ms is outside 1 ms after the "
			    "epoch .. the year 9999", (long long)h->created_ms);
		return 0;
	case K_MAC:
		if ((rule = mac_rule((const unsigned char (*)[6])h->macs,
		    h->nmacs, v)) != NULL)
			return rec_fail(s, "%s", rule);
		memcpy(h->macs[h->nmacs++], v, 6);
		return 0;
	case K_U32:
		if ((h->tpm_manufacturer = (uint32_t)wg_get_be(v, 4)) == 0)
			return rec_fail(s, "0 is not a manufacturer ID (leave "
			    "the record out)");
		return 0;
	case K_U64:
		if ((h->tpm_firmware = wg_get_be(v, 8)) == 0)
			return rec_fail(s, "version 0 (leave the record out)");
		return 0;
	case K_SPEC:
		h->tpm_spec_level = (uint32_t)wg_get_be(v, 4);
		if ((h->tpm_spec_revision = (uint32_t)wg_get_be(v + 4, 4)) == 0)
			return rec_fail(s, "revision 0 is not a revision");
		return 0;
	case K_EK:
		return take_ek(s, v, n);
	case K_SHA:
		if (h->ek_public == NULL)
			return rec_fail(s, "there is no EK public record 0x30 "
			    "before it");
		if (CRYPTO_memcmp(v, h->ek_sha256, 32) != 0)
			return rec_fail(s, "does not match the SHA-256 of the "
			    "EK public area in record 0x30");
		return 0;
	}
	return rec_fail(s, "unhandled record kind");
}

/* Tag, order, count and length rules for the record at s->off. */
static int
check_record(struct ps *s, unsigned prev, size_t n)
{
	const struct rec_def *d = s->def;

	if (s->counts[TAG_EK_SHA256] != 0 && !(s->tag & TAG_MAY_IGNORE))
		return rec_fail(s, "%zu trailing bytes after the EK SHA-256 "
		    "record (only ignorable records, tag 0x80 and up, may "
		    "follow it)", s->len - s->off);
	if (d == NULL && !(s->tag & TAG_MAY_IGNORE))
		return rec_fail(s, "unknown tag without the may-ignore bit "
		    "0x80: the hash needs a newer whiteglove");
	if (s->tag < prev)
		return rec_fail(s, "out of order after record 0x%02x (records "
		    "are in ascending tag order)", prev);
	if (d == NULL)
		return 0;
	if (s->counts[s->tag] == d->max_count)
		return d->max_count == 1 ? rec_fail(s, "duplicate record "
		    "(at most one)") : rec_fail(s, "more than %u records",
		    d->max_count);
	if (n < d->min || n > d->max)
		return d->min == d->max ? rec_fail(s, "length %zu, must be %u",
		    n, d->min) : n == 0 ? rec_fail(s, "length 0: empty value "
		    "(an absent value is written by leaving the record out)") :
		    rec_fail(s, "length %zu is over the %u-byte limit", n,
		    d->max);
	return 0;
}

/* Walks the records after the header; fills s->h. */
static int
parse_records(struct ps *s)
{
	unsigned prev = 0;
	size_t n;

	for (s->off = HEADER_LEN; s->off < s->len;
	    s->off += REC_HEADER_LEN + n) {
		s->tag = s->buf[s->off];
		s->def = rec_def(s->tag);
		if (REC_HEADER_LEN > s->len - s->off)
			return rec_fail(s, "truncated record header (%zu of 3 "
			    "bytes)%s", s->len - s->off, s->counts[TAG_EK_SHA256] ? ": "
			    "trailing bytes after the EK SHA-256 record" : "");
		n = (size_t)wg_get_be(s->buf + s->off + 1, 2);
		if (n > s->len - s->off - REC_HEADER_LEN)
			return rec_fail(s, "length %zu runs past the end of "
			    "the hash (%zu bytes left): truncated", n,
			    s->len - s->off - REC_HEADER_LEN);
		if (check_record(s, prev, n) != 0)
			return -1;
		prev = s->tag;
		if (s->def == NULL)
			continue; /* ignorable: skipped */
		s->counts[s->tag]++;
		if (take_value(s, s->buf + s->off + REC_HEADER_LEN, n) != 0)
			return -1;
	}
	return 0;
}

/* The header, then the records, then the required ones. */
static int
parse_all(struct ps *s)
{
	static const unsigned required[] = { TAG_SERIAL, TAG_EK_PUBLIC,
		TAG_EK_SHA256 };
	size_t i;

	if (s->len > HWHASH_MAX_BYTES) {
		wg_say(s->why, s->whylen, "%zu bytes, over the %d-byte limit of a "
		    "hardware hash", s->len, HWHASH_MAX_BYTES);
		return -1;
	}
	if (s->len < HEADER_LEN || memcmp(s->buf, MAGIC, 4) != 0) {
		wg_say(s->why, s->whylen, "not a whiteglove hardware hash: it "
		    "does not start with \"WGHH\" and a version byte (%zu "
		    "bytes)", s->len);
		return -1;
	}
	if (s->buf[4] != HWHASH_VERSION) {
		wg_say(s->why, s->whylen, "header at offset 4: version %u is not "
		    "supported (this whiteglove reads version %d)", s->buf[4],
		    HWHASH_VERSION);
		return -1;
	}
	if (parse_records(s) != 0)
		return -1;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (s->counts[required[i]] == 0) {
			wg_say(s->why, s->whylen, "record 0x%02x (%s) is missing "
			    "(required)", required[i],
			    rec_def(required[i])->name);
			return -1;
		}
	}
	return 0;
}

enum wg_err
hwhash_parse(const unsigned char *buf, size_t len, struct wg_hwhash **out,
    char *why, size_t whylen)
{
	struct ps s;
	enum wg_err rc = WG_E_DDS_INVALID_HASH;

	*out = NULL;
	wg_say(why, whylen, "%s", "");
	memset(&s, 0, sizeof(s));
	s.buf = buf;
	s.len = len;
	s.why = why;
	s.whylen = whylen;
	s.h = xcalloc(1, sizeof(*s.h));
	s.h->version = HWHASH_VERSION;
	if (parse_all(&s) != 0)
		goto done;
	*out = s.h;
	s.h = NULL;
	rc = WG_OK;
done:
	hwhash_free(s.h);
	return rc;
}

void
hwhash_free(struct wg_hwhash *h)
{
	size_t i;

	if (h == NULL)
		return;
	free(h->serial);
	free(h->manufacturer);
	free(h->model);
	free(h->family);
	free(h->sku);
	free(h->smbios_uuid);
	for (i = 0; i < h->ndisks && i < HWHASH_MAX_DISKS; i++)
		free(h->disk_serials[i]);
	free(h->tpm_vendor);
	free(h->ek_public);
	free(h);
}

/* ---- base64 ---- */

/* The base64 message for a character that is not in the alphabet. */
static void
b64_bad_char(const char *in, size_t i, char *why, size_t whylen)
{
	unsigned char c = (unsigned char)in[i];

	if (c == '=')
		wg_say(why, whylen, "base64: '=' inside the text at offset %zu "
		    "(padding may only end it)", i);
	else if (c > 0x20 && c < 0x7f)
		wg_say(why, whylen, "base64: character 0x%02x ('%c') at offset "
		    "%zu is not in the base64 alphabet", c, c, i);
	else
		wg_say(why, whylen, "base64: character 0x%02x at offset %zu is "
		    "not in the base64 alphabet", c, i);
}

/*
 * Strict standard base64 (RFC 4648 section 4), padded or not: no white
 * space, no '=' inside, at most two '=' completing a group of four, the
 * unused bits of the last character zero.  out must hold len * 3 / 4
 * bytes.
 */
static int
b64_decode(const char *in, size_t len, unsigned char *out, size_t *outlen,
    char *why, size_t whylen)
{
	size_t pad = 0, data, bad;
	enum wg_b64_err err;

	while (pad < len && in[len - 1 - pad] == '=')
		pad++;
	data = len - pad;
	err = wg_b64_decode(in, data, WG_B64_STD, out, outlen, &bad);
	if (err == WG_B64_BAD_CHAR) {
		b64_bad_char(in, bad, why, whylen);
		return -1;
	}
	if (pad > 2 || (pad > 0 && (len % 4 != 0 || data % 4 < 2))) {
		wg_say(why, whylen, "base64: the '=' padding at offset %zu is "
		    "wrong (1 or 2 '=' completing a group of 4)", data);
		return -1;
	}
	if (err == WG_B64_BAD_LEN) {
		wg_say(why, whylen, "base64: %zu characters cannot be base64 "
		    "(one character too many or missing)", data);
		return -1;
	}
	if (err == WG_B64_BAD_BITS) {
		wg_say(why, whylen, "base64: the last character has unused bits "
		    "set (not canonical base64)");
		return -1;
	}
	return 0;
}

/* The blob of base64 text into buf (len * 3 / 4 bytes). */
static int
blob_of_b64(const char *b64, size_t len, unsigned char *buf, size_t *n,
    char *why, size_t whylen)
{
	if (len == 0) {
		wg_say(why, whylen, "the hardware hash is empty");
		return -1;
	}
	if (len > HWHASH_MAX_B64) {
		wg_say(why, whylen, "base64: %zu characters, over the "
		    "%d-character limit", len, HWHASH_MAX_B64);
		return -1;
	}
	return b64_decode(b64, len, buf, n, why, whylen);
}

enum wg_err
hwhash_b64_bytes(const char *b64, size_t len, unsigned char **out,
    size_t *n, char *why, size_t whylen)
{
	/* blob_of_b64() refuses an overlong text before it writes */
	unsigned char *buf = xmalloc((len <= HWHASH_MAX_B64 ? len : 0) * 3 / 4 +
	    1);

	*out = NULL;
	*n = 0;
	if (blob_of_b64(b64, len, buf, n, why, whylen) != 0) {
		free(buf);
		*n = 0;
		return WG_E_DDS_INVALID_HASH;
	}
	*out = buf;
	return WG_OK;
}

enum wg_err
hwhash_parse_b64(const char *b64, size_t len, struct wg_hwhash **out,
    char *why, size_t whylen)
{
	unsigned char buf[HWHASH_MAX_B64 * 3 / 4 + 1];
	size_t n;

	*out = NULL;
	if (blob_of_b64(b64, len, buf, &n, why, whylen) != 0)
		return WG_E_DDS_INVALID_HASH;
	return hwhash_parse(buf, n, out, why, whylen);
}

/* ---- encoding ---- */

struct wr {
	unsigned char *p;
	size_t cap, n;
	char *why;
	size_t whylen;
};

static int
put_rec(struct wr *w, unsigned tag, const void *v, size_t n)
{
	const struct rec_def *d = rec_def(tag);

	if (n < d->min || n > d->max || w->cap < w->n ||
	    REC_HEADER_LEN + n > w->cap - w->n) {
		wg_say(w->why, w->whylen, "%s: length %zu is outside %u..%u or "
		    "the hash is over %zu bytes", d->name, n, d->min, d->max,
		    w->cap);
		return -1;
	}
	w->p[w->n] = (unsigned char)tag;
	wg_put_be(w->p + w->n + 1, n, 2);
	memcpy(w->p + w->n + REC_HEADER_LEN, v, n);
	w->n += REC_HEADER_LEN + n;
	return 0;
}

static int
put_text(struct wr *w, unsigned tag, const char *s)
{
	const struct rec_def *d = rec_def(tag);
	const char *rule;
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, (size_t)d->max + 1);
	if ((rule = text_rule(s, n, d->max)) != NULL) {
		wg_say(w->why, w->whylen, "%s: %s", d->name, rule);
		return -1;
	}
	return put_rec(w, tag, s, n);
}

static int
put_num(struct wr *w, unsigned tag, uint64_t v, size_t n)
{
	unsigned char b[8];

	wg_put_be(b, v, n);
	return put_rec(w, tag, b, n);
}

/* The SMBIOS text records and the creation time (tags 0x01..0x07). */
static int
put_identity(struct wr *w, const struct wg_hwhash *h)
{
	size_t i;

	if (h->serial == NULL) {
		wg_say(w->why, w->whylen, "serial: missing (required)");
		return -1;
	}
	for (i = 0; i < NDEFS && rec_defs[i].tag < TAG_CREATED; i++)
		if (put_text(w, rec_defs[i].tag, *(char *const *)((const
		    char *)h + rec_defs[i].text)) != 0)
			return -1;
	if (h->created_ms < 0 || h->created_ms > CREATED_MAX) {
		wg_say(w->why, w->whylen, "creation time: %lld ms is out of "
		    "range", (long long)h->created_ms);
		return -1;
	}
	return h->created_ms == 0 ? 0 : put_num(w, TAG_CREATED,
	    (uint64_t)h->created_ms, 8);
}

/* Disks and MACs (0x10, 0x11). */
static int
put_devices(struct wr *w, const struct wg_hwhash *h)
{
	const char *rule;
	size_t i;

	if (h->ndisks > HWHASH_MAX_DISKS || h->nmacs > HWHASH_MAX_MACS) {
		wg_say(w->why, w->whylen, "%zu disks and %zu MACs: over the "
		    "limits (%d, %d)", h->ndisks, h->nmacs, HWHASH_MAX_DISKS,
		    HWHASH_MAX_MACS);
		return -1;
	}
	for (i = 0; i < h->ndisks; i++) {
		if (h->disk_serials[i] == NULL) {
			wg_say(w->why, w->whylen, "disk serial %zu: NULL", i);
			return -1;
		}
		if (put_text(w, TAG_DISK_SERIAL, h->disk_serials[i]) != 0)
			return -1;
	}
	for (i = 0; i < h->nmacs; i++) {
		if ((rule = mac_rule(h->macs, i, h->macs[i])) != NULL) {
			wg_say(w->why, w->whylen, "MAC %zu: %s", i, rule);
			return -1;
		}
		if (put_rec(w, TAG_MAC, h->macs[i], 6) != 0)
			return -1;
	}
	return 0;
}

/* The TPM's properties and its EK (0x20..0x31). */
static int
put_tpm(struct wr *w, const struct wg_hwhash *h)
{
	struct tpm_public ek;
	unsigned char sha[32];
	char why[200];

	if ((h->tpm_manufacturer != 0 && put_num(w, TAG_TPM_MANUFACTURER,
	    h->tpm_manufacturer, 4) != 0) ||
	    put_text(w, TAG_TPM_VENDOR, h->tpm_vendor) != 0 ||
	    (h->tpm_firmware != 0 && put_num(w, TAG_TPM_FIRMWARE,
	    h->tpm_firmware, 8) != 0))
		return -1;
	if (h->tpm_spec_revision == 0 && h->tpm_spec_level != 0) {
		wg_say(w->why, w->whylen, "TPM spec: level without a revision");
		return -1;
	}
	if (h->tpm_spec_revision != 0 && put_num(w, TAG_TPM_SPEC,
	    (uint64_t)h->tpm_spec_level << 32 | h->tpm_spec_revision, 8) != 0)
		return -1;
	if (h->ek_public == NULL || h->ek_public_len > HWHASH_MAX_EK_PUBLIC ||
	    ek_check(h->ek_public, h->ek_public_len, &ek, why,
	    sizeof(why)) != 0) {
		wg_say(w->why, w->whylen, "EK public: %s", h->ek_public == NULL ?
		    "missing (required)" : why);
		return -1;
	}
	tpm_public_sha256(&ek, sha);
	if (put_rec(w, TAG_EK_PUBLIC, h->ek_public, h->ek_public_len) != 0)
		return -1;
	return put_rec(w, TAG_EK_SHA256, sha, sizeof(sha));
}

enum wg_err
hwhash_encode_buf(const struct wg_hwhash *h, unsigned char *buf,
    size_t cap, size_t *outlen, char *why, size_t whylen)
{
	struct wr w = { .p = buf, .cap = cap, .why = why, .whylen = whylen };

	*outlen = 0;
	wg_say(why, whylen, "%s", "");
	if (cap < HEADER_LEN) {
		wg_say(why, whylen, "no room for the header");
		return WG_E_DDS_INVALID_HASH;
	}
	memcpy(buf, MAGIC, 4);
	buf[4] = HWHASH_VERSION;
	w.n = HEADER_LEN;
	if (put_identity(&w, h) != 0 || put_devices(&w, h) != 0 ||
	    put_tpm(&w, h) != 0)
		return WG_E_DDS_INVALID_HASH;
	*outlen = w.n;
	return WG_OK;
}

enum wg_err
hwhash_encode(const struct wg_hwhash *h, unsigned char **out,
    size_t *outlen)
{
	unsigned char *buf = xmalloc(HWHASH_MAX_BYTES);
	char why[256];
	enum wg_err rc;

	*out = NULL;
	rc = hwhash_encode_buf(h, buf, HWHASH_MAX_BYTES, outlen, why,
	    sizeof(why));
	if (rc != WG_OK) {
		wg_error("hardware hash not encoded: %s", why);
		free(buf);
		return rc;
	}
	*out = buf;
	return WG_OK;
}

size_t
hwhash_b64_len(size_t n)
{
	return 4 * ((n + 2) / 3);
}

enum wg_err
hwhash_encode_b64(const struct wg_hwhash *h, char **out)
{
	unsigned char buf[HWHASH_MAX_BYTES];
	char why[256];
	size_t n;
	enum wg_err rc;

	*out = NULL;
	rc = hwhash_encode_buf(h, buf, sizeof(buf), &n, why, sizeof(why));
	if (rc != WG_OK) {
		wg_error("hardware hash not encoded: %s", why);
		return rc;
	}
	*out = xmalloc(hwhash_b64_len(n) + 1);
	EVP_EncodeBlock((unsigned char *)*out, buf, (int)n);
	return WG_OK;
}
