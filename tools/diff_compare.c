/*
 * The comparisons of migkit diff, run on both servers at the same time.
 *
 * Each of --jobs workers holds one connection to SRC and one to DST and
 * sends every query to both at once (pg_poll over all sockets), so both
 * sides are read at the same moment and the work - counts and hash sums -
 * is done inside the servers.
 *
 * --count compares count(*) per table.  --checksum compares, per table,
 * the row count and the sum of a typed 64-bit hash of every row, first
 * over the whole table (one scan per side, which the servers may run in
 * parallel).  A keyed table that differs is split into key ranges of about
 * RANGE_ROWS rows (boundaries sampled from SRC) compared --jobs at a time,
 * and the rows whose key has a NULL (they lie in no range) are compared on
 * their own; a range that differs is re-checked after --delay up to
 * --retries times, since under live replication a difference may be lag;
 * one that still differs is bisected until it is small, and then its keys
 * and row hashes are fetched from both sides and matched as multisets,
 * naming each row missing on DST, extra on DST, changed, or its key
 * duplicated.  A table without a key, and every table under --count, is
 * re-checked as a whole.  A table is equal only when every range agreed
 * and its row counts (summed over the ranges as last counted) are equal.
 *
 * This file holds the workers, the loop that feeds them, and the matching
 * of a leaf range's rows; what a count, a sample or a midpoint leads to,
 * the re-checks, the cut into ranges and the bisection, is diff_bisect.c's.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "diff_task.h"
#include "pg.h"
#include "sql.h"

typedef struct worker {
	PGconn *conn[2];
	task *task;
	bool sequences; /* reading both sides' sequences instead of a task */
	bool busy[2];
	bool failed[2];
	PGresult *res[2];
	char *sql[2];
} worker;

typedef struct compare {
	diff_run *run;
	worker *workers; /* room for --jobs */
	int nworkers;    /* connected */
	task_queue queue;
	bool lost;             /* a connection broke or would not open: stop */
	const char *why;       /* the note for what was not compared */
	bool seq_failed;       /* the sequences could not be read */
	const char *params[3]; /* the sequences query's: include, exclude, pick */
} compare;

static void
worker_start(compare *cmp, worker *w, task *tk)
{
	int s;

	w->task = tk;
	if (tk->t->started == 0)
		tk->t->started = now_seconds();
	for (s = 0; s < 2; s++) {
		/* Both bounds of the key, and an offset or a percentage. */
		const char **params = xcalloc((size_t) (2 * tk->t->nkeys + 2), sizeof(char *));
		char numbuf[64];
		int np;

		w->res[s] = NULL;
		w->failed[s] = false;
		w->busy[s] = false;
		w->sql[s] = task_sql(cmp->run->opt->mode, tk, s, params, &np, numbuf, sizeof(numbuf));
		if (w->sql[s] != NULL) {
			if (pg_send(w->conn[s], side_name[s], w->sql[s], np, params))
				w->busy[s] = true;
			else {
				w->failed[s] = true;
				if (PQstatus(w->conn[s]) == CONNECTION_BAD)
					cmp->lost = true;
			}
		}
		free(params);
	}
}

/*
 * Ranges to compare in parallel: the workers not connected yet connect now.
 * A connection that fails stops the run (its error is logged).
 */
static void
add_workers(compare *cmp)
{
	diff_run *run = cmp->run;
	int i;

	if (cmp->nworkers >= run->opt->jobs)
		return;
	if (!diff_pool_open(run, run->opt->jobs)) {
		cmp->lost = true;
		cmp->why = "not compared: more connections would not open (see the error above)";
		return;
	}
	for (i = cmp->nworkers; i < run->nconns; i++) {
		cmp->workers[i].conn[SRC] = run->conns[SRC][i];
		cmp->workers[i].conn[DST] = run->conns[DST][i];
	}
	cmp->nworkers = run->nconns;
}

/* One side's row of a leaf range: its key (each value length-prefixed, NULL marked) and hash. */
typedef struct leaf_row {
	char *key;
	const char *hash;
	int side;
	int row;
} leaf_row;

static int
leaf_row_cmp(const void *a, const void *b)
{
	const leaf_row *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	c = strcmp(x->hash, y->hash);
	return c ? c : x->side - y->side;
}

