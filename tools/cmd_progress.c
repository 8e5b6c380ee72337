/*
 * migkit progress (the kit's copy-progress): how far the initial copy of a
 * subscription has come and how far DST lags behind SRC.
 *
 * A refresh costs at most two statements per side, whatever the number of
 * tables.  On DST, one query joins the subscription's relation states with
 * the COPY progress of its table-sync workers and the apply worker's
 * statistics; with the heartbeat on, a second one reads migkit.heartbeat.
 * On SRC, one query returns the size of every table DST named plus the WAL
 * and slot facts; with the heartbeat on, the other statement is the
 * heartbeat's write, the only write progress makes.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"
#include "pg.h"

#define DEFAULT_INTERVAL 2.0
#define DEFAULT_MAX_LAG  (1024LL * 1024)
#define BAR_WIDTH        20 /* the total's bar */
#define ROW_BAR_WIDTH    12 /* each table's */
/* A slot's retained WAL this close to max_slot_wal_keep_size is a warning. */
#define SLOT_KEEP_WARN 0.8

typedef enum {
	STATE_WAITING,   /* i: waiting for a sync worker */
	STATE_COPYING,   /* d: initial copy running */
	STATE_SYNCED,    /* f, s: copied, catching up with the stream */
	STATE_STREAMING, /* r: applied by the apply worker */
	STATE_UNKNOWN,
	NSTATES
} sync_state;

static const char *const state_names[NSTATES] = {"waiting", "copying", "synced", "streaming", "unknown"};

typedef enum {
	HB_OFF, /* MIGKIT_HEARTBEAT is not true */
	HB_OK,  /* written on SRC and read on DST */
	HB_NO_SRC_TABLE,
	HB_SRC_READ_ONLY,
	HB_NO_DST_TABLE,
	HB_NOT_PUBLISHED,
	HB_NOT_SUBSCRIBED,
	HB_NOT_READY, /* still in its own initial sync */
	HB_NO_ROW
} hb_status;

static const char *const hb_names[] = {"off",
									   "ok",
									   "no table on SRC",
									   "SRC read-only",
									   "no table on DST",
									   "not published",
									   "not subscribed",
									   "syncing",
									   "no row on DST"};

typedef struct options {
	const char *src;
	const char *dst;
	const char *sub;
	char *sub_sql; /* sub quoted as an identifier, for SQL in messages */
	bool watch;
	bool wait;
	bool json;
	bool prometheus;
	bool heartbeat;
	double interval;   /* seconds between refreshes */
	double timeout;    /* seconds; 0: none */
	long long max_lag; /* bytes */
	bool max_lag_given;
} options;

typedef struct table_row {
	char *schema;
	char *name;
	char substate; /* pg_subscription_rel.srsubstate */
	sync_state state;
	double size;      /* bytes on SRC; NAN when unknown */
	double copied;    /* bytes copied (COPY's bytes_processed while copying) */
	double copy_rate; /* bytes/s of a running COPY; NAN when none */
} table_row;

/* What one refresh learnt, and what follows from it. */
typedef struct snapshot {
	/* From DST. */
	bool enabled;
	char *slot_name;    /* NULL: the subscription has no slot */
	char *publications; /* text form of subpublications (an array literal) */
	long worker_pid;    /* 0: the apply worker is not running */
	char *latest_end_lsn;
	double receipt_age; /* now() - last_msg_receipt_time */
	double end_age;     /* now() - latest_end_time */
	double apply_errors;
	double sync_errors;
	bool dst_heartbeat_table;
	char heartbeat_substate; /* '\0': not part of the subscription */
	table_row *tables;
	int ntables;

	/* From SRC. */
	double lag_bytes;       /* NAN when unknown */
	const char *lag_source; /* "slot", "subscription" or NULL */
	bool slot_found;
	bool slot_active;
	char *wal_status;
	double wal_retained;
	double safe_wal_size;
	double max_slot_keep; /* -1: unlimited */
	double max_wal_size;
	double wal_dir;          /* NAN when not readable */
	int heartbeat_published; /* -1 unknown */

	/* The heartbeat. */
	hb_status hb;
	double hb_written; /* epoch of this refresh's beat on SRC */
	double hb_seen;    /* epoch of the newest beat on DST */
	double hb_age;     /* DST's now() - hb_seen */
	bool hb_applied;   /* this refresh's beat had reached DST */

	/* Derived. */
	int count[NSTATES];
	double total_size;
	double total_copied;
	double throughput; /* bytes/s; NAN when unknown */
	double eta;        /* seconds; NAN when unknown */
	double lag_seconds;
	const char *lag_seconds_source; /* "heartbeat", "estimate" or NULL */
	bool in_sync;
	char **why; /* why not in sync */
	int nwhy;
	char **notes;
	int nnotes;
	char **warnings;
	int nwarnings;
	double mono; /* when taken (monotonic) */
	time_t wall;
} snapshot;

/* The previous refresh, for the throughput between refreshes. */
typedef struct history {
	bool have;
	double copied;
	double mono;
} history;

static volatile sig_atomic_t interrupted = 0;

static void
on_signal(int sig)
{
	(void) sig;
	interrupted = 1;
}

static void
progress_help(void)
{
	printf("Usage: migkit progress [OPTION]...\n\n"
		   "Shows, for the subscription SUBNAME on DST, each table's sync state (waiting,\n"
		   "copying, synced, streaming), its size on SRC and the bytes copied so far, the\n"
		   "totals with throughput and ETA, the replication lag in bytes (SRC's\n"
		   "pg_current_wal_lsn() to what DST confirmed) and in seconds, and the slot's\n"
		   "state and WAL retained on SRC.  At most two statements per side per refresh.\n\n"
		   "Options:\n"
		   "      --watch [SEC]       refresh every SEC seconds (default 2) until Ctrl-C:\n"
		   "                          redrawn in place on a terminal, a line per refresh otherwise\n"
		   "      --wait              return 0 once every table streams and the lag is within\n"
		   "                          --max-lag, then print the report (a line on stderr\n"
		   "                          whenever tables change state meanwhile)\n"
		   "      --timeout SEC       with --wait or --watch: stop after SEC seconds (exit 1\n"
		   "                          unless in sync)\n"
		   "      --interval SEC      seconds between refreshes for --wait (default 2)\n"
		   "      --max-lag BYTES     the lag counted as caught up (default MIGKIT_LAG_MAX_BYTES,\n"
		   "                          else 1MB; units kB, MB, GB allowed)\n"
		   "      --json              one JSON document (one per refresh under --watch)\n"
		   "      --prometheus        the Prometheus text format, for node_exporter's textfile\n"
		   "                          collector\n"
		   "      --src CONNINFO      SRC connection (default: $SRCPG)\n"
		   "      --dst CONNINFO      DST connection (default: $DSTPG)\n"
		   "      --sub NAME          the subscription on DST (default: $SUBNAME)\n"
		   "  -h, --help              show this help and exit\n\n"
		   "MIGKIT_HEARTBEAT=true updates migkit.heartbeat on SRC (its only write) and reads\n"
		   "it on DST for the end-to-end lag in seconds; otherwise the seconds are an\n"
		   "estimate from pg_stat_subscription.\n\n"
		   "Exit status: 0 in sync, 1 not yet (or --timeout reached), 2 error (also when\n"
		   "the subscription does not exist).\n");
}

