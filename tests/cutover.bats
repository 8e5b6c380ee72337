#!/usr/bin/env bats
# cutover against real clusters: the preflight's refusals, --dry-run, an
# abort at the catch-up that leaves SRC serving writes, and a cutover while
# clients write, after which every row a client saw committed is on DST.
# The tests run in file order on one SRC and one DST; the kit "app" has a
# re-routing hook that repoints the clients (data/app-target), the kit
# "dflt" the default hook.

setup_file() {
	load test_helper/common
	pg_start SRC "max_prepared_transactions = 4"
	pg_start DST
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database app"
		pg_psql "$side" app <<'SQL'
create role app_user login;
create table public.items (id bigserial primary key, name text not null);
create table public."Order Items" (id int generated always as identity primary key, qty int not null);
create table public.writes (client int, n int, primary key (client, n));
create schema sales;
grant usage on schema sales to app_user;
SQL
	done
	pg_psql SRC app <<'SQL'
create table sales.orders (id int primary key, amount numeric not null) partition by range (id);
create table sales.orders_1 partition of sales.orders for values from (1) to (100000);
insert into public.items (name) select 'item ' || g from generate_series(1, 100) g;
insert into public."Order Items" (qty) select g from generate_series(1, 10) g;
insert into sales.orders select g, g * 1.5 from generate_series(1, 999) g;
SQL
	pg_sql DST app "create table sales.orders (id int primary key, amount numeric not null)"
	for side in SRC DST; do
		pg_psql "$side" app <<'SQL'
grant select, insert, update, delete on all tables in schema public, sales to app_user;
grant usage on all sequences in schema public to app_user;
SQL
	done

	KITS=$BATS_FILE_TMPDIR/kits
	mkdir -p "$KITS"
	export KITS
	app_kit_streaming 100 4
}

teardown_file() {
	load test_helper/common
	touch "$BATS_FILE_TMPDIR/stop"
	pg_stop_all
}

setup() {
	load test_helper/common
}

teardown() {
	touch "$BATS_TEST_TMPDIR/stop"
	if [ -e "$BATS_TEST_TMPDIR/activate" ]; then
		cp "$BATS_TEST_TMPDIR/activate" "$KITS/app/activate"
	fi
}


@test "cutover refuses while re-routing is the default hook, and changes nothing" {
	run -1 "$KITS/dflt/cutover" -y
	assert_output --partial "re-routing is still the default hook"
	assert_output --partial "MIGKIT_DEFAULT_HOOK=1"
	[ ! -e "$KITS/dflt/data/fence.json" ]
	[ ! -e "$KITS/dflt/data/cutover.json" ]
	as_app SRC "insert into public.items (name) values ('after a refusal')"
	assert_equal "$(pg_sql DST app "select count(*) from pg_replication_slots")" 0
	assert_equal "$(pg_sql DST app "select subenabled from pg_subscription")" t
}

@test "cutover refuses when DST does not let the application's role write, naming what is missing" {
	pg_sql DST app "revoke insert, delete on public.items from app_user; alter role app_user nologin"
	run -1 "$KITS/app/cutover" -y
	pg_sql DST app "grant insert, delete on public.items to app_user; alter role app_user login"
	assert_output --partial "on DST: role app_user may not log in (NOLOGIN)"
	assert_output --partial "on DST: role app_user lacks DELETE/INSERT on table public.items"
	refute_output --partial '"Order Items"'
	[ ! -e "$KITS/app/data/fence.json" ]
	as_app SRC "insert into public.items (name) values ('after a refusal')"
}

