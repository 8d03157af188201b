#!/bin/bash
# The demo: the server on the embedded default (SQLite, a generated CA),
# a tenant, a profile and an app; a device (swtpm) registered by its hash
# and pre-provisioned by the agent to the green reseal screen; the
# server's view of it; then the user the device is for (created by the
# tenant admin), the delivery (a power cycle of swtpm: one boot, which
# the strict policy allows), her sign-in on the device (whiteglove-agent
# login) with account setup (her app installed), an access token (its
# claims, never the token), the restored device certificate, the owner
# the directory records and the device's timeline on the server; every
# process stopped.
#
# usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
wg=$build/src/cli/whiteglove
agent=$build/src/agent/whiteglove-agent
demo=$PWD/.demo
state=$demo/state

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$demo"
mkdir -p "$demo"
say "Starting the server (SQLite in $state, a private CA made on first start)"
"$wg" serve --state-dir "$state" --listen 127.0.0.1:0 >"$demo/server.log" 2>&1 &
pid=$!
swtpm_pid=""
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

say "Depot: the device's TPM (swtpm) and its hardware hash (whiteglove-agent hash)"
mkdir -p "$demo/tpm"
stop() {
	kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
	[ -z "$swtpm_pid" ] || kill "$swtpm_pid" 2>/dev/null || true
	[ -z "$swtpm_pid" ] || wait "$swtpm_pid" 2>/dev/null || true
}
trap stop EXIT
# swtpm on a free pair of loopback ports (TPM, control); another process
# may take one between the choice and the bind, so a few tries.  The
# agent's first command must find it listening, however slow the host.
for _ in 1 2 3 4 5; do
	tpm_port=$(python3 -c 'import socket
for _ in range(50):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()')
	swtpm socket --tpm2 --tpmstate dir="$demo/tpm" \
		--server type=tcp,port="$tpm_port",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((tpm_port + 1)),bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear >"$demo/swtpm.log" 2>&1 &
	swtpm_pid=$!
	for _ in $(seq 1 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$tpm_port") 2>/dev/null && break 2
		kill -0 "$swtpm_pid" 2>/dev/null || break
		sleep 0.05
	done
	wait "$swtpm_pid" 2>/dev/null || true
	swtpm_pid=""
done
[ -n "$swtpm_pid" ] || { cat "$demo/swtpm.log"; echo "swtpm did not start"; exit 1; }
# A VM or container has no SMBIOS serial: the agent says so and takes one.
"$agent" hash --tcti "swtpm:host=127.0.0.1,port=$tpm_port" \
	--serial DEMO-0001 --group-tag Depot >"$demo/device.csv"
cut -c1-120 "$demo/device.csv" | sed 's/^/  /'
echo "  … (the hash is $(tail -n 1 "$demo/device.csv" | cut -d, -f3 | wc -c) characters of base64)"

say "What the hash holds: whiteglove hash decode"
"$wg" hash decode "$(tail -n 1 "$demo/device.csv" | cut -d, -f3)" | sed 's/^/  /'

say "Tenant admin: whiteglove import device.csv"
WHITEGLOVE_TOKEN=$admin_key "$wg" import "$demo/device.csv"
WHITEGLOVE_TOKEN=$admin_key "$wg" devices

say "Tenant admin: a pre-provisioning profile for the Depot group tag (whiteglove profile)"
WHITEGLOVE_TOKEN=$admin_key "$wg" profile create "Depot pre-provisioning" \
	--mode pre-provisioning --name-template 'CT-%SERIAL%' \
	--oobe skipEula,userNotLocalAdmin,skipExpressSettings
WHITEGLOVE_TOKEN=$admin_key "$wg" profile assign "Depot pre-provisioning" \
	--group-tag Depot
WHITEGLOVE_TOKEN=$admin_key "$wg" profile list

say "Tenant admin: a device app for the Depot group tag (whiteglove app create)"
mkdir -p "$demo/installed"
head -c 2097152 /dev/urandom >"$demo/contoso-vpn.bin"
WHITEGLOVE_TOKEN=$admin_key "$wg" app create "Contoso VPN" \
	--file "$demo/contoso-vpn.bin" --tag Depot \
	--install "install -m 0644 \"\$WHITEGLOVE_APP_FILE\" $demo/installed/contoso-vpn.bin"
WHITEGLOVE_TOKEN=$admin_key "$wg" app list

say "Factory: the TPM's EK gets its certificate (whiteglove ekca register)"
# A firmware TPM has no EK certificate in NV: the manufacturer's service
# issues one, which the device fetches (tpm2-tools reads the EK here).
TPM2TOOLS_TCTI="swtpm:port=$tpm_port" tpm2_createek -G rsa \
	-c "$demo/ek.ctx" -u "$demo/ek.pub" >/dev/null
TPM2TOOLS_TCTI="swtpm:port=$tpm_port" tpm2_flushcontext -t
"$wg" ekca register --ek-public "$demo/ek.pub" --manufacturer id:49424D00 \
	--model swtpm --version id:20191023 | sed 's/^/  /'

say "Device: pre-provisioning in the depot (whiteglove-agent provision)"
# On a terminal the progress screen redraws in place; in a log it is one
# line per change.
"$agent" provision --tcti "swtpm:host=127.0.0.1,port=$tpm_port" \
	--server "$WHITEGLOVE_URL" --ca "$WHITEGLOVE_CA" \
	--aik-root "$state/aik/root.crt" \
	--ekcert-url "$WHITEGLOVE_URL/ekcertservice" --ek-roots "$state/ek-trust" \
	--state-dir "$demo/agent" --serial DEMO-0001
echo "  the sealed profile the TPM opened ($demo/agent/AutopilotDDSZTDFile.json):"
python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
for k in ("CloudAssignedTenantDomain", "DeploymentProfileName", "DeploymentMode", "CloudAssignedDeviceName", "ZtdCorrelationId"):
    print("    %s: %s" % (k, p.get(k)))' "$demo/agent/AutopilotDDSZTDFile.json"
echo "  the AIK certificate, checked by openssl against the attestation CA:"
openssl verify -CAfile "$state/aik/root.crt" \
	-untrusted "$demo/agent/aik-ca.pem" "$demo/agent/aik.crt" | sed 's/^/    /'
echo "  the MDM certificate, checked by openssl against the MDM CA:"
openssl verify -CAfile "$state/mdm/root.crt" \
	-untrusted "$demo/agent/mdm-ca.pem" "$demo/agent/mdm.crt" | sed 's/^/    /'
echo "  the app the device installed, compared with what the admin uploaded:"
cmp "$demo/contoso-vpn.bin" "$demo/installed/contoso-vpn.bin" &&
	echo "    identical ($(stat -c %s "$demo/installed/contoso-vpn.bin") bytes)"

say "Tenant admin: the server's view of the device"
device_id=$(WHITEGLOVE_TOKEN=$admin_key "$wg" devices --json |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["value"][0]["id"])')
echo "  the directory object, pre-created disabled at import, now enabled:"
WHITEGLOVE_TOKEN=$admin_key "$wg" devices | sed 's/^/    /'
echo "  MDM enrollment (whiteglove device mdm):"
WHITEGLOVE_TOKEN=$admin_key "$wg" device mdm "$device_id" | sed 's/^/    /'
echo "  device setup, as the device reported it (whiteglove device setup):"
WHITEGLOVE_TOKEN=$admin_key "$wg" device setup "$device_id" | sed 's/^/    /'

say "The same file again: the device is already registered (806)"
WHITEGLOVE_TOKEN=$admin_key "$wg" import "$demo/device.csv" || true

say "Explaining an error code: whiteglove explain 0x80180014"
"$wg" explain 0x80180014

say "Tenant admin: the user the device is for (whiteglove user create)"
# A demo password made at run time (nothing secret in the repository),
# given on standard input, never on a command line; not printed.
password=$(head -c 18 /dev/urandom | base64)
printf '%s\n' "$password" | WHITEGLOVE_TOKEN=$admin_key "$wg" user create \
	ana@contoso.com --display-name "Ana Silva" --password-stdin | sed 's/^/  /'
echo "  (her password: ${#password} random characters made for this run, not shown)"

say "Tenant admin: an app for the device's user (whiteglove app create --target user)"
head -c 65536 /dev/urandom >"$demo/contoso-notes.bin"
WHITEGLOVE_TOKEN=$admin_key "$wg" app create "Contoso Notes" \
	--file "$demo/contoso-notes.bin" --tag Depot --target user \
	--install "install -m 0644 \"\$WHITEGLOVE_APP_FILE\" $demo/installed/contoso-notes.bin" |
	sed 's/^/  /'

say "Delivery: the device is powered off, shipped, and powered on"
# swtpm's control channel: CMD_INIT is the power-on a TPM sees at boot;
# TPM2_Startup(CLEAR) then is what the firmware sends: a TPM Reset.
reset_count() {
	TPM2TOOLS_TCTI="swtpm:port=$tpm_port" tpm2_readclock |
		sed -n 's/^ *reset_count: *//p'
}
before=$(reset_count)
swtpm_ioctl --tcp "127.0.0.1:$((tpm_port + 1))" -i
TPM2TOOLS_TCTI="swtpm:port=$tpm_port" tpm2_startup -c
after=$(reset_count)
echo "  the TPM's resetCount: $before before, $after after"
echo "  it moves by one: the user's boot, which the strict policy allows"
[ "$after" -eq $((before + 1)) ] || { echo "resetCount did not move by one"; exit 1; }

say "Device: the user signs in, then account setup (whiteglove-agent login)"
printf '%s\n' "$password" | "$agent" login --user ana@contoso.com \
	--password-stdin --tcti "swtpm:host=127.0.0.1,port=$tpm_port" \
	--server "$WHITEGLOVE_URL" --ca "$WHITEGLOVE_CA" \
	--state-dir "$demo/agent" --serial DEMO-0001 --screen lines |
	sed 's/^/  /'
unset password
cmp "$demo/contoso-notes.bin" "$demo/installed/contoso-notes.bin" &&
	echo "  the user's app is installed ($(stat -c %s "$demo/installed/contoso-notes.bin") bytes, as uploaded)"

say "Device: an access token for the user's mail (whiteglove-agent token)"
token=$("$agent" token --resource urn:contoso:mail \
	--tcti "swtpm:host=127.0.0.1,port=$tpm_port" \
	--server "$WHITEGLOVE_URL" --ca "$WHITEGLOVE_CA" \
	--state-dir "$demo/agent" --serial DEMO-0001)
# A credential: only its length and its claims are shown.
printf '%s' "$token" | python3 -c 'import base64, datetime, json, sys
t = sys.stdin.read().strip()
c = json.loads(base64.urlsafe_b64decode(t.split(".")[1] + "=="))
print("  a %d-character token; its claims:" % len(t))
for k in ("aud", "upn", "deviceid"):
    print("    %s: %s" % (k, c.get(k)))
exp = datetime.datetime.fromtimestamp(c["exp"], datetime.timezone.utc)
print("    exp: %d (%s)" % (c["exp"], exp.strftime("%Y-%m-%dT%H:%M:%SZ")))'
unset token
echo "  the restored device certificate, checked by openssl against the device CA:"
openssl verify -CAfile "$state/drs/root.crt" \
	-untrusted "$demo/agent/device-ca.pem" "$demo/agent/device.crt" |
	sed 's/^/    /'

say "Tenant admin: the device's owner"
echo "  the device, its directory object's owner now set (whiteglove device show):"
WHITEGLOVE_TOKEN=$admin_key "$wg" device show "$device_id" | sed 's/^/    /'
echo "  the user (whiteglove user show ana@contoso.com):"
WHITEGLOVE_TOKEN=$admin_key "$wg" user show ana@contoso.com | sed 's/^/    /'

say "Tenant admin: the device's story, the server's records and the device's events (whiteglove device timeline)"
WHITEGLOVE_TOKEN=$admin_key "$wg" device timeline "$device_id" |
	cut -c1-150 | tail -n 14 | sed 's/^/  /'

say "Stopping the server (SIGTERM drains requests in flight)"
kill "$swtpm_pid" 2>/dev/null || true
kill -TERM "$pid"
if wait "$pid"; then
	trap - EXIT
	tail -n 2 "$demo/server.log" | sed 's/^/  server | /'
	echo "  server exited 0"
else
	echo "  server exited with an error"; exit 1
fi
