#!/usr/bin/env bats
# The replication steps of a kit against real clusters (the native
# initial copy; tests/copy.bats has the fast one): create-pub,
# create-sub, disable-src, re-routing, drop-sub, drop-pub.  The tests run in
# file order and share one SRC and one DST: the main kit ("app") is
# published, subscribed, fenced, and taken down again.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	local db side
	for db in app blk det; do
		for side in SRC DST; do
			pg_sql "$side" postgres "create database $db"
		done
	done
	pg_psql SRC app <<'SQL'
create table public.items (id int primary key, name text not null);
create table public."Order Items" (id int primary key, qty int not null);
create table public.audit_log (id int primary key, what text);
create schema sales;
create table sales.orders (id int primary key, amount numeric not null) partition by range (id);
create table sales.orders_1 partition of sales.orders for values from (1) to (1000);
create table sales.orders_2 partition of sales.orders for values from (1000) to (2000);
insert into public.items select g, 'item ' || g from generate_series(1, 100) g;
insert into public."Order Items" select g, g from generate_series(1, 10) g;
insert into sales.orders select g, g * 1.5 from generate_series(1, 1999) g;
create role app_user login;
grant usage on schema sales to app_user;
grant select, insert, update, delete on all tables in schema public, sales to app_user;
SQL
	# DST holds the same tables, but orders is not partitioned there.
	pg_psql DST app <<'SQL'
create table public.items (id int primary key, name text not null);
create table public."Order Items" (id int primary key, qty int not null);
create table public.audit_log (id int primary key, what text);
create schema sales;
create table sales.orders (id int primary key, amount numeric not null);
SQL
	pg_sql SRC blk "create table public.no_key (a int, b text)"
	pg_sql DST blk "create table public.no_key (a int, b text)"
	for side in SRC DST; do
		pg_sql "$side" det "create table public.t (id int primary key)"
	done
	pg_sql SRC det "insert into public.t select generate_series(1, 10)"

	KITS=$BATS_FILE_TMPDIR/kits
	mkdir -p "$KITS"
	export KITS
	write_config "$KITS/app.yml" SRC app DST app "heartbeat: true"
	render_kit "$KITS/app.yml" "$KITS/app"
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
}

# kit NAME [yaml line]...: renders the kit NAME for SRC/app -> DST/app.
kit() {
	local name=$1
	shift
	write_config "$KITS/$name.yml" SRC app DST app "$@"
	render_kit "$KITS/$name.yml" "$KITS/$name"
}

# src_stop / src_start: stop SRC and start it again on the same port and data.
src_stop() {
	as_pg "$(pg_bindir)/pg_ctl" -D "$SRC_DIR/data" -m fast -w stop >/dev/null
}
src_start() {
	as_pg "$(pg_bindir)/pg_ctl" -D "$SRC_DIR/data" -l "$SRC_DIR/server.log" -o "-p $SRC_PORT" -w -t 60 start >/dev/null
}

@test "create-pub -n shows FOR ALL TABLES with the heartbeat and changes nothing" {
	run -0 "$KITS/app/create-pub" -n
	assert_output --partial "create table if not exists migkit.heartbeat"
	assert_output --partial "create publication pub_pg_src_app for all tables with (publish_via_partition_root = true);"
	assert_output --partial "dry run: nothing was changed"
	assert_equal "$(pg_sql SRC app "select count(*) from pg_publication")" 0
	assert_equal "$(pg_sql SRC app "select to_regclass('migkit.heartbeat')")" ""
}

@test "create-pub with no terminal and no -y refuses" {
	run -2 --separate-stderr "$KITS/app/create-pub" </dev/null
	[[ $stderr == *"no terminal"*"-y"* ]]
	assert_equal "$(pg_sql SRC app "select count(*) from pg_publication")" 0
}

@test "create-pub refuses when wal_level is not logical, naming the fix" {
	pg_start SRC2 "wal_level = replica"
	pg_sql SRC2 postgres "create database app"
	pg_sql SRC2 app "create table t (id int primary key)"
	write_config "$KITS/wal.yml" SRC2 app DST app
	render_kit "$KITS/wal.yml" "$KITS/wal"
	run -2 --separate-stderr "$KITS/wal/create-pub" -y
	pg_sql SRC2 app "select count(*) from pg_publication" >"$BATS_TEST_TMPDIR/pubs"
	pg_stop SRC2
	[[ $stderr == *"wal_level is replica"* ]]
	[[ $stderr == *"ALTER SYSTEM SET wal_level = logical"*"restart"* ]]
	assert_equal "$(<"$BATS_TEST_TMPDIR/pubs")" 0
}

