-- The row changes a logical slot (:'slot', pgoutput, publication :'pub')
-- holds that its subscriber has not applied, table by table: peeked, not
-- consumed.  Run on the publishing side once its subscription has stopped
-- (cutover: after the application moved): what it shows is on this side and
-- not on the other.  migkit's own heartbeat is left out.  The relation of a
-- change is in its message (protocol 1): its oid after the kind byte, or
-- for a TRUNCATE, the oids after their number and a flags byte.
-- The slot starts at what the subscriber last confirmed, which can be
-- behind what it applied (a walsender that ended before the subscriber's
-- next report): a transaction whose commit lies before :'applied' (the
-- position the subscriber is known to have applied, 0/0 when unknown; its
-- commit LSN is in its Begin message, the 8 bytes after the kind) is left
-- out.
with x as (
  select x.xid, pg_catalog.get_byte(x.data, 0) as kind, x.data
    from pg_catalog.pg_logical_slot_peek_binary_changes(:'slot', null, null,
           'proto_version', '1', 'publication_names', :'pub') x
), applied as (
  select x.xid
    from x
   where x.kind = 66
     and (select pg_catalog.sum(pg_catalog.get_byte(x.data, i)::numeric * 256::numeric ^ (8 - i))
            from pg_catalog.generate_series(1, 8) i)
         < :'applied'::pg_catalog.pg_lsn - '0/0'::pg_catalog.pg_lsn
), c as (
  select x.kind, x.data
    from x
   where x.kind in (73, 85, 68, 84)
     and x.xid not in (select a.xid from applied a)
), rel as (
  select c.kind,
         (pg_catalog.get_byte(c.data, a.at)::bigint << 24 | pg_catalog.get_byte(c.data, a.at + 1) << 16
          | pg_catalog.get_byte(c.data, a.at + 2) << 8 | pg_catalog.get_byte(c.data, a.at + 3))::pg_catalog.oid as relid
    from c
   cross join lateral (
         select case when c.kind = 84 then 6 + 4 * k.i else 1 end as at
           from pg_catalog.generate_series(0, case when c.kind = 84
                  then (pg_catalog.get_byte(c.data, 1) << 24 | pg_catalog.get_byte(c.data, 2) << 16
                        | pg_catalog.get_byte(c.data, 3) << 8 | pg_catalog.get_byte(c.data, 4)) - 1
                  else 0 end) as k(i)) a
)
select pg_catalog.format('%I.%I', n.nspname, t.relname) as "table",
       count(*) filter (where r.kind = 73) as inserts, count(*) filter (where r.kind = 85) as updates,
       count(*) filter (where r.kind = 68) as deletes, count(*) filter (where r.kind = 84) as truncates
  from rel r
  join pg_catalog.pg_class t on t.oid = r.relid
  join pg_catalog.pg_namespace n on n.oid = t.relnamespace
 where n.nspname <> 'migkit'
 group by n.nspname, t.relname
 order by 1
