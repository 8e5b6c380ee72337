-- The tables this migration moves: ordinary and partitioned tables outside
-- the system schemas, extensions and migkit's own schema (its heartbeat) (a partition travels with its root;
-- unlogged and temporary tables cannot be replicated), kept when they match
-- an include pattern (none given: all) and no exclude pattern.  Patterns are
-- globs on schema.table: * any run of characters, ? one character.
-- Parameters: :'include' and :'exclude', JSON arrays of patterns.
select c.oid::regclass::text as qualified, n.nspname as schema_name, c.relname as table_name,
       c.relkind = 'p' as partitioned
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p')
   and c.relpersistence = 'p'
   and not c.relispartition
   and n.nspname not in ('pg_catalog', 'information_schema', 'migkit')
   and n.nspname !~ '^pg_(toast|temp_)'
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::regclass
                      and d.objid = c.oid and d.deptype = 'e')
   and (jsonb_array_length(:'include'::jsonb) = 0
        or exists (select 1 from jsonb_array_elements_text(:'include'::jsonb) g(p)
                    where n.nspname || '.' || c.relname ~ ('^' || replace(replace(
                          regexp_replace(g.p, '([.+^$(){}|\[\]\\])', '\\\1', 'g'),
                          '*', '.*'), '?', '.') || '$')))
   and not exists (select 1 from jsonb_array_elements_text(:'exclude'::jsonb) g(p)
                    where n.nspname || '.' || c.relname ~ ('^' || replace(replace(
                          regexp_replace(g.p, '([.+^$(){}|\[\]\\])', '\\\1', 'g'),
                          '*', '.*'), '?', '.') || '$'))
 order by 2, 3
