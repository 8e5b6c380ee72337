/*
 * migkit report: the page.  One self-contained HTML file: inline CSS, the
 * charts as inline SVG, no script, and a Content-Security-Policy that
 * forbids loading anything, so that it shows the same offline, in a mail
 * or printed.  One column that reads top to bottom: the verdict, then the
 * timeline, the checks, the copy, the lag, the verdicts, the switch and
 * what replication did not carry.  Every text from a record passes
 * through html_quote; what no record holds is shown as "not recorded".
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "quote.h"
#include "report.h"
#include "util.h"

#define MAX_ROWS_NAMED 20 /* differing rows shown per table */
#define MAX_SEQUENCES  50 /* sequences listed per sync */
#define MAX_NAMES      20 /* objects named per kind of what is not carried */
#define CHART_POINTS   1200

static const char style[] =
	":root{color-scheme:light}\n"
	"*{box-sizing:border-box}\n"
	"body{font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif;"
	"color:#1b1f24;background:#fff;margin:0}\n"
	"main{max-width:62rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}\n"
	"h1{font-size:1.6rem;margin:0 0 .25rem}\n"
	"h2{font-size:1.2rem;margin:2rem 0 .6rem;padding-bottom:.2rem;border-bottom:2px solid #d0d7de}\n"
	"h3{font-size:1rem;margin:1.2rem 0 .4rem}\n"
	".meta{color:#57606a;margin:0 0 1rem}\n"
	".verdict{border:2px solid;border-radius:6px;padding:.75rem 1rem;margin:1rem 0}\n"
	".verdict.ok{border-color:#1a7f37;background:#dafbe1}\n"
	".verdict.warn{border-color:#9a6700;background:#fff8c5}\n"
	".verdict.bad{border-color:#cf222e;background:#ffebe9}\n"
	".verdict .headline{font-size:1.25rem;font-weight:700;margin:0 0 .3rem}\n"
	".verdict ul{margin:.3rem 0 .2rem}\n"
	"table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.92rem}\n"
	"th,td{text-align:left;vertical-align:top;padding:.25rem .5rem;border-bottom:1px solid #d8dee4;"
	"overflow-wrap:break-word}\n"
	"th{background:#f6f8fa;font-weight:600}\n"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"td.num{white-space:nowrap}\n"
	"td.time{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
	"tr.sub td.step{padding-left:1.5rem;color:#57606a}\n"
	"code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;"
	"overflow-wrap:anywhere}\n"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0 1rem}\n"
	"dl.facts dt{color:#57606a}\n"
	"dl.facts dd{margin:0;overflow-wrap:break-word;min-width:0}\n"
	".nr{color:#6e7781;font-style:italic}\n"
	".ok{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e}\n"
	".verdict.ok,.verdict.warn,.verdict.bad{color:inherit}\n"
	"figure{margin:.5rem 0 1rem}\n"
	"figcaption{color:#57606a;font-size:.88rem}\n"
	".chart{width:100%;max-width:760px;height:auto;display:block}\n"
	".chart .grid{stroke:#e5e8eb;stroke-width:1}\n"
	".chart .axis{stroke:#57606a;stroke-width:1}\n"
	".chart .tick{font-size:11px;fill:#57606a}\n"
	".chart .line{fill:none;stroke:#0969da;stroke-width:2}\n"
	".chart .dot{fill:#0969da}\n"
	".chart .mark{stroke:#cf222e;stroke-width:1;stroke-dasharray:4 3}\n"
	".chart .mark-label{font-size:11px;fill:#cf222e}\n"
	"ul.list{margin:.3rem 0 1rem;padding-left:1.25rem}\n"
	"@page{margin:14mm}\n"
	"@media print{body{font-size:10pt}main{max-width:none;padding:0}h2{break-after:avoid}"
	"tr,.verdict,figure,dl.facts{break-inside:avoid}"
	".verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/* Text from a record, escaped; NULL writes nothing. */
static void
esc(FILE *o, const char *s)
{
	strbuf sb;

	if (s == NULL)
		return;
	sb_init(&sb);
	html_quote(&sb, s);
	fputs(sb.data, o);
	sb_free(&sb);
}

