/*
 * migkit report: what follows from the records.  The verdict is a promise
 * about production data, so it names only what a record shows was
 * checked: "verified equal" needs a comparison that found every table
 * equal after the fence (cutover's own, or a copy-diff of the whole set
 * run while SRC was fenced); anything less says what is missing.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "report.h"
#include "util.h"

const char *
report_time(double epoch, char *buf, size_t size)
{
	long long ms = llround(epoch * 1000);
	time_t t = (time_t) (ms / 1000);
	struct tm tm;
	char base[32];

	if (!isfinite(epoch)) {
		snprintf(buf, size, "-");
		return buf;
	}
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ms % 1000 == 0)
		snprintf(buf, size, "%sZ", base);
	else
		snprintf(buf, size, "%s.%03lldZ", base, ms % 1000);
	return buf;
}

char *
report_run_args(const kept_run *r)
{
	const jv *args = jv_get(r->doc, "args");
	strbuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; i < jv_count(args); i++) {
		const char *a = jv_str(jv_item(args, i));

		if (a == NULL)
			continue;
		if (sb.len)
			sb_append_char(&sb, ' ');
		if (*a && strcspn(a, " \t\n'\"\\$`") == strlen(a))
			sb_append(&sb, a);
		else {
			const char *p;

			sb_append_char(&sb, '\'');
			for (p = a; *p; p++) {
				if (*p == '\'')
					sb_append(&sb, "'\\''");
				else
					sb_append_char(&sb, *p);
			}
			sb_append_char(&sb, '\'');
		}
	}
	return sb_steal(&sb);
}

static void add_text(char ***list, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
add_text(char ***list, int *n, const char *fmt, ...)
{
	va_list ap;
	strbuf sb;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	*list = xrealloc(*list, (size_t) (*n + 1) * sizeof(char *));
	(*list)[(*n)++] = sb_steal(&sb);
}

#define EVIDENCE(...) add_text(&f->evidence, &f->nevidence, __VA_ARGS__)
#define GAP(...)      add_text(&f->gaps, &f->ngaps, __VA_ARGS__)

static bool
same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool
record_has_blocker(const record *r, const char *text)
{
	const jv *b = jv_get(r->doc, "blockers");
	int i;

	for (i = 0; i < jv_count(b); i++)
		if (same(jv_str(jv_item(b, i)), text))
			return true;
	return false;
}

/* Each blocker a check found, with the later run of that check that no longer found it. */
static void
build_blockers(const report_data *d, report_facts *f)
{
	int i, k, b;

	for (i = 0; i < d->nchecks; i++) {
		const record *r = &d->checks[i];
		const char *script = jv_get_str(r->doc, "script");
		const jv *list = jv_get(r->doc, "blockers");

		for (b = 0; b < f->nblockers; b++)
			if (f->blockers[b].cleared == NULL && same(f->blockers[b].script, script) &&
				!record_has_blocker(r, f->blockers[b].text))
				f->blockers[b].cleared = r;
		for (k = 0; k < jv_count(list); k++) {
			const char *text = jv_str(jv_item(list, k));
			bool open = false;

			if (text == NULL)
				continue;
			for (b = 0; b < f->nblockers; b++)
				if (f->blockers[b].cleared == NULL && same(f->blockers[b].script, script) &&
					same(f->blockers[b].text, text))
					open = true;
			if (open)
				continue;
			f->blockers = xrealloc(f->blockers, (size_t) (f->nblockers + 1) * sizeof(blocker));
			f->blockers[f->nblockers].script = script;
			f->blockers[f->nblockers].text = text;
			f->blockers[f->nblockers].found = r;
			f->blockers[f->nblockers].cleared = NULL;
			f->nblockers++;
		}
	}
}

/* The last journal entry named name with exit 0, not a dry run, whose arguments lack without. */
static const journal_entry *
last_done(const report_data *d, const char *name, const char *without)
{
	int i;

	for (i = d->njournal - 1; i >= 0; i--) {
		const journal_entry *e = &d->journal[i];

		if (e->part_of == NULL && strcmp(e->name, name) == 0 && e->exit == 0 && !e->dry_run &&
			(without == NULL || strstr(e->args, without) == NULL))
			return e;
	}
	return NULL;
}

