"""The admin CLI against the real server over HTTPS: what an operator and
a tenant admin type, and what they see when something is wrong."""

import json
import os
import subprocess
import unittest

from wgtest import ServerTest


class Cli(ServerTest):
    def test_tenant_create_and_list(self):
        p = self.cli("tenant", "create", "Contoso")
        self.assertIn("Contoso", p.stdout)
        self.assertRegex(p.stdout, r"wgk\.[0-9a-f-]{36}\.\S{43}")
        p = self.cli("tenant", "list")
        self.assertIn("Contoso", p.stdout)
        p = self.cli("tenant", "list", "--json")
        self.assertEqual([t["name"] for t in json.loads(p.stdout)["value"]],
                         ["Contoso"])

    def test_key_create_list_revoke(self):
        p = self.cli("tenant", "create", "Contoso", "--json")
        admin = json.loads(p.stdout)["adminKey"]["key"]
        p = self.cli("key", "create", "--name", "depot", "--json",
                     token=admin)
        created = json.loads(p.stdout)
        self.assertEqual(created["name"], "depot")
        p = self.cli("key", "list", token=admin)
        self.assertIn("depot", p.stdout)
        self.assertIn("initial", p.stdout)
        self.assertNotIn(created["key"], p.stdout)
        self.cli("key", "revoke", created["id"], token=admin)
        p = self.cli("key", "list", token=created["key"], check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_AUTH_INVALID", p.stderr)
        self.assertRegex(p.stderr, r"request [0-9a-f-]{36}")

    def test_operator_creates_key_for_tenant(self):
        p = self.cli("tenant", "create", "Contoso", "--json")
        tid = json.loads(p.stdout)["id"]
        p = self.cli("key", "create", "--tenant", tid, "--name", "rescue")
        self.assertIn("rescue", p.stdout)
        p = self.cli("key", "list", "--tenant", tid, "--json")
        self.assertEqual(len(json.loads(p.stdout)["value"]), 2)

    def test_server_errors_are_one_clear_line(self):
        self.cli("tenant", "create", "Contoso")
        p = self.cli("tenant", "create", "Contoso", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("0xA057000C WG_E_CONFLICT", p.stderr)
        self.assertIn("already exists", p.stderr)

    def test_wrong_ca_is_a_tls_error(self):
        other = os.path.join(self.workdir, "other-ca.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", os.path.join(self.workdir, "k.pem"),
                        "-out", other, "-subj", "/CN=other", "-days", "1"],
                       check=True, capture_output=True)
        p = self.cli("tenant", "list", env={"WHITEGLOVE_CA": other},
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_NET_TLS", p.stderr)

    def test_version_reports_server(self):
        p = self.cli("version")
        self.assertIn("0.1.0", p.stdout)


if __name__ == "__main__":
    unittest.main()
