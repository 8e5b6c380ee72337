-- copy-tables.sql for PostgreSQL 11: no generated columns yet, and the
-- leaf partitions found through pg_inherits (no pg_partition_tree).
with recursive t as (
  select s.oid, s.qualified, s.partitioned
    from (:'tables') s
  union all
  select c.oid, 'migkit.heartbeat', false
    from pg_catalog.pg_class c
   where c.oid = pg_catalog.to_regclass('migkit.heartbeat')
), tree as (
  select t.oid as table_oid, t.oid as relid
    from t
  union all
  select tree.table_oid, i.inhrelid
    from tree
    join pg_catalog.pg_inherits i on i.inhparent = tree.relid
    join pg_catalog.pg_class p on p.oid = tree.relid and p.relkind = 'p'
), heaps as (
  select tree.table_oid, tree.relid as heap
    from tree
    join pg_catalog.pg_class c on c.oid = tree.relid
   where c.relkind = 'r'
)
select t.qualified, t.partitioned,
       (select pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum)
          from pg_catalog.pg_attribute a
         where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped) as columns,
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
