/*
 * migkit report (the kit's report): the evidence of a migration at a
 * glance, for whoever must be shown that it went right.  It reads only
 * what the kit recorded (log/journal and data/), asks no server, and
 * writes one self-contained HTML page and the same facts as JSON.  This
 * file holds the options and the writing of the files; the reading is
 * report_load.c, the verdict report_facts.c, the forms report_html.c and
 * report_json.c.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "report.h"
#include "util.h"

static void
report_help(void)
{
	printf("Usage: migkit report [OPTION]... [KIT_DIR]\n\n"
		   "Writes the report of the migration whose kit is KIT_DIR (default: $DIRPATH, else\n"
		   "the current directory), from the kit's records alone: one self-contained HTML\n"
		   "page (no script, nothing loaded from elsewhere; it prints as it shows) and the\n"
		   "same facts as JSON.  It holds the timeline of every step (log/journal), the\n"
		   "checks' findings and how their blockers were cleared, the servers' versions,\n"
		   "the initial copy, the replication lag over time as a chart (data/progress.jsonl),\n"
		   "every copy-diff verdict and sequence sync, the switch (data/cutover.json) and\n"
		   "the way back (data/rollback.json), and what replication did not carry\n"
		   "(check-misc), with the operator's notes.  What no record holds is shown as\n"
		   "\"not recorded\"; the verdict says \"verified equal\" only when a record shows a\n"
		   "comparison after the fence that found every table equal.\n\n"
		   "Options:\n"
		   "  -o, --output FILE   write the page to FILE (default: KIT_DIR/data/report.html)\n"
		   "                      and the JSON beside it, FILE with .html replaced by .json\n"
		   "      --json          print the JSON document on stdout (the files are written too)\n"
		   "  -q, --quiet         print nothing but errors\n"
		   "  -h, --help          show this help and exit\n"
		   "  -V, --version       show the version and exit\n\n"
		   "Exit status: 0 written, and the records show the migration done and verified\n"
		   "equal; 1 written, and they do not (not started, in progress, not verified,\n"
		   "aborted, rolled back); 2 error (no kit, a record that cannot be read, a file\n"
		   "that cannot be written).\n");
}

/* FILE with its .html (or .htm) replaced by .json, or .json appended. */
static char *
json_path_for(const char *html)
{
	size_t n = strlen(html);

	if (n > 5 && strcmp(html + n - 5, ".html") == 0)
		return xasprintf("%.*s.json", (int) (n - 5), html);
	if (n > 4 && strcmp(html + n - 4, ".htm") == 0)
		return xasprintf("%.*s.json", (int) (n - 4), html);
	return xasprintf("%s.json", html);
}

/* Writes one form to path (mode 0600), replacing it whole. */
static bool
write_form(const char *path, void (*form)(FILE *, const report_data *, const report_facts *),
		   const report_data *d, const report_facts *f)
{
	file_replace r;

	if (!file_replace_open(&r, path, 0600))
		return false;
	form(r.f, d, f);
	return file_replace_commit(&r, false);
}

result_t
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	const char *kit = NULL, *output = NULL;
	char *html = NULL, *json_file = NULL;
	bool json = false, quiet = false, ok;
	report_data d;
	report_facts f;
	result_t result;
	int c;

	if (cli_help_or_version(argc, argv, report_help))
		return RESULT_OK;
	while ((c = cli_getopt(argc, argv, "o:q", longopts)) != -1) {
		switch (c) {
			case 'o': output = optarg; break;
			case 'j': json = true; break;
			case 'q': quiet = true; break;
			default: return cli_usage(NULL);
		}
	}
	if (optind < argc)
		kit = argv[optind++];
	if (optind < argc)
		return cli_usage("unexpected argument \"%s\"", argv[optind]);
	if (output && *output == '\0')
		return cli_usage("--output takes a file name");
	if (kit == NULL || *kit == '\0')
		kit = getenv("DIRPATH") && *getenv("DIRPATH") ? getenv("DIRPATH") : ".";

	if (!report_load(kit, &d)) {
		report_data_free(&d);
		return RESULT_ERROR;
	}
	report_facts_build(&d, &f);
	html = output ? xstrdup(output) : xasprintf("%s/data/report.html", d.kit);
	json_file = json_path_for(html);
	ok = write_form(html, report_write_html, &d, &f) && write_form(json_file, report_write_json, &d, &f);
	if (ok && json)
		report_write_json(stdout, &d, &f);
	else if (ok && !quiet)
		printf("report: %s\n        %s\nverdict: %s\n", html, json_file, f.headline);
	result = !ok ? RESULT_ERROR : f.verdict == VERDICT_DONE_VERIFIED ? RESULT_OK : RESULT_NEGATIVE;
	free(html);
	free(json_file);
	report_facts_free(&f);
	report_data_free(&d);
	return result;
}
