# shellcheck shell=bash
# The fault suite's cells (tests/faults.bats, tests/faults-quick.bats): a
# migration in one phase (copy, streaming, cutover, reverse) meets one
# fault (dst-restart, src-restart, walsender, network, script-kill), on
# one SRC and one DST started for the file, each cell in databases of its
# own.  DST's subscription reaches SRC through a TCP proxy (socat) the
# cell can stop, and so does SRC's reverse subscription reach DST.  While
# the fault lasts, copy-progress must not say "in sync"; afterwards
# replication resumes by itself (or the kit says what to run, and the cell
# runs it), every commit a client saw is on the side it wrote to and
# replicated, and a digest of every table (count and md5 of the ordered
# row texts, computed here, not by migkit) is equal on both sides.
#
# Each cell's result goes to $BATS_FILE_TMPDIR/cells/PHASE.FAULT (FAIL
# until it passes); fault_table prints the table of them.

FAULT_PHASES=(copy streaming cutover reverse)
FAULT_KINDS=(dst-restart src-restart walsender network script-kill)

# fault_setup_file: SRC, DST, the application role and the two proxies.
fault_setup_file() {
	command -v socat >/dev/null || { echo "socat is not installed: run ./bootstrap" >&2; return 1; }
	pg_start SRC "wal_retrieve_retry_interval = 1s" "max_connections = 100"
	pg_start DST "wal_retrieve_retry_interval = 1s" "max_connections = 100"
	pg_sql SRC postgres "create role app_user login"
	pg_sql DST postgres "create role app_user login"
	mkdir -p "$BATS_FILE_TMPDIR/cells"
	FWD_PROXY_PORT=$(free_port) REV_PROXY_PORT=$(free_port)
	export FWD_PROXY_PORT REV_PROXY_PORT
	proxy_start FWD "$FWD_PROXY_PORT" "$SRC_PORT"
	proxy_start REV "$REV_PROXY_PORT" "$DST_PORT"
}

fault_teardown_file() {
	touch "$BATS_FILE_TMPDIR/stop"
	proxy_stop FWD
	proxy_stop REV
	pg_stop_all
}

# proxy_start NAME PORT TARGET_PORT: a TCP proxy on 127.0.0.1:PORT to
# 127.0.0.1:TARGET_PORT, in a process group of its own (NAME_PROXY_PID).
proxy_start() {
	local pid
	setsid socat "TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$3" </dev/null >/dev/null 2>"$BATS_FILE_TMPDIR/proxy.$1.log" 3>&- &
	pid=$!
	printf '%s %s %s\n' "$pid" "$2" "$3" >"$BATS_FILE_TMPDIR/proxy.$1"
	for _ in $(seq 1 100); do
		(exec 9<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "proxy $1 on port $2 did not start: $(cat "$BATS_FILE_TMPDIR/proxy.$1.log" 2>/dev/null)" >&2
	return 1
}

# proxy_stop NAME: the proxy and every connection through it end at once;
# proxy_heal NAME starts it again on its port.
proxy_stop() {
	local pid _rest
	[ -f "$BATS_FILE_TMPDIR/proxy.$1" ] || return 0
	read -r pid _rest <"$BATS_FILE_TMPDIR/proxy.$1"
	kill -TERM -- "-$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	mv "$BATS_FILE_TMPDIR/proxy.$1" "$BATS_FILE_TMPDIR/proxy.$1.cut"
}

proxy_heal() {
	local _pid port target
	[ -f "$BATS_FILE_TMPDIR/proxy.$1.cut" ] || return 0
	read -r _pid port target <"$BATS_FILE_TMPDIR/proxy.$1.cut"
	rm -f "$BATS_FILE_TMPDIR/proxy.$1.cut"
	proxy_start "$1" "$port" "$target"
}

# pg_crash NAME: stops a cluster at once (pg_ctl stop -m immediate).
pg_crash() {
	local dirvar="${1}_DIR" bindir
	bindir=$(pg_dir_bindir "${!dirvar}")
	as_pg "$bindir/pg_ctl" -D "${!dirvar}/data" -m immediate -w stop >/dev/null
}

# pg_up NAME: starts a crashed cluster again on its port.
pg_up() {
	local dirvar="${1}_DIR" portvar="${1}_PORT" bindir
	bindir=$(pg_dir_bindir "${!dirvar}")
	as_pg "$bindir/pg_ctl" -D "${!dirvar}/data" -l "${!dirvar}/server.log" -o "-p ${!portvar}" -w -t 60 start >/dev/null
}

# digest SIDE DB: per table of the cell, its row count and the md5 of its
# rows' text in order: computed here, independently of migkit diff.
digest() {
	pg_sql "$1" "$2" "select string_agg(d, ' ' order by d) from (
	  select 'items:' || count(*) || ':' || md5(coalesce(string_agg(t::text, ',' order by t.id), '')) as d from public.items t
	  union all select 'writes:' || count(*) || ':' || md5(coalesce(string_agg(t::text, ',' order by t.client, t.n), '')) from public.writes t
	  union all select 'big:' || count(*) || ':' || md5(coalesce(string_agg(t::text, ',' order by t.id), '')) from public.big t) x"
}

