#!/usr/bin/env bats
# The fault suite: each phase of a migration (the initial copy, streaming,
# cutover between the fence and re-routing, and after cutover with reverse
# replication) meets each fault (DST or SRC restarted with pg_ctl stop -m
# immediate, the walsender terminated, the network between subscription and
# publisher cut at a proxy, the kit's own script killed with SIGKILL in its
# step).  The cells are in tests/test_helper/faults.bash; the table of their
# results goes to fd 3 and to FAULTS_TABLE when set (make check-faults
# prints it).  tests/faults-quick.bats runs a few of them in make check.

setup_file() {
	load test_helper/common
	load test_helper/faults
	fault_setup_file
}

teardown_file() {
	load test_helper/common
	load test_helper/faults
	{
		echo "fault x phase (PASS: resumed, nothing lost, both sides equal)"
		fault_table
	} >"$BATS_FILE_TMPDIR/table"
	sed 's/^/# /' "$BATS_FILE_TMPDIR/table" >&3
	[ -z "${FAULTS_TABLE:-}" ] || cp "$BATS_FILE_TMPDIR/table" "$FAULTS_TABLE"
	fault_teardown_file
}

setup() {
	load test_helper/common
	load test_helper/faults
}

teardown() {
	cell_cleanup
}

@test "during the initial copy: DST restarted (immediate)" {
	cell_run copy dst-restart
}

@test "during the initial copy: SRC restarted (immediate)" {
	cell_run copy src-restart
}

@test "during the initial copy: the walsender terminated" {
	cell_run copy walsender
}

@test "during the initial copy: the network cut" {
	cell_run copy network
}

@test "during the initial copy: the kit's script killed (SIGKILL)" {
	cell_run copy script-kill
}

@test "while streaming: DST restarted (immediate)" {
	cell_run streaming dst-restart
}

@test "while streaming: SRC restarted (immediate)" {
	cell_run streaming src-restart
}

@test "while streaming: the walsender terminated" {
	cell_run streaming walsender
}

@test "while streaming: the network cut" {
	cell_run streaming network
}

@test "while streaming: the kit's script killed (SIGKILL)" {
	cell_run streaming script-kill
}

@test "during cutover, between the fence and re-routing: DST restarted (immediate)" {
	cell_run cutover dst-restart
}

@test "during cutover, between the fence and re-routing: SRC restarted (immediate)" {
	cell_run cutover src-restart
}

@test "during cutover, between the fence and re-routing: the walsender terminated" {
	cell_run cutover walsender
}

@test "during cutover, between the fence and re-routing: the network cut" {
	cell_run cutover network
}

@test "during cutover, between the fence and re-routing: the kit's script killed (SIGKILL)" {
	cell_run cutover script-kill
}

@test "after cutover, with reverse replication: DST restarted (immediate)" {
	cell_run reverse dst-restart
}

@test "after cutover, with reverse replication: SRC restarted (immediate)" {
	cell_run reverse src-restart
}

@test "after cutover, with reverse replication: the walsender terminated" {
	cell_run reverse walsender
}

@test "after cutover, with reverse replication: the network cut" {
	cell_run reverse network
}

@test "after cutover, with reverse replication: the kit's script killed (SIGKILL)" {
	cell_run reverse script-kill
}
