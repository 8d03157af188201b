"""'Joining your organization's network' (step 3) end to end: the real
agent (profile, attest, join) against swtpm and the real server
(discovery, token and drs services); the device certificate is checked
with openssl and python-cryptography as independent clients."""

import json
import os
import signal
import unittest

import wgtest
from agentflow import AgentFlow
from swtpm import run_agent

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
except ImportError:  # the Makefile installs python3-cryptography
    x509 = None

SERIAL = "TK-0001"  # tpmclient's device


def os_version():
    """What the agent sends as OSVersion: PRETTY_NAME and the kernel."""
    name = "Linux"
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    if line.startswith("PRETTY_NAME="):
                        v = line[12:].rstrip("\n")
                        if len(v) >= 2 and v[0] in "\"'" and v[-1] == v[0]:
                            v = v[1:-1]
                        name = v or name
            break
    text = (name + " " + os.uname().release).encode()[:63]
    return text.decode(errors="ignore")


@unittest.skipIf(x509 is None, "python3-cryptography is missing")
class Join(AgentFlow):
    """The device is the real agent here (agentflow)."""

    def directory_object(self, dev):
        r = self.req("GET", "/admin/v1/directory/devices", token=self.key)
        (obj,) = [o for o in r.json["value"]
                  if o["id"] == dev["directoryDeviceId"]]
        return obj

    def assert_failed(self, p, code, name, event_id):
        self.assert_phase_failed(p, "Joining your organization's network",
                                 code, name, "registration", event_id,
                                 "joining")

    # ---- the flow ----

    def test_join_stores_a_checked_device_certificate(self):
        dev = self.ready()
        self.assertFalse(self.directory_object(dev)["accountEnabled"])
        p = self.agent("join")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        self.assertIn("Joining your organization's network (%s)..."
                      % self.server.url, out)
        self.assertIn("Device: CT-%s (device id %s)"
                      % (SERIAL, dev["directoryDeviceId"]), out)
        self.assertIn("Joining your organization's network: done", out)
        self.assert_private("dk.pub", "dk.priv", "tk.pub", "tk.priv",
                            "device.crt", "device-ca.pem", "join.json")
        # the certificate chains to the drs root (openssl), is the DK's,
        # and join.json names it
        cert = self.assert_issued("device.crt", "device-ca.pem",
                                  "drs/root.crt", "dk.pub")
        joined = json.loads(self.read("join.json"))
        self.assertEqual(joined, {
            "DeviceId": dev["directoryDeviceId"],
            "DisplayName": "CT-" + SERIAL,
            "Thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper()})
        # the directory object: enabled, named, with the device's OS
        obj = self.directory_object(dev)
        self.assertTrue(obj["accountEnabled"])
        self.assertEqual(obj["displayName"], "CT-" + SERIAL)
        self.assertEqual(obj["operatingSystemVersion"], os_version())
        # event 306 with the profile's correlation id; nothing left loaded
        last = self.events()[-1]
        self.assertEqual(last["eventId"], 306)
        self.assertEqual(last["correlationId"],
                         self.profile()["ZtdCorrelationId"])
        self.assertIn("CT-" + SERIAL, last["message"])
        self.assert_no_transient()

    def test_keys_are_kept_for_a_later_run(self):
        self.ready()
        p = self.agent("join")
        self.assertEqual(p.returncode, 0, p.stderr)
        dk, tk = self.read("dk.pub"), self.read("tk.pub")
        first = self.read("device.crt")
        p = self.agent("join")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual((self.read("dk.pub"), self.read("tk.pub")),
                         (dk, tk))
        cert = x509.load_pem_x509_certificate(self.read("device.crt"))
        self.assertEqual(cert.public_key().public_numbers().n,
                         int.from_bytes(dk[-256:], "big"))
        self.assertNotEqual(self.read("device.crt"), first)

    def test_join_refused_is_event_204_then_304(self):
        self.ready()
        # a profile that names another tenant: the drs service refuses
        prof = self.profile()
        prof["CloudAssignedTenantDomain"] = "Fabrikam"
        with open(self.path("AutopilotDDSZTDFile.json"), "w") as f:
            json.dump(prof, f)
        p = self.agent("join", tries="5")
        self.assert_failed(p, "0x801C0003", "DSREG_E_DEVICE_NOT_AUTHORIZED",
                           304)
        ids = [e["eventId"] for e in self.events()]
        self.assertEqual(ids, [204, 304])  # a refusal is not tried again
        self.assertEqual(self.events()[0]["correlationId"],
                         prof["ZtdCorrelationId"])
        self.assertFalse(os.path.exists(self.path("device.crt")))
        self.assert_no_transient()

    def test_token_refused_before_the_join_is_305(self):
        dev = self.ready()
        r = self.req("DELETE", "/admin/v1/devices/" + dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 204, r)
        p = self.agent("join", tries="5")
        self.assert_failed(p, "807", "ZtdDeviceNotFound", 305)
        self.assertEqual([e["eventId"] for e in self.events()], [204, 305])
        self.assertFalse(os.path.exists(self.path("dk.pub")))

    def test_earlier_steps_missing(self):
        p = self.agent("join")
        self.assert_failed(p, "0xA0570602", "WG_E_PROFILE_INVALID", 305)
        self.assertIn("whiteglove-agent profile", p.stderr.decode())
        self.ready()
        os.unlink(self.path("aik.crt"))
        p = self.agent("join")
        self.assert_failed(p, "0xA0570506", "WG_E_AIK_CERT_INVALID", 305)
        self.assertIn("whiteglove-agent attest", p.stderr.decode())

    def test_server_unreachable_is_tried_again(self):
        self.ready()
        port = wgtest.free_port()
        p = run_agent(["join", "--tcti", self.tpm.tcti, "--server",
                       "https://127.0.0.1:%d" % port, "--ca",
                       self.server.ca, "--state-dir", self.agent_state,
                       "--tries", "3", "--backoff-ms", "1", "--timeout",
                       "5"], self.sysfs)
        self.assert_failed(p, "0xA0570302", "WG_E_NET_CONNECT", 305)
        self.assertIn("3 tries failed", p.stderr.decode())
        levels = [(e["eventId"], e["level"]) for e in self.events()]
        self.assertEqual(levels, [(305, "warning"), (305, "warning"),
                                  (305, "error")])

    def test_killed_after_the_join_resumes_with_its_request_key(self):
        dev = self.ready()
        self.assertTrue(self.replays("/EnrollmentServer/device/"))
        p = self.agent("join", "--request-key", "run-1",
                       env={"WHITEGLOVE_AGENT_CRASH_AFTER":
                            "/EnrollmentServer/device/"})
        self.assertEqual(p.returncode, -signal.SIGKILL, p.stderr)
        self.assertFalse(os.path.exists(self.path("join.json")))
        self.assertTrue(self.directory_object(dev)["accountEnabled"])
        # the same key: the server's first answer, not a second join
        p = self.agent("join", "--request-key", "run-1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_issued("device.crt", "device-ca.pem", "drs/root.crt",
                           "dk.pub")
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        ids = [a["event"]["eventId"] for a in r.json["value"]
               if a["deviceId"] == dev["id"]]
        self.assertEqual(ids.count(306), 1, ids)


if __name__ == "__main__":
    unittest.main()
