-- The record of a fence (data/fence.json, data/fence-dst.json): the kit's
-- context (:'context'), the database, when it was put up (:'fenced_at', or
-- now when empty), and each fenced role with its setting before.  The roles
-- of an earlier record (:'old', '{}' when none) are kept, with its time;
-- those of :'todo' are added.
with earlier as (select r.role, r.previous
                   from pg_catalog.json_to_recordset(coalesce(:'old'::pg_catalog.json -> 'roles', '[]'))
                        as r(role text, previous text)),
     added as (select r.role, r.previous
                 from pg_catalog.json_to_recordset(:'todo'::pg_catalog.json) as r(role text, previous text)
                where r.role not in (select role from earlier))
select pg_catalog.json_build_object('context', :'context', 'database', pg_catalog.current_database(),
         'fenced_at', coalesce(:'old'::pg_catalog.json ->> 'fenced_at', nullif(:'fenced_at', ''),
                               pg_catalog.now()::text),
         'roles', (select pg_catalog.json_agg(pg_catalog.json_build_object('role', x.role, 'previous', x.previous)
                                              order by x.role)
                     from (select * from earlier union all select * from added) x))
