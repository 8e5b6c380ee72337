/*
 * migkit report: the page's small writers, shared by the sections
 * (report_html.c, report_html_parts.c): every text from a record escaped,
 * times, sizes and counts, and "not recorded" where no record holds one.
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

/* Text from a record, escaped; NULL writes nothing. */
void
rh_esc(FILE *o, const char *s)
{
	strbuf sb;

	if (s == NULL)
		return;
	sb_init(&sb);
	html_quote(&sb, s);
	fputs(sb.data, o);
	sb_free(&sb);
}

/* Formatted text, escaped as a whole: the arguments may come from records. */
void
rh_escf(FILE *o, const char *fmt, ...)
{
	va_list ap;
	strbuf sb;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	rh_esc(o, sb.data);
	sb_free(&sb);
}

void
rh_not_recorded(FILE *o)
{
	fputs("<span class=\"nr\">not recorded</span>", o);
}

/* s, or "not recorded". */
void
rh_text_or_nr(FILE *o, const char *s)
{
	if (s && *s)
		rh_esc(o, s);
	else
		rh_not_recorded(o);
}

void
rh_time(FILE *o, double t)
{
	char iso[40], shown[40], *p;

	if (!isfinite(t)) {
		rh_not_recorded(o);
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
void
rh_time_text(FILE *o, const char *s)
{
	double t;

	if (s && parse_timestamp(s, &t))
		rh_time(o, t);
	else
		rh_text_or_nr(o, s);
}

void
rh_bytes(FILE *o, double v)
{
	char b[32];

	if (isnan(v))
		rh_not_recorded(o);
	else
		fputs(format_bytes(v, b, sizeof(b)), o);
}

void
rh_seconds(FILE *o, double v)
{
	char b[32];

	if (isnan(v))
		rh_not_recorded(o);
	else
		fputs(format_seconds(v, b, sizeof(b)), o);
}

void
rh_count(FILE *o, double v)
{
	if (isnan(v))
		rh_not_recorded(o);
	else
		fprintf(o, "%.0f", v);
}

const char *
rh_exit_class(int rc)
{
	return rc == 0 ? "ok" : rc == 1 ? "warn" : "bad";
}

void
rh_dt(FILE *o, const char *term)
{
	fputs("<dt>", o);
	rh_esc(o, term);
	fputs("</dt><dd>", o);
}

void
rh_dd_end(FILE *o)
{
	fputs("</dd>\n", o);
}

/* A kept run's arguments as <code>, or nothing. */
void
rh_run_args(FILE *o, const kept_run *r)
{
	char *a = report_run_args(r);

	if (*a) {
		fputs("<code>", o);
		rh_esc(o, a);
		fputs("</code>", o);
	}
	free(a);
}

const char *
rh_nz(const char *s)
{
	return s ? s : "";
}
