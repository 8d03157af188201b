"""'Acquire profile' (step 1) end to end: the real agent against swtpm and
the real server (ztd service), the sealing checked with tpm2-tools and
an independent AES-GCM."""

import base64
import json
import os
import re
import shutil
import stat
import subprocess
import unittest

import wgtest
from swtpm import (Swtpm, activate_credential, have_swtpm, run_agent,
                   fake_sysfs)

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # the Makefile installs python3-cryptography
    AESGCM = None

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}$")


def b64(data):
    return base64.b64encode(data).decode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


@unittest.skipUnless(have_swtpm(), "swtpm is not installed")
class Profile(wgtest.ServerTest):

    def setUp(self):
        super().setUp()
        self.agent_state = os.path.join(self.workdir, "agent")
        self.sysfs = fake_sysfs(os.path.join(self.workdir, "sysfs"),
                                "ZT-0001", "Contoso", "Surface Test 1")
        self.tenant, self.key = self.create_tenant("Contoso")

    # ---- helpers ----

    def device_hash(self, tpm, alg="rsa"):
        p = run_agent(["hash", "--json", "--tcti", tpm.tcti, "--ek-alg",
                       alg, "--group-tag", "Depot"], self.sysfs)
        self.assertEqual(p.returncode, 0, p.stderr)
        item = json.loads(p.stdout)
        item.pop("missing", None)
        return item

    def import_device(self, tpm, alg="rsa", key=None):
        item = self.device_hash(tpm, alg)
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     {"importedDeviceIdentities": [item]},
                     token=key or self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["value"][0]["state"]["deviceImportStatus"],
                         "complete", r)
        r = self.req("GET", "/admin/v1/devices?serial=" +
                     item["serialNumber"], token=key or self.key)
        self.assertEqual(len(r.json["value"]), 1, r)
        return r.json["value"][0]["id"]

    def make_profile(self, name, key=None, tag="Depot", default=False,
                     **fields):
        body = {"name": name, "deploymentMode": "preProvisioning"}
        body.update(fields)
        r = self.req("POST", "/admin/v1/deploymentProfiles", body,
                      token=key or self.key)
        self.assertEqual(r.status, 201, r)
        pid = r.json["id"]
        assign = {"tenantDefault": True} if default else {"groupTag": tag}
        if default or tag:
            r = self.req("POST", "/admin/v1/deploymentProfiles/%s/assign"
                         % pid, assign, token=key or self.key)
            self.assertEqual(r.status, 200, r)
        return pid

    def profile(self, tpm, alg="rsa", server=None, tries="3", sysfs=None):
        return run_agent(["profile", "--tcti", tpm.tcti, "--ek-alg", alg,
                          "--server", server or self.server.url,
                          "--ca", self.server.ca, "--state-dir",
                          self.agent_state, "--tries", tries,
                          "--backoff-ms", "1", "--timeout", "10"],
                         sysfs or self.sysfs)

    def events(self):
        path = os.path.join(self.agent_state, "events", "autopilot.jsonl")
        with open(path) as f:
            return [json.loads(line) for line in f]

    def audit(self):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        return r.json["value"]

    def saved(self):
        with open(os.path.join(self.agent_state,
                               "AutopilotDDSZTDFile.json")) as f:
            return json.load(f)

    # ---- the flow ----

    def test_profile_acquired_sealed_and_recorded(self):
        self.make_profile("Depot PP", deviceNameTemplate="CT-%SERIAL%",
                          oobe=["skipEula", "userNotLocalAdmin"],
                          espTimeoutMinutes=30, rebootPolicy="tolerant")
        for alg in ("rsa", "ecc"):
            with self.subTest(alg=alg), Swtpm() as tpm:
                shutil.rmtree(self.agent_state, ignore_errors=True)
                serial = "ZT-" + alg.upper()
                self.sysfs = fake_sysfs(os.path.join(self.workdir, alg),
                                        serial, "Contoso", "Surface Test 1")
                dev = self.import_device(tpm, alg)
                p = self.profile(tpm, alg)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(b"Acquire profile: done", p.stdout)
                path = os.path.join(self.agent_state,
                                    "AutopilotDDSZTDFile.json")
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode),
                                 0o600)
                prof = self.saved()
                self.assertEqual(prof["CloudAssignedTenantId"], self.tenant)
                self.assertEqual(prof["CloudAssignedTenantDomain"],
                                 "Contoso")
                self.assertEqual(prof["CloudAssignedOobeConfig"], 2 | 16)
                self.assertEqual(prof["CloudAssignedDomainJoinMethod"], 0)
                self.assertEqual(prof["CloudAssignedForcedEnrollment"], 1)
                self.assertEqual(prof["CloudAssignedDeviceName"],
                                 "CT-%SERIAL%")
                self.assertEqual(prof["DeploymentMode"], "preProvisioning")
                self.assertEqual(prof["DeploymentProfileName"], "Depot PP")
                self.assertEqual(prof["EspTimeoutMinutes"], 30)
                self.assertEqual(prof["RebootPolicy"], "tolerant")
                self.assertEqual(prof["SerialNumber"], serial)
                self.assertIsInstance(prof["Version"], int)
                self.assertIn("Comment_File", prof)
                corr = prof["ZtdCorrelationId"]
                self.assertRegex(corr, UUID)
                # the device's channel: 160, 161, 153, one correlation id
                ev = self.events()
                self.assertEqual([e["eventId"] for e in ev],
                                 [160, 161, 153], ev)
                self.assertEqual(ev[1].get("correlationId"), corr, ev)
                self.assertIn("available", ev[2]["message"])
                # the server's timeline of the device
                mine = [a for a in self.audit()
                        if a["event"]["eventId"] == 1013 and
                        a.get("deviceId") == dev]
                self.assertEqual(len(mine), 1, self.audit())
                self.assertEqual(mine[0]["event"]["correlationId"], corr)
                r = self.req("GET", "/admin/v1/devices/" + dev,
                             token=self.key)
                self.assertIsNotNone(r.json["lastContacted"], r)
                out = tpm.tools("tpm2_getcap", "handles-transient").stdout
                self.assertEqual(out.strip(), b"", out)

    @unittest.skipIf(AESGCM is None, "python3-cryptography is missing")
    def test_sealed_for_that_tpm_only(self):
        """tpm2_activatecredential (not our agent) opens the profile's key
        on the registered TPM; an independent AES-GCM decrypts the
        profile with it; another TPM cannot open it."""
        self.make_profile("Depot PP")
        with Swtpm() as tpm, Swtpm() as other:
            item = self.device_hash(tpm)
            self.import_device(tpm)
            results = {}
            for name, t in (("mine", tpm), ("other", other)):
                d = os.path.join(self.workdir, name)
                os.makedirs(d)
                t.tools("tpm2_createek", "-G", "rsa", "-c", d + "/ek.ctx")
                t.tools("tpm2_createak", "-C", d + "/ek.ctx", "-c",
                        d + "/ak.ctx", "-u", d + "/ak.pub")
                t.tools("tpm2_flushcontext", "-t")
                r = self.req("POST", "/ztd/v1/profile", {
                    "hardwareHash": item["hardwareIdentifier"],
                    "aikPublic": b64(read(d + "/ak.pub"))})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(sorted(r.json), ["credentialBlob",
                                 "encryptedProfile", "encryptedSecret"])
                # nothing of the profile crosses in clear
                self.assertNotIn(self.tenant, r.body)
                results[name] = activate_credential(
                    t, d, d + "/ak.ctx", d + "/ek.ctx",
                    r.json["credentialBlob"], r.json["encryptedSecret"])
                if name == "mine":
                    self.assertEqual(results[name].returncode, 0,
                                     results[name].stderr)
                    key = read(d + "/secret")
                    sealed = base64.b64decode(r.json["encryptedProfile"])
                    text = AESGCM(key).decrypt(sealed[:12], sealed[12:],
                                               None)
                    prof = json.loads(text)
                    self.assertEqual(prof["CloudAssignedTenantId"],
                                     self.tenant)
            self.assertNotEqual(results["other"].returncode, 0)

    # ---- refusals ----

    def test_not_registered_is_807_without_retrying(self):
        with Swtpm() as tpm:
            p = self.profile(tpm, tries="5")
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"807 ZtdDeviceNotFound", p.stderr)
            self.assertIn(b"Acquire profile: failed", p.stderr)
            ev = self.events()
            self.assertEqual([e["eventId"] for e in ev], [160, 172, 153])
            self.assertIn("notRegistered", ev[2]["message"])
            self.assertFalse(os.path.exists(os.path.join(
                self.agent_state, "AutopilotDDSZTDFile.json")))

    def test_other_hardware_is_809_with_event_171(self):
        self.make_profile("Depot PP")
        with Swtpm() as tpm:
            dev = self.import_device(tpm)
            # the disk was swapped after the import
            changed = fake_sysfs(os.path.join(self.workdir, "sysfs2"),
                                 "ZT-0001", "Contoso", "Surface Test 1",
                                 disk_serial="WG-DISK-9999")
            p = self.profile(tpm, sysfs=changed)
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"809 ZtdHardwareHashMismatch", p.stderr)
            self.assertIn(b"disk serial", p.stderr)
            ev = self.events()
            self.assertEqual([e["eventId"] for e in ev], [160, 171, 153])
            ids = [(a["event"]["eventId"], a.get("deviceId"))
                   for a in self.audit()]
            self.assertIn((1014, dev), ids)
            self.assertNotIn(1013, [i for i, _ in ids])
            # the same device with its hardware as imported gets it
            p = self.profile(tpm)
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_profile_of_tag_else_default_never_another_tenant(self):
        _, other_key = self.create_tenant("Fabrikam")
        self.make_profile("Fabrikam default", key=other_key, tag=None,
                          default=True)
        with Swtpm() as tpm:
            self.import_device(tpm)
            # only the other tenant has a profile: none for this device
            p = self.profile(tpm)
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"WG_E_PROFILE_NOT_ASSIGNED", p.stderr)
            self.assertNotIn(b"Fabrikam", p.stderr)
            self.make_profile("Contoso default", tag=None, default=True)
            p = self.profile(tpm)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(self.saved()["DeploymentProfileName"],
                             "Contoso default")
            self.make_profile("Depot PP", tag="Depot")
            p = self.profile(tpm)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(self.saved()["DeploymentProfileName"],
                             "Depot PP")

    def test_bad_requests(self):
        with Swtpm() as tpm:
            item = self.device_hash(tpm)
            d = os.path.join(self.workdir, "keys")
            os.makedirs(d)
            tpm.tools("tpm2_createek", "-G", "rsa", "-c", d + "/ek.ctx",
                      "-u", d + "/ek.pub")
            tpm.tools("tpm2_createak", "-C", d + "/ek.ctx", "-c",
                      d + "/ak.ctx", "-u", d + "/ak.pub")
            tpm.tools("tpm2_flushcontext", "-t")
            ak = b64(read(d + "/ak.pub"))
            ek = b64(read(d + "/ek.pub"))
        hw = item["hardwareIdentifier"]
        cases = [
            ({"hardwareHash": hw}, 400, "WG_E_JSON_FIELD"),
            ({"aikPublic": ak}, 400, "WG_E_JSON_FIELD"),
            ({"hardwareHash": hw, "aikPublic": ak, "x": 1}, 400,
             "WG_E_JSON_FIELD"),
            ({"hardwareHash": "AAAA", "aikPublic": ak}, 400,
             "InvalidZtdHardwareHash"),
            ({"hardwareHash": hw, "aikPublic": ek}, 400,
             "WG_E_AIK_ATTRIBUTES"),
            ({"hardwareHash": hw, "aikPublic": "!!"}, 400,
             "WG_E_JSON_FIELD"),
        ]
        for body, status, name in cases:
            with self.subTest(body=sorted(body)):
                r = self.req("POST", "/ztd/v1/profile", body)
                self.assertEqual(r.status, status, r)
                self.assertEqual(r.error.get("name"), name, r)
                self.assertTrue(r.error.get("message"), r)
        r = self.req("POST", "/ztd/v1/profile", b"{not json",
                     headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "WG_E_JSON_MALFORMED")
        # nothing was recorded for the refused requests
        self.assertEqual([a for a in self.audit()
                          if a["event"]["eventId"] in (1013, 1014)], [])

    def test_unreachable_service_is_tried_again(self):
        port = wgtest.free_port()
        with Swtpm() as tpm:
            p = self.profile(tpm, server="https://127.0.0.1:%d" % port,
                             tries="3")
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"3 tries failed", p.stderr)
            ev = self.events()
            self.assertEqual([e["eventId"] for e in ev],
                             [160, 172, 172, 172, 153], ev)
            self.assertEqual([e["level"] for e in ev[1:3]],
                             ["warning", "warning"])


if __name__ == "__main__":
    unittest.main()
