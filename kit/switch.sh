# shellcheck shell=bash
# kit/switch.sh: what cutover and rollback share.  Both move the
# application from one side (FROM) to the other (TO) in the same steps:
# checks made before anything changes, a fence on FROM, a wait until TO has
# applied everything FROM committed before the fence, sequences, a last
# verification, the re-routing hook, and a report.  Each step is shown,
# timed and journaled here; what a failure before re-routing undoes is
# registered by the caller as the steps go (sw_on_abort) and run by
# sw_abort.  Sourced after kit/lib.sh, once mk_init has run.

SW_NAME=$MK_SCRIPT
SW_STEP_NAMES=()
SW_STEP_MS=()
SW_STEP_RC=()
SW_STEP_DETAIL=()
SW_STEP_NAME=
SW_STEP_T0=
SW_STARTED_AT=
SW_FENCE_MS=
SW_FENCE_LSN=
SW_APPLIED_LSN=
SW_ERROR=
SW_BLOCKERS=()
SW_SEQ_JSON=null
SW_VERIFY_JSON=null
SW_VERIFY_STATUS=
SW_UNDO=()
SW_REPORT=

# The reverse direction's objects: a publication on DST, and a subscription
# on SRC whose slot lives on DST.
# shellcheck disable=SC2034
SW_RPUB=${PUBNAME}_reverse SW_RSUB=${SUBNAME}_reverse

# The options cutover and rollback share (sw_parse_options).
SW_CATCHUP_MS=30000
SW_SHIFT=${MIGKIT_SEQ_SHIFT:-0}
SW_VERIFY=count
SW_GLOBS=()
SW_REST=()

# sw_us: the time in microseconds (no fork: the timings are of
# milliseconds); EPOCHREALTIME's separator is the locale's.
sw_us() {
	local LC_ALL=C
	printf '%s' "${EPOCHREALTIME/[.,]/}"
}

# sw_ms FROM_US [TO_US]: milliseconds between two sw_us readings.
sw_ms() {
	local to=${2:-$(sw_us)}
	printf '%d' $(((to - $1) / 1000))
}

# sw_out: where step output goes: stdout, or stderr under --json so that
# stdout holds the report alone.
sw_out() {
	if [ "$MK_JSON" = 1 ]; then cat >&2; else cat; fi
}

# sw_parse_options "$@": the options both switch-overs take; the others
# are left in SW_REST for the caller.
sw_parse_options() {
	while [ $# -gt 0 ]; do
		case $1 in
		--catchup-timeout | --shift | --verify | --checksum)
			[ $# -ge 2 ] || mk_usage_error "$1 needs a value"
			set -- "$1=$2" "${@:3}"
			continue
			;;
		--catchup-timeout=*)
			SW_CATCHUP_MS=$(sw_seconds "${1#*=}") || SW_CATCHUP_MS=0
			[ "$SW_CATCHUP_MS" -gt 0 ] || mk_usage_error "--catchup-timeout takes seconds (e.g. 30 or 2.5), not '${1#*=}'"
			;;
		--shift=*)
			SW_SHIFT=${1#*=}
			[[ $SW_SHIFT =~ ^[0-9]+$ ]] || mk_usage_error "--shift takes a whole number >= 0, not '$SW_SHIFT'"
			;;
		--verify=count | --verify=none) SW_VERIFY=${1#*=} ;;
		--verify=*) mk_usage_error "--verify takes count or none, not '${1#*=}'" ;;
		--checksum=*) SW_GLOBS+=("${1#*=}") ;;
		*) SW_REST+=("$1") ;;
		esac
		shift
	done
	[ "$SW_VERIFY" = count ] || [ "${#SW_GLOBS[@]}" -eq 0 ] || mk_usage_error "--verify none and --checksum exclude each other"
}

# sw_begin STEP DESCRIPTION: starts and announces a step.
sw_begin() {
	SW_STEP_NAME=$1
	SW_STEP_T0=$(sw_us)
	printf '\n%s== %s: %s ==%s\n' "$MK_BOLD" "$1" "$2" "$MK_RESET" | sw_out
}

