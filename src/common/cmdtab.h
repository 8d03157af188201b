/*
 * The command-line shape both binaries share (`whiteglove` and
 * `whiteglove-agent`): one dispatch table of subcommands with one-line
 * help, `PROG help [CMD]`, `PROG --help`, `PROG --version`, and exit codes
 * 0 (done), 1 (the operation failed), 2 (usage error).
 */
#ifndef WG_CMDTAB_H
#define WG_CMDTAB_H

#include <stddef.h>

#define WG_EXIT_OK 0
#define WG_EXIT_FAIL 1
#define WG_EXIT_USAGE 2

struct wg_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const char *help;		   /* one line */
};

struct wg_cmdtab {
	const char *prog;   /* "whiteglove" */
	const char *about;  /* one line under the usage line */
	const char *footer; /* printed after the command list */
	const struct wg_cmd *cmds;
	size_t ncmds;
	int (*version)(int argc, char **argv);
};

/*
 * Runs the subcommand argv[1] names, with argv shifted by one.  Handles
 * `help [CMD]` (CMD's own --help), --help/-h, --version, no command and an
 * unknown command (exit 2).  Returns the exit code.
 */
int wg_cmd_main(const struct wg_cmdtab *t, int argc, char **argv);

#endif
