/*
 * What the fast copy does, read from both catalogs: the migration's tables
 * on SRC inside the snapshot (kit/sql/copy-tables.sql), cut into chunks,
 * one COPY each: a heap larger than --split-size is read in ranges of
 * blocks (TID range scans, PostgreSQL 14 on) or of its integer primary key
 * (older servers), any other heap whole, a partitioned table leaf by leaf
 * into the table of the same name on DST, whatever DST's partitioning.
 * On DST: that every table is there, that a first run starts from empty
 * tables, the indexes and constraints to build after the data
 * (kit/sql/copy-deferred.sql), and the truncation of the tables a rerun
 * copies again.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "pg.h"
#include "quote.h"
#include "sql.h"
#include "util.h"

/* Statements per transaction when DST is changed table by table: a bounded number of locks. */
#define BATCH 50

static void
add_chunk(copy_plan *plan, copy_table *t, const char *heap, const char *where)
{
	copy_chunk *c = xcalloc(1, sizeof(*c));
	const char *cols = t->columns ? t->columns : "";

	c->table = t;
	c->sql_out = xasprintf("COPY (SELECT %s FROM ONLY %s%s%s) TO STDOUT", cols, heap, where ? " WHERE " : "",
						   where ? where : "");
	c->sql_in = *cols ? xasprintf("COPY %s (%s) FROM STDIN", t->name, cols)
					  : xasprintf("COPY %s FROM STDIN", t->name);
	plan->chunks = xrealloc(plan->chunks, (size_t) (plan->nchunks + 1) * sizeof(copy_chunk *));
	plan->chunks[plan->nchunks++] = c;
	t->nchunks++;
}

/* Ranges of blocks, the last one open: a heap that grew since its size was read is copied whole. */
static void
split_by_blocks(copy_plan *plan, copy_table *t, const char *heap, long long blocks, int n)
{
	long long step = (blocks + n - 1) / n;
	int i;

	for (i = 0; i < n; i++) {
		char *where;

		if (i == 0)
			where = xasprintf("ctid < '(%lld,0)'::pg_catalog.tid", step);
		else if (i == n - 1)
			where = xasprintf("ctid >= '(%lld,0)'::pg_catalog.tid", step * i);
		else
			where = xasprintf("ctid >= '(%lld,0)'::pg_catalog.tid AND ctid < '(%lld,0)'::pg_catalog.tid",
							  step * i, step * (i + 1));
		add_chunk(plan, t, heap, where);
		free(where);
	}
}

/* Ranges of an integer primary key between its least and greatest value, the first and last open. */
static bool
split_by_key(PGconn *src, copy_plan *plan, copy_table *t, const char *heap, const char *key, int n)
{
	char *sql = xasprintf("select min(%s)::text as lo, max(%s)::text as hi from ONLY %s", key, key, heap);
	PGresult *res = pg_query(src, "SRC", sql, 0, NULL);
	long long lo, hi, step;
	int i;

	free(sql);
	if (res == NULL)
		return false;
	if (pg_text(res, 0, 0) == NULL) {
		PQclear(res);
		add_chunk(plan, t, heap, NULL);
		return true;
	}
	lo = pg_int(res, 0, 0);
	hi = pg_int(res, 0, 1);
	PQclear(res);
	step = (hi - lo) / n + 1;
	for (i = 0; i < n; i++) {
		char *where;

		if (i == 0)
			where = xasprintf("%s < %lld", key, lo + step);
		else if (i == n - 1)
			where = xasprintf("%s >= %lld", key, lo + step * i);
		else
			where = xasprintf("%s >= %lld AND %s < %lld", key, lo + step * i, key, lo + step * (i + 1));
		add_chunk(plan, t, heap, where);
		free(where);
	}
	return true;
}

