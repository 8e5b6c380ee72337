#!/usr/bin/env bats
# The way back against real clusters: create-reverse after a cutover, rollback
# (and its abort), rollback --unfence-dst, drop-reverse.  setup_file migrates
# SRC/app to DST/app and cuts over with the kit "app", whose re-routing hook
# repoints the clients (data/app-target); then the application writes on DST
# before create-reverse runs.  The tests run in file order.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	local side i
	for side in SRC DST; do
		pg_sql "$side" postgres "create database app"
		pg_psql "$side" app <<'SQL'
create role app_user login;
create table public.items (id bigserial primary key, name text not null);
create table public.writes (client int, n int, primary key (client, n));
create schema sales;
create table sales.orders (id int primary key, amount numeric not null);
grant usage on schema sales to app_user;
grant select, insert, update, delete on all tables in schema public, sales to app_user;
grant usage on all sequences in schema public to app_user;
SQL
	done
	pg_psql SRC app <<'SQL'
insert into public.items (name) select 'item ' || g from generate_series(1, 50) g;
insert into sales.orders select g, g from generate_series(1, 500) g;
SQL

	KITS=$BATS_FILE_TMPDIR/kits
	mkdir -p "$KITS"
	export KITS
	app_kit_streaming 1000 3
	"$KITS/app/cutover" -y >"$BATS_FILE_TMPDIR/cutover.out" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/cutover.out" >&2
		return 1
	}
	# The application writes on DST before the way back is subscribed to.
	as_app DST "insert into public.items (name) values ('before create-reverse')"
	as_app DST "insert into public.writes values (0, 1), (0, 2)"
	as_app DST "update sales.orders set amount = -1 where id = 7"
	as_app DST "delete from sales.orders where id = 8"
}

teardown_file() {
	load test_helper/common
	touch "$BATS_FILE_TMPDIR/stop"
	pg_stop_all
}

setup() {
	load test_helper/common
}


@test "create-reverse refuses while the forward subscription is enabled" {
	pg_sql DST app "alter subscription sub_pg_src_app enable"
	run -2 --separate-stderr "$KITS/app/create-reverse" -y
	pg_sql DST app "alter subscription sub_pg_src_app disable"
	[[ $stderr == *"the forward subscription sub_pg_src_app is enabled on DST"*"run ./drop-sub first, or disable it"* ]] || fail "$stderr"
	assert_equal "$(pg_sql SRC app "select count(*) from pg_subscription")" 0
	wait_for DST app "select count(*) from pg_stat_subscription where pid is not null" 0
}

@test "create-reverse -n shows the subscription without initial copy and changes nothing" {
	run -0 "$KITS/app/create-reverse" -n
	assert_output --partial "ok: replication slot sub_pg_src_app_reverse on DST holds DST's changes since the cutover"
	assert_output --partial "create subscription sub_pg_src_app_reverse connection 'host=127.0.0.1 port=$DST_PORT dbname=app user=replicator' publication pub_pg_src_app_reverse with (copy_data = false, create_slot = false, slot_name = 'sub_pg_src_app_reverse');"
	assert_output --partial "dry run: nothing was changed"
	assert_equal "$(pg_sql SRC app "select count(*) from pg_subscription")" 0
}

@test "create-reverse: the writes made on DST since the cutover arrive on SRC, and nothing else; a second run says it exists" {
	run -0 --separate-stderr "$KITS/app/create-reverse" -y
	assert_output --partial "subscription sub_pg_src_app_reverse created on SRC"
	wait_for SRC app "select count(*) from public.writes where client = 0" 2
	wait_for SRC app "select count(*) from public.items where name = 'before create-reverse'" 1
	wait_for SRC app "select amount from sales.orders where id = 7" -1
	wait_for SRC app "select count(*) from sales.orders where id = 8" 0
	# What the forward subscription applied on DST did not come back: no
	# conflict stops the reverse subscription, and SRC holds each row once.
	as_app DST "insert into public.items (name) values ('after create-reverse')"
	wait_for SRC app "select count(*) from public.items where name = 'after create-reverse'" 1
	assert_equal "$(pg_sql SRC app "select count(*) from public.items")" "$(pg_sql DST app "select count(*) from public.items")"
	assert_equal "$(pg_sql SRC app "select count(*) from pg_stat_subscription where pid is not null")" 1

	run -0 "$KITS/app/create-reverse" -y
	assert_output --partial "subscription sub_pg_src_app_reverse already exists on SRC (enabled)"
}