static const journal_entry *
first_done(const report_data *d, const char *name)
{
	int i;

	for (i = 0; i < d->njournal; i++) {
		const journal_entry *e = &d->journal[i];

		if (e->part_of == NULL && strcmp(e->name, name) == 0 && e->exit == 0 && !e->dry_run)
			return e;
	}
	return NULL;
}

static void
build_copy(const report_data *d, report_facts *f)
{
	copy_facts *c = &f->copy;
	double since;
	int i;

	c->create_sub = first_done(d, "create-sub");
	c->seconds_max = c->seconds_min = c->peak_throughput = c->rows = NAN;
	/*
	 * The copy starts as create-sub ends.  The journal has its end to the
	 * second (truncated: it ended in [end, end + 1)) and its duration, so
	 * it began no earlier than end - seconds.
	 */
	since = c->create_sub ? c->create_sub->end - c->create_sub->seconds : -INFINITY;
	for (i = 0; i < d->nsamples; i++) {
		const sample *s = &d->samples[i];

		if (s->t < since)
			continue;
		if (s->total > 0 && s->streaming == s->total) {
			c->streaming = s;
			break;
		}
		c->before = s;
		if (!isnan(s->throughput) && (isnan(c->peak_throughput) || s->throughput > c->peak_throughput))
			c->peak_throughput = s->throughput;
	}
	if (c->create_sub && c->streaming) {
		c->seconds_max = fmax(0, c->streaming->t - since);
		c->seconds_min = c->before ? c->before->t - (c->create_sub->end + 1) : NAN;
		if (c->seconds_min <= 0)
			c->seconds_min = NAN; /* no bound the journal's seconds can give */
	}
	/* The rows: the first count of the whole set once the copy was done. */
	for (i = 0; i < d->ndiffs; i++) {
		const kept_run *r = &d->diffs[i];
		const char *mode = jv_get_str(r->result, "mode");
		const jv *tables = jv_get(r->result, "tables");
		double sum = 0, v;
		int k;

		if (r->result == NULL || !r->whole_set || !(same(mode, "count") || same(mode, "checksum")) ||
			(c->streaming && r->started < c->streaming->t))
			continue;
		for (k = 0; k < jv_count(tables); k++)
			if (jv_num(jv_get(jv_item(tables, k), "rows_src"), &v))
				sum += v;
		c->rows_from = r;
		c->rows = sum;
		break;
	}
}

static void
build_lag(const report_data *d, report_facts *f)
{
	int i;

	f->max_lag = f->max_lag_at = f->max_lag_seconds = NAN;
	for (i = 0; i < d->nsamples; i++) {
		const sample *s = &d->samples[i];

		if (!isnan(s->lag_bytes) && (isnan(f->max_lag) || s->lag_bytes > f->max_lag)) {
			f->max_lag = s->lag_bytes;
			f->max_lag_at = s->t;
		}
		if (!isnan(s->lag_seconds) && (isnan(f->max_lag_seconds) || s->lag_seconds > f->max_lag_seconds))
			f->max_lag_seconds = s->lag_seconds;
	}
	f->last = d->nsamples ? &d->samples[d->nsamples - 1] : NULL;
}

/* A copy-diff run of the whole set after since, SRC fenced, that found every table equal. */
static const kept_run *
diff_verifying(const report_data *d, double since)
{
	int i;

	for (i = d->ndiffs - 1; i >= 0; i--) {
		const kept_run *r = &d->diffs[i];
		const char *mode = jv_get_str(r->result, "mode");
		bool fenced = false;

		if (r->result && r->exit == 0 && r->whole_set && r->started >= since &&
			same(jv_get_str(r->result, "status"), "equal") &&
			(same(mode, "count") || same(mode, "checksum")) &&
			jv_bool(jv_get(r->result, "after_fence"), &fenced) && fenced)
			return r;
	}
	return NULL;
}

static const char *
diff_what(const kept_run *r)
{
	return same(jv_get_str(r->result, "mode"), "checksum") ? "content checksums" : "row counts";
}

