/*
 * Waiting for the servers, and Ctrl-C (see pg.h): pg_poll waits with
 * poll(2) over the connections' sockets and a pipe the signal handler
 * writes to, so that an interrupt always reaches the program; the queries
 * still running on the servers are then cancelled, not left behind.  Every
 * connection pg.c opens is registered here for that, until pg_finish.
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

void
pg_register(PGconn *conn)
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
