/*
 * migkit report: a value over time (the replication lag) as an inline SVG
 * chart, drawn here so that the page needs no script: axes with round
 * ticks, one line per copy-progress run (a gap between runs is not drawn
 * over), a dot per sample when there are few, and the migration's events
 * as marked times.  Styled by the page's classes (report_html.c).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report_html.h"
#include "util.h"

#define W      760.0
#define H      260.0
#define LEFT   72.0
#define RIGHT  16.0
#define TOP    28.0
#define BOTTOM 36.0
#define DOTS   80 /* up to this many points, each is a dot too */

int
chart_reduce(chart_point *p, int n, int max)
{
	int slices = max / 2, out = 0, i = 0, s;
	double t0, span;

	if (n <= max || slices < 1)
		return n;
	t0 = p[0].t;
	span = p[n - 1].t - t0;
	for (s = 0; s < slices && i < n; s++) {
		double end = s == slices - 1 ? INFINITY : t0 + span * (s + 1) / slices;
		int lo = -1, hi = -1;

		for (; i < n && p[i].t <= end; i++) {
			if (lo < 0 || p[i].v < p[lo].v)
				lo = i;
			if (hi < 0 || p[i].v > p[hi].v)
				hi = i;
		}
		if (lo < 0)
			continue;
		if (lo > hi) {
			int x = lo;

			lo = hi;
			hi = x;
		}
		p[out++] = p[lo]; /* out <= lo: nothing read yet is overwritten */
		if (hi != lo)
			p[out++] = p[hi];
	}
	return out;
}

/* A step of 1, 2 or 5 times a power of ten, near span / 4. */
static double
nice_step(double span)
{
	double raw = span / 4, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* The y axis: its unit (1024-based for bytes), ticks' step and top. */
static void
y_axis(double vmax, bool bytes, double *unit, const char **unit_name, double *step, double *top)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;

	*unit = 1;
	if (bytes)
		while (vmax / *unit >= 1024 && u < 4) {
			*unit *= 1024;
			u++;
		}
	*unit_name = bytes ? units[u] : "s";
	/* Small values (all zero, say): an axis of a few bytes or a fraction of a second. */
	if (bytes && u == 0 && vmax < 4)
		vmax = 4;
	else if (!bytes && vmax < 0.4)
		vmax = 0.4;
	*step = nice_step(vmax / *unit) * *unit;
	*top = ceil(vmax / *step) * *step;
	if (*top <= 0)
		*top = *step;
}

static double
time_step(double span)
{
	static const double steps[] = {1,   2,    5,    10,   15,    30,    60,    120,   300,       600,
								   900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 2 * 86400, 7 * 86400};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / steps[i] <= 6)
			return steps[i];
	return 30 * 86400;
}

static void
time_label(double t, double step, char *buf, size_t size)
{
	time_t s = (time_t) floor(t);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, size, step < 60 ? "%H:%M:%S" : step < 86400 ? "%H:%M" : "%m-%d", &tm);
}

void
chart_write_svg(FILE *out, const char *id, const char *title, const chart_point *p, int n, bool bytes,
				const chart_mark *marks, int nmarks)
{
	double t0 = INFINITY, t1 = -INFINITY, vmax = 0, unit, step, top, tstep, t, span, lo, hi;
	const char *unit_name;
	double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
	int i, k, shown = 0;

	for (i = 0; i < n; i++) {
		t0 = fmin(t0, p[i].t);
		t1 = fmax(t1, p[i].t);
		vmax = fmax(vmax, p[i].v);
	}
	if (n == 0)
		return;
	/* The events near the samples widen the axis to show them (create-sub before the first, say). */
	span = fmax(t1 - t0, 60);
	lo = t0;
	hi = t1;
	for (i = 0; i < nmarks; i++)
		if (marks[i].t >= lo - span && marks[i].t <= hi + span) {
			t0 = fmin(t0, marks[i].t);
			t1 = fmax(t1, marks[i].t);
		}
	if (t1 - t0 < 10) { /* a few seconds: at least ten on the axis */
		double mid = (t0 + t1) / 2;

		t0 = mid - 5;
		t1 = mid + 5;
	}
	y_axis(vmax, bytes, &unit, &unit_name, &step, &top);

#define X(tt) (LEFT + ((tt) -t0) / (t1 - t0) * pw)
#define Y(vv) (TOP + ph - (vv) / top * ph)

	fprintf(out, "<svg class=\"chart\" id=\"");
	rh_esc(out, id);
	fprintf(out, "\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-labelledby=\"", W, H);
	rh_esc(out, id);
	fprintf(out, "-title\"><title id=\"");
	rh_esc(out, id);
	fprintf(out, "-title\">");
	rh_esc(out, title);
	fprintf(out, "</title>\n");

	/* The y axis: grid lines at round values. */
	for (k = 0; k * step <= top * (1 + 1e-9); k++) {
		double v = k * step, y = Y(v);

		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", LEFT, y,
				W - RIGHT, y);
		fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g %s</text>\n",
				LEFT - 6, y + 4, v / unit, unit_name);
	}
	/* The x axis: times of day (UTC) at round steps. */
	tstep = time_step(t1 - t0);
	for (t = ceil(t0 / tstep) * tstep; t <= t1; t += tstep) {
		char label[32];

		time_label(t, tstep, label, sizeof(label));
		fprintf(out, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", X(t), TOP + ph,
				X(t), TOP + ph + 4);
		fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", X(t),
				TOP + ph + 18, label);
	}
	fprintf(out, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT, TOP + ph,
			W - RIGHT, TOP + ph);
	fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">UTC</text>\n", W - RIGHT,
			H - 4);

	/* The events, where they fall on the axis; labels alternate in height. */
	for (i = 0; i < nmarks; i++) {
		double x;

		if (marks[i].t < t0 || marks[i].t > t1)
			continue;
		x = X(marks[i].t);
		fprintf(out, "<line class=\"mark\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, TOP - 4, x,
				TOP + ph);
		fprintf(out, "<text class=\"mark-label\" x=\"%.1f\" y=\"%.1f\"%s>", x + (x > W - 160 ? -3 : 3),
				shown % 2 ? TOP + 8 : TOP - 8, x > W - 160 ? " text-anchor=\"end\"" : "");
		rh_esc(out, marks[i].label);
		fprintf(out, "</text>\n");
		shown++;
	}

	/* The line: one path, a new subpath (M) at each run. */
	fprintf(out, "<path class=\"line\" d=\"");
	for (i = 0; i < n; i++)
		fprintf(out, "%s%.1f,%.1f", i == 0 || p[i].run != p[i - 1].run ? (i ? " M" : "M") : " L", X(p[i].t),
				Y(p[i].v));
	fprintf(out, "\"/>\n");
	for (i = 0; i < n; i++) {
		bool alone = (i == 0 || p[i].run != p[i - 1].run) && (i == n - 1 || p[i + 1].run != p[i].run);

		if (n <= DOTS || alone)
			fprintf(out, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>", X(p[i].t), Y(p[i].v));
	}
	fprintf(out, "\n</svg>\n");
#undef X
#undef Y
}
