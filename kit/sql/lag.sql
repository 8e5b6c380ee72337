-- Replication lag, the one definition every step uses (copy-progress,
-- copy-diff, cutover's preflight): run on the publishing side, how many
-- bytes of its WAL the subscriber reading the slot :'slot' has not applied
-- yet.  Applied is the furthest of the slot's confirmed_flush_lsn (what the
-- subscriber has applied and flushed) and the write position of its last
-- reply (what it has applied, its commits possibly not flushed yet).
-- No row for the slot: the lag is unknown (slot_found false).
select pg_catalog.pg_current_wal_lsn()::text as src_lsn,
       sl.slot_name is not null as slot_found,
       greatest(sl.confirmed_flush_lsn, w.write_lsn)::text as applied_lsn,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),
                                  greatest(sl.confirmed_flush_lsn, w.write_lsn))::bigint as lag_bytes
  from (select 1) as one
  left join pg_catalog.pg_replication_slots sl
         on sl.slot_name = :'slot' and sl.database = pg_catalog.current_database()
  left join pg_catalog.pg_stat_get_wal_senders() w on w.pid = sl.active_pid
