/*
 * The check after migkit seq (and migkit seq --check): every sequence
 * owned by an integer column of DST, its next value against the column's
 * values, in one query.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "pg.h"
#include "quote.h"
#include "seq.h"
#include "sequences.h"
#include "util.h"

/*
 * For every sequence owned by an integer column (serial: pg_depend 'a',
 * identity: 'i'), its next value on DST against the column's max (min for
 * a descending sequence), all in one query: for each one a generated
 * SELECT, run through query_to_xml(), reads the column's max and min and
 * the sequence itself.  $4/$5/$6 (oids, values, is_called) replace the
 * current value of a sequence with a planned one, so that a dry run checks
 * the plan ($1 to $3 are the patterns of kit/sql/relations.sql).  The text
 * follows sequences_with_relations(); %s is where MATERIALIZED goes.  The
 * owned sequences are found from the database's sequences (rel), joined:
 * as a filter ("in (select oid from rel)") under the planner's estimate
 * of one owned sequence, rel was scanned again for each of them.
 */
static const char seq_check_body[] =
	", o as %s(\n"
	"  select r.oid, r.schema_name as nspname, r.name as relname, tn.nspname as tnsp, t.relname as tname,\n"
	"         a.attname, q.seqincrement, p.value as pvalue, p.called as pcalled\n"
	"    from rel r\n"
	"    join pg_catalog.pg_depend d on d.objid = r.oid\n"
	"    join pg_catalog.pg_sequence q on q.seqrelid = r.oid\n"
	"    join pg_catalog.pg_class t on t.oid = d.refobjid\n"
	"    join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace\n"
	"    join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid and not a.attisdropped\n"
	"    join pg_catalog.pg_type ty on ty.oid = a.atttypid\n"
	"    left join rows from (pg_catalog.unnest($4::pg_catalog.oid[]), pg_catalog.unnest($5::pg_catalog.int8[]),\n"
	"                         pg_catalog.unnest($6::pg_catalog.bool[])) as p(oid, value, called) on p.oid = r.oid\n"
	"   where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass\n"
	"     and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass\n"
	"     and d.deptype in ('a', 'i') and d.refobjsubid > 0\n"
	"     and case when ty.typtype = 'd' then ty.typbasetype else ty.oid end in\n"
	"         ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype,\n"
	"          'pg_catalog.int8'::pg_catalog.regtype, 'pg_catalog.numeric'::pg_catalog.regtype)\n"
	"), x as %s(\n"
	"  select o.*, pg_catalog.query_to_xml(pg_catalog.format(\n"
	"           'select (select max(%%1$I) from %%2$I.%%3$I)::text as mx, (select min(%%1$I) from %%2$I.%%3$I)::text as mn,'\n"
	"           ' last_value as v, is_called as c from %%4$I.%%5$I',\n"
	"           o.attname, o.tnsp, o.tname, o.nspname, o.relname), false, true, '') as tx\n"
	"    from o\n"
	"), v as (\n"
	"  select x.*,\n"
	"         case when x.pvalue is not null\n"
	"                then x.pvalue::pg_catalog.numeric + case when x.pcalled then x.seqincrement else 0 end\n"
	"              else ((pg_catalog.xpath('/row/v/text()', x.tx))[1])::text::pg_catalog.numeric\n"
	"                   + case when ((pg_catalog.xpath('/row/c/text()', x.tx))[1])::text::bool\n"
	"                          then x.seqincrement else 0 end end as next_value,\n"
	"         ((pg_catalog.xpath('/row/mx/text()', x.tx))[1])::text::pg_catalog.numeric as col_max,\n"
	"         ((pg_catalog.xpath('/row/mn/text()', x.tx))[1])::text::pg_catalog.numeric as col_min\n"
	"    from x\n"
	")\n"
	"select pg_catalog.format('%%I.%%I', nspname, relname) as sequence,\n"
	"       pg_catalog.format('%%I.%%I', tnsp, tname) as \"table\", attname as \"column\",\n"
	"       seqincrement > 0 as ascending, col_max::text as column_max, col_min::text as column_min,\n"
	"       next_value::text,\n"
	"       coalesce(case when seqincrement > 0 then next_value <= col_max else next_value >= col_min end, false)\n"
	"         as collides\n"
	"  from v\n"
	" order by 1, 2, 3";

/* The check's query for DST's server (see seq_check_body); caller frees. */
static char *
seq_check_sql(PGconn *conn)
{
	int v = PQserverVersion(conn);
	char *with = sequences_with_relations(v), *body, *sql;

	if (with == NULL)
		return NULL;
	body = xasprintf(seq_check_body, sequences_materialized(v), sequences_materialized(v));
	sql = xasprintf("%s%s", with, body);
	free(with);
	free(body);
	return sql;
}

