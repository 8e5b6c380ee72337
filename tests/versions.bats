#!/usr/bin/env bats
# Servers of other majors than Debian's 15: pg-fetch brings them in (and
# reuses its cache with no network), PG_MAJOR=N pg_start starts one, and
# logical replication works from an old source to a new destination with
# Debian's psql 15 as the only client.  Each test starts its own clusters
# and stops them, also on failure.

setup() {
	load test_helper/common
	MIGKIT_TEST_STATE=$BATS_TEST_TMPDIR
}

teardown() {
	pg_stop_all
}

# replicate SRCMAJOR DSTMAJOR: a table with a partitioned child, its
# initial copy and a change streamed afterwards, from one major to another.
replicate() {
	PG_MAJOR=$1 pg_start SRC
	PG_MAJOR=$2 pg_start DST
	assert_equal "$SRC_MAJOR" "$1"
	assert_equal "$DST_MAJOR" "$2"
	assert_equal "$(pg_sql SRC postgres "select current_setting('server_version_num')::int / 10000")" "$1"
	assert_equal "$(pg_sql DST postgres "select current_setting('server_version_num')::int / 10000")" "$2"
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database app"
		pg_psql "$side" app <<'SQL'
create table public.items (id int primary key, name text not null);
create table public.ledger (id int not null, booked date not null, primary key (id, booked)) partition by range (booked);
create table public.ledger_2025 partition of public.ledger for values from ('2025-01-01') to ('2026-01-01');
SQL
	done
	pg_psql SRC app <<'SQL'
insert into public.items select g, 'item ' || g from generate_series(1, 500) g;
insert into public.ledger select g, date '2025-01-01' + g % 300 from generate_series(1, 300) g;
grant select on all tables in schema public to replicator;
create publication pub for table public.items, public.ledger_2025;
SQL
	pg_sql DST app "create subscription sub connection 'host=127.0.0.1 port=$SRC_PORT dbname=app user=replicator' publication pub"
	wait_for DST app "select count(*) filter (where srsubstate = 'r') || '/' || count(*) from pg_subscription_rel" 2/2
	assert_equal "$(pg_sql DST app "select count(*) || ' ' || sum(id) from public.items")" "500 125250"
	assert_equal "$(pg_sql DST app "select count(*) from public.ledger")" 300
	# A change after the copy streams too.
	pg_sql SRC app "update public.items set name = 'renamed' where id <= 10; delete from public.items where id > 490; insert into public.ledger values (1000, '2025-12-31')"
	wait_for DST app "select count(*) from public.items where name = 'renamed'" 10
	wait_for DST app "select count(*) from public.items" 490
	wait_for DST app "select count(*) from public.ledger" 301
}

@test "pg-fetch prints the cached bin directory again with no registry" {
	run -0 "$PG_HELPER_DIR/pg-fetch" 12
	local bindir=$output
	[ -x "$bindir/postgres" ] || fail "pg-fetch 12 printed '$bindir', which has no postgres"
	run -0 "$bindir/postgres" --version
	assert_output --regexp '^postgres \(PostgreSQL\) 12\.'
	npm_config_offline=true npm_config_cache=$BATS_TEST_TMPDIR/npm run -0 "$PG_HELPER_DIR/pg-fetch" 12
	assert_output "$bindir"
}

@test "pg-fetch without the registry or with a bad major says why in one line, exit 2" {
	MIGKIT_PG_CACHE=$BATS_TEST_TMPDIR/cache npm_config_offline=true npm_config_cache=$BATS_TEST_TMPDIR/npm \
		run -2 --separate-stderr "$PG_HELPER_DIR/pg-fetch" 13
	assert_equal "$output" ""
	[[ $stderr == "pg-fetch: cannot list the versions of @embedded-postgres/"* ]] || fail "stderr: $stderr"
	assert_equal "$(wc -l <<<"$stderr")" 1
	[ ! -e "$BATS_TEST_TMPDIR/cache/13" ] || fail "a failed fetch left $BATS_TEST_TMPDIR/cache/13"
	run -2 --separate-stderr "$PG_HELPER_DIR/pg-fetch" twelve
	assert_equal "$stderr" "pg-fetch: 'twelve' is not a PostgreSQL major version (10 and later: 10, 11, ... 18)"
	PG_MAJOR=1x run -1 pg_start BAD
	assert_output --partial "'1x' is not a PostgreSQL major version"
}

@test "logical replication from PostgreSQL 12 to 17" {
	replicate 12 17
}

@test "logical replication from PostgreSQL 11 to 18, across a restart of each side with its own pg_ctl" {
	replicate 11 18
	pg_restart SRC
	pg_restart DST
	assert_equal "$(pg_sql SRC postgres "select current_setting('server_version_num')::int / 10000")" 11
	assert_equal "$(pg_sql DST postgres "select current_setting('server_version_num')::int / 10000")" 18
	pg_sql SRC app "insert into public.items values (1000, 'after restart')"
	wait_for DST app "select count(*) from public.items where id = 1000" 1
	# 18 has its own limit on replication origins, set like the slots.
	assert_equal "$(pg_sql DST postgres "show max_active_replication_origins")" 16
	local port=$SRC_PORT
	pg_stop SRC
	port_is_free "$port" || fail "SRC still listens on $port after pg_stop"
}

@test "without PG_MAJOR a cluster is Debian's 15, as before" {
	PG_MAJOR='' pg_start DEF
	assert_equal "$DEF_MAJOR" 15
	assert_equal "$DEF_BINDIR" "$(pg_bindir)"
	assert_equal "$(pg_sql DEF postgres "select current_setting('server_version_num')::int / 10000")" 15
}