static void
evidence_diff(report_facts *f, const kept_run *r)
{
	char t[40];

	EVIDENCE(
		"copy-diff at %s, after the fence: %s of all %d table(s) of the migration equal on both sides (%s)",
		report_time(r->started, t, sizeof(t)), diff_what(r), (int) jv_get_num(r->result, "summary.tables", 0),
		r->file);
}

/* What a verification object of cutover.json or rollback.json (verification.details) shows. */
static bool
evidence_verification(report_facts *f, const jv *doc, const char *script)
{
	const jv *v = jv_get(doc, "verification");
	const char *result = jv_get_str(v, "result");
	const jv *count = jv_path(v, "details.count"), *sum = jv_path(v, "details.checksum");

	if (same(jv_get_str(doc, "verify"), "none") || result == NULL) {
		GAP("%s compared nothing before re-routing (--verify none)", script);
		return false;
	}
	if (count)
		EVIDENCE("%s's verification after the catch-up: row counts of all %d table(s) %s", script,
				 (int) jv_get_num(count, "summary.tables", 0),
				 same(jv_get_str(count, "status"), "equal") ? "equal on both sides" : "not equal");
	if (sum)
		EVIDENCE("%s's verification: content checksums of %d table(s) %s", script,
				 (int) jv_get_num(sum, "summary.tables", 0),
				 same(jv_get_str(sum, "status"), "equal") ? "equal on both sides" : "not equal");
	return same(result, "equal");
}

/*
 * The changes SRC took after the subscription stopped: true when a record
 * shows there were none; those there were are an alarm.
 */
static bool
evidence_leftover(report_facts *f, const jv *doc)
{
	const jv *l = jv_get(doc, "src_changes_not_on_dst");
	int i;

	if (!jv_is(l, JV_ARRAY)) {
		GAP("whether SRC took changes after the subscription stopped is not recorded");
		return false;
	}
	if (jv_count(l) == 0) {
		EVIDENCE(
			"no change reached SRC after the subscription stopped (read from its slot after re-routing)");
		return true;
	}
	f->alarm = true;
	for (i = 0; i < jv_count(l); i++) {
		const jv *t = jv_item(l, i);

		GAP("SRC took changes after the subscription stopped that DST lacks: %s (%d inserted, %d updated, %d "
			"deleted)",
			jv_get_str(t, "table") ? jv_get_str(t, "table") : "?", (int) jv_get_num(t, "inserts", 0),
			(int) jv_get_num(t, "updates", 0), (int) jv_get_num(t, "deletes", 0));
	}
	return false;
}

static const char *
failed_step(const jv *doc)
{
	const jv *steps = jv_get(doc, "steps");
	const char *name = NULL;
	int i;

	for (i = 0; i < jv_count(steps); i++) {
		const jv *s = jv_item(steps, i);

		if (jv_get_num(s, "exit", 0) != 0 && !same(jv_get_str(s, "step"), "undo"))
			name = jv_get_str(s, "step");
	}
	return name ? name : "?";
}

