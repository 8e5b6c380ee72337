/*
 * migkit progress, shared between its files: what one refresh learns from
 * both servers (progress_query.c), what follows from it, in sync or not
 * and why (progress_verdict.c), and its forms for people
 * (progress_report.c) and programs (progress_export.c); cmd_progress.c
 * holds the options and the loop.
 */
#ifndef MIGKIT_PROGRESS_H
#define MIGKIT_PROGRESS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "lag.h"

typedef enum {
	STATE_WAITING,        /* i: waiting for a sync worker */
	STATE_COPYING,        /* d: initial copy running */
	STATE_SYNCED,         /* f, s: copied, catching up with the stream */
	STATE_STREAMING,      /* r: applied by the apply worker */
	STATE_NOT_REPLICATED, /* in the migration's set, not in the subscription */
	STATE_UNKNOWN,
	NSTATES
} sync_state;

extern const char *const state_names[NSTATES];

typedef enum {
	HB_OFF, /* MIGKIT_HEARTBEAT is not true */
	HB_OK,  /* written on SRC and read on DST */
	HB_NO_SRC_TABLE,
	HB_SRC_READ_ONLY,
	HB_NO_DST_TABLE,
	HB_NOT_PUBLISHED,
	HB_NOT_SUBSCRIBED,
	HB_NOT_READY, /* still in its own initial sync */
	HB_NO_ROW,
	HB_NSTATUS
} hb_status;

extern const char *const hb_names[HB_NSTATUS];

typedef struct progress_options {
	const char *src;
	const char *dst;
	const char *sub;
	char *sub_sql; /* sub quoted as an identifier, for SQL in messages */
	bool watch;
	bool wait;
	bool json;
	bool prometheus;
	bool heartbeat;
	double interval;        /* seconds between refreshes */
	double timeout;         /* seconds; 0: none */
	long long max_lag;      /* bytes */
	double max_lag_seconds; /* seconds; 0: no limit */
	long long wal_budget;   /* bytes of WAL the slot may keep on SRC; 0: no budget */
	const char *samples;    /* --samples FILE: each refresh appended there; NULL: none */
} progress_options;

typedef struct table_row {
	char *schema;
	char *name;
	char substate; /* pg_subscription_rel.srsubstate, the least advanced of its parts */
	sync_state state;
	bool published;   /* SRC's publication sends it */
	double size;      /* bytes on SRC; NAN when unknown */
	double copied;    /* bytes copied (COPY's bytes_processed while copying) */
	double copy_rate; /* bytes/s of a running COPY; NAN when none */
} table_row;

/* What one refresh learnt, and what follows from it. */
typedef struct snapshot {
	/* From DST. */
	bool enabled;
	char *slot_name;    /* NULL: the subscription has no slot */
	char *publications; /* text form of subpublications (an array literal) */
	long worker_pid;    /* 0: the apply worker is not running */
	double receipt_age; /* now() - last_msg_receipt_time */
	double end_age;     /* now() - latest_end_time */
	double apply_errors;
	double sync_errors;
	bool dst_heartbeat_table;
	char heartbeat_substate; /* '\0': not part of the subscription */
	table_row *tables;
	int ntables;

	/* From SRC. */
	lag_sample lag;
	bool slot_found;
	bool slot_active;
	char *wal_status;
	double wal_retained;
	double safe_wal_size;
	double max_slot_keep; /* -1: unlimited */
	bool slot_keep_known; /* the server has max_slot_wal_keep_size (13 on) */
	double max_wal_size;
	double wal_dir;          /* NAN when not readable */
	int heartbeat_published; /* -1 unknown */

	/* The heartbeat. */
	hb_status hb;
	double hb_written; /* epoch of this refresh's beat on SRC */
	double hb_seen;    /* epoch of the newest beat on DST */
	double hb_age;     /* DST's now() - hb_seen */
	bool hb_applied;   /* this refresh's beat had reached DST */

	/* Derived (progress_evaluate). */
	double lag_bytes; /* NAN when unknown */
	int count[NSTATES];
	double total_size;
	double total_copied;
	double throughput; /* bytes/s; NAN when unknown */
	double eta;        /* seconds; NAN when unknown */
	double lag_seconds;
	const char *lag_seconds_source; /* "heartbeat", "estimate" or NULL */
	bool in_sync;
	char **why; /* why not in sync */
	int nwhy;
	char **notes;
	int nnotes;
	char **warnings;
	int nwarnings;
	char *stop_wait; /* why --wait must give up now (the slot is lost or about to be) */
	double mono;     /* when taken (monotonic) */
	time_t wall;
} snapshot;

/* The previous refresh, for the throughput between refreshes. */
typedef struct history {
	bool have;
	double copied;
	double mono;
} history;

/* progress_query.c: one refresh; false (logged) on an error or a missing subscription. */
bool progress_snapshot(PGconn *src, PGconn *dst, const progress_options *o, snapshot *s);
void snapshot_free(snapshot *s);

/* progress_verdict.c: totals, rates, lag in seconds, the verdict and what to tell. */
void progress_evaluate(snapshot *s, const progress_options *o, const history *h);
/* How far a table's initial copy is, and all tables', in percent (a synced or streaming table: 100). */
double progress_table_percent(const table_row *t);
double progress_total_percent(const snapshot *s);

/* progress_report.c */
void progress_print(const snapshot *s, const progress_options *o);
void progress_frame(const snapshot *s, const progress_options *o);
void progress_summary_line(char *buf, size_t size, const snapshot *s);

/* progress_export.c */
void progress_print_json(FILE *out, const snapshot *s, const progress_options *o);
void progress_print_prometheus(FILE *out, const snapshot *s, const progress_options *o);

/*
 * progress_samples.c: appends the refresh to path as one JSON line, run
 * naming the migkit progress it is part of; false (warned) when it cannot.
 */
bool progress_append_sample(const char *path, const char *run, const snapshot *s, const progress_options *o);

#endif
