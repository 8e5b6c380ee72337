/*
 * What migkit diff compares, read from both catalogs at once: the
 * migration's tables (kit/sql/relations.sql) as each side has them, and
 * whether each is in the publication on SRC and the subscription on DST;
 * how a row of each is hashed and located (from SRC); the sequences of
 * both sides; and how far DST is behind SRC (kit/sql/lag.sql).  Every
 * identifier that reaches SQL text is quoted by the server
 * (format('%I')); values travel as $n parameters.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "diff_hash.h"
#include "pg.h"
#include "quote.h"
#include "sequences.h"
#include "sql.h"

/*
 * The migration's tables on one side, in the order the merge below needs
 * (schema, then name, bytewise: the name type's own order), with the
 * planner's row estimate (reltuples over the leaves of a partitioned one;
 * -1 when a leaf was never analyzed).
 */
static const char tables_sql[] =
	"with recursive t as (%s), tree(root, relid) as (\n"
	"  select t.oid, t.oid from t\n"
	"  union all\n"
	"  select tree.root, i.inhrelid\n"
	"    from tree join pg_catalog.pg_inherits i on i.inhparent = tree.relid\n"
	"    join pg_catalog.pg_class c on c.oid = i.inhrelid and c.relispartition\n"
	"), est as (\n"
	"  select tree.root,\n"
	"         case when bool_or(c.reltuples < 0 and c.relkind = 'r') then -1\n"
	"              else coalesce(sum(c.reltuples) filter (where c.relkind = 'r'), 0) end as estimate\n"
	"    from tree join pg_catalog.pg_class c on c.oid = tree.relid\n"
	"   group by tree.root\n"
	")\n"
	"select t.oid::text as oid, t.schema_name, t.name, t.qualified, t.partitioned, t.picked,\n"
	"       est.estimate::pg_catalog.float8 as estimate\n"
	"  from t join est on est.root = t.oid\n"
	" order by t.schema_name, t.name";

/* The publication on SRC, and the tables it sends ($1: the publication, as a text[]). */
static const char published_sql[] =
	"select e.pub_exists, p.schema_name, p.name\n"
	"  from (select exists (select from pg_catalog.pg_publication\n"
	"                        where pubname = any ($1::pg_catalog.text[])) as pub_exists) e\n"
	"  left join (%s) p on e.pub_exists";

/*
 * How each column of the tables in $1 (oid[]) is hashed (see diff_hash.h)
 * and the key that locates a row: the primary key, else the narrowest valid
 * unique index without expressions or predicate over NOT NULL columns.  A
 * domain is hashed as its base type.
 */
