/*
 * The report of migkit diff: the verdict from the statuses, and the text
 * and JSON forms of what was found.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "output.h"
#include "quote.h"

static const char *
status_word(table_status st)
{
	switch (st) {
		case TS_EQUAL: return "equal";
		case TS_DIFFERENT: return "different";
		case TS_MISSING: return "missing";
		case TS_NOT_REPLICATED: return "not replicated";
		case TS_UNKNOWN: return "unknown";
		case TS_AHEAD: return "ahead";
		case TS_ERROR: return "error";
		default: return "pending";
	}
}

static const char *
mode_word(diff_mode m)
{
	return m == MODE_CHECKSUM ? "checksum" : m == MODE_ESTIMATE ? "estimate" : "count";
}

static const char *
kind_text(const char *kind)
{
	if (strcmp(kind, "missing") == 0)
		return "missing on DST";
	if (strcmp(kind, "extra") == 0)
		return "extra on DST";
	if (strcmp(kind, "duplicated") == 0)
		return "key duplicated";
	return "changed";
}

static void
format_rows(char *buf, size_t size, const diff_table *t, int s, bool estimate)
{
	if (!t->side[s].present)
		snprintf(buf, size, "-");
	else if (estimate)
		snprintf(buf, size, t->side[s].estimate < 0 ? "?" : "~%.0f", t->side[s].estimate);
	else if (t->rows_known)
		snprintf(buf, size, "%lld", t->rows[s]);
	else
		snprintf(buf, size, "-");
}

/* "id=5" or "(a, b)=(1, x)". */
/* "id=5" or "(a, b)=(1, x)", a NULL value as NULL; escaped for a terminal (the values are data). */
static void
format_key(strbuf *sb, const diff_table *t, char **values)
{
	int k;

	if (t->nkeys > 1)
		sb_append_char(sb, '(');
	display_quote(sb, t->key_list);
	sb_append(sb, t->nkeys > 1 ? ")=(" : "=");
	for (k = 0; k < t->nkeys; k++) {
		if (k)
			sb_append(sb, ", ");
		if (values[k])
			display_quote(sb, values[k]);
		else
			sb_append(sb, "NULL");
	}
	if (t->nkeys > 1)
		sb_append_char(sb, ')');
}

/* The note column: what is known beyond the status. */
static char *
table_note(const diff_table *t)
{
	int i, missing = 0, extra = 0, changed = 0, duplicated = 0;
	strbuf sb;

	sb_init(&sb);
	for (i = 0; i < t->ndiffs; i++) {
		const char *k = t->diffs[i].kind;

		if (strcmp(k, "missing") == 0)
			missing++;
		else if (strcmp(k, "extra") == 0)
			extra++;
		else if (strcmp(k, "duplicated") == 0)
			duplicated++;
		else
			changed++;
	}
	if (t->truncated)
		sb_printf(&sb, "more than %d rows differ; listed: ", t->ndiffs);
	if (t->ndiffs > 0)
		sb_printf(&sb, "%d missing on DST, %d extra on DST, %d changed", missing, extra, changed);
	if (duplicated > 0)
		sb_printf(&sb, ", %d key%s duplicated", duplicated, duplicated == 1 ? "" : "s");
	if (t->note)
		sb_printf(&sb, "%s%s", sb.len ? "; " : "", t->note);
	return sb_steal(&sb);
}

static void
lag_text(strbuf *sb, const lag_sample *lag)
{
	char bytes[32];

	const char *sub = getenv("SUBNAME");

	if (!lag->known) {
		if (sub == NULL || *sub == '\0')
			sb_append(sb, "replication lag not measured (SUBNAME is not set)");
		else
			sb_printf(sb, "replication lag unknown (no slot or subscription \"%s\")", sub);
		return;
	}
	sb_printf(sb, "DST was %s behind SRC (SRC at %s, DST confirmed %s)",
			  format_bytes((double) lag->bytes, bytes, sizeof(bytes)), lag->src_lsn, lag->applied_lsn);
}

typedef struct tally {
	int tables[TS_NSTATUS];
	int seqs[TS_NSTATUS];
} tally;

static void
count_statuses(const diff_run *run, tally *n)
{
	int i;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < run->ntables; i++)
		n->tables[run->tables[i]->status]++;
	for (i = 0; i < run->nseqs; i++)
		n->seqs[run->seqs[i]->status]++;
}

