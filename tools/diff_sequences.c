/*
 * The sequences migkit diff compares: both sides' (read by
 * sequences_read_sql) paired by name, each one equal, ahead or behind.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "pg.h"

/* Orders by schema, then name, bytewise. */
static int
name_cmp(const char *s1, const char *n1, const char *s2, const char *n2)
{
	int c = strcmp(s1, s2);

	return c ? c : strcmp(n1, n2);
}

static int
sequence_cmp(const void *a, const void *b)
{
	const diff_sequence *x = *(diff_sequence *const *) a, *y = *(diff_sequence *const *) b;

	return name_cmp(x->schema, x->name, y->schema, y->name);
}

/*
 * Equal when both sides hand out the same next value; ahead when DST's next
 * value lies past SRC's in the sequence's direction (as after copy-seq with
 * a shift: no key DST hands out can meet one from SRC); else behind: what
 * every used sequence is until copy-seq runs at cutover, so pending
 * (TS_PENDING) until SRC is fenced, and a difference after.
 */
static table_status
sequence_status(const diff_sequence *q, bool after_fence)
{
	long double next[2];
	int s;

	for (s = 0; s < 2; s++) {
		next[s] = strtold(q->last_value[s], NULL);
		if (q->is_called[s])
			next[s] += q->increment ? q->increment : 1;
	}
	if (next[DST] == next[SRC])
		return TS_EQUAL;
	if (q->increment < 0 ? next[DST] < next[SRC] : next[DST] > next[SRC])
		return TS_AHEAD;
	return after_fence ? TS_DIFFERENT : TS_PENDING;
}

/* Pairs up both sides' sequences (both sorted by name) and decides which are equal. */
void
diff_merge_sequences(diff_run *run, PGresult *res[2])
{
	int cap = 0, s, i, nsrc = 0;

	for (s = 0; s < 2; s++) {
		int n = PQntuples(res[s]);
		int c_nsp = pg_col(res[s], "nspname"), c_rel = pg_col(res[s], "relname"),
			c_qual = pg_col(res[s], "qualified");
		int c_picked = pg_col(res[s], "picked"), c_last = pg_col(res[s], "last_value");
		int c_called = pg_col(res[s], "is_called"), c_incr = pg_col(res[s], "increment");

		for (i = 0; i < n; i++) {
			diff_sequence *q = NULL;
			const char *schema = pg_text(res[s], i, c_nsp), *name = pg_text(res[s], i, c_rel);

			if (!pg_bool(res[s], i, c_picked))
				continue;
			if (s == DST) {
				diff_sequence key = {0}, *kp = &key, **hit;

				key.schema = (char *) schema;
				key.name = (char *) name;
				/* Among SRC's only: those only on DST are appended unsorted. */
				hit = nsrc ? bsearch(&kp, run->seqs, (size_t) nsrc, sizeof(diff_sequence *), sequence_cmp)
						   : NULL;
				q = hit ? *hit : NULL;
			}
			if (q == NULL) {
				q = xcalloc(1, sizeof(*q));
				q->schema = xstrdup(schema);
				q->name = xstrdup(name);
				q->display = pg_dup(res[s], i, c_qual);
				if (run->nseqs == cap) {
					cap = cap ? cap * 2 : 32;
					run->seqs = xrealloc(run->seqs, (size_t) cap * sizeof(diff_sequence *));
				}
				run->seqs[run->nseqs++] = q;
			}
			q->present[s] = true;
			q->last_value[s] = pg_dup(res[s], i, c_last);
			q->is_called[s] = pg_bool(res[s], i, c_called);
			if (s == SRC)
				q->increment = pg_int(res[s], i, c_incr);
		}
		/* SRC's, sorted, are what DST's are looked up in. */
		if (run->nseqs > 1)
			qsort(run->seqs, (size_t) run->nseqs, sizeof(diff_sequence *), sequence_cmp);
		if (s == SRC)
			nsrc = run->nseqs;
	}
	for (i = 0; i < run->nseqs; i++) {
		diff_sequence *q = run->seqs[i];

		if (!q->present[SRC] || !q->present[DST])
			q->status = TS_MISSING;
		else if (q->last_value[SRC] == NULL || q->last_value[DST] == NULL)
			q->status = TS_ERROR;
		else
			q->status = sequence_status(q, run->opt->after_fence);
	}
}
