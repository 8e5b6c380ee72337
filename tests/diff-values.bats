#!/usr/bin/env bats
# migkit diff on values a user tells apart and the type's own equality does
# not (numeric scale, intervals, float -0, citext, nondeterministic
# collations), on values that are the same though their catalogs differ
# (enum OIDs, server encodings), and on an interrupt while the servers are
# busy or do not answer.  No replication: the databases are filled alike.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database vals"
		# DST's enum gets other OIDs than SRC's.
		[ "$side" = SRC ] || pg_sql DST vals "create type public.filler as enum ('a', 'b', 'c', 'd', 'e')"
		pg_psql "$side" vals <<'SQL'
create extension citext;
create collation public.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
create type public.mood as enum ('sad', 'ok', 'happy');
create table public.v (
  id int primary key, n numeric, i interval, f float8, c citext, t text collate public.nocase,
  m public.mood, j jsonb, a int[]);
insert into public.v values
  (1, 1.0, '1 day', 0, 'Abc', 'Strasse', 'happy', '{"a": 1.0}', '{1,2}'),
  (2, 2.50, '24 hours', 1.5, 'x', 'x', 'sad', '{}', '{}');
create table public.codes (id int primary key, code char(8), tag char(3) not null);
insert into public.codes values (1, 'ab', 'x'), (2, 'é ü', 'yz'), (3, '', 'a'), (4, null, 'b'), (5, 'a  b', 'c');
SQL
	done
	pg_sql SRC postgres "create database latin encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0"
	pg_sql DST postgres "create database latin"
	# The rows are sent as UTF-8, which SRC stores as LATIN1.
	for side in SRC DST; do
		PGCLIENTENCODING=UTF8 pg_psql "$side" latin <<'SQL'
create table public.names (k text primary key, v text);
insert into public.names values ('clé', 'déjà vu'), ('ñandú', 'Ärger'), ('plain', 'ascii');
SQL
	done
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
}

teardown() {
	# A test that stopped DST's server lets it go on, whatever happened.
	if [ -s "$BATS_TEST_TMPDIR/stopped" ]; then
		xargs kill -CONT <"$BATS_TEST_TMPDIR/stopped" 2>/dev/null || true
	fi
}

# diff_on DB ARGS...: migkit diff between SRC/DB and DST/DB.
diff_on() {
	local db=$1
	shift
	SRCPG="host=127.0.0.1 port=$SRC_PORT user=postgres dbname=$db" \
		DSTPG="host=127.0.0.1 port=$DST_PORT user=postgres dbname=$db" "$MIGKIT" diff --retries 0 "$@"
}

@test "--checksum says equal over the same values, enums of other OIDs included" {
	[ "$(pg_sql SRC vals "select oid from pg_enum where enumlabel = 'happy'")" != \
		"$(pg_sql DST vals "select oid from pg_enum where enumlabel = 'happy'")" ]
	run -0 diff_on vals --checksum
	assert_output --regexp 'public\.v +equal'
}

@test "--checksum names each row whose value prints differently, though the type takes them as equal" {
	local change
	for change in "1|n = 1.00" "2|i = '1 day'" "1|f = '-0'" "1|c = 'abc'" "1|t = 'STRASSE'" \
		"1|j = '{\"a\": 1.00}'" "1|a = '[0:1]={1,2}'" "2|m = 'ok'"; do
		pg_sql DST vals "update public.v set ${change#*|} where id = ${change%%|*}"
		run -1 diff_on vals --checksum
		[[ $output == *"public.v: changed: id=${change%%|*}"* ]] || fail "$change: $output"
		pg_psql DST vals -c "truncate public.v" -c "insert into public.v values
  (1, 1.0, '1 day', 0, 'Abc', 'Strasse', 'happy', '{\"a\": 1.0}', '{1,2}'),
  (2, 2.50, '24 hours', 1.5, 'x', 'x', 'sad', '{}', '{}')" >/dev/null
		run -0 diff_on vals --checksum
	done
	# Each of those is equal to the original by the type's own equality.
	assert_equal "$(pg_sql SRC vals "select 1.0 = 1.00 and interval '1 day' = '24 hours' and 0::float8 = '-0' and 'Abc'::citext = 'abc' and 'Strasse' = 'STRASSE' collate public.nocase and '{\"a\": 1.0}'::jsonb = '{\"a\": 1.00}'")" t
}

