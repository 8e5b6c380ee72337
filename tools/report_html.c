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
#include "report_html.h"
#include "util.h"

#define CHART_POINTS 1200

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

static void
write_header(FILE *o, const report_data *d, const report_facts *f)
{
	const char *cls = f->verdict == VERDICT_DONE_VERIFIED ? "ok" : f->alarm ? "bad" : "warn";
	char now[40];
	int i;

	fputs("<header>\n<h1>Migration report: ", o);
	if (d->src_cls && d->src_db && d->dst_cls && d->dst_db)
		rh_escf(o, "%s/%s \xE2\x86\x92 %s/%s", d->src_cls, d->src_db, d->dst_cls, d->dst_db);
	else
		rh_text_or_nr(o, d->context);
	fputs("</h1>\n<p class=\"meta\">Migration <code>", o);
	rh_text_or_nr(o, d->context);
	fputs("</code> \xC2\xB7 kit <code>", o);
	rh_esc(o, d->kit);
	fprintf(o, "</code> \xC2\xB7 written <time datetime=\"%s\">",
			report_time(f->written_at, now, sizeof(now)));
	rh_esc(o, now);
	fprintf(o, "</time> by migkit %s from the kit's records alone</p>\n", PACKAGE_VERSION);

	fprintf(o, "<div class=\"verdict %s\" id=\"verdict\" data-status=\"%s\">\n<p class=\"headline\">", cls,
			f->status);
	rh_esc(o, f->headline);
	fputs("</p>\n<p>", o);
	rh_esc(o, f->explanation);
	fputs("</p>\n", o);
	if (f->nevidence) {
		fputs("<p>What the records show:</p>\n<ul>\n", o);
		for (i = 0; i < f->nevidence; i++) {
			fputs("<li>", o);
			rh_esc(o, f->evidence[i]);
			fputs("</li>\n", o);
		}
		fputs("</ul>\n", o);
	}
	if (f->ngaps) {
		fputs("<p>What they do not show:</p>\n<ul>\n", o);
		for (i = 0; i < f->ngaps; i++) {
			fputs("<li>", o);
			rh_esc(o, f->gaps[i]);
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
		rh_escf(o, "%s/%s", rh_nz(cls), rh_nz(db));
	else
		rh_not_recorded(o);
	if (ip)
		rh_escf(o, " at %s", ip);
	fputs("; PostgreSQL ", o);
	if (version) {
		char t[40];

		rh_esc(o, jv_get_str(version->doc, "server_version"));
		rh_escf(o, " (recorded by %s at %s)", rh_nz(jv_get_str(version->doc, "script")),
				report_time(version->at, t, sizeof(t)));
	} else {
		fputs("version ", o);
		rh_not_recorded(o);
	}
}

static void
write_summary(FILE *o, const report_data *d, const report_facts *f)
{
	int i, seen[2] = {0, 0};

	fputs("<section id=\"summary\">\n<h2>At a glance</h2>\n<dl class=\"facts\">\n", o);
	rh_dt(o, "Source (SRC)");
	html_side(o, d->src_cls, d->src_db, d->src_ip, f->version[0]);
	rh_dd_end(o);
	rh_dt(o, "Destination (DST)");
	html_side(o, d->dst_cls, d->dst_db, d->dst_ip, f->version[1]);
	rh_dd_end(o);
	rh_dt(o, "Publication, subscription");
	if (d->pub_name || d->sub_name)
		rh_escf(o, "%s on SRC, %s on DST", rh_nz(d->pub_name), rh_nz(d->sub_name));
	else
		rh_not_recorded(o);
	rh_dd_end(o);
	rh_dt(o, "Steps journaled");
	fprintf(o, "%d", d->njournal);
	rh_dd_end(o);
	fputs("</dl>\n", o);
	/* More than one version recorded for a side: the server changed during the migration. */
	for (i = 0; i < d->nversions; i++)
		seen[strcmp(rh_nz(jv_get_str(d->versions[i].doc, "side")), "DST") == 0]++;
	if (seen[0] > 1 || seen[1] > 1) {
		fputs("<h3>Server versions as recorded</h3>\n<table id=\"versions\"><thead><tr><th>Recorded "
			  "(UTC)</th><th>Side</th><th>Version</th><th>By</th></tr></thead><tbody>\n",
			  o);
		for (i = 0; i < d->nversions; i++) {
			const jv *v = d->versions[i].doc;

			fputs("<tr><td class=\"time\">", o);
			rh_time(o, d->versions[i].at);
			fputs("</td><td>", o);
			rh_esc(o, jv_get_str(v, "side"));
			fputs("</td><td>", o);
			rh_esc(o, jv_get_str(v, "server_version"));
			fputs("</td><td>", o);
			rh_esc(o, jv_get_str(v, "script"));
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
		rh_not_recorded(o);
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
		rh_time(o, e->end);
		fputs("</td><td class=\"step\">", o);
		if (e->part_of) {
			rh_esc(o, e->part_of);
			fputs(" \xE2\x80\xBA ", o);
			rh_esc(o, e->step);
		} else
			rh_esc(o, e->name);
		fputs("</td><td>", o);
		if (*e->args) {
			fputs("<code>", o);
			rh_esc(o, e->args);
			fputs("</code>", o);
		}
		fputs("</td><td class=\"num\">", o);
		rh_seconds(o, e->seconds);
		fprintf(o, "</td><td class=\"num %s\">%d</td></tr>\n", rh_exit_class(e->exit), e->exit);
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
		rh_not_recorded(o);
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
		rh_time(o, d->checks[i].at);
		fputs("</td><td>", o);
		rh_esc(o, jv_get_str(c, "script"));
		fputs("</td><td>", o);
		for (k = 0; k < jv_count(args); k++) {
			fputs(k ? " <code>" : "<code>", o);
			rh_esc(o, jv_str(jv_item(args, k)));
			fputs("</code>", o);
		}
		fprintf(o, "</td><td class=\"%s\">%s</td><td class=\"num\">%d</td><td class=\"num\">%d</td></tr>\n",
				rh_exit_class(status),
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
			rh_esc(o, b->script);
			fputs("</td><td>", o);
			rh_esc(o, b->text);
			fputs("</td><td class=\"time\">", o);
			rh_time(o, b->found->at);
			fputs("</td><td>", o);
			if (b->cleared) {
				const jv *args = jv_get(b->cleared->doc, "args");

				fputs("<span class=\"ok\">no longer found by the run at ", o);
				rh_time(o, b->cleared->at);
				fputs("</span>", o);
				for (k = 0; k < jv_count(args); k++) {
					fputs(" <code>", o);
					rh_esc(o, jv_str(jv_item(args, k)));
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
			if (strcmp(rh_nz(jv_get_str(d->checks[k].doc, "script")), rh_nz(script)) == 0)
				later = true;
		if (later || jv_count(notes) == 0)
			continue;
		fputs("<p><strong>", o);
		rh_esc(o, script);
		fputs("</strong> (", o);
		rh_time(o, d->checks[i].at);
		fputs("):</p>\n<ul class=\"list\">\n", o);
		for (k = 0; k < jv_count(notes); k++) {
			fputs("<li>", o);
			rh_esc(o, jv_str(jv_item(notes, k)));
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
	rh_dt(o, "Subscription created");
	if (c->create_sub) {
		fputs("create-sub ended ", o);
		rh_time(o, c->create_sub->end);
	} else
		rh_not_recorded(o);
	rh_dd_end(o);
	rh_dt(o, "Every table streaming");
	if (c->streaming) {
		fputs("first seen by copy-progress at ", o);
		rh_time(o, c->streaming->t);
		if (c->before) {
			fputs(" (not yet at ", o);
			rh_time(o, c->before->t);
			fputs(")", o);
		}
	} else
		rh_not_recorded(o);
	rh_dd_end(o);
	rh_dt(o, "Duration");
	if (!isnan(c->seconds_max)) {
		if (!isnan(c->seconds_min)) {
			fputs("between ", o);
			rh_seconds(o, c->seconds_min);
			fputs(" and ", o);
		} else
			fputs("at most ", o);
		rh_seconds(o, c->seconds_max);
		fputs(" <span class=\"nr\">(bounded by the samples and the journal's seconds)</span>", o);
	} else
		rh_not_recorded(o);
	rh_dd_end(o);
	rh_dt(o, "Tables");
	if (s)
		fprintf(o, "%d in the subscription's set%s", s->total,
				s->not_replicated ? ", some of the migration's tables not replicated (see the verdicts)"
								  : "");
	else
		rh_not_recorded(o);
	rh_dd_end(o);
	rh_dt(o, "Size on SRC");
	rh_bytes(o, s ? s->size : NAN);
	rh_dd_end(o);
	rh_dt(o, "Bytes copied");
	rh_bytes(o, s ? s->copied : NAN);
	rh_dd_end(o);
	rh_dt(o, "Rows");
	if (c->rows_from) {
		rh_count(o, c->rows);
		rh_escf(o, " on SRC (copy-diff %s at ", rh_nz(jv_get_str(c->rows_from->result, "mode")));
		rh_time(o, c->rows_from->started);
		rh_escf(o, ", %s)", c->rows_from->file);
	} else
		rh_not_recorded(o);
	rh_dd_end(o);
	rh_dt(o, "Throughput");
	if (s && !isnan(s->size) && !isnan(c->seconds_max) && c->seconds_max > 0) {
		char b[32];

		fprintf(o, "at least %s/s over the copy", format_bytes(s->size / c->seconds_max, b, sizeof(b)));
		if (!isnan(c->seconds_min) && c->seconds_min > 0)
			fprintf(o, ", at most %s/s", format_bytes(s->size / c->seconds_min, b, sizeof(b)));
	} else
		rh_not_recorded(o);
	if (!isnan(c->peak_throughput)) {
		fputs("; the highest sampled: ", o);
		rh_bytes(o, c->peak_throughput);
		fputs("/s", o);
	}
	rh_dd_end(o);
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
		rh_not_recorded(o);
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
	rh_dt(o, "Samples");
	fprintf(o, "%d, from ", d->nsamples);
	rh_time(o, d->samples[0].t);
	fputs(" to ", o);
	rh_time(o, d->samples[d->nsamples - 1].t);
	rh_dd_end(o);
	rh_dt(o, "Highest lag");
	rh_bytes(o, f->max_lag);
	if (!isnan(f->max_lag)) {
		fputs(" at ", o);
		rh_time(o, f->max_lag_at);
	}
	if (!isnan(f->max_lag_seconds)) {
		fputs("; in seconds at most ", o);
		rh_seconds(o, f->max_lag_seconds);
	}
	rh_dd_end(o);
	rh_dt(o, "Last refresh");
	rh_time(o, f->last->t);
	fprintf(o, ": <span class=\"%s\">%s</span>, %d of %d table(s) streaming, lag ",
			f->last->in_sync ? "ok" : "warn", f->last->in_sync ? "in sync" : "not in sync",
			f->last->streaming, f->last->total);
	rh_bytes(o, f->last->lag_bytes);
	rh_dd_end(o);
	fputs("</dl>\n</section>\n", o);
}

void
report_write_html(FILE *o, const report_data *d, const report_facts *f)
{
	fputs(
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Migration report: ",
		o);
	rh_esc(o, d->context ? d->context : d->kit);
	fprintf(o, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", style);
	write_header(o, d, f);
	write_summary(o, d, f);
	write_timeline(o, d);
	write_checks(o, d, f);
	write_copy(o, f);
	write_lag(o, d, f);
	rh_write_verdicts(o, d);
	rh_write_switch(o, d, f);
	rh_write_misc(o, d, f);
	rh_write_sources(o, d);
	fputs("</main>\n</body>\n</html>\n", o);
}