static void
verdict_cutover(const report_data *d, report_facts *f)
{
	const jv *c = d->cutover;
	const char *status = jv_get_str(c, "status");
	char t[40];
	double started = NAN, v;
	bool verified, clean;

	parse_timestamp(jv_get_str(c, "started_at") ? jv_get_str(c, "started_at") : "", &started);
	if (!same(status, "done")) {
		bool failed = same(status, "failed");

		f->alarm = failed; /* aborted: undone, the application goes on with SRC */
		f->verdict = failed ? VERDICT_FAILED : VERDICT_ABORTED;
		f->status = failed ? "failed" : "aborted";
		f->headline =
			failed ? xasprintf("Cutover failed at %s: the application may be on neither side", failed_step(c))
				   : xasprintf("Cutover aborted at %s: the application stayed on SRC", failed_step(c));
		f->explanation = xasprintf("cutover started at %s and ended with status %s: %s (data/cutover.json)",
								   report_time(started, t, sizeof(t)), status ? status : "not recorded",
								   jv_get_str(c, "error") ? jv_get_str(c, "error") : "no error recorded");
		return;
	}
	EVIDENCE("cutover at %s ran every step (status done, data/cutover.json): the application is on DST",
			 report_time(started, t, sizeof(t)));
	if (jv_num(jv_get(c, "fence_window_ms"), &v))
		EVIDENCE("SRC was fenced for %.0f ms (disable-src to the end of re-routing)", v);
	if (jv_get_str(c, "fence_lsn") && jv_get_str(c, "applied_lsn"))
		EVIDENCE("DST applied everything SRC committed before the fence: fence LSN %s, applied LSN %s",
				 jv_get_str(c, "fence_lsn"), jv_get_str(c, "applied_lsn"));
	verified = evidence_verification(f, c, "cutover");
	clean = evidence_leftover(f, c);
	f->verified_by = diff_verifying(d, started);
	if (f->verified_by)
		evidence_diff(f, f->verified_by);
	if ((verified || f->verified_by) && clean) {
		f->verdict = VERDICT_DONE_VERIFIED;
		f->status = "done-verified";
		f->headline = xstrdup("Migration done, verified equal");
		f->explanation = xasprintf(
			"The application was switched to DST by cutover at %s, and DST was found equal to SRC after the fence.",
			report_time(started, t, sizeof(t)));
	} else {
		f->verdict = VERDICT_DONE_UNVERIFIED;
		f->status = "done-unverified";
		f->headline =
			xstrdup(clean ? "Migration done, not verified" : "Migration done, but DST may lack changes");
		f->explanation = xasprintf(
			"The application was switched to DST by cutover at %s; the records do not show DST equal to SRC after "
			"the fence (see below).",
			report_time(started, t, sizeof(t)));
	}
}

/* disable-src, then re-routing, by hand: no cutover.json. */
static void
find_manual_switch(const report_data *d, report_facts *f)
{
	const journal_entry *route = last_done(d, "re-routing", "src"), *fence = NULL, *seq = NULL;
	int i;

	if (route == NULL)
		return;
	for (i = 0; i < d->njournal && &d->journal[i] != route; i++) {
		const journal_entry *e = &d->journal[i];

		if (e->part_of || e->exit != 0 || e->dry_run)
			continue;
		if (strcmp(e->name, "disable-src") == 0 && strstr(e->args, "--undo") == NULL)
			fence = e;
		else if (strcmp(e->name, "disable-src") == 0)
			fence = NULL; /* lifted again */
		else if (strcmp(e->name, "copy-seq") == 0 && fence)
			seq = e;
	}
	if (fence) {
		f->by_hand.fence = fence;
		f->by_hand.route = route;
		f->by_hand.seq = seq;
	}
}

static void
verdict_by_hand(const report_data *d, report_facts *f)
{
	const manual_switch *m = &f->by_hand;
	char t1[40], t2[40];

	EVIDENCE("the switch was made by hand: disable-src ended at %s, re-routing at %s (log/journal)",
			 report_time(m->fence->end, t1, sizeof(t1)), report_time(m->route->end, t2, sizeof(t2)));
	if (m->seq)
		EVIDENCE("copy-seq ran while SRC was fenced, at %s", report_time(m->seq->end, t1, sizeof(t1)));
	else
		GAP("no copy-seq between disable-src and re-routing is recorded: DST's sequences may be behind SRC's");
	f->verified_by = diff_verifying(d, m->fence->end);
	if (f->verified_by) {
		evidence_diff(f, f->verified_by);
		f->verdict = VERDICT_DONE_VERIFIED;
		f->status = "done-verified";
		f->headline = xstrdup("Migration done, verified equal");
		f->explanation =
			xasprintf("The application was switched to DST by hand at %s, after copy-diff found DST "
					  "equal to SRC while SRC was fenced.",
					  report_time(m->route->end, t1, sizeof(t1)));
	} else {
		GAP("no copy-diff of the whole table set after the fence found DST equal");
		f->verdict = VERDICT_DONE_UNVERIFIED;
		f->status = "done-unverified";
		f->headline = xstrdup("Migration done, not verified");
		f->explanation =
			xasprintf("The application was switched to DST by hand at %s; no comparison after the "
					  "fence is recorded.",
					  report_time(m->route->end, t1, sizeof(t1)));
	}
}

