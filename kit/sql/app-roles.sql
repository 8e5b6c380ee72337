-- The application's roles on this server: those app_roles of
-- migration.yml names (:'app_roles', a JSON array), else every LOGIN role
-- that is not a superuser, not the kit's admin (:'admin') or replication
-- user (:'repl'), has no REPLICATION and is not predefined (pg_*).  For
-- each: whether it exists here, is a superuser, is one of the kit's own
-- users, and its setting of default_transaction_read_only in the current
-- database (previous; NULL when it has none).
with named as (
  select x.name from pg_catalog.jsonb_array_elements_text(:'app_roles'::pg_catalog.jsonb) as x(name)
), app as (
  select n.name from named n
  union
  select r.rolname from pg_catalog.pg_roles r
   where not exists (select from named)
     and r.rolcanlogin and not r.rolsuper and not r.rolreplication
     and r.rolname <> all (array[:'admin', :'repl']) and r.rolname !~ '^pg_'
)
select app.name as role, r.oid is not null as present, coalesce(r.rolsuper, false) as superuser,
       app.name in (:'admin', :'repl') as kit_user,
       (select pg_catalog.substr(c, pg_catalog.length('default_transaction_read_only=') + 1)
          from pg_catalog.pg_db_role_setting d, pg_catalog.unnest(d.setconfig) as c
         where d.setrole = r.oid
           and d.setdatabase = (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database())
           and c like 'default_transaction_read_only=%') as previous
  from app left join pg_catalog.pg_roles r on r.rolname = app.name
