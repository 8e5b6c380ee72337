/*
 * Tasks of migkit diff's comparison: their key bounds, the queue, the SQL
 * each one sends, and the table results they add up to (see diff_task.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff_task.h"
#include "pg.h"

char **
keys_dup(char **keys, int n)
{
	char **copy;
	int i;

	if (keys == NULL)
		return NULL;
	copy = xcalloc((size_t) n, sizeof(char *));
	for (i = 0; i < n; i++)
		copy[i] = keys[i] ? xstrdup(keys[i]) : NULL;
	return copy;
}

char **
keys_from_row(const PGresult *res, int row, int n)
{
	char **keys = xcalloc((size_t) n, sizeof(char *));
	int i;

	for (i = 0; i < n; i++)
		keys[i] = pg_dup(res, row, i); /* the key columns come first */
	return keys;
}

bool
keys_equal(char *const *a, char *const *b, int n)
{
	int i;

	if (a == NULL || b == NULL)
		return a == b;
	for (i = 0; i < n; i++)
		if ((a[i] == NULL) != (b[i] == NULL) || (a[i] && strcmp(a[i], b[i]) != 0))
			return false;
	return true;
}

void
keys_free(char **keys, int n)
{
	int i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

task *
task_new(task_kind kind, task_part part, diff_table *t, char **lo, char **hi, const char *pos)
{
	task *tk = xcalloc(1, sizeof(*tk));

	tk->kind = kind;
	tk->part = part;
	tk->t = t;
	tk->lo = keys_dup(lo, t->nkeys);
	tk->hi = keys_dup(hi, t->nkeys);
	tk->top = -1;
	tk->pos = xstrdup(pos ? pos : "");
	return tk;
}

task *
task_like(task_kind kind, const task *tk, const char *pos)
{
	task *n = task_new(kind, tk->part, tk->t, tk->lo, tk->hi, pos ? pos : tk->pos);

	n->top = tk->top;
	n->count[SRC] = tk->count[SRC];
	n->count[DST] = tk->count[DST];
	return n;
}

void
task_free(task *tk)
{
	keys_free(tk->lo, tk->t->nkeys);
	keys_free(tk->hi, tk->t->nkeys);
	free(tk->pos);
	free(tk);
}

void
queue_push(task_queue *q, task *tk, bool front)
{
	tk->t->outstanding++;
	if (front) {
		tk->next = q->head;
		q->head = tk;
		if (q->tail == NULL)
			q->tail = tk;
		return;
	}
	tk->next = NULL;
	if (q->tail)
		q->tail->next = tk;
	else
		q->head = tk;
	q->tail = tk;
}

task *
queue_pop_due(task_queue *q, double now)
{
	task **p, *prev = NULL;

	for (p = &q->head; *p; prev = *p, p = &(*p)->next) {
		if ((*p)->not_before <= now) {
			task *tk = *p;

			*p = tk->next;
			if (q->tail == tk)
				q->tail = prev;
			return tk;
		}
	}
	return NULL;
}

double
queue_next_due(const task_queue *q, double now)
{
	const task *tk;
	double when = INFINITY;

	for (tk = q->head; tk; tk = tk->next) {
		if (tk->not_before <= now)
			return now;
		if (tk->not_before < when)
			when = tk->not_before;
	}
	return when;
}

/* Appends "(k1) is null or (k2) is null ..." for t's key. */
static void
append_any_null(strbuf *sql, const diff_table *t)
{
	int k;

	for (k = 0; k < t->nkeys; k++)
		sb_printf(sql, "%s%s is null", k ? " or " : "", t->key_quoted[k]);
}

/*
 * " where (k1, k2) >= ($1, $2) and (k1, k2) < ($3, $4)" for a task's range,
 * with the condition of its part.
 */
static void
append_range(strbuf *sql, const task *tk, const char **params, int *np)
{
	const diff_table *t = tk->t;
	const char *glue = " where ";
	int k;

	if (tk->part == PART_NULLS) {
		sb_append(sql, " where (");
		append_any_null(sql, t);
		sb_append(sql, ")");
		return;
	}
	if (tk->lo) {
		sb_printf(sql, "%s(%s) >= (", glue, t->key_list);
		for (k = 0; k < t->nkeys; k++) {
			params[*np] = tk->lo[k];
			sb_printf(sql, "%s$%d", k ? ", " : "", ++*np);
		}
		sb_append(sql, ")");
		glue = " and ";
	}
	if (tk->hi) {
		sb_printf(sql, "%s(%s) < (", glue, t->key_list);
		for (k = 0; k < t->nkeys; k++) {
			params[*np] = tk->hi[k];
			sb_printf(sql, "%s$%d", k ? ", " : "", ++*np);
		}
		sb_append(sql, ")");
		glue = " and ";
	}
	/* A row comparison decided by its first column lets a NULL in a later one through. */
	if (tk->part == PART_KEYED && (t->nkeys > 1 || (tk->lo == NULL && tk->hi == NULL))) {
		sb_printf(sql, "%snot (", glue);
		append_any_null(sql, t);
		sb_append(sql, ")");
	}
}

char *
task_sql(diff_mode mode, const task *tk, int side, const char **params, int *np, char *numbuf, size_t numlen)
{
	const diff_table *t = tk->t;
	strbuf sql;

	*np = 0;
	if ((tk->kind == TK_MIDPOINT || tk->kind == TK_SAMPLE || tk->kind == TK_ONE_SIDE) && side != tk->side)
		return NULL;
	sb_init(&sql);
	switch (tk->kind) {
		case TK_WHOLE:
			if (mode == MODE_COUNT)
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
			/* About SAMPLE_PER_RANGE keys per range wanted. */
			long long rows = tk->count[side];
			long long ranges = (rows + RANGE_ROWS - 1) / RANGE_ROWS;
			double pct = rows > 0 ? 100.0 * (double) (ranges * SAMPLE_PER_RANGE) / (double) rows : 100;

			snprintf(numbuf, numlen, "%.6f", pct > 100 ? 100 : pct);
			params[(*np)++] = numbuf;
			sb_printf(&sql, "select %s from %s tablesample bernoulli ($1)", t->key_list, t->from[side]);
			sb_append(&sql, " where not (");
			append_any_null(&sql, t);
			sb_printf(&sql, ") order by %s", t->key_list);
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
			/* Rows with a NULL in their key cannot be cut into smaller ranges: as many as are listed. */
			if (tk->part == PART_NULLS)
				sb_printf(&sql, " limit %d", DIFF_MAX_ROWS + 1);
			break;
	}
	return sb_steal(&sql);
}

static void
table_sum_rows(diff_table *t)
{
	int i;

	if (t->range_rows == NULL)
		return;
	t->rows[SRC] = t->rows[DST] = 0;
	for (i = 0; i <= t->nranges; i++) {
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
void
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
	else if (t->rows_known && t->rows[SRC] != t->rows[DST]) {
		/* Never "equal" over unequal counts, even when no row could be named. */
		t->status = TS_DIFFERENT;
		t->note = xasprintf("%lld rows on SRC, %lld on DST, and no row could be named: compare again",
							t->rows[SRC], t->rows[DST]);
	} else {
		t->status = TS_EQUAL;
		if (t->rechecked && t->note == NULL)
			t->note = xstrdup("equal on re-check (the first difference was replication lag)");
	}
}

void
table_fail(diff_table *t, const char *why)
{
	if (t->status == TS_ERROR)
		return;
	t->status = TS_ERROR;
	free(t->note);
	t->note = xstrdup(why);
}

/* Lists one row that differs (the values are taken over). */
void
table_add_diff(diff_table *t, const char *kind, char **values, const char *pos, long long ns, long long nd)
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
	d->rows[SRC] = ns;
	d->rows[DST] = nd;
	d->pos = xstrdup(pos);
	d->seq = t->ndiffs++;
}

/* Adds what a terminal task counted to the first-level range it belongs to. */
void
count_into_top(const task *tk, const long long count[2])
{
	diff_table *t = tk->t;

	if (tk->top < 0 || t->range_rows == NULL)
		return;
	t->range_rows[tk->top][SRC] += count[SRC];
	t->range_rows[tk->top][DST] += count[DST];
}
