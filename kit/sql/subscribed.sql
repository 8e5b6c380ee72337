-- The tables of the subscription whose oid is :'subid' (kit/sql/subscription.sql
-- finds it), one row per table it syncs: its oid (relid), its state
-- (srsubstate: i waiting, d copying, f and s copied, r streaming), and the
-- migration's table it belongs to (schema_name, name): a partition by its
-- root, as a subscription to a publication without
-- publish_via_partition_root syncs the leaves.
with recursive rel as (
  select r.srrelid as relid, r.srsubstate
    from pg_catalog.pg_subscription_rel r
   where r.srsubid = :'subid'::pg_catalog.oid
), up(relid, root) as (
  select relid, relid from rel
  union all
  select up.relid, i.inhparent
    from up
    join pg_catalog.pg_class c on c.oid = up.root and c.relispartition
    join pg_catalog.pg_inherits i on i.inhrelid = up.root
)
select rel.relid, rel.srsubstate, n.nspname as schema_name, r.relname as name
  from rel
  join up on up.relid = rel.relid
  join pg_catalog.pg_class r on r.oid = up.root and not r.relispartition
  join pg_catalog.pg_namespace n on n.oid = r.relnamespace
