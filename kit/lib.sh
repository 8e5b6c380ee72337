# shellcheck shell=bash
# kit/lib.sh: what every script of a migkit kit shares, so that each script
# holds only its own SQL.  It loads the kit's context, parses the common
# options, shows SQL before running it and asks, runs psql the one safe way,
# picks the variant of a shared SQL file (kit/sql/) for a server's version,
# keeps the journal and the records in data/ that "report" reads, and maps
# every failure to exit status 2.  Every function here is named mk_*.
#
# Exit status of every script: 0 done / all good, 1 a negative answer
# (blocker found, differences, not in sync, declined), 2 error.

MK_SCRIPT=$(basename "$0")
MK_KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
MK_YES=${MIGKIT_YES:-0}
MK_DRYRUN=0
MK_JSON=0
MK_STATUS=0
MK_ARGS=()
MK_ORIG_ARGS=()
MK_JSON_PARTS=()
MK_JSON_FINDINGS=()
MK_JSON_NOTES=()
MK_SQL_ERROR=
MK_RECORD=0
MK_TEMP_FILES=()

# Every connection the kit opens says which script of the kit it is
# (pg_stat_activity shows it), unless its connection string names another
# application_name; ddl-freeze's event trigger on SRC lets DDL through only
# from these.  PgBouncer passes application_name on, as it would not a
# startup option.
export PGAPPNAME="migkit/$MK_SCRIPT"

# The shared SQL, for use as subqueries: the database's own relations
# (kit/sql/relations.sql) and among them the migration's tables (those
# in_migration: oid, qualified, schema_name, name, partitioned), both with
# "${MK_TABLE_VARS[@]}" on the psql command line; and the subscription of
# the current database (kit/sql/subscription.sql, psql variable sub).
# shellcheck disable=SC2034
MK_RELATIONS_SQL=$(<"$MK_KIT/kit/sql/relations.sql")
# shellcheck disable=SC2034
MK_TABLES_SQL="select r.oid, r.qualified, r.schema_name, r.name, r.partitioned
  from ($MK_RELATIONS_SQL) r
 where r.in_migration"
# shellcheck disable=SC2034
MK_SUB_SQL=$(<"$MK_KIT/kit/sql/subscription.sql")
MK_PARTITION_TREE_SQL=$(<"$MK_KIT/kit/sql/partition-tree.sql")
MK_TABLE_VARS=()

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	MK_RED=$'\e[31m' MK_GREEN=$'\e[32m' MK_YELLOW=$'\e[33m' MK_BOLD=$'\e[1m' MK_RESET=$'\e[0m'
else
	MK_RED='' MK_GREEN='' MK_YELLOW='' MK_BOLD='' MK_RESET=''
fi

# mk_die MESSAGE: the one way a script stops on an error (exit 2).
mk_die() {
	printf '%s: %s\n' "$MK_SCRIPT" "$*" >&2
	exit 2
}

