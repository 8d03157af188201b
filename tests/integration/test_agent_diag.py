"""`whiteglove-agent diag collect`: the diagnostics bundle a technician
sends when pre-provisioning failed, made by the real agent from the state
directory a real `provision` run left (swtpm and the real server): every
record and event channel in it, the certificates summarized with the
thumbprints python3-cryptography computes, the TPM read live, and no
secret planted in the state directory found in any byte of it; then with
the TPM gone, and after a failed run."""

import base64
import glob
import hashlib
import json
import os
import stat
import subprocess
import tarfile
import unittest

from agentflow import AgentFlow
from swtpm import AGENT, Swtpm

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
except ImportError:  # the Makefile installs python3-cryptography
    x509 = None

TAG = "Depot"
FILE_MAX = 8 * 1024 * 1024
RECORDS = ("AutopilotDDSZTDFile.json", "CertReq_enrollaik_Output.txt",
           "provision.json", "join.json", "mdm.json", "reseal.json",
           "apps.json")
# the records of a device whose user signed in (account setup's state)
USER_RECORDS = ("apps-user.json",)


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# a JWT-looking access token, a refresh token and a password, planted
FAKE_JWT = "%s.%s.%s" % (b64url(b'{"alg":"ES256","typ":"JWT"}'),
                         b64url(b'{"sub":"planted-device","aud":"drs"}'),
                         b64url(os.urandom(64)))
FAKE_REFRESH = "rt-" + os.urandom(12).hex()
FAKE_PASSWORD = "Hunter2-" + os.urandom(6).hex()
FAKE_SESSION_KEY = b64url(os.urandom(32))


