/*
 * What a refresh of migkit progress means: the totals, the throughput and
 * ETA, how far the copy is in percent, the lag in seconds, and the
 * verdict.  The verdict is one table of cases, each a condition and what
 * it says: a reason the subscription is not in sync (why), a warning or a
 * note.  "In sync" is printed only when no reason was found: every table
 * of the migration is in the subscription and streams, the apply worker
 * runs, and the lag (one definition, kit/sql/lag.sql) is known and within
 * both limits.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "progress.h"
#include "quote.h"
#include "util.h"

/*
 * A slot's retained WAL this close to max_slot_wal_keep_size or to the
 * operator's wal_budget_bytes is a warning; this close to the former, or
 * past the budget, --wait stops (exit 1) before SRC invalidates the slot.
 */
#define SLOT_KEEP_WARN 0.8
#define SLOT_KEEP_STOP 0.95

typedef enum { CASE_WHY, CASE_WARNING, CASE_NOTE } case_kind;

typedef struct verdict_case {
	case_kind kind;
	bool stops_wait; /* --wait gives up: waiting longer loses the slot */
	bool (*applies)(const snapshot *s, const progress_options *o);
	char *(*says)(const snapshot *s, const progress_options *o);
} verdict_case;

/* The heartbeat: each status that is neither off nor ok is a note. */
static bool
hb_unapplied(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->hb == HB_OK && !s->hb_applied;
}

static char *
say_hb_unapplied(const snapshot *s, const progress_options *o)
{
	char a[32];

	(void) o;
	return xasprintf(
		"heartbeat: this refresh's beat had not reached DST yet; DST has applied SRC's commits up to %s ago",
		format_seconds(s->hb_age, a, sizeof(a)));
}

static bool
hb_trouble(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->hb != HB_OFF && s->hb != HB_OK;
}

static char *
say_hb_trouble(const snapshot *s, const progress_options *o)
{
	const char *what;

	switch (s->hb) {
		case HB_NO_SRC_TABLE: what = "migkit.heartbeat does not exist on SRC (create-pub creates it)"; break;
		case HB_SRC_READ_ONLY: what = "SRC refuses writes (read-only), no beat written"; break;
		case HB_NO_DST_TABLE: what = "migkit.heartbeat does not exist on DST (create-sub creates it)"; break;
		case HB_NOT_PUBLISHED:
			what = "migkit.heartbeat is not in the subscription's publications (create-pub adds it)";
			break;
		case HB_NOT_SUBSCRIBED:
			return xasprintf("heartbeat: migkit.heartbeat is not part of the subscription yet: run ALTER "
							 "SUBSCRIPTION %s REFRESH PUBLICATION on DST; the lag in seconds is an estimate",
							 o->sub_sql);
		case HB_NOT_READY: what = "migkit.heartbeat is still in its initial sync"; break;
		default: what = "no beat has reached DST yet"; break;
	}
	return xasprintf("heartbeat: %s; the lag in seconds is an estimate", what);
}

static bool
slot_missing(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->slot_name && !s->slot_found;
}

static char *
say_slot_missing(const snapshot *s, const progress_options *o)
{
	(void) o;
	return xasprintf(
		"slot %s not found on SRC: the subscription cannot stream (recreate it: drop-sub, create-sub)",
		s->slot_name);
}

static bool
wal_status_is(const snapshot *s, const char *status)
{
	return s->slot_found && s->wal_status && strcmp(s->wal_status, status) == 0;
}

static bool
slot_lost(const snapshot *s, const progress_options *o)
{
	(void) o;
	return wal_status_is(s, "lost");
}

static char *
say_slot_lost(const snapshot *s, const progress_options *o)
{
	(void) o;
	return xasprintf("slot %s is invalidated: SRC removed WAL it needs (wal_status lost, past "
					 "max_slot_wal_keep_size); DST can never catch up from it: start over with ./drop-sub "
					 "then ./create-sub (a new initial copy; empty DST's tables first or copy-schema again)",
					 s->slot_name);
}

static bool
slot_unreserved(const snapshot *s, const progress_options *o)
{
	(void) o;
	return wal_status_is(s, "unreserved");
}

static char *
say_slot_unreserved(const snapshot *s, const progress_options *o)
{
	(void) o;
	return xasprintf(
		"slot %s retains more WAL than max_slot_wal_keep_size allows (wal_status unreserved): WAL it "
		"needs may be removed at the next checkpoint",
		s->slot_name);
}