# sw_end RC [DETAIL]: ends the current step: its time is shown, journaled and
# kept for the report.
sw_end() {
	local rc=$1 detail=${2:-} ms
	ms=$(sw_ms "$SW_STEP_T0")
	mk_journal_line "$SW_NAME:$SW_STEP_NAME" "$rc" "$ms"
	SW_STEP_NAMES+=("$SW_STEP_NAME")
	SW_STEP_MS+=("$ms")
	SW_STEP_RC+=("$rc")
	SW_STEP_DETAIL+=("$detail")
	if [ "$rc" = 0 ]; then
		printf '%s%s%s %s ms%s\n' "$MK_GREEN" "$SW_STEP_NAME: done" "$MK_RESET" "$ms" "${detail:+ ($detail)}" | sw_out
	else
		printf '%s%s%s after %s ms%s\n' "$MK_RED" "$SW_STEP_NAME: failed" "$MK_RESET" "$ms" "${detail:+: $detail}" | sw_out
	fi
}

# sw_blocker MESSAGE: a preflight finding that stops the switch-over.
sw_blocker() {
	SW_BLOCKERS+=("$1")
	mk_negative "$1"
}

# sw_end_preflight: ends the preflight step; with blockers, refuses (exit 1).
sw_end_preflight() {
	if [ "${#SW_BLOCKERS[@]}" -gt 0 ]; then
		sw_end 1 "${#SW_BLOCKERS[@]} blocker(s)"
		printf '%s: refused: %d blocker(s) above; nothing was changed\n' "$MK_SCRIPT" "${#SW_BLOCKERS[@]}" >&2
		mk_finish
	fi
	sw_end 0
}

# sw_run_hook SCRIPT ARGS...: runs a script of this kit (a hook or another
# step) with -y; its output joins ours.
sw_run_hook() {
	local script=$1
	shift
	MIGKIT_YES=1 "$MK_KIT/$script" "$@" -y | sw_out
	return "${PIPESTATUS[0]}"
}

# sw_sql VAR SIDE [psql options...]: runs SQL (-f FILE, or stdin) and puts its
# rows (unaligned) in VAR; on failure returns 1 with the server's reason, on
# one line, in SW_ERROR.  Not for a command substitution: it sets variables.
sw_sql() {
	local var=$1 side=$2 rc=0
	shift 2
	mk_try_sql "$side" "$@" || rc=$?
	printf -v "$var" '%s' "$MK_SQL_OUT"
	[ "$rc" = 0 ] || SW_ERROR="on $side: $MK_SQL_ERROR"
	return "$rc"
}

# sw_on_abort FUNCTION: what sw_abort must undo once this step has begun
# (FUNCTION returns 0 when undone); run in the reverse order.
sw_on_abort() {
	SW_UNDO+=("$1")
}

# sw_arm_abort REPORT: from now on, Ctrl-C or a failure (sw_abort) undoes
# what was done and reports with REPORT (called as REPORT STATUS).
sw_arm_abort() {
	SW_REPORT=$1
	trap 'SW_ERROR="interrupted"; sw_abort "${SW_STEP_NAME:-start}"' INT TERM
}

# sw_abort STEP: undoes the registered steps, reports, exits 1 (2 when
# something could not be undone, which a warning names).
sw_abort() {
	local step=$1 rc=0 i
	trap - INT TERM
	[ -n "$SW_ERROR" ] || SW_ERROR="$step failed"
	sw_begin undo "$SW_UNDO_WHAT"
	for ((i = ${#SW_UNDO[@]} - 1; i >= 0; i--)); do
		"${SW_UNDO[$i]}" || rc=2
	done
	sw_end "$rc"
	"$SW_REPORT" aborted
	printf '%s: aborted at %s: %s\n' "$MK_SCRIPT" "$step" "$SW_ERROR" >&2
	[ "$rc" != 0 ] || printf '%s: %s\n' "$MK_SCRIPT" "$SW_UNDONE_SAYS" >&2
	exit 1
}
SW_UNDO_WHAT=
SW_UNDONE_SAYS=

# sw_hook_written HOOK: false while HOOK is still the default the kit ships
# (it carries the line MIGKIT_DEFAULT_HOOK=1).
sw_hook_written() {
	[ -x "$MK_KIT/$1" ] && ! grep -q '^MIGKIT_DEFAULT_HOOK=1' "$MK_KIT/$1"
}

# sw_check_admin SIDE: the admin user must see every session (to wait for
# the application's) and end them: a superuser, or pg_read_all_stats and
# pg_signal_backend.
sw_check_admin() {
	local ok
	ok=$(mk_query "$1" <<'SQL'
select r.rolsuper or (pg_catalog.pg_has_role('pg_read_all_stats', 'member')
                      and pg_catalog.pg_has_role('pg_signal_backend', 'member'))
  from pg_catalog.pg_roles r where r.rolname = current_user
SQL
)
	[ "$ok" = t ] ||
		sw_blocker "$MIGKIT_ADMIN_USER on $1 can neither see nor end the application's sessions: make it a superuser, or grant it pg_read_all_stats and pg_signal_backend"
}

# sw_check_streaming SUB FROM_CONN TO_CONN [HEARTBEAT]: migkit progress's
# verdict on the subscription SUB (on TO, reading FROM): every table of the
# migration is in it and streams, its worker runs, and the lag is within
# lag_max_bytes and lag_max_seconds: the very check copy-progress --wait
# makes, so that the two always agree.
sw_check_streaming() {
	local sub=$1 from=$2 to=$3 hb=${4:-false} out rc=0 reason
	out=$(MIGKIT_HEARTBEAT=$hb "$MIGKIT_BIN" progress --json --sub "$sub" --src "$from" --dst "$to" 2>&1) || rc=$?
	case $rc in
	0) mk_good "subscription $sub streams every table of the migration; $(mk_json_field "$out" '"lag \(.lag.bytes) bytes (lag_max_bytes \(.lag.max_bytes))"')" ;;
	1)
		while IFS= read -r reason; do
			sw_blocker "subscription $sub is not in sync: $reason"
		done < <(mk_json_field "$out" '.why[]')
		;;
	*) sw_blocker "migkit progress on subscription $sub failed: ${out//$'\n'/ }" ;;
	esac
}

