"""Helpers for whiteglove's integration tests: run the real server on
loopback over HTTPS and talk to it as a client would (stdlib only)."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import time
import unittest

WHITEGLOVE = os.environ.get("WG_BIN", "build/src/cli/whiteglove")
BACKEND = os.environ.get("WG_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("WG_TEST_PG_URL")      # admin URL of the cluster
PG_DIR = os.environ.get("WG_TEST_PG_DIR")      # for pause/resume
PGCLUSTER = os.path.join(os.path.dirname(__file__), "..", "pgcluster.sh")
LISTEN_RE = re.compile(r"listening on https?://([^ \"]+):(\d+) ")


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                   check=True, stdout=subprocess.DEVNULL)


class Database:
    """A fresh database of the backend under test, dropped at the end."""

    def __init__(self, workdir):
        self.name = None
        if BACKEND == "sqlite":
            self.url = "sqlite:%s/test.db" % workdir
            return
        if not PG_URL:
            raise RuntimeError("WG_TEST_PG_URL is not set")
        self.name = "wgit_%d_%d" % (os.getpid(), int(time.time() * 1e6))
        psql(PG_URL, "CREATE DATABASE %s" % self.name)
        self.url = re.sub(r"/[^/]*$", "/" + self.name, PG_URL)

    def execute(self, sql):
        """Runs one SQL statement on the database, beside the server."""
        if BACKEND == "sqlite":
            con = sqlite3.connect(self.url[len("sqlite:"):], timeout=10)
            try:
                con.execute(sql)
                con.commit()
            finally:
                con.close()
        else:
            psql(self.url, sql)

    def drop(self):
        if self.name:
            psql(PG_URL, "DROP DATABASE IF EXISTS %s WITH (FORCE)"
                 % self.name)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def error(self):
        return (self.json or {}).get("error", {})

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Server:
    """One `whiteglove serve` process with its own state directory."""

    def __init__(self, state_dir, db_url, extra=None, log_format=None):
        self.state_dir = state_dir
        self.db_url = db_url
        self.extra = extra or []
        self.log_format = log_format
        self.proc = None
        self.port = None
        self.log_path = None

    def start(self, wait=True):
        self.log_path = os.path.join(self.state_dir + ".log")
        log = open(self.log_path, "ab")
        self.log_offset = log.tell()
        args = [WHITEGLOVE, "serve", "--state-dir", self.state_dir,
                "--listen", "127.0.0.1:0", "--db", self.db_url] + \
            (["--log-format", self.log_format] if self.log_format else []) + \
            self.extra
        self.proc = subprocess.Popen(args, stdout=log, stderr=log)
        log.close()
        if wait:
            self.wait_listening()
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_listening(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = LISTEN_RE.search(self.log()[self.log_offset:])
            if m:
                self.port = int(m.group(2))
                return
            if self.proc.poll() is not None:
                raise RuntimeError("server exited %d:\n%s"
                                   % (self.proc.returncode, self.log()))
            time.sleep(0.05)
        raise RuntimeError("server did not start:\n" + self.log())

    @property
    def ca(self):
        return os.path.join(self.state_dir, "tls", "ca.crt")

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def operator_key(self):
        with open(os.path.join(self.state_dir, "operator.key")) as f:
            return f.read().strip()

    def ssl_context(self, ca=None):
        return ssl.create_default_context(cafile=ca or self.ca)

    def connect(self, timeout=10):
        return http.client.HTTPSConnection("127.0.0.1", self.port,
                                           timeout=timeout,
                                           context=self.ssl_context())

    def request(self, method, path, body=None, token=None, headers=None,
                content_type="application/json", timeout=10):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            if content_type:
                h["Content-Type"] = content_type
        conn = self.connect(timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()),
                            r.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    def stop(self, sig=signal.SIGTERM, timeout=40):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


class ServerTest(unittest.TestCase):
    """Each test gets a state directory, a fresh database and a server."""

    server_args = []

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="wgit.")
        self.db = Database(self.workdir)
        self.state = os.path.join(self.workdir, "state")
        self.server = Server(self.state, self.db.url, self.server_args)
        self.server.start()
        self.op = self.server.operator_key()

    def tearDown(self):
        try:
            if self.server.proc and self.server.proc.poll() is None:
                self.assertEqual(self.server.stop(), 0, self.server.log())
        finally:
            self.db.drop()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def req(self, *a, **kw):
        return self.server.request(*a, **kw)

    def query(self, sql):
        """The rows of one SELECT on the server's database, read beside
        the running server (values as text)."""
        if BACKEND == "sqlite":
            con = sqlite3.connect("file:%s?mode=ro" % self.db.url[
                len("sqlite:"):], uri=True, timeout=10)
            try:
                return [tuple(str(v) for v in row)
                        for row in con.execute(sql).fetchall()]
            finally:
                con.close()
        p = subprocess.run(["psql", "-At", "-F", "|", "-v",
                            "ON_ERROR_STOP=1", self.db.url, "-c", sql],
                           check=True, capture_output=True, text=True)
        return [tuple(line.split("|")) for line in p.stdout.splitlines()]

    def count(self, sql):
        return int(self.query(sql)[0][0])

    def assertError(self, r, status, name):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.error.get("name"), name, r)
        self.assertTrue(r.error.get("code", "").startswith("0x"), r)
        self.assertTrue(r.error.get("message"), r)
        self.assertEqual(r.error.get("requestId"), r.headers.get(
            "X-Request-Id"), r)

    def create_tenant(self, name):
        r = self.req("POST", "/admin/v1/tenants", {"name": name},
                     token=self.op)
        self.assertEqual(r.status, 201, r)
        return r.json["id"], r.json["adminKey"]["key"]

    def cli(self, *args, token=None, env=None, check=True):
        e = dict(os.environ)
        e.update({"WHITEGLOVE_URL": self.server.url,
                  "WHITEGLOVE_CA": self.server.ca,
                  "WHITEGLOVE_TOKEN": token or self.op})
        e.update(env or {})
        p = subprocess.run([WHITEGLOVE] + list(args), env=e,
                           capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            self.fail("whiteglove %s exited %d:\n%s%s"
                      % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p


def pg_pause():
    subprocess.run([PGCLUSTER, "pause", PG_DIR], check=True,
                   stdout=subprocess.DEVNULL)


def pg_resume():
    subprocess.run([PGCLUSTER, "resume", PG_DIR], check=True,
                   stdout=subprocess.DEVNULL)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
