"""The device token (step 3): a nonce, a TPM2_Quote of it by the AIK, and
a JWT for drs and mdm.  The device side is played by tpm2-tools against
swtpm, so the server is checked against an independent TPM client; the
token is checked with an independent JOSE implementation."""

import base64
import json
import os
import unittest
import urllib.parse

import wgtest
from swtpm import (Swtpm, activate_credential, have_swtpm, run_agent,
                   fake_sysfs)

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import (
        encode_dss_signature)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # the Makefile installs python3-cryptography
    AESGCM = None

GRANT = "urn:whiteglove:params:oauth:grant-type:tpm-quote"


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
class DeviceToken(wgtest.ServerTest):

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
                     content_type="application/x-www-form-urlencoded")
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
                        content_type="application/x-www-form-urlencoded")

    def verify_jwt(self, jwt):
        """Checks the ES256 signature with the published JWK Set."""
        r = self.req("GET", "/token/keys")
        self.assertEqual(r.status, 200, r)
        (jwk,) = r.json["keys"]
        self.assertEqual((jwk["kty"], jwk["crv"], jwk["alg"]),
                         ("EC", "P-256", "ES256"))
        pub = ec.EllipticCurvePublicNumbers(
            int.from_bytes(unb64url(jwk["x"]), "big"),
            int.from_bytes(unb64url(jwk["y"]), "big"),
            ec.SECP256R1()).public_key()
        head, body, sig = jwt.split(".")
        raw = unb64url(sig)
        self.assertEqual(len(raw), 64)
        pub.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                        int.from_bytes(raw[32:], "big")),
                   (head + "." + body).encode(), ec.ECDSA(hashes.SHA256()))
        header = json.loads(unb64url(head))
        self.assertEqual((header["alg"], header["kid"]),
                         ("ES256", jwk["kid"]))
        return json.loads(unb64url(body))

    # ---- the cases ----

    def test_quote_of_the_nonce_gets_a_device_token(self):
        dev = self.register()
        self.aik()
        n = self.nonce()
        q, s = self.quote(n)
        r = self.ask(n, q, s)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["token_type"], "Bearer")
        self.assertEqual(r.json["expires_in"], 3600)
        claims = self.verify_jwt(r.json["access_token"])
        self.assertEqual(claims["sub"], dev["ztdId"])
        self.assertEqual(claims["tid"], self.tenant)
        self.assertEqual(claims["deviceid"], dev["directoryDeviceId"])
        self.assertEqual(claims["serialNumber"], "TK-0001")
        self.assertEqual(claims["aud"], ["urn:whiteglove:drs",
                                         "urn:whiteglove:mdm"])
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        self.assertEqual(claims["cnf"]["tpm_aik_name"],
                         read(self.d + "/ak.name").hex())
        # the device's server-side timeline
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        mine = [a for a in r.json["value"]
                if a["event"]["eventId"] == 1015]
        self.assertEqual([a["deviceId"] for a in mine], [dev["id"]])
        # the same nonce again: used once only
        r = self.ask(n, q, s)
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        self.assertIn("already used", r.error["message"])

    def test_nonce_expired_unknown_or_not_the_quoted_one(self):
        self.register()
        self.aik()
        n = self.nonce()
        q, s = self.quote(n)
        # another nonce than the one quoted
        other = self.nonce()
        r = self.ask(other, q, s)
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        self.assertIn("nonce", r.error["message"])
        # a nonce the server never gave
        fake = b64url(os.urandom(32))
        q2, s2 = self.quote(fake)
        r = self.ask(fake, q2, s2)
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        self.assertIn("unknown", r.error["message"])
        # expired: its five minutes are over
        self.db.execute("UPDATE nonces SET expires_ms = 1")
        r = self.ask(n, q, s)
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        self.assertIn("expired", r.error["message"])

    def test_forged_or_foreign_proofs_are_refused(self):
        self.register()
        self.aik()
        n = self.nonce()
        q, s = self.quote(n)
        # a flipped byte in the quote: the AIK's signature fails
        bad = bytearray(q)
        bad[-1] ^= 1
        r = self.ask(n, bytes(bad), s)
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        # another AIK of the same TPM, without a certificate of its own
        d = self.d
        self.tools("tpm2_createak", "-C", d + "/ek.ctx", "-c",
                   d + "/ak2.ctx", "-u", d + "/ak2.pub", "-G", "rsa", "-g",
                   "sha256", "-s", "rsassa")
        self.tools("tpm2_flushcontext", "-t")
        self.tools("tpm2_quote", "-c", d + "/ak2.ctx", "-l", "sha256:0",
                   "-q", unb64url(n).hex(), "-m", d + "/q2.msg", "-s",
                   d + "/q2.sig", "-g", "sha256")
        self.tools("tpm2_flushcontext", "-t")
        r = self.ask(n, read(d + "/q2.msg"), read(d + "/q2.sig"),
                     aik_public=b64url(read(d + "/ak2.pub")))
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        self.assertIn("not a certificate the attestation CA issued",
                      r.error["message"])
        # the EK's public key as the AIK: not a signing key
        r = self.ask(n, q, s, aik_public=b64url(read(d + "/ek.pub")))
        self.assertError(r, 400, "WG_E_AIK_ATTRIBUTES")
        # none of these used the nonce up
        r = self.ask(n, q, s)
        self.assertEqual(r.status, 200, r)

    def test_bad_forms(self):
        cases = [
            ("", "grant_type"),
            ("grant_type=password", "not offered"),
            ("grant_type=srv_challenge&x=1", "takes no other field"),
            ("grant_type=srv_challenge&grant_type=srv_challenge", "twice"),
            ("grant_type=%zz", "percent-encoded"),
            ("grant_type=" + GRANT, "'nonce' is missing"),
            ("grant_type=" + GRANT + "&nonce=!!", "base64url"),
            ("grant_type=" + GRANT + "&color=red", "not known"),
        ]
        for body, text in cases:
            with self.subTest(body=body):
                r = self.req("POST", "/token", body, content_type=(
                    "application/x-www-form-urlencoded"))
                self.assertError(r, 400, "WG_E_JSON_FIELD")
                self.assertIn(text, r.error["message"])
        r = self.req("POST", "/token", {"grant_type": "srv_challenge"})
        self.assertError(r, 415, "WG_E_UNSUPPORTED_MEDIA_TYPE")


if __name__ == "__main__":
    unittest.main()