static char *
row_key(const PGresult *res, int row, int nkeys)
{
	strbuf sb;
	int k;

	sb_init(&sb);
	for (k = 0; k < nkeys; k++) {
		if (PQgetisnull(res, row, k))
			sb_append(&sb, "N|");
		else
			sb_printf(&sb, "%d:%s|", PQgetlength(res, row, k), PQgetvalue(res, row, k));
	}
	return sb_steal(&sb);
}

/*
 * One key's rows on both sides (rows[from..to), sorted by hash): missing or
 * extra when one side lacks the key, changed when each side has one row and
 * they differ, duplicated when a side has more rows than the other or the
 * same number with other contents.
 */
static void
match_key(diff_table *t, const task *tk, PGresult *res[2], const leaf_row *rows, int from, int to)
{
	long long n[2] = {0, 0};
	int i, first[2] = {-1, -1};
	bool same = true;

	for (i = from; i < to; i++) {
		if (first[rows[i].side] < 0)
			first[rows[i].side] = i;
		n[rows[i].side]++;
	}
	if (n[SRC] == n[DST]) {
		/* The same multiset of hashes on both sides: each side's, in sorted order, pairwise equal. */
		int j = from, k = from;

		for (i = 0; i < n[SRC] && same; i++) {
			while (rows[j].side != SRC)
				j++;
			while (rows[k].side != DST)
				k++;
			same = strcmp(rows[j++].hash, rows[k++].hash) == 0;
		}
		if (same)
			return;
	}
	if (n[DST] == 0)
		table_add_diff(t, "missing", keys_from_row(res[SRC], rows[first[SRC]].row, t->nkeys), tk->pos, n[SRC],
					   0);
	else if (n[SRC] == 0)
		table_add_diff(t, n[DST] > 1 ? "duplicated" : "extra",
					   keys_from_row(res[DST], rows[first[DST]].row, t->nkeys), tk->pos, 0, n[DST]);
	else if (n[SRC] == 1 && n[DST] == 1)
		table_add_diff(t, "changed", keys_from_row(res[SRC], rows[first[SRC]].row, t->nkeys), tk->pos, 1, 1);
	else
		table_add_diff(t, "duplicated", keys_from_row(res[DST], rows[first[DST]].row, t->nkeys), tk->pos,
					   n[SRC], n[DST]);
}

/* Matches both sides' keys and row hashes as multisets and lists what differs. */
static void
done_leaf(task *tk, PGresult *res[2])
{
	diff_table *t = tk->t;
	int n[2] = {PQntuples(res[SRC]), PQntuples(res[DST])}, total = n[SRC] + n[DST], s, i, k = 0, start;
	leaf_row *rows = xcalloc((size_t) total + 1, sizeof(leaf_row));
	long long count[2] = {n[SRC], n[DST]};

	for (s = 0; s < 2; s++)
		for (i = 0; i < n[s]; i++, k++) {
			rows[k].key = row_key(res[s], i, t->nkeys);
			rows[k].hash = PQgetvalue(res[s], i, t->nkeys);
			rows[k].side = s;
			rows[k].row = i;
		}
	qsort(rows, (size_t) total, sizeof(leaf_row), leaf_row_cmp);
	for (start = 0; start < total;) {
		int end = start + 1;

		while (end < total && strcmp(rows[end].key, rows[start].key) == 0)
			end++;
		match_key(t, tk, res, rows, start, end);
		start = end;
	}
	if (tk->part == PART_NULLS && (n[SRC] > DIFF_MAX_ROWS || n[DST] > DIFF_MAX_ROWS))
		t->truncated = true;
	else
		count_into_top(tk, count);
	for (i = 0; i < total; i++)
		free(rows[i].key);
	free(rows);
}

/*
 * Worker w's first job: both sides' sequences, read while the other
 * workers take the tables' first queries.
 */
static void
sequences_start(compare *cmp, worker *w)
{
	char *sql[2];
	int s;

	diff_sequences_sql(cmp->run, sql);
	w->sequences = true;
	for (s = 0; s < 2; s++) {
		w->res[s] = NULL;
		w->busy[s] = false;
		w->failed[s] = true;
		w->sql[s] = sql[s];
	}
	for (s = 0; s < 2; s++) {
		if (w->sql[s] == NULL)
			continue;
		if (pg_send(w->conn[s], side_name[s], w->sql[s], 3, cmp->params)) {
			w->busy[s] = true;
			w->failed[s] = false;
		} else if (PQstatus(w->conn[s]) == CONNECTION_BAD)
			cmp->lost = true;
	}
}

