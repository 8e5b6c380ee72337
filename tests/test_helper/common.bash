# shellcheck shell=bash
# The one test helper every suite loads: bats-assert, the migkit binary,
# and the cluster functions of pg.bash.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

MIGKIT=${MIGKIT:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/migkit}
MIGKIT_SRCDIR=${MIGKIT_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
export MIGKIT MIGKIT_SRCDIR

# shellcheck source=tests/test_helper/pg.bash
. "$MIGKIT_SRCDIR/tests/test_helper/pg.bash"

# wait_for SIDE DB SQL EXPECTED: polls until the query answers EXPECTED (30 s).
wait_for() {
	local got
	for _ in $(seq 1 60); do
		got=$(pg_sql "$1" "$2" "$3")
		[ "$got" = "$4" ] && return 0
		sleep 0.5
	done
	fail "$1/$2: '$3' gave '$got', not '$4'"
}

# as_role ROLE SIDE DB SQL: runs SQL as ROLE (the application, say).
as_role() {
	local portvar="${2}_PORT"
	psql -X -w -At -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${!portvar}" -U "$1" -d "$3" -c "$4"
}

# as_app SIDE SQL: runs SQL on SIDE/app as app_user, the application role of
# the replication, cutover and rollback tests.
as_app() {
	as_role app_user "$1" app "$2"
}

# client ID: an application client for the cutover and rollback tests: it
# inserts rows (ID, 1), (ID, 2)... into public.writes as app_user wherever
# $KITS/app/data/app-target points, and logs each commit it saw ("microseconds
# ID N") in $BATS_FILE_TMPDIR/client.ID, until the file "stop" appears there.
client() {
	local id=$1 n=0 target
	while [ ! -e "$BATS_FILE_TMPDIR/stop" ]; do
		n=$((n + 1))
		target=$(sed 's|^postgres://[^@]*@|postgres://app_user@|' "$KITS/app/data/app-target")
		if psql -X -w -q -d "$target" -c "insert into public.writes values ($id, $n)" >/dev/null 2>&1; then
			printf '%s %s %s\n' "${EPOCHREALTIME/./}" "$id" "$n" >>"$BATS_FILE_TMPDIR/client.$id"
		fi
		sleep 0.03
	done
}

# app_kit_streaming SHIFT TABLES: renders $KITS/app (app_roles app_user, the
# demo's re-routing hook, which points data/app-target at a side) and
# $KITS/dflt (the default hooks) for SRC/app -> DST/app, points the
# application at SRC, and starts replication with the kit's create-pub and
# create-sub; returns once all TABLES tables of the subscription stream.
app_kit_streaming() {
	write_config "$KITS/app.yml" SRC app DST app "app_roles: [app_user]" "seq_shift: $1"
	"$MIGKIT" render -q -t "$MIGKIT_SRCDIR/examples/demo/templates" -o "$KITS/app" "$KITS/app.yml"
	render_kit "$KITS/app.yml" "$KITS/dflt"
	grep -E '^export SRCPG=' "$KITS/app/activate" | sed 's/^export SRCPG=//' >"$KITS/app/data/app-target"
	"$KITS/app/create-pub" -y >/dev/null
	"$KITS/app/create-sub" -y >/dev/null 2>&1
	local _
	for _ in $(seq 1 60); do
		[ "$(pg_sql DST app "select count(*) filter (where srsubstate = 'r') || '/' || count(*) from pg_subscription_rel")" = "$2/$2" ] &&
			return 0
		sleep 0.5
	done
	echo "the subscription did not sync" >&2
	return 1
}