@test "create-pub refuses while a table has a replica-identity blocker, naming check-repl --fix" {
	write_config "$KITS/blk.yml" SRC blk DST blk
	render_kit "$KITS/blk.yml" "$KITS/blk"
	run -2 --separate-stderr "$KITS/blk/create-pub" -y
	[[ $stderr == "create-pub: check-repl finds what blocks replication ("*"public.no_key cannot replicate"*"): run ./check-repl --fix"* ]]
	assert_equal "$(pg_sql SRC blk "select count(*) from pg_publication")" 0
}

@test "create-sub refuses before create-pub, naming the fix" {
	run -2 --separate-stderr "$KITS/app/create-sub" --copy native -y
	[[ $stderr == *"publication pub_pg_src_app does not exist on SRC"*"run ./create-pub"* ]]
	assert_equal "$(pg_sql DST app "select count(*) from pg_subscription")" 0
}

@test "create-pub creates the publication and the heartbeat; a second run says it exists" {
	run -0 "$KITS/app/create-pub" -y
	assert_output --partial "publication pub_pg_src_app created on SRC"
	assert_equal "$(pg_sql SRC app "select puballtables, pubviaroot from pg_publication where pubname = 'pub_pg_src_app'")" "t|t"
	assert_equal "$(pg_sql SRC app "select id from migkit.heartbeat where beat > now() - interval '1 minute'")" 1
	# With publish_via_partition_root the partitioned table is published as its root.
	run -0 pg_sql SRC app "select schemaname || '.' || tablename from pg_publication_tables order by 1"
	assert_output "migkit.heartbeat
public.Order Items
public.audit_log
public.items
sales.orders"

	run -0 "$KITS/app/create-pub" -y
	assert_output --partial "already exists on SRC and publishes all tables"
	assert_output --partial "nothing was changed"
	assert_equal "$(pg_sql SRC app "select count(*) from pg_publication")" 1
}

@test "include and exclude make a FOR TABLE list; a second run compares it" {
	kit list "pub_name: pub_list" "sub_name: sub_list" "heartbeat: true" \
		"include: ['public.*', 'sales.ord*']" "exclude: ['public.audit*']"
	run -0 "$KITS/list/create-pub" -y
	assert_output --partial 'public."Order Items"'
	run -0 pg_sql SRC app "select prrelid::regclass::text from pg_publication_rel r join pg_publication p on p.oid = r.prpubid where p.pubname = 'pub_list' order by 1"
	assert_output '"Order Items"
items
migkit.heartbeat
sales.orders'
	assert_equal "$(pg_sql SRC app "select puballtables, pubviaroot from pg_publication where pubname = 'pub_list'")" "f|t"

	run -0 "$KITS/list/create-pub" -y
	assert_output --partial "already exists on SRC and publishes the migration's tables"

	# The same publication seen by a kit that wants audit_log too.
	kit list2 "pub_name: pub_list" "heartbeat: true" "include: ['public.*', 'sales.*']"
	run -0 "$KITS/list2/create-pub" -y
	assert_output --partial "its tables differ from the migration's; not published: public.audit_log"
}

@test "create-sub refuses when DST has no tables" {
	pg_sql DST postgres "create database empty"
	write_config "$KITS/empty.yml" SRC app DST empty
	render_kit "$KITS/empty.yml" "$KITS/empty"
	run -2 --separate-stderr "$KITS/empty/create-sub" --copy native -y
	[[ $stderr == *"has no tables"*"./copy-schema"* ]]
	assert_equal "$(pg_sql DST empty "select count(*) from pg_subscription")" 0
}

@test "create-sub -n and create-sub with no terminal change nothing" {
	run -0 "$KITS/app/create-sub" --copy native -n
	assert_output --partial "create subscription sub_pg_src_app connection 'host=127.0.0.1 port=$SRC_PORT dbname=app user=replicator' publication pub_pg_src_app with (copy_data = true, create_slot = true);"
	run -2 "$KITS/app/create-sub" --copy native </dev/null
	assert_equal "$(pg_sql DST app "select count(*) from pg_subscription")" 0
	assert_equal "$(pg_sql DST app "select to_regclass('migkit.heartbeat')")" ""
}

