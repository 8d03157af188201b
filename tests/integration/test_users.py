"""Users (step 7, the token service) through the admin API and the CLI,
against the real server over HTTPS: create, list, show, disable, enable,
set a password; UPNs unique per tenant whatever their case; tenants
isolated; bad input refused with its code; the password never in an
answer, the audit log, the server's log or the database, which keeps an
Argon2id PHC string with the server's parameters.  Runs once per backend
(WG_TEST_BACKEND)."""

import base64
import os
import re
import select
import signal
import sqlite3
import subprocess
import termios
import time
import unittest

from wgtest import BACKEND, WHITEGLOVE, ServerTest

PATH = "/admin/v1/users"
PW = "Tr0ub4dor&3-horse-staple"
PW2 = "an0ther-long-pass phrase"
# small parameters keep the tests quick, and show the settings are used
PHC = re.compile(r"^\$argon2id\$v=19\$m=2048,t=2,p=2\$[A-Za-z0-9+/]{22}"
                 r"\$[A-Za-z0-9+/]{43}$")
VERBS = ["create", "list", "show", "disable", "enable", "passwd"]
FIELDS = {"id", "userPrincipalName", "displayName", "accountEnabled",
          "failedSignIns", "lockedUntil", "lastSignIn", "createdAt",
          "updatedAt"}


