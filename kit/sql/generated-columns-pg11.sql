-- PostgreSQL 11 has no generated columns (see generated-columns.sql).
select null::pg_catalog.oid as attrelid, null::pg_catalog.int2 as attnum, null::pg_catalog.text as expression
 where false
