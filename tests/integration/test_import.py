"""Device registration (step 0): CSV and JSON imports through the real
server, the DDS row codes, devices and directory objects, isolation, and a
kill -9 in the middle of a large import."""

import json
import os
import signal
import subprocess
import threading
import time
import unittest

from swtpm import Swtpm, fake_sysfs, run_agent
from wgtest import ServerTest, WHITEGLOVE

GEN = os.environ.get("WG_GEN_HASHES",
                     os.path.join(os.path.dirname(WHITEGLOVE), "..", "..",
                                  "tools", "gen_hashes"))
HEADER = "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag," \
         "Assigned User\n"


def gen(n, fmt="--csv", seed=1, start=0, extra=()):
    p = subprocess.run([GEN, fmt, "--seed", str(seed), "--start",
                        str(start)] + list(extra) + [str(n)],
                       capture_output=True, check=True)
    return p.stdout


def rows_of(csv_bytes):
    return csv_bytes.decode().splitlines()[1:]


class ImportTest(ServerTest):
    def setUp(self):
        super().setUp()
        self.tid, self.key = self.create_tenant("Contoso")

    def csv(self, body, token=None, query="", timeout=10):
        if isinstance(body, str):
            body = body.encode()
        return self.req("POST", "/admin/v1/importedDeviceIdentities/"
                        "importCsv" + query, body, token=token or self.key,
                        content_type="text/csv", timeout=timeout)

    def devices(self, query="", token=None):
        r = self.req("GET", "/admin/v1/devices" + query,
                     token=token or self.key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def failed_rows(self, import_id):
        r = self.req("GET", "/admin/v1/imports/%s/rows?state=error"
                     % import_id, token=self.key)
        self.assertEqual(r.status, 200, r)
        return r.json["value"]


class CsvImport(ImportTest):
    def test_import_pre_creates_disabled_directory_objects(self):
        r = self.csv(gen(30, extra=["--group-tag", "Depot"]))
        self.assertEqual(r.status, 200, r)
        import_id = r.json["id"]
        self.assertEqual((r.json["status"], r.json["importedCount"],
                          r.json["failedCount"]), ("complete", 30, 0))
        devs = self.devices("?limit=1000")["value"]
        self.assertEqual(len(devs), 30)
        self.assertTrue(all(d["groupTag"] == "Depot" for d in devs))
        self.assertTrue(all(d["ztdId"] and not d["enabled"] for d in devs))
        r = self.req("GET", "/admin/v1/directory/devices?limit=1000",
                     token=self.key)
        objs = {o["id"]: o for o in r.json["value"]}
        self.assertEqual(len(objs), 30)
        for d in devs:
            o = objs[d["directoryDeviceId"]]
            self.assertEqual(o["ztdId"], d["ztdId"])
            self.assertFalse(o["accountEnabled"])
        r = self.req("GET", "/admin/v1/imports/%s/rows" % import_id,
                     token=self.key)
        self.assertEqual(len(r.json["value"]), 30)
        states = {x["state"]["deviceImportStatus"] for x in r.json["value"]}
        self.assertEqual(states, {"complete"})

    def test_reimport_806_other_tenant_808_duplicate_814(self):
        body = gen(5)
        self.assertEqual(self.csv(body).json["status"], "complete")
        r = self.csv(body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "error")
        self.assertEqual(r.json["errorCounts"],
                         [{"code": 806, "name": "ZtdDeviceAlreadyAssigned",
                           "count": 5}])
        _, other = self.create_tenant("Fabrikam")
        r = self.csv(body, token=other)
        self.assertEqual([(e["code"], e["count"])
                          for e in r.json["errorCounts"]], [(808, 5)])
        dup = gen(2, seed=2)
        lines = dup.decode().splitlines()
        r = self.csv("\n".join(lines + [lines[1]]) + "\n")
        self.assertEqual((r.json["importedCount"], r.json["failedCount"]),
                         (2, 1))
        bad = self.failed_rows(r.json["id"])
        self.assertEqual([(b["rowNumber"], b["state"]["deviceErrorCode"],
                           b["state"]["deviceErrorName"]) for b in bad],
                         [(4, 814, "ZtdDeviceDuplicated")])

    def test_bad_rows_never_take_good_neighbours_down(self):
        good = rows_of(gen(4, seed=3))
        serial, pk, hsh = good[0].split(",")[:3]
        other_hash = good[1].split(",")[2]
        body = HEADER + "\n".join([
            good[2],
            "X1,,not base64!,,",                 # 802 non-base64
            ",," + hsh + ",,",                    # 803 no serial
            "WRONG-SERIAL,," + other_hash + ",,",  # 802 serial mismatch
            good[3] + ",extra,columns",          # 801 too many columns
            "NUL\0,," + hsh + ",,",               # 801 NUL byte
            "SHORT,," + hsh[:40] + ",,",          # 802 truncated TLV
        ]) + "\n"
        r = self.csv(body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["importedCount"],
                          r.json["failedCount"]), ("partial", 1, 6))
        codes = [(b["rowNumber"], b["state"]["deviceErrorCode"])
                 for b in self.failed_rows(r.json["id"])]
        self.assertEqual(codes, [(3, 802), (4, 803), (5, 802), (6, 801),
                                 (7, 801), (8, 802)])
        msgs = {b["rowNumber"]: b.get("message", "")
                for b in self.failed_rows(r.json["id"])}
        self.assertIn("differs", msgs[5])
        self.assertIn("column", msgs[6] + msgs[7])

    def test_csv_dialect_crlf_bom_quotes_partner_center(self):
        rows = rows_of(gen(3, seed=4))
        crlf = ("\ufeff" + HEADER + "\n".join(rows[:1])).replace(
            "\n", "\r\n") + "\r\n"
        self.assertEqual(self.csv(crlf.encode()).json["importedCount"], 1)
        s, pk, h = rows[1].split(",")[:3]
        quoted = HEADER + '"%s","%s","%s","Tag, with comma",""\n' % (s, pk,
                                                                    h)
        r = self.csv(quoted)
        self.assertEqual(r.json["importedCount"], 1, r)
        dev = self.devices("?serial=" + s)["value"][0]
        self.assertEqual(dev["groupTag"], "Tag, with comma")
        s, pk, h = rows[2].split(",")[:3]
        partner = ("Device Serial Number,Windows Product ID,Hardware Hash,"
                   "Manufacturer name,Device model\n%s,%s,%s,Contoso,X1\n"
                   % (s, pk, h.rstrip("=")))    # unpadded base64
        self.assertEqual(self.csv(partner).json["importedCount"], 1)

    def test_request_level_errors_name_line_and_column(self):
        rows = rows_of(gen(3, seed=5))
        body = HEADER + rows[0] + "\n" + 'ab"c,,,,\n' + rows[1] + "\n"
        r = self.csv(body)
        self.assertError(r, 400, "WG_E_CSV_SYNTAX")
        self.assertIn("line 3, column 3", r.error["message"])
        imp = self.req("GET", "/admin/v1/imports", token=self.key)
        last = imp.json["value"][0]
        self.assertEqual((last["status"], last["importedCount"]),
                         ("error", 1))
        self.assertIn("line 3", last["message"])
        for body, words in [
                ("Serial,Hash\nA,B\n", "not an Autopilot CSV column"),
                ("Device Serial Number,Hardware Hash\n", "Windows Product"),
                ("", "empty"),
                ('"unterminated', "line 1")]:
            r = self.csv(body)
            self.assertError(r, 400, "WG_E_CSV_SYNTAX")
            self.assertIn(words, r.error["message"])
        self.assertEqual(len(self.devices()["value"]), 1)

    def test_huge_body_is_refused_before_it_is_read(self):
        conn = self.server.connect()
        conn.putrequest("POST", "/admin/v1/importedDeviceIdentities/"
                        "importCsv")
        conn.putheader("Authorization", "Bearer " + self.key)
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Content-Length", str(10 * 1024 ** 3))
        conn.endheaders()
        r = conn.getresponse()
        self.assertEqual(r.status, 413)
        conn.close()
        self.assertEqual(self.req("GET", "/health").status, 200)


