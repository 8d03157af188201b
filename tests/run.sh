#!/bin/bash
# Runs every test: unit tests (also under ASan+UBSan), then the integration
# tests against the real server over HTTPS on SQLite and on a throwaway
# PostgreSQL cluster that is stopped again however the run ends.
#
# usage: tests/run.sh BUILD_DIR ASAN_BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
asan=${2:-build-asan}

pgdir=$(mktemp -d /tmp/wg-pg.XXXXXX)
cleanup() { tests/pgcluster.sh stop "$pgdir" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
echo "== starting a throwaway PostgreSQL cluster"
WG_TEST_PG_URL=$(tests/pgcluster.sh start "$pgdir")
export WG_TEST_PG_URL WG_TEST_PG_DIR=$pgdir

echo "== unit tests"
meson test -C "$build" --print-errorlogs
echo "== unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C "$asan" --print-errorlogs --suite unit

# The integration tests run the release build and the ASan+UBSan build of
# the server: a leak or a memory error makes the server exit non-zero at
# SIGTERM, which the tests check.
for bin in "$build" "$asan"; do
	for backend in sqlite postgresql; do
		echo "== integration tests on $backend ($bin)"
		ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		WG_BIN="$bin/src/cli/whiteglove" \
		WG_AGENT_BIN="$bin/src/agent/whiteglove-agent" \
		WG_GEN_HASHES="$bin/tools/gen_hashes" WG_TEST_BACKEND=$backend \
			python3 -m unittest discover -s tests/integration \
			-p 'test_*.py'
	done
done
echo "== all tests passed"
