/*
 * One refresh of migkit progress: at most two statements per side,
 * whatever the number of tables.  On DST, one query joins the
 * subscription (kit/sql/subscription.sql), its tables and their states
 * (subscribed.sql), the COPY progress of its table-sync workers
 * (copying.sql), its apply worker (apply-worker.sql) and its error counts
 * (subscription-errors.sql); with the heartbeat on, a second one reads
 * migkit.heartbeat.  On SRC, one query returns the lag (lag.sql), the slot
 * (slot.sql), the migration's tables (relations.sql) and what the
 * publication sends (published.sql), with the size of each table; with
 * the heartbeat on, the other statement is the heartbeat's write, the only
 * write progress makes.  Each file's variant for the server's version is
 * the one used.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "progress.h"
#include "quote.h"
#include "sql.h"
#include "util.h"

const char *const state_names[NSTATES] = {"waiting",   "copying",        "synced",
										  "streaming", "not replicated", "unknown"};

const char *const hb_names[HB_NSTATUS] = {
	"off",
	"ok",
	"no table on SRC",
	"SRC read-only",
	"no table on DST",
	"not published",
	"not subscribed",
	"syncing",
	"no row on DST",
};

static const char heartbeat_write_sql[] =
	"insert into migkit.heartbeat as h (id, beat) values (1, pg_catalog.now())\n"
	"    on conflict (id) do update set beat = excluded.beat\n"
	"returning extract(epoch from h.beat) as beat";

static const char heartbeat_read_sql[] =
	"select extract(epoch from h.beat) as beat, extract(epoch from pg_catalog.now() - h.beat) as age\n"
	"  from migkit.heartbeat h where h.id = 1";

/* The SQL files a query is made of, each loaded for the server's version, and their text. */
typedef struct part {
	const char *name;
	const char *const *vars;
	char *text;
} part;

static bool
load_parts(part *parts, int n, int version)
{
	int i;
	bool ok = true;

	for (i = 0; i < n; i++)
		if ((parts[i].text = sql_load(parts[i].name, version, parts[i].vars)) == NULL)
			ok = false;
	return ok;
}

static void
free_parts(part *parts, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(parts[i].text);
}

/*
 * DST's query ($1 the subscription): a row per table the subscription
 * syncs (migkit's own schema included, for the heartbeat's state), with the
 * subscription, its apply worker and the heartbeat table repeated on each
 * row; one row with NULL table columns when the subscription has no table,
 * none when it does not exist.
 */
static char *
dst_query(int version)
{
	static const char *const sub_vars[] = {"sub", NULL};
	static const char *const subid_vars[] = {"subid=(select oid from sub)", NULL};
	part parts[] = {
		{"subscription", sub_vars, NULL},          {"subscribed", subid_vars, NULL},
		{"apply-worker", subid_vars, NULL},        {"copying", NULL, NULL},
		{"subscription-errors", subid_vars, NULL},
	};
	char *q = NULL;

	if (load_parts(parts, 5, version))
		q = xasprintf(
			"with sub as (%s),\n"
			"t as (%s),\n"
			"apply as (%s),\n"
			"copying as (%s),\n"
			"errs as (%s)\n"
			"select sub.subenabled, sub.subslotname::text as slot_name,\n"
			"       sub.subpublications::text as publications,\n"
			"       apply.pid as worker_pid,\n"
			"       greatest(0, extract(epoch from pg_catalog.now() - apply.last_msg_receipt_time)) as "
			"receipt_age,\n"
			"       greatest(0, extract(epoch from pg_catalog.now() - apply.latest_end_time)) as end_age,\n"
			"       errs.apply_error_count, errs.sync_error_count,\n"
			"       pg_catalog.to_regclass('migkit.heartbeat') is not null as heartbeat_table,\n"
			"       t.schema_name, t.name, t.srsubstate, cp.bytes_processed, cp.seconds\n"
			"  from sub\n"
			"  left join apply on true\n"
			"  left join errs on true\n"
			"  left join t on true\n"
			"  left join copying cp on cp.relid = t.relid\n"
			" order by t.schema_name, t.name",
			parts[0].text, parts[1].text, parts[2].text, parts[3].text, parts[4].text);
	free_parts(parts, 5);
	return q;
}

/*
 * SRC's query: the lag and slot facts on every row, with a row for each
 * table of the migration's set and each table DST's subscription named
 * ($5, $6: schemas and names), whether it is in the set and published, and
 * its size (over its partitions).  $1 the slot, $2/$3 the include and
 * exclude patterns, $4 the publications (text[]), $7 heartbeat on.
 */