static const char columns_sql[] =
	"with exact(typ, kind, fn) as (values\n"
	"  ('pg_catalog.int2'::pg_catalog.regtype, 'fn', 'pg_catalog.hashint2extended'),\n"
	"  ('pg_catalog.int4'::pg_catalog.regtype, 'fn', 'pg_catalog.hashint4extended'),\n"
	"  ('pg_catalog.int8'::pg_catalog.regtype, 'int8', null),\n"
	"  ('pg_catalog.oid'::pg_catalog.regtype, 'fn', 'pg_catalog.hashoidextended'),\n"
	"  ('pg_catalog.\"char\"'::pg_catalog.regtype, 'fn', 'pg_catalog.hashcharextended'),\n"
	"  ('pg_catalog.uuid'::pg_catalog.regtype, 'fn', 'pg_catalog.uuid_hash_extended'),\n"
	"  ('pg_catalog.float4'::pg_catalog.regtype, 'float', 'pg_catalog.hashfloat4extended'),\n"
	"  ('pg_catalog.float8'::pg_catalog.regtype, 'float', 'pg_catalog.hashfloat8extended'),\n"
	"  ('pg_catalog.timestamp'::pg_catalog.regtype, 'epoch', null),\n"
	"  ('pg_catalog.timestamptz'::pg_catalog.regtype, 'epoch', null),\n"
	"  ('pg_catalog.date'::pg_catalog.regtype, 'date', null),\n"
	"  ('pg_catalog.bpchar'::pg_catalog.regtype, 'bpchar', null),\n"
	"  ('pg_catalog.bool'::pg_catalog.regtype, 'bool', null)\n"
	"), keyidx as (\n"
	"  select distinct on (i.indrelid) i.indrelid, i.indkey, i.indnkeyatts,\n"
	"         case when i.indisprimary then 'primary key'\n"
	"              else pg_catalog.format('unique index %I', ic.relname) end as source\n"
	"    from pg_catalog.pg_index i\n"
	"    join pg_catalog.pg_class ic on ic.oid = i.indexrelid\n"
	"   where i.indrelid = any ($1::pg_catalog.oid[]) and i.indisunique and i.indisvalid\n"
	"     and i.indpred is null and i.indexprs is null\n"
	"     and (i.indisprimary or not exists (\n"
	"          select from pg_catalog.generate_series(0, i.indnkeyatts - 1) s(k)\n"
	"            join pg_catalog.pg_attribute ka on ka.attrelid = i.indrelid and ka.attnum = i.indkey[s.k]\n"
	"           where not ka.attnotnull))\n"
	"   order by i.indrelid, i.indisprimary desc, i.indnkeyatts, i.indexrelid\n"
	"), keycols as (\n"
	"  select ki.indrelid, ki.indkey[s.k] as attnum, s.k + 1 as pos, ki.source\n"
	"    from keyidx ki, pg_catalog.generate_series(0, ki.indnkeyatts - 1) s(k)\n"
	")\n"
	"select a.attrelid::text as attrelid, pg_catalog.format('%I', a.attname) as quoted, a.attname as name,\n"
	"       a.attnotnull as notnull,\n"
	"       coalesce(x.kind, 'text') as kind, x.fn,\n"
	"       coalesce(kc.pos, 0) as keypos, kc.source as keysource\n"
	"  from pg_catalog.pg_attribute a\n"
	"  join pg_catalog.pg_type t on t.oid = a.atttypid\n"
	"  join pg_catalog.pg_type bt on bt.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end\n"
	"  left join exact x on x.typ = bt.oid\n"
	"  left join keycols kc on kc.indrelid = a.attrelid and kc.attnum = a.attnum\n"
	" where a.attrelid = any ($1::pg_catalog.oid[]) and a.attnum > 0 and not a.attisdropped\n"
	" order by a.attrelid, a.attnum";

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
	for (i = 0; i < t->nkeys; i++) {
		free(t->key_names[i]);
		free(t->key_quoted[i]);
	}
	free(t->key_names);
	free(t->key_quoted);
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

/* Orders by schema, then name, bytewise. */
static int
name_cmp(const char *s1, const char *n1, const char *s2, const char *n2)
{
	int c = strcmp(s1, s2);

	return c ? c : strcmp(n1, n2);
}

