/*
 * The fast copy's work on --jobs connections per side (copy_pool.c opens
 * them), driven together
 * with pg_poll: each pair of connections takes the next chunk, streams
 * COPY ... TO STDOUT on SRC into COPY ... FROM STDIN on DST through libpq
 * (nothing lands in a file; a row DST cannot take yet waits, and SRC is
 * not read meanwhile), and once a table is copied its indexes and
 * constraints are built again on DST, several at once, while other tables
 * still copy; foreign keys come last.  Every SRC session reads inside the
 * slot's snapshot; every DST session writes with the triggers of a
 * replica (as the subscription's own workers do), asynchronous commit and
 * a large maintenance_work_mem.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "pg.h"
#include "util.h"

/* ---- the work loop ---- */

typedef enum { W_IDLE, W_OPEN, W_STREAM, W_CLOSE, W_BUILD } wstate;

typedef struct worker {
	PGconn *src, *dst;
	wstate state;
	copy_chunk *chunk;
	copy_deferred *item;
	char *sql; /* the statement running on DST (W_BUILD) */
	bool src_copying, dst_copying;
	bool flush;    /* DST's socket must take what libpq holds first */
	bool end_sent; /* PQputCopyEnd done */
	bool more;     /* rows wait in libpq's buffer: serve again without waiting */
	char *pending; /* a row DST's buffer did not take */
	int npending;
	long long rows_out; /* SRC's count */
	double started;
} worker;

typedef struct loop {
	copy_pool *pool;
	copy_plan *plan;
	copy_state *st;
	worker w[COPY_MAX_JOBS];
	copy_table **owner; /* the table of each deferred item; NULL for a partition's */
	int next_chunk;
	bool failed;
	bool data_done; /* every chunk copied: the snapshot is let go */
} loop;

static void
chunk_failed(worker *w, const char *side, PGconn *conn, const char *sql)
{
	if (!pg_interrupted()) {
		log_error("COPY of %s failed on %s: %s", w->chunk->table->name, side, pg_error_line(conn));
		log_error("the query was: %s", sql);
	}
	w->chunk->table->failed = true;
}

/* The next chunk to copy, when there is one and this worker can read SRC. */
static copy_chunk *
next_chunk(loop *l, worker *w)
{
	while (w->src && l->next_chunk < l->plan->nchunks) {
		copy_chunk *c = l->plan->chunks[l->next_chunk++];

		if (c->state == 0)
			return c;
	}
	return NULL;
}

/*
 * The next index or constraint to build: one of a copied table (or, for a
 * partition's own, once every table is copied), foreign keys once every
 * index is built.
 */
static copy_deferred *
next_deferred(loop *l)
{
	copy_state *st = l->st;
	bool indexes_left = false;
	int i;

	for (i = 0; i < st->ndeferred; i++) {
		copy_deferred *d = st->deferred[i];

		if (d->done || d->step == 3)
			continue;
		indexes_left = true;
		if (!d->running && (l->owner[i] ? l->owner[i]->done : l->data_done))
			return d;
	}
	if (indexes_left || !l->data_done)
		return NULL;
	for (i = 0; i < st->ndeferred; i++)
		if (!st->deferred[i]->done && !st->deferred[i]->running)
			return st->deferred[i];
	return NULL;
}

static bool
start_chunk(worker *w, copy_chunk *c)
{
	w->chunk = c;
	c->state = 1;
	w->src_copying = w->dst_copying = false;
	w->flush = w->end_sent = w->more = false;
	w->rows_out = 0;
	w->started = now_seconds();
	if (c->table->started == 0)
		c->table->started = w->started;
	if (!pg_send(w->dst, "DST", c->sql_in, 0, NULL) || !pg_send(w->src, "SRC", c->sql_out, 0, NULL)) {
		c->table->failed = true;
		return false;
	}
	w->state = W_OPEN;
	return true;
}

/* Whether a build would be the only work there is: no worker busy, every chunk copied, nothing else to build.
 */
static bool
build_alone(loop *l, const copy_deferred *d)
{
	int i;

	if (!l->data_done)
		return false;
	for (i = 0; i < l->pool->n; i++)
		if (l->w[i].state != W_IDLE)
			return false;
	for (i = 0; i < l->st->ndeferred; i++)
		if (l->st->deferred[i] != d && !l->st->deferred[i]->done)
			return false;
	return true;
}