# digests_equal DB: waits (60 s) until both sides' digests are equal.
digests_equal() {
	local a b
	for _ in $(seq 1 120); do
		a=$(digest SRC "$1") b=$(digest DST "$1")
		[ "$a" = "$b" ] && return 0
		sleep 0.5
	done
	fail "digests differ: SRC $a, DST $b"
}

# fault_client ID: inserts (ID, 1), (ID, 2)... into public.writes as
# app_user wherever $CELL/kit/data/app-target points, logging each commit
# it saw in $CELL/client.ID, until $CELL/stop appears.
fault_client() {
	local id=$1 n=0 target
	while [ ! -e "$CELL/stop" ]; do
		n=$((n + 1))
		target=$(sed 's|^postgres://[^@]*@|postgres://app_user@|' "$CELL/kit/data/app-target")
		if PGCONNECT_TIMEOUT=2 psql -X -w -q -d "$target" -c "insert into public.writes values ($id, $n)" >/dev/null 2>&1; then
			printf '%s %s\n' "$id" "$n" >>"$CELL/client.$id"
		fi
		sleep 0.02
	done
}

clients_start() {
	local i
	CLIENT_PIDS=()
	rm -f "$CELL/stop"
	for i in 1 2; do
		fault_client "$i" 3>&- &
		CLIENT_PIDS+=($!)
	done
}

clients_stop() {
	touch "$CELL/stop"
	[ "${#CLIENT_PIDS[@]}" -eq 0 ] || wait "${CLIENT_PIDS[@]}" 2>/dev/null || true
	CLIENT_PIDS=()
}

# commits_on SIDE: every commit a client saw is on SIDE (and they saw some).
commits_on() {
	cat "$CELL"/client.* 2>/dev/null | awk '{ print $1 "|" $2 }' | sort >"$CELL/committed"
	pg_sql "$1" "$DB" "select client || '|' || n from public.writes where client > 0" | sort >"$CELL/on_side"
	run -0 comm -23 "$CELL/committed" "$CELL/on_side"
	assert_output ""
	[ "$(wc -l <"$CELL/committed")" -gt 10 ] || fail "the clients committed only $(wc -l <"$CELL/committed") rows"
}

