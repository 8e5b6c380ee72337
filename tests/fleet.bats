#!/usr/bin/env bats
# A fleet against real clusters: databases: all rendered from SRC's list,
# the fleet's summary and exit status when one kit says no or fails, --jobs,
# the servers' room deciding how many create-sub run at once, and three
# databases migrated at once, while an application role writes to each,
# through checks, copy-schema, create-pub, create-sub, copy-progress --wait
# and cutover -y, each proved equal afterwards with a digest of its own.
# The tests run in file order on one SRC and one DST.  SRC has four
# databases; legacy's DST is broken (a database nobody may connect to).

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	pg_sql SRC postgres "create role app_user login"
	local db
	for db in shop crm blog legacy; do
		pg_sql SRC postgres "create database $db"
		pg_psql SRC "$db" <<SQL
create table public.items (id bigserial primary key, name text not null, price numeric(10, 2));
create table public.writes (client int, n int, at timestamptz not null default now(), primary key (client, n));
insert into public.items (name, price) select '$db item ' || g, g / 7.0 from generate_series(1, 3000) g;
grant select, insert, update, delete on all tables in schema public to app_user;
grant usage on all sequences in schema public to app_user;
SQL
	done
	# crm: a table check-repl blocks on (no key); blog: names that need quoting.
	pg_psql SRC crm <<'SQL'
create table public.notes (body text not null);
insert into public.notes select 'note ' || g from generate_series(1, 500) g;
grant select, insert on public.notes to app_user;
SQL
	pg_psql SRC blog <<'SQL'
create schema "Édition";
create table "Édition"."Posts Table" (id int primary key, title text, tags text[]);
insert into "Édition"."Posts Table" select g, 'title ' || g, array['a', 'b' || g] from generate_series(1, 800) g;
grant usage on schema "Édition" to app_user;
grant select on all tables in schema "Édition" to app_user;
SQL
	pg_sql DST postgres "create database legacy allow_connections false"

	KITS=$BATS_FILE_TMPDIR/kits
	FLEET=$KITS/pg-src.fleet/fleet
	export KITS FLEET
	mkdir -p "$KITS"
	{
		echo "src_cls: pg-src"
		echo "src_ip: 127.0.0.1"
		echo "src_port: $SRC_PORT"
		echo "dst_cls: pg-dst"
		echo "dst_ip: 127.0.0.1"
		echo "dst_port: $DST_PORT"
		echo "admin_user: postgres"
		echo "repl_user: replicator"
		echo "app_roles: [app_user]"
		echo "databases: [all, {blog: blog_new}]"
	} >"$KITS/fleet.yml"
}

teardown_file() {
	load test_helper/common
	touch "$BATS_FILE_TMPDIR/stop"
	pg_stop_all
}

setup() {
	load test_helper/common
}

# writer DB: the application of database DB: it inserts (1, n) into
# public.writes as app_user wherever the kit's data/app-target points, and
# logs each commit it saw ("n target") in $BATS_FILE_TMPDIR/writer.DB,
# until the file "stop" appears.
writer() {
	local db=$1 n=0 target
	while [ ! -e "$BATS_FILE_TMPDIR/stop" ]; do
		n=$((n + 1))
		target=$(sed 's|^postgres://[^@]*@|postgres://app_user@|' "$KITS/pg-src.$db/data/app-target")
		if psql -X -w -q -d "$target" -c "insert into public.writes (client, n) values (1, $n)" >/dev/null 2>&1; then
			printf '%s %s\n' "$n" "$target" >>"$BATS_FILE_TMPDIR/writer.$db"
		fi
		sleep 0.02
	done
}

