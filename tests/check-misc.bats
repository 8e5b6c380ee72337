#!/usr/bin/env bats
# check-misc against real clusters: a source holding one of each thing
# logical replication does not carry, a clean one, and destinations whose
# encoding or collation differ.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	pg_sql SRC postgres "create database app"
	pg_sql SRC postgres "create database clean"
	pg_sql DST postgres "create database app"
	pg_sql DST postgres "create database latin encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0"
	pg_sql DST postgres "create database bytewise encoding 'UTF8' lc_collate 'C' lc_ctype 'C.UTF-8' template template0"
	pg_psql SRC app <<'SQL'
create table nopk (a int);
create table withpk (id serial primary key, n int generated always as identity);
create unlogged table "Scratch Pad" (a int);
create extension postgres_fdw;
create server elsewhere foreign data wrapper postgres_fdw options (dbname 'x');
create foreign table "Remote Things" (id int) server elsewhere;
create table parted (id int not null, k int) partition by range (id);
create table parted_1 partition of parted for values from (0) to (10);
create table parted_2 partition of parted for values from (10) to (20);
create foreign table parted_far partition of parted for values from (20) to (30) server elsewhere;
create materialized view "Ventes résumé" as select count(*) from withpk;
create materialized view later as select 1 as x with no data;
create sequence "select";
create table gen (a int, "Double" int generated always as (a * 2) stored);
create function no_drop() returns event_trigger language plpgsql as $$ begin end $$;
create event trigger "no drops" on ddl_command_start when tag in ('DROP TABLE') execute function no_drop();
select lo_create(0);
select lo_create(0);
select lo_create(0);
SQL
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

# kit_for SRCDB DSTDB [yaml line]...: renders a kit into $BATS_TEST_TMPDIR/kit.
kit_for() {
	local srcdb=$1 dstdb=$2
	shift 2
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC "$srcdb" DST "$dstdb" "$@"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
}

@test "check-misc --help and a bad argument" {
	run -0 "$KIT/check-misc" --help
	assert_output --partial "Usage: check-misc"
	assert_output --partial "Exit status"
	run -2 --separate-stderr "$KIT/check-misc" --fix
	[[ $stderr == *"unexpected argument '--fix'"* ]]
}

@test "the rendered check-misc is shellcheck-clean" {
	cd "$KIT"
	run -0 "${SHELLCHECK:-shellcheck}" -x check-misc
}

@test "check-misc names each thing replication does not carry" {
	run -0 "$KIT/check-misc"
	assert_line --regexp '^note: 3 large object\(s\) \(.* in pg_largeobject\): logical replication does not carry them; create-sub --copy fast copies them'
	assert_line --regexp '^ public\."Scratch Pad" \|'
	assert_line --partial "note: 1 unlogged table(s): not replicated"
	assert_line --regexp '^ public\."Remote Things" +\| elsewhere \| postgres_fdw \| - *$'
	assert_line --regexp '^ public\.parted_far +\| elsewhere \| postgres_fdw \| public\.parted *$'
	assert_line --partial "note: 2 foreign table(s): not replicated"
	assert_line --regexp '^ public\."Ventes résumé" \| .* \| t +\| REFRESH MATERIALIZED VIEW public\."Ventes résumé";'
	assert_line --regexp '^ public\.later +\| .* \| f +\| REFRESH MATERIALIZED VIEW public\.later;'
	assert_line --partial "note: 2 materialized view(s): not replicated; run their REFRESH"
	# withpk_id_seq, withpk_n_seq and "select"
	assert_line "note: 3 sequence(s): replication does not move their values; copy-seq sets them on DST at the cutover, after writes on SRC stop"
	assert_line --regexp '^ public\.parted \| +3 \|'
	assert_line --partial "note: 1 partitioned table(s): create-pub publishes them through their root"
	assert_line --regexp '^ no drops +\| ddl_command_start \| no_drop\(\) \| enabled \| DROP TABLE$'
	assert_line --partial "note: 1 event trigger(s): they fire only for DDL run on their own server"
	assert_line --regexp '^ public\.gen +\| Double +\| \(a \* 2\)$'
	assert_line --partial "note: 1 generated column(s): not sent by replication, DST computes them itself"
	assert_line --partial "note: DDL is not replicated: freeze schema changes on SRC"
	assert_line "note: tables that cannot replicate UPDATE/DELETE (replica identity): see check-repl; extensions DST lacks: see check-db"
	assert_line "ok: DST's database has the same encoding and collation as SRC's"
	# replica identity and extensions are other checks' business
	refute_output --partial "nopk"
	refute_output --partial "BLOCKER"
}

