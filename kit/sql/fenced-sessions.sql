-- Once a fence is lifted: ends the sessions of the fenced roles that were
-- opened while the fence recorded in :'fence' (data/fence.json or
-- data/fence-dst.json) stood.  A role's read-only setting is read when its
-- session starts: lifting the fence leaves those sessions read-only, and a
-- pooler (PgBouncer, a driver's pool) would go on handing them out.  Ended,
-- they are opened again, writable.  A session is ended only once it is
-- between transactions: one ended while still logging in makes PgBouncer
-- wait server_login_retry (15 s) before it tries again.  The passes go on
-- for 0.3 s at least (a session may be logging in as the fence is lifted,
-- read-only yet not shown under its role), and end whatever is left after
-- 3 s.  Prints how many were ended.
select pg_catalog.set_config('migkit.fence', :'fence', false) \g /dev/null
do $$
declare
    f record;
    lifted timestamptz := pg_catalog.statement_timestamp();
    ended int := 0;
    n int;
    left_over boolean;
begin
    select * into f
      from json_to_record(pg_catalog.current_setting('migkit.fence')::json)
           as r(database text, fenced_at timestamptz, roles json);
    loop
        perform pg_catalog.pg_stat_clear_snapshot();
        select count(pg_catalog.pg_terminate_backend(a.pid)) filter (
                   where a.state in ('idle', 'idle in transaction (aborted)')
                      or pg_catalog.clock_timestamp() > lifted + interval '3 s'),
               count(*) > 0
          into n, left_over
          from pg_catalog.pg_stat_activity a
         where a.datname = f.database
           and a.pid <> pg_catalog.pg_backend_pid()
           and a.backend_start >= f.fenced_at and a.backend_start <= lifted
           and a.usename in (select r.role from json_to_recordset(f.roles) as r(role text));
        ended := ended + n;
        exit when not left_over and pg_catalog.clock_timestamp() > lifted + interval '0.3 s';
        exit when pg_catalog.clock_timestamp() > lifted + interval '3.1 s';
        perform pg_catalog.pg_sleep(0.02);
    end loop;
    perform pg_catalog.set_config('migkit.ended', ended::text, false);
end
$$;
select pg_catalog.current_setting('migkit.ended');
