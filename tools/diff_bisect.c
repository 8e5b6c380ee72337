/*
 * What migkit diff makes of a count-and-hash answer (diff_compare.c sends
 * the queries and reads the answers): equal, or re-checked after --delay
 * up to --retries times; a keyed table that still differs is cut into
 * first-level key ranges at keys sampled from one side, its NULL keys
 * apart, and a range that still differs is bisected at its middle key
 * until it is small enough for its rows to be matched.  A table without a
 * key, and every table under --count, is only re-checked whole.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff_task.h"
#include "pg.h"

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
retry_later(const diff_options *opt, task_queue *q, task *tk)
{
	task *again = task_like(tk->kind, tk, NULL);

	again->first = tk->first;
	again->attempt = tk->attempt + 1;
	again->not_before = now_seconds() + opt->delay;
	queue_push(q, again, false);
}

/*
 * The whole key space of a table is being cut up: its rows with a NULL in
 * their key, which no range holds, are compared on their own, counted in
 * the slot after the first-level ranges.
 */
static void
queue_null_keys(task_queue *q, diff_table *t)
{
	task *nulls = task_new(TK_RANGE, PART_NULLS, t, NULL, NULL, "~nulls");

	nulls->top = t->nranges;
	nulls->first = true;
	queue_push(q, nulls, false);
}

/* A range that still differs after its re-checks: look closer. */
static void
narrow_down(task_queue *q, task *tk)
{
	diff_table *t = tk->t;
	task *next;

	if (t->truncated)
		return;
	/* From here on this range is counted by what its parts count. */
	if (tk->first && tk->top >= 0) {
		t->range_rows[tk->top][SRC] = t->range_rows[tk->top][DST] = 0;
	}
	if (tk->part == PART_NULLS || (tk->count[SRC] <= LEAF_ROWS && tk->count[DST] <= LEAF_ROWS)) {
		next = task_like(TK_LEAF, tk, NULL);
	} else {
		next = task_like(TK_MIDPOINT, tk, NULL);
		next->side = tk->count[SRC] >= tk->count[DST] ? SRC : DST;
		if (tk->part == PART_ALL) {
			/* The whole table, bisected by its key: its NULL keys apart. */
			next->part = PART_KEYED;
			queue_null_keys(q, t);
		}
	}
	queue_push(q, next, true);
}

void
bisect_whole_done(const diff_options *opt, task_queue *q, task *tk, PGresult *res[2])
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
	if (tk->attempt < opt->retries) {
		retry_later(opt, q, tk);
		return;
	}
	if (t->status == TS_PENDING)
		t->status = TS_DIFFERENT;
}

void
bisect_range_done(const diff_options *opt, task_queue *q, task *tk, PGresult *res[2])
{
	diff_table *t = tk->t;
	bool equal = answers_equal(res, tk->count);

	if (tk->first && tk->top >= 0) {
		t->range_rows[tk->top][SRC] = tk->count[SRC];
		t->range_rows[tk->top][DST] = tk->count[DST];
	}
	if (equal) {
		if (tk->attempt > 0)
			t->rechecked = true;
		if (!tk->first)
			count_into_top(tk, tk->count);
		return;
	}
	/* The whole of a big table differs: split it before re-checking. */
	if (!t->split && tk->part == PART_ALL && (tk->count[SRC] > RANGE_ROWS || tk->count[DST] > RANGE_ROWS)) {
		task *sample = task_like(TK_SAMPLE, tk, NULL);

		t->split = true;
		sample->part = PART_KEYED;
		sample->side = tk->count[SRC] > 0 ? SRC : DST;
		queue_push(q, sample, true);
		return;
	}
	if (tk->attempt < opt->retries) {
		retry_later(opt, q, tk);
		return;
	}
	narrow_down(q, tk);
}

/* Boundaries from the sampled keys: the table as first-level ranges, and its NULL keys. */
bool
bisect_sample_done(task_queue *q, task *tk, PGresult *res)
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
	t->range_rows = xcalloc((size_t) t->nranges + 1, sizeof(*t->range_rows));
	for (i = 0; i <= nb; i++) {
		char **bound = NULL;
		char pos[16];
		task *r;

		if (i < nb)
			bound = keys_from_row(res, (int) ((long long) (i + 1) * m / (nb + 1)), t->nkeys);
		snprintf(pos, sizeof(pos), "%06d", i);
		r = task_new(TK_RANGE, PART_KEYED, t, prev, bound, pos);
		r->top = i;
		r->first = true;
		queue_push(q, r, false);
		keys_free(prev, t->nkeys);
		prev = bound;
	}
	keys_free(prev, t->nkeys);
	queue_null_keys(q, t);
	return nb > 0;
}

void
bisect_midpoint_done(const diff_options *opt, task_queue *q, task *tk, PGresult *res)
{
	diff_table *t = tk->t;
	char **mid;
	char *pos;
	task *left, *right;

	if (PQntuples(res) == 0) {
		/* The rows moved away meanwhile: look at what is there now. */
		queue_push(q, task_like(TK_LEAF, tk, NULL), true);
		return;
	}
	mid = keys_from_row(res, 0, t->nkeys);
	/*
	 * More than half of the range shares its lowest key (a key duplicated on
	 * DST, say), or the range is as deep as bisection should ever go: the
	 * halves would not be smaller, so its rows are compared as they are.
	 */
	if (keys_equal(mid, tk->lo, t->nkeys) || strlen(tk->pos) >= MAX_DEPTH) {
		keys_free(mid, t->nkeys);
		queue_push(q, task_like(TK_LEAF, tk, NULL), true);
		return;
	}
	pos = xasprintf("%s0", tk->pos);
	left = task_new(TK_RANGE, tk->part, t, tk->lo, mid, pos);
	pos[strlen(pos) - 1] = '1';
	right = task_new(TK_RANGE, tk->part, t, mid, tk->hi, pos);
	left->top = right->top = tk->top;
	left->attempt = right->attempt = opt->retries; /* re-checked already */
	queue_push(q, right, true);
	queue_push(q, left, true);
	free(pos);
	keys_free(mid, t->nkeys);
}
