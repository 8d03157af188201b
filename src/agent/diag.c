/*
 * The diagnostics bundle (diag.h): the state directory's records copied
 * redacted and capped, the made members, the manifest last, all streamed
 * into one .tar.gz (diag_tar.h) written beside its final name and
 * renamed when whole.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent/diag.h"
#include "agent/diag_redact.h"
#include "agent/diag_tar.h"
#include "agent/tpm.h"
#include "agent/trace.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "wg_version.h"

/* The state directory's records, each with how it is read. */
static const struct {
	const char *name;
	enum diag_kind kind;
} records[] = {
	{ "AutopilotDDSZTDFile.json", DIAG_JSON },
	{ "CertReq_enrollaik_Output.txt", DIAG_TEXT },
	{ "provision.json", DIAG_JSON },
	{ "join.json", DIAG_JSON },
	{ "mdm.json", DIAG_JSON },
	{ "reseal.json", DIAG_JSON },
	{ "apps.json", DIAG_JSON },
	{ "apps-user.json", DIAG_JSON },	/* account setup's */
};

/* One bundle being written. */
struct diag_run {
	const struct diag_opts *o;
	struct diag_tar *tar;
	char top[256]; /* every member's folder */
	json_t *included, *missing, *unreadable, *redacted;
	char *why;
	size_t whylen;
};

/* a/b into out; -1 if it does not fit (never used cut). */
static int
join_path(char *out, size_t len, const char *a, const char *b)
{
	int n = snprintf(out, len, "%s/%s", a, b);

	if (n >= 0 && (size_t)n < len)
		return 0;
	errno = ENAMETOOLONG;
	return -1;
}

/* The host's name, with anything but [A-Za-z0-9.-] made '_'. */
static void
host_name(char *out, size_t len)
{
	char *p;

	if (gethostname(out, len) != 0 || out[0] == '\0')
		snprintf(out, len, "unknown");
	out[len - 1] = '\0';
	for (p = out; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '_';
}

/*
 * s as a JSON string (null for NULL): escaped when it is not UTF-8 (a
 * path may be anything), so that the manifest can always be written.
 */
static json_t *
text(const char *s)
{
	char esc[4 * PATH_MAX];

	if (s == NULL)
		return json_null();
	if (wg_str_printable(s))
		return json_string(s);
	wg_escape_log(s, strlen(s), esc, sizeof(esc));
	return json_string(esc);
}

/* One file that could not be read: recorded, and said by the caller. */
static void
unreadable(struct diag_run *r, const char *name, const char *why)
{
	char line[PATH_MAX + 512];

	snprintf(line, sizeof(line), "%s: %s", name, why);
	json_array_append_new(r->unreadable, text(line));
}

/*
 * Opens path for reading if it is a regular file (not through a link;
 * a FIFO does not block); NULL with errno, or ENOENT, or EINVAL for
 * another kind of file.  *size is its size.
 */
static FILE *
open_regular(const char *path, off_t *size)
{
	struct stat st;
	FILE *f;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	*size = st.st_size;
	if ((f = fdopen(fd, "r")) == NULL)
		close(fd);
	return f;
}

/*
 * Goes to the last DIAG_FILE_MAX bytes of f (size bytes), at the start
 * of a line, and writes a note saying so to out; 0, or -1 if f cannot.
 */
static int
keep_tail(FILE *f, off_t size, FILE *out)
{
	int c;

	if (fseeko(f, size - DIAG_FILE_MAX, SEEK_SET) != 0)
		return -1;
	while ((c = getc(f)) != EOF && c != '\n')
		;
	fprintf(out, "[whiteglove diag: the first %lld bytes of %lld were "
	    "left out]\n", (long long)(ftello(f) > 0 ? ftello(f) : 0),
	    (long long)size);
	return 0;
}

/*
 * Copies the file at path into member name, redacted as kind says and
 * cut to its last DIAG_FILE_MAX bytes.  An absent file goes to missing
 * when it is a record the flow writes (record), an unreadable one to
 * unreadable; only a failure of the archive itself is returned.
 */
static enum wg_err
add_file(struct diag_run *r, const char *path, const char *name,
    enum diag_kind kind, int record)
{
	char member[PATH_MAX], why[512];
	FILE *in, *tmp = NULL;
	unsigned count = 0;
	int cut = 0;
	enum wg_err err = WG_OK;
	off_t size = 0;
	long len;

	if ((in = open_regular(path, &size)) == NULL) {
		if (errno == ENOENT && record)
			json_array_append_new(r->missing, json_string(name));
		else if (errno != ENOENT)
			unreadable(r, name, errno == EINVAL ? "not a regular "
			    "file" : strerror(errno));
		return WG_OK;
	}
	if ((tmp = tmpfile()) == NULL) {
		unreadable(r, name, "no temporary file for it");
		goto done;
	}
	if (size > DIAG_FILE_MAX) {
		cut = 1;
		if (kind == DIAG_JSON) /* cut, it no longer parses */
			kind = DIAG_TEXT;
		if (keep_tail(in, size, tmp) != 0) {
			unreadable(r, name, strerror(errno));
			goto done;
		}
	}
	if (diag_redact_copy(in, tmp, kind, &count, why, sizeof(why)) !=
	    WG_OK) {
		unreadable(r, name, why);
		goto done;
	}
	if (fflush(tmp) != 0 || (len = ftell(tmp)) < 0) {
		unreadable(r, name, "writing a temporary file failed");
		goto done;
	}
	rewind(tmp);
	if (join_path(member, sizeof(member), r->top, name) != 0) {
		unreadable(r, name, "its name is too long");
		goto done;
	}
	if ((err = diag_tar_add_file(r->tar, member, tmp, (uint64_t)len,
	    r->why, r->whylen)) != WG_OK)
		goto done;
	json_array_append_new(r->included, json_pack("{s:o, s:o, s:I, s:b}",
	    "name", text(name), "source", text(path), "bytes",
	    (json_int_t)size, "truncated", cut));
	if (count > 0)
		json_array_append_new(r->redacted, json_pack("{s:o, s:i}",
		    "name", text(name), "count", (int)count));
done:
	if (tmp != NULL)
		fclose(tmp);
	fclose(in);
	return err;
}

/* qsort's comparison of two names. */
static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if name ends with one of suffixes. */
static int
ends_with(const char *name, const char *const *suffixes)
{
	size_t n = strlen(name), m;

	for (; *suffixes != NULL; suffixes++)
		if (n > (m = strlen(*suffixes)) &&
		    strcmp(name + n - m, *suffixes) == 0)
			return 1;
	return 0;
}

int
diag_list(const char *dir, const char *const *suffixes,
    char *names[DIAG_NAMES_MAX], size_t *n)
{
	struct dirent *e;
	DIR *d;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && *n < DIAG_NAMES_MAX)
		if (e->d_name[0] != '.' && ends_with(e->d_name, suffixes))
			names[(*n)++] = xstrdup(e->d_name);
	closedir(d);
	qsort(names, *n, sizeof(*names), name_cmp);
	return 0;
}