static void
sequences_finish(compare *cmp, worker *w)
{
	int s;

	if (w->failed[SRC] || w->failed[DST])
		cmp->seq_failed = true;
	else
		diff_merge_sequences(cmp->run, w->res);
	for (s = 0; s < 2; s++) {
		PQclear(w->res[s]);
		w->res[s] = NULL;
		free(w->sql[s]);
		w->sql[s] = NULL;
	}
	w->sequences = false;
}

static void
worker_finish(compare *cmp, worker *w)
{
	task *tk = w->task;
	diff_table *t;
	int s;

	if (w->sequences) {
		sequences_finish(cmp, w);
		return;
	}
	t = tk->t;

	for (s = 0; s < 2; s++)
		if (w->failed[s])
			table_fail(t, s == SRC ? "a query failed on SRC (see the error above)"
								   : "a query failed on DST (see the error above)");
	if (!w->failed[SRC] && !w->failed[DST] && t->status != TS_ERROR) {
		switch (tk->kind) {
			case TK_WHOLE: bisect_whole_done(cmp->run->opt, &cmp->queue, tk, w->res); break;
			case TK_RANGE: bisect_range_done(cmp->run->opt, &cmp->queue, tk, w->res); break;
			case TK_SAMPLE:
				if (bisect_sample_done(&cmp->queue, tk, w->res[tk->side]))
					add_workers(cmp); /* the table is cut up: compare its ranges in parallel */
				break;
			case TK_MIDPOINT: bisect_midpoint_done(cmp->run->opt, &cmp->queue, tk, w->res[tk->side]); break;
			case TK_LEAF: done_leaf(tk, w->res); break;
			case TK_ONE_SIDE:
				t->rows[tk->side] = pg_int(w->res[tk->side], 0, pg_col(w->res[tk->side], "n"));
				t->rows_known = true;
				break;
		}
	}
	for (s = 0; s < 2; s++) {
		PQclear(w->res[s]);
		w->res[s] = NULL;
		free(w->sql[s]);
		w->sql[s] = NULL;
	}
	w->task = NULL;
	task_free(tk);
	table_task_done(t);
}

/* A task not worth running any more: its table failed or has enough rows listed. */
static bool
task_moot(const task *tk)
{
	if (tk->t->status == TS_ERROR)
		return true;
	/* First-level ranges still count the rows; bisection can stop. */
	return tk->t->truncated &&
		   (tk->kind == TK_MIDPOINT || tk->kind == TK_LEAF || (tk->kind == TK_RANGE && !tk->first));
}

/* Reads what arrived on one connection; true when its answer is complete. */
static bool
worker_read(compare *cmp, worker *w, int s)
{
	if (!PQconsumeInput(w->conn[s])) {
		log_error("lost the connection to %s: %s", side_name[s], pg_error_line(w->conn[s]));
		cmp->lost = true;
		return false;
	}
	if (PQisBusy(w->conn[s]))
		return false;
	w->res[s] = pg_receive(w->conn[s], side_name[s], w->sql[s]);
	if (w->res[s] == NULL) {
		w->failed[s] = true;
		if (PQstatus(w->conn[s]) == CONNECTION_BAD)
			cmp->lost = true;
	}
	w->busy[s] = false;
	return true;
}

/* Gives each idle worker a task that may start now; returns how many workers stay idle. */
static int
start_tasks(compare *cmp, double now)
{
	int i, idle = 0;

	for (i = 0; i < cmp->nworkers && !cmp->lost; i++) {
		worker *w = &cmp->workers[i];
		task *tk;

		if (w->sequences)
			continue;
		while (w->task == NULL && (tk = queue_pop_due(&cmp->queue, now)) != NULL) {
			if (task_moot(tk)) {
				diff_table *t = tk->t;

				task_free(tk);
				table_task_done(t);
				continue;
			}
			worker_start(cmp, w, tk);
			if (!w->busy[SRC] && !w->busy[DST])
				worker_finish(cmp, w);
		}
		if (w->task == NULL)
			idle++;
	}
	return idle;
}

