/*
 * whiteglove explain CODE: what an error code means, why it happens and
 * what to do, from the catalog (errors.def).  Works offline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/clientopts.h"
#include "common/errors.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define WRAP_COLUMNS 76

static void
usage(FILE *f)
{
	fprintf(f, "usage: whiteglove explain [--json] CODE\n"
	    "       whiteglove explain --list [--json]\n\n"
	    "Explains an error code: its name, the phase it belongs to, the "
	    "HTTP status,\nwhat it means, its likely causes and the remedy. "
	    "CODE is written as the\ndevice or a log shows it: 0x80180014, "
	    "80180014, a signed decimal HRESULT\n(-2145910764), a DDS code "
	    "(806) or a name (ZtdDeviceAlreadyAssigned).\n\n"
	    "Options:\n"
	    "  --list         list every code\n"
	    "  --json         print JSON\n"
	    "  -h, --help     print this help\n");
}

/* cli.h */
void
cli_print_wrapped(const char *text, int indent)
{
	const char *p = text, *end, *brk;
	int room = WRAP_COLUMNS - indent;

	while (*p != '\0') {
		end = p + strlen(p);
		if (end - p > room) {
			for (brk = p + room; brk > p && *brk != ' '; brk--)
				;
			end = brk > p ? brk : p + room;
		}
		printf("%*s%.*s\n", indent, "", (int)(end - p), p);
		p = end;
		while (*p == ' ')
			p++;
	}
}

static const char *
http_text(const struct wg_err_info *e, char buf[16])
{
	if (e->http_status == 0)
		return "none (not sent over HTTP)";
	snprintf(buf, 16, "%d", e->http_status);
	return buf;
}

static void
print_entry(const struct wg_err_info *e)
{
	char code[16], http[16];

	wg_err_code_str(e->err, code, sizeof(code));
	printf("%s  %s\n\n", code, e->name);
	printf("  Phase:  %s\n", wg_phase_title(e->phase));
	printf("  HTTP:   %s\n\n", http_text(e, http));
	printf("Meaning\n");
	cli_print_wrapped(e->meaning, 2);
	printf("\nLikely causes\n");
	cli_print_wrapped(e->causes, 2);
	printf("\nRemedy\n");
	cli_print_wrapped(e->remedy, 2);
}

static json_t *
entry_json(const struct wg_err_info *e)
{
	char code[16];
	json_t *o;

	wg_err_code_str(e->err, code, sizeof(code));
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "code", code,
	    "name", e->name, "phase", wg_phase_name(e->phase), "phaseTitle",
	    wg_phase_title(e->phase), "httpStatus", e->http_status != 0 ?
	    json_integer(e->http_status) : json_null(), "meaning", e->meaning,
	    "causes", e->causes, "remedy", e->remedy);
	if (o == NULL)
		abort(); /* the catalog is ASCII: only memory can fail */
	return o;
}

static int
list(int json)
{
	const struct wg_err_info *e;
	json_t *arr, *o;
	char code[16], http[16];
	int i, namew = 4;

	if (json) {
		arr = json_array();
		for (i = 1; i <= wg_err_count(); i++)
			json_array_append_new(arr, entry_json(wg_err_info(i)));
		o = json_pack("{s:o}", "value", arr);
		clientopts_print_json(o);
		json_decref(o);
		return CLI_EXIT_OK;
	}
	for (i = 1; i <= wg_err_count(); i++)
		if ((int)strlen(wg_err_info(i)->name) > namew)
			namew = (int)strlen(wg_err_info(i)->name);
	printf("%-10s  %-*s  %-4s  %s\n", "CODE", namew, "NAME", "HTTP",
	    "PHASE");
	for (i = 1; i <= wg_err_count(); i++) {
		e = wg_err_info(i);
		wg_err_code_str(e->err, code, sizeof(code));
		snprintf(http, sizeof(http), "%d", e->http_status);
		printf("%-10s  %-*s  %-4s  %s\n", code, namew, e->name,
		    e->http_status ? http : "-", wg_phase_title(e->phase));
	}
	return CLI_EXIT_OK;
}

/*
 * Moves a negative decimal (a signed HRESULT, "-2145910764") out of the
 * arguments into *negative, since getopt would take it for options.
 * Returns the remaining arguments in a new array the caller frees.
 */
static char **
take_negative(int *argc, char **argv, const char **negative)
{
	char **av = xcalloc((size_t)*argc + 1, sizeof(*av));
	int i, n = 0, in_opts = 1;

	*negative = NULL;
	for (i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			in_opts = 0;
		if (i > 0 && in_opts && *negative == NULL &&
		    argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9')
			*negative = argv[i];
		else
			av[n++] = argv[i];
	}
	*argc = n;
	return av;
}

static int
explain_one(const char *text, int json)
{
	const struct wg_err_info *e;
	char shown[128];
	json_t *o;

	if ((e = wg_err_lookup(text)) == NULL) {
		wg_escape_log(text, strlen(text), shown, sizeof(shown));
		fprintf(stderr, "whiteglove: unknown error code '%s'; run "
		    "'whiteglove explain --list' to see all codes\n", shown);
		return CLI_EXIT_FAIL;
	}
	if (json) {
		o = entry_json(e);
		clientopts_print_json(o);
		json_decref(o);
	} else {
		print_entry(e);
	}
	return CLI_EXIT_OK;
}

int
cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, CLIENTOPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct clientopts_cmd spec = { "explain", usage, "",
		longopts };
	const char *negative, *code;
	struct clientopts co;
	int ch, ret = CLI_EXIT_USAGE, do_list = 0, nops;
	char **av;

	clientopts_init(&co);
	av = take_negative(&argc, argv, &negative);
	while ((ch = clientopts_next(&co, argc, av, &spec, &ret)) !=
	    CLIENTOPTS_DONE) {
		if (ch == CLIENTOPTS_EXIT)
			goto done;
		do_list = 1; /* 'l', the only option of our own */
	}
	nops = argc - optind + (negative != NULL);
	code = negative != NULL ? negative : av[optind];
	if (do_list && nops != 0)
		ret = clientopts_usage_error("explain", usage,
		    "--list takes no CODE");
	else if (do_list)
		ret = list(co.json);
	else if (nops != 1)
		ret = clientopts_usage_error("explain", usage,
		    "give one CODE (or --list)");
	else
		ret = explain_one(code, co.json);
done:
	free(av);
	return ret;
}