# mk_pg_tool NAME [MAJOR]: the PostgreSQL client program NAME to run: the
# first of PG_BINDIR, the installed majors under /usr/lib/postgresql
# (newest first), pg_config --bindir and PATH whose major is at least MAJOR
# (default any).  Debian's psql in PATH is a Perl wrapper that costs
# 25 ms a call before it runs the newest of those; the kit runs the program
# itself.
mk_pg_tool() {
	local name=$1 min=${2:-0} dir bin major majors=()
	for dir in /usr/lib/postgresql/*/bin; do
		major=${dir#/usr/lib/postgresql/}
		major=${major%/bin}
		[[ $major =~ ^[0-9]+$ ]] && majors+=("$major")
	done
	mapfile -t majors < <(printf '%s\n' "${majors[@]}" | sort -nr)
	for dir in "${PG_BINDIR:-}" "${majors[@]/#/major:}" pg_config PATH; do
		major=
		case $dir in
		'') continue ;;
		major:*) major=${dir#major:} dir=/usr/lib/postgresql/$major/bin ;;
		pg_config) dir=$(pg_config --bindir 2>/dev/null) || continue ;;
		esac
		if [ "$dir" = PATH ]; then bin=$(command -v "$name" || true); else bin=$dir/$name; fi
		if [ -z "$bin" ] || [ ! -x "$bin" ]; then continue; fi
		if [ "$min" -gt 0 ] && [ -z "$major" ]; then
			major=$("$bin" --version 2>/dev/null | awk '{ print $3 }')
			major=${major%%.*}
		fi
		if [ "$min" -eq 0 ] || [ "$major" -ge "$min" ] 2>/dev/null; then
			printf '%s' "$bin"
			return 0
		fi
	done
	if [ "$min" -gt 0 ]; then
		mk_die "no $name of PostgreSQL $min or later found in PG_BINDIR, /usr/lib/postgresql/*/bin, pg_config --bindir or PATH: install it (e.g. postgresql-client-$min) or set PG_BINDIR to its bin directory"
	fi
	mk_die "no $name found in PG_BINDIR, /usr/lib/postgresql/*/bin, pg_config --bindir or PATH: install the PostgreSQL client (e.g. postgresql-client) or set PG_BINDIR to its bin directory"
}

mk_warn() {
	printf '%s: %swarning:%s %s\n' "$MK_SCRIPT" "$MK_YELLOW" "$MK_RESET" "$*" >&2
}

# mk_say TEXT: human output, silent under --json.
mk_say() {
	[ "$MK_JSON" = 1 ] || printf '%s\n' "$*"
}

mk_heading() {
	[ "$MK_JSON" = 1 ] || printf '\n%s== %s ==%s\n' "$MK_BOLD" "$*" "$MK_RESET"
}

# mk_negative MESSAGE: a finding that makes the answer "no" (exit 1).
mk_negative() {
	MK_STATUS=1
	[ "$MK_JSON" = 1 ] || printf '%sBLOCKER:%s %s\n' "$MK_RED" "$MK_RESET" "$*"
	MK_JSON_FINDINGS+=("$(mk_json_string "$*")")
}

# mk_good MESSAGE: a check that passed.
mk_good() {
	[ "$MK_JSON" = 1 ] || printf '%sok:%s %s\n' "$MK_GREEN" "$MK_RESET" "$*"
}

# mk_note MESSAGE: something the operator must know or handle by hand.
mk_note() {
	[ "$MK_JSON" = 1 ] || printf '%snote:%s %s\n' "$MK_YELLOW" "$MK_RESET" "$*"
	MK_JSON_NOTES+=("$(mk_json_string "$*")")
}

