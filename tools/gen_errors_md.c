/*
 * gen_errors_md OUT: writes docs/errors.md, the error catalog as Markdown,
 * from src/common/errors.def (through errors.c).  The build runs it; the
 * test errors-md-current checks the checked-in copy against its output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/errors.h"

enum range {
	RANGE_WINDOWS,
	RANGE_DDS,
	RANGE_OURS,
	RANGE_MAX
};

static const char *const range_titles[RANGE_MAX] = {
	"Windows codes reused by whiteglove",
	"Autopilot deployment service (DDS) import codes",
	"whiteglove's own codes",
};

static enum range
range_of(uint32_t code)
{
	if (code < 0x10000u)
		return RANGE_DDS;
	if ((code & 0xFFFF0000u) == 0xA0570000u)
		return RANGE_OURS;
	return RANGE_WINDOWS;
}

static void
intro(FILE *f)
{
	fputs("# whiteglove error codes\n\n"
	    "<!-- Generated from src/common/errors.def by "
	    "tools/gen_errors_md.c: do not edit.\n"
	    "     After changing the catalog, run `make docs`. -->\n\n"
	    "Every failure in whiteglove, on the server, the device agent "
	    "and the CLI, is one\nentry of a single catalog: a code, a name, "
	    "the phase of the flow it belongs to,\nthe HTTP status the server "
	    "answers with, what it means, its likely causes and\nthe remedy. "
	    "The device's event log, the server's audit log and error "
	    "bodies\n(`{\"error\":{\"code\",\"name\",\"message\","
	    "\"requestId\"}}`) all carry these codes.\n`whiteglove explain "
	    "CODE` prints an entry in a terminal; it accepts `0x80180014`,\n"
	    "`80180014`, a signed decimal HRESULT as Windows logs print it "
	    "(`-2145910764`),\na DDS code (`806`) or a name.\n\n"
	    "Codes come from three ranges:\n\n"
	    "- **Windows HRESULTs** (`0x8xxxxxxx`). Where Windows Autopilot "
	    "has a code with\n  the same meaning, whiteglove reuses it, so "
	    "that what people already know\n  about `0x80180014` or "
	    "`0x800705B4` holds here too.\n"
	    "- **DDS device import codes** (`801`-`814`). The row codes of "
	    "the Autopilot\n  deployment service, as a device import reports "
	    "them in `deviceErrorCode`\n  and `deviceErrorName`.\n"
	    "- **whiteglove's own codes** (`0xA057xxxx`): HRESULT-shaped "
	    "with the customer\n  bit set and facility `0x057`, so they never "
	    "collide with a Windows code.\n  `0xA05700xx` request handling, "
	    "`0xA05701xx` storage, `0xA05702xx`\n  configuration, files and "
	    "cryptography, `0xA05703xx` the network as a\n  client sees it.\n"
	    "\nAn HTTP status of \"-\" means the error never crosses HTTP "
	    "(it happens on the\ndevice or at server start).\n\n", f);
}

/* A table cell: '|' would end the cell early. */
static void
cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void
summary(FILE *f)
{
	const struct wg_err_info *e;
	char code[16];
	int i;

	fputs("## Summary\n\n| Code | Name | Phase | HTTP |\n"
	    "|---|---|---|---|\n", f);
	for (i = 1; i <= wg_err_count(); i++) {
		e = wg_err_info(i);
		wg_err_code_str(e->err, code, sizeof(code));
		fprintf(f, "| [%s](#%s) | `", code, code);
		cell(f, e->name);
		fputs("` | ", f);
		cell(f, wg_phase_title(e->phase));
		if (e->http_status != 0)
			fprintf(f, " | %d |\n", e->http_status);
		else
			fputs(" | - |\n", f);
	}
}

static void
entry(FILE *f, const struct wg_err_info *e)
{
	char code[16];

	wg_err_code_str(e->err, code, sizeof(code));
	fprintf(f, "\n<a id=\"%s\"></a>\n\n### %s `%s`\n\n", code, code,
	    e->name);
	fprintf(f, "- **Phase:** %s\n", wg_phase_title(e->phase));
	if (e->http_status != 0)
		fprintf(f, "- **HTTP status:** %d\n\n", e->http_status);
	else
		fputs("- **HTTP status:** - (not sent over HTTP)\n\n", f);
	fprintf(f, "**Meaning.** %s\n\n", e->meaning);
	fprintf(f, "**Likely causes.** %s\n\n", e->causes);
	fprintf(f, "**Remedy.** %s\n", e->remedy);
}

static void
sections(FILE *f)
{
	const struct wg_err_info *e;
	int i, r;

	for (r = 0; r < RANGE_MAX; r++) {
		fprintf(f, "\n## %s\n", range_titles[r]);
		for (i = 1; i <= wg_err_count(); i++) {
			e = wg_err_info(i);
			if ((int)range_of(e->code) == r)
				entry(f, e);
		}
	}
}

int
main(int argc, char **argv)
{
	FILE *f = stdout;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: gen_errors_md [OUT.md]\n");
		return 2;
	}
	if (argc == 2 && (f = fopen(argv[1], "w")) == NULL) {
		fprintf(stderr, "gen_errors_md: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	intro(f);
	summary(f);
	sections(f);
	if (ferror(f) || (f != stdout ? fclose(f) : fflush(f)) != 0) {
		fprintf(stderr, "gen_errors_md: cannot write %s\n",
		    argc == 2 ? argv[1] : "stdout");
		return 1;
	}
	return 0;
}
