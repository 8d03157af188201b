"""`whiteglove-agent provision`: the technician's flow from power-on to the
green reseal screen, with the real agent against swtpm and the real server;
the Enrollment Status Page it draws; a run killed after each state-changing
answer and started again, resuming without redoing TPM work or duplicating
anything on the server; and a failure shown with its code and meaning."""

import hashlib
import json
import os
import signal
import stat
import unittest

import wgtest
from swtpm import run_agent
from agentflow import AgentFlow

SERIAL = "TK-0001"  # tpmclient's device
TAG = "Depot"

# server audit events of the device a run makes once: joined, MDM
# enrolled, ticket issued; once per app: installed; and one profile
# delivery per profile request the server answered
ONCE = (306, 75, 1018)
PROFILE_DELIVERED = 1013
APP_INSTALLED = 1901


class Provision(AgentFlow):

    def setUp(self):
        super().setUp()
        self.marker = os.path.join(self.workdir, "installed.txt")

    # ---- helpers ----

    def app(self, name, data, command):
        return super().app(name, data, command, TAG)

    def ready(self, state=None):
        """A registered device, a pre-provisioning profile, two apps."""
        dev = self.register(TAG)
        self.default_profile()
        self.payload = os.urandom(3 * 1024 * 1024 + 17)
        self.app("Contoso VPN", self.payload,
                 'sha256sum "$WHITEGLOVE_APP_FILE" >> %s' % self.marker)
        self.app("Contoso Notes", b"notes " * 1000,
                 'echo notes >> %s' % self.marker)
        return dev

    def provision(self, *extra, env=None):
        args = ["provision", "--tcti", self.tpm.tcti, "--server",
                self.server.url, "--ca", self.server.ca, "--state-dir",
                self.agent_state, "--tries", "3", "--backoff-ms", "1",
                "--timeout", "10", "--aik-root",
                os.path.join(self.state, "aik", "root.crt")]
        return run_agent(args + list(extra), self.sysfs, env=env)

    def run_lines(self, rc=0):
        """provision --screen lines, which must exit rc; its stdout."""
        p = self.provision("--screen", "lines")
        out = p.stdout.decode()
        self.assertEqual(p.returncode, rc, out + p.stderr.decode())
        return out

    def path(self, name):
        return os.path.join(self.agent_state, name)

    def audit_ids(self, dev):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        return [a["event"]["eventId"] for a in r.json["value"]
                if a["deviceId"] == dev["id"]]

    def assert_provisioned(self, dev, deliveries=1):
        """The server's view: directory object enabled, MDM enrolled,
        both apps installed, one of each state change (and deliveries
        profiles delivered)."""
        r = self.req("GET", "/admin/v1/directory/devices", token=self.key)
        (obj,) = [o for o in r.json["value"]
                  if o["id"] == dev["directoryDeviceId"]]
        self.assertTrue(obj["accountEnabled"], obj)
        r = self.req("GET", "/admin/v1/devices/%s/mdmEnrollment" % dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        r = self.req("GET", "/admin/v1/devices/%s/setup" % dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        states = {a["appName"]: a["state"] for a in r.json["value"]}
        self.assertEqual(states, {"Contoso VPN": "installed",
                                  "Contoso Notes": "installed"})
        ids = self.audit_ids(dev)
        for i in ONCE:
            self.assertEqual(ids.count(i), 1, (i, ids))
        self.assertEqual(ids.count(APP_INSTALLED), 2, ids)
        self.assertEqual(ids.count(PROFILE_DELIVERED), deliveries, ids)

    def assert_device_side(self):
        # the unjoin of pre-provisioning: the certificate waits for the
        # user, the keys stay
        self.assertFalse(os.path.exists(self.path("device.crt")))
        for name in ("dk.pub", "dk.priv", "tk.pub", "tk.priv", "mdm.crt",
                     "ticket.json", "reseal.json", "provision.json"):
            self.assertTrue(os.path.exists(self.path(name)), name)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("ticket.json"))
                                      .st_mode), 0o600)
        state = self.provision_state()
        self.assertEqual({k: v["State"] for k, v in state["Steps"].items()},
                         {s: "done" for s in ("profile", "attest", "join",
                                              "mdm", "apps", "reseal")})
        with open(self.marker) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines.count("notes"), 1, lines)
        sums = [x.split()[0] for x in lines if x != "notes"]
        self.assertEqual(sums, [hashlib.sha256(self.payload).hexdigest()])

    def provision_state(self):
        with open(self.path("provision.json")) as f:
            return json.load(f)

    def keys(self):
        out = {}
        for name in ("aik.pub", "dk.pub", "tk.pub", "mdm.pub"):
            if os.path.exists(self.path(name)):
                with open(self.path(name), "rb") as f:
                    out[name] = f.read()
        return out

    # ---- the flow ----

    def test_provision_to_the_green_screen_and_again(self):
        dev = self.ready()
        out = self.run_lines()
        # the ESP, one line per change, in the flow's order
        order = ["Deployment profile: Complete",
                 "Securing your hardware: Complete",
                 "Joining your organization's network: Complete",
                 "Registering your device for mobile management: Complete",
                 "Device preparation: Complete",
                 "Apps: Working on it: 1 of 2",
                 "Apps: Complete",
                 "Device setup: Complete",
                 "Reseal: Complete",
                 "Pre-provisioning is complete: the device is resealed."]
        at = [out.find(s) for s in order]
        self.assertNotIn(-1, at, out)
        self.assertEqual(at, sorted(at), out)
        self.assertIn("CT-" + SERIAL, out)
        self.assertNotIn("\033[", out)
        self.assert_provisioned(dev)
        self.assert_device_side()
        before = self.audit_ids(dev)
        keys = self.keys()
        # again: every step done before, nothing new anywhere
        out = self.run_lines()
        self.assertEqual(out.count("(done before)"), 6, out)
        self.assertEqual(self.audit_ids(dev), before)
        self.assertEqual(self.keys(), keys)
        self.assert_device_side()

    # Where the agent is killed, in the order the flow meets them: right
    # after the server answered each step's state-changing request (the
    # answer lost), and at the boundaries between steps (the first request
    # of the join, the MDM enrollment and the apps).
    CRASH_POINTS = ("/ztd/v1/profile", "/aik/enroll", "/Discover",
                    "/EnrollmentServer/device/", "/mdm/v1/discovery",
                    "/mdm/v1/enroll", "/mdm/v1/apps", "/status",
                    "/token/v1/reseal")

    def test_killed_at_every_step_resumes_without_duplicates(self):
        dev = self.ready()
        keys = {}
        for path in self.CRASH_POINTS:
            p = self.provision("--screen", "lines", env={
                "WHITEGLOVE_AGENT_CRASH_AFTER": path})
            self.assertEqual(p.returncode, -signal.SIGKILL,
                             (path, p.stdout, p.stderr))
            now = self.keys()
            for k, v in keys.items():  # TPM work is never redone
                self.assertEqual(now[k], v, (path, k))
            keys = now
        self.assertEqual(set(keys), {"aik.pub", "dk.pub", "tk.pub",
                                     "mdm.pub"})
        out = self.run_lines()
        self.assertIn("Pre-provisioning is complete", out)
        self.assertEqual(self.keys(), keys)
        # the server answered the killed requests again instead of doing
        # them twice: one directory object, one device certificate, one
        # enrollment (no 0x80180014), one ticket, each app installed once;
        # the profile whose answer was lost was read twice
        self.assert_provisioned(dev, deliveries=2)
        self.assert_device_side()
        self.assertEqual(self.count(
            "SELECT COUNT(*) FROM directory_devices WHERE ztd_id = '%s'"
            % dev["ztdId"]), 1)
        self.assertEqual(self.count(
            "SELECT COUNT(*) FROM device_certificates WHERE device_id = "
            "'%s'" % dev["id"]), 1)
        self.assertEqual(self.count(
            "SELECT COUNT(*) FROM mdm_enrollments WHERE device_id = '%s'"
            % dev["id"]), 1)
        self.assertEqual(self.count(
            "SELECT COUNT(*) FROM pp_tickets WHERE device_id = '%s'"
            % dev["id"]), 1)

    def test_redraws_in_place_on_a_terminal(self):
        self.ready()
        p = self.provision("--screen", "redraw")
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("\033[", out)  # cursor moves: drawn in place
        last = out[out.rfind("Setting up your device for work"):]
        for row in ("Securing your hardware", "Device setup", "Reseal"):
            line = [x for x in last.splitlines() if row in x][0]
            self.assertIn("Complete", line)
        self.assertIn("Pre-provisioning is complete", last)

    def test_settings_from_a_config_file(self):
        self.ready()
        conf = os.path.join(self.workdir, "agent.conf")
        with open(conf, "w") as f:
            f.write("server = %s\nca = %s\naik-root = %s\nstate-dir = %s\n"
                    "tcti = %s\nscreen = lines\nmax-app-size = 100000000\n"
                    "tries = 2\nbackoff-ms = 1\n"
                    % (self.server.url, self.server.ca,
                       os.path.join(self.state, "aik", "root.crt"),
                       self.agent_state, self.tpm.tcti))
        p = run_agent(["provision", "--config", conf], self.sysfs)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("[", out.splitlines()[1])  # lines, as the file says
        self.assertIn("Pre-provisioning is complete", out)

    def test_a_failing_app_stops_device_setup_with_its_code(self):
        dev = self.register(TAG)
        self.default_profile()
        self.app("Broken", b"x" * 100, "echo 'disk full' >&2; exit 3")
        out = self.run_lines(rc=1)
        self.assertIn("Device preparation: Complete", out)
        self.assertIn("Apps: Failed", out)
        self.assertIn("Device setup: Failed", out)
        self.assertIn("Error 0xA0570A13 (WG_E_APP_INSTALL_FAILED)", out)
        self.assertNotIn("Reseal: Working", out)
        self.assertNotIn("Pre-provisioning is complete", out)
        # the server keeps the app's failure; no ticket was issued
        r = self.req("GET", "/admin/v1/devices/%s/setup" % dev["id"],
                     token=self.key)
        (app,) = r.json["value"]
        self.assertEqual((app["state"], app["code"]), ("failed",
                                                      "0xA0570A13"))
        self.assertEqual(self.audit_ids(dev).count(1018), 0)
        self.assertEqual(self.provision_state()["Steps"]["apps"]["Code"],
                         "0xA0570A13")
        with open(self.path("events/autopilot.jsonl")) as f:
            last = [json.loads(x) for x in f][-1]
        self.assertEqual((last["eventId"], last["name"]),
                         (1502, "WG_E_APP_INSTALL_FAILED"))
        # the admin mends the app; the run resumes at device setup
        r = self.req("GET", "/admin/v1/apps", token=self.key)
        (a,) = r.json["value"]
        r = self.req("PUT", "/admin/v1/apps/%s/content" % a["id"], b"ok",
                     token=self.key, content_type="application/octet-stream")
        self.assertEqual(r.status, 200, r)
        self.req("DELETE", "/admin/v1/apps/%s" % a["id"], token=self.key)
        self.app("Fixed", b"y" * 100, "true")
        out = self.run_lines()
        self.assertEqual(out.count("(done before)"), 4, out)
        self.assertIn("Pre-provisioning is complete", out)

    def test_an_unregistered_device_is_told_807(self):
        out = self.run_lines(rc=1)
        self.assertIn("Deployment profile: Failed", out)
        self.assertIn("Error 807 (ZtdDeviceNotFound)", out)
        self.assertNotIn("Securing your hardware: Working", out)

    def test_a_failure_shows_its_code_meaning_and_where_to_look(self):
        self.register(TAG)  # no profile for the device
        out = self.run_lines(rc=1)
        self.assertIn("Deployment profile: Failed", out)
        self.assertIn("WG_E_PROFILE_NOT_ASSIGNED", out)
        self.assertIn("whiteglove explain", out)
        self.assertIn("events/", out)
        self.assertIn("whiteglove-agent diag collect --state-dir "
                      + self.agent_state, out)
        self.assertNotIn("Pre-provisioning is complete", out)
        state = self.provision_state()
        self.assertEqual(state["Steps"]["profile"]["State"], "failed")
        self.assertIn("Code", state["Steps"]["profile"])
        with open(self.path("events/autopilot.jsonl")) as f:
            last = [json.loads(x) for x in f][-1]
        self.assertEqual(last["eventId"], 1502)
        self.assertEqual(last["name"], "WG_E_PROFILE_NOT_ASSIGNED")


if __name__ == "__main__":
    unittest.main()
