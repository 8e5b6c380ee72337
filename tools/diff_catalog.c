/*
 * What migkit diff compares, read from both catalogs at once: the
 * migration's tables (the publication's when it exists, else kit/tables.sql)
 * as each side has them, how a row of each is hashed and located (from
 * SRC), the sequences of both sides, and how far DST's subscription is
 * behind SRC.  Every identifier that reaches SQL text is quoted by the
 * server (format('%I')); values travel as $n parameters.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "pg.h"
#include "sequences.h"
#include "tables.h"

const char *const side_name[2] = {"SRC", "DST"};

/*
 * The table set, run on both sides.  $1/$2: include/exclude patterns of
 * kit/tables.sql; $3: the publication ('' on DST).  When the publication
 * exists its tables are compared (partitions mapped to their root, so each
 * migrated table is compared once) and the rest of kit/tables.sql is
 * listed only to know what SRC has; otherwise kit/tables.sql is the set.
 */
static const char tables_sql_head[] =
	"with pub as (\n"
	"  select distinct coalesce(pg_catalog.pg_partition_root(c.oid), c.oid) as oid\n"
	"    from pg_catalog.pg_publication_tables pt\n"
	"    join pg_catalog.pg_namespace n on n.nspname = pt.schemaname\n"
	"    join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = pt.tablename\n"
	"   where pt.pubname = $3\n"
	"), mig as (\n"
	"  select c.oid\n"
	"    from (\n";

static const char tables_sql_tail[] =
	"\n) tq\n"
	"    join pg_catalog.pg_namespace n on n.nspname = tq.schema_name\n"
	"    join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = tq.table_name\n"
	"), sel as (\n"
	"  select oid, true as compared from pub\n"
	"  union all\n"
	"  select oid, not exists (select 1 from pg_catalog.pg_publication p where p.pubname = $3)\n"
	"    from mig where oid not in (select oid from pub)\n"
	")\n"
	"select n.nspname, c.relname, pg_catalog.format('%I.%I', n.nspname, c.relname),\n"
	"       sel.compared, c.relkind = 'p',\n"
	"       case when c.relkind <> 'p' then c.reltuples::pg_catalog.float8\n"
	"       else (select case when bool_or(l.reltuples < 0) then -1 else coalesce(sum(l.reltuples), 0) end\n"
	"               from pg_catalog.pg_partition_tree(c.oid) pt\n"
	"               join pg_catalog.pg_class l on l.oid = pt.relid\n"
	"              where pt.isleaf) end,\n"
	"       c.oid,\n"
	"       exists (select 1 from pg_catalog.pg_publication p where p.pubname = $3)\n"
	"  from sel\n"
	"  join pg_catalog.pg_class c on c.oid = sel.oid\n"
	"  join pg_catalog.pg_namespace n on n.oid = c.relnamespace\n"
	" order by 1, 2";

/*
 * How each column of the tables in $1 (oid[]) is hashed, and the key that
 * locates a row.  Per column: its quoted and raw name, NOT NULL, its kind
 * and hash function: "fn" when its type's default hash opclass has an
 * extended support function taking that type (or one it is binary-coercible
 * to; enums, arrays and ranges of such types too), "bool", "tstz" and
 * "date" (see column_value), "record" for other hashable types (hashed
 * together by hash_record_extended), "text" for types without hashing
 * (json, point: hashed through their text).  Then the column's position in
 * the key: the primary key, else the narrowest valid unique index without
 * expressions or predicate over NOT NULL columns.
 */
