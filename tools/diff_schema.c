/*
 * migkit diff --schema: have the migration's tables the same shape on both
 * sides?  Logical replication carries no DDL: a column added on SRC alone
 * stops DST's apply worker at the first row that has it, and a constraint
 * or index missing on DST goes unnoticed until the application needs it.
 * One query per side (kit/sql/schema.sql over the migration's tables)
 * gives a row per table, column, constraint and index with its
 * definition; the rows are paired by (table, kind, name) and every
 * difference is named.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "output.h"
#include "pg.h"
#include "quote.h"
#include "sql.h"

typedef struct shape_row {
	const char *schema;
	const char *name;
	const char *qualified; /* schema.name, each quoted as an identifier when it must be */
	const char *kind;      /* table, column, constraint, index */
	const char *item;      /* the column's, constraint's or index's name; "" for the table */
	const char *def;
} shape_row;

typedef struct shape_diff {
	char *table; /* schema.name, for display */
	const char *kind;
	const char *item;
	const char *def[2]; /* NULL: not on that side */
} shape_diff;

static int
row_cmp(const void *a, const void *b)
{
	const shape_row *x = a, *y = b;
	int c;

	if ((c = strcmp(x->schema, y->schema)) != 0 || (c = strcmp(x->name, y->name)) != 0 ||
		(c = strcmp(x->kind, y->kind)) != 0)
		return c;
	return strcmp(x->item, y->item);
}

static int
table_cmp(const shape_row *x, const shape_row *y)
{
	int c = strcmp(x->schema, y->schema);

	return c ? c : strcmp(x->name, y->name);
}

/* The side's rows, sorted bytewise (the servers may collate differently). */
static shape_row *
read_rows(PGresult *res, int *n)
{
	int i, c_schema = pg_col(res, "schema_name"), c_name = pg_col(res, "name"), c_kind = pg_col(res, "kind"),
		   c_item = pg_col(res, "item"), c_def = pg_col(res, "definition"), c_qual = pg_col(res, "qualified");
	shape_row *rows;

	*n = PQntuples(res);
	rows = xcalloc((size_t) *n + 1, sizeof(shape_row));
	for (i = 0; i < *n; i++) {
		rows[i].schema = PQgetvalue(res, i, c_schema);
		rows[i].name = PQgetvalue(res, i, c_name);
		rows[i].qualified = PQgetvalue(res, i, c_qual);
		rows[i].kind = PQgetvalue(res, i, c_kind);
		rows[i].item = PQgetvalue(res, i, c_item);
		rows[i].def = PQgetvalue(res, i, c_def);
	}
	qsort(rows, (size_t) *n, sizeof(shape_row), row_cmp);
	return rows;
}

/* Whether the table of row r is on the side whose rows are rows[0..n). */
static bool
has_table(const shape_row *rows, int n, const shape_row *r)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = table_cmp(r, &rows[mid]);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return false;
}

static char *
display_table(const shape_row *r)
{
	strbuf sb;

	sb_init(&sb);
	display_quote(&sb, r->qualified);
	return sb_steal(&sb);
}

static void
add_diff(shape_diff **list, int *n, const shape_row *r, const char *src_def, const char *dst_def)
{
	shape_diff *d;

	*list = xrealloc(*list, (size_t) (*n + 1) * sizeof(shape_diff));
	d = &(*list)[(*n)++];
	d->table = display_table(r);
	d->kind = r->kind;
	d->item = r->item;
	d->def[SRC] = src_def;
	d->def[DST] = dst_def;
}

/*
 * Pairs the sorted rows of both sides: a table on one side only is one
 * difference (its columns and indexes are not listed one by one); a row
 * on one side only, or with another definition, is one each.
 */
static int
pair_rows(shape_row *rows[2], const int n[2], shape_diff **diffs, int *ntables)
{
	int i = 0, j = 0, nd = 0;

	*ntables = 0;
	while (i < n[SRC] || j < n[DST]) {
		int c = i >= n[SRC] ? 1 : j >= n[DST] ? -1 : row_cmp(&rows[SRC][i], &rows[DST][j]);
		const shape_row *r = c <= 0 ? &rows[SRC][i] : &rows[DST][j];

		if (strcmp(r->kind, "table") == 0)
			(*ntables)++;
		if (c == 0) {
			if (strcmp(rows[SRC][i].def, rows[DST][j].def) != 0)
				add_diff(diffs, &nd, r, rows[SRC][i].def, rows[DST][j].def);
			i++;
			j++;
		} else if (c < 0) {
			if (strcmp(r->kind, "table") == 0 || has_table(rows[DST], n[DST], r))
				add_diff(diffs, &nd, r, r->def, NULL);
			i++;
		} else {
			if (strcmp(r->kind, "table") == 0 || has_table(rows[SRC], n[SRC], r))
				add_diff(diffs, &nd, r, NULL, r->def);
			j++;
		}
	}
	return nd;
}

