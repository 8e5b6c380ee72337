-- The replication slot :'slot' (see slot.sql) on a server before
-- PostgreSQL 13: it has no max_slot_wal_keep_size (a slot keeps all the WAL
-- it needs, without limit: max_slot_keep -1) and reports no wal_status.
select sl.slot_name is not null as slot_found, coalesce(sl.active, false) as active,
       null::pg_catalog.text as wal_status, null::pg_catalog.int8 as safe_wal_size,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), sl.restart_lsn)::pg_catalog.int8 as wal_retained,
       -1::pg_catalog.int8 as max_slot_keep,
       pg_catalog.pg_size_bytes(pg_catalog.current_setting('max_wal_size')) as max_wal_size
  from (select 1) as one
  left join pg_catalog.pg_replication_slots sl
         on sl.slot_name = :'slot' and sl.database = pg_catalog.current_database()
