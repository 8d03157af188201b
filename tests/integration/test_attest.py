"""'Securing your hardware' end to end: the real agent against swtpm and
the real server (ekcert and aik services), with tpm2-tools and openssl as
independent clients."""

import base64
import glob
import json
import os
import shutil
import subprocess
import unittest

import wgtest
from swtpm import (Swtpm, activate_credential, have_swtpm, run_agent,
                   fake_sysfs)


def b64(data):
    return base64.b64encode(data).decode()


def run(*args, env=None, check=True, input=None):
    p = subprocess.run(list(args), env=env, capture_output=True,
                       timeout=120, input=input)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d: %s" % (
            " ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    return p


@unittest.skipUnless(have_swtpm(), "swtpm is not installed")
class Attest(wgtest.ServerTest):

    def setUp(self):
        super().setUp()
        self.agent_state = os.path.join(self.workdir, "agent")
        self.sysfs = fake_sysfs(os.path.join(self.workdir, "sysfs"),
                                "AT-0001", "Contoso", "Surface Test 1")

    # ---- helpers ----

    def attest(self, tpm, alg="rsa", extra=(), server=None, tries="10"):
        args = ["attest", "--tcti", tpm.tcti, "--ek-alg", alg,
                "--server", server or self.server.url,
                "--ca", self.server.ca,
                "--aik-root", os.path.join(self.state, "aik", "root.crt"),
                "--state-dir", self.agent_state, "--tries", tries,
                "--backoff-ms", "1", "--timeout", "10"] + list(extra)
        return run_agent(args, self.sysfs)

    def ek_public(self, tpm, alg):
        """The TPM's EK public (TPM2B_PUBLIC), as tpm2-tools makes it."""
        d = os.path.join(self.workdir, "ek-" + alg)
        os.makedirs(d, exist_ok=True)
        tpm.tools("tpm2_createek", "-G", alg, "-c", d + "/ek.ctx", "-u",
                  d + "/ek.pub")
        tpm.tools("tpm2_flushcontext", "-t")
        return d + "/ek.pub"

    def register(self, ek_pub):
        p = self.cli("ekca", "register", "--ek-public", ek_pub,
                     "--manufacturer", "id:49424D00", "--model", "swtpm",
                     "--version", "id:20191023", "--json")
        return json.loads(p.stdout)

    def trail(self):
        with open(os.path.join(self.agent_state,
                               "CertReq_enrollaik_Output.txt")) as f:
            return f.read()

    def events(self):
        with open(os.path.join(self.agent_state, "events",
                               "tpm.jsonl")) as f:
            return [json.loads(line) for line in f]

    def import_hash(self, tpm, key):
        """The device's hardware hash (the agent's) imported by key."""
        p = run_agent(["hash", "--json", "--tcti", tpm.tcti], self.sysfs)
        self.assertEqual(p.returncode, 0, p.stderr)
        item = json.loads(p.stdout)
        item.pop("missing", None)
        r = self.req("POST", "/admin/v1/importedDeviceIdentities/import",
                     {"importedDeviceIdentities": [item]}, token=key)
        self.assertEqual(r.status, 200, r)

    def operator_events(self):
        """(eventId, details) of the audit records of no tenant."""
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.op)
        self.assertEqual(r.status, 200, r)
        return [(v["event"]["eventId"], v["event"]["details"])
                for v in r.json["value"]]

    def assert_aik_cert(self, oid):
        """The stored AIK certificate verifies against the CA chain with
        openssl and carries the AIK EKU and the assurance policy."""
        cert = os.path.join(self.agent_state, "aik.crt")
        p = run("openssl", "verify", "-CAfile",
                os.path.join(self.state, "aik", "root.crt"), "-untrusted",
                os.path.join(self.agent_state, "aik-ca.pem"), cert)
        self.assertIn(b": OK", p.stdout)
        text = run("openssl", "x509", "-in", cert, "-noout",
                   "-text").stdout.decode()
        self.assertIn("2.23.133.8.3", text)
        self.assertIn(oid, text)

    def assert_no_transient(self, tpm):
        out = tpm.tools("tpm2_getcap", "handles-transient").stdout
        self.assertEqual(out.strip(), b"", out)

    # ---- the flows ----

    def test_firmware_tpm_fetches_ek_cert_rsa_and_ecc(self):
        for alg in ("rsa", "ecc"):
            with self.subTest(alg=alg), Swtpm() as tpm:
                shutil.rmtree(self.agent_state, ignore_errors=True)
                reg = self.register(self.ek_public(tpm, alg))
                self.assertEqual(reg["ekAlgorithm"], alg)
                p = self.attest(tpm, alg, [
                    "--ekcert-url", self.server.url + "/ekcertservice",
                    "--ek-roots", os.path.join(self.state, "ek-trust")])
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(b"EK certificate: ekcert", p.stdout)
                self.assert_aik_cert("1.3.6.1.4.1.311.21.31")
                self.assert_no_transient(tpm)
                self.assertIn("/ekcertservice/%s%%3D -> HTTP 200"
                              % reg["ekId"], self.trail())

    def test_discrete_tpm_reads_ek_cert_from_nv(self):
        with Swtpm(ek_cert=True) as tpm:
            # the attestation CA trusts swtpm's local CA, as a vendor root
            for f in glob.glob(tpm.ca_dir + "/*cert*.pem"):
                shutil.copy(f, os.path.join(self.state, "ek-trust"))
            self.assertEqual(self.server.stop(), 0)
            self.server.start()
            p = self.attest(tpm)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"EK certificate: nv", p.stdout)
            self.assert_aik_cert("1.3.6.1.4.1.311.21.31")
            self.assert_no_transient(tpm)

    def test_ek_of_an_imported_hash_is_attested(self):
        tenant, key = self.create_tenant("depot")
        with Swtpm() as tpm:
            self.import_hash(tpm, key)
            p = self.attest(tpm)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"EK on the imported list", p.stdout)
            self.assert_aik_cert("1.3.6.1.4.1.311.21.30")
            self.assertIn((1008, {"assurance": "ek-on-list"}),
                          self.operator_events())
            # the AIK is kept: a second run reuses it
            with open(os.path.join(self.agent_state, "aik.pub"), "rb") as f:
                first = f.read()
            p = self.attest(tpm)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(self.agent_state, "aik.pub"), "rb") as f:
                self.assertEqual(f.read(), first)

    def test_settings_from_a_config_file(self):
        tenant, key = self.create_tenant("cfg")
        conf = os.path.join(self.workdir, "agent.conf")
        with Swtpm() as tpm:
            self.import_hash(tpm, key)
            with open(conf, "w") as f:
                f.write("# the device's settings\n"
                        "server = %s\nca = %s\naik-root = %s\n"
                        "state-dir = %s\ntries = 3\nbackoff-ms = 1\n"
                        "tcti = swtpm:host=127.0.0.1,port=1\n"
                        % (self.server.url, self.server.ca,
                           os.path.join(self.state, "aik", "root.crt"),
                           self.agent_state))
            # the command line wins over the file (its tcti is wrong)
            p = run_agent(["attest", "--config", conf, "--tcti", tpm.tcti],
                          self.sysfs)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"EK on the imported list", p.stdout)
            # hash takes the device settings of the same file (tcti here)
            conf2 = os.path.join(self.workdir, "agent2.conf")
            with open(conf2, "w") as f:
                f.write("tcti = %s\nserver = https://unused\n" % tpm.tcti)
            p = run_agent(["hash", "--json", "--config", conf2], self.sysfs)
            self.assertEqual(p.returncode, 0, p.stderr)
        with open(conf, "a") as f:
            f.write("colour = blue\n")
        p = run_agent(["attest", "--config", conf], self.sysfs)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"agent.conf:9: unknown setting 'colour'", p.stderr)

    def test_unknown_ek_is_refused_without_retrying(self):
        with Swtpm() as tpm:
            p = self.attest(tpm)
        self.assertEqual(p.returncode, 1, p.stdout)
        err = p.stderr.decode()
        self.assertIn("0x80190190 HTTP_E_STATUS_BAD_REQUEST", err)
        self.assertIn("WG_E_EK_UNKNOWN", err)
        self.assertEqual(self.trail().count("try 1/10 POST"), 1)
        self.assertNotIn("try 2/10", self.trail())
        last = self.events()[-1]
        self.assertEqual((last["eventId"], last["code"]),
                         (1105, "0x80190190"))

    def test_revoked_ek_is_not_served_and_not_attested(self):
        with Swtpm() as tpm:
            reg = self.register(self.ek_public(tpm, "rsa"))
            p = self.cli("ekca", "revoke", "--ek", reg["ekId"],
                         "--reason", "firmware recall")
            self.assertIn("revoked", p.stdout)
            r = self.req("GET", "/ekcertservice/%s%%3D" % reg["ekId"])
            self.assertError(r, 404, "WG_E_EK_CERT_MISSING")
            ek_b64 = b64(open(self.workdir + "/ek-rsa/ek.pub", "rb").read())
            r = self.req("POST", "/ekcertservice/register", {
                "ekPublic": ek_b64, "manufacturer": "id:49424D00",
                "model": "swtpm", "version": "id:20191023"}, token=self.op)
            self.assertError(r, 409, "WG_E_CONFLICT")
            der = base64.b64decode(reg["certificate"])
            ek = open(self.workdir + "/ek-rsa/ek.pub", "rb").read()
            r = self.req("POST", "/aik/enroll", {
                "ekPublic": b64(ek), "ekCertificate": b64(der),
                "aikPublic": b64(self.make_ak(tpm, "rsa")),
                "serialNumber": "AT-0001"})
            self.assertError(r, 403, "E_AUTOPILOT_CLIENT_TPM_VULNERABLE")
            p = self.attest(tpm, extra=[
                "--ekcert-url", self.server.url + "/ekcertservice"])
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"0x81039024", p.stderr)
        listed = json.loads(self.cli("ekca", "list", "--json").stdout)
        self.assertEqual(listed["value"][0]["revocationReason"],
                         "firmware recall")
        self.assertIn(1007, [e for e, _ in self.operator_events()])

    def test_ca_unreachable_ten_tries_then_0x81039001(self):
        with Swtpm() as tpm:
            p = self.attest(tpm, server="https://127.0.0.1:%d"
                            % wgtest.free_port())
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"0x81039001", p.stderr)
        trail = self.trail()
        for n in range(1, 11):
            self.assertIn("try %d/10 GET" % n, trail)
        self.assertNotIn("try 11/", trail)
        caps = [e for e in self.events() if e["eventId"] == 86]
        self.assertEqual(len(caps), 10)

    def test_ca_answering_404_is_tried_again_then_0x81039001(self):
        with Swtpm() as tpm:
            p = self.attest(tpm, server=self.server.url + "/nowhere",
                            tries="2")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"0x81039001", p.stderr)
        trail = self.trail()
        self.assertIn("try 2/2 GET", trail)
        self.assertIn("HTTP 404 0xA0570006 WG_E_ROUTE_NOT_FOUND", trail)
        self.assertIn("[0x80190194 HTTP_E_STATUS_NOT_FOUND]", trail)
        codes = [e["code"] for e in self.events() if e["eventId"] == 86]
        self.assertEqual(codes, ["0x80190194", "0x80190194"])

    def test_no_usable_tpm_is_0x800705b4(self):
        class NoTpm:
            tcti = "swtpm:host=127.0.0.1,port=%d" % wgtest.free_port()
        p = self.attest(NoTpm())
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"0x800705B4 ERROR_TIMEOUT", p.stderr)
        self.assertIn(b"no usable TPM", p.stderr)
        self.assertEqual(self.events()[-1]["code"], "0x800705B4")

    # ---- the services, with independent clients ----

    def test_register_twice_returns_the_first_certificate(self):
        with Swtpm() as tpm:
            ek = open(self.ek_public(tpm, "ecc"), "rb").read()
        body = {"ekPublic": b64(ek), "manufacturer": "id:49424D00",
                "model": "swtpm", "version": "id:20191023"}
        first = self.req("POST", "/ekcertservice/register", body,
                         token=self.op)
        self.assertEqual(first.status, 201, first)
        again = self.req("POST", "/ekcertservice/register", body,
                         token=self.op)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json["certificate"],
                         first.json["certificate"])
        # any EK can be revoked, certified here or not
        r = self.req("POST", "/admin/v1/ekcerts/%s/revoke"
                     % ("A" * 43), {"reason": "lost"}, token=self.op)
        self.assertEqual(r.status, 200, r)
        ids = [e for e, _ in self.operator_events()]
        self.assertEqual(ids.count(1006), 1, ids)

    def test_tpm2_getekcertificate_fetches_from_the_service(self):
        with Swtpm() as tpm:
            ek = self.ek_public(tpm, "rsa")
            reg = self.register(ek)
            out = os.path.join(self.workdir, "fetched.pem")
            # -X: the tool cannot be given the server's CA
            run("tpm2_getekcertificate", "-x", "-X", "-u", ek, "-o", out,
                self.server.url + "/ekcertservice/", env=tpm.tools_env())
        got = run("openssl", "x509", "-in", out, "-outform",
                  "DER").stdout
        self.assertEqual(got, base64.b64decode(reg["certificate"]))

    def test_scep_discovery(self):
        r = self.req("GET", "/aik/scep?operation=GetCACaps")
        self.assertEqual(r.status, 200, r)
        self.assertIn("SHA-256", r.body.split())
        conn = self.server.connect()
        conn.request("GET", "/aik/scep?operation=GetCACert")
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        self.assertEqual(resp.getheader("Content-Type"),
                         "application/x-x509-ca-ra-cert")
        certs = run("openssl", "pkcs7", "-inform", "DER", "-print_certs",
                    input=body).stdout.decode()
        self.assertEqual(certs.count("BEGIN CERTIFICATE"), 2)
        self.assertIn("whiteglove attestation issuing CA", certs)
        self.assertError(self.req("GET", "/aik/scep"), 400,
                         "WG_E_JSON_FIELD")
        self.assertError(self.req("GET", "/aik/scep?operation=PKIOperation"),
                         400, "WG_E_JSON_FIELD")

    def make_ak(self, tpm, alg, attrs=None):
        """An AIK-like key of the TPM (TPM2B_PUBLIC) made by tpm2-tools;
        attrs overrides its objectAttributes."""
        d = os.path.join(self.workdir, "ak-%s-%s" % (alg, attrs or "ok"))
        os.makedirs(d, exist_ok=True)
        tpm.tools("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G",
                  "ecc", "-c", d + "/srk.ctx")
        tpm.tools("tpm2_create", "-C", d + "/srk.ctx", "-G",
                  "rsa2048:rsassa-sha256:null", "-a", attrs or
                  "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|"
                  "restricted|sign", "-u", d + "/ak.pub", "-r",
                  d + "/ak.priv")
        tpm.tools("tpm2_flushcontext", "-t")
        with open(d + "/ak.pub", "rb") as f:
            return f.read()

    def test_enroll_refusals(self):
        attacker = os.path.join(self.workdir, "attacker")
        os.makedirs(attacker)
        with Swtpm() as tpm:
            ek_path = self.ek_public(tpm, "rsa")
            ek = open(ek_path, "rb").read()
            good_ak = self.make_ak(tpm, "rsa")
            loose_ak = self.make_ak(tpm, "rsa", "fixedtpm|fixedparent|"
                                    "sensitivedataorigin|userwithauth|sign")
            pem = run("tpm2_print", "-t", "TPM2B_PUBLIC", "-f", "pem",
                      ek_path, env=tpm.tools_env()).stdout
            with open(attacker + "/ek.pem", "wb") as f:
                f.write(pem)
        body = {"ekPublic": b64(ek), "aikPublic": b64(good_ak),
                "serialNumber": "AT-0001"}

        def enroll(**over):
            b = dict(body)
            b.update(over)
            return self.req("POST", "/aik/enroll", b)

        r = enroll(aikPublic=b64(loose_ak))
        self.assertError(r, 400, "WG_E_AIK_ATTRIBUTES")
        self.assertIn("restricted", r.error["message"])
        r = enroll(aikPublic=b64(ek))  # an EK is no AIK
        self.assertError(r, 400, "WG_E_AIK_ATTRIBUTES")
        r = enroll(ekPublic=b64(good_ak))
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = enroll(ekPublic=b64(ek[:-3]))
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = enroll(ekPublic=b64(ek + b"\0"))
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = enroll(ekCertificate="A" * 12000)
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        # a certificate for this EK from a CA nobody trusts
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=forger",
            "-keyout", attacker + "/ca.key", "-out", attacker + "/ca.crt",
            "-days", "30")
        run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=x",
            "-keyout", attacker + "/x.key", "-out", attacker + "/x.csr")
        with open(attacker + "/ext", "w") as f:
            f.write("extendedKeyUsage=2.23.133.8.1\n"
                    "keyUsage=critical,keyEncipherment\n"
                    "subjectAltName=critical,dirName:tpm\n"
                    # a DN section drops what precedes the first '.'
                    "[tpm]\n0.2.23.133.2.1=id:49424D00\n"
                    "1.2.23.133.2.2=swtpm\n2.2.23.133.2.3=id:20191023\n")
        run("openssl", "x509", "-req", "-in", attacker + "/x.csr",
            "-force_pubkey", attacker + "/ek.pem", "-CA",
            attacker + "/ca.crt", "-CAkey", attacker + "/ca.key",
            "-extfile", attacker + "/ext", "-days", "30", "-outform", "DER",
            "-out", attacker + "/forged.der")
        forged = open(attacker + "/forged.der", "rb").read()
        r = enroll(ekCertificate=b64(forged))
        self.assertError(r, 400, "WG_E_EK_CERT_UNTRUSTED")
        # a genuine certificate, of another EK
        with Swtpm() as other:
            reg = self.register(self.ek_public(other, "rsa"))
        r = enroll(ekCertificate=reg["certificate"])
        self.assertError(r, 400, "WG_E_EK_CERT_INVALID")
        # one EK registered, no AIK certified
        ids = [e for e, _ in self.operator_events()]
        self.assertEqual((ids.count(1006), ids.count(1008)), (1, 0), ids)

    def test_credential_opens_only_for_the_enrolled_aik(self):
        """tpm2_activatecredential (not our agent) opens the credential the
        CA made for one AIK, and the TPM refuses it for another."""
        with Swtpm() as tpm:
            reg = self.register(self.ek_public(tpm, "rsa"))
            d = self.workdir + "/ek-rsa"
            tpm.tools("tpm2_createek", "-G", "rsa", "-c", d + "/ek.ctx")
            for name in ("a", "b"):
                tpm.tools("tpm2_createak", "-C", d + "/ek.ctx", "-c",
                          "%s/%s.ctx" % (d, name), "-u",
                          "%s/%s.pub" % (d, name), "-n",
                          "%s/%s.name" % (d, name))
                tpm.tools("tpm2_flushcontext", "-t")
            ek = open(d + "/ek.pub", "rb").read()
            r = self.req("POST", "/aik/enroll", {
                "ekPublic": b64(ek), "ekCertificate": reg["certificate"],
                "aikPublic": b64(open(d + "/a.pub", "rb").read()),
                "serialNumber": "AT-0001"})
            self.assertEqual(r.status, 200, r)
            results = {}
            for name in ("a", "b"):
                results[name] = activate_credential(
                    tpm, d, "%s/%s.ctx" % (d, name), d + "/ek.ctx",
                    r.json["credentialBlob"], r.json["encryptedSecret"])
            self.assertEqual(results["a"].returncode, 0, results["a"].stderr)
            self.assertEqual(os.path.getsize(d + "/secret"), 32)
            self.assertNotEqual(results["b"].returncode, 0)
            self.assertIn(b"integrity", results["b"].stderr)


if __name__ == "__main__":
    unittest.main()