static char *
src_query(int version, bool superuser)
{
	static const char *const slot_vars[] = {"slot", NULL};
	static const char *const rel_vars[] = {"slot", "include", "exclude", "pick='[]'", NULL};
	static const char *const pub_vars[] = {"slot", "include", "exclude", "pubs", NULL};
	part parts[] = {
		{"lag", slot_vars, NULL},
		{"slot", slot_vars, NULL},
		{"relations", rel_vars, NULL},
		{"published", pub_vars, NULL},
	};
	char *q = NULL;

	if (load_parts(parts, 4, version))
		q = xasprintf(
			"with recursive lag as (%s),\n"
			"slot as (%s),\n"
			"mig as (select r.schema_name, r.name from (%s) r where r.in_migration),\n"
			"pub as (%s),\n"
			"want as (select u.schema_name, u.name\n"
			"           from rows from (pg_catalog.unnest($5::pg_catalog.text[]), pg_catalog.unnest($6::pg_catalog.text[]))\n"
			"                as u(schema_name, name)),\n"
			"names as (select schema_name, name from mig union select schema_name, name from want),\n"
			"located as (\n"
			"  select nm.schema_name, nm.name, m.name is not null as in_set, p.name is not null as published, c.oid\n"
			"    from names nm\n"
			"    left join mig m on m.schema_name = nm.schema_name and m.name = nm.name\n"
			"    left join pub p on p.schema_name = nm.schema_name and p.name = nm.name\n"
			"    left join pg_catalog.pg_namespace n on n.nspname = nm.schema_name\n"
			"    left join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = nm.name\n"
			"), tree(root, relid) as (\n"
			"  select oid, oid from located where oid is not null\n"
			"  union all\n"
			"  select tree.root, i.inhrelid from tree join pg_catalog.pg_inherits i on i.inhparent = tree.relid\n"
			"), sizes as (\n"
			"  select root, sum(pg_catalog.pg_table_size(relid)) as size from tree group by root\n"
			")\n"
			"select lag.src_lsn, lag.applied_lsn, lag.lag_bytes, lag.slot_found,\n"
			"       slot.active, slot.wal_status, slot.wal_retained, slot.safe_wal_size, slot.max_slot_keep,\n"
			"       slot.max_wal_size, %s as wal_dir,\n"
			"       case when $7::boolean then exists (select from pub where schema_name = 'migkit' and name = "
			"'heartbeat') end\n"
			"         as heartbeat_published,\n"
			"       l.schema_name, l.name, l.in_set, l.published, sizes.size\n"
			"  from lag cross join slot\n"
			"  left join located l on true\n"
			"  left join sizes on sizes.root = l.oid\n"
			" order by l.schema_name, l.name",
			parts[0].text, parts[1].text, parts[2].text, parts[3].text,
			/* pg_ls_waldir() is checked for EXECUTE when the plan starts, used or not. */
			superuser ? "(select pg_catalog.sum(f.size) from pg_catalog.pg_ls_waldir() f)" : "null::numeric");
	free_parts(parts, 4);
	return q;
}

void
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
	free(s->wal_status);
	lag_clear(&s->lag);
	for (i = 0; i < s->nwhy; i++)
		free(s->why[i]);
	free(s->why);
	for (i = 0; i < s->nnotes; i++)
		free(s->notes[i]);
	free(s->notes);
	for (i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s->stop_wait);
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

/* How far a state is along: a table of several partitions is as far as its least advanced one. */
static int
substate_rank(char c)
{
	return c == 'i' ? 0 : c == 'd' ? 1 : c == 'f' ? 2 : c == 's' ? 3 : c == 'r' ? 4 : -1;
}

