-- The apply worker of the subscription whose oid is :'subid': the leader,
-- not a table-sync worker (relid set) nor, on PostgreSQL 16 and later, a
-- parallel apply worker (leader_pid set).  No row while it is not running.
select w.pid, w.latest_end_lsn, w.last_msg_receipt_time, w.latest_end_time
  from pg_catalog.pg_stat_subscription w
 where w.subid = :'subid'::pg_catalog.oid and w.relid is null and w.leader_pid is null
