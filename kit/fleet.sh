# shellcheck shell=bash
# shellcheck disable=SC2153 # FLEET_NAME, FLEET_DBS, FLEET_DST_DBS, FLEET_KITS: set by kit/kits.sh
# kit/fleet.sh: the mechanics of a fleet's `fleet` script, which runs one
# step in the kits of many databases: its options, the choice of kits, how
# many run at once (for the steps that take replication slots, WAL senders
# or workers, what the servers have free), the runs, each in a process
# group of its own with its output appended to the kit's log/STEP.log,
# Ctrl-C, and the one summary.  The fleet script sources kit/kits.sh (FLEET_NAME
# and the arrays FLEET_DBS, FLEET_DST_DBS and FLEET_KITS), then calls fleet_main.
# Every function here is named fleet_*.
#
# Exit status: 0 every kit done, 1 a negative answer in some kit (and no
# error), 2 an error in some kit, a kit not started, or a usage error.

FLEET_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
FLEET_STEPS="check-user check-db check-hba check-repl check-misc copy-schema create-pub create-sub
copy-progress copy-diff copy-seq disable-src re-routing cutover create-reverse rollback drop-sub
drop-reverse drop-pub"
FLEET_JOBS=4
FLEET_JSON=0
FLEET_LIST=0
FLEET_ONLY=()
FLEET_STEP=
FLEET_ARGS=()
FLEET_SEL=()         # the chosen kits, as indexes into FLEET_KITS
FLEET_PARALLEL=1     # how many run at once
FLEET_LIMIT=         # what set that number, in words
FLEET_NEEDS=()       # what the step takes on the servers (fleet_step_needs)
FLEET_HAS=           # what a kit that took it already shows
FLEET_INTERRUPTS=0
FLEET_T0=
declare -A FLEET_RUNNING=() # pid of a running kit -> its index
FLEET_RC=() FLEET_START=() FLEET_END=() FLEET_LAST=() FLEET_OFFSET=()

fleet_usage() {
	cat <<'EOF'
Usage: fleet [--jobs N] [--only DB[,DB]...] [--json] STEP [ARG]...
       fleet --list
Runs the kit script STEP (check-repl, create-sub -y, copy-progress --wait,
cutover -y, ...) with its ARGs in the kit of each database of the fleet,
up to N at once, each kit's output appended to its log/STEP.log, and prints
one summary: database, step, exit status, duration, last line of output.

  -j, --jobs N   at most N kits at once (default 4); create-sub, cutover and
                 create-reverse run fewer when SRC's free replication slots
                 or WAL senders, or DST's, or their logical replication
                 workers, allow fewer; copy-schema runs one at a time
  --only DB,...  only these databases (their names on SRC); may be repeated
  --json         the summary as JSON
  --list         the fleet's databases and kits, and stop
  -h, --help     show this help

The kits run without a terminal: a step that asks needs -y (or -n).
Ctrl-C: no other kit starts, the running ones get the interrupt (a cutover
before re-routing is undone), and once they have stopped the summary is
printed; a second Ctrl-C sends them SIGTERM.

Exit status: 0 every kit done, 1 a negative answer in some kit, 2 an error
in some kit or a kit not started.
EOF
}

fleet_die() {
	printf 'fleet: %s\n' "$*" >&2
	exit 2
}

fleet_usage_error() {
	printf 'fleet: %s\nTry "fleet --help" for more information.\n' "$1" >&2
	exit 2
}

# fleet_say MESSAGE: what the fleet does, on stderr (stdout is the summary's).
fleet_say() {
	printf 'fleet: %s\n' "$*" >&2
}