/* Reads DST's answer into s; false (logged) on a missing subscription. */
static bool
read_dst(snapshot *s, PGresult *res, PGconn *dst, const char *subname)
{
	int n = PQntuples(res), i;
	int c_schema = pg_col(res, "schema_name"), c_name = pg_col(res, "name"),
		c_state = pg_col(res, "srsubstate");
	int c_bytes = pg_col(res, "bytes_processed"), c_secs = pg_col(res, "seconds");

	if (n == 0) {
		log_error("subscription \"%s\" does not exist in database \"%s\" on DST: run create-sub first",
				  subname, PQdb(dst));
		return false;
	}
	s->enabled = pg_bool(res, 0, pg_col(res, "subenabled"));
	s->slot_name = pg_dup(res, 0, pg_col(res, "slot_name"));
	s->publications = pg_dup(res, 0, pg_col(res, "publications"));
	s->worker_pid = (long) pg_int(res, 0, pg_col(res, "worker_pid"));
	s->receipt_age = pg_num(res, 0, pg_col(res, "receipt_age"));
	s->end_age = pg_num(res, 0, pg_col(res, "end_age"));
	s->apply_errors = pg_num(res, 0, pg_col(res, "apply_error_count"));
	s->sync_errors = pg_num(res, 0, pg_col(res, "sync_error_count"));
	s->dst_heartbeat_table = pg_bool(res, 0, pg_col(res, "heartbeat_table"));

	s->tables = xcalloc((size_t) n, sizeof(table_row));
	for (i = 0; i < n; i++) {
		const char *schema = pg_text(res, i, c_schema), *name = pg_text(res, i, c_name);
		const char *state = pg_text(res, i, c_state);
		double bytes = pg_num(res, i, c_bytes), secs = pg_num(res, i, c_secs);
		table_row *t;

		if (schema == NULL)
			continue; /* the subscription has no table */
		if (strcmp(schema, "migkit") == 0) {
			if (strcmp(name, "heartbeat") == 0)
				s->heartbeat_substate = state[0];
			continue;
		}
		/* The parts of one table come together (the rows are in name order). */
		t = s->ntables > 0 ? &s->tables[s->ntables - 1] : NULL;
		if (t == NULL || strcmp(t->schema, schema) != 0 || strcmp(t->name, name) != 0) {
			t = &s->tables[s->ntables++];
			t->schema = xstrdup(schema);
			t->name = xstrdup(name);
			t->substate = state[0];
			t->size = NAN;
			t->copy_rate = NAN;
		} else if (substate_rank(state[0]) < substate_rank(t->substate))
			t->substate = state[0];
		if (state[0] == 'd' && !isnan(bytes)) {
			t->copied += bytes;
			if (secs > 0.5)
				t->copy_rate = (isnan(t->copy_rate) ? 0 : t->copy_rate) + bytes / secs;
		}
	}
	for (i = 0; i < s->ntables; i++) {
		table_row *t = &s->tables[i];

		t->state = state_of(t->substate);
		if (t->state != STATE_COPYING)
			t->copied = 0;
	}
	return true;
}

static int
row_cmp(const char *s1, const char *n1, const table_row *t)
{
	int c = strcmp(s1, t->schema);

	return c ? c : strcmp(n1, t->name);
}

