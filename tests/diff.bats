#!/usr/bin/env bats
# migkit diff and the kit's copy-diff, against two real clusters with logical
# replication running from SRC to DST.  The tests run in order: first equal
# data under live replication, then the subscription is disabled and DST is
# changed by hand so the differences persist.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database shop"
		pg_psql "$side" shop <<'SQL'
create schema "Sales Ünï";
create table public.items (
  id bigserial primary key, name text not null, amount numeric(12,2),
  created timestamptz not null, flag boolean, tags text[], doc json,
  born date, blob bytea, pos point);
create table public.pairs (region text, num int, val text, primary key (region, num));
create table public.nopk (a int, b text);
alter table public.nopk replica identity full;
create table public."Order Items" ("Item Id" int primary key, "select" text, "Größe" numeric);
create table public."select" (id int primary key, "from" text);
create table "Sales Ünï"."données" (clé text primary key, valeur int);
create table public.events (id int, at date, what text, primary key (id, at)) partition by range (at);
create table public.events_2023 partition of public.events for values from ('2023-01-01') to ('2024-01-01');
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
create sequence public."Invoice No";
SQL
	done
	pg_psql SRC shop <<'SQL'
insert into public.items (name, amount, created, flag, tags, doc, born, blob, pos)
select 'item ' || g, g * 1.5, timestamptz '2024-01-01' + g * interval '1 hour',
       case when g % 3 = 0 then null else g % 2 = 0 end, array['t', g::text],
       json_build_object('g', g), date '2000-01-01' + g,
       case when g % 5 <> 0 then decode(md5(g::text), 'hex') end, point(g, -g)
  from generate_series(1, 2000) g;
insert into public.pairs select r, n, r || n from unnest(array['eu', 'us', 'apac']) r, generate_series(1, 200) n;
insert into public.nopk select g, 'b' || g from generate_series(1, 100) g;
insert into public."Order Items" select g, 'sel ' || g, g / 3.0 from generate_series(1, 300) g;
insert into public."select" select g, 'from ' || g from generate_series(1, 50) g;
insert into "Sales Ünï"."données" select 'clé ' || g, g from generate_series(1, 80) g;
insert into public.events select g, date '2023-06-01' + g, 'event ' || g from generate_series(1, 400) g;
create publication pub for table public.items, public.pairs, public.nopk,
  public."Order Items", public."select", "Sales Ünï"."données", public.events;
SQL
	pg_sql DST shop "create subscription sub connection 'host=127.0.0.1 port=$SRC_PORT dbname=shop user=postgres' publication pub"
	wait_for_sync
	# Sequences are not replicated: start DST where SRC is, as copy-seq would.
	pg_sql DST shop "select setval('public.items_id_seq', $(pg_sql SRC shop "select last_value from public.items_id_seq"))" >/dev/null

	KIT=$BATS_FILE_TMPDIR/kit
	write_config "$BATS_FILE_TMPDIR/migration.yml" SRC shop DST shop "pub_name: pub" "sub_name: sub"
	render_kit "$BATS_FILE_TMPDIR/migration.yml" "$KIT"
	export KIT
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	# The helper clears the environment; the kit's names, as activate has them.
	SRCPG="host=127.0.0.1 port=$SRC_PORT user=postgres dbname=shop"
	DSTPG="host=127.0.0.1 port=$DST_PORT user=postgres dbname=shop"
	PUBNAME=pub SUBNAME=sub
	export SRCPG DSTPG PUBNAME SUBNAME
}

# wait_for_sync: until every table of the subscription is ready and DST has SRC's rows.
wait_for_sync() {
	local i
	for i in $(seq 1 150); do
		if [ "$(pg_sql DST shop "select count(*) from pg_subscription_rel where srsubstate <> 'r'")" = 0 ] &&
			[ "$(pg_sql DST shop "select count(*) from pg_subscription_rel")" -gt 0 ] &&
			[ "$(pg_sql SRC shop "select count(*) from public.items")" = "$(pg_sql DST shop "select count(*) from public.items")" ]; then
			return 0
		fi
		sleep 0.2
	done
	echo "the subscription did not catch up" >&2
	return 1
}

