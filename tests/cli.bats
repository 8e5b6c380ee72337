#!/usr/bin/env bats
# The migkit binary's own interface: --help, --version, bad options.

setup() {
	load test_helper/common
}

@test "migkit --help lists the commands and exits 0" {
	run -0 "$MIGKIT" --help
	assert_output --partial "Usage:"
	assert_output --partial "render"
	assert_output --partial "seq"
	assert_output --partial "diff"
	assert_output --partial "progress"
	assert_output --partial "copy"
	assert_output --partial "report"
}

@test "migkit --version prints the version" {
	run -0 "$MIGKIT" --version
	assert_output --regexp '^migkit [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "migkit with no command fails with a hint" {
	run -2 --separate-stderr "$MIGKIT"
	assert_equal "$output" ""
	[[ $stderr == *'Try "migkit --help"'* ]]
}

@test "an unknown command fails with a hint" {
	run -2 --separate-stderr "$MIGKIT" frobnicate
	[[ $stderr == *'unknown command "frobnicate"'* ]]
	[[ $stderr == *'--help'* ]]
}

@test "every subcommand answers --help with exit 0" {
	for cmd in render seq diff progress copy report; do
		run -0 "$MIGKIT" "$cmd" --help
		assert_output --partial "Usage: migkit $cmd"
		assert_output --partial "Exit status"
	done
}

@test "every subcommand refuses a bad option with exit 2 and a hint" {
	for cmd in render seq diff progress copy report; do
		run -2 --separate-stderr "$MIGKIT" "$cmd" --no-such-option
		[[ $stderr == *"Try \"migkit $cmd --help\""* ]]
	done
}

@test "each man page documents the options its --help lists" {
	local cmd opt page
	for cmd in render seq diff progress copy report; do
		page="$MIGKIT_SRCDIR/man/migkit-$cmd.1"
		[ -f "$page" ]
		grep -q '^\.SH EXIT STATUS' "$page"
		for opt in $("$MIGKIT" "$cmd" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
			grep -qF -- "${opt//-/\\-}" "$page" || grep -qF -- "$opt" "$page" ||
				fail "migkit-$cmd.1 does not mention $opt"
		done
	done
}
