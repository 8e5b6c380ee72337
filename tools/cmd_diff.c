/*
 * migkit diff: are SRC and DST holding the same data?  Compares every table
 * of the migration (row counts, planner estimates, or checksums by key
 * range that name the rows that differ) and every sequence, on both
 * servers at once, and answers like diff(1): 0 equal, 1 different, 2 error.
 * This file holds the options, the connections and the report; the work is
 * in diff_catalog.c and diff_compare.c.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "diff.h"
#include "output.h"
#include "pg.h"

#define MAX_JOBS 64

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
		   "  -j, --jobs N          connections per side working at once (default 4)\n"
		   "  -t, --table PATTERN   only tables (and sequences) whose schema.name matches\n"
		   "                        the glob PATTERN (* and ?); may be repeated\n"
		   "      --retries N       re-check a difference N times before reporting it,\n"
		   "                        as it may be replication lag (default 3)\n"
		   "      --delay SEC       seconds between re-checks (default 1)\n"
		   "      --json            print one JSON document instead of the report\n"
		   "      --src CONNINFO    SRC connection (default: $SRCPG)\n"
		   "      --dst CONNINFO    DST connection (default: $DSTPG)\n"
		   "  -h, --help            show this help and exit\n\n"
		   "The tables are those of publication $PUBNAME on SRC when it exists, else the\n"
		   "migration's set (MIGKIT_INCLUDE, MIGKIT_EXCLUDE).  Replication lag is measured\n"
		   "against subscription $SUBNAME.\n\n"
		   "Exit status: 0 equal (sequences equal or ahead), 1 differences found, 2 error.\n");
}

static const char *
status_word(table_status st)
{
	switch (st) {
		case TS_EQUAL: return "equal";
		case TS_DIFFERENT: return "different";
		case TS_MISSING: return "missing";
		case TS_UNKNOWN: return "unknown";
		case TS_AHEAD: return "ahead";
		case TS_ERROR: return "error";
		default: return "pending";
	}
}

static const char *
mode_word(diff_mode m)
{
	return m == MODE_CHECKSUM ? "checksum" : m == MODE_ESTIMATE ? "estimate" : "count";
}

static const char *
kind_text(const char *kind)
{
	if (strcmp(kind, "missing") == 0)
		return "missing on DST";
	if (strcmp(kind, "extra") == 0)
		return "extra on DST";
	return "changed";
}

/* Parses the options; false after a usage error has been printed. */
static bool
parse_options(int argc, char **argv, diff_options *opt, bool *help)
{
	enum { OPT_COUNT = 256, OPT_ESTIMATE, OPT_CHECKSUM, OPT_RETRIES, OPT_DELAY, OPT_JSON, OPT_SRC, OPT_DST };
	static const struct option longopts[] = {
		{"count", no_argument, NULL, OPT_COUNT},
		{"estimate", no_argument, NULL, OPT_ESTIMATE},
		{"checksum", no_argument, NULL, OPT_CHECKSUM},
		{"jobs", required_argument, NULL, 'j'},
		{"table", required_argument, NULL, 't'},
		{"retries", required_argument, NULL, OPT_RETRIES},
		{"delay", required_argument, NULL, OPT_DELAY},
		{"json", no_argument, NULL, OPT_JSON},
		{"src", required_argument, NULL, OPT_SRC},
		{"dst", required_argument, NULL, OPT_DST},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, modes = 0;
	long n;

	optind = 1;
	opterr = 0; /* errors are reported here, as "migkit diff: ..." */
	while ((c = getopt_long(argc, argv, ":j:t:h", longopts, NULL)) != -1) {
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
			case 'j':
				if (!parse_long(optarg, &n) || n < 1 || n > MAX_JOBS) {
					log_error("--jobs must be a whole number from 1 to %d, not \"%s\"", MAX_JOBS, optarg);
					return false;
				}
				opt->jobs = (int) n;
				break;
			case 't':
				opt->patterns = xrealloc(opt->patterns, (size_t) (opt->npatterns + 1) * sizeof(char *));
				opt->patterns[opt->npatterns++] = optarg;
				break;
			case OPT_RETRIES:
				if (!parse_long(optarg, &n) || n < 0 || n > 1000) {
					log_error("--retries must be a whole number from 0 to 1000, not \"%s\"", optarg);
					return false;
				}
				opt->retries = (int) n;
				break;
			case OPT_DELAY:
				if (!parse_double(optarg, &opt->delay) || opt->delay < 0 || opt->delay > 3600) {
					log_error("--delay must be a number of seconds from 0 to 3600, not \"%s\"", optarg);
					return false;
				}
				break;
			case OPT_JSON: opt->json = true; break;
			case OPT_SRC: opt->conninfo[SRC] = optarg; break;
			case OPT_DST: opt->conninfo[DST] = optarg; break;
			case 'h': *help = true; return true;
			case ':': log_error("option %s needs a value", argv[optind - 1]); return false;
			default:
				if (optopt > 0 && optopt < 128 && strncmp(argv[optind - 1], "--", 2) != 0)
					log_error("unknown option -%c", optopt);
				else
					log_error("unknown option %s", argv[optind - 1]);
				return false;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument \"%s\"", argv[optind]);
		return false;
	}
	if (modes > 1) {
		log_error("--count, --estimate and --checksum exclude each other: give one");
		return false;
	}
	return true;
}

