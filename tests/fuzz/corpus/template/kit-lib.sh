# shellcheck shell=bash
# kit/lib.sh: what every script of a migkit kit shares, so that each script
# holds only its own SQL.  It loads the kit's context, parses the common
# options, shows SQL before running it and asks, runs psql the one safe way,
# keeps the journal, and maps every failure to exit status 2.
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
MK_JSON_PARTS=()
# The migration's table set (kit/tables.sql): use as a subquery, with
# "${MK_TABLE_VARS[@]}" on the psql command line for its two variables.
# shellcheck disable=SC2034
MK_TABLES_SQL=$(<"$MK_KIT/kit/tables.sql")
MK_TABLE_VARS=()

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	MK_RED=$'\e[31m' MK_GREEN=$'\e[32m' MK_YELLOW=$'\e[33m' MK_BOLD=$'\e[1m' MK_RESET=$'\e[0m'
else
	MK_RED='' MK_GREEN='' MK_YELLOW='' MK_BOLD='' MK_RESET=''
fi

# die MESSAGE: the one way a script stops on an error (exit 2).
die() {
	printf '%s: %s\n' "$MK_SCRIPT" "$*" >&2
	exit 2
}

warn() {
	printf '%s: %swarning:%s %s\n' "$MK_SCRIPT" "$MK_YELLOW" "$MK_RESET" "$*" >&2
}

# say TEXT: human output, silent under --json.
say() {
	[ "$MK_JSON" = 1 ] || printf '%s\n' "$*"
}

heading() {
	[ "$MK_JSON" = 1 ] || printf '\n%s== %s ==%s\n' "$MK_BOLD" "$*" "$MK_RESET"
}

# negative MESSAGE: a finding that makes the answer "no" (exit 1).
negative() {
	MK_STATUS=1
	[ "$MK_JSON" = 1 ] || printf '%sBLOCKER:%s %s\n' "$MK_RED" "$MK_RESET" "$*"
	MK_JSON_FINDINGS+=("$(json_string "$*")")
}
MK_JSON_FINDINGS=()

# good MESSAGE: a check that passed.
good() {
	[ "$MK_JSON" = 1 ] || printf '%sok:%s %s\n' "$MK_GREEN" "$MK_RESET" "$*"
}

# note MESSAGE: something the operator must know or handle by hand.
note() {
	[ "$MK_JSON" = 1 ] || printf '%snote:%s %s\n' "$MK_YELLOW" "$MK_RESET" "$*"
	MK_JSON_NOTES+=("$(json_string "$*")")
}
MK_JSON_NOTES=()

# json_string TEXT: TEXT as a JSON string.
json_string() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	s=${s//$'\r'/\\r}
	printf '"%s"' "$s"
}

# The journal: one line per run (UTC time, script, exit, seconds, arguments).
mk_journal() {
	local rc=$1 t1 args
	t1=$(date +%s%N)
	args=
	[ "${#MK_ORIG_ARGS[@]}" -eq 0 ] || args=$(printf '%q ' "${MK_ORIG_ARGS[@]}")
	mkdir -p "$MK_KIT/log"
	printf '%s\t%s\texit=%s\t%d.%03ds\t%s\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$MK_SCRIPT" "$rc" \
		$(((t1 - MK_T0) / 1000000000)) $((((t1 - MK_T0) / 1000000) % 1000)) "${args% }" \
		>>"$MK_KIT/log/journal" 2>/dev/null || true
}

mk_on_exit() {
	local rc=$?
	mk_journal "$rc"
	exit "$rc"
}

# Loads this kit's activate unless a context is active; refuses another kit's.
mk_load_context() {
	local active
	if [ -n "${MIGRATION_CONTEXT:-}" ]; then
		active=$(cd "${DIRPATH:-/nonexistent}" 2>/dev/null && pwd -P) || active=
		if [ "$active" != "$MK_KIT" ]; then
			die "the active context is $MIGRATION_CONTEXT (${DIRPATH:-?}), not this kit ($MK_KIT): source $MK_KIT/activate or start a new shell"
		fi
		return 0
	fi
	# shellcheck source=/dev/null
	MK_LOADING=1 . "$MK_KIT/activate" || die "cannot load $MK_KIT/activate"
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
	# shellcheck disable=SC2034
	MK_TABLE_VARS=(-v "include=${MIGKIT_INCLUDE:-[]}" -v "exclude=${MIGKIT_EXCLUDE:-[]}")
	MK_T0=$(date +%s%N)
	trap mk_on_exit EXIT
}

