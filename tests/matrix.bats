#!/usr/bin/env bats
# The version matrix: for each pair of majors, a whole migration with the
# kit from a source of one to a destination of the other, under live
# writes, proven equal by an independent digest (tests/test_helper/
# matrix.bash).  make check runs the representative pairs
# (MIGKIT_MATRIX=quick); make check-versions runs every supported one
# (MIGKIT_MATRIX=all); MIGKIT_MATRIX=11:18,15:16 runs those.  The servers
# come from tests/test_helper/pg-fetch; the client tools are Debian's 15.

setup() {
	load test_helper/common
	load test_helper/matrix
}

teardown() {
	pg_stop_all
}

@test "11 -> 11" {
	mx_selected 11 11 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 11 11
}

@test "11 -> 12" {
	mx_selected 11 12 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 11 12
}

@test "11 -> 13" {
	mx_selected 11 13 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 11 13
}

@test "11 -> 14" {
	mx_selected 11 14 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 11 14
}

@test "11 -> 15" {
	mx_selected 11 15 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 11 15
}

@test "11 -> 16" {
	mx_selected 11 16 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 11 16
}

@test "11 -> 17" {
	mx_selected 11 17 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 11 17
}

@test "11 -> 18" {
	mx_selected 11 18 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 11 18
}

@test "12 -> 12" {
	mx_selected 12 12 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 12 12
}

@test "12 -> 13" {
	mx_selected 12 13 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 12 13
}

@test "12 -> 14" {
	mx_selected 12 14 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 12 14
}

@test "12 -> 15" {
	mx_selected 12 15 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 12 15
}

@test "12 -> 16" {
	mx_selected 12 16 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 12 16
}

@test "12 -> 17" {
	mx_selected 12 17 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 12 17
}

@test "12 -> 18" {
	mx_selected 12 18 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 12 18
}

@test "13 -> 13" {
	mx_selected 13 13 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 13 13
}

@test "13 -> 14" {
	mx_selected 13 14 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 13 14
}

@test "13 -> 15" {
	mx_selected 13 15 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 13 15
}

@test "13 -> 16" {
	mx_selected 13 16 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 13 16
}

@test "13 -> 17" {
	mx_selected 13 17 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 13 17
}

@test "13 -> 18" {
	mx_selected 13 18 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 13 18
}

@test "14 -> 14" {
	mx_selected 14 14 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 14 14
}

@test "14 -> 15" {
	mx_selected 14 15 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 14 15
}

@test "14 -> 16" {
	mx_selected 14 16 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 14 16
}

@test "14 -> 17" {
	mx_selected 14 17 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 14 17
}

@test "14 -> 18" {
	mx_selected 14 18 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 14 18
}

@test "15 -> 15" {
	mx_selected 15 15 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 15 15
}

@test "15 -> 16" {
	mx_selected 15 16 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 15 16
}

@test "15 -> 17" {
	mx_selected 15 17 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 15 17
}

@test "15 -> 18" {
	mx_selected 15 18 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 15 18
}

@test "16 -> 16" {
	mx_selected 16 16 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 16 16
}

@test "16 -> 17" {
	mx_selected 16 17 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 16 17
}

@test "16 -> 18" {
	mx_selected 16 18 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 16 18
}

@test "17 -> 17" {
	mx_selected 17 17 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 17 17
}

@test "17 -> 18" {
	mx_selected 17 18 || skip "not in MIGKIT_MATRIX=${MIGKIT_MATRIX:-quick}"
	mx_pair 17 18
}
