/*
 * migkit seq: copies every sequence's value from SRC to DST at cutover.
 * Logical replication does not carry sequences, so without this step the
 * first insert on DST reuses a key SRC already handed out.
 *
 * Whatever the number of sequences, each side costs a constant number of
 * round trips: one query reads every sequence of a side, one statement sets
 * them all on DST (inside one transaction), one query checks every
 * column-owned sequence against its column.  Nothing is set on DST unless
 * every value can be: sequence changes are never rolled back, so bounds and
 * privileges are checked before the first setval().
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "pg.h"
#include "quote.h"
#include "sequences.h"
#include "sql.h"
#include "util.h"

/* kit/sql/relations.sql's patterns: the sequences are never filtered. */
static const char *const no_patterns[] = {"[]", "[]", "[]"};

/*
 * Sets every planned sequence in one statement: $1 oids, $2 values, $3
 * is_called.  It runs in the transaction of DST's read, which opened and
 * locked each of these sequences (pg_sequence_last_value() holds a ROW
 * EXCLUSIVE lock until COMMIT): none can have been dropped or altered
 * since, and none is opened again.
 */
static const char seq_apply_sql[] =
	"select pg_catalog.count(pg_catalog.setval(v.oid, v.value, v.called))\n"
	"  from rows from (pg_catalog.unnest($1::pg_catalog.oid[]), pg_catalog.unnest($2::pg_catalog.int8[]),\n"
	"                 pg_catalog.unnest($3::pg_catalog.bool[])) as v(oid, value, called)";

/*
 * For every sequence owned by an integer column (serial: pg_depend 'a',
 * identity: 'i'), its next value on DST against the column's max (min for
 * a descending sequence), all in one query: for each one a generated
 * SELECT, run through query_to_xml(), reads the column's max and min and
 * the sequence itself.  $4/$5/$6 (oids, values, is_called) replace the
 * current value of a sequence with a planned one, so that a dry run checks
 * the plan ($1 to $3 are the patterns of kit/sql/relations.sql).  The text
 * follows sequences_with_relations(); %s is where MATERIALIZED goes.
 */
static const char seq_check_body[] =
	", o as %s(\n"
	"  select s.oid, n.nspname, s.relname, tn.nspname as tnsp, t.relname as tname, a.attname,\n"
	"         q.seqincrement, p.value as pvalue, p.called as pcalled\n"
	"    from pg_catalog.pg_depend d\n"
	"    join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'\n"
	"    join pg_catalog.pg_namespace n on n.oid = s.relnamespace\n"
	"    join pg_catalog.pg_sequence q on q.seqrelid = s.oid\n"
	"    join pg_catalog.pg_class t on t.oid = d.refobjid\n"
	"    join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace\n"
	"    join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid and not a.attisdropped\n"
	"    join pg_catalog.pg_type ty on ty.oid = a.atttypid\n"
	"    left join rows from (pg_catalog.unnest($4::pg_catalog.oid[]), pg_catalog.unnest($5::pg_catalog.int8[]),\n"
	"                         pg_catalog.unnest($6::pg_catalog.bool[])) as p(oid, value, called) on p.oid = s.oid\n"
	"   where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass\n"
	"     and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass\n"
	"     and d.deptype in ('a', 'i') and d.refobjsubid > 0\n"
	"     and case when ty.typtype = 'd' then ty.typbasetype else ty.oid end in\n"
	"         ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype,\n"
	"          'pg_catalog.int8'::pg_catalog.regtype, 'pg_catalog.numeric'::pg_catalog.regtype)\n"
	"     and s.oid in (select oid from rel)\n"
	"), x as %s(\n"
	"  select o.*, pg_catalog.query_to_xml(pg_catalog.format(\n"
	"           'select (select max(%%1$I) from %%2$I.%%3$I)::text as mx, (select min(%%1$I) from %%2$I.%%3$I)::text as mn,'\n"
	"           ' last_value as v, is_called as c from %%4$I.%%5$I',\n"
	"           o.attname, o.tnsp, o.tname, o.nspname, o.relname), false, true, '') as tx\n"
	"    from o\n"
	"), v as (\n"
	"  select x.*,\n"
	"         case when x.pvalue is not null\n"
	"                then x.pvalue::pg_catalog.numeric + case when x.pcalled then x.seqincrement else 0 end\n"
	"              else ((pg_catalog.xpath('/row/v/text()', x.tx))[1])::text::pg_catalog.numeric\n"
	"                   + case when ((pg_catalog.xpath('/row/c/text()', x.tx))[1])::text::bool\n"
	"                          then x.seqincrement else 0 end end as next_value,\n"
	"         ((pg_catalog.xpath('/row/mx/text()', x.tx))[1])::text::pg_catalog.numeric as col_max,\n"
	"         ((pg_catalog.xpath('/row/mn/text()', x.tx))[1])::text::pg_catalog.numeric as col_min\n"
	"    from x\n"
	")\n"
	"select pg_catalog.format('%%I.%%I', nspname, relname) as sequence,\n"
	"       pg_catalog.format('%%I.%%I', tnsp, tname) as \"table\", attname as \"column\",\n"
	"       seqincrement > 0 as ascending, col_max::text as column_max, col_min::text as column_min,\n"
	"       next_value::text,\n"
	"       coalesce(case when seqincrement > 0 then next_value <= col_max else next_value >= col_min end, false)\n"
	"         as collides\n"
	"  from v\n"
	" order by 1, 2, 3";

