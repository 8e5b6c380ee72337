-- The apply worker of the subscription whose oid is :'subid' (see
-- apply-worker.sql): before PostgreSQL 16 there is no parallel apply, and
-- the one worker without a relid is the apply worker.
select w.pid, w.latest_end_lsn, w.last_msg_receipt_time, w.latest_end_time
  from pg_catalog.pg_stat_subscription w
 where w.subid = :'subid'::pg_catalog.oid and w.relid is null
