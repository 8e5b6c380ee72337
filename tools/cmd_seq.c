/*
 * migkit seq: copies every sequence's value from SRC to DST at cutover.
 * Logical replication does not carry sequences, so without this step the
 * first insert on DST reuses a key SRC already handed out.
 *
 * Whatever the number of sequences, each side costs a constant number of
 * round trips: one query reads every sequence of a side, one statement sets
 * them all on DST (inside one transaction), one query checks every
 * column-owned sequence against its column.  Nothing is set on DST unless
 * every value can be: sequence changes are never rolled back, so bounds and
 * privileges are checked before the first setval().
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "pg.h"
#include "seq.h"
#include "sequences.h"
#include "sql.h"
#include "util.h"

typedef struct seq_options {
	long shift;
	bool dry_run;
	bool check_only;
	bool json;
	const char *json_file; /* --json-file: the JSON document also written there */
	const char *src;
	const char *dst;
} seq_options;

static void
seq_help(void)
{
	printf("Usage: migkit seq [OPTION]...\n\n"
		   "Copies the value of every sequence (standalone, serial and identity) from\n"
		   "SRC to DST in one transaction, reports sequences found on only one side,\n"
		   "then checks that every sequence feeding a column would hand out a value\n"
		   "above the column's maximum on DST.\n\n"
		   "Options:\n"
		   "      --shift N        set each sequence N further than SRC (default 0); a\n"
		   "                       never-used sequence stays unused, its next value moved by N\n"
		   "  -n, --dry-run        show the plan (SRC value, value to set on DST); change nothing\n"
		   "      --check          only check DST's column-owned sequences against max(column)\n"
		   "      --json           print one JSON document instead of the table\n"
		   "      --json-file FILE also write that document to FILE (as copy-seq keeps each\n"
		   "                       run in data/); not with --check\n"
		   "      --src CONNINFO   the source database (default: $SRCPG)\n"
		   "      --dst CONNINFO   the destination database (default: $DSTPG)\n"
		   "  -h, --help           show this help and exit\n"
		   "  -V, --version        show the version and exit\n\n"
		   "Exit status: 0 done / all good, 1 a sequence would collide with its column's\n"
		   "values or is missing on DST, 2 error (usage, connection, permission, SQL).\n");
}

/* pg_query_all's arrival callback: loads a side's sequences at once. */
static void
seq_arrived(pg_request *req, void *arg)
{
	seq_set *sets = arg;
	int s = strcmp(req->side, "SRC") == 0 ? 0 : 1;

	seq_set_load(&sets[s], req->side, req->res);
	req->res = NULL; /* the set owns it now */
}

/*
 * Reads every sequence of both sides at once (exact values on SRC only),
 * loading each side's result as soon as it arrives, while the other server
 * is still at work.
 */
static bool
seq_read_both(PGconn *src, PGconn *dst, seq_set *sset, seq_set *dset)
{
	char *sql[2] = {sequences_read_sql(PQserverVersion(src), true, false),
					sequences_read_sql(PQserverVersion(dst), false, true)};
	seq_set sets[2];
	pg_request req[2] = {
		{src, "SRC", sql[0], 3, sequences_no_patterns, NULL},
		{dst, "DST", sql[1], 3, sequences_no_patterns, NULL},
	};
	bool ok;

	memset(sets, 0, sizeof(sets));
	ok = sql[0] && sql[1] && pg_query_all(req, 2, seq_arrived, sets);
	if (ok) {
		*sset = sets[0];
		*dset = sets[1];
	} else {
		seq_set_free(&sets[0]);
		seq_set_free(&sets[1]);
	}
	free(sql[0]);
	free(sql[1]);
	return ok;
}

/* migkit seq --check: DST alone. */
static result_t
seq_check_only(const seq_options *o)
{
	const char *ci = pg_conninfo("DST", o->dst);
	PGconn *dst;
	seq_check check;
	result_t result;

	if (ci == NULL || (dst = pg_connect("DST", ci)) == NULL)
		return RESULT_ERROR;
	if (!seq_check_send(dst, NULL, &check) || !seq_check_receive(dst, &check)) {
		seq_check_free(&check);
		pg_finish(dst);
		return RESULT_ERROR;
	}
	result = check.collisions ? RESULT_NEGATIVE : RESULT_OK;
	if (o->json) {
		json j;

		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		seq_check_json(&j, &check);
		json_int(&j, "status", result);
		json_object_end(&j);
		json_finish(&j);
	} else {
		seq_check_print(&check, false, stdout);
	}
	seq_check_free(&check);
	pg_finish(dst);
	return result;
}

/* --json-file: the document written to path, replacing it; false (logged) when it cannot be. */
static bool
write_doc(const char *path, const char *text, size_t len, bool dry_run)
{
	FILE *f = fopen(path, "w");
	bool ok = f != NULL && fwrite(text, 1, len, f) == len;

	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (!ok)
		log_error("cannot write %s: %s%s", path, strerror(errno),
				  dry_run ? "" : " (the sequences were set on DST all the same)");
	return ok;
}