/* The table of that name, by binary search (run->tables is sorted). */
static diff_table *
find_table(diff_run *run, const char *schema, const char *name)
{
	int lo = 0, hi = run->ntables - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		int c = name_cmp(run->tables[mid]->schema, run->tables[mid]->name, schema, name);

		if (c == 0)
			return run->tables[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

static void
set_side(side_table *st, const PGresult *res, int row)
{
	st->present = true;
	st->partitioned = pg_bool(res, row, pg_col(res, "partitioned"));
	st->estimate = pg_num(res, row, pg_col(res, "estimate"));
}

/*
 * The table list from both sides' answers, merged by name (both come
 * sorted): the migration's tables the run was asked about, each present on
 * SRC, DST or both.
 */
static void
merge_tables(diff_run *run, PGresult *res[2])
{
	int n[2] = {PQntuples(res[SRC]), PQntuples(res[DST])}, i[2] = {0, 0}, cap = 0, s;
	int c_schema[2], c_name[2], c_qual[2], c_picked[2], c_oid = pg_col(res[SRC], "oid");

	for (s = 0; s < 2; s++) {
		c_schema[s] = pg_col(res[s], "schema_name");
		c_name[s] = pg_col(res[s], "name");
		c_qual[s] = pg_col(res[s], "qualified");
		c_picked[s] = pg_col(res[s], "picked");
	}
	while (i[SRC] < n[SRC] || i[DST] < n[DST]) {
		int c, from;
		diff_table *t;

		if (i[SRC] >= n[SRC])
			c = 1;
		else if (i[DST] >= n[DST])
			c = -1;
		else
			c = name_cmp(pg_text(res[SRC], i[SRC], c_schema[SRC]), pg_text(res[SRC], i[SRC], c_name[SRC]),
						 pg_text(res[DST], i[DST], c_schema[DST]), pg_text(res[DST], i[DST], c_name[DST]));
		from = c <= 0 ? SRC : DST;
		if (!pg_bool(res[from], i[from], c_picked[from])) {
			if (c <= 0)
				i[SRC]++;
			if (c >= 0)
				i[DST]++;
			continue;
		}
		t = xcalloc(1, sizeof(*t));
		t->schema = pg_dup(res[from], i[from], c_schema[from]);
		t->name = pg_dup(res[from], i[from], c_name[from]);
		t->display = pg_dup(res[from], i[from], c_qual[from]);
		t->status = TS_PENDING;
		if (c <= 0) {
			t->src_oid = pg_dup(res[SRC], i[SRC], c_oid);
			set_side(&t->side[SRC], res[SRC], i[SRC]++);
		}
		if (c >= 0)
			set_side(&t->side[DST], res[DST], i[DST]++);
		if (run->ntables == cap) {
			cap = cap ? cap * 2 : 32;
			run->tables = xrealloc(run->tables, (size_t) cap * sizeof(diff_table *));
		}
		run->tables[run->ntables++] = t;
	}

	for (s = 0; s < run->ntables; s++) {
		diff_table *t = run->tables[s];
		int k;

		for (k = 0; k < 2; k++)
			if (t->side[k].present)
				t->from[k] = xasprintf("%s%s", t->side[k].partitioned ? "" : "ONLY ", t->display);
		if (!t->side[SRC].present || !t->side[DST].present) {
			t->status = TS_MISSING;
			t->note = xstrdup(t->side[SRC].present ? "missing on DST" : "only on DST (not on SRC)");
		}
	}
}

/*
 * Marks each table as published and subscribed, from SRC's publication and
 * DST's subscription; without either, says why replication was not checked.
 */
static void
mark_replicated(diff_run *run, PGresult *pub, PGresult *sub)
{
	int i, n;

	if (pub && pg_bool(pub, 0, pg_col(pub, "pub_exists"))) {
		int c_s = pg_col(pub, "schema_name"), c_n = pg_col(pub, "name");

		run->publication = xstrdup(getenv("PUBNAME"));
		n = PQntuples(pub);
		for (i = 0; i < n; i++) {
			diff_table *t;

			if (pg_text(pub, i, c_s) == NULL)
				continue;
			t = find_table(run, pg_text(pub, i, c_s), pg_text(pub, i, c_n));
			if (t)
				t->published = true;
		}
	}
	if (sub) {
		int c_s = pg_col(sub, "schema_name"), c_n = pg_col(sub, "name");

		n = PQntuples(sub);
		for (i = 0; i < n; i++) {
			diff_table *t = find_table(run, pg_text(sub, i, c_s), pg_text(sub, i, c_n));

			if (t)
				t->subscribed = true;
		}
	}
	if (run->publication == NULL || run->subscription == NULL) {
		run->not_checked = xasprintf("which tables replicate was not checked: %s",
									 run->publication == NULL && run->subscription == NULL
										 ? "no publication on SRC and no subscription on DST"
									 : run->publication == NULL ? "no publication on SRC"
																: "no subscription on DST");
		return;
	}
	for (i = 0; i < run->ntables; i++) {
		diff_table *t = run->tables[i];

		if (t->status != TS_PENDING || (t->published && t->subscribed))
			continue;
		t->status = TS_NOT_REPLICATED;
		t->note = xasprintf(
			"not replicated: %s",
			!t->published ? "not in the publication on SRC (add it, or leave it out of the migration)"
						  : "not in the subscription on DST (ALTER SUBSCRIPTION ... REFRESH PUBLICATION)");
	}
}

static int
oid_cmp(const void *a, const void *b)
{
	unsigned long x = strtoul((*(diff_table *const *) a)->src_oid, NULL, 10);
	unsigned long y = strtoul((*(diff_table *const *) b)->src_oid, NULL, 10);

	return x < y ? -1 : x > y;
}

/* Reads columns and keys of every table present on both sides, from SRC. */
static bool
load_columns(diff_run *run)
{
	strbuf oids;
	PGresult *res;
	const char *params[1];
	int i, row, n, first, c_rel, c_quoted, c_name, c_notnull, c_kind, c_fn, c_keypos, c_source;
	diff_table **by_oid;
	int nby = 0;
	const char *enc_src = PQparameterStatus(run->conns[SRC][0], "server_encoding"),
			   *enc_dst = PQparameterStatus(run->conns[DST][0], "server_encoding");
	bool recode = enc_src && enc_dst && strcmp(enc_src, enc_dst) != 0;

	sb_init(&oids);
	array_begin(&oids);
	by_oid = xcalloc((size_t) run->ntables + 1, sizeof(diff_table *));
	for (i = 0; i < run->ntables; i++)
		if (run->tables[i]->status == TS_PENDING || run->tables[i]->status == TS_NOT_REPLICATED) {
			array_add(&oids, run->tables[i]->src_oid);
			by_oid[nby++] = run->tables[i];
		}
	array_end(&oids);
	if (nby == 0) {
		sb_free(&oids);
		free(by_oid);
		return true;
	}
	params[0] = oids.data;
	res = pg_query(run->conns[SRC][0], "SRC", columns_sql, 1, params);
	sb_free(&oids);
	if (res == NULL) {
		free(by_oid);
		return false;
	}
	c_rel = pg_col(res, "attrelid");
	c_quoted = pg_col(res, "quoted");
	c_name = pg_col(res, "name");
	c_notnull = pg_col(res, "notnull");
	c_kind = pg_col(res, "kind");
	c_fn = pg_col(res, "fn");
	c_keypos = pg_col(res, "keypos");
	c_source = pg_col(res, "keysource");

	/* The rows come grouped by table; each group's table is looked up by its oid. */
	qsort(by_oid, (size_t) nby, sizeof(diff_table *), oid_cmp);
	n = PQntuples(res);
	for (first = 0; first < n;) {
		const char *oid = pg_text(res, first, c_rel);
		diff_table *t = NULL, key, *kp = &key, **hit;
		hash_column *cols;
		int last = first, ncols, k;

		while (last < n && strcmp(pg_text(res, last, c_rel), oid) == 0)
			last++;
		key.src_oid = (char *) oid;
		hit = bsearch(&kp, by_oid, (size_t) nby, sizeof(diff_table *), oid_cmp);
		if (hit)
			t = *hit;
		ncols = last - first;
		if (t == NULL) {
			first = last;
			continue;
		}
		cols = xcalloc((size_t) ncols, sizeof(hash_column));
		for (row = first; row < last; row++) {
			hash_column *c = &cols[row - first];
			int pos = (int) pg_int(res, row, c_keypos);

			c->quoted = pg_text(res, row, c_quoted);
			c->notnull = pg_bool(res, row, c_notnull);
			c->kind = diff_hash_kind(pg_text(res, row, c_kind));
			c->fn = pg_text(res, row, c_fn);
			if (pos > t->nkeys)
				t->nkeys = pos;
		}
		t->hash_expr = diff_hash_expr(cols, ncols, recode);
		free(cols);

		if (t->nkeys > 0) {
			strbuf kl;

			sb_init(&kl);
			t->key_names = xcalloc((size_t) t->nkeys, sizeof(char *));
			t->key_quoted = xcalloc((size_t) t->nkeys, sizeof(char *));
			for (k = 1; k <= t->nkeys; k++)
				for (row = first; row < last; row++)
					if (pg_int(res, row, c_keypos) == k) {
						t->key_names[k - 1] = pg_dup(res, row, c_name);
						t->key_quoted[k - 1] = pg_dup(res, row, c_quoted);
						sb_printf(&kl, "%s%s", k > 1 ? ", " : "", pg_text(res, row, c_quoted));
						if (t->key_source == NULL)
							t->key_source = pg_dup(res, row, c_source);
					}
			t->key_list = sb_steal(&kl);
		}
		first = last;
	}
	PQclear(res);
	free(by_oid);

	for (i = 0; i < run->ntables; i++) {
		diff_table *t = run->tables[i];

		if (t->status != TS_PENDING && t->status != TS_NOT_REPLICATED)
			continue;
		if (t->hash_expr == NULL) /* a table without columns */
			t->hash_expr = xstrdup("0::pg_catalog.int8");
		if (t->nkeys == 0 && t->note == NULL)
			t->note = xstrdup("no primary key or unique NOT NULL key: whole-table hash, cannot locate rows");
	}
	return true;
}

/* Runs a query on both sides' first connections at once, each with its own text. */
static bool
query_both(diff_run *run, char *sql[2], int nparams, const char *const *params[2], PGresult *res[2])
{
	pg_request req[2];
	int s;
	bool ok;

	for (s = 0; s < 2; s++) {
		req[s].conn = run->conns[s][0];
		req[s].side = side_name[s];
		req[s].sql = sql[s];
		req[s].nparams = params[s] ? nparams : 0;
		req[s].params = params[s];
	}
	ok = sql[SRC] && sql[DST] && pg_query_all(req, 2, NULL, NULL);
	for (s = 0; s < 2; s++) {
		res[s] = ok ? req[s].res : NULL;
		free(sql[s]);
		sql[s] = NULL;
	}
	return ok;
}

/* The text of tables_sql for a server. */
static char *
tables_query(PGconn *conn)
{
	char *t = sql_tables(PQserverVersion(conn)), *q;

	if (t == NULL)
		return NULL;
	q = xasprintf(tables_sql, t);
	free(t);
	return q;
}

/*
 * Step two: the publication's tables (SRC) and the subscription (DST):
 * looked up by name, then its tables by its oid.
 */
static bool
load_replication(diff_run *run)
{
	static const char *const pub_vars[] = {"pubs", NULL}, *const sub_vars[] = {"sub", NULL},
							 *const subid_vars[] = {"subid", NULL};
	const char *pubname = getenv("PUBNAME"), *subname = getenv("SUBNAME");
	PGconn *src = run->conns[SRC][0], *dst = run->conns[DST][0];
	char *published = NULL, *sql[2] = {NULL, NULL};
	PGresult *res[2] = {NULL, NULL}, *sub = NULL;
	strbuf pubs;
	const char *pub_params[1], *sub_params[] = {subname ? subname : ""};
	const char *const *params[2] = {pub_params, sub_params};
	bool ok = false;

	sb_init(&pubs);
	array_begin(&pubs);
	array_add(&pubs, pubname ? pubname : "");
	array_end(&pubs);
	pub_params[0] = pubs.data;

	published = sql_load("published", PQserverVersion(src), pub_vars);
	if (published)
		sql[SRC] = xasprintf(published_sql, published);
	free(published);
	sql[DST] = sql_load("subscription", PQserverVersion(dst), sub_vars);
	if (!query_both(run, sql, 1, params, res)) {
		sb_free(&pubs);
		return false;
	}
	if (PQntuples(res[DST]) == 1) {
		const char *subid[] = {pg_text(res[DST], 0, pg_col(res[DST], "oid"))};
		char *q = sql_load("subscribed", PQserverVersion(dst), subid_vars);

		run->subscription = xstrdup(subname);
		run->subid = xstrdup(subid[0]);
		run->slot = pg_dup(res[DST], 0, pg_col(res[DST], "subslotname"));
		sub = q ? pg_query(dst, "DST", q, 1, subid) : NULL;
		free(q);
		if (sub == NULL)
			goto done;
	}
	mark_replicated(run, res[SRC], sub);
	ok = true;
done:
	sb_free(&pubs);
	PQclear(res[SRC]);
	PQclear(res[DST]);
	PQclear(sub);
	return ok;
}

bool
diff_load_catalog(diff_run *run)
{
	const char *pick = run->opt->pick ? run->opt->pick : "[]";
	const char *params[] = {sql_include(), sql_exclude(), pick};
	const char *const *both[2] = {params, params};
	char *sql[2] = {tables_query(run->conns[SRC][0]), tables_query(run->conns[DST][0])};
	PGresult *res[2];

	if (!query_both(run, sql, 3, both, res))
		return false;
	merge_tables(run, res);
	PQclear(res[SRC]);
	PQclear(res[DST]);
	if (!load_replication(run))
		return false;

	/* The comparison reads the sequences alongside the tables' first queries. */
	if (run->opt->mode == MODE_ESTIMATE) {
		diff_sequences_sql(run, sql);
		if (!query_both(run, sql, 3, both, res))
			return false;
		diff_merge_sequences(run, res);
		PQclear(res[SRC]);
		PQclear(res[DST]);
	}

	if (run->opt->mode == MODE_CHECKSUM)
		return load_columns(run);
	return true;
}

void
diff_sequences_sql(const diff_run *run, char *sql[2])
{
	int s;

	for (s = 0; s < 2; s++)
		sql[s] = sequences_read_sql(PQserverVersion(run->conns[s][0]), true, false);
}

/*
 * How far DST is behind SRC now (kit/sql/lag.sql, on the subscription's
 * slot).  Unknown without a subscription.
 */
void
diff_measure_lag(diff_run *run, lag_sample *lag)
{
	PGconn *src = run->conns[SRC][0];
	const char *params[] = {run->slot};
	char *sql;
	PGresult *res;

	lag_clear(lag);
	if (run->slot == NULL || (sql = lag_sql(PQserverVersion(src))) == NULL)
		return;
	res = pg_query(src, "SRC", sql, 1, params);
	free(sql);
	if (res && PQntuples(res) == 1)
		lag_read(lag, res, 0);
	PQclear(res);
}
