-- The subscription :'sub' of the current database (subscription names are
-- unique per database, not per cluster).
select s.oid, s.subname, s.subenabled, s.subslotname, s.subpublications
  from pg_catalog.pg_subscription s
 where s.subname = :'sub'
   and s.subdbid = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())
