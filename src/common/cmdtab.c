#include <stdio.h>
#include <string.h>

#include "cmdtab.h"

static void
usage(const struct wg_cmdtab *t, FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s COMMAND [ARGS]\n\n%s\n\nCommands:\n", t->prog,
	    t->about);
	for (i = 0; i < t->ncmds; i++)
		fprintf(f, "  %-10s %s\n", t->cmds[i].name, t->cmds[i].help);
	fprintf(f, "  %-10s %s\n", "help",
	    "list commands, or show one command's help");
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n%s",
	    t->prog, t->footer ? t->footer : "");
}

static const struct wg_cmd *
find(const struct wg_cmdtab *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncmds; i++)
		if (strcmp(t->cmds[i].name, name) == 0)
			return &t->cmds[i];
	return NULL;
}

static int
is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

/* `PROG help [CMD]`: the list, or CMD's own --help. */
static int
help(const struct wg_cmdtab *t, int argc, char **argv)
{
	const struct wg_cmd *c;
	char flag[] = "--help";
	char *sub[] = { NULL, flag, NULL };

	if (argc < 2 || is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		usage(t, stdout);
		return WG_EXIT_OK;
	}
	if ((c = find(t, argv[1])) == NULL) {
		fprintf(stderr, "%s: unknown command '%s'\n", t->prog,
		    argv[1]);
		return WG_EXIT_USAGE;
	}
	sub[0] = argv[1];
	return c->run(2, sub);
}

int
wg_cmd_main(const struct wg_cmdtab *t, int argc, char **argv)
{
	const struct wg_cmd *c;

	if (argc < 2) {
		usage(t, stderr);
		return WG_EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		usage(t, stdout);
		return WG_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 && t->version != NULL)
		return t->version(1, argv + 1);
	if (strcmp(argv[1], "help") == 0)
		return help(t, argc - 1, argv + 1);
	if ((c = find(t, argv[1])) == NULL) {
		fprintf(stderr, "%s: unknown command '%s'; run '%s help'\n",
		    t->prog, argv[1], t->prog);
		return WG_EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
