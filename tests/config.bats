#!/usr/bin/env bats
# migration.yml: the keys, their derived defaults, and every kind of bad
# input (FILE:LINE:COL on stderr, exit 2, nothing written).  No server.

setup() {
	load test_helper/common
	cd "$BATS_TEST_TMPDIR"
}

# good_config FILE [extra lines]: the six required keys.
good_config() {
	local file=$1 line
	shift
	printf 'src_cls: pg-meta\nsrc_db: meta\nsrc_ip: 10.10.10.10\ndst_cls: pg-test\ndst_db: test\ndst_ip: 10.10.10.11\n' >"$file"
	for line in "$@"; do printf '%s\n' "$line" >>"$file"; done
}

# refused FILE PATTERN: render fails with exit 2, one line matching PATTERN, no kit.
refused() {
	run -2 --separate-stderr "$MIGKIT" render -o "$BATS_TEST_TMPDIR/kit" "$1"
	assert_equal "$output" ""
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr =~ $2 ]] || fail "stderr '$stderr' does not match '$2'"
	[ ! -e "$BATS_TEST_TMPDIR/kit" ] || fail "a kit was written"
}

@test "a task file written for the original kit renders unchanged, with its derived defaults" {
	HOME=$BATS_TEST_TMPDIR run -0 "$MIGKIT" render "$MIGKIT_SRCDIR/tests/fixtures/pigsty-task.yml"
	local kit=$BATS_TEST_TMPDIR/migration/pg-meta.meta
	[ -f "$kit/activate" ]
	run -0 grep -E '^export (SRCPG|DSTPG|SUBCONN|PUBNAME|SUBNAME|MIGRATION_CONTEXT)=' "$kit/activate"
	assert_line "export SRCPG=postgres://dbuser_dba@10.10.10.10/meta"
	assert_line "export DSTPG=postgres://dbuser_dba@10.10.10.11/test"
	assert_line "export SUBCONN='host=10.10.10.10 dbname=meta user=replicator'"
	assert_line "export PUBNAME=pub_pg_meta_meta"
	assert_line "export SUBNAME=sub_pg_meta_meta"
	assert_line "export MIGRATION_CONTEXT=pg-meta.meta"
}

@test "ports, users and names given in the file are used in the derived URLs" {
	good_config m.yml "src_port: 6432" "dst_port: 6433" "admin_user: adm@in" "repl_user: re pl"
	run -0 "$MIGKIT" render -q -o kit m.yml
	run -0 cat kit/activate
	assert_line "export SRCPG=postgres://adm%40in@10.10.10.10:6432/meta"
	assert_line "export DSTPG=postgres://adm%40in@10.10.10.11:6433/test"
	assert_line "export SUBCONN='host=10.10.10.10 port=6432 dbname=meta user='\\''re pl'\\'''"
}

@test "explicit src_pg, dst_pg, sub_conn, pub_name and sub_name are kept as given" {
	good_config m.yml "src_pg: postgres://a@h1:1/x" "dst_pg: 'host=h2 dbname=y'" \
		"sub_conn: host=h1 dbname=x user=r" "pub_name: my_pub" "sub_name: my_sub"
	run -0 "$MIGKIT" render -q -o kit m.yml
	run -0 cat kit/activate
	assert_line "export SRCPG=postgres://a@h1:1/x"
	assert_line "export DSTPG='host=h2 dbname=y'"
	assert_line "export SUBCONN='host=h1 dbname=x user=r'"
	assert_line "export PUBNAME=my_pub"
	assert_line "export SUBNAME=my_sub"
}

@test "lists become JSON arrays in activate" {
	good_config m.yml "include: [public.*, 'sales.\"Order Items\"']" "exclude:" "app_roles:" "  - app" "  - report"
	run -0 "$MIGKIT" render -q -o kit m.yml
	run -0 cat kit/activate
	assert_line "export MIGKIT_INCLUDE='[\"public.*\", \"sales.\\\"Order Items\\\"\"]'"
	assert_line "export MIGKIT_EXCLUDE='[]'"
	assert_line "export MIGKIT_APP_ROLES='[\"app\", \"report\"]'"
}

@test "an unknown key is refused with its position" {
	good_config m.yml "src_host: 10.0.0.1"
	refused m.yml "^m.yml:7:1: unknown key 'src_host'; see migkit.yml\(5\)"
}

@test "a missing required key is refused with the fix" {
	printf 'src_cls: a\nsrc_db: b\nsrc_ip: c\ndst_cls: d\ndst_db: e\n' >m.yml
	refused m.yml "^m.yml: missing required key 'dst_ip'; add a line 'dst_ip: "
}

