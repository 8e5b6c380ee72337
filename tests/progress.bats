#!/usr/bin/env bats
# migkit progress and the kit's copy-progress, against real clusters: the
# sync states during an initial copy (held at each state on purpose), --wait,
# the error exits, --json, --prometheus, --watch, the heartbeat, and the
# number of statements a refresh runs.
#
# The copy is made observable without timing luck: on DST, a trigger that
# fires during the table sync (ENABLE ALWAYS) takes a shared advisory lock
# per row, so holding that lock exclusively stops the copy of "big" after
# its first row; locking "small" on DST stops the apply worker, which keeps
# a copied table in state f (synced).

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	pg_sql SRC postgres "create database shop"
	pg_sql DST postgres "create database shop"
	local schema='
		create table small (id int primary key, v text);
		create table "odd ""quoted"" \ name" (id int primary key);
		create table big (id int primary key, pad text);
		create table parted (id int, k int, primary key (id, k)) partition by range (k);
		create table parted_1 partition of parted for values from (0) to (100);
		create table parted_2 partition of parted for values from (100) to (200);'
	pg_sql SRC shop "$schema"
	pg_sql DST shop "$schema"
	pg_psql SRC shop <<-'SQL'
		insert into small select g, 'row ' || g from generate_series(1, 100) g;
		insert into "odd ""quoted"" \ name" values (1), (2), (3);
		insert into big select g, repeat('p', 200) from generate_series(1, 2000) g;
		insert into parted select g, g % 200 from generate_series(1, 1000) g;
		create publication pub_shop for all tables with (publish_via_partition_root = true);
	SQL
	pg_psql DST shop <<-'SQL'
		create function hold_copy() returns trigger language plpgsql as $$
		begin
		  perform pg_advisory_lock_shared(4242);
		  perform pg_advisory_unlock_shared(4242);
		  return new;
		end $$;
		create trigger hold_copy before insert on big for each row execute function hold_copy();
		alter table big enable always trigger hold_copy;
	SQL
	pg_sql DST shop "create subscription sub_shop
		connection 'host=127.0.0.1 port=$SRC_PORT dbname=shop user=postgres'
		publication pub_shop with (enabled = false)" 2>/dev/null

	cd "$BATS_FILE_TMPDIR"
	write_config m.yml SRC shop DST shop "sub_name: sub_shop" "pub_name: pub_shop" "heartbeat: true"
	render_kit m.yml kit
}

teardown_file() {
	load test_helper/common
	stop_sessions
	pg_stop_all
}

setup() {
	load test_helper/common
	# What the kit's activate would export (the helper clears SRCPG and DSTPG).
	export SRCPG="host=127.0.0.1 port=$SRC_PORT dbname=shop user=postgres"
	export DSTPG="host=127.0.0.1 port=$DST_PORT dbname=shop user=postgres"
	export SUBNAME=sub_shop
}

# hold_session NAME SQL...: a DST session (application_name NAME) that runs
# the statements and then sleeps; its pid is kept for stop_sessions.
hold_session() {
	local name=$1
	shift
	local args=() sql
	for sql in "$@" "select pg_sleep(600)"; do args+=(-c "$sql"); done
	PGAPPNAME=$name psql -X -w -q -h 127.0.0.1 -p "$DST_PORT" -U postgres -d shop "${args[@]}" \
		>/dev/null 2>&1 3>&- &
	echo "$!" >>"$BATS_FILE_TMPDIR/sessions"
}

# end_session NAME: ends the DST backend of that session (psql then exits).
end_session() {
	pg_sql DST shop "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = '$1'" >/dev/null
}

stop_sessions() {
	local pid
	[ -f "$BATS_FILE_TMPDIR/sessions" ] || return 0
	while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$BATS_FILE_TMPDIR/sessions"
	rm -f "$BATS_FILE_TMPDIR/sessions"
}

# until_true SECONDS CMD...: retries CMD every 0.2 s; fails after SECONDS.
until_true() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# progress_json JQ: true when jq -e JQ holds for the current --json document.
progress_json() {
	"$MIGKIT" progress --json 2>/dev/null | jq -e "$1" >/dev/null
}