# sw_check_writable FROM TO ROLES [FENCE_FILE]: on TO, each application role
# exists, may log in and connect to the database, is not read-only by
# default, and holds every write privilege it holds on FROM (INSERT, UPDATE,
# DELETE on the migration's tables, USAGE on their schemas, USAGE or UPDATE
# on their sequences).  A fence recorded in FENCE_FILE is the kit's own on
# TO, which the switch-over lifts: CONNECT it took is no blocker.
sw_check_writable() {
	local from=$1 to=$2 roles=$3 fenced='[]' held problems
	[ -z "${4:-}" ] || [ ! -f "$4" ] || fenced=$(<"$4")
	# What the roles hold grows with the schema: it goes to TO through a
	# file, not on psql's command line.
	held=$(mktemp "$MK_KIT/log/held.XXXXXX")
	mk_query "$from" -v roles="$roles" "${MK_TABLE_VARS[@]}" >"$held" <<SQL
with t as ($MK_TABLES_SQL),
     r as (select x.name from jsonb_array_elements_text(:'roles'::jsonb) as x(name)
            where exists (select 1 from pg_catalog.pg_roles where rolname = x.name)),
     obj as (select 'table' as kind, t.qualified as name,
                    array['INSERT', 'UPDATE', 'DELETE'] as privs
               from t
             union all
             select distinct 'schema', t.schema_name, array['USAGE'] from t
             union all
             select 'sequence', format('%I.%I', n.nspname, c.relname), array['USAGE', 'UPDATE']
               from pg_catalog.pg_class c
               join pg_catalog.pg_namespace n on n.oid = c.relnamespace
              where c.relkind = 'S' and n.nspname in (select schema_name from t))
select coalesce(json_agg(json_build_object('role', r.name, 'kind', obj.kind, 'name', obj.name, 'priv', p.priv)), '[]')
  from r cross join obj cross join lateral unnest(obj.privs) as p(priv)
 where case obj.kind
       when 'table' then pg_catalog.has_table_privilege(r.name, obj.name, p.priv)
       when 'schema' then pg_catalog.has_schema_privilege(r.name, obj.name, p.priv)
       else pg_catalog.has_sequence_privilege(r.name, obj.name, p.priv)
       end
SQL
	problems=$({
		mk_psql_set_from_file held "$held"
		cat <<'SQL'
with r as (select x.name, p.oid, p.rolcanlogin
             from jsonb_array_elements_text(:'roles'::jsonb) as x(name)
             left join pg_catalog.pg_roles p on p.rolname = x.name),
     db as (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database()),
     fence as (select f.role from json_to_recordset(coalesce(:'fenced'::json -> 'roles', '[]')) as f(role text)),
     ro as (select s.setrole, s.setdatabase
              from pg_catalog.pg_db_role_setting s, unnest(s.setconfig) as c
             where c ~* '^default_transaction_read_only=(on|true|yes|1)$'),
     held as (select h.role, h.kind, h.name, h.priv
                from json_to_recordset(:'held'::json) as h(role text, kind text, name text, priv text)),
     missing as (
       select h.role, h.kind, h.name, string_agg(h.priv, '/' order by h.priv) as privs
         from held h join r on r.name = h.role and r.oid is not null
        where case h.kind
              when 'table' then pg_catalog.to_regclass(h.name) is null
                                or not pg_catalog.has_table_privilege(h.role, h.name, h.priv)
              when 'schema' then not exists (select 1 from pg_catalog.pg_namespace where nspname = h.name)
                                 or not pg_catalog.has_schema_privilege(h.role, h.name, h.priv)
              else pg_catalog.to_regclass(h.name) is null
                   or not pg_catalog.has_sequence_privilege(h.role, h.name, h.priv)
              end
        group by h.role, h.kind, h.name)
select msg from (
  select 1 as k, r.name as o, format('role %s does not exist', r.name) as msg from r where r.oid is null
  union all
  select 2, r.name, format('role %s may not log in (NOLOGIN)', r.name) from r where r.oid is not null and not r.rolcanlogin
  union all
  select 2, r.name, format('role %s may not connect to this database (GRANT CONNECT ON DATABASE ...)', r.name)
    from r where r.oid is not null and r.name not in (select role from fence)
             and not pg_catalog.has_database_privilege(r.oid, (select oid from db), 'CONNECT')
  union all
  select 3, r.name, format('role %s is read-only by default in this database (default_transaction_read_only)', r.name)
    from r where exists (select 1 from ro where ro.setrole = r.oid and ro.setdatabase = (select oid from db))
  union all
  select 3, r.name, format('role %s is read-only by default (ALTER ROLE ... SET default_transaction_read_only)', r.name)
    from r where exists (select 1 from ro where ro.setrole = r.oid and ro.setdatabase = 0)
  union all
  select 4, '', 'the database is read-only by default (ALTER DATABASE ... SET default_transaction_read_only)'
   where exists (select 1 from ro where ro.setrole = 0 and ro.setdatabase = (select oid from db))
  union all
  select 4, '', 'the server is a standby (in recovery): it takes no writes' where pg_catalog.pg_is_in_recovery()
  union all
  select 5, m.role || m.kind || m.name,
         format('role %s lacks %s on %s %s', m.role, m.privs, m.kind, m.name)
    from missing m
) p order by k, o
SQL
	} | mk_query "$to" -v roles="$roles" -v fenced="$fenced")
	rm -f "$held"
	if [ -z "$problems" ]; then
		mk_good "$to takes the application's writes: $(mk_query "$to" -v roles="$roles" <<<"select string_agg(x, ', ') from jsonb_array_elements_text(:'roles'::jsonb) x") hold there what they hold on $from"
		return 0
	fi
	local n line shown=0
	n=$(printf '%s\n' "$problems" | wc -l)
	while IFS= read -r line; do
		shown=$((shown + 1))
		if [ "$shown" -gt 10 ]; then
			sw_blocker "on $to: and $((n - 10)) more such privileges missing"
			break
		fi
		sw_blocker "on $to: $line"
	done <<<"$problems"
}