@test "an empty required value is refused" {
	good_config m.yml
	sed -i 's/^src_ip: .*/src_ip:/' m.yml
	refused m.yml "^m.yml:3:8: src_ip: a value is required"
}

@test "a value with a line break is refused" {
	good_config m.yml 'pub_name: "one\ntwo"'
	refused m.yml "^m.yml:7:11: pub_name: value holds a line break; write it on one line"
}

@test "a list item with a line break is refused" {
	good_config m.yml 'include: ["a", "b\nc"]'
	refused m.yml "^m.yml:7:16: include: value holds a line break"
}

@test "wrong types are refused: port, number, boolean, list, mapping" {
	good_config m.yml "src_port: abc"
	refused m.yml "^m.yml:7:11: src_port: 'abc' is not a port number \(1-65535\)"
	good_config m.yml "dst_port: 70000"
	refused m.yml "^m.yml:7:11: dst_port: '70000' is not a port number"
	good_config m.yml "seq_shift: -5"
	refused m.yml "^m.yml:7:12: seq_shift: '-5' is not a whole number >= 0"
	good_config m.yml "heartbeat: maybe"
	refused m.yml "^m.yml:7:12: heartbeat: 'maybe' is not true or false"
	good_config m.yml "wal_budget_bytes: 50GB"
	refused m.yml "^m.yml:7:19: wal_budget_bytes: '50GB' is not a whole number >= 0"
	good_config m.yml "include: public.*"
	refused m.yml "^m.yml:7:10: include must be a list, e.g. \[a, b\]"
	good_config m.yml "pub_name: {a: 1}"
	refused m.yml "^m.yml:7:11: pub_name must be a single text value"
	good_config m.yml "app_roles: [[a]]"
	refused m.yml "^m.yml:7:13: app_roles: each item must be a single text value"
}

@test "a key given twice is refused" {
	good_config m.yml "src_db: other"
	refused m.yml "^m.yml:7:1: src_db is given twice \(first at line 2\); keep one"
}

@test "a password in a connection string is refused: kits never store secrets" {
	good_config m.yml "src_pg: postgres://dba:s3cret@10.10.10.10/meta"
	refused m.yml "^m.yml:7:9: src_pg holds a password, and kits never store secrets: remove it and put it in ~/.pgpass or PGPASSFILE$"
	good_config m.yml "sub_conn: host=10.10.10.10 dbname=meta user=replicator password=s3cret"
	refused m.yml "^m.yml:7:11: sub_conn holds a password"
	[[ $stderr != *s3cret* ]]
}

@test "a malformed connection string is refused" {
	good_config m.yml "dst_pg: host=h dbname"
	refused m.yml "^m.yml:7:9: dst_pg: not a valid connection string"
}

@test "a cluster or database name with a slash is refused" {
	good_config m.yml "src_cls: a/b"
	sed -i '1d' m.yml
	refused m.yml "^m.yml:6:10: src_cls: 'a/b' cannot name a kit directory"
}

@test "invalid YAML is refused with the parser's position" {
	printf 'src_cls: a\nsrc_db: [b\n' >m.yml
	refused m.yml "^m.yml:[0-9]+:[0-9]+: not valid YAML: "
}

@test "an empty file and a non-mapping are refused" {
	: >m.yml
	refused m.yml "^m.yml: the file is empty"
	printf -- '- a\n- b\n' >m.yml
	refused m.yml "^m.yml:1:1: the file must be a mapping of key: value lines"
}

@test "a file that cannot be read is an error naming it" {
	run -2 --separate-stderr "$MIGKIT" render -o kit nowhere.yml
	[[ $stderr == *"cannot read nowhere.yml: No such file or directory"* ]]
	[ ! -e kit ]
}

@test "render without a config or with two is a usage error" {
	run -2 --separate-stderr "$MIGKIT" render
	[[ $stderr == *"no config file given"* ]]
	[[ $stderr == *'Try "migkit render --help"'* ]]
	good_config m.yml
	run -2 --separate-stderr "$MIGKIT" render m.yml m.yml
	[[ $stderr == *"too many arguments"* ]]
}

# The limits of migkit.yml(5): each a one-line error, exit 2, long before
# the input could cost time or memory.

@test "a file larger than 1 MiB is refused without being read whole: 100 MB of list items" {
	good_config m.yml "include:"
	yes '  - public.t' | head -c 100000000 >>m.yml
	run -2 --separate-stderr timeout 10 "$MIGKIT" render -o "$BATS_TEST_TMPDIR/kit" m.yml
	assert_equal "$stderr" "m.yml: the file is larger than 1 MiB; a migration.yml is a few dozen lines"
	[ ! -e kit ]
}

