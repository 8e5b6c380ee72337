-- At cutover, on DST: disables the subscription :'sub' (whose oid is
-- :'subid'), ends its workers at once (a disabled worker would notice only
-- at its next wake-up), then moves the reverse slot :'slot' past
-- everything they applied: the way back carries DST's own changes only.
-- txid_current() commits with a local flush, so the workers' asynchronous
-- commits are flushed and the slot can move past them.  Prints where the
-- slot starts.
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
select end_lsn from pg_catalog.pg_replication_slot_advance(:'slot', pg_catalog.pg_current_wal_flush_lsn());
