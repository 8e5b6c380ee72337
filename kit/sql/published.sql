-- The tables the publications :'pubs' (a text[]) send, each named as the migration's
-- table it belongs to (kit/sql/relations.sql): a partition by its root.  A
-- publication without publish_via_partition_root (the only kind before
-- PostgreSQL 13) lists the leaves of a partitioned table.
with recursive pub as (
  select c.oid
    from pg_catalog.pg_publication_tables pt
    join pg_catalog.pg_namespace n on n.nspname = pt.schemaname
    join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = pt.tablename
   where pt.pubname = any (:'pubs'::pg_catalog.text[])
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