static const char columns_sql[] =
	"with hashable as (\n"
	"  select t.oid as typ\n"
	"    from pg_catalog.pg_type t\n"
	"   where exists (select 1 from pg_catalog.pg_opclass oc\n"
	"                   join pg_catalog.pg_am am on am.oid = oc.opcmethod\n"
	"                  where am.amname = 'hash' and oc.opcdefault\n"
	"                    and (oc.opcintype = t.oid\n"
	"                         or (t.typtype = 'e' and oc.opcintype = 'pg_catalog.anyenum'::pg_catalog.regtype)\n"
	"                         or exists (select 1 from pg_catalog.pg_cast ca\n"
	"                                     where ca.castsource = t.oid and ca.casttarget = oc.opcintype\n"
	"                                       and ca.castmethod = 'b' and ca.castcontext = 'i')))\n"
	"), keyidx as (\n"
	"  select distinct on (i.indrelid) i.indrelid, i.indkey, i.indnkeyatts,\n"
	"         case when i.indisprimary then 'primary key'\n"
	"              else pg_catalog.format('unique index %I', ic.relname) end as source\n"
	"    from pg_catalog.pg_index i\n"
	"    join pg_catalog.pg_class ic on ic.oid = i.indexrelid\n"
	"   where i.indrelid = any ($1::pg_catalog.oid[]) and i.indisunique and i.indisvalid\n"
	"     and i.indpred is null and i.indexprs is null\n"
	"     and (i.indisprimary or not exists (\n"
	"          select 1 from pg_catalog.generate_series(0, i.indnkeyatts - 1) s(k)\n"
	"            join pg_catalog.pg_attribute ka on ka.attrelid = i.indrelid and ka.attnum = i.indkey[s.k]\n"
	"           where not ka.attnotnull))\n"
	"   order by i.indrelid, i.indisprimary desc, i.indnkeyatts, i.indexrelid\n"
	"), keycols as (\n"
	"  select ki.indrelid, ki.indkey[s.k] as attnum, s.k + 1 as pos, ki.source\n"
	"    from keyidx ki, pg_catalog.generate_series(0, ki.indnkeyatts - 1) s(k)\n"
	")\n"
	"select a.attrelid, pg_catalog.format('%I', a.attname), a.attname, a.attnotnull,\n"
	"       case\n"
	"         when b.bt = 'pg_catalog.bool'::pg_catalog.regtype then 'bool'\n"
	"         when b.bt = 'pg_catalog.timestamptz'::pg_catalog.regtype then 'tstz'\n"
	"         when b.bt = 'pg_catalog.date'::pg_catalog.regtype then 'date'\n"
	"         when direct.fn is not null or bt.typtype = 'e'\n"
	"              or (bt.typcategory = 'A' and bt.typelem <> 0 and bt.typelem in (select typ from hashable))\n"
	"              or (bt.typtype = 'r' and (select r.rngsubtype from pg_catalog.pg_range r\n"
	"                                         where r.rngtypid = bt.oid) in (select typ from hashable))\n"
	"           then 'fn'\n"
	"         when bt.typtype = 'b' and b.bt in (select typ from hashable) then 'record'\n"
	"         else 'text'\n"
	"       end,\n"
	"       case\n"
	"         when b.bt = 'pg_catalog.bool'::pg_catalog.regtype then ''\n"
	"         when b.bt = 'pg_catalog.timestamptz'::pg_catalog.regtype then 'pg_catalog.timestamp_hash_extended'\n"
	"         when b.bt = 'pg_catalog.date'::pg_catalog.regtype then 'pg_catalog.hashint4extended'\n"
	"         when direct.fn is not null then direct.fn\n"
	"         when bt.typtype = 'e' then 'pg_catalog.hashenumextended'\n"
	"         when bt.typcategory = 'A' then 'pg_catalog.hash_array_extended'\n"
	"         when bt.typtype = 'r' then 'pg_catalog.hash_range_extended'\n"
	"         else 'pg_catalog.hashtextextended'\n"
	"       end,\n"
	"       coalesce(kc.pos, 0), kc.source\n"
	"  from pg_catalog.pg_attribute a\n"
	"  join pg_catalog.pg_type t on t.oid = a.atttypid\n"
	" cross join lateral (select case when t.typtype = 'd' then t.typbasetype else t.oid end as bt) b\n"
	"  join pg_catalog.pg_type bt on bt.oid = b.bt\n"
	"  left join lateral (\n"
	"       select pg_catalog.format('%I.%I', pn.nspname, pp.proname) as fn\n"
	"         from pg_catalog.pg_opclass oc\n"
	"         join pg_catalog.pg_am am on am.oid = oc.opcmethod\n"
	"         join pg_catalog.pg_amproc ap on ap.amprocfamily = oc.opcfamily and ap.amprocnum = 2\n"
	"              and ap.amproclefttype = oc.opcintype and ap.amprocrighttype = oc.opcintype\n"
	"         join pg_catalog.pg_proc pp on pp.oid = ap.amproc\n"
	"         join pg_catalog.pg_namespace pn on pn.oid = pp.pronamespace\n"
	"        where am.amname = 'hash' and oc.opcdefault and pp.proargtypes[0] = oc.opcintype\n"
	"          and bt.typtype <> 'p' and bt.typtype <> 'r'\n"
	"          and (oc.opcintype = b.bt\n"
	"               or exists (select 1 from pg_catalog.pg_cast ca\n"
	"                           where ca.castsource = b.bt and ca.casttarget = oc.opcintype\n"
	"                             and ca.castmethod = 'b' and ca.castcontext = 'i'))\n"
	"          and (select typtype from pg_catalog.pg_type where oid = oc.opcintype) <> 'p'\n"
	"        order by oc.opcintype = b.bt desc\n"
	"        limit 1) direct on true\n"
	"  left join keycols kc on kc.indrelid = a.attrelid and kc.attnum = a.attnum\n"
	" where a.attrelid = any ($1::pg_catalog.oid[]) and a.attnum > 0 and not a.attisdropped\n"
	" order by a.attrelid, a.attnum";

