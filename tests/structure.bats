#!/usr/bin/env bats
# The shape of the C sources: no file under tools/ over 600 lines, and no
# two files that call each other in a circle (read from the objects the
# build made: which file defines each symbol another one uses).

setup() {
	load test_helper/common
	SRCDIR=${MIGKIT_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
	OBJDIR=$(dirname "$MIGKIT")/tools
}

@test "no C source under tools/ is over 600 lines" {
	run -0 awk 'FNR == 601 { print FILENAME ": over 600 lines" }' "$SRCDIR"/tools/*.c
	assert_output ""
}

@test "no two C files under tools/ call each other in a circle" {
	command -v nm >/dev/null || skip "nm (binutils) is not installed"
	compgen -G "$OBJDIR/*.o" >/dev/null || skip "no objects in $OBJDIR (build first)"
	# Each line of nm: "FILE: SYMBOL" for a definition, "FILE: U SYMBOL" for a use.
	run -0 bash -c 'for o in "$1"/*.o; do nm "$o" | sed "s|^|${o##*/} |"; done' _ "$OBJDIR"
	run -0 awk '
		NF == 4 && $3 ~ /^[TDBR]$/ { owner[$4] = $1 }
		NF == 3 && $2 == "U" { uses[$1] = uses[$1] " " $3 }
		END {
			for (f in uses) {
				n = split(uses[f], s, " ")
				for (i = 1; i <= n; i++)
					if ((s[i] in owner) && owner[s[i]] != f) edge[f, owner[s[i]]] = 1
				files[f] = 1
			}
			for (o in owner) files[owner[o]] = 1
			# Reachability by repeated passes (a few dozen files).
			for (k in edge) reach[k] = 1
			do {
				grew = 0
				for (k in reach) {
					split(k, ab, SUBSEP)
					for (c in files)
						if (((ab[2], c) in reach) && !((ab[1], c) in reach)) { reach[ab[1], c] = 1; grew = 1 }
				}
			} while (grew)
			for (k in reach) {
				split(k, ab, SUBSEP)
				if (ab[1] < ab[2] && ((ab[2], ab[1]) in reach)) print ab[1] " <-> " ab[2]
			}
		}' <<<"$output"
	assert_output ""
}