class JsonImport(ImportTest):
    def test_json_batch_with_row_states(self):
        body = json.loads(gen(3, fmt="--json", seed=6))
        items = body["importedDeviceIdentities"]
        items.append({"serialNumber": "X", "hardwareIdentifier": 5})
        items.append("not an object")
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     body, token=self.key)
        self.assertEqual(r.status, 200, r)
        states = [(v["rowNumber"], v["state"]["deviceImportStatus"],
                   v["state"]["deviceErrorCode"]) for v in r.json["value"]]
        self.assertEqual(states, [(1, "complete", 0), (2, "complete", 0),
                                  (3, "complete", 0), (4, "error", 801),
                                  (5, "error", 801)])
        self.assertTrue(all(v["state"]["deviceRegistrationId"]
                            for v in r.json["value"][:3]))
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     {"importedDeviceIdentities": items[:3]}, token=self.key)
        self.assertEqual({v["state"]["deviceErrorCode"]
                          for v in r.json["value"]}, {806})

    def test_json_import_over_several_groups(self):
        """9000 rows: written by the import's writer thread in three
        groups of up to 4096; a device repeated across a group boundary
        is 814 (by EK, or by make and serial with another TPM), every
        row's state comes back in order."""
        body = json.loads(gen(9000, fmt="--json", seed=11))
        items = body["importedDeviceIdentities"]
        items[5000] = dict(items[10])   # a later group repeats group 1
        items[8999] = dict(items[4100])  # and group 3 repeats group 2
        # row 21's make and serial with another TPM, in another group
        items[6000] = json.loads(gen(1, fmt="--json", seed=11, start=20,
                                     extra=("--ek-seed", "99")))[
            "importedDeviceIdentities"][0]
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     body, token=self.key, timeout=60)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["totalCount"], r.json["importedCount"],
                          r.json["failedCount"], r.json["status"]),
                         (9000, 8997, 3, "partial"))
        rows = r.json["value"]
        self.assertEqual([v["rowNumber"] for v in rows],
                         list(range(1, 9001)))
        failed = [(v["rowNumber"], v["state"]["deviceErrorCode"])
                  for v in rows if v["state"]["deviceErrorCode"]]
        self.assertEqual(failed, [(5001, 814), (6001, 814), (9000, 814)])
        ids = {v["state"]["deviceRegistrationId"] for v in rows
               if not v["state"]["deviceErrorCode"]}
        self.assertEqual(len(ids), 8997)
        got = self.req("GET", "/admin/v1/imports/" + r.json["id"],
                       token=self.key)
        self.assertEqual((got.json["importedCount"], got.json["failedCount"]),
                         (8997, 3))

    def test_json_request_errors(self):
        for body, name in [({"importedDeviceIdentities": []},
                            "WG_E_JSON_FIELD"),
                           ({"other": 1}, "WG_E_JSON_FIELD"),
                           ('{"importedDeviceIdentities": [', 
                            "WG_E_JSON_MALFORMED")]:
            r = self.req("POST",
                         "/admin/v1/importedDeviceIdentities/import", body,
                         token=self.key)
            self.assertError(r, 400, name)