/* SRC's WAL position and the slot's confirmed position ($1: the slot). */
static const char lag_src_sql[] =
	"select case when pg_catalog.pg_is_in_recovery() then pg_catalog.pg_last_wal_replay_lsn()\n"
	"            else pg_catalog.pg_current_wal_lsn() end::text,\n"
	"       (select s.confirmed_flush_lsn::text from pg_catalog.pg_replication_slots s\n"
	"         where s.slot_name = $1)";

/* What DST's subscription last reported back to SRC ($1: the subscription). */
static const char lag_dst_sql[] =
	"select s.latest_end_lsn::text from pg_catalog.pg_stat_subscription s\n"
	" where s.subname = $1 and s.relid is null and s.latest_end_lsn is not null";

/*
 * Session settings that make text forms of values mean the same on both
 * sides (keys travel as text from one server to the other), keep the
 * catalog and operator lookups in pg_catalog, make a row-level security
 * policy fail the query rather than hide rows, and make every session
 * read-only.
 */
static const char setup_sql[] = "select pg_catalog.set_config('datestyle', 'ISO, YMD', false),\n"
								"       pg_catalog.set_config('intervalstyle', 'postgres', false),\n"
								"       pg_catalog.set_config('extra_float_digits', '3', false),\n"
								"       pg_catalog.set_config('timezone', 'UTC', false),\n"
								"       pg_catalog.set_config('bytea_output', 'hex', false),\n"
								"       pg_catalog.set_config('lc_monetary', 'C', false),\n"
								"       pg_catalog.set_config('search_path', '', false),\n"
								"       pg_catalog.set_config('row_security', 'off', false),\n"
								"       pg_catalog.set_config('statement_timeout', '0', false),\n"
								"       pg_catalog.set_config('default_transaction_read_only', 'on', false)";

bool
diff_session_setup(PGconn *conn, const char *side)
{
	if (PQserverVersion(conn) < 120000) {
		log_error("%s runs PostgreSQL %d.%d: migkit diff needs 12 or later", side,
				  PQserverVersion(conn) / 10000, PQserverVersion(conn) / 100 % 100);
		return false;
	}
	return pg_exec(conn, side, setup_sql, 0, NULL);
}

/*
 * Glob on schema.table as kit/tables.sql has it: * any run of characters,
 * ? one character (a whole UTF-8 sequence), everything else literal.
 */
bool
glob_match(const char *pattern, const char *text)
{
	const char *p = pattern, *s = text;
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = ++p;
			resume = s;
		} else if (*p == '?') {
			p++;
			s++;
			while (((unsigned char) *s & 0xC0) == 0x80)
				s++;
		} else if (*p != '\0' && *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++resume;
			while (((unsigned char) *s & 0xC0) == 0x80)
				s = ++resume;
		} else
			return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static bool
name_selected(const diff_options *opt, const char *schema, const char *name)
{
	char *full;
	bool hit = false;
	int i;

	if (opt->npatterns == 0)
		return true;
	full = xasprintf("%s.%s", schema, name);
	for (i = 0; i < opt->npatterns && !hit; i++)
		hit = glob_match(opt->patterns[i], full);
	free(full);
	return hit;
}

void
diff_table_free(diff_table *t)
{
	int i, k;

	if (t == NULL)
		return;
	free(t->schema);
	free(t->name);
	free(t->display);
	free(t->src_oid);
	free(t->from[SRC]);
	free(t->from[DST]);
	free(t->hash_expr);
	for (i = 0; i < t->nkeys; i++)
		free(t->key_names[i]);
	free(t->key_names);
	free(t->key_list);
	free(t->key_source);
	free(t->note);
	for (i = 0; i < t->ndiffs; i++) {
		for (k = 0; k < t->nkeys; k++)
			free(t->diffs[i].values[k]);
		free(t->diffs[i].values);
		free(t->diffs[i].pos);
	}
	free(t->diffs);
	free(t->range_rows);
	free(t);
}

