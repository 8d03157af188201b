"""A device played by tpm2-tools against swtpm, for tests of the services
a device talks to (token, drs): an independent TPM client, so the server
is not only checked against our own agent."""

import base64
import json
import os
import unittest
import urllib.parse

import wgtest
from swtpm import (Swtpm, activate_credential, have_swtpm, run_agent,
                   fake_sysfs)

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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

    def register(self):
        """Imports the device's hash; returns its id and ZTDID."""
        p = run_agent(["hash", "--json", "--tcti", self.tpm.tcti],
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
