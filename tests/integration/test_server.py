"""The server over HTTPS on loopback: TLS and the state directory, tenants
and keys, isolation, auth failures, bad input, drain, restart, database
outage.  Runs against the backend in WG_TEST_BACKEND (sqlite|postgresql)."""

import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import time
import unittest

from wgtest import (BACKEND, Server, ServerTest, pg_pause, pg_resume,
                    WHITEGLOVE)


class HealthAndTls(ServerTest):
    def test_health_ready_over_pinned_tls(self):
        r = self.req("GET", "/health")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "ok")
        self.assertRegex(r.headers["X-Request-Id"], r"^[0-9a-f-]{36}$")
        r = self.req("GET", "/ready")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["database"], BACKEND)

    def test_access_line_has_wall_time_and_cpu(self):
        _, key = self.create_tenant("Contoso")
        r = self.req("GET", "/admin/v1/devices", token=key)
        self.assertEqual(r.status, 200, r)
        rid = r.headers["X-Request-Id"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # written once it is sent
            lines = [x for x in self.server.log().splitlines() if rid in x
                     and "GET /admin/v1/devices 200" in x]
            if lines:
                break
            time.sleep(0.05)
        self.assertEqual(len(lines), 1, self.server.log())
        self.assertRegex(lines[0], r"GET /admin/v1/devices 200 \d+ms "
                         r"cpu=[1-9]\d*us$")

    def test_tls_refuses_unpinned_ca(self):
        ctx = ssl.create_default_context()  # system roots only
        with socket.create_connection(("127.0.0.1", self.server.port)) as s:
            with self.assertRaises(ssl.SSLCertVerificationError):
                ctx.wrap_socket(s, server_hostname="127.0.0.1")

    def test_plain_http_gets_no_answer(self):
        with socket.create_connection(("127.0.0.1", self.server.port),
                                      timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = s.recv(100)
            except (ConnectionResetError, socket.timeout):
                data = b""
            self.assertFalse(data.startswith(b"HTTP/1.1 200"))

    def test_state_dir_files_private(self):
        for rel in ("tls/ca.key", "tls/server.key", "operator.key"):
            mode = stat.S_IMODE(os.stat(os.path.join(self.state, rel))
                                .st_mode)
            self.assertEqual(mode, 0o600, rel)
        mode = stat.S_IMODE(os.stat(self.state).st_mode)
        self.assertEqual(mode, 0o700)

    def test_restart_keeps_ca_and_data(self):
        tid, key = self.create_tenant("Fabrikam")
        with open(self.server.ca, "rb") as f:
            ca_before = f.read()
        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        with open(self.server.ca, "rb") as f:
            self.assertEqual(f.read(), ca_before)
        self.assertEqual(self.server.operator_key(), self.op)
        r = self.req("GET", "/admin/v1/tenants", token=self.op)
        self.assertEqual([t["id"] for t in r.json["value"]], [tid])
        r = self.req("GET", "/admin/v1/tenants/" + tid, token=key)
        self.assertEqual(r.status, 200, r)

    def test_unknown_route_and_method(self):
        r = self.req("GET", "/nope")
        self.assertError(r, 404, "WG_E_ROUTE_NOT_FOUND")
        r = self.req("PUT", "/admin/v1/tenants", {"name": "x"},
                     token=self.op)
        self.assertError(r, 405, "WG_E_METHOD_NOT_ALLOWED")
        self.assertIn("POST", r.headers.get("Allow", ""))
        self.assertIn("GET", r.headers.get("Allow", ""))


class TenantsAndKeys(ServerTest):
    def test_operator_creates_and_lists_tenants(self):
        tid, key = self.create_tenant("Contoso")
        self.assertTrue(key.startswith("wgk."))
        r = self.req("GET", "/admin/v1/tenants", token=self.op)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["value"][0]["name"], "Contoso")
        r = self.req("POST", "/admin/v1/tenants", {"name": "Contoso"},
                     token=self.op)
        self.assertError(r, 409, "WG_E_CONFLICT")

    def test_tenant_admin_cannot_manage_tenants(self):
        _, key = self.create_tenant("Contoso")
        r = self.req("GET", "/admin/v1/tenants", token=key)
        self.assertError(r, 403, "WG_E_FORBIDDEN")
        r = self.req("POST", "/admin/v1/tenants", {"name": "X"}, token=key)
        self.assertError(r, 403, "WG_E_FORBIDDEN")

    def test_key_lifecycle(self):
        tid, key = self.create_tenant("Contoso")
        r = self.req("POST", "/admin/v1/apiKeys", {"name": "ci"}, token=key)
        self.assertEqual(r.status, 201, r)
        new_key, new_id = r.json["key"], r.json["id"]
        self.assertEqual(r.json["tenantId"], tid)
        r = self.req("GET", "/admin/v1/apiKeys", token=new_key)
        self.assertEqual(r.status, 200, r)
        names = sorted(k["name"] for k in r.json["value"])
        self.assertEqual(names, ["ci", "initial"])
        self.assertNotIn(new_key, r.body)  # secrets are never listed
        r = self.req("DELETE", "/admin/v1/apiKeys/" + new_id, token=key)
        self.assertEqual(r.status, 204, r)
        r = self.req("GET", "/admin/v1/apiKeys", token=new_key)
        self.assertError(r, 401, "WG_E_AUTH_INVALID")
        r = self.req("GET", "/admin/v1/auditEvents", token=key)
        ids = [e["event"]["eventId"] for e in r.json["value"]]
        # tenant created, its initial key, the "ci" key, its revocation
        self.assertEqual(ids, [1001, 1002, 1002, 1003])

    def test_operator_acts_on_named_tenant(self):
        tid, _ = self.create_tenant("Contoso")
        r = self.req("GET", "/admin/v1/apiKeys", token=self.op)
        self.assertError(r, 403, "WG_E_FORBIDDEN")
        r = self.req("POST", "/admin/v1/apiKeys?tenantId=" + tid,
                     {"name": "rescue"}, token=self.op)
        self.assertEqual(r.status, 201, r)
        r = self.req("GET", "/admin/v1/apiKeys?tenantId=" + tid,
                     token=self.op)
        self.assertEqual(len(r.json["value"]), 2)
        r = self.req("GET", "/admin/v1/apiKeys?tenantId="
                     "00000000-0000-4000-8000-000000000000", token=self.op)
        self.assertError(r, 404, "WG_E_NOT_FOUND")


class Isolation(ServerTest):
    def test_tenant_a_never_sees_tenant_b(self):
        a_id, a_key = self.create_tenant("A")
        b_id, b_key = self.create_tenant("B")
        r = self.req("POST", "/admin/v1/apiKeys", {"name": "b2"},
                     token=b_key)
        b2_id = r.json["id"]
        # Another tenant's objects are "not found", never "forbidden".
        r = self.req("GET", "/admin/v1/tenants/" + b_id, token=a_key)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("DELETE", "/admin/v1/apiKeys/" + b2_id, token=a_key)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("GET", "/admin/v1/apiKeys?tenantId=" + b_id,
                     token=a_key)
        self.assertError(r, 404, "WG_E_NOT_FOUND")
        r = self.req("GET", "/admin/v1/apiKeys", token=a_key)
        self.assertEqual({k["tenantId"] for k in r.json["value"]}, {a_id})
        r = self.req("GET", "/admin/v1/auditEvents", token=a_key)
        self.assertTrue(r.json["value"])
        for e in r.json["value"]:
            self.assertNotIn(b_id, json.dumps(e))
        # B's key still works after A's attempt.
        r = self.req("GET", "/admin/v1/apiKeys", token=b_key)
        self.assertEqual(r.status, 200)
        self.assertTrue(all(k["revokedAt"] is None
                            for k in r.json["value"]))


class AuthFailures(ServerTest):
    def test_missing_and_bad_keys(self):
        _, key = self.create_tenant("Contoso")
        r = self.req("GET", "/admin/v1/apiKeys")
        self.assertError(r, 401, "WG_E_AUTH_MISSING")
        self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""))
        r = self.req("GET", "/admin/v1/apiKeys", token="nonsense")
        self.assertError(r, 401, "WG_E_AUTH_INVALID")
        wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
        r = self.req("GET", "/admin/v1/apiKeys", token=wrong)
        self.assertError(r, 401, "WG_E_AUTH_INVALID")
        r = self.req("GET", "/admin/v1/apiKeys",
                     headers={"Authorization": "Basic " + key})
        self.assertError(r, 401, "WG_E_AUTH_INVALID")
        unknown = "wgk.00000000-0000-4000-8000-000000000000." + key[-43:]
        r = self.req("GET", "/admin/v1/apiKeys", token=unknown)
        self.assertError(r, 401, "WG_E_AUTH_INVALID")


