/*
 * A strict, bounded reader of .tar.gz archives (ustar.h): zlib's gz
 * functions for the gzip layer, then one 512-byte header at a time.
 * Nothing from the archive reaches the file system; kept members are
 * copied into memory, capped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "common/ustar.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define GZ_BUFFER (64 * 1024)
#define NAME_FULL (USTAR_PREFIX_LEN + 1 + USTAR_NAME_LEN) /* a/b */

struct reader {
	gzFile gz;
	struct ustar_limits lim;
	ustar_want_fn want;
	void *arg;
	struct ustar *t;
	char **seen;		/* every member's name, for duplicates */
	size_t nseen;
	uint64_t read;		/* tar bytes read */
	uint64_t kept;		/* bytes of kept members */
	char *why;
	size_t whylen;
};

/*
 * Reads one block: 1 read, 0 at the end of the stream before it, -1
 * failed, -2 over archive_max (why said for -1 and -2).
 */
static int
block(struct reader *r, unsigned char b[USTAR_BLOCK], const char *what)
{
	int n, errnum;
	const char *msg;

	if (r->read > r->lim.archive_max - USTAR_BLOCK) {
		wg_fail(WG_E_BODY_TOO_LARGE, r->why, r->whylen, "the archive "
		    "holds more than %llu bytes",
		    (unsigned long long)r->lim.archive_max);
		return -2;
	}
	n = gzread(r->gz, b, USTAR_BLOCK);
	if (n < 0) {
		msg = gzerror(r->gz, &errnum);
		wg_say(r->why, r->whylen, "the gzip stream is damaged (%s): "
		    "%s", what, errnum == Z_ERRNO ? strerror(errno) : msg);
		return -1;
	}
	if (n == 0 && gzeof(r->gz))
		return 0;
	if (n != USTAR_BLOCK) {
		wg_say(r->why, r->whylen, "the archive is cut short (%s)",
		    what);
		return -1;
	}
	r->read += USTAR_BLOCK;
	return 1;
}

/*
 * The octal number of field f (len bytes): digits, then NUL or spaces
 * to the end; leading spaces allowed.  -1 if it is not one (base-256
 * and empty fields included).
 */
static int
octal(const unsigned char *f, size_t len, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	int digits = 0;

	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (v > (UINT64_MAX >> 3))
			return -1;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	if (digits == 0)
		return -1;
	for (; i < len; i++)
		if (f[i] != '\0' && f[i] != ' ')
			return -1;
	*out = v;
	return 0;
}

/* A field of at most len bytes, NUL-ended unless full, copied to out. */
static size_t
field_text(const unsigned char *f, size_t len, char *out)
{
	size_t n = 0;

	while (n < len && f[n] != '\0')
		n++;
	memcpy(out, f, n);
	out[n] = '\0';
	return n;
}

/*
 * 1 if name is a relative path of printable ASCII whose components are
 * neither empty nor "." nor "..".
 */