@test "check-misc --json lists each kind" {
	run -0 --separate-stderr "$KIT/check-misc" --json
	local doc=$output
	run -0 jq -r '.status, .large_objects.count, .sequences.count, (.blockers | length)' <<<"$doc"
	assert_output $'0\n3\n3\n0'
	run -0 jq -r '[.unlogged_tables[].table, .foreign_tables[].table, .materialized_views[].view, .partitioned_tables[].table, .event_triggers[].trigger] | join("|")' <<<"$doc"
	assert_output 'public."Scratch Pad"|public."Remote Things"|public.parted_far|public."Ventes résumé"|public.later|public.parted|no drops'
	run -0 jq -r '.generated_columns[0] | [.table, .column, .expression] | join("|")' <<<"$doc"
	assert_output 'public.gen|Double|(a * 2)'
	run -0 jq -r '.partitioned_tables[0].leaves, (.encoding | map(.same) | all)' <<<"$doc"
	assert_output $'3\ntrue'
}

@test "check-misc on a database with none of them says so and exits 0" {
	kit_for clean app
	run -0 "$BATS_TEST_TMPDIR/kit/check-misc"
	assert_line "ok: no large objects"
	assert_line "ok: no unlogged tables"
	assert_line "ok: no foreign tables"
	assert_line "ok: no materialized views"
	assert_line "ok: no sequences"
	assert_line "ok: no partitioned tables"
	assert_line "ok: no event triggers"
	assert_line "ok: no generated columns"
	run -0 "$BATS_TEST_TMPDIR/kit/check-misc" --json
	run -0 jq -r '[.unlogged_tables, .foreign_tables, .materialized_views, .partitioned_tables, .generated_columns] | map(length) | add' <<<"$output"
	assert_output 0
}

@test "a different encoding on DST is a blocker with the fix" {
	kit_for app latin
	run -1 "$BATS_TEST_TMPDIR/kit/check-misc"
	assert_line --regexp '^ encoding +\| UTF8 +\| LATIN1 +\| f$'
	assert_line "BLOCKER: the database encoding is UTF8 on SRC and LATIN1 on DST: text SRC holds may not fit DST; recreate DST's database while it is empty, on DST: DROP DATABASE latin; CREATE DATABASE latin TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8';"
	run -1 "$BATS_TEST_TMPDIR/kit/check-misc" --json
	run -0 jq -r '.status, (.blockers | length), (.encoding[] | select(.property == "encoding") | .dst)' <<<"$output"
	assert_output $'1\n1\nLATIN1'
}

@test "a different collation on DST is a note on the risk to indexes, not a blocker" {
	kit_for app bytewise
	run -0 "$BATS_TEST_TMPDIR/kit/check-misc"
	assert_line --regexp '^ collate +\| C\.UTF-8 +\| C +\| f$'
	assert_line --regexp '^ ctype +\| C\.UTF-8 +\| C\.UTF-8 +\| t$'
	assert_line --partial "note: collate is C.UTF-8 on SRC and C on DST: text sorts differently on DST: its indexes on text columns"
	refute_line --partial "BLOCKER"
	refute_line --partial "note: ctype"
}

@test "check-misc with DST unreachable reports SRC and says why DST was skipped" {
	kit_for app app
	sed -i "s/^dst_port: .*/dst_port: 1/" "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	run -0 "$BATS_TEST_TMPDIR/kit/check-misc"
	assert_line --regexp '^note: DST is not reachable, its encoding and collation were not compared \(cannot connect to DST \(pg-dst/app at 127\.0\.0\.1\): .*refused.*\)$'
	assert_line --partial "note: 3 large object(s)"
	run -0 "$BATS_TEST_TMPDIR/kit/check-misc" --json
	run -0 jq -r '.encoding' <<<"$output"
	assert_output null
}

@test "check-misc with SRC unreachable names SRC and the reason, exit 2, no password" {
	kit_for app app
	sed -i "s/^src_port: .*/src_port: 1/" "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	PGPASSWORD=s3cret-pw run -2 --separate-stderr "$BATS_TEST_TMPDIR/kit/check-misc"
	assert_equal "$output" ""
	[[ $stderr == "check-misc: cannot connect to SRC (pg-src/app at 127.0.0.1): "*refused* ]]
	[[ $stderr != *s3cret* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
}
