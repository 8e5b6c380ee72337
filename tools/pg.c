/*
 * Connections and queries (see pg.h).  Every query is sent asynchronously
 * and waited for with pg_poll (pg_poll.c), so that Ctrl-C always reaches
 * the program.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "util.h"

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

static const char *const conn_keywords[] = {"dbname", "application_name", "fallback_application_name",
											"replication", NULL};

static PGconn *
connect_start(const char *side, const char *conninfo, const char *replication)
{
	const char *values[] = {conninfo, NULL, "migkit", replication, NULL};
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
	pg_register(conn);
	return conn;
}

PGconn *
pg_connect_start(const char *side, const char *conninfo)
{
	return connect_start(side, conninfo, NULL);
}

/*
 * Seconds a non-blocking connection may take: libpq applies connect_timeout
 * only to blocking connections, so the wait applies it itself (from the
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

/*
 * Waits for a connection started by connect_start; a session for SQL
 * (not a replication connection, which takes no extended-protocol query)
 * gets JIT turned off.
 */
static bool
connect_wait(const char *side, PGconn *conn, bool sql_session)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	double timeout = connect_timeout_of(conn);
	double deadline = now_seconds() + timeout;

	for (;;) {
		pg_pollitem item = {conn, st == PGRES_POLLING_WRITING, false};
		int n;

		if (st == PGRES_POLLING_OK) {
			/*
			 * Every SQL of migkit holds from PG_OLDEST on.  JIT is off: the
			 * catalog queries' row estimates at thousands of tables cost
			 * seconds of compiling for milliseconds of work.
			 */
			if (PQserverVersion(conn) >= PG_OLDEST)
				return !sql_session || pg_exec(conn, side, "set jit = off", 0, NULL);
			log_error("%s runs PostgreSQL %s: migkit works with %d and later", side,
					  PQparameterStatus(conn, "server_version"), PG_OLDEST / 10000);
			return false;
		}
		if (st == PGRES_POLLING_FAILED || PQsocket(conn) < 0)
			break;
		if (now_seconds() >= deadline) {
			log_error("cannot connect to %s: no answer within %.0f s (connect_timeout)", side, timeout);
			return false;
		}
		n = pg_poll(&item, 1, deadline - now_seconds());
		if (n < 0)
			return false;
		if (n == 0)
			continue;
		st = PQconnectPoll(conn);
	}
	log_error("cannot connect to %s: %s", side, pg_error_line(conn));
	return false;
}

bool
pg_connect_wait(const char *side, PGconn *conn)
{
	return connect_wait(side, conn, true);
}

PGconn *
pg_connect(const char *side, const char *conninfo)
{
	PGconn *conn = pg_connect_start(side, conninfo);

	if (conn && !pg_connect_wait(side, conn)) {
		pg_finish(conn);
		return NULL;
	}
	return conn;
}

PGconn *
pg_connect_replication(const char *side, const char *conninfo)
{
	PGconn *conn = connect_start(side, conninfo, "database");

	if (conn && !connect_wait(side, conn, false)) {
		pg_finish(conn);
		return NULL;
	}
	return conn;
}

