/*
 * The fast copy's state file (data/copy-state.json): which slot and
 * snapshot the copy reads in, which tables are copied and which indexes
 * and constraints wait to be built again, with bytes, rows and times.  A
 * rerun reads it to skip what is done; --status (and copy-progress) show
 * it while a copy runs.  It is written whole to a temporary file and
 * renamed, so a reader, or a run killed while writing, never sees half of
 * one; a table is marked done only after DST committed its last chunk.
 * JSON is read back with libyaml, whose YAML takes JSON as it is.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <yaml.h>

#include "copy.h"
#include "output.h"
#include "quote.h"
#include "util.h"

copy_state *
copy_state_new(const char *slot)
{
	copy_state *st = xcalloc(1, sizeof(*st));
	char buf[64];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	st->slot = xstrdup(slot);
	st->phase = xstrdup("copy");
	st->started_at = xstrdup(format_timestamp((double) tv.tv_sec + tv.tv_usec / 1e6, buf, sizeof(buf)));
	st->los = -1;
	return st;
}

void
copy_state_free(copy_state *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < st->ntables; i++) {
		free(st->tables[i]->name);
		free(st->tables[i]->columns);
		free(st->tables[i]);
	}
	free(st->tables);
	for (i = 0; i < st->ndeferred; i++) {
		copy_deferred *d = st->deferred[i];

		free(d->kind);
		free(d->table);
		free(d->name);
		free(d->drop_sql);
		free(d->create_sql);
		free(d);
	}
	free(st->deferred);
	free(st->slot);
	free(st->lsn);
	free(st->snapshot);
	free(st->phase);
	free(st->started_at);
	free(st);
}

copy_table *
copy_state_table(copy_state *st, const char *name, bool add)
{
	copy_table *t;
	int i;

	for (i = 0; i < st->ntables; i++)
		if (strcmp(st->tables[i]->name, name) == 0)
			return st->tables[i];
	if (!add)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	st->tables = xrealloc(st->tables, (size_t) (st->ntables + 1) * sizeof(copy_table *));
	st->tables[st->ntables++] = t;
	return t;
}

/* How much of a table is copied, 0 to 1, by rows against the estimate, else bytes against its size. */
static double
table_fraction(const copy_table *t)
{
	double f;

	if (t->done)
		return 1;
	if (t->rows_estimate > 0)
		f = (double) t->rows / (double) t->rows_estimate;
	else if (t->size > 0)
		f = (double) t->bytes / (double) t->size;
	else
		f = 0;
	return f > 0.99 ? 0.99 : f;
}

long long
copy_state_done_bytes(const copy_state *st, long long *total)
{
	double done = 0;
	int i;

	*total = 0;
	for (i = 0; i < st->ntables; i++) {
		*total += st->tables[i]->size;
		done += table_fraction(st->tables[i]) * (double) st->tables[i]->size;
	}
	return (long long) done;
}

bool
copy_state_data_done(const copy_state *st)
{
	int i;

	for (i = 0; i < st->ntables; i++)
		if (!st->tables[i]->done)
			return false;
	return st->los_done;
}

/*
 * Seconds left for the data, from this run's pace (a rerun's first
 * seconds have none yet); < 0 when there is nothing to go by.
 */
double
copy_state_eta(const copy_state *st)
{
	long long total, done = copy_state_done_bytes(st, &total);
	double elapsed = st->elapsed;

	if (copy_state_data_done(st))
		return 0;
	if (done <= 0 || elapsed < 1)
		return -1;
	return elapsed * (double) (total - done) / (double) done;
}

/* ---- writing ---- */

static void
write_tables(json *j, const copy_state *st)
{
	int i;

	json_array_begin(j, "tables");
	for (i = 0; i < st->ntables; i++) {
		const copy_table *t = st->tables[i];

		json_object_begin(j, NULL);
		json_string(j, "name", t->name);
		json_string(j, "state", t->done ? "done" : t->started > 0 || t->copying ? "copying" : "waiting");
		json_int(j, "size", t->size);
		json_int(j, "rows_estimate", t->rows_estimate);
		json_int(j, "bytes", t->bytes);
		json_int(j, "rows", t->rows);
		json_double(j, "seconds", t->seconds);
		json_int(j, "chunks", t->nchunks);
		json_int(j, "chunks_done", t->chunks_done);
		json_object_end(j);
	}
	json_array_end(j);
}

