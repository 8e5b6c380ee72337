#!/usr/bin/env bats
# check-repl against real clusters: replica identity of every table (and of
# each leaf partition), the fix SQL and --fix, the replication settings of
# both sides, and what happens when a side is unreachable.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	pg_sql SRC postgres "create database app"
	pg_sql DST postgres "create database app"
	make_source app
	write_config "$BATS_FILE_TMPDIR/m.yml" SRC app DST app
	render_kit "$BATS_FILE_TMPDIR/m.yml" "$BATS_FILE_TMPDIR/kit"
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	KIT=$BATS_FILE_TMPDIR/kit
}

# make_source DB: one table for each case check-repl must tell apart.
make_source() {
	pg_psql SRC "$1" <<'SQL'
create table withpk (id int primary key, v text);
insert into withpk select g, 'x' from generate_series(1, 100) g;
create table nopk (a int, b text);
create table uniq_ok (a int not null, b int not null, c text);
create unique index uniq_ok_ab on uniq_ok (a, b);
create unique index uniq_ok_a on uniq_ok (a);
create table uniq_nullable (a int, c text);
create unique index uniq_nullable_a on uniq_nullable (a);
create table uniq_partial (a int not null);
create unique index uniq_partial_a on uniq_partial (a) where a > 0;
create table uniq_expr (a text not null);
create unique index uniq_expr_a on uniq_expr (lower(a));
create table uniq_deferrable (a int not null, constraint uniq_deferrable_a unique (a) deferrable);
create table id_nothing (id int primary key);
alter table id_nothing replica identity nothing;
create table id_full (a int);
alter table id_full replica identity full;
create table id_index (a int not null);
create unique index id_index_a on id_index (a);
alter table id_index replica identity using index id_index_a;
create table id_index_gone (a int not null);
create unique index id_index_gone_a on id_index_gone (a);
alter table id_index_gone replica identity using index id_index_gone_a;
drop index id_index_gone_a;
create table id_index_invalid (a int not null, b int not null);
create unique index id_index_invalid_a on id_index_invalid (a);
create unique index id_index_invalid_b on id_index_invalid (b);
alter table id_index_invalid replica identity using index id_index_invalid_a;
update pg_catalog.pg_index set indisvalid = false where indexrelid = 'id_index_invalid_a'::regclass;
create table "Order Items" (id int not null, "Qty" int);
create unique index "Order Items_id" on "Order Items" (id);
create table "select" (x int);
create schema "Ünïcode";
create table "Ünïcode"."données" (id int primary key);
create table "Ünïcode"."clé" (v text);
create table parted (id int not null, k int) partition by range (id);
create table parted_1 partition of parted for values from (0) to (10);
create table parted_2 partition of parted for values from (10) to (20);
alter table parted_1 add primary key (id);
create table parted_ok (id int primary key) partition by range (id);
create table parted_ok_1 partition of parted_ok for values from (0) to (10);
create unlogged table scratch (a int);
SQL
}

# relident DB TABLE: the replica identity letter of TABLE.
relident() {
	pg_sql SRC "$1" "select relreplident from pg_catalog.pg_class where oid = '$2'::regclass"
}

@test "check-repl --help describes --fix and the exit status" {
	run -0 "$KIT/check-repl" --help
	assert_output --partial "Usage: check-repl"
	assert_output --partial "--fix"
	assert_output --partial "Exit status"
}

@test "check-repl refuses an unknown argument with a hint" {
	run -2 --separate-stderr "$KIT/check-repl" --frobnicate
	[[ $stderr == *"unexpected argument '--frobnicate'"* ]]
	[[ $stderr == *'Try "check-repl --help"'* ]]
}

@test "the rendered check-repl is shellcheck-clean" {
	cd "$KIT"
	run -0 "${SHELLCHECK:-shellcheck}" -x check-repl
}