/* One sequence as read from one side. */
typedef struct seq_row {
	const char *oid;
	const char *nspname;
	const char *relname;
	const char *qualified;
	bool readable;
	bool writable;
	long long last_value;
	bool known; /* last_value read (DST: not when never called) */
	bool is_called;
	bool matched;        /* present on the other side too */
	long long increment; /* the bounds: DST's only (0 on SRC) */
	long long min;
	long long max;
} seq_row;

typedef struct seq_set {
	const char *side;
	PGresult *res; /* owns the strings of rows */
	seq_row *rows;
	int n;
} seq_set;

/* A sequence present on both sides and the value it gets on DST. */
typedef struct seq_item {
	const seq_row *src;
	const seq_row *dst;
	long long value;
	bool called;
} seq_item;

typedef struct seq_plan {
	seq_item *items;
	int nitems;
	const seq_row **src_only;
	int nsrc_only;
	const seq_row **dst_only;
	int ndst_only;
} seq_plan;

typedef struct seq_options {
	long shift;
	bool dry_run;
	bool check_only;
	bool json;
	const char *src;
	const char *dst;
} seq_options;

static void
seq_help(void)
{
	printf("Usage: migkit seq [OPTION]...\n\n"
		   "Copies the value of every sequence (standalone, serial and identity) from\n"
		   "SRC to DST in one transaction, reports sequences found on only one side,\n"
		   "then checks that every sequence feeding a column would hand out a value\n"
		   "above the column's maximum on DST.\n\n"
		   "Options:\n"
		   "      --shift N        set each sequence N further than SRC (default 0); a\n"
		   "                       never-used sequence stays unused, its next value moved by N\n"
		   "  -n, --dry-run        show the plan (SRC value, value to set on DST); change nothing\n"
		   "      --check          only check DST's column-owned sequences against max(column)\n"
		   "      --json           print one JSON document instead of the table\n"
		   "      --src CONNINFO   the source database (default: $SRCPG)\n"
		   "      --dst CONNINFO   the destination database (default: $DSTPG)\n"
		   "  -h, --help           show this help and exit\n"
		   "  -V, --version        show the version and exit\n\n"
		   "Exit status: 0 done / all good, 1 a sequence would collide with its column's\n"
		   "values or is missing on DST, 2 error (usage, connection, permission, SQL).\n");
}

static int
seq_row_cmp(const void *a, const void *b)
{
	const seq_row *x = a, *y = b;
	int c = strcmp(x->nspname, y->nspname);

	return c != 0 ? c : strcmp(x->relname, y->relname);
}

/* Takes ownership of res; rows are sorted by schema, then name (bytewise). */
static void
seq_set_load(seq_set *set, const char *side, PGresult *res)
{
	int i;

	int c_oid = pg_col(res, "oid"), c_nsp = pg_col(res, "nspname"), c_rel = pg_col(res, "relname");
	int c_qual = pg_col(res, "qualified"), c_read = pg_col(res, "readable"),
		c_write = pg_col(res, "writable");
	int c_last = pg_col(res, "last_value"), c_called = pg_col(res, "is_called");
	int c_incr = pg_col(res, "increment"), c_min = pg_col(res, "min"), c_max = pg_col(res, "max");

	set->side = side;
	set->res = res;
	set->n = PQntuples(res);
	set->rows = xcalloc((size_t) set->n, sizeof(seq_row));
	for (i = 0; i < set->n; i++) {
		seq_row *r = &set->rows[i];

		r->oid = pg_text(res, i, c_oid);
		r->nspname = pg_text(res, i, c_nsp);
		r->relname = pg_text(res, i, c_rel);
		r->qualified = pg_text(res, i, c_qual);
		r->readable = pg_bool(res, i, c_read);
		r->writable = pg_bool(res, i, c_write);
		r->known = pg_text(res, i, c_last) != NULL;
		r->last_value = pg_int(res, i, c_last);
		r->is_called = pg_bool(res, i, c_called);
		r->increment = pg_int(res, i, c_incr);
		r->min = pg_int(res, i, c_min);
		r->max = pg_int(res, i, c_max);
	}
	qsort(set->rows, (size_t) set->n, sizeof(seq_row), seq_row_cmp);
}

