#!/usr/bin/env bats
# migkit render: the kit's files, modes, quoting, golden activate,
# re-rendering and template errors.  No server.

KIT_SCRIPTS="check-user check-db check-hba check-repl check-misc copy-schema create-pub create-sub
copy-progress copy-diff copy-seq disable-src re-routing drop-sub drop-pub
cutover create-reverse rollback drop-reverse ddl-freeze report"

setup() {
	load test_helper/common
	cd "$BATS_TEST_TMPDIR"
	printf 'src_cls: pg-meta\nsrc_db: meta\nsrc_ip: 10.10.10.10\ndst_cls: pg-test\ndst_db: test\ndst_ip: 10.10.10.11\n' >m.yml
}

@test "the kit holds activate, the runbook, every script, kit/ and data/ log/ sql/" {
	run -0 "$MIGKIT" render -o kit m.yml
	assert_output --partial "rendered the kit for pg-meta.meta in $BATS_TEST_TMPDIR/kit"
	for f in activate README.md $KIT_SCRIPTS kit/lib.sh kit/sql/relations.sql; do
		[ -f "kit/$f" ] || fail "kit/$f is missing"
	done
	for f in $KIT_SCRIPTS; do
		[ -x "kit/$f" ] || fail "kit/$f is not executable"
	done
	for d in data log sql kit; do [ -d "kit/$d" ]; done
}

@test "nothing in the kit is readable by others: directories and scripts 0700, files 0600" {
	umask 022
	run -0 "$MIGKIT" render -q -o kit m.yml
	assert_equal "$(stat -c %a kit)" 700
	for d in data log sql kit; do assert_equal "$(stat -c %a "kit/$d")" 700; done
	for f in $KIT_SCRIPTS; do assert_equal "$(stat -c %a "kit/$f")" 700; done
	for f in activate README.md kit/lib.sh kit/sql/relations.sql; do assert_equal "$(stat -c %a "kit/$f")" 600; done
	run -0 find kit -perm /077
	assert_output ""
}

@test "activate matches the golden file" {
	run -0 "$MIGKIT" render -q -o kit "$MIGKIT_SRCDIR/tests/fixtures/pigsty-task.yml"
	sed -e "s|$BATS_TEST_TMPDIR/kit|@KIT@|g" -e "s|^export MIGKIT_BIN=.*|export MIGKIT_BIN=@MIGKIT@|" \
		-e "s|rendered by migkit [0-9][0-9.]*|rendered by migkit @VERSION@|" kit/activate >activate.norm
	run -0 diff -u "$MIGKIT_SRCDIR/tests/expected/activate" activate.norm
}

@test "the runbook matches the golden file, with the real names filled in" {
	run -0 "$MIGKIT" render -q -o kit "$MIGKIT_SRCDIR/tests/fixtures/pigsty-task.yml"
	sed -e "s|$BATS_TEST_TMPDIR/kit|@KIT@|g" -e "s|migkit [0-9][0-9.]*|migkit @VERSION@|g" kit/README.md >README.norm
	run -0 diff -u "$MIGKIT_SRCDIR/tests/expected/README.md" README.norm
	run -0 grep -c "pub_pg_meta_meta" kit/README.md
}

@test "sourcing activate exports the context, enters the kit and prints SRC -> DST" {
	run -0 "$MIGKIT" render -q -o kit m.yml
	run -0 bash -c 'cd / && . "$1/kit/activate" && echo "$PWD|$MIGRATION_CONTEXT|$SRCPG|$DSTPG|$DIRPATH"' _ "$BATS_TEST_TMPDIR"
	assert_line "migration pg-meta.meta: pg-meta/meta (10.10.10.10) -> pg-test/test (10.10.10.11)"
	assert_line "$BATS_TEST_TMPDIR/kit|pg-meta.meta|postgres://dbuser_dba@10.10.10.10/meta|postgres://dbuser_dba@10.10.10.11/test|$BATS_TEST_TMPDIR/kit"
}