/* Sends the check to DST; with a plan, against the planned values. */
bool
seq_check_send(PGconn *conn, const seq_plan *plan, seq_check *check)
{
	strbuf oids, values, called;
	const char *params[6] = {
		sequences_no_patterns[0], sequences_no_patterns[1], sequences_no_patterns[2], "{}", "{}", "{}"};
	bool sent;

	memset(check, 0, sizeof(*check));
	check->sql = seq_check_sql(conn);
	if (check->sql == NULL)
		return false;
	if (plan) {
		seq_plan_arrays(plan, &oids, &values, &called);
		params[3] = oids.data;
		params[4] = values.data;
		params[5] = called.data;
	}
	sent = pg_send(conn, "DST", check->sql, 6, params);
	if (plan) {
		sb_free(&oids);
		sb_free(&values);
		sb_free(&called);
	}
	return sent;
}

/* Collects the check sent by seq_check_send. */
bool
seq_check_receive(PGconn *conn, seq_check *check)
{
	PGresult *r;
	int i;

	check->res = r = pg_receive(conn, "DST", check->sql);
	if (r == NULL)
		return false;
	check->c_seq = pg_col(r, "sequence");
	check->c_table = pg_col(r, "table");
	check->c_column = pg_col(r, "column");
	check->c_asc = pg_col(r, "ascending");
	check->c_max = pg_col(r, "column_max");
	check->c_min = pg_col(r, "column_min");
	check->c_next = pg_col(r, "next_value");
	check->c_collides = pg_col(r, "collides");
	check->checked = PQntuples(r);
	for (i = 0; i < check->checked; i++)
		if (pg_bool(r, i, check->c_collides))
			check->collisions++;
	return true;
}

void
seq_check_free(seq_check *check)
{
	PQclear(check->res);
	free(check->sql);
	memset(check, 0, sizeof(*check));
}

static const char *
or_none(const char *s)
{
	return s ? s : "none (empty table)";
}

void
seq_check_print(const seq_check *check, bool planned, FILE *out)
{
	int i;

	for (i = 0; i < check->checked; i++) {
		const PGresult *r = check->res;
		bool asc = pg_bool(r, i, check->c_asc);
		char *seq, *tab, *col;

		if (!pg_bool(r, i, check->c_collides))
			continue;
		seq = display_text(pg_text(r, i, check->c_seq));
		tab = display_text(pg_text(r, i, check->c_table));
		col = display_text(pg_text(r, i, check->c_column));
		fprintf(out, "%sCOLLISION:%s %s feeds %s.%s: %s(%s) is %s on DST, but its next value %s %s\n",
				out_style(out, "red"), out_style(out, "reset"), seq, tab, col, asc ? "max" : "min", col,
				or_none(pg_text(r, i, asc ? check->c_max : check->c_min)), planned ? "would be" : "is",
				pg_text(r, i, check->c_next));
		free(seq);
		free(tab);
		free(col);
	}
	if (check->collisions == 0)
		fprintf(
			out,
			"%sok:%s %d column-owned sequence%s checked on DST: every next value %s beyond its column's values\n",
			out_style(out, "green"), out_style(out, "reset"), check->checked, check->checked == 1 ? "" : "s",
			planned ? "would be" : "is");
	else
		fprintf(out,
				"%d of %d column-owned sequence%s on DST would hand out a value its column already holds%s\n",
				check->collisions, check->checked, check->checked == 1 ? "" : "s",
				planned ? " after this plan" : "");
}

void
seq_check_json(json *j, const seq_check *check)
{
	int i;

	json_object_begin(j, "check");
	json_int(j, "checked", check->checked);
	json_bool(j, "ok", check->collisions == 0);
	json_array_begin(j, "collisions");
	for (i = 0; i < check->checked; i++) {
		const PGresult *r = check->res;

		if (!pg_bool(r, i, check->c_collides))
			continue;
		json_object_begin(j, NULL);
		json_string(j, "sequence", pg_text(r, i, check->c_seq));
		json_string(j, "table", pg_text(r, i, check->c_table));
		json_string(j, "column", pg_text(r, i, check->c_column));
		json_number_text(j, "column_max", pg_text(r, i, check->c_max));
		json_number_text(j, "column_min", pg_text(r, i, check->c_min));
		json_number_text(j, "next_value", pg_text(r, i, check->c_next));
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}
