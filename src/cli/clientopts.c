/*
 * Client options, server calls and output shared by the client
 * subcommands, so that each reports errors and prints tables alike.
 */
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
clientopts_connect(const struct clientopts *co, int need_token,
    struct wg_httpc **out)
{
	struct wg_httpc_opts o = { .base_url = co->url, .ca_file = co->ca,
		.bearer = co->token };
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

/* The server's error body, in one line. */
static void
print_server_error(const struct wg_httpc_resp *resp)
{
	struct wg_httpc_error e;

	wg_httpc_resp_error(resp, &e);
	if (e.request_id[0] != '\0')
		fprintf(stderr, "whiteglove: %s %s: %s (request %s)\n", e.code,
		    e.name, e.message, e.request_id);
	else
		fprintf(stderr, "whiteglove: %s %s: %s\n", e.code, e.name,
		    e.message);
}

int
clientopts_call(struct wg_httpc *c, const char *method, const char *path,
    const char *const *query, const json_t *body, json_t **out)
{
	struct wg_httpc_resp resp = { 0 };
	char why[512], detail[WG_HTTPC_DETAIL_MAX + 300];
	int ret = CLI_EXIT_FAIL;
	enum wg_err rc;

	*out = NULL;
	if ((rc = wg_httpc_json(c, method, path, query, body, &resp)) !=
	    WG_OK) {
		snprintf(detail, sizeof(detail), "%s %s%s: %s", method,
		    wg_httpc_base_url(c), path, resp.detail);
		clientopts_print_failure(rc, detail);
		goto done;
	}
	if (resp.status < 200 || resp.status > 299) {
		print_server_error(&resp);
		goto done;
	}
	if (resp.body != NULL &&
	    (rc = wg_httpc_resp_json(&resp, out, why, sizeof(why))) != WG_OK) {
		clientopts_print_failure(rc, why);
		goto done;
	}
	ret = CLI_EXIT_OK;
done:
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

/* The text of a cell: the field's string, number, or "-". */
static void
cell(const json_t *row, const char *field, char out[CELL_MAX])
{
	const json_t *v = json_object_get(row, field);
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

/* Prints the rows of list (an array of objects) as a table of cols. */
static void
print_table(const json_t *list, const struct clientopts_col *cols,
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
	list = json_object_get(ans, "value");
	if (!json_is_array(list)) {
		clientopts_print_failure(WG_E_NET_PROTOCOL, "server response: "
		    "field \"value\" must be an array");
		ret = CLI_EXIT_FAIL;
	} else if (co->json) {
		clientopts_print_json(ans);
	} else if (json_array_size(list) == 0) {
		printf("%s\n", empty_note);
	} else {
		print_table(list, cols, ncols);
	}
	json_decref(ans);
	return ret;
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
	if (ret == CLI_EXIT_OK && ans == NULL) {
		clientopts_print_failure(WG_E_NET_PROTOCOL, "server response: "
		    "empty body where the new object was expected");
		ret = CLI_EXIT_FAIL;
	} else if (ret == CLI_EXIT_OK && co->json) {
		clientopts_print_json(ans);
		json_decref(ans);
		ans = NULL;
	}
	*out = ans;
	return ret;
}