/*
 * Every file of STATE/sub whose name ends with suffix, as sub/NAME, in
 * name order.
 */
static enum wg_err
add_folder(struct diag_run *r, const char *sub, const char *suffix,
    enum diag_kind kind)
{
	char dir[PATH_MAX], path[PATH_MAX], name[PATH_MAX];
	char *names[DIAG_NAMES_MAX];
	const char *suffixes[] = { suffix, NULL };
	enum wg_err err = WG_OK;
	size_t n, i;

	if (join_path(dir, sizeof(dir), r->o->state_dir, sub) != 0 ||
	    diag_list(dir, suffixes, names, &n) != 0) {
		if (errno != ENOENT)
			unreadable(r, sub, strerror(errno));
		return WG_OK;
	}
	for (i = 0; i < n; i++) {
		if (join_path(path, sizeof(path), dir, names[i]) != 0 ||
		    join_path(name, sizeof(name), sub, names[i]) != 0)
			unreadable(r, names[i], "its path is too long");
		else if (err == WG_OK)
			err = add_file(r, path, name, kind, 0);
		free(names[i]);
	}
	return err;
}

/*
 * The HTTP trace (trace.h), the older file first: redacted when written,
 * and again here in case a secret got past that.
 */
static enum wg_err
add_trace(struct diag_run *r)
{
	static const char *const files[] = { AGENT_TRACE_OLD,
	    AGENT_TRACE_FILE };
	char path[PATH_MAX], name[64];
	enum wg_err err = WG_OK;
	size_t i;

	for (i = 0; err == WG_OK && i < 2; i++) {
		snprintf(name, sizeof(name), AGENT_TRACE_DIR "/%s", files[i]);
		if (join_path(path, sizeof(path), r->o->state_dir, name) != 0)
			unreadable(r, name, "its path is too long");
		else
			err = add_file(r, path, name, DIAG_JSONL, 0);
	}
	return err;
}