void
diff_sequence_free(diff_sequence *s)
{
	if (s == NULL)
		return;
	free(s->schema);
	free(s->name);
	free(s->display);
	free(s->last_value[SRC]);
	free(s->last_value[DST]);
	free(s);
}

void
lag_sample_clear(lag_sample *lag)
{
	free(lag->src_lsn);
	free(lag->dst_lsn);
	memset(lag, 0, sizeof(*lag));
}

/* Runs one query on both sides at once (first connection of each). */
static bool
query_both(diff_run *run, const char *const sql[2], int nparams, const char *const *params[2],
		   PGresult *res[2])
{
	bool sent[2] = {false, false};
	int s;

	res[SRC] = res[DST] = NULL;
	for (s = 0; s < 2; s++)
		if (sql[s])
			sent[s] = pg_send(run->conns[s][0], side_name[s], sql[s], params[s] ? nparams : 0, params[s]);
	for (s = 0; s < 2; s++)
		if (sent[s])
			res[s] = pg_receive(run->conns[s][0], side_name[s], sql[s]);
	for (s = 0; s < 2; s++)
		if (sql[s] && res[s] == NULL) {
			PQclear(res[SRC]);
			PQclear(res[DST]);
			res[SRC] = res[DST] = NULL;
			return false;
		}
	return true;
}

static int
table_cmp(const void *a, const void *b)
{
	const diff_table *x = *(diff_table *const *) a, *y = *(diff_table *const *) b;
	int c = strcmp(x->schema, y->schema);

	return c ? c : strcmp(x->name, y->name);
}

static diff_table *
find_table(diff_run *run, const char *schema, const char *name)
{
	int i;

	for (i = 0; i < run->ntables; i++)
		if (strcmp(run->tables[i]->schema, schema) == 0 && strcmp(run->tables[i]->name, name) == 0)
			return run->tables[i];
	return NULL;
}

static diff_table *
add_table(diff_run *run, const PGresult *res, int row, int *cap)
{
	diff_table *t = xcalloc(1, sizeof(*t));

	t->schema = xstrdup(PQgetvalue(res, row, 0));
	t->name = xstrdup(PQgetvalue(res, row, 1));
	t->display = xstrdup(PQgetvalue(res, row, 2));
	t->status = TS_PENDING;
	if (run->ntables == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		run->tables = xrealloc(run->tables, (size_t) *cap * sizeof(diff_table *));
	}
	run->tables[run->ntables++] = t;
	return t;
}

static void
set_side(side_table *st, const PGresult *res, int row)
{
	st->present = true;
	st->partitioned = strcmp(PQgetvalue(res, row, 4), "t") == 0;
	st->estimate = strtod(PQgetvalue(res, row, 5), NULL);
}

/* Builds the table list from both sides' answers to the table-set query. */
static void
merge_tables(diff_run *run, PGresult *res[2])
{
	int cap = 0, i, n;

	/* SRC first: what it migrates, and what it merely has. */
	n = PQntuples(res[SRC]);
	run->used_publication = n > 0 && strcmp(PQgetvalue(res[SRC], 0, 7), "t") == 0;
	for (i = 0; i < n; i++) {
		diff_table *t;

		if (!name_selected(run->opt, PQgetvalue(res[SRC], i, 0), PQgetvalue(res[SRC], i, 1)))
			continue;
		t = add_table(run, res[SRC], i, &cap);
		t->compared = strcmp(PQgetvalue(res[SRC], i, 3), "t") == 0;
		t->src_oid = xstrdup(PQgetvalue(res[SRC], i, 6));
		set_side(&t->side[SRC], res[SRC], i);
	}
	n = PQntuples(res[DST]);
	for (i = 0; i < n; i++) {
		diff_table *t;

		if (!name_selected(run->opt, PQgetvalue(res[DST], i, 0), PQgetvalue(res[DST], i, 1)))
			continue;
		t = find_table(run, PQgetvalue(res[DST], i, 0), PQgetvalue(res[DST], i, 1));
		if (t == NULL) {
			t = add_table(run, res[DST], i, &cap);
			t->compared = true; /* only on DST: reported */
		}
		set_side(&t->side[DST], res[DST], i);
	}

	/* Tables SRC has but does not migrate are dropped from the report. */
	for (i = n = 0; i < run->ntables; i++) {
		if (run->tables[i]->compared)
			run->tables[n++] = run->tables[i];
		else
			diff_table_free(run->tables[i]);
	}
	run->ntables = n;
	if (n > 1)
		qsort(run->tables, (size_t) n, sizeof(diff_table *), table_cmp);

	for (i = 0; i < run->ntables; i++) {
		diff_table *t = run->tables[i];
		int s;

		for (s = 0; s < 2; s++)
			if (t->side[s].present)
				t->from[s] = xasprintf("%s%s", t->side[s].partitioned ? "" : "ONLY ", t->display);
		if (!t->side[SRC].present || !t->side[DST].present) {
			t->status = TS_MISSING;
			t->note = xstrdup(t->side[SRC].present ? "missing on DST" : "only on DST (not on SRC)");
		}
	}
}

