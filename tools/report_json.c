/*
 * migkit report: the JSON document, the same facts as the page for a
 * program (a change board's tooling, an archive): the verdict with its
 * evidence and gaps, the timeline, the checks, the copy, the lag series the
 * chart draws, the verdicts, the switch as cutover.json and rollback.json
 * hold it, and what was not carried.  A fact not recorded is null.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "report.h"
#include "util.h"

#define MAX_ROWS_NAMED 100 /* differing rows per table */
#define LAG_POINTS     1200

/* A value of a record, copied as it is. */
static void
put_value(json *j, const char *key, const jv *v)
{
	int i;

	if (v == NULL) {
		json_null(j, key);
		return;
	}
	switch (v->type) {
		case JV_NULL: json_null(j, key); break;
		case JV_BOOL: json_bool(j, key, v->boolean); break;
		case JV_NUMBER: json_number_text(j, key, v->text); break;
		case JV_STRING: json_string(j, key, v->text); break;
		case JV_ARRAY:
			json_array_begin(j, key);
			for (i = 0; i < v->n; i++)
				put_value(j, NULL, v->items[i]);
			json_array_end(j);
			break;
		case JV_OBJECT:
			json_object_begin(j, key);
			for (i = 0; i < v->n; i++)
				put_value(j, v->keys[i], v->items[i]);
			json_object_end(j);
			break;
	}
}

static void
put_time(json *j, const char *key, double t)
{
	char buf[40];

	if (isfinite(t))
		json_string(j, key, report_time(t, buf, sizeof(buf)));
	else
		json_null(j, key);
}

static void
put_num(json *j, const char *key, double v)
{
	if (isnan(v))
		json_null(j, key);
	else if (v == floor(v) && fabs(v) < 9e15)
		json_int(j, key, (long long) v);
	else
		json_double(j, key, v);
}

static void
put_side(json *j, const char *key, const char *cls, const char *db, const char *ip, const record *version)
{
	json_object_begin(j, key);
	json_string(j, "cluster", cls);
	json_string(j, "database", db);
	json_string(j, "host", ip);
	json_string(j, "server_version", version ? jv_get_str(version->doc, "server_version") : NULL);
	put_num(j, "server_version_num", version ? jv_get_num(version->doc, "server_version_num", NAN) : NAN);
	put_time(j, "version_recorded_at", version ? version->at : NAN);
	json_object_end(j);
}

static void
put_report(json *j, const report_data *d, const report_facts *f)
{
	int i;

	json_object_begin(j, "report");
	put_time(j, "written_at", f->written_at);
	json_string(j, "migkit_version", PACKAGE_VERSION);
	json_string(j, "kit", d->kit);
	json_string(j, "context", d->context);
	put_side(j, "src", d->src_cls, d->src_db, d->src_ip, f->version[0]);
	put_side(j, "dst", d->dst_cls, d->dst_db, d->dst_ip, f->version[1]);
	json_string(j, "publication", d->pub_name);
	json_string(j, "subscription", d->sub_name);
	json_array_begin(j, "records");
	for (i = 0; i < d->nsources; i++)
		json_string(j, NULL, d->sources[i]);
	json_array_end(j);
	json_object_end(j);

	json_object_begin(j, "verdict");
	json_string(j, "status", f->status);
	json_string(j, "headline", f->headline);
	json_string(j, "explanation", f->explanation);
	json_array_begin(j, "evidence");
	for (i = 0; i < f->nevidence; i++)
		json_string(j, NULL, f->evidence[i]);
	json_array_end(j);
	json_array_begin(j, "gaps");
	for (i = 0; i < f->ngaps; i++)
		json_string(j, NULL, f->gaps[i]);
	json_array_end(j);
	json_string(j, "verified_by", f->verified_by ? f->verified_by->file : NULL);
	json_object_end(j);
}

static void
put_timeline(json *j, const report_data *d)
{
	int i;

	json_array_begin(j, "timeline");
	for (i = 0; i < d->njournal; i++) {
		const journal_entry *e = &d->journal[i];

		json_object_begin(j, NULL);
		json_string(j, "ended_at", e->end_text);
		json_string(j, "name", e->name);
		json_string(j, "part_of", e->part_of);
		json_string(j, "step", e->step);
		json_int(j, "exit", e->exit);
		json_double(j, "seconds", e->seconds);
		json_string(j, "args", e->args);
		json_bool(j, "dry_run", e->dry_run);
		json_object_end(j);
	}
	json_array_end(j);
}