# cell_init PHASE FAULT: the cell's databases on both sides, its kit (the
# demo's re-routing hook; sub_conn through the forward proxy), and the
# publication.
cell_init() {
	PHASE=$1 FAULT=$2 DB=f_${1}_${2//-/_}
	CELL=$BATS_FILE_TMPDIR/$DB
	CLIENT_PIDS=()
	CELL_T0=$SECONDS
	mkdir -p "$CELL"
	echo FAIL >"$BATS_FILE_TMPDIR/cells/$PHASE.$FAULT"
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database $DB"
		pg_psql "$side" "$DB" <<'SQL'
create table public.items (id bigserial primary key, name text not null);
create table public.writes (client int, n int, primary key (client, n));
create table public.big (id int primary key, pad text);
grant select, insert, update, delete on all tables in schema public to app_user;
grant usage on all sequences in schema public to app_user;
SQL
	done
	pg_psql SRC "$DB" <<'SQL'
insert into public.items (name) select 'item ' || g from generate_series(1, 500) g;
insert into public.big select g, repeat(md5(g::text), 8) from generate_series(1, 5000) g;
SQL
	# On each side, each row written to big or writes by a replication
	# worker (ENABLE ALWAYS) takes a shared advisory lock (4242 for big,
	# 4243 for writes): a session holding it exclusively (hold_start) holds
	# the initial copy of big, or the apply of writes, without a table lock
	# that would hold up the kit's own DDL.
	for side in SRC DST; do
		pg_psql "$side" "$DB" <<'SQL'
create function public.hold() returns trigger language plpgsql as $$
begin
  perform pg_advisory_lock_shared(tg_argv[0]::bigint);
  perform pg_advisory_unlock_shared(tg_argv[0]::bigint);
  return new;
end $$;
create trigger hold before insert on public.big for each row execute function public.hold(4242);
create trigger hold before insert on public.writes for each row execute function public.hold(4243);
alter table public.big enable always trigger hold;
alter table public.writes enable always trigger hold;
SQL
	done
	write_config "$CELL/kit.yml" SRC "$DB" DST "$DB" "app_roles: [app_user]" \
		"sub_conn: host=127.0.0.1 port=$FWD_PROXY_PORT dbname=$DB user=replicator"
	"$MIGKIT" render -q -t "$MIGKIT_SRCDIR/examples/demo/templates" -o "$CELL/kit" "$CELL/kit.yml"
	grep -E '^export SRCPG=' "$CELL/kit/activate" | sed 's/^export SRCPG=//' >"$CELL/kit/data/app-target"
	"$CELL/kit/create-pub" -y >/dev/null
}

# cell_done: the cell passed, in so many seconds.
cell_done() {
	echo "PASS $((SECONDS - CELL_T0))s" >"$BATS_FILE_TMPDIR/cells/$PHASE.$FAULT"
}

# cell_cleanup: in teardown, pass or fail: the clients, holds, the
# subscriptions (their slots), the databases.
cell_cleanup() {
	[ -n "${CELL:-}" ] || return 0
	clients_stop
	proxy_heal FWD || true
	proxy_heal REV || true
	local side sub
	for side in SRC DST; do
		pg_sql "$side" postgres "select 1" >/dev/null 2>&1 || pg_up "$side" || true
		for sub in $(pg_sql "$side" "$DB" "select subname from pg_subscription where subdbid = (select oid from pg_database where datname = current_database())" 2>/dev/null); do
			pg_psql "$side" "$DB" -c "alter subscription $sub disable" -c "alter subscription $sub set (slot_name = none)" \
				-c "drop subscription $sub" >/dev/null 2>&1 || true
		done
	done
	for side in SRC DST; do
		pg_sql "$side" postgres "select pg_terminate_backend(pid) from pg_stat_activity where datname = '$DB' and pid <> pg_backend_pid()" >/dev/null 2>&1 || true
		pg_sql "$side" postgres "select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = '$DB' and not active" >/dev/null 2>&1 || true
		pg_sql "$side" postgres "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
	done
	CELL=
}

# hold_start SIDE SQL: a session on SIDE that runs SQL (a lock) and then
# waits, until hold_stop (or a restart) ends it.
hold_start() {
	pg_psql "$1" "$DB" -c "$2" -c "select pg_sleep(600)" >/dev/null 2>&1 3>&- &
	HOLD_PID=$!
}

hold_stop() {
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "select pg_terminate_backend(pid) from pg_stat_activity where datname = '$DB' and query like '%pg_sleep(600)%' and pid <> pg_backend_pid()" >/dev/null 2>&1 || true
	done
	[ -z "${HOLD_PID:-}" ] || wait "$HOLD_PID" 2>/dev/null || true
	HOLD_PID=
}

# migkit_progress SUB FROM TO [OPTION]...: migkit progress on the
# subscription SUB on TO, reading FROM; its messages with its output.
migkit_progress() {
	local sub=$1 from=$2 to=$3
	shift 3
	"$MIGKIT" progress --sub "$sub" --src "$from" --dst "$to" "$@" 2>&1
}

# walsenders_gone SIDE SUB: terminates the walsenders serving SUB (its
# apply and table sync workers), each waited for until it has exited.
walsenders_gone() {
	pg_sql "$1" postgres "select count(pg_terminate_backend(pid, 5000)) from pg_stat_replication where application_name = '$2' or application_name like 'pg_%_sync_%'" >/dev/null
}

# fault_table: the table of the cells' results, phases down, faults across.
fault_table() {
	local phase kind f line
	printf '%-10s' 'phase'
	for kind in "${FAULT_KINDS[@]}"; do printf ' %-12s' "$kind"; done
	printf '\n'
	for phase in "${FAULT_PHASES[@]}"; do
		line=$(printf '%-10s' "$phase")
		for kind in "${FAULT_KINDS[@]}"; do
			f=$BATS_FILE_TMPDIR/cells/$phase.$kind
			line+=$(printf ' %-12s' "$(cat "$f" 2>/dev/null || echo -)")
		done
		printf '%s\n' "$line"
	done
}

# kit_var NAME: a variable the cell's activate exports.
kit_var() {
	sed -n "s/^export $1=//p" "$CELL/kit/activate"
}

# killed_group PID: SIGKILL to the process group PID leads (a script run
# with setsid), and waits for it.
killed_group() {
	kill -KILL -- "-$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# wait_file_line FILE LINE: waits (60 s) until FILE holds the line LINE.
wait_file_line() {
	for _ in $(seq 1 600); do
		grep -qx -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1 never held '$2'"
}

# no_migkit_sessions: no session of migkit is left on either side.
no_migkit_sessions() {
	wait_for SRC postgres "select count(*) from pg_stat_activity where datname = '$DB' and application_name like 'migkit%'" 0
	wait_for DST postgres "select count(*) from pg_stat_activity where datname = '$DB' and application_name like 'migkit%'" 0
}

# fault_on SUBSIDE PUBSIDE SUB PROXY PROGRESS...: the cell's fault on a
# replication whose subscription SUB is on SUBSIDE and reads PUBSIDE
# through PROXY, with PROGRESS (a command: copy-progress or migkit
# progress) checked while it lasts.  The script-kill fault is the phase's.
fault_on() {
	local subside=$1 pubside=$2 sub=$3 proxy=$4
	shift 4
	case $FAULT in
	dst-restart | src-restart)
		# progress calls the subscriber's side DST, the publisher's SRC.
		local side=${FAULT%%-*} label=SRC
		side=${side^^}
		[ "$side" != "$subside" ] || label=DST
		pg_crash "$side"
		progress_untrue "$@"
		assert_output --partial "cannot connect to $label"
		sleep 1
		pg_up "$side"
		;;
	walsender)
		# The worker connects again within a second: each refresh right
		# after the kill is in sync only if its slot is held again.
		walsenders_gone "$pubside" "$sub"
		for _ in 1 2 3; do
			run "$@" --json
			[ "$status" -ne 2 ] || fail "progress failed during $FAULT: $output"
			printf '%s\n' "$output" | grep '^{' | tail -n 1 | jq -e '(.in_sync | not) or .slot.active' >/dev/null ||
				fail "progress said in sync with no walsender on the slot: $output"
		done
		;;
	network)
		proxy_stop "$proxy"
		wait_for "$pubside" postgres "select count(*) from pg_replication_slots where database = '$DB' and active and slot_name = '$sub'" 0
		progress_untrue "$@"
		sleep 3
		progress_untrue "$@"
		proxy_heal "$proxy"
		;;
	esac
}