/* The row of that table (s->tables is in name order), or NULL. */
static table_row *
find_row(snapshot *s, const char *schema, const char *name)
{
	int lo = 0, hi = s->ntables - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = row_cmp(schema, name, &s->tables[mid]);

		if (c == 0)
			return &s->tables[mid];
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int
table_row_cmp(const void *a, const void *b)
{
	const table_row *x = a, *y = b;

	return row_cmp(x->schema, x->name, y);
}

/*
 * Reads SRC's answer: the facts, each table's size and whether it is
 * published, and a row (not replicated) for each table of the migration's
 * set that the subscription lacks.
 */
static void
read_src(snapshot *s, PGresult *res, PGconn *src)
{
	int n = PQntuples(res), i, added = 0;
	int c_schema = pg_col(res, "schema_name"), c_name = pg_col(res, "name"), c_in_set = pg_col(res, "in_set");
	int c_pub = pg_col(res, "published"), c_size = pg_col(res, "size"),
		c_hb = pg_col(res, "heartbeat_published");

	lag_read(&s->lag, res, 0);
	s->slot_found = s->lag.slot_found;
	s->slot_active = pg_bool(res, 0, pg_col(res, "active"));
	s->wal_status = pg_dup(res, 0, pg_col(res, "wal_status"));
	s->wal_retained = pg_num(res, 0, pg_col(res, "wal_retained"));
	s->safe_wal_size = pg_num(res, 0, pg_col(res, "safe_wal_size"));
	s->max_slot_keep = pg_num(res, 0, pg_col(res, "max_slot_keep"));
	s->slot_keep_known = PQserverVersion(src) >= 130000;
	s->max_wal_size = pg_num(res, 0, pg_col(res, "max_wal_size"));
	s->wal_dir = pg_num(res, 0, pg_col(res, "wal_dir"));
	s->heartbeat_published = pg_text(res, 0, c_hb) ? pg_bool(res, 0, c_hb) : -1;

	s->tables = xrealloc(s->tables, (size_t) (s->ntables + n + 1) * sizeof(table_row));
	for (i = 0; i < n; i++) {
		const char *schema = pg_text(res, i, c_schema), *name = pg_text(res, i, c_name);
		table_row *t;

		if (schema == NULL)
			continue;
		t = find_row(s, schema, name);
		if (t == NULL) {
			if (!pg_bool(res, i, c_in_set))
				continue;
			t = &s->tables[s->ntables + added++];
			memset(t, 0, sizeof(*t));
			t->schema = xstrdup(schema);
			t->name = xstrdup(name);
			t->state = STATE_NOT_REPLICATED;
			t->copy_rate = NAN;
		}
		t->published = pg_bool(res, i, c_pub);
		t->size = pg_num(res, i, c_size);
	}
	if (added > 0) {
		s->ntables += added;
		qsort(s->tables, (size_t) s->ntables, sizeof(table_row), table_row_cmp);
	}
}

/*
 * One refresh: the DST query, then the heartbeat write on SRC, then the SRC
 * query (it needs DST's table list), then the heartbeat read on DST, so the
 * beat has had the SRC query's time to arrive.  The beat is written only
 * once DST's answer shows the table there and in the subscription: a
 * published change to a table DST lacks stops DST's apply worker.
 */
bool
progress_snapshot(PGconn *src, PGconn *dst, const progress_options *o, snapshot *s)
{
	static const char *const hb_src_expected[] = {"42P01", "3F000", "25006", NULL};
	static const char *const hb_dst_expected[] = {"42P01", "3F000", NULL};
	char *dsql = NULL, *ssql = NULL;
	PGresult *res = NULL, *hb = NULL;
	char code[6];
	bool ok = false;
	strbuf schemas, names, pubs;
	const char *params[7];
	const char *su = PQparameterStatus(src, "is_superuser");
	int i;

	memset(s, 0, sizeof(*s));
	s->hb = o->heartbeat ? HB_OK : HB_OFF;
	s->hb_written = s->hb_seen = s->hb_age = NAN;
	sb_init(&schemas);
	sb_init(&names);
	sb_init(&pubs);

	dsql = dst_query(PQserverVersion(dst));
	params[0] = o->sub;
	res = dsql ? pg_query(dst, "DST", dsql, 1, params) : NULL;
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
		hb = pg_receive_expect(src, "SRC", heartbeat_write_sql, hb_src_expected, code);
		if (hb == NULL && code[0] == '\0')
			goto done;
		if (hb == NULL)
			s->hb = strcmp(code, "25006") == 0 ? HB_SRC_READ_ONLY : HB_NO_SRC_TABLE;
		else
			s->hb_written = pg_num(hb, 0, pg_col(hb, "beat"));
		PQclear(hb);
		hb = NULL;
	}

	array_begin(&schemas);
	array_begin(&names);
	for (i = 0; i < s->ntables; i++) {
		array_add(&schemas, s->tables[i].schema);
		array_add(&names, s->tables[i].name);
	}
	array_end(&schemas);
	array_end(&names);
	ssql = src_query(PQserverVersion(src), su && strcmp(su, "on") == 0);
	params[0] = s->slot_name;
	params[1] = sql_include();
	params[2] = sql_exclude();
	params[3] = s->publications ? s->publications : "{}";
	params[4] = schemas.data;
	params[5] = names.data;
	params[6] = o->heartbeat ? "true" : "false";
	res = ssql ? pg_query(src, "SRC", ssql, 7, params) : NULL;
	if (res == NULL)
		goto done;
	read_src(s, res, src);

	if ((s->hb == HB_OK || s->hb == HB_NOT_SUBSCRIBED) && s->heartbeat_published == 0)
		s->hb = HB_NOT_PUBLISHED;
	else if (s->hb == HB_OK && s->heartbeat_substate != 'r')
		s->hb = HB_NOT_READY;
	if (s->hb == HB_OK) {
		if (!pg_send(dst, "DST", heartbeat_read_sql, 0, NULL))
			goto done;
		hb = pg_receive_expect(dst, "DST", heartbeat_read_sql, hb_dst_expected, code);
		if (hb == NULL && code[0] == '\0')
			goto done;
		if (hb == NULL)
			s->hb = HB_NO_DST_TABLE;
		else if (PQntuples(hb) == 0)
			s->hb = HB_NO_ROW;
		else {
			s->hb_seen = pg_num(hb, 0, pg_col(hb, "beat"));
			s->hb_age = pg_num(hb, 0, pg_col(hb, "age"));
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
	sb_free(&pubs);
	s->mono = now_seconds();
	s->wall = time(NULL);
	return ok;
}