static void
print_text(const shape_diff *diffs, int nd, int ntables)
{
	const char *red = out_style(stdout, "red"), *green = out_style(stdout, "green"),
			   *reset = out_style(stdout, "reset");
	int i;

	for (i = 0; i < nd; i++) {
		const shape_diff *d = &diffs[i];
		strbuf what;

		sb_init(&what);
		if (strcmp(d->kind, "table") != 0) {
			sb_printf(&what, "%s ", d->kind);
			display_quote(&what, d->item);
		}
		if (d->def[DST] == NULL || d->def[SRC] == NULL) {
			int side = d->def[DST] == NULL ? SRC : DST;

			printf("%s: %s%sonly on %s: ", d->table, what.data, *what.data ? " " : "", side_name[side]);
			sb_free(&what);
			sb_init(&what);
			display_quote(&what, d->def[side]);
			printf("%s\n", what.data);
		} else {
			strbuf a, b;

			sb_init(&a);
			sb_init(&b);
			display_quote(&a, d->def[SRC]);
			display_quote(&b, d->def[DST]);
			printf("%s: %s%son SRC: %s; on DST: %s\n", d->table, what.data, *what.data ? ", " : "", a.data,
				   b.data);
			sb_free(&a);
			sb_free(&b);
		}
		sb_free(&what);
	}
	if (nd == 0)
		printf("%sschema: equal%s: %d table%s alike on SRC and DST (columns, types, nullability, defaults, "
			   "constraints, indexes)\n",
			   green, reset, ntables, ntables == 1 ? "" : "s");
	else
		printf("%sschema: %d difference%s%s over %d table%s: logical replication carries no DDL; make both "
			   "sides alike (the same DDL on DST, or on SRC) before going on\n",
			   red, nd, nd == 1 ? "" : "s", reset, ntables, ntables == 1 ? "" : "s");
}

static void
print_json(const shape_diff *diffs, int nd, int ntables)
{
	json j;
	int i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "mode", "schema");
	json_string(&j, "result", nd ? "different" : "equal");
	json_int(&j, "tables", ntables);
	json_array_begin(&j, "differences");
	for (i = 0; i < nd; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "table", diffs[i].table);
		json_string(&j, "kind", diffs[i].kind);
		json_string(&j, "name", strcmp(diffs[i].kind, "table") == 0 ? NULL : diffs[i].item);
		json_string(&j, "src", diffs[i].def[SRC]);
		json_string(&j, "dst", diffs[i].def[DST]);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* kit/sql/schema.sql over the migration's tables picked by --table. */
static char *
shape_query(int version)
{
	static const char *const no_vars[] = {NULL};
	char *tables = sql_tables(version), *shape = sql_load("schema", version, no_vars), *q = NULL;

	if (tables && shape)
		q = xasprintf("with mig as (select t.oid, t.schema_name, t.name from (%s) t where t.picked)\n"
					  "select s.*, pg_catalog.format('%%I.%%I', s.schema_name, s.name) as qualified\n"
					  "  from (%s) s",
					  tables, shape);
	free(tables);
	free(shape);
	return q;
}

result_t
diff_schema(diff_run *run)
{
	static const char search_path_sql[] = "select pg_catalog.set_config('search_path', '', false)";
	const char *pick = run->opt->pick ? run->opt->pick : "[]";
	const char *params[] = {sql_include(), sql_exclude(), pick};
	PGresult *res[2] = {NULL, NULL};
	char *q[2] = {NULL, NULL};
	shape_row *rows[2] = {NULL, NULL};
	shape_diff *diffs = NULL;
	int n[2], s, nd = 0, ntables = 0;
	result_t r = RESULT_ERROR;

	for (s = 0; s < 2; s++) {
		PGconn *conn = run->conns[s][0];

		q[s] = shape_query(PQserverVersion(conn));
		if (q[s] == NULL || !pg_exec(conn, side_name[s], search_path_sql, 0, NULL) ||
			!pg_send(conn, side_name[s], q[s], 3, params))
			goto done;
	}
	for (s = 0; s < 2; s++)
		if ((res[s] = pg_receive(run->conns[s][0], side_name[s], q[s])) == NULL)
			goto done;
	for (s = 0; s < 2; s++)
		rows[s] = read_rows(res[s], &n[s]);
	nd = pair_rows(rows, n, &diffs, &ntables);
	if (run->opt->json)
		print_json(diffs, nd, ntables);
	else
		print_text(diffs, nd, ntables);
	r = nd ? RESULT_NEGATIVE : RESULT_OK;
done:
	for (s = 0; s < nd; s++)
		free(diffs[s].table);
	free(diffs);
	for (s = 0; s < 2; s++) {
		free(rows[s]);
		free(q[s]);
		PQclear(res[s]);
	}
	return r;
}