@unittest.skipIf(x509 is None, "python3-cryptography is missing")
class AgentDiag(AgentFlow):

    # ---- helpers ----

    def provision(self):
        """`whiteglove-agent provision` against this server and TPM."""
        return self.agent("provision", "--aik-root",
                          os.path.join(self.state, "aik", "root.crt"),
                          "--screen", "lines")

    def diag(self, *args, cwd=None, env=None):
        """whiteglove-agent diag ARGS (no WHITEGLOVE_TCTI from outside)."""
        e = dict(os.environ)
        e.pop("WHITEGLOVE_TCTI", None)
        e.pop("WHITEGLOVE_AGENT_CONFIG", None)
        e.update(env or {})
        return subprocess.run([os.path.abspath(AGENT), "diag"] + list(args),
                              env=e, cwd=cwd or self.workdir,
                              capture_output=True, timeout=120)

    def collect(self, *args, **kw):
        """diag collect -o BUNDLE ARGS that must succeed; returns the
        bundle's members {name below its folder: bytes} and stdout."""
        out = os.path.join(self.workdir, "bundle.tar.gz")
        p = self.diag("collect", "-o", out, *args, **kw)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        stdout = p.stdout.decode()
        self.assertIn("Wrote %s (%d bytes, " % (out, os.path.getsize(out)),
                      stdout)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        return self.members(out), stdout

    def members(self, path):
        """A bundle's regular members under its one top folder."""
        members = {}
        with tarfile.open(path, "r:gz") as tar:
            tops = set()
            for m in tar.getmembers():
                self.assertTrue(m.isfile(), m.name)
                top, _, name = m.name.partition("/")
                tops.add(top)
                members[name] = tar.extractfile(m).read()
        self.assertEqual(len(tops), 1, tops)
        self.assertTrue(tops.pop().startswith("whiteglove-diag-"))
        return members

    def plant(self, ticket):
        """Secrets in an event line, an app log and the config file, as
        they could leak there; returns the config file's path."""
        with open(self.path("events/autopilot.jsonl"), "a") as f:
            f.write(json.dumps({
                "eventId": 9999, "level": "info",
                "message": "debug: Authorization: Bearer %s" % FAKE_JWT,
                "details": {"access_token": FAKE_JWT, "Ticket": ticket,
                           "refresh_token": FAKE_REFRESH,
                           "session_key_jwe": FAKE_SESSION_KEY,
                           "note": "a token inside: %s" % FAKE_JWT}}) + "\n")
            f.write("not JSON: password=%s ticket: %s\n"
                    % (FAKE_PASSWORD, ticket))
        (log,) = glob.glob(self.path("apps/*.log"))
        with open(log, "a") as f:
            f.write("curl -H 'Authorization: Bearer %s'\n" % FAKE_JWT)
            f.write("ticket=%s refresh_token: %s\n" % (ticket, FAKE_REFRESH))
        conf = os.path.join(self.workdir, "agent.conf")
        with open(conf, "w") as f:
            f.write("state-dir = %s\ntcti = %s\n"
                    "# the proxy's password = %s\n"
                    % (self.agent_state, self.tpm.tcti, FAKE_PASSWORD))
        return conf

    def big_log(self):
        """An install log over the size cap; returns its last line."""
        last = "the last line %s" % os.urandom(4).hex()
        with open(self.path("apps/big.log"), "w") as f:
            line = "x" * 1023 + "\n"
            for _ in range(FILE_MAX // 1024 + 512):
                f.write(line)
            f.write(last + "\n")
        return last

    def assert_certificates(self, members, dev):
        """certificates.json: every certificate of the state directory
        with subject, issuer, serial, dates and thumbprints as
        python3-cryptography reads them."""
        doc = json.loads(members["certificates.json"])["certificates"]
        got = {(c["file"], c["sha256"]): c for c in doc}
        files = sorted(os.path.basename(p) for p in
                       glob.glob(self.path("*.crt")) +
                       glob.glob(self.path("*.pem")))
        self.assertEqual(files, ["aik-ca.pem", "aik.crt", "mdm-ca.pem",
                                 "mdm.crt"])
        n = 0
        for name in files:
            for cert in x509.load_pem_x509_certificates(self.read(name)):
                sha256 = cert.fingerprint(hashes.SHA256()).hex().upper()
                c = got[(name, sha256)]
                self.assertEqual(c["sha1"], cert.fingerprint(
                    hashes.SHA1()).hex().upper())
                cn = cert.subject.get_attributes_for_oid(
                    NameOID.COMMON_NAME)[0].value
                self.assertIn("CN=" + cn, c["subject"])
                self.assertEqual(int(c["serial"], 16), cert.serial_number)
                self.assertEqual(c["notAfter"], cert.not_valid_after_utc
                                 .strftime("%Y-%m-%dT%H:%M:%SZ"))
                n += 1
        self.assertEqual(n, len(doc))
        mdm = [c for c in doc if c["file"] == "mdm.crt"][0]
        self.assertEqual(mdm["subject"], "CN=" + dev["directoryDeviceId"])

    def assert_no_secret(self, members, secrets):
        for name, data in members.items():
            for s in secrets:
                self.assertNotIn(s.encode(), data, (name, s))
            self.assertNotIn(b"PRIVATE KEY", data, name)

    # ---- the cases ----

    def test_bundle_after_the_green_screen_holds_no_secret(self):
        dev = self.register(TAG)
        self.default_profile()
        self.app("Contoso Notes", b"notes " * 100,
                 "echo installing notes", TAG)
        p = self.provision()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        ticket = json.loads(self.read("ticket.json"))["Ticket"]
        ids = [e["eventId"] for e in self.events("autopilot")]
        conf = self.plant(ticket)
        last = self.big_log()
        members, out = self.collect("--config", conf)
        # every record, channel and log, the config; nothing secret
        channels = sorted("events/" + os.path.basename(x) for x in
                          glob.glob(self.path("events/*.jsonl")))
        logs = sorted("apps/" + os.path.basename(x) for x in
                      glob.glob(self.path("apps/*.log")))
        self.assertGreaterEqual(len(channels), 4, channels)
        self.assertEqual(set(members), set(RECORDS) | set(channels) |
                         set(logs) | {"config/agent.conf",
                                      "certificates.json", "tpm.json",
                                      "manifest.json"})
        self.assertIn("%d files" % len(members), out)
        self.assert_no_secret(members, [ticket, FAKE_JWT, FAKE_REFRESH,
                                        FAKE_PASSWORD, FAKE_SESSION_KEY])
        # what was redacted still reads
        lines = members["events/autopilot.jsonl"].decode().splitlines()
        planted = json.loads(lines[-2])
        self.assertEqual(planted["details"]["Ticket"], "[redacted]")
        self.assertEqual(planted["details"]["access_token"], "[redacted]")
        self.assertEqual(planted["message"],
                         "debug: Authorization: Bearer [redacted]")
        self.assertIn("password=[redacted]", lines[-1])
        events = [json.loads(x) for x in lines[:-2]]
        self.assertEqual([e["eventId"] for e in events], ids)
        self.assertIn(b"# the proxy's password = [redacted]",
                      members["config/agent.conf"])
        self.assertEqual(json.loads(members["reseal.json"]),
                         json.loads(self.read("reseal.json")))
        # the big log: its last 8 MiB, cut at a line, said so
        big = members["apps/big.log"]
        self.assertLessEqual(len(big), FILE_MAX + 200)
        self.assertTrue(big.startswith(b"[whiteglove diag: the first "))
        self.assertTrue(big.endswith((last + "\n").encode()))
        self.assert_certificates(members, dev)
        # the TPM read now: its manufacturer and counters
        tpm = json.loads(members["tpm.json"])
        self.assertEqual(tpm["manufacturer"], "IBM")
        self.assertEqual(tpm["tcti"], self.tpm.tcti)
        clock = self.tpm.tools("tpm2_readclock").stdout.decode()
        self.assertIn("reset_count: %d" % tpm["clock"]["resetCount"], clock)
        self.assertIn("sha256", tpm["algorithms"])
        self.assertIn({"hash": "sha256", "pcrs": 24, "active": True},
                      tpm["pcrBanks"])
        self.assertFalse(tpm["ekCertificates"]["rsa"]["present"])
        # the manifest
        man = json.loads(members["manifest.json"])
        # no user has signed in yet: account setup's record is all
        self.assertEqual(man["missing"], list(USER_RECORDS))
        self.assertEqual(man["unreadable"], [])
        self.assertEqual(man["config"], conf)
        self.assertEqual(man["stateDir"], self.agent_state)
        self.assertEqual(man["kernel"].split()[1], os.uname().release)
        redacted = {r["name"]: r["count"] for r in man["redacted"]}
        self.assertGreaterEqual(redacted["events/autopilot.jsonl"], 7)
        self.assertEqual(redacted["config/agent.conf"], 1)
        truncated = [i["name"] for i in man["included"]
                     if i.get("truncated")]
        self.assertEqual(truncated, ["apps/big.log"])
        for name in ("ticket.json", "aik.priv", "dk.priv", "mdm.priv"):
            self.assertIn(name, man["notCopied"])

    def test_bundle_without_the_tpm(self):
        self.register(TAG)
        self.default_profile()
        self.ok("profile")
        os.symlink("/etc/passwd", self.path("events/stolen.jsonl"))
        # a PEM file holding a private key with its certificate
        key = self.path("tls.key.tmp")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", self.path("tls.pem"),
                        "-subj", "/CN=planted tls", "-days", "1"],
                       check=True, capture_output=True)
        with open(key, "rb") as f, open(self.path("tls.pem"), "ab") as g:
            g.write(f.read())
        os.unlink(key)
        tls = x509.load_pem_x509_certificate(self.read("tls.pem"))
        self.tpm._kill()  # the TPM is the problem
        p = self.diag("collect", "--state-dir", self.agent_state,
                      "--tcti", self.tpm.tcti)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = p.stdout.decode()
        # the default name, in the current directory
        (path,) = glob.glob(os.path.join(self.workdir,
                                         "whiteglove-diag-*.tar.gz"))
        self.assertIn("Wrote %s (" % os.path.basename(path), out)
        self.assertIn("could not read events/stolen.jsonl", out)
        members = self.members(path)
        tpm = json.loads(members["tpm.json"])
        self.assertEqual(tpm["error"]["name"], "WG_E_TPM_UNAVAILABLE")
        self.assertNotIn("clock", tpm)
        self.assertIn("AutopilotDDSZTDFile.json", members)
        self.assertNotIn("events/stolen.jsonl", members)
        man = json.loads(members["manifest.json"])
        self.assertIn("join.json", man["missing"])
        self.assertTrue(man["unreadable"][0].startswith(
            "events/stolen.jsonl: "), man)
        self.assertNotIn(b"root:", b"".join(members.values()))
        # its certificate summarized, its key said and never read
        (c,) = json.loads(members["certificates.json"])["certificates"]
        self.assertEqual((c["file"], c["subject"], c["sha256"]),
                         ("tls.pem", "CN=planted tls", tls.fingerprint(
                             hashes.SHA256()).hex().upper()))
        self.assertEqual(man["privateKeyFiles"], ["tls.pem"])
        self.assertNotIn(b"PRIVATE KEY", b"".join(members.values()))

    def test_bundle_of_a_failed_provision_holds_the_failure(self):
        self.register(TAG)  # no profile for the device
        p = self.provision()
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        members, _ = self.collect("--state-dir", self.agent_state,
                                  "--tcti", self.tpm.tcti)
        events = [json.loads(x) for x in
                  members["events/autopilot.jsonl"].splitlines()]
        self.assertEqual((events[-1]["eventId"], events[-1]["name"]),
                         (1502, "WG_E_PROFILE_NOT_ASSIGNED"))
        state = json.loads(members["provision.json"])
        self.assertEqual(state["Steps"]["profile"]["State"], "failed")
        man = json.loads(members["manifest.json"])
        self.assertIn("AutopilotDDSZTDFile.json", man["missing"])
        self.assertEqual(json.loads(members["tpm.json"])["manufacturer"],
                         "IBM")

    def test_tpm_json_reports_the_ek_certificate_in_nv(self):
        with Swtpm(ek_cert=True) as tpm:  # a discrete TPM's: RSA EK cert
            members, _ = self.collect("--state-dir", self.agent_state,
                                      "--tcti", tpm.tcti)
            nv = tpm.tools("tpm2_nvread", "0x01c00002").stdout
        # the DER's length from its outer SEQUENCE (NV may pad it)
        n = nv[1] & 0x7f
        der = nv[:2 + n + int.from_bytes(nv[2:2 + n], "big")]
        ek = json.loads(members["tpm.json"])["ekCertificates"]
        self.assertEqual(ek["rsa"], {"present": True, "bytes": len(der),
                                     "sha256": hashlib.sha256(der)
                                     .hexdigest()})
        self.assertFalse(ek["ecc"]["present"])
        # a state directory not made yet: every record missing, no error
        man = json.loads(members["manifest.json"])
        self.assertEqual(sorted(man["missing"]),
                         sorted(RECORDS + USER_RECORDS))
        self.assertEqual(man["unreadable"], [])

    def test_usage_and_a_bundle_that_cannot_be_written(self):
        for args in ((), ("bogus",), ("collect", "extra"),
                     ("collect", "-o", "-"), ("collect", "--nope")):
            p = self.diag(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(b"usage: whiteglove-agent diag collect", p.stderr)
        p = self.diag("collect", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"[redacted]", p.stdout)
        p = self.diag("collect", "-o", os.path.join(self.workdir, "no",
                                                    "x.tar.gz"),
                      "--state-dir", self.agent_state, "--tcti",
                      self.tpm.tcti)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(b"WG_E_IO", p.stderr)
        self.assertEqual(os.listdir(self.workdir).count("no"), 0)


if __name__ == "__main__":
    unittest.main()
