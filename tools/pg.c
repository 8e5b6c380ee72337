/*
 * Connection and query helpers shared by the C subcommands.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include "util.h"
#include "pg.h"

static const char *
side_env(const char *side)
{
	return strcmp(side, "SRC") == 0 ? "SRCPG" : "DSTPG";
}

const char *
pg_conninfo(const char *side, const char *option_value)
{
	const char *v = option_value;

	if (v == NULL || *v == '\0')
		v = getenv(side_env(side));
	if (v == NULL || *v == '\0') {
		log_error("no connection for %s: give --%s or source the kit's activate (it exports %s)", side,
				  strcmp(side, "SRC") == 0 ? "src" : "dst", side_env(side));
		return NULL;
	}
	return v;
}

static char *
one_line(const char *msg)
{
	static char buf[2048];
	size_t n;
	char *p;

	snprintf(buf, sizeof(buf), "%s", msg ? msg : "");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return buf;
}

const char *
pg_error_line(PGconn *conn)
{
	return one_line(PQerrorMessage(conn));
}

static const char *const conn_keywords[] = {"dbname", "application_name", "fallback_application_name", NULL};

PGconn *
pg_connect_start(const char *side, const char *conninfo)
{
	const char *values[] = {conninfo, NULL, "migkit", NULL};
	PGconn *conn;

	if (conninfo == NULL)
		return NULL;
	conn = PQconnectStartParams(conn_keywords, values, 1);
	if (conn == NULL) {
		log_error("cannot connect to %s: out of memory", side);
		return NULL;
	}
	if (PQstatus(conn) == CONNECTION_BAD) {
		log_error("cannot connect to %s: %s", side, pg_error_line(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * Seconds a non-blocking connection may take: libpq applies connect_timeout
 * only to blocking connections, so the wait loop applies it itself (from the
 * conninfo or PGCONNECT_TIMEOUT), and never waits forever (default 30 s).
 */
static double
connect_timeout_of(PGconn *conn)
{
	PQconninfoOption *opts = PQconninfo(conn), *o;
	long secs = 0;

	for (o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val)
			(void) parse_long(o->val, &secs);
	PQconninfoFree(opts);
	return secs > 0 ? (double) secs : 30.0;
}

bool
pg_connect_wait(const char *side, PGconn *conn)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	double timeout = connect_timeout_of(conn);
	double deadline = now_seconds() + timeout;

	for (;;) {
		fd_set fds;
		int sock = PQsocket(conn), n;
		double left = deadline - now_seconds();
		struct timeval tv;

		if (st == PGRES_POLLING_OK)
			return true;
		if (st == PGRES_POLLING_FAILED || sock < 0)
			break;
		if (left <= 0) {
			log_error("cannot connect to %s: no answer within %.0f s (connect_timeout)", side, timeout);
			return false;
		}
		tv.tv_sec = (time_t) left;
		tv.tv_usec = (suseconds_t) ((left - (double) tv.tv_sec) * 1e6);
		FD_ZERO(&fds);
		FD_SET(sock, &fds);
		n = select(sock + 1, st == PGRES_POLLING_READING ? &fds : NULL,
				   st == PGRES_POLLING_WRITING ? &fds : NULL, NULL, &tv);
		if (n < 0)
			break;
		if (n == 0)
			continue;
		st = PQconnectPoll(conn);
	}
	log_error("cannot connect to %s: %s", side, pg_error_line(conn));
	return false;
}

PGconn *
pg_connect(const char *side, const char *conninfo)
{
	const char *values[] = {conninfo, NULL, "migkit", NULL};
	PGconn *conn;

	if (conninfo == NULL)
		return NULL;
	conn = PQconnectdbParams(conn_keywords, values, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		log_error("cannot connect to %s: %s", side, conn ? pg_error_line(conn) : "out of memory");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static bool
result_ok(PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

static void
log_query_error(const char *side, PGresult *res, PGconn *conn, const char *sql)
{
	const char *msg = res ? PQresultErrorMessage(res) : NULL;

	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(conn);
	log_error("query on %s failed: %s", side, one_line(msg));
	if (sql)
		log_error("the query was: %s", one_line(sql));
}

PGresult *
pg_query(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);

	if (res == NULL || !result_ok(res)) {
		log_query_error(side, res, conn, sql);
		PQclear(res);
		return NULL;
	}
	return res;
}

bool
pg_exec(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = pg_query(conn, side, sql, nparams, params);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

bool
pg_send(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params)
{
	if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)) {
		log_query_error(side, NULL, conn, sql);
		return false;
	}
	return true;
}

PGresult *
pg_receive(PGconn *conn, const char *side, const char *sql)
{
	PGresult *res, *last = NULL;
	bool failed = false;

	while ((res = PQgetResult(conn)) != NULL) {
		if (!result_ok(res)) {
			if (!failed)
				log_query_error(side, res, conn, sql);
			failed = true;
		}
		PQclear(last);
		last = res;
	}
	if (failed || last == NULL) {
		if (!failed)
			log_query_error(side, NULL, conn, sql);
		PQclear(last);
		return NULL;
	}
	return last;
}

const char *
pg_value(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

char *
pg_quote_ident(PGconn *conn, const char *ident)
{
	char *q = PQescapeIdentifier(conn, ident, strlen(ident));
	char *copy;

	if (q == NULL) {
		log_error("cannot quote identifier: %s", pg_error_line(conn));
		return NULL;
	}
	copy = xstrdup(q);
	PQfreemem(q);
	return copy;
}