/*
 * A build alongside other work gets no parallel workers of its own: the
 * --jobs connections keep the server's processors busy already, and
 * several parallel sorts at once cost more than they give.  The only one
 * left keeps the server's max_parallel_maintenance_workers.  Whatever was
 * not built when a run stopped was dropped when the next one started
 * (copy_drop_deferred): a build is its CREATE alone.
 */
static bool
start_build(loop *l, worker *w, copy_deferred *d)
{
	w->item = d;
	d->running = true;
	w->started = now_seconds();
	w->sql = build_alone(l, d)
				 ? xstrdup(d->create_sql)
				 : xasprintf("SELECT pg_catalog.set_config('max_parallel_maintenance_workers', '0', "
							 "true);\n%s",
							 d->create_sql);
	if (!pg_send_simple(w->dst, "DST", w->sql)) {
		d->failed = true;
		return false;
	}
	w->state = W_BUILD;
	return true;
}

/* Waits for the start of COPY on one side: false on an error (logged). */
static bool
copy_started(worker *w, PGconn *conn, const char *side, ExecStatusType want, bool *started)
{
	PGresult *res;
	ExecStatusType got;

	if (*started)
		return true;
	if (!PQconsumeInput(conn)) {
		chunk_failed(w, side, conn, side[0] == 'S' ? w->chunk->sql_out : w->chunk->sql_in);
		return false;
	}
	if (PQisBusy(conn))
		return true;
	res = PQgetResult(conn);
	got = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	PQclear(res);
	if (got != want) {
		chunk_failed(w, side, conn, side[0] == 'S' ? w->chunk->sql_out : w->chunk->sql_in);
		while ((res = PQgetResult(conn)) != NULL && PQresultStatus(res) != PGRES_COPY_IN &&
			   PQresultStatus(res) != PGRES_COPY_OUT)
			PQclear(res);
		PQclear(res);
		return false;
	}
	*started = true;
	return true;
}

/* A command's outcome on conn after COPY: its row count, or -1 (logged). */
static long long
copy_finished(worker *w, PGconn *conn, const char *side, const char *sql)
{
	PGresult *res = PQgetResult(conn), *extra;
	long long rows = -1;

	if (res && PQresultStatus(res) == PGRES_COMMAND_OK)
		rows = strtoll(PQcmdTuples(res), NULL, 10);
	else
		chunk_failed(w, side, conn, sql);
	PQclear(res);
	while ((extra = PQgetResult(conn)) != NULL)
		PQclear(extra);
	return rows;
}

#define BURST 2048 /* rows moved before the other workers get their turn */

/* Moves rows from SRC to DST until one of them must be waited for. */
static bool
stream(worker *w)
{
	int i;

	w->more = false;
	if (w->pending) {
		int r = PQputCopyData(w->dst, w->pending, w->npending);

		if (r < 0)
			goto dst_failed;
		if (r == 0)
			return true;
		PQfreemem(w->pending);
		w->pending = NULL;
	}
	if (w->flush) {
		int r = PQflush(w->dst);

		if (r < 0)
			goto dst_failed;
		if (r > 0)
			return true;
		w->flush = false;
	}
	if (!PQconsumeInput(w->src)) {
		chunk_failed(w, "SRC", w->src, w->chunk->sql_out);
		return false;
	}
	for (i = 0; i < BURST; i++) {
		char *buf;
		int n = PQgetCopyData(w->src, &buf, 1), r;

		if (n == 0)
			break;
		if (n == -1) {
			if ((w->rows_out = copy_finished(w, w->src, "SRC", w->chunk->sql_out)) < 0)
				return false;
			w->state = W_CLOSE;
			w->flush = true;
			return true;
		}
		if (n < 0) {
			chunk_failed(w, "SRC", w->src, w->chunk->sql_out);
			return false;
		}
		w->chunk->bytes += n;
		w->chunk->table->bytes += n;
		r = PQputCopyData(w->dst, buf, n);
		if (r < 0) {
			PQfreemem(buf);
			goto dst_failed;
		}
		if (r == 0) {
			w->pending = buf;
			w->npending = n;
			return true;
		}
		PQfreemem(buf);
	}
	if (i == BURST)
		w->more = true;
	switch (PQflush(w->dst)) {
		case 0: break;
		case 1: w->flush = true; break;
		default: goto dst_failed;
	}
	return true;
dst_failed:
	chunk_failed(w, "DST", w->dst, w->chunk->sql_in);
	return false;
}

