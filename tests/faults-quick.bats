#!/usr/bin/env bats
# A few cells of the fault suite (tests/faults.bats, make check-faults), for
# make check: DST restarted during the initial copy, the network cut while
# streaming, and cutover killed between the fence and re-routing, then
# finished with cutover --resume.

setup_file() {
	load test_helper/common
	load test_helper/faults
	fault_setup_file
}

teardown_file() {
	load test_helper/common
	load test_helper/faults
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

@test "while streaming: the network cut" {
	cell_run streaming network
}

@test "during cutover, between the fence and re-routing: the kit's script killed (SIGKILL)" {
	cell_run cutover script-kill
}