@test "create-sub says in one line with the server's reason when DST cannot reach SRC" {
	local port
	port=$((SRC_PORT + 1))
	while ! port_is_free "$port"; do port=$((port + 1)); done
	kit unreach "heartbeat: true" "sub_name: sub_unreach" "sub_conn: host=127.0.0.1 port=$port dbname=app user=replicator"
	run -2 --separate-stderr "$KITS/unreach/create-sub" --copy native -y
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr == "create-sub: DST cannot reach SRC with sub_conn ("*"port $port failed: Connection refused"*")"* ]]
	[[ $stderr != *"ERROR:"* && $stderr != *"psql:"* ]]
	assert_equal "$(pg_sql DST app "select count(*) from pg_subscription")" 0
	assert_equal "$(pg_sql SRC app "select count(*) from pg_replication_slots")" 0
}

@test "create-sub subscribes; the rows arrive on DST, partitioned ones included; a second run says it exists" {
	run -0 "$KITS/app/create-sub" --copy native -y
	assert_output --partial "subscription sub_pg_src_app created on DST"
	assert_equal "$(pg_sql SRC app "select slot_type, plugin from pg_replication_slots where slot_name = 'sub_pg_src_app'")" "logical|pgoutput"
	wait_for DST app "select count(*) from sales.orders" 1999
	wait_for DST app "select count(*) from public.items" 100
	wait_for DST app "select count(*) from public.\"Order Items\"" 10
	wait_for DST app "select count(*) from migkit.heartbeat" 1

	# Streaming, through the root into DST's unpartitioned table.
	pg_sql SRC app "update sales.orders set amount = 0 where id = 5"
	pg_sql SRC app "delete from sales.orders where id = 1500"
	pg_sql SRC app "update public.items set name = 'renamed' where id = 1"
	wait_for DST app "select count(*) from sales.orders" 1998
	wait_for DST app "select amount from sales.orders where id = 5" 0
	wait_for DST app "select name from public.items where id = 1" renamed

	run -0 "$KITS/app/create-sub" --copy native -y
	assert_output --partial "subscription sub_pg_src_app already exists on DST (enabled"
	assert_equal "$(pg_sql DST app "select count(*) from pg_subscription")" 1
}

@test "drop-pub refuses while any pgoutput slot of the database is active, and --force overrides" {
	run -2 --separate-stderr "$KITS/list/drop-pub" -y
	[[ $stderr == *"replication slot sub_pg_src_app (active"*"run ./drop-sub first"* ]]
	assert_equal "$(pg_sql SRC app "select count(*) from pg_publication where pubname = 'pub_list'")" 1
	run -0 "$KITS/list/drop-pub" -y --force
	assert_equal "$(pg_sql SRC app "select count(*) from pg_publication where pubname = 'pub_list'")" 0
}

@test "disable-src refuses roles a fence cannot hold, and changes nothing" {
	pg_psql SRC app <<'SQL'
create role app_super login superuser;
create role app_creator login createrole;
create role app_owner login;
alter database blk owner to app_owner;
SQL
	kit fenceadmin "app_roles: [postgres, nobody, app_super, app_creator]"
	run -2 --separate-stderr "$KITS/fenceadmin/disable-src" -y
	[[ $stderr == *"app_creator (has CREATEROLE"*"app_super (a superuser"*"nobody (no such role)"*"postgres (a user of the kit itself"* ]]
	[ ! -e "$KITS/fenceadmin/data/fence.json" ]
	# The owner of the database may grant itself CONNECT again.
	write_config "$KITS/fenceowner.yml" SRC blk DST blk "app_roles: [app_owner]"
	render_kit "$KITS/fenceowner.yml" "$KITS/fenceowner"
	run -2 --separate-stderr "$KITS/fenceowner/disable-src" -y
	[[ $stderr == *"app_owner (owns the database"* ]]
	assert_equal "$(pg_sql SRC postgres "select datacl is null from pg_database where datname = 'blk'")" t
	pg_psql SRC app <<'SQL'
alter database blk owner to postgres;
drop role app_super, app_creator, app_owner;
SQL
}

