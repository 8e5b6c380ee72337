/*
 * The plan of migkit seq: both sides' sequences paired by name, the value
 * each gets on DST (SRC's, shifted), what is missing on either side, the
 * one statement that sets them all, and the plan shown as a table or JSON.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "pg.h"
#include "quote.h"
#include "seq.h"
#include "util.h"

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

static int
seq_row_cmp(const void *a, const void *b)
{
	const seq_row *x = a, *y = b;
	int c = strcmp(x->nspname, y->nspname);

	return c != 0 ? c : strcmp(x->relname, y->relname);
}

/* Takes ownership of res; rows are sorted by schema, then name (bytewise). */
void
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

void
seq_set_free(seq_set *set)
{
	free(set->rows);
	PQclear(set->res);
	memset(set, 0, sizeof(*set));
}

void
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
bool
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

bool
seq_row_readable(const seq_row *r)
{
	return r->readable;
}

/* DST's copy of a SRC sequence must be readable (to show it) and settable. */
bool
seq_row_dst_readable(const seq_row *r)
{
	return !r->matched || r->readable;
}

bool
seq_row_dst_settable(const seq_row *r)
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
bool
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
void
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
bool
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
table *
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
void
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

void
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