static int
name_ok(const char *name)
{
	const char *p = name, *c;
	size_t n;

	if (*p == '\0' || *p == '/')
		return 0;
	for (c = p; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e || *c == '\\')
			return 0;
	while (*p != '\0') {
		c = strchr(p, '/');
		n = c != NULL ? (size_t)(c - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* The header's checksum is right: its bytes summed, the field as blanks. */
static int
checksum_ok(const unsigned char h[USTAR_BLOCK])
{
	uint64_t want, sum = 0;
	size_t i;

	if (octal(h + USTAR_CHKSUM_OFF, USTAR_CHKSUM_LEN, &want) != 0)
		return 0;
	for (i = 0; i < USTAR_BLOCK; i++)
		sum += i >= USTAR_CHKSUM_OFF &&
		    i < USTAR_CHKSUM_OFF + USTAR_CHKSUM_LEN ? ' ' : h[i];
	return sum == want;
}

static int
all_zero(const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/*
 * Checks header h and fills name (NAME_FULL + 1 bytes), *type and
 * *size.  WG_OK, or WG_E_IO with why naming the member and the rule.
 */
static enum wg_err
header_parse(struct reader *r, const unsigned char h[USTAR_BLOCK],
    char *name, char *type, uint64_t *size)
{
	char shown[160], base[USTAR_NAME_LEN + 1];
	uint64_t v;
	size_t n;

	n = field_text(h + USTAR_PREFIX_OFF, USTAR_PREFIX_LEN, name);
	field_text(h + USTAR_NAME_OFF, USTAR_NAME_LEN, base);
	if (n > 0)
		name[n++] = '/';
	memcpy(name + n, base, strlen(base) + 1);
	wg_escape_log(name, strlen(name), shown, sizeof(shown));
	if (memcmp(h + USTAR_MAGIC_OFF, "ustar\0" "00", 8) != 0 &&
	    memcmp(h + USTAR_MAGIC_OFF, "ustar  \0", 8) != 0)
		return wg_fail(WG_E_IO, r->why, r->whylen, "header %llu is not "
		    "a ustar header (magic)", (unsigned long long)(r->read /
		    USTAR_BLOCK));
	if (!checksum_ok(h))
		return wg_fail(WG_E_IO, r->why, r->whylen, "'%s': the header's "
		    "checksum is wrong", shown);
	*type = (char)h[USTAR_TYPE_OFF];
	if (*type == '\0')
		*type = USTAR_TYPE_FILE; /* pre-POSIX regular file */
	if (*type != USTAR_TYPE_FILE && *type != USTAR_TYPE_DIR)
		return wg_fail(WG_E_IO, r->why, r->whylen, "'%s': type '%c' is "
		    "not a regular file or a folder", shown, *type >= 0x20 &&
		    *type < 0x7f ? *type : '?');
	if (octal(h + USTAR_SIZE_OFF, USTAR_SIZE_LEN, size) != 0 ||
	    octal(h + USTAR_MODE_OFF, 8, &v) != 0 ||
	    octal(h + USTAR_MTIME_OFF, USTAR_MTIME_LEN, &v) != 0)
		return wg_fail(WG_E_IO, r->why, r->whylen, "'%s': size, mode or "
		    "mtime is not an octal number", shown);
	n = strlen(name);
	if (*type == USTAR_TYPE_DIR) {
		if (n > 0 && name[n - 1] == '/')
			name[--n] = '\0';
		if (*size != 0)
			return wg_fail(WG_E_IO, r->why, r->whylen, "'%s': a "
			    "folder with a size", shown);
	}
	if (!name_ok(name))
		return wg_fail(WG_E_IO, r->why, r->whylen, "'%s': not a "
		    "relative name of printable ASCII without empty, '.' or "
		    "'..' parts", shown);
	return WG_OK;
}

/* Records name; WG_E_IO if it was seen before or there are too many. */
static enum wg_err
name_record(struct reader *r, const char *name)
{
	char shown[160];
	size_t i;

	for (i = 0; i < r->nseen; i++)
		if (strcmp(r->seen[i], name) == 0) {
			wg_escape_log(name, strlen(name), shown,
			    sizeof(shown));
			return wg_fail(WG_E_IO, r->why, r->whylen, "'%s' is in "
			    "the archive twice", shown);
		}
	if (r->nseen >= r->lim.members_max)
		return wg_fail(WG_E_BODY_TOO_LARGE, r->why, r->whylen, "more "
		    "than %zu members", r->lim.members_max);
	r->seen = xrealloc(r->seen, (r->nseen + 1) * sizeof(*r->seen));
	r->seen[r->nseen++] = xstrdup(name);
	return WG_OK;
}

/* Reads the size bytes of a member and its padding, into data if not
 * NULL (size bytes there). */
static enum wg_err
member_body(struct reader *r, const char *name, uint64_t size,
    unsigned char *data)
{
	unsigned char b[USTAR_BLOCK];
	uint64_t off;
	size_t take;
	int k;

	for (off = 0; off < size; off += USTAR_BLOCK) {
		if ((k = block(r, b, name)) <= 0) {
			if (k == 0)
				wg_say(r->why, r->whylen, "the archive is cut "
				    "short (%s)", name);
			return k == -2 ? WG_E_BODY_TOO_LARGE : WG_E_IO;
		}
		take = size - off < USTAR_BLOCK ? (size_t)(size - off) :
		    USTAR_BLOCK;
		if (data != NULL)
			memcpy(data + off, b, take);
	}
	return WG_OK;
}

/* One file member whose header was read: kept or read past. */
static enum wg_err
member(struct reader *r, const char *name, uint64_t size)
{
	struct ustar_member *m;
	unsigned char *data;
	char shown[160];
	enum wg_err rc;

	r->t->files++;
	if (r->want != NULL && !r->want(r->arg, name, size))
		return member_body(r, name, size, NULL);
	wg_escape_log(name, strlen(name), shown, sizeof(shown));
	if (size > r->lim.member_max || size > r->lim.kept_max - r->kept)
		return wg_fail(WG_E_BODY_TOO_LARGE, r->why, r->whylen, "'%s': "
		    "%llu bytes, over the %llu a member may have (%llu in all)",
		    shown, (unsigned long long)size,
		    (unsigned long long)r->lim.member_max,
		    (unsigned long long)r->lim.kept_max);
	data = xmalloc((size_t)size + 1);
	if ((rc = member_body(r, shown, size, data)) != WG_OK) {
		free(data);
		return rc;
	}
	data[size] = '\0';
	r->kept += size;
	r->t->members = xrealloc(r->t->members, (r->t->n + 1) *
	    sizeof(*r->t->members));
	m = &r->t->members[r->t->n++];
	m->name = xstrdup(name);
	m->data = data;
	m->len = (size_t)size;
	return WG_OK;
}

/* Every header and member to the two zero blocks. */
static enum wg_err
members(struct reader *r)
{
	unsigned char h[USTAR_BLOCK];
	char name[NAME_FULL + 1], type;
	uint64_t size;
	enum wg_err rc;
	int k;

	for (;;) {
		if ((k = block(r, h, "a header")) <= 0) {
			if (k == 0)
				wg_say(r->why, r->whylen, "the archive is cut "
				    "short: no end blocks");
			return k == -2 ? WG_E_BODY_TOO_LARGE : WG_E_IO;
		}
		if (all_zero(h, sizeof(h)))
			break;
		if ((rc = header_parse(r, h, name, &type, &size)) != WG_OK ||
		    (rc = name_record(r, name)) != WG_OK)
			return rc;
		if (type == USTAR_TYPE_FILE &&
		    (rc = member(r, name, size)) != WG_OK)
			return rc;
	}
	if ((k = block(r, h, "the end")) <= 0 || !all_zero(h, sizeof(h))) {
		if (k >= 0)
			wg_say(r->why, r->whylen, "the archive ends with one "
			    "zero block, not two");
		return k == -2 ? WG_E_BODY_TOO_LARGE : WG_E_IO;
	}
	return WG_OK;
}

static void
limits(const struct ustar_limits *in, struct ustar_limits *out)
{
	static const struct ustar_limits none;

	*out = in != NULL ? *in : none;
	if (out->member_max == 0)
		out->member_max = USTAR_MEMBER_MAX_DEFAULT;
	if (out->kept_max == 0)
		out->kept_max = USTAR_KEPT_MAX_DEFAULT;
	if (out->archive_max < USTAR_BLOCK)
		out->archive_max = USTAR_ARCHIVE_MAX_DEFAULT;
	if (out->members_max == 0)
		out->members_max = USTAR_MEMBERS_MAX_DEFAULT;
	if (out->member_max > SIZE_MAX - 1)
		out->member_max = SIZE_MAX - 1;
}

enum wg_err
ustar_read_fd(int fd, const struct ustar_limits *lim, ustar_want_fn want,
    void *arg, struct ustar **out, char *why, size_t whylen)
{
	struct reader r = { .want = want, .arg = arg, .why = why,
	    .whylen = whylen };
	enum wg_err rc = WG_E_IO;
	const char *msg;
	int fd2, c, errnum;
	size_t i;

	*out = NULL;
	limits(lim, &r.lim);
	if ((fd2 = dup(fd)) < 0)
		return wg_fail(WG_E_IO, why, whylen, "%s", strerror(errno));
	if ((r.gz = gzdopen(fd2, "rb")) == NULL) {
		close(fd2);
		return wg_fail(WG_E_IO, why, whylen, "cannot start reading "
		    "the gzip stream");
	}
	gzbuffer(r.gz, GZ_BUFFER);
	r.t = xcalloc(1, sizeof(*r.t));
	/* gzread passes a file that is not gzip through: refuse it */
	if ((c = gzgetc(r.gz)) < 0 && !gzeof(r.gz)) {
		msg = gzerror(r.gz, &errnum);
		wg_say(why, whylen, "the gzip stream is damaged: %s",
		    errnum == Z_ERRNO ? strerror(errno) : msg);
		goto done;
	}
	if (c < 0 || gzungetc(c, r.gz) < 0 || gzdirect(r.gz)) {
		wg_say(why, whylen, "not a gzip file (a .tar.gz bundle)");
		goto done;
	}
	rc = members(&r);
done:
	gzclose_r(r.gz);
	for (i = 0; i < r.nseen; i++)
		free(r.seen[i]);
	free(r.seen);
	if (rc != WG_OK) {
		ustar_free(r.t);
		return rc;
	}
	*out = r.t;
	return WG_OK;
}

enum wg_err
ustar_read_file(const char *path, const struct ustar_limits *lim,
    ustar_want_fn want, void *arg, struct ustar **out, char *why,
    size_t whylen)
{
	enum wg_err rc;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return wg_fail(WG_E_IO, why, whylen, "%s", strerror(errno));
	rc = ustar_read_fd(fd, lim, want, arg, out, why, whylen);
	close(fd);
	return rc;
}

const struct ustar_member *
ustar_find(const struct ustar *t, const char *name)
{
	size_t i;

	for (i = 0; t != NULL && i < t->n; i++)
		if (strcmp(t->members[i].name, name) == 0)
			return &t->members[i];
	return NULL;
}

void
ustar_free(struct ustar *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->members[i].name);
		free(t->members[i].data);
	}
	free(t->members);
	free(t);
}