@test "check-repl lists every table, each leaf of a partitioned table, with identity and index" {
	run -1 "$KIT/check-repl"
	assert_line --regexp '^ public\.withpk +\| - +\| default +\| withpk_pkey +\|'
	assert_line --regexp '^ public\.id_index +\| - +\| index +\| id_index_a +\|'
	assert_line --regexp '^ public\.id_full +\| - +\| full +\|'
	assert_line --regexp '^ public\.parted_1 +\| public\.parted +\| default +\| parted_1_pkey +\|'
	assert_line --regexp '^ public\.parted_2 +\| public\.parted +\| default +\| - +\|'
	assert_line --regexp '^ public\.parted_ok_1 +\| public\.parted_ok +\|'
	assert_line --regexp '^ public\."Order Items" +\|'
	assert_line --regexp '^ "Ünïcode"\."données" +\| - +\| default +\| données_pkey'
	# the roots carry no rows, and an unlogged table is not published
	refute_line --regexp '^ public\.parted +\|'
	refute_line --regexp '^ public\.parted_ok +\|'
	refute_line --partial 'scratch'
	assert_output --partial "(19 rows)"
}

@test "check-repl names each blocker with the fix that suits its indexes" {
	run -1 "$KIT/check-repl"
	assert_line 'BLOCKER: public.nopk cannot replicate UPDATE/DELETE: no primary key and replica identity default; fix on SRC: ALTER TABLE public.nopk REPLICA IDENTITY FULL;'
	assert_line --partial 'public.uniq_ok cannot replicate UPDATE/DELETE: no primary key and replica identity default; fix on SRC: ALTER TABLE public.uniq_ok REPLICA IDENTITY USING INDEX uniq_ok_a;'
	assert_line --partial 'fix on SRC: ALTER TABLE public.uniq_nullable REPLICA IDENTITY FULL;'
	assert_line --partial 'fix on SRC: ALTER TABLE public.uniq_partial REPLICA IDENTITY FULL;'
	assert_line --partial 'fix on SRC: ALTER TABLE public.uniq_expr REPLICA IDENTITY FULL;'
	assert_line --partial 'fix on SRC: ALTER TABLE public.uniq_deferrable REPLICA IDENTITY FULL;'
	assert_line --partial 'public.id_nothing cannot replicate UPDATE/DELETE: replica identity nothing; fix on SRC: ALTER TABLE public.id_nothing REPLICA IDENTITY DEFAULT;'
	assert_line --partial 'public.id_index_gone cannot replicate UPDATE/DELETE: replica identity index, but that index is gone; fix on SRC: ALTER TABLE public.id_index_gone REPLICA IDENTITY FULL;'
	assert_line --partial 'public.id_index_invalid cannot replicate UPDATE/DELETE: its replica identity index id_index_invalid_a is invalid; fix on SRC: ALTER TABLE public.id_index_invalid REPLICA IDENTITY USING INDEX id_index_invalid_b;'
	assert_line --partial 'fix on SRC: ALTER TABLE public."Order Items" REPLICA IDENTITY USING INDEX "Order Items_id";'
	assert_line --partial 'fix on SRC: ALTER TABLE public."select" REPLICA IDENTITY FULL;'
	assert_line --partial 'fix on SRC: ALTER TABLE "Ünïcode"."clé" REPLICA IDENTITY FULL;'
	assert_line --partial 'public.parted_2 cannot replicate UPDATE/DELETE'
	assert_output --partial 'slow on updates of wide or big tables'
	refute_line --partial 'BLOCKER: public.withpk'
	refute_line --partial 'BLOCKER: public.parted_1 '
	refute_line --partial 'BLOCKER: public.id_full'
	refute_line --partial 'BLOCKER: public.id_index '
	run -0 grep -c '^BLOCKER:' <<<"$output"
	assert_output 13
}

@test "check-repl reports the settings of both sides" {
	run -1 "$KIT/check-repl"
	assert_line --regexp '^ wal_level +\| logical +\|'
	assert_line --regexp '^ max_replication_slots +\| 16 +\| +0 \| +16 \| 5'
	assert_line --regexp '^ max_wal_senders +\| 16 +\|'
	assert_line --regexp '^ max_slot_wal_keep_size +\| -1 +\|'
	assert_line --regexp '^ max_logical_replication_workers +\| 12 +\|'
	assert_line --regexp '^ max_replication_slots \(origins\) +\| 16 +\|'
	assert_line "ok: wal_level is logical on SRC"
	assert_line "ok: SRC has 16 free replication slot(s), the subscription needs 5"
	assert_line "ok: DST has 12 free logical replication workers, the subscription needs 5"
	assert_output --partial "note: max_slot_wal_keep_size is -1 (unlimited)"
}

