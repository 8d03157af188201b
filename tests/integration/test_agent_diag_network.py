"""`whiteglove-agent diag network`: the real agent checks DNS, connect, TLS
and an HTTP answer of every endpoint the device needs, against the real
server on loopback (its private CA pinned) and against what breaks in the
field: nothing listening, a name that does not resolve, a CA that is not
the server's, an expired server certificate (a tiny python TLS server), a
service the server does not run (GetCACaps 404).  Loopback only; every
loop is bounded."""

import datetime
import json
import os
import socket
import ssl
import subprocess
import threading
import unittest

import wgtest
from swtpm import AGENT

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:  # the Makefile installs python3-cryptography
    x509 = None

NEEDED = ("ztd", "aik", "drs-discovery", "drs-enrollment", "token",
          "mdm-discovery", "mdm-enrollment", "content")


def profile_file(state, tenant_id):
    """The profile the `profile` phase leaves, enough for the check: it
    names the tenant whose discovery document is fetched."""
    os.makedirs(state, mode=0o700, exist_ok=True)
    with open(os.path.join(state, "AutopilotDDSZTDFile.json"), "w") as f:
        json.dump({"CloudAssignedTenantId": tenant_id,
                   "CloudAssignedTenantDomain": "Contoso",
                   "CloudAssignedDeviceName": "CT-%SERIAL%",
                   "ZtdCorrelationId": "6f1b2c3d-0000-4000-8000-00000000c0de",
                   "ZtdDeviceId": "0b7a1f1e-0000-4000-8000-0000000000d1",
                   "DeploymentMode": "whiteGlove"}, f)