# mk_json_string TEXT: TEXT as a JSON string: ", \ and every control
# character escaped (the text may come from the data).
mk_json_string() {
	local s=$1 out='' c i
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	s=${s//$'\r'/\\r}
	if [[ $s == *[$'\x01'-$'\x1f'$'\x7f']* ]]; then
		for ((i = 0; i < ${#s}; i++)); do
			c=${s:i:1}
			case $c in
			[$'\x01'-$'\x1f'$'\x7f']) printf -v c '\\u%04x' "'$c" ;;
			esac
			out+=$c
		done
		s=$out
	fi
	printf '"%s"' "$s"
}

# mk_journal_line NAME RC MS [ARGS]: one line of log/journal (UTC time,
# script or step, exit status, seconds, arguments).
mk_journal_line() {
	mkdir -p "$MK_KIT/log"
	printf '%s\t%s\texit=%s\t%d.%03ds\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" \
		$(($3 / 1000)) $(($3 % 1000)) "${4:-}" >>"$MK_KIT/log/journal" 2>/dev/null || true
}

mk_on_exit() {
	local rc=$? t1 args=
	t1=$(date +%s%N)
	[ "${#MK_TEMP_FILES[@]}" -eq 0 ] || rm -f "${MK_TEMP_FILES[@]}"
	[ "${#MK_ORIG_ARGS[@]}" -eq 0 ] || args=$(printf '%q ' "${MK_ORIG_ARGS[@]}")
	mk_journal_line "$MK_SCRIPT" "$rc" $(((t1 - MK_T0) / 1000000)) "${args% }"
	exit "$rc"
}

# Loads this kit's activate unless a context is active; refuses another kit's.
mk_load_context() {
	local active
	if [ -n "${MIGRATION_CONTEXT:-}" ]; then
		active=$(cd "${DIRPATH:-/nonexistent}" 2>/dev/null && pwd -P) || active=
		if [ "$active" != "$MK_KIT" ]; then
			mk_die "the active context is $MIGRATION_CONTEXT (${DIRPATH:-?}), not this kit ($MK_KIT): source $MK_KIT/activate or start a new shell"
		fi
		return 0
	fi
	# shellcheck source=/dev/null
	MK_LOADING=1 . "$MK_KIT/activate" || mk_die "cannot load $MK_KIT/activate"
}

# mk_init USAGE "$@": common options; the script's own are left in MK_ARGS.
# USAGE is the script's --help text.
mk_init() {
	local usage=$1
	shift
	MK_ORIG_ARGS=("$@")
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help)
			printf '%s\n' "$usage"
			printf '\nCommon options:\n  -y, --yes      answer yes (also MIGKIT_YES=1)\n  -n, --dry-run  show what would run and stop\n      --json     machine-readable output where the script has it\n  -h, --help     show this help\n\nExit status: 0 done / all good, 1 a negative answer, 2 error.\n'
			exit 0
			;;
		-y | --yes) MK_YES=1 ;;
		-n | --dry-run) MK_DRYRUN=1 ;;
		--json) MK_JSON=1 ;;
		--) shift; MK_ARGS+=("$@"); break ;;
		*) MK_ARGS+=("$1") ;;
		esac
		shift
	done
	mk_load_context
	# The psql every query of the kit runs (the scripts one runs inherit it).
	if [ -z "${MK_PSQL:-}" ]; then
		MK_PSQL=$(mk_pg_tool psql) || exit 2
		export MK_PSQL
	fi
	# The checks' findings are kept: data/checks.jsonl, a line per run.
	case $MK_SCRIPT in check-*) MK_RECORD=1 ;; esac
	# shellcheck disable=SC2034
	MK_TABLE_VARS=(-v "include=${MIGKIT_INCLUDE:-[]}" -v "exclude=${MIGKIT_EXCLUDE:-[]}" -v 'pick=[]')
	MK_T0=$(date +%s%N)
	trap mk_on_exit EXIT
}

# mk_usage_error MESSAGE
mk_usage_error() {
	printf '%s: %s\nTry "%s --help" for more information.\n' "$MK_SCRIPT" "$1" "$MK_SCRIPT" >&2
	exit 2
}

# mk_no_args: the script takes no arguments beyond the common options.
mk_no_args() {
	[ "${#MK_ARGS[@]}" -eq 0 ] || mk_usage_error "unexpected argument '${MK_ARGS[0]}'"
}

# mk_side_conn SRC|DST: the connection string of a side.
mk_side_conn() {
	case $1 in
	SRC) printf '%s' "$SRCPG" ;;
	DST) printf '%s' "$DSTPG" ;;
	*) mk_die "internal: unknown side $1" ;;
	esac
}

mk_side_label() {
	case $1 in
	SRC) printf 'SRC (%s/%s at %s)' "$SRCCLS" "$SRCDB" "$SRCIP" ;;
	DST) printf 'DST (%s/%s at %s)' "$DSTCLS" "$DSTDB" "$DSTIP" ;;
	esac
}

