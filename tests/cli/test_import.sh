#!/bin/sh
# test_import.sh WHITEGLOVE: import, devices and device, offline: their
# argument checks, how a file is told JSON from CSV and checked before
# anything is sent, and how an unreachable server is reported (nothing
# listens on 127.0.0.1 port 9).  test_import_mock.py runs them against a
# stand-in server that speaks the API's contract.
set -u
wg=$1
. "$(dirname "$0")/lib.sh"
down=http://127.0.0.1:9
k="--token k --url $down"

# Operands and options.
expect 2 err 'give a FILE to import, or show ID' import --token k
expect 2 err 'give one FILE' import a b --token k
expect 2 err 'show takes one import ID' import show --token k
expect 2 err 'ID must be an import id' import show ../tenants --token k
expect 2 err '\-\-errors goes with show' import f.csv --errors --token k
expect 2 err "option '--tenant' needs a value" import f.csv --tenant
expect 0 out '^usage: whiteglove import FILE' import --help
expect 0 out '^usage: whiteglove devices' devices --help
expect 0 out '^usage: whiteglove device show ID' device --help
expect 0 out '^  import  *import devices from a CSV or JSON file' help
expect 0 out '^  devices  *list registered devices' help
expect 2 err 'devices takes no arguments' devices extra --token k
expect 2 err 'give show, delete, set, mdm, unenroll, allow-next-enrollment, setup or timeline' \
    device --token k
expect 2 err 'give show, delete, set, mdm, unenroll,' device remove x --token k
expect 2 err 'give one device ID' device setup --token k
expect 0 out 'whiteglove device setup ID' device --help
expect 2 err 'give one device ID' device show --token k
expect 2 err 'give one device ID' device show a b --token k
expect 2 err 'ID must be a device id' device delete a/b --token k
expect 2 err 'ID must be a device id' device show .. --token k
expect 2 err 'set needs --group-tag or --user' device set d1 --token k
expect 2 err '\-\-group-tag and --user go with set' device show d1 \
    --user u@x --token k

# No key: the catalog's WG_E_AUTH_MISSING, before the file is opened.
expect 2 err 'WG_E_AUTH_MISSING' import /nonexistent.csv
expect 2 err 'WG_E_AUTH_MISSING' devices

# The file, checked before anything is sent.
expect 1 err '^whiteglove: 0xA0570202 WG_E_IO: ' import /nonexistent.csv $k
expect 1 err '/nonexistent.csv: No such file or directory' import \
    /nonexistent.csv $k
expect 1 err "$tmp: is a directory" import "$tmp" $k
: >"$tmp/empty.csv"
expect 1 err 'empty.csv: is empty: nothing to import' import \
    "$tmp/empty.csv" $k
printf '\357\273\277 \r\n\t\n' >"$tmp/blank.csv"
expect 1 err 'blank.csv: is empty' import "$tmp/blank.csv" $k
printf ' [{"serialNumber":"1"}]' >"$tmp/array.json"
expect 1 err 'is a JSON array; a JSON import is an object' import \
    "$tmp/array.json" $k
printf '{"importedDeviceIdentities": [' >"$tmp/bad.json"
expect 1 err '^whiteglove: 0xA0570002 WG_E_JSON_MALFORMED: ' import \
    "$tmp/bad.json" $k
printf '{"importedDeviceIdentities": 1}' >"$tmp/field.json"
expect 1 err 'needs an array "importedDeviceIdentities"' import \
    "$tmp/field.json" $k
{
	printf '{"importedDeviceIdentities": [{}'
	i=1
	while [ $i -le 10000 ]; do printf ',{}'; i=$((i + 1)); done
	printf ']}'
} >"$tmp/rows.json"
expect 1 err 'holds 10001 devices; one JSON import takes at most 10000' \
    import "$tmp/rows.json" $k
{ printf '{"x":"'; head -c 16777216 /dev/zero | tr '\0' a; printf '"}'; } \
    >"$tmp/big.json"
expect 1 err '0xA0570004 WG_E_BODY_TOO_LARGE' import "$tmp/big.json" $k
expect 1 err 'larger than 16 MiB' import "$tmp/big.json" $k
rm -f "$tmp/big.json" "$tmp/rows.json"

# JSON or CSV by content, whatever the name: the first request says which.
printf '\357\273\277\n {"importedDeviceIdentities": []}' >"$tmp/bom.csv"
expect 1 err '^whiteglove: POST http://127.0.0.1:9/admin/v1/imported'\
'DeviceIdentities/import: ' import "$tmp/bom.csv" $k
printf 'Device Serial Number\nSN1\n' >"$tmp/devices.json"
expect 1 err '^whiteglove: POST http://127.0.0.1:9/admin/v1/imports: ' \
    import "$tmp/devices.json" $k
expect 1 err '^whiteglove: 0xA0570302 WG_E_NET_CONNECT: ' import \
    "$tmp/devices.json" $k
expect 1 err '^whiteglove: remedy: ' import "$tmp/devices.json" $k

# The other calls, to an unreachable server.
expect 1 err 'GET http://127.0.0.1:9/admin/v1/imports/i1: ' import show \
    i1 $k
expect 1 err 'GET http://127.0.0.1:9/admin/v1/devices: ' devices $k
expect 1 err 'GET http://127.0.0.1:9/admin/v1/devices/d1: ' device show \
    d1 $k
expect 1 err 'DELETE http://127.0.0.1:9/admin/v1/devices/d1: ' device \
    delete d1 $k
expect 1 err 'PATCH http://127.0.0.1:9/admin/v1/devices/d1: ' device set \
    d1 --group-tag Sales $k

