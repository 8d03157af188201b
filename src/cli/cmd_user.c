/*
 * whiteglove user create|list|show|disable|enable|passwd: the tenant's
 * users, who sign in on pre-provisioned devices at step 7
 * (/admin/v1/users, docs/api.md, "Users").  A user is named by its id or
 * its UPN (looked up with ?name=, in any case); --tenant names the
 * operator key's tenant.  A password is read from the terminal without
 * echo (twice), or from standard input with --password-stdin; it never
 * appears on the command line, and its buffers are wiped after use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/pwread.h"
#include "common/xmalloc.h"
#include "crypto/passwd.h"

#define USERS_PATH "/admin/v1/users"
/* A password, a newline (\r\n) and a byte to tell "too long" by. */
#define PW_BUF (PASSWD_LEN_MAX + 3)
#define TENANT_HELP \
	"  --tenant ID             the tenant to act on (operator key only)\n"
#define PASSWORD_HELP \
	"  --password-stdin        read the password from standard input (one\n" \
	"                          trailing newline is dropped) instead of\n" \
	"                          asking twice on the terminal\n"

struct user_args {
	const char *verb;
	const char *target;	/* create: UPN; others: ID|UPN */
	const char *display_name;
	int password_stdin;
	const char *tenant;
	struct clientopts_query query; /* tenantId */
};

static const struct clientopts_col user_fields[] = {
	{ "id", "id" },
	{ "user principal name", "userPrincipalName" },
	{ "display name", "displayName" },
	{ "enabled", "accountEnabled" },
	{ "failed sign-ins", "failedSignIns" },
	{ "locked until", "lockedUntil" },
	{ "last sign-in", "lastSignIn" },
	{ "created", "createdAt" },
	{ "updated", "updatedAt" },
};

static void
create_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove user create UPN [--display-name NAME] "
	    "[--password-stdin]\n"
	    "           [--tenant ID] [OPTIONS]\n\n"
	    "Creates the user UPN (name@domain, stored lower-cased) with a "
	    "password of %d to\n%d bytes, asked for twice on the terminal "
	    "unless --password-stdin is given.\n\n"
	    "Options:\n"
	    "  -n, --display-name NAME the name people see (at most 256 "
	    "bytes)\n"
	    PASSWORD_HELP TENANT_HELP CLIENTOPTS_HELP, PASSWD_LEN_MIN,
	    PASSWD_LEN_MAX);
}

static void
list_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove user list [--tenant ID] [OPTIONS]\n\n"
	    "Lists the tenant's users by UPN (all of them), whether each is "
	    "enabled and\nuntil when it is locked out after failed "
	    "sign-ins.\n\nOptions:\n" TENANT_HELP CLIENTOPTS_HELP);
}

static void
show_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove user show ID|UPN [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Shows every field of one user, named by its id or its UPN.\n\n"
	    "Options:\n" TENANT_HELP CLIENTOPTS_HELP);
}

static void
disable_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove user disable ID|UPN [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Disables a user: its sign-ins are refused until it is enabled "
	    "again.\n\nOptions:\n" TENANT_HELP CLIENTOPTS_HELP);
}

static void
enable_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove user enable ID|UPN [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Enables a disabled user again.\n\n"
	    "Options:\n" TENANT_HELP CLIENTOPTS_HELP);
}

static void
passwd_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove user passwd ID|UPN [--password-stdin] "
	    "[--tenant ID] [OPTIONS]\n\n"
	    "Sets a user's password (%d to %d bytes), asked for twice on the "
	    "terminal\nunless --password-stdin is given.  It also clears the "
	    "user's failed sign-ins\nand any lockout.\n\n"
	    "Options:\n" PASSWORD_HELP TENANT_HELP CLIENTOPTS_HELP,
	    PASSWD_LEN_MIN, PASSWD_LEN_MAX);
}

/* ---- the password ---- */

/*
 * The new password into pw (*n bytes): standard input whole with
 * from_stdin, else asked twice on the terminal.  A message if not.
 */
static const char *
password_read(int from_stdin, char pw[PW_BUF], size_t *n)
{
	char again[PW_BUF];
	const char *bad;
	size_t m = 0;

	if ((bad = pwread(from_stdin, "Password: ", pw, PW_BUF, n)) ==
	    NULL && !from_stdin) {
		bad = pwread(0, "Password again: ", again, PW_BUF, &m);
		if (bad == NULL && (m != *n || memcmp(pw, again, m) != 0))
			bad = "the two passwords differ";
		OPENSSL_cleanse(again, sizeof(again));
	}
	if (bad != NULL)
		return bad;
	if (*n < PASSWD_LEN_MIN || *n > PASSWD_LEN_MAX || strlen(pw) != *n)
		return "the password must be 12 to 256 bytes of text";
	return NULL;
}

