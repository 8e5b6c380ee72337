/*
 * The one way migkit talks to PostgreSQL: connect with a side label ("SRC",
 * "DST") so every error says which server failed, run queries with $n
 * parameters only, wait on any number of connections at once, read values
 * by column name, log the server's message once, where it happens, and on
 * Ctrl-C or SIGTERM cancel what runs on the servers.
 */
#ifndef MIGKIT_PG_H
#define MIGKIT_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

/* The oldest server migkit works with (server_version_num); older ones are refused on connecting. */
#define PG_OLDEST 110000

/*
 * The conninfo for a side: the option's value when given, else the
 * environment variable activate exports (SRCPG, DSTPG).  Logs and returns
 * NULL when neither is set.
 */
const char *pg_conninfo(const char *side, const char *option_value);

/*
 * Connects; on failure logs "cannot connect to SIDE: reason" and returns
 * NULL.  Waits at most connect_timeout (else 30 s), and gives up at once
 * when interrupted.  A server older than PG_OLDEST is refused.
 */
PGconn *pg_connect(const char *side, const char *conninfo);

/* pg_connect in two halves, so that many connections open at once. */
PGconn *pg_connect_start(const char *side, const char *conninfo);
bool pg_connect_wait(const char *side, PGconn *conn);

/* Closes a connection opened here (NULL is fine). */
void pg_finish(PGconn *conn);

/* Runs sql with text parameters; logs and returns NULL unless it returns rows or completes. */
PGresult *pg_query(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params);

/* pg_query for statements whose result is not needed. */
bool pg_exec(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params);

/* Sends sql without waiting; logs on failure. */
bool pg_send(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params);

/* Waits for and collects the result of pg_send; logs and returns NULL on error. */
PGresult *pg_receive(PGconn *conn, const char *side, const char *sql);

/*
 * pg_receive, except that a failure whose SQLSTATE is one of expected
 * (NULL-terminated) is not logged: NULL is returned with the code in code
 * (code is "" for any other outcome).
 */
PGresult *pg_receive_expect(PGconn *conn, const char *side, const char *sql, const char *const *expected,
							char code[6]);

/* One query of pg_query_all. */
typedef struct pg_request {
	PGconn *conn;
	const char *side;
	const char *sql; /* NULL: nothing to run on this one */
	int nparams;
	const char *const *params;
	PGresult *res; /* set once it has arrived */
} pg_request;

/*
 * Sends every request, then collects the results as they arrive, calling
 * arrived (when not NULL) for each one at once, while the others still run.
 * False (logged) when any failed: every result is then cleared.
 */
bool pg_query_all(pg_request *req, int n, void (*arrived)(pg_request *req, void *arg), void *arg);

/* Waiting on several connections: poll(2) for libpq. */
typedef struct pg_pollitem {
	PGconn *conn;
	bool write; /* wait until the socket takes data (connecting), else until it has some */
	bool ready; /* set by pg_poll */
} pg_pollitem;

/*
 * Waits until one of the items is ready or timeout seconds have passed (< 0:
 * no limit; n may be 0 for a pause).  Returns how many are ready (0 on the
 * timeout), or -1 when interrupted (the running queries are then cancelled)
 * or when waiting failed, both logged.
 */
int pg_poll(pg_pollitem *items, int n, double timeout);

/*
 * Ctrl-C and SIGTERM: after this, the first one makes pg_poll return -1 and
 * cancels the queries running on every open connection; a second one ends
 * the program at once.
 */
void pg_catch_interrupts(void);
bool pg_interrupted(void);

/* The server's last error, one line, trailing newline removed (static buffer). */
const char *pg_error_line(PGconn *conn);

/*
 * Reading a result by column name: pg_col finds the column (-1, logged, if
 * the query has none of that name); the readers take its number.
 */
int pg_col(const PGresult *res, const char *name);
const char *pg_text(const PGresult *res, int row, int col); /* NULL for SQL NULL */
char *pg_dup(const PGresult *res, int row, int col);        /* a copy; NULL for SQL NULL */
bool pg_bool(const PGresult *res, int row, int col);        /* NULL: false */
long long pg_int(const PGresult *res, int row, int col);    /* NULL: 0 */
double pg_num(const PGresult *res, int row, int col);       /* NULL: NAN */

/* Quotes an identifier for SQL text (PQescapeIdentifier); caller frees with free(). */
char *pg_quote_ident(PGconn *conn, const char *ident);

#endif
