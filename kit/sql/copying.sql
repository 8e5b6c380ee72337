-- The COPY commands running in the current database (the initial copy of
-- a table-sync worker is one): the table, the bytes read so far, and for
-- how many seconds its transaction has run.
select p.relid, p.bytes_processed,
       extract(epoch from pg_catalog.now() - a.xact_start) as seconds
  from pg_catalog.pg_stat_progress_copy p
  left join pg_catalog.pg_stat_activity a on a.pid = p.pid
 where p.datid = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())
