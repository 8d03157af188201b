"""'Registering your device for mobile management' (step 4) on the device:
the real agent (profile, attest, join, mdm) against swtpm and the real
server.  The MDM certificate is checked with openssl and
python-cryptography; in pre-provisioning the device certificate is gone
afterwards and the join's keys stay; a device enrolls once, and a run made
again sends nothing."""

import json
import os
import shutil
import signal
import unittest

from agentflow import AgentFlow

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
except ImportError:  # the Makefile installs python3-cryptography
    x509 = None

TITLE = "Registering your device for mobile management"
CRASH = "WHITEGLOVE_AGENT_CRASH_AFTER"


@unittest.skipIf(x509 is None, "python3-cryptography is missing")
class AgentMdm(AgentFlow):

    def enrollment(self, dev):
        """The server's enrollment of the device (None: none)."""
        r = self.req("GET", "/admin/v1/devices/%s/mdmEnrollment" % dev["id"],
                     token=self.key)
        if r.status == 404:
            return None
        self.assertEqual(r.status, 200, r)
        return r.json

    def audit_ids(self, dev):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        return [a["event"]["eventId"] for a in r.json["value"]
                if a["deviceId"] == dev["id"]]

    def assert_refused(self, p, code, name, state=None):
        self.assert_phase_failed(p, TITLE, code, name, "enrollment", 76,
                                 "mdm", state)

    def test_enrolls_then_unjoins_and_a_rerun_sends_nothing(self):
        dev = self.joined()
        self.assertIsNone(self.enrollment(dev))
        out = self.ok("mdm")
        self.assertIn("%s (%s)..." % (TITLE, self.server.url), out)
        self.assertIn("Unjoined until the user's phase", out)
        self.assertIn(TITLE + ": done", out)
        self.assert_private("mdm.pub", "mdm.priv", "mdm.crt", "mdm-ca.pem",
                            "mdm.json")
        # the MDM certificate chains to the MDM root and is the MDM key's
        cert = self.assert_issued("mdm.crt", "mdm-ca.pem", "mdm/root.crt",
                                  "mdm.pub")
        self.assertNotEqual(self.read("mdm.pub"), self.read("dk.pub"))
        # mdm.json names the server's enrollment
        enrolled = json.loads(self.read("mdm.json"))
        first = self.enrollment(dev)
        self.assertEqual(enrolled["EnrollmentId"], first["enrollmentId"])
        self.assertEqual(enrolled["Thumbprint"],
                         cert.fingerprint(hashes.SHA1()).hex().upper())
        self.assertTrue(enrolled["ManagementUrl"].startswith("https://"))
        # pre-provisioning's unjoin: the device certificate is gone, the
        # join's keys (and its record) stay
        for name in ("device.crt", "device-ca.pem"):
            self.assertFalse(os.path.exists(self.path(name)), name)
        for name in ("dk.pub", "dk.priv", "tk.pub", "tk.priv", "join.json"):
            self.assertTrue(os.path.exists(self.path(name)), name)
        # event 75 with the profile's correlation id
        events = self.events("enrollment")
        self.assertEqual([(e["eventId"], e["level"]) for e in events],
                         [(75, "info")])
        self.assertEqual(events[0]["correlationId"],
                         self.profile()["ZtdCorrelationId"])
        self.assertIn("unjoined", events[0]["message"])
        self.assert_no_transient()
        # a run made again sends nothing: the server still has the one
        # enrollment and saw no second try (no 76), the files are as they
        # were
        files = {n: self.read(n) for n in ("mdm.pub", "mdm.crt", "mdm.json")}
        out = self.ok("mdm")
        self.assertIn("Enrolled by an earlier run: nothing sent", out)
        self.assertIn(enrolled["EnrollmentId"], out)
        self.assertEqual(self.enrollment(dev), first)
        ids = self.audit_ids(dev)
        self.assertEqual((ids.count(75), ids.count(76)), (1, 0), ids)
        self.assertEqual({n: self.read(n) for n in files}, files)
        self.assertEqual(len(self.events("enrollment")), 1)

    def test_enrolled_from_another_state_dir_is_0x80180014(self):
        dev = self.joined()
        self.ok("mdm")
        first = self.enrollment(dev)
        # the same device (TPM) with another state directory: the join's
        # state without the enrollment, as a disk restored from before it
        other = os.path.join(self.workdir, "other")
        shutil.copytree(self.agent_state, other, ignore=shutil.ignore_patterns(
            "mdm.json", "mdm.crt", "mdm-ca.pem", "events"))
        p = self.agent("mdm", state=other)
        self.assert_refused(p, "0x80180014", "MENROLL_E_DEVICENOTSUPPORTED",
                            other)
        # a refusal is final: one request, one 76
        self.assertEqual([e["eventId"] for e in self.events("enrollment",
                                                           other)], [76])
        self.assertFalse(os.path.exists(self.path("mdm.json", other)))
        self.assertEqual(self.enrollment(dev), first)
        # the admin allows one more: the same state directory enrolls
        self.cli("device", "allow-next-enrollment", dev["id"],
                 token=self.key)
        out = self.ok("mdm", state=other)
        self.assertNotIn("earlier run", out)
        self.assertNotEqual(self.enrollment(dev)["enrollmentId"],
                            first["enrollmentId"])

    def test_before_the_join_is_refused(self):
        self.ready()
        p = self.agent("mdm")
        self.assert_refused(p, "0xA0570801", "WG_E_MDM_NOT_JOINED")
        self.assertFalse(os.path.exists(self.path("mdm.crt")))

    def test_killed_after_the_enrollment_resumes_with_its_request_key(self):
        dev = self.joined()
        p = self.agent("mdm", "--request-key", "run-1",
                       env={CRASH: "/mdm/v1/enroll"})
        self.assertEqual(p.returncode, -signal.SIGKILL, p.stderr)
        # the server enrolled the device; the agent died before storing
        first = self.enrollment(dev)
        self.assertIsNotNone(first)
        self.assertFalse(os.path.exists(self.path("mdm.json")))
        self.assertTrue(os.path.exists(self.path("device.crt")))
        key = self.read("mdm.pub")
        # without the key the server sees a second enrollment
        p = self.agent("mdm")
        self.assert_refused(p, "0x80180014", "MENROLL_E_DEVICENOTSUPPORTED")
        self.assertTrue(self.replays("/mdm/v1/enroll"))
        # with it, the first answer: the same enrollment, the same key
        out = self.ok("mdm", "--request-key", "run-1")
        self.assertIn(TITLE + ": done", out)
        self.assertEqual(self.read("mdm.pub"), key)
        self.assertEqual(json.loads(self.read("mdm.json"))["EnrollmentId"],
                         first["enrollmentId"])
        self.assertEqual(self.enrollment(dev), first)
        self.assertFalse(os.path.exists(self.path("device.crt")))


if __name__ == "__main__":
    unittest.main()