# mk_psql_error FILE: the server's reason from psql's messages in FILE, on
# one line, without psql's prefixes and the notices around it.
mk_psql_error() {
	local err
	err=$(sed -e 's/^psql:[^ ]*: //' -e 's/^\(psql: error: \)//' "$1" |
		{ grep -v '^\(NOTICE\|WARNING\|HINT\|DETAIL\|CONTEXT\|LINE [0-9]*\|QUERY\):' || true; } |
		sed -e 's/^\(ERROR\|FATAL\): *//' | tr -s ' \t\n' ' ')
	err=${err% }
	[ -n "$err" ] || err=$(tail -n 1 "$1")
	printf '%s' "$err"
}

# mk_check_conn SIDE: one line naming the side and the server's reason when
# it is unreachable.  The server's version is recorded (mk_record_version).
mk_check_conn() {
	local tmp rc=0 version
	tmp=$(mktemp)
	version=$("$MK_PSQL" -X -w -At -d "$(mk_side_conn "$1")" \
		-c "select pg_catalog.current_setting('server_version_num') || ' ' || pg_catalog.current_setting('server_version')" 2>"$tmp") || rc=$?
	if [ "$rc" != 0 ]; then
		MK_SQL_ERROR=$(mk_psql_error "$tmp")
		rm -f "$tmp"
		mk_die "cannot connect to $(mk_side_label "$1"): $MK_SQL_ERROR"
	fi
	rm -f "$tmp"
	mk_record_version "$1" "$version"
}

# mk_now: the time (UTC) as the records have it, to the millisecond.
mk_now() {
	date -u +%Y-%m-%dT%H:%M:%S.%3NZ
}

# mk_json_args: the script's arguments as a JSON array.
mk_json_args() {
	local a parts=() IFS=,
	for a in "${MK_ORIG_ARGS[@]}"; do parts+=("$(mk_json_string "$a")"); done
	printf '[%s]' "${parts[*]}"
}

# mk_record FILE JSON: appends JSON to data/FILE (mode 0600) as one line
# (a newline in a JSON document is only ever between tokens: psql's
# json_agg puts some there), one of the records "report" reads; a failure
# is a warning, not the script's.
mk_record() {
	# tr, not ${2//...}: bash's substitution is quadratic in a document of
	# megabytes (check-repl's at 10,000 tables took 27 s).
	(umask 077 && { printf '%s' "$2" | tr '\n' ' ' && echo; } >>"$MK_KIT/data/$1") 2>/dev/null ||
		mk_warn "cannot append to $MK_KIT/data/$1: the report will lack this run"
}

