"""A device played by tpm2-tools against swtpm, for tests of the services
a device talks to (token, drs): an independent TPM client, so the server
is not only checked against our own agent."""

import base64
import json
import os
import socket
import struct
import unittest
import urllib.parse

import wgtest
from swtpm import (Swtpm, activate_credential, have_swtpm, run_agent,
                   fake_sysfs)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.x509.oid import NameOID
except ImportError:  # the Makefile installs python3-cryptography
    AESGCM = None

GRANT = "urn:whiteglove:params:oauth:grant-type:tpm-quote"
FORM = "application/x-www-form-urlencoded"


def b64(data):
    return base64.b64encode(data).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read(path):
    with open(path, "rb") as f:
        return f.read()


@unittest.skipUnless(have_swtpm(), "swtpm is not installed")
@unittest.skipIf(AESGCM is None, "python3-cryptography is missing")
class TpmClientTest(wgtest.ServerTest):
    """A server, a tenant, and a device played by tpm2-tools on swtpm."""

    def setUp(self):
        super().setUp()
        self.tenant, self.key = self.create_tenant("Contoso")
        self.sysfs = fake_sysfs(os.path.join(self.workdir, "sysfs"),
                                "TK-0001", "Contoso", "Surface Test 1")
        self.tpm = Swtpm()
        self.tpm.start()
        self.d = os.path.join(self.workdir, "tpm")
        os.makedirs(self.d)

    def tearDown(self):
        self.tpm.stop()
        super().tearDown()

    def default_profile(self, template="CT-%SERIAL%"):
        """A pre-provisioning profile, the tenant's default."""
        r = self.req("POST", "/admin/v1/deploymentProfiles", {
            "name": "Depot", "deploymentMode": "preProvisioning",
            "deviceNameTemplate": template}, token=self.key)
        self.assertEqual(r.status, 201, r)
        r = self.req("POST", "/admin/v1/deploymentProfiles/%s/assign"
                     % r.json["id"], {"tenantDefault": True},
                     token=self.key)
        self.assertEqual(r.status, 200, r)

    def device_token(self):
        """A device token for this device (its AIK made first)."""
        n = self.nonce()
        q, s = self.quote(n)
        r = self.ask(n, q, s)
        self.assertEqual(r.status, 200, r)
        return r.json["access_token"]

    # ---- the device, played by tpm2-tools ----

    def tools(self, *args, check=True):
        return self.tpm.tools(*args, check=check)

    def register(self, group_tag=None):
        """Imports the device's hash (with group_tag, if given); returns
        its id and ZTDID."""
        tag = ["--group-tag", group_tag] if group_tag else []
        p = run_agent(["hash", "--json", "--tcti", self.tpm.tcti] + tag,
                      self.sysfs)
        self.assertEqual(p.returncode, 0, p.stderr)
        item = json.loads(p.stdout)
        item.pop("missing", None)
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     {"importedDeviceIdentities": [item]}, token=self.key)
        self.assertEqual(r.status, 200, r)
        r = self.req("GET", "/admin/v1/devices?serial=TK-0001",
                     token=self.key)
        return r.json["value"][0]

    def aik(self):
        """An AIK certified by the attestation CA, as the device holds it."""
        d = self.d
        self.tools("tpm2_createek", "-G", "rsa", "-c", d + "/ek.ctx", "-u",
                   d + "/ek.pub")
        self.tools("tpm2_createak", "-C", d + "/ek.ctx", "-c",
                   d + "/ak.ctx", "-u", d + "/ak.pub", "-n", d + "/ak.name",
                   "-G", "rsa", "-g", "sha256", "-s", "rsassa")
        self.tools("tpm2_flushcontext", "-t")
        r = self.req("POST", "/aik/enroll", {
            "ekPublic": b64(read(d + "/ek.pub")),
            "aikPublic": b64(read(d + "/ak.pub")),
            "serialNumber": "TK-0001"})
        self.assertEqual(r.status, 200, r)
        p = activate_credential(self.tpm, d, d + "/ak.ctx", d + "/ek.ctx",
                                r.json["credentialBlob"],
                                r.json["encryptedSecret"])
        self.assertEqual(p.returncode, 0, p.stderr)
        sealed = base64.b64decode(r.json["encryptedCertificate"])
        self.cert = AESGCM(read(d + "/secret")).decrypt(
            sealed[:12], sealed[12:], None)

    def nonce(self):
        r = self.req("POST", "/token", "grant_type=srv_challenge",
                     content_type=FORM)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["expires_in"], 300)
        return r.json["Nonce"]

    def quote(self, nonce):
        d = self.d
        self.tools("tpm2_quote", "-c", d + "/ak.ctx", "-l", "sha256:0",
                   "-q", unb64url(nonce).hex(), "-m", d + "/quote.msg",
                   "-s", d + "/quote.sig", "-g", "sha256")
        self.tools("tpm2_flushcontext", "-t")
        return read(d + "/quote.msg"), read(d + "/quote.sig")

    def ask(self, nonce, quote, sig, **over):
        form = {"grant_type": GRANT, "nonce": nonce,
                "aik_public": b64url(read(self.d + "/ak.pub")),
                "aik_certificate": b64url(self.cert),
                "quote": b64url(quote), "signature": b64url(sig)}
        form.update(over)
        form = {k: v for k, v in form.items() if v is not None}
        return self.req("POST", "/token", urllib.parse.urlencode(form),
                        content_type=FORM)


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


class JoinClient(TpmClientTest):
    """A registered device with a profile, an AIK and a device token, whose
    keys tpm2-tools (and raw TPM commands) make, certify and use."""

    def setUp(self):
        super().setUp()
        self.handles = {}
        self.dev = self.register()
        self.default_profile()
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
