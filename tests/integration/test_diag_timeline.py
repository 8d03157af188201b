"""Fault injection for `whiteglove diag timeline`: each failure class of
issue 7 that can be made to happen now is made to happen to the real
agent against swtpm and the real server (a bad or dead --server URL, a
revoked EK, an unregistered device, enrolling twice, a deleted device, a
failing or slow app, a strict device started twice before its user's
sign-in, a CA answering GetCACaps with 400, the agent's clock two years
behind under libfaketime, ...); the agent's own bundle (`whiteglove-agent
diag collect`) is read by `whiteglove diag timeline --json`, which must
name the first failure's code, its class and the catalog's remedy; and
when the device is registered, its server-side timeline (GET
/admin/v1/devices/{id}/timeline) must tell the same story: the same first
failure, or, for a failure before the device holds a token (so it cannot
upload its events) that the server did not see, no failure at all.  808
(another tenant) is an import's refusal here: the deployment service
finds a device in whichever tenant registered it, so the device never
hears 808; test_registered_in_another_tenant shows what each side sees,
and tests/unit/test_timeline.c keeps the synthetic 808 event."""

import base64
import hashlib
import http.server
import json
import os
import ssl
import subprocess
import threading
import unittest

import wgtest
from agentflow import AgentFlow
from swtpm import AGENT, run_agent

PASSWORD = "correct horse battery staple"
UPN = "ana@contoso.com"
TAG = "Depot"
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def remedy(code):
    """The catalog's remedy of code (whiteglove explain --json)."""
    p = subprocess.run([wgtest.WHITEGLOVE, "explain", "--json", code],
                       capture_output=True, check=True)
    return json.loads(p.stdout)["remedy"]