static void
seq_set_free(seq_set *set)
{
	free(set->rows);
	PQclear(set->res);
	memset(set, 0, sizeof(*set));
}

static void
seq_plan_free(seq_plan *plan)
{
	free(plan->items);
	free(plan->src_only);
	free(plan->dst_only);
	memset(plan, 0, sizeof(*plan));
}

/*
 * Logs one error naming every sequence of set that fails the test (up to a
 * screenful) and returns false when there is any.
 */
static bool
seq_require(const seq_set *set, bool (*ok)(const seq_row *), const char *what, const char *role,
			const char *grant)
{
	strbuf names;
	int bad = 0, i;

	sb_init(&names);
	for (i = 0; i < set->n; i++) {
		if (ok(&set->rows[i]))
			continue;
		if (bad < 20)
			sb_printf(&names, "%s%s", bad ? ", " : "", set->rows[i].qualified);
		bad++;
	}
	if (bad > 20)
		sb_printf(&names, " and %d more", bad - 20);
	if (bad > 0)
		log_error("role %s cannot %s %d sequence%s on %s: %s (grant %s to %s)", role, what, bad,
				  bad == 1 ? "" : "s", set->side, names.data, grant, role);
	sb_free(&names);
	return bad == 0;
}

static bool
row_readable(const seq_row *r)
{
	return r->readable;
}

/* DST's copy of a SRC sequence must be readable (to show it) and settable. */
static bool
row_dst_readable(const seq_row *r)
{
	return !r->matched || r->readable;
}

static bool
row_dst_settable(const seq_row *r)
{
	return !r->matched || r->writable;
}

/*
 * The value a sequence gets on DST: SRC's, moved shift further in the
 * direction the sequence counts (up for a positive increment).  False, with
 * an error logged, when that value lies outside DST's bounds for it.
 */
static bool
seq_target(const seq_row *src, const seq_row *dst, long shift, long long *value)
{
	long long v;
	bool overflow = dst->increment > 0 ? __builtin_add_overflow(src->last_value, (long long) shift, &v)
									   : __builtin_sub_overflow(src->last_value, (long long) shift, &v);

	if (!overflow && v >= dst->min && v <= dst->max) {
		*value = v;
		return true;
	}
	if (src->last_value < dst->min || src->last_value > dst->max)
		log_error("sequence %s: SRC's value %lld is outside its bounds on DST (%lld to %lld)", src->qualified,
				  src->last_value, dst->min, dst->max);
	else if (dst->increment > 0)
		log_error("sequence %s: shifting %lld by %ld would exceed its maximum %lld on DST", src->qualified,
				  src->last_value, shift, dst->max);
	else
		log_error("sequence %s: shifting %lld by %ld would go below its minimum %lld on DST (it counts down)",
				  src->qualified, src->last_value, shift, dst->min);
	return false;
}

/* Pairs SRC and DST sequences by schema and name, and computes each target. */
static bool
seq_plan_build(seq_set *src, seq_set *dst, long shift, seq_plan *plan)
{
	int i = 0, j = 0;
	bool ok = true;

	memset(plan, 0, sizeof(*plan));
	plan->items = xcalloc((size_t) (src->n < dst->n ? src->n : dst->n), sizeof(seq_item));
	plan->src_only = xcalloc((size_t) src->n, sizeof(seq_row *));
	plan->dst_only = xcalloc((size_t) dst->n, sizeof(seq_row *));
	while (i < src->n || j < dst->n) {
		int c = i >= src->n ? 1 : j >= dst->n ? -1 : seq_row_cmp(&src->rows[i], &dst->rows[j]);

		if (c < 0)
			plan->src_only[plan->nsrc_only++] = &src->rows[i++];
		else if (c > 0)
			plan->dst_only[plan->ndst_only++] = &dst->rows[j++];
		else {
			seq_item *it = &plan->items[plan->nitems++];

			src->rows[i].matched = dst->rows[j].matched = true;
			it->src = &src->rows[i++];
			it->dst = &dst->rows[j++];
			it->called = it->src->is_called;
			if (!seq_target(it->src, it->dst, shift, &it->value))
				ok = false;
		}
	}
	return ok;
}

