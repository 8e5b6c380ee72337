# shellcheck shell=bash
# The random cases of migkit diff's differential test (tests/diff-random.bats,
# tests/bench/diff-random): the steps of diff-random.sql beside this file,
# run on the clusters SRC and DST that pg.bash started.  Load pg.bash first.

DR_SQL=$PG_HELPER_DIR/diff-random.sql
DR_DB=rand
DR_TMP=${DR_TMP:-$MIGKIT_TEST_STATE}

# dr_both CMD...: runs "CMD SIDE" for SRC and DST at once; fails when either fails.
dr_both() {
	local src dst
	"$@" SRC &
	src=$!
	"$@" DST &
	dst=$!
	wait "$src" || {
		wait "$dst" || true
		return 1
	}
	wait "$dst"
}

# dr_install SIDE: the database and the generator; DR_AVOID (kind=value or
# kind, separated by ;) leaves values or kinds out of the pools.
dr_install() {
	pg_sql "$1" postgres "create database $DR_DB" >/dev/null
	pg_psql "$1" "$DR_DB" -f "$DR_SQL" >/dev/null
	if [ -n "${DR_AVOID:-}" ]; then
		pg_psql "$1" "$DR_DB" -v avoid="$DR_AVOID" <<<"select diffrand.avoid(string_to_array(:'avoid', ';'))" >/dev/null
	fi
}

dr_make_types() {
	pg_sql "$1" "$DR_DB" "select diffrand.make_types('$1')" >/dev/null
}

dr_build() {
	pg_sql "$1" "$DR_DB" "select diffrand.build('$1')" >/dev/null
}

dr_fingerprint() {
	pg_psql "$1" "$DR_DB" -c "copy (select * from diffrand.fingerprint()) to stdout" >"$DR_TMP/fp.$1"
}

# dr_generate SEED CASES LARGE: database rand on SRC and DST with CASES tables
# drawn from SEED (LARGE of them over 50000 rows), filled alike, mutated on
# DST, and both sides' fingerprints in DST's diffrand schema.
dr_generate() {
	local seed=$1 cases=$2 large=$3
	dr_both dr_install
	pg_sql SRC "$DR_DB" "select diffrand.plan($seed, $cases, $large)" >/dev/null
	pg_psql SRC "$DR_DB" -c "copy diffrand.cases to stdout" |
		pg_psql DST "$DR_DB" -c "copy diffrand.cases from stdin"
	dr_both dr_make_types
	dr_both dr_build
	pg_sql DST "$DR_DB" "select diffrand.mutate($seed)" >/dev/null
	dr_both dr_fingerprint
	pg_psql DST "$DR_DB" -c "copy diffrand.fp_src from stdin" <"$DR_TMP/fp.SRC"
	pg_psql DST "$DR_DB" -c "copy diffrand.fp_dst from stdin" <"$DR_TMP/fp.DST"
}

# dr_drop: the database gone from both sides, for the next seed.
dr_drop() {
	PGOPTIONS="-c client_min_messages=warning" pg_sql SRC postgres "drop database if exists $DR_DB"
	PGOPTIONS="-c client_min_messages=warning" pg_sql DST postgres "drop database if exists $DR_DB"
}

# dr_diff MODE FILE [OPTION]...: migkit diff --MODE --retries 0 --json over
# the generated tables (diffrand's own left out), its report in FILE and
# its exit status in FILE.rc; the report goes into DST's diffrand.report.
dr_diff() {
	local mode=$1 file=$2 rc=0
	shift 2
	SRCPG="host=127.0.0.1 port=$SRC_PORT user=postgres dbname=$DR_DB" \
		DSTPG="host=127.0.0.1 port=$DST_PORT user=postgres dbname=$DR_DB" \
		MIGKIT_EXCLUDE='["diffrand.*"]' \
		"$MIGKIT" diff "--$mode" --retries 0 --json "$@" >"$file" 2>"$file.err" || rc=$?
	echo "$rc" >"$file.rc"
	# No report (an error): the checks find every case missing from it.
	jq -e . "$file" >/dev/null 2>&1 || return 0
	# One line of CSV whose quote and delimiter characters JSON never holds raw.
	{
		printf '%s\037' "$mode"
		jq -c . "$file"
	} | pg_psql DST "$DR_DB" -c "copy diffrand.report (mode, doc) from stdin with (format csv, delimiter e'\\x1f', quote e'\\x1e')"
}

# dr_check CHECK [ARG]: the lines of diffrand.check_CHECK(ARG), one per disagreement.
dr_check() {
	local arg=${2:+"'$2'"}
	pg_sql DST "$DR_DB" "select * from diffrand.check_$1($arg)"
}