# sw_plan_catchup TO SUB: what the catch-up on TO needs, found before the
# fence: the subscription's oid (SW_SUBID) and the query of its apply
# worker for TO's server (SW_WORKER_SQL, kit/sql/apply-worker.sql with the
# oid as $1).  Returns 1 with SW_ERROR when the subscription is not there.
sw_plan_catchup() {
	local sql
	sw_sql SW_SUBID "$1" -v sub="$2" <<<"select s.oid from ($MK_SUB_SQL) s" || return 1
	[ -n "$SW_SUBID" ] || { SW_ERROR="subscription $2 does not exist on $1"; return 1; }
	sql=$(<"$(mk_sql_file apply-worker "$1")")
	SW_WORKER_SQL=${sql//:\'subid\'/\$1}
}
SW_SUBID=
SW_WORKER_SQL=

# sw_seconds TEXT: TEXT (seconds, a fraction allowed) as milliseconds, or
# nothing when it is not such a number.
sw_seconds() {
	local whole frac
	[[ $1 =~ ^([0-9]+)(\.([0-9]{1,3}))?$ ]] || return 1
	whole=${BASH_REMATCH[1]} frac=${BASH_REMATCH[3]}
	frac=${frac}000
	printf '%d' $((10#$whole * 1000 + 10#${frac:0:3}))
}

# sw_ms_text MS: milliseconds as seconds for SQL ("1.250").
sw_ms_text() {
	printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# sw_catchup FROM TO ROLES TIMEOUT_MS [FENCE_RECORD]: the catch-up step
# (kit/sql/catchup-fence-lsn.sql on FROM, catchup-applied.sql on TO, after
# sw_plan_catchup); the fence's time is that of the record
# (data/fence.json, data/fence-dst.json) when there is one.  Sets
# SW_FENCE_LSN and SW_APPLIED_LSN, or returns 1 with SW_ERROR.
sw_catchup() {
	local from=$1 to=$2 roles=$3 timeout=$4 fenced_at='' t0 left
	t0=$(sw_us)
	[ -z "${5:-}" ] || [ ! -f "$5" ] ||
		fenced_at=$(sed -n 's/.*"fenced_at" *: *"\([^"]*\)".*/\1/p' "$5")
	sw_sql SW_FENCE_LSN "$from" -v roles="$roles" -v fenced_at="$fenced_at" -v timeout="$(sw_ms_text "$timeout")" \
		-f "$MK_KIT/kit/sql/catchup-fence-lsn.sql" || {
		SW_ERROR="no fence position on $from within $(sw_ms_text "$timeout") s: ${SW_ERROR#on "$from": }"
		return 1
	}
	mk_say "fence on $from at LSN $SW_FENCE_LSN: every transaction the application saw committed there ends before it" | sw_out
	left=$((timeout - $(sw_ms "$t0")))
	[ "$left" -gt 0 ] || left=0
	sw_sql SW_APPLIED_LSN "$to" -v subid="$SW_SUBID" -v worker_sql="$SW_WORKER_SQL" -v fence_lsn="$SW_FENCE_LSN" \
		-v timeout="$(sw_ms_text "$left")" -f "$MK_KIT/kit/sql/catchup-applied.sql" || {
		SW_ERROR="$to did not catch up with $from within $(sw_ms_text "$timeout") s (--catchup-timeout): ${SW_ERROR#on "$to": }"
		return 1
	}
	mk_say "$to has applied and committed $from's changes up to LSN $SW_APPLIED_LSN" | sw_out
}

# sw_check_seq ARGS...: migkit seq --dry-run ARGS: every sequence can be
# read on one side and set on the other, none is missing, none collides.
sw_check_seq() {
	local rc=0 out err=$MK_KIT/log/$SW_NAME-seq-plan.err
	out=$("$MIGKIT_BIN" seq --dry-run "$@" --json 2>"$err") || rc=$?
	case $rc in
	0) mk_good "the sequences can be copied: $(mk_json_field "$out" '"\(.to_copy) sequence(s) would be copied"')" ;;
	1) sw_blocker "migkit seq --dry-run $* finds sequences missing or colliding: $(mk_json_field "$out" '[(.src_only[] | "\(.) only on SRC"), (.check.collisions[] | "\(.sequence) collides with \(.table).\(.column)")] | .[:5] | join(", ")')" ;;
	*) sw_blocker "migkit seq --dry-run $* failed: $(tail -n 3 "$err" | tr -s '\n' ' ')" ;;
	esac
}

# sw_seq ARGS...: migkit seq ARGS --json; the document is kept for the
# report.  Returns seq's exit status.
sw_seq() {
	local rc=0 out err=$MK_KIT/log/$SW_NAME-seq.err n=0
	out=$("$MIGKIT_BIN" seq "$@" --json 2>"$err") || rc=$?
	sw_out <"$err"
	case $out in
	'{'*)
		SW_SEQ_JSON=$out
		n=$(mk_json_field "$out" '.copied')
		;;
	*) SW_SEQ_JSON=null ;;
	esac
	mk_say "migkit seq $*: exit $rc, $n sequence(s) set (each one's values are in the report)" | sw_out
	return "$rc"
}

