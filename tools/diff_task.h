/*
 * The unit of work of migkit diff's comparison (diff_compare.c,
 * diff_bisect.c): a task asks both sides (or one) one question about a
 * part of a table's key space, and the queue the workers take tasks from.
 */
#ifndef MIGKIT_DIFF_TASK_H
#define MIGKIT_DIFF_TASK_H

#include "diff.h"

#define RANGE_ROWS       50000 /* rows per first-level key range */
#define LEAF_ROWS        500   /* a range this small is fetched row by row */
#define SAMPLE_PER_RANGE 8     /* sampled keys per range wanted */
#define DIFF_MAX_ROWS    1000  /* rows listed per table */
#define MAX_DEPTH        64    /* a task position this long is not bisected further */

typedef enum {
	TK_WHOLE,    /* count (and hash sum) of the whole table */
	TK_RANGE,    /* count and hash sum of a key range */
	TK_SAMPLE,   /* sampled keys, for the first-level ranges (one side) */
	TK_MIDPOINT, /* the key in the middle of a range (one side) */
	TK_LEAF,     /* every key and row hash of a range */
	TK_ONE_SIDE  /* count of a table one side lacks (one side) */
} task_kind;

/*
 * Which rows of the key range a task covers.  A key with a NULL in it lies
 * in no range (a row comparison with NULL is not true), so once a table's
 * key space is cut up, its rows with such a key are compared on their own.
 */
typedef enum {
	PART_ALL,   /* every row: only the whole table's first comparison */
	PART_KEYED, /* the rows whose key has no NULL */
	PART_NULLS  /* the rows whose key has a NULL */
} task_part;

typedef struct task {
	task_kind kind;
	task_part part;
	diff_table *t;
	char **lo;          /* inclusive lower key bound (a value may be NULL), NULL: open */
	char **hi;          /* exclusive upper key bound, NULL: open */
	int top;            /* the first-level range it is part of (t->range_rows), -1: none */
	bool first;         /* it is that first-level range itself */
	int attempt;        /* re-checks done */
	int side;           /* TK_MIDPOINT, TK_SAMPLE, TK_ONE_SIDE: the one side asked */
	long long count[2]; /* rows per side in the range, when known */
	char *pos;          /* position in the key space: sorts differences */
	double not_before;
	struct task *next;
} task;

typedef struct task_queue {
	task *head;
	task *tail;
} task_queue;

char **keys_dup(char **keys, int n);
/* The first n columns of a result row (a NULL value stays NULL). */
char **keys_from_row(const PGresult *res, int row, int n);
/* Whether two bounds are the same keys, as text (NULL, an open bound, only equals itself). */
bool keys_equal(char *const *a, char *const *b, int n);
void keys_free(char **keys, int n);

/* A task over [lo, hi) of t; its bounds are copied. */
task *task_new(task_kind kind, task_part part, diff_table *t, char **lo, char **hi, const char *pos);
/* A task over the same range and part as tk, with its counts. */
task *task_like(task_kind kind, const task *tk, const char *pos);
void task_free(task *tk);

/* At the back, or at the front so that bisection goes deep first; counts it against its table. */
void queue_push(task_queue *q, task *tk, bool front);
/* The first task that may start now, taken off the queue. */
task *queue_pop_due(task_queue *q, double now);
/* When the next queued task may start; INFINITY when none is queued. */
double queue_next_due(const task_queue *q, double now);

/* The table results tasks add up to. */
/* A table whose last task is done gets its verdict (tasks count down t->outstanding). */
void table_task_done(diff_table *t);
void table_fail(diff_table *t, const char *why);
/* Lists one row that differs (the values are taken over); ns, nd: rows per side with its key. */
void table_add_diff(diff_table *t, const char *kind, char **values, const char *pos, long long ns,
					long long nd);
/* Adds what a terminal task counted to the first-level range it belongs to. */
void count_into_top(const task *tk, const long long count[2]);

/*
 * The query a task sends to one side (NULL: that side is not asked), its
 * parameters in params (room for 2 * nkeys + 2, pointing into the task or
 * numbuf) and their number in *np.
 */
char *task_sql(diff_mode mode, const task *tk, int side, const char **params, int *np, char *numbuf,
			   size_t numlen);

/*
 * diff_bisect.c: what a task's answer leads to, the tasks it makes pushed
 * on q.  TK_WHOLE and TK_RANGE take both sides' (count, hash sum), and
 * TK_SAMPLE and TK_MIDPOINT the one side's keys asked for.
 */
void bisect_whole_done(const diff_options *opt, task_queue *q, task *tk, PGresult *res[2]);
void bisect_range_done(const diff_options *opt, task_queue *q, task *tk, PGresult *res[2]);
/* Cuts the table into first-level ranges; true when more than one, to compare in parallel. */
bool bisect_sample_done(task_queue *q, task *tk, PGresult *res);
void bisect_midpoint_done(const diff_options *opt, task_queue *q, task *tk, PGresult *res);

#endif