/*
 * The per-row hash, built to cost about one function call per column (it
 * runs over every row of both sides, so this is what --checksum costs):
 *
 * - a NOT NULL bigint column (often the key) is the seed, as it is;
 * - columns whose type's hash function takes another type (bytea, ...)
 *   are hashed together by hash_record_extended, seeded with it;
 * - nullable columns come in groups of up to four, each seeded with the
 *   next: coalesce(fn(a, B), hashint8extended(B, ordinal)), so a NULL still
 *   leaves a trace of its column; the first group is seeded with the chain
 *   so far, the others are mixed in with hashint8extended;
 * - a boolean picks the seed of one mixing call with CASE;
 * - every other NOT NULL column is a link: fn(column, chain so far).
 *
 * Each column is hashed typed, by its type's own hash function (see
 * column_value for timestamptz, date and types without one).  Column order
 * and NULLs count; the chain is cut every 50 links so the expression stays
 * shallow.  Both sides evaluate the same expression.
 */
typedef struct col_info {
	const char *quoted;
	bool notnull;
	const char *kind; /* fn, text, tstz, date, bool, record */
	const char *fn;
	int ordinal;
	char *value; /* what fn hashes */
} col_info;

/*
 * The typed value a column's hash function takes: a timestamptz as UTC
 * wall time through timezone(interval, ...) (plain arithmetic, lossless,
 * infinity kept), a date as days from 2000-01-01 (infinities as values no
 * finite date reaches), a type without hashing as its text.
 */
static char *
column_value(const col_info *c)
{
	const char *q = c->quoted;

	if (strcmp(c->kind, "tstz") == 0)
		return xasprintf("pg_catalog.timezone('00:00'::pg_catalog.interval, %s)", q);
	if (strcmp(c->kind, "date") == 0)
		return xasprintf(
			"case when pg_catalog.isfinite(%s) then %s operator(pg_catalog.-) '2000-01-01'::pg_catalog.date"
			" when %s operator(pg_catalog.>) '2000-01-01'::pg_catalog.date then 2147483647"
			" else -2147483647 end",
			q, q, q);
	if (strcmp(c->kind, "text") == 0)
		return xasprintf("%s::pg_catalog.text", q);
	return xstrdup(q);
}

#define GROUP_SIZE  4
#define CHAIN_LINKS 50

/* One group of nullable columns cols[idx[0..n-1]]: innermost seed is seed. */
static char *
nullable_group(const col_info *cols, const int *idx, int n, const char *seed)
{
	char *inner = xstrdup(seed);
	int i;

	for (i = n - 1; i >= 0; i--) {
		const col_info *c = &cols[idx[i]];
		char *next;

		if (i == n - 1 && strcmp(seed, "0") == 0)
			next = xasprintf("coalesce(%s(%s, %d), %d)", c->fn, c->value, c->ordinal, c->ordinal);
		else
			next = xasprintf("coalesce(%s(%s, %s), pg_catalog.hashint8extended(%s, %d))", c->fn, c->value,
							 inner, inner, c->ordinal);
		free(inner);
		inner = next;
	}
	return inner;
}

/* Adds one link to the chain, starting a new segment every CHAIN_LINKS. */
static void
chain_link(char **chain, char **segments, int *links, char *link_fmt_result)
{
	free(*chain);
	*chain = link_fmt_result;
	if (++*links % CHAIN_LINKS == 0) {
		char *mixed =
			*segments ? xasprintf("pg_catalog.hashint8extended(%s, %s)", *chain, *segments) : xstrdup(*chain);

		free(*segments);
		*segments = mixed;
		free(*chain);
		*chain = xasprintf("%d", *links);
	}
}

