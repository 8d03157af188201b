/*
 * What every client subcommand shares: the --url/--token/--ca/--json
 * options (with their WHITEGLOVE_* environment fallbacks), option errors,
 * one call to the server with its errors reported the same way everywhere,
 * and JSON or table output.
 */
#ifndef WG_CLI_CLIENTOPTS_H
#define WG_CLI_CLIENTOPTS_H

#include <stddef.h>
#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/httpc.h"

#define CLIENTOPTS_DEFAULT_URL "https://127.0.0.1:8443"

/* getopt_long values above 255 so they never clash with short options. */
enum clientopts_id {
	CLIENTOPT_URL = 0x100,
	CLIENTOPT_TOKEN,
	CLIENTOPT_CA,
	CLIENTOPT_JSON,
};

/* The entries to put in a subcommand's struct option table. */
#define CLIENTOPTS_LONGOPTS                                      \
	{ "url", required_argument, NULL, CLIENTOPT_URL },       \
	{ "token", required_argument, NULL, CLIENTOPT_TOKEN },   \
	{ "ca", required_argument, NULL, CLIENTOPT_CA },         \
	{ "json", no_argument, NULL, CLIENTOPT_JSON },           \
	{ "help", no_argument, NULL, 'h' }

/* Their lines in a subcommand's usage. */
#define CLIENTOPTS_HELP                                                   \
	"  --url URL      the server (WHITEGLOVE_URL; default "               \
	CLIENTOPTS_DEFAULT_URL ")\n"                                      \
	"  --token KEY    the API key (WHITEGLOVE_TOKEN, which keeps it\n"   \
	"                 out of the process list)\n"                       \
	"  --ca FILE      trust only this CA for the server's certificate\n" \
	"                 (WHITEGLOVE_CA; the server's STATE/tls/ca.crt)\n" \
	"  --json         print the server's JSON instead of a table\n"     \
	"  -h, --help     print this help\n"

struct clientopts {
	const char *url;
	const char *token;	/* NULL: none */
	const char *ca;		/* NULL: the system's trust store */
	int json;
	int url_given;		/* --url or WHITEGLOVE_URL was set */
	int started;		/* clientopts_next() has reset getopt */
};

/* A subcommand, for clientopts_next(). */
struct clientopts_cmd {
	const char *name;		/* "key" */
	void (*usage)(FILE *);
	const char *shortopts;		/* its own, e.g. "n:t:"; "" if none */
	const struct option *longopts;	/* clients: with CLIENTOPTS_LONGOPTS */
};

#define CLIENTOPTS_DONE (-1)
#define CLIENTOPTS_EXIT (-2)

/* A column of a table: its title and the JSON field it shows. */
struct clientopts_col {
	const char *title;
	const char *field;
};

/* Fills co from the environment and the defaults. */
void clientopts_init(struct clientopts *co);

/* Applies option ch (with its argument); returns 1 if it was ours, else 0. */
int clientopts_option(struct clientopts *co, int ch, const char *arg);

/*
 * Walks a subcommand's options with getopt_long (permuting, so options may
 * follow the operands; "--" ends them).  The client options and -h/--help
 * are handled here; a bad option or a missing value prints the usage to
 * stderr.  Returns the subcommand's own next option (optarg set),
 * CLIENTOPTS_DONE after the last one (optind indexes the first operand), or
 * CLIENTOPTS_EXIT when the command must return *exit_code now.
 */
int clientopts_next(struct clientopts *co, int argc, char **argv,
    const struct clientopts_cmd *cmd, int *exit_code);

/* What a subcommand's own option sets: a value or a flag. */
struct clientopts_arg {
	int ch;			/* the option's value in longopts */
	const char **value;	/* its argument goes here, or */
	int *flag;		/* this is set to 1 */
};

/*
 * clientopts_init, then every option of argv: the client options, and
 * args (ended by an entry with ch 0) for the subcommand's own.  Returns 0
 * when the operands are next (at optind), or -1 when the command must
 * return *exit_code now (--help, a bad option).
 */
int clientopts_parse(struct clientopts *co, int argc, char **argv,
    const struct clientopts_cmd *cmd, const struct clientopts_arg *args,
    int *exit_code) __attribute__((warn_unused_result));

/* Prints "whiteglove CMD: MESSAGE", the usage; returns CLI_EXIT_USAGE. */
int clientopts_usage_error(const char *cmd, void (*usage)(FILE *),
    const char *msg);

/*
 * Makes the client for co.  need_token: fail (with the catalog's
 * WG_E_AUTH_MISSING explained) when no key was given.  Returns a CLI exit
 * code; on CLI_EXIT_OK *out is a client the caller frees with
 * wg_httpc_free(), else NULL and the reason was printed.
 */
int clientopts_connect(const struct clientopts *co, int need_token,
    struct wg_httpc **out) __attribute__((warn_unused_result));

/*
 * Connects (a key is needed), runs fn with the client and frees it.
 * Returns fn's exit code, or the connection's failure (reported).
 */
typedef int (*clientopts_run_fn)(struct wg_httpc *c,
    const struct clientopts *co, const void *arg);
int clientopts_run(const struct clientopts *co, clientopts_run_fn fn,
    const void *arg) __attribute__((warn_unused_result));

/* clientopts_connect with a whole-exchange timeout (0: the default), for
 * uploads that take longer than a call. */
int clientopts_connect_timeout(const struct clientopts *co, int need_token,
    long timeout_ms, struct wg_httpc **out)
    __attribute__((warn_unused_result));

/*
 * One JSON call (body may be NULL).  On a 2xx answer *out is its JSON
 * object (a new reference the caller decrefs), or NULL for an empty body
 * (204), and the result is CLI_EXIT_OK.  Otherwise *out is NULL, the
 * server's error or the network failure has been printed to stderr, and
 * the result is CLI_EXIT_FAIL.
 */
