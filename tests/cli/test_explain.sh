#!/bin/sh
# test_explain.sh WHITEGLOVE: `whiteglove explain` and the command dispatch,
# run as real processes.  Offline: no server is needed.
set -u
wg=$1
. "$(dirname "$0")/lib.sh"

# Every form of a code a person may type resolves to its entry.
expect 0 out '^0x80180014  MENROLL_E_DEVICENOTSUPPORTED$' explain 0x80180014
expect 0 out '^0x80180014  MENROLL' explain 0X80180014
expect 0 out '^0x801C03F3  DSREG_E_DIRECTORY_DEVICE_NOT_FOUND' explain 0x801c03f3
expect 0 out '^0x80180014  MENROLL' explain 80180014
expect 0 out '^806  ZtdDeviceAlreadyAssigned$' explain 806
expect 0 out '^0x80180014  MENROLL' explain -2145910764
expect 0 out '^0x80180014  MENROLL' explain -- -2145910764
expect 0 out '^0x80180014  MENROLL' explain 2149056532
expect 0 out '^0x80180014  MENROLL' explain menroll_e_devicenotsupported
expect 0 out '^806  ZtdDeviceAlreadyAssigned$' explain ZTDDEVICEALREADYASSIGNED
expect 0 out '^0xA0570009  WG_E_AUTH_INVALID$' explain wg_e_auth_invalid

# An entry shows phase, HTTP status, meaning, causes and remedy.
for p in '^  Phase:  Registering your device for mobile management$' \
    '^  HTTP:   409$' '^Meaning$' '^Likely causes$' '^Remedy$' \
    'allowNextEnrollment'; do
	expect 0 out "$p" explain 0x80180014
done
expect 0 out 'HTTP:   none' explain 0x81039001
expect 0 out '"code": "806"' explain --json 806
expect 0 out '"httpStatus": 409' explain 806 --json
expect 0 out '"httpStatus": null' explain --json 0x81039001
expect 0 out '"phaseTitle": "Securing your hardware"' explain --json -2147023436

# Unknown codes: exit 1 and the way to the list.
expect 1 err "^whiteglove: unknown error code 'nosuch'; run 'whiteglove explain --list' to see all codes$" explain nosuch
expect 1 err "unknown error code '0x12345678'" explain 0x12345678
expect 1 err "unknown error code '-1'" explain -1
if [ -s "$tmp/out" ]; then fail "explain -1 printed to stdout"; fi

# --list: every code, one a line.
expect 0 out '^0xA0570305  *WG_E_NET_PROTOCOL' explain --list
expect 0 out '^814  *ZtdDeviceDuplicated' explain --list
expect 0 out '^CODE  *NAME  *HTTP  *PHASE$' explain --list
expect 0 out '"value": \[' explain --list --json

# Help and usage errors.
expect 0 out '^usage: whiteglove explain' explain --help
expect 0 out '^usage: whiteglove explain' explain -h
expect 0 out '^  --list' explain --help
expect 2 err "unknown option '--bogus'" explain --bogus
expect 2 err '^usage: whiteglove explain' explain --bogus
expect 2 err "unknown option '-x'" explain -x 806
expect 2 err 'give one CODE' explain
expect 2 err 'give one CODE' explain 806 807
expect 2 err 'takes no CODE' explain --list 806

# The dispatcher.
expect 0 out '^usage: whiteglove COMMAND' help
expect 0 out '^  explain ' help
expect 0 out '^usage: whiteglove explain' help explain
expect 0 out '^usage: whiteglove tenant' help tenant
expect 0 out '^usage: whiteglove COMMAND' --help
expect 2 err "unknown command 'nosuch'" nosuch
expect 2 err "unknown command 'nosuch'" help nosuch
expect 2 err '^usage: whiteglove COMMAND'
expect 0 out '^whiteglove [0-9][0-9.]*$' version
expect 0 out '^whiteglove [0-9][0-9.]*$' --version

# Every client subcommand documents every option and refuses bad ones.
for cmd in tenant key version; do
	expect 0 out "^usage: whiteglove $cmd" $cmd --help
	expect 0 out '^  --url URL' $cmd --help
	expect 0 out '^  --ca FILE' $cmd --help
	expect 0 out '^  --json' $cmd --help
	expect 0 out '^  -h, --help' $cmd -h
	expect 2 err "^whiteglove $cmd: unknown option '--bogus'" $cmd --bogus
	expect 2 err "^usage: whiteglove $cmd" $cmd --bogus
done
for cmd in tenant key; do
	expect 0 out '^  --token KEY' $cmd --help
done
expect 0 out '^  -n, --name NAME' key --help
expect 0 out '^  -t, --tenant ID' key --help

done_testing
