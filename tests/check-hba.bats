#!/usr/bin/env bats
# check-hba against a real SRC whose pg_hba.conf each test rewrites: a rule
# that lets the replication user in, one that rejects it, none that
# matches, +group membership, undecidable rules, a broken line, and the role.
# The subscription comes from dst_ip 10.1.2.3, an address no test connects
# from: check-hba reasons about it, it never connects from there.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_sql SRC postgres "create database app"
	pg_psql SRC postgres <<'SQL'
alter role replicator password 'repl-secret';
create role grp nologin;
create role mid nologin in role grp;
grant mid to replicator;
create role other nologin;
SQL
	export DST_PORT=1
	write_config "$BATS_FILE_TMPDIR/m.yml" SRC app DST app
	sed -i 's/^dst_ip: .*/dst_ip: 10.1.2.3/' "$BATS_FILE_TMPDIR/m.yml"
	render_kit "$BATS_FILE_TMPDIR/m.yml" "$BATS_FILE_TMPDIR/kit"
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	KIT=$BATS_FILE_TMPDIR/kit
}

# set_hba LINE...: SRC's pg_hba.conf becomes the admin's own line then LINEs; reloads.
set_hba() {
	{
		echo "host all postgres 127.0.0.1/32 trust"
		printf '%s\n' "$@"
	} | as_pg tee "$SRC_DIR/data/pg_hba.conf" >/dev/null
	pg_sql SRC postgres "select pg_reload_conf()" >/dev/null
}

@test "check-hba --help and a bad argument" {
	run -0 "$KIT/check-hba" --help
	assert_output --partial "Usage: check-hba"
	assert_output --partial "Exit status"
	run -2 --separate-stderr "$KIT/check-hba" extra
	[[ $stderr == *"unexpected argument 'extra'"* ]]
	[[ $stderr == *'Try "check-hba --help"'* ]]
}

@test "the rendered check-hba is shellcheck-clean" {
	cd "$KIT"
	run -0 "${SHELLCHECK:-shellcheck}" -x check-hba
}

@test "a matching host line lets the user in; the replication keyword does not match" {
	set_hba "host replication replicator 10.0.0.0/8 trust" \
		"host app replicator 10.1.2.0/24 scram-sha-256" \
		"host all all 0.0.0.0/0 reject"
	run -0 "$KIT/check-hba"
	assert_line --regexp '^ +2 \| host +\| \{replication\} \| \{replicator\} \| 10\.0\.0\.0 +\| 255\.0\.0\.0 +\| trust +\| .*\| no +\|'
	assert_line --regexp '^ +3 \| host +\| \{app\} +\| \{replicator\} \| 10\.1\.2\.0 +\| 255\.255\.255\.0 +\| scram-sha-256 \| .*\| yes +\|'
	assert_line "replicator connects to database app from 10.1.2.3 over TCP, SSL off (SRC ssl = off, sub_conn sslmode = prefer)"
	assert_line "ok: pg_hba.conf line 3 lets replicator connect to app from 10.1.2.3 with scram-sha-256"
	assert_line "ok: role replicator exists on SRC and may log in for replication"
	assert_output --partial "note: the subscription sends the password of replicator from DST"
	refute_output --partial BLOCKER
}

@test "a reject line that matches first is a blocker with the line to add above it" {
	set_hba "host all all 10.0.0.0/8 reject" \
		"host app replicator 10.1.2.3/32 scram-sha-256"
	run -1 "$KIT/check-hba"
	assert_line "BLOCKER: pg_hba.conf line 2 rejects replicator connecting to app from 10.1.2.3; add above line 2 on SRC: host app replicator 10.1.2.3/32 scram-sha-256 then SELECT pg_reload_conf()"
	run -1 "$KIT/check-hba" --json
	run -0 jq -r '.decided_by, .method, (.rules[] | select(.line == 2) | .matches), (.blockers | length)' <<<"$output"
	assert_output $'2\nreject\nyes\n1'
}