static void
finish_table(loop *l, copy_table *t)
{
	(void) l;
	t->chunks_done++;
	if (t->chunks_done == t->nchunks) {
		t->done = true;
		t->seconds = now_seconds() - t->started;
	}
}

/* After the last row: the end of COPY on DST, and its row count against SRC's. */
static bool
close_copy(loop *l, worker *w)
{
	long long rows_in;

	if (!w->end_sent) {
		int r = PQputCopyEnd(w->dst, NULL);

		if (r < 0) {
			chunk_failed(w, "DST", w->dst, w->chunk->sql_in);
			return false;
		}
		if (r == 0)
			return true;
		w->end_sent = true;
	}
	if (w->flush) {
		int r = PQflush(w->dst);

		if (r < 0) {
			chunk_failed(w, "DST", w->dst, w->chunk->sql_in);
			return false;
		}
		if (r > 0)
			return true;
		w->flush = false;
	}
	if (!PQconsumeInput(w->dst)) {
		chunk_failed(w, "DST", w->dst, w->chunk->sql_in);
		return false;
	}
	if (PQisBusy(w->dst))
		return true;
	PQsetnonblocking(w->dst, 0);
	if ((rows_in = copy_finished(w, w->dst, "DST", w->chunk->sql_in)) < 0)
		return false;
	if (rows_in != w->rows_out) {
		log_error("COPY of %s: SRC sent %lld rows, DST took %lld", w->chunk->table->name, w->rows_out,
				  rows_in);
		w->chunk->table->failed = true;
		return false;
	}
	w->chunk->rows = rows_in;
	w->chunk->table->rows += rows_in;
	w->chunk->state = 2;
	finish_table(l, w->chunk->table);
	w->chunk = NULL;
	w->state = W_IDLE;
	return true;
}

/*
 * Collects the results of a build as they come, without waiting: its
 * statements answer one by one, and the last one may take minutes.
 */
static bool
finish_build(worker *w)
{
	if (!PQconsumeInput(w->dst)) {
		if (!pg_interrupted())
			log_error("lost the connection to DST: %s", pg_error_line(w->dst));
		w->item->failed = true;
		return false;
	}
	while (!PQisBusy(w->dst)) {
		PGresult *res = PQgetResult(w->dst);

		if (res == NULL) {
			w->item->running = false;
			free(w->sql);
			w->sql = NULL;
			if (w->item->failed) {
				if (!pg_interrupted())
					log_error("building %s %s of %s failed; it is built again on the next run", w->item->kind,
							  w->item->name, w->item->table);
				return false;
			}
			w->item->done = true;
			w->item->seconds = now_seconds() - w->started;
			w->item = NULL;
			w->state = W_IDLE;
			return true;
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK &&
			!w->item->failed) {
			if (!pg_interrupted()) {
				log_error("query on DST failed: %s", pg_error_line(w->dst));
				log_error("the query was: %s", w->sql);
			}
			w->item->failed = true;
		}
		PQclear(res);
	}
	return true;
}

/* Serves a worker whose socket is ready (or that has rows waiting). */
static bool
advance(loop *l, worker *w)
{
	switch (w->state) {
		case W_OPEN:
			if (!copy_started(w, w->src, "SRC", PGRES_COPY_OUT, &w->src_copying) ||
				!copy_started(w, w->dst, "DST", PGRES_COPY_IN, &w->dst_copying))
				return false;
			if (w->src_copying && w->dst_copying) {
				PQsetnonblocking(w->dst, 1);
				w->state = W_STREAM;
				return stream(w);
			}
			return true;
		case W_STREAM: return stream(w);
		case W_CLOSE: return close_copy(l, w);
		case W_BUILD: return finish_build(w);
		default: return true;
	}
}

/* Stops what still runs on the servers after a failure: the other streams and builds are cancelled. */
static void
cancel_busy(loop *l)
{
	int i;

	for (i = 0; i < l->pool->n; i++) {
		worker *w = &l->w[i];
		PGconn *conns[2] = {w->src, w->dst};
		int k;

		if (w->state == W_IDLE)
			continue;
		for (k = 0; k < 2; k++) {
			PGcancel *c = conns[k] ? PQgetCancel(conns[k]) : NULL;
			char err[256];

			if (c && PQtransactionStatus(conns[k]) == PQTRANS_ACTIVE)
				(void) PQcancel(c, err, sizeof(err));
			PQfreeCancel(c);
		}
	}
}