# sw_verify MODE [GLOB...]: the last verification: migkit diff --count when
# MODE is count, and --checksum on the tables matching the GLOBs, between
# the sides of SW_DIFF_SIDES (FROM as --src, TO as --dst: a sequence the
# copy has set ahead on TO is no difference, one behind is: --after-fence).
# Nothing is re-checked: after
# the catch-up a difference is no replication lag.  The results are kept
# for the report.  Returns 0 equal, 1 different, 2 error.
sw_verify() {
	local mode=$1 rc=0 out g args=() parts=() err=$MK_KIT/log/$SW_NAME-diff.err
	shift
	if [ "$mode" = count ]; then
		out=$("$MIGKIT_BIN" diff --count --retries 0 --after-fence "${SW_DIFF_SIDES[@]}" --json 2>"$err") || rc=$?
		sw_out <"$err"
		case $out in '{'*) parts+=("\"count\":$out") ;; esac
		mk_say "row counts and sequences: $(sw_diff_word "$rc")" | sw_out
	fi
	if [ "$rc" = 0 ] && [ $# -gt 0 ]; then
		for g in "$@"; do args+=(--table "$g"); done
		out=$("$MIGKIT_BIN" diff --checksum --retries 0 --after-fence "${args[@]}" "${SW_DIFF_SIDES[@]}" --json 2>"$err") || rc=$?
		sw_out <"$err"
		case $out in '{'*) parts+=("\"checksum\":$out") ;; esac
		mk_say "checksums of $*: $(sw_diff_word "$rc")" | sw_out
	fi
	local IFS=,
	SW_VERIFY_JSON="{${parts[*]}}"
	SW_VERIFY_STATUS=$(sw_diff_word "$rc")
	return "$rc"
}
# The sides migkit diff compares, as --src and --dst options (none: SRC, DST).
SW_DIFF_SIDES=()

