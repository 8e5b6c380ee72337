/*
 * Unit tests of migkit's pure functions: quoting and escaping, number and
 * duration parsing and formatting, the template engine, the row-hash
 * expression of diff --checksum, the kit's SQL files and their version
 * variants, the cases of progress's verdict, the JSON reader, and the
 * pieces of report (times, the chart, a kit's records read into the
 * verdict and both forms).  No server is needed.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_file.h"
#include "copy.h"
#include "diff_hash.h"
#include "json_read.h"
#include "output.h"
#include "progress.h"
#include "quote.h"
#include "report.h"
#include "sql.h"
#include "tap.h"
#include "template.h"
#include "util.h"

/* Runs one appending quoter on s and returns what it wrote (static buffer). */
static const char *
quoted(void (*fn)(strbuf *, const char *), const char *s)
{
	static char out[4096];
	strbuf sb;

	sb_init(&sb);
	fn(&sb, s);
	snprintf(out, sizeof(out), "%s", sb.data);
	sb_free(&sb);
	return out;
}

static const char *
shell(const char *s)
{
	static char out[1024];
	strbuf sb;

	sb_init(&sb);
	if (!shell_quote(&sb, s))
		snprintf(out, sizeof(out), "(refused)");
	else
		snprintf(out, sizeof(out), "%s", sb.data);
	sb_free(&sb);
	return out;
}

