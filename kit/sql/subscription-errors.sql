-- How many times the workers of the subscription whose oid is :'subid' have
-- failed applying changes and copying tables.
select s.apply_error_count, s.sync_error_count
  from pg_catalog.pg_stat_subscription_stats s
 where s.subid = :'subid'::pg_catalog.oid
