# shellcheck shell=bash
# kit/switch.sh: what cutover and rollback share.  Both move the
# application from one side (FROM) to the other (TO) in the same steps:
# checks made before anything changes, a fence on FROM, a wait until TO has
# applied everything FROM committed before the fence, sequences, a last
# verification, the re-routing hook, and a report.  Each step is shown,
# timed and journaled here; what a failure before re-routing undoes is the
# caller's (cutover_abort, rollback_abort).  Sourced after kit/lib.sh, once
# mk_init has run.

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

# The reverse direction's objects: a publication on DST, and a subscription
# on SRC whose slot lives on DST.
# shellcheck disable=SC2034
SW_RPUB=${PUBNAME}_reverse SW_RSUB=${SUBNAME}_reverse

# sw_us: the time in microseconds (no fork: the timings are of milliseconds).
sw_us() {
	printf '%s' "${EPOCHREALTIME/./}"
}

# sw_ms FROM_US [TO_US]: milliseconds between two sw_us readings.
sw_ms() {
	local to=${2:-$(sw_us)}
	printf '%d' $(((to - $1) / 1000))
}

# sw_journal STEP RC MS: one line of log/journal for a step run inside this
# script (the scripts it calls write their own).
sw_journal() {
	mkdir -p "$MK_KIT/log"
	printf '%s\t%s:%s\texit=%s\t%d.%03ds\t\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SW_NAME" "$1" "$2" \
		$(($3 / 1000)) $(($3 % 1000)) >>"$MK_KIT/log/journal" 2>/dev/null || true
}

# sw_out: where step output goes: stdout, or stderr under --json so that
# stdout holds the report alone.
sw_out() {
	if [ "$MK_JSON" = 1 ]; then cat >&2; else cat; fi
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
	sw_journal "$SW_STEP_NAME" "$rc" "$ms"
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
	negative "$1"
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
	local var=$1 side=$2 tmp rc=0
	shift 2
	tmp=$(mktemp -d)
	psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$(side_conn "$side")" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	printf -v "$var" '%s' "$(<"$tmp/out")"
	if [ "$rc" != 0 ]; then
		SW_ERROR=$(sed -n -e 's/^psql:[^ ]*: //' -e 's/^psql: error: //' -e 's/^\(ERROR\|FATAL\): *//p' "$tmp/err" | head -n 1)
		[ -n "$SW_ERROR" ] || SW_ERROR=$(tail -n 1 "$tmp/err")
		SW_ERROR="on $side: $SW_ERROR"
	fi
	rm -rf "$tmp"
	return "$rc"
}

# sw_end_fenced_sessions SIDE RECORD: ends the sessions of the fenced roles
# that were opened on SIDE while the fence recorded in RECORD (the JSON of
# data/fence.json or data/fence-dst.json) stood; run once it is lifted.  A
# role's read-only setting is read when its session starts: lifting the
# fence leaves those sessions read-only, and a pooler (PgBouncer, a driver's
# pool) would go on handing them out.  Ended, they are opened again,
# writable.  A session is ended only once it is between transactions: one
# ended while still logging in makes PgBouncer wait server_login_retry
# (15 s) before it tries again.  The passes go on for 0.3 s at least (a
# session may be logging in as the fence is lifted, read-only yet not shown
# under its role), and end whatever is left after 3 s.  Prints how many.
sw_end_fenced_sessions() {
	local out
	sw_sql out "$1" -v fence="$2" <<'SQL' || return 1
select pg_catalog.set_config('migkit.fence', :'fence', false) \g /dev/null
do $$
declare
    f record;
    lifted timestamptz := pg_catalog.statement_timestamp();
    ended int := 0;
    n int;
    left_over boolean;
begin
    select * into f
      from json_to_record(pg_catalog.current_setting('migkit.fence')::json)
           as r(database text, fenced_at timestamptz, roles json);
    loop
        perform pg_catalog.pg_stat_clear_snapshot();
        select count(pg_catalog.pg_terminate_backend(a.pid)) filter (
                   where a.state in ('idle', 'idle in transaction (aborted)')
                      or pg_catalog.clock_timestamp() > lifted + interval '3 s'),
               count(*) > 0
          into n, left_over
          from pg_catalog.pg_stat_activity a
         where a.datname = f.database
           and a.pid <> pg_catalog.pg_backend_pid()
           and a.backend_start >= f.fenced_at and a.backend_start <= lifted
           and a.usename in (select r.role from json_to_recordset(f.roles) as r(role text));
        ended := ended + n;
        exit when not left_over and pg_catalog.clock_timestamp() > lifted + interval '0.3 s';
        exit when pg_catalog.clock_timestamp() > lifted + interval '3.1 s';
        perform pg_catalog.pg_sleep(0.02);
    end loop;
    perform pg_catalog.set_config('migkit.ended', ended::text, false);
end
$$;
select pg_catalog.current_setting('migkit.ended');
SQL
	printf '%s' "$out"
}

