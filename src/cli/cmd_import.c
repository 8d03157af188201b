/*
 * whiteglove import FILE, whiteglove import show ID [--errors]: device
 * imports (docs/api.md, /admin/v1/imports and
 * /admin/v1/importedDeviceIdentities).
 *
 * A CSV file (the Autopilot header) is streamed to the server as it is
 * read, however large, after an empty import record is created so that
 * its progress can be watched; a JSON file ({"importedDeviceIdentities":
 * [...]}, Graph's shape) is sent in one request.  Which one a file is, is
 * told by its content: JSON starts with '{'.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "cli/progress.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define IMPORT_JSON_MAX (16u * 1024 * 1024) /* the server's body cap */
#define IMPORT_JSON_ROWS_MAX 10000
#define IMPORT_HEAD_MAX 4096
#define IMPORT_UPLOAD_BYTES_PER_MS 256 /* slowest upload waited for */

struct import_args {
	const char *verb;	/* "file" or "show" */
	const char *file;
	const char *id;		/* show */
	const char *tenant;
	int errors;		/* show --errors */
};

/* The file being imported.  Its first bytes are read to tell JSON from
 * CSV and sent again first, so that a pipe can be imported too. */
struct source {
	const char *path;
	int fd;
	int64_t size;		/* -1: not a regular file, size unknown */
	char head[IMPORT_HEAD_MAX];
	size_t head_len, head_off;
	int64_t left;		/* bytes still to send of size */
	struct progress *progress;
};

enum kind { KIND_EMPTY, KIND_CSV, KIND_JSON, KIND_JSON_ARRAY };

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove import FILE [--tenant ID] [OPTIONS]\n"
	    "       whiteglove import show ID [--errors] [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Imports devices' hardware hashes from FILE: a CSV file with the "
	    "Autopilot header\n(Device Serial Number,Windows Product ID,"
	    "Hardware Hash,Group Tag,Assigned User),\nsent as it is read "
	    "whatever its size, or a JSON file {\"importedDevice"
	    "Identities\":\n[...]} of at most 10,000 devices and 16 MiB.  On "
	    "a terminal a progress bar shows\nwhile a CSV file uploads.  "
	    "Prints the result: counts and errors by code.\n\n"
	    "show prints an import's record; with --errors also its failed "
	    "rows.\n\n"
	    "Exit status: 0 every row was imported, 1 some were not (or the "
	    "request\nfailed), 2 usage error.\n\n"
	    "Options:\n"
	    "  -e, --errors     show: list the failed rows (with --json: "
	    "only them)\n"
	    "  -t, --tenant ID  the tenant to act on (operator key only)\n"
	    CLIENTOPTS_HELP);
}

/* Reports a failure of the file itself (not of the server). */
static int
file_failure(enum wg_err err, const char *path, const char *what)
{
	char detail[600];

	snprintf(detail, sizeof(detail), "%.200s: %s", path, what);
	clientopts_print_failure(err, detail);
	return CLI_EXIT_FAIL;
}