@test "cutover's preflight checks the privileges on a schema whose name needs quoting, and names it" {
	local side
	for side in SRC DST; do
		pg_psql "$side" postgres -c "create database quoted"
		pg_psql "$side" quoted <<'SQL'
create schema "Sales Dept";
create table "Sales Dept"."Q1" (id int primary key);
grant usage on schema "Sales Dept" to app_user;
grant select, insert, update, delete on "Sales Dept"."Q1" to app_user;
SQL
	done
	pg_sql DST quoted 'revoke usage on schema "Sales Dept" from app_user'
	write_config "$KITS/quoted.yml" SRC quoted DST quoted "app_roles: [app_user]"
	render_kit "$KITS/quoted.yml" "$KITS/quoted"
	run -1 "$KITS/quoted/cutover" --dry-run
	assert_output --partial 'on DST: role app_user lacks USAGE on schema Sales Dept'
	refute_output --partial 'ERROR'
	pg_sql DST quoted 'grant usage on schema "Sales Dept" to app_user'
	run -1 "$KITS/quoted/cutover" --dry-run
	assert_output --partial "ok: DST takes the application's writes"
}

@test "cutover refuses when the way back cannot be prepared: the replication user on DST may not replicate" {
	pg_sql DST postgres "alter role replicator noreplication"
	run -1 "$KITS/app/cutover" -y
	pg_sql DST postgres "alter role replicator replication"
	assert_output --partial "the way back cannot be prepared: role replicator on DST lacks REPLICATION"
	[ ! -e "$KITS/app/data/fence.json" ]
	run -0 "$KITS/app/cutover" --dry-run
	assert_output --partial "the way back can be prepared"
}

@test "cutover refuses while the subscription is disabled" {
	pg_sql DST app "alter subscription sub_pg_src_app disable"
	run -1 --separate-stderr "$KITS/app/cutover" -y
	pg_sql DST app "alter subscription sub_pg_src_app enable"
	assert_output --partial "subscription sub_pg_src_app is not in sync: the subscription is disabled"
	[[ $stderr == *"refused: 1 blocker(s) above; nothing was changed"* ]]
	wait_for DST app "select count(*) from pg_stat_subscription where pid is not null" 1
}

@test "cutover --dry-run shows the whole plan and changes nothing" {
	run -0 "$KITS/app/cutover" --dry-run --checksum 'sales.*'
	assert_output --partial "ok: the re-routing hook is written"
	assert_output --partial "create publication pub_pg_src_app_reverse for table"
	assert_output --partial "disable-src -y"
	assert_output --partial "migkit seq --shift 100"
	assert_output --partial "migkit diff --checksum on sales.*"
	assert_output --partial "ALTER SUBSCRIPTION sub_pg_src_app DISABLE"
	assert_output --partial "re-routing --to dst -y"
	assert_output --partial "dry run: nothing was changed"
	[ ! -e "$KITS/app/data/fence.json" ]
	[ ! -e "$KITS/app/data/cutover.json" ]
	assert_equal "$(pg_sql DST app "select count(*) from pg_replication_slots")" 0
	assert_equal "$(pg_sql DST app "select count(*) from pg_publication")" 0
	assert_equal "$(pg_sql DST app "select subenabled from pg_subscription")" t
	assert_equal "$(pg_sql DST app "select is_called from public.items_id_seq")" f
	grep -q ":$SRC_PORT/app" "$KITS/app/data/app-target"
	as_app SRC "insert into public.items (name) values ('after a dry run')"
}