static void
verdict_in_progress(const report_data *d, report_facts *f)
{
	const journal_entry *sub = f->copy.create_sub;
	const kept_run *diff = d->ndiffs ? &d->diffs[d->ndiffs - 1] : NULL;
	char t[40], b[32];

	f->verdict = VERDICT_IN_PROGRESS;
	f->status = "in-progress";
	f->headline = xstrdup("In progress: replication runs, no switch is recorded");
	f->explanation =
		xasprintf("create-sub started replication at %s; neither cutover nor a re-routing to DST is "
				  "recorded.",
				  report_time(sub->end, t, sizeof(t)));
	if (f->last)
		EVIDENCE("the last copy-progress refresh, at %s: %s, %d of %d table(s) streaming, lag %s",
				 report_time(f->last->t, t, sizeof(t)), f->last->in_sync ? "in sync" : "not in sync",
				 f->last->streaming, f->last->total,
				 isnan(f->last->lag_bytes) ? "not known" : format_bytes(f->last->lag_bytes, b, sizeof(b)));
	if (diff)
		EVIDENCE("the last copy-diff, at %s (%s): %s", report_time(diff->started, t, sizeof(t)),
				 jv_get_str(diff->result, "mode") ? jv_get_str(diff->result, "mode") : "no result",
				 jv_get_str(diff->result, "status") ? jv_get_str(diff->result, "status")
													: "no result recorded");
}

void
report_facts_build(const report_data *d, report_facts *f)
{
	const jv *rb = d->rollback;
	double cut_at = -INFINITY, rb_at = NAN;
	char t[40];
	int i;

	memset(f, 0, sizeof(*f));
	f->written_at = wall_seconds();
	for (i = 0; i < d->nversions; i++)
		f->version[same(jv_get_str(d->versions[i].doc, "side"), "DST")] = &d->versions[i];
	for (i = 0; i < d->nchecks; i++)
		if (same(jv_get_str(d->checks[i].doc, "script"), "check-misc"))
			f->misc = &d->checks[i];
	build_blockers(d, f);
	build_copy(d, f);
	build_lag(d, f);

	if (d->cutover && jv_get_str(d->cutover, "started_at"))
		parse_timestamp(jv_get_str(d->cutover, "started_at"), &cut_at);
	if (rb && jv_get_str(rb, "started_at"))
		parse_timestamp(jv_get_str(rb, "started_at"), &rb_at);

	if (rb && same(jv_get_str(rb, "status"), "done") && !isnan(rb_at) && rb_at >= cut_at) {
		f->verdict = VERDICT_ROLLED_BACK;
		f->status = "rolled-back";
		f->headline = xstrdup("Rolled back: the application is on SRC again");
		f->explanation =
			xasprintf("rollback at %s moved the application back to SRC (data/rollback.json): the "
					  "migration is not in effect.",
					  report_time(rb_at, t, sizeof(t)));
		evidence_verification(f, rb, "rollback");
	} else if (d->cutover) {
		verdict_cutover(d, f);
	} else if (find_manual_switch(d, f), f->by_hand.fence) {
		verdict_by_hand(d, f);
	} else if (f->copy.create_sub) {
		verdict_in_progress(d, f);
	} else {
		f->verdict = VERDICT_NOT_STARTED;
		f->status = "not-started";
		f->headline = xstrdup("Not started: no replication is recorded");
		f->explanation =
			xstrdup("log/journal records no create-sub: the subscription was not created with this kit.");
	}
}

void
report_facts_free(report_facts *f)
{
	int i;

	free(f->headline);
	free(f->explanation);
	for (i = 0; i < f->nevidence; i++)
		free(f->evidence[i]);
	free(f->evidence);
	for (i = 0; i < f->ngaps; i++)
		free(f->gaps[i]);
	free(f->gaps);
	free(f->blockers);
	memset(f, 0, sizeof(*f));
}
