/*
 * migkit copy, shared between its files: the fast initial copy of the
 * migration's tables from SRC to DST, inside the snapshot a new logical
 * replication slot exports, so that a subscription created on that slot
 * afterwards (copy_data = false) streams exactly what the copy did not see.
 * cmd_copy.c parses the options and runs the phases, copy_state.c keeps
 * data/copy-state.json (what is done, for a rerun and for --status),
 * copy_snapshot.c holds the slot's snapshot in a process of its own,
 * copy_plan.c reads both catalogs and cuts the tables into chunks,
 * copy_stream.c drives the COPY streams and the index builds on --jobs
 * connections per side, copy_lo.c copies the large objects.
 */
#ifndef MIGKIT_COPY_H
#define MIGKIT_COPY_H

#include <stdbool.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "util.h"

#define COPY_MAX_JOBS 32 /* connections per side */

typedef struct copy_options {
	int jobs;
	long long split_bytes;   /* a heap larger than this is copied in ranges */
	const char *work_mem;    /* maintenance_work_mem of the index builds */
	double hold;             /* seconds the snapshot outlives an interrupted run */
	const char *slot;        /* the slot (the subscription's name) */
	const char *state_path;  /* data/copy-state.json */
	const char *conninfo[2]; /* SRC, DST */
	bool status;             /* --status: show the state file */
	double watch;            /* --status --watch SEC; 0: once */
	bool restart;            /* a new slot and snapshot, every table copied again */
	bool json;
} copy_options;

/* One table of the migration, as the state file keeps it. */
typedef struct copy_table {
	char *name;              /* qualified, as format('%I.%I') */
	char *columns;           /* the columns COPY carries, quoted (NULL: not read this run) */
	long long size;          /* bytes on SRC (pg_table_size of its heaps) */
	long long rows_estimate; /* reltuples */
	long long bytes;         /* COPY bytes so far (this run's chunks for an unfinished table) */
	long long rows;
	double seconds; /* from its first chunk's start to its last one's end */
	bool done;
	int nchunks;
	int chunks_done;
	double started; /* this run, monotonic; 0 before its first chunk */
	bool copying;   /* read back from the file: it was being copied */
	bool failed;
} copy_table;

/* An index or constraint dropped for the copy and built again after it. */
typedef struct copy_deferred {
	int step; /* 1 constraint with an index, 2 index, 3 foreign key */
	char *kind;
	char *table;
	char *name;
	char *drop_sql;
	char *create_sql;
	bool done;
	double seconds;
	bool running;
	bool failed;
} copy_deferred;

typedef struct copy_state {
	const char *path; /* where it is kept */
	char *slot;
	char *lsn;      /* where the slot's snapshot is, and streaming starts */
	char *snapshot; /* the exported snapshot's name */
	long holder;    /* pid of the process holding it; 0: none */
	char *phase;    /* "copy", "indexes", "done" */
	char *started_at;
	double elapsed; /* seconds of work over every run so far */
	long runner;    /* pid of the migkit copy running now; 0: none */
	copy_table **tables;
	int ntables;
	copy_deferred **deferred;
	int ndeferred;
	bool deferred_dropped; /* every one of them is dropped on DST */
	bool dst_checked;      /* DST's tables were found empty: what is in them now, the copy put there */
	long long los;         /* large objects on SRC (-1: not counted yet) */
	bool los_done;
	double last_write; /* monotonic time of the last write */
	double run_started;
	double elapsed_before; /* elapsed at the start of this run */
} copy_state;

/* A range of one heap: one COPY from SRC into the table on DST. */
typedef struct copy_chunk {
	copy_table *table;
	char *sql_out; /* COPY (SELECT ...) TO STDOUT on SRC */
	char *sql_in;  /* COPY ... FROM STDIN on DST */
	long long bytes;
	long long rows;
	int state; /* 0 waiting, 1 running, 2 done */
} copy_chunk;

typedef struct copy_plan {
	copy_chunk **chunks;
	int nchunks;
} copy_plan;

/* copy_state.c */
copy_state *copy_state_new(const char *slot);
copy_state *copy_state_read(const char *path); /* NULL (logged) when unreadable; see copy_state_exists */
bool copy_state_exists(const char *path);
bool copy_state_write(copy_state *st, const char *path);
void copy_state_free(copy_state *st);
copy_table *copy_state_table(copy_state *st, const char *name, bool add);
long long copy_state_done_bytes(const copy_state *st, long long *total);
double copy_state_eta(const copy_state *st);
bool copy_state_data_done(const copy_state *st); /* every table and the large objects */
void copy_state_print(const copy_state *st, FILE *out);

/* copy_snapshot.c: the slot and its snapshot, held by a child process. */
bool copy_snapshot_create(const copy_options *opt, const char *lock_path, copy_state *st);
bool copy_snapshot_held(const copy_state *st);
bool copy_process_alive(long pid); /* a live migkit process */
void copy_snapshot_release(copy_state *st);
char *copy_snapshot_import_sql(const char *snapshot); /* NULL (logged) for a malformed name */

/* copy_plan.c */
bool copy_plan_tables(PGconn *src, PGconn *dst, copy_state *st, const copy_options *opt, copy_plan *plan);
bool copy_plan_deferred(PGconn *dst, copy_state *st);
bool copy_plan_check_empty(PGconn *dst, copy_state *st);
bool copy_plan_truncate(PGconn *dst, copy_state *st);
void copy_plan_free(copy_plan *plan);

/* copy_stream.c */
typedef struct copy_pool {
	PGconn *src[COPY_MAX_JOBS]; /* NULL once the data is copied */
	PGconn *dst[COPY_MAX_JOBS];
	int n;
} copy_pool;

/* *gone: the snapshot could not be imported, as it no longer exists. */
bool copy_pool_open(copy_pool *pool, const copy_options *opt, const copy_state *st, bool need_src,
					bool *gone);
void copy_pool_close_src(copy_pool *pool);
void copy_pool_close(copy_pool *pool);
bool copy_drop_deferred(PGconn *dst, copy_state *st);
bool copy_run(copy_pool *pool, copy_plan *plan, copy_state *st, const copy_options *opt);

/* copy_lo.c */
bool copy_large_objects(PGconn *src, PGconn *dst, copy_state *st);

#endif