sw_diff_word() {
	case $1 in
	0) printf 'equal' ;;
	1) printf 'different' ;;
	*) printf 'error' ;;
	esac
}

sw_json_or_null() {
	if [ -n "$1" ]; then mk_json_string "$1"; else printf 'null'; fi
}

# sw_report FILE STATUS [KEY JSON]...: writes the report to data/FILE and
# prints it: as lines, or the document itself under --json.
sw_report() {
	local name=$1 file=$MK_KIT/data/$1 status=$2 extra=() steps=() i doc
	shift 2
	while [ $# -ge 2 ]; do
		extra+=("$(mk_json_string "$1"):$2")
		shift 2
	done
	for i in "${!SW_STEP_NAMES[@]}"; do
		steps+=("{\"step\":$(mk_json_string "${SW_STEP_NAMES[$i]}"),\"ms\":${SW_STEP_MS[$i]},\"exit\":${SW_STEP_RC[$i]},\"detail\":$(sw_json_or_null "${SW_STEP_DETAIL[$i]}")}")
	done
	doc=$(
		IFS=,
		printf '{"script":%s,"context":%s,"status":%s,"started_at":%s,"fence_window_ms":%s,"fence_lsn":%s,"applied_lsn":%s,"steps":[%s],"sequences":%s,"verification":{"result":%s,"details":%s},"error":%s%s%s}' \
			"$(mk_json_string "$SW_NAME")" "$(mk_json_string "$MIGRATION_CONTEXT")" "$(mk_json_string "$status")" \
			"$(mk_json_string "$SW_STARTED_AT")" "${SW_FENCE_MS:-null}" \
			"$(sw_json_or_null "$SW_FENCE_LSN")" "$(sw_json_or_null "$SW_APPLIED_LSN")" \
			"${steps[*]}" "$SW_SEQ_JSON" "$(sw_json_or_null "$SW_VERIFY_STATUS")" "$SW_VERIFY_JSON" \
			"$(sw_json_or_null "$SW_ERROR")" "${extra[*]:+,}" "${extra[*]}"
	)
	printf '%s\n' "$doc" >"$file.tmp" && mv "$file.tmp" "$file"
	if [ "$MK_JSON" = 1 ]; then
		printf '%s\n' "$doc"
		return 0
	fi
	mk_heading "Report (data/$name)"
	printf '%-24s %s\n' status "$status"
	[ -z "$SW_FENCE_MS" ] || printf '%-24s %s ms\n' "write fence window" "$SW_FENCE_MS"
	[ -z "$SW_FENCE_LSN" ] || printf '%-24s %s\n' "fence LSN" "$SW_FENCE_LSN"
	[ -z "$SW_APPLIED_LSN" ] || printf '%-24s %s\n' "applied LSN" "$SW_APPLIED_LSN"
	[ -z "$SW_VERIFY_STATUS" ] || printf '%-24s %s\n' verification "$SW_VERIFY_STATUS"
	for i in "${!SW_STEP_NAMES[@]}"; do
		printf '%-24s %s ms%s\n' "  ${SW_STEP_NAMES[$i]}" "${SW_STEP_MS[$i]}" \
			"$([ "${SW_STEP_RC[$i]}" = 0 ] || printf ' (failed, exit %s)' "${SW_STEP_RC[$i]}")"
	done
	[ -z "$SW_ERROR" ] || printf '%-24s %s\n' error "$SW_ERROR"
}
