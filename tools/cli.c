/*
 * The command-line convention (see cli.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

bool
cli_help_or_version(int argc, char **argv, void (*help)(void))
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help();
			return true;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("migkit %s\n", PACKAGE_VERSION);
			return true;
		}
	}
	return false;
}

int
cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	char opts[64];
	int c;

	/* ':' first (after a '+'): a missing value is ':', not '?'. */
	if (shortopts[0] == '+')
		snprintf(opts, sizeof(opts), "+:%s", shortopts + 1);
	else
		snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c == ':') {
		log_error("option %s needs a value", argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		if (optopt > 0 && optopt < 256 && strncmp(argv[optind - 1], "--", 2) != 0)
			log_error("unknown option -%c", optopt);
		else
			log_error("unknown option %s", argv[optind - 1]);
	}
	return c;
}

result_t
cli_usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		strbuf sb;

		sb_init(&sb);
		va_start(ap, fmt);
		sb_vprintf(&sb, fmt, ap);
		va_end(ap);
		log_error("%s", sb.data);
		sb_free(&sb);
	}
	fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
	return RESULT_ERROR;
}