# progress_untrue COMMAND...: COMMAND (a progress check) while a fault
# lasts: never exit 0, never "In sync".
progress_untrue() {
	run "$@"
	[ "$status" -ne 0 ] || fail "progress said in sync during $FAULT: $output"
	refute_output --partial "In sync"
}

# The phases.  Each begins after cell_init and ends with the checks.

phase_copy() {
	local kit=$CELL/kit sub
	sub=$(kit_var SUBNAME)
	hold_start DST "select pg_advisory_lock(4242)"
	wait_for DST "$DB" "select count(*) from pg_locks where locktype = 'advisory' and objid = 4242 and mode = 'ExclusiveLock' and granted" 1
	# The subscription's own copy, held in the middle of a table by the lock
	# (the fast copy meets its faults in tests/copy.bats).
	"$kit/create-sub" --copy native -y >/dev/null 2>&1
	wait_for DST "$DB" "select srsubstate from pg_subscription_rel where srrelid = 'public.big'::regclass" d
	clients_start
	sleep 0.5
	if [ "$FAULT" = script-kill ]; then
		local pid
		setsid "$kit/copy-progress" --wait --timeout 120 >"$CELL/killed.out" 2>&1 3>&- &
		pid=$!
		sleep 2
		killed_group "$pid"
		no_migkit_sessions
	else
		# A copy-progress --wait begun before the fault outlasts it.
		local waiter
		"$kit/copy-progress" --wait --timeout 120 --interval 0.5 >"$CELL/waiter.out" 2>&1 3>&- &
		waiter=$!
		sleep 1
		fault_on DST SRC "$sub" FWD "$kit/copy-progress"
		[ "$FAULT" = walsender ] || assert_output --regexp "(cannot connect to|tables not streaming yet)"
	fi
	hold_stop
	if [ -n "${waiter:-}" ]; then
		wait "$waiter" || fail "copy-progress --wait begun before the fault exited $?: $(cat "$CELL/waiter.out")"
		case $FAULT in
		dst-restart | src-restart)
			local lost=${FAULT%%-*}
			grep -q "not in sync: lost the connection to ${lost^^}" "$CELL/waiter.out" ||
				fail "copy-progress --wait did not say it lost ${lost^^}: $(cat "$CELL/waiter.out")"
			grep -q "reachable again" "$CELL/waiter.out"
			;;
		esac
	fi
	run -0 "$kit/copy-progress" --wait --timeout 120
	clients_stop
	digests_equal "$DB"
	commits_on DST
}