/* Reads up to cap bytes (fewer only at the end); -1 on an error. */
static ssize_t
read_full(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap) {
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Opens src->path and reads its head.  Returns a CLI exit code. */
static int
source_open(struct source *src)
{
	struct stat st;
	ssize_t n;

	if ((src->fd = open(src->path, O_RDONLY | O_CLOEXEC)) < 0)
		return file_failure(WG_E_IO, src->path, strerror(errno));
	if (fstat(src->fd, &st) != 0)
		return file_failure(WG_E_IO, src->path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return file_failure(WG_E_IO, src->path, "is a directory");
	src->size = S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
	if ((n = read_full(src->fd, src->head, sizeof(src->head))) < 0)
		return file_failure(WG_E_IO, src->path, strerror(errno));
	src->head_len = (size_t)n;
	if (src->size >= 0 && src->size < n)
		src->size = n; /* grew since fstat: send what was read */
	src->left = src->size >= 0 ? src->size - n : -1;
	return CLI_EXIT_OK;
}

/* JSON or CSV, by the first byte after a UTF-8 BOM and white space. */
static enum kind
source_kind(const struct source *src)
{
	size_t i = 0;

	if (src->head_len >= 3 && memcmp(src->head, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < src->head_len && strchr(" \t\r\n", src->head[i]) != NULL &&
	    src->head[i] != '\0')
		i++;
	if (i == src->head_len)
		return src->head_len < sizeof(src->head) ? KIND_EMPTY :
		    KIND_CSV;
	if (src->head[i] == '{')
		return KIND_JSON;
	return src->head[i] == '[' ? KIND_JSON_ARRAY : KIND_CSV;
}

/* The upload callback: the head again, then the rest of the file. */
static enum wg_err
source_read(void *ctx, char *buf, size_t cap, size_t *got)
{
	struct source *src = ctx;
	size_t n;
	ssize_t r;

	*got = 0;
	if (src->head_off < src->head_len) {
		n = src->head_len - src->head_off;
		n = n < cap ? n : cap;
		memcpy(buf, src->head + src->head_off, n);
		src->head_off += n;
		*got = n;
	} else if (src->left != 0) {
		if (src->left > 0 && (uint64_t)src->left < cap)
			cap = (size_t)src->left; /* what Content-Length said */
		do
			r = read(src->fd, buf, cap);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return WG_E_IO;
		*got = (size_t)r;
		if (src->left > 0)
			src->left -= r;
	}
	progress_sent(src->progress, (int64_t)*got);
	return WG_OK;
}

/* 1 if the import's record says every row was imported. */
static int
all_imported(const json_t *sum)
{
	const json_t *failed = json_object_get(sum, "failedCount");
	const json_t *status = json_object_get(sum, "status");

	return json_is_integer(failed) && json_integer_value(failed) == 0 &&
	    json_is_string(status) &&
	    strcmp(json_string_value(status), "error") != 0;
}

/*
 * The summary of an import, as the server keeps it.  elapsed_ms >= 0 is
 * how long this command waited for it.  -1 (reported) if it is not one.
 */
static int
print_summary(const json_t *sum, int64_t elapsed_ms)
{
	static const struct clientopts_col times[] = {
		{ "created", "createdAt" },
		{ "completed", "completedAt" },
	}, message[] = {
		{ "message", "message" },
	};
	json_int_t total, imported, failed;
	const char *id, *status;

	if ((id = clientopts_field(sum, "id")) == NULL ||
	    (status = clientopts_field(sum, "status")) == NULL ||
	    clientopts_count(sum, "totalCount", &total) != 0 ||
	    clientopts_count(sum, "importedCount", &imported) != 0 ||
	    clientopts_count(sum, "failedCount", &failed) != 0)
		return -1;
	printf("Import %s: %s\n", id, status);
	printf("  rows:      %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
	    " imported, %" JSON_INTEGER_FORMAT " failed)\n", total, imported,
	    failed);
	if (elapsed_ms >= 0)
		printf("  elapsed:   %.1f s, %.0f rows/s\n",
		    (double)elapsed_ms / 1000, elapsed_ms > 0 ?
		    (double)total * 1000 / (double)elapsed_ms : 0.0);
	clientopts_print_fields(sum, times, 2);
	if (json_is_string(json_object_get(sum, "message")))
		clientopts_print_fields(sum, message, 1);
	if (strcmp(status, "pending") == 0 || strcmp(status, "unknown") == 0)
		printf("\nThe import is still running: 'whiteglove import show "
		    "%s' shows it again.\n", id);
	if (json_is_true(json_object_get(sum, "interrupted")))
		printf("\nThe server stopped during this import: rows after the "
		    "last one counted were\nnot imported.  Import the file "
		    "again; rows already imported then fail with\n806 "
		    "ZtdDeviceAlreadyAssigned, which is expected.\n");
	return 0;
}

/* The errors-by-code table, how to explain a code and, with list_hint,
 * how to list the failed rows. */
static void
print_error_counts(const json_t *sum, const char *id, int list_hint)
{
	static const struct clientopts_col cols[] = {
		{ "CODE", "code" },
		{ "NAME", "name" },
		{ "COUNT", "count" },
	};
	const json_t *counts = json_object_get(sum, "errorCounts");
	char code[64];
	const json_t *first;

	if (!json_is_array(counts) || json_array_size(counts) == 0)
		return;
	printf("\nErrors by code:\n");
	clientopts_print_table(counts, cols, 3);
	first = json_array_get(counts, 0);
	if (json_is_integer(json_object_get(first, "code")))
		snprintf(code, sizeof(code), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(first, "code")));
	else
		snprintf(code, sizeof(code), "CODE");
	printf("\nExplain a code:    whiteglove explain %s\n", code);
	if (list_hint)
		printf("List failed rows:  whiteglove import show %s --errors\n",
		    id);
}

/*
 * Prints an import's outcome (its JSON with co->json); returns the exit
 * code it calls for: 0 when every row was imported.
 */
static int
report(const struct clientopts *co, const json_t *sum, int64_t elapsed_ms,
    int list_hint)
{
	if (co->json)
		clientopts_print_json(sum);
	else if (print_summary(sum, elapsed_ms) != 0)
		return CLI_EXIT_FAIL;
	else
		print_error_counts(sum, json_string_value(json_object_get(sum,
		    "id")), list_hint);
	return all_imported(sum) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* A whole-exchange timeout for sending size bytes (-1: unknown). */
static long
upload_timeout_ms(int64_t size)
{
	const int64_t week = INT64_C(7) * 24 * 3600 * 1000;
	int64_t ms;

	if (size < 0)
		return (long)week;
	ms = WG_HTTPC_TIMEOUT_MS + size / IMPORT_UPLOAD_BYTES_PER_MS;
	return (long)(ms < week ? ms : week);
}

/* Creates the (empty) import record; *id is its id, the caller frees it. */
static int
create_import(struct wg_httpc *c, const struct clientopts_query *q,
    char **id)
{
	json_t *body, *ans = NULL;
	const char *s;
	int ret;

	*id = NULL;
	if ((body = json_pack("{s:s}", "source", "csv")) == NULL)
		abort();
	ret = clientopts_call(c, "POST", "/admin/v1/imports", q->kv, body,
	    &ans);
	json_decref(body);
	if (ret != CLI_EXIT_OK)
		return ret;
	ret = CLI_EXIT_FAIL;
	if (ans == NULL) {
		ret = clientopts_no_body("the import");
	} else if ((s = clientopts_field(ans, "id")) == NULL) {
		/* reported */
	} else if (!clientopts_id_ok(s)) {
		clientopts_print_failure(WG_E_NET_PROTOCOL, "server response: "
		    "the import's \"id\" is not an id");
	} else {
		*id = xstrdup(s);
		ret = CLI_EXIT_OK;
	}
	json_decref(ans);
	return ret;
}

/* After a failed upload: what the import record says arrived. */
static void
after_failure(struct wg_httpc *c, const struct clientopts *co,
    const struct clientopts_query *q, const char *path, const char *id)
{
	json_t *sum = NULL;

	fprintf(stderr, "whiteglove: rows before the failure may have been "
	    "imported; the import record:\n");
	if (clientopts_call(c, "GET", path, q->kv, NULL, &sum) == CLI_EXIT_OK &&
	    sum != NULL)
		(void)report(co, sum, -1, 1);
	else
		fprintf(stderr, "whiteglove: 'whiteglove import show %s' shows "
		    "it once the server answers.\n", id);
	json_decref(sum);
}

/* Streams a CSV file into a new import, showing progress on a terminal. */
static int
import_csv(struct wg_httpc *c, const struct clientopts *co,
    const struct import_args *a, struct source *src)
{
	static const struct wg_httpc_header accept = { "Accept",
		"application/json" };
	struct clientopts_query q = { .n = 0 }, uq = { .n = 0 };
	struct wg_httpc_resp resp = { 0 };
	struct wg_httpc_req req = { .method = "POST", .path =
		"/admin/v1/importedDeviceIdentities/importCsv", .headers =
		&accept, .nheaders = 1, .content_type = "text/csv", .upload =
		source_read, .upload_ctx = src, .upload_len = src->size };
	struct wg_httpc *up = NULL;
	char *id = NULL, *path = NULL;
	enum wg_err rc;
	json_t *sum = NULL;
	int64_t start;
	int ret;

	clientopts_query_add(&q, "tenantId", a->tenant);
	if ((ret = create_import(c, &q, &id)) != CLI_EXIT_OK ||
	    (ret = clientopts_connect_timeout(co, 1,
	    upload_timeout_ms(src->size), &up)) != CLI_EXIT_OK)
		goto done;
	path = xasprintf("/admin/v1/imports/%s", id);
	clientopts_query_add(&uq, "importId", id);
	clientopts_query_add(&uq, "tenantId", a->tenant);
	req.query = uq.kv;
	start = wg_mono_ms();
	src->progress = progress_start(co, path, q.kv, src->size);
	rc = wg_httpc_do(up, &req, &resp);
	progress_stop(src->progress);
	src->progress = NULL;
	ret = clientopts_answer(up, &req, rc, &resp, &sum);
	if (ret == CLI_EXIT_OK && sum == NULL)
		ret = clientopts_no_body("the import's result");
	else if (ret == CLI_EXIT_OK)
		ret = report(co, sum, wg_mono_ms() - start, 1);
	else
		after_failure(c, co, &q, path, id);
done:
	wg_httpc_resp_free(&resp);
	wg_httpc_free(up);
	json_decref(sum);
	free(path);
	free(id);
	return ret;
}

/* Reads the whole JSON file (at most the server's cap) into *out. */
static int
read_json(struct source *src, char **out, size_t *len)
{
	char *buf = xmalloc(IMPORT_JSON_MAX + 1);
	ssize_t n;

	*out = NULL;
	memcpy(buf, src->head, src->head_len);
	n = read_full(src->fd, buf + src->head_len,
	    IMPORT_JSON_MAX + 1 - src->head_len);
	if (n < 0 || src->head_len + (size_t)n > IMPORT_JSON_MAX) {
		free(buf);
		if (n < 0)
			return file_failure(WG_E_IO, src->path,
			    strerror(errno));
		return file_failure(WG_E_BODY_TOO_LARGE, src->path, "larger "
		    "than 16 MiB, the most one JSON import takes: split it, or "
		    "import it as CSV (no size limit)");
	}
	*len = src->head_len + (size_t)n;
	*out = buf;
	return CLI_EXIT_OK;
}

/* Checks the JSON file's shape before sending it; *doc is the object. */
static int
check_json(const char *path, const char *buf, size_t len, json_t **doc)
{
	char why[300];
	const json_t *rows;
	enum wg_err rc;
	size_t off = 0;

	*doc = NULL;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	if ((rc = wg_json_load_object(buf + off, len - off, doc, why,
	    sizeof(why))) != WG_OK)
		return file_failure(rc, path, why);
	rows = json_object_get(*doc, "importedDeviceIdentities");
	if (!json_is_array(rows)) {
		json_decref(*doc);
		*doc = NULL;
		return file_failure(WG_E_JSON_FIELD, path, "needs an array "
		    "\"importedDeviceIdentities\" of devices");
	}
	if (json_array_size(rows) > IMPORT_JSON_ROWS_MAX) {
		snprintf(why, sizeof(why), "holds %zu devices; one JSON import "
		    "takes at most %d: split it, or import it as CSV",
		    json_array_size(rows), IMPORT_JSON_ROWS_MAX);
		json_decref(*doc);
		*doc = NULL;
		return file_failure(WG_E_JSON_FIELD, path, why);
	}
	return CLI_EXIT_OK;
}

#define FAILED_COLS 5

/* The columns of a failed-rows table, the first titled row_title. */
static void
failed_cols(struct clientopts_col cols[FAILED_COLS], const char *row_title)
{
	cols[0] = (struct clientopts_col){ row_title, "rowNumber" };
	cols[1] = (struct clientopts_col){ "SERIAL", "serialNumber" };
	cols[2] = (struct clientopts_col){ "CODE", "state.deviceErrorCode" };
	cols[3] = (struct clientopts_col){ "NAME", "state.deviceErrorName" };
	cols[4] = (struct clientopts_col){ "MESSAGE", "message" };
}

/* The rows of a JSON import's answer that failed, as a table. */
static void
print_failed_rows(const json_t *ans)
{
	const json_t *rows = json_object_get(ans, "value"), *row, *st;
	json_t *failed = json_array();
	struct clientopts_col cols[FAILED_COLS];
	size_t i;

	if (failed == NULL)
		abort();
	failed_cols(cols, "ROW");
	json_array_foreach(rows, i, row) {
		st = json_object_get(json_object_get(row, "state"),
		    "deviceImportStatus");
		if (json_is_string(st) &&
		    strcmp(json_string_value(st), "error") == 0)
			json_array_append(failed, (json_t *)row);
	}
	if (json_array_size(failed) > 0) {
		printf("\nFailed rows:\n");
		clientopts_print_table(failed, cols, FAILED_COLS);
	}
	json_decref(failed);
}

/* Sends a JSON file in one request. */
static int
import_json(struct wg_httpc *c, const struct clientopts *co,
    const struct import_args *a, struct source *src)
{
	struct clientopts_query q = { .n = 0 };
	json_t *doc = NULL, *ans = NULL;
	char *buf = NULL;
	int64_t start;
	size_t len;
	int ret;

	if ((ret = read_json(src, &buf, &len)) != CLI_EXIT_OK ||
	    (ret = check_json(src->path, buf, len, &doc)) != CLI_EXIT_OK)
		goto done;
	clientopts_query_add(&q, "tenantId", a->tenant);
	start = wg_mono_ms();
	ret = clientopts_call(c, "POST",
	    "/admin/v1/importedDeviceIdentities/import", q.kv, doc, &ans);
	if (ret == CLI_EXIT_OK && ans == NULL) {
		ret = clientopts_no_body("the import's result");
	} else if (ret == CLI_EXIT_OK) {
		ret = report(co, ans, wg_mono_ms() - start, 0);
		if (!co->json)
			print_failed_rows(ans);
	}
done:
	json_decref(doc);
	json_decref(ans);
	free(buf);
	return ret;
}

static int
import_file(struct wg_httpc *c, const struct clientopts *co,
    const struct import_args *a)
{
	struct source src = { .path = a->file, .fd = -1 };
	int ret;

	if ((ret = source_open(&src)) != CLI_EXIT_OK)
		goto done;
	switch (source_kind(&src)) {
	case KIND_EMPTY:
		ret = file_failure(WG_E_IO, src.path, "is empty: nothing to "
		    "import");
		break;
	case KIND_JSON_ARRAY:
		ret = file_failure(WG_E_JSON_FIELD, src.path, "is a JSON array; "
		    "a JSON import is an object {\"importedDeviceIdentities\": "
		    "[...]}");
		break;
	case KIND_JSON:
		ret = import_json(c, co, a, &src);
		break;
	default:
		ret = import_csv(c, co, a, &src);
		break;
	}
done:
	if (src.fd >= 0)
		close(src.fd);
	return ret;
}

/* Lists the failed rows of import sum (at path), every page. */
static int
list_failed(struct wg_httpc *c, const struct clientopts *co,
    const struct import_args *a, const char *path, const json_t *sum)
{
	const json_t *source = json_object_get(sum, "source");
	struct clientopts_query q = { .n = 0 };
	struct clientopts_col cols[FAILED_COLS];
	struct clientopts_listing l = { .query = &q, .all = 1, .cols = cols,
		.ncols = FAILED_COLS, .empty_note = "No failed rows." };
	char *rows_path = xasprintf("%s/rows", path);
	int ret;

	/* A CSV import numbers its rows by the file's lines. */
	failed_cols(cols, json_is_string(source) &&
	    strcmp(json_string_value(source), "csv") == 0 ? "LINE" : "ROW");
	l.path = rows_path;
	clientopts_query_add(&q, "state", "error");
	clientopts_query_add(&q, "tenantId", a->tenant);
	if (!co->json)
		printf("\nFailed rows:\n");
	ret = clientopts_list_pages(c, co, &l);
	free(rows_path);
	return ret;
}

/* import show ID [--errors]: exits like the import (0: all imported). */
static int
import_show(struct wg_httpc *c, const struct clientopts *co,
    const struct import_args *a)
{
	struct clientopts_query q = { .n = 0 };
	char *path = xasprintf("/admin/v1/imports/%s", a->id);
	json_t *sum = NULL;
	int ret;

	clientopts_query_add(&q, "tenantId", a->tenant);
	if ((ret = clientopts_call(c, "GET", path, q.kv, NULL, &sum)) !=
	    CLI_EXIT_OK)
		goto done;
	if (sum == NULL) {
		ret = clientopts_no_body("the import");
		goto done;
	}
	/* With --json --errors, only the rows: one JSON document. */
	if (!a->errors || !co->json)
		ret = report(co, sum, -1, !a->errors);
	else
		ret = all_imported(sum) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	if (a->errors && list_failed(c, co, a, path, sum) != CLI_EXIT_OK)
		ret = CLI_EXIT_FAIL;
done:
	json_decref(sum);
	free(path);
	return ret;
}

static int
import_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	const struct import_args *a = arg;

	if (strcmp(a->verb, "show") == 0)
		return import_show(c, co, a);
	return import_file(c, co, a);
}

/* Operands and options that go together; a usage message if not. */
static const char *
check_args(struct import_args *a, int argc, char **argv)
{
	int nargs = argc - optind;

	if (nargs == 0)
		return "give a FILE to import, or show ID";
	if (strcmp(argv[optind], "show") == 0) {
		a->verb = "show";
		if (nargs != 2)
			return "show takes one import ID";
		a->id = argv[optind + 1];
		if (!clientopts_id_ok(a->id))
			return "ID must be an import id as 'whiteglove import' "
			    "printed it";
		return NULL;
	}
	a->verb = "file";
	a->file = argv[optind];
	if (nargs != 1)
		return "give one FILE (for a file named show, write ./show)";
	if (a->errors)
		return "--errors goes with show";
	return NULL;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "errors", no_argument, NULL, 'e' },
		{ "tenant", required_argument, NULL, 't' },
		CLIENTOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "import", usage, "et:",
		longopts };
	struct import_args a = { .verb = "" };
	const struct clientopts_arg args[] = {
		{ 'e', NULL, &a.errors },
		{ 't', &a.tenant, NULL },
		{ 0, NULL, NULL },
	};
	struct clientopts co;
	const char *bad;
	int ret = CLI_EXIT_USAGE;

	if (clientopts_parse(&co, argc, argv, &spec, args, &ret) != 0)
		return ret;
	if ((bad = check_args(&a, argc, argv)) != NULL)
		return clientopts_usage_error("import", usage, bad);
	return clientopts_run(&co, import_run, &a);
}