@test "equal data: --count, --estimate and --checksum all exit 0" {
	pg_sql SRC shop "analyze"
	pg_sql DST shop "analyze"
	run -0 "$MIGKIT" diff --count
	assert_output --partial 'public.items'
	assert_output --regexp 'public\.items +equal +2000 +2000'
	assert_output --partial 'equal: 7 tables (7 equal, 0 different, 0 missing)'
	assert_output --partial 'tables of publication pub'
	run -0 "$MIGKIT" diff --estimate
	assert_output --partial 'SRC ROWS (EST.)'
	assert_output --partial '~2000'
	assert_output --partial 'by planner estimate (reltuples, approximate)'
	run -0 "$MIGKIT" diff --checksum
	assert_output --regexp 'public\.pairs +equal +600 +600'
	assert_output --partial 'equal: 7 tables (7 equal, 0 different, 0 missing), 2 sequences (2 equal'
}

@test "the report says how far DST was behind SRC, as an LSN pair and bytes" {
	run -0 --separate-stderr "$MIGKIT" diff --count --json
	jq -e '.lag.start.src_lsn | test("^[0-9A-F]+/[0-9A-F]+$")' <<<"$output"
	jq -e '.lag.start.dst_lsn | test("^[0-9A-F]+/[0-9A-F]+$")' <<<"$output"
	jq -e '.lag.start.bytes >= 0' <<<"$output"
	run -0 "$MIGKIT" diff --count
	assert_output --regexp 'DST was [0-9.]+ [kMG]?B behind SRC \(SRC at [0-9A-F]+/[0-9A-F]+, DST confirmed [0-9A-F]+/[0-9A-F]+\)'
}

@test "a difference that is replication lag is re-checked away, not reported" {
	# DST lags for a second: rows written on SRC arrive while diff re-checks.
	pg_sql DST shop "alter subscription sub disable"
	pg_sql SRC shop "insert into public.items (name, created) select 'late ' || g, now() from generate_series(1, 500) g"
	(
		sleep 1
		pg_sql DST shop "alter subscription sub enable"
	) 3>&- &
	run -0 "$MIGKIT" diff --checksum --retries 30 --delay 0.5 --table public.items
	wait
	assert_output --regexp 'public\.items +equal +2500 +2500'
	assert_output --partial 'equal on re-check'
	pg_sql DST shop "select setval('public.items_id_seq', $(pg_sql SRC shop "select last_value from public.items_id_seq"))" >/dev/null
}

@test "--json is one document with every table and sequence" {
	run -0 --separate-stderr "$MIGKIT" diff --checksum --json
	jq -e '.mode == "checksum" and .status == "equal"' <<<"$output"
	jq -e '[.tables[] | .status] | length == 7 and all(. == "equal")' <<<"$output"
	jq -e '.tables[] | select(.name == "items") | .key == ["id"] and .key_source == "primary key" and .rows_src == 2500' <<<"$output"
	jq -e '.tables[] | select(.name == "pairs") | .key == ["region", "num"]' <<<"$output"
	jq -e '.tables[] | select(.name == "nopk") | .rows_locatable == false and .method == "whole-table hash"' <<<"$output"
	jq -e '.sequences | map(.sequence) | index("public.items_id_seq") != null' <<<"$output"
	jq -e '.summary.tables == 7 and .summary.equal == 7' <<<"$output"
}