@test "cutover aborted at the catch-up lifts the fence: SRC serves writes again, exit 1" {
	# A session the application keeps open, as a pooler does: the fence ends
	# it and it cannot come back until the fence is lifted.
	local pooler
	(while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do as_app SRC "select pg_sleep(30)" >/dev/null 2>&1 || true; done) 3>&- &
	pooler=$!
	wait_for SRC app "select count(*) from pg_stat_activity where usename = 'app_user' and state = 'active'" 1
	# DST's apply worker waits on a lock, so DST cannot catch up.  (The lock
	# would also hold up CREATE PUBLICATION: the way back is not prepared.)
	pg_psql DST app -c "begin; lock table public.writes in share mode; select pg_sleep(60); commit" >/dev/null 2>&1 3>&- &
	wait_for DST app "select count(*) from pg_locks where relation = 'public.writes'::regclass and mode = 'ShareLock' and granted" 1
	# From this insert on the lag grows; the preflight must still let the
	# cutover start however slowly this machine gets there.
	cp "$KITS/app/activate" "$BATS_TEST_TMPDIR/activate"
	echo "export MIGKIT_LAG_MAX_SECONDS=600" >>"$KITS/app/activate"
	pg_sql SRC app "insert into public.writes values (0, 1)"

	run -1 --separate-stderr "$KITS/app/cutover" -y --catchup-timeout 1 --no-reverse
	touch "$BATS_TEST_TMPDIR/stop"
	pg_sql SRC app "select pg_terminate_backend(pid) from pg_stat_activity where usename = 'app_user'" >/dev/null
	wait "$pooler"
	pg_sql DST app "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
	assert_output --regexp "the application's roles cannot connect to app \([1-9][0-9]* session\(s\) ended"
	[[ $stderr == *"aborted at catch-up: DST did not catch up with SRC within 1.000 s"* ]] || fail "$stderr"
	[[ $stderr == *"the fence is lifted: the application goes on with SRC"* ]]
	assert_output --partial "disable-src: done"

	# The application writes on SRC again.
	as_app SRC "insert into public.items (name) values ('after the abort')"
	[ ! -e "$KITS/app/data/fence.json" ]
	assert_equal "$(pg_sql DST app "select subenabled from pg_subscription")" t
	grep -q ":$SRC_PORT/app" "$KITS/app/data/app-target"
	run -0 jq -r '[.status, (.fence_lsn | type), (.applied_lsn | type), ([.steps[].step] | join(","))] | join(" ")' "$KITS/app/data/cutover.json"
	assert_output "aborted string null preflight,disable-src,catch-up,undo"
	run -0 jq -r .error "$KITS/app/data/cutover.json"
	assert_output --partial "did not catch up"
	wait_for DST app "select count(*) from public.writes where client = 0" 1
	run -0 grep -c $'\tcutover:catch-up\texit=1\t' "$KITS/app/log/journal"
}

@test "cutover names the prepared transactions, and its catch-up waits for them: aborted while one is left" {
	as_app SRC "begin; insert into public.writes values (-7, 1); prepare transaction 'left open'"
	run -0 "$KITS/app/cutover" --dry-run
	assert_output --partial "prepared transactions on SRC: left open (app_user"
	run -1 --separate-stderr "$KITS/app/cutover" -y --catchup-timeout 1 --no-reverse
	[[ $stderr == *"aborted at catch-up"*"prepared transactions are neither committed nor rolled back: left open"* ]] || fail "$stderr"
	[[ $stderr == *"the fence is lifted"* ]]
	[ ! -e "$KITS/app/data/fence.json" ]
	# Committed after an abort, it reaches DST like any other.
	pg_sql SRC app "commit prepared 'left open'"
	wait_for DST app "select count(*) from public.writes where client = -7" 1
	pg_sql SRC app "delete from public.writes where client = -7"
	wait_for DST app "select count(*) from public.writes where client = -7" 0
}

@test "cutover aborted at the verification undoes the fence and the way back it prepared" {
	pg_sql DST app "insert into public.writes values (-1, 1)"
	run -1 --separate-stderr "$KITS/app/cutover" -y
	pg_sql DST app "delete from public.writes where client = -1"
	[[ $stderr == *"aborted at verify: the verification found DST different"* ]] || fail "$stderr"
	assert_output --partial "public.writes"
	as_app SRC "insert into public.items (name) values ('after the second abort')"
	[ ! -e "$KITS/app/data/fence.json" ]
	assert_equal "$(pg_sql DST app "select count(*) from pg_replication_slots")" 0
	assert_equal "$(pg_sql DST app "select count(*) from pg_publication")" 0
	assert_equal "$(pg_sql DST app "select subenabled from pg_subscription")" t
	run -0 jq -r '[.status, .verification.result, .reverse.prepared] | map(tostring) | join(" ")' "$KITS/app/data/cutover.json"
	assert_output "aborted different true"
}