# mk_record_version SIDE "NUM TEXT": the server's version, appended to
# data/versions.jsonl when it is not the one last recorded for SIDE.
mk_record_version() {
	local num=${2%% *} text=${2#* } line file=$MK_KIT/data/versions.jsonl last=
	[[ $num =~ ^[0-9]+$ ]] || return 0
	line=$(printf '{"at":%s,"side":%s,"server_version_num":%s,"server_version":%s,"script":%s}' \
		"$(mk_json_string "$(mk_now)")" "$(mk_json_string "$1")" "$num" "$(mk_json_string "$text")" \
		"$(mk_json_string "$MK_SCRIPT")")
	[ ! -f "$file" ] || last=$(grep -F "\"side\":$(mk_json_string "$1")," "$file" | tail -n 1) || true
	[[ $last == *"\"server_version_num\":$num,\"server_version\":$(mk_json_string "$text"),"* ]] ||
		mk_record versions.jsonl "$line"
}

# mk_keep_run NAME STARTED STATUS FILE: keeps a helper's run as
# data/NAME-TIME.json: when it started and ended, the script's arguments,
# its exit status and the helper's --json document (FILE, written with
# --json-file; null when it wrote none).  FILE is removed.
mk_keep_run() {
	local name=$1 started=$2 status=$3 doc=$4 stamp out first=
	# The document is copied as it is, not read into the shell: at 10,000
	# sequences it is 2 MB.
	[ ! -s "$doc" ] || read -r -n 1 first <"$doc" || true
	stamp=${started//[-:]/}
	out=$MK_KIT/data/$name-$stamp.json
	[ ! -e "$out" ] || out=$MK_KIT/data/$name-$stamp-$$.json
	(umask 077 && {
		printf '{"script":%s,"started_at":%s,"finished_at":%s,"args":%s,"exit":%d,"result":' \
			"$(mk_json_string "$MK_SCRIPT")" "$(mk_json_string "$started")" "$(mk_json_string "$(mk_now)")" \
			"$(mk_json_args)" "$status"
		if [ "$first" = '{' ]; then cat "$doc"; else printf 'null'; fi
		printf '}\n'
	} >"$out.tmp" && mv "$out.tmp" "$out") 2>/dev/null ||
		mk_warn "cannot write $out: the report will lack this run"
	rm -f "$doc"
}

# mk_temp_file VAR: a new empty file in data/ (mode 0600) named in VAR,
# removed when the script ends.
mk_temp_file() {
	local f
	f=$(mktemp "$MK_KIT/data/.$MK_SCRIPT.XXXXXX") || mk_die "cannot create a file in $MK_KIT/data"
	MK_TEMP_FILES+=("$f")
	printf -v "$1" '%s' "$f"
}

# mk_can_connect SIDE: true when the side answers (no message).
mk_can_connect() {
	"$MK_PSQL" -X -w -At -d "$(mk_side_conn "$1")" -c 'select 1' >/dev/null 2>&1
}

# mk_identity SIDE: which database SIDE is (kit/sql/identity.sql): its
# cluster's system identifier and its name, as "SYSID NAME".
mk_identity() {
	mk_query "$1" <<<"select i.identity from ($(<"$MK_KIT/kit/sql/identity.sql")) i"
}

# mk_distinct_sides: refuses (exit 2) SRC and DST being one database.
mk_distinct_sides() {
	[ "$(mk_identity SRC)" != "$(mk_identity DST)" ] ||
		mk_die "SRC and DST are the same database: check the src_* and dst_* settings in migration.yml"
}

# mk_run_sql SIDE [psql options...]: psql the one safe way; SQL on stdin or -c/-f.
# A failure has already been reported by psql with the server's message.
mk_run_sql() {
	local side=$1 arg input=(-f -)
	shift
	# JIT is off in the kit's sessions: the catalog queries' row estimates
	# at thousands of tables cost seconds of compiling for milliseconds of
	# work.  A session option would be refused by a pooler, so it is the
	# first command, before the caller's (-c, -f, or the script on stdin).
	for arg in "$@"; do
		case $arg in
		-c* | -f* | --command* | --file*)
			input=()
			break
			;;
		esac
	done
	"$MK_PSQL" -X -w -v ON_ERROR_STOP=1 -q -d "$(mk_side_conn "$side")" -c 'set jit = off' "${input[@]}" "$@" ||
		mk_die "stopped: the SQL on $side failed (see the message above)"
}

# mk_query SIDE [psql options...]: unaligned, tuples only, for values scripts read.
mk_query() {
	local side=$1
	shift
	mk_run_sql "$side" -At "$@"
}

# mk_load_major SIDE: sets MK_MAJOR_SIDE to the major version of SIDE's
# server (once).
mk_load_major() {
	local var="MK_MAJOR_$1"
	[ -n "${!var:-}" ] ||
		printf -v "$var" '%s' "$(mk_query "$1" -c "select pg_catalog.current_setting('server_version_num')::int / 10000")"
}

# mk_psql_set_from_file VAR FILE: the psql line that sets the variable VAR
# to FILE's content, for a value too long for the command line (-v VAR=...
# is one argument, at most 128 KiB); the query then reads :'VAR'.
mk_psql_set_from_file() {
	# The backquotes are psql's: it runs cat when it reads the line.
	# shellcheck disable=SC2016
	printf '\\set %s `cat %q`\n' "$1" "$2"
}

# mk_materialized SIDE: "materialized " where SIDE's server knows the word
# (12 and later; before, every CTE is materialized anyway): a CTE the
# planner must compute once, not per row of the query around it.
mk_materialized() {
	local var="MK_MAJOR_$1"
	mk_load_major "$1"
	[ "${!var}" -lt 12 ] || printf 'materialized '
}

# mk_sql_file NAME SIDE: the path of kit/sql/NAME.sql for SIDE's server:
# the variant NAME-pgNN.sql with the smallest NN at least its major when
# there is one (as the C helpers choose), else NAME.sql.
mk_sql_file() {
	local name=$1 side=$2 var="MK_MAJOR_$2" major f nn best='' bestnn=''
	mk_load_major "$side"
	major=${!var}
	for f in "$MK_KIT/kit/sql/$name"-pg*.sql; do
		[ -e "$f" ] || continue
		nn=${f##*-pg}
		nn=${nn%.sql}
		[[ $nn =~ ^[0-9]+$ ]] || continue
		if [ "$nn" -ge "$major" ] && { [ -z "$bestnn" ] || [ "$nn" -lt "$bestnn" ]; }; then
			best=$f bestnn=$nn
		fi
	done
	printf '%s' "${best:-$MK_KIT/kit/sql/$name.sql}"
}

# mk_section KEY TITLE SIDE [psql -v options...] <<SQL: one report section.  The
# query (no trailing semicolon) is printed as a table, or under --json added
# to the document as "KEY": [rows...].
mk_section() {
	local key=$1 title=$2 side=$3 sql out
	shift 3
	sql=$(cat)
	# A script that keeps its findings (MK_RECORD) has the document either way.
	if [ "$MK_JSON" = 1 ] || [ "$MK_RECORD" = 1 ]; then
		out=$(printf 'select coalesce(json_agg(t), %s) from (\n%s\n) t\n' "'[]'" "$sql" | mk_query "$side" "$@")
		MK_JSON_PARTS+=("$(mk_json_string "$key"):$out")
	fi
	if [ "$MK_JSON" = 0 ]; then
		mk_heading "$title"
		# psql's own footer gives the number of rows: the query runs once.
		printf '%s\n' "$sql" | mk_run_sql "$side" -P null='-' "$@" | sed '${/^$/d}'
	fi
}

# mk_json_value KEY JSON: adds a ready JSON value to the --json document.
mk_json_value() {
	MK_JSON_PARTS+=("$(mk_json_string "$1"):$2")
}

# mk_finish: prints the --json document and exits with the script's answer.
# A check (MK_RECORD) appends the document to data/checks.jsonl, with when
# it ran and its arguments.
mk_finish() {
	local IFS=, doc
	doc=$(printf '{"script":%s,"context":%s,"status":%d,"blockers":[%s],"notes":[%s]%s%s}' \
		"$(mk_json_string "$MK_SCRIPT")" "$(mk_json_string "$MIGRATION_CONTEXT")" "$MK_STATUS" \
		"${MK_JSON_FINDINGS[*]}" "${MK_JSON_NOTES[*]}" \
		"${MK_JSON_PARTS[*]:+,}" "${MK_JSON_PARTS[*]}")
	[ "$MK_RECORD" = 0 ] || mk_record checks.jsonl "{\"at\":$(mk_json_string "$(mk_now)"),\"args\":$(mk_json_args),${doc#\{}"
	[ "$MK_JSON" = 0 ] || printf '%s\n' "$doc"
	exit "$MK_STATUS"
}

# mk_plan SIDE FILE [psql -v options...] <<SQL: runs a read-only query whose rows are
# SQL statements and writes them to sql/FILE, so what is shown is exactly
# what will run.  Prints the number of statements.
mk_plan() {
	local side=$1 file=$MK_KIT/sql/$2
	shift 2
	mk_query "$side" "$@" >"$file.tmp" || mk_die "cannot plan $2"
	mv "$file.tmp" "$file"
	grep -c . "$file" || true
}

# mk_show FILE SIDE: prints the planned SQL with where it will run.
mk_show() {
	printf '%s-- %s will run on %s:%s\n' "$MK_BOLD" "$MK_SCRIPT" "$(mk_side_label "$2")" "$MK_RESET"
	cat "$MK_KIT/sql/$1"
}

# mk_confirm QUESTION: yes with -y/MIGKIT_YES=1; under --dry-run stops here (0);
# with no terminal and no -y refuses rather than hangs (2); "no" exits 1.
mk_confirm() {
	local answer
	if [ "$MK_DRYRUN" = 1 ]; then
		mk_say "dry run: nothing was changed"
		exit 0
	fi
	[ "$MK_YES" = 1 ] && return 0
	[ -t 0 ] || mk_die "no terminal to ask \"$1\": run it with -y to answer yes, or -n to only show it"
	read -r -p "$1 [y/N] " answer
	case $answer in
	y | Y | yes | YES) return 0 ;;
	*)
		mk_say "nothing was changed"
		exit 1
		;;
	esac
}