@test "disable-src fences the application's roles out of the database, admin and replication keep working; --undo lifts it" {
	local fence=$KITS/app/data/fence.json pid rc
	as_app SRC "insert into public.items values (1001, 'before')"

	run -0 "$KITS/app/disable-src" -n
	assert_output --partial "application roles (every LOGIN role but the kit's; app_roles is empty): app_user"
	assert_output --partial 'revoke connect on database app from public;'
	assert_output --partial 'revoke connect on database app from app_user;'
	[ ! -e "$fence" ]
	as_app SRC "insert into public.items values (1002, 'dry run')"
	run -2 "$KITS/app/disable-src" </dev/null
	[ ! -e "$fence" ]

	# An open session of the application is ended, and cannot come back.
	psql -X -w -h 127.0.0.1 -p "$SRC_PORT" -U app_user -d app -c "select pg_sleep(60)" >/dev/null 2>&1 &
	pid=$!
	wait_for SRC app "select count(*) from pg_stat_activity where usename = 'app_user'" 1
	run -0 "$KITS/app/disable-src" -y
	assert_output --partial "SRC is fenced"
	assert_output --partial "1 session(s) ended"
	wait_for SRC app "select count(*) from pg_stat_activity where usename = 'app_user'" 0
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -ne 0 ]
	run -0 jq -c '[.database, .public_connect, .roles]' "$fence"
	assert_output '["app",true,[{"role":"app_user","direct":false}]]'

	run -2 --separate-stderr as_app SRC "insert into public.items values (1003, 'fenced')"
	[[ $stderr == *'permission denied for database "app"'* ]]
	# Nothing a session sets gets it past the fence.
	run -2 --separate-stderr env PGOPTIONS='-c default_transaction_read_only=off' \
		psql -X -w -h 127.0.0.1 -p "$SRC_PORT" -U app_user -d app -c "insert into public.items values (1003, 'fenced')"
	[[ $stderr == *'permission denied for database "app"'* ]]
	# The admin and the replication user still connect, and replication still
	# carries the admin's writes to DST.
	pg_sql SRC app "insert into public.items values (1004, 'admin')"
	wait_for DST app "select name from public.items where id = 1004" admin
	as_role replicator SRC app "select 1"
	# Other databases are untouched.
	as_role app_user SRC det "select 1"

	run -0 "$KITS/app/disable-src" -y
	assert_output --partial "already fenced"

	run -0 "$KITS/app/disable-src" --undo -n
	assert_output --partial 'grant connect on database app to public;'
	assert_output --partial 'revoke connect on database app from replicator;'
	run -2 as_app SRC "insert into public.items values (1005, 'still fenced')"
	run -0 "$KITS/app/disable-src" --undo -y
	as_app SRC "insert into public.items values (1006, 'after')"
	[ ! -e "$fence" ]
	# The database's ACL is as it was: PUBLIC's default grants back.
	assert_equal "$(pg_sql SRC postgres "select has_database_privilege('app_user', 'app', 'connect') and not exists (select from pg_database d, aclexplode(d.datacl) e join pg_roles r on r.oid = e.grantee where d.datname = 'app' and r.rolname = 'replicator')")" t
	run -0 "$KITS/app/disable-src" --undo -y
	assert_output --partial "nothing to undo"
}

@test "disable-src fences the members of an application role with it, and refuses one that keeps CONNECT of its own" {
	pg_psql SRC app <<'SQL'
create role app_worker login in role app_user;
create role app_batch login in role app_user;
grant connect on database app to app_batch;
SQL
	kit members "app_roles: [app_user]"
	run -2 --separate-stderr "$KITS/members/disable-src" -y
	[[ $stderr == *"the fence would not hold"*"app_batch"* ]]
	[[ $stderr == *"nothing was changed"* ]]
	[ ! -e "$KITS/members/data/fence.json" ]
	as_role app_worker SRC app "select 1"
	as_role app_user SRC app "select 1"

	pg_sql SRC app "revoke connect on database app from app_batch"
	run -0 "$KITS/members/disable-src" -y
	assert_output --partial "application roles (app_roles): app_user"
	run -2 as_role app_worker SRC app "insert into public.items values (1010, 'member')"
	run -2 as_role app_batch SRC app "select 1"
	run -0 jq -r '.granted | join(",")' "$KITS/members/data/fence.json"
	assert_output replicator
	run -0 "$KITS/members/disable-src" --undo -y
	as_role app_worker SRC app "select 1"
	pg_sql SRC app "drop role app_worker, app_batch"
}

@test "re-routing is a default hook that explains and exits 1" {
	run -1 --separate-stderr "$KITS/app/re-routing"
	[[ $stderr == *"default hook"*"MIGKIT_DEFAULT_HOOK"* ]]
	grep -qx 'MIGKIT_DEFAULT_HOOK=1' "$KITS/app/re-routing"
}

@test "drop-sub and drop-pub under -n or with no terminal change nothing" {
	run -0 "$KITS/app/drop-sub" -n
	assert_output --partial "drop subscription sub_pg_src_app;"
	run -2 "$KITS/app/drop-sub" </dev/null
	assert_equal "$(pg_sql DST app "select count(*) from pg_subscription")" 1
	# drop-pub refuses before it asks, while the slot is active; --force asks.
	run -0 "$KITS/app/drop-pub" -n --force
	assert_output --partial "drop publication if exists pub_pg_src_app;"
	run -2 "$KITS/app/drop-pub" --force </dev/null
	assert_equal "$(pg_sql SRC app "select count(*) from pg_publication where pubname = 'pub_pg_src_app'")" 1
}

