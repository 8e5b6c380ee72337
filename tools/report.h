/*
 * migkit report, shared between its files: what the kit recorded
 * (report_load.c reads activate and log/journal, report_records.c data/),
 * what follows from it, the verdict among it (report_facts.c), and the two
 * forms, one HTML page (report_html.c, its charts report_chart.c) and one
 * JSON document (report_json.c); cmd_report.c holds the options.
 */
#ifndef MIGKIT_REPORT_H
#define MIGKIT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "json_read.h"

/* A line of log/journal: a script's run, or a step of cutover or rollback ("cutover:catch-up"). */
typedef struct journal_entry {
	double end; /* when it ended (epoch, to the second) */
	char *end_text;
	char *name;
	char *part_of; /* "cutover" for "cutover:catch-up", else NULL */
	char *step;    /* the name after the ':', or the whole name */
	int exit;
	double seconds;
	char *args; /* as journaled: shell words */
	bool dry_run;
} journal_entry;

/* A line of a JSON-lines record (data/checks.jsonl, versions.jsonl, notes.jsonl). */
typedef struct record {
	double at; /* NAN when it has no readable "at" */
	jv *doc;
} record;

/* A line of data/progress.jsonl: one refresh of copy-progress. */
typedef struct sample {
	double t;
	int run; /* index in report_data.runs: the migkit progress it came from */
	bool in_sync;
	int total, streaming, not_replicated;
	double size, copied, throughput; /* bytes, bytes/s; NAN unknown */
	double lag_bytes, lag_seconds;   /* NAN unknown */
	bool heartbeat;                  /* lag_seconds from the heartbeat, not an estimate */
} sample;

/* A run kept by mk_keep_run: data/diff-TIME.json, data/seq-TIME.json. */
typedef struct kept_run {
	char *file; /* data/... */
	double started, finished;
	int exit;
	bool whole_set;   /* no --table / -t among its arguments */
	const jv *result; /* the helper's --json document, or NULL */
	jv *doc;
} kept_run;

typedef struct report_data {
	char *kit; /* the kit's directory, absolute */
	/* Values of activate (NULL: not there, or in a form it does not read). */
	char *context, *src_cls, *src_db, *src_ip, *dst_cls, *dst_db, *dst_ip, *pub_name, *sub_name;

	journal_entry *journal;
	int njournal;
	record *checks;
	int nchecks;
	record *versions;
	int nversions;
	record *notes;
	int nnotes;
	sample *samples;
	int nsamples;
	char **runs;
	int nruns;
	kept_run *diffs;
	int ndiffs;
	kept_run *seqs;
	int nseqs;
	jv *cutover;  /* data/cutover.json */
	jv *rollback; /* data/rollback.json */
	jv *fence;    /* data/fence.json, else data/fence.undone.json */
	const char *fence_file;

	/* Which records were there, for the page's list of sources. */
	char **sources;
	int nsources;
} report_data;

typedef enum {
	VERDICT_NOT_STARTED,
	VERDICT_IN_PROGRESS,
	VERDICT_ABORTED,
	VERDICT_FAILED,
	VERDICT_ROLLED_BACK,
	VERDICT_DONE_UNVERIFIED,
	VERDICT_DONE_VERIFIED
} verdict_kind;

/* A blocker a check found, and the run of that check that no longer found it. */
typedef struct blocker {
	const char *script;
	const char *text;
	const record *found;
	const record *cleared; /* NULL: still found by the latest run */
} blocker;

/* The initial copy, from create-sub's journal line and the progress samples. */
typedef struct copy_facts {
	const journal_entry *create_sub; /* NULL: not recorded */
	const sample *streaming;         /* the first sample with every table streaming */
	const sample *before;            /* the last sample before it that was not (after create-sub) */
	double seconds_max, seconds_min; /* NAN when unknown */
	double peak_throughput;          /* NAN when none sampled */
	const kept_run *rows_from;       /* the first diff after the copy with row counts */
	double rows;                     /* NAN when not recorded */
} copy_facts;

/* The switch made by hand (no data/cutover.json): disable-src, then re-routing. */
typedef struct manual_switch {
	const journal_entry *fence;
	const journal_entry *route;
	const journal_entry *seq;
} manual_switch;

typedef struct report_facts {
	verdict_kind verdict;
	const char *status; /* "done-verified", "in-progress", ... */
	char *headline;
	char *explanation;
	char **evidence;
	int nevidence;
	char **gaps; /* what the records do not show */
	int ngaps;
	bool alarm; /* the records show something wrong: a failed switch, changes DST lacks */

	blocker *blockers;
	int nblockers;
	copy_facts copy;
	manual_switch by_hand;       /* fence NULL: none */
	const kept_run *verified_by; /* the diff after the fence that verified, or NULL */
	const record *misc;          /* the latest check-misc record */
	const record *version[2];    /* the latest of SRC and DST */

	double written_at; /* when this report was written: both forms say the same */

	/* The lag: extremes over the samples. */
	double max_lag, max_lag_at, max_lag_seconds;
	const sample *last;
} report_facts;

/* report_load.c: false (logged, naming the file and line) when a record is unreadable. */
bool report_load(const char *kit, report_data *d);
void report_data_free(report_data *d);

/* report_records.c: report_load's part for data/'s records. */
bool report_load_data(report_data *d);
/* The whole of a file; NULL with *missing set when it is not there, NULL (logged) when unreadable. */
char *report_slurp(const char *path, size_t *len, bool *missing);
/* Lists name among the records the report was made from. */
void report_add_source(report_data *d, const char *name);

/* report_facts.c */
void report_facts_build(const report_data *d, report_facts *f);
void report_facts_free(report_facts *f);
/* The time of an epoch as the page and the JSON write it: 2024-05-01T10:00:00.123Z (ms only when any). */
const char *report_time(double epoch, char *buf, size_t size);
/* A kept run's argument list as one line ("--checksum --table 'a b'"). */
char *report_run_args(const kept_run *r);

/* report_json.c, report_html.c: the two forms, written to out. */
void report_write_json(FILE *out, const report_data *d, const report_facts *f);
void report_write_html(FILE *out, const report_data *d, const report_facts *f);

/* report_chart.c: a value over time as an inline SVG chart. */
typedef struct chart_mark {
	double t;
	const char *label;
} chart_mark;

typedef struct chart_point {
	double t;
	double v;
	int run; /* a new run starts a new line */
} chart_point;

/*
 * At most max points that draw as the n given do: each of max/2 slices of
 * the time keeps its lowest and highest.  Returns how many were kept (the
 * points are taken in place).
 */
int chart_reduce(chart_point *p, int n, int max);

/* Writes the chart: title for readers of the SVG, bytes: the values are bytes (else seconds). */
void chart_write_svg(FILE *out, const char *id, const char *title, const chart_point *p, int n, bool bytes,
					 const chart_mark *marks, int nmarks);

#endif
