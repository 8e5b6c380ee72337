/*
 * The comparisons of migkit diff, run on both servers at the same time.
 *
 * Each of --jobs workers holds one connection to SRC and one to DST and
 * sends every query to both at once (libpq async, one poll loop over all
 * sockets), so both sides are read at the same moment and the work - counts
 * and hash sums - is done inside the servers.
 *
 * --count compares count(*) per table.  --checksum compares, per table,
 * the row count and the sum of a typed 64-bit hash of every row, first
 * over the whole table (one scan per side, which the servers may run in
 * parallel).  A keyed table that differs is split into key ranges of about
 * RANGE_ROWS rows (boundaries sampled from SRC) compared --jobs at a time;
 * a range that differs is re-checked after --delay up to --retries times,
 * since under live replication a difference may be lag; one that still
 * differs is bisected until it is small, and then its keys and row hashes
 * are fetched from both sides and matched, naming each row missing on DST,
 * extra on DST or changed.  A table without a key, and every table under
 * --count, is re-checked as a whole.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "pg.h"

#define RANGE_ROWS       50000 /* rows per first-level key range */
#define LEAF_ROWS        500   /* a range this small is fetched row by row */
#define SAMPLE_PER_RANGE 8     /* sampled keys per range wanted */
#define DIFF_MAX_ROWS    1000  /* rows listed per table */

typedef enum { TK_WHOLE, TK_RANGE, TK_SAMPLE, TK_MIDPOINT, TK_LEAF, TK_ONE_SIDE } task_kind;

typedef struct task {
	task_kind kind;
	diff_table *t;
	char **lo;          /* inclusive lower key bound, NULL: open */
	char **hi;          /* exclusive upper key bound, NULL: open */
	int initial;        /* index into t->range_rows, -1 below the first split */
	int attempt;        /* re-checks done */
	int side;           /* TK_MIDPOINT, TK_SAMPLE, TK_ONE_SIDE: the one side asked */
	long long count[2]; /* rows per side in the range, when known */
	char *pos;          /* position in the key space: sorts differences */
	double not_before;
	struct task *next;
} task;

typedef struct worker {
	PGconn *conn[2];
	task *task;
	bool busy[2];
	bool failed[2];
	PGresult *res[2];
	char *sql[2];
} worker;

typedef struct compare {
	diff_run *run;
	worker *workers; /* room for --jobs */
	int nworkers;    /* connected */
	task *queue;
	task *tail;
	bool lost;       /* a connection broke or would not open: stop */
	const char *why; /* the note for what was not compared */
} compare;

static char **
keys_dup(char **keys, int n)
{
	char **copy;
	int i;

	if (keys == NULL)
		return NULL;
	copy = xcalloc((size_t) n, sizeof(char *));
	for (i = 0; i < n; i++)
		copy[i] = xstrdup(keys[i]);
	return copy;
}

static char **
keys_from_row(const PGresult *res, int row, int n)
{
	char **keys = xcalloc((size_t) n, sizeof(char *));
	int i;

	for (i = 0; i < n; i++)
		keys[i] = xstrdup(PQgetvalue(res, row, i)); /* the key columns come first */
	return keys;
}