@test "a hostile config value is inert data when activate is sourced" {
	local evil="x'\$(touch $BATS_TEST_TMPDIR/pwned)'\`touch $BATS_TEST_TMPDIR/pwned2\`;\"; rm -rf /"
	cat >m.yml <<-EOF
	src_cls: pg-meta
	src_db: meta
	src_ip: 10.10.10.10
	dst_cls: pg-test
	dst_db: test
	dst_ip: 10.10.10.11
	pub_name: "x'; DROP TABLE t; --"
	repl_user: '$(printf '%s' "$evil" | sed "s/'/''/g")'
	EOF
	run -0 "$MIGKIT" render -q -o kit m.yml
	run -0 bash -c '. "$1/kit/activate" >/dev/null && printf "%s\n%s\n" "$PUBNAME" "$MIGKIT_REPL_USER"' _ "$BATS_TEST_TMPDIR"
	assert_line -n 0 "x'; DROP TABLE t; --"
	assert_line -n 1 "$evil"
	[ ! -e pwned ] && [ ! -e pwned2 ]
}

@test "every rendered script and the kit library are shellcheck-clean" {
	[ -x "${SHELLCHECK:-}" ] || SHELLCHECK=$(command -v shellcheck) || skip "shellcheck is not installed"
	run -0 "$MIGKIT" render -q -o kit m.yml
	cd kit
	# shellcheck disable=SC2086
	run "$SHELLCHECK" -x activate kit/lib.sh $KIT_SCRIPTS
	assert_success
}

@test "every script answers --help with usage and exit 0, and rejects unknown options with 2" {
	run -0 "$MIGKIT" render -q -o kit m.yml
	for f in $KIT_SCRIPTS; do
		run -0 "kit/$f" --help
		assert_output --partial "Usage: $f"
		run -2 --separate-stderr "kit/$f" --no-such-option
		[[ $stderr == *"Try \"$f --help\""* ]] || fail "$f: $stderr"
	done
}

@test "re-rendering the same context updates scripts and keeps data/, log/ and an edited hook" {
	run -0 "$MIGKIT" render -q -o kit m.yml
	echo keep >kit/data/roles.sql
	echo keep >kit/log/journal
	echo "# our routing" >>kit/re-routing
	echo "stale" >kit/check-db
	run -0 "$MIGKIT" render -o kit m.yml
	assert_output --partial "kept your re-routing; the freshly rendered one is re-routing.new"
	assert_equal "$(cat kit/data/roles.sql)" keep
	assert_equal "$(cat kit/log/journal)" keep
	run -0 tail -1 kit/re-routing
	assert_output "# our routing"
	[ -f kit/re-routing.new ]
	run -0 grep -c "check-db" kit/check-db
	[ "$output" -gt 1 ]
	# An unedited hook is simply updated.
	[ ! -e kit/disable-src.new ]
}

@test "a directory holding another context's kit is refused unless --force" {
	run -0 "$MIGKIT" render -q -o kit m.yml
	sed -i 's/^src_db: meta/src_db: other/' m.yml
	run -2 --separate-stderr "$MIGKIT" render -o kit m.yml
	[[ $stderr == *"kit holds the kit of context pg-meta.meta, not pg-meta.other; choose another directory with -o, or --force to replace it"* ]]
	run -0 grep -c '^export SRCDB=meta$' kit/activate
	run -0 "$MIGKIT" render -q --force -o kit m.yml
	run -0 grep -c '^export SRCDB=other$' kit/activate
}

@test "a non-empty directory that is no kit is refused unless --force" {
	mkdir notakit && echo x >notakit/file
	run -2 --separate-stderr "$MIGKIT" render -o notakit m.yml
	[[ $stderr == *"notakit exists and is not a migkit kit"* ]]
	[ ! -e notakit/activate ]
	run -0 "$MIGKIT" render -q -f -o notakit m.yml
	[ -f notakit/activate ] && [ -f notakit/file ]
}

@test "the default kit directory is <context_dir>/<src_cls>.<src_db>, with ~ expanded" {
	echo "context_dir: ~/mig" >>m.yml
	HOME=$BATS_TEST_TMPDIR run -0 "$MIGKIT" render -q m.yml
	[ -f "$BATS_TEST_TMPDIR/mig/pg-meta.meta/activate" ]
}