# fleet_parse ARGS...: the fleet's own options, up to STEP; the rest is STEP's.
fleet_parse() {
	local only name found i
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help)
			fleet_usage
			exit 0
			;;
		-j | --jobs)
			[ $# -ge 2 ] || fleet_usage_error "option $1 needs a value"
			FLEET_JOBS=$2
			shift
			;;
		--jobs=*) FLEET_JOBS=${1#--jobs=} ;;
		--only)
			[ $# -ge 2 ] || fleet_usage_error "option $1 needs a value"
			FLEET_ONLY+=("$2")
			shift
			;;
		--only=*) FLEET_ONLY+=("${1#--only=}") ;;
		--json) FLEET_JSON=1 ;;
		--list) FLEET_LIST=1 ;;
		--)
			shift
			break
			;;
		-*) fleet_usage_error "unknown option '$1'" ;;
		*) break ;;
		esac
		shift
	done
	[[ $FLEET_JOBS =~ ^[1-9][0-9]{0,3}$ ]] ||
		fleet_usage_error "--jobs takes a whole number from 1 to 9999, not '$FLEET_JOBS'"

	# The chosen kits: all, or those --only names (a name may hold a comma).
	if [ "${#FLEET_ONLY[@]}" -eq 0 ]; then
		for i in "${!FLEET_KITS[@]}"; do FLEET_SEL+=("$i"); done
	else
		local -A chosen=()
		for only in "${FLEET_ONLY[@]}"; do
			local names=()
			if fleet_index "$only" >/dev/null; then
				names=("$only")
			else
				IFS=, read -r -a names <<<"$only"
			fi
			for name in "${names[@]}"; do
				found=$(fleet_index "$name") ||
					fleet_usage_error "--only: the fleet has no database '$name' (it has: $(fleet_names))"
				chosen[$found]=1
			done
		done
		for i in "${!FLEET_KITS[@]}"; do
			[ -z "${chosen[$i]:-}" ] || FLEET_SEL+=("$i")
		done
	fi

	if [ "$FLEET_LIST" = 1 ]; then
		[ $# -eq 0 ] || fleet_usage_error "--list takes no step"
		fleet_list
		exit 0
	fi
	[ $# -gt 0 ] || fleet_usage_error "no step given (check-repl, create-sub -y, copy-progress --wait, ...)"
	FLEET_STEP=$1
	shift
	FLEET_ARGS=("$@")
	[[ " ${FLEET_STEPS//$'\n'/ } " == *" $FLEET_STEP "* ]] ||
		fleet_usage_error "unknown step '$FLEET_STEP'; the steps: ${FLEET_STEPS//$'\n'/ }"
	if [ "$FLEET_JSON" = 1 ]; then
		command -v jq >/dev/null || fleet_die "jq is not installed: --json writes the summary with it (apt-get install jq)"
	fi
}

# fleet_index NAME: the index of the kit of database NAME (on SRC).
fleet_index() {
	local i
	for i in "${!FLEET_DBS[@]}"; do
		if [ "${FLEET_DBS[$i]}" = "$1" ]; then
			printf '%s' "$i"
			return 0
		fi
	done
	return 1
}

fleet_names() {
	local IFS=' '
	printf '%s' "${FLEET_DBS[*]}"
}

fleet_list() {
	local i
	printf '%-20s %-20s %s\n' database "on DST" kit
	for i in "${FLEET_SEL[@]}"; do
		printf '%-20s %-20s %s\n' "${FLEET_DBS[$i]}" "${FLEET_DST_DBS[$i]}" "${FLEET_KITS[$i]}"
	done
}

# fleet_kit_value KIT NAME: a value the kit's activate exports (SRCPG, SUBNAME, ...).
fleet_kit_value() {
	(
		unset MIGRATION_CONTEXT
		# shellcheck source=/dev/null
		MK_LOADING=1 . "$1/activate" >/dev/null 2>&1 && printf '%s' "${!2:-}"
	)
}

# fleet_changes_nothing: whether the step's arguments ask only to show (-n, --help).
fleet_changes_nothing() {
	local a
	for a in "${FLEET_ARGS[@]}"; do
		case $a in -n | --dry-run | -h | --help) return 0 ;; esac
	done
	return 1
}

# fleet_step_needs: sets FLEET_NEEDS to what one kit's run of FLEET_STEP
# takes on the servers, each "SIDE:RESOURCE:EXTRA": one RESOURCE (slots,
# senders, workers) of SIDE's cluster kept for good, and EXTRA more while
# its work goes on (sync: the table synchronisation workers of a new
# subscription, each with its own slot and WAL sender on SRC).  FLEET_HAS
# is what a kit that took them already shows: it needs nothing more.  A
# dry run, or a step that makes nothing lasting, takes nothing.
fleet_step_needs() {
	local a
	FLEET_NEEDS=() FLEET_HAS=
	! fleet_changes_nothing || return 0
	case $FLEET_STEP in
	create-sub)
		# the subscription's slot and WAL sender on SRC, its apply worker on DST
		FLEET_NEEDS=(SRC:slots:sync SRC:senders:sync DST:workers:sync)
		FLEET_HAS="SRC slot SUBNAME"
		;;
	cutover)
		# the slot on DST the way back reads (prepare-reverse)
		for a in "${FLEET_ARGS[@]}"; do [ "$a" != --no-reverse ] || return 0; done
		FLEET_NEEDS=(DST:slots:0)
		FLEET_HAS="DST slot SUBNAME_reverse"
		;;
	create-reverse)
		# the reverse subscription's WAL sender on DST and apply worker on SRC
		FLEET_NEEDS=(DST:senders:0 SRC:workers:0)
		FLEET_HAS="DST active SUBNAME_reverse"
		;;
	esac
}

