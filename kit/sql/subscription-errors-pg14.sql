-- Before PostgreSQL 15 the failures of a subscription's workers are counted
-- nowhere but in the server log (see subscription-errors.sql).
select null::pg_catalog.int8 as apply_error_count, null::pg_catalog.int8 as sync_error_count
 where false
