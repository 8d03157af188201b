"""The join (step 3): discovery, then POST /EnrollmentServer/device/ with
the device token, the AIK's certification of a device key and a
transport key made in the TPM, and a CSR the device key signed.  The
device is played by tpm2-tools on swtpm (an independent TPM client); the
device certificate is checked with openssl."""

import base64
import json
import os
import socket
import struct
import subprocess
import unittest

from tpmclient import AESGCM, TpmClientTest, b64, b64url, read

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # the Makefile installs python3-cryptography
    pass

SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")


def der(tag, body):
    """One DER TLV."""
    n = len(body)
    if n < 0x80:
        size = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        size = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + size + body


def rsa_public(tpm2b_public):
    """The RSA public key of a marshalled TPM2B_PUBLIC (2048 bits)."""
    modulus = tpm2b_public[-256:]
    return rsa.RSAPublicNumbers(65537, int.from_bytes(modulus, "big"))\
        .public_key()


@unittest.skipIf(AESGCM is None, "python3-cryptography is missing")
class Join(TpmClientTest):

    def setUp(self):
        super().setUp()
        self.handles = {}
        self.dev = self.register()
        r = self.req("POST", "/admin/v1/deploymentProfiles", {
            "name": "Depot", "deploymentMode": "preProvisioning",
            "deviceNameTemplate": "CT-%SERIAL%"}, token=self.key)
        self.assertEqual(r.status, 201, r)
        r = self.req("POST", "/admin/v1/deploymentProfiles/%s/assign"
                     % r.json["id"], {"tenantDefault": True},
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        self.aik()
        self.token = self.device_token()

    # ---- the device's keys, made and certified by the TPM ----

    def srk(self):
        d = self.d
        if not os.path.exists(d + "/srk.ctx"):
            self.tools("tpm2_createprimary", "-C", "o", "-g", "sha256",
                       "-G", "ecc", "-c", d + "/srk.ctx")
        return d + "/srk.ctx"

    def tpm_key(self, name, attrs):
        d = self.d
        self.tools("tpm2_create", "-C", self.srk(), "-G", "rsa2048", "-g",
                   "sha256", "-a", attrs, "-u", "%s/%s.pub" % (d, name),
                   "-r", "%s/%s.priv" % (d, name))
        self.tools("tpm2_flushcontext", "-t")
        return "%s/%s.pub" % (d, name)

    def load(self, name):
        d = self.d
        self.tools("tpm2_load", "-C", self.srk(), "-u",
                   "%s/%s.pub" % (d, name), "-r", "%s/%s.priv" % (d, name),
                   "-c", "%s/%s.ctx" % (d, name))
        return "%s/%s.ctx" % (d, name)

    def persist(self, name):
        """The object of d/name.ctx made persistent: its handle."""
        if name not in self.handles:
            handle = 0x81000100 + len(self.handles)
            ctx = ("%s/%s.ctx" % (self.d, name) if name.startswith("ak")
                   else self.load(name))
            self.tools("tpm2_evictcontrol", "-C", "o", "-c", ctx,
                       "0x%08x" % handle)
            self.tools("tpm2_flushcontext", "-t")
            self.handles[name] = handle
        return self.handles[name]

    def certify(self, name, nonce, ak="ak"):
        """TPM2_Certify of key `name` by the AIK with the nonce as
        qualifying data, sent to the TPM as raw bytes (tpm2_certify 5.4
        takes no qualifying data): the TPMS_ATTEST and TPMT_SIGNATURE."""
        key, aik = self.persist(name), self.persist(ak)
        pw = struct.pack(">IHBH", 0x40000009, 0, 0, 0)  # empty password
        params = struct.pack(">H", len(nonce)) + nonce + \
            struct.pack(">H", 0x0010)  # inScheme: the AIK's own
        body = struct.pack(">III", key, aik, 2 * len(pw)) + 2 * pw + params
        cmd = struct.pack(">HII", 0x8002, 10 + len(body), 0x148) + body
        with socket.create_connection(("127.0.0.1", self.tpm.port),
                                      timeout=30) as s:
            s.sendall(cmd)
            resp = b""
            while len(resp) < 10 or len(resp) < struct.unpack(
                    ">I", resp[2:6])[0]:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "the TPM closed the connection")
                resp += chunk
        self.assertEqual(struct.unpack(">I", resp[6:10])[0], 0,
                         "TPM2_Certify failed: " + resp.hex())
        off = 14  # header, parameterSize
        (n,) = struct.unpack(">H", resp[off:off + 2])
        attest = resp[off + 2:off + 2 + n]
        off += 2 + n
        (size,) = struct.unpack(">H", resp[off + 4:off + 6])
        return attest, resp[off:off + 6 + size]

    def csr(self, name, cn="device"):
        """A PKCS#10 request whose signature the TPM key `name` makes."""
        d = self.d
        pub = rsa_public(read("%s/%s.pub" % (d, name)))
        spki = pub.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat
                                .SubjectPublicKeyInfo)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        info = der(0x30, der(0x02, b"\x00") + subject.public_bytes() +
                   spki + der(0xa0, b""))
        with open(d + "/tbs.der", "wb") as f:
            f.write(info)
        key = self.load(name)
        self.tools("tpm2_sign", "-c", key, "-g", "sha256", "-s", "rsassa",
                   "-f", "plain", "-o", d + "/tbs.sig", d + "/tbs.der")
        self.tools("tpm2_flushcontext", "-t")
        return der(0x30, info + SHA256_RSA +
                   der(0x03, b"\x00" + read(d + "/tbs.sig")))

    def body(self, **over):
        n = self.raw_nonce()
        dk_info, dk_sig = self.certify("dk", n)
        tk_info, tk_sig = self.certify("tk", n)
        body = {"CertificateRequest": {"Type": "pkcs10",
                                       "Data": b64(self.csr("dk"))},
                "TransportKey": b64(read(self.d + "/tk.pub")),
                "TargetDomain": "Contoso", "DeviceType": "Linux",
                "OSVersion": "Debian GNU/Linux 12 (bookworm)",
                "DeviceDisplayName": "CT-%SERIAL%", "JoinType": 0,
                "AikCertificate": b64(self.cert),
                "AttestationData": {
                    "Nonce": b64url(n),
                    "DeviceKey": {"Public": b64(read(self.d + "/dk.pub")),
                                  "CertifyInfo": b64(dk_info),
                                  "Signature": b64(dk_sig)},
                    "TransportKey": {"CertifyInfo": b64(tk_info),
                                     "Signature": b64(tk_sig)}}}
        body.update(over)
        return body

    def raw_nonce(self):
        n = self.nonce()
        return base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))

    def keys(self):
        self.tpm_key("dk", "fixedtpm|fixedparent|sensitivedataorigin|"
                 "userwithauth|sign")
        self.tpm_key("tk", "fixedtpm|fixedparent|sensitivedataorigin|"
                 "userwithauth|decrypt")

    def join(self, body, token=None):
        return self.req("POST", "/EnrollmentServer/device/", body,
                        token=token or self.token)

    def directory_object(self):
        r = self.req("GET", "/admin/v1/directory/devices", token=self.key)
        (obj,) = [o for o in r.json["value"]
                  if o["id"] == self.dev["directoryDeviceId"]]
        return obj

    # ---- the cases ----

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
