#!/bin/bash
# The demo: start the server on the embedded default (SQLite, generated
# CA), create a tenant and an admin key with the CLI, show them, stop.
#
# usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
wg=$build/src/cli/whiteglove
demo=.demo
state=$demo/state

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$demo"
mkdir -p "$demo"
say "Starting the server (SQLite in $state, a private CA made on first start)"
"$wg" serve --state-dir "$state" --listen 127.0.0.1:0 >"$demo/server.log" 2>&1 &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
port=""
for _ in $(seq 1 200); do
	port=$(sed -n 's/.*listening on https:\/\/[^ ]*:\([0-9]*\) .*/\1/p' \
		"$demo/server.log" | head -n 1)
	[ -n "$port" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$demo/server.log"; exit 1; }
	sleep 0.05
done
[ -n "$port" ] || { cat "$demo/server.log"; echo "server did not start"; exit 1; }
sed 's/^/  server | /' "$demo/server.log"

export WHITEGLOVE_URL=https://127.0.0.1:$port
export WHITEGLOVE_CA=$state/tls/ca.crt
export WHITEGLOVE_TOKEN
WHITEGLOVE_TOKEN=$(cat "$state/operator.key")
echo "  server is up at $WHITEGLOVE_URL; the CLI pins $WHITEGLOVE_CA"

say "Operator: whiteglove tenant create Contoso"
out=$("$wg" tenant create Contoso)
printf '%s\n' "$out" | sed 's/^/  /'
admin_key=$(printf '%s\n' "$out" | grep -o 'wgk\.[A-Za-z0-9._-]*' | head -n 1)
[ -n "$admin_key" ] || { echo "no admin key in the output"; exit 1; }
say "Operator: whiteglove tenant list"
"$wg" tenant list

say "Tenant admin: whiteglove key create --name depot"
WHITEGLOVE_TOKEN=$admin_key "$wg" key create --name depot
say "Tenant admin: whiteglove key list"
WHITEGLOVE_TOKEN=$admin_key "$wg" key list

say "Explaining an error code: whiteglove explain 0x80180014"
"$wg" explain 0x80180014

say "Stopping the server (SIGTERM drains requests in flight)"
kill -TERM "$pid"
if wait "$pid"; then
	trap - EXIT
	tail -n 2 "$demo/server.log" | sed 's/^/  server | /'
	echo "  server exited 0"
else
	echo "  server exited with an error"; exit 1
fi