static char *
build_hash_expr(const col_info *cols, int n)
{
	strbuf rec;
	int *group = xcalloc((size_t) n + 1, sizeof(int));
	int i, ng = 0, nrec = 0, links = 0, seed_col = -1;
	char *chain, *segments = NULL, *result;
	bool bare; /* chain is a column or a constant: cheap to repeat */

	/* A NOT NULL bigint (often the key) seeds the chain as it is. */
	for (i = 0; i < n && seed_col < 0; i++)
		if (cols[i].notnull && strcmp(cols[i].kind, "fn") == 0 &&
			strcmp(cols[i].fn, "pg_catalog.hashint8extended") == 0)
			seed_col = i;
	chain = xstrdup(seed_col >= 0 ? cols[seed_col].quoted : "0");
	bare = true;

	/* The record group comes next. */
	sb_init(&rec);
	for (i = 0; i < n; i++) {
		if (strcmp(cols[i].kind, "record") != 0)
			continue;
		sb_append(&rec, nrec++ ? ", " : "pg_catalog.hash_record_extended(row(");
		sb_append(&rec, cols[i].quoted);
	}
	if (nrec) {
		sb_printf(&rec, "), %s)", chain);
		free(chain);
		chain = sb_steal(&rec);
		bare = false;
	} else
		sb_free(&rec);

	/* Nullable columns, in groups. */
	for (i = 0; i <= n; i++) {
		bool member = i < n && !cols[i].notnull && strcmp(cols[i].kind, "record") != 0 &&
					  strcmp(cols[i].kind, "bool") != 0;

		if (member)
			group[ng++] = i;
		if (ng == GROUP_SIZE || (i == n && ng > 0)) {
			if (bare) {
				chain_link(&chain, &segments, &links, nullable_group(cols, group, ng, chain));
				bare = false;
			} else {
				char *g = nullable_group(cols, group, ng, "0");

				chain_link(&chain, &segments, &links,
						   xasprintf("pg_catalog.hashint8extended(%s, %s)", g, chain));
				free(g);
			}
			ng = 0;
		}
	}

	/* Booleans choose the seed of a mixing call; NOT NULL columns link. */
	for (i = 0; i < n; i++) {
		const col_info *c = &cols[i];

		if (strcmp(c->kind, "record") == 0 || i == seed_col)
			continue;
		if (strcmp(c->kind, "bool") == 0)
			chain_link(
				&chain, &segments, &links,
				xasprintf(
					"pg_catalog.hashint8extended(%s, case when %s then %d when not %s then %d else %d end)",
					chain, c->quoted, 3 * c->ordinal, c->quoted, 3 * c->ordinal + 1, 3 * c->ordinal + 2));
		else if (c->notnull)
			chain_link(&chain, &segments, &links, xasprintf("%s(%s, %s)", c->fn, c->value, chain));
	}

	/* Only a seed column, or nothing at all: still hash it. */
	if (links == 0 && bare)
		chain_link(&chain, &segments, &links, xasprintf("pg_catalog.hashint8extended(%s, 0)", chain));

	if (segments) {
		result = xasprintf("pg_catalog.hashint8extended(%s, %s)", chain, segments);
		free(chain);
		free(segments);
	} else
		result = chain;
	free(group);
	return result;
}