result_t
diff_verdict(const diff_run *run)
{
	tally n;

	if (run->failed)
		return RESULT_ERROR;
	count_statuses(run, &n);
	if (n.tables[TS_ERROR] || n.seqs[TS_ERROR])
		return RESULT_ERROR;
	if (n.tables[TS_DIFFERENT] || n.tables[TS_MISSING] || n.tables[TS_NOT_REPLICATED] ||
		n.seqs[TS_DIFFERENT] || n.seqs[TS_MISSING])
		return RESULT_NEGATIVE;
	return RESULT_OK;
}

static const char *
verdict_word(result_t r)
{
	return r == RESULT_OK ? "equal" : r == RESULT_NEGATIVE ? "different" : "error";
}

void
diff_print_text(const diff_run *run, result_t r)
{
	tally counts, *n = &counts;
	bool est = run->opt->mode == MODE_ESTIMATE;
	const char *headers[] = {
		"TABLE", "STATUS", est ? "SRC ROWS (EST.)" : "SRC ROWS", est ? "DST ROWS (EST.)" : "DST ROWS",
		"TIME",  "NOTE"};
	table *tab = table_new(6, headers);
	FILE *out = stdout;
	strbuf sb;
	char dur[32];
	int i, j, unequal_seqs = 0;

	count_statuses(run, n);
	table_align_right(tab, 2);
	table_align_right(tab, 3);
	table_align_right(tab, 4);
	for (i = 0; i < run->ntables; i++) {
		const diff_table *t = run->tables[i];
		char src[32], dst[32], tm[32];
		char *note = table_note(t);
		const char *cells[6];

		format_rows(src, sizeof(src), t, SRC, est);
		format_rows(dst, sizeof(dst), t, DST, est);
		if (t->started > 0 && t->finished >= t->started)
			format_duration(t->finished - t->started, tm, sizeof(tm));
		else
			snprintf(tm, sizeof(tm), "-");
		cells[0] = t->display;
		cells[1] = status_word(t->status);
		cells[2] = src;
		cells[3] = dst;
		cells[4] = tm;
		cells[5] = note;
		table_add_row(tab, cells);
		free(note);
	}
	if (run->ntables > 0)
		table_print(tab, out);
	table_free(tab);

	for (i = 0; i < run->nseqs; i++)
		if (run->seqs[i]->status != TS_EQUAL && run->seqs[i]->status != TS_AHEAD)
			unequal_seqs++;
	if (unequal_seqs > 0) {
		const char *sh[] = {"SEQUENCE", "STATUS", "SRC (last_value, is_called)",
							"DST (last_value, is_called)"};

		tab = table_new(4, sh);
		for (i = 0; i < run->nseqs; i++) {
			const diff_sequence *q = run->seqs[i];
			char v[2][64];
			const char *cells[4];
			int s;

			if (q->status == TS_EQUAL || q->status == TS_AHEAD)
				continue;
			for (s = 0; s < 2; s++) {
				if (!q->present[s])
					snprintf(v[s], sizeof(v[s]), "-");
				else if (q->last_value[s] == NULL)
					snprintf(v[s], sizeof(v[s]), "unreadable (no SELECT privilege)");
				else
					snprintf(v[s], sizeof(v[s]), "%s, %s", q->last_value[s],
							 q->is_called[s] ? "true" : "false");
			}
			cells[0] = q->display;
			cells[1] = q->status == TS_DIFFERENT ? "behind" : status_word(q->status);
			cells[2] = v[SRC];
			cells[3] = v[DST];
			table_add_row(tab, cells);
		}
		fputc('\n', out);
		table_print(tab, out);
		table_free(tab);
		if (n->seqs[TS_PENDING])
			fprintf(out,
					"pending: behind SRC, as every sequence in use is until copy-seq copies it at cutover;\n"
					"once SRC is fenced (--after-fence) it is a difference\n");
	}

	sb_init(&sb);
	for (i = 0; i < run->ntables; i++) {
		const diff_table *t = run->tables[i];

		for (j = 0; j < t->ndiffs; j++) {
			if (sb.len == 0)
				fprintf(out, "\nRows that differ:\n");
			sb_reset(&sb);
			display_quote(&sb, t->display);
			sb_printf(&sb, ": %s: ", kind_text(t->diffs[j].kind));
			format_key(&sb, t, t->diffs[j].values);
			if (strcmp(t->diffs[j].kind, "duplicated") == 0)
				sb_printf(&sb, " (%lld row%s on SRC, %lld on DST)", t->diffs[j].rows[SRC],
						  t->diffs[j].rows[SRC] == 1 ? "" : "s", t->diffs[j].rows[DST]);
			fprintf(out, "  %s\n", sb.data);
		}
	}

	sb_reset(&sb);
	sb_printf(&sb, "%s%s%s: %d table%s (%d equal, %d different, %d missing", out_style(out, "bold"),
			  verdict_word(r), out_style(out, "reset"), run->ntables, run->ntables == 1 ? "" : "s",
			  n->tables[TS_EQUAL], n->tables[TS_DIFFERENT], n->tables[TS_MISSING]);
	if (n->tables[TS_NOT_REPLICATED])
		sb_printf(&sb, ", %d not replicated", n->tables[TS_NOT_REPLICATED]);
	if (n->tables[TS_UNKNOWN])
		sb_printf(&sb, ", %d unknown", n->tables[TS_UNKNOWN]);
	if (n->tables[TS_ERROR])
		sb_printf(&sb, ", %d error", n->tables[TS_ERROR]);
	sb_printf(&sb, "), %d sequence%s (%d equal, %d ahead, ", run->nseqs, run->nseqs == 1 ? "" : "s",
			  n->seqs[TS_EQUAL], n->seqs[TS_AHEAD]);
	if (n->seqs[TS_PENDING])
		sb_printf(&sb, "%d pending, ", n->seqs[TS_PENDING]);
	sb_printf(&sb, "%d behind, %d missing", n->seqs[TS_DIFFERENT], n->seqs[TS_MISSING]);
	if (n->seqs[TS_ERROR])
		sb_printf(&sb, ", %d unreadable", n->seqs[TS_ERROR]);
	sb_printf(&sb, "); by %s%s in %s", est ? "planner estimate" : mode_word(run->opt->mode),
			  est ? " (reltuples, approximate)" : "",
			  format_duration(run->finished - run->started, dur, sizeof(dur)));
	if (run->publication && run->subscription)
		sb_printf(&sb, "; tables of publication %s and subscription %s", run->publication, run->subscription);
	else if (run->not_checked)
		sb_printf(&sb, "; %s", run->not_checked);
	sb_append(&sb, "; ");
	lag_text(&sb, &run->lag_start);
	fprintf(out, "\n%s\n", sb.data);
	sb_free(&sb);
}

