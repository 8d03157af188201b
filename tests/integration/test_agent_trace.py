"""The agent's HTTP trace (`--trace`, `trace = on`, WHITEGLOVE_AGENT_TRACE=1):
the real agent through every phase against swtpm and the real server, one
JSON line per request in STATE/trace/http.jsonl with its method, URL,
status and timing; no ticket, token, password, PRT, session key,
Authorization or Idempotency-Key value in it or in the diagnostics bundle
made from it; app content as its length and SHA-256 only; nothing written
without the switch; a connection to a port nobody listens on traced with
its error."""

import json
import os
import re
import socket
import stat
import subprocess
import tarfile

from agentflow import AgentFlow
from swtpm import AGENT

TAG = "Depot"
PASSWORD = "Trace-horse-" + os.urandom(6).hex()
UPN = "ana@contoso.com"
REQUEST_KEY = "trace-key-" + os.urandom(6).hex()
JWT_RE = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{2,}")


def free_port():
    """A loopback port nobody listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AgentTrace(AgentFlow):

    def setUp(self):
        super().setUp()
        r = self.req("POST", "/admin/v1/users", {
            "userPrincipalName": UPN, "displayName": "Ana",
            "password": PASSWORD}, token=self.key)
        self.assertEqual(r.status, 201, r)
        self.trace = self.path("trace/http.jsonl")

    # ---- helpers ----

    def run_agent(self, cmd, *extra, stdin=None, env=None):
        """whiteglove-agent CMD with this device's options, stdin given."""
        args = [AGENT, cmd, "--tcti", self.tpm.tcti, "--server",
                self.server.url, "--ca", self.server.ca, "--state-dir",
                self.agent_state, "--tries", "2", "--backoff-ms", "1",
                "--timeout", "10"] + list(extra)
        e = dict(os.environ)
        for k in ("WHITEGLOVE_TCTI", "WHITEGLOVE_AGENT_TRACE",
                  "WHITEGLOVE_AGENT_CONFIG"):
            e.pop(k, None)
        e["WHITEGLOVE_SYSFS_ROOT"] = self.sysfs
        e.update(env or {})
        p = subprocess.run(args, env=e, input=stdin, capture_output=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout.decode()

    def lines(self, path=None):
        with open(path or self.trace) as f:
            return [json.loads(x) for x in f]

    def assert_line(self, line):
        """A trace line's fixed members."""
        for k in ("time", "cmd", "pid", "method", "url", "status",
                  "timingUs", "request", "response"):
            self.assertIn(k, line)
        self.assertTrue(line["url"].startswith("https://127.0.0.1:"), line)
        self.assertIn("total", line["timingUs"])

    def bundle(self, env=None):
        """diag collect of this state directory: {member: bytes}."""
        out = os.path.join(self.workdir, "bundle.tar.gz")
        e = dict(os.environ)
        for k in ("WHITEGLOVE_TCTI", "WHITEGLOVE_AGENT_TRACE",
                  "WHITEGLOVE_AGENT_CONFIG"):
            e.pop(k, None)
        e.update(env or {})
        p = subprocess.run([AGENT, "diag", "collect", "-o", out,
                            "--state-dir", self.agent_state, "--tcti",
                            self.tpm.tcti], env=e, capture_output=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        members = {}
        with tarfile.open(out, "r:gz") as tar:
            for m in tar.getmembers():
                members[m.name.partition("/")[2]] = \
                    tar.extractfile(m).read()
        return members

    # ---- the cases ----

    def test_every_phase_traced_without_a_secret(self):
        self.register(TAG)
        self.default_profile()
        content = ("app-content-" + os.urandom(8).hex() + "\n").encode() * 300
        app = self.app("Contoso Notes", content, "true", TAG)
        t = "--trace"
        self.ok("profile", t)
        self.ok("attest", "--aik-root",
                os.path.join(self.state, "aik", "root.crt"), t)
        self.ok("join", t, "--request-key", REQUEST_KEY)
        self.ok("apps", t)
        self.ok("mdm", t, "--request-key", REQUEST_KEY)
        self.ok("reseal", t, "--request-key", REQUEST_KEY)
        ticket = json.loads(self.read("ticket.json"))["Ticket"]
        self.run_agent("login", "--user", UPN, "--password-stdin", t,
                       stdin=(PASSWORD + "\n").encode())
        prt = json.loads(self.read("session.json"))["RefreshToken"]
        at = self.run_agent("token", "--resource", "urn:contoso:mail",
                            t).strip()
        self.assertEqual(stat.S_IMODE(os.stat(self.trace).st_mode), 0o600)
        lines = self.lines()
        for line in lines:
            self.assert_line(line)
        cmds = [x["cmd"] for x in lines]
        for c in ("profile", "attest", "join", "apps", "mdm", "reseal",
                  "login", "token"):
            self.assertIn(c, cmds)
        # the sign-in: the form's request JWS reduced to claim names
        (signin,) = [x for x in lines if x["cmd"] == "login" and
                     x["request"].get("body", {}).get("form", {})
                     .get("request")]
        self.assertEqual(signin["status"], 200, signin)
        jws = signin["request"]["body"]["form"]["request"]["jws"]
        self.assertIn("alg", jws["header"])
        self.assertTrue(jws["claims"], jws)
        answer = signin["response"]["body"]["json"]
        self.assertEqual(answer["refresh_token"], "[redacted]")
        self.assertEqual(answer["session_key_jwe"], "[redacted]")
        self.assertEqual(signin["request"]["headers"]["Idempotency-Key"],
                         "[redacted]")
        # the bearer requests say one was sent, never its value
        bearer = [x for x in lines
                  if "Authorization" in x["request"]["headers"]]
        self.assertTrue(bearer)
        for x in bearer:
            self.assertEqual(x["request"]["headers"]["Authorization"],
                             "[redacted]")
        # the app's content: its length and SHA-256, not its bytes
        (dl,) = [x for x in lines if x["response"].get("body", {})
                 .get("streamed")]
        self.assertEqual(dl["response"]["body"]["bytes"], len(content))
        self.assertEqual(dl["response"]["body"]["sha256"], app["sha256"])
        # no secret, and nothing shaped like a JWT, in any byte
        with open(self.trace, "rb") as f:
            raw = f.read()
        secrets = [ticket, prt, at, PASSWORD, REQUEST_KEY, content[:40]]
        for s in secrets:
            self.assertNotIn(s if isinstance(s, bytes) else s.encode(), raw)
        self.assertIsNone(JWT_RE.search(raw), JWT_RE.search(raw))
        # the bundle: the trace in it, redacted again, no secret either
        members = self.bundle()
        self.assertIn("trace/http.jsonl", members)
        self.assertEqual(len(members["trace/http.jsonl"].splitlines()),
                         len(lines))
        for name, data in members.items():
            for s in secrets:
                self.assertNotIn(s if isinstance(s, bytes) else s.encode(),
                                 data, name)
        man = json.loads(members["manifest.json"])
        self.assertEqual(man["trace"], {"enabled": False,
                                        "files": ["trace/http.jsonl"]})
        man = json.loads(self.bundle(env={"WHITEGLOVE_AGENT_TRACE": "1"})
                         ["manifest.json"])
        self.assertTrue(man["trace"]["enabled"])

    def test_nothing_written_without_the_switch(self):
        self.ready()
        self.ok("join")
        self.assertFalse(os.path.exists(self.path("trace")))
        # --trace=off wins over the environment
        self.ok("mdm", "--trace=off", env={"WHITEGLOVE_AGENT_TRACE": "1"})
        self.assertFalse(os.path.exists(self.path("trace")))
        members = self.bundle()
        self.assertNotIn("trace/http.jsonl", members)
        self.assertEqual(json.loads(members["manifest.json"])["trace"],
                         {"enabled": False, "files": []})

    def test_config_and_environment_switch_it_on(self):
        self.register(TAG)
        self.default_profile()
        conf = os.path.join(self.workdir, "agent.conf")
        with open(conf, "w") as f:
            f.write("trace = on\n")
        self.ok("profile", "--config", conf)
        (line,) = self.lines()
        self.assert_line(line)
        self.assertEqual((line["cmd"], line["method"], line["status"]),
                         ("profile", "POST", 200))
        self.assertTrue(line["url"].endswith("/ztd/v1/profile"), line)
        answer = line["response"]["body"]["json"]
        self.assertIn("encryptedProfile", answer)
        self.assertEqual(answer["encryptedSecret"], "[redacted]")
        self.assertIn("hardwareHash", line["request"]["body"]["json"])
        self.ok("profile", env={"WHITEGLOVE_AGENT_TRACE": "1"})
        self.assertEqual(len(self.lines()), 2)
        p = self.agent("profile", "--trace=maybe")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"--trace is on or off", p.stderr)
        p = self.agent("profile", "--help")
        self.assertIn(b"--trace", p.stdout)

    def test_failed_connection_traced_with_its_error(self):
        port = free_port()
        p = self.agent("profile", "--server", "https://127.0.0.1:%d" % port,
                       "--trace", tries="1")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        (line,) = self.lines()
        self.assertEqual(line["url"], "https://127.0.0.1:%d/ztd/v1/profile"
                         % port)
        self.assertEqual(line["status"], 0)
        self.assertEqual(line["error"]["name"], "WG_E_NET_CONNECT", line)
        self.assertTrue(line["error"]["detail"], line)
        self.assertIn("total", line["timingUs"])
        self.assertEqual(line["response"]["headers"], {})


if __name__ == "__main__":
    import unittest
    unittest.main()