class NetworkCheck(wgtest.ServerTest):

    def setUp(self):
        super().setUp()
        self.agent_state = os.path.join(self.workdir, "agent")

    def check(self, *args, server=None, ca=None, json_out=True):
        """diag network; (exit code, JSON or text, stderr)."""
        argv = [AGENT, "diag", "network", "--state-dir", self.agent_state,
                "--timeout", "5"]
        if server is not False:
            argv += ["--server", server or self.server.url]
        if ca is not False:
            argv += ["--ca", ca or self.server.ca]
        argv += list(args) + (["--json"] if json_out else [])
        p = subprocess.run(argv, capture_output=True, timeout=120)
        out = p.stdout.decode()
        return p.returncode, json.loads(out) if json_out else out, \
            p.stderr.decode()

    def endpoints(self, doc):
        return {e["name"]: e for e in doc["endpoints"]}

    def events(self):
        path = os.path.join(self.agent_state, "events", "autopilot.jsonl")
        with open(path) as f:
            return [json.loads(line) for line in f
                    if json.loads(line)["eventId"] == 1700]

    def assert_failed(self, doc, names, step, words):
        """Each endpoint in names failed at step, its reason has words."""
        eps = self.endpoints(doc)
        self.assertFalse(doc["ok"])
        self.assertEqual(sorted(f["endpoint"] for f in doc["failures"]),
                         sorted(names), doc["failures"])
        for n in names:
            self.assertEqual(eps[n]["verdict"], "fail", eps[n])
            self.assertEqual(eps[n][step]["state"], "fail", eps[n])
            self.assertIn(words, eps[n]["reason"], eps[n])

    # ---- all pass ----

    def test_every_endpoint_passes_and_the_firewall_list(self):
        tenant_id, _ = self.create_tenant("Contoso")
        profile_file(self.agent_state, tenant_id)
        changes = "SELECT (SELECT count(*) FROM audit_events) + (SELECT " \
            "count(*) FROM nonces) + (SELECT count(*) FROM ek_certificates)"
        before = self.count(changes)
        ekcert = self.server.url + "/ekcertservice"
        rc, doc, err = self.check("--ekcert-url", ekcert)
        self.assertEqual(rc, 0, (doc, err))
        self.assertTrue(doc["ok"])
        self.assertEqual(doc["tenantId"], tenant_id)
        self.assertEqual(doc["failures"], [])
        eps = self.endpoints(doc)
        hostport = "127.0.0.1:%d" % self.server.port
        for name in NEEDED + ("ekcert",):
            e = eps[name]
            self.assertEqual(e["verdict"], "pass", e)
            self.assertEqual(e["hostPort"], hostport)
            self.assertEqual(e["dns"]["addresses"], ["127.0.0.1"])
            for step in ("dns", "connect", "tls", "http"):
                self.assertEqual(e[step]["state"], "pass", (name, e))
            self.assertTrue(e["tls"]["nameMatches"])
            self.assertGreater(e["tls"]["daysLeft"], 30)
        self.assertTrue(eps["ekcert"]["manufacturer"])
        self.assertIn("/%s/Discover" % tenant_id, eps["drs-discovery"]["url"])
        self.assertEqual(eps["aik"]["http"]["status"], 200)
        self.assertIn("operation=GetCACaps", eps["aik"]["url"])
        self.assertEqual(eps["ztd"]["http"]["status"], 405)
        self.assertEqual(eps["content"]["http"]["status"], 401)
        self.assertEqual([f["hostPort"] for f in doc["firewall"]],
                         [hostport])
        self.assertEqual(sorted(doc["firewall"][0]["endpoints"]),
                         sorted(NEEDED + ("ekcert",)))
        # the check's GETs changed nothing: no audit event, nonce, EK
        self.assertEqual(self.count(changes), before)
        ev = self.events()[-1]
        self.assertEqual((ev["level"], ev["code"]), ("info", "0x00000000"))
        self.assertEqual(ev["correlationId"],
                         "6f1b2c3d-0000-4000-8000-00000000c0de")
        self.assertEqual(ev["details"]["allow"], hostport)

        # the table, with the server and CA from the configuration file
        conf = os.path.join(self.workdir, "agent.conf")
        with open(conf, "w") as f:
            f.write("server = %s\nca = %s\ntcti = swtpm:port=1\n"
                    % (self.server.url, self.server.ca))
        rc, text, err = self.check("--config", conf, server=False, ca=False,
                                   json_out=False)
        self.assertEqual(rc, 0, text + err)
        head, _, firewall = text.partition("What to allow in the firewall")
        self.assertTrue(firewall, text)
        self.assertIn(hostport, firewall.splitlines()[1])
        for name in NEEDED:
            self.assertRegex(head, r"\n%s +https://%s\S* +%s .* pass\n"
                             % (name, hostport, hostport))
        self.assertRegex(head, r"\nekcert +- +- .* skip\n")

    def test_without_a_profile_the_discovery_is_skipped(self):
        rc, doc, err = self.check()
        self.assertEqual(rc, 0, (doc, err))
        eps = self.endpoints(doc)
        self.assertEqual(eps["drs-discovery"]["verdict"], "skip")
        self.assertIn("tenant is not known", eps["drs-discovery"]["reason"])
        self.assertEqual(eps["ekcert"]["verdict"], "skip")
        self.assertEqual(eps["token"]["verdict"], "pass")

    # ---- what breaks in the field ----

    def test_stopped_listener_is_connect_refused(self):
        port = wgtest.free_port()
        rc, doc, err = self.check(server="https://127.0.0.1:%d" % port)
        self.assertEqual(rc, 1, (doc, err))
        names = [n for n in NEEDED if n != "drs-discovery"]
        self.assert_failed(doc, names, "connect", "connect: refused")
        self.assertEqual(self.endpoints(doc)["aik"]["code"], "0xA0570302")
        self.assertEqual([f["hostPort"] for f in doc["firewall"]],
                         ["127.0.0.1:%d" % port])
        ev = self.events()[-1]
        self.assertEqual((ev["level"], ev["name"]), ("error", "WG_E_NET_CONNECT"))
        self.assertIn("aik", ev["details"]["failed"])
        self.assertIn("connect: refused", ev["details"]["aik"])

        rc, text, _ = self.check(server="https://127.0.0.1:%d" % port,
                                 json_out=False)
        self.assertEqual(rc, 1)
        self.assertRegex(text, r"FAIL aik \(attestation CA \(GetCACaps\)\): "
                         r"connect: refused by 127\.0\.0\.1 port %d" % port)

    def test_unresolvable_name_is_a_dns_failure(self):
        rc, doc, err = self.check(server="https://wg-check.invalid:%d"
                                  % self.server.port)
        self.assertEqual(rc, 1, (doc, err))
        names = [n for n in NEEDED if n != "drs-discovery"]
        self.assert_failed(doc, names, "dns", "DNS: ")
        self.assertEqual(self.endpoints(doc)["ztd"]["codeName"],
                         "WG_E_NET_DNS")

    def test_blocked_manufacturer_ek_url(self):
        """The field report: the server passes, the manufacturer's EK
        service does not resolve; only ekcert fails and the firewall list
        names its host."""
        rc, doc, err = self.check("--ekcert-url",
                                  "https://ekop.wg-check.invalid/ekcertservice")
        self.assertEqual(rc, 1, (doc, err))
        self.assert_failed(doc, ["ekcert"], "dns", "DNS: ")
        fw = {f["hostPort"]: f for f in doc["firewall"]}
        self.assertTrue(fw["ekop.wg-check.invalid:443"]["manufacturer"])
        self.assertIn("127.0.0.1:%d" % self.server.port, fw)
        rc, text, _ = self.check("--ekcert-url",
                                 "https://ekop.wg-check.invalid/ekcertservice",
                                 json_out=False)
        self.assertIn("allow ekop.wg-check.invalid by name",
                      text.partition("What to allow in the firewall")[2])

    def test_wrong_pinned_ca_is_a_tls_failure(self):
        key = os.path.join(self.workdir, "other.key")
        ca = os.path.join(self.workdir, "other-ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", ca, "-days", "30",
                        "-subj", "/CN=Not The Server CA"], check=True,
                       capture_output=True)
        rc, doc, err = self.check(ca=ca)
        self.assertEqual(rc, 1, (doc, err))
        names = [n for n in NEEDED if n != "drs-discovery"]
        self.assert_failed(doc, names, "tls",
                           "TLS: certificate not signed by the pinned CA")
        self.assertIn("Not The Server CA", self.endpoints(doc)["aik"]["reason"])
        self.assertEqual(self.endpoints(doc)["aik"]["codeName"],
                         "WG_E_NET_TLS")

    @unittest.skipIf(x509 is None, "python3-cryptography is missing")
    def test_expired_server_certificate(self):
        ca, port, stop = self.expired_server()
        try:
            rc, doc, err = self.check(server="https://127.0.0.1:%d" % port,
                                      ca=ca)
        finally:
            stop()
        self.assertEqual(rc, 1, (doc, err))
        names = [n for n in NEEDED if n != "drs-discovery"]
        self.assert_failed(doc, names, "tls", "TLS: expired on 2020-02-01")
        tls = self.endpoints(doc)["ztd"]["tls"]
        self.assertLess(tls["daysLeft"], 0)
        self.assertEqual(tls["notAfter"], "2020-02-01 00:00:00 UTC")

    def expired_server(self):
        """A TLS server on loopback whose certificate (from its own CA)
        expired in 2020; handshakes only.  (CA file, port, stop)."""
        now = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                "Expiry Test CA")])
        ca_cert = (x509.CertificateBuilder().subject_name(ca_name)
                   .issuer_name(ca_name).public_key(ca_key.public_key())
                   .serial_number(1).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True,
                                                        path_length=None),
                                  critical=True)
                   .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        import ipaddress
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(
                    NameOID.COMMON_NAME, "127.0.0.1")]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(2).not_valid_before(now)
                .not_valid_after(datetime.datetime(
                    2020, 2, 1, tzinfo=datetime.timezone.utc))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                    critical=False)
                .sign(ca_key, hashes.SHA256()))
        paths = {n: os.path.join(self.workdir, n)
                 for n in ("exp-ca.pem", "exp.pem", "exp.key")}
        with open(paths["exp-ca.pem"], "wb") as f:
            f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
        with open(paths["exp.pem"], "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(paths["exp.key"], "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(paths["exp.pem"], paths["exp.key"])
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        lsock.settimeout(0.2)
        done = threading.Event()

        def serve():
            for _ in range(20000):  # bounded; the test stops it sooner
                if done.is_set():
                    break
                try:
                    conn, _ = lsock.accept()
                except socket.timeout:
                    continue
                conn.settimeout(5)
                try:
                    with ctx.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)  # the client closes: handshake only
                except (OSError, ssl.SSLError):
                    pass
                finally:
                    conn.close()

        th = threading.Thread(target=serve, daemon=True)
        th.start()

        def stop():
            done.set()
            th.join(10)
            lsock.close()
        return paths["exp-ca.pem"], lsock.getsockname()[1], stop

    # ---- usage ----

    def test_usage_errors(self):
        for args in (["--timeout", "0"], ["--server", "ftp://x"], ["extra"]):
            p = subprocess.run([AGENT, "diag", "network", "--server",
                                self.server.url] + args, capture_output=True,
                               timeout=60)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
        p = subprocess.run([AGENT, "diag", "network"], capture_output=True,
                           timeout=60, env=dict(os.environ,
                                                WHITEGLOVE_AGENT_CONFIG=""))
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--server is needed", p.stderr)


class NetworkCheckWithoutAik(wgtest.ServerTest):
    """A server that does not run the attestation CA: GetCACaps is 404."""

    server_args = ["--services", "admin,registry,ztd,ekcert,drs,token,mdm"]

    def test_getcacaps_404_names_its_meaning(self):
        state = os.path.join(self.workdir, "agent")
        p = subprocess.run([AGENT, "diag", "network", "--server",
                            self.server.url, "--ca", self.server.ca,
                            "--state-dir", state, "--timeout", "5", "--json"],
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual([f["endpoint"] for f in doc["failures"]], ["aik"])
        aik = [e for e in doc["endpoints"] if e["name"] == "aik"][0]
        self.assertEqual(aik["http"]["status"], 404)
        self.assertEqual(aik["code"], "0x80190194")
        self.assertIn("GetCACaps 404: no attestation CA", aik["reason"])


if __name__ == "__main__":
    unittest.main()
