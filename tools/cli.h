/*
 * The one command-line convention of every migkit command: -h/--help and
 * -V/--version answered before anything else, getopt_long's errors worded
 * the same way everywhere, and every usage error followed by the same hint:
 *   migkit seq: error: unknown option --frob
 *   Try "migkit seq --help" for more information.
 */
#ifndef MIGKIT_CLI_H
#define MIGKIT_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "util.h"

/*
 * True when an argument (before "--") asks for --help or --version: help()
 * or the version has then been printed, and the command returns RESULT_OK.
 */
bool cli_help_or_version(int argc, char **argv, void (*help)(void));

/*
 * getopt_long(3) from the first argument on, with errors logged here:
 * returns the next option, -1 after the last, or '?' for an unknown
 * option or a missing value (already logged: the caller returns
 * cli_usage(NULL)).  A leading '+' in shortopts stops at the first
 * non-option, as for getopt_long.
 */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/*
 * A usage error: logs the message (when fmt is not NULL), prints the hint
 * and returns RESULT_ERROR.
 */
result_t cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
