-- The catch-up of a switch-over, on the side taking over (TO): waits, at
-- most :'timeout' seconds, until the apply worker of the subscription
-- whose oid is :'subid' reports a keepalive from FROM at or past the fence
-- position :'fence_lsn' (its latest_end_lsn).  The walsender sends a
-- keepalive only after every transaction it decoded before it, and the
-- worker handles it only after it has applied and committed each of them:
-- so TO then holds every transaction committed on FROM before the fence.
-- It does not wait for TO's WAL flush, which confirmed_flush_lsn would (up
-- to wal_writer_delay more).  :'worker_sql' is the query of
-- kit/sql/apply-worker.sql for this server, the subscription's oid as $1.
-- Prints the position applied.
select pg_catalog.set_config('migkit.subid', :'subid', false),
       pg_catalog.set_config('migkit.worker_sql', :'worker_sql', false),
       pg_catalog.set_config('migkit.fence_lsn', :'fence_lsn', false),
       pg_catalog.set_config('migkit.deadline', (pg_catalog.clock_timestamp()
                                                 + pg_catalog.make_interval(secs => :'timeout'))::text, false) \g /dev/null
do $$
declare
    sub_oid oid := pg_catalog.current_setting('migkit.subid')::oid;
    fence pg_lsn := pg_catalog.current_setting('migkit.fence_lsn')::pg_lsn;
    deadline timestamptz := pg_catalog.current_setting('migkit.deadline')::timestamptz;
    applied pg_lsn;
    worker int;
    receipt timestamptz;
    latest timestamptz;
begin
    loop
        applied := null;
        worker := null;
        execute pg_catalog.current_setting('migkit.worker_sql') into worker, applied, receipt, latest using sub_oid;
        exit when applied >= fence;
        if pg_catalog.clock_timestamp() > deadline then
            if worker is null then
                raise exception 'the apply worker of the subscription is not running: nothing from the fence at % is applied', fence;
            end if;
            raise exception 'changes up to % are applied, not yet up to the fence at %', coalesce(applied::text, 'none'), fence;
        end if;
        perform pg_catalog.pg_sleep(0.005);
    end loop;
    perform pg_catalog.set_config('migkit.applied_lsn', applied::text, false);
end
$$;
select pg_catalog.current_setting('migkit.applied_lsn');