static bool
slot_near_limit(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->slot_found && !wal_status_is(s, "lost") && !wal_status_is(s, "unreserved") &&
		   s->max_slot_keep > 0 && s->wal_retained >= SLOT_KEEP_WARN * s->max_slot_keep &&
		   s->wal_retained < SLOT_KEEP_STOP * s->max_slot_keep;
}

static bool
slot_at_limit(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->slot_found && !wal_status_is(s, "lost") && !wal_status_is(s, "unreserved") &&
		   s->max_slot_keep > 0 && s->wal_retained >= SLOT_KEEP_STOP * s->max_slot_keep;
}

static char *
say_slot_at_limit(const snapshot *s, const progress_options *o)
{
	char a[32], b[32];

	(void) o;
	return xasprintf("slot %s retains %s of WAL, %.0f%% of max_slot_wal_keep_size (%s): SRC invalidates it "
					 "soon; let DST catch up (copy only what the WAL allows: fewer tables at once), or raise "
					 "max_slot_wal_keep_size on SRC",
					 s->slot_name, format_bytes(s->wal_retained, a, sizeof(a)),
					 100 * s->wal_retained / s->max_slot_keep, format_bytes(s->max_slot_keep, b, sizeof(b)));
}

static double
budget_used(const snapshot *s, const progress_options *o)
{
	return s->slot_found && o->wal_budget > 0 && !wal_status_is(s, "lost")
			   ? s->wal_retained / (double) o->wal_budget
			   : 0;
}

static bool
budget_near(const snapshot *s, const progress_options *o)
{
	double used = budget_used(s, o);

	return used >= SLOT_KEEP_WARN && used < 1;
}

static bool
budget_over(const snapshot *s, const progress_options *o)
{
	return budget_used(s, o) >= 1;
}

static char *
say_budget(const snapshot *s, const progress_options *o)
{
	char a[32], b[32];

	return xasprintf("slot %s retains %s of WAL, %.0f%% of wal_budget_bytes (%s)%s", s->slot_name,
					 format_bytes(s->wal_retained, a, sizeof(a)), 100 * budget_used(s, o),
					 format_bytes((double) o->wal_budget, b, sizeof(b)),
					 budget_over(s, o) ? ": over the budget; free disk on SRC's pg_wal, or raise the budget "
										 "in migration.yml once there is room"
									   : "");
}

static char *
say_slot_near_limit(const snapshot *s, const progress_options *o)
{
	char a[32], b[32];

	(void) o;
	return xasprintf(
		"slot %s retains %s of WAL, %.0f%% of max_slot_wal_keep_size (%s): past it, SRC drops WAL DST "
		"still needs",
		s->slot_name, format_bytes(s->wal_retained, a, sizeof(a)), 100 * s->wal_retained / s->max_slot_keep,
		format_bytes(s->max_slot_keep, b, sizeof(b)));
}

static bool
slot_unlimited_large(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->slot_found && s->max_slot_keep < 0 && s->max_wal_size > 0 && s->wal_retained > s->max_wal_size;
}

static char *
say_slot_unlimited_large(const snapshot *s, const progress_options *o)
{
	char a[32], b[32];

	(void) o;
	return xasprintf(
		"slot %s retains %s of WAL, more than max_wal_size (%s), with no limit "
		"(max_slot_wal_keep_size = -1 or not available): watch the free disk of SRC's pg_wal (not "
		"measurable from SQL)",
		s->slot_name, format_bytes(s->wal_retained, a, sizeof(a)),
		format_bytes(s->max_wal_size, b, sizeof(b)));
}

static bool
worker_errors(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->apply_errors > 0 || s->sync_errors > 0;
}

static char *
say_worker_errors(const snapshot *s, const progress_options *o)
{
	(void) o;
	return xasprintf("DST's workers have failed %.0f time(s) applying and %.0f time(s) copying "
					 "(pg_stat_subscription_stats): see DST's server log",
					 isnan(s->apply_errors) ? 0 : s->apply_errors,
					 isnan(s->sync_errors) ? 0 : s->sync_errors);
}

static bool
disabled(const snapshot *s, const progress_options *o)
{
	(void) o;
	return !s->enabled;
}

static char *
say_disabled(const snapshot *s, const progress_options *o)
{
	(void) s;
	return xasprintf("the subscription is disabled (ALTER SUBSCRIPTION %s ENABLE)", o->sub_sql);
}

/*
 * A slot no walsender holds: DST is not connected to SRC (the walsender
 * was ended, the network is cut, SRC restarted), whatever the worker on
 * DST and a lag measured while nothing is written say.
 */