@test "rollback refuses while re-routing is the default hook, and changes nothing" {
	run -1 "$KITS/dflt/rollback" -y
	assert_output --partial "re-routing is still the default hook"
	as_app DST "insert into public.items (name) values ('after a refusal')"
	[ ! -e "$KITS/dflt/data/fence-dst.json" ]
}

@test "rollback --dry-run shows the whole plan and changes nothing" {
	run -0 "$KITS/app/rollback" --dry-run
	assert_output --partial "revoke connect on database app from app_user;"
	assert_output --partial "wait until sub_pg_src_app_reverse has applied past it"
	assert_output --partial "migkit seq --shift 1000 --src DSTPG --dst SRCPG"
	assert_output --partial "re-routing --to src -y"
	assert_output --partial "disable-src --undo -y"
	assert_output --partial "dry run: nothing was changed"
	[ ! -e "$KITS/app/data/fence-dst.json" ]
	[ ! -e "$KITS/app/data/rollback.json" ]
	as_app DST "insert into public.items (name) values ('after a dry run')"
	run -2 as_app SRC "insert into public.items (name) values ('SRC is still fenced')"
}

@test "rollback aborted at the catch-up lifts the fence on DST: the application goes on with DST, exit 1" {
	# SRC's reverse apply worker waits on a lock, so SRC cannot catch up.
	pg_psql SRC app -c "begin; lock table public.writes in share mode; select pg_sleep(60); commit" >/dev/null 2>&1 3>&- &
	wait_for SRC app "select count(*) from pg_locks where relation = 'public.writes'::regclass and mode = 'ShareLock' and granted" 1
	as_app DST "insert into public.writes values (0, 3)"

	run -1 --separate-stderr "$KITS/app/rollback" -y --catchup-timeout 1
	pg_sql SRC app "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
	[[ $stderr == *"aborted at catch-up: SRC did not catch up with DST within 1.000 s"* ]] || fail "$stderr $output"
	[[ $stderr == *"the fence on DST is lifted: the application goes on with DST"* ]]
	as_app DST "insert into public.items (name) values ('after the abort')"
	[ ! -e "$KITS/app/data/fence-dst.json" ]
	run -2 as_app SRC "insert into public.items (name) values ('SRC is still fenced')"
	grep -q ":$DST_PORT/app" "$KITS/app/data/app-target"
	run -0 jq -r '[.status, ([.steps[].step] | join(","))] | join(" ")' "$KITS/app/data/rollback.json"
	assert_output "aborted preflight,fence-dst,catch-up,undo"
	wait_for SRC app "select count(*) from public.writes where client = 0 and n = 3" 1
}

