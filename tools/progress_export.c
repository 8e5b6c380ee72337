/*
 * The forms of a migkit progress refresh that programs read: the JSON
 * document (--json, one a refresh under --watch) and the Prometheus text
 * format (--prometheus).  The forms for people are progress_report.c's.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "progress.h"
#include "quote.h"
#include "util.h"

static void
json_bytes_or_null(json *j, const char *key, double v)
{
	if (isnan(v))
		json_null(j, key);
	else
		json_int(j, key, (long long) v);
}

void
progress_print_json(FILE *out, const snapshot *s, const progress_options *o)
{
	json j;
	char ts[64];
	int i;

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&s->wall));
	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_string(&j, "subscription", o->sub);
	json_string(&j, "time", ts);
	json_bool(&j, "in_sync", s->in_sync);
	json_array_begin(&j, "why");
	for (i = 0; i < s->nwhy; i++)
		json_string(&j, NULL, s->why[i]);
	json_array_end(&j);
	json_bool(&j, "enabled", s->enabled);
	if (s->worker_pid)
		json_int(&j, "apply_worker_pid", s->worker_pid);
	else
		json_null(&j, "apply_worker_pid");

	json_array_begin(&j, "tables");
	for (i = 0; i < s->ntables; i++) {
		const table_row *t = &s->tables[i];
		char sub[2] = {t->substate, '\0'};

		json_object_begin(&j, NULL);
		json_string(&j, "schema", t->schema);
		json_string(&j, "table", t->name);
		json_string(&j, "state", state_names[t->state]);
		json_string(&j, "srsubstate", sub);
		json_bytes_or_null(&j, "size_bytes", t->size);
		json_int(&j, "copied_bytes", (long long) t->copied);
		json_double(&j, "percent", progress_table_percent(t));
		json_object_end(&j);
	}
	json_array_end(&j);

	json_object_begin(&j, "totals");
	json_int(&j, "tables", s->ntables);
	for (i = 0; i < NSTATES; i++) {
		char key[32], *sp;

		snprintf(key, sizeof(key), "%s", state_names[i]);
		while ((sp = strchr(key, ' ')) != NULL) /* "not replicated": not_replicated */
			*sp = '_';
		json_int(&j, key, s->count[i]);
	}
	json_int(&j, "size_bytes", (long long) s->total_size);
	json_int(&j, "copied_bytes", (long long) s->total_copied);
	json_double(&j, "percent", progress_total_percent(s));
	json_bytes_or_null(&j, "throughput_bytes_per_second", s->throughput);
	json_double(&j, "eta_seconds", s->eta);
	json_object_end(&j);

	json_object_begin(&j, "lag");
	json_bytes_or_null(&j, "bytes", s->lag_bytes);
	json_string(&j, "bytes_source", isnan(s->lag_bytes) ? NULL : "slot");
	json_int(&j, "max_bytes", o->max_lag);
	json_double(&j, "seconds", s->lag_seconds);
	json_string(&j, "seconds_source", s->lag_seconds_source);
	json_object_begin(&j, "heartbeat");
	json_bool(&j, "enabled", o->heartbeat);
	json_string(&j, "status", hb_names[s->hb]);
	json_string(&j, "written", isnan(s->hb_written) ? NULL : format_timestamp(s->hb_written, ts, sizeof(ts)));
	json_string(&j, "seen", isnan(s->hb_seen) ? NULL : format_timestamp(s->hb_seen, ts, sizeof(ts)));
	if (s->hb == HB_OK)
		json_bool(&j, "applied", s->hb_applied);
	else
		json_null(&j, "applied");
	json_object_end(&j);
	json_double(&j, "last_msg_receipt_age_seconds", s->receipt_age);
	json_double(&j, "latest_end_age_seconds", s->end_age);
	json_object_end(&j);

	json_object_begin(&j, "slot");
	json_string(&j, "name", s->slot_name);
	json_bool(&j, "found", s->slot_found);
	json_bool(&j, "active", s->slot_active);
	json_string(&j, "wal_status", s->wal_status);
	json_bytes_or_null(&j, "wal_retained_bytes", s->slot_found ? s->wal_retained : NAN);
	json_bytes_or_null(&j, "safe_wal_size_bytes", s->safe_wal_size);
	json_bytes_or_null(&j, "max_slot_wal_keep_size_bytes", s->max_slot_keep >= 0 ? s->max_slot_keep : NAN);
	json_bool(&j, "max_slot_wal_keep_size_available", s->slot_keep_known);
	json_bytes_or_null(&j, "wal_budget_bytes", o->wal_budget > 0 ? (double) o->wal_budget : NAN);
	json_double(&j, "wal_budget_used",
						o->wal_budget > 0 && s->slot_found ? s->wal_retained / (double) o->wal_budget : NAN);
	json_bytes_or_null(&j, "max_wal_size_bytes", s->max_wal_size);
	json_bytes_or_null(&j, "wal_dir_bytes", s->wal_dir);
	json_null(&j, "free_disk_bytes");
	json_object_end(&j);

	json_array_begin(&j, "warnings");
	for (i = 0; i < s->nwarnings; i++)
		json_string(&j, NULL, s->warnings[i]);
	json_array_end(&j);
	json_array_begin(&j, "notes");
	for (i = 0; i < s->nnotes; i++)
		json_string(&j, NULL, s->notes[i]);
	json_string(&j, NULL, "free disk space cannot be measured from SQL: check df on SRC's pg_wal");
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* One label: name="value" with the value escaped, after a comma unless first. */
static void
prom_label(FILE *out, const char *name, const char *value, bool first)
{
	strbuf sb;

	sb_init(&sb);
	prom_quote(&sb, value);
	fprintf(out, "%s%s=\"%s\"", first ? "" : ",", name, sb.data);
	sb_free(&sb);
}