@test "check-repl --json gives tables, blockers with fixes and settings" {
	run -1 --separate-stderr "$KIT/check-repl" --json
	local doc=$output
	run -0 jq -r '.status' <<<"$doc"
	assert_output 1
	run -0 jq -r '.tables | length' <<<"$doc"
	assert_output 19
	run -0 jq -r '.tables[] | select(.table == "public.uniq_ok") | [.identity, .blocker, .fix] | join("|")' <<<"$doc"
	assert_output 'default|no primary key and replica identity default|ALTER TABLE public.uniq_ok REPLICA IDENTITY USING INDEX uniq_ok_a;'
	run -0 jq -r '.tables[] | select(.table == "public.parted_2") | .partition_of' <<<"$doc"
	assert_output 'public.parted'
	run -0 jq -r '.tables[] | select(.table == "public.withpk") | [.index, (.size_bytes > 0), .blocker] | map(tostring) | join("|")' <<<"$doc"
	assert_output 'withpk_pkey|true|null'
	run -0 jq -r '[.tables[] | select(.blocker != null)] | length' <<<"$doc"
	assert_output 13
	run -0 jq -r '.blockers | length' <<<"$doc"
	assert_output 13
	run -0 jq -r '.src_settings[] | select(.setting == "wal_level") | .value' <<<"$doc"
	assert_output logical
	run -0 jq -r '.dst_settings[] | select(.setting == "max_logical_replication_workers") | .free' <<<"$doc"
	assert_output 12
}

@test "check-repl honours include and exclude, and exits 0 when nothing blocks" {
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC app DST app \
		'include: ["public.*", "Ünïcode.données"]' \
		'exclude: ["public.nopk", "public.uniq*", "public.id_*", "public.select", "public.Order Items", "public.parted"]'
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	run -0 "$BATS_TEST_TMPDIR/kit/check-repl"
	assert_line --regexp '^ public\.withpk +\|'
	assert_line --regexp '^ public\.parted_ok_1 +\| public\.parted_ok +\|'
	assert_line --regexp '^ "Ünïcode"\."données" +\|'
	refute_line --partial 'nopk'
	refute_line --partial 'clé'
	refute_line --partial 'BLOCKER'
	assert_line "ok: all 3 table(s) of the migration can replicate UPDATE and DELETE"
	# 3 tables: 1 slot for the subscription + 3 table syncs
	assert_line "ok: SRC has 16 free replication slot(s), the subscription needs 4"
}

@test "check-repl --fix -n shows the fix and changes nothing" {
	run -0 "$KIT/check-repl" --fix -n
	assert_line "-- check-repl will run on SRC (pg-src/app at 127.0.0.1):"
	assert_line 'ALTER TABLE public.uniq_ok REPLICA IDENTITY USING INDEX uniq_ok_a;'
	assert_line 'ALTER TABLE public.id_nothing REPLICA IDENTITY DEFAULT;'
	assert_line "dry run: nothing was changed"
	[ "$(relident app uniq_ok)" = d ]
	[ "$(relident app id_nothing)" = n ]
	[ "$(relident app nopk)" = d ]
	run -1 "$KIT/check-repl"
}

@test "check-repl --fix with no terminal and no -y refuses and changes nothing" {
	run -2 --separate-stderr "$KIT/check-repl" --fix </dev/null
	[[ $stderr == *"no terminal"* ]]
	[ "$(relident app nopk)" = d ]
}

