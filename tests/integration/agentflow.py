"""The real agent through the flow's first steps, for the tests of the
later ones: tpmclient's server, tenant, sysfs and swtpm, none of its
tpm2-tools device.  `ready()` leaves the device after "Securing your
hardware" (the profile acquired, the AIK certified), `joined()` after the
join."""

import hashlib
import json
import os
import stat
import subprocess

from swtpm import run_agent
from tpmclient import TpmClientTest

try:
    from cryptography import x509
except ImportError:  # the Makefile installs python3-cryptography
    x509 = None


class AgentFlow(TpmClientTest):
    """A device whose every step is the real whiteglove-agent."""

    def setUp(self):
        super().setUp()
        self.agent_state = os.path.join(self.workdir, "agent")

    def agent(self, cmd, *extra, tries="3", state=None, env=None):
        """whiteglove-agent CMD with the phase options of this device."""
        args = [cmd, "--tcti", self.tpm.tcti, "--server", self.server.url,
                "--ca", self.server.ca, "--state-dir",
                state or self.agent_state, "--tries", tries,
                "--backoff-ms", "1", "--timeout", "10"]
        return run_agent(args + list(extra), self.sysfs, env)

    def ok(self, cmd, *extra, **kw):
        """agent() that must succeed; returns its stdout as text."""
        p = self.agent(cmd, *extra, **kw)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout.decode()

    def ready(self, state=None):
        """Steps 0 to 2: the device imported with a pre-provisioning
        profile, the profile acquired and the AIK certified."""
        dev = self.register()
        self.default_profile()
        self.prepared(state)
        return dev

    def prepared(self, state=None):
        """Steps 1 and 2 by the agent, into state (default: the one)."""
        self.ok("profile", state=state)
        self.ok("attest", "--aik-root",
                os.path.join(self.state, "aik", "root.crt"), state=state)

    def app(self, name, data, command, tag, timeout=60, target="device"):
        """An app of target ("device": device setup, "user": account
        setup) for group tag `tag` with content data (bytes); the server's
        record, with "sha256" set."""
        r = self.req("POST", "/admin/v1/apps", {
            "name": name, "installCommand": command, "target": target,
            "timeoutSeconds": timeout}, token=self.key)
        self.assertEqual(r.status, 201, r)
        app = r.json
        r = self.req("PUT", "/admin/v1/apps/%s/content" % app["id"], data,
                     token=self.key, content_type="application/octet-stream",
                     timeout=60)
        self.assertIn(r.status, (200, 201), r)
        r = self.req("POST", "/admin/v1/apps/%s/assign" % app["id"],
                     {"groupTag": tag}, token=self.key)
        self.assertEqual(r.status, 200, r)
        app["sha256"] = hashlib.sha256(data).hexdigest()
        return app

    def joined(self):
        """ready(), then the join."""
        dev = self.ready()
        self.ok("join")
        return dev

    def path(self, name, state=None):
        return os.path.join(state or self.agent_state, name)

    def read(self, name, state=None):
        with open(self.path(name, state), "rb") as f:
            return f.read()

    def events(self, channel="registration", state=None):
        """The events of one channel of the device, oldest first."""
        path = self.path("events/%s.jsonl" % channel, state)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]

    def profile(self):
        with open(self.path("AutopilotDDSZTDFile.json")) as f:
            return json.load(f)

    def assert_private(self, *names):
        """The agent's files, each 0600."""
        for name in names:
            self.assertEqual(stat.S_IMODE(os.stat(self.path(name))
                                          .st_mode), 0o600, name)

    def assert_issued(self, crt, ca, root, pub):
        """The state file crt chains through ca to the server's root (by
        openssl) and carries the RSA key of the TPM2B_PUBLIC in pub;
        returns the certificate."""
        p = subprocess.run(["openssl", "verify", "-CAfile",
                            os.path.join(self.state, root), "-untrusted",
                            self.path(ca), self.path(crt)],
                           capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        cert = x509.load_pem_x509_certificate(self.read(crt))
        self.assertEqual(cert.public_key().public_numbers().n,
                         int.from_bytes(self.read(pub)[-256:], "big"))
        return cert

    def replays(self, path):
        """Whether the server takes Idempotency-Key on path: a malformed
        key is refused as such there, before the missing device token."""
        r = self.req("POST", path, {}, headers={"Idempotency-Key": "x" * 65})
        return r.status == 400 and r.error.get("name") == \
            "WG_E_IDEMPOTENCY_KEY"

    def assert_no_transient(self):
        out = self.tpm.tools("tpm2_getcap", "handles-transient").stdout
        self.assertEqual(out.strip(), b"", out)

    def assert_phase_failed(self, p, title, code, name, channel,
                            event_id, phase, state=None):
        """The agent exited 1 with code and name said on stderr, pointing
        at the channel whose last event is event_id, an error of phase
        with that name."""
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        err = p.stderr.decode()
        self.assertIn(title + ": failed", err)
        self.assertIn("%s %s" % (code, name), err)
        self.assertIn("events/%s.jsonl" % channel, err)
        last = self.events(channel, state)[-1]
        self.assertEqual((last["eventId"], last["level"], last["name"],
                          last["phase"]),
                         (event_id, "error", name, phase), last)