@test "a file of exactly 1 MiB is read; one byte more is refused" {
	good_config m.yml
	local pad=$((1048576 - $(stat -c %s m.yml) - 2))
	{ printf '#'; head -c "$pad" /dev/zero | tr '\0' x; printf '\n'; } >>m.yml
	assert_equal "$(stat -c %s m.yml)" 1048576
	run -0 "$MIGKIT" render -q -o accepted m.yml
	printf '\n' >>m.yml
	refused m.yml "^m.yml: the file is larger than 1 MiB"
}

@test "a value of 1 MB is refused with its position; 4096 bytes is the most" {
	good_config m.yml "pub_name: $(head -c 1000000 /dev/zero | tr '\0' x)"
	refused m.yml "^m.yml:7:11: a value of 1000000 bytes; values are at most 4096 bytes: shorten it$"
	good_config m.yml "context_dir: $(head -c 4096 /dev/zero | tr '\0' x)"
	run -0 "$MIGKIT" render -q -o accepted m.yml
	good_config m.yml "include: [a, $(head -c 4097 /dev/zero | tr '\0' x)]"
	refused m.yml "^m.yml:7:14: a value of 4097 bytes; values are at most 4096 bytes"
}

@test "sequences nested 10,000 deep are refused at the 17th level" {
	good_config m.yml "include: $(printf '%.0s[' {1..10000})a$(printf '%.0s]' {1..10000})"
	refused m.yml "^m.yml:7:25: nested more than 16 levels deep; the file is a mapping of keys to values and lists$"
	good_config m.yml "include:"
	printf '  %s a\n' "$(printf '%.0s- ' {1..10000})" >>m.yml
	refused m.yml "^m.yml:8:33: nested more than 16 levels deep"
}

@test "mappings nested 10,000 deep are refused at the 17th level" {
	good_config m.yml "pub_name: $(printf '%.0s{a: ' {1..10000})b$(printf '%.0s}' {1..10000})"
	refused m.yml "^m.yml:7:71: nested more than 16 levels deep; the file is a mapping of keys to values and lists$"
}

@test "list items that add up to more than 1 MiB through aliases are refused" {
	local big items
	big=$(head -c 4000 /dev/zero | tr '\0' x)
	items=$(printf ', *v%.0s' {1..300})
	good_config m.yml "include: [&v $big$items]"
	refused m.yml "^m.yml:7:11: include: the list items add up to more than 1 MiB; write fewer \(an alias \*name repeats its anchor's value\)$"
}

@test "a value holding a NUL character is refused, not cut short" {
	good_config m.yml 'src_pg: "host=h1\0password=x"'
	refused m.yml '^m.yml:7:9: a value holds a NUL character \(\\0\); remove it$'
}

@test "a second YAML document is refused, not ignored" {
	good_config m.yml "---" "include: [a"
	refused m.yml "^m.yml:7:1: a second YAML document starts here; the file is one mapping: remove the '---' and what follows$"
}

@test "an error naming a key with a line break or a tab stays on one line" {
	good_config m.yml '"a\nb\tc": 1'
	refused m.yml "^m.yml:7:1: unknown key 'a\\\\nb\\\\x09c'; see migkit.yml\(5\)"
}

@test "derived publication and subscription names are valid slot names, short enough for their _reverse" {
	printf 'src_cls: Pg-Shop\nsrc_db: Shop.v2\nsrc_ip: 10.0.0.1\ndst_cls: pg-new\ndst_db: shop\ndst_ip: 10.0.0.2\n' >m.yml
	run -0 "$MIGKIT" render -q -o kit m.yml
	run -0 grep -E '^export (PUBNAME|SUBNAME)=' kit/activate
	assert_line "export PUBNAME=pub_pg_shop_shop_v2"
	assert_line "export SUBNAME=sub_pg_shop_shop_v2"
	# Long names are cut to 55 bytes and end in a hash of the whole, so two stay apart.
	local db
	for db in a_database_name_that_goes_on_and_on_for_ever_and_ever_1 a_database_name_that_goes_on_and_on_for_ever_and_ever_2; do
		good_config "$db.yml"
		sed -i "s/^src_db: .*/src_db: $db/" "$db.yml"
		run -0 "$MIGKIT" render -q -o "k$db" "$db.yml"
		sed -n 's/^export SUBNAME=//p' "k$db/activate" >>names
	done
	run -0 awk '{ print length($0) }' names
	assert_output $'55\n55'
	[ "$(sort -u names | wc -l)" = 2 ]
	run -0 grep -cE '^sub_[a-z0-9_]+$' names
	assert_output 2
}