@test "check-repl --fix -y applies the fix and the check passes afterwards" {
	pg_sql SRC postgres "create database fixdb"
	make_source fixdb
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC fixdb DST app
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	run -1 "$BATS_TEST_TMPDIR/kit/check-repl"
	run -0 "$BATS_TEST_TMPDIR/kit/check-repl" --fix -y
	assert_output --partial "applied 13 statement(s) on SRC; checking again"
	assert_line "ok: all 19 table(s) of the migration can replicate UPDATE and DELETE"
	refute_line --partial BLOCKER
	[ "$(relident fixdb uniq_ok)" = i ]
	[ "$(relident fixdb nopk)" = f ]
	[ "$(relident fixdb id_nothing)" = d ]
	[ "$(relident fixdb parted_2)" = f ]
	[ "$(relident fixdb '"Order Items"')" = i ]
	[ "$(pg_sql SRC fixdb "select indisreplident from pg_catalog.pg_index where indexrelid = 'uniq_ok_a'::regclass")" = t ]
	grep -q 'REPLICA IDENTITY USING INDEX uniq_ok_a;' "$BATS_TEST_TMPDIR/kit/sql/replica-identity.sql"
	run -0 "$BATS_TEST_TMPDIR/kit/check-repl" --json
	run -0 jq -r '.status, (.blockers | length)' <<<"$output"
	assert_output $'0\n0'
	run -0 "$BATS_TEST_TMPDIR/kit/check-repl" --fix -y
	assert_output --partial "nothing to fix"
	pg_sql SRC postgres "drop database fixdb"
}

@test "check-repl blocks on wal_level, too few slots, senders and workers" {
	pg_start LOW "wal_level = replica" "max_replication_slots = 2" "max_wal_senders = 1" \
		"max_logical_replication_workers = 1" "max_sync_workers_per_subscription = 0"
	pg_sql LOW postgres "create table t (id int primary key)"
	write_config "$BATS_TEST_TMPDIR/m.yml" LOW postgres LOW postgres
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	run -1 "$BATS_TEST_TMPDIR/kit/check-repl"
	assert_line "BLOCKER: wal_level is replica on SRC, logical replication needs logical; fix on SRC: ALTER SYSTEM SET wal_level = logical; then restart SRC"
	assert_line "ok: SRC has 1 free WAL sender(s), the subscription needs 1"
	assert_line --partial "BLOCKER: max_sync_workers_per_subscription is 0 on DST: no table would ever be copied"
	assert_line "ok: DST has 1 free logical replication workers, the subscription needs 1"
	pg_sql LOW postgres "alter system set max_sync_workers_per_subscription = 1" >/dev/null
	pg_sql LOW postgres "select pg_reload_conf()" >/dev/null
	run -1 "$BATS_TEST_TMPDIR/kit/check-repl"
	assert_line "BLOCKER: SRC has 1 free WAL sender(s) (0 of 1 in use), the subscription needs 2 (its walsender + 1 table sync during the copy); fix on SRC: ALTER SYSTEM SET max_wal_senders = 2; then restart SRC"
	assert_line "ok: SRC has 2 free replication slot(s), the subscription needs 2"
	assert_line "BLOCKER: DST has 1 free logical replication workers (max_logical_replication_workers = 1, 0 in use), the subscription needs 2 (1 apply + 1 table sync); fix on DST: ALTER SYSTEM SET max_logical_replication_workers = 2; then restart DST"
	run -1 "$BATS_TEST_TMPDIR/kit/check-repl" --json
	run -0 jq -r '.blockers | length' <<<"$output"
	assert_output 3
	pg_stop LOW
}

@test "check-repl with DST unreachable checks SRC and says why DST was skipped" {
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC app DST app 'include: ["public.withpk"]'
	sed -i "s/^dst_port: .*/dst_port: 1/" "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	run -0 "$BATS_TEST_TMPDIR/kit/check-repl"
	assert_line --regexp '^note: DST is not reachable, its workers and origins were not checked \(cannot connect to DST \(pg-dst/app at 127\.0\.0\.1\): .*(refused|failed).*\)$'
	assert_line "ok: all 1 table(s) of the migration can replicate UPDATE and DELETE"
	run -0 "$BATS_TEST_TMPDIR/kit/check-repl" --json
	run -0 jq -r '.dst_settings, (.notes | map(select(startswith("DST is not reachable"))) | length)' <<<"$output"
	assert_output $'null\n1'
}

@test "check-repl with SRC unreachable names SRC and the reason, exit 2, no password" {
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC app DST app
	sed -i "s/^src_port: .*/src_port: 1/" "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	PGPASSWORD=s3cret-pw run -2 --separate-stderr "$BATS_TEST_TMPDIR/kit/check-repl"
	assert_equal "$output" ""
	[[ $stderr == "check-repl: cannot connect to SRC (pg-src/app at 127.0.0.1): "* ]]
	[[ $stderr == *"refused"* ]]
	[[ $stderr != *s3cret* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
}
