-- The application's roles on this server: those app_roles of
-- migration.yml names (:'app_roles', a JSON array), else every LOGIN role
-- that is not a superuser, not the kit's admin (:'admin') or replication
-- user (:'repl'), has no REPLICATION and is not predefined (pg_*).  For
-- each: whether it exists here, and what would let it undo a fence on the
-- current database: being a superuser, one of the kit's own users, the
-- database's owner (it may grant itself CONNECT again), or having
-- CREATEROLE (it may make itself a member of a role that can connect).
with named as (
  select x.name from pg_catalog.jsonb_array_elements_text(:'app_roles'::pg_catalog.jsonb) as x(name)
), app as (
  select n.name from named n
  union
  select r.rolname from pg_catalog.pg_roles r
   where not exists (select from named)
     and r.rolcanlogin and not r.rolsuper and not r.rolreplication
     and r.rolname <> all (array[:'admin', :'repl']) and r.rolname !~ '^pg_'
), db as (
  select d.oid, d.datdba from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()
)
select app.name as role, r.oid is not null as present, coalesce(r.rolsuper, false) as superuser,
       app.name in (:'admin', :'repl') as kit_user,
       coalesce(r.oid = (select datdba from db), false) as owns_database,
       coalesce(r.rolcreaterole, false) as createrole
  from app left join pg_catalog.pg_roles r on r.rolname = app.name
