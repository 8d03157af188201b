"""A tenant's settings (allowJoinRecovery) through the admin API and the
CLI, against the real server over HTTPS: off for a new tenant; set and
cleared by the operator and by the tenant's own admin, never by another
tenant's; bad bodies refused with their code; every change in the audit
log (event 1039) and in the database.  Runs once per backend
(WG_TEST_BACKEND)."""

import json
import unittest

from wgtest import ServerTest

PATH = "/admin/v1/tenants"
FIELDS = {"id", "name", "createdAt", "allowJoinRecovery"}


class TenantSettings(ServerTest):
    def setUp(self):
        super().setUp()
        self.tid, self.key = self.create_tenant("Contoso")

    # ---- helpers ----

    def get(self, tid=None, key=None):
        r = self.req("GET", "%s/%s" % (PATH, tid or self.tid),
                     token=key or self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), FIELDS, r)
        return r.json

    def patch(self, body, tid=None, key=None, **kw):
        return self.req("PATCH", "%s/%s" % (PATH, tid or self.tid), body,
                        token=key or self.key, **kw)

    def set_ok(self, allow, tid=None, key=None):
        r = self.patch({"allowJoinRecovery": allow}, tid, key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), FIELDS, r)
        self.assertIs(r.json["allowJoinRecovery"], allow, r)
        return r.json

    def stored(self, tid=None):
        return self.query("SELECT allow_join_recovery FROM tenants "
                          "WHERE id = '%s'" % (tid or self.tid))[0][0]

    def settings_audit(self, key=None):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=key or self.key)
        self.assertEqual(r.status, 200, r)
        return [e["event"] for e in r.json["value"]
                if e["event"]["eventId"] == 1039]

    # ---- the API ----

    def test_new_tenant_does_not_allow_recovery(self):
        r = self.req("POST", PATH, {"name": "Fabrikam"}, token=self.op)
        self.assertEqual(r.status, 201, r)
        self.assertIs(r.json["allowJoinRecovery"], False)
        self.assertIs(self.get()["allowJoinRecovery"], False)
        r = self.req("GET", PATH, token=self.op)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([t["allowJoinRecovery"] for t in r.json["value"]],
                         [False, False])
        self.assertEqual(self.stored(), "0")
        self.assertEqual(self.settings_audit(), [])

    def test_tenant_admin_sets_and_clears(self):
        t = self.set_ok(True)
        self.assertEqual((t["id"], t["name"]), (self.tid, "Contoso"))
        self.assertIs(self.get()["allowJoinRecovery"], True)
        self.assertEqual(self.stored(), "1")
        self.set_ok(False)
        self.assertIs(self.get()["allowJoinRecovery"], False)
        self.assertEqual(self.stored(), "0")

    def test_operator_sets_and_clears(self):
        self.set_ok(True, key=self.op)
        self.assertIs(self.get(key=self.op)["allowJoinRecovery"], True)
        r = self.req("GET", PATH, token=self.op)
        self.assertEqual([t["allowJoinRecovery"] for t in r.json["value"]],
                         [True])
        self.set_ok(False, key=self.op)
        self.assertIs(self.get()["allowJoinRecovery"], False)

    def test_only_that_tenant(self):
        other_tid, other_key = self.create_tenant("Fabrikam")
        self.set_ok(True, tid=other_tid, key=other_key)
        # Contoso's admin cannot see or change Fabrikam, nor tell it exists
        r = self.patch({"allowJoinRecovery": False}, tid=other_tid)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.patch({"allowJoinRecovery": True},
                       tid="00000000-0000-4000-8000-000000000000")
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.patch({"allowJoinRecovery": True}, tid="not-a-uuid",
                       key=self.op)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.patch({"allowJoinRecovery": True},
                       tid="00000000-0000-4000-8000-000000000000",
                       key=self.op)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        self.assertEqual(self.stored(other_tid), "1")
        self.assertEqual(self.stored(), "0")
        self.assertEqual(self.settings_audit(), [])

    def test_bad_bodies(self):
        for body in [{}, {"allowJoinRecovery": None},
                     {"allowJoinRecovery": 1}, {"allowJoinRecovery": "true"},
                     {"allowJoinRecovery": True, "name": "Other"},
                     {"name": "Other"}, [True]]:
            with self.subTest(body=body):
                r = self.patch(body)
                self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = self.patch('{"allowJoinRecovery": true')
        self.assertError(r, 400, "WG_E_JSON_MALFORMED")
        r = self.patch('{"allowJoinRecovery": true, '
                       '"allowJoinRecovery": false}')
        self.assertError(r, 400, "WG_E_JSON_MALFORMED")
        r = self.patch({"allowJoinRecovery": True}, content_type="text/plain")
        self.assertError(r, 415, "WG_E_UNSUPPORTED_MEDIA_TYPE")
        r = self.patch('{"allowJoinRecovery": true, "x": "%s"}' % ("a" * 5000))
        self.assertError(r, 413, "WG_E_BODY_TOO_LARGE")
        r = self.req("PATCH", "%s/%s" % (PATH, self.tid),
                     {"allowJoinRecovery": True})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(self.stored(), "0")
        self.assertEqual(self.settings_audit(), [])

    def test_audit_event(self):
        self.set_ok(True)
        self.set_ok(False, key=self.op)
        events = self.settings_audit()
        self.assertEqual(len(events), 2, events)
        keys = self.req("GET", "/admin/v1/apiKeys", token=self.key).json
        admin_key_id = keys["value"][0]["id"]
        first, second = events
        self.assertEqual(first["channel"], "admin")
        self.assertEqual(first["level"], "info")
        self.assertEqual(first["name"], "WG_OK")
        self.assertEqual(first["details"]["allowJoinRecovery"], "true")
        self.assertEqual(first["details"]["byKeyId"], admin_key_id)
        self.assertIn("Contoso", first["message"])
        self.assertIn("allowJoinRecovery", first["message"])
        self.assertEqual(second["details"]["allowJoinRecovery"], "false")
        self.assertNotEqual(second["details"]["byKeyId"], admin_key_id)
        # the operator reads the same records with ?tenantId=
        r = self.req("GET", "/admin/v1/auditEvents?tenantId=%s" % self.tid,
                     token=self.op)
        self.assertEqual([e["event"]["eventId"] for e in r.json["value"]
                          if e["event"]["eventId"] == 1039], [1039, 1039])
        self.assertEqual(self.count("SELECT COUNT(*) FROM audit_events "
                                    "WHERE event_id = 1039 AND tenant_id "
                                    "= '%s'" % self.tid), 2)

    # ---- the CLI ----

    def test_cli_show_and_set(self):
        p = self.cli("tenant", "show", self.tid, token=self.key)
        self.assertIn("Contoso", p.stdout)
        self.assertIn(self.tid, p.stdout)
        self.assertRegex(p.stdout, r"allow join recovery:\s+no")
        p = self.cli("tenant", "set", self.tid, "--allow-join-recovery",
                     "on", token=self.key)
        self.assertRegex(p.stdout, r"allow join recovery:\s+yes")
        self.assertEqual(self.stored(), "1")
        p = self.cli("tenant", "show", self.tid, "--json")
        self.assertIs(json.loads(p.stdout)["allowJoinRecovery"], True)
        p = self.cli("tenant", "set", self.tid, "--allow-join-recovery",
                     "off", "--json")
        self.assertIs(json.loads(p.stdout)["allowJoinRecovery"], False)
        self.assertEqual(self.stored(), "0")
        self.assertEqual(len(self.settings_audit()), 2)

    def test_cli_refuses(self):
        other_tid, other_key = self.create_tenant("Fabrikam")
        p = self.cli("tenant", "show", other_tid, token=self.key,
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_NOT_FOUND", p.stderr)
        p = self.cli("tenant", "set", other_tid, "--allow-join-recovery",
                     "on", token=self.key, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_NOT_FOUND", p.stderr)
        self.assertEqual(self.stored(other_tid), "0")
        for args in [["set", self.tid], ["set", self.tid,
                     "--allow-join-recovery", "yes"],
                     ["show", self.tid, "--allow-join-recovery", "on"],
                     ["show"], ["set", "--allow-join-recovery", "on"],
                     ["show", "../x"]]:
            with self.subTest(args=args):
                p = self.cli("tenant", *args, check=False)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("usage:", p.stderr)
        p = self.cli("tenant", "--help")
        self.assertIn("--allow-join-recovery on|off", p.stdout)
        self.assertIn("tenant show ID", p.stdout)


if __name__ == "__main__":
    unittest.main()
