#!/bin/sh
# test_client.sh WHITEGLOVE: the client subcommands' argument checks and
# how they report a server they cannot reach (offline: nothing listens on
# 127.0.0.1 port 9).
set -u
wg=$1
. "$(dirname "$0")/lib.sh"
down=http://127.0.0.1:9

# Operands.
expect 2 err 'give create NAME or list' tenant --token k
expect 2 err 'give create NAME or list' tenant create --token k
expect 2 err 'give create NAME or list' tenant list extra --token k
expect 2 err 'give create, list or revoke' key --token k
expect 2 err 'revoke takes one KEY-ID' key revoke --token k
expect 2 err 'KEY-ID must be a key id' key revoke ../tenants --token k
expect 2 err '\-\-name goes with create' key list --name x --token k
expect 2 err "option '--name' needs a value" key create --name
expect 2 err 'version takes no arguments' version extra

# app: operands and options, checked before any connection.
expect 0 out '^  app  *create, upload and assign device setup apps' help
for v in create list show assign unassign delete; do
	expect 0 out "^usage: whiteglove app $v" app $v --help
done
expect 2 err 'give create, list, show, assign, unassign or delete' app \
    --token k
expect 2 err "give the new app's NAME" app create --token k
expect 2 err 'create needs --file F and --install CMD' app create X \
    --file f --token k
expect 2 err '\-\-target must be device or user' app create X --file f \
    --install c --target laptop --token k
expect 2 err '\-\-timeout must be a whole number' app create X --file f \
    --install c --timeout 7201 --token k
expect 2 err 'NAME must be 1 to 128 bytes' app create '' --file f \
    --install c --token k
expect 2 err 'list takes no arguments' app list x --token k
expect 2 err 'give one app ID or NAME' app show --token k
expect 2 err 'give --tag TAG' app assign X --token k
expect 2 err 'give --tag once' app unassign X --tag a --tag b --token k
expect 2 err 'does not go with this command' app list --file f --token k
expect 2 err '\-\-tag goes with create, assign and unassign' app show X \
    --tag a --token k
expect 1 err 'app create: /nonexistent: No such file' app create X \
    --file /nonexistent --install c --token k --url http://127.0.0.1:9
echo data >"$tmp/app.bin"
expect 1 err 'WG_E_NET_CONNECT' app create X --file "$tmp/app.bin" \
    --install c --token k --url http://127.0.0.1:9

# No key: the catalog's WG_E_AUTH_MISSING, before any connection.
expect 2 err '^whiteglove: 0xA0570008 WG_E_AUTH_MISSING: ' tenant list
expect 2 err 'pass --token KEY or set WHITEGLOVE_TOKEN' key list

# A bad URL or CA file is a usage error, named as such.
expect 2 err 'WG_E_CONFIG' tenant list --token k --url ftp://x
expect 2 err 'cannot read CA file /nonexistent/ca.crt' tenant list \
    --token k --ca /nonexistent/ca.crt

# An unreachable server: exit 1, code, name, curl's words and the remedy.
expect 1 err '^whiteglove: 0xA0570302 WG_E_NET_CONNECT: ' tenant list \
    --token k --url $down
expect 1 err '^whiteglove: GET http://127.0.0.1:9/admin/v1/tenants: ' \
    tenant list --token k --url $down
expect 1 err '^whiteglove: remedy: ' key list --token k --url $down
WHITEGLOVE_URL=$down WHITEGLOVE_TOKEN=k
export WHITEGLOVE_URL WHITEGLOVE_TOKEN
expect 1 err 'WG_E_NET_CONNECT' key create --name ci
expect 1 err 'DELETE http://127.0.0.1:9/admin/v1/apiKeys/' key revoke \
    7d1c1f7e-5b7e-4a8e-9c11-0f9d2c3b4a5e

# version only notes an unreachable server.
expect 0 out '^server     unknown: http://127.0.0.1:9 did not answer' version
expect 0 out '"error": {' version --json
unset WHITEGLOVE_URL WHITEGLOVE_TOKEN

done_testing
