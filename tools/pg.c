/*
 * Connections and queries (see pg.h).  Every query is sent asynchronously
 * and waited for with poll(2) over the connection's socket and a pipe the
 * signal handler writes to, so that Ctrl-C always reaches the program: the
 * queries still running on the servers are then cancelled, not left behind.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg.h"
#include "util.h"

/* Every connection open, for the cancellation on an interrupt. */
static PGconn **open_conns;
static int nopen, capopen;

static volatile sig_atomic_t interrupted;
static struct timespec interrupted_at;
static int wake_pipe[2] = {-1, -1};
static bool cancelled;

/*
 * The first Ctrl-C (or SIGTERM) asks for a clean end: the running queries
 * are cancelled.  Another one a second or more later ends the program at
 * once; one that comes with the first (timeout(1) signals the child and
 * then its process group) is the same request.
 */
static void
on_interrupt(int sig)
{
	int saved = errno;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (interrupted &&
		(now.tv_sec - interrupted_at.tv_sec) * 1000000000L + (now.tv_nsec - interrupted_at.tv_nsec) >=
			1000000000L) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	if (!interrupted) {
		interrupted = sig;
		interrupted_at = now;
	}
	if (wake_pipe[1] >= 0)
		(void) !write(wake_pipe[1], "x", 1);
	errno = saved;
}

void
pg_catch_interrupts(void)
{
	struct sigaction sa;

	if (wake_pipe[0] < 0 && pipe(wake_pipe) == 0) {
		fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK);
		fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
		fcntl(wake_pipe[0], F_SETFD, FD_CLOEXEC);
		fcntl(wake_pipe[1], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
pg_interrupted(void)
{
	return interrupted != 0;
}

static void
register_conn(PGconn *conn)
{
	if (nopen == capopen) {
		capopen = capopen ? capopen * 2 : 16;
		open_conns = xrealloc(open_conns, (size_t) capopen * sizeof(PGconn *));
	}
	open_conns[nopen++] = conn;
}

void
pg_finish(PGconn *conn)
{
	int i;

	if (conn == NULL)
		return;
	for (i = 0; i < nopen; i++)
		if (open_conns[i] == conn) {
			open_conns[i] = open_conns[--nopen];
			break;
		}
	if (nopen == 0) {
		free(open_conns);
		open_conns = NULL;
		capopen = 0;
	}
	PQfinish(conn);
}

/*
 * Cancels the query running on each open connection (once): the servers
 * stop their work instead of finishing it for a client that is gone.
 * PQcancel waits for the server to close the cancel connection, and a
 * stopped or cut-off server never does: each request is sent from a child
 * process of its own, and those not answered within CANCEL_WAIT seconds
 * are given up.  Silent when nothing was waited for (a pause between
 * refreshes).
 */
#define CANCEL_WAIT 2.0

static void
cancel_running(bool waiting)
{
	pid_t *pids;
	int i, fd[2], sent = 0, n = 0, answered = 0;
	double deadline = now_seconds() + CANCEL_WAIT;

	if (cancelled)
		return;
	cancelled = true;
	if (pipe(fd) != 0) {
		log_error("interrupted: cannot cancel the running queries: %s", strerror(errno));
		return;
	}
	pids = xcalloc((size_t) nopen + 1, sizeof(pid_t));
	for (i = 0; i < nopen; i++) {
		PGcancel *c;

		if (PQstatus(open_conns[i]) != CONNECTION_OK || PQtransactionStatus(open_conns[i]) != PQTRANS_ACTIVE)
			continue;
		if ((c = PQgetCancel(open_conns[i])) == NULL)
			continue;
		pids[sent] = fork();
		if (pids[sent] == 0) {
			char err[256], ok;

			close(fd[0]);
			ok = PQcancel(c, err, sizeof(err)) ? 'y' : 'n';
			(void) !write(fd[1], &ok, 1);
			_exit(0);
		}
		PQfreeCancel(c);
		if (pids[sent] > 0)
			sent++;
	}
	close(fd[1]);
	while (answered < sent) {
		struct pollfd p = {.fd = fd[0], .events = POLLIN};
		double left = deadline - now_seconds();
		char got;

		if (left <= 0 || poll(&p, 1, (int) ceil(left * 1000)) <= 0 || read(fd[0], &got, 1) != 1)
			break;
		answered++;
		if (got == 'y')
			n++;
	}
	close(fd[0]);
	for (i = 0; i < sent; i++) {
		kill(pids[i], SIGKILL); /* gone already, or still waiting for its server */
		waitpid(pids[i], NULL, 0);
	}
	free(pids);
	if (answered < sent)
		log_error("interrupted: %d of %d running quer%s could not be cancelled: the server did not answer "
				  "within %.0f s",
				  sent - answered, sent, sent == 1 ? "y" : "ies", CANCEL_WAIT);
	else if (waiting || n > 0)
		log_error("interrupted%s", n ? ": the queries still running on the servers were cancelled" : "");
}

int
pg_poll(pg_pollitem *items, int n, double timeout)
{
	struct pollfd *fds = xcalloc((size_t) n + 1, sizeof(struct pollfd));
	double deadline = timeout >= 0 ? now_seconds() + timeout : INFINITY;
	int i, ready = -1;

	for (;;) {
		double left = deadline - now_seconds();
		int r;

		if (interrupted) {
			cancel_running(n > 0);
			break;
		}
		for (i = 0; i < n; i++) {
			fds[i].fd = PQsocket(items[i].conn);
			fds[i].events = items[i].write ? POLLOUT : POLLIN;
			fds[i].revents = 0;
			items[i].ready = false;
		}
		fds[n].fd = wake_pipe[0];
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		r = poll(fds, (nfds_t) n + 1, left == INFINITY ? -1 : left <= 0 ? 0 : (int) ceil(left * 1000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			log_error("cannot wait for the servers: %s", strerror(errno));
			break;
		}
		if (interrupted)
			continue;
		ready = 0;
		for (i = 0; i < n; i++)
			if (fds[i].revents != 0) {
				items[i].ready = true;
				ready++;
			}
		if (ready > 0 || now_seconds() >= deadline)
			break;
	}
	free(fds);
	return ready;
}

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
	register_conn(conn);
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

	if (interrupted)
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
	if (!interrupted)
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
