/*
 * The subcommands of migkit.  Each lives in its own file, cmd_NAME.c, and
 * exports one entry point; migkit.c holds the table that dispatches to them.
 */
#ifndef MIGKIT_COMMANDS_H
#define MIGKIT_COMMANDS_H

#include "util.h"

/* argv[0] is the subcommand name; the result becomes the exit status. */
result_t cmd_render(int argc, char **argv);
result_t cmd_seq(int argc, char **argv);
result_t cmd_diff(int argc, char **argv);
result_t cmd_progress(int argc, char **argv);
result_t cmd_copy(int argc, char **argv);
result_t cmd_report(int argc, char **argv);

#endif