# sql_is SIDE SQL EXPECTED: true when SQL on SIDE's shop prints EXPECTED (run
# anew at each call, so until_true can retry it).
sql_is() {
	[ "$(pg_sql "$1" shop "$2")" = "$3" ]
}

# state_is TABLE STATE: progress shows TABLE in STATE.
state_is() {
	[ "$(table_state "$1")" = "$2" ]
}

# same_beat: SRC and DST hold the same heartbeat.
same_beat() {
	[ "$(pg_sql SRC shop "select beat from migkit.heartbeat")" = "$(pg_sql DST shop "select beat from migkit.heartbeat")" ]
}

table_state() {
	"$MIGKIT" progress --json 2>/dev/null | jq -r --arg t "$1" '.tables[] | select(.table == $t) | .state'
}

@test "usage errors exit 2 with a hint" {
	run -2 --separate-stderr "$MIGKIT" progress --json --prometheus
	[[ $stderr == *"--json and --prometheus exclude each other"* ]]
	[[ $stderr == *'Try "migkit progress --help"'* ]]
	run -2 --separate-stderr "$MIGKIT" progress --timeout 3
	[[ $stderr == *"--timeout needs --wait or --watch"* ]]
	run -2 --separate-stderr "$MIGKIT" progress --watch=0
	[[ $stderr == *"--watch takes a number of seconds > 0"* ]]
	run -2 --separate-stderr "$MIGKIT" progress --max-lag lots
	[[ $stderr == *"--max-lag takes a number of bytes"* ]]
	run -2 --separate-stderr "$MIGKIT" progress --watch 1 --prometheus
	run -0 "$MIGKIT" progress --help
	assert_output --partial "Usage: migkit progress"
	assert_output --partial "Exit status:"
}

@test "a subscription that does not exist exits 2 and says to run create-sub" {
	run -2 --separate-stderr "$MIGKIT" progress --sub no_such_sub
	assert_equal "$output" ""
	[[ $stderr == *'subscription "no_such_sub" does not exist in database "shop" on DST: run create-sub first'* ]]
	run -2 --separate-stderr "$MIGKIT" progress --sub no_such_sub --wait --timeout 5
	[[ $stderr == *"run create-sub"* ]]
}

@test "an unreachable DST exits 2 with one line naming DST and the reason" {
	run -2 --separate-stderr "$MIGKIT" progress --dst "host=127.0.0.1 port=1 dbname=shop user=postgres" --wait
	assert_equal "$output" ""
	[[ $stderr == "migkit progress: error: cannot connect to DST: "*"Connection refused"* ]]
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
}

@test "every table is waiting while the subscription is disabled (exit 1)" {
	run -1 --separate-stderr "$MIGKIT" progress
	assert_output --regexp 'public\.big +waiting +[0-9.]+ [kM]B +0 B +0%'
	assert_output --partial 'public.odd "quoted" \ name'
	assert_output --partial "Tables: 0 streaming, 0 synced, 0 copying, 4 waiting (of 4)"
	assert_output --partial "Not yet in sync: the subscription is disabled"
	run -1 "$MIGKIT" progress --json
	jq -e '.enabled == false and .in_sync == false and .totals.waiting == 4
		and ([.tables[].srsubstate] | unique) == ["i"]
		and .slot.found and (.slot.active | not) and .slot.name == "sub_shop"
		and (.tables[] | select(.table == "parted") | .size_bytes) > 0' <<<"$output"
}

@test "--wait exits 1 at --timeout while the subscription is disabled" {
	local t0=$SECONDS
	run -1 --separate-stderr "$MIGKIT" progress --wait --timeout 2 --interval 0.5
	[ $((SECONDS - t0)) -ge 1 ] && [ $((SECONDS - t0)) -le 6 ]
	[[ $stderr == *"timed out after 2s: not yet in sync"* ]]
	assert_output --partial "Not yet in sync"
}

