/*
 * whiteglove app create|list|show|assign|unassign|delete: the apps a
 * device installs during device setup (/admin/v1/apps, docs/api.md,
 * "Apps and device setup").  create makes the app, streams its file to
 * the server (never whole in memory; a progress line on a terminal) and
 * assigns it to the group tags given.  An app is named by its id or its
 * name (looked up with ?name=); --tenant names the operator key's tenant.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define APPS_PATH "/admin/v1/apps"
#define APP_TAGS_MAX 32		/* --tag given at most so often */
#define APP_TIMEOUT_MAX 7200	/* the server's limit (docs/api.md) */
#define UPLOAD_BYTES_PER_MS 256	/* slowest upload waited for: 256 kB/s */
#define PROGRESS_EVERY_MS 200
#define TENANT_HELP \
	"  --tenant ID             the tenant to act on (operator key only)\n"

struct app_args {
	const char *verb;
	const char *target;	/* create: NAME; others: ID|NAME */
	const char *file;	/* create */
	const char *install;
	const char *app_target;
	const char *timeout;
	const char *tags[APP_TAGS_MAX]; /* create: --tag; assign: the one */
	size_t ntags;
	const char *tenant;
	struct clientopts_query query; /* tenantId */
};

static const struct clientopts_col app_fields[] = {
	{ "id", "id" },
	{ "name", "name" },
	{ "install command", "installCommand" },
	{ "target", "target" },
	{ "timeout (seconds)", "timeoutSeconds" },
	{ "content SHA-256", "sha256" },
	{ "content size", "size" },
	{ "group tags", "groupTagsText" },
	{ "created", "createdAt" },
	{ "updated", "updatedAt" },
};

static void
overview_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove app create NAME --file F --install CMD "
	    "[OPTIONS]\n"
	    "       whiteglove app list [OPTIONS]\n"
	    "       whiteglove app show ID|NAME [OPTIONS]\n"
	    "       whiteglove app assign ID|NAME --tag TAG [OPTIONS]\n"
	    "       whiteglove app unassign ID|NAME --tag TAG [OPTIONS]\n"
	    "       whiteglove app delete ID|NAME [OPTIONS]\n\n"
	    "The apps devices install during device setup: a file, stored on "
	    "the server by\nits SHA-256, and the command that installs it.  "
	    "A device installs the\ndevice-target apps assigned to its group "
	    "tag.  'whiteglove app COMMAND --help'\ndescribes each command; "
	    "'whiteglove device setup ID' shows a device's progress.\n");
}

static void
create_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove app create NAME --file F --install CMD "
	    "[--target device|user]\n"
	    "           [--timeout SECONDS] [--tag TAG ...] [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Creates the app NAME (unique in the tenant, at most 128 "
	    "bytes), uploads file F\nas its content and assigns it to each "
	    "group tag given.  On a terminal a\nprogress line shows the "
	    "upload.  If the upload fails the app is deleted again.\n\n"
	    "Options:\n"
	    "  -f, --file F            the app's content (a regular file, not "
	    "empty)\n"
	    "  -i, --install CMD       the command that installs it, run on "
	    "the device by\n"
	    "                          /bin/sh -c with WHITEGLOVE_APP_FILE "
	    "naming the file\n"
	    "  --target device|user    installed during device setup "
	    "(device, the default)\n"
	    "                          or account setup (user)\n"
	    "  --timeout SECONDS       the install command's time limit, 1 to "
	    "%d seconds\n"
	    "                          (default 600)\n"
	    "  -g, --tag TAG           assign it to group tag TAG (may be "
	    "repeated)\n"
	    TENANT_HELP CLIENTOPTS_HELP, APP_TIMEOUT_MAX);
}

static void
list_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove app list [--tenant ID] [OPTIONS]\n\n"
	    "Lists the tenant's apps by name, with their content size and "
	    "group tags.\n\nOptions:\n" TENANT_HELP CLIENTOPTS_HELP);
}

static void
show_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove app show ID|NAME [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Shows every field of one app, named by its id or its name.\n\n"
	    "Options:\n" TENANT_HELP CLIENTOPTS_HELP);
}

static void
assign_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove app assign ID|NAME --tag TAG [--tenant "
	    "ID] [OPTIONS]\n\n"
	    "Assigns the app to the devices with group tag TAG: they install "
	    "it during\ntheir next device setup (assigning it again changes "
	    "nothing).\n\n"
	    "Options:\n"
	    "  -g, --tag TAG           the devices' group tag\n"
	    TENANT_HELP CLIENTOPTS_HELP);
}