/* A positive number of seconds, fractions allowed. */
static bool
parse_seconds(const char *s, double *out)
{
	double v;

	if (!parse_double(s, &v) || v <= 0)
		return false;
	*out = v;
	return true;
}

/* A byte count: digits with an optional unit B, kB, MB, GB, TB (1024-based, as PostgreSQL). */
static bool
parse_bytes(const char *s, long long *out)
{
	static const struct {
		const char *unit;
		long long factor;
	} units[] = {
		{"", 1}, {"B", 1}, {"kB", 1LL << 10}, {"MB", 1LL << 20}, {"GB", 1LL << 30}, {"TB", 1LL << 40},
	};
	char *end;
	long long v;
	size_t i;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return false;
	while (*end == ' ')
		end++;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit) == 0) {
			if (v > LLONG_MAX / units[i].factor)
				return false;
			*out = v * units[i].factor;
			return true;
		}
	}
	return false;
}

/* Lag in seconds: milliseconds under a second, else as format_duration. */
static const char *
format_lag_seconds(double seconds, char *buf, size_t size)
{
	if (!isnan(seconds) && seconds < 1)
		snprintf(buf, size, "%.0f ms", seconds * 1000);
	else
		format_duration(seconds, buf, size);
	return buf;
}

/* An epoch as an ISO 8601 UTC timestamp with microseconds. */
static const char *
format_epoch(double epoch, char *buf, size_t size)
{
	long long us = llround(epoch * 1e6);
	time_t t = (time_t) (us / 1000000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06lldZ", base, us % 1000000);
	return buf;
}

static bool
env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
				 strcmp(v, "1") == 0);
}

/* A number from the server, NAN for NULL. */
static double
num(const PGresult *res, int row, int col)
{
	const char *v = pg_value(res, row, col);

	return v ? strtod(v, NULL) : NAN;
}

static bool
boolean(const PGresult *res, int row, int col)
{
	const char *v = pg_value(res, row, col);

	return v && v[0] == 't';
}

static char *
text_or_null(const PGresult *res, int row, int col)
{
	const char *v = pg_value(res, row, col);

	return v ? xstrdup(v) : NULL;
}

static void
add_message(char ***list, int *n, char *msg)
{
	*list = xrealloc(*list, (size_t) (*n + 1) * sizeof(char *));
	(*list)[(*n)++] = msg;
}

