/*
 * The kit's shared SQL (kit/sql/NAME.sql), embedded in the binary: the one
 * definition of each concept the scripts (through psql -f, or as a
 * subquery) and the C helpers both use, with the variant for a server's
 * version chosen in one place.
 */
#ifndef MIGKIT_SQL_H
#define MIGKIT_SQL_H

#include <libpq-fe.h>
#include <stdbool.h>

/*
 * The text of kit/sql/NAME.sql for a server of version server_version (as
 * PQserverVersion): the variant NAME-pgNN.sql with the smallest NN at least
 * the server's major when there is one, else NAME.sql.  Each psql variable
 * :'v' is replaced by $k, v being the k-th of vars (NULL-terminated), or,
 * for an entry "v=TEXT", by TEXT: an expression of the query the file
 * becomes part of (never a value: values are parameters).
 * Logs and returns NULL when there is no such file or it uses a variable
 * not in vars.  Caller frees.
 */
char *sql_load(const char *name, int server_version, const char *const *vars);

/*
 * The migration's tables (kit/sql/relations.sql, in_migration) as a query
 * with the columns oid, schema_name, name, qualified, partitioned, picked,
 * taking $1 include, $2 exclude, $3 pick (JSON arrays of globs).  Caller
 * frees; NULL (logged) on a defect.
 */
char *sql_tables(int server_version);

/*
 * Refuses SRC and DST being one database (kit/sql/identity.sql): logs
 * "SRC and DST are the same database ...: refusing to WHAT" and returns
 * false (also on a failed query, logged).  The roles connected on each
 * side are returned when the pointers are not NULL (caller frees).
 */
bool sql_distinct_sides(PGconn *src, PGconn *dst, const char *what, char **src_role, char **dst_role);

/* The JSON pattern lists the kit exports: MIGKIT_INCLUDE, MIGKIT_EXCLUDE, else "[]". */
const char *sql_include(void);
const char *sql_exclude(void);

#endif
