/*
 * Client options, server calls and output shared by the client
 * subcommands, so that each reports errors and prints tables alike.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define CELL_MAX 256

void
clientopts_init(struct clientopts *co)
{
	const char *v;

	memset(co, 0, sizeof(*co));
	co->url = CLIENTOPTS_DEFAULT_URL;
	if ((v = getenv("WHITEGLOVE_URL")) != NULL && *v != '\0') {
		co->url = v;
		co->url_given = 1;
	}
	if ((v = getenv("WHITEGLOVE_TOKEN")) != NULL && *v != '\0')
		co->token = v;
	if ((v = getenv("WHITEGLOVE_CA")) != NULL && *v != '\0')
		co->ca = v;
}

int
clientopts_option(struct clientopts *co, int ch, const char *arg)
{
	switch (ch) {
	case CLIENTOPT_URL:
		co->url = arg;
		co->url_given = 1;
		return 1;
	case CLIENTOPT_TOKEN:
		co->token = arg;
		return 1;
	case CLIENTOPT_CA:
		co->ca = arg;
		return 1;
	case CLIENTOPT_JSON:
		co->json = 1;
		return 1;
	default:
		return 0;
	}
}

int
clientopts_no_body(const char *what)
{
	char detail[200];

	snprintf(detail, sizeof(detail), "server response: empty body where "
	    "%.100s was expected", what);
	clientopts_print_failure(WG_E_NET_PROTOCOL, detail);
	return CLI_EXIT_FAIL;
}

int
clientopts_usage_error(const char *cmd, void (*usage)(FILE *),
    const char *msg)
{
	fprintf(stderr, "whiteglove %s: %s\n\n", cmd, msg);
	usage(stderr);
	return CLI_EXIT_USAGE;
}

static int
bad_option(const char *cmd, int ch, char **argv, void (*usage)(FILE *))
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	char msg[300];

	if (ch == ':')
		snprintf(msg, sizeof(msg), "option '%.200s' needs a value",
		    arg);
	else if (optopt > 0 && optopt < 0x100)
		snprintf(msg, sizeof(msg), "unknown option '-%c'", optopt);
	else
		snprintf(msg, sizeof(msg), "unknown option '%.200s'", arg);
	return clientopts_usage_error(cmd, usage, msg);
}

int
clientopts_next(struct clientopts *co, int argc, char **argv,
    const struct clientopts_cmd *cmd, int *exit_code)
{
	char shortopts[64];
	int ch;

	if (!co->started) {
		optind = 0; /* glibc: start over, whatever ran before */
		co->started = 1;
	}
	opterr = 0;
	/* ':' first: a missing value is told apart from an unknown option. */
	snprintf(shortopts, sizeof(shortopts), ":h%s", cmd->shortopts);
	while ((ch = getopt_long(argc, argv, shortopts, cmd->longopts,
	    NULL)) != -1) {
		if (clientopts_option(co, ch, optarg))
			continue;
		if (ch == 'h') {
			cmd->usage(stdout);
			*exit_code = CLI_EXIT_OK;
			return CLIENTOPTS_EXIT;
		}
		if (ch == '?' || ch == ':') {
			*exit_code = bad_option(cmd->name, ch, argv,
			    cmd->usage);
			return CLIENTOPTS_EXIT;
		}
		return ch;
	}
	return CLIENTOPTS_DONE;
}

int
clientopts_parse(struct clientopts *co, int argc, char **argv,
    const struct clientopts_cmd *cmd, const struct clientopts_arg *args,
    int *exit_code)
{
	const struct clientopts_arg *a;
	int ch;

	clientopts_init(co);
	while ((ch = clientopts_next(co, argc, argv, cmd, exit_code)) !=
	    CLIENTOPTS_DONE) {
		if (ch == CLIENTOPTS_EXIT)
			return -1;
		for (a = args; a->ch != 0 && a->ch != ch; a++)
			;
		if (a->value != NULL)
			*a->value = optarg;
		else if (a->flag != NULL)
			*a->flag = 1;
	}
	return 0;
}

