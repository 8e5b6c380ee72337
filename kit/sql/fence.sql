-- The fence on the current database, as the statements that put it up:
-- each role of :'todo' (a JSON array of {"role", "previous"}, from
-- app-roles.sql) becomes read-only by default in this database, then the
-- sessions its roles hold here are ended, so that they reconnect read-only.
select s from (
  select 1 as i, r.role, pg_catalog.format('alter role %I in database %I set default_transaction_read_only = on;',
                                             r.role, pg_catalog.current_database()) as s
    from pg_catalog.json_to_recordset(:'todo'::pg_catalog.json) as r(role text, previous text)
  union all
  select 2, '', pg_catalog.format('select count(pg_catalog.pg_terminate_backend(a.pid)) as sessions_ended from pg_catalog.pg_stat_activity a where a.datname = %L and a.usename in (%s) and a.pid <> pg_catalog.pg_backend_pid();',
                                  pg_catalog.current_database(),
                                  pg_catalog.string_agg(pg_catalog.format('%L', r.role), ', ' order by r.role))
    from pg_catalog.json_to_recordset(:'todo'::pg_catalog.json) as r(role text, previous text)
) as statements
 order by i, role