@test "a table of the migration outside the publication is not replicated: diff and progress name it, never equal or in sync" {
	pg_sql SRC shop "create table public.outside (id int primary key); insert into public.outside select generate_series(1, 500)"
	pg_sql DST shop "create table public.outside (id int primary key)"
	run -1 "$MIGKIT" diff --count --retries 0
	assert_output --regexp 'public\.outside +not replicated +500 +0'
	run -1 "$MIGKIT" diff --checksum --retries 0 --table public.outside
	assert_output --regexp 'public\.outside +not replicated'
	run -1 "$MIGKIT" progress --sub sub
	assert_output --partial "not replicated: public.outside"
	run -1 "$MIGKIT" progress --sub sub --wait --timeout 2
	assert_output --partial "timed out after 2s: not yet in sync"
	pg_sql SRC shop "drop table public.outside"
	pg_sql DST shop "drop table public.outside"
	run -0 "$MIGKIT" diff --count
}

@test "diff and progress refuse SRC and DST being one database" {
	local same="host=127.0.0.1 port=$SRC_PORT dbname=shop user=postgres"
	run -2 --separate-stderr "$MIGKIT" diff --count --dst "$same"
	[[ $stderr == *'SRC and DST are the same database'* ]] || fail "$stderr"
	refute_output --partial equal
	run -2 --separate-stderr "$MIGKIT" progress --sub sub --dst "$same"
	[[ $stderr == *'SRC and DST are the same database'* ]] || fail "$stderr"
}

@test "--checksum names a changed, a missing and an extra row on DST" {
	pg_sql DST shop "alter subscription sub disable"
	pg_psql DST shop <<'SQL'
update public.items set name = 'edited on DST' where id = 10;
delete from public.items where id = 20;
insert into public.items (id, name, created) values (100000, 'only on DST', now());
update public.items set flag = null where id = 31;
update public.items set created = created + interval '1 microsecond' where id = 1500;
SQL
	run -1 "$MIGKIT" diff --checksum --retries 1 --delay 0.1 --table public.items
	assert_output --regexp 'public\.items +different +2500 +2500'
	assert_output --partial 'public.items: changed: id=10'
	assert_output --partial 'public.items: missing on DST: id=20'
	assert_output --partial 'public.items: extra on DST: id=100000'
	assert_output --partial 'public.items: changed: id=31'
	assert_output --partial 'public.items: changed: id=1500'
	assert_output --partial '1 missing on DST, 1 extra on DST, 3 changed'
	run -1 --separate-stderr "$MIGKIT" diff --checksum --retries 0 --table public.items --json
	jq -e '.status == "different"' <<<"$output"
	jq -e '.tables[0].rows | map("\(.kind) \(.key.id)") | sort == ["changed 10", "changed 1500", "changed 31", "extra 100000", "missing 20"]' <<<"$output"
}

@test "--checksum on a bigger table splits it by key ranges and still names the row" {
	pg_psql SRC shop <<'SQL'
create table public.wide as select g as id, md5(g::text) as h from generate_series(1, 120000) g;
alter table public.wide add primary key (id);
SQL
	pg_psql DST shop <<'SQL'
create table public.wide as select g as id, md5(g::text) as h from generate_series(1, 120000) g;
alter table public.wide add primary key (id);
update public.wide set h = 'x' where id = 77777;
delete from public.wide where id = 3;
SQL
	pg_sql SRC shop "alter publication pub add table public.wide"
	run -1 "$MIGKIT" diff --checksum --retries 0 --jobs 3 --table public.wide
	assert_output --regexp 'public\.wide +not replicated +120000 +119999'
	assert_output --partial 'public.wide: changed: id=77777'
	assert_output --partial 'public.wide: missing on DST: id=3'
	pg_sql SRC shop "alter publication pub drop table public.wide"
}

@test "--count finds a count difference and leaves equal counts alone" {
	pg_sql DST shop "delete from public.pairs where region = 'us' and num = 5"
	run -1 "$MIGKIT" diff --count --retries 0
	assert_output --regexp 'public\.pairs +different +600 +599'
	assert_output --regexp 'public\.items +equal +2500 +2500'
	assert_output --partial 'by count'
}

