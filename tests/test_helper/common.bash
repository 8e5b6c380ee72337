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