# The replication room of a cluster: each limit and how much of it is used.
FLEET_ROOM_SQL="select pg_catalog.current_setting('max_replication_slots'),
       (select count(*) from pg_catalog.pg_replication_slots),
       pg_catalog.current_setting('max_wal_senders'),
       (select count(*) from pg_catalog.pg_stat_replication),
       pg_catalog.current_setting('max_logical_replication_workers'),
       (select count(*) from pg_catalog.pg_stat_activity where backend_type like 'logical replication %worker'),
       pg_catalog.current_setting('max_sync_workers_per_subscription')"
declare -A FLEET_ROOM=()

# fleet_room SIDE: reads SIDE's room into FLEET_ROOM[SIDE:slots_max] ...
# and its replication slots ("name active" lines) into FLEET_ROOM[SIDE:list],
# through the first chosen kit that connects; false with the reason in
# FLEET_ROOM[SIDE:error] when none does.
fleet_room() {
	local side=$1 i conn out err=
	for i in "${FLEET_SEL[@]}"; do
		conn=$(fleet_kit_value "${FLEET_KITS[$i]}" "${side}PG") || continue
		[ -n "$conn" ] || continue
		if out=$(psql -X -w -At -F ' ' -v ON_ERROR_STOP=1 -d "$conn" -c "$FLEET_ROOM_SQL" 2>&1) &&
			FLEET_ROOM[$side:list]=$(psql -X -w -At -F ' ' -v ON_ERROR_STOP=1 -d "$conn" \
				-c 'select slot_name, active from pg_catalog.pg_replication_slots' 2>&1); then
			read -r "FLEET_ROOM[$side:slots_max]" "FLEET_ROOM[$side:slots_used]" \
				"FLEET_ROOM[$side:senders_max]" "FLEET_ROOM[$side:senders_used]" \
				"FLEET_ROOM[$side:workers_max]" "FLEET_ROOM[$side:workers_used]" \
				"FLEET_ROOM[$side:sync]" <<<"$out"
			return 0
		fi
		err=$(printf '%s' "$out" | head -n 1)
	done
	FLEET_ROOM[$side:error]=${err:-no kit to connect through}
	return 1
}

# fleet_has I: whether kit I has taken what the step takes already (FLEET_HAS).
fleet_has() {
	local side what name active
	read -r side what name <<<"$FLEET_HAS"
	name=${name/SUBNAME/$(fleet_kit_value "${FLEET_KITS[$1]}" SUBNAME)}
	active=$(awk -v n="$name" '$1 == n { print $2 }' <<<"${FLEET_ROOM[$side:list]}")
	case $what in
	slot) [ -n "$active" ] ;;
	active) [ "$active" = t ] ;;
	esac
}