/* Reads columns and keys of every table present on both sides, from SRC. */
static bool
load_columns(diff_run *run)
{
	strbuf oids;
	PGresult *res;
	const char *params[1];
	int i, row, n, first;
	bool any = false;

	sb_init(&oids);
	sb_append_char(&oids, '{');
	for (i = 0; i < run->ntables; i++) {
		if (run->tables[i]->status != TS_PENDING)
			continue;
		sb_printf(&oids, "%s%s", any ? "," : "", run->tables[i]->src_oid);
		any = true;
	}
	sb_append_char(&oids, '}');
	if (!any) {
		sb_free(&oids);
		return true;
	}
	params[0] = oids.data;
	res = pg_query(run->conns[SRC][0], "SRC", columns_sql, 1, params);
	sb_free(&oids);
	if (res == NULL)
		return false;

	n = PQntuples(res);
	for (first = 0; first < n;) {
		const char *oid = PQgetvalue(res, first, 0);
		diff_table *t = NULL;
		col_info *cols;
		int last = first, ncols, k;

		while (last < n && strcmp(PQgetvalue(res, last, 0), oid) == 0)
			last++;
		for (i = 0; i < run->ntables && t == NULL; i++)
			if (run->tables[i]->src_oid && strcmp(run->tables[i]->src_oid, oid) == 0)
				t = run->tables[i];
		ncols = last - first;
		if (t == NULL) {
			first = last;
			continue;
		}
		cols = xcalloc((size_t) ncols, sizeof(col_info));
		for (row = first; row < last; row++) {
			col_info *c = &cols[row - first];

			c->quoted = PQgetvalue(res, row, 1);
			c->notnull = strcmp(PQgetvalue(res, row, 3), "t") == 0;
			c->kind = PQgetvalue(res, row, 4);
			c->fn = strcmp(c->kind, "text") == 0 ? "pg_catalog.hashtextextended" : PQgetvalue(res, row, 5);
			c->ordinal = row - first + 1;
			c->value = column_value(c);
			if (atoi(PQgetvalue(res, row, 6)) > t->nkeys)
				t->nkeys = atoi(PQgetvalue(res, row, 6));
		}
		t->hash_expr = build_hash_expr(cols, ncols);
		for (k = 0; k < ncols; k++)
			free(cols[k].value);
		free(cols);

		if (t->nkeys > 0) {
			strbuf kl;

			sb_init(&kl);
			t->key_names = xcalloc((size_t) t->nkeys, sizeof(char *));
			for (k = 1; k <= t->nkeys; k++)
				for (row = first; row < last; row++)
					if (atoi(PQgetvalue(res, row, 6)) == k) {
						t->key_names[k - 1] = xstrdup(PQgetvalue(res, row, 2));
						sb_printf(&kl, "%s%s", k > 1 ? ", " : "", PQgetvalue(res, row, 1));
						if (t->key_source == NULL)
							t->key_source = xstrdup(PQgetvalue(res, row, 7));
					}
			t->key_list = sb_steal(&kl);
		}
		first = last;
	}
	PQclear(res);

	for (i = 0; i < run->ntables; i++) {
		diff_table *t = run->tables[i];

		if (t->status != TS_PENDING)
			continue;
		if (t->hash_expr == NULL) /* a table without columns */
			t->hash_expr = xstrdup("0::pg_catalog.int8");
		if (t->nkeys == 0)
			t->note = xstrdup("no primary key or unique NOT NULL key: whole-table hash, cannot locate rows");
	}
	return true;
}

static diff_sequence *
find_sequence(diff_run *run, const char *schema, const char *name)
{
	int i;

	for (i = 0; i < run->nseqs; i++)
		if (strcmp(run->seqs[i]->schema, schema) == 0 && strcmp(run->seqs[i]->name, name) == 0)
			return run->seqs[i];
	return NULL;
}

static int
sequence_cmp(const void *a, const void *b)
{
	const diff_sequence *x = *(diff_sequence *const *) a, *y = *(diff_sequence *const *) b;
	int c = strcmp(x->schema, y->schema);

	return c ? c : strcmp(x->name, y->name);
}

/*
 * Equal when both sides hand out the same next value; ahead when DST's next
 * value lies past SRC's in the sequence's direction (as after copy-seq with
 * a shift: no key DST hands out can meet one from SRC); else behind, which
 * is what every used sequence is until copy-seq runs at cutover.
 */
static table_status
sequence_status(const diff_sequence *q)
{
	long double next[2];
	int s;

	for (s = 0; s < 2; s++) {
		next[s] = strtold(q->last_value[s], NULL);
		if (q->is_called[s])
			next[s] += q->increment ? q->increment : 1;
	}
	if (next[DST] == next[SRC])
		return TS_EQUAL;
	if (q->increment < 0 ? next[DST] < next[SRC] : next[DST] > next[SRC])
		return TS_AHEAD;
	return TS_DIFFERENT;
}