static void
free_list(char **list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void
snapshot_free(snapshot *s)
{
	int i;

	for (i = 0; i < s->ntables; i++) {
		free(s->tables[i].schema);
		free(s->tables[i].name);
	}
	free(s->tables);
	free(s->slot_name);
	free(s->publications);
	free(s->latest_end_lsn);
	free(s->wal_status);
	free_list(s->why, s->nwhy);
	free_list(s->notes, s->nnotes);
	free_list(s->warnings, s->nwarnings);
	memset(s, 0, sizeof(*s));
}

static sync_state
state_of(char substate)
{
	switch (substate) {
		case 'i': return STATE_WAITING;
		case 'd': return STATE_COPYING;
		case 'f':
		case 's': return STATE_SYNCED;
		case 'r': return STATE_STREAMING;
		default: return STATE_UNKNOWN;
	}
}

/* Appends items as a text[] literal: {"a","b"} with \ and " escaped. */
static void
append_text_array(strbuf *sb, const table_row *rows, int n, bool schemas)
{
	int i;
	const char *p;

	sb_append_char(sb, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_append_char(sb, ',');
		sb_append_char(sb, '"');
		for (p = schemas ? rows[i].schema : rows[i].name; *p; p++) {
			if (*p == '"' || *p == '\\')
				sb_append_char(sb, '\\');
			sb_append_char(sb, *p);
		}
		sb_append_char(sb, '"');
	}
	sb_append_char(sb, '}');
}

/*
 * DST's one query: a row per table of the subscription (migkit's own schema
 * left out), with the subscription, its apply worker and the heartbeat
 * table repeated on each row; one row with NULL table columns when the
 * subscription has no table, none when it does not exist.
 */
static char *
dst_query(int version)
{
	strbuf sb;

	sb_init(&sb);
	sb_append(
		&sb,
		"with sub as (\n"
		"  select s.oid, s.subenabled, s.subslotname::text as slot_name,\n"
		"         s.subpublications::text as publications,\n"
		"         (select r.srsubstate from pg_catalog.pg_subscription_rel r\n"
		"           where r.srsubid = s.oid and r.srrelid = pg_catalog.to_regclass('migkit.heartbeat')) as heartbeat_state\n"
		"    from pg_catalog.pg_subscription s\n"
		"   where s.subname = $1\n"
		"     and s.subdbid = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())\n"
		"), apply as (\n"
		"  select w.pid, w.latest_end_lsn::text as latest_end_lsn,\n"
		"         greatest(0, extract(epoch from pg_catalog.now() - w.last_msg_receipt_time)) as receipt_age,\n"
		"         greatest(0, extract(epoch from pg_catalog.now() - w.latest_end_time)) as end_age\n"
		"    from pg_catalog.pg_stat_subscription w\n"
		"   where w.subid = (select sub.oid from sub) and w.relid is null");
	if (version >= 160000)
		sb_append(&sb, " and w.leader_pid is null");
	sb_append(&sb, "\n)");
	if (version >= 140000)
		sb_append(
			&sb,
			", copying as (\n"
			"  select p.relid, p.bytes_processed,\n"
			"         extract(epoch from pg_catalog.now() - a.xact_start) as seconds\n"
			"    from pg_catalog.pg_stat_progress_copy p\n"
			"    left join pg_catalog.pg_stat_activity a on a.pid = p.pid\n"
			"   where p.datid = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())\n"
			")");
	sb_append(&sb, "\nselect sub.subenabled, sub.slot_name, sub.publications,\n"
				   "       apply.pid, apply.latest_end_lsn, apply.receipt_age, apply.end_age,\n");
	sb_append(&sb, version >= 150000 ? "       st.apply_error_count, st.sync_error_count,\n"
									 : "       null::bigint, null::bigint,\n");
	sb_append(&sb, "       pg_catalog.to_regclass('migkit.heartbeat') is not null, sub.heartbeat_state,\n"
				   "       t.nspname, t.relname, t.srsubstate,\n");
	sb_append(&sb, version >= 140000 ? "       cp.bytes_processed, cp.seconds\n"
									 : "       null::bigint, null::numeric\n");
	sb_append(&sb, "  from sub\n"
				   "  left join apply on true\n");
	if (version >= 150000)
		sb_append(&sb, "  left join pg_catalog.pg_stat_subscription_stats st on st.subid = sub.oid\n");
	sb_append(&sb, "  left join (select r.srsubid, r.srrelid, r.srsubstate, n.nspname, c.relname\n"
				   "               from pg_catalog.pg_subscription_rel r\n"
				   "               join pg_catalog.pg_class c on c.oid = r.srrelid\n"
				   "               join pg_catalog.pg_namespace n on n.oid = c.relnamespace\n"
				   "              where n.nspname <> 'migkit') t on t.srsubid = sub.oid\n");
	if (version >= 140000)
		sb_append(&sb, "  left join copying cp on cp.relid = t.srrelid\n");
	sb_append(&sb, " order by t.nspname, t.relname");
	return sb_steal(&sb);
}

/*
 * SRC's one query: the WAL and slot facts on every row, with each table's
 * size (its leaf partitions' for a partitioned table) and its position in
 * DST's list.  $1/$2 schemas and names, $3 slot, $4 DST's latest_end_lsn
 * (used when the slot is not found), $5 the publications, $6 heartbeat on.
 */
static char *
src_query(int version, bool superuser)
{
	strbuf sb;

	sb_init(&sb);
	sb_append(&sb, "with want as (\n"
				   "  select u.schema_name, u.table_name, u.ord\n"
				   "    from rows from (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]))\n"
				   "         with ordinality as u(schema_name, table_name, ord)\n"
				   "), sized as (\n"
				   "  select w.ord,\n");
	if (version >= 120000)
		sb_append(&sb, "         case when c.relkind = 'p'\n"
					   "              then (select pg_catalog.sum(pg_catalog.pg_table_size(p.relid))\n"
					   "                      from pg_catalog.pg_partition_tree(c.oid) p where p.isleaf)\n"
					   "              else pg_catalog.pg_table_size(c.oid) end as size\n");
	else
		sb_append(&sb, "         pg_catalog.pg_table_size(c.oid) as size\n");
	sb_append(
		&sb,
		"    from want w\n"
		"    left join pg_catalog.pg_namespace n on n.nspname = w.schema_name\n"
		"    left join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = w.table_name\n"
		"), facts as (\n"
		"  select pg_catalog.pg_wal_lsn_diff(w.lsn, coalesce(sl.confirmed_flush_lsn, $4::pg_lsn)) as lag_bytes,\n"
		"         case when sl.confirmed_flush_lsn is not null then 'slot'\n"
		"              when $4::pg_lsn is not null then 'subscription' end as lag_source,\n"
		"         sl.slot_name is not null as slot_found, sl.active,\n"
		"         pg_catalog.pg_wal_lsn_diff(w.lsn, sl.restart_lsn) as wal_retained,\n");
	if (version >= 130000)
		sb_append(
			&sb,
			"         sl.wal_status, sl.safe_wal_size,\n"
			"         pg_catalog.pg_size_bytes(pg_catalog.current_setting('max_slot_wal_keep_size')) as max_slot_keep,\n");
	else
		sb_append(&sb,
				  "         null::text as wal_status, null::bigint as safe_wal_size, -1 as max_slot_keep,\n");
	sb_append(
		&sb,
		"         pg_catalog.pg_size_bytes(pg_catalog.current_setting('max_wal_size')) as max_wal_size,\n");
	/* pg_ls_waldir() is checked for EXECUTE when the plan starts, used or not. */
	sb_append(&sb,
			  superuser
				  ? "         (select pg_catalog.sum(f.size) from pg_catalog.pg_ls_waldir() f) as wal_dir,\n"
				  : "         null::numeric as wal_dir,\n");
	sb_append(
		&sb,
		"         case when $6::boolean then exists (\n"
		"           select 1 from pg_catalog.pg_publication_tables pt\n"
		"            where pt.pubname = any ($5::text[]) and pt.schemaname = 'migkit' and pt.tablename = 'heartbeat')\n"
		"         end as heartbeat_published\n"
		"    from (select pg_catalog.pg_current_wal_lsn() as lsn) w\n"
		"    left join pg_catalog.pg_replication_slots sl\n"
		"           on sl.slot_name = $3 and sl.database = pg_catalog.current_database()\n"
		")\n"
		"select f.lag_bytes, f.lag_source, f.slot_found, f.active, f.wal_status, f.wal_retained,\n"
		"       f.safe_wal_size, f.max_slot_keep, f.max_wal_size, f.wal_dir, f.heartbeat_published,\n"
		"       s.ord, s.size\n"
		"  from facts f left join sized s on true\n"
		" order by s.ord");
	return sb_steal(&sb);
}

static const char heartbeat_write_sql[] =
	"insert into migkit.heartbeat as h (id, beat) values (1, pg_catalog.now())\n"
	"    on conflict (id) do update set beat = excluded.beat\n"
	"returning extract(epoch from h.beat)";

static const char heartbeat_read_sql[] =
	"select extract(epoch from h.beat), extract(epoch from pg_catalog.now() - h.beat)\n"
	"  from migkit.heartbeat h where h.id = 1";

/*
 * Collects a result like pg_receive, except that a failure with one of the
 * SQLSTATEs in `expected` (NULL-terminated) is not logged: it returns NULL
 * with the code copied into `code`.  Other failures are logged as usual.
 */
static PGresult *
receive_expecting(PGconn *conn, const char *side, const char *sql, const char *const *expected, char *code,
				  size_t codesize)
{
	PGresult *res, *last = NULL;
	const char *const *e;
	const char *state = NULL;
	bool failed = false;

	code[0] = '\0';
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && !failed) {
			failed = true;
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			for (e = expected; state && *e; e++)
				if (strcmp(state, *e) == 0)
					snprintf(code, codesize, "%s", state);
			if (code[0] == '\0') {
				log_error("query on %s failed: %s", side, pg_error_line(conn));
				log_error("the query was: %s", sql);
			}
		}
		PQclear(last);
		last = res;
	}
	if (failed || last == NULL) {
		if (!failed)
			log_error("query on %s failed: %s", side, pg_error_line(conn));
		PQclear(last);
		return NULL;
	}
	return last;
}

/* Reads DST's answer into s; false (logged) on error or a missing subscription. */
static bool
read_dst(snapshot *s, PGresult *res, PGconn *dst, const char *subname)
{
	int n = PQntuples(res), i;

	if (n == 0) {
		log_error("subscription \"%s\" does not exist in database \"%s\" on DST: run create-sub first",
				  subname, PQdb(dst));
		return false;
	}
	s->enabled = boolean(res, 0, 0);
	s->slot_name = text_or_null(res, 0, 1);
	s->publications = text_or_null(res, 0, 2);
	s->worker_pid = pg_value(res, 0, 3) ? strtol(pg_value(res, 0, 3), NULL, 10) : 0;
	s->latest_end_lsn = text_or_null(res, 0, 4);
	s->receipt_age = num(res, 0, 5);
	s->end_age = num(res, 0, 6);
	s->apply_errors = num(res, 0, 7);
	s->sync_errors = num(res, 0, 8);
	s->dst_heartbeat_table = boolean(res, 0, 9);
	s->heartbeat_substate = pg_value(res, 0, 10) ? pg_value(res, 0, 10)[0] : '\0';

	s->tables = xcalloc((size_t) n, sizeof(table_row));
	for (i = 0; i < n; i++) {
		table_row *t = &s->tables[s->ntables];
		double bytes = num(res, i, 14), secs = num(res, i, 15);

		if (pg_value(res, i, 11) == NULL)
			continue; /* the subscription has no table */
		t->schema = xstrdup(pg_value(res, i, 11));
		t->name = xstrdup(pg_value(res, i, 12));
		t->substate = pg_value(res, i, 13)[0];
		t->state = state_of(t->substate);
		t->size = NAN;
		t->copied = t->state == STATE_COPYING && !isnan(bytes) ? bytes : 0;
		t->copy_rate = t->state == STATE_COPYING && !isnan(bytes) && secs > 0.5 ? bytes / secs : NAN;
		s->ntables++;
	}
	return true;
}

