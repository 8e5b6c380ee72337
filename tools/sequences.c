/*
 * The one query that reads every sequence of a database exactly.
 */
#include "config.h"

#include <stdlib.h>

#include "sequences.h"
#include "sql.h"
#include "util.h"

const char *const sequences_no_patterns[3] = {"[]", "[]", "[]"};

const char *
sequences_materialized(int server_version)
{
	return server_version >= 120000 ? "materialized " : "";
}

char *
sequences_with_relations(int server_version)
{
	static const char *const vars[] = {"include", "exclude", "pick", NULL};
	char *rel = sql_load("relations", server_version, vars), *q;

	if (rel == NULL)
		return NULL;
	/* The include, exclude and pick lists do not apply to sequences. */
	q = xasprintf("with rel as %s(\nselect * from (%s) r where r.relkind = 'S'\n)",
				  sequences_materialized(server_version), rel);
	free(rel);
	return q;
}

/*
 * The catalog part, then the values: pg_sequence_last_value() is the
 * cheapest read there is (opening each sequence relation is most of its
 * cost), but it returns NULL when is_called is false (a never-used
 * sequence, or setval(s, v, false)).  With exact, those rows alone are read
 * again by generated SELECTs, 50 to a UNION ALL run through one
 * query_to_xml(): still one query, no object created on the server, and
 * about 60 us per sequence where a query_to_xml() each costs 110 (a much
 * longer UNION ALL costs more again: its planning grows faster than
 * linearly).  Without exact they are left NULL (the chunks select
 * nothing).  Materialized CTEs make each function run once per sequence;
 * CASE keeps the reads away from unreadable ones.  Only the picked ones
 * (migkit diff --table) are read.
 */
char *
sequences_read_sql(int server_version, bool exact, bool writable)
{
	const char *m = sequences_materialized(server_version);
	char *with = sequences_with_relations(server_version), *q;

	if (with == NULL)
		return NULL;
	q = xasprintf(
		"%s, me as (\n"
		"  select coalesce(pg_catalog.bool_or(r.rolsuper), false) as su\n"
		"    from pg_catalog.pg_roles r where r.rolname = current_user\n"
		"), sch as (\n"
		"  select d.schema_name, pg_catalog.has_schema_privilege(d.schema_name, 'USAGE') as usage\n"
		"    from (select distinct rel.schema_name from rel) d\n"
		"), s as %s(\n"
		"  select r.oid, r.schema_name as nspname, r.name as relname, r.qualified, r.picked,\n"
		"         me.su or (sch.usage and pg_catalog.has_sequence_privilege(r.oid, 'SELECT')) as readable,\n"
		"         %s as writable\n"
		"    from rel r cross join me join sch on sch.schema_name = r.schema_name\n"
		"   where r.picked\n"
		"), fast as %s(\n"
		"  select s.*, case when s.readable then pg_catalog.pg_sequence_last_value(s.oid) end as lv\n"
		"    from s\n"
		"), chunk as (\n"
		"  select pg_catalog.query_to_xml(pg_catalog.string_agg(pg_catalog.format(\n"
		"           'select %%s as o, last_value as v, is_called as c from %%s', f.oid, f.qualified), ' union all '),\n"
		"           false, false, '') as x\n"
		"    from (select f.oid, f.qualified, pg_catalog.row_number() over () / 50 as n\n"
		"            from fast f where f.readable and f.lv is null and %s) f\n"
		"   group by f.n\n"
		"), slow as (\n"
		"  select r.o::pg_catalog.oid as oid, r.v::pg_catalog.int8 as v, r.c::pg_catalog.bool as c\n"
		"    from chunk,\n"
		"         rows from (pg_catalog.unnest(pg_catalog.xpath('/table/row/o/text()', chunk.x)::pg_catalog.text[]),\n"
		"                    pg_catalog.unnest(pg_catalog.xpath('/table/row/v/text()', chunk.x)::pg_catalog.text[]),\n"
		"                    pg_catalog.unnest(pg_catalog.xpath('/table/row/c/text()', chunk.x)::pg_catalog.text[]))"
		" as r(o, v, c)\n"
		")\n"
		"select f.oid, f.nspname, f.relname, f.qualified, f.picked, f.readable, f.writable,\n"
		"       coalesce(f.lv, slow.v) as last_value,\n"
		"       case when f.lv is not null then true\n"
		"            when slow.oid is not null then slow.c\n"
		"            when f.readable then false end as is_called,\n"
		"       q.seqincrement as increment, q.seqmin as min, q.seqmax as max\n"
		"  from fast f left join slow on slow.oid = f.oid\n"
		"  join pg_catalog.pg_sequence q on q.seqrelid = f.oid",
		with, m,
		writable ? "me.su or pg_catalog.has_sequence_privilege(r.oid, 'UPDATE')" : "null::pg_catalog.bool", m,
		exact ? "true" : "false");
	free(with);
	return q;
}
