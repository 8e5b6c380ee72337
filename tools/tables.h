/*
 * The set of tables a migration moves, defined once in kit/tables.sql and
 * shared by the kit's scripts (through psql) and the C helpers.
 */
#ifndef MIGKIT_TABLES_H
#define MIGKIT_TABLES_H

/*
 * The query from kit/tables.sql with its psql variables turned into $1
 * (include) and $2 (exclude); columns: qualified, schema_name, table_name,
 * partitioned.  Caller frees.
 */
char *tables_query(void);

/* The JSON pattern lists for $1 and $2: MIGKIT_INCLUDE, MIGKIT_EXCLUDE or "[]". */
const char *tables_include(void);
const char *tables_exclude(void);

#endif