# usage_error MESSAGE
usage_error() {
	printf '%s: %s\nTry "%s --help" for more information.\n' "$MK_SCRIPT" "$1" "$MK_SCRIPT" >&2
	exit 2
}

# mk_no_args: the script takes no arguments beyond the common options.
mk_no_args() {
	[ "${#MK_ARGS[@]}" -eq 0 ] || usage_error "unexpected argument '${MK_ARGS[0]}'"
}

# side_conn SRC|DST: the connection string of a side.
side_conn() {
	case $1 in
	SRC) printf '%s' "$SRCPG" ;;
	DST) printf '%s' "$DSTPG" ;;
	*) die "internal: unknown side $1" ;;
	esac
}

side_label() {
	case $1 in
	SRC) printf 'SRC (%s/%s at %s)' "$SRCCLS" "$SRCDB" "$SRCIP" ;;
	DST) printf 'DST (%s/%s at %s)' "$DSTCLS" "$DSTDB" "$DSTIP" ;;
	esac
}

# check_conn SIDE: one line naming the side and the server's reason when it is unreachable.
check_conn() {
	local err
	if ! err=$(psql -X -w -At -d "$(side_conn "$1")" -c 'select 1' 2>&1 >/dev/null); then
		err=${err#psql: error: }
		die "cannot connect to $(side_label "$1"): ${err//$'\n'/ }"
	fi
}

# can_connect SIDE: true when the side answers (no message).
can_connect() {
	psql -X -w -At -d "$(side_conn "$1")" -c 'select 1' >/dev/null 2>&1
}

# run_sql SIDE [psql options...]: psql the one safe way; SQL on stdin or -c/-f.
# A failure has already been reported by psql with the server's message.
run_sql() {
	local side=$1
	shift
	psql -X -w -v ON_ERROR_STOP=1 -q -d "$(side_conn "$side")" "$@" ||
		die "stopped: the SQL on $side failed (see the message above)"
}

# query SIDE [psql options...]: unaligned, tuples only, for values scripts read.
query() {
	local side=$1
	shift
	run_sql "$side" -At "$@"
}

# section KEY TITLE SIDE [psql -v options...] <<SQL: one report section.  The
# query (no trailing semicolon) is printed as a table, or under --json added
# to the document as "KEY": [rows...].
section() {
	local key=$1 title=$2 side=$3 sql out
	shift 3
	sql=$(cat)
	if [ "$MK_JSON" = 1 ]; then
		out=$(printf 'select coalesce(json_agg(t), %s) from (\n%s\n) t\n' "'[]'" "$sql" | query "$side" "$@")
		MK_JSON_PARTS+=("$(json_string "$key"):$out")
	else
		heading "$title"
		printf '%s\n' "$sql" | run_sql "$side" -P footer=off -P null='-' "$@"
		printf 'select case count(*) when 1 then %s else format(%s, count(*)) end from (\n%s\n) t\n' "'(1 row)'" "'(%s rows)'" "$sql" | query "$side" "$@"
	fi
}

# json_value KEY JSON: adds a ready JSON value to the --json document.
json_value() {
	MK_JSON_PARTS+=("$(json_string "$1"):$2")
}

# finish: prints the --json document and exits with the script's answer.
finish() {
	local IFS=,
	if [ "$MK_JSON" = 1 ]; then
		printf '{"script":%s,"context":%s,"status":%d,"blockers":[%s],"notes":[%s]%s%s}\n' \
			"$(json_string "$MK_SCRIPT")" "$(json_string "$MIGRATION_CONTEXT")" "$MK_STATUS" \
			"${MK_JSON_FINDINGS[*]}" "${MK_JSON_NOTES[*]}" \
			"${MK_JSON_PARTS[*]:+,}" "${MK_JSON_PARTS[*]}"
	fi
	exit "$MK_STATUS"
}

# plan SIDE FILE [psql -v options...] <<SQL: runs a read-only query whose rows are
# SQL statements and writes them to sql/FILE, so what is shown is exactly
# what will run.  Prints the number of statements.
plan() {
	local side=$1 file=$MK_KIT/sql/$2
	shift 2
	query "$side" "$@" >"$file.tmp" || die "cannot plan $2"
	mv "$file.tmp" "$file"
	grep -c . "$file" || true
}

# show FILE SIDE: prints the planned SQL with where it will run.
show() {
	printf '%s-- %s will run on %s:%s\n' "$MK_BOLD" "$MK_SCRIPT" "$(side_label "$2")" "$MK_RESET"
	cat "$MK_KIT/sql/$1"
}

# confirm QUESTION: yes with -y/MIGKIT_YES=1; under --dry-run stops here (0);
# with no terminal and no -y refuses rather than hangs (2); "no" exits 1.
confirm() {
	local answer
	if [ "$MK_DRYRUN" = 1 ]; then
		say "dry run: nothing was changed"
		exit 0
	fi
	[ "$MK_YES" = 1 ] && return 0
	[ -t 0 ] || die "no terminal to ask \"$1\": run it with -y to answer yes, or -n to only show it"
	read -r -p "$1 [y/N] " answer
	case $answer in
	y | Y | yes | YES) return 0 ;;
	*)
		say "nothing was changed"
		exit 1
		;;
	esac
}