@test "a cutover killed between the fence and re-routing: cutover and disable-src say so; cutover --undo undoes it all" {
	# DST's apply worker waits on an advisory lock (a trigger that fires for
	# replication), so the catch-up waits and the kill lands there.
	pg_psql DST app <<'SQL'
create function public.hold() returns trigger language plpgsql as $$
begin perform pg_advisory_lock_shared(77); perform pg_advisory_unlock_shared(77); return new; end $$;
create trigger hold before insert on public.writes for each row execute function public.hold();
alter table public.writes enable always trigger hold;
SQL
	pg_psql DST app -c "select pg_advisory_lock(77)" -c "select pg_sleep(60)" >/dev/null 2>&1 3>&- &
	wait_for DST app "select count(*) from pg_locks where locktype = 'advisory' and objid = 77 and granted" 1
	pg_sql SRC app "insert into public.writes values (-3, 1)"
	setsid "$KITS/app/cutover" -y --catchup-timeout 30 >"$BATS_TEST_TMPDIR/cutover.out" 2>&1 3>&- &
	local pid=$!
	for _ in $(seq 1 300); do
		grep -qx done=disable-src "$KITS/app/data/cutover.run" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	kill -KILL -- "-$pid"
	wait "$pid" || true
	pg_sql DST app "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
	[ -e "$KITS/app/data/fence.json" ]

	# Never a silently fenced SRC: both scripts say what happened and what to run.
	run -1 "$KITS/app/cutover" -y
	assert_output --partial "was killed during catch-up, after prepare-reverse disable-src (data/cutover.run)"
	assert_output --partial "SRC is fenced (data/fence.json)"
	assert_output --partial "./cutover --resume"
	run -1 "$KITS/app/disable-src" -y
	assert_output --partial "by a cutover that was killed during catch-up"
	assert_output --partial "./cutover --undo"
	run -2 as_app SRC "insert into public.items (name) values ('fenced')"

	run -0 "$KITS/app/cutover" --undo -y
	assert_output --partial "the killed cutover is undone"
	as_app SRC "insert into public.items (name) values ('after the undo')"
	[ ! -e "$KITS/app/data/fence.json" ]
	[ ! -e "$KITS/app/data/cutover.run" ]
	[ -e "$KITS/app/data/cutover.run.undone" ]
	assert_equal "$(pg_sql DST app "select count(*) from pg_replication_slots")" 0
	assert_equal "$(pg_sql DST app "select count(*) from pg_publication")" 0
	assert_equal "$(pg_sql DST app "select subenabled from pg_subscription")" t
	run -0 "$KITS/app/cutover" --undo -y
	assert_output --partial "no cutover was left unfinished"
	pg_sql DST app "drop trigger hold on public.writes; drop function public.hold()"
	wait_for DST app "select count(*) from public.writes where client = -3" 1
	pg_sql SRC app "delete from public.writes where client = -3"
	wait_for DST app "select count(*) from public.writes where client = -3" 0
}