bool
pg_connect_all(const char *side, const char *conninfo, PGconn **conns, int n, const char *setup_sql)
{
	bool ok = true;
	int i;

	for (i = 0; i < n; i++)
		conns[i] = pg_connect_start(side, conninfo);
	for (i = 0; i < n; i++)
		if (!ok || conns[i] == NULL || !pg_connect_wait(side, conns[i]) ||
			(setup_sql && !pg_exec(conns[i], side, setup_sql, 0, NULL)))
			ok = false;
	if (!ok)
		for (i = 0; i < n; i++) {
			pg_finish(conns[i]);
			conns[i] = NULL;
		}
	return ok;
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

	if (pg_interrupted())
		return; /* the cancellation is the reason; it was said */
	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(conn);
	log_error("query on %s failed: %s", side, one_line(msg));
	if (sql)
		log_error("the query was: %s", one_line(sql));
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

bool
pg_send_simple(PGconn *conn, const char *side, const char *sql)
{
	if (!PQsendQuery(conn, sql)) {
		log_query_error(side, NULL, conn, sql);
		return false;
	}
	return true;
}

/* Reads what has arrived; false (logged) when the connection is lost. */
static bool
consume(PGconn *conn, const char *side)
{
	if (PQconsumeInput(conn))
		return true;
	if (!pg_interrupted())
		log_error("lost the connection to %s: %s", side, pg_error_line(conn));
	return false;
}

/* Collects the results of a query whose answer is complete (not busy). */
static PGresult *
collect(PGconn *conn, const char *side, const char *sql, const char *const *expected, char *code)
{
	PGresult *res, *last = NULL;
	bool failed = false;

	if (code)
		code[0] = '\0';
	while ((res = PQgetResult(conn)) != NULL) {
		if (!result_ok(res) && !failed) {
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			const char *const *e;

			failed = true;
			for (e = expected; state && e && *e; e++)
				if (strcmp(state, *e) == 0)
					snprintf(code, 6, "%s", state);
			if (code == NULL || code[0] == '\0')
				log_query_error(side, res, conn, sql);
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

/* Waits until the answer to what was sent on conn is complete. */
static bool
wait_answer(PGconn *conn, const char *side)
{
	for (;;) {
		pg_pollitem item = {conn, false, false};

		if (!consume(conn, side))
			return false;
		if (!PQisBusy(conn))
			return true;
		if (pg_poll(&item, 1, -1) < 0)
			return false;
	}
}

PGresult *
pg_receive(PGconn *conn, const char *side, const char *sql)
{
	if (!wait_answer(conn, side))
		return NULL;
	return collect(conn, side, sql, NULL, NULL);
}

PGresult *
pg_receive_expect(PGconn *conn, const char *side, const char *sql, const char *const *expected, char code[6])
{
	code[0] = '\0';
	if (!wait_answer(conn, side))
		return NULL;
	return collect(conn, side, sql, expected, code);
}

PGresult *
pg_query(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params)
{
	if (!pg_send(conn, side, sql, nparams, params))
		return NULL;
	return pg_receive(conn, side, sql);
}

bool
pg_exec(PGconn *conn, const char *side, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = pg_query(conn, side, sql, nparams, params);

	PQclear(res);
	return res != NULL;
}

bool
pg_query_all(pg_request *req, int n, void (*arrived)(pg_request *, void *), void *arg)
{
	pg_pollitem *items = xcalloc((size_t) n + 1, sizeof(pg_pollitem));
	int *which = xcalloc((size_t) n + 1, sizeof(int));
	bool *pending = xcalloc((size_t) n + 1, sizeof(bool));
	bool ok = true;
	int i, left = 0;

	for (i = 0; i < n; i++) {
		req[i].res = NULL;
		if (req[i].sql == NULL)
			continue;
		if (pg_send(req[i].conn, req[i].side, req[i].sql, req[i].nparams, req[i].params)) {
			pending[i] = true;
			left++;
		} else
			ok = false;
	}
	while (left > 0) {
		int k = 0;

		for (i = 0; i < n; i++) {
			if (!pending[i])
				continue;
			if (!consume(req[i].conn, req[i].side)) {
				pending[i] = false;
				left--;
				ok = false;
				continue;
			}
			if (PQisBusy(req[i].conn)) {
				items[k].conn = req[i].conn;
				items[k].write = false;
				which[k++] = i;
				continue;
			}
			pending[i] = false;
			left--;
			req[i].res = collect(req[i].conn, req[i].side, req[i].sql, NULL, NULL);
			if (req[i].res == NULL)
				ok = false;
			else if (arrived && ok)
				arrived(&req[i], arg);
		}
		if (k > 0 && pg_poll(items, k, -1) < 0) {
			ok = false;
			break;
		}
	}
	if (!ok)
		for (i = 0; i < n; i++) {
			PQclear(req[i].res);
			req[i].res = NULL;
		}
	free(items);
	free(which);
	free(pending);
	return ok;
}

int
pg_col(const PGresult *res, const char *name)
{
	int c = PQfnumber(res, name);

	if (c < 0)
		log_error("internal error: the query has no column \"%s\"", name);
	return c;
}

const char *
pg_text(const PGresult *res, int row, int col)
{
	if (col < 0 || row < 0 || row >= PQntuples(res) || PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

char *
pg_dup(const PGresult *res, int row, int col)
{
	const char *v = pg_text(res, row, col);

	return v ? xstrdup(v) : NULL;
}

bool
pg_bool(const PGresult *res, int row, int col)
{
	const char *v = pg_text(res, row, col);

	return v && v[0] == 't';
}

long long
pg_int(const PGresult *res, int row, int col)
{
	const char *v = pg_text(res, row, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

double
pg_num(const PGresult *res, int row, int col)
{
	const char *v = pg_text(res, row, col);

	return v ? strtod(v, NULL) : NAN;
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
