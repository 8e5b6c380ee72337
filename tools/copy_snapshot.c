/*
 * The fast copy's replication slot and the snapshot it exports.  The
 * snapshot lives only while the replication connection that created the
 * slot stays open and sends nothing more, so that connection is held by a
 * child process in a session of its own: a copy stopped by Ctrl-C, or
 * killed, leaves it open, and a rerun imports the same snapshot and goes
 * on where it stopped.  The holder ends when the copy tells it the data is
 * copied (SIGTERM), when SRC closes the connection, or once no migkit copy
 * has held the kit's lock for --hold seconds.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy.h"
#include "pg.h"
#include "util.h"

/*
 * Creates the slot on the replication connection conn; its consistent
 * point and the snapshot's name are written to fd as "ok LSN SNAPSHOT".
 */
static bool
create_slot(PGconn *conn, const char *slot, int fd)
{
	char *quoted = pg_quote_ident(conn, slot), *sql;
	PGresult *res;
	bool ok = false;

	if (quoted == NULL)
		return false;
	/* The option list came with PostgreSQL 15; the keyword form is gone from 16's grammar documentation. */
	if (PQserverVersion(conn) >= 150000)
		sql = xasprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT 'export')", quoted);
	else
		sql = xasprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput EXPORT_SNAPSHOT", quoted);
	if (pg_send_simple(conn, "SRC", sql) && (res = pg_receive(conn, "SRC", sql)) != NULL) {
		const char *lsn = pg_text(res, 0, pg_col(res, "consistent_point"));
		const char *snap = pg_text(res, 0, pg_col(res, "snapshot_name"));

		if (lsn && snap) {
			char *line = xasprintf("ok %s %s\n", lsn, snap);

			ok = write(fd, line, strlen(line)) == (ssize_t) strlen(line);
			free(line);
		} else
			log_error("CREATE_REPLICATION_SLOT on SRC returned no snapshot");
		PQclear(res);
	}
	free(sql);
	free(quoted);
	return ok;
}

/*
 * The holder's life after the handshake: no terminal, nothing inherited
 * but the connection, until it is told to end, SRC goes, or no copy has
 * run for hold seconds.
 */
static void
hold(PGconn *conn, const char *lock_path, double hold_seconds)
{
	int fd, lock, sock = PQsocket(conn);
	double idle_since = -1;

	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	for (fd = 3; fd < 1024; fd++)
		if (fd != sock)
			close(fd);
	lock = open(lock_path, O_RDWR | O_CLOEXEC);
	for (;;) {
		struct pollfd p = {.fd = sock, .events = POLLIN};

		if (poll(&p, 1, 1000) > 0 && (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK))
			break;
		if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) == 0) {
			if (lock >= 0)
				flock(lock, LOCK_UN);
			if (idle_since < 0)
				idle_since = now_seconds();
			if (now_seconds() - idle_since >= hold_seconds)
				break;
		} else
			idle_since = -1;
	}
	PQfinish(conn);
}

bool
copy_snapshot_create(const copy_options *opt, const char *lock_path, copy_state *st)
{
	int fds[2];
	char buf[256], lsn[128], snap[128];
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fds) != 0) {
		log_error("cannot create a pipe: %s", strerror(errno));
		return false;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error("cannot start the process that holds the snapshot: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		PGconn *conn;

		close(fds[0]);
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		conn = pg_connect_replication("SRC", opt->conninfo[0]);
		if (conn == NULL || !create_slot(conn, opt->slot, fds[1])) {
			PQfinish(conn);
			_exit(EXIT_TROUBLE);
		}
		close(fds[1]);
		hold(conn, lock_path, opt->hold);
		_exit(EXIT_DONE);
	}
	close(fds[1]);
	while (got < (ssize_t) sizeof(buf) - 1 &&
		   (n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t) got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
		if (memchr(buf, '\n', (size_t) got))
			break;
	}
	close(fds[0]);
	buf[got > 0 ? got : 0] = '\0';
	if (sscanf(buf, "ok %127s %127s", lsn, snap) != 2) {
		waitpid(pid, NULL, 0); /* it said why */
		return false;
	}
	free(st->lsn);
	free(st->snapshot);
	st->lsn = xstrdup(lsn);
	st->snapshot = xstrdup(snap);
	st->holder = (long) pid;
	return true;
}

/* True when pid is a live migkit process (a dead child of ours is reaped here). */
static bool
is_migkit(long pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	if (pid <= 0)
		return false;
	(void) waitpid((pid_t) pid, NULL, WNOHANG);
	if (kill((pid_t) pid, 0) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((f = fopen(path, "r")) == NULL)
		return true; /* no /proc: the pid is all there is to go by */
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "migkit", 6) == 0;
}

bool
copy_process_alive(long pid)
{
	return is_migkit(pid);
}

bool
copy_snapshot_held(const copy_state *st)
{
	return st->snapshot != NULL && is_migkit(st->holder);
}

void
copy_snapshot_release(copy_state *st)
{
	double deadline = now_seconds() + 5;

	if (is_migkit(st->holder)) {
		kill((pid_t) st->holder, SIGTERM);
		while (is_migkit(st->holder) && now_seconds() < deadline)
			usleep(20000);
	}
	st->holder = 0;
	free(st->snapshot);
	st->snapshot = NULL;
}

char *
copy_snapshot_import_sql(const char *snapshot)
{
	const char *p;

	for (p = snapshot; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f') || *p == '-'))
			break;
	if (*snapshot == '\0' || *p != '\0') {
		log_error(
			"the state file names a snapshot that is no snapshot name (\"%s\"): move it away to start over",
			snapshot);
		return NULL;
	}
	return xasprintf("set transaction snapshot '%s'", snapshot);
}
