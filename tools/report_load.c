/*
 * migkit report: reading what the kit recorded.  Every record is optional
 * (a kit records what it has run), but one that is there and cannot be
 * read stops the report, with the file, the line and what to do: a report
 * that left out a record it could not read would tell less than the kit
 * knows.  A last line without its newline is one being written, and is
 * left out.
 */
#include "config.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_read.h"
#include "quote.h"
#include "report.h"
#include "util.h"

/* The whole of a file; NULL with *missing set when it is not there, NULL (logged) when unreadable. */
static char *
slurp(const char *path, size_t *len, bool *missing)
{
	FILE *f = fopen(path, "rb");
	strbuf sb;
	char buf[65536];
	size_t n;

	*missing = false;
	if (f == NULL) {
		if (errno == ENOENT)
			*missing = true;
		else
			log_error("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_append_len(&sb, buf, n);
	if (ferror(f)) {
		log_error("cannot read %s: %s", path, strerror(errno));
		fclose(f);
		sb_free(&sb);
		return NULL;
	}
	fclose(f);
	*len = sb.len;
	return sb_steal(&sb);
}

static void
add_source(report_data *d, const char *name)
{
	d->sources = xrealloc(d->sources, (size_t) (d->nsources + 1) * sizeof(char *));
	d->sources[d->nsources++] = xstrdup(name);
}

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

	text = slurp(path, &len, &missing);
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
	add_source(d, "activate");
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

	text = slurp(path, &len, &missing);
	if (text == NULL) {
		free(path);
		return missing;
	}
	add_source(d, "log/journal");
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

/* Reads data/NAME, a JSON object a line; each calls take (which owns the doc); false when unreadable. */
static bool
load_lines(report_data *d, const char *name, bool (*take)(report_data *, jv *, const char *, int),
		   bool *present)
{
	char *path = xasprintf("%s/data/%s", d->kit, name), *text, *p;
	size_t len;
	bool missing, ok = true;
	int lineno = 0;

	*present = false;
	text = slurp(path, &len, &missing);
	if (text == NULL) {
		free(path);
		return missing;
	}
	*present = true;
	for (p = text; ok && *p;) {
		char *nl = strchr(p, '\n');
		jv_error err;
		jv *v;

		if (nl == NULL)
			break; /* being written */
		lineno++;
		if (nl == p) {
			p = nl + 1;
			continue;
		}
		v = jv_parse(p, (size_t) (nl - p), &err);
		if (v == NULL || v->type != JV_OBJECT) {
			log_error("%s:%d:%d: %s: the line is not the record the kit writes; fix or remove it", path,
					  lineno, v ? 1 : err.column, v ? "not a JSON object" : err.message);
			jv_free(v);
			ok = false;
			break;
		}
		ok = take(d, v, path, lineno);
		p = nl + 1;
	}
	free(text);
	free(path);
	return ok;
}

/* A record's "at", which it must have. */
static bool
record_time(jv *v, const char *key, const char *path, int lineno, double *at)
{
	const char *s = jv_get_str(v, key);

	if (s == NULL || !parse_timestamp(s, at)) {
		log_error("%s:%d: the record has no time \"%s\" (2024-05-01T10:00:00.000Z): fix or remove the line",
				  path, lineno, key);
		return false;
	}
	return true;
}

static bool
add_record(record **list, int *n, jv *v, const char *path, int lineno)
{
	double at;

	if (!record_time(v, "at", path, lineno, &at)) {
		jv_free(v);
		return false;
	}
	*list = xrealloc(*list, (size_t) (*n + 1) * sizeof(record));
	(*list)[*n].at = at;
	(*list)[*n].doc = v;
	(*n)++;
	return true;
}

static bool
take_check(report_data *d, jv *v, const char *path, int lineno)
{
	if (jv_get_str(v, "script") == NULL) {
		log_error("%s:%d: the record names no \"script\": fix or remove the line", path, lineno);
		jv_free(v);
		return false;
	}
	return add_record(&d->checks, &d->nchecks, v, path, lineno);
}

static bool
take_version(report_data *d, jv *v, const char *path, int lineno)
{
	const char *side = jv_get_str(v, "side");

	if (side == NULL || (strcmp(side, "SRC") != 0 && strcmp(side, "DST") != 0)) {
		log_error("%s:%d: the record's \"side\" is not SRC or DST: fix or remove the line", path, lineno);
		jv_free(v);
		return false;
	}
	return add_record(&d->versions, &d->nversions, v, path, lineno);
}

static bool
take_note(report_data *d, jv *v, const char *path, int lineno)
{
	if (jv_get_str(v, "note") == NULL) {
		log_error("%s:%d: the record holds no \"note\": fix or remove the line", path, lineno);
		jv_free(v);
		return false;
	}
	return add_record(&d->notes, &d->nnotes, v, path, lineno);
}

static double
num_or_nan(const jv *v, const char *path)
{
	return jv_get_num(v, path, NAN);
}

static bool
take_sample(report_data *d, jv *v, const char *path, int lineno)
{
	sample *s;
	const char *run = jv_get_str(v, "run"), *src = jv_get_str(v, "lag.seconds_source");
	double t;
	bool b = false;

	if (!record_time(v, "time", path, lineno, &t)) {
		jv_free(v);
		return false;
	}
	if (d->nsamples % 1024 == 0)
		d->samples = xrealloc(d->samples, (size_t) (d->nsamples + 1024) * sizeof(sample));
	s = &d->samples[d->nsamples++];
	memset(s, 0, sizeof(*s));
	s->t = t;
	if (d->nruns == 0 || strcmp(d->runs[d->nruns - 1], run ? run : "") != 0) {
		d->runs = xrealloc(d->runs, (size_t) (d->nruns + 1) * sizeof(char *));
		d->runs[d->nruns++] = xstrdup(run ? run : "");
	}
	s->run = d->nruns - 1;
	s->in_sync = jv_bool(jv_get(v, "in_sync"), &b) && b;
	s->total = (int) jv_get_num(v, "tables.total", 0);
	s->streaming = (int) jv_get_num(v, "tables.streaming", 0);
	s->not_replicated = (int) jv_get_num(v, "tables.not_replicated", 0);
	s->size = num_or_nan(v, "size_bytes");
	s->copied = num_or_nan(v, "copied_bytes");
	s->throughput = num_or_nan(v, "throughput_bytes_per_second");
	s->lag_bytes = num_or_nan(v, "lag.bytes");
	s->lag_seconds = num_or_nan(v, "lag.seconds");
	s->heartbeat = src && strcmp(src, "heartbeat") == 0;
	jv_free(v);
	return true;
}

/* A whole-file JSON record; *out NULL when it is not there.  A source to list unless in a series. */
static bool
load_doc(report_data *d, const char *name, jv **out, bool series)
{
	char *path = xasprintf("%s/data/%s", d->kit, name), *text;
	size_t len;
	bool missing;
	jv_error err;

	*out = NULL;
	text = slurp(path, &len, &missing);
	if (text == NULL) {
		free(path);
		return missing;
	}
	*out = jv_parse(text, len, &err);
	if (*out == NULL || (*out)->type != JV_OBJECT) {
		log_error("%s:%d:%d: %s: the file is not the record the kit writes; fix it or move it out of data/",
				  path, *out ? 1 : err.line, *out ? 1 : err.column, *out ? "not a JSON object" : err.message);
		jv_free(*out);
		*out = NULL;
		free(text);
		free(path);
		return false;
	}
	free(text);
	free(path);
	if (!series) {
		char *s = xasprintf("data/%s", name);

		add_source(d, s);
		free(s);
	}
	return true;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* data/PREFIX-*.json, oldest first (the names hold the time). */
static bool
load_runs(report_data *d, const char *prefix, kept_run **list, int *n)
{
	char *dir = xasprintf("%s/data", d->kit), **names = NULL;
	DIR *dh = opendir(dir);
	struct dirent *de;
	size_t plen = strlen(prefix);
	int nnames = 0, i;
	bool ok = true;

	if (dh == NULL) {
		free(dir);
		return true;
	}
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, prefix, plen) == 0 && de->d_name[plen] == '-' && len > plen + 6 &&
			strcmp(de->d_name + len - 5, ".json") == 0) {
			names = xrealloc(names, (size_t) (nnames + 1) * sizeof(char *));
			names[nnames++] = xstrdup(de->d_name);
		}
	}
	closedir(dh);
	if (nnames > 0)
		qsort(names, (size_t) nnames, sizeof(char *), compare_names);
	for (i = 0; i < nnames; i++) {
		jv *v = NULL;
		kept_run *r;
		const char *path;
		int k;

		if (ok && !load_doc(d, names[i], &v, true))
			ok = false;
		if (!ok || v == NULL) {
			free(names[i]);
			continue;
		}
		path = names[i];
		*list = xrealloc(*list, (size_t) (*n + 1) * sizeof(kept_run));
		r = &(*list)[*n];
		memset(r, 0, sizeof(*r));
		r->doc = v;
		r->file = xasprintf("data/%s", path);
		if (!record_time(v, "started_at", r->file, 1, &r->started)) {
			jv_free(v);
			free(r->file);
			free(names[i]);
			ok = false;
			continue;
		}
		(*n)++;
		r->finished =
			jv_get_str(v, "finished_at") && parse_timestamp(jv_get_str(v, "finished_at"), &r->finished)
				? r->finished
				: NAN;
		r->exit = (int) jv_get_num(v, "exit", 2);
		r->result = jv_is(jv_get(v, "result"), JV_OBJECT) ? jv_get(v, "result") : NULL;
		r->whole_set = true;
		for (k = 0; k < jv_count(jv_get(v, "args")); k++) {
			const char *a = jv_str(jv_item(jv_get(v, "args"), k));

			if (a && (strcmp(a, "-t") == 0 || strcmp(a, "--table") == 0 || strncmp(a, "--table=", 8) == 0 ||
					  (strncmp(a, "-t", 2) == 0 && a[2] != '\0')))
				r->whole_set = false;
		}
		free(names[i]);
	}
	free(names);
	free(dir);
	if (ok && *n > 0) {
		char *s = xasprintf("data/%s-*.json (%d)", prefix, *n);

		add_source(d, s);
		free(s);
	}
	return ok;
}

