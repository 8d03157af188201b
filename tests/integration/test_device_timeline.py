"""The device's server-side timeline: the real agent (profile, attest,
join, mdm, reseal, apps) against swtpm and the real server uploads its
channels' events at the end of each phase that holds a device token
(POST /mdm/v1/events), each stored once however often it is sent; GET
/admin/v1/devices/{id}/timeline and `whiteglove device timeline` merge
them with the server's audit records of the device and name the first
failure with its meaning and remedy; the upload's refusals; another
tenant sees nothing."""

import json
import os
import shutil
import unittest
import uuid

from agentflow import AgentFlow

EVENT = {"time": "2026-11-24T14:00:00.000Z", "channel": "enrollment",
         "eventId": 75, "level": "info",
         "correlationId": "6f1d2c3b-0000-4000-8000-000000000001",
         "phase": "mdm", "code": "0x00000000", "name": "WG_OK",
         "message": "enrolled", "details": {"k": "v"}}


class DeviceTimeline(AgentFlow):

    def timeline(self, dev, token=None, query=""):
        r = self.req("GET", "/admin/v1/devices/%s/timeline%s"
                     % (dev["id"], query), token=token or self.key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def device_lines(self, state=None):
        """(channel, the event) of every line of the device's channels."""
        out = []
        for ch in ("autopilot", "tpm", "registration", "enrollment",
                   "apps", "aad"):
            out += [(ch, e) for e in self.events(ch, state)]
        return out

    def assert_each_once(self, tl, state=None):
        """Every line of the device's channels is one "device" entry."""
        mine = sorted((ch, e["eventId"], e["time"], e["message"])
                      for ch, e in self.device_lines(state))
        got = sorted((e["channel"], e["eventId"], e["time"], e["message"])
                     for e in tl["value"] if e["source"] == "device")
        self.assertEqual(got, mine)

    def test_events_reach_the_server_once(self):
        dev = self.joined()
        # the join's upload took the profile's, the attestation's and the
        # join's events, written before the first device token
        tl = self.timeline(dev)
        chans = {e["channel"] for e in tl["value"]
                 if e["source"] == "device"}
        self.assertTrue({"autopilot", "registration"} <= chans, chans)
        self.assert_each_once(tl)
        self.ok("mdm")
        self.ok("reseal")
        tl = self.timeline(dev)
        self.assert_each_once(tl)
        dev_ids = {(e["channel"], e["eventId"]) for e in tl["value"]
                   if e["source"] == "device"}
        self.assertIn(("registration", 306), dev_ids)
        self.assertIn(("enrollment", 75), dev_ids)
        srv = [e["eventId"] for e in tl["value"] if e["source"] == "server"]
        for eid in (1013, 1015, 306, 75, 1018):
            self.assertIn(eid, srv)
        # time order, each entry whole
        times = [e["time"] for e in tl["value"]]
        self.assertEqual(times, sorted(times))
        for e in tl["value"]:
            self.assertEqual(
                {"time", "source", "channel", "eventId", "level", "phase",
                 "code", "name", "message", "correlationId", "details"},
                set(e), e)
        corr = self.profile()["ZtdCorrelationId"]
        self.assertIn(corr, {e["correlationId"] for e in tl["value"]
                             if e["source"] == "device"})
        self.assertIsNone(tl["firstFailure"])
        self.assertFalse(tl["more"])
        # the cursor is at the end of each channel
        cur = json.loads(self.read("events/uploaded.json"))
        for ch in ("autopilot", "registration", "enrollment"):
            self.assertEqual(cur[ch], os.path.getsize(
                self.path("events/%s.jsonl" % ch)), ch)
        # the cursor lost: the next phase sends every event again, the
        # server keeps each once
        os.unlink(self.path("events/uploaded.json"))
        self.ok("apps")
        tl = self.timeline(dev)
        self.assert_each_once(tl)
        self.assertTrue(os.path.exists(self.path("events/uploaded.json")))
        # ?limit= keeps the newest, says more exist
        last = self.timeline(dev, query="?limit=3")
        self.assertEqual(last["value"], tl["value"][-3:])
        self.assertTrue(last["more"])

    def test_provision_uploads_once_at_its_end(self):
        """provision's phases share one device token and leave the upload
        to the run's end: one request, with the run's own last events."""
        dev = self.register()
        self.default_profile()
        p = self.agent("provision", "--screen", "lines", "--aik-root",
                       os.path.join(self.state, "aik", "root.crt"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        tl = self.timeline(dev)
        self.assert_each_once(tl)
        ids = {(e["channel"], e["eventId"]) for e in tl["value"]
               if e["source"] == "device"}
        self.assertIn(("autopilot", 1503), ids)  # the green screen's
        # every event after the profile came carries its correlation id
        corr = self.profile()["ZtdCorrelationId"]
        late = [e for e in tl["value"] if e["source"] == "device" and
                e["time"] > min(x["time"] for x in tl["value"]
                                if x["eventId"] == 161)]
        self.assertTrue(late)
        self.assertEqual({e["correlationId"] for e in late}, {corr},
                         [(e["channel"], e["eventId"]) for e in late
                          if e["correlationId"] != corr])
        uploads = [line for line in self.server.log().splitlines()
                   if "POST /mdm/v1/events " in line]
        self.assertEqual(len(uploads), 1, uploads)

    def test_second_enrollment_is_the_first_failure(self):
        dev = self.joined()
        self.ok("mdm")
        # the same device (TPM) from a state directory restored from
        # before the enrollment: the server refuses 0x80180014
        other = os.path.join(self.workdir, "other")
        shutil.copytree(self.agent_state, other, ignore=shutil.ignore_patterns(
            "mdm.json", "mdm.crt", "mdm-ca.pem", "events"))
        p = self.agent("mdm", state=other)
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.timeline(dev)
        f = tl["firstFailure"]
        self.assertIsNotNone(f, tl)
        self.assertEqual((f["code"], f["name"], f["eventId"], f["level"]),
                         ("0x80180014", "MENROLL_E_DEVICENOTSUPPORTED", 76,
                          "error"), f)
        self.assertIn("allowNextEnrollment", f["remedy"])
        self.assertIn("enrolls once", f["meaning"])
        # the device's own 76 came too, from the other state directory
        self.assertIn(("device", "enrollment", 76, "error"),
                      {(e["source"], e["channel"], e["eventId"], e["level"])
                       for e in tl["value"]})
        # the CLI: the table and the first failure with its remedy
        out = self.cli("device", "timeline", dev["id"], token=self.key).stdout
        self.assertIn("Timeline of device %s" % dev["id"], out)
        head = out.splitlines()[1].split()
        self.assertEqual(head[:7], ["TIME", "SOURCE", "CHANNEL", "ID",
                                    "LEVEL", "PHASE", "CODE"], out)
        self.assertIn("MENROLL_E_DEVICENOTSUPPORTED", out)
        self.assertIn("First failure: 0x80180014 MENROLL_E_DEVICENOTSUPPORTED"
                      " \u2014 The device may not enroll", out)
        self.assertIn("What to do: Delete the device's management record",
                      out)
        js = json.loads(self.cli("device", "timeline", dev["id"], "--json",
                                 token=self.key).stdout)
        self.assertEqual(js["firstFailure"]["code"], "0x80180014")
        self.assertEqual(len(js["value"]), len(tl["value"]))

    def test_upload_refusals(self):
        self.register()
        self.aik()
        token = self.device_token()
        path = "/mdm/v1/events"
        # no device token, or an admin key
        r = self.req("POST", path, {"events": [EVENT]})
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")
        r = self.req("POST", path, {"events": [EVENT]}, token=self.key)
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")
        # an event stored once
        r = self.req("POST", path, {"events": [EVENT]}, token=token)
        self.assertEqual((r.status, r.json), (200, {"received": 1,
                                                    "stored": 1}), r)
        r = self.req("POST", path, {"events": [EVENT, EVENT]}, token=token)
        self.assertEqual((r.status, r.json), (200, {"received": 2,
                                                    "stored": 0}), r)
        bad = [
            ("{", "WG_E_JSON_MALFORMED"),
            ('{"events": [], "x": 1}', "WG_E_JSON_FIELD"),
            ({"events": []}, "WG_E_JSON_FIELD"),
            ({"events": [EVENT] * 201}, "WG_E_JSON_FIELD"),
            ({"events": ["x"]}, "WG_E_JSON_FIELD"),
            ({"events": [dict(EVENT, channel="admin")]}, "WG_E_JSON_FIELD"),
            ({"events": [dict(EVENT, extra=1)]}, "WG_E_JSON_FIELD"),
            ({"events": [dict(EVENT, time="yesterday")]}, "WG_E_JSON_FIELD"),
            ({"events": [dict(EVENT, code="0xDEADBEEF")]}, "WG_E_JSON_FIELD"),
            ({"events": [dict(EVENT, message="a\u0001b")]},
             "WG_E_JSON_FIELD"),
            ({"events": [dict(EVENT, message="m" * 3000)]},
             "WG_E_JSON_FIELD"),
            ('{"events": [{"time": "2026-11-24T14:00:00.000Z", '
             '"time": "2026-11-24T14:00:00.000Z"}]}', "WG_E_JSON_MALFORMED"),
        ]
        for body, name in bad:
            r = self.req("POST", path, body, token=token)
            self.assertError(r, 400, name)
        r = self.req("POST", path, {"events": [dict(EVENT, channel="x")]},
                     token=token)
        self.assertIn('events[0]: channel "x"', r.error["message"])
        # over the cap: refused from Content-Length, before the body
        conn = self.server.connect()
        try:
            conn.putrequest("POST", path)
            conn.putheader("Authorization", "Bearer " + token)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(256 * 1024 + 1))
            conn.endheaders()
            r = conn.getresponse()
            status, body = r.status, r.read()
        finally:
            conn.close()
        self.assertEqual(status, 413, body)
        self.assertEqual(json.loads(body)["error"]["name"],
                         "WG_E_BODY_TOO_LARGE")
        # a body at the cap is read and parsed
        big = {"events": [dict(EVENT, message="m" * 2048)] * 110}
        self.assertLess(len(json.dumps(big)), 256 * 1024)
        r = self.req("POST", path, big, token=token)
        self.assertEqual((r.status, r.json["stored"]), (200, 1), r)
        r = self.req("POST", path, {"events": [EVENT]}, token=token,
                     content_type="text/plain")
        self.assertError(r, 415, "WG_E_UNSUPPORTED_MEDIA_TYPE")
        # nothing of the refused bodies was stored
        self.assertEqual(self.count("SELECT COUNT(*) FROM device_events"), 2)

    def test_another_tenant_cannot_read(self):
        dev = self.joined()
        _, other_key = self.create_tenant("Fabrikam")
        r = self.req("GET", "/admin/v1/devices/%s/timeline" % dev["id"],
                     token=other_key)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        other_id = self.create_tenant("Northwind")[0]
        r = self.req("GET", "/admin/v1/devices/%s/timeline?tenantId=%s"
                     % (dev["id"], other_id), token=self.op)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        for bad in (str(uuid.uuid4()), "not-a-uuid"):
            r = self.req("GET", "/admin/v1/devices/%s/timeline" % bad,
                         token=self.key)
            self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("GET", "/admin/v1/devices/%s/timeline" % dev["id"])
        self.assertError(r, 401, "WG_E_AUTH_MISSING")
        for q in ("?limit=0", "?limit=1001", "?limit=x"):
            r = self.req("GET", "/admin/v1/devices/%s/timeline%s"
                         % (dev["id"], q), token=self.key)
            self.assertError(r, 400, "WG_E_JSON_FIELD")
        # the operator naming the device's tenant reads it
        tl = self.timeline(dev, token=self.op,
                           query="?tenantId=%s" % self.tenant)
        self.assertTrue(tl["value"])
        p = self.cli("device", "timeline", dev["id"], token=other_key,
                     check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("WG_E_NOT_FOUND", p.stderr)


if __name__ == "__main__":
    unittest.main()
