-- The record of a fence (data/fence.json, data/fence-dst.json), taken
-- before it is put up (fence.sql puts it up from the record, unfence.sql
-- lifts exactly that): the kit's context (:'context'), the database, when
-- (now), whether PUBLIC had CONNECT, the roles
-- the fence gives CONNECT by name because they had it only through PUBLIC
-- (every other role that can log in, is not a superuser and is not a
-- member of a fenced role: a member could write with the fenced role's
-- privileges, so it is fenced with it), the kit's own users (:'admin',
-- :'repl', which the fence never holds), and each fenced role of :'todo'
-- (a JSON array of names) with whether it had CONNECT by name.
with db as (
  select d.oid, d.datname, d.datdba, coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba)) as acl
    from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()
), grants as (
  select e.grantee from db, pg_catalog.aclexplode(db.acl) e where e.privilege_type = 'CONNECT'
), fenced as (
  select x.role from pg_catalog.json_array_elements_text(:'todo'::pg_catalog.json) as x(role)
)
select pg_catalog.json_build_object(
         'context', :'context', 'database', pg_catalog.current_database(),
         'fenced_at', pg_catalog.now()::text,
         'public_connect', exists (select from grants where grantee = 0),
         'kit_users', pg_catalog.json_build_array(:'admin', :'repl'),
         'granted', (select coalesce(pg_catalog.json_agg(r.rolname order by r.rolname), '[]')
                       from pg_catalog.pg_roles r
                      where r.rolcanlogin and not r.rolsuper and r.rolname !~ '^pg_'
                        and not exists (select from fenced f join pg_catalog.pg_roles fr on fr.rolname = f.role
                                         where pg_catalog.pg_has_role(r.oid, fr.oid, 'MEMBER'))
                        and exists (select from grants where grantee = 0)
                        and r.oid not in (select grantee from grants)),
         'roles', (select pg_catalog.json_agg(pg_catalog.json_build_object(
                            'role', f.role,
                            'direct', exists (select from grants g join pg_catalog.pg_roles r on r.oid = g.grantee
                                               where r.rolname = f.role)) order by f.role)
                     from fenced f))
