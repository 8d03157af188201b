#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "log.h"
#include "util.h"
#include "xmalloc.h"

int64_t
wg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
wg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
wg_cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
}

void
wg_deadline_in(int64_t ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void
wg_time_rfc3339(int64_t ms, char buf[32])
{
	int64_t sec = ms / 1000, rem = ms % 1000;
	struct tm tm;
	time_t t;
	size_t n;

	if (rem < 0) { /* before 1970: floor, so that ms stays in 0..999 */
		rem += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL ||
	    (n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm)) == 0 ||
	    n > 32 - 6) {
		snprintf(buf, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf + n, 32 - n, ".%03dZ", (int)rem % 1000);
}

enum wg_err
wg_random(void *buf, size_t n)
{
	if (n > 0x7fffffff || RAND_bytes(buf, (int)n) != 1)
		return WG_E_CRYPTO;
	return WG_OK;
}

static void
uuid_format(unsigned char b[16], char out[WG_UUID_LEN + 1])
{
	static const unsigned dash_after = 0x2a8; /* bytes 3, 5, 7, 9 */
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		wg_hex(b + i, 1, out + o);
		o += 2;
		if (i < 10 && (dash_after >> i & 1))
			out[o++] = '-';
	}
	out[o] = '\0';
}

/*
 * Random bytes for ids, drawn from the CSPRNG a block at a time per
 * thread: one RAND_bytes() call per id was a measurable share of a bulk
 * import.
 */
static void
id_random(unsigned char b[16])
{
	static _Thread_local unsigned char pool[512];
	static _Thread_local size_t left;

	if (left < 16) {
		if (wg_random(pool, sizeof(pool)) != WG_OK)
			abort(); /* no entropy: nothing secure can be done */
		left = sizeof(pool);
	}
	memcpy(b, pool + sizeof(pool) - left, 16);
	memset(pool + sizeof(pool) - left, 0, 16);
	left -= 16;
}

void
wg_uuid(char out[WG_UUID_LEN + 1])
{
	unsigned char b[16];

	id_random(b);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	uuid_format(b, out);
}


void
wg_uuid7(char out[WG_UUID_LEN + 1])
{
	static _Thread_local int64_t last_ms;
	static _Thread_local uint16_t seq;
	unsigned char b[16];
	int64_t ms = wg_now_ms();
	int i;

	id_random(b);
	/* Within one millisecond a 12-bit counter keeps this thread's order. */
	seq = ms == last_ms ? (uint16_t)(seq + 1) : 0;
	last_ms = ms;
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | ((seq >> 8) & 0x0f));
	b[7] = (unsigned char)seq;
	b[8] = (b[8] & 0x3f) | 0x80;
	uuid_format(b, out);
}