/*
 * Opens connections until each side has n, all at once, and prepares
 * their sessions; false (errors logged) when one of them fails.
 */
bool
diff_connect(diff_run *run, int n)
{
	int s, i, from = run->nconns;
	bool ok = true;

	if (n > MAX_JOBS)
		n = MAX_JOBS;
	if (n <= from)
		return true;
	for (s = 0; s < 2; s++)
		for (i = from; i < n; i++)
			run->conns[s][i] = pg_connect_start(side_name[s], run->opt->conninfo[s]);
	for (s = 0; s < 2; s++)
		for (i = from; i < n; i++) {
			if (run->conns[s][i] == NULL || !ok) {
				ok = false;
				continue;
			}
			if (!pg_connect_wait(side_name[s], run->conns[s][i]) ||
				!diff_session_setup(run->conns[s][i], side_name[s]))
				ok = false;
		}
	if (ok)
		run->nconns = n;
	return ok;
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
format_rows(char *buf, size_t size, const diff_table *t, int s, bool estimate)
{
	if (!t->side[s].present)
		snprintf(buf, size, "-");
	else if (estimate)
		snprintf(buf, size, t->side[s].estimate < 0 ? "?" : "~%.0f", t->side[s].estimate);
	else if (t->rows_known)
		snprintf(buf, size, "%lld", t->rows[s]);
	else
		snprintf(buf, size, "-");
}

/* "id=5" or "(a, b)=(1, x)". */
static void
format_key(strbuf *sb, const diff_table *t, char **values)
{
	int k;

	if (t->nkeys == 1) {
		sb_printf(sb, "%s=%s", t->key_list, values[0]);
		return;
	}
	sb_printf(sb, "(%s)=(", t->key_list);
	for (k = 0; k < t->nkeys; k++)
		sb_printf(sb, "%s%s", k ? ", " : "", values[k]);
	sb_append_char(sb, ')');
}

/* The note column: what is known beyond the status. */
static char *
table_note(const diff_table *t)
{
	int i, missing = 0, extra = 0, changed = 0;
	strbuf sb;

	sb_init(&sb);
	for (i = 0; i < t->ndiffs; i++) {
		const char *k = t->diffs[i].kind;

		if (strcmp(k, "missing") == 0)
			missing++;
		else if (strcmp(k, "extra") == 0)
			extra++;
		else
			changed++;
	}
	if (t->truncated)
		sb_printf(&sb, "more than %d rows differ; listed: ", t->ndiffs);
	if (t->ndiffs > 0)
		sb_printf(&sb, "%d missing on DST, %d extra on DST, %d changed", missing, extra, changed);
	if (t->note)
		sb_printf(&sb, "%s%s", sb.len ? "; " : "", t->note);
	return sb_steal(&sb);
}

static void
lag_text(strbuf *sb, const lag_sample *lag)
{
	char bytes[32];

	const char *sub = getenv("SUBNAME");

	if (!lag->known) {
		if (sub == NULL || *sub == '\0')
			sb_append(sb, "replication lag not measured (SUBNAME is not set)");
		else
			sb_printf(sb, "replication lag unknown (no slot or subscription \"%s\")", sub);
		return;
	}
	sb_printf(sb, "DST was %s behind SRC (SRC at %s, DST confirmed %s)",
			  format_bytes((double) lag->bytes, bytes, sizeof(bytes)), lag->src_lsn, lag->dst_lsn);
}

typedef struct tally {
	int tables[TS_NSTATUS];
	int seqs[TS_NSTATUS];
} tally;

static void
count_statuses(const diff_run *run, tally *n)
{
	int i;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < run->ntables; i++)
		n->tables[run->tables[i]->status]++;
	for (i = 0; i < run->nseqs; i++)
		n->seqs[run->seqs[i]->status]++;
}