# Against a stand-in server that answers as the API's contract says.
python3 "$(dirname "$0")/mock_admin.py" "$tmp" &
mock=$!
trap 'kill $mock 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
while [ ! -f "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
up="--token k --url http://127.0.0.1:$(cat "$tmp/port")"

# A CSV file: streamed byte for byte, the result summed up, exit 1 as
# rows failed, and nothing on stderr when it is not a terminal.
{
	printf '\357\273\277Device Serial Number,Windows Product ID,'
	printf 'Hardware Hash,Group Tag,Assigned User\r\n'
	printf 'SN1,,AAAA,,\r\nDUP1,,AAAA,,\r\n"SN2",,AAAA,"Sales, EMEA",\r\n'
	printf 'DUP2,,AAAA,,\r\nSN3,,AAAA,,\r\nDUP3,,AAAA,,\r\n'
} >"$tmp/devices.csv"
expect 1 out '^Import imp1: partial$' import "$tmp/devices.csv" --tenant t1 \
    $up
[ -s "$tmp/err" ] && fail "import wrote to stderr: $(cat "$tmp/err")"
cmp -s "$tmp/upload.body" "$tmp/devices.csv" || fail "upload differs"
printf 'text/csv\nlength %s\nimportId=imp1 tenantId=t1\n' \
    "$(wc -c <"$tmp/devices.csv" | tr -d ' ')" | cmp -s - "$tmp/upload.meta" ||
    fail "upload: $(cat "$tmp/upload.meta")"
expect 1 out '^  rows:      6 (3 imported, 3 failed)$' import \
    "$tmp/devices.csv" $up
expect 1 out '^CODE  NAME  *COUNT$' import "$tmp/devices.csv" $up
expect 1 out '^806   ZtdDeviceAlreadyAssigned  3$' import "$tmp/devices.csv" $up
expect 1 out 'whiteglove explain 806$' import "$tmp/devices.csv" $up
expect 1 out 'whiteglove import show imp1 --errors$' import \
    "$tmp/devices.csv" $up
expect 1 out '"failedCount": 3,' import "$tmp/devices.csv" --json $up

# The failed rows, by line, every page of them.
expect 1 out '^LINE  SERIAL  CODE  NAME  *MESSAGE$' import show imp1 --errors $up
expect 1 out '^7     DUP3    806   ZtdDeviceAlreadyAssigned  -$' import show \
    imp1 --errors $up
expect 1 out '"next": null' import show imp1 --errors --json $up
expect 1 out '^Import imp1: partial$' import show imp1 $up

# From a pipe: sent chunked.
cat "$tmp/devices.csv" | "$wg" import /dev/stdin $up >"$tmp/out" 2>&1
cmp -s "$tmp/upload.body" "$tmp/devices.csv" || fail "piped upload differs"
sed -n 2p "$tmp/upload.meta" | grep -q '^chunked$' || fail "pipe not chunked"

# Every row imported: exit 0.
printf 'Device Serial Number\nSN1\nSN2' >"$tmp/good.csv"
expect 0 out '^  rows:      2 (2 imported, 0 failed)$' import "$tmp/good.csv" $up

# A syntax error stops the import: the server's words, and what arrived.
printf 'Device Serial Number\nSN1\nBAD"x\nSN3\n' >"$tmp/syntax.csv"
expect 1 err 'WG_E_CSV_SYNTAX: line 3, column 4: a quote inside an unquoted '\
'field (request req-1)$' import "$tmp/syntax.csv" $up
expect 1 out '^Import imp1: error$' import "$tmp/syntax.csv" $up

# A JSON file: one request, the failed rows listed.
printf '{"importedDeviceIdentities": [{"serialNumber": "SN1"}, '\
'{"serialNumber": "DUP9"}]}' >"$tmp/devices.json"
expect 1 out '^  rows:      2 (1 imported, 1 failed)$' import \
    "$tmp/devices.json" $up
expect 1 out '^2    DUP9    806   ZtdDeviceAlreadyAssigned  -$' import \
    "$tmp/devices.json" $up

# On a terminal: the progress line (rows/s once the server was polled).
if command -v script >/dev/null 2>&1; then
	printf 'Device Serial Number\nSN1\nSLOW\nSN2\n' >"$tmp/slow.csv"
	script -qec "$wg import $tmp/slow.csv $up" /dev/null >"$tmp/tty" 2>&1
	grep -q '100%.* [0-9][0-9]* rows/s  0 errors  ETA 0:00' "$tmp/tty" ||
	    fail "no progress line on a terminal: $(cat -v "$tmp/tty")"
fi

# Devices: a page and a note, or every page.
expect 0 out '^SERIAL  MANUFACTURER  MODEL  *GROUP TAG  STATE  *ENABLED  ID$' \
    devices $up
expect 0 out '^More devices exist: add --all' devices $up
expect 0 out '^PF5  ' devices --all $up
expect 0 out '"next": "c2"' devices --json $up
expect 0 out '"next": null' devices --serial PF --all --json $up
expect 0 out '^  serial number:    PF1$' device show d1 $up
expect 0 out '^  group tag:        Sales$' device set d2 --group-tag Sales \
    --user u@example.com $up
expect 0 out '^  assigned user:    u@example.com$' device show d2 $up
expect 0 out '^Deleted device d5$' device delete d5 $up
expect 1 err 'WG_E_NOT_FOUND: no device d5 (request req-1)$' device show \
    d5 $up
expect 1 err 'WG_E_AUTH_INVALID' devices --url "http://127.0.0.1:$(cat \
    "$tmp/port")" --token wrong

done_testing
