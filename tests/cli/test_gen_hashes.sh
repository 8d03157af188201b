#!/bin/sh
# test_gen_hashes.sh GEN_HASHES WHITEGLOVE: tools/gen_hashes writes valid,
# distinct, reproducible hashes, as CSV and as a JSON import body.
set -u
gen=$1
wg=$2
. "$(dirname "$0")/lib.sh"

"$gen" --seed 7 --group-tag 'Kiosk, "Lobby"' 500 >"$tmp/a.csv" ||
	fail "gen_hashes failed"
head -n 1 "$tmp/a.csv" | grep -qx 'Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User' ||
	fail "no Autopilot CSV header"
[ "$(wc -l <"$tmp/a.csv")" -eq 501 ] || fail "not 500 rows"
grep -q '^WG-7-499,,[A-Za-z0-9+/=]*,"Kiosk, ""Lobby""",$' "$tmp/a.csv" ||
	fail "row 499 is not serial,,hash,quoted tag,"
# Distinct serials and hashes; the same seed gives the same bytes.
[ "$(cut -d, -f1 "$tmp/a.csv" | sort -u | wc -l)" -eq 501 ] ||
	fail "serials repeat"
[ "$(cut -d, -f3 "$tmp/a.csv" | sort -u | wc -l)" -eq 501 ] ||
	fail "hashes repeat"
"$gen" --seed 7 --group-tag 'Kiosk, "Lobby"' 500 | cmp -s - "$tmp/a.csv" ||
	fail "not reproducible"
# --start continues the range: rows 250.. of one run are the next run's.
tail -n 250 "$tmp/a.csv" >"$tmp/tail"
"$gen" --seed 7 --start 250 --group-tag 'Kiosk, "Lobby"' 250 | tail -n +2 |
	cmp -s - "$tmp/tail" || fail "--start 250 does not give rows 250.."
# Every hash parses and carries its row's serial (spot checks).
for row in 2 251 501; do
	line=$(sed -n "${row}p" "$tmp/a.csv")
	serial=${line%%,*}
	hash=$(echo "$line" | cut -d, -f3)
	expect 0 out "^  serial  *$serial\$" hash decode "$hash"
	expect 0 out '^  EK  *RSA 2048, exponent 65537$' hash decode "$hash"
done
# JSON: a body Python can read, with the Graph field names.
"$gen" --json --seed 3 --group-tag 'T"1' 20 >"$tmp/b.json" ||
	fail "gen_hashes --json failed"
python3 - "$tmp/b.json" <<'PY' || fail "JSON body is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["importedDeviceIdentities"]
assert len(rows) == 20
assert set(rows[0]) == {"serialNumber", "productKey", "hardwareIdentifier",
                        "groupTag", "assignedUserPrincipalName"}
assert rows[19]["serialNumber"] == "WG-3-19" and rows[0]["groupTag"] == 'T"1'
PY
# Usage errors.
"$gen" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no N: not exit 2"
"$gen" -- 1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad option: not exit 2"
"$gen" 12x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad N: not exit 2"
"$gen" --help | grep -q '^usage: gen_hashes' || fail "no --help"
done_testing