static void
write_deferred(json *j, const copy_state *st)
{
	int i;

	json_array_begin(j, "deferred");
	for (i = 0; i < st->ndeferred; i++) {
		const copy_deferred *d = st->deferred[i];

		json_object_begin(j, NULL);
		json_int(j, "step", d->step);
		json_string(j, "kind", d->kind);
		json_string(j, "table", d->table);
		json_string(j, "name", d->name);
		json_string(j, "state", d->done ? "done" : d->running ? "building" : "waiting");
		json_double(j, "seconds", d->seconds);
		json_string(j, "drop_sql", d->drop_sql);
		json_string(j, "create_sql", d->create_sql);
		json_object_end(j);
	}
	json_array_end(j);
}

bool
copy_state_write(copy_state *st, const char *path)
{
	file_replace r;
	long long total, done;
	char buf[64];
	struct timeval tv;
	double eta;
	FILE *f;
	json j;
	int i, ndone = 0, dq = 0;

	if (st->run_started > 0)
		st->elapsed = st->elapsed_before + (now_seconds() - st->run_started);
	st->last_write = now_seconds();
	done = copy_state_done_bytes(st, &total);
	eta = copy_state_eta(st);
	if (!file_replace_open(&r, path, 0600))
		return false;
	f = r.f;
	for (i = 0; i < st->ntables; i++)
		ndone += st->tables[i]->done;
	for (i = 0; i < st->ndeferred; i++)
		dq += st->deferred[i]->done;
	gettimeofday(&tv, NULL);
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_int(&j, "version", 1);
	json_string(&j, "slot", st->slot);
	json_string(&j, "lsn", st->lsn);
	json_string(&j, "snapshot", st->snapshot);
	json_int(&j, "holder", st->holder);
	json_int(&j, "runner", st->runner);
	json_string(&j, "phase", st->phase);
	json_string(&j, "started_at", st->started_at);
	json_string(&j, "updated_at", format_timestamp((double) tv.tv_sec + tv.tv_usec / 1e6, buf, sizeof(buf)));
	json_double(&j, "elapsed", st->elapsed);
	json_int(&j, "tables_total", st->ntables);
	json_int(&j, "tables_done", ndone);
	json_int(&j, "size", total);
	json_int(&j, "size_done", done);
	{
		long long bytes = 0, rows = 0;

		for (i = 0; i < st->ntables; i++) {
			bytes += st->tables[i]->bytes;
			rows += st->tables[i]->rows;
		}
		json_int(&j, "bytes", bytes);
		json_int(&j, "rows", rows);
	}
	if (eta >= 0)
		json_double(&j, "eta_seconds", eta);
	else
		json_null(&j, "eta_seconds");
	json_object_begin(&j, "large_objects");
	json_int(&j, "count", st->los);
	json_bool(&j, "done", st->los_done);
	json_object_end(&j);
	json_bool(&j, "deferred_dropped", st->deferred_dropped);
	json_bool(&j, "dst_checked", st->dst_checked);
	json_int(&j, "deferred_total", st->ndeferred);
	json_int(&j, "deferred_done", dq);
	write_tables(&j, st);
	write_deferred(&j, st);
	json_object_end(&j);
	json_finish(&j);
	/* Durable: a rerun goes on from what it says. */
	return file_replace_commit(&r, true);
}

/* ---- reading ---- */

static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *) k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* A scalar's text; NULL for a missing key or JSON null. */
static const char *
get_text(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = map_get(doc, map, key);

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		strcmp((const char *) n->data.scalar.value, "null") == 0)
		return NULL;
	return (const char *) n->data.scalar.value;
}