static void
read_src(snapshot *s, PGresult *res)
{
	int n = PQntuples(res), i;

	s->lag_bytes = num(res, 0, 0);
	s->lag_source = !pg_value(res, 0, 1)                       ? NULL
					: strcmp(pg_value(res, 0, 1), "slot") == 0 ? "slot"
															   : "subscription";
	s->slot_found = boolean(res, 0, 2);
	s->slot_active = boolean(res, 0, 3);
	s->wal_status = text_or_null(res, 0, 4);
	s->wal_retained = num(res, 0, 5);
	s->safe_wal_size = num(res, 0, 6);
	s->max_slot_keep = num(res, 0, 7);
	s->max_wal_size = num(res, 0, 8);
	s->wal_dir = num(res, 0, 9);
	s->heartbeat_published = pg_value(res, 0, 10) ? boolean(res, 0, 10) : -1;
	for (i = 0; i < n; i++) {
		double ord = num(res, i, 11);

		if (!isnan(ord) && ord >= 1 && ord <= s->ntables)
			s->tables[(int) ord - 1].size = num(res, i, 12);
	}
}

/*
 * One refresh: the DST query, then the heartbeat write on SRC, then the SRC
 * query (it needs DST's table list), then the heartbeat read on DST, so the
 * beat has had the SRC query's time to arrive.  The beat is written only
 * once DST's answer shows the table there and in the subscription: a
 * published change to a table DST lacks stops DST's apply worker.
 */
static bool
take_snapshot(PGconn *src, PGconn *dst, const options *o, snapshot *s)
{
	static const char *const hb_src_expected[] = {"42P01", "3F000", "25006", NULL};
	static const char *const hb_dst_expected[] = {"42P01", "3F000", NULL};
	char *dsql = NULL, *ssql = NULL;
	PGresult *res = NULL, *hb = NULL;
	char code[8];
	bool ok = false;
	strbuf schemas, names;
	const char *params[6];
	const char *su = PQparameterStatus(src, "is_superuser");

	memset(s, 0, sizeof(*s));
	s->hb = o->heartbeat ? HB_OK : HB_OFF;
	s->hb_written = s->hb_seen = s->hb_age = NAN;
	sb_init(&schemas);
	sb_init(&names);

	dsql = dst_query(PQserverVersion(dst));
	params[0] = o->sub;
	res = pg_query(dst, "DST", dsql, 1, params);
	if (res == NULL || !read_dst(s, res, dst, o->sub))
		goto done;
	PQclear(res);
	res = NULL;

	if (s->hb == HB_OK && !s->dst_heartbeat_table)
		s->hb = HB_NO_DST_TABLE;
	else if (s->hb == HB_OK && s->heartbeat_substate == '\0')
		s->hb = HB_NOT_SUBSCRIBED;
	if (s->hb == HB_OK) {
		if (!pg_send(src, "SRC", heartbeat_write_sql, 0, NULL))
			goto done;
		hb = receive_expecting(src, "SRC", heartbeat_write_sql, hb_src_expected, code, sizeof(code));
		if (hb == NULL && code[0] == '\0')
			goto done;
		if (hb == NULL)
			s->hb = strcmp(code, "25006") == 0 ? HB_SRC_READ_ONLY : HB_NO_SRC_TABLE;
		else
			s->hb_written = num(hb, 0, 0);
		PQclear(hb);
		hb = NULL;
	}

	append_text_array(&schemas, s->tables, s->ntables, true);
	append_text_array(&names, s->tables, s->ntables, false);
	ssql = src_query(PQserverVersion(src), su && strcmp(su, "on") == 0);
	params[0] = schemas.data;
	params[1] = names.data;
	params[2] = s->slot_name;
	params[3] = s->latest_end_lsn;
	params[4] = s->publications;
	params[5] = o->heartbeat ? "true" : "false";
	res = pg_query(src, "SRC", ssql, 6, params);
	if (res == NULL)
		goto done;
	read_src(s, res);

	if ((s->hb == HB_OK || s->hb == HB_NOT_SUBSCRIBED) && s->heartbeat_published == 0)
		s->hb = HB_NOT_PUBLISHED;
	else if (s->hb == HB_OK && s->heartbeat_substate != 'r')
		s->hb = HB_NOT_READY;
	if (s->hb == HB_OK) {
		if (!pg_send(dst, "DST", heartbeat_read_sql, 0, NULL))
			goto done;
		hb = receive_expecting(dst, "DST", heartbeat_read_sql, hb_dst_expected, code, sizeof(code));
		if (hb == NULL && code[0] == '\0')
			goto done;
		if (hb == NULL)
			s->hb = HB_NO_DST_TABLE;
		else if (PQntuples(hb) == 0)
			s->hb = HB_NO_ROW;
		else {
			s->hb_seen = num(hb, 0, 0);
			s->hb_age = num(hb, 0, 1);
			s->hb_applied = s->hb_seen >= s->hb_written - 1e-4;
		}
	}
	ok = true;
done:
	PQclear(res);
	PQclear(hb);
	free(dsql);
	free(ssql);
	sb_free(&schemas);
	sb_free(&names);
	s->mono = now_seconds();
	s->wall = time(NULL);
	return ok;
}