static bool
slot_idle(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->enabled && s->slot_found && !s->slot_active;
}

static char *
say_slot_idle(const snapshot *s, const progress_options *o)
{
	(void) o;
	return xasprintf("no walsender on SRC serves slot %s: DST is not connected to SRC (its apply worker "
					 "retries by itself; if this lasts, see DST's server log for why it cannot connect)",
					 s->slot_name);
}

static bool
no_worker(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->enabled && s->worker_pid == 0;
}

static char *
say_no_worker(const snapshot *s, const progress_options *o)
{
	(void) s;
	(void) o;
	return xstrdup("the apply worker is not running (see DST's server log)");
}

static int
not_streaming(const snapshot *s)
{
	return s->ntables - s->count[STATE_STREAMING] - s->count[STATE_NOT_REPLICATED];
}

static bool
tables_syncing(const snapshot *s, const progress_options *o)
{
	(void) o;
	return not_streaming(s) > 0;
}

static char *
say_tables_syncing(const snapshot *s, const progress_options *o)
{
	(void) o;
	return xasprintf("%d of %d tables not streaming yet", not_streaming(s), s->ntables);
}

static bool
tables_not_replicated(const snapshot *s, const progress_options *o)
{
	(void) o;
	return s->count[STATE_NOT_REPLICATED] > 0;
}

static char *
say_tables_not_replicated(const snapshot *s, const progress_options *o)
{
	strbuf sb;
	int i, shown = 0;

	sb_init(&sb);
	sb_printf(&sb, "%d table%s of the migration not replicated:", s->count[STATE_NOT_REPLICATED],
			  s->count[STATE_NOT_REPLICATED] == 1 ? "" : "s");
	for (i = 0; i < s->ntables; i++) {
		const table_row *t = &s->tables[i];

		if (t->state != STATE_NOT_REPLICATED)
			continue;
		if (shown++ == 5) {
			sb_append(&sb, " ...");
			break;
		}
		sb_printf(&sb, "%s ", shown > 1 ? "," : "");
		display_quote(&sb, t->schema);
		sb_append_char(&sb, '.');
		display_quote(&sb, t->name);
		sb_append(&sb, t->published
						   ? " (published, not in the subscription: ALTER SUBSCRIPTION "
						   : " (not in the publication: add it to the publication, then ALTER SUBSCRIPTION ");
		sb_printf(&sb, "%s REFRESH PUBLICATION)", o->sub_sql);
	}
	return sb_steal(&sb);
}

static bool
lag_unknown(const snapshot *s, const progress_options *o)
{
	(void) o;
	return isnan(s->lag_bytes);
}

static char *
say_lag_unknown(const snapshot *s, const progress_options *o)
{
	(void) o;
	return xstrdup(s->slot_name == NULL
					   ? "the lag is unknown: the subscription has no slot (slot_name = NONE)"
					   : "the lag is unknown: the slot reports no position on SRC");
}

static bool
lag_too_large(const snapshot *s, const progress_options *o)
{
	return !isnan(s->lag_bytes) && s->lag_bytes > (double) o->max_lag;
}

static char *
say_lag_too_large(const snapshot *s, const progress_options *o)
{
	char a[32], b[32];

	return xasprintf("lag %s > %s", format_bytes(s->lag_bytes, a, sizeof(a)),
					 format_bytes((double) o->max_lag, b, sizeof(b)));
}

static bool
lag_too_long(const snapshot *s, const progress_options *o)
{
	return o->max_lag_seconds > 0 && !isnan(s->lag_seconds) && s->lag_seconds > o->max_lag_seconds;
}

static char *
say_lag_too_long(const snapshot *s, const progress_options *o)
{
	char a[32], b[32];

	return xasprintf(
		"lag %s%s > %s (lag_max_seconds)", strcmp(s->lag_seconds_source, "estimate") == 0 ? "~" : "",
		format_seconds(s->lag_seconds, a, sizeof(a)), format_seconds(o->max_lag_seconds, b, sizeof(b)));
}