@test "no line that matches is a blocker with the line to add" {
	set_hba "host replication replicator 10.1.2.3/32 trust" \
		"host other_db replicator 10.1.2.3/32 trust" \
		"host app replicator 10.1.3.0/24 trust" \
		"hostssl app replicator 10.1.2.3/32 trust" \
		"local all all trust"
	run -1 "$KIT/check-hba"
	assert_line "BLOCKER: no pg_hba.conf line lets replicator connect to app from 10.1.2.3; add to pg_hba.conf on SRC: host app replicator 10.1.2.3/32 scram-sha-256 then SELECT pg_reload_conf()"
	assert_line "note: pg_hba.conf line 5: hostssl record cannot match because SSL is disabled"
	run -1 "$KIT/check-hba" --json
	run -0 jq -r '([.rules[] | .matches] | join(",")), .decided_by, .method' <<<"$output"
	assert_output $'no,no,no,no,no,no\nnull\nnull'
}

@test "+group matches a member, through nested roles, and not a non-member" {
	set_hba "host app +grp 10.0.0.0 255.0.0.0 trust"
	run -0 "$KIT/check-hba"
	assert_line "ok: pg_hba.conf line 2 lets replicator connect to app from 10.1.2.3 with trust"
	set_hba "host app +other 10.0.0.0/8 trust"
	run -1 "$KIT/check-hba"
	assert_line --partial "BLOCKER: no pg_hba.conf line lets replicator connect to app from 10.1.2.3"
	set_hba "host samerole all 10.0.0.0/8 trust"
	run -1 "$KIT/check-hba"
	pg_sql SRC postgres "create role app nologin; grant app to replicator"
	run -0 "$KIT/check-hba"
	assert_line "ok: pg_hba.conf line 2 lets replicator connect to app from 10.1.2.3 with trust"
	pg_sql SRC postgres "drop role app"
}

@test "samenet and host names cannot be decided from here" {
	set_hba "host all all samenet reject" \
		"host all all dst.example.com reject" \
		"host all replicator 10.1.2.3/32 md5"
	run -0 "$KIT/check-hba"
	assert_line "note: whether line 2 (reject) matches cannot be decided from here: samenet depends on the network interfaces of SRC"
	assert_line "note: whether line 3 (reject) matches cannot be decided from here: host name dst.example.com depends on DNS as SRC sees it"
	assert_line "ok: pg_hba.conf line 4 lets replicator connect to app from 10.1.2.3 with md5 (if line(s) 2, 3 above do not match first)"
	set_hba "host all all samehost trust"
	run -0 "$KIT/check-hba"
	assert_line "note: no line surely matches: it depends on line(s) 2; if none of them lets replicator in, add to pg_hba.conf on SRC: host app replicator 10.1.2.3/32 scram-sha-256"
}

@test "a broken pg_hba.conf line is a blocker: SRC keeps its old rules" {
	set_hba "host app replicator 10.1.2.3/32 no-such-method"
	run -1 "$KIT/check-hba"
	assert_line --regexp '^BLOCKER: pg_hba.conf line 2 is broken \(invalid authentication method "no-such-method"\): SRC does not load the file'
	assert_line --regexp '^ +2 \| - +\| - +\| - .*\| error +\|'
	assert_line "note: whether replicator may connect cannot be told while pg_hba.conf is broken: check again once it loads"
	refute_line --partial "BLOCKER: no pg_hba.conf line"
	run -1 "$KIT/check-hba" --json
	run -0 jq -r '.method, (.blockers | length)' <<<"$output"
	assert_output $'null\n1'
}

@test "a role that is missing, or lacks LOGIN and REPLICATION, is a blocker with its fix" {
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC app DST app 'repl_user: Repl User'
	sed -i 's/^repl_user: replicator$//; s/^dst_ip: .*/dst_ip: 10.1.2.3/' "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	set_hba "host app all 10.1.2.3/32 trust"
	run -1 "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_line 'BLOCKER: role Repl User does not exist on SRC; fix on SRC: CREATE ROLE "Repl User" LOGIN REPLICATION;'
	pg_sql SRC postgres 'create role "Repl User" nologin connection limit 0'
	run -1 "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_line 'BLOCKER: role Repl User cannot log in (NOLOGIN); fix on SRC: ALTER ROLE "Repl User" LOGIN;'
	assert_line 'BLOCKER: role Repl User has neither REPLICATION nor SUPERUSER; fix on SRC: ALTER ROLE "Repl User" REPLICATION;'
	assert_line 'BLOCKER: role Repl User has a connection limit of 0; fix on SRC: ALTER ROLE "Repl User" CONNECTION LIMIT -1;'
	pg_sql SRC postgres 'alter role "Repl User" login replication connection limit -1'
	run -0 "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_line "ok: role Repl User exists on SRC and may log in for replication"
	pg_sql SRC postgres 'drop role "Repl User"'
}