/* The plan as the three arrays seq_apply_sql and seq_check_sql take. */
static void
seq_plan_arrays(const seq_plan *plan, strbuf *oids, strbuf *values, strbuf *called)
{
	int i;

	sb_init(oids);
	sb_init(values);
	sb_init(called);
	array_begin(oids);
	array_begin(values);
	array_begin(called);
	for (i = 0; i < plan->nitems; i++) {
		char v[32];

		snprintf(v, sizeof(v), "%lld", plan->items[i].value);
		array_add(oids, plan->items[i].dst->oid);
		array_add(values, v);
		array_add(called, plan->items[i].called ? "t" : "f");
	}
	array_end(oids);
	array_end(values);
	array_end(called);
}

/* Sets every planned sequence on DST in one statement; conn is inside the read's transaction. */
static bool
seq_apply(PGconn *conn, const seq_plan *plan)
{
	strbuf oids, values, called;
	const char *params[3];
	bool ok;

	if (plan->nitems == 0)
		return true;
	seq_plan_arrays(plan, &oids, &values, &called);
	params[0] = oids.data;
	params[1] = values.data;
	params[2] = called.data;
	ok = pg_exec(conn, "DST", seq_apply_sql, 3, params);
	sb_free(&oids);
	sb_free(&values);
	sb_free(&called);
	return ok;
}

/* The result of the collision check, its columns by name. */
typedef struct seq_check {
	char *sql;
	PGresult *res;
	int checked;
	int collisions;
	int c_seq, c_table, c_column, c_asc, c_max, c_min, c_next, c_collides;
} seq_check;

/* The check's query for DST's server (see seq_check_body); caller frees. */
static char *
seq_check_sql(PGconn *conn)
{
	int v = PQserverVersion(conn);
	char *with = sequences_with_relations(v), *body, *sql;

	if (with == NULL)
		return NULL;
	body = xasprintf(seq_check_body, sequences_materialized(v), sequences_materialized(v));
	sql = xasprintf("%s%s", with, body);
	free(with);
	free(body);
	return sql;
}

/* Sends the check to DST; with a plan, against the planned values. */
static bool
seq_check_send(PGconn *conn, const seq_plan *plan, seq_check *check)
{
	strbuf oids, values, called;
	const char *params[6] = {no_patterns[0], no_patterns[1], no_patterns[2], "{}", "{}", "{}"};
	bool sent;

	memset(check, 0, sizeof(*check));
	check->sql = seq_check_sql(conn);
	if (check->sql == NULL)
		return false;
	if (plan) {
		seq_plan_arrays(plan, &oids, &values, &called);
		params[3] = oids.data;
		params[4] = values.data;
		params[5] = called.data;
	}
	sent = pg_send(conn, "DST", check->sql, 6, params);
	if (plan) {
		sb_free(&oids);
		sb_free(&values);
		sb_free(&called);
	}
	return sent;
}

/* Collects the check sent by seq_check_send. */
static bool
seq_check_receive(PGconn *conn, seq_check *check)
{
	PGresult *r;
	int i;

	check->res = r = pg_receive(conn, "DST", check->sql);
	if (r == NULL)
		return false;
	check->c_seq = pg_col(r, "sequence");
	check->c_table = pg_col(r, "table");
	check->c_column = pg_col(r, "column");
	check->c_asc = pg_col(r, "ascending");
	check->c_max = pg_col(r, "column_max");
	check->c_min = pg_col(r, "column_min");
	check->c_next = pg_col(r, "next_value");
	check->c_collides = pg_col(r, "collides");
	check->checked = PQntuples(r);
	for (i = 0; i < check->checked; i++)
		if (pg_bool(r, i, check->c_collides))
			check->collisions++;
	return true;
}

static void
seq_check_free(seq_check *check)
{
	PQclear(check->res);
	free(check->sql);
	memset(check, 0, sizeof(*check));
}

static const char *
or_none(const char *s)
{
	return s ? s : "none (empty table)";
}

