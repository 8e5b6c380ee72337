/*
 * migkit report: reading what the kit recorded.  Every record is optional
 * (a kit records what it has run), but one that is there and cannot be
 * read stops the report, with the file, the line and what to do: a report
 * that left out a record it could not read would tell less than the kit
 * knows.  A last line without its newline is one being written, and is
 * left out.  This file reads the kit's activate and log/journal, and
 * frees what was read; the records of data/ are report_records.c's.
 */
#include "config.h"

#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_read.h"
#include "quote.h"
#include "report.h"
#include "util.h"

/* The activate's exported values this report shows. */
static bool
load_activate(report_data *d)
{
	static const struct {
		const char *name;
		size_t offset;
	} wanted[] = {
		{"MIGRATION_CONTEXT", offsetof(report_data, context)},
		{"SRCCLS", offsetof(report_data, src_cls)},
		{"SRCDB", offsetof(report_data, src_db)},
		{"SRCIP", offsetof(report_data, src_ip)},
		{"DSTCLS", offsetof(report_data, dst_cls)},
		{"DSTDB", offsetof(report_data, dst_db)},
		{"DSTIP", offsetof(report_data, dst_ip)},
		{"PUBNAME", offsetof(report_data, pub_name)},
		{"SUBNAME", offsetof(report_data, sub_name)},
	};
	char *path = xasprintf("%s/activate", d->kit), *text, *line, *save = NULL;
	size_t len, i;
	bool missing;

	text = report_slurp(path, &len, &missing);
	if (text == NULL) {
		if (missing)
			log_error("%s is not a migkit kit (it has no activate): give the kit's directory, or run "
					  "\"report\" in the kit",
					  d->kit);
		free(path);
		return false;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "export ", 7) != 0)
			continue;
		for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
			size_t n = strlen(wanted[i].name);
			char **slot = (char **) ((char *) d + wanted[i].offset);

			if (strncmp(line + 7, wanted[i].name, n) == 0 && line[7 + n] == '=' && *slot == NULL)
				*slot = shell_unquote(line + 8 + n); /* NULL when not in a form it reads */
		}
	}
	free(text);
	free(path);
	report_add_source(d, "activate");
	return true;
}

/* Splits s at tabs into at most n fields in place; returns how many. */
static int
split_tabs(char *s, char **fields, int n)
{
	int k = 0;

	while (k < n) {
		char *tab = strchr(s, '\t');

		fields[k++] = s;
		if (tab == NULL)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	return k;
}

/* True when the journaled arguments (shell words) hold the word w. */
static bool
args_have(const char *args, const char *w)
{
	size_t n = strlen(w);
	const char *p = args;

	while ((p = strstr(p, w)) != NULL) {
		if ((p == args || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

static bool
load_journal(report_data *d)
{
	char *path = xasprintf("%s/log/journal", d->kit), *text, *p;
	size_t len;
	bool missing, ok = true;
	int lineno = 0;

	text = report_slurp(path, &len, &missing);
	if (text == NULL) {
		free(path);
		return missing;
	}
	report_add_source(d, "log/journal");
	for (p = text; ok && *p;) {
		char *nl = strchr(p, '\n'), *f[5];
		journal_entry *e;
		double secs;
		long rc;
		int nf;

		if (nl == NULL)
			break; /* being written */
		*nl = '\0';
		lineno++;
		if (*p == '\0') {
			p = nl + 1;
			continue;
		}
		nf = split_tabs(p, f, 5);
		if (nf >= 4 && strlen(f[3]) > 1 && f[3][strlen(f[3]) - 1] == 's')
			f[3][strlen(f[3]) - 1] = '\0'; /* "1.250s" */
		else
			nf = 0;
		if (nf < 4 || strncmp(f[2], "exit=", 5) != 0 || !parse_long(f[2] + 5, &rc) ||
			!parse_double(f[3], &secs)) {
			log_error(
				"%s:%d: not a journal line (time, step, exit=N, seconds, arguments, tab-separated): fix or "
				"remove the line",
				path, lineno);
			ok = false;
			break;
		}
		d->journal = xrealloc(d->journal, (size_t) (d->njournal + 1) * sizeof(journal_entry));
		e = &d->journal[d->njournal];
		memset(e, 0, sizeof(*e));
		if (!parse_timestamp(f[0], &e->end)) {
			log_error("%s:%d: \"%s\" is not a time (2024-05-01T10:00:00Z): fix or remove the line", path,
					  lineno, f[0]);
			ok = false;
			break;
		}
		d->njournal++;
		e->end_text = xstrdup(f[0]);
		e->name = xstrdup(f[1]);
		if (strchr(f[1], ':')) {
			e->part_of = xstrdup(f[1]);
			*strchr(e->part_of, ':') = '\0';
			e->step = xstrdup(strchr(f[1], ':') + 1);
		} else {
			e->step = xstrdup(f[1]);
		}
		e->exit = (int) rc;
		e->seconds = secs;
		e->args = xstrdup(nf == 5 ? f[4] : "");
		e->dry_run = args_have(e->args, "-n") || args_have(e->args, "--dry-run");
		p = nl + 1;
	}
	free(text);
	free(path);
	return ok;
}

bool
report_load(const char *kit, report_data *d)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	if (stat(kit, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_error("%s is not a directory: give the kit's directory (the one with activate)", kit);
		return false;
	}
	d->kit = realpath(kit, NULL);
	if (d->kit == NULL) {
		log_error("cannot resolve %s: %s", kit, strerror(errno));
		return false;
	}
	if (!load_activate(d) || !load_journal(d))
		return false;
	return report_load_data(d);
}

static void
free_runs(kept_run *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		jv_free(r[i].doc);
		free(r[i].file);
	}
	free(r);
}

static void
free_records(record *r, int n)
{
	int i;

	for (i = 0; i < n; i++)
		jv_free(r[i].doc);
	free(r);
}

void
report_data_free(report_data *d)
{
	int i;

	free(d->kit);
	free(d->context);
	free(d->src_cls);
	free(d->src_db);
	free(d->src_ip);
	free(d->dst_cls);
	free(d->dst_db);
	free(d->dst_ip);
	free(d->pub_name);
	free(d->sub_name);
	for (i = 0; i < d->njournal; i++) {
		journal_entry *e = &d->journal[i];

		free(e->end_text);
		free(e->name);
		free(e->part_of);
		free(e->step);
		free(e->args);
	}
	free(d->journal);
	free_records(d->checks, d->nchecks);
	free_records(d->versions, d->nversions);
	free_records(d->notes, d->nnotes);
	free(d->samples);
	for (i = 0; i < d->nruns; i++)
		free(d->runs[i]);
	free(d->runs);
	free_runs(d->diffs, d->ndiffs);
	free_runs(d->seqs, d->nseqs);
	jv_free(d->cutover);
	jv_free(d->rollback);
	jv_free(d->fence);
	for (i = 0; i < d->nsources; i++)
		free(d->sources[i]);
	free(d->sources);
	memset(d, 0, sizeof(*d));
}
