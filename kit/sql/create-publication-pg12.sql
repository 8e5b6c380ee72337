-- As create-publication.sql, before PostgreSQL 13, which cannot publish a
-- partitioned table: its leaves are published, each under its own name, so
-- the subscriber needs the same partitions.  A relation of
-- migration_tables without an oid (not created yet) is no partitioned one.
select case when :'all_tables' = 'true'
            then pg_catalog.format('create publication %I for all tables;', :'pub')
            else pg_catalog.format(E'create publication %I for table\n  %s;',
                                   :'pub', pg_catalog.string_agg(l.qualified, E',\n  ' order by l.qualified)) end
  from (
    with recursive tree(oid, relkind) as (
      select m.oid, c.relkind
        from migration_tables m join pg_catalog.pg_class c on c.oid = m.oid
      union all
      select i.inhrelid, c.relkind
        from tree t
        join pg_catalog.pg_inherits i on i.inhparent = t.oid
        join pg_catalog.pg_class c on c.oid = i.inhrelid
       where t.relkind = 'p'
    )
    select pg_catalog.format('%I.%I', n.nspname, c.relname) as qualified
      from tree t
      join pg_catalog.pg_class c on c.oid = t.oid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where t.relkind <> 'p'
    union all
    select m.qualified from migration_tables m where m.oid is null
  ) l