int clientopts_call(struct wg_httpc *c, const char *method, const char *path,
    const char *const *query, const json_t *body, json_t **out)
    __attribute__((warn_unused_result));

/*
 * What clientopts_call does with an answer, for an exchange the caller
 * made itself (wg_httpc_do with a streamed upload): rc and resp are what
 * wg_httpc_do gave for req.  Same results as clientopts_call.
 */
int clientopts_answer(struct wg_httpc *c, const struct wg_httpc_req *req,
    enum wg_err rc, const struct wg_httpc_resp *resp, json_t **out)
    __attribute__((warn_unused_result));

/*
 * Prints a failure in the catalog's words:
 * "whiteglove: 0xA0570302 WG_E_NET_CONNECT: MEANING", then DETAIL (curl's
 * words, the field that was wrong) and the catalog's remedy.
 */
void clientopts_print_failure(enum wg_err err, const char *detail);

/* Prints o as indented JSON, keys in the server's order. */
void clientopts_print_json(const json_t *o);

/*
 * Reads string field name of o for display: checked printable text, or
 * NULL (and a protocol failure printed) when it is missing or wrong.
 */
const char *clientopts_field(const json_t *o, const char *name);

/* Reports a 2xx answer without the body that was due (what: "the
 * device"); returns CLI_EXIT_FAIL. */
int clientopts_no_body(const char *what);

/* Reads count field name of o (an integer >= 0) into *out; -1 (and a
 * protocol failure printed) when it is missing or not one. */
int clientopts_count(const json_t *o, const char *name, json_int_t *out)
    __attribute__((warn_unused_result));

/*
 * Tables and "title: value" lists show a column's field as text: a
 * string (escaped if it is not printable), a number, yes/no, or "-" when
 * null or absent.  A field "state.code" is field code of object state.
 */
void clientopts_print_table(const json_t *rows,
    const struct clientopts_col *cols, size_t ncols);
void clientopts_print_fields(const json_t *o,
    const struct clientopts_col *cols, size_t ncols);

/* 1 if id may go into a URL path as one segment: 1 to CLIENTOPTS_ID_MAX
 * of [A-Za-z0-9-._~], not "." or "..". */
#define CLIENTOPTS_ID_MAX 128
int clientopts_id_ok(const char *id);

/* A query string under construction: clientopts_query_add() pairs to a
 * zeroed one; kv is then the NULL-terminated list httpc takes. */
#define CLIENTOPTS_QUERY_MAX 8
struct clientopts_query {
	const char *kv[2 * CLIENTOPTS_QUERY_MAX + 1];
	size_t n;
};

/* Adds name=value (both borrowed); a NULL value adds nothing. */
void clientopts_query_add(struct clientopts_query *q, const char *name,
    const char *value);

/* A paged list: GET path?query returns {"value":[...],"next":CURSOR|null}
 * and the next page is asked for with after=CURSOR. */
struct clientopts_listing {
	const char *path;
	const struct clientopts_query *query;	/* NULL: none */
	int all;		/* follow "next" to the last page */
	const struct clientopts_col *cols;
	size_t ncols;
	const char *empty_note;	/* printed for an empty list */
	const char *more_note;	/* printed after the first page when more
				 * exist and all is 0 */
	const char *join_from;	/* a table shows this array field of each */
	const char *join_to;	/* row joined, as this column (NULL: none) */
};

/*
 * GETs a list {"value":[{...}]} and prints it: its JSON with co->json,
 * else a table of cols (null or absent fields shown as "-"), or
 * empty_note when the list is empty.  Returns a CLI exit code.
 */
int clientopts_list(struct wg_httpc *c, const struct clientopts *co,
    const char *path, const char *const *query,
    const struct clientopts_col *cols, size_t ncols, const char *empty_note)
    __attribute__((warn_unused_result));

/*
 * Prints a paged list: with co->json {"value":[...],"next":CURSOR|null}
 * (all pages' rows with l->all), else a table.  Returns a CLI exit code.
 */
int clientopts_list_pages(struct wg_httpc *c, const struct clientopts *co,
    const struct clientopts_listing *l) __attribute__((warn_unused_result));


/* Sets field to of o to the strings of array from joined by ", " (null
 * when none), for a table or field list. */
void clientopts_join_strings(json_t *o, const char *from, const char *to);

/*
 * The id of the object that target names on list path (path?name=
 * finds one by name; what, "app", names it in the message): target
 * itself when it is an id.  The caller frees it; NULL after reporting
 * why (WG_E_NOT_FOUND: "no WHAT is named ...").
 */
char *clientopts_id_by_name(struct wg_httpc *c, const char *path,
    const struct clientopts_query *query, const char *target,
    const char *what);

/*
 * POSTs body (the reference is taken over) to path.  With co->json the
 * answer is printed and *out is NULL; otherwise *out is the answer, a new
 * reference the caller prints as text and decrefs.  Returns a CLI exit
 * code; on a failure (already reported) *out is NULL.
 */
int clientopts_post(struct wg_httpc *c, const struct clientopts *co,
    const char *path, const char *const *query, json_t *body, json_t **out)
    __attribute__((warn_unused_result));

/*
 * Reads f whole, at most max bytes, into a new buffer (the caller frees
 * it; one spare byte at the end); NULL after printing
 * "whiteglove CMD: NAME: why" when it cannot or it is larger.
 */
unsigned char *clientopts_slurp(const char *cmd, FILE *f, const char *name,
    size_t max, size_t *len);
/* clientopts_slurp of the file at path ("-": standard input). */
unsigned char *clientopts_read_file(const char *cmd, const char *path,
    size_t max, size_t *len);

#endif