static void
prom_family(FILE *out, const char *metric, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", metric, help, metric);
}

/* metric{subscription="…"[,extra="…"]} value */
static void
prom_sample(FILE *out, const char *metric, const char *sub, const char *label, const char *label_value,
			double value)
{
	if (isnan(value))
		return;
	fprintf(out, "%s{", metric);
	prom_label(out, "subscription", sub, true);
	if (label)
		prom_label(out, label, label_value, false);
	fprintf(out, "} %.15g\n", value);
}

static void
prom_table_sample(FILE *out, const char *metric, const char *sub, const table_row *t, const char *state,
				  double value)
{
	if (isnan(value))
		return;
	fprintf(out, "%s{", metric);
	prom_label(out, "subscription", sub, true);
	prom_label(out, "schema", t->schema, false);
	prom_label(out, "table", t->name, false);
	if (state)
		prom_label(out, "state", state, false);
	fprintf(out, "} %.15g\n", value);
}

void
progress_print_prometheus(FILE *out, const snapshot *s, const progress_options *o)
{
	const char *sub = o->sub;
	int i, k;

	prom_family(out, "migkit_in_sync",
				"1 when every table streams and the lag is under the threshold, else 0.");
	prom_sample(out, "migkit_in_sync", sub, NULL, NULL, s->in_sync);
	prom_family(out, "migkit_subscription_enabled", "1 when the subscription is enabled on DST.");
	prom_sample(out, "migkit_subscription_enabled", sub, NULL, NULL, s->enabled);
	prom_family(out, "migkit_replication_lag_bytes",
				"WAL bytes from SRC's pg_current_wal_lsn() to what DST confirmed.");
	prom_sample(out, "migkit_replication_lag_bytes", sub, "source", "slot", s->lag_bytes);
	prom_family(
		out, "migkit_replication_lag_seconds",
		"Replication lag in seconds: from the heartbeat, else an estimate from pg_stat_subscription.");
	prom_sample(out, "migkit_replication_lag_seconds", sub, "source",
				s->lag_seconds_source ? s->lag_seconds_source : "", s->lag_seconds);
	prom_family(out, "migkit_tables", "Tables of the subscription in each sync state.");
	for (k = 0; k < NSTATES; k++)
		prom_sample(out, "migkit_tables", sub, "state", state_names[k], s->count[k]);
	prom_family(out, "migkit_copy_size_bytes", "Total size on SRC of the subscription's tables.");
	prom_sample(out, "migkit_copy_size_bytes", sub, NULL, NULL, s->total_size);
	prom_family(out, "migkit_copy_copied_bytes", "Bytes copied so far by the initial copy.");
	prom_sample(out, "migkit_copy_copied_bytes", sub, NULL, NULL, s->total_copied);
	prom_family(out, "migkit_copy_eta_seconds", "Estimated seconds until the initial copy ends.");
	prom_sample(out, "migkit_copy_eta_seconds", sub, NULL, NULL, s->eta);
	prom_family(out, "migkit_slot_active", "1 when the slot on SRC is in use by DST.");
	prom_sample(out, "migkit_slot_active", sub, "slot", s->slot_name ? s->slot_name : "",
				s->slot_found ? s->slot_active : NAN);
	prom_family(out, "migkit_slot_wal_retained_bytes",
				"WAL the slot keeps on SRC: pg_current_wal_lsn() - restart_lsn.");
	prom_sample(out, "migkit_slot_wal_retained_bytes", sub, "slot", s->slot_name ? s->slot_name : "",
				s->slot_found ? s->wal_retained : NAN);
	prom_family(out, "migkit_slot_safe_wal_size_bytes",
				"WAL that can still be written before the slot loses WAL (max_slot_wal_keep_size).");
	prom_sample(out, "migkit_slot_safe_wal_size_bytes", sub, "slot", s->slot_name ? s->slot_name : "",
				s->safe_wal_size);
	prom_family(out, "migkit_slot_wal_budget_bytes", "The WAL the slot may keep on SRC (wal_budget_bytes).");
	prom_sample(out, "migkit_slot_wal_budget_bytes", sub, "slot", s->slot_name ? s->slot_name : "",
				o->wal_budget > 0 ? (double) o->wal_budget : NAN);
	prom_family(out, "migkit_wal_directory_bytes", "Size of SRC's pg_wal (pg_ls_waldir()).");
	prom_sample(out, "migkit_wal_directory_bytes", sub, NULL, NULL, s->wal_dir);

	prom_family(out, "migkit_table_state", "1 for the sync state each table is in, 0 for the others.");
	for (i = 0; i < s->ntables; i++)
		for (k = 0; k < STATE_UNKNOWN; k++)
			prom_table_sample(out, "migkit_table_state", sub, &s->tables[i], state_names[k],
							  s->tables[i].state == (sync_state) k);
	prom_family(out, "migkit_table_size_bytes", "Size of each table on SRC.");
	for (i = 0; i < s->ntables; i++)
		prom_table_sample(out, "migkit_table_size_bytes", sub, &s->tables[i], NULL, s->tables[i].size);
	prom_family(out, "migkit_table_copied_bytes", "Bytes of each table copied so far.");
	for (i = 0; i < s->ntables; i++)
		prom_table_sample(out, "migkit_table_copied_bytes", sub, &s->tables[i], NULL, s->tables[i].copied);
	fflush(out);
}