/* What the manifest says of the trace: on or not, its files bundled. */
static json_t *
trace_facts(struct diag_run *r)
{
	json_t *files = json_array(), *inc;
	const char *name;
	size_t i;

	json_array_foreach(r->included, i, inc)
		if ((name = json_string_value(json_object_get(inc, "name"))) !=
		    NULL && strncmp(name, AGENT_TRACE_DIR "/",
		    sizeof(AGENT_TRACE_DIR)) == 0)
			json_array_append_new(files, json_string(name));
	return json_pack("{s:b, s:o}", "enabled",
	    agent_trace_configured(r->o->config), "files", files);
}

/* A made member: doc as indented JSON (doc is consumed). */
static enum wg_err
add_json(struct diag_run *r, const char *name, json_t *doc)
{
	char member[PATH_MAX], *s;
	enum wg_err err;

	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (s == NULL)
		return wg_fail(WG_E_INTERNAL, r->why, r->whylen, "%s: cannot "
		    "be written as JSON", name);
	(void)join_path(member, sizeof(member), r->top, name); /* short */
	err = diag_tar_add_mem(r->tar, member, s, strlen(s), r->why,
	    r->whylen);
	free(s);
	if (err == WG_OK)
		json_array_append_new(r->included, json_pack("{s:s, s:s}",
		    "name", name, "source", "made"));
	return err;
}

/* The state directory's files the bundle does not copy, by name. */
static json_t *
not_copied(const char *state_dir, json_t *included)
{
	json_t *out = json_array(), *inc;
	struct dirent *e;
	size_t i, n = 0;
	int copied;
	DIR *d;

	if ((d = opendir(state_dir)) == NULL)
		return out;
	while ((e = readdir(d)) != NULL && n++ < DIAG_NAMES_MAX) {
		if (e->d_name[0] == '.' || e->d_type == DT_DIR)
			continue;
		copied = 0;
		json_array_foreach(included, i, inc)
			copied |= strcmp(json_string_value(json_object_get(inc,
			    "name")), e->d_name) == 0;
		if (!copied)
			json_array_append_new(out, json_string(e->d_name));
	}
	closedir(d);
	return out;
}

/* manifest.json: what the bundle is, holds, misses and redacted. */
static json_t *
manifest(struct diag_run *r, const char *created, json_t *keys)
{
	struct utsname u;
	char host[256], kernel[4 * sizeof(u.release)];

	host_name(host, sizeof(host));
	if (uname(&u) == 0)
		snprintf(kernel, sizeof(kernel), "%s %s %s %s", u.sysname,
		    u.release, u.version, u.machine);
	else
		snprintf(kernel, sizeof(kernel), "unknown");
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, "
	    "s:i, s:O, s:O, s:O, s:O, s:o, s:o, s:[ssssss]}",
	    "agent", "whiteglove-agent", "version", WG_VERSION, "createdAt",
	    created, "hostname", host, "kernel", text(kernel), "stateDir",
	    text(r->o->state_dir), "tcti", text(r->o->tcti), "config",
	    text(r->o->config), "configError", text(r->o->config_error),
	    "fileMax", DIAG_FILE_MAX,
	    "included", r->included, "missing", r->missing, "unreadable",
	    r->unreadable, "redacted", r->redacted, "privateKeyFiles", keys,
	    "notCopied", not_copied(r->o->state_dir, r->included),
	    "neverCopied", "*.priv and *.key", "ticket.json", "session.json",
	    "private keys in PEM files", "tokens (kept in memory only)",
	    "secrets in copied files: [redacted]");
}

/* Every member, the manifest last. */
static enum wg_err
add_members(struct diag_run *r, const char *created)
{
	char path[PATH_MAX], name[PATH_MAX];
	json_t *keys = json_array(), *doc;
	enum wg_err err = WG_OK;
	size_t i;

	for (i = 0; err == WG_OK && i < sizeof(records) / sizeof(*records);
	    i++) {
		if (join_path(path, sizeof(path), r->o->state_dir,
		    records[i].name) != 0)
			unreadable(r, records[i].name, "its path is too long");
		else
			err = add_file(r, path, records[i].name,
			    records[i].kind, 1);
	}
	if (err == WG_OK)
		err = add_folder(r, "events", ".jsonl", DIAG_JSONL);
	if (err == WG_OK)
		err = add_folder(r, "apps", ".log", DIAG_TEXT);
	if (err == WG_OK)
		err = add_trace(r);
	if (err == WG_OK && r->o->config != NULL) {
		snprintf(name, sizeof(name), "config/%s",
		    strrchr(r->o->config, '/') != NULL ?
		    strrchr(r->o->config, '/') + 1 : r->o->config);
		err = add_file(r, r->o->config, name, DIAG_TEXT, 1);
	}
	if (err == WG_OK)
		err = add_json(r, "certificates.json", json_pack("{s:o}",
		    "certificates", diag_certs(r->o->state_dir, r->unreadable,
		    keys)));
	if (err == WG_OK)
		err = add_json(r, "tpm.json", diag_tpm(r->o->tcti));
	if (err == WG_OK) {
		doc = manifest(r, created, keys);
		keys = NULL; /* the manifest has it */
		if (doc != NULL)
			json_object_set_new(doc, "trace", trace_facts(r));
		err = doc != NULL ? add_json(r, "manifest.json", doc) :
		    wg_fail(WG_E_INTERNAL, r->why, r->whylen, "the manifest "
		    "cannot be made");
	}
	json_decref(keys);
	return err;
}

