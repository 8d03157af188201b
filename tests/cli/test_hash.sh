#!/bin/sh
# test_hash.sh WHITEGLOVE: `whiteglove hash decode` on the hashes of
# tests/corpus/hwhash, given as text, as a file, raw, and on stdin.
set -u
wg=$1
. "$(dirname "$0")/lib.sh"
corpus=$(cd "$(dirname "$0")/../corpus/hwhash" && pwd)
full="$corpus/good/full_rsa.b64"
b64=$(cat "$full")

# Every field, human-readably.
for p in '^Hardware hash, version 1, 576 bytes$' \
    '^  serial  *PF3ABC12$' '^  manufacturer  *Contoso Ltd$' \
    '^  model  *Surface Test 9$' '^  SKU  *Surface_Test_9_1990$' \
    '^  SMBIOS UUID  *4c4c4544-0042-3510-8054-b7c04f4e3732$' \
    '^  created  *2026-01-01T00:00:00.000Z$' \
    '^  disk serial  *WD-WX12A3456789$' '^  MAC  *a0:b1:c2:d3:e4:f5$' \
    '^  TPM manufacturer  *IBM (0x49424d00)$' '^  TPM vendor  *SW   TPM$' \
    '^  TPM firmware  *8217.4131.22.13878 (0x2019102300163636)$' \
    '^  TPM spec  *2.0 level 0 rev 1.64$' \
    '^  EK  *RSA 2048, exponent 65537$' \
    '^  EK attributes  *fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt (0x000300b2)$' \
    '^  EK lookup id  *_WkrLEOHcmLs6hJyZH23wqB_T7zVO3nIBWS5MG_qWDI$'; do
	expect 0 out "$p" hash decode "$b64"
done
expect 0 out '^  family  *-$' hash decode "$(cat "$corpus/good/minimal_vm.b64")"
expect 0 out '^  EK  *ECC NIST P-256$' hash decode "$corpus/good/full_ecc.b64"

# A file, stdin, raw bytes: the same.
expect 0 out '^  serial  *PF3ABC12$' hash decode "$full"
"$wg" hash decode - <"$full" >"$tmp/stdin" 2>&1 || fail "stdin: exit $?"
grep -q '^  serial  *PF3ABC12$' "$tmp/stdin" || fail "stdin: no serial"
base64 -d "$full" >"$tmp/raw.bin"
expect 0 out '^  serial  *PF3ABC12$' hash decode "$tmp/raw.bin"
expect 0 out '"serialNumber": "PF3ABC12"' hash decode --json "$tmp/raw.bin"

# JSON.
for p in '"serialNumber": "PF3ABC12"' '"manufacturer": "IBM"' \
    '"manufacturerId": "0x49424d00"' '"macs": \[' '"spec": "2.0 level 0 rev 1.64"' \
    '"lookupId": "_WkrLEOHcmLs6hJyZH23wqB_T7zVO3nIBWS5MG_qWDI"' \
    '"created": "2026-01-01T00:00:00.000Z"' '"bytes": 576'; do
	expect 0 out "$p" hash decode --json "$b64"
done
expect 0 out '"family": null' hash decode "$corpus/good/minimal_vm.b64" --json

# Invalid: exit 1, the catalog code and the parser's reason.
expect 1 err '^whiteglove hash: 802 InvalidZtdHardwareHash: record 0x01 (serial) at offset 15: duplicate record' \
	hash decode "$corpus/bad/duplicate_serial.b64"
expect 1 err 'not in the base64 alphabet' hash decode 'V0dI*SA=='
expect 1 err 'record 0x03 (model) at offset 15: text is not printable UTF-8' \
	hash decode "$corpus/bad/non_utf8_text.b64"
if [ -s "$tmp/out" ]; then fail "an invalid hash printed to stdout"; fi

# Usage.
expect 0 out '^usage: whiteglove hash decode' hash --help
expect 0 out '^usage: whiteglove hash decode' help hash
expect 2 err 'give a subcommand' hash
expect 2 err 'unknown subcommand' hash encode x
expect 2 err 'decode takes one' hash decode
expect 2 err 'decode takes one' hash decode a b
expect 2 err "unknown option '--bogus'" hash decode --bogus x
expect 0 out '^  hash  ' help

done_testing
