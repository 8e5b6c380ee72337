-- The catch-up of a switch-over, on the side being left (FROM), once it is
-- fenced: waits until no session of the application's roles (:'roles', a
-- JSON array) or of a role that is a member of one (superusers aside) that began before the fence (:'fenced_at', else now) is inside
-- a transaction (the fence is ending them), none holds a transaction id,
-- and no prepared transaction of the database is left (one may yet be
-- committed, and has no session to wait for), at most :'timeout' seconds;
-- then reads the WAL insert position: every transaction the application saw
-- committed ends before it.  A transaction
-- with an xid then commits, which flushes WAL up to that point and wakes
-- the walsender.  Prints the position.
select pg_catalog.set_config('migkit.roles', :'roles', false),
       pg_catalog.set_config('migkit.fenced_at', :'fenced_at', false),
       pg_catalog.set_config('migkit.deadline', (pg_catalog.clock_timestamp()
                                                 + pg_catalog.make_interval(secs => :'timeout'))::text, false) \g /dev/null
do $$
declare
    fenced_at timestamptz := coalesce(nullif(pg_catalog.current_setting('migkit.fenced_at'), '')::timestamptz,
                                      pg_catalog.statement_timestamp());
    deadline timestamptz := pg_catalog.current_setting('migkit.deadline')::timestamptz;
    busy text;
    prepared text;
begin
    loop
        perform pg_catalog.pg_stat_clear_snapshot();
        select string_agg(format('%s (pid %s, %s)', a.usename, a.pid, a.state), ', ' order by a.pid) into busy
          from pg_catalog.pg_stat_activity a
         where a.datname = pg_catalog.current_database()
           and a.pid <> pg_catalog.pg_backend_pid()
           and ((a.backend_start < fenced_at and a.state is distinct from 'idle')
                or a.backend_xid is not null)
           and exists (select from pg_catalog.pg_roles r, pg_catalog.pg_roles fr
                        where r.oid = a.usesysid and not r.rolsuper
                          and fr.rolname in (select pg_catalog.jsonb_array_elements_text(
                                                 pg_catalog.current_setting('migkit.roles')::pg_catalog.jsonb))
                          and pg_catalog.pg_has_role(r.oid, fr.oid, 'MEMBER'));
        select string_agg(format('%s (prepared %s by %s)', p.gid, p.prepared, p.owner), ', ' order by p.prepared)
          into prepared
          from pg_catalog.pg_prepared_xacts p
         where p.database = pg_catalog.current_database();
        exit when busy is null and prepared is null;
        if pg_catalog.clock_timestamp() > deadline then
            if busy is not null then
                raise exception 'sessions of the application opened before the fence are still in a transaction: %', busy;
            end if;
            raise exception 'prepared transactions are neither committed nor rolled back: %', prepared;
        end if;
        perform pg_catalog.pg_sleep(0.01);
    end loop;
    perform pg_catalog.set_config('migkit.fence_lsn', pg_catalog.pg_current_wal_insert_lsn()::text, false);
    perform pg_catalog.txid_current();
    commit;
end
$$;
select pg_catalog.current_setting('migkit.fence_lsn');