/* {"password": pw} plus field key = value (key NULL: none); NULL if pw is
 * not UTF-8. */
static json_t *
password_body(const char *pw, size_t n, const char *key, const char *value)
{
	json_t *body, *s = json_stringn(pw, n);

	if (s == NULL)
		return NULL;
	body = json_object();
	json_object_set_new(body, "password", s);
	if (key != NULL && value != NULL)
		json_object_set_new(body, key, json_string(value));
	return body;
}

/* Wipes the password of body (what password_body made) and frees it. */
static void
password_body_free(json_t *body)
{
	json_t *s = json_object_get(body, "password");

	if (s != NULL)
		OPENSSL_cleanse((char *)json_string_value(s),
		    json_string_length(s));
	json_decref(body);
}

/* ---- printing ---- */

static int
print_user(const struct clientopts *co, json_t *u, const char *title)
{
	const char *upn;

	if (u == NULL)
		return clientopts_no_body("the user");
	if (co->json) {
		clientopts_print_json(u);
		return CLI_EXIT_OK;
	}
	if ((upn = clientopts_field(u, "userPrincipalName")) == NULL)
		return CLI_EXIT_FAIL;
	printf("%s %s\n", title, upn);
	clientopts_print_fields(u, user_fields,
	    sizeof(user_fields) / sizeof(user_fields[0]));
	return CLI_EXIT_OK;
}

/* ---- the commands ---- */

/*
 * create and passwd: the password read, then POSTed to path (create: with
 * the UPN and display name).
 */
static int
password_post(struct wg_httpc *c, const struct clientopts *co,
    const struct user_args *a, const char *path, const char *title)
{
	char pw[PW_BUF];
	const char *bad;
	json_t *body = NULL, *ans = NULL;
	size_t n;
	int create = strcmp(a->verb, "create") == 0, ret = CLI_EXIT_FAIL;

	if ((bad = password_read(a->password_stdin, pw, &n)) == NULL &&
	    (body = password_body(pw, n, "displayName", a->display_name)) ==
	    NULL)
		bad = "the password must be UTF-8 text";
	OPENSSL_cleanse(pw, sizeof(pw));
	if (bad != NULL) {
		fprintf(stderr, "whiteglove user %s: %s\n", a->verb, bad);
		return CLI_EXIT_FAIL;
	}
	if (create)
		json_object_set_new(body, "userPrincipalName",
		    json_string(a->target));
	ret = clientopts_call(c, "POST", path, a->query.kv, body, &ans);
	password_body_free(body);
	if (ret == CLI_EXIT_OK)
		ret = print_user(co, ans, title);
	json_decref(ans);
	return ret;
}

static int
create_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	return password_post(c, co, arg, USERS_PATH, "Created user");
}

static int
list_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	static const struct clientopts_col cols[] = {
		{ "UPN", "userPrincipalName" },
		{ "DISPLAY NAME", "displayName" },
		{ "ENABLED", "accountEnabled" },
		{ "LOCKED UNTIL", "lockedUntil" },
		{ "ID", "id" },
	};
	const struct user_args *a = arg;
	const struct clientopts_listing l = { .path = USERS_PATH,
		.query = &a->query, .all = 1, .cols = cols,
		.ncols = sizeof(cols) / sizeof(cols[0]), .empty_note = "No "
		"users; 'whiteglove user create' makes one." };

	return clientopts_list_pages(c, co, &l);
}

/* show, disable, enable, passwd: one user, by id or UPN. */
static int
target_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	const struct user_args *a = arg;
	json_t *ans = NULL;
	char *id, *path;
	int ret;

	if ((id = clientopts_id_by_name(c, USERS_PATH, &a->query, a->target,
	    "user")) == NULL)
		return CLI_EXIT_FAIL;
	if (strcmp(a->verb, "show") == 0) {
		path = xasprintf(USERS_PATH "/%s", id);
		if ((ret = clientopts_call(c, "GET", path, a->query.kv, NULL,
		    &ans)) == CLI_EXIT_OK)
			ret = print_user(co, ans, "User");
	} else if (strcmp(a->verb, "passwd") == 0) {
		path = xasprintf(USERS_PATH "/%s/password", id);
		ret = password_post(c, co, a, path, "Password set for user");
	} else {
		path = xasprintf(USERS_PATH "/%s/%s", id, a->verb);
		if ((ret = clientopts_call(c, "POST", path, a->query.kv, NULL,
		    &ans)) == CLI_EXIT_OK)
			ret = print_user(co, ans, strcmp(a->verb, "disable") ==
			    0 ? "Disabled user" : "Enabled user");
	}
	json_decref(ans);
	free(path);
	free(id);
	return ret;
}

