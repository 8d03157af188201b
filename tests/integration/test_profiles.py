"""Deployment profiles through the admin API and the CLI, against the real
server over HTTPS: what an admin creates, assigns and deletes, and what
they are told when something is wrong.  Runs once per backend
(WG_TEST_BACKEND)."""

import json
import re
import unittest

from wgtest import ServerTest

PATH = "/admin/v1/deploymentProfiles"
FLAGS = {"userNotLocalAdmin": 2, "skipExpressSettings": 4,
         "skipOemRegistration": 8, "skipEula": 16,
         "skipKeyboardSelection": 1024}
VERBS = ["create", "list", "show", "assign", "unassign", "delete"]


class Profiles(ServerTest):
    def setUp(self):
        super().setUp()
        self.tid, self.key = self.create_tenant("Contoso")

    # ---- helpers ----

    def create(self, name, mode="preProvisioning", key=None, **fields):
        body = dict(fields, name=name, deploymentMode=mode)
        r = self.req("POST", PATH, body, token=key or self.key)
        self.assertEqual(r.status, 201, r)
        return r.json

    def get(self, pid, key=None):
        r = self.req("GET", "%s/%s" % (PATH, pid), token=key or self.key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def target(self, verb, pid, body, status=200, key=None):
        r = self.req("POST", "%s/%s/%s" % (PATH, pid, verb), body,
                     token=key or self.key)
        self.assertEqual(r.status, status, r)
        return r

    def names(self, key=None, query=""):
        r = self.req("GET", PATH + query, token=key or self.key)
        self.assertEqual(r.status, 200, r)
        return [p["name"] for p in r.json["value"]]

    def audit(self):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        return [e["event"] for e in r.json["value"]
                if 1009 <= e["event"]["eventId"] <= 1012]

    def wg(self, *args, check=True, token=None):
        return self.cli("profile", *args, token=token or self.key,
                        check=check)

    # ---- the API ----

    def test_create_with_defaults_and_with_every_field(self):
        p = self.create("Standard", mode="userDriven")
        self.assertRegex(p["id"], r"^[0-9a-f-]{36}$")
        want = {"name": "Standard", "deploymentMode": "userDriven",
                "joinMethod": "cloud", "deviceNameTemplate": "",
                "oobe": [], "oobeConfig": 0, "espTimeoutMinutes": 60,
                "rebootPolicy": "strict", "ticketLifetimeDays": 180,
                "isDefault": False, "assignedGroupTags": []}
        for k, v in want.items():
            self.assertEqual(p[k], v, k)
        self.assertEqual(p["createdAt"], p["updatedAt"])
        self.assertEqual(self.get(p["id"]), p)

        full = self.create(
            "Kiosk", mode="selfDeploying", joinMethod="hybrid",
            deviceNameTemplate="KIOSK-%RAND:4%",
            oobe=["skipKeyboardSelection", "skipEula", "userNotLocalAdmin",
                  "skipOemRegistration", "skipExpressSettings"],
            espTimeoutMinutes=1440, rebootPolicy="tolerant",
            ticketLifetimeDays=365)
        self.assertEqual(full["joinMethod"], "hybrid")
        self.assertEqual(full["deploymentMode"], "selfDeploying")
        self.assertEqual(full["deviceNameTemplate"], "KIOSK-%RAND:4%")
        # in bit order, whatever order they were sent in
        self.assertEqual(full["oobe"], list(FLAGS))
        self.assertEqual(full["oobeConfig"], sum(FLAGS.values()))
        self.assertEqual(full["espTimeoutMinutes"], 1440)
        self.assertEqual(full["rebootPolicy"], "tolerant")
        self.assertEqual(full["ticketLifetimeDays"], 365)
        self.assertEqual(self.get(full["id"]), full)
        p = self.create("Edge", espTimeoutMinutes=5, ticketLifetimeDays=1,
                        oobe=["skipEula"], deviceNameTemplate="%SERIAL%")
        self.assertEqual((p["espTimeoutMinutes"], p["ticketLifetimeDays"],
                          p["oobeConfig"]), (5, 1, 16))

    def test_each_bad_field_is_refused_by_name(self):
        ok = {"name": "P", "deploymentMode": "userDriven"}
        cases = [
            ({"deploymentMode": "userDriven"}, "name"),
            (dict(ok, name=""), "name"),
            (dict(ok, name="x" * 129), "name"),
            (dict(ok, name="a\u0007b"), "name"),
            (dict(ok, name=5), "name"),
            ({"name": "P"}, "deploymentMode"),
            (dict(ok, deploymentMode="user-driven"), "deploymentMode"),
            (dict(ok, deploymentMode="whiteGlove"), "deploymentMode"),
            (dict(ok, joinMethod="domain"), "joinMethod"),
            (dict(ok, joinMethod=1), "joinMethod"),
            (dict(ok, rebootPolicy="never"), "rebootPolicy"),
            (dict(ok, espTimeoutMinutes=4), "espTimeoutMinutes"),
            (dict(ok, espTimeoutMinutes=1441), "espTimeoutMinutes"),
            (dict(ok, espTimeoutMinutes="60"), "espTimeoutMinutes"),
            (dict(ok, espTimeoutMinutes=60.5), "espTimeoutMinutes"),
            (dict(ok, ticketLifetimeDays=0), "ticketLifetimeDays"),
            (dict(ok, ticketLifetimeDays=366), "ticketLifetimeDays"),
            (dict(ok, oobe="skipEula"), "oobe"),
            (dict(ok, oobe=["skipEula", "skipEula"]), "oobe"),
            (dict(ok, oobe=["skipEULA"]), "oobe"),
            (dict(ok, oobe=[16]), "oobe"),
            (dict(ok, deviceNameTemplate=15), "deviceNameTemplate"),
            (dict(ok, color="blue"), "color"),
        ]
        for body, field in cases:
            r = self.req("POST", PATH, body, token=self.key)
            self.assertError(r, 400, "WG_E_JSON_FIELD")
            self.assertIn('"%s"' % field, r.error["message"], body)
        allowed = self.req("POST", PATH, dict(ok, joinMethod="domain"),
                           token=self.key).error["message"]
        self.assertIn("cloud or hybrid", allowed)
        r = self.req("POST", PATH, dict(ok, oobe=["nope"]), token=self.key)
        for name in FLAGS:
            self.assertIn(name, r.error["message"])
        r = self.req("POST", PATH, "{\"name\": \"P\", \"name\": \"Q\"}",
                     token=self.key)
        self.assertError(r, 400, "WG_E_JSON_MALFORMED")
        self.assertEqual(self.names(), [])  # nothing was written

    def test_name_template_rules(self):
        ok = {"name": "P", "deploymentMode": "userDriven"}
        cases = [
            ("PC_%SERIAL%", "character '_' at position 3"),
            ("PC-%SERIALNO%", "unknown macro %SERIALNO% at position 4"),
            ("PC-%RAND:0%", "%RAND:0% at position 4: n must be a number "
                            "from 1 to 15"),
            ("P%RAND:16%", "%RAND:16% at position 2"),
            ("PC-%SERIAL", "the '%' at position 4 is not closed"),
            ("ABCDEFGHIJKLMNOP", "the fixed part (16 characters) plus the "
                                 "%RAND% digits (0) make 16 characters"),
            ("LAB-%RAND:12%", "the fixed part (4 characters) plus the "
                              "%RAND% digits (12) make 16 characters"),
            ("%RAND:6%", "the name would be only digits"),
            ("%SERIAL%%SERIAL%", "%SERIAL% at position 9 is the second"),
        ]
        for tmpl, msg in cases:
            r = self.req("POST", PATH, dict(ok, deviceNameTemplate=tmpl),
                         token=self.key)
            self.assertError(r, 400, "WG_E_JSON_FIELD")
            self.assertIn('field "deviceNameTemplate": ' + msg,
                          r.error["message"])
        for i, tmpl in enumerate(["ABCDEFGHIJKLMNO", "A%RAND:14%",
                                  "CONTOSO-%SERIAL%", ""]):
            self.create("T%d" % i, deviceNameTemplate=tmpl)

    def test_duplicate_name_conflicts(self):
        self.create("Standard")
        r = self.req("POST", PATH, {"name": "Standard",
                                    "deploymentMode": "userDriven"},
                     token=self.key)
        self.assertError(r, 409, "WG_E_CONFLICT")
        self.assertIn("Standard", r.error["message"])
        # another tenant may use the name
        _, other = self.create_tenant("Fabrikam")
        self.create("Standard", key=other)

    def test_list_pages_by_name(self):
        names = ["delta", "Alpha", "charlie", "bravo", "echo"]
        for n in names:
            self.create(n)
        got, after, pages = [], None, 0
        while True:
            q = "?limit=2" + ("&after=" + after if after else "")
            r = self.req("GET", PATH + q, token=self.key)
            self.assertEqual(r.status, 200, r)
            self.assertLessEqual(len(r.json["value"]), 2)
            got += [p["name"] for p in r.json["value"]]
            pages += 1
            after = r.json["next"]
            if after is None:
                break
            self.assertRegex(after, r"^[A-Za-z0-9_-]+$")
        self.assertEqual(got, sorted(names))
        self.assertEqual(pages, 3)
        self.assertEqual(self.names(), sorted(names))
        self.assertEqual(self.names(query="?name=charlie"), ["charlie"])
        self.assertEqual(self.names(query="?name=zulu"), [])
        for q in ["?limit=0", "?limit=1001", "?limit=x", "?after=%25%25",
                  "?after=AAAA"]:
            r = self.req("GET", PATH + q, token=self.key)
            self.assertError(r, 400, "WG_E_JSON_FIELD")

    def test_assign_group_tag_moves_and_one_default(self):
        a = self.create("A")
        b = self.create("B")
        r = self.target("assign", a["id"], {"groupTag": "Depot"})
        self.assertEqual(r.json["assignedGroupTags"], ["Depot"])
        self.target("assign", a["id"], {"groupTag": "Lab"})
        self.assertEqual(self.get(a["id"])["assignedGroupTags"],
                         ["Depot", "Lab"])
        # the tag moves to B
        r = self.target("assign", b["id"], {"groupTag": "Depot"})
        self.assertEqual(r.json["assignedGroupTags"], ["Depot"])
        self.assertEqual(self.get(a["id"])["assignedGroupTags"], ["Lab"])
        # one default per tenant
        r = self.target("assign", a["id"], {"tenantDefault": True})
        self.assertTrue(r.json["isDefault"])
        r = self.target("assign", b["id"], {"tenantDefault": True})
        self.assertTrue(r.json["isDefault"])
        self.assertFalse(self.get(a["id"])["isDefault"])
        # unassign: only what is there
        r = self.target("unassign", a["id"], {"groupTag": "Depot"}, 404)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        self.assertIn("Depot", r.error["message"])
        r = self.target("unassign", a["id"], {"tenantDefault": True}, 404)
        self.assertIn("default", r.error["message"])
        r = self.target("unassign", b["id"], {"groupTag": "Depot"})
        self.assertEqual(r.json["assignedGroupTags"], [])
        self.target("unassign", b["id"], {"groupTag": "Depot"}, 404)
        r = self.target("unassign", b["id"], {"tenantDefault": True})
        self.assertFalse(r.json["isDefault"])
        self.target("unassign", b["id"], {"tenantDefault": True}, 404)
        for body in [{}, {"groupTag": "T", "tenantDefault": True},
                     {"tenantDefault": False}, {"groupTag": ""},
                     {"groupTag": "x" * 129}, {"profile": "A"}]:
            for verb in ["assign", "unassign"]:
                r = self.target(verb, a["id"], body, 400)
                self.assertError(r, 400, "WG_E_JSON_FIELD")

    def test_delete_takes_assignments_along(self):
        a = self.create("A")
        b = self.create("B")
        self.target("assign", a["id"], {"groupTag": "Depot"})
        self.target("assign", a["id"], {"tenantDefault": True})
        r = self.req("DELETE", "%s/%s" % (PATH, a["id"]), token=self.key)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, "")
        r = self.req("GET", "%s/%s" % (PATH, a["id"]), token=self.key)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("DELETE", "%s/%s" % (PATH, a["id"]), token=self.key)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        self.target("assign", a["id"], {"groupTag": "Depot"}, 404)
        self.assertEqual(self.names(), ["B"])
        # the tag and the default are free again: B takes both
        r = self.target("assign", b["id"], {"groupTag": "Depot"})
        self.assertEqual(r.json["assignedGroupTags"], ["Depot"])
        r = self.target("assign", b["id"], {"tenantDefault": True})
        self.assertTrue(r.json["isDefault"])
        # a name can be used again
        self.create("A")

    def test_audit_events_1009_to_1012(self):
        p = self.create("Standard")
        self.target("assign", p["id"], {"groupTag": "Depot"})
        self.target("assign", p["id"], {"tenantDefault": True})
        self.target("unassign", p["id"], {"groupTag": "Depot"})
        self.target("unassign", p["id"], {"groupTag": "Depot"}, 404)
        self.req("DELETE", "%s/%s" % (PATH, p["id"]), token=self.key)
        ev = self.audit()
        self.assertEqual([e["eventId"] for e in ev],
                         [1009, 1010, 1010, 1011, 1012])
        self.assertEqual(ev[0]["details"]["profileId"], p["id"])
        self.assertEqual(ev[0]["message"], 'profile "Standard" created')
        self.assertEqual(ev[1]["details"]["groupTag"], "Depot")
        self.assertEqual(ev[1]["message"], 'profile "Standard" assigned')
        self.assertEqual(ev[2]["details"]["tenantDefault"], "true")
        self.assertEqual(ev[3]["message"], 'profile "Standard" unassigned')
        self.assertEqual(ev[4]["message"], 'profile "Standard" deleted')
        self.assertEqual(ev[4]["details"]["profileId"], p["id"])
        for e in ev:
            self.assertIn("byKeyId", e["details"])

    def test_tenants_are_isolated(self):
        p = self.create("Standard")
        pid = p["id"]
        other_tid, other = self.create_tenant("Fabrikam")
        self.assertEqual(self.names(key=other), [])
        for method, path, body in [
                ("GET", "%s/%s" % (PATH, pid), None),
                ("DELETE", "%s/%s" % (PATH, pid), None),
                ("POST", "%s/%s/assign" % (PATH, pid), {"groupTag": "T"}),
                ("POST", "%s/%s/unassign" % (PATH, pid),
                 {"tenantDefault": True}),
                ("GET", "%s/%s?tenantId=%s" % (PATH, pid, self.tid), None),
                ("GET", "%s/not-a-uuid" % PATH, None),
                ("GET", "%s/%s" % (PATH, "0" * 8 + "-0000-4000-8000-" +
                                   "0" * 12), None)]:
            r = self.req(method, path, body, token=other)
            self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("GET", PATH + "?tenantId=" + self.tid, token=other)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        self.assertEqual(self.get(pid), p)  # untouched
        # the operator key must name the tenant, as on /admin/v1/devices
        devices = self.req("GET", "/admin/v1/devices", token=self.op)
        self.assertError(devices, 403, "WG_E_FORBIDDEN")
        for method, path, body in [
                ("GET", PATH, None),
                ("POST", PATH, {"name": "X", "deploymentMode": "userDriven"}),
                ("GET", "%s/%s" % (PATH, pid), None),
                ("POST", "%s/%s/assign" % (PATH, pid), {"groupTag": "T"}),
                ("DELETE", "%s/%s" % (PATH, pid), None)]:
            r = self.req(method, path, body, token=self.op)
            self.assertError(r, 403, "WG_E_FORBIDDEN")
            self.assertEqual(r.error["message"], devices.error["message"])
        q = "?tenantId=" + self.tid
        r = self.req("GET", "%s/%s%s" % (PATH, pid, q), token=self.op)
        self.assertEqual(r.json, p)
        r = self.req("POST", PATH + q, {"name": "ByOperator",
                                        "deploymentMode": "userDriven"},
                     token=self.op)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.names(), ["ByOperator", "Standard"])
        self.assertEqual(self.names(key=other), [])
        r = self.req("GET", PATH + "?tenantId=" + other_tid, token=self.op)
        self.assertEqual(r.json["value"], [])

    # ---- the CLI ----

    def test_cli_create_list_show(self):
        p = self.wg("create", "Standard", "--mode", "pre-provisioning")
        self.assertIn('Created deployment profile "Standard"', p.stdout)
        self.assertIn("preProvisioning", p.stdout)
        p = self.wg("create", "Kiosk", "-m", "self-deploying", "--join",
                    "hybrid", "--name-template", "KIOSK-%SERIAL%",
                    "--oobe", "skipEula,userNotLocalAdmin", "--esp-timeout",
                    "90", "--reboot-policy", "tolerant", "--ticket-days",
                    "30", "--json")
        kiosk = json.loads(p.stdout)
        self.assertEqual(
            {k: kiosk[k] for k in ["deploymentMode", "joinMethod",
                                   "deviceNameTemplate", "oobe",
                                   "oobeConfig", "espTimeoutMinutes",
                                   "rebootPolicy", "ticketLifetimeDays"]},
            {"deploymentMode": "selfDeploying", "joinMethod": "hybrid",
             "deviceNameTemplate": "KIOSK-%SERIAL%",
             "oobe": ["userNotLocalAdmin", "skipEula"], "oobeConfig": 18,
             "espTimeoutMinutes": 90, "rebootPolicy": "tolerant",
             "ticketLifetimeDays": 30})
        self.wg("assign", "Kiosk", "--group-tag", "Lobby")
        self.wg("assign", "Kiosk", "-g", "Depot")
        self.wg("assign", "Standard", "--default")
        p = self.wg("list")
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "MODE", "DEFAULT",
                                            "GROUP", "TAGS", "ID"])
        self.assertRegex(lines[1], r"^Kiosk +selfDeploying +no +Depot, "
                         r"Lobby +%s$" % kiosk["id"])
        self.assertRegex(lines[2], r"^Standard +preProvisioning +yes +- ")
        p = self.wg("list", "--json")
        listed = json.loads(p.stdout)
        self.assertEqual([x["name"] for x in listed["value"]],
                         ["Kiosk", "Standard"])
        self.assertIsNone(listed["next"])
        # show by name and by id: every field, one a line
        by_name = self.wg("show", "Kiosk").stdout
        self.assertEqual(by_name, self.wg("show", kiosk["id"]).stdout)
        for label, value in [("name", "Kiosk"), ("id", kiosk["id"]),
                             ("deployment mode", "selfDeploying"),
                             ("join method", "hybrid"),
                             ("device name template", "KIOSK-%SERIAL%"),
                             ("OOBE", "userNotLocalAdmin, skipEula"),
                             ("OOBE config", "18"),
                             ("ESP timeout (minutes)", "90"),
                             ("reboot policy", "tolerant"),
                             ("ticket lifetime (days)", "30"),
                             ("tenant default", "no"),
                             ("group tags", "Depot, Lobby")]:
            self.assertRegex(by_name, r"(?m)^  %s: +%s$"
                             % (re.escape(label), re.escape(value)))
        self.assertRegex(by_name, r"(?m)^  created: +\d{4}-")
        shown = json.loads(self.wg("show", "Kiosk", "--json").stdout)
        self.assertEqual(shown, self.get(kiosk["id"]))

    def test_cli_assign_unassign_delete_and_errors(self):
        self.wg("create", "A", "--mode", "user-driven")
        self.wg("create", "B", "--mode", "user-driven")
        p = self.wg("assign", "A", "--group-tag", "Depot")
        self.assertIn('"A" assigned to group tag "Depot"', p.stdout)
        self.wg("assign", "B", "--group-tag", "Depot")  # moves
        self.assertEqual(json.loads(self.wg("show", "A", "--json").stdout)
                         ["assignedGroupTags"], [])
        p = self.wg("unassign", "A", "--group-tag", "Depot", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("0xA057000B WG_E_NOT_FOUND", p.stderr)
        self.assertIn("Depot", p.stderr)
        p = self.wg("unassign", "B", "-g", "Depot")
        self.assertIn("taken off group tag", p.stdout)
        self.wg("assign", "A", "--default")
        p = self.wg("assign", "B", "-d", "--json")
        self.assertTrue(json.loads(p.stdout)["isDefault"])
        self.assertFalse(json.loads(self.wg("show", "A", "--json").stdout)
                         ["isDefault"])
        p = self.wg("unassign", "B", "--default")
        self.assertIn("no longer the tenant's default", p.stdout)
        p = self.wg("create", "A", "--mode", "user-driven", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("0xA057000C WG_E_CONFLICT", p.stderr)
        self.assertIn('a profile named "A" already exists', p.stderr)
        aid = json.loads(self.wg("show", "A", "--json").stdout)["id"]
        p = self.wg("delete", "A")
        self.assertIn("Deleted deployment profile " + aid, p.stdout)
        for verb in ["show", "delete"]:
            p = self.wg(verb, "A", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("WG_E_NOT_FOUND", p.stderr)
            self.assertIn('no deployment profile is named "A"', p.stderr)
        p = self.wg("show", aid, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_NOT_FOUND", p.stderr)
        self.assertEqual(self.wg("list").stdout.splitlines()[1].split()[0],
                         "B")
        # the operator names the tenant
        p = self.cli("profile", "list", "--tenant", self.tid)
        self.assertIn("B", p.stdout)
        p = self.cli("profile", "list", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_FORBIDDEN", p.stderr)
        self.cli("profile", "delete", "B", "--tenant", self.tid)
        self.assertIn("No deployment profiles", self.wg("list").stdout)

    def test_cli_help_and_usage_errors(self):
        p = self.wg("--help")
        self.assertEqual(p.returncode, 0)
        for verb in VERBS:
            self.assertIn("whiteglove profile " + verb, p.stdout)
            p2 = self.wg(verb, "--help")
            self.assertTrue(p2.stdout.startswith(
                "usage: whiteglove profile " + verb), p2.stdout)
            self.assertIn("--tenant", p2.stdout)
        self.assertIn("skipKeyboardSelection  1024",
                      self.wg("create", "-h").stdout)
        self.assertIn("profile", self.cli("help", "profile").stdout)
        usage = [
            ([], "give create, list"),
            (["frobnicate"], "give create, list"),
            (["create"], "give the new profile's NAME"),
            (["create", "P"], "create needs --mode"),
            (["create", "P", "--mode", "preProvisioning"],
             "--mode must be user-driven, self-deploying or "
             "pre-provisioning"),
            (["create", "P", "-m", "user-driven", "--join", "domain"],
             "--join must be cloud or hybrid"),
            (["create", "P", "-m", "user-driven", "--reboot-policy", "x"],
             "--reboot-policy must be strict or tolerant"),
            (["create", "P", "-m", "user-driven", "--oobe", "skipEula,x"],
             '--oobe: "x" is not a flag name'),
            (["create", "P", "-m", "user-driven", "--oobe",
              "skipEula,skipEula"], '--oobe names "skipEula" twice'),
            (["create", "P", "-m", "user-driven", "--esp-timeout", "4"],
             "--esp-timeout must be a whole number from 5 to 1440"),
            (["create", "P", "-m", "user-driven", "--ticket-days", "1y"],
             "--ticket-days must be a whole number from 1 to 365"),
            (["create", "P", "-m", "user-driven", "--name-template",
              "LAB-%RAND:12%"], "--name-template: the fixed part (4 "
             "characters) plus the %RAND% digits (12) make 16"),
            (["create", "P", "Q", "-m", "user-driven"],
             "give the new profile's NAME"),
            (["list", "x"], "list takes no arguments"),
            (["list", "--mode", "user-driven"], "unknown option"),
            (["show"], "give one profile ID or NAME"),
            (["delete", "a", "b"], "give one profile ID or NAME"),
            (["assign", "A"], "give either --group-tag TAG or --default"),
            (["assign", "A", "-g", "T", "--default"], "give either"),
            (["unassign", "A"], "give either"),
            (["assign", "A", "--group-tag"], "needs a value"),
            (["show", "A", "--group-tag", "T"], "unknown option"),
        ]
        for args, msg in usage:
            p = self.wg(*args, check=False)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(msg, p.stderr, args)
            self.assertIn("usage: whiteglove profile", p.stderr, args)
        # the CLI's template message is the server's
        r = self.req("POST", PATH, {"name": "P", "deploymentMode":
                                    "userDriven", "deviceNameTemplate":
                                    "PC_%SERIAL%"}, token=self.key)
        p = self.wg("create", "P", "-m", "user-driven", "--name-template",
                    "PC_%SERIAL%", check=False)
        self.assertIn(r.error["message"].split(": ", 1)[1], p.stderr)


if __name__ == "__main__":
    unittest.main()
