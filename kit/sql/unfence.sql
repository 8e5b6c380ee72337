-- The statements that lift the fence recorded in :'fence' (the JSON of
-- data/fence.json, or data/fence-dst.json on DST): each role's setting as it
-- was before, for the roles that still exist.
select case when r.previous is null
            then pg_catalog.format('alter role %I in database %I reset default_transaction_read_only;', r.role, f.database)
            else pg_catalog.format('alter role %I in database %I set default_transaction_read_only = %L;', r.role, f.database, r.previous)
       end
  from pg_catalog.json_to_record(:'fence'::pg_catalog.json) as f(database text, roles json),
       pg_catalog.json_to_recordset(f.roles) as r(role text, previous text)
 where exists (select from pg_catalog.pg_roles where rolname = r.role)
 order by r.role
