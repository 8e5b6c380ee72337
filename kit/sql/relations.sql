-- The database's own relations: not in a system schema, not in migkit's
-- own schema (its heartbeat), not a member of an extension; TOAST tables
-- and composite types left out.
--   in_migration  the tables the migration moves: ordinary and partitioned
--                 tables, permanent (unlogged and temporary ones cannot be
--                 replicated), a partition through its root; those matching
--                 an include pattern (none given: all) and no exclude one
--   picked        matches a pick pattern (none given: all): the relations a
--                 helper was asked about (migkit diff --table)
-- Patterns are globs on schema.name: * any run of characters, ? one
-- character, anything else itself.
-- Parameters: :'include', :'exclude', :'pick', JSON arrays of patterns.
with globs as (
  select l.list,
         '^' || pg_catalog.replace(pg_catalog.replace(
                    pg_catalog.regexp_replace(g.p, '([.+^$(){}|\[\]\\])', '\\\1', 'g'),
                    '*', '.*'), '?', '.') || '$' as re
    from (values ('include', :'include'), ('exclude', :'exclude'), ('pick', :'pick')) as l(list, patterns)
   cross join lateral pg_catalog.jsonb_array_elements_text(l.patterns::pg_catalog.jsonb) as g(p)
), lists as (
  select exists (select from globs where list = 'include') as include_given,
         exists (select from globs where list = 'pick') as pick_given
)
select c.oid, n.nspname as schema_name, c.relname as name,
       pg_catalog.format('%I.%I', n.nspname, c.relname) as qualified,
       c.relkind, c.relkind = 'p' as partitioned, c.relpersistence, c.relispartition,
       c.relkind in ('r', 'p') and c.relpersistence = 'p' and not c.relispartition
         and (not lists.include_given
              or exists (select from globs g
                          where g.list = 'include' and n.nspname || '.' || c.relname ~ g.re))
         and not exists (select from globs g
                          where g.list = 'exclude' and n.nspname || '.' || c.relname ~ g.re)
         as in_migration,
       not lists.pick_given
         or exists (select from globs g
                     where g.list = 'pick' and n.nspname || '.' || c.relname ~ g.re)
         as picked
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 cross join lists
 where c.relkind not in ('t', 'c')
   and n.nspname not in ('pg_catalog', 'information_schema', 'migkit')
   and n.nspname !~ '^pg_(toast|temp_)'
   and not exists (select from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      and d.objid = c.oid and d.deptype = 'e')
