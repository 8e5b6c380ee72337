-- The statement that creates the publication :'pub' of the relations in
-- the caller's CTE migration_tables (oid, qualified; the oid NULL for one
-- not created yet), or FOR ALL TABLES
-- when :'all_tables' is true.  From PostgreSQL 13 on a partitioned table is
-- published through its root (publish_via_partition_root): it is copied
-- and streamed as the root, so the subscriber may partition it otherwise.
select case when :'all_tables' = 'true'
            then pg_catalog.format('create publication %I for all tables with (publish_via_partition_root = true);', :'pub')
            else pg_catalog.format(E'create publication %I for table\n  %s\n  with (publish_via_partition_root = true);',
                                   :'pub', pg_catalog.string_agg(m.qualified, E',\n  ' order by m.qualified)) end
  from migration_tables m
