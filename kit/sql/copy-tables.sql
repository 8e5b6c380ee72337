-- The migration's tables as the fast initial copy (migkit copy) reads them
-- on SRC, inside the slot's exported snapshot: one row for each heap that
-- holds a table's rows (the table itself, or each leaf partition of a
-- partitioned one; a partitioned table without leaves gives one row with
-- no heap), with the columns COPY carries (every column but generated
-- ones, in order, quoted), the heap's size, and the key that can split it
-- into ranges on servers without TID range scans (a primary key of one
-- integer column).  migkit.heartbeat comes along when SRC has it.
-- :'tables' is the migration's set (relations.sql, in_migration).
with t as (
  select s.oid, s.qualified, s.partitioned
    from (:'tables') s
  union all
  select c.oid, 'migkit.heartbeat', false
    from pg_catalog.pg_class c
   where c.oid = pg_catalog.to_regclass('migkit.heartbeat')
), heaps as (
  select t.oid as table_oid, t.oid as heap
    from t
   where not t.partitioned
  union all
  select t.oid, p.relid
    from t
   cross join lateral pg_catalog.pg_partition_tree(t.oid) p
   where t.partitioned and p.isleaf
     and (select c.relkind from pg_catalog.pg_class c where c.oid = p.relid) = 'r'
)
select t.qualified, t.partitioned,
       (select pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum)
          from pg_catalog.pg_attribute a
         where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = '') as columns,
       case when c.oid is not null then pg_catalog.format('%I.%I', n.nspname, c.relname) end as heap,
       pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::bigint as blocks,
       pg_catalog.pg_table_size(c.oid) as bytes,
       greatest(c.reltuples, 0)::bigint as rows_estimate,
       (select pg_catalog.quote_ident(a.attname)
          from pg_catalog.pg_index i
          join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
         where i.indrelid = c.oid and i.indisprimary and i.indnkeyatts = 1
           and a.atttypid in ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype,
                              'pg_catalog.int8'::pg_catalog.regtype)) as int_key
  from t
  left join heaps h on h.table_oid = t.oid
  left join pg_catalog.pg_class c on c.oid = h.heap
  left join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 order by pg_catalog.pg_table_size(c.oid) desc nulls last, t.qualified, 4
