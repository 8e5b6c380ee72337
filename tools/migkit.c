/*
 * migkit: renders a migration kit and runs the helpers its scripts call.
 * This file is only the subcommand table and the entry point.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "util.h"

typedef struct command {
	const char *name;
	const char *summary;
	result_t (*run)(int argc, char **argv);
} command;

static const command commands[] = {
	{"render", "write a migration kit from a config file", cmd_render},
	{"seq", "copy sequence values from SRC to DST (copy-seq)", cmd_seq},
	{"diff", "compare tables and sequences on SRC and DST (copy-diff)", cmd_diff},
	{"progress", "show replication progress, ETA and lag (copy-progress)", cmd_progress},
	{"copy", "the fast initial copy into a new slot's snapshot (create-sub --copy fast)", cmd_copy},
	{"report", "write the migration's report, HTML and JSON, from the kit's records (report)", cmd_report},
	{NULL, NULL, NULL},
};

static void
help(void)
{
	const command *c;

	printf("migkit moves a live PostgreSQL database to a new cluster with logical replication.\n\n");
	printf("Usage:\n  migkit COMMAND [OPTION]...\n  migkit --help | --version\n\nCommands:\n");
	for (c = commands; c->name; c++)
		printf("  %-10s %s\n", c->name, c->summary);
	printf("\nRun \"migkit COMMAND --help\" for a command's options.\n");
	printf("Exit status: 0 done, 1 a negative answer (differences, not in sync), 2 error.\n");
}

int
main(int argc, char **argv)
{
	const command *c;
	static char name[64];

	if (argc < 2) {
		cli_usage("no command given");
		return EXIT_TROUBLE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		help();
		return EXIT_DONE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("migkit %s\n", PACKAGE_VERSION);
		return EXIT_DONE;
	}
	for (c = commands; c->name; c++) {
		if (strcmp(argv[1], c->name) == 0) {
			snprintf(name, sizeof(name), "migkit %s", c->name);
			progname = name;
			switch (c->run(argc - 1, argv + 1)) {
				case RESULT_OK: return EXIT_DONE;
				case RESULT_NEGATIVE: return EXIT_NEGATIVE;
				default: return EXIT_TROUBLE;
			}
		}
	}
	cli_usage("unknown command \"%s\"", argv[1]);
	return EXIT_TROUBLE;
}