/* Once every chunk is copied, SRC is done with: its sessions end and the snapshot is let go. */
static void
check_data_done(loop *l)
{
	int i;

	if (l->data_done)
		return;
	for (i = 0; i < l->plan->nchunks; i++)
		if (l->plan->chunks[i]->state != 2)
			return;
	for (i = 0; i < l->st->ntables; i++)
		if (!l->st->tables[i]->done)
			return;
	l->data_done = true;
	for (i = 0; i < l->pool->n; i++)
		l->w[i].src = NULL;
	copy_pool_close_src(l->pool);
	copy_snapshot_release(l->st);
	free(l->st->phase);
	l->st->phase = xstrdup("indexes");
	(void) copy_state_write(l->st, l->st->path);
}

bool
copy_run(copy_pool *pool, copy_plan *plan, copy_state *st, const copy_options *opt)
{
	pg_pollitem items[2 * COPY_MAX_JOBS];
	int owner[2 * COPY_MAX_JOBS];
	loop l;
	int i;

	(void) opt;
	memset(&l, 0, sizeof(l));
	l.pool = pool;
	l.plan = plan;
	l.st = st;
	for (i = 0; i < pool->n; i++) {
		l.w[i].src = pool->src[i];
		l.w[i].dst = pool->dst[i];
	}
	l.owner = xcalloc((size_t) st->ndeferred + 1, sizeof(copy_table *));
	for (i = 0; i < st->ndeferred; i++)
		l.owner[i] = copy_state_table(st, st->deferred[i]->table, false);
	check_data_done(&l);
	for (;;) {
		int k = 0, busy = 0, n;
		bool more = false;

		/* Work for every idle worker, unless something failed. */
		for (i = 0; !l.failed && i < pool->n; i++) {
			worker *w = &l.w[i];
			copy_chunk *c;
			copy_deferred *d;

			if (w->state != W_IDLE)
				continue;
			if ((c = next_chunk(&l, w)) != NULL)
				l.failed = !start_chunk(w, c);
			else if ((d = next_deferred(&l)) != NULL)
				l.failed = !start_build(&l, w, d);
		}
		for (i = 0; i < pool->n; i++) {
			worker *w = &l.w[i];

			if (w->state == W_IDLE)
				continue;
			busy++;
			more |= w->more;
			if (w->state == W_OPEN) {
				if (!w->src_copying) {
					items[k] = (pg_pollitem){w->src, false, false};
					owner[k++] = i;
				}
				if (!w->dst_copying) {
					items[k] = (pg_pollitem){w->dst, false, false};
					owner[k++] = i;
				}
			} else if (w->state == W_STREAM && !w->flush && !w->pending) {
				items[k] = (pg_pollitem){w->src, false, false};
				owner[k++] = i;
			} else {
				items[k] = (pg_pollitem){
					w->dst, w->flush || w->pending || (w->state == W_CLOSE && !w->end_sent), false};
				owner[k++] = i;
			}
		}
		if (busy == 0 || l.failed)
			break;
		n = pg_poll(items, k, more ? 0 : 1.0);
		if (n < 0) {
			l.failed = true;
			break;
		}
		for (i = 0; !l.failed && i < k; i++) {
			worker *w = &l.w[owner[i]];

			if ((items[i].ready || w->more) && !advance(&l, w))
				l.failed = true;
		}
		for (i = 0; !l.failed && n == 0 && i < pool->n; i++)
			if (l.w[i].more && !advance(&l, &l.w[i]))
				l.failed = true;
		if (!l.failed) {
			check_data_done(&l);
			if (now_seconds() - st->last_write >= 1)
				(void) copy_state_write(st, st->path);
		}
	}
	if (l.failed) {
		if (!pg_interrupted())
			cancel_busy(&l);
		for (i = 0; i < pool->n; i++) {
			if (l.w[i].pending)
				PQfreemem(l.w[i].pending);
			if (l.w[i].item)
				l.w[i].item->running = false;
			free(l.w[i].sql);
		}
		free(l.owner);
		return false;
	}
	free(l.owner);
	return true;
}