bool
report_load(const char *kit, report_data *d)
{
	struct stat st;
	bool present;

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
	if (!load_lines(d, "checks.jsonl", take_check, &present))
		return false;
	if (present)
		add_source(d, "data/checks.jsonl");
	if (!load_lines(d, "versions.jsonl", take_version, &present))
		return false;
	if (present)
		add_source(d, "data/versions.jsonl");
	if (!load_lines(d, "progress.jsonl", take_sample, &present))
		return false;
	if (present)
		add_source(d, "data/progress.jsonl");
	if (!load_lines(d, "notes.jsonl", take_note, &present))
		return false;
	if (present)
		add_source(d, "data/notes.jsonl");
	if (!load_runs(d, "diff", &d->diffs, &d->ndiffs) || !load_runs(d, "seq", &d->seqs, &d->nseqs))
		return false;
	if (!load_doc(d, "cutover.json", &d->cutover, false) ||
		!load_doc(d, "rollback.json", &d->rollback, false))
		return false;
	if (!load_doc(d, "fence.json", &d->fence, false))
		return false;
	if (d->fence)
		d->fence_file = "data/fence.json";
	else if (!load_doc(d, "fence.undone.json", &d->fence, false))
		return false;
	else if (d->fence)
		d->fence_file = "data/fence.undone.json";
	return true;
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