# fleet_plan: FLEET_PARALLEL, how many kits run at once, and FLEET_LIMIT, why.
# A step that keeps more slots, WAL senders or workers than the servers have
# free is refused before any kit starts.
fleet_plan() {
	local n=${#FLEET_SEL[@]} need side res extra per free max used allow pending=0 i
	local -A words=([slots]="replication slots" [senders]="WAL senders" [workers]="logical replication workers")
	local -A setting=([slots]=max_replication_slots [senders]=max_wal_senders [workers]=max_logical_replication_workers)
	FLEET_PARALLEL=$FLEET_JOBS FLEET_LIMIT="--jobs $FLEET_JOBS"
	if [ "$n" -lt "$FLEET_PARALLEL" ]; then
		FLEET_PARALLEL=$n FLEET_LIMIT="the number of kits"
	fi
	if [ "$FLEET_STEP" = copy-schema ] && [ "$FLEET_PARALLEL" -gt 1 ] && ! fleet_changes_nothing; then
		FLEET_PARALLEL=1
		FLEET_LIMIT="copy-schema creates and alters DST's roles, which all its databases share: one kit at a time"
	fi
	fleet_step_needs
	[ "${#FLEET_NEEDS[@]}" -gt 0 ] && [ "$n" -gt 0 ] || return 0
	for side in SRC DST; do
		[[ " ${FLEET_NEEDS[*]} " == *" $side:"* ]] || continue
		if ! fleet_room "$side"; then
			fleet_say "note: cannot read the free replication slots, WAL senders and workers of $side (${FLEET_ROOM[$side:error]}): up to $FLEET_PARALLEL at once"
			return 0
		fi
	done
	for i in "${FLEET_SEL[@]}"; do
		fleet_has "$i" || pending=$((pending + 1))
	done
	[ "$pending" -gt 0 ] || return 0
	for need in "${FLEET_NEEDS[@]}"; do
		IFS=: read -r side res extra <<<"$need"
		max=${FLEET_ROOM[$side:${res}_max]} used=${FLEET_ROOM[$side:${res}_used]}
		free=$((max - used))
		[ "$extra" != sync ] || extra=${FLEET_ROOM[DST:sync]}
		per=$((1 + extra))
		[ "$free" -ge "$pending" ] ||
			fleet_die "$side has $free free ${words[$res]} (${setting[$res]} = $max, $used in use) and $pending kit(s) each keep one after $FLEET_STEP: raise ${setting[$res]} on $side (it needs a restart), or run fewer kits with --only; no kit was started"
		allow=$((free / per))
		[ "$allow" -ge 1 ] || allow=1
		if [ "$allow" -lt "$FLEET_PARALLEL" ]; then
			FLEET_PARALLEL=$allow
			FLEET_LIMIT="$side's free ${words[$res]}: $free, and each $FLEET_STEP takes up to $per"
		fi
	done
}

# fleet_ms START END: milliseconds between two EPOCHREALTIME values.
fleet_ms() {
	local a=${1//[.,]/} b=${2//[.,]/}
	printf '%d' $(((10#$b - 10#$a) / 1000))
}

# fleet_seconds MS: as "12.345".
fleet_seconds() {
	printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# fleet_result RC: the word for an exit status ("" for a kit not started).
fleet_result() {
	case $1 in
	'') printf 'not started' ;;
	0) printf 'done' ;;
	1) printf 'negative' ;;
	*) printf 'error' ;;
	esac
}

# fleet_start I: starts kit I's step in the background, in a process group
# of its own (so that an interrupt reaches every process of it), without a
# terminal, and outside any context the caller's shell has loaded.
fleet_start() {
	local i=$1 kit=${FLEET_KITS[$1]} log
	log=$kit/log/$FLEET_STEP.log
	FLEET_START[i]=$EPOCHREALTIME
	if [ ! -x "$kit/$FLEET_STEP" ]; then
		FLEET_RC[i]=2 FLEET_END[i]=$EPOCHREALTIME
		FLEET_LAST[i]="the kit has no $FLEET_STEP (gone, or older than the fleet): render migration.yml again"
		fleet_say "${FLEET_DBS[$i]}: ${FLEET_LAST[$i]}"
		return 0
	fi
	if ! { mkdir -p "$kit/log" && printf '\n# %s fleet %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$FLEET_NAME" \
		"$FLEET_STEP${FLEET_ARGS[*]:+ ${FLEET_ARGS[*]}}" >>"$log"; } 2>/dev/null; then
		FLEET_RC[i]=2 FLEET_END[i]=$EPOCHREALTIME FLEET_LAST[i]="cannot write $log"
		fleet_say "${FLEET_DBS[$i]}: ${FLEET_LAST[$i]}"
		return 0
	fi
	FLEET_OFFSET[i]=$(wc -c <"$log")
	set -m
	(
		unset MIGRATION_CONTEXT DIRPATH
		cd "$kit" || exit 2
		exec "./$FLEET_STEP" "${FLEET_ARGS[@]}"
	) </dev/null >>"$log" 2>&1 &
	FLEET_RUNNING[$!]=$i
	set +m
	fleet_say "${FLEET_DBS[$i]}: $FLEET_STEP started (output: $log)"
}

# fleet_finish PID RC: records how kit PID ended.
fleet_finish() {
	local i=${FLEET_RUNNING[$1]} log
	unset "FLEET_RUNNING[$1]"
	log=${FLEET_KITS[$i]}/log/$FLEET_STEP.log
	FLEET_END[i]=$EPOCHREALTIME FLEET_RC[i]=$2
	# The last line the kit wrote in this run, without control characters.
	FLEET_LAST[i]=$(tail -c +"$((FLEET_OFFSET[i] + 1))" "$log" 2>/dev/null |
		LC_ALL=C sed -e 's/[[:cntrl:]]//g' -e '/^[[:space:]]*$/d' | tail -n 1) || true
	fleet_say "${FLEET_DBS[$i]}: $FLEET_STEP $(fleet_result "$2") (exit $2) after $(fleet_seconds "$(fleet_ms "${FLEET_START[$i]}" "${FLEET_END[$i]}")")s"
}

# fleet_interrupt: Ctrl-C or SIGTERM.  No other kit starts; the running
# ones get SIGINT, as from their own terminal (SIGTERM the second time).
fleet_interrupt() {
	local sig=INT pid
	FLEET_INTERRUPTS=$((FLEET_INTERRUPTS + 1))
	[ "$FLEET_INTERRUPTS" -eq 1 ] || sig=TERM
	fleet_say "interrupted: no other kit starts; SIG$sig to the ${#FLEET_RUNNING[@]} running, waiting for them"
	for pid in "${!FLEET_RUNNING[@]}"; do
		kill -s "$sig" -- "-$pid" 2>/dev/null || true
	done
}

# fleet_run: runs the chosen kits, FLEET_PARALLEL at once, until all have
# ended (or, after an interrupt, those started have).
fleet_run() {
	local next=0 pid rc
	trap fleet_interrupt INT TERM
	while :; do
		while [ "$FLEET_INTERRUPTS" -eq 0 ] && [ "${#FLEET_RUNNING[@]}" -lt "$FLEET_PARALLEL" ] &&
			[ "$next" -lt "${#FLEET_SEL[@]}" ]; do
			fleet_start "${FLEET_SEL[$next]}"
			next=$((next + 1))
		done
		[ "${#FLEET_RUNNING[@]}" -gt 0 ] || break
		pid='' rc=0
		wait -n -p pid "${!FLEET_RUNNING[@]}" || rc=$?
		# A signal ends the wait early; its trap has run.
		[ -z "${pid:-}" ] || fleet_finish "$pid" "$rc"
	done
	trap - INT TERM
}

# fleet_status: the fleet's exit status from the kits'.
fleet_status() {
	local i rc status=0
	for i in "${FLEET_SEL[@]}"; do
		rc=${FLEET_RC[$i]:-2}
		if [ "$rc" = 1 ]; then
			[ "$status" = 2 ] || status=1
		elif [ "$rc" != 0 ]; then
			status=2
		fi
	done
	printf '%d' "$status"
}

# fleet_summary STATUS: the table (or --json document) on stdout.
fleet_summary() {
	local status=$1 i rc ms time last w_db=8 w_step=${#FLEET_STEP} done=0 neg=0 err=0 none=0
	[ "$w_step" -ge 4 ] || w_step=4
	for i in "${FLEET_SEL[@]}"; do
		[ "${#FLEET_DBS[$i]}" -le "$w_db" ] || w_db=${#FLEET_DBS[$i]}
		case $(fleet_result "${FLEET_RC[$i]:-}") in
		done) done=$((done + 1)) ;;
		negative) neg=$((neg + 1)) ;;
		error) err=$((err + 1)) ;;
		*) none=$((none + 1)) ;;
		esac
	done
	if [ "$FLEET_JSON" = 1 ]; then
		fleet_json "$status"
		return 0
	fi
	printf 'fleet %s: %s%s: %d kit(s), %d at once (limited by %s)\n\n' "$FLEET_NAME" "$FLEET_STEP" \
		"${FLEET_ARGS[*]:+ ${FLEET_ARGS[*]}}" "${#FLEET_SEL[@]}" "$FLEET_PARALLEL" "$FLEET_LIMIT"
	printf "%-${w_db}s  %-${w_step}s  %4s  %-11s  %9s  %s\n" database step exit result time "last line"
	for i in "${FLEET_SEL[@]}"; do
		rc=${FLEET_RC[$i]:-}
		time=-
		if [ -n "$rc" ]; then
			ms=$(fleet_ms "${FLEET_START[$i]}" "${FLEET_END[$i]}")
			time=$(fleet_seconds "$ms")s
		fi
		last=${FLEET_LAST[$i]:-}
		[ -n "$rc" ] || last="not started$([ "$FLEET_INTERRUPTS" -eq 0 ] || printf ': interrupted')"
		[ "${#last}" -le 100 ] || last="${last:0:99}…"
		printf "%-${w_db}s  %-${w_step}s  %4s  %-11s  %9s  %s\n" "${FLEET_DBS[$i]}" "$FLEET_STEP" "${rc:--}" \
			"$(fleet_result "$rc")" "$time" "$last"
	done
	printf '\n%d done, %d negative, %d error, %d not started; exit %d. Each kit'"'"'s output: KIT/log/%s.log\n' \
		"$done" "$neg" "$err" "$none" "$status" "$FLEET_STEP"
}

# fleet_json STATUS: the summary as one JSON document.
fleet_json() {
	local i rc ms objs=()
	for i in "${FLEET_SEL[@]}"; do
		rc=${FLEET_RC[$i]:-}
		ms=
		[ -z "$rc" ] || ms=$(fleet_ms "${FLEET_START[$i]}" "${FLEET_END[$i]}")
		objs+=("$(jq -cn --arg database "${FLEET_DBS[$i]}" --arg dst "${FLEET_DST_DBS[$i]}" \
			--arg kit "${FLEET_KITS[$i]}" --arg rc "$rc" --arg result "$(fleet_result "$rc")" \
			--arg ms "$ms" --arg last "${FLEET_LAST[$i]:-}" \
			--arg started "$([ -z "$rc" ] || fleet_ms "$FLEET_T0" "${FLEET_START[$i]}")" \
			--arg ended "$([ -z "$rc" ] || fleet_ms "$FLEET_T0" "${FLEET_END[$i]}")" \
			--arg log "${FLEET_KITS[$i]}/log/$FLEET_STEP.log" \
			'def num: if . == "" then null else tonumber end;
			 {database: $database, dst_database: $dst, kit: $kit, status: ($rc | num), result: $result,
			  seconds: (if $ms == "" then null else ($ms | tonumber) / 1000 end),
			  started_ms: ($started | num), ended_ms: ($ended | num), last_line: $last, log: $log}')")
	done
	printf '%s\n' "${objs[@]}" | jq -s --arg fleet "$FLEET_NAME" --arg step "$FLEET_STEP" \
		--argjson args "$(jq -cn '$ARGS.positional' --args -- "${FLEET_ARGS[@]}")" \
		--argjson jobs "$FLEET_JOBS" --argjson parallel "$FLEET_PARALLEL" --arg limit "$FLEET_LIMIT" \
		--argjson interrupted "$([ "$FLEET_INTERRUPTS" -eq 0 ] && echo false || echo true)" \
		--argjson status "$1" \
		'{fleet: $fleet, step: $step, args: $args, jobs: $jobs, parallel: $parallel, limited_by: $limit,
		  interrupted: $interrupted, status: $status, kits: .}'
}

# fleet_journal STATUS MS: one line of the fleet's log/journal.
fleet_journal() {
	mkdir -p "$FLEET_HOME/log" 2>/dev/null || true
	printf '%s\tfleet %s\texit=%s\t%ss\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$FLEET_STEP" "$1" \
		"$(fleet_seconds "$2")" "${FLEET_ARGS[*]:-}" >>"$FLEET_HOME/log/journal" 2>/dev/null || true
}

fleet_main() {
	local status
	fleet_parse "$@"
	FLEET_T0=$EPOCHREALTIME
	fleet_plan
	fleet_say "$FLEET_STEP${FLEET_ARGS[*]:+ ${FLEET_ARGS[*]}} on ${#FLEET_SEL[@]} kit(s), $FLEET_PARALLEL at once (limited by $FLEET_LIMIT)"
	fleet_run
	status=$(fleet_status)
	fleet_summary "$status"
	fleet_journal "$status" "$(fleet_ms "$FLEET_T0" "$EPOCHREALTIME")"
	exit "$status"
}
