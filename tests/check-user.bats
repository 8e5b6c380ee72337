#!/usr/bin/env bats
# check-user against real clusters: which roles SRC's database needs, the
# report and its --json, and data/roles.sql recreating those roles (with
# attributes, memberships, settings, comments) on an empty DST.

setup_file() {
	load test_helper/common
	pg_start SRC "log_statement = 'all'"
	pg_start DST
	pg_psql SRC postgres <<'SQL'
create role db_owner nologin;
create role app_owner login createdb connection limit 20 valid until '2099-01-01 00:00:00+00' password 'owner-secret';
create role app_reader login noinherit password 'reader-secret';
create role app_rw nologin;
create role "Odd Role" login;
create role "select" nologin bypassrls;
create role "rôle_é" login replication;
create role auditor nologin;
create role unrelated login;
create role lonely login;
create database shop owner db_owner;
grant app_rw to app_reader with admin option granted by app_owner;
grant app_rw to "Odd Role";
grant auditor to app_rw;
grant pg_read_all_stats to app_reader;
alter role app_owner set work_mem = '8MB';
alter role app_reader in database shop set search_path = "Odd Schema", public;
alter role "Odd Role" set statement_timeout = '5s';
alter role unrelated in database postgres set work_mem = '2MB';
comment on role app_owner is 'owns the shop''s tables';
SQL
	pg_psql SRC shop <<'SQL'
create schema shop authorization app_owner;
create schema "Odd Schema" authorization "Odd Role";
create table shop.orders (id bigserial primary key, total numeric);
alter table shop.orders owner to app_owner;
grant select, insert on shop.orders to app_rw;
alter default privileges for role app_owner in schema shop grant select on tables to app_rw;
create table shop."select" (id int primary key, "from" text);
alter table shop."select" owner to app_owner;
grant select ("from") on shop."select" to "select";
alter table shop.orders enable row level security;
create policy own on shop.orders to "rôle_é" using (true);
create sequence "Odd Schema".s;
grant usage on sequence "Odd Schema".s to app_reader;
SQL
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	KIT=$BATS_TEST_TMPDIR/kit
	write_config "$BATS_TEST_TMPDIR/migration.yml" SRC shop DST shop 'app_roles: [lonely, ghost]'
	render_kit "$BATS_TEST_TMPDIR/migration.yml" "$KIT"
}

# The roles data/roles.sql would create, from its JSON line.
roles_in() {
	sed -n 's/^-- roles (JSON): //p' "$1" | jq -r '.[]' | sort | paste -sd ' '
}

@test "check-user reports every role, the needed ones marked with why, memberships and settings" {
	run -0 --separate-stderr "$KIT/check-user"
	assert_output --regexp 'app_owner +\| t +\| [^|]*owner'
	assert_output --regexp 'app_rw +\| t +\| [^|]*grantee'
	assert_output --regexp 'auditor +\| t +\| group of app_rw'
	assert_output --regexp 'rôle_é +\| t +\| policy'
	assert_output --regexp 'lonely +\| t +\| app_roles'
	assert_output --regexp 'db_owner +\| t +\| [^|]*database owner'
	assert_output --regexp 'unrelated +\| f +\|'
	assert_output --regexp 'Odd Role +\| t'
	assert_output --partial 'CREATEDB LOGIN CONNECTION LIMIT 20 VALID UNTIL 2099-01-01'
	assert_output --partial "owns the shop's tables"
	# memberships with admin option and grantor
	assert_output --regexp 'app_rw +\| app_reader +\| t +\| app_owner +\| t'
	# settings: global, in a database, for a role that is not needed
	assert_output --regexp 'app_reader +\| shop +\| search_path="Odd Schema", public +\| t'
	assert_output --regexp 'unrelated +\| postgres +\| work_mem=2MB +\| f'
	assert_output --partial 'app_roles lists ghost, which SRC does not have'
	[ -f "$KIT/data/roles.sql" ]
	[ -f "$KIT/data/roles-other.sql" ]
	run -1 grep -rl 'SCRAM-SHA-256\$[0-9]' "$KIT"
}

@test "check-user --json gives roles, memberships and settings to jq" {
	local json
	run -0 --separate-stderr "$KIT/check-user" --json
	json=$output
	jq -e . <<<"$json" >/dev/null
	run -0 jq -r '[.roles[] | select(.needed) | .role] | sort | join(",")' <<<"$json"
	assert_output 'Odd Role,app_owner,app_reader,app_rw,auditor,db_owner,lonely,pg_database_owner,pg_monitor,pg_read_all_stats,postgres,rôle_é,select'
	run -0 jq -r '.roles[] | select(.role == "app_owner") | [.login, .createdb, .superuser, .connection_limit, (.valid_until | startswith("2099-01-01")), .comment] | @tsv' <<<"$json"
	assert_output "$(printf 'true\ttrue\tfalse\t20\ttrue\towns the shop'"'"'s tables')"
	run -0 jq -r '.memberships[] | select(.group == "app_rw" and .member == "app_reader") | [.admin_option, .grantor] | @tsv' <<<"$json"
	assert_output "$(printf 'true\tapp_owner')"
	run -0 jq -r '.settings[] | select(.role == "app_reader") | .database + " " + .setting' <<<"$json"
	assert_output 'shop search_path="Odd Schema", public'
	run -0 jq -r '.roles[] | select(.role == "unrelated") | .needed' <<<"$json"
	assert_output false
}

