#!/usr/bin/env bats
# The Debian package, as an operator gets it: built by dpkg-buildpackage from
# a clean copy of the checkout (build-aux/deb.sh), lintian clean, and, unpacked
# into a scratch root with no source tree near it, a migkit that renders a
# working kit.  Run by "make check-deb", not by "make check": it needs the
# packaging tools and takes a package build.  No server.

setup_file() {
	load test_helper/common
	export OUT=$BATS_FILE_TMPDIR/out ROOT=$BATS_FILE_TMPDIR/root
	VERSION=$(dpkg-parsechangelog -l "$MIGKIT_SRCDIR/debian/changelog" -S Version)
	UPSTREAM=${VERSION#*:}
	UPSTREAM=${UPSTREAM%-*}
	DEB=$OUT/migkit_${VERSION}_$(dpkg --print-architecture).deb
	CHANGES=$OUT/migkit_${VERSION}_$(dpkg --print-architecture).changes
	export VERSION UPSTREAM DEB CHANGES
	if ! "$MIGKIT_SRCDIR/build-aux/deb.sh" "$MIGKIT_SRCDIR" "$OUT" >"$BATS_FILE_TMPDIR/build.log" 2>&1; then
		tail -n 40 "$BATS_FILE_TMPDIR/build.log" | sed 's/^/# /' >&3
		return 1
	fi
	mkdir "$ROOT"
	dpkg -x "$DEB" "$ROOT"
}

setup() {
	load test_helper/common
	cd "$BATS_TEST_TMPDIR" || return
}

# in_clean_env COMMAND...: COMMAND with nothing of the build's environment:
# the system's PATH, a HOME of its own, no MIGKIT or MIGKIT_SRCDIR.
in_clean_env() {
	mkdir -p "$BATS_TEST_TMPDIR/home"
	env -i PATH=/usr/bin:/bin HOME="$BATS_TEST_TMPDIR/home" LC_ALL=C.UTF-8 "$@"
}

@test "dpkg-buildpackage builds migkit_VERSION_ARCH.deb from a clean copy of the checkout" {
	[ -f "$DEB" ] || fail "no $DEB; the build printed: $(tail -n 20 "$BATS_FILE_TMPDIR/build.log")"
	assert_equal "$(dpkg-deb -f "$DEB" Package)" migkit
	assert_equal "$(dpkg-deb -f "$DEB" Version)" "$VERSION"
	# The copy it was built in is gone; the checkout's own build is untouched.
	run -0 find "$OUT" -mindepth 1 -maxdepth 1 -type d
	assert_output ""
	run -0 grep -F 'dpkg-buildpackage: info: binary-only upload' "$BATS_FILE_TMPDIR/build.log"
}

@test "lintian reports no error and no warning" {
	run lintian --fail-on error,warning "$CHANGES"
	printf '%s\n' "$output" | sed 's/^/# lintian: /' >&3
	[ "$status" -eq 0 ] || fail "lintian exit $status"
	refute_output --regexp '^[EW]: '
}

@test "the package holds the binary, every man page, the copyright and the changelog" {
	local page section
	[ -x "$ROOT/usr/bin/migkit" ]
	for page in "$MIGKIT_SRCDIR"/man/*.[15]; do
		section=${page##*.}
		[ -f "$ROOT/usr/share/man/man$section/${page##*/}.gz" ] || fail "no man page ${page##*/} in the package"
	done
	[ -f "$ROOT/usr/share/doc/migkit/changelog.Debian.gz" ]
	[ -f "$ROOT/usr/share/doc/migkit/examples/migration.yml" ]
	run -0 head -n 1 "$ROOT/usr/share/doc/migkit/copyright"
	assert_output 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/'
	# Templates are embedded: no data files beside the binary.
	[ ! -e "$ROOT/usr/share/migkit" ]
	# Nothing in it points at the tree it was built in.
	run -1 grep -rlF "$OUT" "$ROOT"
}

@test "Depends names the shared libraries and what the kit runs, and apt can satisfy it here" {
	run -0 dpkg-deb -f "$DEB" Depends
	assert_output --regexp '(^|, )libpq5( |,|$)'
	assert_output --regexp '(^|, )libyaml-0-2( |,|$)'
	assert_output --partial 'bash (>= 5.0)'
	assert_output --regexp '(^|, )postgresql-client(,|$)'
	assert_output --regexp '(^|, )jq(,|$)'
	run -0 apt-get install --simulate --no-install-recommends "$DEB"
	assert_output --regexp "Inst migkit \\(${VERSION//./\\.} "
}

@test "migkit --version is debian/changelog's upstream version and configure.ac's" {
	local ac
	ac=$(sed -n 's/^AC_INIT(\[migkit\], \[\([^]]*\)\].*/\1/p' "$MIGKIT_SRCDIR/configure.ac")
	[ -n "$ac" ] || fail "no version in configure.ac's AC_INIT"
	assert_equal "$UPSTREAM" "$ac"
	run -0 in_clean_env "$ROOT/usr/bin/migkit" --version
	assert_output "migkit $UPSTREAM"
}

@test "the packaged migkit renders a kit of executable scripts from the packaged example" {
	local t name
	run -0 in_clean_env "$ROOT/usr/bin/migkit" render -o kit "$ROOT/usr/share/doc/migkit/examples/migration.yml"
	assert_output --partial "rendered the kit for pg-meta.meta in $BATS_TEST_TMPDIR/kit"
	for t in "$MIGKIT_SRCDIR"/templates/*; do
		name=${t##*/}
		# The fleet's own files go to a fleet's directory, not to a kit.
		case $name in fleet | fleet-README.md) continue ;; esac
		[ -f "kit/$name" ] || fail "kit/$name is missing"
		case $name in
		activate | README.md) [ ! -x "kit/$name" ] || fail "kit/$name is executable" ;;
		*) [ -x "kit/$name" ] || fail "kit/$name is not executable" ;;
		esac
	done
	for name in lib.sh switch.sh; do
		[ -f "kit/kit/$name" ] || fail "kit/kit/$name is missing"
	done
	for t in "$MIGKIT_SRCDIR"/kit/sql/*.sql; do
		name=sql/${t##*/}
		cmp -s "$t" "kit/kit/$name" || fail "kit/kit/$name is missing or differs from the source's"
	done
	run -0 grep -x "export MIGKIT_BIN=$ROOT/usr/bin/migkit" kit/activate
	run -1 grep -rlF "$MIGKIT_SRCDIR" kit
}

@test "a script of the packaged kit answers --help, and its context runs the packaged migkit" {
	in_clean_env "$ROOT/usr/bin/migkit" render -q -o kit "$ROOT/usr/share/doc/migkit/examples/migration.yml"
	run -0 in_clean_env kit/copy-diff --help
	assert_output --partial 'Usage: copy-diff'
	assert_output --partial 'Exit status: 0 done'
	run -0 in_clean_env kit/copy-diff --dry-run
	assert_output "would run: $ROOT/usr/bin/migkit diff "
	# shellcheck disable=SC2016 # MIGKIT_BIN is the kit's, for the inner bash
	run -0 in_clean_env bash -c '. kit/activate >/dev/null && "$MIGKIT_BIN" diff --help'
	assert_output --partial 'Usage: migkit diff'
}