@test "a composite primary key locates rows by the whole key" {
	pg_sql DST shop "update public.pairs set val = 'changed' where region = 'eu' and num = 7"
	run -1 "$MIGKIT" diff --checksum --retries 0 --table public.pairs
	assert_output --partial 'public.pairs: changed: (region, num)=(eu, 7)'
	assert_output --partial 'public.pairs: missing on DST: (region, num)=(us, 5)'
	run -1 --separate-stderr "$MIGKIT" diff --checksum --retries 0 --table public.pairs --json
	jq -e '.tables[0].rows | map(select(.kind == "changed"))[0].key == {"region": "eu", "num": "7"}' <<<"$output"
}

@test "a partitioned table is compared once, through its root" {
	run -0 "$MIGKIT" diff --count --table 'public.event*'
	assert_output --regexp 'public\.events +equal +400 +400'
	refute_output --partial 'events_2023'
	pg_sql DST shop "update public.events set what = 'moved' where id = 7"
	run -1 "$MIGKIT" diff --checksum --retries 0 --table 'public.event*'
	assert_output --partial 'public.events: changed: (id, at)=(7, 2023-06-08)'
}

@test "a table without a key is compared whole and said to be unlocatable" {
	run -0 "$MIGKIT" diff --checksum --retries 0 --table public.nopk
	assert_output --partial 'cannot locate rows'
	pg_sql DST shop "update public.nopk set b = 'changed' where a = 50"
	run -1 "$MIGKIT" diff --checksum --retries 0 --table public.nopk
	assert_output --regexp 'public\.nopk +different +100 +100'
	assert_output --partial 'whole-table hash, cannot locate rows'
	refute_output --partial 'Rows that differ'
}

@test "tables and columns with odd names are compared and located" {
	run -0 "$MIGKIT" diff --checksum --retries 0 --table 'public.select' --table 'Sales*' --table 'public.Order Items'
	assert_output --partial 'public."Order Items"'
	assert_output --partial 'public."select"'
	assert_output --partial '"Sales Ünï"."données"'
	pg_sql DST shop "update public.\"Order Items\" set \"Größe\" = 0 where \"Item Id\" = 42"
	pg_sql DST shop "delete from \"Sales Ünï\".\"données\" where clé = 'clé 9'"
	run -1 "$MIGKIT" diff --checksum --retries 0 --table 'public.Order Items' --table 'Sales Ünï.*'
	assert_output --partial 'public."Order Items": changed: "Item Id"=42'
	assert_output --partial '"Sales Ünï"."données": missing on DST: "clé"=clé 9'
}

@test "a table on one side only is reported as missing" {
	pg_sql DST shop "create table public.only_dst (id int primary key)"
	pg_sql SRC shop "create table public.only_src (id int primary key)"
	pg_sql SRC shop "alter publication pub add table public.only_src"
	run -1 "$MIGKIT" diff --count --retries 0 --table 'public.only*'
	assert_output --regexp 'public\.only_src +missing .*missing on DST'
	assert_output --regexp 'public\.only_dst +missing .*only on DST'
	run -1 --separate-stderr "$MIGKIT" diff --checksum --retries 0 --table 'public.only*' --json
	jq -e '.summary.missing == 2' <<<"$output"
}