@test "rollback while clients write on DST: every row a client saw committed is on SRC, sequences too" {
	local pids=() i
	rm -f "$BATS_FILE_TMPDIR/stop"
	for i in 1 2; do
		client "$i" 3>&- &
		pids+=($!)
	done
	sleep 2
	as_app DST "insert into public.items (name) select 'on DST ' || g from generate_series(1, 5) g"
	local dst_seq
	dst_seq=$(pg_sql DST app "select last_value from public.items_id_seq")
	run -0 --separate-stderr "$KITS/app/rollback" -y
	sleep 2
	touch "$BATS_FILE_TMPDIR/stop"
	wait "${pids[@]}"

	run -0 jq -r '[.status, (.fence_window_ms > 0), (.fence_lsn | test("/")), (.applied_lsn | test("/")), .verification.result] | map(tostring) | join(" ")' "$KITS/app/data/rollback.json"
	assert_output "done true true true equal"
	run -0 jq -r '[.steps[] | .step] | join(",")' "$KITS/app/data/rollback.json"
	assert_output "preflight,fence-dst,catch-up,copy-seq,verify,re-routing,unfence-src"

	# Every commit a client saw is on SRC: those made on DST came back.
	cat "$BATS_FILE_TMPDIR"/client.* | awk '{ print $2 "|" $3 }' | sort >"$BATS_TEST_TMPDIR/committed"
	pg_sql SRC app "select client || '|' || n from public.writes" | sort >"$BATS_TEST_TMPDIR/on_src"
	run -0 comm -23 "$BATS_TEST_TMPDIR/committed" "$BATS_TEST_TMPDIR/on_src"
	assert_output ""
	[ "$(wc -l <"$BATS_TEST_TMPDIR/committed")" -gt 10 ]
	grep -q ":$SRC_PORT/app" "$KITS/app/data/app-target"
	# The sequence went back too, shifted: SRC hands out new keys.
	assert_equal "$(pg_sql SRC app "select last_value from public.items_id_seq")" $((dst_seq + 1000))
	run -0 as_app SRC "insert into public.items (name) values ('back on SRC') returning id"
	[ "$output" -gt $((dst_seq + 1000)) ]
	# DST stays fenced.
	run -2 as_app DST "insert into public.items (name) values ('DST is fenced')"
	[ -e "$KITS/app/data/fence-dst.json" ]
}

@test "rollback --unfence-dst lifts the fence on DST; a second run has nothing to undo" {
	run -0 "$KITS/app/rollback" --unfence-dst -n
	assert_output --partial "grant connect on database app to public;"
	run -2 as_app DST "insert into public.items (name) values ('still fenced')"
	run -0 "$KITS/app/rollback" --unfence-dst -y
	assert_output --partial "the fence on DST is lifted"
	as_app DST "insert into public.writes values (0, 100)"
	[ ! -e "$KITS/app/data/fence-dst.json" ]
	run -0 "$KITS/app/rollback" --unfence-dst -y
	assert_output --partial "nothing to undo"
	pg_sql DST app "delete from public.writes where client = 0 and n = 100"
}

@test "drop-reverse leaves no reverse subscription, slot or publication; a second run says they are gone" {
	run -0 "$KITS/app/drop-reverse" -n
	assert_output --partial "drop subscription sub_pg_src_app_reverse;"
	assert_output --partial "drop publication if exists pub_pg_src_app_reverse;"
	assert_equal "$(pg_sql SRC app "select count(*) from pg_subscription")" 1
	run -0 "$KITS/app/drop-reverse" -y
	assert_equal "$(pg_sql SRC app "select count(*) from pg_subscription")" 0
	assert_equal "$(pg_sql DST app "select count(*) from pg_replication_slots")" 0
	assert_equal "$(pg_sql DST app "select count(*) from pg_publication")" 0
	run -0 "$KITS/app/drop-reverse" -y
	assert_output --partial "the reverse replication is already gone"
}

@test "drop-reverse also drops a reverse slot and publication no subscription reads" {
	pg_sql DST app "create publication pub_pg_src_app_reverse for table public.items"
	pg_sql DST app "select pg_create_logical_replication_slot('sub_pg_src_app_reverse', 'pgoutput')" >/dev/null
	run -0 "$KITS/app/drop-reverse" -y
	assert_output --partial "select pg_catalog.pg_drop_replication_slot('sub_pg_src_app_reverse');"
	assert_equal "$(pg_sql DST app "select count(*) from pg_replication_slots")" 0
	assert_equal "$(pg_sql DST app "select count(*) from pg_publication")" 0
}

@test "create-reverse without a prepared slot refuses once the journal shows a re-routing" {
	run -2 --separate-stderr "$KITS/app/create-reverse" -y
	[[ $stderr == *"re-routing has run ("*"in log/journal)"*"create-reverse --force"* ]] || fail "$stderr"
	assert_equal "$(pg_sql DST app "select count(*) from pg_replication_slots")" 0
}