static result_t
verdict(const tally *n)
{
	if (n->tables[TS_ERROR] || n->seqs[TS_ERROR])
		return RESULT_ERROR;
	if (n->tables[TS_DIFFERENT] || n->tables[TS_MISSING] || n->seqs[TS_DIFFERENT] || n->seqs[TS_MISSING])
		return RESULT_NEGATIVE;
	return RESULT_OK;
}

static const char *
verdict_word(result_t r)
{
	return r == RESULT_OK ? "equal" : r == RESULT_NEGATIVE ? "different" : "error";
}

static void
print_text(const diff_run *run, const tally *n, result_t r)
{
	bool est = run->opt->mode == MODE_ESTIMATE;
	const char *headers[] = {
		"TABLE", "STATUS", est ? "SRC ROWS (EST.)" : "SRC ROWS", est ? "DST ROWS (EST.)" : "DST ROWS",
		"TIME",  "NOTE"};
	table *tab = table_new(6, headers);
	FILE *out = stdout;
	strbuf sb;
	char dur[32];
	int i, j, unequal_seqs = 0;

	table_align_right(tab, 2);
	table_align_right(tab, 3);
	table_align_right(tab, 4);
	for (i = 0; i < run->ntables; i++) {
		const diff_table *t = run->tables[i];
		char src[32], dst[32], tm[32];
		char *note = table_note(t);
		const char *cells[6];

		format_rows(src, sizeof(src), t, SRC, est);
		format_rows(dst, sizeof(dst), t, DST, est);
		if (t->started > 0 && t->finished >= t->started)
			format_duration(t->finished - t->started, tm, sizeof(tm));
		else
			snprintf(tm, sizeof(tm), "-");
		cells[0] = t->display;
		cells[1] = status_word(t->status);
		cells[2] = src;
		cells[3] = dst;
		cells[4] = tm;
		cells[5] = note;
		table_add_row(tab, cells);
		free(note);
	}
	if (run->ntables > 0)
		table_print(tab, out);
	table_free(tab);

	for (i = 0; i < run->nseqs; i++)
		if (run->seqs[i]->status != TS_EQUAL && run->seqs[i]->status != TS_AHEAD)
			unequal_seqs++;
	if (unequal_seqs > 0) {
		const char *sh[] = {"SEQUENCE", "STATUS", "SRC (last_value, is_called)",
							"DST (last_value, is_called)"};

		tab = table_new(4, sh);
		for (i = 0; i < run->nseqs; i++) {
			const diff_sequence *q = run->seqs[i];
			char v[2][64];
			const char *cells[4];
			int s;

			if (q->status == TS_EQUAL || q->status == TS_AHEAD)
				continue;
			for (s = 0; s < 2; s++) {
				if (!q->present[s])
					snprintf(v[s], sizeof(v[s]), "-");
				else if (q->last_value[s] == NULL)
					snprintf(v[s], sizeof(v[s]), "unreadable (no SELECT privilege)");
				else
					snprintf(v[s], sizeof(v[s]), "%s, %s", q->last_value[s],
							 q->is_called[s] ? "true" : "false");
			}
			cells[0] = q->display;
			cells[1] = q->status == TS_DIFFERENT ? "behind" : status_word(q->status);
			cells[2] = v[SRC];
			cells[3] = v[DST];
			table_add_row(tab, cells);
		}
		fputc('\n', out);
		table_print(tab, out);
		table_free(tab);
	}

	sb_init(&sb);
	for (i = 0; i < run->ntables; i++) {
		const diff_table *t = run->tables[i];

		for (j = 0; j < t->ndiffs; j++) {
			if (sb.len == 0)
				fprintf(out, "\nRows that differ:\n");
			sb_reset(&sb);
			sb_printf(&sb, "%s: %s: ", t->display, kind_text(t->diffs[j].kind));
			format_key(&sb, t, t->diffs[j].values);
			fprintf(out, "  %s\n", sb.data);
		}
	}

	sb_reset(&sb);
	sb_printf(&sb, "%s%s%s: %d table%s (%d equal, %d different, %d missing", out_style(out, "bold"),
			  verdict_word(r), out_style(out, "reset"), run->ntables, run->ntables == 1 ? "" : "s",
			  n->tables[TS_EQUAL], n->tables[TS_DIFFERENT], n->tables[TS_MISSING]);
	if (n->tables[TS_UNKNOWN])
		sb_printf(&sb, ", %d unknown", n->tables[TS_UNKNOWN]);
	if (n->tables[TS_ERROR])
		sb_printf(&sb, ", %d error", n->tables[TS_ERROR]);
	sb_printf(&sb, "), %d sequence%s (%d equal, %d ahead, %d behind, %d missing", run->nseqs,
			  run->nseqs == 1 ? "" : "s", n->seqs[TS_EQUAL], n->seqs[TS_AHEAD], n->seqs[TS_DIFFERENT],
			  n->seqs[TS_MISSING]);
	if (n->seqs[TS_ERROR])
		sb_printf(&sb, ", %d unreadable", n->seqs[TS_ERROR]);
	sb_printf(&sb, "); by %s%s in %s", est ? "planner estimate" : mode_word(run->opt->mode),
			  est ? " (reltuples, approximate)" : "",
			  format_duration(run->finished - run->started, dur, sizeof(dur)));
	if (run->publication)
		sb_printf(&sb, "; tables of publication %s", run->publication);
	sb_append(&sb, "; ");
	lag_text(&sb, &run->lag_start);
	fprintf(out, "\n%s\n", sb.data);
	sb_free(&sb);
}

