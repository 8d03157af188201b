/*
 * The diagnostics bundle's .tar.gz writer (diag_tar.h): ustar headers
 * (POSIX.1-2001, "pax" utility, ustar interchange format) and zlib's
 * deflate with a gzip wrapper (windowBits 15 + 16).  Nothing is held but
 * one block of input and one buffer of output.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "agent/diag_tar.h"
#include "common/log.h"
#include "common/ustar.h" /* the format, shared with the reader */
#include "common/util.h"
#include "common/xmalloc.h"

#define BLOCK USTAR_BLOCK
#define CHUNK (64 * 1024)
#define NAME_MAX_LEN USTAR_NAME_LEN
#define PREFIX_MAX_LEN USTAR_PREFIX_LEN
#define GZIP_WINDOW_BITS (15 + 16) /* zlib's way of asking for gzip */

struct diag_tar {
	int fd;
	time_t mtime;
	z_stream z;
	int failed; /* a write or deflate failed: nothing more is written */
	unsigned count;
	unsigned char out[CHUNK];
};

struct diag_tar *
diag_tar_new(int fd, time_t mtime)
{
	struct diag_tar *t = xcalloc(1, sizeof(*t));

	t->fd = fd;
	t->mtime = mtime;
	/* only a bad argument or no memory fails here: neither can be */
	if (deflateInit2(&t->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
	    GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	return t;
}

/* Writes all of buf to the file; -1 with errno on failure. */
static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Deflates len bytes (flush: Z_NO_FLUSH or Z_FINISH) to the file. */
static enum wg_err
tar_deflate(struct diag_tar *t, const void *buf, size_t len, int flush,
    char *why, size_t whylen)
{
	int zr;

	if (t->failed)
		return wg_fail(WG_E_IO, why, whylen, "the archive failed "
		    "before");
	t->z.next_in = (unsigned char *)(uintptr_t)buf;
	t->z.avail_in = (uInt)len;
	do {
		t->z.next_out = t->out;
		t->z.avail_out = sizeof(t->out);
		zr = deflate(&t->z, flush);
		if (zr == Z_STREAM_ERROR) {
			t->failed = 1;
			return wg_fail(WG_E_IO, why, whylen, "deflate failed");
		}
		if (write_all(t->fd, t->out, sizeof(t->out) -
		    t->z.avail_out) != 0) {
			t->failed = 1;
			return wg_fail(WG_E_IO, why, whylen, "cannot write the "
			    "archive: %s", strerror(errno));
		}
	} while (t->z.avail_out == 0 || (flush == Z_FINISH &&
	    zr != Z_STREAM_END));
	return WG_OK;
}

/* v in octal, zero-filled, in the n bytes of field f (NUL last). */
static void
octal(char *f, size_t n, uint64_t v)
{
	size_t i = n - 1;

	f[i] = '\0';
	while (i-- > 0) {
		f[i] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

/*
 * Puts name into the header's name (offset 0, 100 bytes) and prefix
 * (offset 345, 155 bytes) fields, split at a '/'; -1 if it cannot be.
 */
static int
header_name(unsigned char *h, const char *name)
{
	size_t len = strlen(name), i;

	if (len <= NAME_MAX_LEN) {
		memcpy(h, name, len);
		return 0;
	}
	for (i = len; i-- > 0;)
		if (name[i] == '/' && i <= PREFIX_MAX_LEN &&
		    len - i - 1 <= NAME_MAX_LEN && len - i - 1 > 0) {
			memcpy(h + 345, name, i);
			memcpy(h, name + i + 1, len - i - 1);
			return 0;
		}
	return -1;
}

/* Writes the ustar header of a regular file member. */
static enum wg_err
tar_header(struct diag_tar *t, const char *name, uint64_t size, char *why,
    size_t whylen)
{
	unsigned char h[BLOCK] = { 0 };
	unsigned sum = 0;
	size_t i;

	if (header_name(h, name) != 0 || size >= (1ull << 33))
		return wg_fail(WG_E_INTERNAL, why, whylen, "'%.200s': no "
		    "ustar name for it, or too large", name);
	octal((char *)h + 100, 8, 0600);		/* mode */
	octal((char *)h + 108, 8, 0);			/* uid */
	octal((char *)h + 116, 8, 0);			/* gid */
	octal((char *)h + 124, 12, size);		/* size */
	octal((char *)h + 136, 12, (uint64_t)(t->mtime < 0 ? 0 : t->mtime));
	memset(h + 148, ' ', 8);			/* chksum, for now */
	h[156] = '0';					/* typeflag: file */
	memcpy(h + 257, "ustar", 6);			/* magic, NUL */
	memcpy(h + 263, "00", 2);			/* version */
	memcpy(h + 265, "root", 4);			/* uname */
	memcpy(h + 297, "root", 4);			/* gname */
	for (i = 0; i < BLOCK; i++)
		sum += h[i];
	octal((char *)h + 148, 7, sum);			/* 6 digits, NUL */
	h[155] = ' ';
	return tar_deflate(t, h, sizeof(h), Z_NO_FLUSH, why, whylen);
}

/* The zeros that fill the member of size bytes to a whole block. */
static enum wg_err
tar_pad(struct diag_tar *t, uint64_t size, char *why, size_t whylen)
{
	static const unsigned char zeros[BLOCK];
	size_t n = (size_t)(size % BLOCK);

	if (n == 0)
		return WG_OK;
	return tar_deflate(t, zeros, BLOCK - n, Z_NO_FLUSH, why, whylen);
}

enum wg_err
diag_tar_add_file(struct diag_tar *t, const char *name, FILE *f,
    uint64_t size, char *why, size_t whylen)
{
	unsigned char buf[BLOCK * 16];
	uint64_t left = size;
	enum wg_err err;
	size_t want, n;
	int short_read = 0;

	if ((err = tar_header(t, name, size, why, whylen)) != WG_OK)
		return err;
	while (left > 0) {
		want = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		n = short_read ? 0 : fread(buf, 1, want, f);
		if (n < want) { /* the header promised size bytes */
			memset(buf + n, 0, want - n);
			short_read = 1;
		}
		if ((err = tar_deflate(t, buf, want, Z_NO_FLUSH, why,
		    whylen)) != WG_OK)
			return err;
		left -= want;
	}
	if ((err = tar_pad(t, size, why, whylen)) != WG_OK)
		return err;
	t->count++;
	if (short_read)
		wg_warn("diag: '%s' ended early: padded with zeros", name);
	return WG_OK;
}

enum wg_err
diag_tar_add_mem(struct diag_tar *t, const char *name, const void *buf,
    size_t len, char *why, size_t whylen)
{
	enum wg_err err;

	if ((err = tar_header(t, name, len, why, whylen)) != WG_OK ||
	    (err = tar_deflate(t, buf, len, Z_NO_FLUSH, why, whylen)) !=
	    WG_OK || (err = tar_pad(t, len, why, whylen)) != WG_OK)
		return err;
	t->count++;
	return WG_OK;
}

unsigned
diag_tar_count(const struct diag_tar *t)
{
	return t->count;
}

enum wg_err
diag_tar_close(struct diag_tar *t, char *why, size_t whylen)
{
	static const unsigned char end[2 * BLOCK];
	enum wg_err err;

	err = tar_deflate(t, end, sizeof(end), Z_NO_FLUSH, why, whylen);
	if (err == WG_OK)
		err = tar_deflate(t, NULL, 0, Z_FINISH, why, whylen);
	diag_tar_free(t);
	return err;
}

void
diag_tar_free(struct diag_tar *t)
{
	if (t == NULL)
		return;
	deflateEnd(&t->z);
	free(t);
}
