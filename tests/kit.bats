#!/usr/bin/env bats
# The contract every kit script keeps (kit/lib.sh): its own context, the
# refusal of another kit's, show-then-ask with -y/-n and no terminal, the
# journal, one-line connection errors, exit status.  Against a real server.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	pg_sql SRC postgres "create database app"
	pg_sql DST postgres "create database app"
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	cd "$BATS_TEST_TMPDIR"
	write_config m.yml SRC app DST app
	# A script that uses the show-then-ask mechanics, rendered like any other.
	mkdir tpl
	cat >tpl/create-pub <<-'EOF'
	#!/usr/bin/env bash
	set -euo pipefail
	# shellcheck source=kit/lib.sh
	. "$(dirname "${BASH_SOURCE[0]}")/kit/lib.sh"
	mk_init "Usage: create-pub [OPTION]... NAME" "$@"
	[ "${#MK_ARGS[@]}" -eq 1 ] || mk_usage_error "give one table name"
	mk_check_conn SRC
	mk_plan SRC probe.sql -v t="${MK_ARGS[0]}" <<'SQL' >/dev/null
	select format('create table %I (id int)', :'t')
	SQL
	mk_show probe.sql SRC
	mk_confirm "Create it?"
	mk_apply probe.sql SRC
	mk_say "created"
	EOF
	"$MIGKIT" render -q -t tpl -o kit m.yml
}

@test "a script runs from anywhere, loading its own kit's context" {
	cd /
	run -0 "$BATS_TEST_TMPDIR/kit/check-db"
	assert_output --partial "== Database app on pg-src =="
}

@test "a script refuses to run while another kit's context is active" {
	sed 's/^src_cls: .*/src_cls: other/' m.yml >o.yml
	"$MIGKIT" render -q -o other o.yml
	run -2 --separate-stderr bash -c '. other/activate >/dev/null && "$1/kit/check-db"' _ "$BATS_TEST_TMPDIR"
	[[ $stderr == "check-db: the active context is other.app ($BATS_TEST_TMPDIR/other), not this kit ($BATS_TEST_TMPDIR/kit): source $BATS_TEST_TMPDIR/kit/activate or start a new shell" ]]
	# Its own context active: runs.
	run -0 bash -c '. kit/activate >/dev/null && ./check-db'
}

@test "--dry-run shows the exact SQL and changes nothing" {
	run -0 kit/create-pub -n "Odd Table"
	assert_output --partial 'create table "Odd Table" (id int)'
	assert_output --partial "will run on SRC (pg-src/app at 127.0.0.1)"
	assert_output --partial "dry run: nothing was changed"
	run -0 pg_sql SRC app "select count(*) from pg_class where relname = 'Odd Table'"
	assert_output 0
}

@test "with no terminal and no -y it refuses rather than hangs, changing nothing" {
	run -2 --separate-stderr kit/create-pub "Odd Table" </dev/null
	[[ $stderr == *'no terminal to ask "Create it?": run it with -y to answer yes, or -n to only show it'* ]]
	run -0 pg_sql SRC app "select count(*) from pg_class where relname = 'Odd Table'"
	assert_output 0
}

@test "answering no at the terminal changes nothing and exits 1; yes applies" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run -1 script -qec "kit/create-pub t_no" /dev/null <<<"n"
	assert_output --partial "nothing was changed"
	run -0 pg_sql SRC app "select count(*) from pg_class where relname = 't_no'"
	assert_output 0
	run -0 script -qec "kit/create-pub t_yes" /dev/null <<<"y"
	run -0 pg_sql SRC app "select count(*) from pg_class where relname = 't_yes'"
	assert_output 1
}

@test "-y and MIGKIT_YES=1 answer yes; a hostile value stays a quoted identifier" {
	run -0 kit/create-pub -y "x\"; drop table t; --"
	assert_output --partial "created"
	run -0 pg_sql SRC app "select relname from pg_class where relname like 'x%'"
	assert_output "x\"; drop table t; --"
	MIGKIT_YES=1 run -0 kit/create-pub t_env
	run -0 pg_sql SRC app "select count(*) from pg_class where relname = 't_env'"
	assert_output 1
}