# mk_apply FILE SIDE: runs sql/FILE on SIDE in one transaction.
mk_apply() {
	mk_run_sql "$2" -1 -f "$MK_KIT/sql/$1"
}

# mk_try_sql SIDE [psql options...]: runs SQL (-f FILE or stdin) on SIDE;
# its rows (unaligned) are left in MK_SQL_OUT.  On failure returns psql's
# status with the server's reason, on one line and without psql's
# prefixes, in MK_SQL_ERROR: the caller words the error.  Notices are
# passed on to stderr.  It sets variables: not for a command substitution.
mk_try_sql() {
	local side=$1 tmp rc=0
	shift
	tmp=$(mktemp -d)
	"$MK_PSQL" -X -w -q -At -v ON_ERROR_STOP=1 -d "$(mk_side_conn "$side")" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	MK_SQL_OUT=$(<"$tmp/out")
	if [ "$rc" = 0 ]; then
		[ ! -s "$tmp/err" ] || cat "$tmp/err" >&2
	else
		MK_SQL_ERROR=$(mk_psql_error "$tmp/err")
	fi
	rm -rf "$tmp"
	return "$rc"
}
# shellcheck disable=SC2034
MK_SQL_OUT=

# mk_pass_options FLAGS VALUED OPTIONAL: checks the script's own arguments
# (MK_ARGS) against the options of the migkit helper it wraps, so a typo is
# this script's usage error, and leaves them in HELPER_ARGS.  Each list is
# space-separated: FLAGS take no value, VALUED take one (--opt V or
# --opt=V), OPTIONAL take a number when one follows (--watch [SEC]).
# The helper checks the values themselves.
mk_pass_options() {
	local flags=" $1 " valued=" $2 " optional=" $3 "
	HELPER_ARGS=()
	set -- "${MK_ARGS[@]}"
	while [ $# -gt 0 ]; do
		case $1 in
		--*=*)
			[[ $valued$optional == *" ${1%%=*} "* ]] || mk_usage_error "unknown option '${1%%=*}'"
			HELPER_ARGS+=("$1")
			;;
		-*)
			if [[ $flags == *" $1 "* ]]; then
				HELPER_ARGS+=("$1")
			elif [[ $valued == *" $1 "* ]]; then
				[ $# -ge 2 ] || mk_usage_error "option $1 needs a value"
				HELPER_ARGS+=("$1" "$2")
				shift
			elif [[ $optional == *" $1 "* ]]; then
				HELPER_ARGS+=("$1")
				if [[ ${2:-} =~ ^[0-9]+([.][0-9]+)?$ ]]; then
					HELPER_ARGS+=("$2")
					shift
				fi
			else
				mk_usage_error "unknown option '$1'"
			fi
			;;
		*) mk_usage_error "unexpected argument '$1'" ;;
		esac
		shift
	done
	[ "$MK_JSON" = 0 ] || HELPER_ARGS+=(--json)
}