@test "templates from --templates override the built-in ones" {
	mkdir tpl
	printf '# Runbook of {{context}} from {{src_ip}}\n{{#include}}- {{.}}\n{{/include}}{{^exclude}}no excludes\n{{/exclude}}\n' >tpl/README.md
	printf 'include: [a.*, b.c]\n' >>m.yml
	run -0 "$MIGKIT" render -q -t tpl -o kit m.yml
	run -0 cat kit/README.md
	assert_output "# Runbook of pg-meta.meta from 10.10.10.10
- a.*
- b.c
no excludes"
}

@test "an unknown name in a template is a render error naming the template and line; nothing written" {
	mkdir tpl
	printf '#!/bin/sh\n# ok\necho {{no_such_name}}\n' >tpl/check-db
	run -2 --separate-stderr "$MIGKIT" render -t tpl -o kit m.yml
	[[ $stderr == *"tpl/check-db:3: unknown name 'no_such_name'"* ]]
	[ ! -e kit ]
}

@test "template syntax errors are reported: unclosed tag, unclosed section, stray close" {
	mkdir tpl
	printf 'a {{src_db\n' >tpl/check-db
	run -2 --separate-stderr "$MIGKIT" render -t tpl -o kit m.yml
	[[ $stderr == *"tpl/check-db:1: '{{' is never closed by '}}'"* ]]
	printf 'a\n{{#include}}\nb\n' >tpl/check-db
	run -2 --separate-stderr "$MIGKIT" render -t tpl -o kit m.yml
	[[ $stderr == *"tpl/check-db:2: section 'include' is never closed with {{/include}}"* ]]
	printf '{{/include}}\n' >tpl/check-db
	run -2 --separate-stderr "$MIGKIT" render -t tpl -o kit m.yml
	[[ $stderr == *"tpl/check-db:1: {{/include}} closes no open section"* ]]
	[ ! -e kit ]
}

@test "a value is written as one shell word in scripts and as text in the runbook" {
	mkdir tpl
	printf 'x={{pub_name}}\n' >tpl/check-db
	printf 'pub: {{pub_name}}\n' >tpl/README.md
	printf 'pub_name: "a b'"'"'c"\n' >>m.yml
	run -0 "$MIGKIT" render -q -t tpl -o kit m.yml
	assert_equal "$(cat kit/check-db)" "x='a b'\\''c'"
	assert_equal "$(cat kit/README.md)" "pub: a b'c"
}

@test "the runbook's activate command is one shell word, whatever the kit's directory is called" {
	local dir='kits/a b $(touch pwned)'
	run -0 "$MIGKIT" render -q -o "$dir" m.yml
	local line
	line=$(grep -E '^\. .*/activate$' "$dir/README.md")
	# Copied from the runbook and run, it sources that activate and nothing else.
	run -0 bash -c "$line >/dev/null && printf '%s\n' \"\$DIRPATH\""
	assert_output "$PWD/$dir"
	[ ! -e pwned ]
}

# tpl_refused PATTERN: render with templates from tpl/ fails with exit 2 and
# one line on stderr matching PATTERN; nothing is written.
tpl_refused() {
	run -2 --separate-stderr timeout 20 "$MIGKIT" render -t tpl -o kit m.yml
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr =~ $1 ]] || fail "stderr '$stderr' does not match '$1'"
	[ ! -e kit ] || fail "a kit was written"
}

@test "a template larger than 1 MiB is refused; a 100 MB one is not read whole" {
	mkdir tpl
	{ printf '#!/bin/sh\n'; head -c 1048576 /dev/zero | tr '\0' '#'; } >tpl/check-db
	tpl_refused "^migkit render: error: tpl/check-db: the template is larger than 1 MiB; a kit template is a short script$"
	yes '# a comment line' | head -c 100000000 >tpl/check-db
	tpl_refused "^migkit render: error: tpl/check-db: the template is larger than 1 MiB"
}

