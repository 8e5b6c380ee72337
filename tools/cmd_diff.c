/*
 * migkit diff: are SRC and DST holding the same data?  Compares every table
 * of the migration (row counts, planner estimates, or checksums by key
 * range that name the rows that differ) and every sequence, on both
 * servers at once, and answers like diff(1): 0 equal, 1 different, 2 error.
 * This file holds the options and the order of the steps; the work is in
 * diff_pool.c, diff_catalog.c, diff_compare.c and diff_report.c.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "diff.h"
#include "pg.h"
#include "quote.h"
#include "sql.h"

static void
diff_help(void)
{
	printf("Usage: migkit diff [OPTION]...\n\n"
		   "Compares the migration's tables and sequences on SRC and DST, on both\n"
		   "servers at the same time, and says which differ.\n\n"
		   "Options:\n"
		   "      --count           compare exact row counts (the default)\n"
		   "      --estimate        compare the planner's row estimates: instant, approximate\n"
		   "      --checksum        compare a hash of every row by key range, and name\n"
		   "                        each row missing on DST, extra on DST or changed\n"
		   "      --schema          compare the tables' shape instead of their rows: columns,\n"
		   "                        types, nullability, defaults, constraints, indexes\n"
		   "  -j, --jobs N          connections per side working at once (default 4)\n"
		   "  -t, --table PATTERN   only tables (and sequences) whose schema.name matches\n"
		   "                        the glob PATTERN (* and ?); may be repeated\n"
		   "      --retries N       re-check a difference N times before reporting it,\n"
		   "                        as it may be replication lag (default 3)\n"
		   "      --delay SEC       seconds between re-checks (default 1)\n"
		   "      --after-fence     SRC is fenced (disable-src ran): a sequence behind SRC\n"
		   "                        is a difference; before, it is pending (copy-seq\n"
		   "                        copies the sequences at cutover)\n"
		   "      --json            print one JSON document instead of the report\n"
		   "      --json-file FILE  also write that document to FILE (as copy-diff keeps\n"
		   "                        each run in data/)\n"
		   "      --src CONNINFO    SRC connection (default: $SRCPG)\n"
		   "      --dst CONNINFO    DST connection (default: $DSTPG)\n"
		   "  -h, --help            show this help and exit\n"
		   "  -V, --version         show the version and exit\n\n"
		   "The tables are the migration's set (MIGKIT_INCLUDE, MIGKIT_EXCLUDE); one that is\n"
		   "not in publication $PUBNAME on SRC or not in subscription $SUBNAME on DST is\n"
		   "reported as not replicated.  Replication lag is measured on the subscription's\n"
		   "slot.\n\n"
		   "Exit status: 0 equal (sequences equal, ahead, or pending before the fence;\n"
		   "with --schema, every table alike), 1 differences found, 2 error.\n");
}

/* Parses the options; false after a usage error has been printed. */
static bool
parse_options(int argc, char **argv, diff_options *opt)
{
	enum {
		OPT_COUNT = 256,
		OPT_ESTIMATE,
		OPT_CHECKSUM,
		OPT_SCHEMA,
		OPT_RETRIES,
		OPT_DELAY,
		OPT_AFTER_FENCE,
		OPT_JSON,
		OPT_SRC,
		OPT_DST
	};
	static const struct option longopts[] = {
		{"count", no_argument, NULL, OPT_COUNT},
		{"estimate", no_argument, NULL, OPT_ESTIMATE},
		{"checksum", no_argument, NULL, OPT_CHECKSUM},
		{"jobs", required_argument, NULL, 'j'},
		{"schema", no_argument, NULL, OPT_SCHEMA},
		{"table", required_argument, NULL, 't'},
		{"retries", required_argument, NULL, OPT_RETRIES},
		{"delay", required_argument, NULL, OPT_DELAY},
		{"after-fence", no_argument, NULL, OPT_AFTER_FENCE},
		{"json", no_argument, NULL, OPT_JSON},
		{"src", required_argument, NULL, OPT_SRC},
		{"dst", required_argument, NULL, OPT_DST},
		{"json-file", required_argument, NULL, 'J'},
		{NULL, 0, NULL, 0},
	};
	strbuf pick;
	int c, modes = 0, npick = 0;
	long n;

	sb_init(&pick);
	sb_append_char(&pick, '[');
	while ((c = cli_getopt(argc, argv, "j:t:", longopts)) != -1) {
		switch (c) {
			case OPT_COUNT:
				opt->mode = MODE_COUNT;
				modes++;
				break;
			case OPT_ESTIMATE:
				opt->mode = MODE_ESTIMATE;
				modes++;
				break;
			case OPT_CHECKSUM:
				opt->mode = MODE_CHECKSUM;
				modes++;
				break;
			case OPT_SCHEMA:
				opt->mode = MODE_SCHEMA;
				modes++;
				break;
			case 'j':
				if (!parse_long(optarg, &n) || n < 1 || n > DIFF_MAX_JOBS) {
					cli_usage("--jobs must be a whole number from 1 to %d, not \"%s\"", DIFF_MAX_JOBS,
							  optarg);
					goto fail;
				}
				opt->jobs = (int) n;
				break;
			case 't':
				if (npick++)
					sb_append_char(&pick, ',');
				json_quote(&pick, optarg);
				break;
			case OPT_RETRIES:
				if (!parse_long(optarg, &n) || n < 0 || n > 1000) {
					cli_usage("--retries must be a whole number from 0 to 1000, not \"%s\"", optarg);
					goto fail;
				}
				opt->retries = (int) n;
				break;
			case OPT_DELAY:
				if (!parse_double(optarg, &opt->delay) || opt->delay < 0 || opt->delay > 3600) {
					cli_usage("--delay must be a number of seconds from 0 to 3600, not \"%s\"", optarg);
					goto fail;
				}
				break;
			case OPT_AFTER_FENCE: opt->after_fence = true; break;
			case OPT_JSON: opt->json = true; break;
			case OPT_SRC: opt->conninfo[SRC] = optarg; break;
			case OPT_DST: opt->conninfo[DST] = optarg; break;
			case 'J': opt->json_file = optarg; break;
			default: cli_usage(NULL); goto fail;
		}
	}
	if (optind < argc) {
		cli_usage("unexpected argument \"%s\"", argv[optind]);
		goto fail;
	}
	if (modes > 1) {
		cli_usage("--count, --estimate, --checksum and --schema exclude each other: give one");
		goto fail;
	}
	sb_append_char(&pick, ']');
	opt->pick = npick ? sb_steal(&pick) : NULL;
	sb_free(&pick);
	return true;
fail:
	sb_free(&pick);
	return false;
}