class Devices(ImportTest):
    def test_delete_takes_directory_object_and_allows_reimport(self):
        body = gen(2, seed=7)
        self.csv(body)
        dev = self.devices()["value"][0]
        r = self.req("DELETE", "/admin/v1/devices/" + dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 204, r)
        r = self.req("GET", "/admin/v1/devices/" + dev["id"], token=self.key)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("GET", "/admin/v1/directory/devices", token=self.key)
        self.assertNotIn(dev["directoryDeviceId"],
                         [o["id"] for o in r.json["value"]])
        r = self.csv(body)
        self.assertEqual((r.json["importedCount"], r.json["failedCount"]),
                         (1, 1))
        self.assertEqual(len(self.devices()["value"]), 2)

    def test_patch_filters_and_paging(self):
        self.csv(gen(12, seed=8, extra=["--group-tag", "A"]))
        devs = self.devices("?limit=5")
        self.assertEqual(len(devs["value"]), 5)
        seen = [d["id"] for d in devs["value"]]
        while devs["next"]:
            devs = self.devices("?limit=5&after=" + devs["next"])
            seen += [d["id"] for d in devs["value"]]
        self.assertEqual(len(seen), 12)
        self.assertEqual(len(set(seen)), 12)
        first = self.devices()["value"][0]
        r = self.req("PATCH", "/admin/v1/devices/" + first["id"],
                     {"groupTag": "B", "assignedUserPrincipalName":
                      "ana@contoso.example"}, token=self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["groupTag"], "B")
        self.assertEqual(len(self.devices("?groupTag=B")["value"]), 1)
        self.assertEqual(len(self.devices("?groupTag=A")["value"]), 11)
        prefix = first["serialNumber"][:-1]
        self.assertTrue(all(d["serialNumber"].startswith(prefix) for d in
                            self.devices("?serial=" + prefix)["value"]))
        self.assertEqual(self.devices("?serial=nomatch%25")["value"], [])
        r = self.req("PATCH", "/admin/v1/devices/" + first["id"],
                     {"groupTag": 5}, token=self.key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = self.req("GET", "/admin/v1/devices?after=garbage",
                     token=self.key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")

    def test_tenants_never_see_each_others_devices(self):
        r = self.csv(gen(2, seed=9))
        import_id = r.json["id"]
        dev = self.devices()["value"][0]
        _, other = self.create_tenant("Fabrikam")
        self.assertEqual(self.devices(token=other)["value"], [])
        for method, path in [("GET", "/admin/v1/devices/" + dev["id"]),
                             ("DELETE", "/admin/v1/devices/" + dev["id"]),
                             ("GET", "/admin/v1/imports/" + import_id),
                             ("GET", "/admin/v1/imports/%s/rows"
                              % import_id)]:
            r = self.req(method, path, token=other)
            self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("PATCH", "/admin/v1/devices/" + dev["id"],
                     {"groupTag": "x"}, token=other)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("GET", "/admin/v1/directory/devices", token=other)
        self.assertEqual(r.json["value"], [])
        self.assertEqual(len(self.devices()["value"]), 2)


class Crash(ImportTest):
    ROWS = 200000

    def test_kill_9_mid_import_keeps_whole_rows_and_reimport_completes(self):
        path = os.path.join(self.workdir, "big.csv")
        with open(path, "wb") as f:
            f.write(gen(self.ROWS, seed=10))
        r = self.req("POST", "/admin/v1/imports", {"source": "csv"},
                     token=self.key)
        self.assertEqual(r.status, 201, r)
        import_id = r.json["id"]
        result = {}

        def upload():
            try:
                conn = self.server.connect(timeout=120)
                with open(path, "rb") as f:
                    conn.request("POST", "/admin/v1/importedDevice"
                                 "Identities/importCsv?importId=" +
                                 import_id, body=f, headers={
                                     "Authorization": "Bearer " + self.key,
                                     "Content-Type": "text/csv",
                                     "Content-Length":
                                     str(os.path.getsize(path))})
                    result["status"] = conn.getresponse().status
            except OSError as e:
                result["error"] = e
        t = threading.Thread(target=upload)
        t.start()
        deadline = time.time() + 60
        while time.time() < deadline:
            im = self.req("GET", "/admin/v1/imports/" + import_id,
                          token=self.key).json
            if im["importedCount"] >= 2000:
                break
            time.sleep(0.02)
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()
        t.join(60)
        self.assertNotIn("status", result, "the import ended before the kill")
        self.server.start()
        im = self.req("GET", "/admin/v1/imports/" + import_id,
                      token=self.key).json
        self.assertEqual(im["status"], "error")
        self.assertTrue(im["interrupted"])
        self.assertIn("import the file again", im["message"])
        done = im["importedCount"]
        self.assertGreater(done, 0)
        self.assertLess(done, self.ROWS)
        self.assertEqual(im["totalCount"], done + im["failedCount"])
        # Every committed row is there with its state; nothing half-written.
        devs = self.count_devices("?importId=" + import_id)
        self.assertEqual(devs, done)
        # Importing the file again completes it, without duplicates.
        with open(path, "rb") as f:
            r = self.csv(f.read(), timeout=300)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["importedCount"], r.json["failedCount"]),
                         (self.ROWS - done, done))
        self.assertEqual({e["code"] for e in r.json["errorCounts"]}, {806})
        self.assertEqual(self.count_devices(""), self.ROWS)

    def count_devices(self, query):
        n, page = 0, self.devices(query + ("&" if query else "?") +
                                  "limit=1000")
        while True:
            n += len(page["value"])
            if not page["next"]:
                return n
            page = self.devices(query + ("&" if query else "?") +
                                "limit=1000&after=" + page["next"])


