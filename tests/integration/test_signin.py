"""The user's sign-in (step 7) against the real server, the device played
by tpm2-tools on swtpm and the JOSE by python3-cryptography: code we did
not write makes the request the DK signs, opens the session_key_jwe (the
TK decrypts its key in the TPM, AES-GCM its content) and derives the
proof-of-possession key (SP 800-108, KBKDFHMAC) the server must accept.
Every refusal is checked to leave the server's state as it was, except
the failed sign-ins counted."""

import base64
import hashlib
import hmac
import json
import os
import time
import unittest
import urllib.parse

from tpmclient import AESGCM, FORM, JoinClient, b64url, read, unb64url

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa, padding
    from cryptography.hazmat.primitives.kdf.kbkdf import (
        CounterLocation, KBKDFHMAC, Mode)
except ImportError:
    KBKDFHMAC = None

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PASSWORD = "correct horse battery staple"


def enc(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def claims_of(jwt):
    return json.loads(unb64url(jwt.split(".")[1]))


def pop_key(session_key, ctx):
    """The PoP key as MS-OAPXBC derives it, by python3-cryptography."""
    return KBKDFHMAC(algorithm=hashes.SHA256(), mode=Mode.CounterMode,
                     length=32, rlen=4, llen=4,
                     location=CounterLocation.BeforeFixed,
                     label=b"AzureAD-SecureConversation", context=ctx,
                     fixed=None).derive(session_key)


@unittest.skipIf(KBKDFHMAC is None, "python3-cryptography is missing")
class SignIn(JoinClient):
    """A pre-provisioned device (joined, resealed) and a user."""

    server_args = ["--signin-lockout-after", "3",
                   "--argon2-memory-kib", "8192", "--argon2-time", "1"]

    def setUp(self):
        super().setUp()
        r = self.req("POST", "/admin/v1/users", {
            "userPrincipalName": "ana@contoso.com", "displayName": "Ana",
            "password": PASSWORD}, token=self.key)
        self.assertEqual(r.status, 201, r)
        self.user = r.json
        self.keys()
        r = self.join(self.body())
        self.assertEqual(r.status, 200, r)
        self.dk_id = hashlib.sha256(read(self.d + "/dk.pub")[2:]).hexdigest()
        self.ticket = self.reseal()

    # ---- the device ----

    def reseal(self):
        n = self.nonce()
        q, s = self.quote(n)
        r = self.req("POST", "/token/v1/reseal", {
            "AikCertificate": base64.b64encode(self.cert).decode(),
            "Nonce": n, "Quote": base64.b64encode(q).decode(),
            "Signature": base64.b64encode(s).decode()}, token=self.token)
        self.assertEqual(r.status, 200, r)
        return r.json["Ticket"]

    def quote_now(self, nonce):
        """The AIK's quote through its persistent handle (the join made
        it persistent): it survives the TPM's power cycles."""
        d = self.d
        self.tools("tpm2_quote", "-c", "0x%08x" % self.persist("ak"), "-l",
                   "sha256:0", "-q", unb64url(nonce).hex(), "-m",
                   d + "/quote.msg", "-s", d + "/quote.sig", "-g", "sha256")
        return read(d + "/quote.msg"), read(d + "/quote.sig")

    def dk_sign(self, data):
        d = self.d
        with open(d + "/jws.in", "wb") as f:
            f.write(data)
        self.tools("tpm2_sign", "-c", "0x%08x" % self.persist("dk"), "-g",
                   "sha256", "-s", "rsassa", "-f", "plain", "-o",
                   d + "/jws.sig", d + "/jws.in")
        return read(d + "/jws.sig")

    def signin_request(self, nonce=None, header=None, sign=None, **over):
        n = nonce or self.nonce()
        q, s = self.quote_now(n)
        claims = {"grant_type": "password", "username": "Ana@Contoso.com",
                  "password": PASSWORD, "request_nonce": n,
                  "pp_ticket": self.ticket,
                  "tpm_attestation": {
                      "AikCertificate": base64.b64encode(self.cert).decode(),
                      "Quote": base64.b64encode(q).decode(),
                      "Signature": base64.b64encode(s).decode()},
                  "iat": int(time.time())}
        claims.update(over)
        claims = {k: v for k, v in claims.items() if v is not None}
        head = {"alg": "RS256", "typ": "JWT", "kid": self.dk_id}
        head.update(header or {})
        si = (enc(head) + "." + enc(claims)).encode()
        sig = (sign or self.dk_sign)(si)
        return si.decode() + "." + b64url(sig)

    def post(self, jws, key=None):
        return self.req("POST", "/token", urllib.parse.urlencode(
            {"grant_type": JWT_BEARER, "request": jws}), content_type=FORM,
            headers={"Idempotency-Key": key} if key else None)

    def signin(self, key=None, **kw):
        return self.post(self.signin_request(**kw), key=key)

    def open_session_key(self, jwe):
        """The CEK of the session_key_jwe, decrypted by the TK in the TPM
        (tpm2_rsadecrypt), and the content opened by AES-GCM."""
        head, ek, iv, ct, tag = jwe.split(".")
        h = json.loads(unb64url(head))
        self.assertEqual(h["enc"], "A256GCM")
        d = self.d
        with open(d + "/ek.bin", "wb") as f:
            f.write(unb64url(ek))
        self.tools("tpm2_rsadecrypt", "-c", self.load("tk"), "-s", "oaep",
                   "-o", d + "/cek.bin", d + "/ek.bin")
        self.tools("tpm2_flushcontext", "-t")
        cek = read(d + "/cek.bin")
        self.assertEqual(len(cek), 32)
        content = AESGCM(cek).decrypt(unb64url(iv), unb64url(ct) +
                                      unb64url(tag), head.encode())
        return h, cek, json.loads(content)

    def prt_request(self, prt, session_key, nonce=None, ctx=None,
                    **over):
        ctx = ctx or os.urandom(24)
        claims = {"grant_type": "refresh_token", "refresh_token": prt,
                  "request_nonce": nonce or self.nonce(),
                  "deviceid": self.dev["directoryDeviceId"],
                  "iat": int(time.time())}
        claims.update(over)
        claims = {k: v for k, v in claims.items() if v is not None}
        head = {"alg": "HS256", "typ": "JWT",
                "ctx": base64.b64encode(ctx).decode()}
        si = (enc(head) + "." + enc(claims)).encode()
        mac = hmac.new(pop_key(session_key, ctx), si, hashlib.sha256)
        return si.decode() + "." + b64url(mac.digest())

    # ---- what the server holds ----

    def snapshot(self):
        """What a sign-in changes, to compare before and after."""
        dev = self.dev["id"]
        return (self.query("SELECT used_ms FROM pp_tickets WHERE device_id "
                           "= '%s'" % dev),
                self.count("SELECT COUNT(*) FROM device_certificates WHERE "
                           "device_id = '%s'" % dev),
                self.count("SELECT COUNT(*) FROM prts"),
                self.directory_object().get("registeredOwner"),
                self.count("SELECT COUNT(*) FROM nonces WHERE used_ms <> 0"))

    def failures(self):
        r = self.req("GET", "/admin/v1/users/" + self.user["id"],
                     token=self.key)
        return r.json["failedSignIns"]

    # ---- the tests ----

    def test_signin_restores_the_join_and_gives_a_prt(self):
        before = self.count("SELECT COUNT(*) FROM device_certificates")
        first_nonce = self.nonce()
        r = self.signin(nonce=first_nonce)
        self.assertEqual(r.status, 200, r)
        a = r.json
        self.assertEqual(a["token_type"], "pop")
        self.assertEqual(a["Owner"], "ana@contoso.com")
        self.assertEqual(a["BootsSinceReseal"], 0)
        self.assertEqual(a["refresh_token_expires_in"], 14 * 86400)
        self.assertEqual(a["DeviceId"], self.dev["directoryDeviceId"])
        # the session key: RSA-OAEP-256 to the TK, opened in the TPM
        h, cek, content = self.open_session_key(a["session_key_jwe"])
        self.assertEqual(h["alg"], "RSA-OAEP-256")
        self.assertEqual(h["kid"], hashlib.sha256(
            read(self.d + "/tk.pub")[2:]).hexdigest())
        self.assertEqual(content["DeviceId"], self.dev["directoryDeviceId"])
        # the device certificate again, for the same DK
        cert = x509.load_der_x509_certificate(
            base64.b64decode(a["Certificate"]["RawBody"]))
        self.assertEqual(cert.public_key().public_numbers().n,
                         int.from_bytes(read(self.d + "/dk.pub")[-256:],
                                        "big"))
        self.assertEqual(self.count("SELECT COUNT(*) FROM "
                                    "device_certificates"), before + 1)
        self.assertEqual(self.directory_object()["registeredOwner"],
                         "ana@contoso.com")
        idt = claims_of(a["id_token"])
        self.assertEqual((idt["upn"], idt["sub"], idt["aud"]),
                         ("ana@contoso.com", self.user["id"],
                          "urn:whiteglove:agent"))
        # the PRT proves possession with the derived key (ours: python's)
        r = self.post(self.prt_request(a["refresh_token"], cek,
                                       resource="urn:contoso:mail"))
        self.assertEqual(r.status, 200, r)
        at = claims_of(r.json["access_token"])
        self.assertEqual((at["aud"], at["upn"], at["deviceid"]),
                         ("urn:contoso:mail", "ana@contoso.com",
                          self.dev["directoryDeviceId"]))
        # renewal: a new PRT on the same session key, the old one refused
        r = self.post(self.prt_request(a["refresh_token"], cek))
        self.assertEqual(r.status, 200, r)
        new = r.json["refresh_token"]
        self.assertNotEqual(new, a["refresh_token"])
        r = self.post(self.prt_request(a["refresh_token"], cek,
                                       resource="urn:contoso:mail"))
        self.assertError(r, 401, "WG_E_PRT_INVALID")
        r = self.post(self.prt_request(new, cek, resource="x"))
        self.assertEqual(r.status, 200, r)
        # the audit records of the device's timeline
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        ids = [e["event"]["eventId"] for e in r.json["value"]
               if e["deviceId"] == self.dev["id"]]
        for i in (1035, 1036, 1038):
            self.assertIn(i, ids)
        # the ticket served once; the nonce too
        r = self.signin()
        self.assertError(r, 403, "WG_E_TICKET_INVALID")
        self.assertIn("used", r.error["message"])
        # the first sign-in's nonce cannot serve again
        r = self.signin(nonce=first_nonce, pp_ticket=None)
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        # later sign-ins need no ticket: the device is joined again; the
        # owner stays the first user
        r = self.req("POST", "/admin/v1/users", {
            "userPrincipalName": "bob@contoso.com", "password": PASSWORD},
            token=self.key)
        self.assertEqual(r.status, 201, r)
        r = self.signin(pp_ticket=None, username="bob@contoso.com")
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["FirstSignIn"])
        self.assertEqual(r.json["Owner"], "ana@contoso.com")
        self.assertEqual(self.directory_object()["registeredOwner"],
                         "ana@contoso.com")
        r = self.req("GET", "/admin/v1/devices/" + self.dev["id"],
                     token=self.key)
        self.assertEqual(r.json["registeredOwner"], "ana@contoso.com")

    def test_refusals_change_nothing(self):
        base = self.snapshot()
        # not signed by the DK: a software key, another kid
        soft = rsa.generate_private_key(65537, 2048)
        r = self.signin(sign=lambda si: soft.sign(si, padding.PKCS1v15(),
                                                  hashes.SHA256()))
        self.assertError(r, 401, "WG_E_SIGNIN_PROOF_INVALID")
        r = self.signin(header={"kid": "ab" * 32})
        self.assertError(r, 401, "WG_E_SIGNIN_PROOF_INVALID")
        # a nonce that was never issued; one used already
        r = self.signin(nonce=b64url(os.urandom(32)))
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        # tickets: unknown, expired; none before the first sign-in
        r = self.signin(pp_ticket=b64url(os.urandom(32)))
        self.assertError(r, 403, "WG_E_TICKET_INVALID")
        r = self.signin(pp_ticket=None)
        self.assertError(r, 403, "WG_E_TICKET_INVALID")
        self.assertIn("first sign-in", r.error["message"])
        # a ticket bound to another device key (another device's)
        (dk,) = self.query("SELECT dk_id FROM pp_tickets")[0]
        self.db.execute("UPDATE pp_tickets SET dk_id = '%s'" % ("ab" * 32))
        r = self.signin()
        self.assertError(r, 403, "WG_E_TICKET_INVALID")
        self.assertIn("another device", r.error["message"])
        self.db.execute("UPDATE pp_tickets SET dk_id = '%s'" % dk)
        (expires,) = self.query("SELECT expires_ms FROM pp_tickets")[0]
        self.db.execute("UPDATE pp_tickets SET expires_ms = 1")
        r = self.signin()
        self.assertError(r, 403, "WG_E_TICKET_INVALID")
        self.assertIn("expired", r.error["message"])
        self.db.execute("UPDATE pp_tickets SET expires_ms = %s" % expires)
        self.assertEqual(self.snapshot(), base)
        # the users: unknown, wrong password (counted), disabled
        r = self.signin(username="bob@contoso.com")
        self.assertError(r, 404, "WG_E_USER_NOT_FOUND")
        r = self.signin(password="not the password at all")
        self.assertError(r, 401, "WG_E_USER_PASSWORD_WRONG")
        self.assertEqual(self.failures(), 1)
        r = self.req("POST", "/admin/v1/users/%s/disable" % self.user["id"],
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        r = self.signin()
        self.assertError(r, 403, "WG_E_USER_DISABLED")
        r = self.req("POST", "/admin/v1/users/%s/enable" % self.user["id"],
                     token=self.key)
        # lockout after 3 failures (--signin-lockout-after 3): the right
        # password is not even checked then
        for _ in range(2):
            r = self.signin(password="still not the password")
            self.assertError(r, 401, "WG_E_USER_PASSWORD_WRONG")
        r = self.signin()
        self.assertError(r, 429, "WG_E_USER_LOCKED")
        self.assertEqual(self.snapshot(), base)
        self.assertEqual(self.failures(), 3)
        # the lock lifts with an admin's new password
        r = self.req("POST", "/admin/v1/users/%s/password" % self.user["id"],
                     {"password": PASSWORD}, token=self.key)
        self.assertEqual(r.status, 200, r)
        r = self.signin()
        self.assertEqual(r.status, 200, r)

    def test_prt_refusals(self):
        r = self.signin()
        self.assertEqual(r.status, 200, r)
        prt = r.json["refresh_token"]
        _, cek, _ = self.open_session_key(r.json["session_key_jwe"])
        prts = self.count("SELECT COUNT(*) FROM prts")
        # no proof of possession: another session's key, a plain key
        r = self.post(self.prt_request(prt, os.urandom(32), resource="x"))
        self.assertError(r, 401, "WG_E_PRT_POP_INVALID")
        # presented for another device
        r = self.post(self.prt_request(prt, cek, resource="x",
                                       deviceid=self.user["id"]))
        self.assertError(r, 401, "WG_E_PRT_OTHER_DEVICE")
        r = self.post(self.prt_request(b64url(os.urandom(32)), cek,
                                       resource="x"))
        self.assertError(r, 401, "WG_E_PRT_INVALID")
        # a replayed nonce
        n = self.nonce()
        r = self.post(self.prt_request(prt, cek, nonce=n, resource="x"))
        self.assertEqual(r.status, 200, r)
        r = self.post(self.prt_request(prt, cek, nonce=n, resource="x"))
        self.assertError(r, 400, "WG_E_NONCE_INVALID")
        self.assertEqual(self.count("SELECT COUNT(*) FROM prts"), prts)
        # a disabled user's PRT is refused
        self.req("POST", "/admin/v1/users/%s/disable" % self.user["id"],
                 token=self.key)
        r = self.post(self.prt_request(prt, cek, resource="x"))
        self.assertError(r, 403, "WG_E_USER_DISABLED")

    def test_strict_policy_loses_the_join_after_two_boots(self):
        # one boot after the reseal (the user's) is allowed ...
        self.tpm.power_cycle()
        self.tpm.power_cycle()
        base = self.snapshot()
        r = self.signin()
        self.assertError(r, 409, "WG_E_LOST_JOIN")
        self.assertIn("started 2 times", r.error["message"])
        self.assertEqual(self.snapshot(), base)
        # the device's timeline on the server tells it (event 1037)
        r = self.req("GET", "/admin/v1/devices/%s/timeline"
                     % self.dev["id"], token=self.key)
        self.assertEqual(r.json["firstFailure"]["name"], "WG_E_LOST_JOIN")
        # ... and a tolerant profile accepts any number
        r = self.req("POST", "/admin/v1/deploymentProfiles", {
            "name": "Tolerant", "deploymentMode": "preProvisioning",
            "rebootPolicy": "tolerant"}, token=self.key)
        self.assertEqual(r.status, 201, r)
        r = self.req("POST", "/admin/v1/deploymentProfiles/%s/assign"
                     % r.json["id"], {"tenantDefault": True},
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        r = self.signin()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["BootsSinceReseal"], 2)

    def test_strict_policy_allows_the_users_boot(self):
        self.tpm.power_cycle()
        r = self.signin()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["BootsSinceReseal"], 1)

    def allow_recovery(self, on):
        r = self.req("PATCH", "/admin/v1/tenants/" + self.tenant,
                     {"allowJoinRecovery": on}, token=self.key)
        self.assertEqual(r.status, 200, r)

    def test_recovery_of_a_lost_join(self):
        self.tpm.power_cycle()
        self.tpm.power_cycle()
        r = self.signin()
        self.assertError(r, 409, "WG_E_LOST_JOIN")
        self.assertIn("does not allow recovery", r.error["message"])
        base = self.snapshot()
        r = self.signin(recover=True)
        self.assertError(r, 403, "WG_E_RECOVERY_NOT_ALLOWED")
        self.assertEqual(self.snapshot(), base)
        self.allow_recovery(True)
        r = self.signin()
        self.assertError(r, 409, "WG_E_LOST_JOIN")
        self.assertIn("login --recover", r.error["message"])
        # the credentials and a fresh quote by the reseal's AIK re-join
        # the same directory object; a wrong password still fails
        r = self.signin(recover=True, password="not the password at all")
        self.assertError(r, 401, "WG_E_USER_PASSWORD_WRONG")
        r = self.signin(recover=True)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["Recovered"])
        self.assertEqual(r.json["DeviceId"], self.dev["directoryDeviceId"])
        self.assertEqual(self.directory_object()["registeredOwner"],
                         "ana@contoso.com")
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        (ev,) = [e["event"] for e in r.json["value"]
                 if e["event"]["eventId"] == 1040]
        self.assertIn("started 2 times", ev["message"])
        # the ticket is used now: a recovery still may; a sign-in not
        r = self.signin()
        self.assertError(r, 403, "WG_E_TICKET_INVALID")
        r = self.signin(recover=True)
        self.assertEqual(r.status, 200, r)
        # an unknown ticket is never waived
        r = self.signin(recover=True, pp_ticket=b64url(os.urandom(32)))
        self.assertError(r, 403, "WG_E_TICKET_INVALID")

    def test_lost_answer_is_sent_again(self):
        """A sign-in whose answer was lost (the agent killed, the network
        gone) is made again with the same Idempotency-Key: the same
        answer, though its ticket is used up, and only for this DK."""
        r1 = self.signin(key="k-1.login")
        self.assertEqual(r1.status, 200, r1)
        prts = self.count("SELECT COUNT(*) FROM prts")
        r2 = self.signin(key="k-1.login")
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.json["refresh_token"], r1.json["refresh_token"])
        self.assertEqual(self.count("SELECT COUNT(*) FROM prts"), prts)
        # the key does not replay without the user's password, nor
        # without the device key's signature
        r = self.signin(key="k-1.login", password="not the password at all")
        self.assertError(r, 401, "WG_E_USER_PASSWORD_WRONG")
        soft = rsa.generate_private_key(65537, 2048)
        r = self.signin(key="k-1.login", sign=lambda si: soft.sign(
            si, padding.PKCS1v15(), hashes.SHA256()))
        self.assertError(r, 401, "WG_E_SIGNIN_PROOF_INVALID")
        # the stored answer keeps no PRT in clear
        rows = self.query("SELECT * FROM idempotency_keys")
        self.assertTrue(rows)
        self.assertNotIn(r1.json["refresh_token"], repr(rows))
        # another key: a new sign-in, refused (the ticket is used)
        r = self.signin(key="k-2.login")
        self.assertError(r, 403, "WG_E_TICKET_INVALID")


if __name__ == "__main__":
    unittest.main()