@test "a sub_name that cannot name a slot, or names too long for _reverse, are refused with the fix" {
	good_config m.yml "sub_name: Shop.v2"
	refused m.yml "^m\.yml:7:11: sub_name: 'Shop.v2' cannot name the subscription's replication slot; use only lower-case letters, digits and _$"
	good_config m.yml "pub_name: $(printf 'p%.0s' $(seq 1 56))"
	refused m.yml "^m\.yml:7:11: pub_name: 'p+' is 56 bytes; at most 55, so that 'p+_reverse' fits PostgreSQL's 63$"
	good_config m.yml "pub_name: $(printf 'p%.0s' $(seq 1 55))" "sub_name: $(printf 's%.0s' $(seq 1 55))"
	run -0 "$MIGKIT" render -q -o kit m.yml
}

@test "the user sub_conn names is the replication user; a repl_user that differs is refused" {
	good_config m.yml 'sub_conn: "host=10.10.10.10 dbname=meta user=postgres"'
	run -0 "$MIGKIT" render -q -o kit1 m.yml
	run -0 grep -x 'export MIGKIT_REPL_USER=postgres' kit1/activate
	good_config m.yml 'sub_conn: "host=10.10.10.10 dbname=meta user=postgres"' "repl_user: replicator"
	refused m.yml "^m\.yml:7:11: sub_conn connects as 'postgres' but repl_user is 'replicator'.*make them the same, or remove repl_user$"
	good_config m.yml 'sub_conn: "host=10.10.10.10 dbname=meta user=rep"' "repl_user: rep"
	run -0 "$MIGKIT" render -q -o kit2 m.yml
}

@test "wal_budget_bytes reaches the kit as MIGKIT_WAL_BUDGET_BYTES, 0 (no budget) by default" {
	good_config m.yml "wal_budget_bytes: 53687091200"
	run -0 "$MIGKIT" render -q -o "$BATS_TEST_TMPDIR/kit" m.yml
	run -0 grep -x 'export MIGKIT_WAL_BUDGET_BYTES=53687091200' "$BATS_TEST_TMPDIR/kit/activate"
	good_config n.yml
	run -0 "$MIGKIT" render -q -o "$BATS_TEST_TMPDIR/kit2" n.yml
	run -0 grep -x 'export MIGKIT_WAL_BUDGET_BYTES=0' "$BATS_TEST_TMPDIR/kit2/activate"
}

# fleet_config FILE [extra lines]: the four keys a fleet needs besides databases:.
fleet_config() {
	local file=$1 line
	shift
	printf 'src_cls: pg-meta\nsrc_ip: 10.10.10.10\ndst_cls: pg-test\ndst_ip: 10.10.10.11\n' >"$file"
	for line in "$@"; do printf '%s\n' "$line" >>"$file"; done
}

@test "databases: a kit per database, each with its own derived names, and a DST name where one is mapped" {
	fleet_config f.yml "src_port: 6432" "databases:" "  - meta" "  - crm: crm_v2" "  - 'Sales Data'"
	run -0 "$MIGKIT" render -o out f.yml
	assert_line --regexp "^rendered the kit for pg-meta\.crm in $BATS_TEST_TMPDIR/out/pg-meta\.crm \([0-9]+ files\)$"
	assert_line "rendered the fleet of 3 databases of pg-meta in $BATS_TEST_TMPDIR/out/pg-meta.fleet"
	run -0 grep -hE '^export (SRCPG|DSTPG|SUBCONN|PUBNAME|SUBNAME|MIGRATION_CONTEXT)=' out/pg-meta.crm/activate
	assert_output "export MIGRATION_CONTEXT=pg-meta.crm
export SRCPG=postgres://dbuser_dba@10.10.10.10:6432/crm
export DSTPG=postgres://dbuser_dba@10.10.10.11/crm_v2
export PUBNAME=pub_pg_meta_crm
export SUBNAME=sub_pg_meta_crm
export SUBCONN='host=10.10.10.10 port=6432 dbname=crm user=replicator'"
	run -0 grep -hE '^export (SRCDB|DSTDB|SUBNAME)=' "out/pg-meta.Sales Data/activate" out/pg-meta.meta/activate
	assert_output "export SRCDB='Sales Data'
export DSTDB='Sales Data'
export SUBNAME=sub_pg_meta_sales_data
export SRCDB=meta
export DSTDB=meta
export SUBNAME=sub_pg_meta_meta"
}

