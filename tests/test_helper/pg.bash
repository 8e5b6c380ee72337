# shellcheck shell=bash
# Real throwaway PostgreSQL clusters for the tests and benchmarks: initdb in
# a temp dir, 127.0.0.1 only, a free port, wal_level=logical; started as the
# postgres user when we run as root.  Every cluster started is listed in
# $MIGKIT_TEST_STATE/clusters, and pg_stop_all stops them all.
#
# A cluster is of Debian's PostgreSQL 15 unless PG_MAJOR names another major
# when pg_start runs (PG_MAJOR=12 pg_start SRC): that major's server comes
# from /usr/lib/postgresql/MAJOR/bin when installed, else from pg-fetch
# beside this file.  Each cluster keeps its own bin directory: pg_stop,
# pg_restart and pg_stop_all use it.  The client tools (psql, pg_dump) stay
# Debian's 15 whatever the server.

MIGKIT_TEST_STATE=${MIGKIT_TEST_STATE:-${BATS_FILE_TMPDIR:-}}
PG_HELPER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Nothing from the developer's environment reaches libpq or the kit.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGSERVICEFILE PGOPTIONS \
	MIGRATION_CONTEXT DIRPATH SRCPG DSTPG MIGKIT_YES PGPASSWORD
export PGCONNECT_TIMEOUT=10 NO_COLOR=1 LC_ALL=C.UTF-8

# pg_bindir [MAJOR]: the server binaries of MAJOR; without one, the default
# ones (PG_BINDIR, Debian's 15, pg_config's).
pg_bindir() {
	local d
	if [ -n "${1:-}" ]; then
		if [ -x "/usr/lib/postgresql/$1/bin/initdb" ]; then
			printf '%s' "/usr/lib/postgresql/$1/bin"
			return 0
		fi
		d=$("$PG_HELPER_DIR/pg-fetch" "$1") || return 1
		printf '%s' "$d"
		return 0
	fi
	for d in "${PG_BINDIR:-}" /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null)"; do
		if [ -n "$d" ] && [ -x "$d/initdb" ]; then
			printf '%s' "$d"
			return 0
		fi
	done
	echo "no PostgreSQL server binaries (initdb) found; run ./bootstrap" >&2
	return 1
}

# pg_major BINDIR: the major version of the server there (11, 15, 18...).
pg_major() {
	local v
	v=$("$1/postgres" --version) || return 1
	[[ "$v" =~ \(PostgreSQL\)\ ([0-9]+) ]] || return 1
	printf '%s' "${BASH_REMATCH[1]}"
}

# as_pg CMD...: runs CMD as the postgres user when we are root.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_is_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: a port nothing listens on, below the kernel's range of
# ephemeral ports, so that no outgoing connection holds it when a server
# or proxy binds it a moment later.
free_port() {
	local low=32768 _high p
	read -r low _high 2>/dev/null </proc/sys/net/ipv4/ip_local_port_range || true
	[ "$low" -gt 11000 ] || low=32768
	while :; do
		p=$((10000 + RANDOM % (low - 10000)))
		port_is_free "$p" && { printf '%s' "$p"; return 0; }
	done
}

# pg_settings DIR MAJOR: the settings every test cluster in DIR gets, for its major.
pg_settings() {
	local dir=$1 major=$2
	echo "listen_addresses = '127.0.0.1'"
	echo "unix_socket_directories = '$dir'"
	echo "wal_level = logical"
	echo "max_replication_slots = 16"
	echo "max_wal_senders = 16"
	echo "max_worker_processes = 24"
	echo "max_logical_replication_workers = 12"
	echo "max_sync_workers_per_subscription = 4"
	# From 18 on, replication origins (one per subscription and table
	# sync) have their own limit, no longer max_replication_slots.
	[ "$major" -lt 18 ] || echo "max_active_replication_origins = 16"
	echo "fsync = off"
	echo "shared_buffers = 64MB"
	echo "logging_collector = off"
}