# digest SIDE DB [UPTO]: each table of DB as "schema.table count md5", the
# md5 of its rows' texts in order; public.writes only up to n = UPTO (the
# rows committed on SRC, when DB is on DST).
digest() {
	pg_psql "$1" "$2" -v upto="${3:-2147483647}" <<'SQL'
select string_agg(format('select %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(t::text, E''\n'' order by t::text)), ''-'') from %s t%s',
                         q, q, case when q = 'public.writes' then ' where n <= ' || :'upto' else '' end),
                  E'\nunion all\n' order by q) || E'\norder by 1'
  from (select format('%I.%I', n.nspname, c.relname) as q
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema', 'migkit')) s \gexec
SQL
}

@test "databases: all renders a kit for each database SRC has but postgres, with the mapping, and the fleet" {
	run -0 "$MIGKIT" render -o "$KITS" -t "$MIGKIT_SRCDIR/examples/demo/templates" "$KITS/fleet.yml"
	assert_line "rendered the fleet of 4 databases of pg-src in $KITS/pg-src.fleet"
	run -0 "$FLEET" --list
	assert_line --regexp "^blog +blog_new +$KITS/pg-src.blog$"
	assert_line --regexp "^crm +crm +$KITS/pg-src.crm$"
	assert_line --regexp "^legacy +legacy +$KITS/pg-src.legacy$"
	assert_line --regexp "^shop +shop +$KITS/pg-src.shop$"
	refute_output --partial postgres
	run -0 grep -h -E '^export (SRCDB|DSTDB|SUBNAME)=' "$KITS/pg-src.blog/activate" "$KITS/pg-src.shop/activate"
	assert_output $'export SRCDB=blog\nexport DSTDB=blog_new\nexport SUBNAME=sub_pg_src_blog\nexport SRCDB=shop\nexport DSTDB=shop\nexport SUBNAME=sub_pg_src_shop'
	run -0 grep -c "^| \`crm\` | \`crm\` | \`pub_pg_src_crm\` | \`sub_pg_src_crm\` |" "$KITS/pg-src.fleet/README.md"
	# The application of each kit starts on SRC (the demo's re-routing hook moves it).
	local db
	for db in shop crm blog; do
		grep -E '^export SRCPG=' "$KITS/pg-src.$db/activate" | sed 's/^export SRCPG=//' >"$KITS/pg-src.$db/data/app-target"
	done
	# The fleet as rendered is shellcheck-clean.
	[ -x "${SHELLCHECK:-}" ] || SHELLCHECK=$(command -v shellcheck) || skip "shellcheck is not installed"
	cd "$KITS/pg-src.fleet"
	run -0 "$SHELLCHECK" -x fleet kit/fleet.sh
}

@test "databases: all with SRC unreachable, or naming a database SRC lacks, is one line and exit 2" {
	sed "s/^src_port: .*/src_port: 1/" "$KITS/fleet.yml" >"$BATS_TEST_TMPDIR/down.yml"
	run -2 --separate-stderr "$MIGKIT" render -o "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/down.yml"
	[[ $stderr =~ ^"migkit render: error: cannot connect to SRC to list its databases ($BATS_TEST_TMPDIR/down.yml:10:12: databases: all): " ]] || fail "$stderr"
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	sed "s/^databases: .*/databases: [all, nosuch]/" "$KITS/fleet.yml" >"$BATS_TEST_TMPDIR/lacks.yml"
	run -2 --separate-stderr "$MIGKIT" render -o "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/lacks.yml"
	assert_equal "$stderr" "$BATS_TEST_TMPDIR/lacks.yml:10:18: databases: SRC has no database 'nosuch' that postgres may connect to; remove it, or create it on SRC"
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
}

@test "the fleet refuses bad usage with exit 2 and a hint, and starts nothing" {
	run -2 --separate-stderr "$FLEET"
	[[ $stderr == *"fleet: no step given"*'Try "fleet --help"'* ]] || fail "$stderr"
	run -2 --separate-stderr "$FLEET" activate
	[[ $stderr == *"fleet: unknown step 'activate'; the steps: check-user"* ]] || fail "$stderr"
	run -2 --separate-stderr "$FLEET" --jobs 0 check-db
	[[ $stderr == *"--jobs takes a whole number from 1 to 9999, not '0'"* ]] || fail "$stderr"
	run -2 --separate-stderr "$FLEET" --only shop,nosuch check-db
	[[ $stderr == *"--only: the fleet has no database 'nosuch' (it has: blog crm legacy shop)"* ]] || fail "$stderr"
	run -2 --separate-stderr "$FLEET" --frobnicate check-db
	[[ $stderr == *"fleet: unknown option '--frobnicate'"* ]] || fail "$stderr"
	run -0 "$FLEET" --help
	assert_output --partial "Usage: fleet [--jobs N]"
	[ ! -e "$KITS/pg-src.shop/log/check-db.log" ]
	[ ! -e "$KITS/pg-src.fleet/log/journal" ]
}

@test "a negative answer in one kit makes the fleet exit 1, the others done; the summary says which" {
	# A context loaded in the caller's shell is no obstacle: each kit loads its own.
	export MIGRATION_CONTEXT=pg-src.shop DIRPATH=$KITS/pg-src.shop
	run -1 --separate-stderr "$FLEET" --only shop,crm,blog check-repl
	assert_line --regexp "^fleet pg-src.fleet: check-repl: 3 kit\(s\), 3 at once \(limited by the number of kits\)$"
	assert_line --regexp "^shop +check-repl +0 +done +[0-9.]+s  "
	assert_line --regexp "^crm +check-repl +1 +negative +[0-9.]+s  "
	assert_line --regexp "^blog +check-repl +0 +done +[0-9.]+s  "
	assert_line "2 done, 1 negative, 0 error, 0 not started; exit 1. Each kit's output: KIT/log/check-repl.log"
	refute_output --partial legacy
	[[ $stderr == *"fleet: crm: check-repl negative (exit 1) after "* ]] || fail "$stderr"
	# Each kit's own output and journal.
	grep -q "BLOCKER:.*public.notes" "$KITS/pg-src.crm/log/check-repl.log"
	run -0 grep -c $'\tcheck-repl\texit=1\t' "$KITS/pg-src.crm/log/journal"
	run -0 grep -c $'\tcheck-repl\texit=0\t' "$KITS/pg-src.shop/log/journal"
	run -0 grep -c $'\tfleet check-repl\texit=1\t' "$KITS/pg-src.fleet/log/journal"

	run -0 "$FLEET" --only crm check-repl --fix -y
	run -0 --separate-stderr "$FLEET" --only shop --only crm,blog check-repl
	assert_line "3 done, 0 negative, 0 error, 0 not started; exit 0. Each kit's output: KIT/log/check-repl.log"
}

@test "--jobs limits how many kits run at once; --json has the figures" {
	run -0 --separate-stderr "$FLEET" --json --jobs 1 check-user
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/one.json"
	run -0 jq -r '[.step, .jobs, .parallel, .limited_by, .status, (.kits | length)] | @tsv' "$BATS_TEST_TMPDIR/one.json"
	assert_output $'check-user\t1\t1\t--jobs 1\t0\t4'
	# One at a time: each kit starts once the one before has ended.
	run -0 jq -r '.kits | [range(1; length) as $i | .[$i].started_ms >= .[$i - 1].ended_ms] | all' "$BATS_TEST_TMPDIR/one.json"
	assert_output true
	run -0 jq -r '.kits[] | [.database, .dst_database, .status, .result, (.seconds > 0)] | @tsv' "$BATS_TEST_TMPDIR/one.json"
	assert_output $'blog\tblog_new\t0\tdone\ttrue\ncrm\tcrm\t0\tdone\ttrue\nlegacy\tlegacy\t0\tdone\ttrue\nshop\tshop\t0\tdone\ttrue'

	run -0 --separate-stderr "$FLEET" --json -j 2 check-hba
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/two.json"
	# At no kit's start are more than two running.
	run -0 jq -r '.kits as $k | [$k[] | .started_ms as $s | [$k[] | select(.started_ms <= $s and .ended_ms > $s)] | length] | max' "$BATS_TEST_TMPDIR/two.json"
	assert_output 2
	run -0 jq -r '.parallel' "$BATS_TEST_TMPDIR/two.json"
	assert_output 2
}

@test "copy-schema runs one kit at a time; the database whose DST is broken fails (exit 2), the others are done" {
	run -2 --separate-stderr "$FLEET" copy-schema -y
	assert_line "fleet pg-src.fleet: copy-schema -y: 4 kit(s), 1 at once (limited by copy-schema creates and alters DST's roles, which all its databases share: one kit at a time)"
	assert_line --regexp "^legacy +copy-schema +2 +error +[0-9.]+s  copy-schema: .*legacy"
	for db in blog crm shop; do
		assert_line --regexp "^$db +copy-schema +0 +done +"
	done
	assert_line "3 done, 0 negative, 1 error, 0 not started; exit 2. Each kit's output: KIT/log/copy-schema.log"
	assert_equal "$(pg_sql DST blog_new "select count(*) from pg_tables where schemaname in ('public', 'Édition')")" 3
	assert_equal "$(pg_sql DST crm "select count(*) from public.notes")" 0
}

@test "create-sub is refused, nothing started, when SRC's slots cannot hold every subscription; else DST's workers set how many run at once" {
	run -0 "$FLEET" --only shop,crm,blog create-pub -y
	# Fill SRC's slots but two: three new subscriptions cannot all keep one.
	pg_sql SRC postgres "select count(pg_create_physical_replication_slot('filler_' || g)) from generate_series(1, 14) g"
	run -2 --separate-stderr "$FLEET" --only shop,crm,blog create-sub -y
	pg_sql SRC postgres "select count(pg_drop_replication_slot(slot_name)) from pg_replication_slots where slot_name like 'filler%'"
	assert_equal "$stderr" "fleet: SRC has 2 free replication slots (max_replication_slots = 16, 14 in use) and 3 kit(s) each keep one after create-sub: raise max_replication_slots on SRC (it needs a restart), or run fewer kits with --only; no kit was started"
	assert_output ""
	assert_equal "$(pg_sql DST postgres "select count(*) from pg_subscription")" 0

	# DST has 12 logical replication workers; each new subscription takes up to
	# 5 during its copy (1 apply + max_sync_workers_per_subscription = 4).
	run -0 --separate-stderr "$FLEET" --only shop,crm,blog create-sub -y
	assert_line "fleet pg-src.fleet: create-sub -y: 3 kit(s), 2 at once (limited by DST's free logical replication workers: 12, and each create-sub takes up to 5)"
	assert_line "3 done, 0 negative, 0 error, 0 not started; exit 0. Each kit's output: KIT/log/create-sub.log"
	assert_equal "$(pg_sql DST postgres "select string_agg(subname, ',' order by subname) from pg_subscription")" \
		"sub_pg_src_blog,sub_pg_src_crm,sub_pg_src_shop"
	# Run again: every subscription exists, so none takes anything more.
	run -0 --separate-stderr "$FLEET" --only shop,crm,blog create-sub -y
	assert_line --partial "3 at once (limited by the number of kits)"
	assert_line --regexp "^shop +create-sub +0 +done +[0-9.]+s  nothing was changed$"
}

@test "three databases under writes: copy-progress --wait and cutover -y through the fleet; each database equal on DST" {
	rm -f "$BATS_FILE_TMPDIR/stop"
	local db
	for db in shop crm blog; do
		writer "$db" 3>&- &
	done
	sleep 1
	run -0 --separate-stderr "$FLEET" --only shop,crm,blog copy-progress --wait --timeout 60
	assert_line "3 done, 0 negative, 0 error, 0 not started; exit 0. Each kit's output: KIT/log/copy-progress.log"
	# Every database equal under the writes, by checksum, through the fleet.
	run -0 --separate-stderr "$FLEET" --only shop,crm,blog copy-diff --checksum
	assert_line "3 done, 0 negative, 0 error, 0 not started; exit 0. Each kit's output: KIT/log/copy-diff.log"
	for db in shop crm blog; do
		assert_line --regexp "^$db +copy-diff +0 +done +[0-9.]+s  .*equal"
	done
	run -0 --separate-stderr "$FLEET" --only shop,crm,blog --json cutover -y
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/cutover.json"
	sleep 1
	touch "$BATS_FILE_TMPDIR/stop"
	wait
	run -0 jq -r '[.parallel, .limited_by, .status, ([.kits[].status] | add)] | @tsv' "$BATS_TEST_TMPDIR/cutover.json"
	assert_output $'3\tthe number of kits\t0\t0'
	for db in shop crm blog; do
		local dst=$db upto
		[ "$db" != blog ] || dst=blog_new
		jq -e '.status == "done"' "$KITS/pg-src.$db/data/cutover.json" >/dev/null
		grep -q ":$DST_PORT/$dst\$" "$KITS/pg-src.$db/data/app-target"
		# The writer committed on both sides; every commit it saw is on DST.
		grep -q ":$SRC_PORT/$db\$" "$BATS_FILE_TMPDIR/writer.$db"
		grep -q ":$DST_PORT/$dst\$" "$BATS_FILE_TMPDIR/writer.$db"
		assert_equal "$(pg_sql DST "$dst" "select count(*) from public.writes")" "$(wc -l <"$BATS_FILE_TMPDIR/writer.$db")"
		# DST holds exactly SRC's rows, table by table, up to the cutover.
		upto=$(grep ":$SRC_PORT/$db\$" "$BATS_FILE_TMPDIR/writer.$db" | tail -n 1 | cut -d' ' -f1)
		digest SRC "$db" >"$BATS_TEST_TMPDIR/src.$db"
		digest DST "$dst" "$upto" >"$BATS_TEST_TMPDIR/dst.$db"
		run -0 diff "$BATS_TEST_TMPDIR/src.$db" "$BATS_TEST_TMPDIR/dst.$db"
		run -0 grep -c . "$BATS_TEST_TMPDIR/src.$db"
		[ "$output" -ge 2 ]
	done
	grep -q '^"Édition"."Posts Table" 800 ' "$BATS_TEST_TMPDIR/src.blog"
	grep -q '^public.items 3000 ' "$BATS_TEST_TMPDIR/src.shop"
}

@test "Ctrl-C: no other kit starts, the running one is interrupted, the summary is printed, exit 2" {
	# The forward subscriptions are stopped since the cutover: copy-progress
	# --wait waits for ever.  The kits run in the fleet's order: crm, then shop.
	env --default-signal=INT "$FLEET" --jobs 1 --only shop,crm copy-progress --wait \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local pid=$! rc=0
	wait_for DST crm "select count(*) > 0 from pg_stat_activity where datname = 'crm' and application_name = 'migkit/copy-progress'" t
	kill -INT "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 2
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp "^crm +copy-progress +[12] +(negative|error) +"
	assert_line --regexp "^shop +copy-progress +- +not started +- +not started: interrupted$"
	assert_line --regexp "^0 done, [01] negative, [01] error, 1 not started; exit 2\. "
	grep -q "interrupted: no other kit starts; SIGINT to the 1 running" "$BATS_TEST_TMPDIR/err"
	run -0 grep -c "fleet pg-src.fleet: copy-progress --wait$" "$KITS/pg-src.crm/log/copy-progress.log"
	run -1 grep -c "fleet pg-src.fleet: copy-progress --wait$" "$KITS/pg-src.shop/log/copy-progress.log"
	# Nothing of the interrupted kit is left running.
	wait_for DST crm "select count(*) from pg_stat_activity where application_name like 'migkit%'" 0
	wait_for SRC crm "select count(*) from pg_stat_activity where application_name like 'migkit%'" 0
}
