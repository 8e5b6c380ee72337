/*
 * migkit report: the page's later sections, the verdicts (every copy-diff
 * and sequence sync), the switch (cutover and rollback), what replication
 * did not carry, and the records the page was made from.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "quote.h"
#include "report.h"
#include "report_html.h"
#include "util.h"

#define MAX_ROWS_NAMED 20 /* differing rows shown per table */
#define MAX_SEQUENCES  50 /* sequences listed per sync */
#define MAX_NAMES      20 /* objects named per kind of what is not carried */

static void
write_diff_rows(FILE *o, const kept_run *r)
{
	const jv *tables = jv_get(r->result, "tables");
	int i, k, m;

	fputs("<h3>copy-diff at ", o);
	rh_time(o, r->started);
	fputs(
		": the tables that differ</h3>\n<table class=\"diff-rows\"><thead><tr><th>Table</th><th>Status</th>"
		"<th class=\"num\">SRC rows</th><th class=\"num\">DST rows</th><th>Rows named</th></tr></thead><tbody>\n",
		o);
	for (i = 0; i < jv_count(tables); i++) {
		const jv *t = jv_item(tables, i), *rows = jv_get(t, "rows");
		const char *st = jv_get_str(t, "status");

		if (st && strcmp(st, "equal") == 0)
			continue;
		fputs("<tr><td><code>", o);
		rh_esc(o, jv_get_str(t, "table"));
		fprintf(o, "</code></td><td class=\"%s\">", st && strcmp(st, "different") == 0 ? "bad" : "warn");
		rh_text_or_nr(o, st);
		fputs("</td><td class=\"num\">", o);
		rh_count(o, jv_get_num(t, "rows_src", NAN));
		fputs("</td><td class=\"num\">", o);
		rh_count(o, jv_get_num(t, "rows_dst", NAN));
		fputs("</td><td>", o);
		for (k = 0; k < jv_count(rows) && k < MAX_ROWS_NAMED; k++) {
			const jv *row = jv_item(rows, k), *key = jv_get(row, "key");

			fputs(k ? "<br>" : "", o);
			rh_esc(o, jv_get_str(row, "kind"));
			fputs(": <code>", o);
			for (m = 0; key && m < key->n; m++) {
				rh_escf(o, "%s%s=", m ? ", " : "", key->keys[m]);
				if (jv_str(key->items[m]))
					rh_esc(o, jv_str(key->items[m]));
				else
					fputs("NULL", o);
			}
			fputs("</code>", o);
		}
		if (jv_count(rows) > MAX_ROWS_NAMED) {
			fputs("<br>", o);
			rh_escf(o, "and %d more (%s)", jv_count(rows) - MAX_ROWS_NAMED, r->file);
		}
		if (jv_count(rows) == 0)
			rh_esc(o, jv_get_str(t, "note"));
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody></table>\n", o);
}

/* A sequence's value in migkit seq's document: the number, "unused" when it has none yet. */
static void
html_seq_value(FILE *o, const jv *s, const char *side)
{
	const jv *v = jv_get(s, side);

	if (!jv_is(v, JV_OBJECT))
		fputs(strcmp(side, "dst_after") == 0 ? "(dry run)" : "-", o);
	else if (jv_is(jv_get(v, "last_value"), JV_NULL))
		fputs("unused", o);
	else
		rh_count(o, jv_get_num(v, "last_value", NAN));
}

/* The sequences of one sync (migkit seq's document). */
static void
write_seq_list(FILE *o, const jv *doc)
{
	const jv *list = jv_get(doc, "sequences");
	int i;

	if (jv_count(list) == 0)
		return;
	fputs("<table class=\"sequences\"><thead><tr><th>Sequence</th><th class=\"num\">SRC</th>"
		  "<th class=\"num\">DST before</th><th class=\"num\">DST after</th></tr></thead><tbody>\n",
		  o);
	for (i = 0; i < jv_count(list) && i < MAX_SEQUENCES; i++) {
		const jv *s = jv_item(list, i);

		fputs("<tr><td><code>", o);
		rh_esc(o, jv_get_str(s, "sequence"));
		fputs("</code></td><td class=\"num\">", o);
		html_seq_value(o, s, "src");
		fputs("</td><td class=\"num\">", o);
		html_seq_value(o, s, "dst_before");
		fputs("</td><td class=\"num\">", o);
		html_seq_value(o, s, "dst_after");
		fputs("</td></tr>\n", o);
	}
	if (jv_count(list) > MAX_SEQUENCES)
		fprintf(o, "<tr><td colspan=\"4\">and %d more</td></tr>\n", jv_count(list) - MAX_SEQUENCES);
	fputs("</tbody></table>\n", o);
}

static void
seq_row(FILE *o, double at, const char *by, const jv *doc, int rc)
{
	fputs("<tr><td class=\"time\">", o);
	rh_time(o, at);
	fputs("</td><td>", o);
	rh_esc(o, by);
	fputs("</td><td class=\"num\">", o);
	rh_count(o, jv_get_num(doc, "shift", NAN));
	fputs("</td><td class=\"num\">", o);
	rh_count(o, jv_get_num(doc, "copied", NAN));
	fprintf(o, "</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td>",
			jv_count(jv_get(doc, "src_only")), jv_count(jv_get(doc, "dst_only")));
	if (doc == NULL)
		rh_not_recorded(o);
	else if (jv_count(jv_path(doc, "check.collisions")) > 0)
		fprintf(o, "<span class=\"bad\">%d collision(s)</span>", jv_count(jv_path(doc, "check.collisions")));
	else
		fprintf(o, "<span class=\"ok\">%d checked, none collides</span>",
				(int) jv_get_num(doc, "check.checked", 0));
	fprintf(o, "</td><td class=\"num %s\">%d</td></tr>\n", rh_exit_class(rc), rc);
}

void
rh_write_verdicts(FILE *o, const report_data *d)
{
	const jv *cut_seq = jv_get(d->cutover, "sequences");
	double cut_at = NAN;
	int i;

	fputs("<section id=\"verdicts\">\n<h2>5. Verdicts: copy-diff and the sequences</h2>\n", o);
	if (d->ndiffs == 0) {
		fputs("<p>copy-diff: ", o);
		rh_not_recorded(o);
		fputs(" (no data/diff-*.json).</p>\n", o);
	} else {
		fputs("<table id=\"diffs\"><thead><tr><th>Started (UTC)</th><th>Mode</th><th>Arguments</th>"
			  "<th class=\"num\">Tables</th><th class=\"num\">Equal</th><th class=\"num\">Different</th>"
			  "<th class=\"num\">Missing</th><th class=\"num\">Not replicated</th><th>Sequences</th>"
			  "<th>Verdict</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < d->ndiffs; i++) {
			const kept_run *r = &d->diffs[i];
			const jv *s = jv_get(r->result, "summary");
			const char *status = jv_get_str(r->result, "status");
			bool fenced = false;

			fprintf(o, "<tr class=\"diff\" data-status=\"%s\"><td class=\"time\">",
					status && strcmp(status, "equal") == 0 ? "equal"
					: status                               ? "different"
														   : "error");
			rh_time(o, r->started);
			fputs("</td><td>", o);
			rh_text_or_nr(o, jv_get_str(r->result, "mode"));
			if (jv_bool(jv_get(r->result, "after_fence"), &fenced) && fenced)
				fputs(", after the fence", o);
			fputs("</td><td>", o);
			rh_run_args(o, r);
			if (!r->whole_set)
				fputs(" <span class=\"nr\">(part of the set)</span>", o);
			fputs("</td>", o);
			if (s) {
				fprintf(
					o,
					"<td class=\"num\">%.0f</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td>"
					"<td class=\"num\">%.0f</td><td class=\"num\">%.0f</td><td>%.0f: %.0f equal, %.0f ahead, "
					"%.0f pending, %.0f behind</td>",
					jv_get_num(s, "tables", 0), jv_get_num(s, "equal", 0), jv_get_num(s, "different", 0),
					jv_get_num(s, "missing", 0), jv_get_num(s, "not_replicated", 0),
					jv_get_num(s, "sequences", 0), jv_get_num(s, "sequences_equal", 0),
					jv_get_num(s, "sequences_ahead", 0), jv_get_num(s, "sequences_pending", 0),
					jv_get_num(s, "sequences_behind", 0));
			} else {
				fputs("<td colspan=\"6\">", o);
				rh_not_recorded(o);
				fprintf(o, " (migkit diff exited %d without a result)</td>", r->exit);
			}
			fprintf(o, "<td class=\"%s\">", rh_exit_class(r->exit));
			rh_text_or_nr(o, status);
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
		for (i = 0; i < d->ndiffs; i++)
			if (d->diffs[i].result && d->diffs[i].exit == 1)
				write_diff_rows(o, &d->diffs[i]);
	}

	fputs("<h3>Sequence sync</h3>\n", o);
	if (d->nseqs == 0 && !jv_is(cut_seq, JV_OBJECT)) {
		fputs("<p>", o);
		rh_not_recorded(o);
		fputs(": no copy-seq run (data/seq-*.json) and no cutover's copy-seq.</p>\n", o);
	} else {
		fputs("<table id=\"seq-syncs\"><thead><tr><th>When (UTC)</th><th>By</th><th class=\"num\">Shift</th>"
			  "<th class=\"num\">Set</th><th class=\"num\">Only on SRC</th><th class=\"num\">Only on DST</th>"
			  "<th>Check against the columns</th><th class=\"num\">Exit</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < d->nseqs; i++)
			seq_row(o, d->seqs[i].started, "copy-seq", d->seqs[i].result, d->seqs[i].exit);
		if (jv_is(cut_seq, JV_OBJECT)) {
			parse_timestamp(rh_nz(jv_get_str(d->cutover, "started_at")), &cut_at);
			seq_row(o, cut_at, "cutover", cut_seq, (int) jv_get_num(cut_seq, "status", 0));
		}
		fputs("</tbody></table>\n", o);
		write_seq_list(o, jv_is(cut_seq, JV_OBJECT) ? cut_seq : d->seqs[d->nseqs - 1].result);
	}
	fputs("</section>\n", o);
}

/* cutover.json or rollback.json. */
static void
write_switch_doc(FILE *o, const jv *doc, const char *file)
{
	const jv *steps = jv_get(doc, "steps"), *count = jv_path(doc, "verification.details.count");
	const jv *rev = jv_get(doc, "reverse"), *left = jv_get(doc, "src_changes_not_on_dst");
	const char *status = jv_get_str(doc, "status");
	double v;
	int i;

	fputs("<dl class=\"facts\">\n", o);
	rh_dt(o, "Status");
	fprintf(o, "<span class=\"%s\">", status && strcmp(status, "done") == 0 ? "ok" : "bad");
	rh_text_or_nr(o, status);
	fputs("</span> ", o);
	rh_escf(o, "(%s)", file);
	rh_dd_end(o);
	rh_dt(o, "Started");
	rh_time_text(o, jv_get_str(doc, "started_at"));
	rh_dd_end(o);
	rh_dt(o, "Write-fence window");
	if (jv_num(jv_get(doc, "fence_window_ms"), &v))
		fprintf(o, "<strong>%.0f ms</strong> (the fence until re-routing was done)", v);
	else
		rh_not_recorded(o);
	rh_dd_end(o);
	rh_dt(o, "Fence LSN");
	rh_text_or_nr(o, jv_get_str(doc, "fence_lsn"));
	rh_dd_end(o);
	rh_dt(o, "Applied LSN");
	rh_text_or_nr(o, jv_get_str(doc, "applied_lsn"));
	rh_dd_end(o);
	rh_dt(o, "Verification");
	if (jv_get_str(doc, "verify") && strcmp(jv_get_str(doc, "verify"), "none") == 0)
		fputs("none (--verify none)", o);
	else
		rh_text_or_nr(o, jv_get_str(doc, "verification.result"));
	rh_dd_end(o);
	rh_dt(o, "Sequences");
	if (jv_is(jv_get(doc, "sequences"), JV_OBJECT))
		rh_escf(o, "%.0f set, shifted by %.0f", jv_get_num(doc, "sequences.copied", 0),
				jv_get_num(doc, "sequences.shift", 0));
	else
		rh_not_recorded(o);
	rh_dd_end(o);
	if (rev || strcmp(file, "data/cutover.json") == 0) {
		bool prepared = false;

		rh_dt(o, "The way back prepared");
		if (jv_is(rev, JV_OBJECT) && jv_bool(jv_get(rev, "prepared"), &prepared) && prepared)
			rh_escf(o, "publication %s and slot %s on DST, from LSN %s",
					rh_nz(jv_get_str(rev, "publication")), rh_nz(jv_get_str(rev, "slot")),
					jv_get_str(rev, "start_lsn") ? jv_get_str(rev, "start_lsn") : "-");
		else if (jv_is(rev, JV_NULL))
			fputs("no (--no-reverse)", o);
		else
			fputs("no", o);
		rh_dd_end(o);
	}
	if (strcmp(file, "data/cutover.json") == 0) {
		rh_dt(o, "SRC changes after the subscription stopped");
		if (!jv_is(left, JV_ARRAY))
			rh_not_recorded(o);
		else if (jv_count(left) == 0)
			fputs("<span class=\"ok\">none</span>", o);
		else
			for (i = 0; i < jv_count(left); i++) {
				const jv *t = jv_item(left, i);

				fputs(i ? "<br><span class=\"bad\">" : "<span class=\"bad\">", o);
				rh_escf(o, "%s: %.0f inserted, %.0f updated, %.0f deleted", rh_nz(jv_get_str(t, "table")),
						jv_get_num(t, "inserts", 0), jv_get_num(t, "updates", 0),
						jv_get_num(t, "deletes", 0));
				fputs("</span>", o);
			}
		rh_dd_end(o);
	}
	if (jv_get_str(doc, "error")) {
		rh_dt(o, "Error");
		fputs("<span class=\"bad\">", o);
		rh_esc(o, jv_get_str(doc, "error"));
		fputs("</span>", o);
		rh_dd_end(o);
	}
	fputs("</dl>\n", o);

	fputs("<table class=\"switch-steps\"><thead><tr><th>Step</th><th class=\"num\">Time</th>"
		  "<th class=\"num\">Exit</th><th>Detail</th></tr></thead><tbody>\n",
		  o);
	for (i = 0; i < jv_count(steps); i++) {
		const jv *s = jv_item(steps, i);
		int rc = (int) jv_get_num(s, "exit", 0);

		fputs("<tr><td>", o);
		rh_esc(o, jv_get_str(s, "step"));
		fputs("</td><td class=\"num\">", o);
		if (jv_num(jv_get(s, "ms"), &v))
			fprintf(o, "%.0f ms", v);
		else
			rh_not_recorded(o);
		fprintf(o, "</td><td class=\"num %s\">%d</td><td>", rh_exit_class(rc), rc);
		rh_esc(o, jv_get_str(s, "detail"));
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody></table>\n", o);

	if (jv_count(jv_get(count, "tables")) > 0) {
		const jv *tables = jv_get(count, "tables");

		fputs("<table class=\"switch-counts\"><thead><tr><th>Table</th><th class=\"num\">SRC rows</th>"
			  "<th class=\"num\">DST rows</th><th>After the catch-up</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < jv_count(tables); i++) {
			const jv *t = jv_item(tables, i);
			const char *st = jv_get_str(t, "status");

			fputs("<tr><td><code>", o);
			rh_esc(o, jv_get_str(t, "table"));
			fputs("</code></td><td class=\"num\">", o);
			rh_count(o, jv_get_num(t, "rows_src", NAN));
			fputs("</td><td class=\"num\">", o);
			rh_count(o, jv_get_num(t, "rows_dst", NAN));
			fprintf(o, "</td><td class=\"%s\">", st && strcmp(st, "equal") == 0 ? "ok" : "bad");
			rh_text_or_nr(o, st);
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
	}
}

void
rh_write_switch(FILE *o, const report_data *d, const report_facts *f)
{
	fputs("<section id=\"switch\">\n<h2>6. The switch</h2>\n", o);
	if (d->cutover) {
		write_switch_doc(o, d->cutover, "data/cutover.json");
	} else if (f->by_hand.fence) {
		fputs("<p>No cutover is recorded: the switch was made by hand.</p>\n<dl class=\"facts\">\n", o);
		rh_dt(o, "disable-src (the fence) ended");
		rh_time(o, f->by_hand.fence->end);
		rh_dd_end(o);
		rh_dt(o, "copy-seq ended");
		if (f->by_hand.seq)
			rh_time(o, f->by_hand.seq->end);
		else
			rh_not_recorded(o);
		rh_dd_end(o);
		rh_dt(o, "re-routing ended");
		rh_time(o, f->by_hand.route->end);
		rh_dd_end(o);
		rh_dt(o, "Write-fence window");
		rh_not_recorded(o);
		fputs(" (by hand, the journal has each step's end to the second only)", o);
		rh_dd_end(o);
		fputs("</dl>\n", o);
	} else {
		fputs("<p>", o);
		rh_not_recorded(o);
		fputs(": no data/cutover.json, and no re-routing after disable-src in the journal.</p>\n", o);
	}
	if (d->fence) {
		const jv *roles = jv_get(d->fence, "roles");
		int i;

		fputs("<h3>The fence on SRC</h3>\n<dl class=\"facts\">\n", o);
		rh_dt(o, "Put up");
		rh_time_text(o, jv_get_str(d->fence, "fenced_at"));
		rh_escf(o, " (%s%s)", d->fence_file,
				strcmp(d->fence_file, "data/fence.undone.json") == 0 ? ": lifted since" : ": still up");
		rh_dd_end(o);
		rh_dt(o, "Roles fenced");
		for (i = 0; i < jv_count(roles); i++) {
			fputs(i ? ", <code>" : "<code>", o);
			rh_esc(o, jv_get_str(jv_item(roles, i), "role"));
			fputs("</code>", o);
		}
		if (jv_count(roles) == 0)
			rh_not_recorded(o);
		rh_dd_end(o);
		fputs("</dl>\n", o);
	}
	fputs("<h3>The way back</h3>\n", o);
	if (d->rollback)
		write_switch_doc(o, d->rollback, "data/rollback.json");
	else
		fputs("<p>Not used: no data/rollback.json.</p>\n", o);
	fputs("</section>\n", o);
}

/* The first text member of an object: the name of what a check-misc row lists. */
static const char *
row_name(const jv *row)
{
	int i;

	for (i = 0; row && row->type == JV_OBJECT && i < row->n; i++)
		if (row->items[i]->type == JV_STRING)
			return row->items[i]->text;
	return NULL;
}

void
rh_write_misc(FILE *o, const report_data *d, const report_facts *f)
{
	static const struct {
		const char *key, *title;
	} items[] = {
		{"large_objects", "Large objects"},
		{"unlogged_tables", "Unlogged tables"},
		{"foreign_tables", "Foreign tables"},
		{"materialized_views", "Materialized views"},
		{"sequences", "Sequences"},
		{"partitioned_tables", "Partitioned tables (sent as their leaves)"},
		{"event_triggers", "Event triggers"},
		{"generated_columns", "Generated columns"},
	};
	const jv *m = f->misc ? f->misc->doc : NULL, *enc, *notes;
	size_t i;
	int k;

	fputs("<section id=\"not-carried\">\n<h2>7. What logical replication did not carry</h2>\n", o);
	if (m == NULL) {
		fputs("<p>check-misc's findings: ", o);
		rh_not_recorded(o);
		fputs(" (no check-misc run in data/checks.jsonl).</p>\n", o);
	} else {
		fputs("<p>As check-misc found it on SRC at ", o);
		rh_time(o, f->misc->at);
		fputs(".</p>\n<table id=\"misc\"><thead><tr><th>What</th><th class=\"num\">Found</th><th>Which</th>"
			  "<th>Done about it</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
			const jv *v = jv_get(m, items[i].key);
			double n = jv_is(v, JV_ARRAY) ? jv_count(v) : jv_get_num(v, "count", NAN);

			fputs("<tr><td>", o);
			rh_esc(o, items[i].title);
			fputs("</td><td class=\"num\">", o);
			rh_count(o, n);
			fputs("</td><td>", o);
			if (jv_is(v, JV_ARRAY)) {
				for (k = 0; k < jv_count(v) && k < MAX_NAMES; k++) {
					fputs(k ? ", <code>" : "<code>", o);
					rh_esc(o, row_name(jv_item(v, k)));
					fputs("</code>", o);
				}
				if (jv_count(v) > MAX_NAMES)
					fprintf(o, " and %d more", jv_count(v) - MAX_NAMES);
			} else if (n > 0 && jv_get_str(v, "size"))
				rh_escf(o, "%s in pg_largeobject", jv_get_str(v, "size"));
			fputs("</td><td>", o);
			if (n == 0)
				fputs("nothing to do", o);
			else if (strcmp(items[i].key, "sequences") == 0 &&
					 (d->nseqs || jv_is(jv_get(d->cutover, "sequences"), JV_OBJECT)))
				fputs("<span class=\"ok\">set on DST (see the sequence sync)</span>", o);
			else {
				rh_not_recorded(o);
				if (d->nnotes)
					fputs(" (see the operator's notes)", o);
			}
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
		enc = jv_get(m, "encoding");
		fputs("<p>Encoding and collation: ", o);
		if (!jv_is(enc, JV_ARRAY))
			fputs("DST was not reachable: <span class=\"nr\">not compared</span>", o);
		else {
			int differ = 0;

			for (k = 0; k < jv_count(enc); k++) {
				const jv *row = jv_item(enc, k);
				bool same = true;

				if (jv_bool(jv_get(row, "same"), &same) && !same) {
					fputs(differ++ ? "; <span class=\"warn\">" : "<span class=\"warn\">", o);
					rh_escf(o, "%s is %s on SRC and %s on DST", rh_nz(jv_get_str(row, "property")),
							jv_get_str(row, "src") ? jv_get_str(row, "src") : "-",
							jv_get_str(row, "dst") ? jv_get_str(row, "dst") : "-");
					fputs("</span>", o);
				}
			}
			if (differ == 0)
				fputs("<span class=\"ok\">the same on both sides</span>", o);
		}
		fputs(".</p>\n", o);
		notes = jv_get(m, "notes");
		if (jv_count(notes)) {
			fputs("<p>The kit's advice:</p>\n<ul class=\"list\">\n", o);
			for (k = 0; k < jv_count(notes); k++) {
				fputs("<li>", o);
				rh_esc(o, jv_str(jv_item(notes, k)));
				fputs("</li>\n", o);
			}
			fputs("</ul>\n", o);
		}
	}
	fputs("<h3>The operator's notes</h3>\n", o);
	if (d->nnotes == 0)
		fputs(
			"<p><span class=\"nr\">none recorded</span> (<code>./report --note TEXT</code> records what was done "
			"by hand).</p>\n",
			o);
	else {
		fputs("<table id=\"notes\"><thead><tr><th>Recorded (UTC)</th><th>Note</th></tr></thead><tbody>\n", o);
		for (k = 0; k < d->nnotes; k++) {
			fputs("<tr><td class=\"time\">", o);
			rh_time(o, d->notes[k].at);
			fputs("</td><td>", o);
			rh_esc(o, jv_get_str(d->notes[k].doc, "note"));
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
	}
	fputs("</section>\n", o);
}

void
rh_write_sources(FILE *o, const report_data *d)
{
	int i;

	fputs(
		"<section id=\"sources\">\n<h2>The records</h2>\n<p>This page and its JSON twin are written from these "
		"files of the kit alone; no server was asked.</p>\n<ul class=\"list\">\n",
		o);
	for (i = 0; i < d->nsources; i++) {
		fputs("<li><code>", o);
		rh_esc(o, d->sources[i]);
		fputs("</code></li>\n", o);
	}
	fputs("</ul>\n</section>\n", o);
}