# pg_start NAME [postgresql.conf line]...: starts a cluster of PG_MAJOR (or
# the default server) and exports NAME_PORT, NAME_DIR, NAME_BINDIR and
# NAME_MAJOR.  Extra lines override the defaults.
pg_start() {
	local name=$1 bindir major dir port
	shift
	if [ -n "${PG_MAJOR:-}" ]; then
		bindir=$(pg_bindir "$PG_MAJOR") || return 1
	else
		bindir=$(pg_bindir) || return 1
	fi
	major=$(pg_major "$bindir") || {
		echo "cannot start cluster $name: $bindir/postgres --version fails" >&2
		return 1
	}
	dir=$(mktemp -d "${TMPDIR:-/tmp}/migkit-pg-$name.XXXXXX")
	chmod 755 "$dir"
	# The cluster's own binaries, for whatever acts on it later.
	printf '%s\n' "$bindir" >"$dir/bindir"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
	as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	{
		pg_settings "$dir" "$major"
		local line
		for line in "$@"; do echo "$line"; done
	} | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
	printf 'host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' |
		as_pg tee "$dir/data/pg_hba.conf" >/dev/null
	for _ in 1 2 3 4 5 6 7 8; do
		port=$(free_port)
		if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 start >/dev/null 2>&1; then
			printf -v "${name}_PORT" '%s' "$port"
			printf -v "${name}_DIR" '%s' "$dir"
			printf -v "${name}_BINDIR" '%s' "$bindir"
			printf -v "${name}_MAJOR" '%s' "$major"
			export "${name}_PORT" "${name}_DIR" "${name}_BINDIR" "${name}_MAJOR"
			echo "$dir" >>"$MIGKIT_TEST_STATE/clusters"
			pg_sql "$name" postgres "create role replicator login replication" >/dev/null
			return 0
		fi
	done
	echo "cannot start cluster $name:" >&2
	cat "$dir/server.log" >&2
	return 1
}

# pg_dir_bindir DIR: the bin directory the cluster in DIR was started with.
pg_dir_bindir() {
	if [ -f "$1/bindir" ]; then
		cat "$1/bindir"
	else
		pg_bindir
	fi
}

# pg_stop NAME: stops one cluster (immediate) and removes it.
pg_stop() {
	local dirvar="${1}_DIR"
	pg_stop_dir "${!dirvar}"
}

pg_stop_dir() {
	local dir=$1 bindir
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	bindir=$(pg_dir_bindir "$dir") || true
	as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}

# pg_stop_all: in teardown_file; stops every cluster this file started.
pg_stop_all() {
	local dir
	[ -f "$MIGKIT_TEST_STATE/clusters" ] || return 0
	while read -r dir; do
		pg_stop_dir "$dir"
	done <"$MIGKIT_TEST_STATE/clusters"
	rm -f "$MIGKIT_TEST_STATE/clusters"
}

# pg_restart NAME: after changing settings that need it.
pg_restart() {
	local dirvar="${1}_DIR" portvar="${1}_PORT" bindir
	bindir=$(pg_dir_bindir "${!dirvar}") || return 1
	as_pg "$bindir/pg_ctl" -D "${!dirvar}/data" -l "${!dirvar}/server.log" -o "-p ${!portvar}" -w -t 60 -m fast restart >/dev/null
}

# pg_sql NAME DB SQL: runs SQL as the superuser; prints unaligned rows.
pg_sql() {
	local portvar="${1}_PORT"
	psql -X -w -At -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${!portvar}" -U postgres -d "$2" -c "$3"
}

# pg_psql NAME DB [psql args...]: psql as the superuser, SQL on stdin.
pg_psql() {
	local portvar="${1}_PORT" db=$2
	shift 2
	psql -X -w -At -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${!portvar}" -U postgres -d "$db" "$@"
}

# write_config FILE SRC SRCDB DST DSTDB [yaml line]...: a migration.yml for two test clusters.
write_config() {
	local file=$1 src=$2 srcdb=$3 dst=$4 dstdb=$5 sp dp line
	shift 5
	sp="${src}_PORT" dp="${dst}_PORT"
	{
		echo "src_cls: pg-src"
		echo "src_db: $srcdb"
		echo "src_ip: 127.0.0.1"
		echo "src_port: ${!sp}"
		echo "dst_cls: pg-dst"
		echo "dst_db: $dstdb"
		echo "dst_ip: 127.0.0.1"
		echo "dst_port: ${!dp}"
		echo "admin_user: postgres"
		echo "repl_user: replicator"
		for line in "$@"; do echo "$line"; done
	} >"$file"
}

# render_kit CONFIG DIR: renders quietly; fails the test on error.
render_kit() {
	"$MIGKIT" render -q -o "$2" "$1"
}
