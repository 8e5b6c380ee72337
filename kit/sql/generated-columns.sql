-- The generated columns of the database's tables: attrelid, attnum and
-- the expression.  Replication does not send them; the subscriber computes
-- them itself.
select a.attrelid, a.attnum, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) as expression
  from pg_catalog.pg_attribute a
  left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
 where a.attgenerated <> '' and not a.attisdropped
