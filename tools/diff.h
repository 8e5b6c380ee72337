/*
 * migkit diff, shared between its files: what a run compares (tables and
 * sequences as each side has them), how (count, estimate, checksum), and
 * what it found.  cmd_diff.c parses the options and runs the steps,
 * diff_pool.c holds the connections, diff_catalog.c reads both catalogs,
 * diff_hash.c builds the row hash, diff_compare.c runs the comparisons on
 * both servers at once and diff_bisect.c narrows a difference down to
 * key ranges, diff_report.c prints the verdict; diff_schema.c
 * compares the tables' shape instead of their rows (--schema).
 */
#ifndef MIGKIT_DIFF_H
#define MIGKIT_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "lag.h"
#include "util.h"

enum { SRC = 0, DST = 1 };

#define DIFF_MAX_JOBS 64 /* connections per side */

typedef enum { MODE_COUNT, MODE_ESTIMATE, MODE_CHECKSUM, MODE_SCHEMA } diff_mode;

typedef enum {
	TS_PENDING, /* a table still being compared; a sequence behind SRC before the fence */
	TS_EQUAL,
	TS_DIFFERENT,
	TS_MISSING,        /* on one side only */
	TS_NOT_REPLICATED, /* in the migration's set, not in the publication or the subscription */
	TS_UNKNOWN,        /* --estimate without statistics */
	TS_AHEAD,          /* a sequence whose DST value is past SRC's */
	TS_ERROR,
	TS_NSTATUS
} table_status;

typedef struct diff_options {
	diff_mode mode;
	int jobs;
	char *pick; /* --table globs on schema.table, as a JSON array; NULL: all */
	int retries;
	double delay; /* seconds between re-checks */
	bool json;
	bool after_fence;      /* SRC is fenced: a sequence behind it is a difference, not pending */
	const char *json_file; /* --json-file: the JSON document also written there */
	const char *conninfo[2];
} diff_options;

/* A table as one side has it. */
typedef struct side_table {
	bool present;
	bool partitioned;
	double estimate; /* reltuples summed over leaves; < 0 unknown */
} side_table;

/* One row that differs, by its key. */
typedef struct row_diff {
	const char *kind;  /* "missing", "extra", "changed" (on DST), "duplicated" */
	char **values;     /* key values as text (NULL: the value NULL), nkeys of them */
	long long rows[2]; /* "duplicated": how many rows with that key each side has */
	char *pos;         /* where in the key space, for ordering */
	int seq;
} row_diff;

typedef struct diff_table {
	char *schema;
	char *name;
	char *display; /* schema.name, each part quoted when needed */
	char *src_oid;
	bool published;  /* in the publication on SRC (when it exists) */
	bool subscribed; /* in the subscription on DST (when it exists) */
	side_table side[2];

	/* From SRC's catalog: how a row is hashed and located. */
	char *from[2];   /* FROM item per side: "ONLY s.t" or "s.t" */
	char *hash_expr; /* int8 hash of one row, over column names */
	int nkeys;
	char **key_names;  /* raw column names of the key */
	char **key_quoted; /* the same, quoted as identifiers */
	char *key_list;    /* quoted, comma-separated */
	char *key_source;  /* "primary key" or "unique index x" */

	/* Results. */
	table_status status;
	long long rows[2]; /* exact rows per side (count, checksum) */
	bool rows_known;
	char *note;
	double started;
	double finished;
	bool rechecked; /* a difference went away on re-check */
	row_diff *diffs;
	int ndiffs;
	int cap_diffs;
	bool truncated; /* stopped listing rows at the limit */

	/* Work in flight (diff_compare.c). */
	int outstanding;            /* tasks queued or running */
	long long (*range_rows)[2]; /* rows per side of each first-level range, then of the NULL keys */
	int nranges;                /* first-level ranges; range_rows has one more slot */
	bool split;                 /* the whole table was split into ranges */
} diff_table;

typedef struct diff_sequence {
	char *schema;
	char *name;
	char *display;
	bool present[2];
	char *last_value[2]; /* NULL: unreadable */
	bool is_called[2];
	long long increment; /* SRC's; the direction for "ahead" */
	table_status status;
} diff_sequence;

typedef struct diff_run {
	diff_options *opt;
	PGconn **conns[2]; /* up to opt->jobs connections per side */
	int nconns;        /* opened so far, per side */
	int nstarted;      /* connections started (diff_pool_start), opened or not */
	diff_table **tables;
	int ntables;
	diff_sequence **seqs;
	int nseqs;
	char *publication;  /* the publication on SRC, when it exists */
	char *subscription; /* the subscription on DST, when it exists */
	char *not_checked;  /* why replication of the tables was not checked */
	char *subid;        /* the subscription's oid on DST */
	char *slot;         /* its slot on SRC, whose lag is measured */
	lag_sample lag_start;
	lag_sample lag_end;
	double started;
	double finished;
	bool failed;     /* an error that stopped the run */
	bool seq_failed; /* the sequences could not be read (the error is logged) */
} diff_run;

extern const char *const side_name[2];

/*
 * diff_pool.c: up to n connections per side, opened at once; started
 * ahead (diff_pool_start), they connect while other queries run, and
 * diff_pool_open waits for them.
 */
void diff_pool_start(diff_run *run, int n);
bool diff_pool_open(diff_run *run, int n);
void diff_pool_close(diff_run *run);

/* diff_catalog.c */
bool diff_load_catalog(diff_run *run);
void diff_measure_lag(diff_run *run, lag_sample *lag);
void diff_table_free(diff_table *t);
void diff_sequence_free(diff_sequence *s);

/*
 * The query reading each side's sequences (NULL, logged, on a defect),
 * with the three parameters of kit/sql/relations.sql; diff_load_catalog
 * reads them itself only for --estimate, else the comparison does, beside
 * the tables.
 */
void diff_sequences_sql(const diff_run *run, char *sql[2]);

/* diff_sequences.c: pairs both sides' sequences (their queries' results) and judges each. */
void diff_merge_sequences(diff_run *run, PGresult *res[2]);

/* diff_compare.c */
bool diff_compare_tables(diff_run *run);

/* diff_schema.c: --schema, the tables' columns, constraints and indexes compared. */
result_t diff_schema(diff_run *run);

/* diff_report.c */
result_t diff_verdict(const diff_run *run);
void diff_print_text(const diff_run *run, result_t verdict);
void diff_print_json(const diff_run *run, result_t verdict, FILE *out);

#endif