int
clientopts_connect(const struct clientopts *co, int need_token,
    struct wg_httpc **out)
{
	return clientopts_connect_timeout(co, need_token, 0, out);
}

int
clientopts_run(const struct clientopts *co, clientopts_run_fn fn,
    const void *arg)
{
	struct wg_httpc *c = NULL;
	int ret;

	if ((ret = clientopts_connect(co, 1, &c)) != CLI_EXIT_OK)
		return ret;
	ret = fn(c, co, arg);
	wg_httpc_free(c);
	return ret;
}

int
clientopts_connect_timeout(const struct clientopts *co, int need_token,
    long timeout_ms, struct wg_httpc **out)
{
	struct wg_httpc_opts o = { .base_url = co->url, .ca_file = co->ca,
		.bearer = co->token, .timeout_ms = timeout_ms };
	char why[512];
	enum wg_err rc;

	*out = NULL;
	if (need_token && co->token == NULL) {
		clientopts_print_failure(WG_E_AUTH_MISSING, "no API key given: "
		    "pass --token KEY or set WHITEGLOVE_TOKEN");
		return CLI_EXIT_USAGE;
	}
	if ((rc = wg_httpc_new(&o, out, why, sizeof(why))) != WG_OK) {
		clientopts_print_failure(rc, why);
		return rc == WG_E_CONFIG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

void
clientopts_print_failure(enum wg_err err, const char *detail)
{
	const struct wg_err_info *info = wg_err_info(err);
	char code[16];

	wg_err_code_str(err, code, sizeof(code));
	fprintf(stderr, "whiteglove: %s %s: %s\n", code, info->name,
	    info->meaning);
	if (detail != NULL && *detail != '\0')
		fprintf(stderr, "whiteglove: %s\n", detail);
	if (*info->remedy != '\0')
		fprintf(stderr, "whiteglove: remedy: %s\n", info->remedy);
}

int
clientopts_answer(struct wg_httpc *c, const struct wg_httpc_req *req,
    enum wg_err rc, const struct wg_httpc_resp *resp, json_t **out)
{
	char why[512], detail[WG_HTTPC_DETAIL_MAX + 300];
	struct wg_httpc_error e;

	*out = NULL;
	if (rc != WG_OK) {
		snprintf(detail, sizeof(detail), "%s %s%s: %s", req->method,
		    wg_httpc_base_url(c), req->path, resp->detail);
		clientopts_print_failure(rc, detail);
		return CLI_EXIT_FAIL;
	}
	if (resp->status < 200 || resp->status > 299) {
		wg_httpc_resp_error(resp, &e);
		if (e.request_id[0] != '\0')
			fprintf(stderr, "whiteglove: %s %s: %s (request %s)\n",
			    e.code, e.name, e.message, e.request_id);
		else
			fprintf(stderr, "whiteglove: %s %s: %s\n", e.code,
			    e.name, e.message);
		return CLI_EXIT_FAIL;
	}
	if (resp->body != NULL &&
	    (rc = wg_httpc_resp_json(resp, out, why, sizeof(why))) != WG_OK) {
		clientopts_print_failure(rc, why);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int
clientopts_call(struct wg_httpc *c, const char *method, const char *path,
    const char *const *query, const json_t *body, json_t **out)
{
	const struct wg_httpc_req req = { .method = method, .path = path };
	struct wg_httpc_resp resp = { 0 };
	enum wg_err rc;
	int ret;

	rc = wg_httpc_json(c, method, path, query, body, &resp);
	ret = clientopts_answer(c, &req, rc, &resp, out);
	wg_httpc_resp_free(&resp);
	return ret;
}

void
clientopts_print_json(const json_t *o)
{
	if (json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
		fputc('\n', stdout);
}

const char *
clientopts_field(const json_t *o, const char *name)
{
	const char *s = NULL;
	char why[200], detail[300];

	if (wg_json_string(o, name, 1, 4096, &s, why, sizeof(why)) != WG_OK) {
		snprintf(detail, sizeof(detail), "server response: %s", why);
		clientopts_print_failure(WG_E_NET_PROTOCOL, detail);
		return NULL;
	}
	return s;
}

/* Display width of UTF-8 text: code points, not bytes. */
static size_t
width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Field path of o: "name", or "outer.name" for a nested object's field. */
static const json_t *
lookup(const json_t *o, const char *path)
{
	const char *dot = strchr(path, '.');
	char outer[64];

	if (dot == NULL)
		return json_object_get(o, path);
	snprintf(outer, sizeof(outer), "%.*s", (int)(dot - path), path);
	return json_object_get(json_object_get(o, outer), dot + 1);
}

/* The text of a cell: the field's string, number, or "-". */
static void
cell(const json_t *row, const char *field, char out[CELL_MAX])
{
	const json_t *v = lookup(row, field);
	const char *s;

	if (json_is_string(v)) {
		s = json_string_value(v);
		if (strlen(s) < CELL_MAX && wg_str_printable(s))
			snprintf(out, CELL_MAX, "%s", s);
		else
			wg_escape_log(s, json_string_length(v), out, CELL_MAX);
	} else if (json_is_integer(v)) {
		snprintf(out, CELL_MAX, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	} else if (json_is_true(v) || json_is_false(v)) {
		snprintf(out, CELL_MAX, "%s", json_is_true(v) ? "yes" : "no");
	} else {
		snprintf(out, CELL_MAX, "-");
	}
}

static void
print_row(const json_t *row, const struct clientopts_col *cols,
    const size_t *widths, size_t ncols)
{
	char text[CELL_MAX];
	size_t i, w;

	for (i = 0; i < ncols; i++) {
		if (row != NULL)
			cell(row, cols[i].field, text);
		else
			snprintf(text, sizeof(text), "%s", cols[i].title);
		fputs(text, stdout);
		if (i + 1 == ncols)
			break;
		for (w = width(text); w < widths[i] + 2; w++)
			fputc(' ', stdout);
	}
	fputc('\n', stdout);
}

void
clientopts_print_table(const json_t *list, const struct clientopts_col *cols,
    size_t ncols)
{
	char text[CELL_MAX];
	size_t *widths, i, j;
	const json_t *row;

	widths = xcalloc(ncols, sizeof(*widths));
	for (i = 0; i < ncols; i++)
		widths[i] = width(cols[i].title);
	json_array_foreach(list, j, row) {
		for (i = 0; i < ncols; i++) {
			cell(row, cols[i].field, text);
			if (width(text) > widths[i])
				widths[i] = width(text);
		}
	}
	print_row(NULL, cols, widths, ncols);
	json_array_foreach(list, j, row)
		print_row(row, cols, widths, ncols);
	free(widths);
}

/* The "value" array of a list page; NULL (reported) if there is none. */
static const json_t *
page_value(const json_t *page)
{
	const json_t *list = json_object_get(page, "value");

	if (!json_is_array(list)) {
		clientopts_print_failure(WG_E_NET_PROTOCOL, "server response: "
		    "field \"value\" must be an array");
		return NULL;
	}
	return list;
}

/* Prints doc with co->json, else rows as a table of cols, or empty_note. */
static void
print_list(const struct clientopts *co, const json_t *doc, const json_t *rows,
    const struct clientopts_col *cols, size_t ncols, const char *empty_note)
{
	if (co->json)
		clientopts_print_json(doc);
	else if (json_array_size(rows) == 0)
		printf("%s\n", empty_note);
	else
		clientopts_print_table(rows, cols, ncols);
}

int
clientopts_list(struct wg_httpc *c, const struct clientopts *co,
    const char *path, const char *const *query,
    const struct clientopts_col *cols, size_t ncols, const char *empty_note)
{
	const json_t *list;
	json_t *ans = NULL;
	int ret;

	if ((ret = clientopts_call(c, "GET", path, query, NULL, &ans)) !=
	    CLI_EXIT_OK)
		return ret;
	if ((list = page_value(ans)) == NULL)
		ret = CLI_EXIT_FAIL;
	else
		print_list(co, ans, list, cols, ncols, empty_note);
	json_decref(ans);
	return ret;
}

void
clientopts_query_add(struct clientopts_query *q, const char *name,
    const char *value)
{
	if (value == NULL)
		return;
	if (q->n == CLIENTOPTS_QUERY_MAX)
		abort(); /* a caller with more parameters than it declared */
	q->kv[2 * q->n] = name;
	q->kv[2 * q->n + 1] = value;
	q->n++;
	q->kv[2 * q->n] = NULL;
}

int
clientopts_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > CLIENTOPTS_ID_MAX || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-._~", id[i]) == NULL)
			return 0;
	return 1;
}

int
clientopts_count(const json_t *o, const char *name, json_int_t *out)
{
	const json_t *v = json_object_get(o, name);
	char detail[200];

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(detail, sizeof(detail), "server response: field "
		    "\"%.64s\" must be a whole number, 0 or more", name);
		clientopts_print_failure(WG_E_NET_PROTOCOL, detail);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

void
clientopts_print_fields(const json_t *o, const struct clientopts_col *cols,
    size_t ncols)
{
	char text[CELL_MAX];
	size_t i, w = 0;

	for (i = 0; i < ncols; i++)
		if (width(cols[i].title) > w)
			w = width(cols[i].title);
	for (i = 0; i < ncols; i++) {
		cell(o, cols[i].field, text);
		printf("  %s:%*s %s\n", cols[i].title,
		    (int)(w - width(cols[i].title)), "", text);
	}
}

/*
 * The "next" cursor of a page: *out a copy (the caller frees it) or NULL
 * at the last page.  -1 (reported) when it is neither a cursor nor null.
 */
static int
next_cursor(const json_t *page, char **out)
{
	const json_t *v = json_object_get(page, "next");
	const char *s;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	}
	if (json_is_string(v) && (s = json_string_value(v))[0] != '\0' &&
	    strlen(s) <= 512 && wg_str_printable(s)) {
		*out = xstrdup(s);
		return 0;
	}
	clientopts_print_failure(WG_E_NET_PROTOCOL, "server response: field "
	    "\"next\" must be a cursor or null");
	return -1;
}

/*
 * GETs the pages of l into rows (an array the caller owns): all of them
 * with l->all, else the first.  *rest is the cursor of the pages left
 * (the caller frees it), or NULL.
 */
static int
fetch_pages(struct wg_httpc *c, const struct clientopts_listing *l,
    json_t *rows, char **rest)
{
	struct clientopts_query q;
	char *after = NULL, *next = NULL;
	const json_t *list;
	json_t *page = NULL;
	int ret = CLI_EXIT_FAIL;

	*rest = NULL;
	for (;;) {
		q = l->query != NULL ? *l->query : (struct clientopts_query){ 0 };
		clientopts_query_add(&q, "after", after);
		if (clientopts_call(c, "GET", l->path, q.kv, NULL, &page) !=
		    CLI_EXIT_OK)
			goto done;
		if ((list = page_value(page)) == NULL)
			goto done;
		json_array_extend(rows, (json_t *)list);
		if (next_cursor(page, &next) != 0)
			goto done;
		json_decref(page);
		page = NULL;
		if (next == NULL || !l->all) {
			*rest = next;
			next = NULL;
			break;
		}
		if (after != NULL && strcmp(after, next) == 0) {
			clientopts_print_failure(WG_E_NET_PROTOCOL, "server "
			    "response: the same \"next\" cursor twice");
			goto done;
		}
		free(after);
		after = next;
		next = NULL;
	}
	ret = CLI_EXIT_OK;
done:
	json_decref(page);
	free(after);
	free(next);
	return ret;
}

int
clientopts_list_pages(struct wg_httpc *c, const struct clientopts *co,
    const struct clientopts_listing *l)
{
	json_t *rows = json_array(), *o;
	char *rest = NULL;
	int ret;

	if (rows == NULL)
		abort();
	if ((ret = fetch_pages(c, l, rows, &rest)) != CLI_EXIT_OK)
		goto done;
	/* The server's shape: "next" lets a script go on paging. */
	if ((o = json_pack("{s:O, s:s?}", "value", rows, "next", rest)) ==
	    NULL)
		abort();
	if (!co->json && l->join_from != NULL) {
		size_t i;
		json_t *row;

		json_array_foreach(rows, i, row)
			clientopts_join_strings(row, l->join_from, l->join_to);
	}
	print_list(co, o, rows, l->cols, l->ncols, l->empty_note);
	if (!co->json && rest != NULL && json_array_size(rows) > 0)
		printf("\n%s\n", l->more_note);
	json_decref(o);
done:
	free(rest);
	json_decref(rows);
	return ret;
}

void
clientopts_join_strings(json_t *o, const char *from, const char *to)
{
	const json_t *arr = json_object_get(o, from), *v;
	char text[1024] = "";
	size_t i, used;

	json_array_foreach(arr, i, v) {
		used = strlen(text);
		if (json_is_string(v) && used + 1 < sizeof(text))
			snprintf(text + used, sizeof(text) - used, "%s%s",
			    used ? ", " : "", json_string_value(v));
	}
	json_object_set_new(o, to, text[0] ? json_string(text) : json_null());
}

char *
clientopts_id_by_name(struct wg_httpc *c, const char *path,
    const struct clientopts_query *query, const char *target,
    const char *what)
{
	struct clientopts_query q = query != NULL ? *query :
	    (struct clientopts_query){ 0 };
	char detail[300], esc[200], *out = NULL;
	json_t *page = NULL;
	const json_t *p;
	const char *id;

	if (wg_is_uuid(target))
		return xstrdup(target);
	clientopts_query_add(&q, "name", target);
	if (clientopts_call(c, "GET", path, q.kv, NULL, &page) != CLI_EXIT_OK)
		return NULL;
	if ((p = json_array_get(json_object_get(page, "value"), 0)) == NULL) {
		wg_escape_log(target, strlen(target), esc, sizeof(esc));
		snprintf(detail, sizeof(detail), "no %s is named \"%s\" in "
		    "this tenant", what, esc);
		clientopts_print_failure(WG_E_NOT_FOUND, detail);
	} else if ((id = clientopts_field(p, "id")) != NULL) {
		if (wg_is_uuid(id))
			out = xstrdup(id);
		else
			clientopts_no_body("an id");
	}
	json_decref(page);
	return out;
}

int
clientopts_post(struct wg_httpc *c, const struct clientopts *co,
    const char *path, const char *const *query, json_t *body, json_t **out)
{
	json_t *ans = NULL;
	int ret;

	*out = NULL;
	ret = clientopts_call(c, "POST", path, query, body, &ans);
	json_decref(body);
	if (ret == CLI_EXIT_OK && ans == NULL)
		ret = clientopts_no_body("the new object");
	else if (ret == CLI_EXIT_OK && co->json) {
		clientopts_print_json(ans);
		json_decref(ans);
		ans = NULL;
	}
	*out = ans;
	return ret;
}

unsigned char *
clientopts_slurp(const char *cmd, FILE *f, const char *name, size_t max,
    size_t *len)
{
	unsigned char *buf = xmalloc(max + 1);
	size_t n = fread(buf, 1, max + 1, f);

	if (ferror(f) || n > max) {
		fprintf(stderr, "whiteglove %s: %s: %s\n", cmd, name,
		    ferror(f) ? strerror(errno) : "too large");
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

unsigned char *
clientopts_read_file(const char *cmd, const char *path, size_t max,
    size_t *len)
{
	unsigned char *buf;
	FILE *f;

	if (strcmp(path, "-") == 0)
		return clientopts_slurp(cmd, stdin, "standard input", max, len);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "whiteglove %s: %s: %s\n", cmd, path,
		    strerror(errno));
		return NULL;
	}
	buf = clientopts_slurp(cmd, f, path, max, len);
	fclose(f);
	return buf;
}