static void
keys_free(char **keys, int n)
{
	int i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

static task *
task_new(task_kind kind, diff_table *t, char **lo, char **hi, const char *pos)
{
	task *tk = xcalloc(1, sizeof(*tk));

	tk->kind = kind;
	tk->t = t;
	tk->lo = keys_dup(lo, t->nkeys);
	tk->hi = keys_dup(hi, t->nkeys);
	tk->initial = -1;
	tk->pos = xstrdup(pos ? pos : "");
	return tk;
}

static void
task_free(task *tk)
{
	keys_free(tk->lo, tk->t->nkeys);
	keys_free(tk->hi, tk->t->nkeys);
	free(tk->pos);
	free(tk);
}

/* Queues a task: at the back, or at the front so bisection goes deep first. */
static void
enqueue(compare *cmp, task *tk, bool front)
{
	tk->t->outstanding++;
	if (front) {
		tk->next = cmp->queue;
		cmp->queue = tk;
		if (cmp->tail == NULL)
			cmp->tail = tk;
		return;
	}
	tk->next = NULL;
	if (cmp->tail)
		cmp->tail->next = tk;
	else
		cmp->queue = tk;
	cmp->tail = tk;
}

/* The first task that may start now, taken off the queue. */
static task *
dequeue_due(compare *cmp, double now)
{
	task **p, *prev = NULL;

	for (p = &cmp->queue; *p; prev = *p, p = &(*p)->next) {
		if ((*p)->not_before <= now) {
			task *tk = *p;

			*p = tk->next;
			if (cmp->tail == tk)
				cmp->tail = prev;
			return tk;
		}
	}
	return NULL;
}

static void
table_sum_rows(diff_table *t)
{
	int i;

	if (t->range_rows == NULL)
		return;
	t->rows[SRC] = t->rows[DST] = 0;
	for (i = 0; i < t->nranges; i++) {
		t->rows[SRC] += t->range_rows[i][SRC];
		t->rows[DST] += t->range_rows[i][DST];
	}
	t->rows_known = true;
}

static int
diff_order(const void *a, const void *b)
{
	const row_diff *x = a, *y = b;
	int c = strcmp(x->pos, y->pos);

	return c ? c : x->seq - y->seq;
}

/* A table whose last task is done gets its verdict. */
static void
table_task_done(diff_table *t)
{
	if (--t->outstanding > 0)
		return;
	t->finished = now_seconds();
	if (t->status == TS_ERROR)
		t->rows_known = false;
	else
		table_sum_rows(t);
	if (t->ndiffs > 1)
		qsort(t->diffs, (size_t) t->ndiffs, sizeof(row_diff), diff_order);
	if (t->status != TS_PENDING)
		return;
	if (t->ndiffs > 0)
		t->status = TS_DIFFERENT;
	else {
		t->status = TS_EQUAL;
		if (t->rechecked && t->note == NULL)
			t->note = xstrdup("equal on re-check (the first difference was replication lag)");
	}
}

static void
table_fail(diff_table *t, const char *why)
{
	if (t->status == TS_ERROR)
		return;
	t->status = TS_ERROR;
	free(t->note);
	t->note = xstrdup(why);
}

static void
table_add_diff(diff_table *t, const char *kind, char **values, const char *pos)
{
	row_diff *d;

	if (t->ndiffs >= DIFF_MAX_ROWS) {
		t->truncated = true;
		keys_free(values, t->nkeys);
		return;
	}
	if (t->ndiffs == t->cap_diffs) {
		t->cap_diffs = t->cap_diffs ? t->cap_diffs * 2 : 16;
		t->diffs = xrealloc(t->diffs, (size_t) t->cap_diffs * sizeof(row_diff));
	}
	d = &t->diffs[t->ndiffs];
	d->kind = kind;
	d->values = values;
	d->pos = xstrdup(pos);
	d->seq = t->ndiffs++;
}

/* " where (k1, k2) >= ($1, $2) and (k1, k2) < ($3, $4)" for a task's range. */
static void
append_range(strbuf *sql, const task *tk, const char **params, int *np)
{
	const diff_table *t = tk->t;
	int k;

	if (tk->lo) {
		sb_printf(sql, " where (%s) >= (", t->key_list);
		for (k = 0; k < t->nkeys; k++) {
			params[*np] = tk->lo[k];
			sb_printf(sql, "%s$%d", k ? ", " : "", ++*np);
		}
		sb_append(sql, ")");
	}
	if (tk->hi) {
		sb_printf(sql, " %s (%s) < (", tk->lo ? "and" : "where", t->key_list);
		for (k = 0; k < t->nkeys; k++) {
			params[*np] = tk->hi[k];
			sb_printf(sql, "%s$%d", k ? ", " : "", ++*np);
		}
		sb_append(sql, ")");
	}
}

/*
 * The query a task sends to one side (NULL: that side is not asked), its
 * parameters in params (pointing into the task) and their number in *np.
 */
static char *
task_sql(const compare *cmp, const task *tk, int side, const char **params, int *np, char *numbuf,
		 size_t numlen)
{
	const diff_table *t = tk->t;
	strbuf sql;

	*np = 0;
	if ((tk->kind == TK_MIDPOINT || tk->kind == TK_SAMPLE || tk->kind == TK_ONE_SIDE) && side != tk->side)
		return NULL;
	sb_init(&sql);
	switch (tk->kind) {
		case TK_WHOLE:
			if (cmp->run->opt->mode == MODE_COUNT)
				sb_printf(&sql, "select count(*) as n, '' as h from %s", t->from[side]);
			else
				sb_printf(&sql, "select count(*) as n, coalesce(sum(%s), 0) as h from %s", t->hash_expr,
						  t->from[side]);
			break;
		case TK_RANGE:
			sb_printf(&sql, "select count(*) as n, coalesce(sum(%s), 0) as h from %s", t->hash_expr,
					  t->from[side]);
			append_range(&sql, tk, params, np);
			break;
		case TK_SAMPLE: {
			/* About SAMPLE_PER_RANGE keys per range wanted, from SRC. */
			long long rows = tk->count[SRC] > 0 ? tk->count[SRC] : tk->count[DST];
			long long ranges = (rows + RANGE_ROWS - 1) / RANGE_ROWS;
			double pct = rows > 0 ? 100.0 * (double) (ranges * SAMPLE_PER_RANGE) / (double) rows : 100;

			snprintf(numbuf, numlen, "%.6f", pct > 100 ? 100 : pct);
			params[(*np)++] = numbuf;
			sb_printf(&sql, "select %s from %s tablesample bernoulli ($1) order by %s", t->key_list,
					  t->from[side], t->key_list);
		} break;
		case TK_MIDPOINT:
			sb_printf(&sql, "select %s from %s", t->key_list, t->from[side]);
			append_range(&sql, tk, params, np);
			snprintf(numbuf, numlen, "%lld", tk->count[side] / 2);
			params[*np] = numbuf;
			sb_printf(&sql, " order by %s offset $%d limit 1", t->key_list, ++*np);
			break;
		case TK_ONE_SIDE: sb_printf(&sql, "select count(*) as n from %s", t->from[side]); break;
		case TK_LEAF:
			sb_printf(&sql, "select %s, %s from %s", t->key_list, t->hash_expr, t->from[side]);
			append_range(&sql, tk, params, np);
			sb_printf(&sql, " order by %s", t->key_list);
			break;
	}
	return sb_steal(&sql);
}

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
		w->sql[s] = task_sql(cmp, tk, s, params, &np, numbuf, sizeof(numbuf));
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

/* Compares the (count, hash sum) answers of both sides. */
static bool
answers_equal(PGresult *res[2], long long count[2])
{
	int s;

	for (s = 0; s < 2; s++)
		count[s] = pg_int(res[s], 0, pg_col(res[s], "n"));
	return count[SRC] == count[DST] && strcmp(pg_text(res[SRC], 0, pg_col(res[SRC], "h")),
											  pg_text(res[DST], 0, pg_col(res[DST], "h"))) == 0;
}

static void
retry_later(compare *cmp, task *tk)
{
	task *again = task_new(tk->kind, tk->t, tk->lo, tk->hi, tk->pos);

	again->initial = tk->initial;
	again->attempt = tk->attempt + 1;
	again->not_before = now_seconds() + cmp->run->opt->delay;
	enqueue(cmp, again, false);
}

/* A range that still differs after its re-checks: look closer. */
static void
narrow_down(compare *cmp, task *tk)
{
	diff_table *t = tk->t;
	task *next;

	if (t->truncated)
		return;
	if (tk->count[SRC] <= LEAF_ROWS && tk->count[DST] <= LEAF_ROWS) {
		next = task_new(TK_LEAF, t, tk->lo, tk->hi, tk->pos);
	} else {
		next = task_new(TK_MIDPOINT, t, tk->lo, tk->hi, tk->pos);
		next->side = tk->count[SRC] >= tk->count[DST] ? SRC : DST;
	}
	next->count[SRC] = tk->count[SRC];
	next->count[DST] = tk->count[DST];
	enqueue(cmp, next, true);
}

static void
done_whole(compare *cmp, task *tk, PGresult *res[2])
{
	diff_table *t = tk->t;
	long long count[2];
	bool equal = answers_equal(res, count);

	t->rows[SRC] = count[SRC];
	t->rows[DST] = count[DST];
	t->rows_known = true;
	if (equal) {
		if (tk->attempt > 0)
			t->rechecked = true;
		return;
	}
	if (tk->attempt < cmp->run->opt->retries) {
		retry_later(cmp, tk);
		return;
	}
	if (t->status == TS_PENDING)
		t->status = TS_DIFFERENT;
}

static void
done_range(compare *cmp, task *tk, PGresult *res[2])
{
	diff_table *t = tk->t;
	bool equal = answers_equal(res, tk->count);

	if (tk->initial >= 0) {
		t->range_rows[tk->initial][SRC] = tk->count[SRC];
		t->range_rows[tk->initial][DST] = tk->count[DST];
	}
	if (equal) {
		if (tk->attempt > 0)
			t->rechecked = true;
		return;
	}
	/* The whole of a big table differs: split it before re-checking. */
	if (!t->split && tk->lo == NULL && tk->hi == NULL &&
		(tk->count[SRC] > RANGE_ROWS || tk->count[DST] > RANGE_ROWS)) {
		task *sample = task_new(TK_SAMPLE, t, NULL, NULL, tk->pos);

		t->split = true;
		sample->side = tk->count[SRC] > 0 ? SRC : DST;
		sample->count[SRC] = tk->count[SRC];
		sample->count[DST] = tk->count[DST];
		enqueue(cmp, sample, true);
		return;
	}
	if (tk->attempt < cmp->run->opt->retries) {
		retry_later(cmp, tk);
		return;
	}
	narrow_down(cmp, tk);
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

/* Boundaries from the sampled keys: the table as first-level ranges. */
static void
done_sample(compare *cmp, task *tk, PGresult *res)
{
	diff_table *t = tk->t;
	long long rows = tk->count[SRC] > tk->count[DST] ? tk->count[SRC] : tk->count[DST];
	int wanted = (int) ((rows + RANGE_ROWS - 1) / RANGE_ROWS);
	int m = PQntuples(res), nb, i;
	char **prev = NULL;

	if (wanted < 1)
		wanted = 1;
	nb = m >= wanted ? wanted - 1 : m; /* boundaries */
	free(t->range_rows);
	t->nranges = nb + 1;
	t->range_rows = xcalloc((size_t) t->nranges, sizeof(*t->range_rows));
	for (i = 0; i <= nb; i++) {
		char **bound = NULL;
		char pos[16];
		task *r;

		if (i < nb)
			bound = keys_from_row(res, (int) ((long long) (i + 1) * m / (nb + 1)), t->nkeys);
		snprintf(pos, sizeof(pos), "%06d", i);
		r = task_new(TK_RANGE, t, prev, bound, pos);
		r->initial = i;
		enqueue(cmp, r, false);
		keys_free(prev, t->nkeys);
		prev = bound;
	}
	keys_free(prev, t->nkeys);
	if (nb > 0)
		add_workers(cmp);
}

static void
done_midpoint(compare *cmp, task *tk, PGresult *res)
{
	diff_table *t = tk->t;
	char **mid;
	char *pos;
	task *left, *right;

	if (PQntuples(res) == 0) {
		/* The rows moved away meanwhile: look at what is there now. */
		task *leaf = task_new(TK_LEAF, t, tk->lo, tk->hi, tk->pos);

		enqueue(cmp, leaf, true);
		return;
	}
	mid = keys_from_row(res, 0, t->nkeys);
	pos = xasprintf("%s0", tk->pos);
	left = task_new(TK_RANGE, t, tk->lo, mid, pos);
	pos[strlen(pos) - 1] = '1';
	right = task_new(TK_RANGE, t, mid, tk->hi, pos);
	left->attempt = right->attempt = cmp->run->opt->retries; /* re-checked already */
	enqueue(cmp, right, true);
	enqueue(cmp, left, true);
	free(pos);
	keys_free(mid, t->nkeys);
}

/* One side's rows of a leaf range, looked up by key. */
typedef struct leaf_row {
	char *key; /* key values, each length-prefixed */
	int row;
	bool seen;
} leaf_row;

static int
leaf_row_cmp(const void *a, const void *b)
{
	return strcmp(((const leaf_row *) a)->key, ((const leaf_row *) b)->key);
}

static char *
row_key(const PGresult *res, int row, int nkeys)
{
	strbuf sb;
	int k;

	sb_init(&sb);
	for (k = 0; k < nkeys; k++)
		sb_printf(&sb, "%d:%s|", PQgetlength(res, row, k), PQgetvalue(res, row, k));
	return sb_steal(&sb);
}

/* Matches both sides' keys and row hashes and lists what differs. */
static void
done_leaf(task *tk, PGresult *res[2])
{
	diff_table *t = tk->t;
	int nd = PQntuples(res[DST]), ns = PQntuples(res[SRC]), i;
	leaf_row *dst = xcalloc((size_t) (nd ? nd : 1), sizeof(leaf_row));

	for (i = 0; i < nd; i++) {
		dst[i].key = row_key(res[DST], i, t->nkeys);
		dst[i].row = i;
	}
	qsort(dst, (size_t) nd, sizeof(leaf_row), leaf_row_cmp);
	for (i = 0; i < ns; i++) {
		leaf_row probe, *hit;

		probe.key = row_key(res[SRC], i, t->nkeys);
		hit = nd ? bsearch(&probe, dst, (size_t) nd, sizeof(leaf_row), leaf_row_cmp) : NULL;
		if (hit == NULL)
			table_add_diff(t, "missing", keys_from_row(res[SRC], i, t->nkeys), tk->pos);
		else {
			hit->seen = true;
			if (strcmp(PQgetvalue(res[SRC], i, t->nkeys), PQgetvalue(res[DST], hit->row, t->nkeys)) != 0)
				table_add_diff(t, "changed", keys_from_row(res[SRC], i, t->nkeys), tk->pos);
		}
		free(probe.key);
	}
	/* Extra rows in DST's order. */
	for (i = 0; i < nd; i++) {
		leaf_row probe, *hit;

		probe.key = row_key(res[DST], i, t->nkeys);
		hit = bsearch(&probe, dst, (size_t) nd, sizeof(leaf_row), leaf_row_cmp);
		if (hit && !hit->seen)
			table_add_diff(t, "extra", keys_from_row(res[DST], i, t->nkeys), tk->pos);
		free(probe.key);
	}
	for (i = 0; i < nd; i++)
		free(dst[i].key);
	free(dst);
}

static void
worker_finish(compare *cmp, worker *w)
{
	task *tk = w->task;
	diff_table *t = tk->t;
	int s;

	for (s = 0; s < 2; s++)
		if (w->failed[s])
			table_fail(t, s == SRC ? "a query failed on SRC (see the error above)"
								   : "a query failed on DST (see the error above)");
	if (!w->failed[SRC] && !w->failed[DST] && t->status != TS_ERROR) {
		switch (tk->kind) {
			case TK_WHOLE: done_whole(cmp, tk, w->res); break;
			case TK_RANGE: done_range(cmp, tk, w->res); break;
			case TK_SAMPLE: done_sample(cmp, tk, w->res[tk->side]); break;
			case TK_MIDPOINT: done_midpoint(cmp, tk, w->res[tk->side]); break;
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
		   (tk->kind == TK_MIDPOINT || tk->kind == TK_LEAF || (tk->kind == TK_RANGE && tk->initial < 0));
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

/* When the next queued task may start (only re-checks wait); INFINITY when none is queued. */
static double
earliest_due(const compare *cmp, double now)
{
	const task *tk;
	double when = INFINITY;

	for (tk = cmp->queue; tk; tk = tk->next) {
		if (tk->not_before <= now)
			return now;
		if (tk->not_before < when)
			when = tk->not_before;
	}
	return when;
}

static bool
run_loop(compare *cmp)
{
	pg_pollitem *items = xcalloc((size_t) cmp->run->opt->jobs * 2, sizeof(pg_pollitem));
	int *item_worker = xcalloc((size_t) cmp->run->opt->jobs * 2, sizeof(int));

	while (!cmp->lost) {
		double now = now_seconds(), due;
		int i, s, n = 0, idle = 0, ready;

		for (i = 0; i < cmp->nworkers && !cmp->lost; i++) {
			worker *w = &cmp->workers[i];
			task *tk;

			while (w->task == NULL && (tk = dequeue_due(cmp, now)) != NULL) {
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
		due = idle > 0 ? earliest_due(cmp, now) : INFINITY;
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
			if (!items[i].ready)
				continue;
			if (worker_read(cmp, w, s) && !w->busy[SRC] && !w->busy[DST])
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

	while (cmp->queue) {
		task *tk = cmp->queue;

		cmp->queue = tk->next;
		table_fail(tk->t, cmp->why);
		task_free(tk);
	}
	cmp->tail = NULL;
	for (i = 0; i < cmp->nworkers; i++) {
		worker *w = &cmp->workers[i];

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
			tk = task_new(TK_ONE_SIDE, t, NULL, NULL, "");
			tk->side = t->side[SRC].present ? SRC : DST;
			enqueue(&cmp, tk, false);
			continue;
		}
		if (t->status != TS_PENDING && t->status != TS_NOT_REPLICATED)
			continue;
		if (run->opt->mode == MODE_CHECKSUM && t->nkeys > 0) {
			/* The whole key space is the first range. */
			tk = task_new(TK_RANGE, t, NULL, NULL, "000000");
			t->nranges = 1;
			t->range_rows = xcalloc(1, sizeof(*t->range_rows));
			tk->initial = 0;
		} else
			tk = task_new(TK_WHOLE, t, NULL, NULL, "");
		enqueue(&cmp, tk, false);
	}

	ok = run_loop(&cmp);
	if (!ok)
		abandon(&cmp);
	free(cmp.workers);
	return ok;
}