static bool
run_loop(compare *cmp)
{
	pg_pollitem *items = xcalloc((size_t) cmp->run->opt->jobs * 2, sizeof(pg_pollitem));
	int *item_worker = xcalloc((size_t) cmp->run->opt->jobs * 2, sizeof(int));

	while (!cmp->lost) {
		double now = now_seconds(), due;
		int i, s, n = 0, idle = start_tasks(cmp, now), ready;

		if (cmp->lost)
			break;
		for (i = 0; i < cmp->nworkers; i++)
			for (s = 0; s < 2; s++)
				if (cmp->workers[i].busy[s]) {
					items[n].conn = cmp->workers[i].conn[s];
					items[n].write = false;
					item_worker[n++] = i * 2 + s;
				}
		/* Only with a worker idle does a queued re-check's time matter. */
		due = idle > 0 ? queue_next_due(&cmp->queue, now) : INFINITY;
		if (n == 0 && due == INFINITY)
			break; /* nothing running, nothing queued */
		ready = pg_poll(items, n, due == INFINITY ? -1 : fmax(0, due - now));
		if (ready < 0) {
			cmp->lost = true;
			cmp->why = "not compared: interrupted";
			break;
		}
		for (i = 0; i < n; i++) {
			worker *w = &cmp->workers[item_worker[i] / 2];

			s = item_worker[i] % 2;
			if (items[i].ready && worker_read(cmp, w, s) && !w->busy[SRC] && !w->busy[DST])
				worker_finish(cmp, w);
		}
	}
	free(items);
	free(item_worker);
	return !cmp->lost;
}

/* Drops what is left after a lost connection. */
static void
abandon(compare *cmp)
{
	int i, s;
	task *tk;

	while ((tk = cmp->queue.head) != NULL) {
		cmp->queue.head = tk->next;
		table_fail(tk->t, cmp->why);
		task_free(tk);
	}
	cmp->queue.tail = NULL;
	for (i = 0; i < cmp->nworkers; i++) {
		worker *w = &cmp->workers[i];

		if (w->sequences) {
			w->failed[SRC] = true;
			sequences_finish(cmp, w);
			continue;
		}
		if (w->task == NULL)
			continue;
		table_fail(w->task->t, cmp->why);
		for (s = 0; s < 2; s++) {
			PQclear(w->res[s]);
			free(w->sql[s]);
		}
		task_free(w->task);
		w->task = NULL;
	}
}

bool
diff_compare_tables(diff_run *run)
{
	compare cmp;
	int i;
	bool ok;

	memset(&cmp, 0, sizeof(cmp));
	cmp.run = run;
	cmp.params[0] = sql_include();
	cmp.params[1] = sql_exclude();
	cmp.params[2] = run->opt->pick ? run->opt->pick : "[]";
	cmp.why = "not compared: a connection was lost (see the error above)";
	cmp.nworkers = run->nconns;
	cmp.workers = xcalloc((size_t) run->opt->jobs, sizeof(worker));
	for (i = 0; i < cmp.nworkers; i++) {
		cmp.workers[i].conn[SRC] = run->conns[SRC][i];
		cmp.workers[i].conn[DST] = run->conns[DST][i];
	}

	for (i = 0; i < run->ntables; i++) {
		diff_table *t = run->tables[i];
		task *tk;

		if (t->status == TS_MISSING) {
			/* Count what the one side has, for the report. */
			tk = task_new(TK_ONE_SIDE, PART_ALL, t, NULL, NULL, "");
			tk->side = t->side[SRC].present ? SRC : DST;
			queue_push(&cmp.queue, tk, false);
			continue;
		}
		if (t->status != TS_PENDING && t->status != TS_NOT_REPLICATED)
			continue;
		if (run->opt->mode == MODE_CHECKSUM && t->nkeys > 0) {
			/* The whole table is the first range; its slot 1 is for the NULL keys, once cut up. */
			tk = task_new(TK_RANGE, PART_ALL, t, NULL, NULL, "000000");
			t->nranges = 1;
			t->range_rows = xcalloc(2, sizeof(*t->range_rows));
			tk->top = 0;
			tk->first = true;
		} else
			tk = task_new(TK_WHOLE, PART_ALL, t, NULL, NULL, "");
		queue_push(&cmp.queue, tk, false);
	}

	/* The sequences first, on the first worker; the tables on the others, then on it too. */
	if (cmp.nworkers > 0)
		sequences_start(&cmp, &cmp.workers[0]);
	if (cmp.workers[0].sequences && !cmp.workers[0].busy[SRC] && !cmp.workers[0].busy[DST])
		sequences_finish(&cmp, &cmp.workers[0]);

	ok = run_loop(&cmp);
	if (!ok)
		abandon(&cmp);
	free(cmp.workers);
	if (cmp.seq_failed)
		run->seq_failed = true;
	return ok && !cmp.seq_failed;
}