/* ---- options and operands ---- */

#define OPT_PASSWORD_STDIN 0x200
#define OPT_TENANT 0x201

static const struct option user_opts[] = {
	{ "display-name", required_argument, NULL, 'n' },
	{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
	{ "tenant", required_argument, NULL, OPT_TENANT },
	CLIENTOPTS_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* The verbs (their one-line help in cmds[], their options in specs[]). */
static int user_verb(int argc, char **argv);

static const struct wg_cmd cmds[] = {
	{ "create", user_verb, "create a user with a password" },
	{ "list", user_verb, "list the tenant's users" },
	{ "show", user_verb, "show one user" },
	{ "disable", user_verb, "refuse a user's sign-ins" },
	{ "enable", user_verb, "allow a disabled user's sign-ins again" },
	{ "passwd", user_verb, "set a user's password (and clear a lockout)" },
};

static const struct clientopts_cmd specs[] = {
	{ "user create", create_usage, "n:", user_opts },
	{ "user list", list_usage, "", user_opts },
	{ "user show", show_usage, "", user_opts },
	{ "user disable", disable_usage, "", user_opts },
	{ "user enable", enable_usage, "", user_opts },
	{ "user passwd", passwd_usage, "", user_opts },
};
_Static_assert(sizeof(cmds) / sizeof(cmds[0]) ==
    sizeof(specs) / sizeof(specs[0]), "one spec per verb");

/* The operands and which options go with the verb; a message if wrong. */
static const char *
check_args(clientopts_run_fn run, struct user_args *a, int nargs,
    char **args)
{
	int creates = run == create_run;

	if (run == list_run && nargs != 0)
		return "list takes no arguments";
	if (run != list_run && nargs != 1)
		return creates ? "give the new user's UPN" :
		    "give one user ID or UPN";
	if (nargs == 1)
		a->target = args[0];
	if (a->display_name != NULL && !creates)
		return "--display-name goes with create";
	if (a->password_stdin && !creates && strcmp(a->verb, "passwd") != 0)
		return "--password-stdin goes with create and passwd";
	if (creates && (strlen(a->target) < 3 || strlen(a->target) > 256 ||
	    strchr(a->target, '@') == NULL))
		return "UPN must be name@domain, 3 to 256 bytes";
	if (a->display_name != NULL && (a->display_name[0] == '\0' ||
	    strlen(a->display_name) > 256))
		return "--display-name must be 1 to 256 bytes";
	return NULL;
}

/* One verb, argv[0]: its options and operands, then the call. */
static int
user_verb(int argc, char **argv)
{
	struct user_args a = { .verb = argv[0] };
	const struct clientopts_arg opts[] = {
		{ 'n', &a.display_name, NULL },
		{ OPT_PASSWORD_STDIN, NULL, &a.password_stdin },
		{ OPT_TENANT, &a.tenant, NULL },
		{ 0, NULL, NULL },
	};
	const struct clientopts_cmd *spec = NULL;
	clientopts_run_fn run;
	struct clientopts co;
	const char *bad;
	size_t i;
	int ret = CLI_EXIT_USAGE;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			spec = &specs[i];
	if (spec == NULL)
		return CLI_EXIT_USAGE;	/* wg_cmd_main found it in cmds */
	run = strcmp(a.verb, "create") == 0 ? create_run :
	    strcmp(a.verb, "list") == 0 ? list_run : target_run;
	if (clientopts_parse(&co, argc, argv, spec, opts, &ret) != 0)
		return ret;
	if ((bad = check_args(run, &a, argc - optind, argv + optind)) != NULL)
		return clientopts_usage_error(spec->name, spec->usage, bad);
	clientopts_query_add(&a.query, "tenantId", a.tenant);
	return clientopts_run(&co, run, &a);
}

int
cmd_user(int argc, char **argv)
{
	static const struct wg_cmdtab table = {
		.prog = "whiteglove user",
		.about = "The tenant's users: who signs in on a pre-provisioned "
		    "device (account\nsetup).  A user is named by its id or "
		    "its UPN (unique in a tenant whatever\nits case).  "
		    "Passwords are 12 to 256 bytes, kept only as Argon2id "
		    "hashes,\nand never given on the command line.",
		.cmds = cmds,
		.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	};

	return wg_cmd_main(&table, argc, argv);
}