/* Totals, throughput, ETA, lag in seconds, the verdict, and what to tell. */
static void
evaluate(snapshot *s, const options *o, const history *h)
{
	char a[32], b[32];
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

	/* Lag in seconds: the heartbeat, else an estimate from the apply worker. */
	if (s->hb == HB_OK) {
		s->lag_seconds = fmax(0, s->hb_age);
		s->lag_seconds_source = "heartbeat";
		if (!s->hb_applied)
			add_message(
				&s->notes, &s->nnotes,
				xasprintf(
					"heartbeat: this refresh's beat had not reached DST yet; DST has applied SRC's commits up to %s ago",
					format_lag_seconds(s->hb_age, a, sizeof(a))));
	} else {
		double age = fmax(isnan(s->receipt_age) ? -1 : s->receipt_age, isnan(s->end_age) ? -1 : s->end_age);

		if (!isnan(s->lag_bytes) && s->lag_bytes <= 0)
			s->lag_seconds = 0;
		else
			s->lag_seconds = s->worker_pid && age >= 0 ? age : NAN;
		s->lag_seconds_source = isnan(s->lag_seconds) ? NULL : "estimate";
	}

	switch (s->hb) {
		case HB_OFF:
		case HB_OK: break;
		case HB_NO_SRC_TABLE:
			add_message(
				&s->notes, &s->nnotes,
				xstrdup(
					"heartbeat: migkit.heartbeat does not exist on SRC (create-pub creates it); the lag in seconds is an estimate"));
			break;
		case HB_SRC_READ_ONLY:
			add_message(
				&s->notes, &s->nnotes,
				xstrdup(
					"heartbeat: SRC refuses writes (read-only), no beat written; the lag in seconds is an estimate"));
			break;
		case HB_NO_DST_TABLE:
			add_message(
				&s->notes, &s->nnotes,
				xstrdup(
					"heartbeat: migkit.heartbeat does not exist on DST (create-sub creates it); the lag in seconds is an estimate"));
			break;
		case HB_NOT_PUBLISHED:
			add_message(
				&s->notes, &s->nnotes,
				xstrdup(
					"heartbeat: migkit.heartbeat is not in the subscription's publications (create-pub adds it); the lag in seconds is an estimate"));
			break;
		case HB_NOT_SUBSCRIBED:
			add_message(
				&s->notes, &s->nnotes,
				xasprintf(
					"heartbeat: migkit.heartbeat is not part of the subscription yet: run ALTER SUBSCRIPTION %s REFRESH PUBLICATION on DST; the lag in seconds is an estimate",
					o->sub_sql));
			break;
		case HB_NOT_READY:
			add_message(
				&s->notes, &s->nnotes,
				xstrdup(
					"heartbeat: migkit.heartbeat is still in its initial sync; the lag in seconds is an estimate"));
			break;
		case HB_NO_ROW:
			add_message(&s->notes, &s->nnotes,
						xstrdup("heartbeat: no beat has reached DST yet; the lag in seconds is an estimate"));
			break;
	}

	/* The slot and the WAL it holds on SRC. */
	if (s->slot_name && !s->slot_found)
		add_message(
			&s->warnings, &s->nwarnings,
			xasprintf(
				"slot %s not found on SRC: the subscription cannot stream (recreate it: drop-sub, create-sub)",
				s->slot_name));
	if (s->wal_status && strcmp(s->wal_status, "lost") == 0)
		add_message(
			&s->warnings, &s->nwarnings,
			xasprintf(
				"slot %s has lost WAL it needs (wal_status lost): DST cannot catch up; recreate the subscription (drop-sub, create-sub)",
				s->slot_name));
	else if (s->wal_status && strcmp(s->wal_status, "unreserved") == 0)
		add_message(
			&s->warnings, &s->nwarnings,
			xasprintf(
				"slot %s retains more WAL than max_slot_wal_keep_size allows (wal_status unreserved): WAL it needs may be removed at the next checkpoint",
				s->slot_name));
	else if (s->slot_found && s->max_slot_keep > 0 && s->wal_retained >= SLOT_KEEP_WARN * s->max_slot_keep)
		add_message(
			&s->warnings, &s->nwarnings,
			xasprintf(
				"slot %s retains %s of WAL, %.0f%% of max_slot_wal_keep_size (%s): past it, SRC drops WAL DST still needs",
				s->slot_name, format_bytes(s->wal_retained, a, sizeof(a)),
				100 * s->wal_retained / s->max_slot_keep, format_bytes(s->max_slot_keep, b, sizeof(b))));
	else if (s->slot_found && s->max_slot_keep < 0 && s->max_wal_size > 0 &&
			 s->wal_retained > s->max_wal_size)
		add_message(
			&s->warnings, &s->nwarnings,
			xasprintf(
				"slot %s retains %s of WAL, more than max_wal_size (%s), with no limit (max_slot_wal_keep_size = -1): watch the free disk of SRC's pg_wal (not measurable from SQL)",
				s->slot_name, format_bytes(s->wal_retained, a, sizeof(a)),
				format_bytes(s->max_wal_size, b, sizeof(b))));
	if (s->apply_errors > 0 || s->sync_errors > 0)
		add_message(
			&s->notes, &s->nnotes,
			xasprintf(
				"DST's workers have failed %.0f time(s) applying and %.0f time(s) copying (pg_stat_subscription_stats): see DST's server log",
				isnan(s->apply_errors) ? 0 : s->apply_errors, isnan(s->sync_errors) ? 0 : s->sync_errors));

	/* The verdict. */
	if (!s->enabled)
		add_message(&s->why, &s->nwhy,
					xasprintf("the subscription is disabled (ALTER SUBSCRIPTION %s ENABLE)", o->sub_sql));
	else if (s->worker_pid == 0)
		add_message(&s->why, &s->nwhy, xstrdup("the apply worker is not running (see DST's server log)"));
	if (s->count[STATE_STREAMING] < s->ntables)
		add_message(&s->why, &s->nwhy,
					xasprintf("%d of %d tables not streaming yet", s->ntables - s->count[STATE_STREAMING],
							  s->ntables));
	if (isnan(s->lag_bytes))
		add_message(&s->why, &s->nwhy,
					xstrdup("the lag is unknown (no slot on SRC and no position reported by DST)"));
	else if (s->lag_bytes > (double) o->max_lag)
		add_message(&s->why, &s->nwhy,
					xasprintf("lag %s > %s", format_bytes(s->lag_bytes, a, sizeof(a)),
							  format_bytes((double) o->max_lag, b, sizeof(b))));
	s->in_sync = s->nwhy == 0;
}

/* [#######.............] for a fraction 0..1. */
static void
format_bar(char *buf, size_t size, double fraction, int width)
{
	int fill, i, n = 0;

	if (isnan(fraction))
		fraction = 0;
	fraction = fmin(1, fmax(0, fraction));
	fill = (int) (fraction * width + 0.5);
	if (fill == width && fraction < 1)
		fill--;
	if ((size_t) width + 3 > size)
		width = (int) size - 3;
	buf[n++] = '[';
	for (i = 0; i < width; i++)
		buf[n++] = i < fill ? '#' : '.';
	buf[n++] = ']';
	buf[n] = '\0';
}

static double
table_percent(const table_row *t)
{
	if (t->state == STATE_SYNCED || t->state == STATE_STREAMING)
		return 100;
	if (t->state != STATE_COPYING)
		return 0;
	if (isnan(t->size) || t->size <= 0)
		return 0;
	return fmin(99, 100 * t->copied / t->size);
}

static double
total_percent(const snapshot *s)
{
	if (s->total_size > 0)
		return fmin(100, 100 * s->total_copied / s->total_size);
	return s->count[STATE_WAITING] + s->count[STATE_COPYING] == 0 ? 100 : 0;
}

static const char *
size_or_dash(double v, char *buf, size_t size)
{
	if (isnan(v))
		return "-";
	return format_bytes(v, buf, size);
}

/* The lag as "1.2 kB, 300 ms" ("~300 ms" for an estimate; bytes only when the seconds are unknown). */
static void
append_lag(strbuf *sb, const snapshot *s)
{
	char a[32];

	sb_append(sb, size_or_dash(s->lag_bytes, a, sizeof(a)));
	if (!isnan(s->lag_seconds))
		sb_printf(sb, ", %s%s", strcmp(s->lag_seconds_source, "estimate") == 0 ? "~" : "",
				  format_lag_seconds(s->lag_seconds, a, sizeof(a)));
}

/* One line for a refresh: what --watch appends when stdout is no terminal. */
static void
append_summary_line(strbuf *sb, const snapshot *s)
{
	char a[32], b[32], ts[32];

	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&s->wall));
	sb_printf(sb, "%s  %d/%d streaming", ts, s->count[STATE_STREAMING], s->ntables);
	if (s->count[STATE_COPYING])
		sb_printf(sb, ", %d copying", s->count[STATE_COPYING]);
	if (s->count[STATE_SYNCED])
		sb_printf(sb, ", %d synced", s->count[STATE_SYNCED]);
	if (s->count[STATE_WAITING])
		sb_printf(sb, ", %d waiting", s->count[STATE_WAITING]);
	sb_printf(sb, "  copied %s of %s (%.0f%%)", format_bytes(s->total_copied, a, sizeof(a)),
			  format_bytes(s->total_size, b, sizeof(b)), total_percent(s));
	if (!isnan(s->throughput))
		sb_printf(sb, "  %s/s", format_bytes(s->throughput, a, sizeof(a)));
	if (!isnan(s->eta) && s->eta > 0)
		sb_printf(sb, "  ETA %s", format_duration(s->eta, a, sizeof(a)));
	sb_append(sb, "  lag ");
	append_lag(sb, s);
	if (s->in_sync)
		sb_append(sb, "  in sync");
	else
		sb_printf(sb, "  not in sync: %s", s->nwhy ? s->why[0] : "?");
}