@test "roles.sql recreates the needed roles on an empty DST, twice, keeping DST's own" {
	run -0 "$KIT/check-user"
	assert_equal "$(roles_in "$KIT/data/roles.sql")" 'Odd Role app_owner app_reader app_rw auditor db_owner lonely rôle_é select'
	grep -q '^-- postgres: .*bootstrap superuser' "$KIT/data/roles.sql"
	! grep -q 'CREATE ROLE postgres' "$KIT/data/roles.sql"
	! grep -qi 'password' "$KIT/data/roles.sql"
	pg_sql DST postgres 'create database shop'
	# a role DST already has keeps existing and gets SRC's attributes
	pg_sql DST postgres 'create role "select" login'
	for run in 1 2; do
		run -0 psql -X -w -q -1 -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DST_PORT" -U postgres -d shop -f "$KIT/data/roles.sql"
	done
	run -0 pg_sql DST postgres "select rolname, rolcanlogin, rolcreatedb, rolinherit, rolreplication, rolbypassrls, rolconnlimit, coalesce(to_char(rolvaliduntil at time zone 'UTC', 'YYYY-MM-DD'), '-') from pg_roles where rolname !~ '^pg_' order by 1"
	assert_output "Odd Role|t|f|t|f|f|-1|-
app_owner|t|t|t|f|f|20|2099-01-01
app_reader|t|f|f|f|f|-1|-
app_rw|f|f|t|f|f|-1|-
auditor|f|f|t|f|f|-1|-
db_owner|f|f|t|f|f|-1|-
lonely|t|f|t|f|f|-1|-
postgres|t|t|t|t|t|-1|-
replicator|t|f|t|t|f|-1|-
rôle_é|t|f|t|t|f|-1|-
select|f|f|t|f|t|-1|-"
	run -0 pg_sql DST postgres "select roleid::regrole, member::regrole, admin_option, grantor::regrole from pg_auth_members where member::regrole::text !~ '^pg_' order by 1::text, 2::text"
	assert_output 'app_rw|"Odd Role"|f|postgres
app_rw|app_reader|t|app_owner
auditor|app_rw|f|postgres
pg_read_all_stats|app_reader|f|postgres'
	run -0 pg_sql DST postgres "select pg_get_userbyid(setrole), coalesce(d.datname, '-'), array_to_string(setconfig, ';') from pg_db_role_setting s left join pg_database d on d.oid = s.setdatabase order by 1, 2"
	assert_output 'Odd Role|-|statement_timeout=5s
app_owner|-|work_mem=8MB
app_reader|shop|search_path="Odd Schema", public'
	run -0 pg_sql DST postgres "select shobj_description('app_owner'::regrole, 'pg_authid')"
	assert_output "owns the shop's tables"
	# the others come with roles-other.sql
	run -0 psql -X -w -q -1 -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DST_PORT" -U postgres -d shop -f "$KIT/data/roles-other.sql"
	run -0 pg_sql DST postgres "select rolname from pg_roles where rolname in ('unrelated', 'lonely') order by 1"
	assert_output $'lonely\nunrelated'
	run -0 pg_sql DST postgres "select array_to_string(setconfig, ';') from pg_db_role_setting where setrole = 'unrelated'::regrole"
	assert_output 'work_mem=2MB'
}

@test "the needed set follows the database: grants-only roles in, other databases' roles out" {
	pg_sql SRC postgres 'create database other'
	pg_sql SRC other 'create role other_owner; create table t (k int); alter table t owner to other_owner'
	run -0 "$KIT/check-user"
	[[ $(roles_in "$KIT/data/roles-other.sql") == *other_owner* ]]
	[[ $(roles_in "$KIT/data/roles.sql") != *other_owner* ]]
	# roles with only grants (a column privilege, a sequence) are needed
	[[ " $(roles_in "$KIT/data/roles.sql") " == *" select "* ]]
	[[ " $(roles_in "$KIT/data/roles.sql") " == *" app_reader "* ]]
	pg_sql SRC postgres 'drop database other'
	pg_sql SRC postgres 'drop role other_owner'
}

