#!/usr/bin/env bats
# The guard on the WAL a subscription's slot keeps on SRC, against real
# clusters: SRC has a small max_slot_wal_keep_size (64MB) and a max_wal_size
# large enough that no checkpoint comes by itself; the subscription is
# disabled while SRC writes, so the slot holds every byte.  copy-progress
# shows the WAL against the limit and the budget (wal_budget_bytes), --wait
# gives up before the slot is lost, and a lost slot is reported with the way
# to start over, which the last test takes.  The tests run in file order.

setup_file() {
	load test_helper/common
	pg_start SRC "max_slot_wal_keep_size = 64MB" "max_wal_size = 1GB" "checkpoint_timeout = 1h"
	pg_start DST
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database shop"
		pg_sql "$side" shop "create table public.t (id bigint primary key, pad text)"
	done
	pg_sql SRC shop "insert into public.t select g, 'row' from generate_series(1, 100) g"
	cd "$BATS_FILE_TMPDIR"
	write_config m.yml SRC shop DST shop "wal_budget_bytes: 8388608"
	render_kit m.yml kit
	kit/create-pub -y >/dev/null
	kit/create-sub -y >/dev/null 2>&1
	kit/copy-progress --wait --timeout 60 >/dev/null
	pg_sql DST shop "alter subscription sub_pg_src_shop disable"
	wait_for SRC shop "select count(*) from pg_replication_slots where active" 0
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	cd "$BATS_FILE_TMPDIR"
}

# retained: the WAL the slot keeps on SRC, in bytes.
retained() {
	pg_sql SRC shop "select pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) from pg_replication_slots where slot_name = 'sub_pg_src_shop'"
}

# write_wal MB: SRC writes until the slot keeps MB megabytes, in steps
# of about half a megabyte.
write_wal() {
	local target=$(($1 * 1024 * 1024))
	while [ "$(retained)" -lt "$target" ]; do
		pg_sql SRC shop "insert into public.t select g, md5(g::text) || repeat('w', 200) from generate_series(coalesce((select max(id) from public.t), 0) + 1, coalesce((select max(id) from public.t), 0) + 1000) g"
	done
}

@test "copy-progress shows the slot's WAL against max_slot_wal_keep_size and the budget; warns from 80% of the budget" {
	write_wal 7
	run -1 kit/copy-progress
	assert_output --regexp "WAL retained [0-9.]+ MB, [0-9]+% of 64.0 MB \(max_slot_wal_keep_size\), (8[0-9]|9[0-9])% of the budget 8.0 MB \(wal_budget_bytes\)"
	assert_output --regexp "warning: slot sub_pg_src_shop retains [0-9.]+ MB of WAL, (8[0-9]|9[0-9])% of wal_budget_bytes \(8.0 MB\)"
	assert_output --partial "the subscription is disabled"
	run -1 kit/copy-progress --json
	run -0 jq -r '.slot | [.wal_budget_bytes, (.wal_budget_used > 0.8), .max_slot_wal_keep_size_available] | map(tostring) | join(" ")' <<<"$output"
	assert_output "8388608 true true"
}

@test "copy-progress --wait gives up past the budget, saying why, long before its timeout" {
	write_wal 9
	SECONDS=0
	run -1 --separate-stderr kit/copy-progress --wait --timeout 60
	[ "$SECONDS" -lt 20 ]
	[[ $stderr == *"stopped waiting: slot sub_pg_src_shop retains"*"of wal_budget_bytes (8.0 MB): over the budget"* ]] || fail "$stderr"
	# A larger budget on the command line lets the wait go on (to its timeout).
	run -1 --separate-stderr kit/copy-progress --wait --timeout 3 --wal-budget 1GB
	[[ $stderr == *"timed out after 3s"* ]] || fail "$stderr"
	run -2 kit/copy-progress --wal-budget lots
	assert_output --partial "--wal-budget takes a number of bytes"
}

@test "copy-progress --wait gives up at 95% of max_slot_wal_keep_size, before SRC invalidates the slot" {
	write_wal 62
	run -1 --separate-stderr kit/copy-progress --wait --timeout 60 --wal-budget 1GB
	[[ $stderr == *"stopped waiting: slot sub_pg_src_shop retains"*"of max_slot_wal_keep_size (64.0 MB): SRC invalidates it soon"* ]] || fail "$stderr"
	assert_equal "$(pg_sql SRC shop "select wal_status <> 'lost' from pg_replication_slots")" t
}

@test "a slot SRC invalidated is reported as lost, never in sync, with the way to start over, which works" {
	write_wal 80
	pg_sql SRC shop "checkpoint"
	wait_for SRC shop "select wal_status from pg_replication_slots where slot_name = 'sub_pg_src_shop'" lost
	pg_sql DST shop "alter subscription sub_pg_src_shop enable"
	run -1 --separate-stderr kit/copy-progress --wait --timeout 60 --wal-budget 1GB
	assert_output --partial "slot sub_pg_src_shop is invalidated: SRC removed WAL it needs (wal_status lost"
	assert_output --partial "start over with ./drop-sub then ./create-sub"
	assert_output --partial "Not yet in sync: slot sub_pg_src_shop is invalidated"
	[[ $stderr == *"stopped waiting: slot sub_pg_src_shop is invalidated"* ]] || fail "$stderr"

	# Starting over as it says: drop-sub, an empty DST table, create-sub.
	run -0 kit/drop-sub -y
	assert_output --partial "the fast copy went with its slot"
	[ ! -e kit/data/copy-state.json ] && [ -e kit/data/copy-state.json.dropped ]
	pg_sql DST shop "truncate public.t"
	kit/create-sub -y >/dev/null 2>&1
	run -0 kit/copy-progress --wait --timeout 120 --wal-budget 1GB
	assert_equal "$(pg_sql DST shop "select count(*), md5(string_agg(t::text, ',' order by id)) from public.t")" \
		"$(pg_sql SRC shop "select count(*), md5(string_agg(t::text, ',' order by id)) from public.t")"
}
