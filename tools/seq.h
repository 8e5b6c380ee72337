/*
 * migkit seq, shared between its files: the sequences as each side has
 * them, the plan that pairs them and the value each gets on DST
 * (seq_plan.c), and the check of DST's column-owned sequences against
 * their columns (seq_check.c); cmd_seq.c reads both sides and applies.
 */
#ifndef MIGKIT_SEQ_H
#define MIGKIT_SEQ_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "output.h"
#include "util.h"

/* One sequence as read from one side. */
typedef struct seq_row {
	const char *oid;
	const char *nspname;
	const char *relname;
	const char *qualified;
	bool readable;
	bool writable;
	long long last_value;
	bool known; /* last_value read (DST: not when never called) */
	bool is_called;
	bool matched;        /* present on the other side too */
	long long increment; /* the bounds: DST's only (0 on SRC) */
	long long min;
	long long max;
} seq_row;

typedef struct seq_set {
	const char *side;
	PGresult *res; /* owns the strings of rows */
	seq_row *rows;
	int n;
} seq_set;

/* A sequence present on both sides and the value it gets on DST. */
typedef struct seq_item {
	const seq_row *src;
	const seq_row *dst;
	long long value;
	bool called;
} seq_item;

typedef struct seq_plan {
	seq_item *items;
	int nitems;
	const seq_row **src_only;
	int nsrc_only;
	const seq_row **dst_only;
	int ndst_only;
} seq_plan;

/* The result of the collision check, its columns by name. */
typedef struct seq_check {
	char *sql;
	PGresult *res;
	int checked;
	int collisions;
	int c_seq, c_table, c_column, c_asc, c_max, c_min, c_next, c_collides;
} seq_check;

/* seq_plan.c */
void seq_set_load(seq_set *set, const char *side, PGresult *res);
void seq_set_free(seq_set *set);
bool seq_require(const seq_set *set, bool (*ok)(const seq_row *), const char *what, const char *role,
				 const char *grant);
bool seq_row_readable(const seq_row *r);
bool seq_row_dst_readable(const seq_row *r);
bool seq_row_dst_settable(const seq_row *r);
bool seq_plan_build(seq_set *src, seq_set *dst, long shift, seq_plan *plan);
void seq_plan_free(seq_plan *plan);
void seq_plan_arrays(const seq_plan *plan, strbuf *oids, strbuf *values, strbuf *called);
bool seq_apply(PGconn *conn, const seq_plan *plan);
table *seq_plan_table(const seq_plan *plan);
void seq_plan_print(const seq_plan *plan, const table *t, bool dry_run, long shift, FILE *out);
void seq_plan_json(json *j, const seq_plan *plan, bool dry_run, long shift);

/* seq_check.c */
bool seq_check_send(PGconn *conn, const seq_plan *plan, seq_check *check);
bool seq_check_receive(PGconn *conn, seq_check *check);
void seq_check_free(seq_check *check);
void seq_check_print(const seq_check *check, bool planned, FILE *out);
void seq_check_json(json *j, const seq_check *check);

#endif