if __name__ == "__main__":
    unittest.main()


class AgentHashes(ImportTest):
    """Hashes collected by the real agent from swtpm, imported by CSV and
    by JSON, as a depot would."""

    def collect(self, serial, csv=False):
        root = fake_sysfs(os.path.join(self.workdir, "sysfs-" + serial),
                          serial, "Contoso", "Surface Test 1")
        with Swtpm() as tpm:
            p = run_agent(["hash", "--csv" if csv else "--json", "--tcti",
                           tpm.tcti, "--group-tag", "Depot"], root)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_agent_hashes_import_by_csv_and_json(self):
        r = self.csv(self.collect("AG-0001", csv=True))
        self.assertEqual((r.status, r.json["importedCount"]), (200, 1), r)
        item = json.loads(self.collect("AG-0002"))
        item.pop("missing", None)
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     {"importedDeviceIdentities": [item]}, token=self.key)
        self.assertEqual(r.json["value"][0]["state"]["deviceImportStatus"],
                         "complete", r)
        devs = {d["serialNumber"]: d for d in self.devices()["value"]}
        self.assertEqual(set(devs), {"AG-0001", "AG-0002"})
        for d in devs.values():
            self.assertEqual((d["manufacturer"], d["model"], d["groupTag"]),
                             ("Contoso", "Surface Test 1", "Depot"))
            self.assertFalse(d["enabled"])
        # The same TPM again, by the other route: already registered.
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     {"importedDeviceIdentities": [item]}, token=self.key)
        self.assertEqual(r.json["value"][0]["state"]["deviceErrorCode"], 806)