static void
unassign_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove app unassign ID|NAME --tag TAG "
	    "[--tenant ID] [OPTIONS]\n\n"
	    "Takes the app off the devices with group tag TAG; it fails if "
	    "the app was not\nassigned to TAG.  Installed copies stay on the "
	    "devices.\n\n"
	    "Options:\n"
	    "  -g, --tag TAG           the group tag to take it off\n"
	    TENANT_HELP CLIENTOPTS_HELP);
}

static void
delete_usage(FILE *f)
{
	fprintf(f, "usage: whiteglove app delete ID|NAME [--tenant ID] "
	    "[OPTIONS]\n\n"
	    "Deletes an app, its assignments and the devices' states of it; "
	    "its content\nfile goes too unless another app has the same "
	    "bytes.\n\n"
	    "Options:\n" TENANT_HELP CLIENTOPTS_HELP);
}

/* ---- printing ---- */

static int
print_app(const struct clientopts *co, json_t *app, const char *title)
{
	const char *name;

	if (app == NULL)
		return clientopts_no_body("the app");
	if (co->json) {
		clientopts_print_json(app);
		return CLI_EXIT_OK;
	}
	if ((name = clientopts_field(app, "name")) == NULL)
		return CLI_EXIT_FAIL;
	printf("%s \"%s\"\n", title, name);
	clientopts_join_strings(app, "assignedGroupTags",
	    "groupTagsText");
	clientopts_print_fields(app, app_fields,
	    sizeof(app_fields) / sizeof(app_fields[0]));
	return CLI_EXIT_OK;
}

/* ---- create: the upload ---- */

struct upload {
	int fd;
	int64_t size, sent, last_ms;
	int draw;		/* stderr is a terminal */
};

static void
upload_draw(struct upload *u, int done)
{
	int64_t now = wg_mono_ms();

	if (!u->draw || (!done && now - u->last_ms < PROGRESS_EVERY_MS))
		return;
	u->last_ms = now;
	fprintf(stderr, "\rUploading: %3d%%  %" PRId64 " of %" PRId64
	    " bytes\033[K%s", (int)(u->sent * 100 / u->size), u->sent,
	    u->size, done ? "\r\033[K" : "");
}

