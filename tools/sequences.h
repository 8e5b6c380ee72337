/*
 * Reading every sequence of a database, exactly, in one query: what
 * migkit seq copies and migkit diff compares, read the same way.
 */
#ifndef MIGKIT_SEQUENCES_H
#define MIGKIT_SEQUENCES_H

/*
 * Every sequence of the connected database, with whether the role may read
 * and set it.  A sequence the role cannot read is returned with readable =
 * false rather than failing the query, so that all of them can be named at
 * once.  Materialized CTEs make each function run once per sequence; CASE
 * keeps the reads away from unreadable ones.
 */
#define SEQUENCES_CATALOG_CTE                                                                                \
	"with s as materialized (\n"                                                                             \
	"  select c.oid, n.nspname, c.relname,\n"                                                                \
	"         pg_catalog.format('%I.%I', n.nspname, c.relname) as qualified,\n"                              \
	"         pg_catalog.has_sequence_privilege(c.oid, 'SELECT')\n"                                          \
	"           and pg_catalog.has_schema_privilege(n.oid, 'USAGE') as readable,\n"                          \
	"         pg_catalog.has_sequence_privilege(c.oid, 'UPDATE') as writable\n"                              \
	"    from pg_catalog.pg_class c\n"                                                                       \
	"    join pg_catalog.pg_namespace n on n.oid = c.relnamespace\n"                                         \
	"   where c.relkind = 'S'\n"                                                                             \
	"     and n.nspname not in ('pg_catalog', 'information_schema', 'migkit')\n"                             \
	"     and n.nspname !~ '^pg_(toast|temp_)'\n"                                                            \
	"     and not exists (select 1 from pg_catalog.pg_depend d\n"                                            \
	"                      where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass\n"                   \
	"                        and d.objid = c.oid and d.deptype = 'e')\n"                                     \
	")"

/* Columns of sequences_read_sql and of queries built on SEQUENCES_CATALOG_CTE. */
enum seqcol {
	SEQCOL_OID,
	SEQCOL_NSP,
	SEQCOL_REL,
	SEQCOL_QUAL,
	SEQCOL_READABLE,
	SEQCOL_WRITABLE,
	SEQCOL_LAST,
	SEQCOL_CALLED,
	SEQCOL_INCR,
	SEQCOL_MIN,
	SEQCOL_MAX,
	SEQCOL_NCOLS
};

extern const char sequences_read_sql[];

#endif