# mk_app_roles SIDE: the application's roles on SIDE that exist there
# (kit/sql/app-roles.sql), as a JSON array of names.
mk_app_roles() {
	mk_query "$1" -v app_roles="${MIGKIT_APP_ROLES:-[]}" -v admin="$MIGKIT_ADMIN_USER" -v repl="$MIGKIT_REPL_USER" <<SQL
select coalesce(json_agg(a.role order by a.role), '[]') from ($(<"$MK_KIT/kit/sql/app-roles.sql")) a where a.present
SQL
}

# mk_unfenceable SIDE: the application's roles a fence on SIDE's database
# cannot hold, each with why, on one line; nothing when every one can be.
mk_unfenceable() {
	mk_query "$1" -v app_roles="${MIGKIT_APP_ROLES:-[]}" -v admin="$MIGKIT_ADMIN_USER" -v repl="$MIGKIT_REPL_USER" <<SQL
select string_agg(a.role || ' (' || concat_ws(', ',
         case when not a.present then 'no such role' end,
         case when a.kit_user then 'a user of the kit itself' end,
         case when a.superuser then 'a superuser: no privilege holds it' end,
         case when a.owns_database then 'owns the database: it may grant itself CONNECT again' end,
         case when a.createrole then 'has CREATEROLE: it may make itself a member of a role that connects' end) || ')',
       '; ' order by a.role)
  from ($(<"$MK_KIT/kit/sql/app-roles.sql")) a
 where not a.present or a.kit_user or a.superuser or a.owns_database or a.createrole
SQL
}

