"""Fault injection for `whiteglove diag timeline`: each failure class of
issue 7 that can be made to happen now is made to happen to the real
agent against swtpm and the real server (a bad or dead --server URL, a
revoked EK, an unregistered device, enrolling twice, a deleted device, a
failing or slow app, a strict device started twice before its user's
sign-in, ...); the agent's own bundle (`whiteglove-agent diag collect`)
is read by `whiteglove diag timeline --json`, which must name the first
failure's code, its class and the catalog's remedy.  Classes not
reproducible here (GetCACaps 400, clock skew, other tenant) are checked
with synthetic events in tests/unit/test_timeline.c."""

import base64
import hashlib
import json
import os
import subprocess
import unittest

import wgtest
from agentflow import AgentFlow
from swtpm import AGENT

PASSWORD = "correct horse battery staple"
UPN = "ana@contoso.com"
TAG = "Depot"


def remedy(code):
    """The catalog's remedy of code (whiteglove explain --json)."""
    p = subprocess.run([wgtest.WHITEGLOVE, "explain", "--json", code],
                       capture_output=True, check=True)
    return json.loads(p.stdout)["remedy"]


class DiagTimelineCli(unittest.TestCase):
    """What the command does with input that is not a bundle."""

    def run_wg(self, *args):
        return subprocess.run([wgtest.WHITEGLOVE, "diag"] + list(args),
                              capture_output=True, timeout=60)

    def test_usage_and_unreadable(self):
        self.assertEqual(self.run_wg("timeline").returncode, 2)
        self.assertEqual(self.run_wg("timeline", "a", "b").returncode, 2)
        p = self.run_wg("timeline", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"usage: whiteglove diag timeline", p.stdout)
        p = self.run_wg("timeline", "/nonexistent/bundle.tar.gz")
        self.assertEqual(p.returncode, 1)
        p = self.run_wg("timeline", __file__)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"not a gzip file", p.stderr)