@test "cutover while clients write: every row a client saw committed is on DST; the report holds the figures" {
	local pids=() i
	rm -f "$BATS_FILE_TMPDIR/stop" "$BATS_FILE_TMPDIR"/client.*
	for i in 1 2 3; do
		client "$i" 3>&- &
		pids+=($!)
	done
	sleep 2
	run -0 --separate-stderr "$KITS/app/cutover" -y --json --checksum 'sales.*'
	sleep 2
	touch "$BATS_FILE_TMPDIR/stop"
	wait "${pids[@]}"

	# stdout is the report, as kept in data/cutover.json.
	assert_equal "$output" "$(cat "$KITS/app/data/cutover.json")"
	run -0 jq -r '[.status, (.fence_window_ms > 0), (.fence_lsn | test("^[0-9A-F]+/[0-9A-F]+$")), (.applied_lsn | test("/")),
	               .verification.result, (.reverse.start_lsn | test("/")), .shift, (.src_changes_not_on_dst | length)] | map(tostring) | join(" ")' "$KITS/app/data/cutover.json"
	assert_output "done true true true equal true 100 0"
	run -0 jq -r '[.steps[] | .step] | join(",")' "$KITS/app/data/cutover.json"
	assert_output "preflight,prepare-reverse,disable-src,catch-up,copy-seq,verify,stop-forward,re-routing"
	run -0 jq -r '[.steps[] | select(.ms >= 0 and .exit == 0)] | length' "$KITS/app/data/cutover.json"
	assert_output 8
	# Sequences: DST's is SRC's plus the shift.
	run -0 jq -r '.sequences.sequences[] | select(.sequence == "public.items_id_seq") | [.src.last_value, .dst_after.last_value] | map(tostring) | join(" ")' "$KITS/app/data/cutover.json"
	local src_seq=${output% *}
	assert_equal "$output" "$src_seq $((src_seq + 100))"
	assert_equal "$(pg_sql DST app "select last_value from public.items_id_seq")" $((src_seq + 100))

	# Every commit a client saw is on DST, and the clients went on writing there.
	cat "$BATS_FILE_TMPDIR"/client.* | awk '{ print $2 "|" $3 }' | sort >"$BATS_TEST_TMPDIR/committed"
	pg_sql DST app "select client || '|' || n from public.writes" | sort >"$BATS_TEST_TMPDIR/on_dst"
	run -0 comm -23 "$BATS_TEST_TMPDIR/committed" "$BATS_TEST_TMPDIR/on_dst"
	assert_output ""
	[ "$(wc -l <"$BATS_TEST_TMPDIR/committed")" -gt 20 ]
	local only_dst
	only_dst=$(pg_sql DST app "select count(*) from public.writes" ; pg_sql SRC app "select count(*) from public.writes")
	[ "${only_dst%$'\n'*}" -gt "${only_dst#*$'\n'}" ]
	echo "# fence window $(jq .fence_window_ms "$KITS/app/data/cutover.json") ms; longest gap between client commits $(
		sort -n "$BATS_FILE_TMPDIR"/client.* | awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { printf "%d", m / 1000 }') ms" >&3

	# The application writes on DST, not on SRC; the way back is ready.
	as_app DST "insert into public.items (name) values ('on DST')"
	run -2 as_app SRC "insert into public.items (name) values ('on SRC')"
	assert_equal "$(pg_sql DST app "select subenabled from pg_subscription where subname = 'sub_pg_src_app'")" f
	assert_equal "$(pg_sql DST app "select count(*) from pg_stat_subscription where pid is not null")" 0
	assert_equal "$(pg_sql DST app "select slot_name || ' ' || active from pg_replication_slots")" "sub_pg_src_app_reverse false"
	for i in preflight prepare-reverse disable-src catch-up copy-seq verify stop-forward re-routing; do
		grep -q $'\tcutover:'"$i"$'\texit=0\t' "$KITS/app/log/journal" || fail "no journal line for $i"
	done
	# A write on SRC after the cutover, by a role the fence leaves alone,
	# stays in the stopped subscription's slot: what the report counts.
	pg_sql SRC app "insert into public.writes values (-2, 1)"
	run -0 pg_sql SRC app "select count(*) filter (where get_byte(data, 0) = 73) from pg_logical_slot_peek_binary_changes('sub_pg_src_app', null, null, 'proto_version', '1', 'publication_names', 'pub_pg_src_app')"
	assert_output 1
	pg_sql SRC app "delete from public.writes where client = -2"
}