@test "sections nested 10,000 deep are refused at the 33rd; 32 levels render" {
	mkdir tpl
	{ for _ in {1..10000}; do printf '{{#src_cls}}\n'; done; for _ in {1..10000}; do printf '{{/src_cls}}\n'; done; } >tpl/check-db
	tpl_refused "^migkit render: error: tpl/check-db:33: sections are nested more than 32 deep; close some with \{\{/name\}\}$"
	{ for _ in {1..32}; do printf '{{#src_cls}}'; done; printf 'deep'; for _ in {1..32}; do printf '{{/src_cls}}'; done; } >tpl/check-db
	run -0 "$MIGKIT" render -q -t tpl -o ok m.yml
	assert_equal "$(cat ok/check-db)" "deep"
}

@test "a list section nested in itself is refused once it expands past 16 MiB, also when it writes nothing" {
	mkdir tpl
	printf 'include: [a, b, c, d, e, f, g]\n' >>m.yml
	{ for _ in {1..12}; do printf '{{#include}}'; done; printf '{{.}}'; for _ in {1..12}; do printf '{{/include}}'; done; } >tpl/check-db
	tpl_refused "^migkit render: error: tpl/check-db:1: the template expands past 16 MiB: a section repeats its text too often \(a list section in itself\?\); render each list once$"
	{ for _ in {1..30}; do printf '{{#include}}'; done; for _ in {1..30}; do printf '{{/include}}'; done; } >tpl/check-db
	tpl_refused "^migkit render: error: tpl/check-db:1: the template expands past 16 MiB"
}

@test "a broken tag across lines is reported on one line" {
	mkdir tpl
	printf 'a {{ src_db\nb }} c\n' >tpl/check-db
	tpl_refused "^migkit render: error: tpl/check-db:1: '\{\{ src_db\\\\nb \}\}' is not a tag: names are letters, digits and '_'$"
}

# fleet_yml: a fleet of three databases, one renamed on DST.
fleet_yml() {
	printf 'src_cls: pg-meta\nsrc_ip: 10.10.10.10\ndst_cls: pg-test\ndst_ip: 10.10.10.11\ndatabases: [meta, {crm: crm_v2}, "Sales Data"]\n' >f.yml
}

@test "a fleet: a kit per database and the fleet's directory, nothing readable by others" {
	fleet_yml
	umask 022
	run -0 "$MIGKIT" render -o out f.yml
	assert_line "next: $BATS_TEST_TMPDIR/out/pg-meta.fleet/fleet check-user"
	for db in meta crm "Sales Data"; do
		for f in activate README.md $KIT_SCRIPTS kit/lib.sh; do
			[ -f "out/pg-meta.$db/$f" ] || fail "out/pg-meta.$db/$f is missing"
		done
		[ ! -e "out/pg-meta.$db/fleet" ]
		[ ! -e "out/pg-meta.$db/kit/fleet.sh" ]
		run -0 grep -c "^It is one kit of a fleet: \`$BATS_TEST_TMPDIR/out/pg-meta.fleet/fleet STEP\`" "out/pg-meta.$db/README.md"
	done
	run -0 ls out/pg-meta.fleet out/pg-meta.fleet/kit
	assert_output $'out/pg-meta.fleet:\nREADME.md\nfleet\nkit\nlog\n\nout/pg-meta.fleet/kit:\nCONTEXT\nfleet.sh\nkits.sh'
	assert_equal "$(stat -c %a out/pg-meta.fleet/fleet)" 700
	assert_equal "$(stat -c %a out/pg-meta.fleet/README.md)" 600
	run -0 find out -perm /077
	assert_output ""
	# A single database's kit says nothing of a fleet.
	run -0 "$MIGKIT" render -q -o kit m.yml
	run -1 grep -ci fleet kit/README.md
}

@test "the rendered fleet script and its library are shellcheck-clean" {
	[ -x "${SHELLCHECK:-}" ] || SHELLCHECK=$(command -v shellcheck) || skip "shellcheck is not installed"
	fleet_yml
	run -0 "$MIGKIT" render -q -o out f.yml
	cd out/pg-meta.fleet
	run "$SHELLCHECK" -x fleet kit/fleet.sh kit/kits.sh
	assert_success
}

