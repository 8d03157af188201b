"""Idempotency keys on the device's state-changing requests: the join,
the MDM enrollment and the reseal.  The same request with the same
`Idempotency-Key` gets the same answer again (with `Idempotency-Replayed:
true`) and changes nothing on the server; another key is a new request;
another device's key is scoped to that device; a malformed key is 400.
The device is played by tpm2-tools on swtpm (tpmclient.py)."""

import base64
import hashlib
import json
import os
import stat
import threading
import unittest
import uuid

import wgtest
from swtpm import Swtpm, fake_sysfs, run_agent
from tpmclient import AESGCM, JoinClient, b64, b64url, read, unb64url

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, utils
except ImportError:  # the Makefile installs python3-cryptography
    pass

SIGN_KEY = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign"
REPLAYED = "Idempotency-Replayed"


def new_key(step):
    return "%s.%s" % (uuid.uuid4(), step)


@unittest.skipIf(AESGCM is None, "python3-cryptography is missing")
class Idempotency(JoinClient):

    def setUp(self):
        super().setUp()
        self.tpm_key("mdm", SIGN_KEY)

    # ---- helpers ----

    def post(self, path, body, key, token=None):
        h = {"Idempotency-Key": key} if key is not None else None
        return self.req("POST", path, body, token=token or self.token,
                        headers=h)

    def events(self, event_id, device_id=None):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        return [a["event"]["eventId"] for a in r.json["value"]
                if a["deviceId"] == (device_id or self.dev["id"])
                ].count(event_id)

    def assertReplayed(self, first, again):
        self.assertEqual(first.status, 200, first)
        self.assertNotIn(REPLAYED, first.headers)
        self.assertEqual(again.headers.get(REPLAYED), "true", again)
        self.assertEqual(again.status, first.status)
        self.assertEqual(again.body, first.body)
        self.assertEqual(again.headers.get("Content-Type"),
                         first.headers.get("Content-Type"))
        self.assertNotEqual(again.headers.get("X-Request-Id"),
                            first.headers.get("X-Request-Id"))

    def joined(self):
        self.keys()
        r = self.join(self.body())
        self.assertEqual(r.status, 200, r)

    def enroll_body(self):
        n = self.raw_nonce()
        info, sig = self.certify("mdm", n)
        return {"CertificateRequest": {"Type": "pkcs10",
                                       "Data": b64(self.csr("mdm"))},
                "AikCertificate": b64(self.cert),
                "AttestationData": {
                    "Nonce": b64url(n),
                    "MdmKey": {"Public": b64(read(self.d + "/mdm.pub")),
                               "CertifyInfo": b64(info),
                               "Signature": b64(sig)}}}

    def reseal_body(self):
        n = self.nonce()
        q, s = self.quote(n)
        return {"AikCertificate": b64(self.cert), "Nonce": n,
                "Quote": b64(q), "Signature": b64(s)}

    def other_device(self):
        """A second device of the tenant (its hash from a second TPM) and
        a device token naming it, signed with the token service's key
        (STATE/token/signing.key) and bound to this device's AIK."""
        tpm = Swtpm()
        tpm.start()
        try:
            sysfs = fake_sysfs(os.path.join(self.workdir, "sysfs2"),
                               "TK-0002", "Contoso", "Surface Test 2")
            p = run_agent(["hash", "--json", "--tcti", tpm.tcti], sysfs)
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            tpm.stop()
        item = json.loads(p.stdout)
        item.pop("missing", None)
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     {"importedDeviceIdentities": [item]}, token=self.key)
        self.assertEqual(r.status, 200, r)
        r = self.req("GET", "/admin/v1/devices?serial=TK-0002",
                     token=self.key)
        other = r.json["value"][0]
        head, claims, _ = self.token.split(".")
        claims = json.loads(unb64url(claims))
        claims.update({"sub": other["ztdId"],
                       "deviceid": other["directoryDeviceId"],
                       "serialNumber": "TK-0002"})
        with open(os.path.join(self.state, "token", "signing.key"),
                  "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        signed = (head + "." + base64.urlsafe_b64encode(json.dumps(
            claims).encode()).decode().rstrip("=")).encode()
        r_, s_ = utils.decode_dss_signature(key.sign(
            signed, ec.ECDSA(hashes.SHA256())))
        sig = r_.to_bytes(32, "big") + s_.to_bytes(32, "big")
        return other, signed.decode() + "." + base64.urlsafe_b64encode(
            sig).decode().rstrip("=")

    # ---- the three routes ----

    def test_join_replayed(self):
        self.keys()
        body, key = self.body(), new_key("join")
        first = self.post("/EnrollmentServer/device/", body, key)
        again = self.post("/EnrollmentServer/device/", body, key)
        self.assertReplayed(first, again)
        # the other spelling of the route is the same route
        r = self.post("/EnrollmentServer/device", body, key)
        self.assertReplayed(first, r)
        # nothing issued twice: one certificate, one join event
        self.assertEqual(self.count(
            "SELECT COUNT(*) FROM device_certificates WHERE device_id = "
            "'%s'" % self.dev["id"]), 1)
        self.assertEqual(self.events(306), 1)
        # another key is another request: its nonce is used by now
        r = self.post("/EnrollmentServer/device/", body, new_key("join"))
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        self.assertNotIn(REPLAYED, r.headers)
        # and so is one without a key, as before
        r = self.join(body)
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        self.assertNotIn(REPLAYED, r.headers)
        r = self.post("/EnrollmentServer/device/", self.body(),
                      new_key("join"))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(REPLAYED, r.headers)
        self.assertEqual(self.events(306), 2)

    def test_mdm_enrollment_replayed(self):
        self.joined()
        body, key = self.enroll_body(), new_key("mdm")
        first = self.post("/mdm/v1/enroll", body, key)
        again = self.post("/mdm/v1/enroll", body, key)
        self.assertReplayed(first, again)
        r = self.req("GET", "/admin/v1/devices/%s/mdmEnrollment"
                     % self.dev["id"], token=self.key)
        self.assertEqual(r.json["enrollmentId"], first.json["EnrollmentId"])
        self.assertEqual(self.events(75), 1)
        self.assertEqual(self.count(
            "SELECT COUNT(*) FROM mdm_enrollments WHERE device_id = '%s'"
            % self.dev["id"]), 1)
        # a new key is a second enrollment: refused as before
        r = self.post("/mdm/v1/enroll", self.enroll_body(), new_key("mdm"))
        self.assertError(r, 409, "MENROLL_E_DEVICENOTSUPPORTED")
        self.assertEqual(r.error["code"], "0x80180014")
        self.assertNotIn(REPLAYED, r.headers)
        # the refusal stays in the device's timeline, key or not
        self.assertEqual(self.events(76), 1)
        r = self.req("POST", "/mdm/v1/enroll", self.enroll_body(),
                     token=self.token)
        self.assertError(r, 409, "MENROLL_E_DEVICENOTSUPPORTED")
        self.assertEqual(self.events(76), 2)
        # the first key still gets its answer, not the refusal
        self.assertReplayed(first, self.post("/mdm/v1/enroll", body, key))
        r = self.req("GET", "/admin/v1/devices/%s/mdmEnrollment"
                     % self.dev["id"], token=self.key)
        self.assertEqual(r.json["enrollmentId"], first.json["EnrollmentId"])

    def test_concurrent_same_key_enrolls_once(self):
        self.joined()
        body, key = self.enroll_body(), new_key("mdm")
        out = [None] * 4

        def send(i):
            out[i] = self.post("/mdm/v1/enroll", body, key)
        threads = [threading.Thread(target=send, args=(i,))
                   for i in range(len(out))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fresh = [r for r in out if REPLAYED not in r.headers]
        self.assertEqual(len(fresh), 1, out)
        for r in out:
            if r is not fresh[0]:
                self.assertReplayed(fresh[0], r)
        self.assertEqual(self.events(75), 1)
        self.assertEqual(self.events(76), 0)

    def live_tickets(self):
        return self.query("SELECT ticket_sha256 FROM pp_tickets WHERE "
                          "device_id = '%s' AND used_ms = 0"
                          % self.dev["id"])

    def test_reseal_replayed_and_sealed_at_rest(self):
        self.joined()
        body, key = self.reseal_body(), new_key("reseal")
        first = self.post("/token/v1/reseal", body, key)
        again = self.post("/token/v1/reseal", body, key)
        self.assertReplayed(first, again)
        ticket = first.json["Ticket"]
        digest = hashlib.sha256(unb64url(ticket)).hexdigest()
        self.assertEqual(self.live_tickets(), [(digest,)])
        self.assertEqual(self.events(1018), 1)
        # the stored answer does not hold the ticket in the clear
        rows = self.query("SELECT body FROM idempotency_keys")
        self.assertEqual(len(rows), 1)
        self.assertNotIn(ticket, rows[0][0])
        self.assertNotIn(ticket, base64.b64decode(rows[0][0])
                         .decode("latin-1"))
        path = os.path.join(self.state, "idempotency.key")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        # a server restarted with the same state opens it again
        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        self.assertReplayed(first, self.post("/token/v1/reseal", body, key))
        # another key: a new ticket replaces the first
        r = self.post("/token/v1/reseal", self.reseal_body(),
                      new_key("reseal"))
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.json["Ticket"], ticket)
        self.assertEqual(self.live_tickets(), [(hashlib.sha256(
            unb64url(r.json["Ticket"])).hexdigest(),)])

    def test_key_of_another_device_is_not_shared(self):
        self.keys()
        body, key = self.body(), new_key("join")
        first = self.post("/EnrollmentServer/device/", body, key)
        self.assertEqual(first.status, 200, first)
        other, token = self.other_device()
        # the same key and body from another device: its own request
        r = self.post("/EnrollmentServer/device/", body, key, token=token)
        self.assertNotIn(REPLAYED, r.headers)
        self.assertNotEqual(r.body, first.body)
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        r = self.post("/EnrollmentServer/device/", self.body(), key,
                      token=token)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(REPLAYED, r.headers)
        self.assertEqual(r.json["DeviceId"], other["directoryDeviceId"])
        # each device keeps its own answer for the key
        self.assertReplayed(first, self.post("/EnrollmentServer/device/",
                                             body, key))
        self.assertEqual(self.events(306, other["id"]), 1)
        # a token that does not verify gets no stored answer
        r = self.post("/EnrollmentServer/device/", body, key,
                      token=token[:-4] + "AAAA")
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")
        self.assertNotIn(REPLAYED, r.headers)

    def test_malformed_key(self):
        self.joined()
        bodies = {"/EnrollmentServer/device/": self.body(),
                  "/mdm/v1/enroll": self.enroll_body(),
                  "/token/v1/reseal": self.reseal_body()}
        for path, body in bodies.items():
            for bad in ("", "k" * 65, "a\x01b", "caf\xe9"):
                r = self.post(path, body, bad)
                self.assertError(r, 400, "WG_E_IDEMPOTENCY_KEY")
                self.assertEqual(r.error["code"], "0xA0570013")
                self.assertIn("Idempotency-Key", r.error["message"])
        # nothing was done: the bodies still work, with a 64-character key
        for path, body in bodies.items():
            r = self.post(path, body, "k" * 64)
            self.assertEqual(r.status, 200, (path, r))
            self.assertNotIn(REPLAYED, r.headers)


if __name__ == "__main__":
    unittest.main()