/* migkit seq [--dry-run]: read both sides, plan, apply, check. */
static result_t
seq_sync(const seq_options *o)
{
	const char *src_ci = pg_conninfo("SRC", o->src);
	const char *dst_ci = src_ci ? pg_conninfo("DST", o->dst) : NULL;
	PGconn *src = NULL, *dst = NULL;
	seq_set sset, dset;
	seq_plan plan;
	seq_check check;
	table *t = NULL;
	json j;
	FILE *doc = NULL;
	char *doc_text = NULL;
	size_t doc_len = 0;
	char *src_role = NULL, *dst_role = NULL;
	result_t result = RESULT_ERROR;
	bool ok;

	memset(&sset, 0, sizeof(sset));
	memset(&dset, 0, sizeof(dset));
	memset(&plan, 0, sizeof(plan));
	memset(&check, 0, sizeof(check));
	if (dst_ci == NULL)
		return RESULT_ERROR;

	/* Both connections and both reads run side by side. */
	src = pg_connect_start("SRC", src_ci);
	dst = src ? pg_connect_start("DST", dst_ci) : NULL;
	if (dst == NULL || !pg_connect_wait("SRC", src) || !pg_connect_wait("DST", dst))
		goto done;
	if (!sql_distinct_sides(src, dst, "copy its sequences onto themselves", &src_role, &dst_role))
		goto done;
	/* Locks taken by the read keep DST's sequences from changing shape until COMMIT. */
	if (!o->dry_run && !pg_exec(dst, "DST", "BEGIN", 0, NULL))
		goto done;
	if (!seq_read_both(src, dst, &sset, &dset))
		goto done;

	if (!seq_require(&sset, seq_row_readable, "read", src_role,
					 "SELECT on the sequences and USAGE on their schemas"))
		goto done;
	ok = seq_plan_build(&sset, &dset, o->shift, &plan);
	ok = seq_require(&dset, seq_row_dst_readable, "read", dst_role,
					 "SELECT on the sequences and USAGE on their schemas") &&
		 ok;
	ok = seq_require(&dset, seq_row_dst_settable, "set", dst_role, "UPDATE on the sequences") && ok;
	if (!ok) {
		log_error("nothing was changed on DST");
		goto done;
	}

	if (!o->dry_run) {
		if (!seq_apply(dst, &plan) || !pg_exec(dst, "DST", "COMMIT", 0, NULL))
			goto done;
	}
	/*
	 * While DST checks, the report is prepared: the table, or the JSON
	 * document up to the check, in memory.  Nothing reaches stdout unless
	 * the check succeeds.
	 */
	ok = seq_check_send(dst, o->dry_run ? &plan : NULL, &check);
	if (ok) {
		if (o->json || o->json_file) {
			doc = open_memstream(&doc_text, &doc_len);
			if (doc == NULL) {
				log_error("out of memory");
				goto done;
			}
			json_init(&j, doc);
			json_object_begin(&j, NULL);
			seq_plan_json(&j, &plan, o->dry_run, o->shift);
		}
		if (!o->json)
			t = seq_plan_table(&plan);
		ok = seq_check_receive(dst, &check);
	}
	if (!ok) {
		if (!o->dry_run)
			log_error("the %d sequences were set on DST; only the check after them failed", plan.nitems);
		goto done;
	}

	result = check.collisions || plan.nsrc_only ? RESULT_NEGATIVE : RESULT_OK;
	if (doc) {
		seq_check_json(&j, &check);
		json_int(&j, "status", result);
		json_object_end(&j);
		json_finish(&j);
	}
	if (o->json_file && !write_doc(o->json_file, doc_text, doc_len, o->dry_run))
		result = RESULT_ERROR;
	if (o->json) {
		fwrite(doc_text, 1, doc_len, stdout);
	} else {
		seq_plan_print(&plan, t, o->dry_run, o->shift, stdout);
		seq_check_print(&check, o->dry_run, stdout);
	}

done:
	if (doc)
		fclose(doc);
	free(doc_text);
	table_free(t);
	seq_check_free(&check);
	seq_plan_free(&plan);
	seq_set_free(&sset);
	seq_set_free(&dset);
	free(src_role);
	free(dst_role);
	pg_finish(src);
	pg_finish(dst);
	return result;
}

result_t
cmd_seq(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"shift", required_argument, NULL, 's'},
		{"dry-run", no_argument, NULL, 'n'},
		{"check", no_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"src", required_argument, NULL, 'S'},
		{"dst", required_argument, NULL, 'D'},
		{"json-file", required_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	seq_options o;
	int c;

	if (cli_help_or_version(argc, argv, seq_help))
		return RESULT_OK;
	memset(&o, 0, sizeof(o));
	while ((c = cli_getopt(argc, argv, "n", longopts)) != -1) {
		switch (c) {
			case 's':
				if (!parse_long(optarg, &o.shift) || o.shift < 0)
					return cli_usage("--shift takes a whole number >= 0, not \"%s\"", optarg);
				break;
			case 'n': o.dry_run = true; break;
			case 'c': o.check_only = true; break;
			case 'j': o.json = true; break;
			case 'J': o.json_file = optarg; break;
			case 'S': o.src = optarg; break;
			case 'D': o.dst = optarg; break;
			default: return cli_usage(NULL);
		}
	}
	if (optind < argc)
		return cli_usage("unexpected argument \"%s\"", argv[optind]);
	if (o.check_only && (o.dry_run || o.shift))
		return cli_usage("--check only checks DST; it takes no --dry-run or --shift");
	if (o.check_only && o.json_file)
		return cli_usage("--json-file keeps a copy of the sequences (or its --dry-run), not --check");
	pg_catch_interrupts();
	return o.check_only ? seq_check_only(&o) : seq_sync(&o);
}
