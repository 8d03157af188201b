"""The join (step 3): discovery, then POST /EnrollmentServer/device/ with
the device token, the AIK's certification of a device key and a
transport key made in the TPM, and a CSR the device key signed.  The
device is played by tpm2-tools on swtpm (an independent TPM client); the
device certificate is checked with openssl."""

import base64
import json
import os
import subprocess
import unittest

from tpmclient import AESGCM, JoinClient, b64, read, rsa_public

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # the Makefile installs python3-cryptography
    pass


@unittest.skipIf(AESGCM is None, "python3-cryptography is missing")
class Join(JoinClient):

    def test_discovery(self):
        for name in ("Contoso", self.tenant):
            r = self.req("GET", "/%s/Discover" % name)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["TenantId"], self.tenant)
            reg = r.json["DeviceRegistrationService"]
            self.assertEqual(reg["RegistrationEndpoint"],
                             "/EnrollmentServer/device/")
            self.assertEqual(r.json["AuthenticationService"]["OAuth2"]
                             ["TokenEndpoint"], "/token")
        r = self.req("GET", "/Fabrikam/Discover")
        self.assertError(r, 404, "WG_E_NOT_FOUND")

    def test_join_enables_the_directory_object(self):
        self.assertFalse(self.directory_object()["accountEnabled"])
        self.keys()
        r = self.join(self.body())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["DeviceId"], self.dev["directoryDeviceId"])
        self.assertEqual(r.json["DisplayName"], "CT-TK-0001")
        # the certificate: the device key's, CN = the directory id,
        # chained to the device CA, checked by openssl
        d = self.d
        cert = base64.b64decode(r.json["Certificate"]["RawBody"])
        with open(d + "/device.der", "wb") as f:
            f.write(cert)
        with open(d + "/chain.pem", "w") as f:
            for c in r.json["CaChain"]:
                f.write(x509.load_der_x509_certificate(base64.b64decode(c))
                        .public_bytes(serialization.Encoding.PEM).decode())
        root = os.path.join(self.state, "drs", "root.crt")
        p = subprocess.run(["openssl", "verify", "-CAfile", root,
                            "-untrusted", d + "/chain.pem", "-purpose",
                            "sslclient", d + "/device.der"],
                           capture_output=True)
        if p.returncode != 0:  # older openssl wants PEM input
            pem = x509.load_der_x509_certificate(cert).public_bytes(
                serialization.Encoding.PEM)
            with open(d + "/device.pem", "wb") as f:
                f.write(pem)
            p = subprocess.run(["openssl", "verify", "-CAfile", root,
                                "-untrusted", d + "/chain.pem", "-purpose",
                                "sslclient", d + "/device.pem"],
                               capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        c = x509.load_der_x509_certificate(cert)
        self.assertEqual(c.subject.get_attributes_for_oid(
            NameOID.COMMON_NAME)[0].value, self.dev["directoryDeviceId"])
        self.assertEqual(c.public_key().public_numbers(),
                         rsa_public(read(d + "/dk.pub")).public_numbers())
        self.assertEqual(r.json["Certificate"]["Thumbprint"],
                         c.fingerprint(hashes.SHA1()).hex().upper())
        obj = self.directory_object()
        self.assertTrue(obj["accountEnabled"])
        self.assertEqual(obj["displayName"], "CT-TK-0001")
        self.assertEqual(obj["operatingSystemVersion"], "Debian GNU/Linux 12 (bookworm)")
        self.assertIsNotNone(obj["joinedAt"], obj)
        # the device's server-side timeline: 306
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        self.assertIn((306, self.dev["id"]),
                      [(a["event"]["eventId"], a["deviceId"])
                       for a in r.json["value"]])

    def test_keys_made_outside_the_tpm_or_by_another_aik(self):
        self.keys()
        # a device key that is not fixedTPM/fixedParent: it can leave
        self.tpm_key("loose", "sensitivedataorigin|userwithauth|sign")
        b = self.body()
        n = base64.urlsafe_b64decode(b["AttestationData"]["Nonce"] + "==")
        info, sig = self.certify("loose", n)
        b["AttestationData"]["DeviceKey"] = {
            "Public": b64(read(self.d + "/loose.pub")),
            "CertifyInfo": b64(info), "Signature": b64(sig)}
        r = self.join(b)
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        self.assertIn("made in the TPM", r.error["message"])
        # the certifications signed by another AIK of the TPM
        d = self.d
        self.tools("tpm2_createek", "-G", "rsa", "-c", d + "/ek2.ctx")
        self.tools("tpm2_createak", "-C", d + "/ek2.ctx", "-c",
                   d + "/ak2.ctx", "-G", "rsa", "-g", "sha256", "-s",
                   "rsassa")
        self.tools("tpm2_flushcontext", "-t")
        b = self.body()
        n = base64.urlsafe_b64decode(b["AttestationData"]["Nonce"] + "==")
        info, sig = self.certify("dk", n, ak="ak2")
        b["AttestationData"]["DeviceKey"]["CertifyInfo"] = b64(info)
        b["AttestationData"]["DeviceKey"]["Signature"] = b64(sig)
        r = self.join(b)
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        self.assertIn("AIK the device token is bound to", r.error["message"])
        # the transport key as the device key: it cannot sign
        b = self.body()
        b["AttestationData"]["DeviceKey"]["Public"] = b["TransportKey"]
        r = self.join(b)
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        self.assertFalse(self.directory_object()["accountEnabled"])

    def test_csr_of_another_key_or_a_used_nonce(self):
        self.keys()
        soft = rsa.generate_private_key(65537, 2048)
        csr = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])).sign(
            soft, hashes.SHA256())
        r = self.join(self.body(CertificateRequest={
            "Type": "pkcs10", "Data": b64(csr.public_bytes(
                serialization.Encoding.DER))}))
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        self.assertIn("not the device key", r.error["message"])
        # a good join, then the same request again: the nonce is used
        b = self.body()
        self.assertEqual(self.join(b).status, 200)
        r = self.join(b)
        self.assertError(r, 400, "WG_E_NONCE_INVALID")

    def test_token_tenant_and_deleted_object(self):
        self.keys()
        b = self.body()
        r = self.join(b, token="not.a.token")
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")
        r = self.req("POST", "/EnrollmentServer/device/", b)
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")
        r = self.join(dict(b, TargetDomain="Fabrikam"))
        self.assertError(r, 403, "DSREG_E_DEVICE_NOT_AUTHORIZED")
        # the device record (and its directory object) deleted
        r = self.req("DELETE", "/admin/v1/devices/" + self.dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 204, r)
        r = self.join(b)
        self.assertError(r, 404, "DSREG_E_DIRECTORY_DEVICE_NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
