"""The reseal (step 6): a joined device quotes a nonce with its AIK and
gets a one-time pre-provisioning ticket bound to its device key, with
the TPM's resetCount recorded; the device is played by tpm2-tools."""

import datetime
import hashlib
import unittest

from tpmclient import AESGCM, JoinClient, b64, read


@unittest.skipIf(AESGCM is None, "python3-cryptography is missing")
class Reseal(JoinClient):

    def reseal(self, n=None):
        n = n or self.nonce()
        q, s = self.quote(n)
        return self.req("POST", "/token/v1/reseal", {
            "AikCertificate": b64(self.cert), "Nonce": n, "Quote": b64(q),
            "Signature": b64(s)}, token=self.token)

    def reset_count(self):
        out = self.tools("tpm2_readclock").stdout.decode()
        for line in out.splitlines():
            if "reset_count" in line:
                return int(line.split(":")[1])
        self.fail("tpm2_readclock says no reset_count: " + out)

    def test_ticket_after_the_join(self):
        # not joined yet: no device key to bind the ticket to
        r = self.reseal()
        self.assertError(r, 409, "WG_E_RESEAL_NOT_JOINED")
        self.keys()
        r = self.join(self.body())
        self.assertEqual(r.status, 200, r)
        n = self.nonce()
        r = self.reseal(n)
        self.assertEqual(r.status, 200, r)
        first = r.json["Ticket"]
        self.assertEqual(len(first), 43)
        self.assertEqual(r.json["ResetCount"], self.reset_count())
        expires = datetime.datetime.fromisoformat(
            r.json["ExpiresAt"].replace("Z", "+00:00"))
        days = (expires - datetime.datetime.now(datetime.timezone.utc)).days
        self.assertIn(days, (179, 180))  # the profile's default lifetime
        # bound to the device key of the join
        dk = read(self.d + "/dk.pub")[2:]
        self.assertEqual(r.json["BoundTo"], hashlib.sha256(dk).hexdigest())
        # the nonce was used; a reseal made again replaces the ticket
        r = self.reseal(n)
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        r2 = self.reseal()
        self.assertEqual(r2.status, 200, r2)
        self.assertNotEqual(r2.json["Ticket"], first)
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        ids = [a["event"]["eventId"] for a in r.json["value"]
               if a["deviceId"] == self.dev["id"]]
        self.assertEqual(ids.count(1018), 2, ids)

    def test_quote_must_be_the_tokens_aik_over_the_nonce(self):
        self.keys()
        self.assertEqual(self.join(self.body()).status, 200)
        n = self.nonce()
        q, s = self.quote(n)
        other = self.nonce()
        r = self.req("POST", "/token/v1/reseal", {
            "AikCertificate": b64(self.cert), "Nonce": other,
            "Quote": b64(q), "Signature": b64(s)}, token=self.token)
        self.assertError(r, 400, "WG_E_ATTESTATION_INVALID")
        r = self.req("POST", "/token/v1/reseal", {
            "AikCertificate": b64(self.cert), "Nonce": n, "Quote": b64(q),
            "Signature": b64(s)})
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")


if __name__ == "__main__":
    unittest.main()