@test "two databases whose derived names would meet get names that end in a hash" {
	fleet_config f.yml "databases: [Shop, shop, crm]"
	run -0 "$MIGKIT" render -q -o out f.yml
	local names
	names=$(sed -n 's/^export \(PUBNAME\|SUBNAME\)=//p' out/pg-meta.Shop/activate out/pg-meta.shop/activate out/pg-meta.crm/activate)
	run -0 grep -cE '^(pub|sub)_pg_meta_shop_[0-9a-f]{8}$' <<<"$names"
	assert_output 4
	[ "$(sort -u <<<"$names" | wc -l)" = 6 ]
	run -0 grep -x 'export SUBNAME=sub_pg_meta_crm' out/pg-meta.crm/activate
}

@test "a database listed twice is refused with its position and the fix" {
	fleet_config f.yml "databases: [meta, crm, meta]"
	refused f.yml "^f\.yml:5:24: databases: 'meta' is listed twice \(first at line 5\); keep one$"
	fleet_config f.yml "databases:" "  - meta" "  - crm: crm_v2" "  - crm"
	refused f.yml "^f\.yml:8:5: databases: 'crm' is listed twice \(first at line 7\); keep one$"
	fleet_config f.yml "databases: [all, all]"
	refused f.yml "^f\.yml:5:18: databases: all is given twice \(first at line 5\); keep one$"
}

@test "an unknown key in a databases item is refused with its position and the fix" {
	fleet_config f.yml "databases:" "  - meta" "  - crm: crm_v2" "    dst_port: 5433"
	refused f.yml "^f\.yml:8:5: databases: unknown key 'dst_port' in an item; an item is a database name or one 'name on SRC: name on DST' pair \(- shop: shop_v2\), and the fleet's other keys go at the top level$"
	fleet_config f.yml "databases:" "  - crm: {dst_db: crm_v2}"
	refused f.yml "^f\.yml:6:10: databases: 'crm' maps to a mapping; write its name on DST \(- crm: crm_v2\)$"
}

@test "two databases moving into one DST database, or one named fleet, are refused" {
	fleet_config f.yml "databases: [meta, {crm: meta}]"
	refused f.yml "^f\.yml:5:19: databases: 'meta' and 'crm' would both move into the DST database 'meta'; map one of them to another name \('- crm: meta_new'\)$"
	fleet_config f.yml "databases: [meta, fleet]"
	refused f.yml "^f\.yml:5:19: databases: a database named 'fleet' would take the fleet's directory \(pg-meta\.fleet\) as its kit; migrate it with a migration\.yml of its own \(src_db: fleet\)$"
}

@test "databases: that is no list, an empty list, an empty name, or a slash is refused" {
	fleet_config f.yml "databases: meta"
	refused f.yml "^f\.yml:5:12: databases: 'meta' is neither all nor a list; write \[meta\] for a fleet of one, or src_db and dst_db$"
	fleet_config f.yml "databases: []"
	refused f.yml "^f\.yml:5:12: databases: the list is empty; name the databases, or write all$"
	fleet_config f.yml "databases: {meta: x}"
	refused f.yml "^f\.yml:5:12: databases must be all or a list of database names, e.g. \[shop, crm\]$"
	fleet_config f.yml "databases: [meta, '']"
	refused f.yml "^f\.yml:5:19: databases: a database name is empty; write it, or remove the item$"
	fleet_config f.yml "databases: [meta, [crm]]"
	refused f.yml "^f\.yml:5:19: databases: each item is a database name, all, or one 'name: name on DST' pair"
	fleet_config f.yml "databases: [a/b]"
	refused f.yml "^f\.yml:5:13: databases: 'a/b' cannot name a kit directory; remove the '/'$"
}

@test "a key each database derives for itself is refused beside databases:" {
	local key value
	for key in src_db dst_db src_pg dst_pg sub_conn pub_name sub_name; do
		value=x
		[[ $key != *_pg && $key != sub_conn ]] || value=host=h
		fleet_config f.yml "databases: [meta]" "$key: $value"
		refused f.yml "^f\.yml:6:[0-9]+: $key cannot be given with databases \(line 5\): each database's $key is derived for it; remove this line, or remove databases and migrate one database$"
	done
	fleet_config f.yml
	refused f.yml "^f\.yml: missing required key 'src_db'; add a line 'src_db: …' \(or databases: for many\)$"
}