/* The tables on DST: missing ones are an error, but migkit.heartbeat, which is then left out. */
static bool
check_dst_tables(PGconn *dst, copy_state *st)
{
	static const char sql[] =
		"select n from pg_catalog.unnest($1::text[]) as n where pg_catalog.to_regclass(n) is null";
	strbuf names, missing;
	const char *params[1];
	PGresult *res;
	int i, nmissing = 0;

	sb_init(&names);
	array_begin(&names);
	for (i = 0; i < st->ntables; i++)
		array_add(&names, st->tables[i]->name);
	array_end(&names);
	params[0] = names.data;
	res = pg_query(dst, "DST", sql, 1, params);
	sb_free(&names);
	if (res == NULL)
		return false;
	sb_init(&missing);
	for (i = 0; i < PQntuples(res); i++) {
		const char *n = pg_text(res, i, 0);
		int k;

		if (strcmp(n, "migkit.heartbeat") == 0) {
			for (k = 0; k < st->ntables; k++)
				if (strcmp(st->tables[k]->name, n) == 0) {
					free(st->tables[k]->name);
					free(st->tables[k]->columns);
					free(st->tables[k]);
					st->tables[k] = st->tables[--st->ntables];
					break;
				}
			continue;
		}
		if (nmissing++ < 5)
			sb_printf(&missing, "%s%s", nmissing > 1 ? ", " : "", n);
	}
	PQclear(res);
	if (nmissing > 0)
		log_error(
			"DST lacks %d of the tables to copy (%s%s): create them on DST (./copy-schema) and run again",
			nmissing, missing.data, nmissing > 5 ? ", ..." : "");
	sb_free(&missing);
	return nmissing == 0;
}

bool
copy_plan_tables(PGconn *src, PGconn *dst, copy_state *st, const copy_options *opt, copy_plan *plan)
{
	int version = PQserverVersion(src);
	char *tables = sql_tables(version), *var, *sql;
	const char *params[3] = {sql_include(), sql_exclude(), "[]"};
	const char *vars[5] = {"include", "exclude", "pick", NULL, NULL};
	PGresult *res;
	int i, c_name, c_cols, c_heap, c_blocks, c_bytes, c_rows, c_key;
	bool ok = true;

	if (tables == NULL)
		return false;
	var = xasprintf("tables=%s", tables);
	vars[3] = var;
	sql = sql_load("copy-tables", version, vars);
	free(var);
	free(tables);
	if (sql == NULL)
		return false;
	res = pg_query(src, "SRC", sql, 3, params);
	free(sql);
	if (res == NULL)
		return false;
	c_name = pg_col(res, "qualified");
	c_cols = pg_col(res, "columns");
	c_heap = pg_col(res, "heap");
	c_blocks = pg_col(res, "blocks");
	c_bytes = pg_col(res, "bytes");
	c_rows = pg_col(res, "rows_estimate");
	c_key = pg_col(res, "int_key");

	/* The set first (sizes summed over heaps), then the chunks of what is left to copy. */
	for (i = 0; i < PQntuples(res); i++) {
		copy_table *t = copy_state_table(st, pg_text(res, i, c_name), true);

		if (t->columns == NULL) {
			t->columns = xstrdup(pg_text(res, i, c_cols) ? pg_text(res, i, c_cols) : "");
			if (!t->done) {
				t->size = 0;
				t->rows_estimate = 0;
				t->nchunks = 0;
			}
		}
		if (!t->done) {
			t->size += pg_int(res, i, c_bytes);
			t->rows_estimate += pg_int(res, i, c_rows);
		}
	}
	if (!check_dst_tables(dst, st)) {
		PQclear(res);
		return false;
	}
	for (i = 0; ok && i < PQntuples(res); i++) {
		copy_table *t = copy_state_table(st, pg_text(res, i, c_name), false);
		const char *heap = pg_text(res, i, c_heap), *key = pg_text(res, i, c_key);
		long long blocks = pg_int(res, i, c_blocks), block_bytes = 8192;
		int n;

		if (t == NULL || t->done || heap == NULL)
			continue;
		n = (int) ((blocks * block_bytes + opt->split_bytes - 1) / opt->split_bytes);
		/* A whole number of ranges per connection: the last round is as full as the others. */
		if (n > 1 && opt->jobs > 1)
			n = (n + opt->jobs - 1) / opt->jobs * opt->jobs;
		if (n <= 1)
			add_chunk(plan, t, heap, NULL);
		else if (version >= 140000)
			split_by_blocks(plan, t, heap, blocks, n);
		else if (key)
			ok = split_by_key(src, plan, t, heap, key, n);
		else
			add_chunk(plan, t, heap, NULL);
	}
	PQclear(res);
	/* A partitioned table without a leaf has nothing to copy. */
	for (i = 0; ok && i < st->ntables; i++)
		if (!st->tables[i]->done && st->tables[i]->nchunks == 0 && st->tables[i]->columns)
			st->tables[i]->done = true;
	return ok;
}

