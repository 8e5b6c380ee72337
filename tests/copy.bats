#!/usr/bin/env bats
# The fast initial copy (migkit copy, create-sub --copy fast) against real
# clusters: equality by an independent digest after a copy made under live
# writes (those arrive by streaming, none twice, none lost), a copy killed
# with SIGKILL and taken up again, a snapshot that is gone and --restart,
# keyless, partitioned, identity and generated columns, large objects, the
# indexes and constraints built again as they were, a PostgreSQL 13 source
# into 17, and bad input.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database app"
		pg_sql "$side" postgres "create database big"
		pg_psql "$side" app <<'SQL'
create table public.items (id int primary key, name text not null, note text);
create index items_name on public.items (name);
comment on index public.items_name is 'by name';
create table public.no_key (a int, b text);
alter table public.no_key replica identity full;
create table public.ident (id int generated always as identity primary key, x int,
                           doubled int generated always as (x * 2) stored);
create table public.parent (id int primary key, code text unique);
create table public.child (id int primary key, parent_id int references public.parent (id));
create table public.docs (id int primary key, body oid);
create table public."Order Items" (id bigint primary key, qty int not null check (qty > 0));
create schema sales;
-- One table, several constraints and indexes built at once: a key and a
-- unique constraint made from their indexes (the latter clustered), a
-- deferrable one that cannot be, and the replica identity's index.
create table public.tags (id int primary key, tag text not null, n int not null,
                          constraint tags_tag_key unique (tag),
                          constraint tags_n_key unique (n) deferrable initially deferred);
create unique index tags_tag_n on public.tags (tag, n);
alter table public.tags replica identity using index tags_tag_n;
alter table public.tags cluster on tags_tag_key;
SQL
		pg_psql "$side" big <<'SQL'
create table public.big (id bigint primary key, payload text not null);
create index big_payload on public.big (payload);
create table public.heap (a int, b text);
alter table public.heap replica identity full;
SQL
	done
	# SRC partitions sales.orders; DST keeps it in one table.
	pg_psql SRC app <<'SQL'
create table sales.orders (id int primary key, amount numeric not null) partition by range (id);
create table sales.orders_1 partition of sales.orders for values from (1) to (1000);
create table sales.orders_2 partition of sales.orders for values from (1000) to (100000);
SQL
	pg_sql DST app "create table sales.orders (id int primary key, amount numeric not null)"
	pg_psql SRC app <<'SQL'
insert into public.items select g, 'item ' || g, repeat('n', g % 50) from generate_series(1, 100000) g;
insert into public.no_key select g % 7, 'v' || g from generate_series(1, 20000) g;
insert into public.ident (x) select g from generate_series(1, 500) g;
insert into public.parent select g, 'c' || g from generate_series(1, 100) g;
insert into public.child select g, g % 100 + 1 from generate_series(1, 1000) g;
insert into public.docs select g, lo_from_bytea(0, convert_to(repeat('large object ' || g, g * 100), 'UTF8'))
  from generate_series(1, 5) g;
insert into public."Order Items" select g, g from generate_series(1, 300) g;
insert into public.tags select g, 't' || g, g from generate_series(1, 3000) g;
insert into sales.orders select g, g * 1.5 from generate_series(1, 5000) g;
SQL
	pg_psql SRC big <<'SQL'
insert into public.big select g, md5(g::text) || repeat('p', 60) from generate_series(1, 1500000) g;
insert into public.heap select g, md5(g::text) from generate_series(1, 300000) g;
vacuum analyze;
SQL
	pg_sql SRC app "vacuum analyze"

	KITS=$BATS_FILE_TMPDIR/kits
	mkdir -p "$KITS"
	export KITS
	write_config "$KITS/app.yml" SRC app DST app "heartbeat: true"
	render_kit "$KITS/app.yml" "$KITS/app"
	write_config "$KITS/big.yml" SRC big DST big
	render_kit "$KITS/big.yml" "$KITS/big"
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
}

# A test that fails half-way still stops its writer.
teardown() {
	touch "$BATS_TEST_TMPDIR/stop"
	if [ -n "${WRITER:-}" ]; then
		kill "$WRITER" 2>/dev/null || true
		wait "$WRITER" 2>/dev/null || true
	fi
}