/* Every case, in the order their messages are shown. */
static const verdict_case cases[] = {
	{CASE_NOTE, false, hb_unapplied, say_hb_unapplied},
	{CASE_NOTE, false, hb_trouble, say_hb_trouble},
	{CASE_WARNING, false, slot_missing, say_slot_missing},
	{CASE_WHY, true, slot_lost, say_slot_lost},
	{CASE_WARNING, true, slot_unreserved, say_slot_unreserved},
	{CASE_WARNING, false, slot_near_limit, say_slot_near_limit},
	{CASE_WARNING, true, slot_at_limit, say_slot_at_limit},
	{CASE_WARNING, false, budget_near, say_budget},
	{CASE_WARNING, true, budget_over, say_budget},
	{CASE_WARNING, false, slot_unlimited_large, say_slot_unlimited_large},
	{CASE_NOTE, false, worker_errors, say_worker_errors},
	{CASE_WHY, false, disabled, say_disabled},
	{CASE_WHY, false, no_worker, say_no_worker},
	{CASE_WHY, false, slot_idle, say_slot_idle},
	{CASE_WHY, false, tables_syncing, say_tables_syncing},
	{CASE_WHY, false, tables_not_replicated, say_tables_not_replicated},
	{CASE_WHY, false, lag_unknown, say_lag_unknown},
	{CASE_WHY, false, lag_too_large, say_lag_too_large},
	{CASE_WHY, false, lag_too_long, say_lag_too_long},
};

static void
add_message(char ***list, int *n, char *msg)
{
	*list = xrealloc(*list, (size_t) (*n + 1) * sizeof(char *));
	(*list)[(*n)++] = msg;
}

/* Totals, throughput and ETA of the initial copy. */
static void
copy_totals(snapshot *s, const history *h)
{
	double rate = 0;
	bool copying_rate = false;
	int i;

	for (i = 0; i < s->ntables; i++) {
		table_row *t = &s->tables[i];
		double size = isnan(t->size) ? 0 : t->size;

		s->count[t->state]++;
		if (t->state == STATE_SYNCED || t->state == STATE_STREAMING)
			t->copied = size;
		s->total_size += size;
		s->total_copied += isnan(t->size) ? t->copied : fmin(t->copied, size);
		if (!isnan(t->copy_rate)) {
			rate += t->copy_rate;
			copying_rate = true;
		}
	}
	if (h->have && s->mono - h->mono > 0.05)
		s->throughput = fmax(0, (s->total_copied - h->copied) / (s->mono - h->mono));
	else
		s->throughput = copying_rate ? rate : NAN;
	if (s->total_copied >= s->total_size)
		s->eta = s->count[STATE_WAITING] + s->count[STATE_COPYING] == 0 ? 0 : NAN;
	else
		s->eta = s->throughput > 0 ? (s->total_size - s->total_copied) / s->throughput : NAN;
}

double
progress_table_percent(const table_row *t)
{
	if (t->state == STATE_SYNCED || t->state == STATE_STREAMING)
		return 100;
	if (t->state != STATE_COPYING)
		return 0;
	if (isnan(t->size) || t->size <= 0)
		return 0;
	return fmin(99, 100 * t->copied / t->size);
}

double
progress_total_percent(const snapshot *s)
{
	if (s->total_size > 0)
		return fmin(100, 100 * s->total_copied / s->total_size);
	return s->count[STATE_WAITING] + s->count[STATE_COPYING] == 0 ? 100 : 0;
}

/* Lag in seconds: the heartbeat, else an estimate from the apply worker's last messages. */
static void
lag_seconds(snapshot *s)
{
	s->lag_bytes = s->lag.known ? (double) s->lag.bytes : NAN;
	if (s->hb == HB_OK) {
		s->lag_seconds = fmax(0, s->hb_age);
		s->lag_seconds_source = "heartbeat";
		return;
	}
	if (!isnan(s->lag_bytes) && s->lag_bytes <= 0)
		s->lag_seconds = 0;
	else {
		double age = fmax(isnan(s->receipt_age) ? -1 : s->receipt_age, isnan(s->end_age) ? -1 : s->end_age);

		s->lag_seconds = s->worker_pid && age >= 0 ? age : NAN;
	}
	s->lag_seconds_source = isnan(s->lag_seconds) ? NULL : "estimate";
}

void
progress_evaluate(snapshot *s, const progress_options *o, const history *h)
{
	size_t i;

	copy_totals(s, h);
	lag_seconds(s);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *msg;

		if (!cases[i].applies(s, o))
			continue;
		msg = cases[i].says(s, o);
		if (cases[i].stops_wait && s->stop_wait == NULL)
			s->stop_wait = xstrdup(msg);
		switch (cases[i].kind) {
			case CASE_WHY: add_message(&s->why, &s->nwhy, msg); break;
			case CASE_WARNING: add_message(&s->warnings, &s->nwarnings, msg); break;
			case CASE_NOTE: add_message(&s->notes, &s->nnotes, msg); break;
		}
	}
	s->in_sync = s->nwhy == 0;
}