@test "a table under copy shows as copying with part of its bytes" {
	hold_session migkit-test-holder "select pg_advisory_lock(4242)"
	until_true 10 sql_is DST "select count(*) from pg_locks where locktype = 'advisory' and objid = 4242 and granted" 1
	pg_sql DST shop "alter subscription sub_shop enable"
	until_true 30 progress_json '(.tables[] | select(.table == "big") | .state == "copying" and .copied_bytes > 0)
		and ([.tables[] | select(.table != "big") | .state] | unique) == ["streaming"]'
	run -1 "$MIGKIT" progress --json
	jq -e '(.tables[] | select(.table == "big") | .srsubstate == "d" and .percent > 0 and .percent < 100
			and .copied_bytes < .size_bytes)
		and .totals.copying == 1 and .totals.streaming == 3 and .enabled and .apply_worker_pid > 0
		and .totals.copied_bytes < .totals.size_bytes' <<<"$output"
	run -1 "$MIGKIT" progress
	assert_output --regexp 'public\.big +copying '
	assert_output --partial "Not yet in sync: 1 of 4 tables not streaming yet"
}

@test "a copied table that waits for the apply worker shows as synced" {
	# The apply worker stops on a change to small, locked on DST.
	hold_session migkit-test-locker "begin" "lock table small in access exclusive mode"
	until_true 10 sql_is DST "select count(*) from pg_locks where relation = 'small'::regclass and granted" 1
	pg_sql SRC shop "insert into small values (1000, 'held')"
	until_true 10 sql_is DST "select count(*) from pg_locks where relation = 'small'::regclass and not granted" 1
	end_session migkit-test-holder
	until_true 30 state_is big synced
	run -1 "$MIGKIT" progress --json
	jq -e '(.tables[] | select(.table == "big") | .srsubstate == "f" and .percent == 100)
		and .totals.synced == 1 and .totals.streaming == 3' <<<"$output"
	run -1 "$MIGKIT" progress
	assert_output --regexp 'public\.big +synced '
	end_session migkit-test-locker
}

@test "--wait exits 0 once every table streams and the lag is small" {
	run -0 --separate-stderr "$MIGKIT" progress --wait --timeout 60 --interval 0.5
	assert_output --partial "Tables: 4 streaming, 0 synced, 0 copying, 0 waiting (of 4)"
	assert_output --partial "In sync: every table streams and the lag is within 1.0 MB."
	[ "$(pg_sql DST shop "select v from small where id = 1000")" = held ]
	run -0 "$MIGKIT" progress
}

@test "--json is one document jq reads: tables, totals, lag, slot" {
	run -0 --separate-stderr "$MIGKIT" progress --json
	jq -e '.subscription == "sub_shop" and .in_sync and .why == []
		and (.tables | length) == 4
		and ([.tables[].state] | unique) == ["streaming"]
		and (.tables | map(.table) | index("odd \"quoted\" \\ name")) != null
		and .totals.tables == 4 and .totals.streaming == 4 and .totals.percent == 100
		and .totals.size_bytes == .totals.copied_bytes and .totals.eta_seconds == 0
		and (.lag.bytes | type) == "number" and .lag.bytes <= .lag.max_bytes
		and .lag.bytes_source == "slot" and .lag.seconds_source == "estimate"
		and .lag.heartbeat.enabled == false
		and .slot.active and (.slot.wal_retained_bytes | type) == "number"
		and .slot.wal_dir_bytes > 0 and .slot.free_disk_bytes == null' <<<"$output"
	run -0 "$MIGKIT" progress --json --max-lag 2MB
	jq -e '.lag.max_bytes == 2097152' <<<"$output"
	MIGKIT_LAG_MAX_BYTES=4096 run -0 "$MIGKIT" progress --json
	jq -e '.lag.max_bytes == 4096' <<<"$output"
}