@test "a sequence behind SRC is pending before the fence and a difference after it; one ahead of SRC is not" {
	pg_sql SRC shop "select nextval('public.\"Invoice No\"')" >/dev/null
	run -0 "$MIGKIT" diff --estimate --table 'public.Invoice*'
	assert_output --regexp 'public\."Invoice No" +pending +1, true +1, false'
	assert_output --partial "1 sequence (0 equal, 0 ahead, 1 pending, 0 behind, 0 missing)"
	run -1 "$MIGKIT" diff --estimate --after-fence --table 'public.Invoice*'
	assert_output --regexp 'public\."Invoice No" +behind +1, true +1, false'
	run -1 --separate-stderr "$MIGKIT" diff --count --after-fence --table 'public.Invoice*' --json
	jq -e '.after_fence and (.sequences[0] | .status == "behind" and .src.is_called == true and .dst.is_called == false and .src.last_value == 1)' <<<"$output"
	run -0 --separate-stderr "$MIGKIT" diff --count --table 'public.Invoice*' --json
	jq -e '.summary.sequences_pending == 1 and .sequences[0].status == "pending"' <<<"$output"
	# copy-diff says pending until the kit has fenced SRC, then behind.
	run -0 "$KIT/copy-diff" --count --table 'public.Invoice*'
	assert_output --partial "1 pending"
	echo '{}' >"$KIT/data/fence.json"
	run -1 "$KIT/copy-diff" --count --table 'public.Invoice*'
	rm "$KIT/data/fence.json"
	assert_output --partial "(0 equal, 0 ahead, 1 behind, 0 missing)"
	# As after copy-seq with a shift: DST hands out keys past SRC's.
	pg_sql DST shop "select setval('public.\"Invoice No\"', 1001)" >/dev/null
	run -0 "$MIGKIT" diff --count --after-fence --table 'public.Invoice*'
	assert_output --partial "1 sequence (0 equal, 1 ahead, 0 behind, 0 missing)"
	pg_sql DST shop "select setval('public.\"Invoice No\"', 1, true)" >/dev/null
	run -0 --separate-stderr "$MIGKIT" diff --count --after-fence --table 'public.Invoice*' --json
	jq -e '.sequences[0].status == "equal" and .summary.sequences_equal == 1' <<<"$output"
	pg_sql DST shop "select setval('public.\"Invoice No\"', 1, false)" >/dev/null
}

@test "sequences only on DST that sort before one on both sides leave that one paired, whatever --jobs" {
	pg_psql DST shop -c 'create sequence public."Invoice A"' -c 'create sequence public."Invoice B"' \
		-c 'create sequence public."Invoice C"' >/dev/null
	local jobs
	for jobs in 1 4; do
		run -1 --separate-stderr "$MIGKIT" diff --count --jobs "$jobs" --table 'public.Invoice*' --json
		jq -e '(.sequences | length) == 4 and .summary.sequences_missing == 3
			and ([.sequences[] | select(.status != "missing") | .sequence] == ["public.\"Invoice No\""])' <<<"$output" ||
			fail "--jobs $jobs: $output"
	done
	pg_sql DST shop 'drop sequence public."Invoice A", public."Invoice B", public."Invoice C"'
}

@test "bad options and unreachable servers fail with exit 2" {
	run -2 --separate-stderr "$MIGKIT" diff --jobs 0
	[[ $stderr == *'--jobs must be'* ]]
	run -2 --separate-stderr "$MIGKIT" diff --count --checksum
	[[ $stderr == *'exclude each other'* ]]
	run -2 --separate-stderr "$MIGKIT" diff --delay soon
	[[ $stderr == *'Try "migkit diff --help"'* ]]
	run -2 --separate-stderr "$MIGKIT" diff --dst "host=127.0.0.1 port=1 dbname=shop user=postgres"
	[[ $stderr == *'cannot connect to DST'* ]]
}

@test "copy-diff runs migkit diff from the kit, with --json passed through" {
	run -0 "$KIT/copy-diff" --help
	assert_output --partial 'Usage: copy-diff'
	assert_output --partial '--checksum'
	run -2 --separate-stderr "$KIT/copy-diff" --checksun
	[[ $stderr == *'Try "copy-diff --help"'* ]]
	run -1 "$KIT/copy-diff" --checksum --retries 0 --table public.pairs
	assert_output --partial 'public.pairs: changed: (region, num)=(eu, 7)'
	run -1 --separate-stderr "$KIT/copy-diff" --count --retries 0 --json
	jq -e '.status == "different" and .mode == "count"' <<<"$output"
	run -0 "$KIT/copy-diff" --estimate --table public.select
	grep -q $'copy-diff\texit=1' "$KIT/log/journal"
	grep -q $'copy-diff\texit=0' "$KIT/log/journal"
}

@test "the rendered copy-diff is shellcheck-clean" {
	cd "$KIT"
	run -0 "${SHELLCHECK:-shellcheck}" -x copy-diff
}