@test "the fleet script: --help, --list, and bad usage refused with exit 2 and a hint, without a server" {
	fleet_yml
	run -0 "$MIGKIT" render -q -o out f.yml
	run -0 out/pg-meta.fleet/fleet --help
	assert_line "Usage: fleet [--jobs N] [--only DB[,DB]...] [--json] STEP [ARG]..."
	run -0 out/pg-meta.fleet/fleet --list
	assert_output "database             on DST               kit
meta                 meta                 $BATS_TEST_TMPDIR/out/pg-meta.meta
crm                  crm_v2               $BATS_TEST_TMPDIR/out/pg-meta.crm
Sales Data           Sales Data           $BATS_TEST_TMPDIR/out/pg-meta.Sales Data"
	run -0 out/pg-meta.fleet/fleet --only "Sales Data",meta --list
	assert_equal "${#lines[@]}" 3
	run -2 --separate-stderr out/pg-meta.fleet/fleet --jobs x check-db
	assert_equal "$stderr" $'fleet: --jobs takes a whole number from 1 to 9999, not \'x\'\nTry "fleet --help" for more information.'
	run -2 --separate-stderr out/pg-meta.fleet/fleet --bogus
	[[ $stderr == *"fleet: unknown option '--bogus'"* ]] || fail "$stderr"
	[ ! -e out/pg-meta.fleet/log/journal ]
}

@test "the fleet's runbook lists every kit and the three ways to cut over" {
	fleet_yml
	run -0 "$MIGKIT" render -q -o out f.yml
	run -0 cat out/pg-meta.fleet/README.md
	assert_line "# Fleet runbook: 3 databases of pg-meta → pg-test"
	assert_line "| \`crm\` | \`crm_v2\` | \`pub_pg_meta_crm\` | \`sub_pg_meta_crm\` | \`$BATS_TEST_TMPDIR/out/pg-meta.crm\` |"
	assert_line "| \`Sales Data\` | \`Sales Data\` | \`pub_pg_meta_sales_data\` | \`sub_pg_meta_sales_data\` | \`$BATS_TEST_TMPDIR/out/pg-meta.Sales Data\` |"
	assert_line "### All together (big bang)"
	assert_line "### Side by side (parallel)"
	assert_line "### Database by database (phased)"
	assert_line "./fleet --jobs 3 cutover -y"
	assert_line "./fleet --only meta cutover -y && ./fleet --only meta create-reverse -y"
	refute_output --partial "{{"
	# A name the shell would split is one word in the commands, as it is in prose.
	sed -i 's/^databases: .*/databases: ["Sales Data", meta]/' f.yml
	run -0 "$MIGKIT" render -q -o out2 f.yml
	run -0 grep -F "./fleet --only 'Sales Data' cutover -y && ./fleet --only 'Sales Data' create-reverse -y" out2/pg-meta.fleet/README.md
	run -0 grep -F "# check the application on Sales Data; then" out2/pg-meta.fleet/README.md
}

@test "re-rendering a fleet keeps each kit's data/ and log/; a kit of another context in the way stops it all" {
	fleet_yml
	run -0 "$MIGKIT" render -q -o out f.yml
	echo keep >out/pg-meta.crm/log/journal
	echo keep >out/pg-meta.fleet/log/journal
	run -0 "$MIGKIT" render -q -o out f.yml
	assert_equal "$(cat out/pg-meta.crm/log/journal)" keep
	assert_equal "$(cat out/pg-meta.fleet/log/journal)" keep
	# A one-database kit of another context where a fleet's kit goes.
	rm -rf out/pg-meta.meta
	sed -i 's/^src_db: meta/src_db: other/' m.yml
	run -0 "$MIGKIT" render -q -o out/pg-meta.meta m.yml
	rm -f out/pg-meta.crm/check-db
	run -2 --separate-stderr "$MIGKIT" render -o out f.yml
	[[ $stderr == *"holds the kit of context pg-meta.other, not pg-meta.meta"* ]] || fail "$stderr"
	[ ! -e out/pg-meta.crm/check-db ]
}