/* The results worth saying: the unreadable files. */
static void
result_unreadable(struct diag_result *res, json_t *unread)
{
	json_t *v;
	size_t i;

	res->nunreadable = json_array_size(unread);
	res->unreadable = xcalloc(res->nunreadable + 1, sizeof(char *));
	json_array_foreach(unread, i, v)
		res->unreadable[i] = xstrdup(json_string_value(v));
}

/* Finishes the archive in fd and gives it its name; WG_E_IO with why. */
static enum wg_err
finish(struct diag_run *r, int fd, const char *tmp, const char *out)
{
	enum wg_err err;

	err = diag_tar_close(r->tar, r->why, r->whylen);
	r->tar = NULL;
	if (err == WG_OK && fsync(fd) != 0)
		err = wg_fail(WG_E_IO, r->why, r->whylen, "fsync %s: %s", tmp,
		    strerror(errno));
	if (close(fd) != 0 && err == WG_OK)
		err = wg_fail(WG_E_IO, r->why, r->whylen, "close %s: %s", tmp,
		    strerror(errno));
	if (err == WG_OK && rename(tmp, out) != 0)
		err = wg_fail(WG_E_IO, r->why, r->whylen, "rename to %s: %s",
		    out, strerror(errno));
	return err;
}

enum wg_err
diag_collect(const struct diag_opts *o, struct diag_result *res, char *why,
    size_t whylen)
{
	struct diag_run r = { .o = o, .why = why, .whylen = whylen };
	char host[64], stamp[32], created[32], out[PATH_MAX], tmp[PATH_MAX];
	time_t now = time(NULL);
	struct stat st;
	enum wg_err err;
	struct tm tm;
	int fd;

	memset(res, 0, sizeof(*res));
	host_name(host, sizeof(host));
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	wg_time_rfc3339(wg_now_ms(), created);
	snprintf(r.top, sizeof(r.top), "whiteglove-diag-%s-%s", host, stamp);
	if ((size_t)snprintf(out, sizeof(out), "%s", o->out != NULL ? o->out :
	    r.top) >= sizeof(out) - 16 || (o->out == NULL &&
	    strlen(out) + 7 >= sizeof(out)))
		return wg_fail(WG_E_CONFIG, why, whylen, "the output path is "
		    "too long");
	if (o->out == NULL)
		strncat(out, ".tar.gz", sizeof(out) - strlen(out) - 1);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", out);
	if ((fd = mkstemp(tmp)) < 0)
		return wg_fail(WG_E_IO, why, whylen, "cannot create a file "
		    "beside %s: %s", out, strerror(errno));
	r.included = json_array();
	r.missing = json_array();
	r.unreadable = json_array();
	r.redacted = json_array();
	r.tar = diag_tar_new(fd, now);
	err = add_members(&r, created);
	if (err == WG_OK) {
		res->files = diag_tar_count(r.tar);
		err = finish(&r, fd, tmp, out);
	} else {
		diag_tar_free(r.tar);
		close(fd);
	}
	if (err != WG_OK)
		unlink(tmp);
	else {
		res->path = xstrdup(out);
		res->size = stat(out, &st) == 0 ? (uint64_t)st.st_size : 0;
		result_unreadable(res, r.unreadable);
	}
	json_decref(r.included);
	json_decref(r.missing);
	json_decref(r.unreadable);
	json_decref(r.redacted);
	return err;
}

void
diag_result_free(struct diag_result *res)
{
	size_t i;

	free(res->path);
	for (i = 0; i < res->nunreadable; i++)
		free(res->unreadable[i]);
	free(res->unreadable);
	memset(res, 0, sizeof(*res));
}