# sw_hook_written HOOK: false while HOOK is still the default the kit ships
# (it carries the line MIGKIT_DEFAULT_HOOK=1).
sw_hook_written() {
	[ -x "$MK_KIT/$1" ] && ! grep -q '^MIGKIT_DEFAULT_HOOK=1' "$MK_KIT/$1"
}

# sw_app_roles SIDE: the application's roles as a JSON array: app_roles of
# migration.yml, else (as disable-src does) every LOGIN role on SIDE that is
# not a superuser, not the kit's admin or replication user and has no
# REPLICATION.
sw_app_roles() {
	if [ "${MIGKIT_APP_ROLES:-[]}" != '[]' ]; then
		printf '%s\n' "$MIGKIT_APP_ROLES"
		return 0
	fi
	query "$1" -v admin="$MIGKIT_ADMIN_USER" -v repl="$MIGKIT_REPL_USER" <<'SQL'
select coalesce(json_agg(r.rolname order by r.rolname), '[]')
  from pg_catalog.pg_roles r
 where r.rolcanlogin and not r.rolsuper and not r.rolreplication
   and r.rolname <> all (array[:'admin', :'repl']) and r.rolname !~ '^pg_'
SQL
}

# sw_check_admin SIDE: the admin user must see every session (to wait for
# the application's) and end them: a superuser, or pg_read_all_stats and
# pg_signal_backend.
sw_check_admin() {
	local ok
	ok=$(query "$1" <<'SQL'
select r.rolsuper or (pg_catalog.pg_has_role('pg_read_all_stats', 'member')
                      and pg_catalog.pg_has_role('pg_signal_backend', 'member'))
  from pg_catalog.pg_roles r where r.rolname = current_user
SQL
)
	[ "$ok" = t ] ||
		sw_blocker "$MIGKIT_ADMIN_USER on $1 can neither see nor end the application's sessions: make it a superuser, or grant it pg_read_all_stats and pg_signal_backend"
}