static void
put_checks(json *j, const report_data *d, const report_facts *f)
{
	static const char *const keys[] = {"script", "args", "status", "blockers", "notes", NULL};
	const char *const *k;
	int i;

	json_object_begin(j, "checks");
	json_array_begin(j, "runs");
	for (i = 0; i < d->nchecks; i++) {
		json_object_begin(j, NULL);
		put_time(j, "at", d->checks[i].at);
		for (k = keys; *k; k++)
			put_value(j, *k, jv_get(d->checks[i].doc, *k));
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "blockers");
	for (i = 0; i < f->nblockers; i++) {
		const blocker *b = &f->blockers[i];

		json_object_begin(j, NULL);
		json_string(j, "script", b->script);
		json_string(j, "blocker", b->text);
		put_time(j, "found_at", b->found->at);
		put_time(j, "cleared_at", b->cleared ? b->cleared->at : NAN);
		put_value(j, "cleared_by_args", b->cleared ? jv_get(b->cleared->doc, "args") : NULL);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);

	json_array_begin(j, "versions");
	for (i = 0; i < d->nversions; i++)
		put_value(j, NULL, d->versions[i].doc);
	json_array_end(j);
}

static void
put_copy(json *j, const report_facts *f)
{
	const copy_facts *c = &f->copy;
	const sample *s = c->streaming ? c->streaming : f->last;
	bool rate = s && !isnan(s->size) && !isnan(c->seconds_max) && c->seconds_max > 0;

	json_object_begin(j, "initial_copy");
	put_time(j, "create_sub_ended_at", c->create_sub ? c->create_sub->end : NAN);
	put_time(j, "all_streaming_at", c->streaming ? c->streaming->t : NAN);
	put_time(j, "not_yet_streaming_at", c->before ? c->before->t : NAN);
	put_num(j, "seconds_min", c->seconds_min);
	put_num(j, "seconds_max", c->seconds_max);
	put_num(j, "tables", s ? s->total : NAN);
	put_num(j, "size_bytes", s ? s->size : NAN);
	put_num(j, "copied_bytes", s ? s->copied : NAN);
	put_num(j, "rows", c->rows);
	json_string(j, "rows_from", c->rows_from ? c->rows_from->file : NULL);
	put_num(j, "throughput_min_bytes_per_second", rate ? round(s->size / c->seconds_max) : NAN);
	put_num(j, "throughput_max_bytes_per_second",
			rate && !isnan(c->seconds_min) && c->seconds_min > 0 ? round(s->size / c->seconds_min) : NAN);
	put_num(j, "throughput_peak_sampled_bytes_per_second", c->peak_throughput);
	json_object_end(j);
}