void
copy_plan_free(copy_plan *plan)
{
	int i;

	for (i = 0; i < plan->nchunks; i++) {
		free(plan->chunks[i]->sql_out);
		free(plan->chunks[i]->sql_in);
		free(plan->chunks[i]);
	}
	free(plan->chunks);
	plan->chunks = NULL;
	plan->nchunks = 0;
}

bool
copy_plan_deferred(PGconn *dst, copy_state *st)
{
	static const char *const vars[] = {"tables", NULL};
	char *sql = sql_load("copy-deferred", PQserverVersion(dst), vars);
	const char *params[1];
	strbuf names;
	PGresult *res;
	int i;

	if (sql == NULL)
		return false;
	sb_init(&names);
	sb_append_char(&names, '[');
	for (i = 0; i < st->ntables; i++) {
		if (i)
			sb_append_char(&names, ',');
		json_quote(&names, st->tables[i]->name);
	}
	sb_append_char(&names, ']');
	params[0] = names.data;
	res = pg_query(dst, "DST", sql, 1, params);
	sb_free(&names);
	free(sql);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++) {
		copy_deferred *d = xcalloc(1, sizeof(*d));

		d->step = (int) pg_int(res, i, pg_col(res, "step"));
		d->kind = pg_dup(res, i, pg_col(res, "kind"));
		d->table = pg_dup(res, i, pg_col(res, "table_name"));
		d->name = pg_dup(res, i, pg_col(res, "name"));
		d->drop_sql = pg_dup(res, i, pg_col(res, "drop_sql"));
		d->create_sql = pg_dup(res, i, pg_col(res, "create_sql"));
		st->deferred = xrealloc(st->deferred, (size_t) (st->ndeferred + 1) * sizeof(copy_deferred *));
		st->deferred[st->ndeferred++] = d;
	}
	PQclear(res);
	return true;
}

/*
 * Runs one statement per table not yet copied, BATCH of them to a
 * transaction; first (when not NULL) names the first table for which
 * query returns a row, when query is a "does it hold rows" test.
 */
static bool
each_table(PGconn *dst, copy_state *st, const char *fmt, bool test, char **first)
{
	strbuf sb;
	int i, n = 0;
	bool ok = true;

	sb_init(&sb);
	for (i = 0; ok && i <= st->ntables; i++) {
		if (i < st->ntables && !st->tables[i]->done) {
			if (test)
				sb_printf(&sb, "%sselect %d as i where exists (select from %s)", n ? " union all " : "", i,
						  st->tables[i]->name);
			else
				sb_printf(&sb, "%s%s", n ? ", " : fmt, st->tables[i]->name);
			n++;
		}
		if (n > 0 && (n == BATCH || i == st->ntables)) {
			PGresult *res = pg_query(dst, "DST", sb.data, 0, NULL);

			if (res == NULL)
				ok = false;
			else if (test && PQntuples(res) > 0 && *first == NULL)
				*first = xstrdup(st->tables[pg_int(res, 0, 0)]->name);
			PQclear(res);
			sb_reset(&sb);
			n = 0;
			if (test && *first)
				break;
		}
	}
	sb_free(&sb);
	return ok;
}

bool
copy_plan_check_empty(PGconn *dst, copy_state *st)
{
	char *first = NULL;

	if (!each_table(dst, st, NULL, true, &first))
		return false;
	if (first) {
		log_error("DST's table %s already holds rows: the fast copy starts from empty tables (run it into a "
				  "database copy-schema just created, or empty the tables); nothing was copied",
				  first);
		free(first);
		return false;
	}
	return true;
}

bool
copy_plan_truncate(PGconn *dst, copy_state *st)
{
	return each_table(dst, st, "truncate table ", false, NULL);
}
