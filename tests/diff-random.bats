#!/usr/bin/env bats
# migkit diff against random cases, a differential test: a few hundred
# tables of random shapes and column types, filled alike on two clusters,
# then changed at random on DST while the truth is recorded
# (tests/test_helper/diff-random.sql).  One --checksum run and one --count
# run compare them all, and each test below holds one promise of migkit
# diff against the truth, listing every case that breaks it.
#
# DIFF_RANDOM_SEED (default 42) and DIFF_RANDOM_CASES (default 300, plus
# the twin sweep) choose the cases; the same seed gives the same cases.
# tests/bench/diff-random runs more of them.

setup_file() {
	load test_helper/common
	load test_helper/diff-random
	pg_start SRC
	pg_start DST
	dr_generate "${DIFF_RANDOM_SEED:-42}" "${DIFF_RANDOM_CASES:-300}" 3
	dr_diff checksum "$BATS_FILE_TMPDIR/checksum.json"
	dr_diff count "$BATS_FILE_TMPDIR/count.json"
	echo "# $(pg_sql DST rand "select diffrand.summary()"); seed ${DIFF_RANDOM_SEED:-42}" >&3
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	load test_helper/diff-random
}

# no_disagreement CHECK [RUN]: diffrand.check_CHECK lists nothing; else the
# test fails with the count and the first of them.
no_disagreement() {
	local lines
	lines=$(dr_check "$@")
	[ -z "$lines" ] && return 0
	echo "$(wc -l <<<"$lines") disagreements (seed ${DIFF_RANDOM_SEED:-42}):"
	head -n 30 <<<"$lines"
	return 1
}

@test "the generator built every case alike on both sides and changed DST exactly where it says" {
	no_disagreement generator
	# Most cases, but not all, were changed; some tables hold no row at all.
	run -0 pg_sql DST rand "select count(*) filter (where m.case_id is null) > 50 and count(*) filter (where m.case_id is not null) > 200 from diffrand.cases c left join (select distinct case_id from diffrand.mutations) m on m.case_id = c.id"
	assert_output t
}

@test "--checksum compares every case once, finds the differences and exits 1" {
	[ "$(cat "$BATS_FILE_TMPDIR/checksum.json.rc")" = 1 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/checksum.json.rc"): $(head -c 2000 "$BATS_FILE_TMPDIR/checksum.json.err")"
	jq -e '.mode == "checksum" and .status == "different"' "$BATS_FILE_TMPDIR/checksum.json"
	jq -e '.replication_not_checked | test("no publication on SRC")' "$BATS_FILE_TMPDIR/checksum.json"
	run -0 pg_sql DST rand "select count(*) from diffrand.cases"
	jq -e --argjson n "$output" '.summary.tables == $n and .summary.equal + .summary.different == $n' \
		"$BATS_FILE_TMPDIR/checksum.json"
}

@test "--checksum says equal exactly where both sides' fingerprints agree" {
	no_disagreement status checksum
}

@test "--checksum names every row a mutation made differ, with its kind, and no other" {
	no_disagreement rows checksum
}

@test "--checksum finds a keyless table different without naming rows" {
	no_disagreement keyless checksum
	run -0 pg_sql DST rand "select count(*) from diffrand.cases c where not c.keyed and exists (select from diffrand.mutations m where m.case_id = c.id)"
	[ "$output" -gt 10 ]
}

@test "--count counts each side's rows as the truth has them" {
	[ "$(cat "$BATS_FILE_TMPDIR/count.json.rc")" = 1 ]
	no_disagreement counts count
}

@test "a key duplicated 600 times on DST is named as duplicated, in bounded time" {
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database dup"
	done
	pg_sql SRC dup "create table t (id int primary key, v text); insert into t select g, 'v' || g from generate_series(1, 1000) g"
	pg_sql DST dup "create table t (id int, v text); insert into t select g, 'v' || g from generate_series(1, 1000) g; insert into t select 500, 'v500' from generate_series(1, 600)"
	export SRCPG="host=127.0.0.1 port=$SRC_PORT user=postgres dbname=dup"
	export DSTPG="host=127.0.0.1 port=$DST_PORT user=postgres dbname=dup"
	run --separate-stderr timeout 15 "$MIGKIT" diff --checksum --retries 0 --json
	[ "$status" -ne 124 ] || fail "migkit diff --checksum did not finish within 15 s"
	[ "$status" -eq 1 ]
	jq -e '.tables[0].rows == [{"kind": "duplicated", "key": {"id": "500"}, "src_rows": 1, "dst_rows": 601}]' <<<"$output"
}