@test "a second cutover refuses: the subscription is disabled and the way back is taken" {
	run -1 "$KITS/app/cutover" -y
	assert_output --partial "subscription sub_pg_src_app is not in sync: the subscription is disabled"
	assert_output --partial "replication slot sub_pg_src_app_reverse is left on DST"
	assert_output --partial "SRC is already fenced"
}

@test "cutover --no-reverse exits 1 and names what SRC took after the subscription stopped" {
	local side
	for side in SRC DST; do
		pg_psql "$side" postgres -c "create database late"
		pg_psql "$side" late <<'SQL'
create table public.t (id int primary key, v text);
grant select, insert, update, delete on public.t to app_user;
SQL
	done
	pg_sql SRC late "insert into public.t select g, 'v' from generate_series(1, 50) g"
	write_config "$KITS/late.yml" SRC late DST late "app_roles: [app_user]"
	render_kit "$KITS/late.yml" "$KITS/late"
	# A hook that moves the application, while a job (not an application
	# role, so not fenced) still writes on SRC.
	cat >"$KITS/late/re-routing" <<HOOK
#!/usr/bin/env bash
psql -X -w -q -h 127.0.0.1 -p $SRC_PORT -U postgres -d late -c "insert into public.t values (1001, 'late'); update public.t set v = 'late' where id = 1"
HOOK
	"$KITS/late/create-pub" -y >/dev/null
	"$KITS/late/create-sub" -y >/dev/null 2>&1
	run -0 "$KITS/late/copy-progress" --wait --timeout 60

	run -1 --separate-stderr "$KITS/late/cutover" -y --no-reverse
	[[ $stderr == *"SRC took changes after the subscription stopped, which DST lacks: public.t (1 inserted, 1 updated, 0 deleted)"* ]] || fail "$stderr"
	[[ $stderr == *"./copy-diff --checksum"* ]]
	run -0 jq -c '[.status, .src_changes_not_on_dst]' "$KITS/late/data/cutover.json"
	assert_output '["done",[{"table":"public.t","inserts":1,"updates":1,"deletes":0,"truncates":0}]]'
	assert_equal "$(pg_sql DST late "select count(*) from public.t where id = 1001")" 0
	"$KITS/late/drop-sub" -y >/dev/null
	"$KITS/late/drop-pub" -y >/dev/null
}

@test "what SRC took after the subscription stopped leaves out the transactions committed before what DST applied" {
	pg_sql SRC postgres "create database leftover" >/dev/null
	pg_psql SRC leftover >/dev/null <<'SQL'
create table public.t (id int primary key);
create publication p for table public.t;
select pg_catalog.pg_create_logical_replication_slot('s', 'pgoutput');
insert into public.t values (1);
insert into public.t values (2);
SQL
	# As a subscriber that applied both but confirmed neither would have it:
	# the position after them.
	applied=$(pg_sql SRC leftover "select pg_catalog.pg_current_wal_lsn()")
	pg_sql SRC leftover "insert into public.t values (3)" >/dev/null
	sql=$(<"$MIGKIT_SRCDIR/kit/sql/leftover-changes.sql")
	run -0 pg_psql SRC leftover -v slot=s -v pub=p -v applied=0/0 <<<"select \"table\", inserts from ($sql) l"
	assert_output "public.t|3"
	run -0 pg_psql SRC leftover -v slot=s -v pub=p -v applied="$applied" <<<"select \"table\", inserts from ($sql) l"
	assert_output "public.t|1"
	pg_sql SRC leftover "select pg_catalog.pg_drop_replication_slot('s')" >/dev/null
}

@test "the switch-over scripts of a rendered kit are shellcheck-clean" {
	cd "$KITS/dflt"
	run -0 "${SHELLCHECK:-shellcheck}" -x cutover create-reverse rollback drop-reverse re-routing kit/switch.sh
}
