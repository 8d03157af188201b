"""The user's sign-in on the device (step 7): the real agent, pre-provisioned
to the reseal, then `login` and `token` against swtpm and the real server.
The device certificate comes back for the same DK, the owner is set, the
session key is sealed to the TPM (never on disk in clear), and the
refresh token gets access tokens and renews itself; the strict policy
refuses a device started twice since its reseal.  After the first sign-in
comes account setup: the user apps of the device's group tag installed
under the ESP, apart from device setup's."""

import base64
import glob
import json
import os
import subprocess
import tarfile

from agentflow import AgentFlow
from swtpm import AGENT, run_agent

PASSWORD = "correct horse battery staple"
UPN = "ana@contoso.com"
TAG = "Sales"
INSTALL_FAILED = ("0xA0570A13", "WG_E_APP_INSTALL_FAILED")


class AgentSignIn(AgentFlow):

    def setUp(self):
        super().setUp()
        r = self.req("POST", "/admin/v1/users", {
            "userPrincipalName": UPN, "displayName": "Ana",
            "password": PASSWORD}, token=self.key)
        self.assertEqual(r.status, 201, r)

    def register(self, group_tag=TAG):
        return super().register(group_tag)

    def resealed(self, device_setup=False):
        dev = self.joined()
        self.ok("mdm")
        if device_setup:
            self.ok("apps")
        self.ok("reseal")
        return dev

    def user_app(self, name, data, command):
        return self.app(name, data, command, TAG, target="user")

    def setup_states(self, dev):
        """The server's view of the device's apps: name -> record."""
        r = self.req("GET", "/admin/v1/devices/%s/setup" % dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        return {s["appName"]: s for s in r.json["value"]}

    def lines_of(self, name):
        p = os.path.join(self.workdir, name)
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return f.read().splitlines()

    def agent_run(self, cmd, *extra, stdin=None):
        args = [AGENT, cmd, "--tcti", self.tpm.tcti, "--server",
                self.server.url, "--ca", self.server.ca, "--state-dir",
                self.agent_state, "--tries", "2", "--backoff-ms", "1",
                "--timeout", "10"] + list(extra)
        e = dict(os.environ)
        e.pop("WHITEGLOVE_TCTI", None)
        e["WHITEGLOVE_SYSFS_ROOT"] = self.sysfs
        return subprocess.run(args, env=e, input=stdin, capture_output=True,
                              timeout=120)

    def login(self, password=PASSWORD, user=UPN):
        return self.agent_run("login", "--user", user, "--password-stdin",
                        stdin=(password + "\n").encode())

    def secrets_nowhere(self, *secrets):
        """None of secrets in an event, a log, or a state file other than
        session.json (0600)."""
        paths = glob.glob(self.path("events/*.jsonl")) + [
            p for p in glob.glob(self.path("*"))
            if os.path.isfile(p) and not p.endswith("session.json")]
        for p in paths:
            with open(p, "rb") as f:
                data = f.read()
            for s in secrets:
                self.assertNotIn(s.encode(), data, p)
        for s in secrets:
            self.assertNotIn(s, self.server.log())

    def test_login_then_tokens(self):
        dev = self.resealed()
        self.assertFalse(os.path.exists(self.path("device.crt")))
        p = self.login()
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("Signed in as " + UPN, out)
        self.assertIn("Owner: " + UPN, out)
        self.assertIn("Boots since reseal: 0", out)
        # account setup with no user apps for the device: nothing to do
        self.assertIn("Apps: Complete: none", out)
        self.assertIn("Account setup: Complete", out)
        self.assertIn("No user apps are assigned to this device.", out)
        # the join restored: a device certificate for the same DK, by
        # the device CA; the ticket used up and gone
        self.assert_issued("device.crt", "device-ca.pem", "drs/root.crt",
                           "dk.pub")
        self.assertFalse(os.path.exists(self.path("ticket.json")))
        self.assert_private("session.json")
        session = json.loads(self.read("session.json"))
        self.assertEqual(session["Upn"], UPN)
        self.assertEqual(session["Wrap"], "RSA-OAEP-256")
        # the session key is a sealed TPM object, not the key itself
        sealed = base64.b64decode(session["SessionKey"]["Private"])
        self.assertGreater(len(sealed), 32)
        r = self.req("GET", "/admin/v1/directory/devices", token=self.key)
        (obj,) = [o for o in r.json["value"]
                  if o["id"] == dev["directoryDeviceId"]]
        self.assertEqual(obj["registeredOwner"], UPN)
        self.assert_no_transient()
        # an access token, proved with the TPM-sealed session key
        p = self.agent_run("token", "--resource", "urn:contoso:mail")
        self.assertEqual(p.returncode, 0, p.stderr)
        at = p.stdout.decode().strip()
        claims = json.loads(base64.urlsafe_b64decode(
            at.split(".")[1] + "=="))
        self.assertEqual((claims["aud"], claims["upn"]),
                         ("urn:contoso:mail", UPN))
        # renewal replaces the PRT in session.json; the next token works
        prt = session["RefreshToken"]
        p = self.agent_run("token", "--refresh")
        self.assertEqual(p.returncode, 0, p.stderr)
        renewed = json.loads(self.read("session.json"))["RefreshToken"]
        self.assertNotEqual(renewed, prt)
        p = self.agent_run("token", "--resource", "urn:contoso:files", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["resource"],
                         "urn:contoso:files")
        ids = [e["eventId"] for e in self.events("aad")]
        for i in (1401, 1404, 1405, 1406):
            self.assertIn(i, ids)
        self.secrets_nowhere(prt, renewed, PASSWORD, at)
        self.assert_no_transient()
        self.assertFalse(os.path.exists(self.path("login.json")))
        # later sign-ins need no ticket; the owner stays the first user
        r = self.req("POST", "/admin/v1/users", {
            "userPrincipalName": "bob@contoso.com", "password": PASSWORD},
            token=self.key)
        self.assertEqual(r.status, 201, r)
        p = self.login(user="bob@contoso.com")
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("a later sign-in", out)
        self.assertIn("Owner: " + UPN, out)
        self.assertNotIn("Account setup", out)  # the first sign-in's only
        self.assertEqual(json.loads(self.read("session.json"))["Upn"],
                         "bob@contoso.com")

    def test_killed_after_the_server_answered(self):
        """The agent dies after the server signed the user in (the ticket
        is used up) and before it stored anything: the run made again
        sends the same request key from login.json and gets the same
        answer; one PRT, one restored certificate on the server."""
        dev = self.resealed()
        certs = self.count("SELECT COUNT(*) FROM device_certificates WHERE "
                           "device_id = '%s'" % dev["id"])
        e = dict(os.environ)
        e.pop("WHITEGLOVE_TCTI", None)
        e["WHITEGLOVE_SYSFS_ROOT"] = self.sysfs
        e["WHITEGLOVE_AGENT_CRASH_AFTER"] = "/token#2"  # nonce, sign-in
        p = subprocess.run([AGENT, "login", "--tcti", self.tpm.tcti,
                            "--server", self.server.url, "--ca",
                            self.server.ca, "--state-dir", self.agent_state,
                            "--user", UPN, "--password-stdin"], env=e,
                           input=(PASSWORD + "\n").encode(),
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, -9, p.stdout + p.stderr)
        self.assertFalse(os.path.exists(self.path("session.json")))
        self.assertTrue(os.path.exists(self.path("ticket.json")))
        key = json.loads(self.read("login.json"))["RequestKey"]
        self.assertEqual(self.count("SELECT COUNT(*) FROM prts"), 1)
        p = self.login()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Boots since reseal: 0", p.stdout.decode())
        self.assertEqual(self.count("SELECT COUNT(*) FROM prts"), 1)
        self.assertEqual(self.count(
            "SELECT COUNT(*) FROM device_certificates WHERE device_id = "
            "'%s'" % dev["id"]), certs + 1)
        self.assertFalse(os.path.exists(self.path("login.json")))
        self.assertNotIn(key, self.server.log())
        p = self.agent_run("token", "--resource", "urn:contoso:mail")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_wrong_password_then_right(self):
        self.resealed()
        p = self.login(password="not the password at all")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        err = p.stderr.decode()
        self.assertIn("WG_E_USER_PASSWORD_WRONG", err)
        self.assertTrue(os.path.exists(self.path("ticket.json")))
        self.assertFalse(os.path.exists(self.path("session.json")))
        ids = [e["eventId"] for e in self.events("aad")]
        self.assertIn(1403, ids)
        # the request key stays for the next try, which uses it
        key = json.loads(self.read("login.json"))["RequestKey"]
        self.assertEqual(len(key), 32)
        p = self.login()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertFalse(os.path.exists(self.path("login.json")))

    def test_strict_device_started_twice_loses_its_join(self):
        self.resealed()
        self.tpm.power_cycle()
        self.tpm.power_cycle()
        p = self.login()
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        err = p.stderr.decode()
        self.assertIn("WG_E_LOST_JOIN", err)
        self.assertIn("started 2 times", err)
        (ev,) = [e for e in self.events("aad") if e["eventId"] == 1403]
        self.assertEqual(ev["code"], "0xA0570B0C")
        self.assertFalse(os.path.exists(self.path("device.crt")))
        self.assertIn("does not allow recovery", err)
        # --recover: refused until the tenant allows it, then the join
        # comes back
        p = self.agent_run("login", "--user", UPN, "--password-stdin",
                           "--recover", stdin=(PASSWORD + "\n").encode())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("WG_E_RECOVERY_NOT_ALLOWED", p.stderr.decode())
        self.cli("tenant", "set", self.tenant, "--allow-join-recovery", "on",
                 token=self.key)
        p = self.agent_run("login", "--user", UPN, "--password-stdin",
                           "--recover", stdin=(PASSWORD + "\n").encode())
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("the lost join was recovered", out)
        self.assert_issued("device.crt", "device-ca.pem", "drs/root.crt",
                           "dk.pub")

    def test_session_key_wrapped_as_windows_does(self):
        r = self.req("POST", "/admin/v1/deploymentProfiles", {
            "name": "Windows-like", "deploymentMode": "preProvisioning",
            "sessionKeyWrap": "RSA-OAEP"}, token=self.key)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["sessionKeyWrap"], "RSA-OAEP")
        self.register()
        r2 = self.req("POST", "/admin/v1/deploymentProfiles/%s/assign"
                      % r.json["id"], {"tenantDefault": True},
                      token=self.key)
        self.assertEqual(r2.status, 200, r2)
        self.prepared()
        self.ok("join")
        self.ok("mdm")
        self.ok("reseal")
        p = self.login()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(json.loads(self.read("session.json"))["Wrap"],
                         "RSA-OAEP")
        p = self.agent_run("token", "--resource", "urn:contoso:mail")
        self.assertEqual(p.returncode, 0, p.stderr)

    # ---- account setup ----

    def test_account_setup_installs_the_user_apps(self):
        marker = os.path.join(self.workdir, "marker")
        dev_app = self.app("Contoso VPN", b"d" * 1000, "echo device >> %s"
                           % marker, TAG)
        payload = os.urandom(300 * 1024)
        app = self.user_app("Contoso Notes", payload,
                            'sha256sum "$WHITEGLOVE_APP_FILE" >> %s'
                            % marker)
        # device setup installs the device app only
        dev = self.resealed(device_setup=True)
        self.assertEqual(self.lines_of("marker"), ["device"])
        self.assertNotIn("Contoso Notes", self.setup_states(dev))
        device_state = self.read("apps.json")
        p = self.login()
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("Signed in as " + UPN, out)
        # the ESP's account-setup rows, one line per change, in order
        order = ["Setting up your device for work",
                 "Account setup: Working on it",
                 "Joining your organization's network: Complete: "
                 "signed in as " + UPN,
                 "Apps: Working on it: 1 of 1: Contoso Notes: downloading "
                 "0.3 MiB",
                 "Apps: Complete: 1 of 1 installed",
                 "Account setup: Complete",
                 "Account setup is complete: the device is ready for "
                 + UPN]
        at = [out.find(x) for x in order]
        self.assertNotIn(-1, at, out)
        self.assertEqual(at, sorted(at), out)
        self.assertNotIn("Device setup", out)
        # the install's effect, the content verified; device setup's
        # state untouched, account setup's apart
        content = self.path("apps/" + app["sha256"])
        self.assertEqual(self.lines_of("marker"), [
            "device", "%s  %s" % (app["sha256"], content)])
        self.assertEqual(self.read("apps.json"), device_state)
        kept = json.loads(self.read("apps-user.json"))["apps"]
        self.assertEqual([(a["id"], a["state"]) for a in kept],
                         [(app["id"], "installed")])
        states = self.setup_states(dev)
        self.assertEqual((states["Contoso Notes"]["state"],
                          states["Contoso VPN"]["state"]),
                         ("installed", "installed"))
        self.assertEqual(states["Contoso VPN"]["appId"], dev_app["id"])
        done = [e for e in self.events("apps") if e["eventId"] == 1909]
        self.assertEqual([e["phase"] for e in done],
                         ["device_setup", "account_setup"])
        self.assert_no_transient()
        # run again by hand: installed by the earlier run, nothing again
        p = self.agent_run("apps", "--target", "user")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Apps: 1 of 1 installed (1 by an earlier run)",
                      p.stdout.decode())
        self.assertEqual(len(self.lines_of("marker")), 2)
        # the diagnostics bundle carries account setup's record, not the
        # session (the PRT)
        out = os.path.join(self.workdir, "b.tar.gz")
        p = run_agent(["diag", "collect", "-o", out, "--state-dir",
                       self.agent_state, "--tcti", self.tpm.tcti],
                      self.sysfs)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with tarfile.open(out, "r:gz") as tar:
            names = [m.name.split("/", 1)[1] for m in tar.getmembers()
                     if m.isfile()]
        self.assertIn("apps-user.json", names)
        self.assertNotIn("session.json", names)

    def test_account_setup_caps_the_user_apps(self):
        self.user_app("Big", b"x" * 4096, "true")
        self.resealed()
        p = self.agent_run("login", "--user", UPN, "--password-stdin",
                           "--screen", "lines", "--max-app-size", "1000",
                           stdin=(PASSWORD + "\n").encode())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("WG_E_APP_TOO_LARGE", (p.stdout + p.stderr).decode())
        self.assertTrue(os.path.exists(self.path("session.json")))

    def test_login_skipping_account_setup(self):
        marker = os.path.join(self.workdir, "marker")
        self.user_app("Contoso Notes", b"n" * 100, "echo user >> %s"
                      % marker)
        self.resealed()
        p = self.agent_run("login", "--user", UPN, "--password-stdin",
                           "--skip-account-setup",
                           stdin=(PASSWORD + "\n").encode())
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertNotIn("Account setup", out)
        self.assertFalse(os.path.exists(self.path("apps-user.json")))
        self.assertEqual(self.lines_of("marker"), [])

    def test_account_setup_failure_keeps_the_sign_in(self):
        marker = os.path.join(self.workdir, "marker")
        broken = self.user_app("Contoso Broken", b"b" * 100,
                               "sh -c 'exit 3'")
        dev = self.resealed()
        p = self.login()
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 1, out + p.stderr.decode())
        self.assertIn("Signed in as " + UPN, out)
        self.assertIn("Apps: Failed", out)
        self.assertIn("Account setup: Failed", out)
        self.assertIn("Error %s (%s)" % INSTALL_FAILED, out)
        self.assertIn("exited with status 3", out)
        self.assertIn("whiteglove-agent diag collect", out)
        self.assertIn("whiteglove-agent apps --target user", out)
        # the sign-in stays: the PRT and the restored join
        self.assert_private("session.json")
        self.assert_issued("device.crt", "device-ca.pem", "drs/root.crt",
                           "dk.pub")
        st = self.setup_states(dev)["Contoso Broken"]
        self.assertEqual((st["state"], st["code"]),
                         ("failed", INSTALL_FAILED[0]))
        (failed,) = [e for e in self.events("apps") if e["eventId"] == 1902]
        self.assertEqual((failed["phase"], failed["code"]),
                         ("account_setup", INSTALL_FAILED[0]))
        last = self.events("apps")[-1]
        self.assertEqual((last["eventId"], last["phase"]),
                         (1910, "account_setup"))
        # the admin puts a good app in the broken one's place; the
        # command the failure names finishes account setup
        r = self.req("POST", "/admin/v1/apps/%s/unassign" % broken["id"],
                     {"groupTag": TAG}, token=self.key)
        self.assertEqual(r.status, 200, r)
        self.user_app("Contoso Fixed", b"f" * 100, "echo fixed >> %s"
                      % marker)
        p = self.agent_run("apps", "--target", "user")
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("Account setup: done", out)
        self.assertEqual(self.lines_of("marker"), ["fixed"])
        self.assertEqual(self.setup_states(dev)["Contoso Fixed"]["state"],
                         "installed")