class BadInput(ServerTest):
    def count_tenants(self):
        r = self.req("GET", "/admin/v1/tenants", token=self.op)
        return len(r.json["value"])

    def test_each_bad_body_gets_its_code_and_writes_nothing(self):
        cases = [
            (b'{"name": "x"', 400, "WG_E_JSON_MALFORMED"),
            (b'{"name": "a", "name": "b"}', 400, "WG_E_JSON_MALFORMED"),
            (b'["x"]', 400, "WG_E_JSON_FIELD"),
            (b'{"name": 5}', 400, "WG_E_JSON_FIELD"),
            (b'{"name": ""}', 400, "WG_E_JSON_FIELD"),
            (b'{"name": "x", "extra": 1}', 400, "WG_E_JSON_FIELD"),
            (b'{"name": "a\\u0007b"}', 400, "WG_E_JSON_FIELD"),
            (b'{"name": "a\\u0000b"}', 400, "WG_E_JSON_MALFORMED"),
            (json.dumps({"name": "x" * 129}).encode(), 400,
             "WG_E_JSON_FIELD"),
            (b'{}', 400, "WG_E_JSON_FIELD"),
            (b'', 400, "WG_E_JSON_MALFORMED"),
            (b'{"a":' * 40 + b'1' + b'}' * 40, 400, "WG_E_JSON_MALFORMED"),
        ]
        for body, status, name in cases:
            r = self.req("POST", "/admin/v1/tenants", body, token=self.op)
            self.assertError(r, status, name)
        self.assertEqual(self.count_tenants(), 0)
        r = self.req("POST", "/admin/v1/tenants", {"name": "x"},
                     token=self.op, content_type="text/plain")
        self.assertError(r, 415, "WG_E_UNSUPPORTED_MEDIA_TYPE")
        r = self.req("POST", "/admin/v1/tenants", {"name": "x"},
                     token=self.op, content_type=None)
        self.assertError(r, 415, "WG_E_UNSUPPORTED_MEDIA_TYPE")
        self.assertEqual(self.count_tenants(), 0)

    def test_oversized_bodies(self):
        big = json.dumps({"name": "x" * 10000}).encode()
        r = self.req("POST", "/admin/v1/tenants", big, token=self.op)
        self.assertError(r, 413, "WG_E_BODY_TOO_LARGE")
        # Chunked, so the size is only known while reading.
        conn = self.server.connect()
        conn.putrequest("POST", "/admin/v1/tenants")
        conn.putheader("Authorization", "Bearer " + self.op)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for _ in range(10):
                chunk = b" " * 1000
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = conn.getresponse()
        self.assertEqual(r.status, 413)
        self.assertEqual(json.loads(r.read())["error"]["name"],
                         "WG_E_BODY_TOO_LARGE")
        conn.close()
        self.assertEqual(self.count_tenants(), 0)
        self.assertEqual(self.req("GET", "/health").status, 200)

    def test_bad_path_parameters(self):
        _, key = self.create_tenant("Contoso")
        for path in ("/admin/v1/tenants/not-a-uuid",
                     "/admin/v1/apiKeys/../../x",
                     "/admin/v1/tenants/%00"):
            r = self.req("GET" if "tenants" in path else "DELETE", path,
                         token=key)
            self.assertIn(r.status, (404,), r)
        r = self.req("GET", "/admin/v1/auditEvents?limit=abc", token=key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")
        r = self.req("GET", "/admin/v1/auditEvents?limit=100000", token=key)
        self.assertError(r, 400, "WG_E_JSON_FIELD")


class Drain(ServerTest):
    def test_sigterm_drains_request_in_flight(self):
        body = json.dumps({"name": "Slow"}).encode()
        raw = socket.create_connection(("127.0.0.1", self.server.port))
        s = self.server.ssl_context().wrap_socket(
            raw, server_hostname="127.0.0.1")
        head = ("POST /admin/v1/tenants HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Type: application/json"
                "\r\nContent-Length: %d\r\n\r\n" % (self.op, len(body)))
        s.sendall(head.encode() + body[:5])
        time.sleep(0.3)  # the request is now in flight
        self.server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # New connections are refused while the old request finishes.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.server.port),
                                     timeout=2).close()
        self.assertIsNone(self.server.proc.poll())
        s.sendall(body[5:])
        resp = b""
        while b"\r\n\r\n" not in resp or not resp.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
        s.close()
        self.assertTrue(resp.startswith(b"HTTP/1.1 201"), resp[:200])
        self.assertEqual(self.server.proc.wait(20), 0, self.server.log())
        self.assertIn("drained", self.server.log())
        # What the drained request wrote is there after a restart.
        self.server.start()
        r = self.req("GET", "/admin/v1/tenants", token=self.op)
        self.assertEqual([t["name"] for t in r.json["value"]], ["Slow"])