# sw_check_streaming SIDE SUB SLOTSIDE: the subscription SUB on SIDE streams
# every table (all 'r'), its worker runs, and what its slot on SLOTSIDE has
# not confirmed is under lag_max_bytes.
sw_check_streaming() {
	local side=$1 sub=$2 slotside=$3 state lag max=${MIGKIT_LAG_MAX_BYTES:-1048576}
	state=$(query "$side" -v sub="$sub" <<'SQL'
select case when not s.subenabled then 'disabled'
            when not exists (select 1 from pg_catalog.pg_stat_subscription w
                              where w.subid = s.oid and w.relid is null and w.pid is not null) then 'no worker'
            else coalesce((select string_agg(format('%s (%s)', r.srrelid::regclass,
                                                    case r.srsubstate when 'i' then 'initializing' when 'd' then 'copying'
                                                         when 'f' then 'copied' when 's' then 'synchronized'
                                                         else r.srsubstate::text end), ', ' order by 1)
                             from pg_catalog.pg_subscription_rel r
                            where r.srsubid = s.oid and r.srsubstate <> 'r'), 'streaming')
       end
  from pg_catalog.pg_subscription s
 where s.subname = :'sub'
   and s.subdbid = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())
SQL
)
	case $state in
	'') sw_blocker "subscription $sub does not exist on $side" ;;
	disabled) sw_blocker "subscription $sub on $side is disabled: enable it (ALTER SUBSCRIPTION $sub ENABLE) and wait until it has caught up" ;;
	'no worker') sw_blocker "subscription $sub on $side has no apply worker running: see $side's server log" ;;
	streaming) good "subscription $sub on $side streams every table" ;;
	*) sw_blocker "subscription $sub on $side does not stream every table yet: $state; wait (copy-progress --wait)" ;;
	esac
	# Lag: what the slot's consumer has not applied yet.  write_lsn is what
	# the subscriber has applied; confirmed_flush_lsn what it has also flushed.
	lag=$(query "$slotside" -v slot="$sub" <<'SQL'
select pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),
                                   greatest(s.confirmed_flush_lsn, w.write_lsn))::bigint
  from pg_catalog.pg_replication_slots s
  left join pg_catalog.pg_stat_get_wal_senders() w on w.pid = s.active_pid
 where s.slot_name = :'slot' and s.database = pg_catalog.current_database()
SQL
)
	if [ -z "$lag" ]; then
		sw_blocker "replication slot $sub does not exist on $slotside"
	elif [ "$lag" -gt "$max" ]; then
		sw_blocker "$side is $lag bytes behind $slotside (lag_max_bytes is $max): wait until it catches up (copy-progress --wait)"
	else
		good "$side is $lag bytes behind $slotside (lag_max_bytes is $max)"
	fi
}