/* The httpc upload callback: the next bytes of the file. */
static enum wg_err
upload_read(void *ctx, char *buf, size_t cap, size_t *got)
{
	struct upload *u = ctx;
	ssize_t n;

	while ((n = read(u->fd, buf, cap)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return WG_E_IO;
	*got = (size_t)n;
	u->sent += n;
	upload_draw(u, 0);
	return WG_OK;
}

/* PUTs the file of u to the app id's content; *out the app. */
static int
upload_content(const struct clientopts *co, const struct app_args *a,
    struct upload *u, const char *id, json_t **out)
{
	static const struct wg_httpc_header accept = { "Accept",
		"application/json" };
	char *path = xasprintf(APPS_PATH "/%s/content", id);
	struct wg_httpc_req req = { .method = "PUT", .path = path,
		.query = a->query.kv, .headers = &accept, .nheaders = 1,
		.content_type = "application/octet-stream", .upload =
		upload_read, .upload_ctx = u, .upload_len = u->size };
	struct wg_httpc_resp resp = { 0 };
	struct wg_httpc *up = NULL;
	enum wg_err rc;
	int ret;

	*out = NULL;
	ret = clientopts_connect_timeout(co, 1, (long)(WG_HTTPC_TIMEOUT_MS +
	    u->size / UPLOAD_BYTES_PER_MS), &up);
	if (ret == CLI_EXIT_OK) {
		u->draw = isatty(STDERR_FILENO);
		rc = wg_httpc_do(up, &req, &resp);
		upload_draw(u, 1);
		ret = clientopts_answer(up, &req, rc, &resp, out);
	}
	wg_httpc_resp_free(&resp);
	wg_httpc_free(up);
	free(path);
	return ret;
}

/* Opens the file of --file: a regular file, not empty. */
static int
upload_open(const char *file, struct upload *u)
{
	struct stat st;

	if ((u->fd = open(file, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(u->fd, &st) != 0) {
		fprintf(stderr, "whiteglove app create: %s: %s\n", file,
		    strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "whiteglove app create: %s: %s\n", file,
		    !S_ISREG(st.st_mode) ? "not a regular file (the upload "
		    "declares its size)" : "the file is empty");
		return CLI_EXIT_FAIL;
	}
	u->size = st.st_size;
	return CLI_EXIT_OK;
}

/* After a failed upload or assignment: the app goes again. */
static void
create_undo(struct wg_httpc *c, const struct app_args *a, const char *id)
{
	char *path = xasprintf(APPS_PATH "/%s", id);
	json_t *ans = NULL;

	if (clientopts_call(c, "DELETE", path, a->query.kv, NULL, &ans) ==
	    CLI_EXIT_OK)
		fprintf(stderr, "whiteglove app create: app \"%s\" was "
		    "deleted again\n", a->target);
	json_decref(ans);
	free(path);
}

static int
create_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	const struct app_args *a = arg;
	struct upload u = { .fd = -1 };
	json_t *body, *app = NULL, *ans = NULL;
	char *id = NULL, *path = NULL;
	size_t i;
	int ret;

	if ((ret = upload_open(a->file, &u)) != CLI_EXIT_OK)
		goto done;
	body = json_pack("{s:s, s:s, s:s}", "name", a->target,
	    "installCommand", a->install, "target", a->app_target);
	if (body != NULL && a->timeout != NULL)
		json_object_set_new(body, "timeoutSeconds",
		    json_integer(strtol(a->timeout, NULL, 10)));
	if ((ret = clientopts_call(c, "POST", APPS_PATH, a->query.kv, body,
	    &app)) != CLI_EXIT_OK || (ret = clientopts_field(app, "id") ==
	    NULL ? CLI_EXIT_FAIL : CLI_EXIT_OK) != CLI_EXIT_OK) {
		json_decref(body);
		goto done;
	}
	json_decref(body);
	id = xstrdup(json_string_value(json_object_get(app, "id")));
	if ((ret = upload_content(co, a, &u, id, &ans)) != CLI_EXIT_OK)
		goto undo;
	path = xasprintf(APPS_PATH "/%s/assign", id);
	for (i = 0; i < a->ntags; i++) {
		json_decref(ans);
		ans = NULL;
		body = json_pack("{s:s}", "groupTag", a->tags[i]);
		ret = clientopts_call(c, "POST", path, a->query.kv, body, &ans);
		json_decref(body);
		if (ret != CLI_EXIT_OK)
			goto undo;
	}
	ret = print_app(co, ans, "Created app");
	goto done;
undo:
	create_undo(c, a, id);
done:
	if (u.fd >= 0)
		close(u.fd);
	json_decref(app);
	json_decref(ans);
	free(path);
	free(id);
	return ret;
}

/* ---- list, and the commands on one app ---- */

static int
list_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	static const struct clientopts_col cols[] = {
		{ "NAME", "name" },
		{ "TARGET", "target" },
		{ "SIZE", "size" },
		{ "GROUP TAGS", "groupTagsText" },
		{ "ID", "id" },
	};
	const struct app_args *a = arg;
	const struct clientopts_listing l = { .path = APPS_PATH,
		.query = &a->query, .all = 1, .cols = cols,
		.ncols = sizeof(cols) / sizeof(cols[0]), .empty_note = "No "
		"apps; 'whiteglove app create' makes one.", .join_from =
		"assignedGroupTags", .join_to = "groupTagsText" };

	return clientopts_list_pages(c, co, &l);
}

/* show, assign, unassign, delete: one app, by id or name. */
static int
target_run(struct wg_httpc *c, const struct clientopts *co, const void *arg)
{
	const struct app_args *a = arg;
	int assign = strcmp(a->verb, "assign") == 0;
	char *id, *path, title[300], esc[200];
	json_t *ans = NULL, *body = NULL;
	int ret;

	if ((id = clientopts_id_by_name(c, APPS_PATH, &a->query, a->target,
	    "app")) == NULL)
		return CLI_EXIT_FAIL;
	path = xasprintf(APPS_PATH "/%s%s", id, assign ? "/assign" :
	    strcmp(a->verb, "unassign") == 0 ? "/unassign" : "");
	if (strcmp(a->verb, "show") == 0) {
		if ((ret = clientopts_call(c, "GET", path, a->query.kv, NULL,
		    &ans)) == CLI_EXIT_OK)
			ret = print_app(co, ans, "App");
	} else if (strcmp(a->verb, "delete") == 0) {
		ret = clientopts_call(c, "DELETE", path, a->query.kv, NULL,
		    &ans);
		if (ret == CLI_EXIT_OK && !co->json)
			printf("Deleted app %s\n", id);
	} else {
		body = json_pack("{s:s}", "groupTag", a->tags[0]);
		ret = clientopts_post(c, co, path, a->query.kv, body, &ans);
		wg_escape_log(a->tags[0], strlen(a->tags[0]), esc,
		    sizeof(esc));
		snprintf(title, sizeof(title), "%s group tag \"%s\": app",
		    assign ? "Assigned to" : "Taken off", esc);
		if (ans != NULL)
			ret = print_app(co, ans, title);
	}
	json_decref(ans);
	free(path);
	free(id);
	return ret;
}

/* ---- options and operands ---- */

#define OPT_TARGET 0x200
#define OPT_TIMEOUT 0x201
#define OPT_TENANT 0x202

static const struct option app_opts[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "install", required_argument, NULL, 'i' },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "tag", required_argument, NULL, 'g' },
	{ "tenant", required_argument, NULL, OPT_TENANT },
	CLIENTOPTS_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

struct verb {
	const char *name;
	struct clientopts_cmd spec;
	clientopts_run_fn run;
};

static const struct verb verbs[] = {
	{ "create", { "app create", create_usage, "f:i:g:", app_opts },
	    create_run },
	{ "list", { "app list", list_usage, "", app_opts }, list_run },
	{ "show", { "app show", show_usage, "", app_opts }, target_run },
	{ "assign", { "app assign", assign_usage, "g:", app_opts },
	    target_run },
	{ "unassign", { "app unassign", unassign_usage, "g:", app_opts },
	    target_run },
	{ "delete", { "app delete", delete_usage, "", app_opts }, target_run },
};

/* create's options: given, and within the server's limits. */
static const char *
check_create(struct app_args *a)
{
	char *end;
	long n;

	if (strlen(a->target) < 1 || strlen(a->target) > 128)
		return "NAME must be 1 to 128 bytes";
	if (a->file == NULL || a->install == NULL)
		return "create needs --file F and --install CMD";
	if (a->install[0] == '\0' || strlen(a->install) > 2048)
		return "--install must be 1 to 2048 bytes";
	if (strcmp(a->app_target, "device") != 0 &&
	    strcmp(a->app_target, "user") != 0)
		return "--target must be device or user";
	if (a->timeout != NULL) {
		errno = 0;
		n = strtol(a->timeout, &end, 10);
		if (errno != 0 || *a->timeout == '\0' || *end != '\0' ||
		    n < 1 || n > APP_TIMEOUT_MAX)
			return "--timeout must be a whole number of seconds "
			    "from 1 to 7200";
	}
	return NULL;
}

/* Options for the verb (one each, --tag repeatable only by create). */
static const char *
parse_opts(const struct verb *v, struct app_args *a, struct clientopts *co,
    int argc, char **argv, int *ret)
{
	const char **slot;
	int ch;

	clientopts_init(co);
	while ((ch = clientopts_next(co, argc, argv, &v->spec, ret)) !=
	    CLIENTOPTS_DONE) {
		if (ch == CLIENTOPTS_EXIT)
			return "";
		slot = ch == 'f' ? &a->file : ch == 'i' ? &a->install :
		    ch == OPT_TARGET ? &a->app_target : ch == OPT_TIMEOUT ?
		    &a->timeout : ch == OPT_TENANT ? &a->tenant : NULL;
		if (ch == 'g' && a->ntags < APP_TAGS_MAX &&
		    (a->ntags == 0 || v->run == create_run))
			a->tags[a->ntags++] = optarg;
		else if (ch == 'g')
			return v->run == create_run ? "--tag is given at most "
			    "32 times" : "give --tag once";
		else if (slot == NULL || (v->run != create_run && slot !=
		    &a->tenant))
			return "this option does not go with this command";
		else
			*slot = optarg;
	}
	return NULL;
}

int
cmd_app(int argc, char **argv)
{
	struct app_args a = { .verb = "", .app_target = "device" };
	const struct verb *v = NULL;
	struct clientopts co;
	const char *bad;
	size_t i;
	int ret = CLI_EXIT_USAGE, takes_target;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		overview_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; argc > 1 && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (v == NULL)
		return clientopts_usage_error("app", overview_usage, "give "
		    "create, list, show, assign, unassign or delete");
	a.verb = argv[1];
	if ((bad = parse_opts(v, &a, &co, argc - 1, argv + 1, &ret)) != NULL)
		return bad[0] == '\0' ? ret : clientopts_usage_error(
		    v->spec.name, v->spec.usage, bad);
	takes_target = v->run != list_run;
	if (argc - 1 - optind != takes_target)
		bad = !takes_target ? "list takes no arguments" :
		    v->run == create_run ? "give the new app's NAME" :
		    "give one app ID or NAME";
	else if (takes_target)
		a.target = argv[1 + optind];
	if (bad == NULL && v->run == create_run)
		bad = check_create(&a);
	else if (bad == NULL && v->run == target_run && (strcmp(a.verb,
	    "assign") == 0 || strcmp(a.verb, "unassign") == 0) && a.ntags != 1)
		bad = "give --tag TAG";
	else if (bad == NULL && v->run != create_run && a.ntags > 0 &&
	    strcmp(a.verb, "assign") != 0 && strcmp(a.verb, "unassign") != 0)
		bad = "--tag goes with create, assign and unassign";
	if (bad != NULL)
		return clientopts_usage_error(v->spec.name, v->spec.usage, bad);
	clientopts_query_add(&a.query, "tenantId", a.tenant);
	return clientopts_run(&co, v->run, &a);
}