@test "the suggested line, quoted for odd names, is one SRC accepts and matches" {
	pg_sql SRC postgres 'create database "Ünï app"'
	pg_sql SRC postgres "create role \"Repl User\" login replication password 'pw'"
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC "Ünï app" DST app 'repl_user: Repl User'
	sed -i 's/^repl_user: replicator$//; s/^dst_ip: .*/dst_ip: 10.1.2.3/' "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	set_hba "host all all 10.1.2.3/32 reject"
	run -1 "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_line 'BLOCKER: pg_hba.conf line 2 rejects Repl User connecting to Ünï app from 10.1.2.3; add above line 2 on SRC: host "Ünï app" "Repl User" 10.1.2.3/32 scram-sha-256 then SELECT pg_reload_conf()'
	set_hba 'host "Ünï app" "Repl User" 10.1.2.3/32 scram-sha-256' "host all all 10.1.2.3/32 reject"
	run -0 "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_line "ok: pg_hba.conf line 2 lets Repl User connect to Ünï app from 10.1.2.3 with scram-sha-256"
	pg_sql SRC postgres 'drop database "Ünï app"'
	pg_sql SRC postgres 'drop role "Repl User"'
}

@test "a password method with no password, or an md5 one under scram, is a blocker" {
	pg_sql SRC postgres "create role nopw login replication"
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC app DST app 'repl_user: nopw'
	sed -i 's/^repl_user: replicator$//; s/^dst_ip: .*/dst_ip: 10.1.2.3/' "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	set_hba "host app nopw 10.1.2.3/32 scram-sha-256"
	run -1 "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_line 'BLOCKER: line 2 asks for a password and role nopw has none on SRC; set one on SRC with: \password nopw (psql)'
	pg_psql SRC postgres <<'SQL'
set password_encryption = md5;
alter role nopw password 'pw';
SQL
	run -1 "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_line --partial 'BLOCKER: line 2 asks for scram-sha-256 but the password of nopw on SRC is stored as md5'
	set_hba "host app nopw 10.1.2.3/32 md5"
	run -0 "$BATS_TEST_TMPDIR/kit/check-hba"
	pg_sql SRC postgres "drop role nopw"
}

@test "check-hba --json gives the rules, the connection and the verdict" {
	set_hba "host app replicator 10.1.2.3/32 scram-sha-256"
	run -0 --separate-stderr "$KIT/check-hba" --json
	local doc=$output
	run -0 jq -r '.status, .decided_by, .method, .connection.user, .connection.address, .connection.ssl' <<<"$doc"
	assert_output $'0\n2\nscram-sha-256\nreplicator\n10.1.2.3\nfalse'
	run -0 jq -r '.rules[1] | [.line, .type, (.database | join(",")), (.user_name | join(",")), .address, .netmask, .method, .matches] | map(tostring) | join("|")' <<<"$doc"
	assert_output '2|host|app|replicator|10.1.2.3|255.255.255.255|scram-sha-256|yes'
	run -0 jq -r '.role[0] | [.role, .login, .replication, .can_connect] | map(tostring) | join("|")' <<<"$doc"
	assert_output 'replicator|true|true|true'
}

@test "check-hba as an admin who cannot read pg_hba_file_rules fails with the reason" {
	pg_sql SRC postgres "create role plain login"
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC app DST app
	sed -i 's/^admin_user: .*/admin_user: plain/' "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	set_hba "host all all 127.0.0.1/32 trust"
	run -2 --separate-stderr "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_equal "$stderr" "check-hba: cannot read pg_hba_file_rules on SRC: admin_user needs to be a superuser (or be granted SELECT on it)"
	pg_sql SRC postgres "drop role plain"
}

@test "check-hba with SRC unreachable names SRC and the reason, exit 2, no password" {
	write_config "$BATS_TEST_TMPDIR/m.yml" SRC app DST app
	sed -i "s/^src_port: .*/src_port: 1/" "$BATS_TEST_TMPDIR/m.yml"
	render_kit "$BATS_TEST_TMPDIR/m.yml" "$BATS_TEST_TMPDIR/kit"
	PGPASSWORD=s3cret-pw run -2 --separate-stderr "$BATS_TEST_TMPDIR/kit/check-hba"
	assert_equal "$output" ""
	[[ $stderr == "check-hba: cannot connect to SRC (pg-src/app at 127.0.0.1): "*refused* ]]
	[[ $stderr != *s3cret* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
}