/* How --watch orders tables when not all fit: the unfinished first. */
static int
display_rank(sync_state st)
{
	switch (st) {
		case STATE_COPYING: return 0;
		case STATE_SYNCED: return 1;
		case STATE_WAITING: return 2;
		case STATE_UNKNOWN: return 3;
		default: return 4;
	}
}

static const snapshot *sort_snapshot;

static int
compare_rows(const void *a, const void *b)
{
	const table_row *x = &sort_snapshot->tables[*(const int *) a];
	const table_row *y = &sort_snapshot->tables[*(const int *) b];
	int r = display_rank(x->state) - display_rank(y->state);

	return r != 0 ? r : *(const int *) a - *(const int *) b;
}

/*
 * The human report.  max_rows < 0 prints every table in name order;
 * otherwise the unfinished tables first, and a line for the rest.  Colour
 * comes from `color`, not from `out` (which may be a memory stream).
 */
static void
render_text(FILE *out, const snapshot *s, const options *o, bool bars, bool color, int max_rows)
{
	static const char *const headers[] = {"table", "state", "size", "copied", "done", "progress"};
	const char *bold = color ? out_style(stdout, "bold") : "";
	const char *reset = color ? out_style(stdout, "reset") : "";
	const char *yellow = color ? out_style(stdout, "yellow") : "";
	const char *green = color ? out_style(stdout, "green") : "";
	const char *red = color ? out_style(stdout, "red") : "";
	char a[32], b[32], c[32], pct[16], bar[BAR_WIDTH + 3];
	int *order = xcalloc((size_t) s->ntables + 1, sizeof(int));
	int shown, i;
	table *t = table_new(bars ? 6 : 5, headers);

	fprintf(out, "%sSubscription %s on DST%s: %s", bold, o->sub, reset, s->enabled ? "enabled" : "disabled");
	if (s->worker_pid)
		fprintf(out, ", apply worker pid %ld\n", s->worker_pid);
	else
		fprintf(out, ", apply worker not running\n");

	for (i = 0; i < s->ntables; i++)
		order[i] = i;
	shown = s->ntables;
	if (max_rows >= 0 && s->ntables > max_rows) {
		sort_snapshot = s;
		qsort(order, (size_t) s->ntables, sizeof(int), compare_rows);
		shown = max_rows > 0 ? max_rows - 1 : 0;
	}
	table_align_right(t, 2);
	table_align_right(t, 3);
	table_align_right(t, 4);
	for (i = 0; i < shown; i++) {
		const table_row *r = &s->tables[order[i]];
		char *qualified = xasprintf("%s.%s", r->schema, r->name);
		const char *cells[6];

		snprintf(pct, sizeof(pct), "%.0f%%", table_percent(r));
		format_bar(bar, sizeof(bar), table_percent(r) / 100, ROW_BAR_WIDTH);
		cells[0] = qualified;
		cells[1] = state_names[r->state];
		cells[2] = size_or_dash(r->size, a, sizeof(a));
		cells[3] = format_bytes(r->copied, b, sizeof(b));
		cells[4] = pct;
		cells[5] = bar;
		table_add_row(t, cells);
		free(qualified);
	}
	if (s->ntables > 0) {
		fputc('\n', out);
		table_print(t, out);
	}
	if (shown < s->ntables) {
		int rest[NSTATES] = {0};

		for (i = shown; i < s->ntables; i++)
			rest[s->tables[order[i]].state]++;
		fprintf(out, "... and %d more:", s->ntables - shown);
		for (i = 0; i < NSTATES; i++)
			if (rest[i])
				fprintf(out, " %d %s", rest[i], state_names[i]);
		fputc('\n', out);
	}
	table_free(t);
	free(order);

	fprintf(out, "\n%sTables:%s %d streaming, %d synced, %d copying, %d waiting", bold, reset,
			s->count[STATE_STREAMING], s->count[STATE_SYNCED], s->count[STATE_COPYING],
			s->count[STATE_WAITING]);
	if (s->count[STATE_UNKNOWN])
		fprintf(out, ", %d unknown", s->count[STATE_UNKNOWN]);
	fprintf(out, " (of %d)\n", s->ntables);

	format_bar(bar, sizeof(bar), total_percent(s) / 100, BAR_WIDTH);
	fprintf(out, "%sCopied:%s %s%s%s of %s (%.0f%%)", bold, reset, bars ? bar : "", bars ? " " : "",
			format_bytes(s->total_copied, a, sizeof(a)), format_bytes(s->total_size, b, sizeof(b)),
			total_percent(s));
	if (!isnan(s->throughput))
		fprintf(out, ", %s/s", format_bytes(s->throughput, a, sizeof(a)));
	if (!isnan(s->eta))
		fprintf(out, ", ETA %s", s->eta > 0 ? format_duration(s->eta, a, sizeof(a)) : "done");
	else if (s->count[STATE_WAITING] + s->count[STATE_COPYING] > 0)
		fprintf(out, ", ETA unknown");
	fputc('\n', out);

	fprintf(out, "%sLag:%s %s", bold, reset, size_or_dash(s->lag_bytes, a, sizeof(a)));
	if (s->lag_source)
		fprintf(out, " (%s)",
				strcmp(s->lag_source, "slot") == 0 ? "slot confirmed_flush_lsn" : "DST latest_end_lsn");
	if (isnan(s->lag_seconds))
		fprintf(out, ", seconds unknown (no apply worker)\n");
	else if (strcmp(s->lag_seconds_source, "heartbeat") == 0)
		fprintf(out, ", %s%s (heartbeat)\n", s->hb_applied ? "" : "up to ",
				format_lag_seconds(s->lag_seconds, a, sizeof(a)));
	else
		fprintf(out, ", ~%s (estimate)\n", format_lag_seconds(s->lag_seconds, a, sizeof(a)));

	if (s->slot_name == NULL)
		fprintf(out, "%sSlot:%s none (slot_name = NONE)\n", bold, reset);
	else if (!s->slot_found)
		fprintf(out, "%sSlot:%s %s not found on SRC\n", bold, reset, s->slot_name);
	else {
		fprintf(out, "%sSlot:%s %s %s, %s, WAL retained %s", bold, reset, s->slot_name,
				s->slot_active ? "active" : "inactive", s->wal_status ? s->wal_status : "-",
				format_bytes(s->wal_retained, a, sizeof(a)));
		if (s->max_slot_keep > 0)
			fprintf(out, " of %s (max_slot_wal_keep_size)", format_bytes(s->max_slot_keep, b, sizeof(b)));
		else
			fprintf(out, ", no limit");
		fputc('\n', out);
	}
	fprintf(out, "%sDisk:%s SRC pg_wal %s; free space not measurable from SQL (check df)\n", bold, reset,
			isnan(s->wal_dir) ? "size unknown (pg_ls_waldir() needs a superuser)"
							  : format_bytes(s->wal_dir, c, sizeof(c)));

	for (i = 0; i < s->nwarnings; i++)
		fprintf(out, "%swarning:%s %s\n", yellow, reset, s->warnings[i]);
	for (i = 0; i < s->nnotes; i++)
		fprintf(out, "%snote:%s %s\n", yellow, reset, s->notes[i]);
	if (s->in_sync)
		fprintf(out, "%sIn sync%s: every table streams and the lag is within %s.\n", green, reset,
				format_bytes((double) o->max_lag, a, sizeof(a)));
	else {
		fprintf(out, "%sNot yet in sync%s: ", red, reset);
		for (i = 0; i < s->nwhy; i++)
			fprintf(out, "%s%s", i ? "; " : "", s->why[i]);
		fputc('\n', out);
	}
}

