#!/usr/bin/env bash
# deb.sh SRCDIR OUTDIR: the Debian package of the git checkout SRCDIR, built
# as from a clean checkout.  The checkout's files as they are now (tracked
# ones, and new ones git does not ignore; no build products) are copied to
# OUTDIR/migkit-VERSION, dpkg-buildpackage -us -uc -b runs there, and the
# .deb, .buildinfo and .changes land in OUTDIR.  SRCDIR's own build is not
# touched.  The packaging tools come from ./bootstrap.
set -euo pipefail

die() {
	printf 'deb.sh: %s\n' "$*" >&2
	exit 2
}

[ $# -eq 2 ] || die "usage: deb.sh SRCDIR OUTDIR"
srcdir=$(cd "$1" && pwd -P) || die "no directory $1"
mkdir -p "$2"
outdir=$(cd "$2" && pwd -P)

for tool in git dpkg-buildpackage dpkg-parsechangelog dh; do
	command -v "$tool" >/dev/null || die "$tool not found: run ./bootstrap, which installs the packaging tools"
done
git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	die "$srcdir is not a git checkout: the package is built from a checkout's files"

version=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version)
upstream=${version#*:}
upstream=${upstream%-*}
tree=$outdir/migkit-$upstream

rm -rf "$tree"
rm -f "$outdir"/migkit_"$version"_*.{deb,buildinfo,changes} "$outdir"/migkit-dbgsym_"$version"_*.deb
mkdir -p "$tree"
# A tracked file deleted in the work tree is left out, as in a commit of it.
git -C "$srcdir" ls-files -z --cached --others --exclude-standard |
	(cd "$srcdir" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
	tar -C "$srcdir" --null -T - -cf - | tar -C "$tree" -xf -

# The build must not inherit a calling make's jobs, variables or flags.
cd "$tree"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u CFLAGS -u CPPFLAGS -u LDFLAGS \
	dpkg-buildpackage -us -uc -b
rm -rf "$tree"
printf 'deb.sh: built %s\n' "$(ls "$outdir"/migkit_"$version"_*.deb)"