static void
seq_check_print(const seq_check *check, bool planned, FILE *out)
{
	int i;

	for (i = 0; i < check->checked; i++) {
		const PGresult *r = check->res;
		bool asc = pg_bool(r, i, check->c_asc);
		char *seq, *tab, *col;

		if (!pg_bool(r, i, check->c_collides))
			continue;
		seq = display_text(pg_text(r, i, check->c_seq));
		tab = display_text(pg_text(r, i, check->c_table));
		col = display_text(pg_text(r, i, check->c_column));
		fprintf(out, "%sCOLLISION:%s %s feeds %s.%s: %s(%s) is %s on DST, but its next value %s %s\n",
				out_style(out, "red"), out_style(out, "reset"), seq, tab, col, asc ? "max" : "min", col,
				or_none(pg_text(r, i, asc ? check->c_max : check->c_min)), planned ? "would be" : "is",
				pg_text(r, i, check->c_next));
		free(seq);
		free(tab);
		free(col);
	}
	if (check->collisions == 0)
		fprintf(
			out,
			"%sok:%s %d column-owned sequence%s checked on DST: every next value %s beyond its column's values\n",
			out_style(out, "green"), out_style(out, "reset"), check->checked, check->checked == 1 ? "" : "s",
			planned ? "would be" : "is");
	else
		fprintf(out,
				"%d of %d column-owned sequence%s on DST would hand out a value its column already holds%s\n",
				check->collisions, check->checked, check->checked == 1 ? "" : "s",
				planned ? " after this plan" : "");
}