@test "--checksum hashes character(n) as its text: the same value alike, each changed one named" {
	run -0 diff_on vals --checksum --table public.codes
	assert_output --regexp 'public\.codes +equal +5 +5'
	# bpchar's own hash, which --checksum uses, is the hash of its text.
	assert_equal "$(pg_sql SRC vals "select count(*) filter (where pg_catalog.hashbpcharextended(code collate \"C\", 7) = pg_catalog.hashtextextended(code::text collate \"C\", 7)) || ' ' || count(code) from public.codes")" "4 4"
	# Padding is not part of a character(n) value: it prints the same.
	pg_sql DST vals "update public.codes set code = 'ab      ' where id = 1"
	run -0 diff_on vals --checksum --table public.codes
	local change
	for change in "1|code = 'a b'" "2|code = 'é û'" "2|code = 'é  ü'" "3|code = null" "4|code = ''" "5|tag = 'C'"; do
		pg_sql DST vals "update public.codes set ${change#*|} where id = ${change%%|*}"
		run -1 diff_on vals --checksum --table public.codes
		[[ $output == *"public.codes: changed: id=${change%%|*}"* ]] || fail "$change: $output"
		pg_psql DST vals -c "truncate public.codes" \
			-c "insert into public.codes values (1, 'ab', 'x'), (2, 'é ü', 'yz'), (3, '', 'a'), (4, null, 'b'), (5, 'a  b', 'c')" >/dev/null
	done
	run -0 diff_on vals --checksum --table public.codes
}

@test "--checksum between a LATIN1 and a UTF8 database compares the characters, and names keys as they are" {
	assert_equal "$(pg_sql SRC postgres "select pg_encoding_to_char(encoding) from pg_database where datname = 'latin'")" LATIN1
	run -0 diff_on latin --checksum
	assert_output --regexp 'public\.names +equal +3 +3'
	pg_sql DST latin "update public.names set v = 'deja vu' where k = 'clé'"
	run -1 diff_on latin --checksum
	assert_output --partial "public.names: changed: k=clé"
	pg_sql DST latin "update public.names set v = 'déjà vu' where k = 'clé'"
}

@test "Ctrl-C or SIGTERM cancels diff's queries on the servers and exits 2" {
	local sig pid rc
	for sig in INT TERM; do
		# DST's table is locked: diff's count waits there.
		pg_psql DST vals -c "begin; lock table public.v; select pg_sleep(60); commit" >/dev/null 2>&1 3>&- &
		wait_for DST vals "select count(*) from pg_locks where relation = 'public.v'::regclass and mode = 'AccessExclusiveLock' and granted" 1
		SRCPG="host=127.0.0.1 port=$SRC_PORT user=postgres dbname=vals" \
			DSTPG="host=127.0.0.1 port=$DST_PORT user=postgres dbname=vals" \
			"$MIGKIT" diff --count --retries 0 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
		pid=$!
		wait_for DST vals "select count(*) from pg_stat_activity where application_name = 'migkit' and wait_event_type = 'Lock'" 1
		kill -"$sig" "$pid"
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" = 2 ] || fail "SIG$sig: exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"
		grep -q "interrupted: the queries still running on the servers were cancelled" "$BATS_TEST_TMPDIR/err"
		# Nothing of diff is left running on DST.
		wait_for DST vals "select count(*) from pg_stat_activity where application_name = 'migkit'" 0
		pg_sql DST vals "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
	done
}

@test "Ctrl-C ends progress while a server does not answer, exit 2" {
	local pid rc t0 postmaster
	pg_sql SRC vals "create publication pub for table public.v"
	pg_sql DST vals "create subscription sub connection 'host=127.0.0.1 port=$SRC_PORT dbname=vals user=postgres' publication pub with (copy_data = false)"
	postmaster=$(head -1 "$DST_DIR/data/postmaster.pid")
	SRCPG="host=127.0.0.1 port=$SRC_PORT user=postgres dbname=vals" \
		DSTPG="host=127.0.0.1 port=$DST_PORT user=postgres dbname=vals" SUBNAME=sub PUBNAME=pub \
		"$MIGKIT" progress --watch 1 >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	sleep 2
	# DST stops answering: its postmaster and every backend are stopped.
	{
		echo "$postmaster"
		pgrep -P "$postmaster"
	} >"$BATS_TEST_TMPDIR/stopped"
	xargs kill -STOP <"$BATS_TEST_TMPDIR/stopped"
	sleep 2
	t0=$SECONDS
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	xargs kill -CONT <"$BATS_TEST_TMPDIR/stopped"
	rm "$BATS_TEST_TMPDIR/stopped"
	[ "$rc" = 2 ] || fail "exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"
	[ $((SECONDS - t0)) -le 5 ] || fail "progress took $((SECONDS - t0)) s to end"
	grep -q "interrupted" "$BATS_TEST_TMPDIR/err"
	pg_sql DST vals "drop subscription sub"
	pg_sql SRC vals "drop publication pub"
}
