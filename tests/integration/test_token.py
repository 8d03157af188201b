"""The device token (step 3): a nonce, a TPM2_Quote of it by the AIK, and
a JWT for drs and mdm.  The device side is played by tpm2-tools against
swtpm, so the server is checked against an independent TPM client; the
token is checked with an independent JOSE implementation."""

import json
import os
import unittest

from tpmclient import AESGCM, GRANT, TpmClientTest, b64url, read, unb64url

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import (
        encode_dss_signature)
except ImportError:  # the Makefile installs python3-cryptography
    pass


@unittest.skipIf(AESGCM is None, "python3-cryptography is missing")
class DeviceToken(TpmClientTest):

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
