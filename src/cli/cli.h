/*
 * The `whiteglove` command: one file per subcommand, one dispatch table
 * (whiteglove.c).  Every subcommand takes --help.
 */
#ifndef WG_CLI_H
#define WG_CLI_H

#include "common/cmdtab.h"

/* Exit codes (common/cmdtab.h): 0 ok, 1 failed, 2 usage error. */
#define CLI_EXIT_OK WG_EXIT_OK
#define CLI_EXIT_FAIL WG_EXIT_FAIL
#define CLI_EXIT_USAGE WG_EXIT_USAGE

int cmd_serve(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_diag(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_ekca(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_app(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_version(int argc, char **argv);

/*
 * Prints text word-wrapped at 76 columns, each line indented by indent
 * (cmd_explain.c; the diag timeline prints the catalog's words with it).
 */
void cli_print_wrapped(const char *text, int indent);

#endif