class Config(ServerTest):
    def test_config_file_and_bad_settings(self):
        cfg = os.path.join(self.workdir, "wg.conf")
        with open(cfg, "w") as f:
            f.write("# test\nservices = admin\nlog-format = json\n"
                    "threads = 2\n")
        other = Server(self.state + "2", "sqlite:%s/other.db"
                       % self.workdir, ["--config", cfg])
        other.start()
        try:
            r = other.request("GET", "/health")
            self.assertEqual(r.status, 200)
        finally:
            self.assertEqual(other.stop(), 0)
        # Every log line is one JSON object; the request's carries its id.
        lines = [json.loads(l) for l in other.log().splitlines()]
        self.assertIn(r.headers["X-Request-Id"],
                      [l.get("requestId") for l in lines])
        with open(cfg, "w") as f:
            f.write("listne = 127.0.0.1:1\n")
        p = subprocess.run([WHITEGLOVE, "serve", "--config", cfg],
                           capture_output=True, text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown setting 'listne'", p.stderr)
        p = subprocess.run([WHITEGLOVE, "serve", "--threads", "zero"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 2)
        self.assertIn("threads", p.stderr)

    def test_services_subset(self):
        other = Server(self.state + "3", "sqlite:%s/o.db" % self.workdir,
                       ["--services", "ztd"])
        other.start()
        try:
            r = other.request("GET", "/admin/v1/tenants", token=self.op)
            self.assertEqual(r.status, 404)
            self.assertEqual(r.error["name"], "WG_E_ROUTE_NOT_FOUND")
            self.assertEqual(other.request("GET", "/health").status, 200)
        finally:
            self.assertEqual(other.stop(), 0)


class OnlineBackup(ServerTest):
    @unittest.skipUnless(BACKEND == "sqlite", "an SQLite database file")
    def test_sqlite_backup_while_serving_keeps_the_log(self):
        """docs/operations.md's online backup, with the server's
        connections open: the other process must see the database in use
        (the server holds its locks), so it leaves the -wal and -shm in
        place, and both the server and the copy stay whole."""
        db = self.db.url[len("sqlite:"):]
        first, key = self.create_tenant("Before")
        for i in range(8):  # every worker thread opens its connection
            self.assertEqual(self.req("GET", "/admin/v1/tenants",
                                      token=self.op).status, 200)
        copy = os.path.join(self.workdir, "backup.db")
        p = subprocess.run(["sqlite3", db, ".backup '%s'" % copy],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        for suffix in ("-wal", "-shm"):
            self.assertTrue(os.path.exists(db + suffix), suffix)
        second, _ = self.create_tenant("After")
        r = self.req("GET", "/admin/v1/tenants", token=self.op)
        self.assertEqual(sorted(t["id"] for t in r.json["value"]),
                         sorted([first, second]))
        p = subprocess.run(["sqlite3", copy, "PRAGMA integrity_check; "
                            "SELECT count(*) FROM tenants;"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.stdout.split(), ["ok", "1"], p.stderr)
        self.assertEqual(self.server.stop(), 0, self.server.log())
        self.server.start()
        r = self.req("GET", "/admin/v1/tenants", token=self.op)
        self.assertEqual(len(r.json["value"]), 2)


@unittest.skipUnless(BACKEND == "postgresql", "needs PostgreSQL")
class DatabaseOutage(ServerTest):
    def test_ready_fails_while_postgres_down_and_recovers(self):
        _, key = self.create_tenant("Contoso")
        self.assertEqual(self.req("GET", "/ready").status, 200)
        pg_pause()
        try:
            r = self.req("GET", "/ready")
            self.assertError(r, 503, "WG_E_DB_UNAVAILABLE")
            r = self.req("GET", "/admin/v1/apiKeys", token=key)
            self.assertError(r, 503, "WG_E_DB_UNAVAILABLE")
            self.assertEqual(self.req("GET", "/health").status, 200)
        finally:
            pg_resume()
        deadline = time.time() + 20
        while time.time() < deadline:
            r = self.req("GET", "/ready")
            if r.status == 200:
                break
            time.sleep(0.2)
        self.assertEqual(r.status, 200, r)
        # Every worker thread has replaced its connection: no request
        # after the recovery fails, whichever thread serves it.
        for _ in range(16):
            r = self.req("GET", "/admin/v1/apiKeys", token=key)
            self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