static void
json_number_or_null(json *j, const char *key, double v)
{
	if (isnan(v))
		json_null(j, key);
	else
		json_double(j, key, v);
}

static void
json_bytes_or_null(json *j, const char *key, double v)
{
	if (isnan(v))
		json_null(j, key);
	else
		json_int(j, key, (long long) v);
}

static void
render_json(FILE *out, const snapshot *s, const options *o)
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
		json_double(&j, "percent", table_percent(t));
		json_object_end(&j);
	}
	json_array_end(&j);

	json_object_begin(&j, "totals");
	json_int(&j, "tables", s->ntables);
	for (i = 0; i < NSTATES; i++)
		json_int(&j, state_names[i], s->count[i]);
	json_int(&j, "size_bytes", (long long) s->total_size);
	json_int(&j, "copied_bytes", (long long) s->total_copied);
	json_double(&j, "percent", total_percent(s));
	json_bytes_or_null(&j, "throughput_bytes_per_second", s->throughput);
	json_number_or_null(&j, "eta_seconds", s->eta);
	json_object_end(&j);

	json_object_begin(&j, "lag");
	json_bytes_or_null(&j, "bytes", s->lag_bytes);
	json_string(&j, "bytes_source", s->lag_source);
	json_int(&j, "max_bytes", o->max_lag);
	json_number_or_null(&j, "seconds", s->lag_seconds);
	json_string(&j, "seconds_source", s->lag_seconds_source);
	json_object_begin(&j, "heartbeat");
	json_bool(&j, "enabled", o->heartbeat);
	json_string(&j, "status", hb_names[s->hb]);
	json_string(&j, "written", isnan(s->hb_written) ? NULL : format_epoch(s->hb_written, ts, sizeof(ts)));
	json_string(&j, "seen", isnan(s->hb_seen) ? NULL : format_epoch(s->hb_seen, ts, sizeof(ts)));
	if (s->hb == HB_OK)
		json_bool(&j, "applied", s->hb_applied);
	else
		json_null(&j, "applied");
	json_object_end(&j);
	json_number_or_null(&j, "last_msg_receipt_age_seconds", s->receipt_age);
	json_number_or_null(&j, "latest_end_age_seconds", s->end_age);
	json_object_end(&j);

	json_object_begin(&j, "slot");
	json_string(&j, "name", s->slot_name);
	json_bool(&j, "found", s->slot_found);
	json_bool(&j, "active", s->slot_active);
	json_string(&j, "wal_status", s->wal_status);
	json_bytes_or_null(&j, "wal_retained_bytes", s->slot_found ? s->wal_retained : NAN);
	json_bytes_or_null(&j, "safe_wal_size_bytes", s->safe_wal_size);
	json_bytes_or_null(&j, "max_slot_wal_keep_size_bytes", s->max_slot_keep >= 0 ? s->max_slot_keep : NAN);
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

/* A label value in the exposition format: \ " and newline escaped. */
static void
prom_label(FILE *out, const char *name, const char *value, bool first)
{
	const char *p;

	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (p = value; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '"')
			fputs("\\\"", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fputc('"', out);
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

static void
render_prometheus(FILE *out, const snapshot *s, const options *o)
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
	prom_sample(out, "migkit_replication_lag_bytes", sub, "source", s->lag_source ? s->lag_source : "",
				s->lag_bytes);
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

static void
terminal_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* Writes line clipped to cols visible characters (escape sequences kept whole). */
static void
put_clipped(const char *line, size_t len, int cols)
{
	size_t i = 0;
	int width = 0;

	while (i < len) {
		if (line[i] == '\033') {
			size_t j = i + 1;

			if (j < len && line[j] == '[')
				for (j++; j < len && !(line[j] >= '@' && line[j] <= '~'); j++)
					;
			fwrite(line + i, 1, j < len ? j + 1 - i : len - i, stdout);
			i = j + 1;
			continue;
		}
		if (((unsigned char) line[i] & 0xC0) != 0x80 && ++width > cols)
			break;
		if (width <= cols)
			fputc(line[i], stdout);
		i++;
	}
	/* The rest of a clipped multi-byte character is not written; close colour. */
	fputs(out_style(stdout, "reset"), stdout);
}

/* --watch on a terminal: the frame redrawn from the top of the screen. */
static void
draw_frame(const snapshot *s, const options *o)
{
	char *buf = NULL;
	size_t size = 0, pos = 0;
	FILE *mem = open_memstream(&buf, &size);
	int rows, cols, budget, lines = 0;
	char ts[32];

	if (mem == NULL)
		return;
	terminal_size(&rows, &cols);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&s->wall));
	fprintf(mem, "migkit progress: every %gs, Ctrl-C to stop%s    %s\n\n", o->interval,
			o->wait ? ", until in sync" : "", ts);
	/*
	 * Around the table rows (and their "... more" line): 5 lines above, 7
	 * below, a line per note; the last screen line stays free so the
	 * terminal never scrolls.
	 */
	budget = rows - 1 - 12 - s->nnotes - s->nwarnings;
	render_text(mem, s, o, true, out_color(stdout), budget < 3 ? 3 : budget);
	fclose(mem);

	fputs("\033[H", stdout);
	while (pos < size && lines < rows - 1) {
		const char *nl = memchr(buf + pos, '\n', size - pos);
		size_t len = nl ? (size_t) (nl - (buf + pos)) : size - pos;

		put_clipped(buf + pos, len, cols);
		fputs("\033[K\n", stdout);
		pos += len + (nl ? 1 : 0);
		lines++;
	}
	fputs("\033[J", stdout);
	fflush(stdout);
	free(buf);
}

/* Prints the report of a refresh in the chosen format. */
static void
print_report(const snapshot *s, const options *o)
{
	int i;

	if (o->json)
		render_json(stdout, s, o);
	else if (o->prometheus) {
		render_prometheus(stdout, s, o);
		for (i = 0; i < s->nwarnings; i++)
			log_warn("%s", s->warnings[i]);
	} else
		render_text(stdout, s, o, out_is_tty(stdout), out_color(stdout), -1);
	fflush(stdout);
}

