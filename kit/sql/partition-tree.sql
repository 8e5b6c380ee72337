-- The table whose oid is :'root' and, when it is partitioned, every
-- partition under it at any depth: relid, parentrelid, isleaf (not itself
-- partitioned) and level, as pg_catalog.pg_partition_tree gives them from
-- PostgreSQL 12 on, from pg_inherits so that 11 has them too.  :'root' is
-- an expression (an outer query's column, say).
with recursive tree(relid, parentrelid, level) as (
  select (:'root')::pg_catalog.oid, null::pg_catalog.oid, 0
  union all
  select i.inhrelid, i.inhparent, t.level + 1
    from tree t join pg_catalog.pg_inherits i on i.inhparent = t.relid
)
select t.relid, t.parentrelid, c.relkind not in ('p', 'I') as isleaf, t.level
  from tree t join pg_catalog.pg_class c on c.oid = t.relid