@test "--prometheus prints well-formed metrics with escaped labels" {
	run -0 --separate-stderr "$MIGKIT" progress --prometheus
	local line metric
	local name='[a-zA-Z_:][a-zA-Z0-9_:]*'
	local labels="\\{$name=\"([^\"\\\\]|\\\\[\"\\\\n])*\"(,$name=\"([^\"\\\\]|\\\\[\"\\\\n])*\")*\\}"
	while IFS= read -r line; do
		if [[ $line == "# "* ]]; then
			[[ $line =~ ^#\ (HELP|TYPE)\ $name\ .+$ ]] || fail "bad comment: $line"
		else
			[[ $line =~ ^($name)($labels)?\ -?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$ ]] || fail "bad sample: $line"
			metric=${BASH_REMATCH[1]}
			grep -qxF "# TYPE $metric gauge" <<<"$output" || fail "no TYPE for $metric"
			grep -q "^# HELP $metric " <<<"$output" || fail "no HELP for $metric"
		fi
	done <<<"$output"
	assert_line 'migkit_in_sync{subscription="sub_shop"} 1'
	assert_line 'migkit_tables{subscription="sub_shop",state="streaming"} 4'
	assert_line 'migkit_table_state{subscription="sub_shop",schema="public",table="odd \"quoted\" \\ name",state="streaming"} 1'
	assert_line 'migkit_table_state{subscription="sub_shop",schema="public",table="big",state="copying"} 0'
	assert_line --regexp '^migkit_replication_lag_bytes\{subscription="sub_shop",source="slot"\} [0-9]+$'
	assert_line --regexp '^migkit_replication_lag_seconds\{subscription="sub_shop",source="estimate"\} '
	assert_line --regexp '^migkit_slot_wal_retained_bytes\{subscription="sub_shop",slot="sub_shop"\} [0-9]+$'
	assert_line --regexp '^migkit_table_size_bytes\{subscription="sub_shop",schema="public",table="parted"\} [1-9][0-9]*$'
	# Each metric's samples follow its own HELP and TYPE, once.
	[ "$(grep -c '^# TYPE migkit_table_state ' <<<"$output")" = 1 ]
}

@test "--watch appends a line per refresh without a terminal; Ctrl-C exits by the last state" {
	run -0 timeout --preserve-status -s INT 2.5 "$MIGKIT" progress --watch 0.5
	[ "${#lines[@]}" -ge 3 ]
	for line in "${lines[@]}"; do
		[[ $line =~ ^[0-9-]+\ [0-9:]+\ \ 4/4\ streaming\ .*lag\ .*in\ sync$ ]] || fail "bad line: $line"
	done
	run -0 "$MIGKIT" progress --watch 0.5 --timeout 1.2 --json
	[ "${#lines[@]}" -ge 2 ]
	for line in "${lines[@]}"; do jq -e '.in_sync' <<<"$line" >/dev/null; done
}

@test "--watch on a terminal redraws in place with progress bars" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run -0 env TERM=xterm COLUMNS=100 script -qec "'$MIGKIT' progress --watch 0.4 --timeout 1.1" /dev/null
	[[ $output == *$'\e[?25l'* ]]              # cursor hidden while drawing
	[[ $output == *$'\e[H'* ]]                 # each frame from the top
	[ "$(grep -o $'\e\\[H' <<<"$output" | wc -l)" -ge 2 ]
	[[ $output == *"[####################] "* ]]
	[[ $output == *"public.big"*"streaming"*"[############]"* ]]
	[[ $output == *$'\e[?25h'* ]]              # and shown again
	[[ $output != *$'\e[3'* ]]                 # NO_COLOR: no colour
}

@test "heartbeat: without migkit.heartbeat a note says so and the seconds are an estimate" {
	MIGKIT_HEARTBEAT=true run -0 --separate-stderr "$MIGKIT" progress --json
	jq -e '.lag.heartbeat.enabled and .lag.heartbeat.status == "no table on DST"
		and .lag.seconds_source == "estimate"
		and any(.notes[]; contains("migkit.heartbeat does not exist on DST"))' <<<"$output"
	MIGKIT_HEARTBEAT=true run -0 "$MIGKIT" progress
	assert_output --partial "note: heartbeat: migkit.heartbeat does not exist on DST (create-sub creates it)"
	assert_output --partial "(estimate)"
}

@test "heartbeat: no beat while DST lacks the table (it would stop the apply worker)" {
	pg_sql SRC shop "create schema migkit; create table migkit.heartbeat (id int primary key, beat timestamptz not null)"
	MIGKIT_HEARTBEAT=true run -0 "$MIGKIT" progress --json
	jq -e '.lag.heartbeat.status == "no table on DST" and .in_sync' <<<"$output"
	[ -z "$(pg_sql SRC shop "select beat from migkit.heartbeat")" ]
	# Replication still flows.
	pg_sql SRC shop "insert into small values (1001, 'after')"
	until_true 10 sql_is DST "select v from small where id = 1001" after
}

@test "heartbeat: the end-to-end lag in seconds once the table replicates" {
	pg_sql DST shop "create schema migkit; create table migkit.heartbeat (id int primary key, beat timestamptz not null)"
	MIGKIT_HEARTBEAT=true run -0 "$MIGKIT" progress --json
	jq -e '.lag.heartbeat.status == "not subscribed"
		and any(.notes[]; contains("ALTER SUBSCRIPTION \"sub_shop\" REFRESH PUBLICATION"))' <<<"$output"
	pg_sql DST shop "alter subscription sub_shop refresh publication"
	until_true 30 sql_is DST "select srsubstate from pg_subscription_rel where srrelid = 'migkit.heartbeat'::regclass" r
	export MIGKIT_HEARTBEAT=true
	until_true 10 progress_json '.lag.heartbeat.status == "ok" and .lag.heartbeat.applied'
	run -0 "$MIGKIT" progress --json
	jq -e '.lag.seconds_source == "heartbeat" and .lag.seconds >= 0 and .lag.seconds < 5
		and (.lag.heartbeat.written | test("^[0-9-]+T[0-9:.]+Z$"))
		and (.tables | length) == 4' <<<"$output"
	# The beat written on SRC is the one read on DST.
	until_true 10 same_beat
	[ "$(pg_sql SRC shop "select now() - beat < interval '1 minute' from migkit.heartbeat where id = 1")" = t ]
	run -0 "$MIGKIT" progress
	assert_output --regexp 'Lag: [0-9.]+ k?B \(slot: applied position\), (up to )?[0-9.]+ m?s \(heartbeat\)'
}

@test "heartbeat: a read-only SRC (writes fenced) is a note, not an error" {
	pg_sql SRC postgres "alter database shop set default_transaction_read_only = on"
	MIGKIT_HEARTBEAT=true run -0 --separate-stderr "$MIGKIT" progress --json
	pg_sql SRC postgres "alter database shop reset default_transaction_read_only"
	jq -e '.lag.heartbeat.status == "SRC read-only" and .lag.seconds_source == "estimate" and .in_sync
		and any(.notes[]; contains("SRC refuses writes"))' <<<"$output"
	assert_equal "$stderr" ""
}

@test "one refresh runs at most two statements per side (one each without the heartbeat), after the session setup and one check of the sides" {
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "alter system set log_statement = 'all'" >/dev/null
		pg_sql "$side" postgres "alter system set log_line_prefix = '%m [%a] '" >/dev/null
		pg_sql "$side" postgres "select pg_reload_conf()" >/dev/null
	done
	sleep 0.5
	count_statements() {
		local dir="${1}_DIR"
		tail -c +"$(($2 + 1))" "${!dir}/server.log" | grep -cE '\[migkit\] LOG:  (statement|execute)' || true
	}
	local src0 dst0 n
	src0=$(stat -c %s "$SRC_DIR/server.log") dst0=$(stat -c %s "$DST_DIR/server.log")
	MIGKIT_HEARTBEAT=false run -0 "$MIGKIT" progress --watch 0.3 --timeout 1.4 --json
	n=${#lines[@]}
	[ "$n" -ge 3 ]
	sleep 0.3
	# Once per side: one statement sets the session up (jit off), one checks
	# that SRC and DST are two databases.
	assert_equal "$(count_statements SRC "$src0")/$(count_statements DST "$dst0")" "$((n + 2))/$((n + 2))"
	src0=$(stat -c %s "$SRC_DIR/server.log") dst0=$(stat -c %s "$DST_DIR/server.log")
	MIGKIT_HEARTBEAT=true run -0 "$MIGKIT" progress --watch 0.3 --timeout 1.4 --json
	n=${#lines[@]}
	sleep 0.3
	assert_equal "$(count_statements SRC "$src0")/$(count_statements DST "$dst0")" "$((2 * n + 2))/$((2 * n + 2))"
	for side in SRC DST; do
		pg_sql "$side" postgres "alter system reset log_statement" >/dev/null
		pg_sql "$side" postgres "select pg_reload_conf()" >/dev/null
	done
}

@test "copy-progress: the kit script runs migkit progress with the kit's context" {
	cd "$BATS_FILE_TMPDIR"
	unset SRCPG DSTPG SUBNAME
	run -0 kit/copy-progress --wait --timeout 30 --interval 0.5
	assert_output --partial "Subscription sub_shop on DST: enabled"
	assert_output --partial "In sync"
	run -0 kit/copy-progress --json
	jq -e '.subscription == "sub_shop" and .in_sync and (.tables | length) == 4
		and .lag.heartbeat.enabled and .lag.seconds_source == "heartbeat"' <<<"$output"
	run -0 kit/copy-progress --prometheus
	assert_line 'migkit_in_sync{subscription="sub_shop"} 1'
	run -0 kit/copy-progress --help
	assert_output --partial "Usage: copy-progress"
	assert_output --partial "--wait"
	run -2 --separate-stderr kit/copy-progress --no-such-option
	[[ $stderr == *'Try "copy-progress --help"'* ]]
	grep -q $'\tcopy-progress\texit=0\t.*\t--json$' kit/log/journal
	grep -q $'\tcopy-progress\texit=2\t' kit/log/journal
}

@test "copy-progress --dry-run leaves the heartbeat out (its only write)" {
	cd "$BATS_FILE_TMPDIR"
	unset SRCPG DSTPG SUBNAME
	grep -qx 'export MIGKIT_HEARTBEAT=true' kit/activate
	local before
	before=$(pg_sql SRC shop "select beat from migkit.heartbeat")
	run -0 kit/copy-progress -n --json
	jq -e '.lag.heartbeat.enabled == false' <<<"$output"
	assert_equal "$(pg_sql SRC shop "select beat from migkit.heartbeat")" "$before"
}

@test "after the kit's create-pub and create-sub (heartbeat: true), copy-progress measures the heartbeat" {
	cd "$BATS_FILE_TMPDIR"
	unset SRCPG DSTPG SUBNAME
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database app" >/dev/null
		pg_sql "$side" app "create table orders (id int primary key, note text)" >/dev/null
	done
	pg_sql SRC app "insert into orders select g, 'order ' || g from generate_series(1, 500) g"
	write_config app.yml SRC app DST app "heartbeat: true"
	render_kit app.yml appkit
	run -0 appkit/create-pub -y
	run -0 appkit/create-sub -y
	run -0 appkit/copy-progress --wait --timeout 60 --interval 0.5
	assert_output --partial "Tables: 1 streaming"
	until_true 30 appkit_heartbeat_ok
	run -0 appkit/copy-progress --json
	jq -e '.lag.seconds_source == "heartbeat" and .lag.seconds < 5 and .in_sync
		and (.tables | map(.schema + "." + .table)) == ["public.orders"]' <<<"$output"
}

# appkit_heartbeat_ok: the app kit's copy-progress reads its heartbeat on DST.
appkit_heartbeat_ok() {
	appkit/copy-progress --json 2>/dev/null | jq -e '.lag.heartbeat.status == "ok"' >/dev/null
}

@test "the rendered copy-progress is shellcheck-clean" {
	command -v "${SHELLCHECK:-shellcheck}" >/dev/null || skip "shellcheck is not installed"
	cd "$BATS_FILE_TMPDIR/kit"
	run -0 "${SHELLCHECK:-shellcheck}" -x copy-progress
}
