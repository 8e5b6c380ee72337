/*
 * migkit report: reading the records the kit keeps in data/, JSON objects
 * a line (checks, versions, progress samples, notes), whole JSON documents
 * (the cutover, the rollback, the fence) and the kept runs of diff and
 * seq.  Each must be the record the kit writes, or the report stops, with
 * the file, the line and what to do (report_load.c reads the rest, with
 * this file's reading of a whole file and list of the records read).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "report.h"
#include "util.h"

/* The whole of a file; NULL with *missing set when it is not there, NULL (logged) when unreadable. */
char *
report_slurp(const char *path, size_t *len, bool *missing)
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

void
report_add_source(report_data *d, const char *name)
{
	d->sources = xrealloc(d->sources, (size_t) (d->nsources + 1) * sizeof(char *));
	d->sources[d->nsources++] = xstrdup(name);
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
	text = report_slurp(path, &len, &missing);
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
	text = report_slurp(path, &len, &missing);
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

		report_add_source(d, s);
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

		report_add_source(d, s);
		free(s);
	}
	return ok;
}

/* data/'s records, in the order the report lists its sources. */
bool
report_load_data(report_data *d)
{
	bool present;

	if (!load_lines(d, "checks.jsonl", take_check, &present))
		return false;
	if (present)
		report_add_source(d, "data/checks.jsonl");
	if (!load_lines(d, "versions.jsonl", take_version, &present))
		return false;
	if (present)
		report_add_source(d, "data/versions.jsonl");
	if (!load_lines(d, "progress.jsonl", take_sample, &present))
		return false;
	if (present)
		report_add_source(d, "data/progress.jsonl");
	if (!load_lines(d, "notes.jsonl", take_note, &present))
		return false;
	if (present)
		report_add_source(d, "data/notes.jsonl");
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