# digest SIDE DB: each table of the set, its row count and an md5 of its rows' text in order.
digest() {
	pg_psql "$1" "$2" <<'SQL'
do $$
declare r record; d text;
begin
  for r in select format('%I.%I', n.nspname, c.relname) as t
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where c.relkind in ('r', 'p') and not c.relispartition and n.nspname in ('public', 'sales')
            order by 1 loop
    execute format('select count(*) || '' '' || coalesce(md5(string_agg(x::text, '','' order by x::text)), '''') from %s x', r.t)
      into d;
    raise notice '% %', r.t, d;
  end loop;
end $$;
SQL
}

# digest_of SIDE DB: the digest as text (the notices), with the large objects'.
digest_of() {
	digest "$1" "$2" 2>&1 | sed 's/^NOTICE: *//'
	pg_sql "$1" "$2" "select oid || ' ' || md5(lo_get(oid)) from pg_largeobject_metadata order by oid"
}

# definitions SIDE DB: every index and constraint of the schemas, as the catalog defines it.
definitions() {
	pg_psql "$1" "$2" <<'SQL'
select indexdef from pg_indexes where schemaname in ('public', 'sales')
union all
select conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  from pg_constraint where connamespace in ('public'::regnamespace, 'sales'::regnamespace)
union all
select 'comment ' || obj_description('public.items_name'::regclass, 'pg_class')
union all
select 'replica identity ' || i.indexrelid::regclass || ', clustered ' || c.indexrelid::regclass
  from pg_index i, pg_index c
 where i.indrelid = 'public.tags'::regclass and i.indisreplident
   and c.indrelid = 'public.tags'::regclass and c.indisclustered
order by 1
SQL
}

# writer DB STOPFILE: writes to SRC until STOPFILE appears: inserts, updates and deletes,
# on keyed and keyless tables; counts its rounds in STOPFILE.rounds.
writer() {
	local n=0
	while [ ! -e "$2" ]; do
		n=$((n + 1))
		pg_psql SRC "$1" <<SQL >/dev/null 2>&1 || true
insert into public.items values ($((200000 + n)), 'new $n', null);
update public.items set name = name || ' u' where id = $((n * 37 % 100000 + 1));
delete from public.items where id = $((n * 91 % 100000 + 1));
insert into public.no_key values ($n, 'w');
update public.no_key set b = b || 'x' where a = $((n % 7)) and b = 'v$((n * 7 + n % 7))';
insert into public.ident (x) values ($n);
insert into sales.orders values ($((50000 + n)), $n);
SQL
		printf '%s\n' "$n" >"$2.rounds"
		sleep 0.02
	done
}

@test "bad input: a usage error exits 2 with a hint, and nothing is created" {
	run -2 --separate-stderr "$MIGKIT" copy --jobs 0 --state "$BATS_TEST_TMPDIR/s.json" --slot x
	[[ $stderr == *"--jobs must be a whole number from 1 to 32, not \"0\""* ]]
	[[ $stderr == *'Try "migkit copy --help"'* ]]
	run -2 --separate-stderr "$MIGKIT" copy --split-size 12parsecs --state "$BATS_TEST_TMPDIR/s.json" --slot x
	[[ $stderr == *"--split-size must be a size"*"12parsecs"* ]]
	run -2 --separate-stderr "$MIGKIT" copy --watch 2 --state "$BATS_TEST_TMPDIR/s.json"
	[[ $stderr == *"--watch goes with --status"* ]]
	run -2 --separate-stderr "$MIGKIT" copy --status --state "$BATS_TEST_TMPDIR/none.json"
	[[ $stderr == *"no fast copy was started here"*"none.json does not exist"*"create-sub --copy fast"* ]]
	printf '{"version": 1, "slot": "x", "tables": [\n' >"$BATS_TEST_TMPDIR/bad.json"
	run -2 --separate-stderr "$MIGKIT" copy --status --state "$BATS_TEST_TMPDIR/bad.json"
	[[ $stderr == *"bad.json:"*"not valid JSON"*"move it away to start over"* ]]
	run -2 --separate-stderr "$KITS/app/create-sub" --copy quick -y
	[[ $stderr == *"--copy takes fast or native, not 'quick'"* ]]
	run -2 --separate-stderr "$KITS/app/create-sub" --jobs 99x -y
	[[ $stderr == *"--jobs takes a number of connections from 1 to 32"* ]]
	assert_equal "$(pg_sql SRC app "select count(*) from pg_replication_slots")" 0
}

@test "create-sub -n shows the fast copy and the subscription on its slot, and changes nothing" {
	"$KITS/app/create-pub" -y >/dev/null
	run -0 "$KITS/app/create-sub" -n
	assert_output --partial "Fast initial copy into slot sub_pg_src_app"
	assert_output --partial "with (copy_data = false, create_slot = false, slot_name = 'sub_pg_src_app');"
	assert_output --partial "dry run: nothing was changed"
	assert_equal "$(pg_sql SRC app "select count(*) from pg_replication_slots")" 0
	[ ! -e "$KITS/app/data/copy-state.json" ]
}

@test "create-sub --copy fast under live writes: every table equal by digest, indexes and constraints as before" {
	local before stop=$BATS_TEST_TMPDIR/stop r0 r1
	before=$(definitions DST app)
	writer app "$stop" &
	WRITER=$!
	sleep 0.5
	r0=$(<"$stop.rounds")
	run -0 "$KITS/app/create-sub" -y --split-size 256kB --jobs 3
	r1=$(<"$stop.rounds")
	assert_output --partial "subscription sub_pg_src_app created on DST on the copied slot"
	sleep 0.5
	touch "$stop"
	wait "$WRITER"
	WRITER=
	# The writer wrote while the copy ran, and on after it.
	[ "$r1" -gt $((r0 + 3)) ]
	assert_equal "$(definitions DST app)" "$before"
	# Ranges were copied, and the state says done.
	run -0 jq -r '[.phase, .tables_done == .tables_total, ([.tables[] | select(.name == "public.items") | .chunks] | .[0] > 1), .large_objects.count] | @tsv' "$KITS/app/data/copy-state.json"
	assert_output "done	true	true	5"
	run -0 "$KITS/app/copy-progress" --wait --timeout 60
	wait_for DST app "select count(*) from public.items where id > 200000" \
		"$(pg_sql SRC app "select count(*) from public.items where id > 200000")"
	sleep 1
	assert_equal "$(digest_of DST app)" "$(digest_of SRC app)"
	# Generated columns computed on DST, identity values as on SRC.
	assert_equal "$(pg_sql DST app "select count(*) from public.ident where doubled <> x * 2")" 0
	assert_equal "$(pg_sql DST app "select max(id) from public.ident")" "$(pg_sql SRC app "select max(id) from public.ident")"
	# Large objects: data and owner.
	assert_equal "$(pg_sql DST app "select count(*) from pg_largeobject_metadata")" 5
	# The heartbeat row came with the copy, and streams.
	assert_equal "$(pg_sql DST app "select count(*) from migkit.heartbeat")" 1
	run -0 "$KITS/app/create-sub" -y
	assert_output --partial "already exists on DST"
}

@test "a copy killed with SIGKILL goes on when run again, and copy-progress shows it meanwhile" {
	"$KITS/big/create-pub" -y >/dev/null
	"$KITS/big/create-sub" -y --split-size 4MB --jobs 2 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local state=$KITS/big/data/copy-state.json runner=
	for _ in $(seq 1 200); do
		if [ -f "$state" ] && [ "$(jq '[.tables[].chunks_done] | add' "$state")" -ge 1 ]; then
			runner=$(jq -r .runner "$state")
			break
		fi
		sleep 0.05
	done
	[ -n "$runner" ] && [ "$runner" != 0 ]
	kill -9 "$runner"
	wait || true
	run -1 jq -e '.phase == "done"' "$state"
	run -1 "$KITS/big/copy-progress"
	assert_output --partial "fast copy into slot sub_pg_src_big: phase copy (no copy running)"
	# A holder keeps the snapshot; the slot stays on SRC.
	assert_equal "$(pg_sql SRC big "select count(*) from pg_replication_slots where slot_name = 'sub_pg_src_big'")" 1
	pg_sql SRC big "insert into public.big values (0, 'after the snapshot')"
	run -0 "$KITS/big/create-sub" -y --split-size 4MB --jobs 2
	assert_output --partial "goes on with the copy started earlier"
	wait_for DST big "select count(*) from public.big where id = 0" 1
	assert_equal "$(digest_of DST big)" "$(digest_of SRC big)"
	assert_equal "$(pg_sql DST big "select indexdef from pg_indexes where tablename = 'big' order by 1")" \
		"$(pg_sql SRC big "select indexdef from pg_indexes where tablename = 'big' order by 1")"
	# The snapshot's holder is gone once the data is copied.
	assert_equal "$(pg_sql SRC big "select count(*) from pg_stat_activity where backend_type = 'walsender' and application_name like 'migkit%'")" 0
}

@test "when the snapshot is gone, the copy refuses and names --restart, which copies everything again" {
	local state=$BATS_TEST_TMPDIR/state.json src dst
	src="host=127.0.0.1 port=$SRC_PORT user=postgres dbname=big"
	dst="host=127.0.0.1 port=$DST_PORT user=postgres dbname=app"
	pg_sql DST app "create table public.big (id bigint primary key, payload text not null); create table public.heap (a int, b text)"
	export MIGKIT_INCLUDE='["public.big", "public.heap"]'
	"$MIGKIT" copy --src "$src" --dst "$dst" --slot gone_test --state "$state" --split-size 4MB --jobs 2 --hold 0.5 \
		>/dev/null 2>&1 &
	local pid=$!
	for _ in $(seq 1 200); do
		[ -f "$state" ] && [ "$(jq '[.tables[].chunks_done] | add' "$state")" -ge 1 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait || true
	sleep 2.5 # past --hold: the holder lets the snapshot go
	run -2 --separate-stderr "$MIGKIT" copy --src "$src" --dst "$dst" --slot gone_test --state "$state"
	[[ $stderr == *"the snapshot of slot gone_test is gone"*"create-sub --copy fast --restart"* ]]
	run -0 "$MIGKIT" copy --src "$src" --dst "$dst" --slot gone_test --state "$state" --restart --jobs 2
	assert_equal "$(pg_sql DST app "select count(*) from public.big")" "$(pg_sql SRC big "select count(*) from public.big")"
	assert_equal "$(pg_sql DST app "select count(*) from public.heap")" 300000
	pg_sql SRC big "select pg_drop_replication_slot('gone_test')"
	unset MIGKIT_INCLUDE
}

@test "a PostgreSQL 13 source into 17: the older slot syntax, key ranges, then streaming" {
	PG_MAJOR=13 pg_start OLD
	PG_MAJOR=17 pg_start NEW
	local side
	for side in OLD NEW; do
		pg_sql "$side" postgres "create database old"
		pg_sql "$side" old "create table public.t (id int primary key, v text); create table public.k (v text); alter table public.k replica identity full"
	done
	pg_sql OLD old "insert into public.t select g, md5(g::text) from generate_series(1, 50000) g; insert into public.k select g from generate_series(1, 1000) g; analyze"
	write_config "$KITS/old.yml" OLD old NEW old
	render_kit "$KITS/old.yml" "$KITS/old"
	"$KITS/old/create-pub" -y >/dev/null
	run -0 "$KITS/old/create-sub" -y --split-size 256kB
	run -0 jq -r '[.tables[] | select(.name == "public.t") | .chunks] | .[0] > 1' "$KITS/old/data/copy-state.json"
	assert_output true
	pg_sql OLD old "insert into public.t values (0, 'streamed'); insert into public.k values ('streamed')"
	wait_for NEW old "select count(*) from public.t where id = 0" 1
	wait_for NEW old "select count(*) from public.k" 1001
	assert_equal "$(digest_of NEW old)" "$(digest_of OLD old)"
	"$KITS/old/drop-sub" -y >/dev/null
	pg_stop OLD
	pg_stop NEW
}

@test "create-sub --copy native refuses after a fast copy was started, naming the ways on" {
	# drop-sub drops the slot and puts the fast copy's state aside; DST's
	# tables still hold the copied rows.
	"$KITS/big/drop-sub" -y >/dev/null
	[ -e "$KITS/big/data/copy-state.json.dropped" ]
	run -2 --separate-stderr "$KITS/big/create-sub" --copy native -y
	[[ $stderr == *"DST's tables already hold rows"*"the native copy would copy them again"* ]] || fail "$stderr"
	assert_equal "$(pg_sql DST big "select count(*) from pg_subscription s join pg_database d on d.oid = s.subdbid where d.datname = 'big'")" 0
	# While a fast copy's state stands, the fast copy owns the slot.
	mv "$KITS/big/data/copy-state.json.dropped" "$KITS/big/data/copy-state.json"
	run -2 --separate-stderr "$KITS/big/create-sub" --copy native -y
	[[ $stderr == *"a fast copy was started"*"--restart"* ]] || fail "$stderr"
}

@test "the scripts of a kit with the fast copy are shellcheck-clean" {
	cd "$KITS/app"
	run -0 "${SHELLCHECK:-shellcheck}" -x create-sub copy-progress
}