@test "check-user --with-passwords FILE writes the verifiers to that 0600 file outside the kit and never prints them" {
	local pw=$BATS_TEST_TMPDIR/secrets/passwords.sql
	mkdir -p "$BATS_TEST_TMPDIR/secrets"
	run -0 --separate-stderr "$KIT/check-user" --with-passwords "$pw"
	[[ $output$stderr != *SCRAM-SHA-256* ]]
	[ "$(stat -c %a "$pw")" = 600 ]
	grep -q "ALTER ROLE app_owner PASSWORD ''SCRAM-SHA-256" "$pw"
	! grep -q 'postgres PASSWORD' "$pw"
	# Nothing in the kit holds a verifier.
	run -1 grep -rl 'SCRAM-SHA-256\$[0-9]' "$KIT"
	# the verifier works on DST: the same hash lands there
	pg_psql DST postgres -f "$KIT/data/roles.sql"
	pg_psql DST postgres -1 -f "$pw"
	assert_equal "$(pg_sql DST postgres "select rolpassword from pg_authid where rolname = 'app_owner'")" \
		"$(pg_sql SRC postgres "select rolpassword from pg_authid where rolname = 'app_owner'")"
}

@test "check-user --with-passwords refuses a file inside the kit, or none, and reads nothing" {
	local log=$SRC_DIR/server.log before
	before=$(wc -l <"$log")
	run -2 --separate-stderr "$KIT/check-user" --with-passwords "$KIT/data/roles-passwords.sql"
	[[ $stderr == *"is inside the kit, and a kit never holds a secret"* ]]
	(cd "$KIT/data" && run -2 ./../check-user --with-passwords ./p.sql)
	run -2 --separate-stderr "$KIT/check-user" --with-passwords
	[[ $stderr == *"--with-passwords needs the file"* ]]
	[ ! -e "$KIT/data/roles-passwords.sql" ] && [ ! -e "$KIT/data/p.sql" ]
	! tail -n +"$((before + 1))" "$log" | grep -qE 'rolpassword'
}

@test "without --with-passwords no file is written and no secret is read" {
	local log=$SRC_DIR/server.log before
	before=$(wc -l <"$log")
	run -0 "$KIT/check-user"
	run -1 grep -rl 'SCRAM-SHA-256\$[0-9]' "$KIT"
	! tail -n +"$((before + 1))" "$log" | grep -qE 'rolpassword'
	# with the flag the log does show it read them (so the check above can fail)
	run -0 "$KIT/check-user" --with-passwords "$BATS_TEST_TMPDIR/pw.sql"
	tail -n +"$((before + 1))" "$log" | grep -q 'rolpassword'
}

@test "check-user --with-passwords as a non-superuser is an error (exit 2) naming why" {
	write_config "$BATS_TEST_TMPDIR/app.yml" SRC shop DST shop "src_pg: postgres://app_owner@127.0.0.1:$SRC_PORT/shop"
	render_kit "$BATS_TEST_TMPDIR/app.yml" "$BATS_TEST_TMPDIR/appkit"
	run -2 --separate-stderr "$BATS_TEST_TMPDIR/appkit/check-user" --with-passwords "$BATS_TEST_TMPDIR/pw2.sql"
	[[ $stderr == *'--with-passwords needs a superuser on SRC'* ]]
	[ ! -e "$BATS_TEST_TMPDIR/pw2.sql" ]
}

@test "check-user runs twice with the same result" {
	run -0 "$KIT/check-user"
	first=$output
	cp "$KIT/data/roles.sql" "$BATS_TEST_TMPDIR/first.sql"
	run -0 "$KIT/check-user"
	assert_equal "$output" "$first"
	diff <(grep -v '^-- roles.sql:' "$BATS_TEST_TMPDIR/first.sql") <(grep -v '^-- roles.sql:' "$KIT/data/roles.sql")
}

@test "check-user: a bad option, an unreachable SRC" {
	run -2 --separate-stderr "$KIT/check-user" --no-such-option
	[[ $stderr == *"unexpected argument '--no-such-option'"* ]]
	write_config "$BATS_TEST_TMPDIR/down.yml" SRC shop DST shop "src_pg: postgres://postgres@127.0.0.1:1/shop"
	render_kit "$BATS_TEST_TMPDIR/down.yml" "$BATS_TEST_TMPDIR/downkit"
	run -2 --separate-stderr "$BATS_TEST_TMPDIR/downkit/check-user"
	[[ $stderr == 'check-user: cannot connect to SRC (pg-src/shop at 127.0.0.1):'* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
}

@test "the rendered check-user is shellcheck-clean" {
	command -v "${SHELLCHECK:-shellcheck}" >/dev/null || skip "no shellcheck"
	cd "$KIT"
	run -0 "${SHELLCHECK:-shellcheck}" -x check-user
}