static void escf(FILE *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formatted text, escaped as a whole: the arguments may come from records. */
static void
escf(FILE *o, const char *fmt, ...)
{
	va_list ap;
	strbuf sb;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	esc(o, sb.data);
	sb_free(&sb);
}

static void
not_recorded(FILE *o)
{
	fputs("<span class=\"nr\">not recorded</span>", o);
}

/* s, or "not recorded". */
static void
text_or_nr(FILE *o, const char *s)
{
	if (s && *s)
		esc(o, s);
	else
		not_recorded(o);
}

static void
html_time(FILE *o, double t)
{
	char iso[40], shown[40], *p;

	if (!isfinite(t)) {
		not_recorded(o);
		return;
	}
	report_time(t, iso, sizeof(iso));
	snprintf(shown, sizeof(shown), "%s", iso);
	if ((p = strchr(shown, 'T')) != NULL)
		*p = ' ';
	if ((p = strchr(shown, 'Z')) != NULL)
		*p = '\0';
	fprintf(o, "<time datetime=\"%s\">%s</time>", iso, shown);
}

/* A time given as text in a record (ISO), shown as html_time does, or as it is. */
static void
html_time_text(FILE *o, const char *s)
{
	double t;

	if (s && parse_timestamp(s, &t))
		html_time(o, t);
	else
		text_or_nr(o, s);
}

static void
html_bytes(FILE *o, double v)
{
	char b[32];

	if (isnan(v))
		not_recorded(o);
	else
		fputs(format_bytes(v, b, sizeof(b)), o);
}

static void
html_seconds(FILE *o, double v)
{
	char b[32];

	if (isnan(v))
		not_recorded(o);
	else
		fputs(format_seconds(v, b, sizeof(b)), o);
}

static void
html_count(FILE *o, double v)
{
	if (isnan(v))
		not_recorded(o);
	else
		fprintf(o, "%.0f", v);
}

static const char *
exit_class(int rc)
{
	return rc == 0 ? "ok" : rc == 1 ? "warn" : "bad";
}

static void
dt(FILE *o, const char *term)
{
	fputs("<dt>", o);
	esc(o, term);
	fputs("</dt><dd>", o);
}

static void
dd_end(FILE *o)
{
	fputs("</dd>\n", o);
}

/* A kept run's arguments as <code>, or nothing. */
static void
html_run_args(FILE *o, const kept_run *r)
{
	char *a = report_run_args(r);

	if (*a) {
		fputs("<code>", o);
		esc(o, a);
		fputs("</code>", o);
	}
	free(a);
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

static void
write_header(FILE *o, const report_data *d, const report_facts *f)
{
	const char *cls = f->verdict == VERDICT_DONE_VERIFIED ? "ok" : f->alarm ? "bad" : "warn";
	char now[40];
	int i;

	fputs("<header>\n<h1>Migration report: ", o);
	if (d->src_cls && d->src_db && d->dst_cls && d->dst_db)
		escf(o, "%s/%s \xE2\x86\x92 %s/%s", d->src_cls, d->src_db, d->dst_cls, d->dst_db);
	else
		text_or_nr(o, d->context);
	fputs("</h1>\n<p class=\"meta\">Migration <code>", o);
	text_or_nr(o, d->context);
	fputs("</code> \xC2\xB7 kit <code>", o);
	esc(o, d->kit);
	fprintf(o, "</code> \xC2\xB7 written <time datetime=\"%s\">",
			report_time(f->written_at, now, sizeof(now)));
	esc(o, now);
	fprintf(o, "</time> by migkit %s from the kit's records alone</p>\n", PACKAGE_VERSION);

	fprintf(o, "<div class=\"verdict %s\" id=\"verdict\" data-status=\"%s\">\n<p class=\"headline\">", cls,
			f->status);
	esc(o, f->headline);
	fputs("</p>\n<p>", o);
	esc(o, f->explanation);
	fputs("</p>\n", o);
	if (f->nevidence) {
		fputs("<p>What the records show:</p>\n<ul>\n", o);
		for (i = 0; i < f->nevidence; i++) {
			fputs("<li>", o);
			esc(o, f->evidence[i]);
			fputs("</li>\n", o);
		}
		fputs("</ul>\n", o);
	}
	if (f->ngaps) {
		fputs("<p>What they do not show:</p>\n<ul>\n", o);
		for (i = 0; i < f->ngaps; i++) {
			fputs("<li>", o);
			esc(o, f->gaps[i]);
			fputs("</li>\n", o);
		}
		fputs("</ul>\n", o);
	}
	fputs("</div>\n</header>\n", o);
}

static void
html_side(FILE *o, const char *cls, const char *db, const char *ip, const record *version)
{
	if (cls || db)
		escf(o, "%s/%s", nz(cls), nz(db));
	else
		not_recorded(o);
	if (ip)
		escf(o, " at %s", ip);
	fputs("; PostgreSQL ", o);
	if (version) {
		char t[40];

		esc(o, jv_get_str(version->doc, "server_version"));
		escf(o, " (recorded by %s at %s)", nz(jv_get_str(version->doc, "script")),
			 report_time(version->at, t, sizeof(t)));
	} else {
		fputs("version ", o);
		not_recorded(o);
	}
}

static void
write_summary(FILE *o, const report_data *d, const report_facts *f)
{
	int i, seen[2] = {0, 0};

	fputs("<section id=\"summary\">\n<h2>At a glance</h2>\n<dl class=\"facts\">\n", o);
	dt(o, "Source (SRC)");
	html_side(o, d->src_cls, d->src_db, d->src_ip, f->version[0]);
	dd_end(o);
	dt(o, "Destination (DST)");
	html_side(o, d->dst_cls, d->dst_db, d->dst_ip, f->version[1]);
	dd_end(o);
	dt(o, "Publication, subscription");
	if (d->pub_name || d->sub_name)
		escf(o, "%s on SRC, %s on DST", nz(d->pub_name), nz(d->sub_name));
	else
		not_recorded(o);
	dd_end(o);
	dt(o, "Steps journaled");
	fprintf(o, "%d", d->njournal);
	dd_end(o);
	fputs("</dl>\n", o);
	/* More than one version recorded for a side: the server changed during the migration. */
	for (i = 0; i < d->nversions; i++)
		seen[strcmp(nz(jv_get_str(d->versions[i].doc, "side")), "DST") == 0]++;
	if (seen[0] > 1 || seen[1] > 1) {
		fputs("<h3>Server versions as recorded</h3>\n<table id=\"versions\"><thead><tr><th>Recorded "
			  "(UTC)</th><th>Side</th><th>Version</th><th>By</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < d->nversions; i++) {
			const jv *v = d->versions[i].doc;

			fputs("<tr><td class=\"time\">", o);
			html_time(o, d->versions[i].at);
			fputs("</td><td>", o);
			esc(o, jv_get_str(v, "side"));
			fputs("</td><td>", o);
			esc(o, jv_get_str(v, "server_version"));
			fputs("</td><td>", o);
			esc(o, jv_get_str(v, "script"));
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
	}
	fputs("</section>\n", o);
}

static void
write_timeline(FILE *o, const report_data *d)
{
	int i;

	fputs("<section id=\"timeline\">\n<h2>1. Timeline</h2>\n", o);
	if (d->njournal == 0) {
		fputs("<p>", o);
		not_recorded(o);
		fputs(": log/journal is empty or missing.</p>\n</section>\n", o);
		return;
	}
	fputs("<p>Every script run and every step of cutover and rollback, from <code>log/journal</code>, in the "
		  "order they ended (times to the second).</p>\n",
		  o);
	fputs("<table id=\"timeline-table\"><thead><tr><th>Ended (UTC)</th><th>Step</th><th>Arguments</th>"
		  "<th class=\"num\">Duration</th><th class=\"num\">Exit</th></tr></thead><tbody>\n",
		  o);
	for (i = 0; i < d->njournal; i++) {
		const journal_entry *e = &d->journal[i];

		fprintf(o, "<tr class=\"%s\"><td class=\"time\">", e->part_of ? "step sub" : "step");
		html_time(o, e->end);
		fputs("</td><td class=\"step\">", o);
		if (e->part_of) {
			esc(o, e->part_of);
			fputs(" \xE2\x80\xBA ", o);
			esc(o, e->step);
		} else
			esc(o, e->name);
		fputs("</td><td>", o);
		if (*e->args) {
			fputs("<code>", o);
			esc(o, e->args);
			fputs("</code>", o);
		}
		fputs("</td><td class=\"num\">", o);
		html_seconds(o, e->seconds);
		fprintf(o, "</td><td class=\"num %s\">%d</td></tr>\n", exit_class(e->exit), e->exit);
	}
	fputs("</tbody></table>\n</section>\n", o);
}

static void
write_checks(FILE *o, const report_data *d, const report_facts *f)
{
	int i, k;

	fputs("<section id=\"checks\">\n<h2>2. Checks and their findings</h2>\n", o);
	if (d->nchecks == 0) {
		fputs("<p>", o);
		not_recorded(o);
		fputs(": no check-* run is kept in data/checks.jsonl (the journal above has the runs and their exit "
			  "status).</p>\n</section>\n",
			  o);
		return;
	}
	fputs("<table id=\"checks-table\"><thead><tr><th>Ran (UTC)</th><th>Check</th><th>Arguments</th>"
		  "<th>Result</th><th class=\"num\">Blockers</th><th class=\"num\">Notes</th></tr></thead><tbody>\n",
		  o);
	for (i = 0; i < d->nchecks; i++) {
		const jv *c = d->checks[i].doc;
		int status = (int) jv_get_num(c, "status", 2);
		const jv *args = jv_get(c, "args");

		fputs("<tr><td class=\"time\">", o);
		html_time(o, d->checks[i].at);
		fputs("</td><td>", o);
		esc(o, jv_get_str(c, "script"));
		fputs("</td><td>", o);
		for (k = 0; k < jv_count(args); k++) {
			fputs(k ? " <code>" : "<code>", o);
			esc(o, jv_str(jv_item(args, k)));
			fputs("</code>", o);
		}
		fprintf(o, "</td><td class=\"%s\">%s</td><td class=\"num\">%d</td><td class=\"num\">%d</td></tr>\n",
				exit_class(status),
				status == 0   ? "nothing blocks"
				: status == 1 ? "blockers"
							  : "error",
				jv_count(jv_get(c, "blockers")), jv_count(jv_get(c, "notes")));
	}
	fputs("</tbody></table>\n", o);

	fputs("<h3>Blockers and how they were cleared</h3>\n", o);
	if (f->nblockers == 0)
		fputs("<p class=\"ok\">No check found a blocker.</p>\n", o);
	else {
		fputs("<table id=\"blockers\"><thead><tr><th>Check</th><th>Blocker</th><th>Found (UTC)</th>"
			  "<th>Cleared</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < f->nblockers; i++) {
			const blocker *b = &f->blockers[i];

			fputs("<tr><td>", o);
			esc(o, b->script);
			fputs("</td><td>", o);
			esc(o, b->text);
			fputs("</td><td class=\"time\">", o);
			html_time(o, b->found->at);
			fputs("</td><td>", o);
			if (b->cleared) {
				const jv *args = jv_get(b->cleared->doc, "args");

				fputs("<span class=\"ok\">no longer found by the run at ", o);
				html_time(o, b->cleared->at);
				fputs("</span>", o);
				for (k = 0; k < jv_count(args); k++) {
					fputs(" <code>", o);
					esc(o, jv_str(jv_item(args, k)));
					fputs("</code>", o);
				}
			} else
				fputs("<span class=\"bad\">still found by the latest run</span>", o);
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
	}

	/* The advice of each check's latest run. */
	fputs("<h3>Notes of each check's latest run</h3>\n", o);
	for (i = d->nchecks - 1; i >= 0; i--) {
		const char *script = jv_get_str(d->checks[i].doc, "script");
		const jv *notes = jv_get(d->checks[i].doc, "notes");
		bool later = false;

		for (k = i + 1; k < d->nchecks; k++)
			if (strcmp(nz(jv_get_str(d->checks[k].doc, "script")), nz(script)) == 0)
				later = true;
		if (later || jv_count(notes) == 0)
			continue;
		fputs("<p><strong>", o);
		esc(o, script);
		fputs("</strong> (", o);
		html_time(o, d->checks[i].at);
		fputs("):</p>\n<ul class=\"list\">\n", o);
		for (k = 0; k < jv_count(notes); k++) {
			fputs("<li>", o);
			esc(o, jv_str(jv_item(notes, k)));
			fputs("</li>\n", o);
		}
		fputs("</ul>\n", o);
	}
	fputs("</section>\n", o);
}

static void
write_copy(FILE *o, const report_facts *f)
{
	const copy_facts *c = &f->copy;
	const sample *s = c->streaming ? c->streaming : f->last;

	fputs("<section id=\"copy\">\n<h2>3. The initial copy</h2>\n<dl class=\"facts\">\n", o);
	dt(o, "Subscription created");
	if (c->create_sub) {
		fputs("create-sub ended ", o);
		html_time(o, c->create_sub->end);
	} else
		not_recorded(o);
	dd_end(o);
	dt(o, "Every table streaming");
	if (c->streaming) {
		fputs("first seen by copy-progress at ", o);
		html_time(o, c->streaming->t);
		if (c->before) {
			fputs(" (not yet at ", o);
			html_time(o, c->before->t);
			fputs(")", o);
		}
	} else
		not_recorded(o);
	dd_end(o);
	dt(o, "Duration");
	if (!isnan(c->seconds_max)) {
		if (!isnan(c->seconds_min)) {
			fputs("between ", o);
			html_seconds(o, c->seconds_min);
			fputs(" and ", o);
		} else
			fputs("at most ", o);
		html_seconds(o, c->seconds_max);
		fputs(" <span class=\"nr\">(bounded by the samples and the journal's seconds)</span>", o);
	} else
		not_recorded(o);
	dd_end(o);
	dt(o, "Tables");
	if (s)
		fprintf(o, "%d in the subscription's set%s", s->total,
				s->not_replicated ? ", some of the migration's tables not replicated (see the verdicts)"
								  : "");
	else
		not_recorded(o);
	dd_end(o);
	dt(o, "Size on SRC");
	html_bytes(o, s ? s->size : NAN);
	dd_end(o);
	dt(o, "Bytes copied");
	html_bytes(o, s ? s->copied : NAN);
	dd_end(o);
	dt(o, "Rows");
	if (c->rows_from) {
		html_count(o, c->rows);
		escf(o, " on SRC (copy-diff %s at ", nz(jv_get_str(c->rows_from->result, "mode")));
		html_time(o, c->rows_from->started);
		escf(o, ", %s)", c->rows_from->file);
	} else
		not_recorded(o);
	dd_end(o);
	dt(o, "Throughput");
	if (s && !isnan(s->size) && !isnan(c->seconds_max) && c->seconds_max > 0) {
		char b[32];

		fprintf(o, "at least %s/s over the copy", format_bytes(s->size / c->seconds_max, b, sizeof(b)));
		if (!isnan(c->seconds_min) && c->seconds_min > 0)
			fprintf(o, ", at most %s/s", format_bytes(s->size / c->seconds_min, b, sizeof(b)));
	} else
		not_recorded(o);
	if (!isnan(c->peak_throughput)) {
		fputs("; the highest sampled: ", o);
		html_bytes(o, c->peak_throughput);
		fputs("/s", o);
	}
	dd_end(o);
	fputs("</dl>\n</section>\n", o);
}

static void
write_chart(FILE *o, const report_data *d, const report_facts *f, bool bytes)
{
	chart_point *p = xcalloc((size_t) d->nsamples + 1, sizeof(chart_point));
	chart_mark marks[8];
	int n = 0, nmarks = 0, i;
	double cut_at;

	for (i = 0; i < d->nsamples; i++) {
		double v = bytes ? d->samples[i].lag_bytes : d->samples[i].lag_seconds;

		if (isnan(v))
			continue;
		p[n].t = d->samples[i].t;
		p[n].v = v;
		p[n].run = d->samples[i].run;
		n++;
	}
	if (n == 0) {
		free(p);
		return;
	}
	n = chart_reduce(p, n, CHART_POINTS);
	if (f->copy.create_sub)
		marks[nmarks++] = (chart_mark){f->copy.create_sub->end, "create-sub"};
	if (f->copy.streaming)
		marks[nmarks++] = (chart_mark){f->copy.streaming->t, "all streaming"};
	if (d->cutover && jv_get_str(d->cutover, "started_at") &&
		parse_timestamp(jv_get_str(d->cutover, "started_at"), &cut_at))
		marks[nmarks++] = (chart_mark){cut_at, "cutover"};
	if (f->by_hand.fence) {
		marks[nmarks++] = (chart_mark){f->by_hand.fence->end, "disable-src"};
		marks[nmarks++] = (chart_mark){f->by_hand.route->end, "re-routing"};
	}
	fprintf(o, "<figure id=\"%s\">\n", bytes ? "lag-bytes" : "lag-seconds");
	chart_write_svg(o, bytes ? "lag-bytes-chart" : "lag-seconds-chart",
					bytes ? "Replication lag in bytes over time" : "Replication lag in seconds over time", p,
					n, bytes, marks, nmarks);
	fputs("<figcaption>", o);
	if (bytes)
		fprintf(o,
				"Lag in bytes: SRC's WAL position to what DST has applied, at each copy-progress refresh (%d "
				"run(s), %d point(s) drawn).",
				d->nruns, n);
	else
		fprintf(o, "Lag in seconds: %s.",
				f->last && f->last->heartbeat ? "from the heartbeat table, end to end"
											  : "estimated from pg_stat_subscription (heartbeat off)");
	fputs("</figcaption>\n</figure>\n", o);
	free(p);
}

static void
write_lag(FILE *o, const report_data *d, const report_facts *f)
{
	int i;
	bool seconds = false;

	fputs("<section id=\"lag\">\n<h2>4. Replication lag</h2>\n", o);
	if (d->nsamples == 0) {
		fputs("<p>", o);
		not_recorded(o);
		fputs(": no copy-progress refresh is kept in data/progress.jsonl.</p>\n</section>\n", o);
		return;
	}
	write_chart(o, d, f, true);
	for (i = 0; i < d->nsamples; i++)
		if (!isnan(d->samples[i].lag_seconds))
			seconds = true;
	if (seconds)
		write_chart(o, d, f, false);
	fputs("<dl class=\"facts\">\n", o);
	dt(o, "Samples");
	fprintf(o, "%d, from ", d->nsamples);
	html_time(o, d->samples[0].t);
	fputs(" to ", o);
	html_time(o, d->samples[d->nsamples - 1].t);
	dd_end(o);
	dt(o, "Highest lag");
	html_bytes(o, f->max_lag);
	if (!isnan(f->max_lag)) {
		fputs(" at ", o);
		html_time(o, f->max_lag_at);
	}
	if (!isnan(f->max_lag_seconds)) {
		fputs("; in seconds at most ", o);
		html_seconds(o, f->max_lag_seconds);
	}
	dd_end(o);
	dt(o, "Last refresh");
	html_time(o, f->last->t);
	fprintf(o, ": <span class=\"%s\">%s</span>, %d of %d table(s) streaming, lag ",
			f->last->in_sync ? "ok" : "warn", f->last->in_sync ? "in sync" : "not in sync",
			f->last->streaming, f->last->total);
	html_bytes(o, f->last->lag_bytes);
	dd_end(o);
	fputs("</dl>\n</section>\n", o);
}

static void
write_diff_rows(FILE *o, const kept_run *r)
{
	const jv *tables = jv_get(r->result, "tables");
	int i, k, m;

	fputs("<h3>copy-diff at ", o);
	html_time(o, r->started);
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
		esc(o, jv_get_str(t, "table"));
		fprintf(o, "</code></td><td class=\"%s\">", st && strcmp(st, "different") == 0 ? "bad" : "warn");
		text_or_nr(o, st);
		fputs("</td><td class=\"num\">", o);
		html_count(o, jv_get_num(t, "rows_src", NAN));
		fputs("</td><td class=\"num\">", o);
		html_count(o, jv_get_num(t, "rows_dst", NAN));
		fputs("</td><td>", o);
		for (k = 0; k < jv_count(rows) && k < MAX_ROWS_NAMED; k++) {
			const jv *row = jv_item(rows, k), *key = jv_get(row, "key");

			fputs(k ? "<br>" : "", o);
			esc(o, jv_get_str(row, "kind"));
			fputs(": <code>", o);
			for (m = 0; key && m < key->n; m++) {
				escf(o, "%s%s=", m ? ", " : "", key->keys[m]);
				if (jv_str(key->items[m]))
					esc(o, jv_str(key->items[m]));
				else
					fputs("NULL", o);
			}
			fputs("</code>", o);
		}
		if (jv_count(rows) > MAX_ROWS_NAMED) {
			fputs("<br>", o);
			escf(o, "and %d more (%s)", jv_count(rows) - MAX_ROWS_NAMED, r->file);
		}
		if (jv_count(rows) == 0)
			esc(o, jv_get_str(t, "note"));
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
		html_count(o, jv_get_num(v, "last_value", NAN));
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
		esc(o, jv_get_str(s, "sequence"));
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
	html_time(o, at);
	fputs("</td><td>", o);
	esc(o, by);
	fputs("</td><td class=\"num\">", o);
	html_count(o, jv_get_num(doc, "shift", NAN));
	fputs("</td><td class=\"num\">", o);
	html_count(o, jv_get_num(doc, "copied", NAN));
	fprintf(o, "</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td>",
			jv_count(jv_get(doc, "src_only")), jv_count(jv_get(doc, "dst_only")));
	if (doc == NULL)
		not_recorded(o);
	else if (jv_count(jv_path(doc, "check.collisions")) > 0)
		fprintf(o, "<span class=\"bad\">%d collision(s)</span>", jv_count(jv_path(doc, "check.collisions")));
	else
		fprintf(o, "<span class=\"ok\">%d checked, none collides</span>",
				(int) jv_get_num(doc, "check.checked", 0));
	fprintf(o, "</td><td class=\"num %s\">%d</td></tr>\n", exit_class(rc), rc);
}

static void
write_verdicts(FILE *o, const report_data *d)
{
	const jv *cut_seq = jv_get(d->cutover, "sequences");
	double cut_at = NAN;
	int i;

	fputs("<section id=\"verdicts\">\n<h2>5. Verdicts: copy-diff and the sequences</h2>\n", o);
	if (d->ndiffs == 0) {
		fputs("<p>copy-diff: ", o);
		not_recorded(o);
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
			html_time(o, r->started);
			fputs("</td><td>", o);
			text_or_nr(o, jv_get_str(r->result, "mode"));
			if (jv_bool(jv_get(r->result, "after_fence"), &fenced) && fenced)
				fputs(", after the fence", o);
			fputs("</td><td>", o);
			html_run_args(o, r);
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
				not_recorded(o);
				fprintf(o, " (migkit diff exited %d without a result)</td>", r->exit);
			}
			fprintf(o, "<td class=\"%s\">", exit_class(r->exit));
			text_or_nr(o, status);
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
		not_recorded(o);
		fputs(": no copy-seq run (data/seq-*.json) and no cutover's copy-seq.</p>\n", o);
	} else {
		fputs("<table id=\"seq-syncs\"><thead><tr><th>When (UTC)</th><th>By</th><th class=\"num\">Shift</th>"
			  "<th class=\"num\">Set</th><th class=\"num\">Only on SRC</th><th class=\"num\">Only on DST</th>"
			  "<th>Check against the columns</th><th class=\"num\">Exit</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < d->nseqs; i++)
			seq_row(o, d->seqs[i].started, "copy-seq", d->seqs[i].result, d->seqs[i].exit);
		if (jv_is(cut_seq, JV_OBJECT)) {
			parse_timestamp(nz(jv_get_str(d->cutover, "started_at")), &cut_at);
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
	dt(o, "Status");
	fprintf(o, "<span class=\"%s\">", status && strcmp(status, "done") == 0 ? "ok" : "bad");
	text_or_nr(o, status);
	fputs("</span> ", o);
	escf(o, "(%s)", file);
	dd_end(o);
	dt(o, "Started");
	html_time_text(o, jv_get_str(doc, "started_at"));
	dd_end(o);
	dt(o, "Write-fence window");
	if (jv_num(jv_get(doc, "fence_window_ms"), &v))
		fprintf(o, "<strong>%.0f ms</strong> (the fence until re-routing was done)", v);
	else
		not_recorded(o);
	dd_end(o);
	dt(o, "Fence LSN");
	text_or_nr(o, jv_get_str(doc, "fence_lsn"));
	dd_end(o);
	dt(o, "Applied LSN");
	text_or_nr(o, jv_get_str(doc, "applied_lsn"));
	dd_end(o);
	dt(o, "Verification");
	if (jv_get_str(doc, "verify") && strcmp(jv_get_str(doc, "verify"), "none") == 0)
		fputs("none (--verify none)", o);
	else
		text_or_nr(o, jv_get_str(doc, "verification.result"));
	dd_end(o);
	dt(o, "Sequences");
	if (jv_is(jv_get(doc, "sequences"), JV_OBJECT))
		escf(o, "%.0f set, shifted by %.0f", jv_get_num(doc, "sequences.copied", 0),
			 jv_get_num(doc, "sequences.shift", 0));
	else
		not_recorded(o);
	dd_end(o);
	if (rev || strcmp(file, "data/cutover.json") == 0) {
		bool prepared = false;

		dt(o, "The way back prepared");
		if (jv_is(rev, JV_OBJECT) && jv_bool(jv_get(rev, "prepared"), &prepared) && prepared)
			escf(o, "publication %s and slot %s on DST, from LSN %s", nz(jv_get_str(rev, "publication")),
				 nz(jv_get_str(rev, "slot")),
				 jv_get_str(rev, "start_lsn") ? jv_get_str(rev, "start_lsn") : "-");
		else if (jv_is(rev, JV_NULL))
			fputs("no (--no-reverse)", o);
		else
			fputs("no", o);
		dd_end(o);
	}
	if (strcmp(file, "data/cutover.json") == 0) {
		dt(o, "SRC changes after the subscription stopped");
		if (!jv_is(left, JV_ARRAY))
			not_recorded(o);
		else if (jv_count(left) == 0)
			fputs("<span class=\"ok\">none</span>", o);
		else
			for (i = 0; i < jv_count(left); i++) {
				const jv *t = jv_item(left, i);

				fputs(i ? "<br><span class=\"bad\">" : "<span class=\"bad\">", o);
				escf(o, "%s: %.0f inserted, %.0f updated, %.0f deleted", nz(jv_get_str(t, "table")),
					 jv_get_num(t, "inserts", 0), jv_get_num(t, "updates", 0), jv_get_num(t, "deletes", 0));
				fputs("</span>", o);
			}
		dd_end(o);
	}
	if (jv_get_str(doc, "error")) {
		dt(o, "Error");
		fputs("<span class=\"bad\">", o);
		esc(o, jv_get_str(doc, "error"));
		fputs("</span>", o);
		dd_end(o);
	}
	fputs("</dl>\n", o);

	fputs("<table class=\"switch-steps\"><thead><tr><th>Step</th><th class=\"num\">Time</th>"
		  "<th class=\"num\">Exit</th><th>Detail</th></tr></thead><tbody>\n",
		  o);
	for (i = 0; i < jv_count(steps); i++) {
		const jv *s = jv_item(steps, i);
		int rc = (int) jv_get_num(s, "exit", 0);

		fputs("<tr><td>", o);
		esc(o, jv_get_str(s, "step"));
		fputs("</td><td class=\"num\">", o);
		if (jv_num(jv_get(s, "ms"), &v))
			fprintf(o, "%.0f ms", v);
		else
			not_recorded(o);
		fprintf(o, "</td><td class=\"num %s\">%d</td><td>", exit_class(rc), rc);
		esc(o, jv_get_str(s, "detail"));
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
			esc(o, jv_get_str(t, "table"));
			fputs("</code></td><td class=\"num\">", o);
			html_count(o, jv_get_num(t, "rows_src", NAN));
			fputs("</td><td class=\"num\">", o);
			html_count(o, jv_get_num(t, "rows_dst", NAN));
			fprintf(o, "</td><td class=\"%s\">", st && strcmp(st, "equal") == 0 ? "ok" : "bad");
			text_or_nr(o, st);
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
	}
}

static void
write_switch(FILE *o, const report_data *d, const report_facts *f)
{
	fputs("<section id=\"switch\">\n<h2>6. The switch</h2>\n", o);
	if (d->cutover) {
		write_switch_doc(o, d->cutover, "data/cutover.json");
	} else if (f->by_hand.fence) {
		fputs("<p>No cutover is recorded: the switch was made by hand.</p>\n<dl class=\"facts\">\n", o);
		dt(o, "disable-src (the fence) ended");
		html_time(o, f->by_hand.fence->end);
		dd_end(o);
		dt(o, "copy-seq ended");
		if (f->by_hand.seq)
			html_time(o, f->by_hand.seq->end);
		else
			not_recorded(o);
		dd_end(o);
		dt(o, "re-routing ended");
		html_time(o, f->by_hand.route->end);
		dd_end(o);
		dt(o, "Write-fence window");
		not_recorded(o);
		fputs(" (by hand, the journal has each step's end to the second only)", o);
		dd_end(o);
		fputs("</dl>\n", o);
	} else {
		fputs("<p>", o);
		not_recorded(o);
		fputs(": no data/cutover.json, and no re-routing after disable-src in the journal.</p>\n", o);
	}
	if (d->fence) {
		const jv *roles = jv_get(d->fence, "roles");
		int i;

		fputs("<h3>The fence on SRC</h3>\n<dl class=\"facts\">\n", o);
		dt(o, "Put up");
		html_time_text(o, jv_get_str(d->fence, "fenced_at"));
		escf(o, " (%s%s)", d->fence_file,
			 strcmp(d->fence_file, "data/fence.undone.json") == 0 ? ": lifted since" : ": still up");
		dd_end(o);
		dt(o, "Roles fenced");
		for (i = 0; i < jv_count(roles); i++) {
			fputs(i ? ", <code>" : "<code>", o);
			esc(o, jv_get_str(jv_item(roles, i), "role"));
			fputs("</code>", o);
		}
		if (jv_count(roles) == 0)
			not_recorded(o);
		dd_end(o);
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

static void
write_misc(FILE *o, const report_data *d, const report_facts *f)
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
		not_recorded(o);
		fputs(" (no check-misc run in data/checks.jsonl).</p>\n", o);
	} else {
		fputs("<p>As check-misc found it on SRC at ", o);
		html_time(o, f->misc->at);
		fputs(".</p>\n<table id=\"misc\"><thead><tr><th>What</th><th class=\"num\">Found</th><th>Which</th>"
			  "<th>Done about it</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
			const jv *v = jv_get(m, items[i].key);
			double n = jv_is(v, JV_ARRAY) ? jv_count(v) : jv_get_num(v, "count", NAN);

			fputs("<tr><td>", o);
			esc(o, items[i].title);
			fputs("</td><td class=\"num\">", o);
			html_count(o, n);
			fputs("</td><td>", o);
			if (jv_is(v, JV_ARRAY)) {
				for (k = 0; k < jv_count(v) && k < MAX_NAMES; k++) {
					fputs(k ? ", <code>" : "<code>", o);
					esc(o, row_name(jv_item(v, k)));
					fputs("</code>", o);
				}
				if (jv_count(v) > MAX_NAMES)
					fprintf(o, " and %d more", jv_count(v) - MAX_NAMES);
			} else if (n > 0 && jv_get_str(v, "size"))
				escf(o, "%s in pg_largeobject", jv_get_str(v, "size"));
			fputs("</td><td>", o);
			if (n == 0)
				fputs("nothing to do", o);
			else if (strcmp(items[i].key, "sequences") == 0 &&
					 (d->nseqs || jv_is(jv_get(d->cutover, "sequences"), JV_OBJECT)))
				fputs("<span class=\"ok\">set on DST (see the sequence sync)</span>", o);
			else {
				not_recorded(o);
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
					escf(o, "%s is %s on SRC and %s on DST", nz(jv_get_str(row, "property")),
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
				esc(o, jv_str(jv_item(notes, k)));
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
			html_time(o, d->notes[k].at);
			fputs("</td><td>", o);
			esc(o, jv_get_str(d->notes[k].doc, "note"));
			fputs("</td></tr>\n", o);
		}
		fputs("</tbody></table>\n", o);
	}
	fputs("</section>\n", o);
}

static void
write_sources(FILE *o, const report_data *d)
{
	int i;

	fputs(
		"<section id=\"sources\">\n<h2>The records</h2>\n<p>This page and its JSON twin are written from these "
		"files of the kit alone; no server was asked.</p>\n<ul class=\"list\">\n",
		o);
	for (i = 0; i < d->nsources; i++) {
		fputs("<li><code>", o);
		esc(o, d->sources[i]);
		fputs("</code></li>\n", o);
	}
	fputs("</ul>\n</section>\n", o);
}

void
report_write_html(FILE *o, const report_data *d, const report_facts *f)
{
	fputs(
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Migration report: ",
		o);
	esc(o, d->context ? d->context : d->kit);
	fprintf(o, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", style);
	write_header(o, d, f);
	write_summary(o, d, f);
	write_timeline(o, d);
	write_checks(o, d, f);
	write_copy(o, f);
	write_lag(o, d, f);
	write_verdicts(o, d);
	write_switch(o, d, f);
	write_misc(o, d, f);
	write_sources(o, d);
	fputs("</main>\n</body>\n</html>\n", o);
}