class Users(ServerTest):
    server_args = ["--argon2-memory-kib", "2048", "--argon2-time", "2",
                   "--argon2-lanes", "2"]

    def setUp(self):
        self.bodies = []  # every answer, searched for the passwords
        super().setUp()
        self.tid, self.key = self.create_tenant("Contoso")

    def req(self, *a, **kw):
        r = super().req(*a, **kw)
        self.bodies.append(r.body)
        return r

    # ---- helpers ----

    def query(self, sql):
        """wgtest's query(), but read-only on SQLite: a read-write
        connection closing beside the server may take it for the last
        one and remove the WAL the server still uses (the server drops
        its own file locks whenever a thread opens its connection:
        sqlite.c's create-if-missing open()/close())."""
        if BACKEND != "sqlite":
            return super().query(sql)
        con = sqlite3.connect("file:%s?mode=ro" % self.db.url[7:],
                              uri=True, timeout=10)
        try:
            return [tuple(str(v) for v in row)
                    for row in con.execute(sql).fetchall()]
        finally:
            con.close()

    def create(self, upn, password=PW, key=None, **fields):
        body = dict(fields, userPrincipalName=upn, password=password)
        r = self.req("POST", PATH, body, token=key or self.key)
        self.assertEqual(r.status, 201, r)
        return r.json

    def get(self, uid, key=None):
        r = self.req("GET", "%s/%s" % (PATH, uid), token=key or self.key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def upns(self, key=None, query=""):
        r = self.req("GET", PATH + query, token=key or self.key)
        self.assertEqual(r.status, 200, r)
        return [u["userPrincipalName"] for u in r.json["value"]]

    def stored_hash(self, uid):
        return self.query("SELECT password_hash FROM users WHERE id = '%s'"
                          % uid)[0][0]

    def audit(self):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        return [e["event"] for e in r.json["value"]
                if 1030 <= e["event"]["eventId"] <= 1039]

    def wg(self, *args, check=True, token=None, stdin=None):
        e = dict(os.environ, WHITEGLOVE_URL=self.server.url,
                 WHITEGLOVE_CA=self.server.ca,
                 WHITEGLOVE_TOKEN=token or self.key)
        p = subprocess.run([WHITEGLOVE, "user"] + list(args), env=e,
                           input=stdin if stdin is not None else "",
                           capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            self.fail("whiteglove user %s exited %d:\n%s%s"
                      % (" ".join(args), p.returncode, p.stdout, p.stderr))
        self.bodies += [p.stdout, p.stderr]
        return p

    def wg_tty(self, args, answers):
        """Runs `whiteglove user ARGS` with a terminal on standard input,
        typing each answer after the prompt it waits for."""
        master, slave = os.openpty()
        e = dict(os.environ, WHITEGLOVE_URL=self.server.url,
                 WHITEGLOVE_CA=self.server.ca, WHITEGLOVE_TOKEN=self.key)
        p = subprocess.Popen([WHITEGLOVE, "user"] + args, env=e,
                             stdin=slave, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        os.close(slave)
        err = b""
        try:
            for prompt, answer in answers:
                deadline = time.time() + 20
                while prompt.encode() not in err:
                    self.assertLess(time.time(), deadline, err)
                    if select.select([p.stderr], [], [], 0.2)[0]:
                        err += os.read(p.stderr.fileno(), 4096)
                err = err.split(prompt.encode(), 1)[1]
                time.sleep(0.1)  # the echo is off by now
                os.write(master, answer.encode() + b"\n")
            out, rest = p.communicate(timeout=60)
        finally:
            os.close(master)
            if p.poll() is None:
                p.kill()
                p.wait()
        self.bodies += [out.decode(), (err + rest).decode()]
        return p.returncode, out.decode(), (err + rest).decode()

    # ---- the API ----

    def test_create_get_list(self):
        u = self.create("Ana.Silva@Contoso.com", displayName="Ana Silva")
        self.assertEqual(set(u), FIELDS)
        self.assertRegex(u["id"], r"^[0-9a-f-]{36}$")
        self.assertEqual(u["userPrincipalName"], "ana.silva@contoso.com")
        self.assertEqual(u["displayName"], "Ana Silva")
        self.assertIs(u["accountEnabled"], True)
        self.assertEqual(u["failedSignIns"], 0)
        self.assertIsNone(u["lockedUntil"])
        self.assertIsNone(u["lastSignIn"])
        self.assertEqual(u["createdAt"], u["updatedAt"])
        self.assertEqual(self.get(u["id"]), u)
        b = self.create("bob@contoso.com")
        self.assertEqual(b["displayName"], "")
        self.assertEqual(self.upns(), ["ana.silva@contoso.com",
                                       "bob@contoso.com"])
        # ?name= finds one by UPN in any case
        self.assertEqual(self.upns(query="?name=ANA.SILVA@contoso.COM"),
                         ["ana.silva@contoso.com"])
        self.assertEqual(self.upns(query="?name=nobody@contoso.com"), [])

    def test_upn_unique_case_insensitively(self):
        self.create("ana@contoso.com")
        r = self.req("POST", PATH, {"userPrincipalName": "ANA@Contoso.COM",
                                    "password": PW}, token=self.key)
        self.assertError(r, 409, "WG_E_USER_UPN_TAKEN")
        self.assertIn("ana@contoso.com", r.error["message"])
        self.assertEqual(self.upns(), ["ana@contoso.com"])
        # another tenant may have the same UPN
        _, other = self.create_tenant("Fabrikam")
        self.create("Ana@Contoso.com", key=other)
        self.assertEqual(self.count("SELECT COUNT(*) FROM users"), 2)

    def test_bad_input_refused_with_its_code(self):
        ok = {"userPrincipalName": "ana@contoso.com", "password": PW}
        cases = [
            (dict(ok, userPrincipalName="ana"), 400,
             "WG_E_USER_UPN_INVALID"),
            (dict(ok, userPrincipalName="@contoso.com"), 400,
             "WG_E_USER_UPN_INVALID"),
            (dict(ok, userPrincipalName="ana@"), 400,
             "WG_E_USER_UPN_INVALID"),
            (dict(ok, userPrincipalName="a@b@c.com"), 400,
             "WG_E_USER_UPN_INVALID"),
            (dict(ok, userPrincipalName="ana silva@contoso.com"), 400,
             "WG_E_USER_UPN_INVALID"),
            (dict(ok, userPrincipalName="ana@contoso..com"), 400,
             "WG_E_USER_UPN_INVALID"),
            (dict(ok, userPrincipalName="an\u00e1@contoso.com"), 400,
             "WG_E_USER_UPN_INVALID"),
            (dict(ok, userPrincipalName="a" * 251 + "@x.com"), 400,
             "WG_E_USER_UPN_INVALID"),
            (dict(ok, userPrincipalName=""), 400, "WG_E_JSON_FIELD"),
            (dict(ok, userPrincipalName=7), 400, "WG_E_JSON_FIELD"),
            ({"password": PW}, 400, "WG_E_JSON_FIELD"),
            (dict(ok, password="short-pw-11"), 400,
             "WG_E_USER_PASSWORD_WEAK"),
            (dict(ok, password="x" * 257), 400, "WG_E_USER_PASSWORD_WEAK"),
            (dict(ok, password="tab\tinside-the-password"), 400,
             "WG_E_USER_PASSWORD_WEAK"),
            # jansson refuses \u0000 in any string
            (dict(ok, password="nul\u0000inside-the-password"), 400,
             "WG_E_JSON_MALFORMED"),
            (dict(ok, password="del\u007finside-the-password"), 400,
             "WG_E_USER_PASSWORD_WEAK"),
            (dict(ok, password=12345678901234), 400, "WG_E_JSON_FIELD"),
            ({"userPrincipalName": "ana@contoso.com"}, 400,
             "WG_E_JSON_FIELD"),
            (dict(ok, displayName="x" * 257), 400, "WG_E_JSON_FIELD"),
            (dict(ok, role="admin"), 400, "WG_E_JSON_FIELD"),
        ]
        for body, status, name in cases:
            r = self.req("POST", PATH, body, token=self.key)
            self.assertError(r, status, name)
        # the boundaries of the password rule are allowed
        self.create("twelve@contoso.com", password="x" * 12)
        self.create("long@contoso.com", password="\u00e9" * 128)
        self.assertEqual(self.upns(), ["long@contoso.com",
                                       "twelve@contoso.com"])
        r = self.req("POST", PATH, '{"userPrincipalName": "a@b.c", '
                     '"userPrincipalName": "d@e.f", "password": "%s"}' % PW,
                     token=self.key)
        self.assertError(r, 400, "WG_E_JSON_MALFORMED")
        u = self.upns()[0]
        uid = self.req("GET", PATH + "?name=" + u,
                       token=self.key).json["value"][0]["id"]
        r = self.req("POST", "%s/%s/password" % (PATH, uid),
                     {"password": "too-short"}, token=self.key)
        self.assertError(r, 400, "WG_E_USER_PASSWORD_WEAK")
        r = self.req("POST", "%s/%s/password" % (PATH, uid),
                     {"password": PW, "upn": "x"}, token=self.key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = self.req("GET", PATH + "?after=!!", token=self.key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")

    def test_paging(self):
        for n in range(5):
            self.create("user%d@contoso.com" % n)
        r = self.req("GET", PATH + "?limit=2", token=self.key)
        self.assertEqual([u["userPrincipalName"] for u in r.json["value"]],
                         ["user0@contoso.com", "user1@contoso.com"])
        seen, nxt = [], None
        while True:
            q = "?limit=2" + ("&after=" + nxt if nxt else "")
            r = self.req("GET", PATH + q, token=self.key)
            self.assertEqual(r.status, 200, r)
            seen += [u["userPrincipalName"] for u in r.json["value"]]
            nxt = r.json.get("next")
            if not nxt:
                break
        self.assertEqual(seen, ["user%d@contoso.com" % n for n in range(5)])
        cursor = base64.urlsafe_b64encode(b"not a upn").decode().rstrip("=")
        r = self.req("GET", PATH + "?after=" + cursor, token=self.key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = self.req("GET", PATH + "?limit=1001", token=self.key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")

    def test_disable_enable_and_password(self):
        u = self.create("ana@contoso.com")
        first = self.stored_hash(u["id"])
        path = "%s/%s" % (PATH, u["id"])
        r = self.req("POST", path + "/disable", token=self.key)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["accountEnabled"], False)
        self.assertIs(self.get(u["id"])["accountEnabled"], False)
        self.assertEqual(self.query("SELECT disabled FROM users"), [("1",)])
        # again: no change, no new record
        r = self.req("POST", path + "/disable", token=self.key)
        self.assertEqual(r.status, 200, r)
        r = self.req("POST", path + "/enable", token=self.key)
        self.assertIs(r.json["accountEnabled"], True)
        r = self.req("POST", path + "/password", {"password": PW2},
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), FIELDS)
        second = self.stored_hash(u["id"])
        self.assertRegex(second, PHC)
        self.assertNotEqual(first, second)
        events = self.audit()
        self.assertEqual([e["eventId"] for e in events],
                         [1030, 1031, 1032, 1033])
        self.assertEqual([e["message"] for e in events], [
            'user "ana@contoso.com" created',
            'user "ana@contoso.com" disabled',
            'user "ana@contoso.com" enabled',
            'user "ana@contoso.com" password set'])
        for e in events:
            self.assertEqual(e["details"]["userId"], u["id"])

    def test_password_set_clears_lockout(self):
        u = self.create("ana@contoso.com")
        future = int(time.time() * 1000) + 3600 * 1000
        # what the sign-in will do, written with the server stopped
        self.server.stop()
        self.db.execute("UPDATE users SET failed_count = 5, "
                        "locked_until_ms = %d" % future)
        self.server.start()
        got = self.get(u["id"])
        self.assertEqual(got["failedSignIns"], 5)
        self.assertRegex(got["lockedUntil"] or "", r"^\d{4}-\d\d-\d\dT")
        self.assertIn(got["lockedUntil"],
                      self.wg("list").stdout)
        r = self.req("POST", "%s/%s/password" % (PATH, u["id"]),
                     {"password": PW2}, token=self.key)
        self.assertEqual((r.json["failedSignIns"], r.json["lockedUntil"]),
                         (0, None))

    def test_stored_hash_is_phc_argon2id_with_configured_parameters(self):
        u = self.create("ana@contoso.com")
        h = self.stored_hash(u["id"])
        self.assertRegex(h, PHC)
        # the same password for another user: another salt, another hash
        v = self.create("bob@contoso.com")
        self.assertNotEqual(self.stored_hash(v["id"]), h)

    def test_parameters_from_the_config_file(self):
        old = self.create("ana@contoso.com")
        conf = os.path.join(self.workdir, "wg.conf")
        with open(conf, "w") as f:
            f.write("argon2-memory-kib = 1024\nargon2-time = 1\n"
                    "argon2-lanes = 1\nsignin-lockout-after = 3\n")
        self.server.stop()
        self.server.extra = ["--config", conf]
        self.server.start()
        new = self.create("bob@contoso.com")
        self.assertTrue(self.stored_hash(new["id"]).startswith(
            "$argon2id$v=19$m=1024,t=1,p=1$"))
        # a hash made before keeps its own parameters
        self.assertRegex(self.stored_hash(old["id"]), PHC)
        with open(conf, "a") as f:
            f.write("argon2-lanes = 17\n")
        self.server.stop()
        p = subprocess.run([WHITEGLOVE, "serve", "--config", conf,
                            "--state-dir", self.state], capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("argon2-lanes: a whole number from 1 to 16", p.stderr)

    def test_password_never_shown_logged_or_stored(self):
        u = self.create("ana@contoso.com", displayName="Ana")
        self.req("POST", "%s/%s/password" % (PATH, u["id"]),
                 {"password": PW2}, token=self.key)
        self.req("POST", PATH, {"userPrincipalName": "bad@x.com",
                                "password": "Sh0rtPw!"}, token=self.key)
        self.wg("passwd", "ana@contoso.com", "--password-stdin",
                stdin=PW + "\n")
        self.wg("show", "ana@contoso.com")
        self.wg("list", "--json")
        self.req("GET", "/admin/v1/auditEvents?limit=500", token=self.key)
        self.bodies.append(self.server.log())
        self.bodies += ["|".join(r) for r in self.query(
            "SELECT * FROM audit_events")]
        # answers, CLI output, the server's log, the audit log: neither
        # the passwords nor the hash
        for text in self.bodies:
            for secret in (PW, PW2, "Sh0rtPw!", "argon2"):
                self.assertNotIn(secret, text)
        # the database: the hash only
        for row in self.query("SELECT * FROM users"):
            for secret in (PW, PW2):
                self.assertNotIn(secret, "|".join(row))

    def test_tenants_are_isolated(self):
        u = self.create("ana@contoso.com")
        other_tid, other = self.create_tenant("Fabrikam")
        self.assertEqual(self.upns(key=other), [])
        self.assertEqual(self.upns(key=other, query="?name=ana@contoso.com"),
                         [])
        zero = "0" * 8 + "-0000-4000-8000-" + "0" * 12
        for method, path, body in [
                ("GET", "%s/%s" % (PATH, u["id"]), None),
                ("POST", "%s/%s/disable" % (PATH, u["id"]), None),
                ("POST", "%s/%s/enable" % (PATH, u["id"]), None),
                ("POST", "%s/%s/password" % (PATH, u["id"]),
                 {"password": PW2}),
                ("GET", "%s/not-a-uuid" % PATH, None),
                ("GET", "%s/%s" % (PATH, zero), None)]:
            r = self.req(method, path, body, token=other)
            self.assertError(r, 404, "WG_E_USER_NOT_FOUND")
        self.assertEqual(self.get(u["id"]), u)  # untouched
        self.assertEqual(self.stored_hash(u["id"]),
                         self.query("SELECT password_hash FROM users")[0][0])
        # the operator names the tenant
        r = self.req("GET", PATH, token=self.op)
        self.assertError(r, 403, "WG_E_FORBIDDEN")
        q = "?tenantId=" + self.tid
        self.assertEqual(self.upns(key=self.op, query=q), ["ana@contoso.com"])
        r = self.req("POST", PATH + "?tenantId=" + other_tid,
                     {"userPrincipalName": "op@fabrikam.com",
                      "password": PW}, token=self.op)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.upns(key=other), ["op@fabrikam.com"])
        self.assertEqual(self.upns(), ["ana@contoso.com"])

    def test_routes_belong_to_the_token_service(self):
        self.server.stop()
        self.server.extra = ["--services", "admin,registry"]
        self.server.start()
        r = self.req("GET", PATH, token=self.key)
        self.assertError(r, 404, "WG_E_ROUTE_NOT_FOUND")

    # ---- the CLI ----

    def test_cli_create_list_show_disable_enable_passwd(self):
        p = self.wg("create", "Ana@Contoso.com", "--display-name",
                    "Ana Silva", "--password-stdin", stdin=PW + "\n")
        self.assertIn("Created user ana@contoso.com", p.stdout)
        self.assertIn("Ana Silva", p.stdout)
        uid = self.upns() and self.req("GET", PATH, token=self.key).json[
            "value"][0]["id"]
        self.assertIn(uid, p.stdout)
        self.wg("create", "bob@contoso.com", "--password-stdin", stdin=PW)
        out = self.wg("list").stdout
        self.assertRegex(out, r"UPN +DISPLAY NAME +ENABLED")
        self.assertRegex(out, r"ana@contoso.com +Ana Silva +yes")
        self.assertIn("bob@contoso.com", out)
        show = self.wg("show", "ANA@contoso.com").stdout
        self.assertIn("User ana@contoso.com", show)
        self.assertRegex(show, r"enabled: +yes")
        self.assertEqual(self.wg("show", uid).stdout, show)
        p = self.wg("disable", "ana@contoso.com")
        self.assertIn("Disabled user ana@contoso.com", p.stdout)
        self.assertRegex(p.stdout, r"enabled: +no")
        p = self.wg("enable", uid)
        self.assertRegex(p.stdout, r"enabled: +yes")
        before = self.stored_hash(uid)
        p = self.wg("passwd", "ana@contoso.com", "--password-stdin",
                    stdin=PW2 + "\r\n")
        self.assertIn("Password set for user ana@contoso.com", p.stdout)
        self.assertNotEqual(self.stored_hash(uid), before)
        self.assertRegex(self.stored_hash(uid), PHC)
        js = self.wg("show", "ana@contoso.com", "--json").stdout
        self.assertEqual(set(__import__("json").loads(js)), FIELDS)

    def test_cli_errors(self):
        self.wg("create", "ana@contoso.com", "--password-stdin", stdin=PW)
        p = self.wg("create", "ANA@contoso.com", "--password-stdin",
                    stdin=PW, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_USER_UPN_TAKEN", p.stderr)
        # no terminal and no --password-stdin: refused, nothing sent
        p = self.wg("create", "bob@contoso.com", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("--password-stdin", p.stderr)
        p = self.wg("create", "bob@contoso.com", "--password-stdin",
                    stdin="short\n", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("12 to 256 bytes", p.stderr)
        p = self.wg("show", "nobody@contoso.com", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no user is named", p.stderr)
        for args in (["create"], ["show"], ["list", "x"],
                     ["show", "a@b.c", "--display-name", "X"],
                     ["disable", "a@b.c", "--password-stdin"],
                     ["create", "nodomain", "--password-stdin"], ["frob"]):
            p = self.wg(*args, check=False)
            self.assertEqual(p.returncode, 2, args)
        self.assertEqual(self.upns(), ["ana@contoso.com"])
        for verb in VERBS:
            p = self.wg(verb, "--help")
            self.assertIn("usage: whiteglove user " + verb, p.stdout)
        self.assertIn("passwd", self.wg("--help").stdout)

    def test_cli_prompts_twice_on_a_terminal(self):
        rc, out, err = self.wg_tty(["create", "ana@contoso.com"],
                                   [("Password: ", PW),
                                    ("Password again: ", PW)])
        self.assertEqual(rc, 0, err)
        self.assertIn("Created user ana@contoso.com", out)
        self.assertNotIn(PW, out + err)  # not echoed
        rc, out, err = self.wg_tty(["passwd", "ana@contoso.com"],
                                   [("Password: ", PW2),
                                    ("Password again: ", PW2 + "x")])
        self.assertEqual(rc, 1)
        self.assertIn("the two passwords differ", err)
        self.assertEqual(len(self.audit()), 1)  # nothing was sent

    def test_cli_interrupted_prompt_gives_the_echo_back(self):
        master, slave = os.openpty()
        e = dict(os.environ, WHITEGLOVE_URL=self.server.url,
                 WHITEGLOVE_CA=self.server.ca, WHITEGLOVE_TOKEN=self.key)
        p = subprocess.Popen([WHITEGLOVE, "user", "create", "a@b.com"],
                             env=e, stdin=slave, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            self.assertTrue(termios.tcgetattr(slave)[3] & termios.ECHO)
            err, deadline = b"", time.time() + 20
            while b"Password: " not in err:
                self.assertLess(time.time(), deadline, err)
                if select.select([p.stderr], [], [], 0.2)[0]:
                    err += os.read(p.stderr.fileno(), 4096)
            deadline = time.time() + 5
            while termios.tcgetattr(slave)[3] & termios.ECHO:
                self.assertLess(time.time(), deadline, "echo stayed on")
                time.sleep(0.02)
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(20), -signal.SIGINT)
            self.assertTrue(termios.tcgetattr(slave)[3] & termios.ECHO)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
            os.close(master)
            os.close(slave)
        self.assertEqual(self.upns(), [])


if __name__ == "__main__":
    unittest.main()
