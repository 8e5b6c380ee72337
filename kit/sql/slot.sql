-- The replication slot :'slot' of the current database and the WAL it
-- keeps: how much (from its restart_lsn), its wal_status (reserved,
-- extended, unreserved, lost), how much more may be written before it is
-- lost (safe_wal_size), and the limits: max_slot_wal_keep_size (-1: none)
-- and max_wal_size, in bytes.  One row, slot_found false without it.
select sl.slot_name is not null as slot_found, coalesce(sl.active, false) as active,
       sl.wal_status, sl.safe_wal_size,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), sl.restart_lsn)::pg_catalog.int8 as wal_retained,
       pg_catalog.pg_size_bytes(pg_catalog.current_setting('max_slot_wal_keep_size')) as max_slot_keep,
       pg_catalog.pg_size_bytes(pg_catalog.current_setting('max_wal_size')) as max_wal_size
  from (select 1) as one
  left join pg_catalog.pg_replication_slots sl
         on sl.slot_name = :'slot' and sl.database = pg_catalog.current_database()