# sw_check_writable FROM TO ROLES [FENCE_FILE]: on TO, each application role
# exists, may log in, is not read-only by default, and holds every write
# privilege it holds on FROM (INSERT, UPDATE, DELETE on the migration's
# tables, USAGE on their schemas, USAGE or UPDATE on their sequences).  A
# read-only setting recorded in FENCE_FILE is the kit's own fence, which the
# switch-over lifts, so it is not a blocker.
sw_check_writable() {
	local from=$1 to=$2 roles=$3 fenced='[]' held problems
	[ -z "${4:-}" ] || [ ! -f "$4" ] || fenced=$(<"$4")
	held=$(query "$from" -v roles="$roles" "${MK_TABLE_VARS[@]}" <<SQL
with t as ($MK_TABLES_SQL),
     r as (select x.name from jsonb_array_elements_text(:'roles'::jsonb) as x(name)
            where exists (select 1 from pg_catalog.pg_roles where rolname = x.name)),
     obj as (select 'table' as kind, format('%I.%I', t.schema_name, t.table_name) as name,
                    array['INSERT', 'UPDATE', 'DELETE'] as privs
               from t
             union all
             select distinct 'schema', format('%I', t.schema_name), array['USAGE'] from t
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
)
	problems=$(query "$to" -v roles="$roles" -v held="$held" -v fenced="$fenced" <<'SQL'
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
  select 3, r.name, format('role %s is read-only by default in this database (default_transaction_read_only)', r.name)
    from r where exists (select 1 from ro where ro.setrole = r.oid and ro.setdatabase = (select oid from db))
             and r.name not in (select role from fence)
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
)
	if [ -z "$problems" ]; then
		good "$to takes the application's writes: $(query "$to" -v roles="$roles" <<<"select string_agg(x, ', ') from jsonb_array_elements_text(:'roles'::jsonb) x") hold there what they hold on $from"
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

# sw_write_catchup: writes the two SQL files of the catch-up (run by
# sw_catchup), so that nothing is planned once the fence stands.
#  - sql/NAME-fence-lsn.sql on FROM: waits until no session of the
#    application that began before the fence (:'fenced_at', else now) is
#    inside a transaction (with the default fence they are being ended), and
#    none holds a transaction id (is writing: a session opened read-only
#    under the fence never does); then reads FROM's WAL insert position:
#    every transaction the application saw committed ends before it.  A
#    transaction with an xid then commits, which flushes WAL up to that
#    point and wakes the walsender.
#  - sql/NAME-applied.sql on TO: waits until the apply worker of SUB reports
#    a keepalive from FROM at or past that position (latest_end_lsn).  The
#    walsender sends a keepalive only after every transaction it decoded
#    before it, and the worker handles it only after it has applied and
#    committed each of them: so DST holds every transaction committed on
#    FROM before the fence.  It does not wait for TO's WAL flush, which
#    confirmed_flush_lsn would (up to wal_writer_delay more).
sw_write_catchup() {
	local name=$SW_NAME
	cat >"$MK_KIT/sql/$name-fence-lsn.sql" <<'SQL'
select pg_catalog.set_config('migkit.roles', :'roles', false),
       pg_catalog.set_config('migkit.fenced_at', :'fenced_at', false),
       pg_catalog.set_config('migkit.deadline', (pg_catalog.clock_timestamp()
                                                 + pg_catalog.make_interval(secs => :'timeout'))::text, false) \g /dev/null
do $$
declare
    fenced_at timestamptz := coalesce(nullif(pg_catalog.current_setting('migkit.fenced_at'), '')::timestamptz,
                                      pg_catalog.statement_timestamp());
    deadline timestamptz := pg_catalog.current_setting('migkit.deadline')::timestamptz;
    busy text;
begin
    loop
        perform pg_catalog.pg_stat_clear_snapshot();
        select string_agg(format('%s (pid %s, %s)', a.usename, a.pid, a.state), ', ' order by a.pid) into busy
          from pg_catalog.pg_stat_activity a
         where a.datname = pg_catalog.current_database()
           and a.pid <> pg_catalog.pg_backend_pid()
           and ((a.backend_start < fenced_at and a.state is distinct from 'idle')
                or a.backend_xid is not null)
           and a.usename in (select jsonb_array_elements_text(pg_catalog.current_setting('migkit.roles')::jsonb));
        exit when busy is null;
        if pg_catalog.clock_timestamp() > deadline then
            raise exception 'sessions of the application opened before the fence are still in a transaction: %', busy;
        end if;
        perform pg_catalog.pg_sleep(0.01);
    end loop;
    perform pg_catalog.set_config('migkit.fence_lsn', pg_catalog.pg_current_wal_insert_lsn()::text, false);
    perform pg_catalog.txid_current();
    commit;
end
$$;
select pg_catalog.current_setting('migkit.fence_lsn');
SQL
	cat >"$MK_KIT/sql/$name-applied.sql" <<'SQL'
select pg_catalog.set_config('migkit.sub', :'sub', false),
       pg_catalog.set_config('migkit.fence_lsn', :'fence_lsn', false),
       pg_catalog.set_config('migkit.deadline', (pg_catalog.clock_timestamp()
                                                 + pg_catalog.make_interval(secs => :'timeout'))::text, false) \g /dev/null
do $$
declare
    fence pg_lsn := pg_catalog.current_setting('migkit.fence_lsn')::pg_lsn;
    deadline timestamptz := pg_catalog.current_setting('migkit.deadline')::timestamptz;
    sub_oid oid;
    applied pg_lsn;
    worker int;
begin
    select s.oid into sub_oid
      from pg_catalog.pg_subscription s
     where s.subname = pg_catalog.current_setting('migkit.sub')
       and s.subdbid = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database());
    if sub_oid is null then
        raise exception 'subscription % does not exist', pg_catalog.current_setting('migkit.sub');
    end if;
    loop
        select w.latest_end_lsn, w.pid into applied, worker
          from pg_catalog.pg_stat_subscription w
         where w.subid = sub_oid and w.relid is null;
        exit when applied >= fence;
        if pg_catalog.clock_timestamp() > deadline then
            if worker is null then
                raise exception 'the apply worker of subscription % is not running: nothing from the fence at % is applied',
                    pg_catalog.current_setting('migkit.sub'), fence;
            end if;
            raise exception 'changes up to % are applied, not yet up to the fence at %', coalesce(applied::text, 'none'), fence;
        end if;
        perform pg_catalog.pg_sleep(0.005);
    end loop;
    perform pg_catalog.set_config('migkit.applied_lsn', applied::text, false);
end
$$;
select pg_catalog.current_setting('migkit.applied_lsn');
SQL
}

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

# sw_catchup FROM TO SUB ROLES TIMEOUT_MS [FENCE_RECORD]: the catch-up step,
# with the files of sw_write_catchup; the fence's time is that of the
# record (data/fence.json, data/fence-dst.json) when there is one.  Sets
# SW_FENCE_LSN and SW_APPLIED_LSN, or returns 1 with SW_ERROR.
sw_catchup() {
	local from=$1 to=$2 sub=$3 roles=$4 timeout=$5 fenced_at='' t0 left
	t0=$(sw_us)
	[ -z "${6:-}" ] || [ ! -f "$6" ] ||
		fenced_at=$(sed -n 's/.*"fenced_at" *: *"\([^"]*\)".*/\1/p' "$6")
	sw_sql SW_FENCE_LSN "$from" -v roles="$roles" -v fenced_at="$fenced_at" -v timeout="$(sw_ms_text "$timeout")" \
		-f "$MK_KIT/sql/$SW_NAME-fence-lsn.sql" || {
		SW_ERROR="no fence position on $from within $(sw_ms_text "$timeout") s: ${SW_ERROR#on "$from": }"
		return 1
	}
	say "fence on $from at LSN $SW_FENCE_LSN: every transaction the application saw committed there ends before it" | sw_out
	left=$((timeout - $(sw_ms "$t0")))
	[ "$left" -gt 0 ] || left=0
	sw_sql SW_APPLIED_LSN "$to" -v sub="$sub" -v fence_lsn="$SW_FENCE_LSN" -v timeout="$(sw_ms_text "$left")" \
		-f "$MK_KIT/sql/$SW_NAME-applied.sql" || {
		SW_ERROR="$to did not catch up with $from within $(sw_ms_text "$timeout") s (--catchup-timeout): ${SW_ERROR#on "$to": }"
		return 1
	}
	say "$to has applied and committed $from's changes up to LSN $SW_APPLIED_LSN" | sw_out
}

# sw_check_seq ARGS...: migkit seq --dry-run ARGS: every sequence can be
# read on one side and set on the other, none is missing, none collides.
sw_check_seq() {
	local rc=0 out
	out=$("$MIGKIT_BIN" seq --dry-run "$@" 2>&1) || rc=$?
	case $rc in
	0) good "the sequences can be copied: $(printf '%s\n' "$out" | grep -i 'would be copied' | tail -n 1)" ;;
	1) sw_blocker "migkit seq --dry-run $* finds sequences missing or colliding: $(printf '%s\n' "$out" | grep -i 'only on\|collid\|behind' | head -n 5 | tr -s '\n' ' ')" ;;
	*) sw_blocker "migkit seq --dry-run $* failed: $(printf '%s\n' "$out" | tail -n 3 | tr -s '\n' ' ')" ;;
	esac
}