void
wg_hex(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
wg_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
wg_hex_decode(const char *hex, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = wg_hex_value(hex[2 * i])) < 0 ||
		    (lo = wg_hex_value(hex[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

char *
wg_b64(const void *in, size_t n)
{
	char *out;

	if (n > 0x3fffffff)
		abort();
	out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

char *
wg_b64url(const void *in, size_t n)
{
	char *out = wg_b64(in, n);
	size_t len = strlen(out), i;

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

/* Each byte's value in each alphabet, or 0xff outside it. */
static unsigned char b64_table[2][256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void
b64_tables_build(void)
{
	static const char common[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	memset(b64_table, 0xff, sizeof(b64_table));
	for (i = 0; i < 62; i++)
		b64_table[WG_B64_STD][(unsigned char)common[i]] =
		    b64_table[WG_B64_URL][(unsigned char)common[i]] =
		    (unsigned char)i;
	b64_table[WG_B64_STD]['+'] = b64_table[WG_B64_URL]['-'] = 62;
	b64_table[WG_B64_STD]['/'] = b64_table[WG_B64_URL]['_'] = 63;
}

enum wg_b64_err
wg_b64_decode(const char *in, size_t len, enum wg_b64_alphabet abc,
    unsigned char *out, size_t *outlen, size_t *bad)
{
	const unsigned char *t, *g;
	size_t i, o = 0;
	unsigned acc = 0, bits = 0, v;
	uint32_t w;

	pthread_once(&b64_once, b64_tables_build);
	t = b64_table[abc];
	*outlen = 0;
	/* Whole groups of four characters to three bytes, then the rest. */
	for (i = 0; i + 4 <= len; i += 4) {
		g = (const unsigned char *)in + i;
		if ((t[g[0]] | t[g[1]] | t[g[2]] | t[g[3]]) & 0x80)
			break;
		w = (uint32_t)t[g[0]] << 18 | (uint32_t)t[g[1]] << 12 |
		    (uint32_t)t[g[2]] << 6 | t[g[3]];
		out[o++] = (unsigned char)(w >> 16);
		out[o++] = (unsigned char)(w >> 8);
		out[o++] = (unsigned char)w;
	}
	for (; i < len; i++) {
		if ((v = t[(unsigned char)in[i]]) == 0xff) {
			*bad = i;
			return WG_B64_BAD_CHAR;
		}
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (len % 4 == 1)
		return WG_B64_BAD_LEN;
	if (acc != 0)
		return WG_B64_BAD_BITS;
	*outlen = o;
	return WG_B64_OK;
}

/* in[0..len) decoded whole into a new *out, or -1 (and *out NULL). */
static int
b64_decode_alloc(const char *in, size_t len, enum wg_b64_alphabet abc,
    unsigned char **out, size_t *outlen)
{
	size_t bad;

	*out = xmalloc(len * 3 / 4 + 1);
	if (wg_b64_decode(in, len, abc, *out, outlen, &bad) != WG_B64_OK) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		return -1;
	}
	return 0;
}

int
wg_b64url_decode(const char *in, unsigned char **out, size_t *outlen)
{
	return b64_decode_alloc(in, strlen(in), WG_B64_URL, out, outlen);
}

int
wg_b64_decode_text(const char *in, unsigned char **out, size_t *outlen)
{
	size_t len = strlen(in), pad = 0;

	while (pad < len && pad < 3 && in[len - 1 - pad] == '=')
		pad++;
	if (pad > 0 && (pad > 2 || len % 4 != 0)) {
		*out = NULL;
		*outlen = 0;
		return -1;
	}
	return b64_decode_alloc(in, len - pad, WG_B64_STD, out, outlen);
}

static EVP_MD *sha256_md;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

/*
 * SHA256() looks the algorithm up on every call, which costs more than
 * hashing a few hundred bytes: the implementation is fetched once.
 */
void
wg_sha256(const void *in, size_t n, unsigned char out[32])
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, sha256_fetch);
	if (sha256_md == NULL || EVP_Digest(in, n, out, NULL, sha256_md,
	    NULL) != 1)
		SHA256(in, n, out);
}

void
wg_sha256_hex(const void *in, size_t n, char out[65])
{
	unsigned char md[32];

	wg_sha256(in, n, md);
	wg_hex(md, sizeof(md), out);
}

/*
 * Well-formed UTF-8 as RFC 3629 section 4 defines it (no overlong forms,
 * no surrogates, nothing above U+10FFFF), without C0 or C1 control
 * characters or DEL: C1's CSI (U+009B) is an escape to some terminals.
 */
int
wg_str_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo, hi;
	int need;

	while (*p) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (*p >= 0xc2 && *p <= 0xdf)
			need = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			need = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			need = 3;
		else
			return 0;
		if (*p == 0xc2)
			lo = 0xa0; /* U+0080..U+009F: C1 controls */
		else if (*p == 0xe0)
			lo = 0xa0;
		else if (*p == 0xed)
			hi = 0x9f;
		else if (*p == 0xf0)
			lo = 0x90;
		else if (*p == 0xf4)
			hi = 0x8f;
		p++;
		if (*p < lo || *p > hi)
			return 0;
		for (p++, need--; need > 0; need--, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

int
wg_is_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != WG_UUID_LEN)
		return 0;
	for (i = 0; i < WG_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

void
wg_escape_log(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t i, o = 0;
	unsigned char c;

	if (outlen == 0)
		return;
	for (i = 0; i < inlen && o + 5 < outlen; i++) {
		c = (unsigned char)in[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, outlen - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
}

void
wg_say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

enum wg_err
wg_fail(enum wg_err err, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

uint64_t
wg_get_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void
wg_put_be(unsigned char *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

void
wg_log_openssl(const char *what)
{
	char buf[256] = "";
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	wg_error("%s failed: %s", what, buf[0] ? buf : "unknown error");
}

char *
wg_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}
