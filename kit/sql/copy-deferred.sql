-- What the fast initial copy (migkit copy) builds after the data rather
-- than keeping it up to date row by row: on DST, every valid index of the
-- migration's tables and their partitions, every constraint an index
-- backs (primary keys, unique and exclusion constraints), and every
-- foreign key from or to those tables; each with the SQL that drops it and
-- the SQL that builds it again as it was (its tablespace, comment, replica
-- identity and clustering included; not an index's per-column statistics
-- target).  What a partition inherits from its
-- partitioned table is built again with the parent's.  Check constraints
-- and NOT NULL stay: they cost little during the copy.
--   step  1 constraints that an index backs, 2 other indexes, 3 foreign
--         keys (after every index they may rest on)
-- A primary key or unique constraint of a table (not a partitioned one)
-- whose index can back it that way is built as its index first (CREATE
-- UNIQUE INDEX, which lets the table's other indexes build at the same
-- time), then made the constraint (ADD CONSTRAINT ... USING INDEX, a
-- moment's exclusive lock).  A build that takes a stronger lock on its
-- table after a weaker one (that, or an index that is the replica
-- identity or the clustered one) first takes a transaction advisory lock
-- on the table, so that two of them never wait for each other.
-- :'tables' is a JSON array of the tables' qualified names.
with recursive t as (
  select pg_catalog.to_regclass(j.name) as oid
    from pg_catalog.json_array_elements_text(:'tables'::pg_catalog.json) as j(name)
), tree as (
  select t.oid from t where t.oid is not null
  union
  select i.inhrelid from tree join pg_catalog.pg_inherits i on i.inhparent = tree.oid
), rel as (
  select c.oid, pg_catalog.format('%s%s', case when c.relkind = 'p' then '' else 'ONLY ' end,
                                  c.oid::pg_catalog.regclass) as target
    from tree join pg_catalog.pg_class c on c.oid = tree.oid
), idx as (
  select i.indexrelid, i.indrelid, i.indisreplident, i.indisclustered, ic.relname, ic.reltablespace,
         (select c.relkind from pg_catalog.pg_class c where c.oid = i.indrelid) as relkind,
         pg_catalog.format('%I.%I', n.nspname, ic.relname) as qualified,
         con.oid as conoid, con.conname, con.contype,
         -- what ADD CONSTRAINT ... USING INDEX takes: a plain b-tree index on
         -- columns in their default order, of a constraint checked at once
         con.contype in ('p', 'u') and not con.condeferrable
           and i.indexprs is null and i.indpred is null and i.indnkeyatts = i.indnatts
           and ic.relam = (select a.oid from pg_catalog.pg_am a where a.amname = 'btree')
           and not exists (select from pg_catalog.unnest(i.indoption::pg_catalog.int2[]) o where o <> 0)
           and pg_catalog.pg_get_constraintdef(con.oid) !~ 'NULLS NOT DISTINCT' as using_index
    from pg_catalog.pg_index i
    join pg_catalog.pg_class ic on ic.oid = i.indexrelid
    join pg_catalog.pg_namespace n on n.oid = ic.relnamespace
    left join pg_catalog.pg_constraint con
      on con.conindid = i.indexrelid and con.conrelid = i.indrelid and con.contype in ('p', 'u', 'x')
   where i.indrelid in (select oid from tree)
     and i.indisvalid
     and not exists (select from pg_catalog.pg_inherits h where h.inhrelid = i.indexrelid)
), after as (
  -- what goes with an index once it is built again
  select idx.indexrelid,
         -- the advisory lock on the table, for a build that ends with a stronger lock
         pg_catalog.format(E'SELECT pg_catalog.pg_advisory_xact_lock(%s, %s);\n', 1296650059,
                           (idx.indrelid::pg_catalog.int8 - 2147483648)::pg_catalog.int4) as serialize,
         idx.indisreplident or idx.indisclustered as upgrades,
         case when idx.reltablespace <> 0
              then pg_catalog.format(E'SET default_tablespace = %I;\n',
                                     (select spcname from pg_catalog.pg_tablespace where oid = idx.reltablespace)) end
           as set_tablespace,
         case when idx.reltablespace <> 0 then E'\nRESET default_tablespace;' end as reset_tablespace,
         pg_catalog.concat(
           case when idx.indisreplident
                then pg_catalog.format(E'\nALTER TABLE %s REPLICA IDENTITY USING INDEX %I;', r.target, idx.relname) end,
           case when idx.indisclustered
                then pg_catalog.format(E'\nALTER TABLE %s CLUSTER ON %I;', r.target, idx.relname) end,
           case when pg_catalog.obj_description(idx.indexrelid, 'pg_class') is not null
                then pg_catalog.format(E'\nCOMMENT ON INDEX %s IS %L;', idx.qualified,
                                       pg_catalog.obj_description(idx.indexrelid, 'pg_class')) end,
           case when idx.conoid is not null and pg_catalog.obj_description(idx.conoid, 'pg_constraint') is not null
                then pg_catalog.format(E'\nCOMMENT ON CONSTRAINT %I ON %s IS %L;', idx.conname,
                                       idx.indrelid::pg_catalog.regclass,
                                       pg_catalog.obj_description(idx.conoid, 'pg_constraint')) end) as sql
    from idx join rel r on r.oid = idx.indrelid
)
select 1 as step, 'constraint' as kind, idx.indrelid::pg_catalog.regclass::text as table_name,
       idx.conname as name,
       pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I;', r.target, idx.conname) as drop_sql,
       case when idx.using_index and idx.relkind <> 'p'
            then pg_catalog.format(E'%s%s%s;%s\nALTER TABLE %s ADD CONSTRAINT %I %s USING INDEX %I;%s',
                   a.serialize, a.set_tablespace, pg_catalog.pg_get_indexdef(idx.indexrelid), a.reset_tablespace,
                   r.target, idx.conname, case idx.contype when 'p' then 'PRIMARY KEY' else 'UNIQUE' end,
                   idx.relname, a.sql)
            else pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s;%s',
                   r.target, idx.conname, pg_catalog.pg_get_constraintdef(idx.conoid), a.sql) end as create_sql
  from idx join rel r on r.oid = idx.indrelid join after a on a.indexrelid = idx.indexrelid
 where idx.conoid is not null
