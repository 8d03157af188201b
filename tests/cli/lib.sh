# Shared by the CLI tests: run whiteglove as a person would and check the
# exit code and what it printed.  Source it, set wg, call expect, then done.
unset WHITEGLOVE_URL WHITEGLOVE_TOKEN WHITEGLOVE_CA
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# expect WANT_EXIT STREAM PATTERN ARGS...: runs whiteglove ARGS, checks the
# exit code and that STREAM (out or err) matches the grep PATTERN.
expect() {
	want=$1 stream=$2 pattern=$3
	shift 3
	"$wg" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "whiteglove $*: exit $rc, want $want"
		sed 's/^/  | /' "$tmp/out" "$tmp/err" >&2
	elif ! grep -q -e "$pattern" "$tmp/$stream"; then
		fail "whiteglove $*: std$stream lacks '$pattern'"
		sed 's/^/  | /' "$tmp/$stream" >&2
	fi
}

done_testing() {
	if [ "$fails" -ne 0 ]; then
		echo "$fails check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
}