static char *
get_dup(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	const char *v = get_text(doc, map, key);

	return v ? xstrdup(v) : NULL;
}

static long long
get_int(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	const char *v = get_text(doc, map, key);

	return v ? strtoll(v, NULL, 10) : 0;
}

static double
get_double(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	const char *v = get_text(doc, map, key);
	double d;

	return v && parse_double(v, &d) ? d : 0;
}

static bool
get_bool(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	const char *v = get_text(doc, map, key);

	return v && strcmp(v, "true") == 0;
}

static bool
get_state_done(yaml_document_t *doc, yaml_node_t *map)
{
	const char *v = get_text(doc, map, "state");

	return v && strcmp(v, "done") == 0;
}

static bool
load_document(copy_state *st, yaml_document_t *doc, const char *path)
{
	yaml_node_t *root = yaml_document_get_root_node(doc), *list, *lo;
	yaml_node_item_t *it;

	if (root == NULL || root->type != YAML_MAPPING_NODE || get_int(doc, root, "version") != 1 ||
		get_text(doc, root, "slot") == NULL) {
		log_error("%s is not a state file of this migkit copy: move it away to start over", path);
		return false;
	}
	st->slot = get_dup(doc, root, "slot");
	st->lsn = get_dup(doc, root, "lsn");
	st->snapshot = get_dup(doc, root, "snapshot");
	st->holder = (long) get_int(doc, root, "holder");
	st->runner = (long) get_int(doc, root, "runner");
	st->phase = get_dup(doc, root, "phase");
	if (st->phase == NULL)
		st->phase = xstrdup("copy");
	st->started_at = get_dup(doc, root, "started_at");
	st->elapsed = get_double(doc, root, "elapsed");
	st->deferred_dropped = get_bool(doc, root, "deferred_dropped");
	st->dst_checked = get_bool(doc, root, "dst_checked");
	lo = map_get(doc, root, "large_objects");
	st->los = lo ? get_int(doc, lo, "count") : -1;
	st->los_done = lo && get_bool(doc, lo, "done");
	list = map_get(doc, root, "tables");
	if (list && list->type == YAML_SEQUENCE_NODE)
		for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
			yaml_node_t *n = yaml_document_get_node(doc, *it);
			const char *name = get_text(doc, n, "name");
			copy_table *t;

			if (name == NULL)
				continue;
			t = copy_state_table(st, name, true);
			t->done = get_state_done(doc, n);
			t->size = get_int(doc, n, "size");
			t->rows_estimate = get_int(doc, n, "rows_estimate");
			t->bytes = get_int(doc, n, "bytes");
			t->rows = get_int(doc, n, "rows");
			t->seconds = get_double(doc, n, "seconds");
			t->nchunks = (int) get_int(doc, n, "chunks");
			t->chunks_done = (int) get_int(doc, n, "chunks_done");
			t->copying =
				!t->done && get_text(doc, n, "state") && strcmp(get_text(doc, n, "state"), "copying") == 0;
		}
	list = map_get(doc, root, "deferred");
	if (list && list->type == YAML_SEQUENCE_NODE)
		for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
			yaml_node_t *n = yaml_document_get_node(doc, *it);
			copy_deferred *d;

			if (get_text(doc, n, "create_sql") == NULL || get_text(doc, n, "drop_sql") == NULL)
				continue;
			d = xcalloc(1, sizeof(*d));
			d->step = (int) get_int(doc, n, "step");
			d->kind = get_dup(doc, n, "kind");
			d->table = get_dup(doc, n, "table");
			d->name = get_dup(doc, n, "name");
			d->drop_sql = get_dup(doc, n, "drop_sql");
			d->create_sql = get_dup(doc, n, "create_sql");
			d->done = get_state_done(doc, n);
			d->seconds = get_double(doc, n, "seconds");
			if (d->kind == NULL)
				d->kind = xstrdup("index");
			if (d->table == NULL)
				d->table = xstrdup("");
			if (d->name == NULL)
				d->name = xstrdup("");
			st->deferred = xrealloc(st->deferred, (size_t) (st->ndeferred + 1) * sizeof(copy_deferred *));
			st->deferred[st->ndeferred++] = d;
		}
	return true;
}