@test "a failing statement stops the script with exit 2 and the server's message" {
	pg_sql SRC app "create table t_dup (id int)"
	run -2 --separate-stderr kit/create-pub -y t_dup
	[[ $stderr == *'relation "t_dup" already exists'* ]]
	[[ $stderr == *"create-pub: stopped: the SQL on SRC failed (see the message above)"* ]]
}

@test "every run appends one journal line: time, script, exit status, duration, arguments" {
	rm -f kit/log/journal
	kit/check-db >/dev/null
	kit/create-pub -n "Odd Table" >/dev/null
	kit/create-pub </dev/null 2>/dev/null || true
	run -0 cat kit/log/journal
	assert_equal "${#lines[@]}" 3
	[[ ${lines[0]} =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'\t'check-db$'\t'exit=0$'\t'[0-9]+\.[0-9]{3}s$'\t'$ ]] || fail "${lines[0]}"
	[[ ${lines[1]} == *$'\tcreate-pub\texit=0\t'*$'\t-n Odd\\ Table' ]] || fail "${lines[1]}"
	[[ ${lines[2]} == *$'\tcreate-pub\texit=2\t'* ]] || fail "${lines[2]}"
}

@test "an unreachable server is one line naming the side and the reason, no password, exit 2" {
	local closed
	closed=$((SRC_PORT + 1))
	while ! port_is_free "$closed"; do closed=$((closed + 1)); done
	sed -i "s/^src_port: .*/src_port: $closed/" m.yml
	"$MIGKIT" render -q -f -o kit m.yml
	PGPASSWORD=TopSecret run -2 --separate-stderr kit/check-db
	assert_equal "$output" ""
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr == "check-db: cannot connect to SRC (pg-src/app at 127.0.0.1): connection to server at \"127.0.0.1\", port $closed failed: Connection refused"* ]] || fail "$stderr"
	[[ $stderr != *TopSecret* ]]
	# copy-diff and copy-seq -y leave connecting to their helper, which names the side as one line.
	local script argv
	for script in copy-diff "copy-seq -y"; do
		read -r -a argv <<<"$script"
		PGPASSWORD=TopSecret run -2 --separate-stderr "kit/${argv[0]}" "${argv[@]:1}"
		assert_equal "$output" ""
		assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
		[[ $stderr == *"cannot connect to SRC: connection to server at \"127.0.0.1\", port $closed failed: Connection refused"* ]] || fail "$script: $stderr"
		[[ $stderr != *TopSecret* ]]
	done
}

@test "--json prints one document a JSON parser reads" {
	run -0 --separate-stderr kit/check-db --json
	run -0 jq -r '.script, .context, .status, .database[0].database, (.extensions | length > 0)' <<<"$output"
	assert_output "check-db
pg-src.app
0
app
true"
}

@test "the scripts run the psql of PG_BINDIR (else the newest installed, or pg_config's), not a wrapper in PATH" {
	real=$(pg_bindir)/psql
	[ -x "$real" ] || skip "no psql binary beside the server's"
	mkdir bin
	# A psql that notes each call and runs the real one.
	printf '#!/bin/sh\necho "$*" >>"%s/calls"\nexec %s "$@"\n' "$BATS_TEST_TMPDIR" "$real" >bin/psql
	chmod +x bin/psql
	PG_BINDIR=$BATS_TEST_TMPDIR/bin run -0 kit/check-db
	assert_output --partial "== Database app on pg-src =="
	[ "$(grep -c . calls)" -ge 2 ]
	# A bin directory without psql: the next place is taken, and the checks still run.
	rm calls
	mkdir empty
	PG_BINDIR=$BATS_TEST_TMPDIR/empty PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -0 kit/check-db
	if pg_config --bindir >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/psql' >/dev/null; then
		[ ! -e calls ]
	fi
}