/*
 * --estimate: reltuples of both sides, equal when within 10% of each other
 * (estimates drift with autovacuum), unknown when a side was never analyzed.
 */
static void
judge_estimates(diff_run *run)
{
	int i;

	for (i = 0; i < run->ntables; i++) {
		diff_table *t = run->tables[i];
		double a = t->side[SRC].estimate, b = t->side[DST].estimate;

		if (t->status != TS_PENDING)
			continue;
		if (a < 0 || b < 0) {
			t->status = TS_UNKNOWN;
			t->note =
				xasprintf("no estimate: %s never analyzed (run ANALYZE)", a < 0 && b < 0 ? "both sides were"
																		  : a < 0        ? "SRC was"
																						 : "DST was");
		} else if (fabs(a - b) <= 0.1 * fmax(a, b))
			t->status = TS_EQUAL;
		else
			t->status = TS_DIFFERENT;
	}
}

static void
run_free(diff_run *run)
{
	int i;

	diff_pool_close(run);
	for (i = 0; i < run->ntables; i++)
		diff_table_free(run->tables[i]);
	free(run->tables);
	for (i = 0; i < run->nseqs; i++)
		diff_sequence_free(run->seqs[i]);
	free(run->seqs);
	free(run->publication);
	free(run->subscription);
	free(run->not_checked);
	free(run->subid);
	free(run->slot);
	lag_clear(&run->lag_start);
	lag_clear(&run->lag_end);
}

/* --json-file: the document written to the file, replacing it; false (logged) when it cannot be. */
static bool
write_json_file(const diff_run *run, result_t r)
{
	FILE *f = fopen(run->opt->json_file, "w");
	bool ok;

	if (f == NULL) {
		log_error("cannot write %s: %s", run->opt->json_file, strerror(errno));
		return false;
	}
	diff_print_json(run, r, f);
	ok = !ferror(f);
	if (fclose(f) != 0 || !ok) {
		log_error("cannot write %s: %s", run->opt->json_file, strerror(errno));
		return false;
	}
	return true;
}

static result_t
diff_run_all(diff_run *run)
{
	result_t r;

	run->started = now_seconds();
	if (!diff_pool_open(run, 1) || !sql_distinct_sides(run->conns[SRC][0], run->conns[DST][0],
													   "compare a database with itself", NULL, NULL))
		return RESULT_ERROR;
	if (run->opt->mode == MODE_SCHEMA)
		return diff_schema(run);
	/*
	 * The other connections of --jobs connect while the catalogs are read:
	 * the sequences and the tables are compared side by side on all of them.
	 */
	if (run->opt->mode != MODE_ESTIMATE)
		diff_pool_start(run, run->opt->jobs);
	if (!diff_load_catalog(run))
		return RESULT_ERROR;
	if (run->opt->mode != MODE_ESTIMATE && !diff_pool_open(run, run->opt->jobs))
		return RESULT_ERROR;

	diff_measure_lag(run, &run->lag_start);
	if (run->opt->mode == MODE_ESTIMATE)
		judge_estimates(run);
	else if (!diff_compare_tables(run))
		run->failed = true;
	if (run->seq_failed)
		return RESULT_ERROR; /* logged where it failed; nothing to report without the sequences */
	if (!run->failed)
		diff_measure_lag(run, &run->lag_end);
	run->finished = now_seconds();

	r = diff_verdict(run);
	if (pg_interrupted())
		return RESULT_ERROR; /* what was cancelled proves nothing */
	if (run->opt->json_file && !write_json_file(run, r))
		return RESULT_ERROR;
	if (run->opt->json)
		diff_print_json(run, r, stdout);
	else
		diff_print_text(run, r);
	return r;
}

result_t
cmd_diff(int argc, char **argv)
{
	diff_options opt;
	diff_run run;
	result_t r;
	int s;

	if (cli_help_or_version(argc, argv, diff_help))
		return RESULT_OK;
	memset(&opt, 0, sizeof(opt));
	opt.mode = MODE_COUNT;
	opt.jobs = 4;
	opt.retries = 3;
	opt.delay = 1.0;
	if (!parse_options(argc, argv, &opt))
		return RESULT_ERROR;
	for (s = 0; s < 2; s++) {
		opt.conninfo[s] = pg_conninfo(side_name[s], opt.conninfo[s]);
		if (opt.conninfo[s] == NULL) {
			free(opt.pick);
			return RESULT_ERROR;
		}
	}

	pg_catch_interrupts();
	memset(&run, 0, sizeof(run));
	run.opt = &opt;
	r = diff_run_all(&run);
	run_free(&run);
	free(opt.pick);
	return r;
}
