-- Before PostgreSQL 14 a COPY does not report its progress (see copying.sql):
-- the bytes of a table under copy are not known.
select null::pg_catalog.oid as relid, null::pg_catalog.int8 as bytes_processed,
       null::pg_catalog.numeric as seconds
 where false
