"""Apps and device setup (step 5): the admin creates apps with the CLI and
uploads their content (stored once per SHA-256 under STATE/content); a
device with a device token lists the apps of its group tag, downloads
their content whole or by ranges, and reports each app's state, which
the admin sees per device.  The device is played by tpm2-tools on swtpm
(tpmclient.JoinClient) where a device token is needed."""

import hashlib
import json
import os
import time
import unittest

import wgtest
from tpmclient import JoinClient

BIG = 3 * 1024 * 1024 + 12345      # a multi-MB upload


def pattern(size, seed):
    """size bytes that differ at every offset (so a wrong range shows)."""
    block = hashlib.sha256(seed.encode()).digest()
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(block + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:size])


class AppsMixin:
    """Helpers shared by the admin-only and the device tests."""

    def write(self, name, data):
        path = os.path.join(self.workdir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def create(self, name, data, *extra, token=None):
        path = self.write(name + ".bin", data)
        p = self.cli("app", "create", name, "--file", path, "--install",
                     "sh -c 'exit 0'", "--json", *extra,
                     token=token or self.key)
        return json.loads(p.stdout)

    def content_file(self, sha):
        return os.path.join(self.state, "content", sha)

    def raw(self, method, path, token=None, headers=None, body=None):
        """(status, headers, bytes): the body as bytes, not text."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        conn = self.server.connect(30)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def err(self, body):
        return json.loads(body)["error"]


class AppsAdmin(AppsMixin, wgtest.ServerTest):
    """The admin side: the CLI, the content store, bad input."""

    def setUp(self):
        super().setUp()
        self.tenant, self.key = self.create_tenant("Contoso")

    def test_cli_create_list_show_assign_unassign_delete(self):
        data = pattern(BIG, "a")
        sha = hashlib.sha256(data).hexdigest()
        app = self.create("Firefox", data, "--tag", "kiosk", "--tag", "desk",
                          "--timeout", "900")
        self.assertEqual(app["sha256"], sha)
        self.assertEqual(app["size"], BIG)
        self.assertEqual(app["target"], "device")
        self.assertEqual(app["timeoutSeconds"], 900)
        self.assertEqual(app["installCommand"], "sh -c 'exit 0'")
        self.assertEqual(app["assignedGroupTags"], ["desk", "kiosk"])
        # the content file: the bytes, named by their SHA-256, 0600
        with open(self.content_file(sha), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha)
        self.assertEqual(os.stat(self.content_file(sha)).st_mode & 0o777,
                         0o600)
        self.assertEqual([n for n in os.listdir(os.path.join(
            self.state, "content")) if n.startswith(".")], [])
        # text output
        p = self.cli("app", "list", token=self.key)
        self.assertIn("Firefox", p.stdout)
        self.assertIn("desk, kiosk", p.stdout)
        self.assertIn(str(BIG), p.stdout)
        p = self.cli("app", "show", "Firefox", token=self.key)
        self.assertIn(sha, p.stdout)
        self.assertIn(app["id"], p.stdout)
        p = self.cli("app", "unassign", "Firefox", "--tag", "desk",
                     token=self.key)
        self.assertIn('Taken off group tag "desk"', p.stdout)
        p = self.cli("app", "show", app["id"], "--json", token=self.key)
        self.assertEqual(json.loads(p.stdout)["assignedGroupTags"],
                         ["kiosk"])
        p = self.cli("app", "unassign", "Firefox", "--tag", "desk",
                     token=self.key, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_NOT_FOUND", p.stderr)
        self.assertIn('"desk" is not assigned', p.stderr)
        p = self.cli("app", "assign", "Firefox", "--tag", "lab",
                     token=self.key)
        self.assertIn('Assigned to group tag "lab"', p.stdout)
        # the audit trail of the admin channel
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        ids = [v["event"]["eventId"] for v in r.json["value"]]
        for want in (1019, 1020, 1021):
            self.assertIn(want, ids)
        p = self.cli("app", "delete", "Firefox", token=self.key)
        self.assertIn("Deleted app " + app["id"], p.stdout)
        self.assertFalse(os.path.exists(self.content_file(sha)))
        p = self.cli("app", "list", token=self.key)
        self.assertIn("No apps", p.stdout)
        p = self.cli("app", "show", "Firefox", token=self.key, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('no app is named "Firefox"', p.stderr)

    def test_same_bytes_share_one_file(self):
        data = pattern(BIG, "shared")
        sha = hashlib.sha256(data).hexdigest()
        a = self.create("One", data)
        b = self.create("Two", data)
        self.assertEqual(a["sha256"], sha)
        self.assertEqual(b["sha256"], sha)
        self.assertEqual(sorted(os.listdir(os.path.join(self.state,
                                                        "content"))), [sha])
        self.cli("app", "delete", "One", token=self.key)
        with open(self.content_file(sha), "rb") as f:
            self.assertEqual(f.read(), data)
        # a new upload replaces the content; the old file goes
        r = self.req("PUT", "/admin/v1/apps/%s/content" % b["id"], b"new",
                     token=self.key, content_type="application/octet-stream")
        self.assertEqual(r.status, 200, r)
        new = hashlib.sha256(b"new").hexdigest()
        self.assertEqual(r.json["sha256"], new)
        self.assertEqual(r.json["size"], 3)
        self.assertFalse(os.path.exists(self.content_file(sha)))
        self.assertTrue(os.path.exists(self.content_file(new)))

    def test_unfinished_uploads_are_swept_at_start(self):
        self.create("One", b"one")
        content = os.path.join(self.state, "content")
        old = os.path.join(content, ".upload-old123")
        fresh = os.path.join(content, ".upload-new123")
        for path in (old, fresh):
            with open(path, "wb") as f:
                f.write(b"partial")
        two_hours_ago = time.time() - 7200
        os.utime(old, (two_hours_ago, two_hours_ago))
        self.assertEqual(self.server.stop(), 0, self.server.log())
        self.server.start()
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(fresh))  # may be another's upload
        self.assertIn("removed 1 unfinished upload", self.server.log())

    def test_bad_input_is_refused(self):
        app = self.create("Tool", b"tool bytes")
        base = {"name": "X", "installCommand": "true", "target": "device"}
        for over, field in (({"name": ""}, "name"),
                            ({"name": "n" * 129}, "name"),
                            ({"installCommand": "c" * 2049},
                             "installCommand"),
                            ({"target": "laptop"}, "target"),
                            ({"timeoutSeconds": 0}, "timeoutSeconds"),
                            ({"timeoutSeconds": 7201}, "timeoutSeconds"),
                            ({"extra": 1}, "extra")):
            r = self.req("POST", "/admin/v1/apps", dict(base, **over),
                         token=self.key)
            self.assertError(r, 400, "WG_E_JSON_FIELD")
            self.assertIn(field, r.error["message"])
        r = self.req("POST", "/admin/v1/apps", dict(base, name="Tool"),
                     token=self.key)
        self.assertError(r, 409, "WG_E_CONFLICT")
        path = "/admin/v1/apps/%s/content" % app["id"]
        octet = {"Content-Type": "application/octet-stream"}
        # no Content-Length: the body sent chunked (with the headers in
        # one write, so the early answer cannot race the body)
        conn = self.server.connect()
        try:
            conn.putrequest("PUT", path)
            conn.putheader("Authorization", "Bearer " + self.key)
            conn.putheader("Content-Type", octet["Content-Type"])
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders(b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n")
            r = conn.getresponse()
            status, body = r.status, r.read()
        finally:
            conn.close()
        self.assertEqual(status, 411, body)
        self.assertEqual(self.err(body)["name"], "WG_E_LENGTH_REQUIRED")
        # declared too large: refused before any byte is stored
        conn = self.server.connect()
        try:
            conn.putrequest("PUT", path)
            conn.putheader("Authorization", "Bearer " + self.key)
            conn.putheader("Content-Type", "application/octet-stream")
            conn.putheader("Content-Length", str(5 << 30))
            conn.endheaders()
            r = conn.getresponse()
            status, body = r.status, r.read()
        finally:
            conn.close()
        self.assertEqual(status, 413, body)
        self.assertEqual(self.err(body)["name"], "WG_E_BODY_TOO_LARGE")
        r = self.req("PUT", path, b"", token=self.key,
                     content_type="application/octet-stream")
        self.assertError(r, 400, "WG_E_APP_CONTENT_EMPTY")
        r = self.req("PUT", path, b"x", token=self.key,
                     content_type="application/json")
        self.assertError(r, 415, "WG_E_UNSUPPORTED_MEDIA_TYPE")
        self.assertEqual(sorted(os.listdir(os.path.join(
            self.state, "content"))), [hashlib.sha256(b"tool bytes")
                                       .hexdigest()])
        r = self.req("POST", "/admin/v1/apps/%s/assign" % app["id"],
                     {"groupTag": ""}, token=self.key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        # another tenant's app does not exist for this one
        _, other = self.create_tenant("Fabrikam")
        for method, sub, body in (("GET", "", None), ("DELETE", "", None),
                                  ("POST", "/assign", {"groupTag": "k"})):
            r = self.req(method, "/admin/v1/apps/%s%s" % (app["id"], sub),
                         body, token=other)
            self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("PUT", path, b"evil", token=other,
                     content_type="application/octet-stream")
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("GET", "/admin/v1/apps", token=other)
        self.assertEqual(r.json["value"], [])
        # the CLI checks what it can before a round trip
        p = self.cli("app", "create", "Y", "--file", "/dev/null",
                     "--install", "x", token=self.key, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a regular file", p.stderr)
        f = self.write("empty", b"")
        p = self.cli("app", "create", "Y", "--file", f, "--install", "x",
                     token=self.key, check=False)
        self.assertIn("the file is empty", p.stderr)
        p = self.cli("app", "create", "Y", "--file", f, "--install", "x",
                     "--target", "laptop", token=self.key, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--target must be device or user", p.stderr)
        p = self.cli("app", "create", "Y", "--file", f, "--install", "x",
                     "--timeout", "0", token=self.key, check=False)
        self.assertEqual(p.returncode, 2)
        p = self.cli("app", "assign", "Tool", token=self.key, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("give --tag TAG", p.stderr)
        p = self.cli("app", "create", "Tool", "--file", self.write(
            "t", b"t"), "--install", "x", token=self.key, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("WG_E_CONFLICT", p.stderr)
        for cmd in ("create", "list", "show", "assign", "unassign",
                    "delete"):
            p = self.cli("app", cmd, "--help")
            self.assertIn("usage: whiteglove app " + cmd, p.stdout)


class AppsDevice(AppsMixin, JoinClient):
    """The device side, with a device token."""

    def setUp(self):
        super().setUp()
        r = self.req("PATCH", "/admin/v1/devices/" + self.dev["id"],
                     {"groupTag": "kiosk"}, token=self.key)
        self.assertEqual(r.status, 200, r)
        self.data = pattern(BIG, "device")
        self.sha = hashlib.sha256(self.data).hexdigest()
        self.app = self.create("Agent", self.data, "--tag", "kiosk")
        self.create("Desk only", b"desk", "--tag", "desk")
        self.create("User app", b"user", "--tag", "kiosk", "--target",
                    "user")
        self.other = self.create("Zed", b"zed", "--tag", "kiosk")
        r = self.req("POST", "/admin/v1/apps", {
            "name": "No content", "installCommand": "true",
            "target": "device"}, token=self.key)
        self.assertEqual(r.status, 201, r)
        r = self.req("POST", "/admin/v1/apps/%s/assign" % r.json["id"],
                     {"groupTag": "kiosk"}, token=self.key)
        self.assertEqual(r.status, 200, r)

    def content(self, sha, rng=None):
        h = {"Range": rng} if rng else {}
        return self.raw("GET", "/mdm/v1/content/" + sha, token=self.token,
                        headers=h)

    def status(self, app_id, body):
        return self.req("POST", "/mdm/v1/apps/%s/status" % app_id, body,
                        token=self.token)

    def audit_ids(self):
        r = self.req("GET", "/admin/v1/auditEvents?limit=500",
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        return [v["event"]["eventId"] for v in r.json["value"]]

    def test_lists_only_its_apps_with_content(self):
        r = self.req("GET", "/mdm/v1/apps", token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([a["name"] for a in r.json["value"]],
                         ["Agent", "Zed"])
        a = r.json["value"][0]
        self.assertEqual(a, {
            "id": self.app["id"], "name": "Agent", "sha256": self.sha,
            "size": BIG, "installCommand": "sh -c 'exit 0'",
            "timeoutSeconds": 600, "contentUrl": "/mdm/v1/content/"
            + self.sha})
        # account setup's list: the user-target ones
        r = self.req("GET", "/mdm/v1/apps?target=user", token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([a["name"] for a in r.json["value"]], ["User app"])
        r = self.req("GET", "/mdm/v1/apps?target=kiosk", token=self.token)
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        # without a device token, or with an admin key: refused
        r = self.req("GET", "/mdm/v1/apps")
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")
        r = self.req("GET", "/mdm/v1/apps", token=self.key)
        self.assertError(r, 401, "WG_E_TOKEN_INVALID")

    def test_content_whole_and_ranges(self):
        status, h, body = self.content(self.sha)
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.sha256(body).hexdigest(), self.sha)
        self.assertEqual(h.get("Accept-Ranges"), "bytes")
        n = 1000003
        status, h, body = self.content(self.sha, "bytes=%d-" % n)
        self.assertEqual(status, 206)
        self.assertEqual(body, self.data[n:])
        self.assertEqual(h["Content-Range"], "bytes %d-%d/%d"
                         % (n, BIG - 1, BIG))
        status, h, body = self.content(self.sha, "bytes=10-19")
        self.assertEqual((status, body), (206, self.data[10:20]))
        self.assertEqual(h["Content-Range"], "bytes 10-19/%d" % BIG)
        status, h, body = self.content(self.sha, "bytes=%d-%d"
                                       % (BIG - 5, BIG + 100))
        self.assertEqual((status, body), (206, self.data[-5:]))
        status, h, body = self.content(self.sha, "bytes=%d-" % (BIG - 1))
        self.assertEqual((status, body), (206, self.data[-1:]))
        for past in ("bytes=%d-" % BIG, "bytes=%d-%d" % (BIG + 1, BIG + 9)):
            status, h, body = self.content(self.sha, past)
            self.assertEqual(status, 416, body)
            self.assertEqual(h["Content-Range"], "bytes */%d" % BIG)
            self.assertEqual(self.err(body)["name"],
                             "WG_E_RANGE_NOT_SATISFIABLE")
        for bad in ("bytes=abc", "bytes=5-2", "bytes=-5", "bytes=0-1,4-5",
                    "items=0-1", "bytes=", "bytes=1-2x",
                    "bytes=99999999999999999999-"):
            status, h, body = self.content(self.sha, bad)
            self.assertEqual(status, 400, (bad, body))
            self.assertEqual(self.err(body)["name"], "WG_E_RANGE_INVALID")

    def test_content_only_of_its_apps(self):
        desk = hashlib.sha256(b"desk").hexdigest()
        user = hashlib.sha256(b"user").hexdigest()
        for sha in (desk, "0" * 64):
            status, _, body = self.content(sha)
            self.assertEqual(status, 404, body)
            self.assertEqual(self.err(body)["name"], "WG_E_NOT_FOUND")
        # the user's apps come to the device too (account setup)
        status, _, body = self.content(user)
        self.assertEqual((status, body), (200, b"user"))
        status, _, body = self.content("..%2f..%2fetc%2fpasswd")
        self.assertEqual(status, 404, body)
        for bad in (self.sha.upper(), self.sha[:63], self.sha + "0",
                    "..", "x" * 64):
            status, _, body = self.content(bad)
            self.assertEqual(status, 400, (bad, body))
            self.assertEqual(self.err(body)["name"],
                             "WG_E_APP_CONTENT_NAME")
        # unassigned: gone for this device
        self.cli("app", "unassign", "Agent", "--tag", "kiosk",
                 token=self.key)
        status, _, body = self.content(self.sha)
        self.assertEqual(status, 404, body)
        r = self.status(self.app["id"], {"state": "installing"})
        self.assertError(r, 404, "WG_E_NOT_FOUND")

    def test_status_reports_and_setup_view(self):
        before = self.audit_ids().count(1901)
        for state in ("identifying", "downloading", "installing"):
            r = self.status(self.app["id"], {"state": state})
            self.assertEqual(r.status, 204, r)
        r = self.status(self.other["id"], {
            "state": "failed", "code": "0xA0570A03",
            "message": "exit status 3"})
        self.assertEqual(r.status, 204, r)
        r = self.req("GET", "/admin/v1/devices/%s/setup" % self.dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["deviceId"], self.dev["id"])
        got = {s["appName"]: s for s in r.json["value"]}
        self.assertEqual(got["Agent"]["state"], "installing")
        self.assertEqual(got["Agent"]["appId"], self.app["id"])
        self.assertIsNone(got["Agent"]["code"])
        self.assertEqual(got["Zed"]["state"], "failed")
        self.assertEqual(got["Zed"]["code"], "0xA0570A03")
        self.assertEqual(got["Zed"]["message"], "exit status 3")
        # installed: one audit event, also when reported again
        for _ in range(3):
            r = self.status(self.app["id"], {"state": "installed"})
            self.assertEqual(r.status, 204, r)
        ids = self.audit_ids()
        self.assertEqual(ids.count(1901) - before, 1)
        self.assertEqual(ids.count(1902), 1)
        r = self.status(self.other["id"], {
            "state": "failed", "code": "0xA0570A03",
            "message": "exit status 3"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.audit_ids().count(1902), 1)
        p = self.cli("device", "setup", self.dev["id"], token=self.key)
        self.assertIn("Agent", p.stdout)
        self.assertIn("installed", p.stdout)
        self.assertIn("0xA0570A03", p.stdout)
        self.assertIn("exit status 3", p.stdout)
        p = self.cli("device", "setup", self.dev["id"], "--json",
                     token=self.key)
        self.assertEqual(len(json.loads(p.stdout)["value"]), 2)
        # bad reports
        for body in ({"state": "done"}, {"state": "failed", "code": "12"},
                     {"state": "failed", "code": "0x123456789"},
                     {"state": "failed", "code": "0xZZ"},
                     {"state": "installed", "message": "m" * 513},
                     {"state": "installed", "extra": 1}, {}):
            r = self.status(self.app["id"], body)
            self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = self.status("not-an-id", {"state": "installed"})
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.status(self.app["id"], {"state": "installed"})
        self.assertEqual(r.status, 204)
        # the app's delete takes its state
        self.cli("app", "delete", "Zed", token=self.key)
        r = self.req("GET", "/admin/v1/devices/%s/setup" % self.dev["id"],
                     token=self.key)
        self.assertEqual([s["appName"] for s in r.json["value"]], ["Agent"])
        r = self.req("GET", "/admin/v1/devices/%s/setup" % ("0" * 8 + "-0000"
                     "-4000-8000-" + "0" * 12), token=self.key)
        self.assertError(r, 404, "WG_E_NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
