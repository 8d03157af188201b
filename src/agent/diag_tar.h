/*
 * A .tar.gz written as it goes: ustar members (POSIX.1-2001 pax
 * "ustar" format, 512-byte blocks) deflated into the gzip format (RFC
 * 1952) by zlib.  The diagnostics bundle's writer; diag_tar.c is the one
 * file that calls zlib.
 */
#ifndef WG_AGENT_DIAG_TAR_H
#define WG_AGENT_DIAG_TAR_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/errors.h"

/* An archive being written; opaque. */
struct diag_tar;

/*
 * Starts an archive on fd (open for writing; the caller closes it after
 * diag_tar_close()).  Members get mtime and mode 0600.  Returns the new
 * writer (the caller ends it with diag_tar_close() or diag_tar_free()).
 */
struct diag_tar *diag_tar_new(int fd, time_t mtime)
    __attribute__((returns_nonnull));

/*
 * Adds member name (a relative path: at most 100 bytes after its last
 * '/' that fits the 155-byte prefix) holding the size bytes read from f,
 * streamed.  A source that ends early is padded with zeros (a warning
 * is logged).  WG_E_IO with why on failure: the archive is unusable
 * then.
 */
enum wg_err diag_tar_add_file(struct diag_tar *t, const char *name, FILE *f,
    uint64_t size, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* The same for len bytes in memory. */
enum wg_err diag_tar_add_mem(struct diag_tar *t, const char *name,
    const void *buf, size_t len, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Members written so far. */
unsigned diag_tar_count(const struct diag_tar *t);

/*
 * Writes the end of the archive (two zero blocks) and of the gzip
 * stream, and frees t.  WG_E_IO with why on failure.
 */
enum wg_err diag_tar_close(struct diag_tar *t, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* Frees t without finishing it (the file is not a valid archive); NULL
 * is a no-op. */
void diag_tar_free(struct diag_tar *t);

#endif