@test "drop-pub refuses while the subscription's slot is active" {
	run -2 --separate-stderr "$KITS/app/drop-pub" -y
	[[ $stderr == *"replication slot sub_pg_src_app (active"*"./drop-sub first"* ]]
	assert_equal "$(pg_sql SRC app "select count(*) from pg_publication where pubname = 'pub_pg_src_app'")" 1
}

@test "drop-sub drops the subscription and its slot on SRC; a second run says it is gone" {
	run -0 "$KITS/app/drop-sub" -y
	assert_output --partial "replication slot sub_pg_src_app dropped on SRC"
	assert_equal "$(pg_sql DST app "select count(*) from pg_subscription")" 0
	assert_equal "$(pg_sql SRC app "select count(*) from pg_replication_slots")" 0
	run -0 "$KITS/app/drop-sub" -y
	assert_output --partial "already gone from DST"
}

@test "drop-pub drops the publication after drop-sub; a second run says it is gone" {
	run -0 "$KITS/app/drop-pub" -y
	assert_equal "$(pg_sql SRC app "select count(*) from pg_publication")" 0
	assert_output --partial "migkit.heartbeat stays on SRC"
	run -0 "$KITS/app/drop-pub" -y
	assert_output --partial "already gone from SRC"
}

@test "drop-sub with SRC stopped detaches and prints the SQL that drops the slot; run again later it drops it" {
	write_config "$KITS/det.yml" SRC det DST det
	render_kit "$KITS/det.yml" "$KITS/det"
	"$KITS/det/create-pub" -y >/dev/null
	"$KITS/det/create-sub" --copy native -y >/dev/null
	wait_for DST det "select count(*) from public.t" 10

	src_stop
	run -0 "$KITS/det/drop-sub" -y
	src_start
	assert_output --partial "set (slot_name = none);"
	assert_output --partial "select pg_catalog.pg_drop_replication_slot('sub_pg_src_det');"
	assert_equal "$(pg_sql DST det "select count(*) from pg_subscription")" 0
	assert_equal "$(pg_sql SRC det "select count(*) from pg_replication_slots where slot_name = 'sub_pg_src_det'")" 1
	# The slot left behind still holds the publication.
	run -2 --separate-stderr "$KITS/det/drop-pub" -y
	[[ $stderr == *"replication slot sub_pg_src_det (inactive)"*"./drop-sub first"* ]]

	run -0 "$KITS/det/drop-sub" -y
	assert_output --partial "replication slot sub_pg_src_det dropped on SRC"
	assert_equal "$(pg_sql SRC det "select count(*) from pg_replication_slots")" 0
	run -0 "$KITS/det/drop-pub" -y
	assert_equal "$(pg_sql SRC det "select count(*) from pg_publication")" 0
}

@test "create-sub within one cluster creates the slot first, and refuses the same database" {
	pg_sql SRC postgres "create database solo"
	pg_sql SRC postgres "create database solo_copy"
	pg_sql SRC solo "create table public.t (id int primary key); insert into public.t select generate_series(1, 5)"
	pg_sql SRC solo_copy "create table public.t (id int primary key)"

	write_config "$KITS/self.yml" SRC solo SRC solo
	render_kit "$KITS/self.yml" "$KITS/self"
	"$KITS/self/create-pub" -y >/dev/null
	run -2 --separate-stderr "$KITS/self/create-sub" --copy native -y
	[[ $stderr == *"SRC and DST are the same database"* ]]

	write_config "$KITS/solo.yml" SRC solo SRC solo_copy
	render_kit "$KITS/solo.yml" "$KITS/solo"
	run -0 timeout 60 "$KITS/solo/create-sub" --copy native -y
	assert_output --partial "select pg_catalog.pg_create_logical_replication_slot('sub_pg_src_solo', 'pgoutput');"
	assert_output --partial "create_slot = false, slot_name = 'sub_pg_src_solo'"
	wait_for SRC solo_copy "select count(*) from public.t" 5
	run -0 timeout 60 "$KITS/solo/drop-sub" -y
	assert_equal "$(pg_sql SRC solo "select count(*) from pg_replication_slots")" 0
}

@test "the replication scripts of a rendered kit are shellcheck-clean" {
	cd "$KITS/app"
	run -0 "${SHELLCHECK:-shellcheck}" -x create-pub create-sub disable-src re-routing drop-sub drop-pub
}
