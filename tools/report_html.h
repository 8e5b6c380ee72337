/*
 * The report page's pieces (report_html.c writes the page; see report.h):
 * the small writers every section uses, and the later sections.
 */
#ifndef MIGKIT_REPORT_HTML_H
#define MIGKIT_REPORT_HTML_H

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

void rh_esc(FILE *o, const char *s);
void rh_escf(FILE *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rh_not_recorded(FILE *o);
void rh_text_or_nr(FILE *o, const char *s);
void rh_time(FILE *o, double t);
void rh_time_text(FILE *o, const char *s);
void rh_bytes(FILE *o, double v);
void rh_seconds(FILE *o, double v);
void rh_count(FILE *o, double v);
const char *rh_exit_class(int rc);
void rh_dt(FILE *o, const char *term);
void rh_dd_end(FILE *o);
void rh_run_args(FILE *o, const kept_run *r);
const char *rh_nz(const char *s);
void rh_write_verdicts(FILE *o, const report_data *d);
void rh_write_switch(FILE *o, const report_data *d, const report_facts *f);
void rh_write_misc(FILE *o, const report_data *d, const report_facts *f);
void rh_write_sources(FILE *o, const report_data *d);

#endif