static void
test_quoting(void)
{
	strbuf sb;

	IS(shell("pg-meta.meta"), "pg-meta.meta", "shell_quote leaves a safe word bare");
	IS(shell("a b"), "'a b'", "shell_quote single-quotes a word with a space");
	IS(shell("x'; DROP TABLE t; --"), "'x'\\''; DROP TABLE t; --'", "shell_quote escapes a quote as '\\''");
	IS(shell("$(touch x)"), "'$(touch x)'", "shell_quote makes a command substitution inert");
	IS(shell(""), "''", "shell_quote writes the empty string as ''");
	IS(shell("a\nb"), "(refused)", "shell_quote refuses a newline");
	IS(quoted(conninfo_quote, "db name"), "'db name'", "conninfo_quote quotes a value with a space");
	IS(quoted(conninfo_quote, "it's"), "'it\\'s'", "conninfo_quote escapes a quote");
	IS(quoted(url_encode, "a b/é"), "a%20b%2F%C3%A9", "url_encode percent-encodes a URL part");

	IS(quoted(json_quote, "a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"", "json_quote escapes quote, backslash, newline");
	IS(quoted(json_quote, "\x1b[31m"), "\"\\u001b[31m\"", "json_quote escapes a terminal escape");
	IS(quoted(json_quote, "caf\xc3\xa9"), "\"caf\xc3\xa9\"", "json_quote keeps valid UTF-8");
	IS(quoted(json_quote, "a\xff\xc3z"), "\"a\\ufffd\\ufffdz\"", "json_quote writes invalid UTF-8 as U+FFFD");
	IS(quoted(json_quote, "\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"",
	   "json_quote refuses a UTF-8 surrogate");
	IS(quoted(prom_quote, "a\"b\\c\nd"), "a\\\"b\\\\c\\nd", "prom_quote escapes a label value");
	IS(quoted(display_quote, "id\x1b[2J\n"), "id\\x1B[2J\\x0A", "display_quote escapes control characters");
	IS(quoted(display_quote, "Größe \"q\" \\"), "Größe \"q\" \\",
	   "display_quote keeps text, quotes, backslash");
	IS(quoted(display_quote, "a\xc2\x9b"
							 "b"),
	   "a\\xC2\\x9Bb", "display_quote escapes a C1 control (CSI)");

	sb_init(&sb);
	array_begin(&sb);
	array_add(&sb, "plain");
	array_add(&sb, "with \"quote\" and \\");
	array_add(&sb, NULL);
	array_end(&sb);
	IS(sb.data, "{\"plain\",\"with \\\"quote\\\" and \\\\\",NULL}",
	   "array builder quotes items and writes NULL");
	sb_free(&sb);
	sb_init(&sb);
	array_begin(&sb);
	array_end(&sb);
	IS(sb.data, "{}", "array builder: an empty array");
	sb_free(&sb);
}

static void
test_numbers(void)
{
	long n = 0;
	long long b = 0;
	double d = 0;
	char buf[64];

	OK(parse_long("42", &n) && n == 42, "parse_long reads a number");
	OK(!parse_long("42x", &n) && !parse_long("", &n) && !parse_long(NULL, &n), "parse_long refuses junk");
	OK(parse_double("2.5", &d) && d == 2.5, "parse_double reads a fraction");
	OK(!parse_double("inf", &d) && !parse_double("nan", &d), "parse_double refuses infinities");
	OK(parse_seconds("0.5", &d) && d == 0.5, "parse_seconds reads a fraction of a second");
	OK(!parse_seconds("0", &d) && !parse_seconds("-1", &d), "parse_seconds wants more than 0");
	OK(parse_bytes("64kB", &b) && b == 65536, "parse_bytes reads kB as 1024");
	OK(parse_bytes("2 MB", &b) && b == 2097152, "parse_bytes allows a space before the unit");
	OK(parse_bytes("1gb", &b) && b == 1073741824LL, "parse_bytes ignores the unit's case");
	OK(!parse_bytes("lots", &b) && !parse_bytes("1 XB", &b) && !parse_bytes("-1", &b),
	   "parse_bytes refuses junk");
	OK(!parse_bytes("9223372036854775807TB", &b), "parse_bytes refuses an overflow");
	IS(format_bytes(1536, buf, sizeof(buf)), "1.5 kB", "format_bytes: kB");
	IS(format_bytes(12, buf, sizeof(buf)), "12 B", "format_bytes: bytes");
	IS(format_duration(12.44, buf, sizeof(buf)), "12.4s", "format_duration: seconds");
	IS(format_duration(185, buf, sizeof(buf)), "3m05s", "format_duration: minutes");
	IS(format_duration(3720, buf, sizeof(buf)), "1h02m", "format_duration: hours");
	IS(format_duration(NAN, buf, sizeof(buf)), "-", "format_duration: unknown");
	IS(format_seconds(0.35, buf, sizeof(buf)), "350 ms", "format_seconds: milliseconds under a second");
	IS(format_timestamp(0.25, buf, sizeof(buf)), "1970-01-01T00:00:00.250000Z",
	   "format_timestamp: UTC with us");
}

static char *
render(const char *text, tpl_mode mode)
{
	tpl_vars *v = tpl_vars_new();
	char *items[] = {"a.*", "b c"};
	char *out;

	tpl_set(v, "name", "x y");
	tpl_set(v, "flag", "true");
	tpl_set(v, "off", "false");
	tpl_set_list(v, "list", items, 2);
	tpl_set_list(v, "empty", NULL, 0);
	out = tpl_render("unit", text, v, mode);
	tpl_vars_free(v);
	return out;
}

static void
test_templates(void)
{
	char *s;

	s = render("v={{name}}\n", TPL_SHELL);
	IS(s, "v='x y'\n", "a value is one shell word in a script");
	free(s);
	s = render("v={{name}}\n", TPL_TEXT);
	IS(s, "v=x y\n", "a value is text in the runbook");
	free(s);
	s = render("{{#list}}- {{.}}\n{{/list}}", TPL_TEXT);
	IS(s, "- a.*\n- b c\n", "a list section repeats per item");
	free(s);
	s = render("{{^empty}}none\n{{/empty}}{{^list}}never\n{{/list}}", TPL_TEXT);
	IS(s, "none\n", "an inverted section renders for an empty list only");
	free(s);
	s = render("{{#flag}}on{{/flag}}{{#off}}off{{/off}}{{^off}}!{{/off}}", TPL_TEXT);
	IS(s, "on!", "a value section renders unless the value is false");
	free(s);
	s = render("a\n  {{! a comment }}\nb\n", TPL_TEXT);
	IS(s, "a\nb\n", "a standalone comment takes its line with it");
	free(s);
	s = render("{{nope}}", TPL_TEXT);
	OK(s == NULL, "an unknown name is an error, not an empty string");
	free(s);
	s = render("{{name", TPL_TEXT);
	OK(s == NULL, "an unclosed tag is an error");
	s = render("{{#list}}x", TPL_TEXT);
	OK(s == NULL, "an unclosed section is an error");
	s = render("{{/list}}", TPL_TEXT);
	OK(s == NULL, "a stray close is an error");
	s = render("{{list}}", TPL_TEXT);
	OK(s == NULL, "a list used as a value is an error");
}

static char *
hash_of(const hash_column *cols, int n)
{
	return diff_hash_expr(cols, n, false);
}

/* Whether every "name(" in expr is pg_catalog.name( (coalesce is a keyword). */
static bool
every_call_qualified(const char *expr)
{
	const char *p;

	for (p = expr; (p = strchr(p, '(')) != NULL; p++) {
		const char *start = p;

		while (start > expr && (isalnum((unsigned char) start[-1]) || start[-1] == '_'))
			start--;
		if (start == p || (p - start == 8 && strncmp(start, "coalesce", 8) == 0) ||
			(p - start == 8 && strncmp(start, "operator", 8) == 0))
			continue;
		if (start - expr < 11 || strncmp(start - 11, "pg_catalog.", 11) != 0)
			return false;
	}
	return true;
}

static void
test_row_hash(void)
{
	hash_column cols[] = {
		{"id", true, HASH_INT8, NULL},     {"amount", false, HASH_TEXT, NULL},
		{"name", true, HASH_TEXT, NULL},   {"flag", false, HASH_BOOL, NULL},
		{"born", false, HASH_DATE, NULL},  {"ratio", true, HASH_FLOAT, "pg_catalog.hashfloat8extended"},
		{"code", true, HASH_BPCHAR, NULL},
	};
	hash_column swapped[] = {cols[0], cols[2], cols[1], cols[3], cols[4], cols[5], cols[6]};
	hash_column many[120];
	char *a = hash_of(cols, 7), *b, *c;
	int i;

	LACKS(a, "hash_record_extended", "the row hash needs no hash_record_extended (PostgreSQL 14)");
	HAS(a,
		"pg_catalog.hashint4extended((id operator(pg_catalog.>>) 32)::pg_catalog.int4, pg_catalog.hashint8extended(id, ",
		"a bigint adds its high half to its hash (which folds 2^32 onto 1)");
	HAS(a, "amount::pg_catalog.text collate", "a numeric is hashed through its text (sign, scale, NaN)");
	HAS(a, "when ratio::pg_catalog.text operator(pg_catalog.=) '-0' then 1",
		"a float's -0 hashes apart from 0");
	LACKS(a, "hash_numeric_extended", "no numeric hash: it takes 1.0 as 1.00 and -1.5 as 1.5");
	LACKS(a, "hash_array_extended", "no array hash: it ignores the bounds, and its seed when empty");
	HAS(a, "name::pg_catalog.text collate pg_catalog.\"C\"", "a text is hashed byte by byte");
	HAS(a, "pg_catalog.hashbpcharextended(code collate pg_catalog.\"C\", ",
		"a character(n) is hashed by bpchar's hash, not through a cast to text");
	LACKS(a, "code::pg_catalog.text", "a character(n) is not cast to text");
	HAS(a, "case when flag then", "a boolean picks a seed");
	HAS(a, "when born operator(pg_catalog.<) '2000-01-01'", "a date's CASE keeps NULL apart from -infinity");
	LACKS(a, "else -2147483647", "a NULL date does not hash like a value");
	HAS(a, "coalesce(", "a nullable column leaves a trace when NULL");
	OK(every_call_qualified(a), "every function the expression calls is schema-qualified");
	b = hash_of(cols, 7);
	IS(a, b, "the same columns give the same expression");
	c = hash_of(swapped, 7);
	OK(strcmp(a, c) != 0, "the order of the columns counts");
	free(a);
	free(b);
	free(c);
	for (i = 0; i < 120; i++) {
		many[i].quoted = "c";
		many[i].notnull = true;
		many[i].kind = HASH_FN;
		many[i].fn = "pg_catalog.hashint4extended";
	}
	a = hash_of(many, 120);
	OK(a && strlen(a) < 20000, "120 columns give an expression of bounded size (the chain is cut)");
	free(a);
	a = diff_hash_expr(cols, 7, true);
	HAS(a, "pg_catalog.convert_to(name::pg_catalog.text, 'UTF8')",
		"between servers of different encodings, text is hashed as UTF-8");
	HAS(a, "pg_catalog.convert_to(code::pg_catalog.text, 'UTF8')",
		"between servers of different encodings, a character(n) is hashed as its UTF-8 text too");
	free(a);
	a = hash_of(NULL, 0);
	IS(a, "pg_catalog.hashint8extended(0, 0)", "a table without columns hashes to a constant");
	free(a);
	OK(diff_hash_kind("int8") == HASH_INT8 && diff_hash_kind("whatever") == HASH_TEXT,
	   "an unknown kind is hashed as text");
}

static void
test_sql_files(void)
{
	static const char *const slot_vars[] = {"slot", NULL};
	static const char *const expr_vars[] = {"subid=(select oid from sub)", NULL};
	char *s;

	s = sql_load("lag", 150000, slot_vars);
	HAS(s, "slot_name = $1", "a psql variable becomes a parameter");
	LACKS(s, "= :'slot'", "no psql variable is left outside the comments");
	free(s);
	s = sql_load("slot", 120000, slot_vars);
	HAS(s, "-1::pg_catalog.int8 as max_slot_keep",
		"PostgreSQL 12 gets slot-pg12.sql (no max_slot_wal_keep_size)");
	free(s);
	s = sql_load("slot", 130000, slot_vars);
	HAS(s, "current_setting('max_slot_wal_keep_size')", "PostgreSQL 13 gets slot.sql");
	free(s);
	s = sql_load("apply-worker", 150000, expr_vars);
	LACKS(s, "leader_pid", "before 16 the apply worker is the one without relid");
	HAS(s, "(select oid from sub)::pg_catalog.oid", "a variable may stand for an expression of the query");
	free(s);
	s = sql_load("apply-worker", 180000, expr_vars);
	HAS(s, "leader_pid is null", "from 16 on the apply worker is the leader");
	free(s);
	s = sql_load("relations", 150000, NULL);
	OK(s == NULL, "a file whose variable is not given is an error");
	s = sql_load("no-such-file", 150000, NULL);
	OK(s == NULL, "an unknown file is an error");
	s = sql_tables(110000);
	HAS(s, "r.in_migration", "the migration's tables come from relations.sql");
	HAS(s, "'\\\\\\1'", "a quoted literal is left as it is");
	free(s);
}

/* A snapshot of a healthy subscription: two tables streaming, no lag. */
static void
healthy(snapshot *s, table_row *rows)
{
	int i;

	memset(s, 0, sizeof(*s));
	memset(rows, 0, 2 * sizeof(table_row));
	s->enabled = true;
	s->worker_pid = 4242;
	s->slot_name = xstrdup("sub");
	s->slot_found = true;
	s->slot_active = true;
	s->slot_keep_known = true;
	s->lag.known = true;
	s->lag.bytes = 0;
	s->max_slot_keep = -1;
	s->max_wal_size = 1 << 30;
	s->receipt_age = s->end_age = 0.1;
	s->apply_errors = s->sync_errors = NAN;
	s->wal_dir = s->safe_wal_size = NAN;
	s->hb = HB_OFF;
	s->tables = xcalloc(2, sizeof(table_row));
	for (i = 0; i < 2; i++) {
		s->tables[i].schema = xstrdup("public");
		s->tables[i].name = xstrdup(i ? "b" : "a");
		s->tables[i].state = STATE_STREAMING;
		s->tables[i].substate = 'r';
		s->tables[i].size = 8192;
		s->tables[i].copy_rate = NAN;
	}
	s->ntables = 2;
	(void) rows;
}

static bool
says(char **list, int n, const char *part)
{
	int i;

	for (i = 0; i < n; i++)
		if (strstr(list[i], part))
			return true;
	return false;
}

static void
test_verdict(void)
{
	progress_options o;
	history h = {0};
	snapshot s;
	table_row rows[2];

	memset(&o, 0, sizeof(o));
	o.sub = "sub";
	o.sub_sql = "sub";
	o.max_lag = 1024 * 1024;
	o.max_lag_seconds = 5;

	healthy(&s, rows);
	progress_evaluate(&s, &o, &h);
	OK(s.in_sync && s.nwhy == 0, "every table streaming without lag: in sync");
	snapshot_free(&s);

	healthy(&s, rows);
	s.enabled = false;
	progress_evaluate(&s, &o, &h);
	OK(!s.in_sync && says(s.why, s.nwhy, "disabled"), "a disabled subscription is not in sync");
	snapshot_free(&s);

	healthy(&s, rows);
	s.tables[1].state = STATE_NOT_REPLICATED;
	progress_evaluate(&s, &o, &h);
	OK(!s.in_sync && says(s.why, s.nwhy, "not replicated: public.b"), "a table not replicated is named");
	OK(!says(s.why, s.nwhy, "not streaming yet"), "it is not counted as not streaming yet");
	snapshot_free(&s);

	healthy(&s, rows);
	s.tables[0].state = STATE_COPYING;
	progress_evaluate(&s, &o, &h);
	OK(!s.in_sync && says(s.why, s.nwhy, "1 of 2 tables not streaming yet"), "a table under copy is counted");
	snapshot_free(&s);

	healthy(&s, rows);
	s.lag.known = false;
	progress_evaluate(&s, &o, &h);
	OK(!s.in_sync && says(s.why, s.nwhy, "the lag is unknown"), "an unknown lag is never in sync");
	snapshot_free(&s);

	healthy(&s, rows);
	s.lag.bytes = 2 * 1024 * 1024;
	s.receipt_age = 9;
	progress_evaluate(&s, &o, &h);
	OK(!s.in_sync && says(s.why, s.nwhy, "lag 2.0 MB > 1.0 MB"), "a lag in bytes over the limit is named");
	OK(says(s.why, s.nwhy, "(lag_max_seconds)"), "a lag in seconds over lag_max_seconds is named");
	snapshot_free(&s);

	healthy(&s, rows);
	s.lag.bytes = 100;
	s.receipt_age = 9;
	o.max_lag_seconds = 0;
	progress_evaluate(&s, &o, &h);
	OK(s.in_sync, "without lag_max_seconds only the bytes count");
	o.max_lag_seconds = 5;
	snapshot_free(&s);

	healthy(&s, rows);
	s.wal_status = xstrdup("lost");
	progress_evaluate(&s, &o, &h);
	OK(!s.in_sync && says(s.why, s.nwhy, "wal_status lost"), "a slot that lost WAL is never in sync");
	OK(says(s.why, s.nwhy, "./drop-sub then ./create-sub"), "a lost slot says how to start over");
	OK(s.stop_wait != NULL, "a lost slot ends --wait");
	snapshot_free(&s);

	healthy(&s, rows);
	s.slot_active = false;
	progress_evaluate(&s, &o, &h);
	OK(!s.in_sync && says(s.why, s.nwhy, "no walsender on SRC serves slot sub"),
	   "a slot no walsender holds is never in sync, lag or not");
	snapshot_free(&s);

	healthy(&s, rows);
	s.max_slot_keep = 100 * 1024 * 1024;
	s.wal_retained = 85 * 1024 * 1024;
	progress_evaluate(&s, &o, &h);
	OK(says(s.warnings, s.nwarnings, "85% of max_slot_wal_keep_size") && s.stop_wait == NULL,
	   "80% of max_slot_wal_keep_size warns, --wait goes on");
	snapshot_free(&s);

	healthy(&s, rows);
	s.max_slot_keep = 100 * 1024 * 1024;
	s.wal_retained = 96 * 1024 * 1024;
	progress_evaluate(&s, &o, &h);
	OK(s.stop_wait && strstr(s.stop_wait, "SRC invalidates it soon"),
	   "95% of max_slot_wal_keep_size ends --wait");
	snapshot_free(&s);

	healthy(&s, rows);
	o.wal_budget = 10 * 1024 * 1024;
	s.wal_retained = 9 * 1024 * 1024;
	progress_evaluate(&s, &o, &h);
	OK(says(s.warnings, s.nwarnings, "90% of wal_budget_bytes (10.0 MB)") && s.stop_wait == NULL,
	   "90% of the WAL budget warns");
	snapshot_free(&s);
	healthy(&s, rows);
	s.wal_retained = 11 * 1024 * 1024;
	progress_evaluate(&s, &o, &h);
	OK(s.stop_wait && strstr(s.stop_wait, "over the budget"), "past the WAL budget ends --wait");
	o.wal_budget = 0;
	snapshot_free(&s);

	healthy(&s, rows);
	s.worker_pid = 0;
	progress_evaluate(&s, &o, &h);
	OK(!s.in_sync && says(s.why, s.nwhy, "apply worker is not running"), "no apply worker: not in sync");
	OK(isnan(s.lag_seconds) || s.lag_seconds == 0, "without a worker the seconds come from the bytes only");
	snapshot_free(&s);
}

static void
test_config(void)
{
	char path[] = "/tmp/migkit-unit-XXXXXX";
	int fd = mkstemp(path);
	const char *yml =
		"src_cls: pg-meta\nsrc_db: meta\nsrc_ip: 10.0.0.1\ndst_cls: pg-test\ndst_db: meta\ndst_ip: 10.0.0.2\n";
	mk_config *c;
	const key_def *k;
	int n = 0;

	OK(fd >= 0 && write(fd, yml, strlen(yml)) == (ssize_t) strlen(yml), "a config file is written");
	close(fd);
	c = config_load(path);
	OK(c != NULL, "a minimal config loads");
	if (c) {
		IS(config_get(c, "pub_name"), "pub_pg_meta_meta", "pub_name is derived as the original kit did");
		IS(config_get(c, "sub_conn"), "host=10.0.0.1 dbname=meta user=replicator", "sub_conn is derived");
		IS(config_get(c, "lag_max_seconds"), "5", "lag_max_seconds defaults to 5");
		config_free(c);
	}
	unlink(path);
	for (k = config_keys; k->name; k++)
		n++;
	OK(n > 20, "the key table lists every key");
}

/* The fast copy's state file: written, read back as it was (libyaml reads the JSON). */
static void
test_copy_state(void)
{
	char path[] = "/tmp/migkit-unit-state.XXXXXX";
	int fd = mkstemp(path);
	copy_state *st = copy_state_new("sub_x"), *back;
	copy_table *t;
	copy_deferred *d = xcalloc(1, sizeof(*d));
	char *sql;

	close(fd);
	st->path = path;
	st->lsn = xstrdup("0/1A2B3C");
	st->snapshot = xstrdup("00000003-0000001B-1");
	t = copy_state_table(st, "public.\"Order \"\"Items\"\"\"", true);
	t->done = true;
	t->size = 8192;
	t->rows = 42;
	t = copy_state_table(st, "sch\u00e9ma.t\tab", true);
	t->size = 1LL << 40;
	d->step = 2;
	d->kind = xstrdup("index");
	d->table = xstrdup("public.t");
	d->name = xstrdup("t_v");
	d->drop_sql = xstrdup("DROP INDEX IF EXISTS public.t_v;");
	d->create_sql = xstrdup(
		"CREATE INDEX t_v ON public.t USING btree (v);\nCOMMENT ON INDEX public.t_v IS 'it''s \"v\": a\\b';");
	st->deferred = xcalloc(1, sizeof(copy_deferred *));
	st->deferred[st->ndeferred++] = d;
	st->los = 3;
	OK(copy_state_write(st, path), "a state file is written");
	back = copy_state_read(path);
	OK(back != NULL, "and read back");
	if (back) {
		IS(back->slot, "sub_x", "the slot");
		IS(back->snapshot, "00000003-0000001B-1", "the snapshot");
		OK(back->ntables == 2 && back->tables[0]->done && !back->tables[1]->done, "which tables are done");
		IS(back->tables[0]->name, "public.\"Order \"\"Items\"\"\"", "a quoted name with quotes");
		IS(back->tables[1]->name, "sch\u00e9ma.t\tab", "a name with a tab and non-ASCII text");
		OK(back->tables[1]->size == 1LL << 40 && back->tables[0]->rows == 42, "sizes and rows");
		OK(back->ndeferred == 1 && back->deferred[0]->step == 2 && !back->deferred[0]->done,
		   "the deferred index");
		if (back->ndeferred == 1)
			IS(back->deferred[0]->create_sql, d->create_sql,
			   "its SQL, with a newline, quotes and a backslash");
		OK(back->los == 3 && !back->los_done, "the large objects");
		copy_state_free(back);
	}
	unlink(path);
	copy_state_free(st);
	sql = copy_snapshot_import_sql("00000003-0000001B-1");
	IS(sql, "set transaction snapshot '00000003-0000001B-1'", "a snapshot is imported by its name");
	free(sql);
	OK(copy_snapshot_import_sql("x'; drop table t; --") == NULL,
	   "a name that is no snapshot name is refused");
}

/* html_quote of s (static buffer). */
static const char *
html(const char *s)
{
	return quoted(html_quote, s);
}

static const char *
unquoted(const char *word)
{
	static char out[256];
	char *v = shell_unquote(word);

	snprintf(out, sizeof(out), "%s", v ? v : "(refused)");
	free(v);
	return out;
}

static void
test_html_and_unquote(void)
{
	IS(html("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;",
	   "html_quote makes a tag text");
	IS(html("a & b \"c\" 'd'"), "a &amp; b &quot;c&quot; &#39;d&#39;",
	   "html_quote escapes & and both quotes");
	IS(html("caf\xC3\xA9 \xE2\x86\x92"), "caf\xC3\xA9 \xE2\x86\x92", "html_quote keeps valid UTF-8");
	IS(html("x\xFFy"), "x\\xFFy", "html_quote shows a byte that is not UTF-8 as \\xNN");
	IS(html("a\x1b[31mb"), "a\\x1B[31mb", "html_quote shows a control character as \\xNN");
	IS(html("line\nnext\tcol"), "line\nnext\tcol", "html_quote keeps newline and tab");
	IS(html("\xC2\x85"), "\\xC2\\x85", "html_quote shows a C1 control as \\xNN");
	IS(html(""), "", "html_quote of nothing is nothing");

	IS(unquoted("pg-meta.meta"), "pg-meta.meta", "shell_unquote reads a bare word");
	IS(unquoted("'a b'"), "a b", "shell_unquote reads a quoted word");
	IS(unquoted("'it'\\''s'"), "it's", "shell_unquote reads shell_quote's form of a quote");
	IS(unquoted("''"), "", "shell_unquote reads the empty word");
	IS(unquoted(shell("x'; rm -rf / #")), "x'; rm -rf / #", "shell_unquote undoes shell_quote");
	IS(unquoted("$HOME"), "(refused)", "shell_unquote refuses an expansion");
	IS(unquoted("'open"), "(refused)", "shell_unquote refuses an open quote");
	IS(unquoted("a b"), "(refused)", "shell_unquote refuses two words");
}

static void
test_timestamps(void)
{
	double t = 0;
	char buf[40];

	OK(parse_timestamp("1970-01-01T00:00:00Z", &t) && t == 0, "parse_timestamp reads the epoch");
	OK(parse_timestamp("2024-05-01T10:00:00.250Z", &t) && fabs(t - 1714557600.25) < 1e-6,
	   "parse_timestamp reads milliseconds");
	OK(parse_timestamp("2024-05-01 12:00:00.5+02", &t) && fabs(t - 1714557600.5) < 1e-6,
	   "parse_timestamp reads PostgreSQL's form with an offset");
	OK(parse_timestamp("2024-05-01T05:30:00-04:30", &t) && t == 1714557600, "parse_timestamp reads -HH:MM");
	OK(!parse_timestamp("2024-05-01T10:00:00", &t), "parse_timestamp wants a zone");
	OK(!parse_timestamp("2024-13-01T10:00:00Z", &t) && !parse_timestamp("2024-05-01T10:00Z", &t) &&
		   !parse_timestamp("yesterday", &t) && !parse_timestamp("2024-05-01T10:00:00Zjunk", &t),
	   "parse_timestamp refuses junk");
	IS(report_time(1714557600, buf, sizeof(buf)), "2024-05-01T10:00:00Z", "report_time: whole seconds");
	IS(report_time(1714557600.25, buf, sizeof(buf)), "2024-05-01T10:00:00.250Z", "report_time: milliseconds");
	IS(report_time(NAN, buf, sizeof(buf)), "-", "report_time: unknown");
}

static jv *
parse(const char *text, jv_error *err)
{
	return jv_parse(text, strlen(text), err);
}

static void
test_json_read(void)
{
	jv_error err;
	jv *v;
	double d = 0;
	bool b = false;

	v = parse(
		" {\"a\": [1, -2.5e1, true, null, \"x\\n\\u00e9\\ud83d\\ude00\"], \"b\": {\"c\": \"d\"}, \"a2\": {}}\n",
		&err);
	OK(v && v->type == JV_OBJECT && v->n == 3, "jv_parse reads an object");
	OK(jv_count(jv_get(v, "a")) == 5, "jv_parse reads an array");
	OK(jv_num(jv_item(jv_get(v, "a"), 1), &d) && d == -25, "jv_parse reads a number with an exponent");
	IS(jv_item(jv_get(v, "a"), 1) ? jv_item(jv_get(v, "a"), 1)->text : NULL, "-2.5e1",
	   "a number keeps its text");
	OK(jv_bool(jv_item(jv_get(v, "a"), 2), &b) && b, "jv_parse reads true");
	OK(jv_is(jv_item(jv_get(v, "a"), 3), JV_NULL), "jv_parse reads null");
	IS(jv_str(jv_item(jv_get(v, "a"), 4)), "x\n\xC3\xA9\xF0\x9F\x98\x80",
	   "\\u escapes and surrogate pairs as UTF-8");
	IS(jv_get_str(v, "b.c"), "d", "jv_path follows a dotted path");
	OK(jv_get(v, "missing") == NULL && jv_get_str(v, "b.x") == NULL && jv_get_num(v, "b.c", 7) == 7,
	   "a missing member, or one of another type, is NULL or the default");
	jv_free(v);

	v = parse("{\"k\": 1, \"k\": 2}", &err);
	OK(v && jv_get_num(v, "k", 0) == 2, "the last of two members of one name counts");
	jv_free(v);
	v = parse("\"\\ud800x\"", &err);
	IS(jv_str(v), "\xEF\xBF\xBDx", "a lone surrogate becomes U+FFFD");
	jv_free(v);

	OK(parse("{\"a\": 1,}", &err) == NULL && err.line == 1 && err.column == 9,
	   "a trailing comma is refused, with its column");
	OK(parse("{\n  \"a\": tru\n}", &err) == NULL && err.line == 2, "a bad literal is refused, with its line");
	OK(parse("[1] [2]", &err) == NULL && strstr(err.message, "after the value") != NULL,
	   "text after the value is refused");
	OK(parse("\"a\tb\"", &err) == NULL, "a raw control character in a string is refused");
	OK(parse("01", &err) == NULL && parse("1.", &err) == NULL && parse("-", &err) == NULL,
	   "numbers JSON does not allow are refused");
	OK(parse("", &err) == NULL && parse("{\"a\"}", &err) == NULL && parse("\"open", &err) == NULL,
	   "an empty or cut text is refused");
	{
		char deep[200];

		memset(deep, '[', 100);
		memset(deep + 100, ']', 100);
		OK(jv_parse(deep, sizeof(deep), &err) == NULL && strstr(err.message, "deeper") != NULL,
		   "nesting deeper than the limit is refused");
	}
}

static void
test_chart_reduce(void)
{
	chart_point p[1000];
	int i, n, peak = 0;

	for (i = 0; i < 1000; i++) {
		p[i].t = i;
		p[i].v = i == 555 ? 1e9 : i % 7;
		p[i].run = 0;
	}
	n = chart_reduce(p, 1000, 100);
	OK(n <= 100 && n >= 50, "chart_reduce keeps at most the points asked for");
	for (i = 0; i < n; i++) {
		if (p[i].v == 1e9)
			peak++;
		if (i > 0 && p[i].t < p[i - 1].t)
			break;
	}
	OK(i == n, "chart_reduce keeps the points in time order");
	OK(peak == 1, "chart_reduce keeps the highest point");
	OK(chart_reduce(p, 10, 100) == 10, "chart_reduce leaves a short series as it is");
}

/* What a writer of the report put on a FILE, as a string (caller frees). */
static char *
written(void (*draw)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&buf, &size);

	if (mem == NULL)
		return NULL;
	draw(mem, arg);
	fclose(mem);
	return buf;
}

/* How often part occurs in s. */
static int
occurrences(const char *s, const char *part)
{
	int n = 0;

	while (s && (s = strstr(s, part)) != NULL) {
		n++;
		s += strlen(part);
	}
	return n;
}

typedef struct chart_case {
	const chart_point *p;
	int n;
	bool bytes;
	const chart_mark *marks;
	int nmarks;
} chart_case;

static void
draw_chart(FILE *out, const void *arg)
{
	const chart_case *c = arg;

	chart_write_svg(out, "c<1>", "lag <b>&amp;</b>", c->p, c->n, c->bytes, c->marks, c->nmarks);
}

static void
test_chart_svg(void)
{
	/* Two runs of copy-progress, a minute apart; a lag up to 3000 bytes. */
	static const chart_point p[] = {
		{1714557600, 0, 0},   {1714557601, 3000, 0}, {1714557602, 10, 0},
		{1714557660, 500, 1}, {1714557661, 0, 1},
	};
	static const chart_mark marks[] = {
		{1714557599, "create-sub <&>"},
		{1714557000 - 86400, "long before"},
	};
	chart_case c = {p, 5, true, marks, 2};
	char *svg = written(draw_chart, &c), *d;

	HAS(svg, "<svg class=\"chart\" id=\"c&lt;1&gt;\" viewBox=\"0 0 760 260\"",
		"chart_write_svg: an inline SVG, its id escaped");
	HAS(svg, "<title id=\"c&lt;1&gt;-title\">lag &lt;b&gt;&amp;amp;&lt;/b&gt;</title>",
		"the chart's title is text");
	HAS(svg, ">create-sub &lt;&amp;&gt;</text>", "a mark's label is text");
	LACKS(svg, "long before", "a mark far from the samples is left off the axis");
	LACKS(svg, "<b>", "no markup from the data");
	OK(occurrences(svg, "<circle class=\"dot\"") == 5, "a few samples: each is a dot");
	OK(occurrences(svg, "<path class=\"line\"") == 1, "the line is one path");
	d = svg ? strstr(svg, "<path class=\"line\" d=\"M") : NULL;
	if (d)
		*strchr(d + 23, '"') = '\0'; /* the path's data alone */
	OK(d && occurrences(d, " M") == 1 && occurrences(d, " L") == 3,
	   "a new run starts a new subpath; the points of a run are joined");
	HAS(svg, ">2 kB</text>", "bytes: the y axis in kB at round steps");
	free(svg);

	c.bytes = false;
	c.nmarks = 0;
	svg = written(draw_chart, &c);
	HAS(svg, " s</text>", "seconds: the y axis in seconds");
	free(svg);
	c.n = 0;
	svg = written(draw_chart, &c);
	IS(svg, "", "no point: no chart");
	free(svg);
}

/* Writes text to dir/name. */
static bool
put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

static void
draw_json(FILE *out, const void *arg)
{
	const void *const *a = arg;

	report_write_json(out, a[0], a[1]);
}

static void
draw_html(FILE *out, const void *arg)
{
	const void *const *a = arg;

	report_write_html(out, a[0], a[1]);
}

/* Loads the kit in dir and builds its facts; the JSON form parsed, the HTML form as text. */
static bool
report_of(const char *dir, report_data *d, report_facts *f, jv **json_doc, char **html_text)
{
	const void *arg[2] = {d, f};
	char *text;
	jv_error err;

	*json_doc = NULL;
	*html_text = NULL;
	if (!report_load(dir, d)) {
		report_data_free(d);
		return false;
	}
	report_facts_build(d, f);
	text = written(draw_json, arg);
	*json_doc = text ? jv_parse(text, strlen(text), &err) : NULL;
	free(text);
	*html_text = written(draw_html, arg);
	return true;
}

static void
report_done(report_data *d, report_facts *f, jv *json_doc, char *html_text)
{
	report_facts_free(f);
	report_data_free(d);
	jv_free(json_doc);
	free(html_text);
}

static void
test_report_kit(void)
{
	char dir[] = "/tmp/migkit-unit-kit-XXXXXX", sub[600], cmd[700];
	report_data d;
	report_facts f;
	jv *j;
	char *h;
	bool ok;

	if (mkdtemp(dir) == NULL) {
		OK(false, "a kit directory is made");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/data", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/log", dir);
	mkdir(sub, 0700);

	OK(!report_load(dir, &d), "report_load: a directory without activate is no kit");
	report_data_free(&d);

	ok = put_file(dir, "activate",
				  "# the context\nexport MIGRATION_CONTEXT=app.x\nexport SRCCLS='<i>src'\nexport SRCDB=app\n"
				  "export DSTCLS=dst\nexport DSTDB=app\nexport PUBNAME=$(evil)\n");
	ok = ok && report_of(dir, &d, &f, &j, &h);
	OK(ok && f.verdict == VERDICT_NOT_STARTED && d.njournal == 0 && d.nsamples == 0,
	   "a kit with nothing run: not started");
	if (ok) {
		IS(jv_get_str(j, "verdict.status"), "not-started", "the JSON says not started");
		IS(jv_get_str(j, "report.src.cluster"), "<i>src", "activate's quoted value is read back");
		OK(jv_is(jv_path(j, "report.publication"), JV_NULL),
		   "a value activate does not give as a word is not taken");
		HAS(h, "&lt;i&gt;src", "the page shows the value as text");
		LACKS(h, "<i>src", "the page has no markup from activate");
		LACKS(h, "verified equal", "no verdict is claimed");
		report_done(&d, &f, j, h);
	}

	/*
	 * A switch by hand: create-sub, a check's blocker and the run that
	 * cleared it, samples (the heartbeat's seconds), disable-src,
	 * copy-seq, a copy-diff of the whole set after the fence, re-routing;
	 * the last line of the journal is still being written.
	 */
	ok = put_file(dir, "log/journal",
				  "2024-05-01T10:00:00Z\tcheck-repl\texit=1\t0.900s\t\n"
				  "2024-05-01T10:00:10Z\tcheck-repl\texit=0\t1.100s\t--fix -y\n"
				  "2024-05-01T10:01:00Z\tcreate-sub\texit=0\t0.500s\t-y\n"
				  "2024-05-01T10:05:00Z\tdisable-src\texit=0\t0.200s\t\n"
				  "2024-05-01T10:05:01Z\tcopy-seq\texit=0\t0.100s\t100\n"
				  "2024-05-01T10:05:03Z\tre-routing\texit=0\t0.050s\t\n"
				  "2024-05-01T10:05:0");
	ok = ok &&
		 put_file(
			 dir, "data/checks.jsonl",
			 "{\"at\":\"2024-05-01T09:59:59.100Z\",\"script\":\"check-repl\",\"args\":[],\"status\":"
			 "\"blockers\",\"blockers\":[\"public.t <b>no key</b>\"]}\n"
			 "{\"at\":\"2024-05-01T10:00:09.900Z\",\"script\":\"check-repl\",\"args\":[\"--fix\",\"-y\"],"
			 "\"status\":\"ok\",\"blockers\":[]}\n"
			 "{\"at\":\"2024-05-01T10:00:20.000Z\",\"script\":\"check-misc\",\"args\":[],\"status\":\"ok\","
			 "\"blockers\":[],\"large_objects\":3}\n");
	ok = ok && put_file(dir, "data/progress.jsonl",
						"{\"time\":\"2024-05-01T10:01:01.000Z\",\"run\":\"r1\",\"in_sync\":false,\"tables\":{"
						"\"total\":2,\"streaming\":0},\"size_bytes\":1000,\"copied_bytes\":100,"
						"\"throughput_bytes_per_second\":400,\"lag\":{\"bytes\":4096,\"seconds\":null}}\n"
						"{\"time\":\"2024-05-01T10:01:03.000Z\",\"run\":\"r1\",\"in_sync\":true,\"tables\":{"
						"\"total\":2,\"streaming\":2},\"size_bytes\":1000,\"copied_bytes\":1000,\"lag\":{"
						"\"bytes\":8192,\"seconds\":1.5,\"seconds_source\":\"heartbeat\"}}\n"
						"{\"time\":\"2024-05-01T10:04:00.000Z\",\"run\":\"r2\",\"in_sync\":true,\"tables\":{"
						"\"total\":2,\"streaming\":2},\"size_bytes\":1000,\"copied_bytes\":1000,\"lag\":{"
						"\"bytes\":0,\"seconds\":0.25,\"seconds_source\":\"heartbeat\"}}\n");
	ok =
		ok &&
		put_file(dir, "data/diff-20240501T100502.000Z.json",
				 "{\"script\":\"copy-diff\",\"started_at\":\"2024-05-01T10:05:02.000Z\",\"finished_at\":"
				 "\"2024-05-01T10:05:02.500Z\",\"args\":[\"--checksum\"],\"exit\":0,\"result\":{\"mode\":"
				 "\"checksum\",\"status\":\"equal\",\"after_fence\":true,\"tables\":[{\"table\":\"public.a\","
				 "\"rows_src\":10},{\"table\":\"public.b\",\"rows_src\":5}],\"summary\":{\"tables\":2,"
				 "\"equal\":2}}}\n");
	ok = ok && report_of(dir, &d, &f, &j, &h);
	OK(ok, "report_load reads the kit's records");
	if (ok) {
		OK(d.njournal == 6, "the journal's line being written is left out");
		OK(f.verdict == VERDICT_DONE_VERIFIED && f.by_hand.fence && f.by_hand.seq,
		   "a switch by hand with a copy-diff of the whole set after the fence: done, verified");
		IS(jv_get_str(j, "verdict.verified_by"), "data/diff-20240501T100502.000Z.json",
		   "the JSON names the comparison that verified");
		OK(f.nblockers == 1 && f.blockers[0].cleared == &d.checks[1],
		   "the blocker, and the run that cleared it");
		OK(f.misc == &d.checks[2] && jv_get_num(j, "not_carried.large_objects", 0) == 3,
		   "check-misc's findings are what replication did not carry");
		OK(f.copy.streaming == &d.samples[1] && f.copy.rows == 15 && fabs(f.copy.seconds_max - 3.5) < 1e-9,
		   "the initial copy: when every table streamed, its rows, at most how long it took");
		OK(f.max_lag == 8192 && f.max_lag_seconds == 1.5, "the highest lag, in bytes and in seconds");
		IS(jv_get_str(j, "lag.last.seconds_source"), "heartbeat",
		   "the JSON says the seconds are the heartbeat's");
		OK(jv_count(jv_path(j, "lag.points")) == 3 && jv_get_num(j, "lag.runs", 0) == 2,
		   "the chart's points and runs");
		OK(jv_count(jv_get(j, "timeline")) == 6, "the timeline has every journal line");
		HAS(h, "<svg class=\"chart\" id=\"lag-bytes-chart\"", "the page draws the lag in bytes");
		HAS(h, "<svg class=\"chart\" id=\"lag-seconds-chart\"", "and in seconds");
		HAS(h, "from the heartbeat table", "the page says the seconds are the heartbeat's");
		HAS(h, "public.t &lt;b&gt;no key&lt;/b&gt;", "a blocker's text is text on the page");
		LACKS(h, "<b>no key", "no markup from a check's record");
		HAS(h, "<p class=\"headline\">Migration done, verified equal</p>", "the page's verdict");
		OK(occurrences(h, "<script") == 0 && occurrences(h, "src=") == 0 && occurrences(h, "href=") == 0,
		   "the page has no script and loads nothing");
		report_done(&d, &f, j, h);
	}

	/* The same switch, the copy-diff run before the fence: not verified. */
	snprintf(cmd, sizeof(cmd), "%s/data/diff-20240501T100502.000Z.json", dir);
	ok = put_file(
		dir, "data/diff-20240501T100459.000Z.json",
		"{\"started_at\":\"2024-05-01T10:04:59.000Z\",\"args\":[],\"exit\":0,\"result\":{\"mode\":"
		"\"count\",\"status\":\"equal\",\"after_fence\":false,\"tables\":[],\"summary\":{\"tables\":2}}}\n");
	ok = ok && unlink(cmd) == 0 && report_of(dir, &d, &f, &j, &h);
	OK(ok && f.verdict == VERDICT_DONE_UNVERIFIED && f.verified_by == NULL,
	   "a copy-diff before the fence verifies nothing: done, not verified");
	if (ok) {
		IS(jv_get_str(j, "verdict.status"), "done-unverified", "the JSON says not verified");
		LACKS(h, "verified equal", "the page claims no verification");
		report_done(&d, &f, j, h);
	}

	/* Records that cannot be read stop the report. */
	ok = put_file(dir, "data/versions.jsonl", "{\"at\":\"2024-05-01T10:00:00Z\",\"side\":\"MID\"}\n");
	OK(ok && !report_load(dir, &d), "a version record of no side is refused");
	report_data_free(&d);
	ok = put_file(dir, "data/versions.jsonl", "[1]\n");
	OK(ok && !report_load(dir, &d), "a line that is no JSON object is refused");
	report_data_free(&d);
	ok = put_file(dir, "data/versions.jsonl", "") && put_file(dir, "data/cutover.json", "{\"status\":");
	OK(ok && !report_load(dir, &d), "a cut data/cutover.json is refused");
	report_data_free(&d);
	ok = put_file(dir, "data/cutover.json", "{}") &&
		 put_file(dir, "data/notes.jsonl", "{\"at\":\"then\",\"note\":\"x\"}\n");
	OK(ok && !report_load(dir, &d), "a note with no readable time is refused");
	report_data_free(&d);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	OK(system(cmd) == 0, "the kit directory is removed");
}

static void
test_run_args(void)
{
	jv_error err;
	const char *text = "{\"args\":[\"--checksum\",\"--table\",\"a b\",\"it's\",\"\",\"$x\"]}";
	kept_run r;
	char *s;

	memset(&r, 0, sizeof(r));
	r.doc = jv_parse(text, strlen(text), &err);
	s = r.doc ? report_run_args(&r) : NULL;
	IS(s, "--checksum --table 'a b' 'it'\\''s' '' '$x'", "report_run_args: shell words, quoted where needed");
	free(s);
	jv_free(r.doc);
}

int
main(void)
{
	test_quoting();
	test_numbers();
	test_templates();
	test_row_hash();
	test_sql_files();
	test_verdict();
	test_config();
	test_copy_state();
	test_html_and_unquote();
	test_timestamps();
	test_json_read();
	test_chart_reduce();
	test_chart_svg();
	test_run_args();
	test_report_kit();
	return tap_done();
}
