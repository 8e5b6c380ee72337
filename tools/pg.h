/*
 * The one way migkit talks to PostgreSQL: connect with a side label ("SRC",
 * "DST") so every error says which server failed, run queries with $n
 * parameters only, and log the server's message once, where it happens.
 */
#ifndef MIGKIT_PG_H
#define MIGKIT_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

/*
 * The conninfo for a side: the option's value when given, else the
 * environment variable activate exports (SRCPG, DSTPG).  Logs and returns
 * NULL when neither is set.
 */
const char *pg_conninfo(const char *side, const char *option_value);

/* Connects; on failure logs "cannot connect to SIDE: reason" and returns NULL. */
PGconn *pg_connect(const char *side, const char *conninfo);

/* Like pg_connect, but starts a non-blocking connection; finish with pg_connect_wait. */
PGconn *pg_connect_start(const char *side, const char *conninfo);
bool pg_connect_wait(const char *side, PGconn *conn);

/* Runs sql with text parameters; logs and returns NULL unless it returns rows or completes. */
PGresult *pg_query(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params);

/* pg_query for statements whose result is not needed. */
bool pg_exec(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params);

/* Sends sql without waiting (async); logs on failure. */
bool pg_send(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params);

/* Collects the result of pg_send (blocking); logs and returns NULL on error. */
PGresult *pg_receive(PGconn *conn, const char *side, const char *sql);

/* The server's last error, one line, trailing newline removed (static buffer). */
const char *pg_error_line(PGconn *conn);

/* Value of row, col or NULL when SQL NULL. */
const char *pg_value(const PGresult *res, int row, int col);

/* Quotes an identifier for SQL text (PQescapeIdentifier); caller frees with free(). */
char *pg_quote_ident(PGconn *conn, const char *ident);

#endif