# mk_fence_record SIDE ROLES: the record of a fence of ROLES (a JSON array
# of names) on SIDE's database, taken before it is put up
# (kit/sql/fence-record.sql).
mk_fence_record() {
	mk_query "$1" -v todo="$2" -v context="$MIGRATION_CONTEXT" \
		-v admin="$MIGKIT_ADMIN_USER" -v repl="$MIGKIT_REPL_USER" -f "$MK_KIT/kit/sql/fence-record.sql"
}

# mk_partition_tree EXPR: the query of kit/sql/partition-tree.sql for the
# table whose oid EXPR gives (a column of the query it goes into).
mk_partition_tree() {
	printf '%s' "${MK_PARTITION_TREE_SQL//:\'root\'/$1}"
}

# mk_create_publication_sql "SIDES" TABLES: the query giving the statement
# that creates a publication (psql variables pub, all_tables) of the
# relations TABLES (a query with columns oid and qualified)
# (kit/sql/create-publication.sql), in the variant for the oldest server of
# SIDES ("SRC", or "SRC DST" for the way back): publisher and subscriber
# must both handle it (a subscriber before 13 cannot apply into a
# partitioned root).
mk_create_publication_sql() {
	local side file major var oldest='' best=''
	for side in $1; do
		mk_load_major "$side"
		var=MK_MAJOR_$side
		file=$(mk_sql_file create-publication "$side")
		major=${!var}
		if [ -z "$oldest" ] || [ "$major" -lt "$oldest" ]; then
			oldest=$major
			best=$file
		fi
	done
	printf 'with migration_tables as (%s)\n%s' "$2" "$(<"$best")"
}

# mk_json_field JSON FILTER: a field of a helper's --json document (jq).
mk_json_field() {
	command -v jq >/dev/null || mk_die "jq is not installed: the kit reads the helpers' --json with it (apt-get install jq)"
	jq -r "$2" <<<"$1"
}

# mk_killed_switch NAME: the step during which a switch-over NAME (cutover,
# rollback) was killed, when its record data/NAME.run is left and the run
# is gone (kit/switch.sh keeps it); false otherwise.
mk_killed_switch() {
	local f=$MK_KIT/data/$1.run pid step
	[ -f "$f" ] || return 1
	pid=$(sed -n 's/^pid=//p' "$f")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		return 1
	fi
	step=$(sed -n 's/^begun=//p' "$f" | tail -n 1)
	printf '%s' "${step:-its start}"
}