static void
seq_check_json(json *j, const seq_check *check)
{
	int i;

	json_object_begin(j, "check");
	json_int(j, "checked", check->checked);
	json_bool(j, "ok", check->collisions == 0);
	json_array_begin(j, "collisions");
	for (i = 0; i < check->checked; i++) {
		const PGresult *r = check->res;

		if (!pg_bool(r, i, check->c_collides))
			continue;
		json_object_begin(j, NULL);
		json_string(j, "sequence", pg_text(r, i, check->c_seq));
		json_string(j, "table", pg_text(r, i, check->c_table));
		json_string(j, "column", pg_text(r, i, check->c_column));
		json_number_text(j, "column_max", pg_text(r, i, check->c_max));
		json_number_text(j, "column_min", pg_text(r, i, check->c_min));
		json_number_text(j, "next_value", pg_text(r, i, check->c_next));
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

/*
 * "42", or "42 (not called)" when nextval() would return 42 itself, or
 * "not called" when that value was not read.
 */
static char *
value_text(long long v, bool known, bool called)
{
	if (!known)
		return xstrdup("not called");
	return called ? xasprintf("%lld", v) : xasprintf("%lld (not called)", v);
}

/* The value nextval() returns next, saturating instead of overflowing. */
static long long
seq_next_value(long long value, bool called, long long increment)
{
	long long next;

	if (!called)
		return value;
	if (__builtin_add_overflow(value, increment, &next))
		return increment > 0 ? LLONG_MAX : LLONG_MIN;
	return next;
}

/*
 * True when the copy moves a DST sequence back: DST had handed out values
 * beyond what SRC (plus the shift) has, and would hand them out again.
 */
static bool
seq_moves_back(const seq_item *it)
{
	long long before, after;

	if (!it->dst->known)
		return false;
	before = seq_next_value(it->dst->last_value, it->dst->is_called, it->dst->increment);
	after = seq_next_value(it->value, it->called, it->dst->increment);
	return it->dst->increment > 0 ? after < before : after > before;
}

/*
 * The plan as a table, one row per sequence in name order: the planned
 * sequences and those only on SRC.
 */
static table *
seq_plan_table(const seq_plan *plan)
{
	static const char *const headers[] = {"sequence", "src last_value", "is_called", "dst before",
										  "dst after"};
	table *t = table_new(5, headers);
	int si = 0, pi = 0;

	table_align_right(t, 1);
	while (pi < plan->nitems || si < plan->nsrc_only) {
		const char *cells[5];
		char *a = NULL, *b = NULL, *c = NULL;
		bool take_src = pi >= plan->nitems ||
						(si < plan->nsrc_only && seq_row_cmp(plan->src_only[si], plan->items[pi].src) < 0);
		const seq_row *s = take_src ? plan->src_only[si] : plan->items[pi].src;

		a = xasprintf("%lld", s->last_value);
		cells[0] = s->qualified;
		cells[1] = a;
		cells[2] = s->is_called ? "t" : "f";
		if (take_src) {
			cells[3] = "-";
			cells[4] = "missing on DST";
			si++;
		} else {
			const seq_item *it = &plan->items[pi++];

			b = value_text(it->dst->last_value, it->dst->known, it->dst->is_called);
			c = value_text(it->value, true, it->called);
			cells[3] = b;
			cells[4] = c;
		}
		table_add_row(t, cells);
		free(a);
		free(b);
		free(c);
	}
	return t;
}

/* The plan's table (from seq_plan_table), then what it leaves out or moves back. */
static void
seq_plan_print(const seq_plan *plan, const table *t, bool dry_run, long shift, FILE *out)
{
	int i, back;

	table_print(t, out);
	for (i = 0; i < plan->nsrc_only; i++)
		fprintf(out, "%sonly on SRC:%s %s (missing on DST: create it there, then run again)\n",
				out_style(out, "red"), out_style(out, "reset"), plan->src_only[i]->qualified);
	for (i = 0; i < plan->ndst_only; i++)
		fprintf(out, "%sonly on DST:%s %s (left as it is)\n", out_style(out, "yellow"),
				out_style(out, "reset"), plan->dst_only[i]->qualified);
	for (i = 0, back = 0; i < plan->nitems; i++) {
		const seq_item *it = &plan->items[i];

		if (!seq_moves_back(it))
			continue;
		if (back++ < 20)
			fprintf(
				out,
				"%snote:%s %s %s back on DST, from next value %lld to %lld: DST had gone further than SRC%s\n",
				out_style(out, "yellow"), out_style(out, "reset"), it->src->qualified,
				dry_run ? "would move" : "moved",
				seq_next_value(it->dst->last_value, it->dst->is_called, it->dst->increment),
				seq_next_value(it->value, it->called, it->dst->increment), shift ? " plus the shift" : "");
	}
	if (back > 20)
		fprintf(out, "%snote:%s and %d more sequences %s back on DST\n", out_style(out, "yellow"),
				out_style(out, "reset"), back - 20, dry_run ? "would move" : "moved");
	fprintf(out, "%s%d sequence%s %s from SRC to DST", out_style(out, "bold"), plan->nitems,
			plan->nitems == 1 ? "" : "s", dry_run ? "would be copied" : "copied");
	if (shift)
		fprintf(out, ", shifted by %ld", shift);
	fprintf(out, "%s; %d only on SRC, %d only on DST%s\n", out_style(out, "reset"), plan->nsrc_only,
			plan->ndst_only, dry_run ? " (dry run: nothing was changed)" : "");
}

/* {"last_value": v or null when not read, "is_called": called} */
static void
seq_value_json(json *j, const char *key, long long v, bool known, bool called)
{
	json_object_begin(j, key);
	if (known)
		json_int(j, "last_value", v);
	else
		json_null(j, "last_value");
	json_bool(j, "is_called", called);
	json_object_end(j);
}

static void
seq_plan_json(json *j, const seq_plan *plan, bool dry_run, long shift)
{
	int i;

	json_bool(j, "dry_run", dry_run);
	json_int(j, "shift", shift);
	json_int(j, dry_run ? "to_copy" : "copied", plan->nitems);
	json_array_begin(j, "sequences");
	for (i = 0; i < plan->nitems; i++) {
		const seq_item *it = &plan->items[i];

		json_object_begin(j, NULL);
		json_string(j, "sequence", it->src->qualified);
		json_string(j, "schema", it->src->nspname);
		json_string(j, "name", it->src->relname);
		seq_value_json(j, "src", it->src->last_value, true, it->src->is_called);
		seq_value_json(j, "dst_before", it->dst->last_value, it->dst->known, it->dst->is_called);
		seq_value_json(j, "dst_after", it->value, true, it->called);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "src_only");
	for (i = 0; i < plan->nsrc_only; i++)
		json_string(j, NULL, plan->src_only[i]->qualified);
	json_array_end(j);
	json_array_begin(j, "dst_only");
	for (i = 0; i < plan->ndst_only; i++)
		json_string(j, NULL, plan->dst_only[i]->qualified);
	json_array_end(j);
	json_array_begin(j, "moved_back");
	for (i = 0; i < plan->nitems; i++)
		if (seq_moves_back(&plan->items[i]))
			json_string(j, NULL, plan->items[i].src->qualified);
	json_array_end(j);
}

/* pg_query_all's arrival callback: loads a side's sequences at once. */
static void
seq_arrived(pg_request *req, void *arg)
{
	seq_set *sets = arg;
	int s = strcmp(req->side, "SRC") == 0 ? 0 : 1;

	seq_set_load(&sets[s], req->side, req->res);
	req->res = NULL; /* the set owns it now */
}

/*
 * Reads every sequence of both sides at once (exact values on SRC only),
 * loading each side's result as soon as it arrives, while the other server
 * is still at work.
 */
static bool
seq_read_both(PGconn *src, PGconn *dst, seq_set *sset, seq_set *dset)
{
	char *sql[2] = {sequences_read_sql(PQserverVersion(src), true),
					sequences_read_sql(PQserverVersion(dst), false)};
	seq_set sets[2];
	pg_request req[2] = {
		{src, "SRC", sql[0], 3, no_patterns, NULL},
		{dst, "DST", sql[1], 3, no_patterns, NULL},
	};
	bool ok;

	memset(sets, 0, sizeof(sets));
	ok = sql[0] && sql[1] && pg_query_all(req, 2, seq_arrived, sets);
	if (ok) {
		*sset = sets[0];
		*dset = sets[1];
	} else {
		seq_set_free(&sets[0]);
		seq_set_free(&sets[1]);
	}
	free(sql[0]);
	free(sql[1]);
	return ok;
}

/*
 * Refuses SRC and DST being one database (kit/sql/identity.sql): shifting
 * would move the source's own sequences.  Returns each side's role name
 * (caller frees) for messages.
 */
static bool
seq_distinct_sides(PGconn *src, PGconn *dst, char **src_role, char **dst_role)
{
	char *id = sql_load("identity", PQserverVersion(src), NULL);
	char *sql =
		id ? xasprintf("select i.identity, i.system_identifier, i.database, current_user::text as role\n"
					   "  from (%s) i",
					   id)
		   : NULL;
	pg_request req[2] = {{src, "SRC", sql, 0, NULL, NULL}, {dst, "DST", sql, 0, NULL, NULL}};
	bool same;

	free(id);
	if (sql == NULL || !pg_query_all(req, 2, NULL, NULL)) {
		free(sql);
		return false;
	}
	same = strcmp(pg_text(req[0].res, 0, 0), pg_text(req[1].res, 0, 0)) == 0;
	if (same)
		log_error(
			"SRC and DST are the same database (%s on system %s): refusing to copy its sequences onto themselves",
			pg_text(req[0].res, 0, 2), pg_text(req[0].res, 0, 1));
	*src_role = pg_dup(req[0].res, 0, 3);
	*dst_role = pg_dup(req[1].res, 0, 3);
	PQclear(req[0].res);
	PQclear(req[1].res);
	free(sql);
	return !same;
}

/* migkit seq --check: DST alone. */
static result_t
seq_check_only(const seq_options *o)
{
	const char *ci = pg_conninfo("DST", o->dst);
	PGconn *dst;
	seq_check check;
	result_t result;

	if (ci == NULL || (dst = pg_connect("DST", ci)) == NULL)
		return RESULT_ERROR;
	if (!seq_check_send(dst, NULL, &check) || !seq_check_receive(dst, &check)) {
		seq_check_free(&check);
		pg_finish(dst);
		return RESULT_ERROR;
	}
	result = check.collisions ? RESULT_NEGATIVE : RESULT_OK;
	if (o->json) {
		json j;

		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		seq_check_json(&j, &check);
		json_int(&j, "status", result);
		json_object_end(&j);
		json_finish(&j);
	} else {
		seq_check_print(&check, false, stdout);
	}
	seq_check_free(&check);
	pg_finish(dst);
	return result;
}

/* migkit seq [--dry-run]: read both sides, plan, apply, check. */
static result_t
seq_sync(const seq_options *o)
{
	const char *src_ci = pg_conninfo("SRC", o->src);
	const char *dst_ci = src_ci ? pg_conninfo("DST", o->dst) : NULL;
	PGconn *src = NULL, *dst = NULL;
	seq_set sset, dset;
	seq_plan plan;
	seq_check check;
	table *t = NULL;
	json j;
	FILE *doc = NULL;
	char *doc_text = NULL;
	size_t doc_len = 0;
	char *src_role = NULL, *dst_role = NULL;
	result_t result = RESULT_ERROR;
	bool ok;

	memset(&sset, 0, sizeof(sset));
	memset(&dset, 0, sizeof(dset));
	memset(&plan, 0, sizeof(plan));
	memset(&check, 0, sizeof(check));
	if (dst_ci == NULL)
		return RESULT_ERROR;

	/* Both connections and both reads run side by side. */
	src = pg_connect_start("SRC", src_ci);
	dst = src ? pg_connect_start("DST", dst_ci) : NULL;
	if (dst == NULL || !pg_connect_wait("SRC", src) || !pg_connect_wait("DST", dst))
		goto done;
	if (!seq_distinct_sides(src, dst, &src_role, &dst_role))
		goto done;
	/* Locks taken by the read keep DST's sequences from changing shape until COMMIT. */
	if (!o->dry_run && !pg_exec(dst, "DST", "BEGIN", 0, NULL))
		goto done;
	if (!seq_read_both(src, dst, &sset, &dset))
		goto done;

	if (!seq_require(&sset, row_readable, "read", src_role,
					 "SELECT on the sequences and USAGE on their schemas"))
		goto done;
	ok = seq_plan_build(&sset, &dset, o->shift, &plan);
	ok = seq_require(&dset, row_dst_readable, "read", dst_role,
					 "SELECT on the sequences and USAGE on their schemas") &&
		 ok;
	ok = seq_require(&dset, row_dst_settable, "set", dst_role, "UPDATE on the sequences") && ok;
	if (!ok) {
		log_error("nothing was changed on DST");
		goto done;
	}

	if (!o->dry_run) {
		if (!seq_apply(dst, &plan) || !pg_exec(dst, "DST", "COMMIT", 0, NULL))
			goto done;
	}
	/*
	 * While DST checks, the report is prepared: the table, or the JSON
	 * document up to the check, in memory.  Nothing reaches stdout unless
	 * the check succeeds.
	 */
	ok = seq_check_send(dst, o->dry_run ? &plan : NULL, &check);
	if (ok) {
		if (o->json) {
			doc = open_memstream(&doc_text, &doc_len);
			if (doc == NULL) {
				log_error("out of memory");
				goto done;
			}
			json_init(&j, doc);
			json_object_begin(&j, NULL);
			seq_plan_json(&j, &plan, o->dry_run, o->shift);
		} else {
			t = seq_plan_table(&plan);
		}
		ok = seq_check_receive(dst, &check);
	}
	if (!ok) {
		if (!o->dry_run)
			log_error("the %d sequences were set on DST; only the check after them failed", plan.nitems);
		goto done;
	}

	result = check.collisions || plan.nsrc_only ? RESULT_NEGATIVE : RESULT_OK;
	if (o->json) {
		seq_check_json(&j, &check);
		json_int(&j, "status", result);
		json_object_end(&j);
		json_finish(&j);
		fwrite(doc_text, 1, doc_len, stdout);
	} else {
		seq_plan_print(&plan, t, o->dry_run, o->shift, stdout);
		seq_check_print(&check, o->dry_run, stdout);
	}

done:
	if (doc)
		fclose(doc);
	free(doc_text);
	table_free(t);
	seq_check_free(&check);
	seq_plan_free(&plan);
	seq_set_free(&sset);
	seq_set_free(&dset);
	free(src_role);
	free(dst_role);
	pg_finish(src);
	pg_finish(dst);
	return result;
}

result_t
cmd_seq(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"shift", required_argument, NULL, 's'}, {"dry-run", no_argument, NULL, 'n'},
		{"check", no_argument, NULL, 'c'},       {"json", no_argument, NULL, 'j'},
		{"src", required_argument, NULL, 'S'},   {"dst", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	seq_options o;
	int c;

	if (cli_help_or_version(argc, argv, seq_help))
		return RESULT_OK;
	memset(&o, 0, sizeof(o));
	while ((c = cli_getopt(argc, argv, "n", longopts)) != -1) {
		switch (c) {
			case 's':
				if (!parse_long(optarg, &o.shift) || o.shift < 0)
					return cli_usage("--shift takes a whole number >= 0, not \"%s\"", optarg);
				break;
			case 'n': o.dry_run = true; break;
			case 'c': o.check_only = true; break;
			case 'j': o.json = true; break;
			case 'S': o.src = optarg; break;
			case 'D': o.dst = optarg; break;
			default: return cli_usage(NULL);
		}
	}
	if (optind < argc)
		return cli_usage("unexpected argument \"%s\"", argv[optind]);
	if (o.check_only && (o.dry_run || o.shift))
		return cli_usage("--check only checks DST; it takes no --dry-run or --shift");
	pg_catch_interrupts();
	return o.check_only ? seq_check_only(&o) : seq_sync(&o);
}