bool
copy_state_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

copy_state *
copy_state_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	copy_state *st;
	bool ok;

	if (f == NULL) {
		log_error("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		log_error("%s:%lu: not valid JSON (%s): move it away to start over", path,
				  (unsigned long) parser.problem_mark.line + 1,
				  parser.problem ? parser.problem : "unreadable");
		yaml_parser_delete(&parser);
		fclose(f);
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	ok = load_document(st, &doc, path);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (!ok) {
		copy_state_free(st);
		return NULL;
	}
	return st;
}

/* ---- --status ---- */

void
copy_state_print(const copy_state *st, FILE *out)
{
	static const char *const headers[] = {"table", "state", "size", "copied", "rows", "time"};
	long long total, done = copy_state_done_bytes(st, &total), bytes = 0, rows = 0;
	int i, ndone = 0, dq = 0, shown = 0, left = 0;
	double eta = copy_state_eta(st);
	char b1[32], b2[32], b3[32];
	table *tb;

	for (i = 0; i < st->ntables; i++) {
		ndone += st->tables[i]->done;
		bytes += st->tables[i]->bytes;
		rows += st->tables[i]->rows;
	}
	for (i = 0; i < st->ndeferred; i++)
		dq += st->deferred[i]->done;
	fprintf(out, "%sfast copy into slot %s%s: phase %s%s\n", out_style(out, "bold"), st->slot,
			out_style(out, "reset"), st->phase, st->runner ? "" : " (no copy running)");
	fprintf(out, "tables: %d of %d copied, %s of %s (%.0f%%), %lld rows, %s of COPY data\n", ndone,
			st->ntables, format_bytes((double) done, b1, sizeof(b1)),
			format_bytes((double) total, b2, sizeof(b2)),
			total > 0 ? 100.0 * (double) done / (double) total : 100.0, rows,
			format_bytes((double) bytes, b3, sizeof(b3)));
	fprintf(out, "large objects: %s\n",
			st->los < 0    ? "not counted yet"
			: st->los_done ? "copied"
						   : "not copied yet");
	fprintf(out, "indexes and constraints built after the data: %d of %d\n", dq, st->ndeferred);
	fprintf(out, "elapsed %s", format_duration(st->elapsed, b1, sizeof(b1)));
	if (st->elapsed >= 1 && done > 0)
		fprintf(out, ", %s/s", format_bytes((double) done / st->elapsed, b2, sizeof(b2)));
	if (strcmp(st->phase, "copy") == 0)
		fprintf(out, ", data ETA %s", eta >= 0 ? format_duration(eta, b3, sizeof(b3)) : "unknown");
	fputc('\n', out);

	tb = table_new(6, headers);
	for (i = 2; i < 6; i++)
		table_align_right(tb, i);
	for (i = 0; i < st->ntables; i++) {
		const copy_table *t = st->tables[i];
		char size[32], copied[32], nrows[32], time[32];
		const char *cells[6];

		if (t->done)
			continue;
		if (shown >= 20) {
			left++;
			continue;
		}
		snprintf(nrows, sizeof(nrows), "%lld", t->rows);
		cells[0] = t->name;
		cells[1] = t->started > 0 || t->copying ? "copying" : "waiting";
		cells[2] = format_bytes((double) t->size, size, sizeof(size));
		cells[3] = format_bytes((double) t->bytes, copied, sizeof(copied));
		cells[4] = nrows;
		cells[5] = t->seconds > 0 ? format_duration(t->seconds, time, sizeof(time)) : "";
		table_add_row(tb, cells);
		shown++;
	}
	if (shown > 0) {
		fputc('\n', out);
		table_print(tb, out);
		if (left > 0)
			fprintf(out, "... and %d more not copied yet\n", left);
	}
	table_free(tb);
}