phase_streaming() {
	local kit=$CELL/kit sub
	sub=$(kit_var SUBNAME)
	"$kit/create-sub" -y >/dev/null 2>&1
	run -0 "$kit/copy-progress" --wait --timeout 60
	clients_start
	sleep 1
	if [ "$FAULT" = script-kill ]; then
		# copy-diff, held by a lock on DST so that the kill lands in its step.
		local pid
		hold_start DST "begin; lock table public.big in access exclusive mode; select pg_sleep(600); commit"
		wait_for DST "$DB" "select count(*) from pg_locks where relation = 'public.big'::regclass and mode = 'AccessExclusiveLock' and granted" 1
		setsid "$kit/copy-diff" --checksum >"$CELL/killed.out" 2>&1 3>&- &
		pid=$!
		wait_for DST postgres "select count(*) > 0 from pg_stat_activity where datname = '$DB' and application_name like 'migkit%' and wait_event_type = 'Lock'" t
		killed_group "$pid"
		hold_stop
		no_migkit_sessions
	else
		fault_on DST SRC "$sub" FWD "$kit/copy-progress"
		[ "$FAULT" != network ] || assert_output --partial "no walsender on SRC serves slot $sub"
	fi
	run -0 "$kit/copy-progress" --wait --timeout 120
	clients_stop
	digests_equal "$DB"
	[ "$FAULT" != script-kill ] || run -0 "$kit/copy-diff" --checksum
	commits_on DST
}

# The reverse replication, once cutover is done: through the reverse proxy.
reverse_start() {
	local kit=$CELL/kit
	run -0 "$kit/create-reverse" -y --conn "host=127.0.0.1 port=$REV_PROXY_PORT dbname=$DB user=replicator"
	run -0 migkit_progress "$(kit_var SUBNAME)_reverse" "$(kit_var DSTPG)" "$(kit_var SRCPG)" --wait --timeout 60
}