union all
select 2, 'index', idx.indrelid::pg_catalog.regclass::text, idx.relname,
       pg_catalog.format('DROP INDEX IF EXISTS %s;', idx.qualified),
       pg_catalog.format('%s%s%s;%s%s',
         case when a.upgrades then a.serialize end, a.set_tablespace,
         -- a partitioned table's index is built on its partitions too
         case when idx.relkind = 'p'
              then pg_catalog.regexp_replace(pg_catalog.pg_get_indexdef(idx.indexrelid), ' ON ONLY ', ' ON ')
              else pg_catalog.pg_get_indexdef(idx.indexrelid) end, a.sql, a.reset_tablespace)
  from idx join after a on a.indexrelid = idx.indexrelid
 where idx.conoid is null
union all
select 3, 'foreign key', fk.conrelid::pg_catalog.regclass::text, fk.conname,
       pg_catalog.format('ALTER TABLE %s%s DROP CONSTRAINT IF EXISTS %I;',
                         case when c.relkind = 'p' then '' else 'ONLY ' end, fk.conrelid::pg_catalog.regclass, fk.conname),
       pg_catalog.format('ALTER TABLE %s%s ADD CONSTRAINT %I %s;%s',
                         case when c.relkind = 'p' then '' else 'ONLY ' end, fk.conrelid::pg_catalog.regclass, fk.conname,
                         pg_catalog.pg_get_constraintdef(fk.oid),
                         case when pg_catalog.obj_description(fk.oid, 'pg_constraint') is not null
                              then pg_catalog.format(E'\nCOMMENT ON CONSTRAINT %I ON %s IS %L;', fk.conname,
                                                     fk.conrelid::pg_catalog.regclass,
                                                     pg_catalog.obj_description(fk.oid, 'pg_constraint')) end)
  from pg_catalog.pg_constraint fk
  join pg_catalog.pg_class c on c.oid = fk.conrelid
 where fk.contype = 'f' and fk.conparentid = 0
   and (fk.conrelid in (select oid from tree) or fk.confrelid in (select oid from tree))
 order by 1, 3, 4