static void
json_lag(json *j, const char *key, const lag_sample *lag)
{
	if (!lag->known) {
		json_null(j, key);
		return;
	}
	json_object_begin(j, key);
	json_string(j, "src_lsn", lag->src_lsn);
	json_string(j, "dst_lsn", lag->dst_lsn);
	json_int(j, "bytes", lag->bytes);
	json_string(j, "dst_lsn_from", lag->source);
	json_object_end(j);
}

static void
print_json(const diff_run *run, const tally *n, result_t r)
{
	json j;
	int i, k, d, s;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "mode", mode_word(run->opt->mode));
	json_string(&j, "status", verdict_word(r));
	json_string(&j, "publication", run->publication);
	json_array_begin(&j, "tables");
	for (i = 0; i < run->ntables; i++) {
		const diff_table *t = run->tables[i];
		char *note = t->note ? xstrdup(t->note) : NULL;

		json_object_begin(&j, NULL);
		json_string(&j, "table", t->display);
		json_string(&j, "schema", t->schema);
		json_string(&j, "name", t->name);
		json_string(&j, "status", status_word(t->status));
		for (s = 0; s < 2; s++) {
			const char *key = s == SRC ? "rows_src" : "rows_dst";

			if (!t->side[s].present)
				json_null(&j, key);
			else if (run->opt->mode == MODE_ESTIMATE) {
				if (t->side[s].estimate < 0)
					json_null(&j, key);
				else
					json_int(&j, key, llround(t->side[s].estimate));
			} else if (t->rows_known)
				json_int(&j, key, t->rows[s]);
			else
				json_null(&j, key);
		}
		json_bool(&j, "estimated", run->opt->mode == MODE_ESTIMATE);
		if (t->started > 0 && t->finished >= t->started)
			json_double(&j, "seconds", t->finished - t->started);
		else
			json_null(&j, "seconds");
		if (run->opt->mode == MODE_CHECKSUM && t->side[SRC].present && t->side[DST].present) {
			json_string(&j, "method", t->nkeys ? "key ranges" : "whole-table hash");
			json_bool(&j, "rows_locatable", t->nkeys > 0);
			json_string(&j, "key_source", t->key_source);
			json_array_begin(&j, "key");
			for (k = 0; k < t->nkeys; k++)
				json_string(&j, NULL, t->key_names[k]);
			json_array_end(&j);
			json_array_begin(&j, "rows");
			for (d = 0; d < t->ndiffs; d++) {
				json_object_begin(&j, NULL);
				json_string(&j, "kind", t->diffs[d].kind);
				json_object_begin(&j, "key");
				for (k = 0; k < t->nkeys; k++)
					json_string(&j, t->key_names[k], t->diffs[d].values[k]);
				json_object_end(&j);
				json_object_end(&j);
			}
			json_array_end(&j);
			json_bool(&j, "rows_truncated", t->truncated);
		}
		json_string(&j, "note", note);
		free(note);
		json_object_end(&j);
	}
	json_array_end(&j);

	json_array_begin(&j, "sequences");
	for (i = 0; i < run->nseqs; i++) {
		const diff_sequence *q = run->seqs[i];

		json_object_begin(&j, NULL);
		json_string(&j, "sequence", q->display);
		json_string(&j, "schema", q->schema);
		json_string(&j, "name", q->name);
		json_string(&j, "status",
					q->status == TS_ERROR       ? "unreadable"
					: q->status == TS_DIFFERENT ? "behind"
												: status_word(q->status));
		for (s = 0; s < 2; s++) {
			const char *key = s == SRC ? "src" : "dst";

			if (!q->present[s]) {
				json_null(&j, key);
				continue;
			}
			json_object_begin(&j, key);
			json_number_text(&j, "last_value", q->last_value[s]);
			json_bool(&j, "is_called", q->is_called[s]);
			json_object_end(&j);
		}
		json_object_end(&j);
	}
	json_array_end(&j);

	json_object_begin(&j, "lag");
	json_lag(&j, "start", &run->lag_start);
	json_lag(&j, "end", &run->lag_end);
	json_object_end(&j);

	json_object_begin(&j, "summary");
	json_int(&j, "tables", run->ntables);
	json_int(&j, "equal", n->tables[TS_EQUAL]);
	json_int(&j, "different", n->tables[TS_DIFFERENT]);
	json_int(&j, "missing", n->tables[TS_MISSING]);
	json_int(&j, "unknown", n->tables[TS_UNKNOWN]);
	json_int(&j, "errors", n->tables[TS_ERROR]);
	json_int(&j, "sequences", run->nseqs);
	json_int(&j, "sequences_equal", n->seqs[TS_EQUAL]);
	json_int(&j, "sequences_ahead", n->seqs[TS_AHEAD]);
	json_int(&j, "sequences_behind", n->seqs[TS_DIFFERENT]);
	json_int(&j, "sequences_missing", n->seqs[TS_MISSING]);
	json_int(&j, "sequences_unreadable", n->seqs[TS_ERROR]);
	json_double(&j, "seconds", run->finished - run->started);
	json_object_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static void
