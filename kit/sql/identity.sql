-- Which database this is, to refuse SRC and DST being the same one: the
-- cluster's system identifier and the database's name (and the role
-- connected, for messages).
select c.system_identifier::text as system_identifier, pg_catalog.current_database() as database,
       c.system_identifier || ' ' || pg_catalog.current_database() as identity,
       current_user::text as role_name
  from pg_catalog.pg_control_system() c
