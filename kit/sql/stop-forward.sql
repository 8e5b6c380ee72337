-- At cutover, on DST, before re-routing: disables the subscription :'sub'
-- (whose oid is :'subid') and ends its workers at once (a disabled worker
-- would notice only at its next wake-up), so that nothing from SRC reaches
-- DST once the application writes there; what SRC takes afterwards stays in
-- the slot (kit/sql/leftover-changes.sql reads it).  txid_current() then
-- commits with a local flush, so the workers' asynchronous commits are
-- flushed: a reverse slot may be moved past them (pg_replication_slot_advance
-- to pg_current_wal_flush_lsn()).
set synchronous_commit = local;
alter subscription :"sub" disable;
select pg_catalog.set_config('migkit.subid', :'subid', false) \g /dev/null
do $$
declare
    sub_oid oid := pg_catalog.current_setting('migkit.subid')::oid;
    deadline timestamptz := pg_catalog.clock_timestamp() + interval '10 s';
begin
    perform pg_catalog.pg_terminate_backend(w.pid)
       from pg_catalog.pg_stat_subscription w
      where w.subid = sub_oid and w.pid is not null;
    while exists (select 1 from pg_catalog.pg_stat_subscription w where w.subid = sub_oid and w.pid is not null) loop
        if pg_catalog.clock_timestamp() > deadline then
            raise exception 'the workers of the subscription did not stop within 10 s';
        end if;
        perform pg_catalog.pg_sleep(0.002);
    end loop;
end
$$;
select pg_catalog.txid_current() \g /dev/null