run_free(diff_run *run)
{
	int i, s;

	for (s = 0; s < 2; s++) {
		for (i = 0; i < MAX_JOBS; i++)
			PQfinish(run->conns[s][i]);
		free(run->conns[s]);
	}
	for (i = 0; i < run->ntables; i++)
		diff_table_free(run->tables[i]);
	free(run->tables);
	for (i = 0; i < run->nseqs; i++)
		diff_sequence_free(run->seqs[i]);
	free(run->seqs);
	free(run->publication);
	lag_sample_clear(&run->lag_start);
	lag_sample_clear(&run->lag_end);
}

static result_t
diff_run_all(diff_run *run)
{
	int i, pending = 0;
	tally n;
	result_t r;

	run->started = now_seconds();
	if (!diff_connect(run, 1) || !diff_load_catalog(run))
		return RESULT_ERROR;

	/*
	 * A connection per side for each table to compare, up to --jobs; more
	 * are opened when a table is split into key ranges.
	 */
	for (i = 0; i < run->ntables; i++)
		if (run->tables[i]->status == TS_PENDING)
			pending++;
	if (run->opt->mode != MODE_ESTIMATE &&
		!diff_connect(run, pending < run->opt->jobs ? pending : run->opt->jobs))
		return RESULT_ERROR;

	diff_measure_lag(run, &run->lag_start);
	if (run->opt->mode == MODE_ESTIMATE)
		judge_estimates(run);
	else if (!diff_compare_tables(run))
		run->failed = true;
	if (!run->failed)
		diff_measure_lag(run, &run->lag_end);
	run->finished = now_seconds();

	count_statuses(run, &n);
	r = run->failed ? RESULT_ERROR : verdict(&n);
	if (run->opt->json)
		print_json(run, &n, r);
	else
		print_text(run, &n, r);
	return r;
}

result_t
cmd_diff(int argc, char **argv)
{
	diff_options opt;
	diff_run run;
	bool help = false;
	result_t r;
	int s;

	memset(&opt, 0, sizeof(opt));
	opt.mode = MODE_COUNT;
	opt.jobs = 4;
	opt.retries = 3;
	opt.delay = 1.0;
	if (!parse_options(argc, argv, &opt, &help)) {
		free(opt.patterns);
		return usage_error("diff ");
	}
	if (help) {
		diff_help();
		free(opt.patterns);
		return RESULT_OK;
	}
	for (s = 0; s < 2; s++) {
		opt.conninfo[s] = pg_conninfo(side_name[s], opt.conninfo[s]);
		if (opt.conninfo[s] == NULL) {
			free(opt.patterns);
			return RESULT_ERROR;
		}
	}

	memset(&run, 0, sizeof(run));
	run.opt = &opt;
	for (s = 0; s < 2; s++)
		run.conns[s] = xcalloc(MAX_JOBS, sizeof(PGconn *));
	r = diff_run_all(&run);
	run_free(&run);
	free(opt.patterns);
	return r;
}
