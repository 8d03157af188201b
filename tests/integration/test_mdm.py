"""MDM enrollment (step 4): a joined device enrolls once with its device
token and an MDM key its TPM made and its AIK certified; a second
enrollment is 0x80180014 until an admin deletes the enrollment or allows
one more.  The device is played by tpm2-tools on swtpm."""

import base64
import unittest

from tpmclient import AESGCM, JoinClient, b64, b64url, read, rsa_public

try:
    from cryptography import x509
except ImportError:  # the Makefile installs python3-cryptography
    pass

SIGN_KEY = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign"


@unittest.skipIf(AESGCM is None, "python3-cryptography is missing")
class Mdm(JoinClient):

    def setUp(self):
        super().setUp()
        self.tpm_key("mdm", SIGN_KEY)

    def joined(self):
        self.keys()
        r = self.join(self.body())
        self.assertEqual(r.status, 200, r)

    def enroll_body(self, key="mdm"):
        n = self.raw_nonce()
        info, sig = self.certify(key, n)
        return {"CertificateRequest": {"Type": "pkcs10",
                                       "Data": b64(self.csr(key))},
                "AikCertificate": b64(self.cert),
                "AttestationData": {
                    "Nonce": b64url(n),
                    "MdmKey": {"Public": b64(read("%s/%s.pub"
                                                  % (self.d, key))),
                               "CertifyInfo": b64(info),
                               "Signature": b64(sig)}}}

    def enroll(self, body=None):
        return self.req("POST", "/mdm/v1/enroll", body or
                        self.enroll_body(), token=self.token)

    def device(self):
        r = self.req("GET", "/admin/v1/devices/" + self.dev["id"],
                     token=self.key)
        return r.json

    def test_enrolls_once_until_the_admin_allows_again(self):
        r = self.req("GET", "/mdm/v1/discovery")
        self.assertEqual(r.json["EnrollmentServiceUrl"], "/mdm/v1/enroll")
        self.joined()
        r = self.enroll()
        self.assertEqual(r.status, 200, r)
        cert = x509.load_der_x509_certificate(
            base64.b64decode(r.json["Certificate"]["RawBody"]))
        self.assertEqual(cert.public_key().public_numbers(), rsa_public(
            read(self.d + "/mdm.pub")).public_numbers())
        self.assertTrue(r.json["ManagementUrl"].endswith("/mdm/v1/manage"))
        first = r.json["EnrollmentId"]
        self.assertEqual(self.device()["enrollmentState"], "enrolled")
        r = self.req("GET", "/admin/v1/devices/%s/mdmEnrollment"
                     % self.dev["id"], token=self.key)
        self.assertEqual(r.json["enrollmentId"], first)
        # the one-time limit
        r = self.enroll()
        self.assertError(r, 409, "MENROLL_E_DEVICENOTSUPPORTED")
        self.assertIn("allow-next-enrollment", r.error["message"])
        # the admin allows one more: the CLI
        p = self.cli("device", "allow-next-enrollment", self.dev["id"],
                     token=self.key)
        self.assertIn("may enroll in MDM once more", p.stdout)
        r = self.enroll()
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.json["EnrollmentId"], first)
        self.assertError(self.enroll(), 409, "MENROLL_E_DEVICENOTSUPPORTED")
        # or deletes the enrollment
        p = self.cli("device", "unenroll", self.dev["id"], token=self.key)
        self.assertEqual(p.returncode, 0)
        p = self.cli("device", "mdm", self.dev["id"], token=self.key,
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no MDM enrollment", p.stderr)
        self.assertEqual(self.enroll().status, 200)
        # the device's timeline: 75 three times, 76 twice
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        ids = [a["event"]["eventId"] for a in r.json["value"]
               if a["deviceId"] == self.dev["id"]]
        self.assertEqual((ids.count(75), ids.count(76)), (3, 2), ids)
        admin = [a["event"]["eventId"] for a in r.json["value"]]
        self.assertIn(1016, admin)
        self.assertIn(1017, admin)

    def test_refused_before_the_join_or_with_a_loose_key(self):
        # not joined yet
        r = self.enroll()
        self.assertError(r, 409, "WG_E_MDM_NOT_JOINED")
        self.joined()
        # an MDM key that could leave the TPM
        self.tpm_key("loose", "sensitivedataorigin|userwithauth|sign")
        r = self.enroll(self.enroll_body("loose"))
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        # the token is the proof: none, or one for drs only is fine but
        # not a forged one
        r = self.req("POST", "/mdm/v1/enroll", self.enroll_body(),
                     token="x.y.z")
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")
        self.assertEqual(self.device()["enrollmentState"], "notContacted")


if __name__ == "__main__":
    unittest.main()