class DiagTimeline(AgentFlow):

    # ---- helpers ----

    def bundle(self, state=None):
        """diag collect of the device's state dir; the timeline's JSON."""
        out = os.path.join(self.workdir, "bundle.tar.gz")
        if os.path.exists(out):
            os.unlink(out)
        e = dict(os.environ)
        e.pop("WHITEGLOVE_TCTI", None)
        e.pop("WHITEGLOVE_AGENT_CONFIG", None)
        p = subprocess.run([os.path.abspath(AGENT), "diag", "collect", "-o",
                            out, "--state-dir", state or self.agent_state,
                            "--tcti", self.tpm.tcti], env=e,
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = subprocess.run([wgtest.WHITEGLOVE, "diag", "timeline", "--json", out],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.text = subprocess.run([wgtest.WHITEGLOVE, "diag", "timeline", out],
                                   capture_output=True, timeout=60)
        self.assertEqual(self.text.returncode, 0, self.text.stderr)
        return json.loads(p.stdout)

    def assert_failure(self, tl, code, name, cls, phase=None):
        """The timeline's first failure is code/name of class cls, with
        the catalog's remedy, said in the text output too."""
        f = tl["firstFailure"]
        self.assertIsNotNone(f, tl)
        self.assertEqual((f["code"], f["name"], f["class"]),
                         (code, name, cls), f)
        self.assertEqual(f["remedy"], remedy(code))
        if phase is not None:
            self.assertEqual(f["phase"], phase)
            (ph,) = [p for p in tl["phases"] if p["phase"] == phase]
            self.assertEqual(ph["status"], "failed", tl["phases"])
        self.assertIn(f, [dict(i, **{k: f[k] for k in f if k not in i})
                          for i in tl["issues"]])
        text = self.text.stdout.decode()
        self.assertIn("First failure: %s %s" % (code, name), text)
        self.assertIn("Class: " + cls, text)
        self.assertIn("What to do:", text)
        return f

    def aik_root(self):
        return os.path.join(self.state, "aik", "root.crt")

    def attest(self, *extra, **kw):
        return self.agent("attest", "--aik-root", self.aik_root(), *extra,
                          **kw)

    def dead_url(self):
        return "https://127.0.0.1:%d" % wgtest.free_port()

    def ek_id(self):
        """The TPM's RSA EK-ID (docs/api.md: base64url SHA-256 of the
        modulus and the exponent as 3 bytes)."""
        d = os.path.join(self.workdir, "ek")
        os.makedirs(d, exist_ok=True)
        self.tpm.tools("tpm2_createek", "-G", "rsa", "-c", d + "/ek.ctx",
                       "-u", d + "/ek.pub")
        self.tpm.tools("tpm2_flushcontext", "-t")
        with open(d + "/ek.pub", "rb") as f:
            modulus = f.read()[-256:]
        digest = hashlib.sha256(modulus + b"\x01\x00\x01").digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    # ---- Acquire profile ----

    def test_device_not_registered_807(self):
        self.default_profile()
        p = self.agent("profile", tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "807", "ZtdDeviceNotFound",
                            "device-not-registered", "profile")

    def test_failure_made_good_later_is_not_the_first_failure(self):
        self.default_profile()
        self.assertEqual(self.agent("profile", tries="1").returncode, 1)
        self.register()
        self.prepared()
        tl = self.bundle()
        self.assertIsNone(tl["firstFailure"], tl)
        self.assertIn("807", [i["code"] for i in tl["issues"]])
        self.assertEqual({p["phase"]: p["status"] for p in tl["phases"]},
                         {"profile": "done", "securing_hardware": "done"})
        self.assertIn("No failure", self.text.stdout.decode())

    def test_unresolvable_server_is_dns_failure(self):
        p = self.agent("profile", "--server",
                       "https://whiteglove.invalid:8443", tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "0xA0570301", "WG_E_NET_DNS", "dns-failure")

    def test_stopped_listener_is_service_unreachable(self):
        p = self.agent("profile", "--server", self.dead_url(), tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "0xA0570302", "WG_E_NET_CONNECT",
                            "service-unreachable")

    # ---- Securing your hardware ----

    def test_revoked_ek_0x81039024(self):
        self.register()
        self.default_profile()
        self.ok("profile")
        r = self.req("POST", "/admin/v1/ekcerts/%s/revoke" % self.ek_id(),
                     {"reason": "firmware recall"},
                     token=self.op)
        self.assertEqual(r.status, 200, r)
        p = self.attest()
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "0x81039024",
                            "E_AUTOPILOT_CLIENT_TPM_VULNERABLE",
                            "tpm-revoked", "securing_hardware")

    def test_ek_certificate_service_blocked(self):
        # a firmware TPM (no EK certificate in NV), not imported: only the
        # manufacturer's certificate could vouch for it, and its URL is
        # blocked
        p = self.attest("--ekcert-url", self.dead_url() + "/ekcertservice")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(tl, "0x80190190", "HTTP_E_STATUS_BAD_REQUEST",
                                "ekcert-unreachable", "securing_hardware")
        self.assertEqual((f["evidence"]["eventId"], f["evidence"]["name"]),
                         (1102, "WG_E_NET_CONNECT"))
        self.assertIn("/ekcertservice", f["evidence"]["message"])

    def test_getcacaps_404(self):
        self.register()
        p = self.attest("--server", self.server.url + "/nowhere",
                        tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(
            tl, "0x81039001",
            "E_AUTOPILOT_CLIENT_TPM_MAX_ATTESTATION_RETRY_EXCEEDED",
            "getcacaps-404", "securing_hardware")
        self.assertEqual((f["failedTry"]["eventId"], f["failedTry"]["code"]),
                         (86, "0x80190194"))

    def test_attestation_ca_unreachable_retries_exhausted(self):
        self.register()
        p = self.attest("--server", self.dead_url(), tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(
            tl, "0x81039001",
            "E_AUTOPILOT_CLIENT_TPM_MAX_ATTESTATION_RETRY_EXCEEDED",
            "attestation-retries", "securing_hardware")
        self.assertEqual(f["failedTry"]["name"], "WG_E_NET_CONNECT")

    def test_no_usable_tpm_is_attestation_timeout(self):
        p = self.agent("attest", "--aik-root", self.aik_root(), "--tcti",
                       "swtpm:host=127.0.0.1,port=%d" % wgtest.free_port())
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "0x800705B4", "ERROR_TIMEOUT",
                            "attestation-timeout", "securing_hardware")

    # ---- Registering for mobile management, device setup ----

    def test_enrolled_twice_0x80180014(self):
        self.joined()
        self.ok("mdm")
        # the device's disk restored from before the enrollment
        for name in ("mdm.json", "mdm.crt", "mdm-ca.pem"):
            os.unlink(self.path(name))
        p = self.agent("mdm")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(tl, "0x80180014",
                                "MENROLL_E_DEVICENOTSUPPORTED",
                                "device-already-enrolled", "mdm")
        self.assertIn("allowNextEnrollment", f["remedy"])

    def test_deleted_directory_object_0x801c03f3(self):
        # the device's directory object deleted between "Securing your
        # hardware" and the join (as an admin cleaning up the directory)
        dev = self.ready()
        self.db.execute("UPDATE device_identities SET directory_device_id "
                        "= NULL WHERE id = '%s'" % dev["id"])
        self.db.execute("DELETE FROM directory_devices WHERE id = '%s'"
                        % dev["directoryDeviceId"])
        p = self.agent("join")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "0x801C03F3",
                            "DSREG_E_DIRECTORY_DEVICE_NOT_FOUND",
                            "directory-device-deleted", "joining")

    def test_app_install_failure(self):
        self.register(TAG)
        self.default_profile()
        self.prepared()
        self.ok("join")
        self.app("Broken", b"x" * 100, "echo 'disk full'; exit 3", TAG)
        p = self.agent("apps", tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(tl, "0xA0570A13", "WG_E_APP_INSTALL_FAILED",
                                "app-install-failed", "device_setup")
        self.assertIn("exited with status 3", f["message"])

    def test_short_deadline_is_esp_timeout(self):
        self.register(TAG)
        self.default_profile()
        self.prepared()
        self.ok("join")
        self.app("Slow", b"s" * 100, "sleep 60", TAG, timeout=600)
        p = self.agent("apps", "--deadline-seconds", "2", tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "0xA0570A15", "WG_E_ESP_TIMEOUT",
                            "esp-timeout", "device_setup")

    # ---- Account setup ----

    def test_strict_device_started_twice_lost_join(self):
        r = self.req("POST", "/admin/v1/users", {
            "userPrincipalName": UPN, "displayName": "Ana",
            "password": PASSWORD}, token=self.key)
        self.assertEqual(r.status, 201, r)
        self.joined()
        self.ok("mdm")
        self.ok("reseal")
        self.tpm.power_cycle()
        self.tpm.power_cycle()
        e = dict(os.environ)
        e.pop("WHITEGLOVE_TCTI", None)
        e["WHITEGLOVE_SYSFS_ROOT"] = self.sysfs
        p = subprocess.run([AGENT, "login", "--tcti", self.tpm.tcti,
                            "--server", self.server.url, "--ca",
                            self.server.ca, "--state-dir", self.agent_state,
                            "--tries", "2", "--backoff-ms", "1",
                            "--user", UPN, "--password-stdin"], env=e,
                           input=(PASSWORD + "\n").encode(),
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        tl = self.bundle()
        f = self.assert_failure(tl, "0xA0570B0C", "WG_E_LOST_JOIN",
                                "lost-join", "account_setup")
        self.assertEqual((f["channel"], f["eventId"]), ("aad", 1403))
        # the technician's phases before it all ended well
        done = {p["phase"]: p["status"] for p in tl["phases"]}
        for phase in ("profile", "securing_hardware", "joining", "mdm",
                      "reseal"):
            self.assertEqual(done[phase], "done", done)


if __name__ == "__main__":
    unittest.main()