/* Pairs up both sides' sequences and decides which are equal. */
static void
merge_sequences(diff_run *run, PGresult *res[2])
{
	int cap = 0, s, i;

	for (s = 0; s < 2; s++) {
		int n = PQntuples(res[s]);

		for (i = 0; i < n; i++) {
			const char *schema = PQgetvalue(res[s], i, SEQCOL_NSP), *name = PQgetvalue(res[s], i, SEQCOL_REL);
			diff_sequence *q;

			if (!name_selected(run->opt, schema, name))
				continue;
			q = find_sequence(run, schema, name);
			if (q == NULL) {
				q = xcalloc(1, sizeof(*q));
				q->schema = xstrdup(schema);
				q->name = xstrdup(name);
				q->display = xstrdup(PQgetvalue(res[s], i, SEQCOL_QUAL));
				if (run->nseqs == cap) {
					cap = cap ? cap * 2 : 32;
					run->seqs = xrealloc(run->seqs, (size_t) cap * sizeof(diff_sequence *));
				}
				run->seqs[run->nseqs++] = q;
			}
			q->present[s] = true;
			if (!PQgetisnull(res[s], i, SEQCOL_LAST))
				q->last_value[s] = xstrdup(PQgetvalue(res[s], i, SEQCOL_LAST));
			q->is_called[s] = !PQgetisnull(res[s], i, SEQCOL_CALLED) &&
							  strcmp(PQgetvalue(res[s], i, SEQCOL_CALLED), "t") == 0;
			if (s == SRC && !PQgetisnull(res[s], i, SEQCOL_INCR))
				q->increment = strtoll(PQgetvalue(res[s], i, SEQCOL_INCR), NULL, 10);
		}
	}
	if (run->nseqs > 1)
		qsort(run->seqs, (size_t) run->nseqs, sizeof(diff_sequence *), sequence_cmp);
	for (i = 0; i < run->nseqs; i++) {
		diff_sequence *q = run->seqs[i];

		if (!q->present[SRC] || !q->present[DST])
			q->status = TS_MISSING;
		else if (q->last_value[SRC] == NULL || q->last_value[DST] == NULL)
			q->status = TS_ERROR;
		else
			q->status = sequence_status(q);
	}
}

bool
diff_load_catalog(diff_run *run)
{
	char *tables = tables_query();
	char *sql = xasprintf("%s%s%s", tables_sql_head, tables, tables_sql_tail);
	const char *pub = getenv("PUBNAME");
	const char *src_params[] = {tables_include(), tables_exclude(), pub ? pub : ""};
	const char *dst_params[] = {tables_include(), tables_exclude(), ""};
	const char *const both[2] = {sql, sql};
	const char *const *params[2] = {src_params, dst_params};
	const char *const seq_sql[2] = {sequences_read_sql, sequences_read_sql};
	const char *const *no_params[2] = {NULL, NULL};
	PGresult *res[2];
	bool ok;

	free(tables);
	ok = query_both(run, both, 3, params, res);
	free(sql);
	if (!ok)
		return false;
	merge_tables(run, res);
	PQclear(res[SRC]);
	PQclear(res[DST]);
	if (run->used_publication)
		run->publication = xstrdup(pub);

	if (!query_both(run, seq_sql, 0, no_params, res))
		return false;
	merge_sequences(run, res);
	PQclear(res[SRC]);
	PQclear(res[DST]);

	if (run->opt->mode == MODE_CHECKSUM)
		return load_columns(run);
	return true;
}

/* "16/B374D848" as a byte position; false when it is not an LSN. */
static bool
parse_lsn(const char *s, unsigned long long *out)
{
	unsigned int hi, lo;
	char extra;

	if (s == NULL || sscanf(s, "%X/%X%c", &hi, &lo, &extra) != 2)
		return false;
	*out = ((unsigned long long) hi << 32) | lo;
	return true;
}

/*
 * How far DST is behind SRC now: SRC's current WAL position against the
 * position the subscription confirmed (SRC's slot named $SUBNAME, else
 * what DST's subscription last reported).  Unknown without a subscription.
 */
void
diff_measure_lag(diff_run *run, lag_sample *lag)
{
	const char *sub = getenv("SUBNAME");
	const char *const sql[2] = {lag_src_sql, lag_dst_sql};
	const char *params[] = {sub ? sub : ""};
	const char *const *both[2] = {params, params};
	PGresult *res[2];
	unsigned long long src, dst;

	lag_sample_clear(lag);
	if (sub == NULL || *sub == '\0' || !query_both(run, sql, 1, both, res))
		return;
	if (PQntuples(res[SRC]) == 1 && !PQgetisnull(res[SRC], 0, 0)) {
		lag->src_lsn = xstrdup(PQgetvalue(res[SRC], 0, 0));
		if (!PQgetisnull(res[SRC], 0, 1)) {
			lag->dst_lsn = xstrdup(PQgetvalue(res[SRC], 0, 1));
			lag->source = "confirmed_flush_lsn of SRC's slot";
		} else if (PQntuples(res[DST]) >= 1) {
			lag->dst_lsn = xstrdup(PQgetvalue(res[DST], 0, 0));
			lag->source = "latest_end_lsn of DST's subscription";
		}
	}
	if (parse_lsn(lag->src_lsn, &src) && parse_lsn(lag->dst_lsn, &dst)) {
		lag->known = true;
		lag->bytes = src > dst ? (long long) (src - dst) : 0;
	}
	PQclear(res[SRC]);
	PQclear(res[DST]);
}