# apply FILE SIDE: runs sql/FILE on SIDE in one transaction.
apply() {
	run_sql "$2" -1 -f "$MK_KIT/sql/$1"
}

# try_sql FILE SIDE: runs sql/FILE on SIDE statement by statement, outside a
# transaction block (for what cannot run inside one, such as CREATE or DROP
# SUBSCRIPTION with a slot).  On failure returns 1 with the server's reason,
# on one line and without psql's prefixes, in MK_SQL_ERROR; the caller words
# the error.  Notices are passed on to stderr.
try_sql() {
	local err rc=0
	err=$(psql -X -w -v ON_ERROR_STOP=1 -q -d "$(side_conn "$2")" -f "$MK_KIT/sql/$1" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" -eq 0 ]; then
		[ -z "$err" ] || printf '%s\n' "$err" >&2
		return 0
	fi
	MK_SQL_ERROR=$(printf '%s\n' "$err" | sed -e 's/^psql:[^ ]*: //' -e 's/^\(psql: error: \)//' |
		{ grep -v '^\(NOTICE\|WARNING\|HINT\|DETAIL\|CONTEXT\|LINE [0-9]*\):' || true; } |
		sed -e 's/^\(ERROR\|FATAL\): *//' | tr -s ' \t\n' ' ')
	MK_SQL_ERROR=${MK_SQL_ERROR% }
	return 1
}
MK_SQL_ERROR=

# pass_options FLAGS VALUED OPTIONAL: checks the script's own arguments
# (MK_ARGS) against the options of the migkit helper it wraps, so a typo is
# this script's usage error, and leaves them in HELPER_ARGS.  Each list is
# space-separated: FLAGS take no value, VALUED take one (--opt V or
# --opt=V), OPTIONAL take a number when one follows (--watch [SEC]).
# The helper checks the values themselves.
pass_options() {
	local flags=" $1 " valued=" $2 " optional=" $3 "
	HELPER_ARGS=()
	set -- "${MK_ARGS[@]}"
	while [ $# -gt 0 ]; do
		case $1 in
		--*=*)
			[[ $valued$optional == *" ${1%%=*} "* ]] || usage_error "unknown option '${1%%=*}'"
			HELPER_ARGS+=("$1")
			;;
		-*)
			if [[ $flags == *" $1 "* ]]; then
				HELPER_ARGS+=("$1")
			elif [[ $valued == *" $1 "* ]]; then
				[ $# -ge 2 ] || usage_error "option $1 needs a value"
				HELPER_ARGS+=("$1" "$2")
				shift
			elif [[ $optional == *" $1 "* ]]; then
				HELPER_ARGS+=("$1")
				if [[ ${2:-} =~ ^[0-9]+([.][0-9]+)?$ ]]; then
					HELPER_ARGS+=("$2")
					shift
				fi
			else
				usage_error "unknown option '$1'"
			fi
			;;
		*) usage_error "unexpected argument '$1'" ;;
		esac
		shift
	done
	[ "$MK_JSON" = 0 ] || HELPER_ARGS+=(--json)
}
