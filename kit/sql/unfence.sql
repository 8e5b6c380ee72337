-- The statements that lift the fence recorded in :'fence' (the JSON of
-- data/fence.json, or data/fence-dst.json on DST), in one transaction:
-- CONNECT back to PUBLIC when it had it, back to each fenced role that had
-- it by name, and taken from the roles the fence gave it to (those that
-- still exist).
with f as (
  select r.database, r.public_connect, r.granted, r.roles
    from pg_catalog.json_to_record(:'fence'::pg_catalog.json)
         as r(database text, public_connect boolean, granted json, roles json)
)
select s from (
  select 1 as i, '' as k, 'begin;' as s
  union all
  select 2, '', pg_catalog.format('grant connect on database %I to public;', f.database) from f where f.public_connect
  union all
  select 3, x.role, pg_catalog.format('grant connect on database %I to %I;', f.database, x.role)
    from f, pg_catalog.json_to_recordset(f.roles) as x(role text, direct boolean)
   where x.direct and exists (select from pg_catalog.pg_roles where rolname = x.role)
  union all
  select 4, g.role, pg_catalog.format('revoke connect on database %I from %I;', f.database, g.role)
    from f, pg_catalog.json_array_elements_text(coalesce(f.granted, '[]')) as g(role)
   where exists (select from pg_catalog.pg_roles where rolname = g.role)
  union all
  select 5, '', 'commit;'
) as statements
 order by i, k
