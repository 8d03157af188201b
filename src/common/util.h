/*
 * Small helpers shared by server, agent and CLI: time, timed waits,
 * randomness, ids,
 * hex and base64url, string checks.
 */
#ifndef WG_UTIL_H
#define WG_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "errors.h"

#define WG_UUID_LEN 36 /* without the terminating NUL */

/*
 * Timed waits on the monotonic clock (wall-clock steps do not stretch or
 * cut them): a condition variable made by wg_cond_init_mono() waits with
 * pthread_cond_timedwait() until the deadline wg_deadline_in() gives for
 * ms milliseconds from now.
 */
void wg_cond_init_mono(pthread_cond_t *cv);
void wg_deadline_in(int64_t ms, struct timespec *ts);

/* Wall-clock time in milliseconds since the epoch. */
int64_t wg_now_ms(void);
/* Monotonic time in milliseconds, for durations. */
int64_t wg_mono_ms(void);

/* Formats ms since the epoch as RFC 3339 UTC with milliseconds. */
void wg_time_rfc3339(int64_t ms, char buf[32]);

/* Fills buf with n bytes from the OS CSPRNG; WG_E_CRYPTO on failure. */
enum wg_err wg_random(void *buf, size_t n) __attribute__((warn_unused_result));

/* A random (version 4) UUID in lower-case text form. */
void wg_uuid(char out[WG_UUID_LEN + 1]);

/*
 * A time-ordered (version 7, RFC 9562) UUID: ids made one after another
 * sort one after another, so a database index of them grows at its end
 * instead of at random pages (what keeps bulk imports fast).
 */
void wg_uuid7(char out[WG_UUID_LEN + 1]);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void wg_hex(const void *in, size_t n, char *out);

/* The value of one hex digit (either case), or -1. */
int wg_hex_value(int c);

/*
 * Decodes exactly 2n hex digits of the string hex into out[n]; -1 if
 * hex is not that.
 */
int wg_hex_decode(const char *hex, unsigned char *out, size_t n);

/* Standard base64 with padding of n bytes; the caller frees the result. */
char *wg_b64(const void *in, size_t n) __attribute__((returns_nonnull));

/*
 * Decodes standard base64 text, padded or not (no white space); *out is
 * xmalloc'd (the caller frees it).  -1 (and *out NULL) on anything that is
 * not canonical base64.
 */
int wg_b64_decode_text(const char *in, unsigned char **out, size_t *outlen);

/* base64url without padding of n bytes; the caller frees the result. */
char *wg_b64url(const void *in, size_t n) __attribute__((returns_nonnull));

/*
 * Decodes unpadded base64url text; *out is xmalloc'd (the caller frees
 * it).  Returns -1 (and *out NULL) on any character or length that is not
 * base64url.
 */
int wg_b64url_decode(const char *in, unsigned char **out, size_t *outlen);

/* The alphabets of RFC 4648: section 4 (+/) and section 5 (-_). */
enum wg_b64_alphabet { WG_B64_STD, WG_B64_URL };

/* Why wg_b64_decode() refused its input. */
enum wg_b64_err {
	WG_B64_OK,
	WG_B64_BAD_CHAR,  /* *bad: the offset of the first one */
	WG_B64_BAD_LEN,	  /* len % 4 == 1: no whole last byte */
	WG_B64_BAD_BITS,  /* the last character's unused bits are not 0 */
};

/*
 * Strict unpadded base64 of len characters (the caller takes any '='
 * padding off): every character in the alphabet, the unused bits of the
 * last one zero.  out must hold len * 3 / 4 bytes; *outlen is what it got.
 */
enum wg_b64_err wg_b64_decode(const char *in, size_t len,
    enum wg_b64_alphabet abc, unsigned char *out, size_t *outlen,
    size_t *bad);

/*
 * Writes a reason into why (always terminated); a NULL why or a zero
 * whylen is allowed and writes nothing.
 */
void wg_say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* wg_say(), then returns err: `return wg_fail(err, why, whylen, ...);`. */
enum wg_err wg_fail(enum wg_err err, char *why, size_t whylen,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* wg_fail() into the why and whylen members of the struct ctx points to. */
#define WG_FAIL(ctx, err, ...) \
	wg_fail((err), (ctx)->why, (ctx)->whylen, __VA_ARGS__)

/* n (<= 8) bytes big-endian at p, the TPM's and the TLV's byte order. */
uint64_t wg_get_be(const unsigned char *p, size_t n);
/* v as n bytes big-endian at p. */
void wg_put_be(unsigned char *p, uint64_t v, size_t n);

/*
 * Logs OpenSSL's error queue as one line, "WHAT failed: <its first
 * error>", and clears it: the one place OpenSSL errors become words.
 */
void wg_log_openssl(const char *what);

/*
 * s without leading blanks and trailing blanks and line ends (a line of
 * a configuration file), cut in place; returns where it starts.
 */
char *wg_trim(char *s);

/* SHA-256 of n bytes. */
void wg_sha256(const void *in, size_t n, unsigned char out[32]);
/* The same as 64 lower-case hex digits and a NUL. */
void wg_sha256_hex(const void *in, size_t n, char out[65]);

/* 1 if s (NUL-terminated) is valid UTF-8 without control characters. */
int wg_str_printable(const char *s);

/* 1 if s is a UUID in the canonical lower-case form wg_uuid() writes. */
int wg_is_uuid(const char *s);

/* Copies a string that may hold anything into out as a safe, escaped,
 * printable form for logs (at most outlen - 1 bytes, always terminated). */
void wg_escape_log(const char *in, size_t inlen, char *out, size_t outlen);

#endif
