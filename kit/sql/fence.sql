-- The fence on the current database, as the statements that put it up,
-- one a row, from its record (:'fence', written by fence-record.sql first):
-- the fenced roles may no longer connect to the database, whatever their
-- sessions set.  In one transaction: CONNECT taken from PUBLIC, given by
-- name to the roles the record lists as granted, taken from the fenced
-- roles, and a check that none of these, and no other role that can log
-- in and is a member of one of them (it could write with its privileges),
-- can still connect (by a grant of its own, or through another group),
-- which else changes nothing; the kit's own users are left out.  After
-- it commits, the sessions the fenced roles and their members hold in the
-- database are ended.
with f as (
  select r.database, r.public_connect, r.granted, r.roles, coalesce(r.kit_users, '[]') as kit_users
    from pg_catalog.json_to_record(:'fence'::pg_catalog.json)
         as r(database text, public_connect boolean, granted json, roles json, kit_users json)
), fenced as (
  select x.role from f, pg_catalog.json_to_recordset(f.roles) as x(role text, direct boolean)
), kit as (
  select coalesce(pg_catalog.array_agg(k.name), '{}') as names
    from f, pg_catalog.json_array_elements_text(f.kit_users) as k(name)
), granted as (
  select g.role from f, pg_catalog.json_array_elements_text(coalesce(f.granted, '[]')) as g(role)
)
select s from (
  select 1 as i, 'begin;' as s
  union all
  select 2, pg_catalog.format('revoke connect on database %I from public;', f.database) from f where f.public_connect
  union all
  select 3, pg_catalog.format('grant connect on database %I to %s;', f.database,
                              pg_catalog.string_agg(pg_catalog.quote_ident(g.role), ', ' order by g.role))
    from f, granted g group by f.database
  union all
  select 4, pg_catalog.format('revoke connect on database %I from %s;', f.database,
                              pg_catalog.string_agg(pg_catalog.quote_ident(x.role), ', ' order by x.role))
    from f, fenced x group by f.database
  union all
  select 5, pg_catalog.format(
           'do $fence$ declare still text; begin select string_agg(r.rolname, '', '' order by r.rolname) into still from pg_catalog.pg_roles r where (r.rolcanlogin or r.rolname = any (%L::text[])) and not r.rolsuper and r.rolname <> all (%L::text[]) and exists (select from unnest(%L::text[]) f where pg_catalog.pg_has_role(r.oid, f, ''MEMBER'')) and pg_catalog.has_database_privilege(r.oid, %L, ''CONNECT''); if still is not null then raise exception ''the fence would not hold: these roles could still connect to database %% (by a grant of their own, or through a role they are members of; see \du): %%; nothing was changed'', %L, still; end if; end $fence$;',
           pg_catalog.array_agg(x.role order by x.role)::text,
           kit.names::text, pg_catalog.array_agg(x.role order by x.role)::text, f.database, f.database)
    from f, fenced x, kit group by f.database, kit.names
  union all
  select 6, 'commit;'
  union all
  select 7, pg_catalog.format('select count(pg_catalog.pg_terminate_backend(a.pid)) as sessions_ended from pg_catalog.pg_stat_activity a join pg_catalog.pg_roles r on r.oid = a.usesysid where a.datname = %L and not r.rolsuper and r.rolname <> all (%L::text[]) and exists (select from unnest(%L::text[]) f where pg_catalog.pg_has_role(r.oid, f, ''MEMBER'')) and a.pid <> pg_catalog.pg_backend_pid();',
                              f.database, kit.names::text, pg_catalog.array_agg(x.role order by x.role)::text)
    from f, fenced x, kit group by f.database, kit.names
) as statements
 order by i
