-- The tables the publications :'pubs' (a text[]) send, each named as the migration's
-- table it belongs to (kit/sql/relations.sql): a partition by its root.  A
-- publication without publish_via_partition_root (the only kind before
-- PostgreSQL 13) lists the leaves of a partitioned table.
-- pg_get_publication_tables, not the view pg_publication_tables: the
-- planner joins the view's rows to pg_class once per schema, quadratic at
-- 10,000 tables.  Every major from 10 on names its output column relid
-- (16 on takes several publications, one argument still works).
with recursive pub as (
  select gpt.relid as oid
    from pg_catalog.pg_publication p,
         lateral pg_catalog.pg_get_publication_tables(p.pubname::text) gpt
   where p.pubname = any (:'pubs'::pg_catalog.text[])
), up(relid, root) as (
  select oid, oid from pub
  union all
  select up.relid, i.inhparent
    from up
    join pg_catalog.pg_class c on c.oid = up.root and c.relispartition
    join pg_catalog.pg_inherits i on i.inhrelid = up.root
)
select distinct n.nspname as schema_name, r.relname as name
  from up
  join pg_catalog.pg_class r on r.oid = up.root and not r.relispartition
  join pg_catalog.pg_namespace n on n.oid = r.relnamespace
