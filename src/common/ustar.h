/*
 * The ustar archive format (POSIX.1-2001, "pax" utility, ustar
 * interchange format) as whiteglove writes and reads it: the diagnostics
 * bundle's writer (src/agent/diag_tar.c) and this reader share the
 * header layout below.
 *
 * The reader takes a .tar.gz from outside (a technician's bundle):
 * gzip (RFC 1952) through zlib's gz functions, then strict ustar: only
 * regular files and folders, octal fields checked, header checksums
 * checked, relative names without "." or ".." components, no name twice,
 * two zero blocks at the end.  It never writes a file: the members asked
 * for are read into memory, each and in all capped; the others are read
 * past.  ustar.c is the one file of the CLI that calls zlib.
 */
#ifndef WG_USTAR_H
#define WG_USTAR_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"

/* ---- the header block (POSIX.1-2001, pax, "ustar Interchange Format") */
#define USTAR_BLOCK 512
#define USTAR_NAME_OFF 0
#define USTAR_NAME_LEN 100
#define USTAR_MODE_OFF 100
#define USTAR_UID_OFF 108
#define USTAR_GID_OFF 116
#define USTAR_SIZE_OFF 124
#define USTAR_SIZE_LEN 12
#define USTAR_MTIME_OFF 136
#define USTAR_MTIME_LEN 12
#define USTAR_CHKSUM_OFF 148
#define USTAR_CHKSUM_LEN 8
#define USTAR_TYPE_OFF 156
#define USTAR_MAGIC_OFF 257	/* "ustar" NUL, then version "00" */
#define USTAR_VERSION_OFF 263
#define USTAR_UNAME_OFF 265
#define USTAR_GNAME_OFF 297
#define USTAR_PREFIX_OFF 345
#define USTAR_PREFIX_LEN 155
#define USTAR_TYPE_FILE '0'
#define USTAR_TYPE_DIR '5'
#define USTAR_SIZE_LIMIT (UINT64_C(1) << 33) /* 11 octal digits */

/* ---- the reader ---- */

/* What the reader accepts at most; 0 in a field takes its default. */
struct ustar_limits {
	uint64_t member_max;	/* bytes of one member kept (16 MiB) */
	uint64_t kept_max;	/* bytes of all members kept (64 MiB) */
	uint64_t archive_max;	/* bytes of tar read, skipped ones too
				   (1 GiB): bounds a gzip bomb's time */
	size_t members_max;	/* members, folders too (4096) */
};

#define USTAR_MEMBER_MAX_DEFAULT (UINT64_C(16) << 20)
#define USTAR_KEPT_MAX_DEFAULT (UINT64_C(64) << 20)
#define USTAR_ARCHIVE_MAX_DEFAULT (UINT64_C(1) << 30)
#define USTAR_MEMBERS_MAX_DEFAULT 4096

/* One member read into memory. */
struct ustar_member {
	char *name;		/* "dir/file": checked, no trailing '/' */
	unsigned char *data;	/* len bytes and a NUL after them */
	size_t len;
};

/* The members kept, in archive order. */
struct ustar {
	struct ustar_member *members;
	size_t n;
	size_t files;		/* regular files in the archive, kept or not */
};

/*
 * Whether to keep the regular file name of size bytes (name already
 * checked): 1 keeps it, 0 reads past it.  A kept member over
 * member_max fails the read.
 */
typedef int (*ustar_want_fn)(void *arg, const char *name, uint64_t size);

/*
 * Reads the .tar.gz open on fd (not closed; read from its current
 * offset), keeping the members want says (want NULL: every file).
 * WG_OK with *out a new archive the caller frees with ustar_free();
 * else *out is NULL and why names the member and the rule that failed:
 * WG_E_BODY_TOO_LARGE when a cap of lim is passed, WG_E_IO for anything
 * else (not gzip, a damaged stream, a bad header, cut short).
 */
enum wg_err ustar_read_fd(int fd, const struct ustar_limits *lim,
    ustar_want_fn want, void *arg, struct ustar **out, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/* ustar_read_fd() of the file at path. */
enum wg_err ustar_read_file(const char *path, const struct ustar_limits *lim,
    ustar_want_fn want, void *arg, struct ustar **out, char *why,
    size_t whylen) __attribute__((warn_unused_result));

/* The kept member named name, or NULL. */
const struct ustar_member *ustar_find(const struct ustar *t,
    const char *name);

/* Frees t; NULL is a no-op. */
void ustar_free(struct ustar *t);

#endif
