"""The reseal (step 6) on the device: the real agent (profile, attest,
join, mdm, reseal) against swtpm and the real server.  The ticket is
stored 0600 and said nowhere else; it is bound to the join's device key
and records the TPM's resetCount; a run made again sends nothing."""

import glob
import hashlib
import json
import os
import shutil
import signal
import unittest

from agentflow import AgentFlow

TITLE = "Resealing the device"
CRASH = "WHITEGLOVE_AGENT_CRASH_AFTER"


class AgentReseal(AgentFlow):

    def audit_ids(self, dev):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        return [a["event"]["eventId"] for a in r.json["value"]
                if a["deviceId"] == dev["id"]]

    def ticket(self):
        return json.loads(self.read("ticket.json"))["Ticket"]

    def assert_ticket_said_nowhere(self, ticket, *outputs):
        for out in outputs:
            self.assertNotIn(ticket, out)
        for path in glob.glob(self.path("events/*.jsonl")):
            with open(path) as f:
                self.assertNotIn(ticket, f.read(), path)
        self.assertNotIn(ticket, self.server.log())

    def test_ticket_stored_once_and_said_nowhere(self):
        dev = self.joined()
        self.ok("mdm")  # the unjoin: device.crt goes, the DK stays
        p = self.agent("reseal")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertIn(TITLE + ": done", out)
        self.assert_private("ticket.json", "reseal.json")
        ticket = self.ticket()
        self.assertEqual(len(ticket), 43)  # base64url of 32 bytes
        self.assert_ticket_said_nowhere(ticket, out, err)
        # the mark: bound to the join's DK, the TPM's resetCount
        mark = json.loads(self.read("reseal.json"))
        self.assertEqual(set(mark), {"ExpiresAt", "ResetCount",
                                     "RestartCount", "BoundTo",
                                     "ResealedAt"})
        self.assertEqual(mark["BoundTo"],
                         hashlib.sha256(self.read("dk.pub")[2:]).hexdigest())
        # the quote's counters: the agent's AIK is under the SRK, not in
        # the endorsement hierarchy, so the TPM obfuscates them (TPM 2.0
        # part 3, 18.1: a per-key offset); a second quote by the same AIK
        # without a reboot shows the same value
        self.assertIsInstance(mark["ResetCount"], int)
        self.assertIn("valid until " + mark["ExpiresAt"], out)
        self.assertIn("resetCount %d" % mark["ResetCount"], out)
        self.assertNotIn("Ticket", mark)
        # event 1301 on the autopilot channel, with the correlation id
        (ev,) = [e for e in self.events("autopilot") if e["eventId"] > 1300]
        self.assertEqual((ev["eventId"], ev["level"], ev["phase"]),
                         (1301, "info", "reseal"))
        self.assertEqual(ev["correlationId"],
                         self.profile()["ZtdCorrelationId"])
        self.assertEqual(self.audit_ids(dev).count(1018), 1)
        self.assert_no_transient()
        # a run made again sends nothing: the same ticket, one on the server
        files = (self.read("ticket.json"), self.read("reseal.json"))
        events = self.events("autopilot")
        out = self.ok("reseal")
        self.assertIn("Resealed by an earlier run: nothing sent", out)
        self.assertEqual((self.read("ticket.json"),
                          self.read("reseal.json")), files)
        self.assertEqual(self.audit_ids(dev).count(1018), 1)
        self.assertEqual(self.events("autopilot"), events)

    def test_before_the_join_is_refused_with_the_servers_code(self):
        self.ready()
        p = self.agent("reseal")
        self.assert_phase_failed(p, TITLE, "0xA0570901",
                                 "WG_E_RESEAL_NOT_JOINED", "autopilot", 1303,
                                 "reseal")
        # a refusal is final: no warning for a try made again
        self.assertNotIn(1302, [e["eventId"]
                                for e in self.events("autopilot")])
        for name in ("ticket.json", "reseal.json"):
            self.assertFalse(os.path.exists(self.path(name)), name)

    def test_ticket_for_another_device_key_is_not_stored(self):
        self.joined()
        # this state directory's DK is not the one the server bound
        shutil.copy(self.path("tk.pub"), self.path("dk.pub"))
        p = self.agent("reseal")
        self.assert_phase_failed(p, TITLE, "0xA0570902",
                                 "WG_E_RESEAL_KEY_MISMATCH", "autopilot",
                                 1303, "reseal")
        self.assertFalse(os.path.exists(self.path("ticket.json")))

    def test_killed_after_the_answer_resumes(self):
        dev = self.joined()
        p = self.agent("reseal", env={CRASH: "/token/v1/reseal"})
        self.assertEqual(p.returncode, -signal.SIGKILL, p.stderr)
        self.assertFalse(os.path.exists(self.path("ticket.json")))
        self.assertEqual(self.audit_ids(dev).count(1018), 1)
        # started again, the reseal ends: a new ticket replaces the first
        out = self.ok("reseal")
        self.assertNotIn("earlier run", out)
        self.assertTrue(self.ticket())
        self.assertEqual(self.audit_ids(dev).count(1018), 2)

    def test_killed_after_the_answer_resumes_with_its_request_key(self):
        dev = self.joined()
        self.assertTrue(self.replays("/token/v1/reseal"))
        p = self.agent("reseal", "--request-key", "run-1",
                       env={CRASH: "/token/v1/reseal"})
        self.assertEqual(p.returncode, -signal.SIGKILL, p.stderr)
        self.assertFalse(os.path.exists(self.path("ticket.json")))
        # the same key: the first answer, no second ticket issued
        out = self.ok("reseal", "--request-key", "run-1")
        self.assertIn(TITLE + ": done", out)
        self.assertEqual(len(self.ticket()), 43)
        self.assertEqual(self.audit_ids(dev).count(1018), 1)
        self.assert_ticket_said_nowhere(self.ticket(), out)


if __name__ == "__main__":
    unittest.main()