# sw_seq ARGS...: migkit seq ARGS --json; the document is kept for the
# report.  Returns seq's exit status.
sw_seq() {
	local rc=0 out err=$MK_KIT/log/$SW_NAME-seq.err n
	out=$("$MIGKIT_BIN" seq "$@" --json 2>"$err") || rc=$?
	sw_out <"$err"
	case $out in
	'{'*) SW_SEQ_JSON=$out ;;
	*) SW_SEQ_JSON=null ;;
	esac
	n=$(printf '%s' "$out" | grep -o '"sequence":' | wc -l)
	say "migkit seq $*: exit $rc, $n sequence(s) set (each one's values are in the report)" | sw_out
	return "$rc"
}

# sw_verify MODE [GLOB...]: the last verification: migkit diff --count when
# MODE is count, and --checksum on the tables matching the GLOBs, between
# the sides of SW_DIFF_SIDES (FROM as --src, TO as --dst: a sequence the
# copy has set ahead on TO is no difference).  Nothing is retried: after
# the catch-up a difference is no replication lag.  The results are kept
# for the report.  Returns 0 equal, 1 different, 2 error.
sw_verify() {
	local mode=$1 rc=0 out g args=() parts=() err=$MK_KIT/log/$SW_NAME-diff.err
	shift
	if [ "$mode" = count ]; then
		out=$("$MIGKIT_BIN" diff --count "${SW_DIFF_OPTS[@]}" "${SW_DIFF_SIDES[@]}" --json 2>"$err") || rc=$?
		sw_out <"$err"
		case $out in '{'*) parts+=("\"count\":$out") ;; esac
		say "row counts and sequences: $(sw_diff_word "$rc")" | sw_out
	fi
	if [ "$rc" = 0 ] && [ $# -gt 0 ]; then
		for g in "$@"; do args+=(--table "$g"); done
		out=$("$MIGKIT_BIN" diff --checksum "${args[@]}" "${SW_DIFF_OPTS[@]}" "${SW_DIFF_SIDES[@]}" --json 2>"$err") || rc=$?
		sw_out <"$err"
		case $out in '{'*) parts+=("\"checksum\":$out") ;; esac
		say "checksums of $*: $(sw_diff_word "$rc")" | sw_out
	fi
	local IFS=,
	SW_VERIFY_JSON="{${parts[*]}}"
	SW_VERIFY_STATUS=$(sw_diff_word "$rc")
	return "$rc"
}