phase_cutover() {
	local kit=$CELL/kit sub pid rc=0
	sub=$(kit_var SUBNAME)
	"$kit/create-sub" -y >/dev/null 2>&1
	run -0 "$kit/copy-progress" --wait --timeout 60
	clients_start
	sleep 1
	# DST's apply worker waits on a lock, so the catch-up waits: the fault
	# lands between the fence and re-routing.
	hold_start DST "select pg_advisory_lock(4243)"
	wait_for DST "$DB" "select count(*) from pg_locks where locktype = 'advisory' and objid = 4243 and mode = 'ExclusiveLock' and granted" 1
	setsid "$kit/cutover" -y --catchup-timeout 90 >"$CELL/cutover.out" 2>&1 3>&- &
	pid=$!
	wait_file_line "$kit/data/cutover.run" done=disable-src
	sleep 0.5
	if [ "$FAULT" = script-kill ]; then
		killed_group "$pid"
		hold_stop
		[ -f "$kit/data/fence.json" ]
		run -1 "$kit/cutover" -y
		assert_output --partial "was killed during catch-up, after prepare-reverse disable-src"
		assert_output --partial "SRC is fenced (data/fence.json)"
		assert_output --partial "./cutover --resume"
		assert_output --partial "./cutover --undo"
		run -1 "$kit/disable-src" -y
		assert_output --partial "by a cutover that was killed during catch-up"
		run -0 "$kit/cutover" --resume -y
		assert_output --partial "catch-up: done"
		assert_output --partial "re-routing: done"
	else
		fault_on DST SRC "$sub" FWD "$kit/copy-progress"
		hold_stop
		wait "$pid" || rc=$?
		[ "$rc" = 0 ] || fail "cutover exited $rc: $(cat "$CELL/cutover.out")"
		grep -q "catch-up: done" "$CELL/cutover.out"
	fi
	[ ! -e "$kit/data/cutover.run" ]
	run -0 jq -r .status "$kit/data/cutover.json"
	assert_output done
	sleep 1
	clients_stop
	commits_on DST
	reverse_start
	digests_equal "$DB"
}

phase_reverse() {
	local kit=$CELL/kit rsub pid
	rsub=$(kit_var SUBNAME)_reverse
	"$kit/create-sub" -y >/dev/null 2>&1
	run -0 "$kit/copy-progress" --wait --timeout 60
	clients_start
	sleep 1
	run "$kit/cutover" -y
	[ "$status" = 0 ] || fail "cutover exited $status: $output"
	reverse_start
	sleep 1
	if [ "$FAULT" = script-kill ]; then
		# rollback, held at its catch-up by a lock on SRC, killed there.
		hold_start SRC "select pg_advisory_lock(4243)"
		wait_for SRC "$DB" "select count(*) from pg_locks where locktype = 'advisory' and objid = 4243 and mode = 'ExclusiveLock' and granted" 1
		setsid "$kit/rollback" -y --catchup-timeout 90 >"$CELL/rollback.out" 2>&1 3>&- &
		pid=$!
		wait_file_line "$kit/data/rollback.run" done=fence-dst
		sleep 0.5
		killed_group "$pid"
		hold_stop
		run -1 "$kit/rollback" -y
		assert_output --partial "was killed during catch-up"
		assert_output --partial "DST is fenced (data/fence-dst.json)"
		assert_output --partial "./rollback --unfence-dst"
		run -0 "$kit/rollback" --unfence-dst -y
		assert_output --partial "the application goes on with DST"
		[ ! -e "$kit/data/rollback.run" ]
	else
		fault_on SRC DST "$rsub" REV migkit_progress "$rsub" "$(kit_var DSTPG)" "$(kit_var SRCPG)"
	fi
	run -0 migkit_progress "$rsub" "$(kit_var DSTPG)" "$(kit_var SRCPG)" --wait --timeout 120
	sleep 1
	clients_stop
	commits_on DST
	digests_equal "$DB"
}

# cell_run PHASE FAULT: one cell, from its databases to its verdict.
cell_run() {
	cell_init "$1" "$2"
	"phase_$1"
	cell_done
}