/* Sleeps up to `seconds`, returning early on a signal. */
static void
pause_for(double seconds)
{
	struct timespec ts;

	if (seconds <= 0 || interrupted)
		return;
	ts.tv_sec = (time_t) seconds;
	ts.tv_nsec = (long) ((seconds - (double) ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* Accepts the optional SEC of --watch given as the next word: --watch 5. */
static bool
take_watch_seconds(int argc, char **argv, options *o)
{
	double v;

	if (optarg) {
		if (!parse_seconds(optarg, &v)) {
			log_error("--watch takes a number of seconds > 0, not \"%s\"", optarg);
			return false;
		}
		o->interval = v;
	} else if (optind < argc && parse_seconds(argv[optind], &v)) {
		o->interval = v;
		optind++;
	}
	return true;
}

static bool
parse_options(int argc, char **argv, options *o, bool *help)
{
	enum {
		OPT_WATCH = 256,
		OPT_WAIT,
		OPT_TIMEOUT,
		OPT_INTERVAL,
		OPT_MAX_LAG,
		OPT_JSON,
		OPT_PROMETHEUS,
		OPT_SRC,
		OPT_DST,
		OPT_SUB
	};
	static const struct option long_options[] = {
		{"watch", optional_argument, NULL, OPT_WATCH},
		{"wait", no_argument, NULL, OPT_WAIT},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"max-lag", required_argument, NULL, OPT_MAX_LAG},
		{"json", no_argument, NULL, OPT_JSON},
		{"prometheus", no_argument, NULL, OPT_PROMETHEUS},
		{"src", required_argument, NULL, OPT_SRC},
		{"dst", required_argument, NULL, OPT_DST},
		{"sub", required_argument, NULL, OPT_SUB},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool watch_interval = false;
	double interval = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->interval = DEFAULT_INTERVAL;
	o->max_lag = DEFAULT_MAX_LAG;
	*help = false;
	optind = 1;
	/* "+": stop at the first non-option, so --watch may take the next word. */
	while ((c = getopt_long(argc, argv, "+h", long_options, NULL)) != -1) {
		switch (c) {
			case OPT_WATCH:
				o->watch = true;
				o->interval = 0;
				if (!take_watch_seconds(argc, argv, o))
					return false;
				watch_interval = o->interval > 0;
				break;
			case OPT_WAIT: o->wait = true; break;
			case OPT_TIMEOUT:
				if (!parse_seconds(optarg, &o->timeout)) {
					log_error("--timeout takes a number of seconds > 0, not \"%s\"", optarg);
					return false;
				}
				break;
			case OPT_INTERVAL:
				if (!parse_seconds(optarg, &interval)) {
					log_error("--interval takes a number of seconds > 0, not \"%s\"", optarg);
					return false;
				}
				break;
			case OPT_MAX_LAG:
				if (!parse_bytes(optarg, &o->max_lag)) {
					log_error("--max-lag takes a number of bytes (units kB, MB, GB allowed), not \"%s\"",
							  optarg);
					return false;
				}
				o->max_lag_given = true;
				break;
			case OPT_JSON: o->json = true; break;
			case OPT_PROMETHEUS: o->prometheus = true; break;
			case OPT_SRC: o->src = optarg; break;
			case OPT_DST: o->dst = optarg; break;
			case OPT_SUB: o->sub = optarg; break;
			case 'h': *help = true; return true;
			default: return false;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument \"%s\"", argv[optind]);
		return false;
	}
	if (o->json && o->prometheus) {
		log_error("--json and --prometheus exclude each other");
		return false;
	}
	if (o->watch && o->prometheus) {
		log_error(
			"--prometheus prints once: run it from a timer for the textfile collector, without --watch");
		return false;
	}
	if (o->timeout > 0 && !o->wait && !o->watch) {
		log_error("--timeout needs --wait or --watch");
		return false;
	}
	if (!watch_interval)
		o->interval = interval > 0 ? interval : DEFAULT_INTERVAL;
	o->heartbeat = env_true("MIGKIT_HEARTBEAT");
	return true;
}

/* Logs the one-line summary on stderr when the state counts changed (--wait). */
static void
log_wait_progress(const snapshot *s, int *last_counts)
{
	strbuf sb;

	if (memcmp(last_counts, s->count, sizeof(s->count)) == 0)
		return;
	memcpy(last_counts, s->count, sizeof(s->count));
	sb_init(&sb);
	append_summary_line(&sb, s);
	log_info("%s", sb.data);
	sb_free(&sb);
}

result_t
cmd_progress(int argc, char **argv)
{
	options o;
	bool help, have = false, tty_frame, error = false, timed_out = false;
	PGconn *src = NULL, *dst = NULL;
	snapshot s;
	history h = {0};
	double start, deadline = 0;
	int last_counts[NSTATES];
	struct sigaction sa;
	const char *env;
	result_t result = RESULT_ERROR;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		progress_help();
		return RESULT_OK;
	}
	if (!parse_options(argc, argv, &o, &help))
		return usage_error("progress ");
	if (help) {
		progress_help();
		return RESULT_OK;
	}
	env = getenv("MIGKIT_LAG_MAX_BYTES");
	if (!o.max_lag_given && env && *env && !parse_bytes(env, &o.max_lag)) {
		log_error("MIGKIT_LAG_MAX_BYTES is not a number of bytes: \"%s\"", env);
		return RESULT_ERROR;
	}
	if (o.sub == NULL || *o.sub == '\0')
		o.sub = getenv("SUBNAME");
	if (o.sub == NULL || *o.sub == '\0') {
		log_error("no subscription name: give --sub or source the kit's activate (it exports SUBNAME)");
		return RESULT_ERROR;
	}
	o.src = pg_conninfo("SRC", o.src);
	o.dst = pg_conninfo("DST", o.dst);
	if (o.src == NULL || o.dst == NULL)
		return RESULT_ERROR;

	dst = pg_connect("DST", o.dst);
	if (dst == NULL)
		return RESULT_ERROR;
	src = pg_connect("SRC", o.src);
	o.sub_sql = src ? pg_quote_ident(dst, o.sub) : NULL;
	if (o.sub_sql == NULL) {
		PQfinish(src);
		PQfinish(dst);
		return RESULT_ERROR;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	tty_frame = o.watch && !o.json && out_is_tty(stdout);
	if (tty_frame)
		fputs("\033[?25l\033[2J", stdout); /* hide the cursor, clear */
	memset(last_counts, -1, sizeof(last_counts));
	memset(&s, 0, sizeof(s));
	start = now_seconds();
	if (o.timeout > 0)
		deadline = start + o.timeout;

	for (;;) {
		snapshot next;

		if (!take_snapshot(src, dst, &o, &next)) {
			snapshot_free(&next);
			error = true;
			break;
		}
		evaluate(&next, &o, &h);
		snapshot_free(&s);
		s = next;
		have = true;
		h.have = true;
		h.copied = s.total_copied;
		h.mono = s.mono;

		if (o.watch) {
			if (o.json)
				render_json(stdout, &s, &o);
			else if (tty_frame)
				draw_frame(&s, &o);
			else {
				strbuf sb;

				sb_init(&sb);
				append_summary_line(&sb, &s);
				printf("%s\n", sb.data);
				fflush(stdout);
				sb_free(&sb);
			}
		} else if (o.wait)
			log_wait_progress(&s, last_counts);
		else
			break;
		if (o.wait && s.in_sync)
			break;
		if (interrupted)
			break;
		if (deadline > 0 && now_seconds() >= deadline) {
			timed_out = true;
			break;
		}
		pause_for(deadline > 0 ? fmin(o.interval, deadline - now_seconds()) : o.interval);
		if (interrupted)
			break;
	}

	if (tty_frame)
		fputs("\033[?25h", stdout); /* the cursor back */
	if (!error && have) {
		if (!o.watch)
			print_report(&s, &o);
		else if (tty_frame && !s.in_sync && s.nwhy > 0)
			log_info("not yet in sync: %s", s.why[0]);
		if (timed_out && o.wait)
			log_info("timed out after %gs: not yet in sync", o.timeout);
		result = s.in_sync ? RESULT_OK : RESULT_NEGATIVE;
	} else if (!error)
		result = RESULT_NEGATIVE; /* interrupted before the first answer */
	fflush(stdout);
	snapshot_free(&s);
	free(o.sub_sql);
	PQfinish(src);
	PQfinish(dst);
	return result;
}