static void
json_lag(json *j, const char *key, const lag_sample *lag)
{
	if (!lag->known) {
		json_null(j, key);
		return;
	}
	json_object_begin(j, key);
	json_string(j, "src_lsn", lag->src_lsn);
	json_string(j, "dst_lsn", lag->applied_lsn);
	json_int(j, "bytes", lag->bytes);
	json_string(j, "dst_lsn_from", "the subscriber's applied position on SRC's slot");
	json_object_end(j);
}

void
diff_print_json(const diff_run *run, result_t r, FILE *out)
{
	tally counts, *n = &counts;
	json j;
	int i, k, d, s;

	count_statuses(run, n);
	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_string(&j, "mode", mode_word(run->opt->mode));
	json_string(&j, "status", verdict_word(r));
	json_string(&j, "publication", run->publication);
	json_string(&j, "subscription", run->subscription);
	json_string(&j, "replication_not_checked", run->not_checked);
	json_array_begin(&j, "tables");
	for (i = 0; i < run->ntables; i++) {
		const diff_table *t = run->tables[i];
		char *note = t->note ? xstrdup(t->note) : NULL;

		json_object_begin(&j, NULL);
		json_string(&j, "table", t->display);
		json_string(&j, "schema", t->schema);
		json_string(&j, "name", t->name);
		json_string(&j, "status", status_word(t->status));
		for (s = 0; s < 2; s++) {
			const char *key = s == SRC ? "rows_src" : "rows_dst";

			if (!t->side[s].present)
				json_null(&j, key);
			else if (run->opt->mode == MODE_ESTIMATE) {
				if (t->side[s].estimate < 0)
					json_null(&j, key);
				else
					json_int(&j, key, llround(t->side[s].estimate));
			} else if (t->rows_known)
				json_int(&j, key, t->rows[s]);
			else
				json_null(&j, key);
		}
		json_bool(&j, "estimated", run->opt->mode == MODE_ESTIMATE);
		if (t->started > 0 && t->finished >= t->started)
			json_double(&j, "seconds", t->finished - t->started);
		else
			json_null(&j, "seconds");
		if (run->opt->mode == MODE_CHECKSUM && t->side[SRC].present && t->side[DST].present) {
			json_string(&j, "method", t->nkeys ? "key ranges" : "whole-table hash");
			json_bool(&j, "rows_locatable", t->nkeys > 0);
			json_string(&j, "key_source", t->key_source);
			json_array_begin(&j, "key");
			for (k = 0; k < t->nkeys; k++)
				json_string(&j, NULL, t->key_names[k]);
			json_array_end(&j);
			json_array_begin(&j, "rows");
			for (d = 0; d < t->ndiffs; d++) {
				json_object_begin(&j, NULL);
				json_string(&j, "kind", t->diffs[d].kind);
				json_object_begin(&j, "key");
				for (k = 0; k < t->nkeys; k++)
					json_string(&j, t->key_names[k], t->diffs[d].values[k]);
				json_object_end(&j);
				if (strcmp(t->diffs[d].kind, "duplicated") == 0) {
					json_int(&j, "src_rows", t->diffs[d].rows[SRC]);
					json_int(&j, "dst_rows", t->diffs[d].rows[DST]);
				}
				json_object_end(&j);
			}
			json_array_end(&j);
			json_bool(&j, "rows_truncated", t->truncated);
		}
		json_string(&j, "note", note);
		free(note);
		json_object_end(&j);
	}
	json_array_end(&j);

	json_array_begin(&j, "sequences");
	for (i = 0; i < run->nseqs; i++) {
		const diff_sequence *q = run->seqs[i];

		json_object_begin(&j, NULL);
		json_string(&j, "sequence", q->display);
		json_string(&j, "schema", q->schema);
		json_string(&j, "name", q->name);
		json_string(&j, "status",
					q->status == TS_ERROR       ? "unreadable"
					: q->status == TS_DIFFERENT ? "behind"
												: status_word(q->status));
		for (s = 0; s < 2; s++) {
			const char *key = s == SRC ? "src" : "dst";

			if (!q->present[s]) {
				json_null(&j, key);
				continue;
			}
			json_object_begin(&j, key);
			json_number_text(&j, "last_value", q->last_value[s]);
			json_bool(&j, "is_called", q->is_called[s]);
			json_object_end(&j);
		}
		json_object_end(&j);
	}
	json_array_end(&j);

	json_object_begin(&j, "lag");
	json_lag(&j, "start", &run->lag_start);
	json_lag(&j, "end", &run->lag_end);
	json_object_end(&j);

	json_bool(&j, "after_fence", run->opt->after_fence);
	json_object_begin(&j, "summary");
	json_int(&j, "tables", run->ntables);
	json_int(&j, "equal", n->tables[TS_EQUAL]);
	json_int(&j, "different", n->tables[TS_DIFFERENT]);
	json_int(&j, "missing", n->tables[TS_MISSING]);
	json_int(&j, "not_replicated", n->tables[TS_NOT_REPLICATED]);
	json_int(&j, "unknown", n->tables[TS_UNKNOWN]);
	json_int(&j, "errors", n->tables[TS_ERROR]);
	json_int(&j, "sequences", run->nseqs);
	json_int(&j, "sequences_equal", n->seqs[TS_EQUAL]);
	json_int(&j, "sequences_ahead", n->seqs[TS_AHEAD]);
	json_int(&j, "sequences_pending", n->seqs[TS_PENDING]);
	json_int(&j, "sequences_behind", n->seqs[TS_DIFFERENT]);
	json_int(&j, "sequences_missing", n->seqs[TS_MISSING]);
	json_int(&j, "sequences_unreadable", n->seqs[TS_ERROR]);
	json_double(&j, "seconds", run->finished - run->started);
	json_object_end(&j);
	json_object_end(&j);
	json_finish(&j);
}