# sw_diff_options: SW_DIFF_OPTS, the options the verification passes to
# migkit diff: no re-check of a difference when this migkit has them.
sw_diff_options() {
	SW_DIFF_OPTS=()
	if "$MIGKIT_BIN" diff --help 2>/dev/null | grep -q -- '--retries'; then
		SW_DIFF_OPTS=(--retries 0)
	fi
}
SW_DIFF_OPTS=()
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
	if [ -n "$1" ]; then json_string "$1"; else printf 'null'; fi
}

# sw_report FILE STATUS [KEY JSON]...: writes the report to data/FILE and
# prints it: as lines, or the document itself under --json.
sw_report() {
	local name=$1 file=$MK_KIT/data/$1 status=$2 extra=() steps=() i doc
	shift 2
	while [ $# -ge 2 ]; do
		extra+=("$(json_string "$1"):$2")
		shift 2
	done
	for i in "${!SW_STEP_NAMES[@]}"; do
		steps+=("{\"step\":$(json_string "${SW_STEP_NAMES[$i]}"),\"ms\":${SW_STEP_MS[$i]},\"exit\":${SW_STEP_RC[$i]},\"detail\":$(sw_json_or_null "${SW_STEP_DETAIL[$i]}")}")
	done
	doc=$(
		IFS=,
		printf '{"script":%s,"context":%s,"status":%s,"started_at":%s,"fence_window_ms":%s,"fence_lsn":%s,"applied_lsn":%s,"steps":[%s],"sequences":%s,"verification":{"result":%s,"details":%s},"error":%s%s%s}' \
			"$(json_string "$SW_NAME")" "$(json_string "$MIGRATION_CONTEXT")" "$(json_string "$status")" \
			"$(json_string "$SW_STARTED_AT")" "${SW_FENCE_MS:-null}" \
			"$(sw_json_or_null "$SW_FENCE_LSN")" "$(sw_json_or_null "$SW_APPLIED_LSN")" \
			"${steps[*]}" "$SW_SEQ_JSON" "$(sw_json_or_null "$SW_VERIFY_STATUS")" "$SW_VERIFY_JSON" \
			"$(sw_json_or_null "$SW_ERROR")" "${extra[*]:+,}" "${extra[*]}"
	)
	printf '%s\n' "$doc" >"$file.tmp" && mv "$file.tmp" "$file"
	if [ "$MK_JSON" = 1 ]; then
		printf '%s\n' "$doc"
		return 0
	fi
	heading "Report (data/$name)"
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