class CaAnswering400(http.server.BaseHTTPRequestHandler):
    """An attestation CA behind a proxy that refuses what it is sent:
    every request gets 400 Bad Request with the server's JSON error."""

    def do_GET(self):
        body = json.dumps({"error": {
            "code": "0xA0570101", "name": "WG_E_JSON_FIELD",
            "message": "refused by the proxy"}}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


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

    def server_story(self, dev, f):
        """The device's server-side timeline names f (the bundle's first
        failure; None: no failure) as its own first failure, with the
        same code and remedy; returns the timeline."""
        r = self.req("GET", "/admin/v1/devices/%s/timeline" % dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        sf = r.json["firstFailure"]
        if f is None:
            self.assertIsNone(sf, r.json)
            return r.json
        self.assertIsNotNone(sf, r.json)
        self.assertEqual((sf["code"], sf["name"], sf["remedy"]),
                         (f["code"], f["name"], f["remedy"]), sf)
        return r.json

    def server_unaware(self, dev, *audit):
        """A failure before the device held a device token: it could not
        upload its events, and the server refused nothing it records, so
        the server-side timeline holds only its own audit events (ids
        audit, in order) and no failure to contradict the bundle's."""
        tl = self.server_story(dev, None)
        self.assertEqual([(e["source"], e["eventId"]) for e in tl["value"]],
                         [("server", i) for i in audit], tl)
        return tl

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
        # no tenant holds the device: there is no server-side timeline
        # (and no tenant to write the refusal's audit event to)
        r = self.req("GET", "/admin/v1/devices?serial=TK-0001",
                     token=self.key)
        self.assertEqual((r.status, r.json["value"]), (200, []), r)

    def test_failure_made_good_later_is_not_the_first_failure(self):
        self.default_profile()
        self.assertEqual(self.agent("profile", tries="1").returncode, 1)
        dev = self.register()
        self.prepared()
        tl = self.bundle()
        self.assertIsNone(tl["firstFailure"], tl)
        self.assertIn("807", [i["code"] for i in tl["issues"]])
        self.assertEqual({p["phase"]: p["status"] for p in tl["phases"]},
                         {"profile": "done", "securing_hardware": "done"})
        self.assertIn("No failure", self.text.stdout.decode())
        # the 807 came before the device was registered; then the profile
        # was delivered (1013); no device token yet, so nothing uploaded
        self.server_unaware(dev, 1013)

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
        dev = self.register()
        self.default_profile()
        self.ok("profile")
        r = self.req("POST", "/admin/v1/ekcerts/%s/revoke" % self.ek_id(),
                     {"reason": "firmware recall"},
                     token=self.op)
        self.assertEqual(r.status, 200, r)
        p = self.attest()
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(tl, "0x81039024",
                                "E_AUTOPILOT_CLIENT_TPM_VULNERABLE",
                                "tpm-revoked", "securing_hardware")
        # the CA's refusal is the device's event 1041 on the server (the
        # device never got a token to upload its own with)
        st = self.server_story(dev, f)
        self.assertEqual((st["firstFailure"]["source"],
                          st["firstFailure"]["eventId"]), ("server", 1041))

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
        dev = self.register()
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
        # the 404s came from no service of the device: nothing recorded
        self.server_unaware(dev)

    def test_getcacaps_400(self):
        # the attestation CA's URL reaches something that refuses every
        # request (a proxy): a loopback HTTPS server with the server's own
        # TLS certificate, so the pinned CA still trusts it
        dev = self.register()
        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                CaAnswering400)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls = os.path.join(self.state, "tls")
        ctx.load_cert_chain(os.path.join(tls, "server.crt"),
                            os.path.join(tls, "server.key"))
        proxy.socket = ctx.wrap_socket(proxy.socket, server_side=True)
        t = threading.Thread(target=proxy.serve_forever, daemon=True)
        t.start()
        try:
            p = self.attest("--server", "https://127.0.0.1:%d"
                            % proxy.server_address[1], tries="2")
        finally:
            proxy.shutdown()
            proxy.server_close()
            t.join()
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(tl, "0x80190190",
                                "HTTP_E_STATUS_BAD_REQUEST",
                                "getcacaps-400", "securing_hardware")
        self.assertEqual((f["failedTry"]["eventId"], f["failedTry"]["code"]),
                         (86, "0x80190190"))
        self.assertIn("GetCACaps", f["failedTry"]["message"])
        # the refusal was not the server's: it saw nothing of it
        self.server_unaware(dev)

    def test_attestation_ca_unreachable_retries_exhausted(self):
        dev = self.register()
        p = self.attest("--server", self.dead_url(), tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(
            tl, "0x81039001",
            "E_AUTOPILOT_CLIENT_TPM_MAX_ATTESTATION_RETRY_EXCEEDED",
            "attestation-retries", "securing_hardware")
        self.assertEqual(f["failedTry"]["name"], "WG_E_NET_CONNECT")
        self.server_unaware(dev)

    def test_no_usable_tpm_is_attestation_timeout(self):
        p = self.agent("attest", "--aik-root", self.aik_root(), "--tcti",
                       "swtpm:host=127.0.0.1,port=%d" % wgtest.free_port())
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "0x800705B4", "ERROR_TIMEOUT",
                            "attestation-timeout", "securing_hardware")

    @unittest.skipUnless(os.path.exists(FAKETIME),
                         FAKETIME + " is missing (Debian package libfaketime)")
    def test_clock_two_years_behind_is_clock_skew(self):
        # the device's clock two years behind (a dead CMOS battery): the
        # server's TLS certificate is not valid yet on the device's clock
        dev = self.register()
        self.default_profile()
        e = {"LD_PRELOAD": FAKETIME, "FAKETIME": "-2y",
             "FAKETIME_DONT_RESET": "1",
             # libasan must come first in the list, unless told not to
             # look (the ASan build's agent)
             "ASAN_OPTIONS": ":".join(filter(None, [
                 os.environ.get("ASAN_OPTIONS"),
                 "verify_asan_link_order=0"]))}
        p = self.agent("profile", tries="2", env=e)
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(tl, "0xA0570303", "WG_E_NET_TLS",
                                "clock-skew", "profile")
        self.assertIn("not yet valid", f["message"])
        # no TLS session, no request: the server cannot know
        self.server_unaware(dev)

    def test_registered_in_another_tenant(self):
        # the device's previous owner, Fabrikam, registered it and never
        # released it; Contoso's import of the same device is refused 808
        _, fab_key = self.create_tenant("Fabrikam")
        p = run_agent(["hash", "--json", "--tcti", self.tpm.tcti],
                      self.sysfs)
        self.assertEqual(p.returncode, 0, p.stderr)
        item = json.loads(p.stdout)
        item.pop("missing", None)
        body = {"importedDeviceIdentities": [item]}
        path = "/admin/v1/importedDeviceIdentities/import"
        r = self.req("POST", path, body, token=fab_key)
        self.assertEqual((r.status, r.json["importedCount"]), (200, 1), r)
        r = self.req("POST", path, body, token=self.key)
        self.assertEqual((r.status, r.json["status"]), (200, "error"), r)
        self.assertEqual(r.json["errorCounts"], [{
            "code": 808, "name": "ZtdDeviceAssignedToOtherTenant",
            "count": 1}], r)
        r = self.req("GET", "/admin/v1/devices?serial=TK-0001",
                     token=self.key)
        self.assertEqual(r.json["value"], [], r)
        # the device is found in the tenant that holds it: the deployment
        # service never answers 808, so the device cannot name the class
        # (it stays synthetic in tests/unit/test_timeline.c).  Fabrikam
        # has no profile for it: the device hears that, and nothing more
        self.default_profile()  # Contoso's, which the device never sees
        p = self.agent("profile", tries="1")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        self.assert_failure(tl, "0xA0570601", "WG_E_PROFILE_NOT_ASSIGNED",
                            "other", "profile")
        # Fabrikam's server-side timeline of the device: the refusal left
        # no audit event, and no token, no upload
        r = self.req("GET", "/admin/v1/devices?serial=TK-0001",
                     token=fab_key)
        (dev,) = r.json["value"]
        r = self.req("GET", "/admin/v1/devices/%s/timeline" % dev["id"],
                     token=fab_key)
        self.assertEqual((r.status, r.json["value"], r.json["firstFailure"]),
                         (200, [], None), r)

    # ---- Registering for mobile management, device setup ----

    def test_enrolled_twice_0x80180014(self):
        dev = self.joined()
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
        # the server's refusal (audit event 76) and the device's own
        st = self.server_story(dev, f)
        self.assertEqual(st["firstFailure"]["eventId"], 76)

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
        f = self.assert_failure(tl, "0x801C03F3",
                            "DSREG_E_DIRECTORY_DEVICE_NOT_FOUND",
                            "directory-device-deleted", "joining")
        # the join held a device token: its events were uploaded
        st = self.server_story(dev, f)
        self.assertEqual(st["firstFailure"]["source"], "device")

    def test_app_install_failure(self):
        dev = self.register(TAG)
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
        self.server_story(dev, f)

    def test_short_deadline_is_esp_timeout(self):
        dev = self.register(TAG)
        self.default_profile()
        self.prepared()
        self.ok("join")
        self.app("Slow", b"s" * 100, "sleep 60", TAG, timeout=600)
        p = self.agent("apps", "--deadline-seconds", "2", tries="2")
        self.assertEqual(p.returncode, 1, p.stderr)
        tl = self.bundle()
        f = self.assert_failure(tl, "0xA0570A15", "WG_E_ESP_TIMEOUT",
                                "esp-timeout", "device_setup")
        self.server_story(dev, f)

    # ---- Account setup ----

    def test_strict_device_started_twice_lost_join(self):
        r = self.req("POST", "/admin/v1/users", {
            "userPrincipalName": UPN, "displayName": "Ana",
            "password": PASSWORD}, token=self.key)
        self.assertEqual(r.status, 201, r)
        dev = self.joined()
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
        # the server's own refusal of the sign-in is its event 1037 with
        # the same code: the same story at once; the device's 1403
        # follows with the next phase that holds a device token
        st = self.server_story(dev, f)
        self.assertEqual((st["firstFailure"]["source"],
                          st["firstFailure"]["eventId"]), ("server", 1037))
        self.ok("apps")
        st = self.server_story(dev, f)
        self.assertIn(("device", 1403), [(e["source"], e["eventId"])
                                         for e in st["value"]])


if __name__ == "__main__":
    unittest.main()