static void
put_lag(json *j, const report_data *d, const report_facts *f)
{
	chart_point *p = xcalloc((size_t) d->nsamples + 1, sizeof(chart_point));
	int i, n = 0;

	json_object_begin(j, "lag");
	json_int(j, "samples", d->nsamples);
	json_int(j, "runs", d->nruns);
	put_time(j, "first_at", d->nsamples ? d->samples[0].t : NAN);
	put_time(j, "last_at", d->nsamples ? d->samples[d->nsamples - 1].t : NAN);
	put_num(j, "max_bytes", f->max_lag);
	put_time(j, "max_bytes_at", f->max_lag_at);
	put_num(j, "max_seconds", f->max_lag_seconds);
	if (f->last) {
		json_object_begin(j, "last");
		put_time(j, "at", f->last->t);
		json_bool(j, "in_sync", f->last->in_sync);
		json_int(j, "streaming", f->last->streaming);
		json_int(j, "tables", f->last->total);
		put_num(j, "bytes", f->last->lag_bytes);
		put_num(j, "seconds", f->last->lag_seconds);
		json_string(j, "seconds_source",
					isnan(f->last->lag_seconds) ? NULL
					: f->last->heartbeat        ? "heartbeat"
												: "estimate");
		json_object_end(j);
	} else
		json_null(j, "last");
	/* The series the chart draws: the samples with a lag in bytes, reduced as the chart does. */
	for (i = 0; i < d->nsamples; i++)
		if (!isnan(d->samples[i].lag_bytes)) {
			p[n].t = d->samples[i].t;
			p[n].v = d->samples[i].lag_bytes;
			p[n].run = i; /* each its own: the reduction keeps the index */
			n++;
		}
	n = chart_reduce(p, n, LAG_POINTS);
	json_array_begin(j, "points");
	for (i = 0; i < n; i++) {
		const sample *s = &d->samples[p[i].run];

		json_object_begin(j, NULL);
		put_time(j, "at", s->t);
		put_num(j, "bytes", s->lag_bytes);
		put_num(j, "seconds", s->lag_seconds);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	free(p);
}

static void
put_diff(json *j, const kept_run *r)
{
	const jv *tables = jv_get(r->result, "tables");
	int i, k;

	json_object_begin(j, NULL);
	json_string(j, "file", r->file);
	put_time(j, "started_at", r->started);
	put_time(j, "finished_at", r->finished);
	put_value(j, "args", jv_get(r->doc, "args"));
	json_int(j, "exit", r->exit);
	json_bool(j, "whole_set", r->whole_set);
	put_value(j, "mode", jv_get(r->result, "mode"));
	put_value(j, "status", jv_get(r->result, "status"));
	put_value(j, "after_fence", jv_get(r->result, "after_fence"));
	put_value(j, "summary", jv_get(r->result, "summary"));
	put_value(j, "lag", jv_get(r->result, "lag"));
	json_array_begin(j, "differences");
	for (i = 0; i < jv_count(tables); i++) {
		const jv *t = jv_item(tables, i), *rows = jv_get(t, "rows");

		if (jv_get_str(t, "status") && strcmp(jv_get_str(t, "status"), "equal") == 0)
			continue;
		json_object_begin(j, NULL);
		put_value(j, "table", jv_get(t, "table"));
		put_value(j, "status", jv_get(t, "status"));
		put_value(j, "rows_src", jv_get(t, "rows_src"));
		put_value(j, "rows_dst", jv_get(t, "rows_dst"));
		put_value(j, "note", jv_get(t, "note"));
		json_array_begin(j, "rows");
		for (k = 0; k < jv_count(rows) && k < MAX_ROWS_NAMED; k++)
			put_value(j, NULL, jv_item(rows, k));
		json_array_end(j);
		json_int(j, "rows_named", jv_count(rows));
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void
put_seq(json *j, const char *by, const char *file, double at, int rc, const jv *doc)
{
	json_object_begin(j, NULL);
	json_string(j, "by", by);
	json_string(j, "file", file);
	put_time(j, "at", at);
	json_int(j, "exit", rc);
	put_value(j, "shift", jv_get(doc, "shift"));
	put_value(j, "copied", jv_get(doc, "copied"));
	put_value(j, "src_only", jv_get(doc, "src_only"));
	put_value(j, "dst_only", jv_get(doc, "dst_only"));
	put_value(j, "check", jv_get(doc, "check"));
	put_value(j, "sequences", jv_get(doc, "sequences"));
	json_object_end(j);
}

static void
put_verdicts(json *j, const report_data *d)
{
	const jv *cut_seq = jv_get(d->cutover, "sequences");
	double at = NAN;
	int i;

	json_object_begin(j, "verdicts");
	json_array_begin(j, "diffs");
	for (i = 0; i < d->ndiffs; i++)
		put_diff(j, &d->diffs[i]);
	json_array_end(j);
	json_array_begin(j, "sequence_syncs");
	for (i = 0; i < d->nseqs; i++)
		put_seq(j, "copy-seq", d->seqs[i].file, d->seqs[i].started, d->seqs[i].exit, d->seqs[i].result);
	if (jv_is(cut_seq, JV_OBJECT)) {
		parse_timestamp(jv_get_str(d->cutover, "started_at") ? jv_get_str(d->cutover, "started_at") : "",
						&at);
		put_seq(j, "cutover", "data/cutover.json", at, (int) jv_get_num(cut_seq, "status", 0), cut_seq);
	}
	json_array_end(j);
	json_object_end(j);
}

static void
put_switch(json *j, const report_data *d, const report_facts *f)
{
	json_object_begin(j, "switch");
	put_value(j, "cutover", d->cutover);
	if (f->by_hand.fence) {
		json_object_begin(j, "by_hand");
		json_string(j, "disable_src_ended_at", f->by_hand.fence->end_text);
		json_string(j, "copy_seq_ended_at", f->by_hand.seq ? f->by_hand.seq->end_text : NULL);
		json_string(j, "re_routing_ended_at", f->by_hand.route->end_text);
		json_null(j, "fence_window_ms");
		json_object_end(j);
	} else
		json_null(j, "by_hand");
	json_string(j, "fence_file", d->fence_file);
	put_value(j, "fence", d->fence);
	put_value(j, "rollback", d->rollback);
	json_object_end(j);
}

static void
put_misc(json *j, const report_data *d, const report_facts *f)
{
	int i;

	if (f->misc) {
		json_object_begin(j, "not_carried");
		put_time(j, "checked_at", f->misc->at);
		for (i = 0; i < f->misc->doc->n; i++) {
			const char *key = f->misc->doc->keys[i];

			if (strcmp(key, "at") != 0 && strcmp(key, "script") != 0 && strcmp(key, "context") != 0)
				put_value(j, key, f->misc->doc->items[i]);
		}
		json_object_end(j);
	} else
		json_null(j, "not_carried");
	json_array_begin(j, "operator_notes");
	for (i = 0; i < d->nnotes; i++) {
		json_object_begin(j, NULL);
		put_time(j, "at", d->notes[i].at);
		put_value(j, "note", jv_get(d->notes[i].doc, "note"));
		json_object_end(j);
	}
	json_array_end(j);
}

void
report_write_json(FILE *out, const report_data *d, const report_facts *f)
{
	json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	put_report(&j, d, f);
	put_timeline(&j, d);
	put_checks(&j, d, f);
	put_copy(&j, f);
	put_lag(&j, d, f);
	put_verdicts(&j, d);
	put_switch(&j, d, f);
	put_misc(&j, d, f);
	json_object_end(&j);
	json_finish(&j);
}
