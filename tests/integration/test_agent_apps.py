"""Device setup (step 5) on the device: the real agent (profile, attest,
join, then `whiteglove-agent apps`) against swtpm and the real server's
apps API.  An app's content is downloaded (resumed from a .part), its
SHA-256 checked, its install command run with $WHITEGLOVE_APP_FILE, and
each state reported; failures, timeouts, the device setup deadline and
the size cap end the phase with their catalog codes."""

import hashlib
import http.server
import json
import os
import signal
import ssl
import subprocess
import threading
import time
import unittest

from agentflow import AgentFlow
from swtpm import AGENT, run_agent

TAG = "Kiosk"
SERIAL = "TK-0001"  # tpmclient's device

INSTALL_FAILED = ("0xA0570A13", "WG_E_APP_INSTALL_FAILED")
INSTALL_TIMEOUT = ("0xA0570A14", "WG_E_APP_INSTALL_TIMEOUT")
HASH_MISMATCH = ("0xA0570A11", "WG_E_APP_HASH_MISMATCH")
TOO_LARGE = ("0xA0570A12", "WG_E_APP_TOO_LARGE")
ESP_TIMEOUT = ("0xA0570A15", "WG_E_ESP_TIMEOUT")
TITLE = "Device setup"


class Proxy:
    """An HTTPS front of the server (its own certificate) that can
    misbehave on content downloads: "whole" drops the Range header (a 200
    instead of a 206), "extra" sends more bytes than the app declares."""

    def __init__(self, server, mode):
        tls = os.path.join(os.path.dirname(server.ca))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(tls, "server.crt"),
                            os.path.join(tls, "server.key"))
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                content = self.path.startswith("/mdm/v1/content/")
                h = {k: v for k, v in self.headers.items()
                     if k.lower() not in ("host", "connection")}
                if content and mode == "whole":
                    h.pop("Range", None)
                    proxy.ranges_dropped += 1
                conn = server.connect(30)
                conn.request(self.command, self.path, body=body, headers=h)
                r = conn.getresponse()
                data = r.read()
                if content and mode == "extra" and r.status in (200, 206):
                    data += b"extra bytes"
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection",
                                         "transfer-encoding", "date",
                                         "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = forward

        self.ranges_dropped = 0
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        self.url = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def alive(pid):
    """Whether pid runs (a zombie does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class AgentApps(AgentFlow):

    def setUp(self):
        super().setUp()
        self.marker = os.path.join(self.workdir, "marker.txt")
        self.apps_dir = os.path.join(self.agent_state, "apps")

    # ---- helpers ----

    def register(self, group_tag=TAG):
        return super().register(group_tag)

    def app(self, name, data, command, timeout=60, target="device"):
        return super().app(name, data, command, TAG, timeout, target)

    def apps(self, *extra, tries="2"):
        return self.agent("apps", *extra, tries=tries)

    def setup_states(self, dev):
        """The server's view: app name -> its state record."""
        r = self.req("GET", "/admin/v1/devices/%s/setup" % dev["id"],
                     token=self.key)
        self.assertEqual(r.status, 200, r)
        return {s["appName"]: s for s in r.json["value"]}

    def marker_lines(self):
        if not os.path.exists(self.marker):
            return []
        with open(self.marker) as f:
            return f.read().split("\n")[:-1]

    def assert_app_failed(self, p, dev, name, code):
        """The phase failed with code; event 1902 and the server agree."""
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        err = p.stderr.decode()
        self.assertIn(TITLE + ": failed", err)
        self.assertIn("%s %s" % code, err)
        self.assertIn("events/apps.jsonl", err)
        failed = [e for e in self.events("apps") if e["eventId"] == 1902]
        self.assertEqual(len(failed), 1, self.events("apps"))
        self.assertEqual((failed[0]["level"], failed[0]["code"],
                          failed[0]["name"], failed[0]["phase"]),
                         ("error", code[0], code[1], "device_setup"))
        last = self.events("apps")[-1]
        self.assertEqual((last["eventId"], last["code"]), (1910, code[0]))
        st = self.setup_states(dev)[name]
        self.assertEqual((st["state"], st["code"]), ("failed", code[0]), st)
        return st

    # ---- the flow ----

    def test_installs_verified_content_once(self):
        dev = self.joined()
        payload = os.urandom(3 * 1024 * 1024 + 17)
        app = self.app("Contoso VPN", payload,
                       'sha256sum "$WHITEGLOVE_APP_FILE" >> %s; pwd >> %s'
                       % (self.marker, self.marker))
        # a user app of the same tag belongs to account setup, not here
        self.app("Contoso Mail", b"m" * 100, "echo user >> %s"
                 % self.marker, target="user")
        p = self.apps()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = p.stdout.decode()
        for line in ("Identifying the apps", "[1/1] Contoso VPN: "
                     "identifying", "[1/1] Contoso VPN: downloading "
                     "(%d bytes)" % len(payload), "[1/1] Contoso VPN: "
                     "installing", "[1/1] Contoso VPN: installed",
                     "Apps: 1 of 1 installed (0 by an earlier run)",
                     "Device setup: done"):
            self.assertIn(line, out)
        # the command saw the verified content, in STATE/apps
        content = os.path.join(self.apps_dir, app["sha256"])
        self.assertEqual(self.marker_lines(), [
            "%s  %s" % (app["sha256"], content),
            os.path.realpath(self.apps_dir)])
        with open(content, "rb") as f:
            self.assertEqual(f.read(), payload)
        self.assertFalse(os.path.exists(content + ".part"))
        self.assertTrue(os.path.exists(content + ".log"))
        # the server has it installed (and the user app untouched); the
        # events in order
        st = self.setup_states(dev)["Contoso VPN"]
        self.assertEqual(st["state"], "installed", st)
        self.assertNotIn("Contoso Mail", self.setup_states(dev))
        ids = [e["eventId"] for e in self.events("apps")]
        self.assertEqual(ids, [1903, 1904, 1905, 1906, 1901, 1909])
        corr = self.profile()["ZtdCorrelationId"]
        self.assertTrue(all(e["correlationId"] == corr
                            for e in self.events("apps")))
        with open(self.path("apps.json")) as f:
            kept = json.load(f)["apps"]
        self.assertEqual([(a["id"], a["state"]) for a in kept],
                         [(app["id"], "installed")])
        # a second run installs nothing again and reports nothing again
        p = self.apps()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Apps: 1 of 1 installed (1 by an earlier run)",
                      p.stdout.decode())
        self.assertEqual(len(self.marker_lines()), 2)
        self.assertEqual(self.setup_states(dev)["Contoso VPN"], st)
        self.assertEqual([e["eventId"] for e in self.events("apps")][6:],
                         [1903, 1907, 1909])

    def test_download_resumes_from_a_partial_file(self):
        dev = self.joined()
        payload = os.urandom(2 * 1024 * 1024 + 5)
        app = self.app("Contoso Agent", payload,
                       'cmp "$WHITEGLOVE_APP_FILE" %s/payload && echo ok '
                       '>> %s' % (self.workdir, self.marker))
        with open(os.path.join(self.workdir, "payload"), "wb") as f:
            f.write(payload)
        os.makedirs(self.apps_dir)
        part = os.path.join(self.apps_dir, app["sha256"] + ".part")
        half = len(payload) // 2
        # a corrupted prefix is used (so the hash fails) and deleted
        with open(part, "wb") as f:
            f.write(b"\0" * half)
        p = self.apps(tries="1")
        self.assert_app_failed(p, dev, "Contoso Agent", HASH_MISMATCH)
        self.assertFalse(os.path.exists(part))
        self.assertEqual(self.marker_lines(), [])
        resumed = [e for e in self.events("apps") if e["eventId"] == 1904]
        self.assertIn("(resumed)", resumed[0]["message"])
        # a correct prefix: only the rest comes, the result is right
        with open(part, "wb") as f:
            f.write(payload[:half])
        p = self.apps(tries="1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("resuming at byte %d" % half, p.stderr.decode())
        self.assertEqual(self.marker_lines(), ["ok"])
        self.assertEqual(self.setup_states(dev)["Contoso Agent"]["state"],
                         "installed")
        # a corrupted prefix with another try: it starts over and succeeds
        os.unlink(self.path("apps.json"))
        os.unlink(os.path.join(self.apps_dir, app["sha256"]))
        with open(part, "wb") as f:
            f.write(b"\1" * half)
        before = len(self.events("apps"))
        p = self.apps(tries="2")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.marker_lines(), ["ok", "ok"])
        tries = [e for e in self.events("apps")[before:]
                 if e["eventId"] == 1908]
        self.assertEqual([(e["level"], e["name"]) for e in tries],
                         [("warning", HASH_MISMATCH[1])])

    def test_killed_run_restarts_without_reporting_again(self):
        dev = self.joined()
        flag = os.path.join(self.workdir, "flag")
        pidfile = os.path.join(self.workdir, "sh.pid")
        # the first install hangs (the agent is killed there), the next
        # one succeeds
        self.app("Contoso Setup", os.urandom(100 * 1024),
                 'if [ -e %s ]; then echo done >> %s; else echo $$ > %s; '
                 'touch %s; sleep 300; fi'
                 % (flag, self.marker, pidfile, flag))
        env = {"WHITEGLOVE_LOG_LEVEL": "debug",
               "WHITEGLOVE_SYSFS_ROOT": self.sysfs}
        args = [AGENT, "apps", "--tcti", self.tpm.tcti, "--server",
                self.server.url, "--ca", self.server.ca, "--state-dir",
                self.agent_state, "--tries", "2", "--backoff-ms", "1",
                "--timeout", "10"]
        proc = subprocess.Popen(args, env=dict(os.environ, **env),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            end = time.monotonic() + 60
            while not os.path.exists(flag) and time.monotonic() < end:
                time.sleep(0.05)
            self.assertTrue(os.path.exists(flag))
        finally:
            proc.kill()
            proc.communicate()
        with open(pidfile) as f:
            os.killpg(int(f.read()), signal.SIGKILL)
        st = self.setup_states(dev)["Contoso Setup"]
        self.assertEqual(st["state"], "installing", st)
        before = len(self.events("apps"))
        p = self.agent("apps", env={"WHITEGLOVE_LOG_LEVEL": "debug"})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.marker_lines(), ["done"])
        err = p.stderr.decode()
        reports = [l.rsplit("reporting ", 1)[1] for l in err.splitlines()
                   if "apps: app " in l and "reporting" in l]
        self.assertEqual(reports, ["installed"], err)
        # the content was there: installed again, not downloaded again
        self.assertEqual([e["eventId"] for e in self.events("apps")
                          [before:]], [1903, 1906, 1901, 1909])
        self.assertEqual(self.setup_states(dev)["Contoso Setup"]["state"],
                         "installed")

    def via_proxy(self, mode, *extra):
        proxy = Proxy(self.server, mode)
        try:
            return run_agent([
                "apps", "--tcti", self.tpm.tcti, "--server", proxy.url,
                "--ca", self.server.ca, "--state-dir", self.agent_state,
                "--tries", "1", "--backoff-ms", "1", "--timeout", "10"] +
                list(extra), self.sysfs), proxy.ranges_dropped
        finally:
            proxy.stop()

    def test_a_200_to_a_range_starts_over(self):
        dev = self.joined()
        payload = os.urandom(1024 * 1024 + 3)
        app = self.app("Contoso Tools", payload,
                       'sha256sum "$WHITEGLOVE_APP_FILE" >> %s'
                       % self.marker)
        os.makedirs(self.apps_dir)
        with open(os.path.join(self.apps_dir, app["sha256"] + ".part"),
                  "wb") as f:
            f.write(payload[:1000])
        p, dropped = self.via_proxy("whole")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(dropped, 1)
        self.assertIn("not the range asked for", p.stderr.decode())
        self.assertEqual(self.marker_lines()[0].split()[0], app["sha256"])
        self.assertEqual(self.setup_states(dev)["Contoso Tools"]["state"],
                         "installed")

    def test_more_bytes_than_declared_are_refused(self):
        dev = self.joined()
        self.app("Contoso Padded", os.urandom(5000), "true")
        p, _ = self.via_proxy("extra")
        st = self.assert_app_failed(p, dev, "Contoso Padded", TOO_LARGE)
        self.assertIn("more than the 5000 bytes the app list declares",
                      st["message"])

    def test_install_that_fails_is_reported_with_its_code(self):
        dev = self.joined()
        self.app("A broken", b"x" * 1000, "echo 'no space left'; exit 3")
        self.app("B never", b"y" * 1000, "echo ran >> %s" % self.marker)
        p = self.apps()
        st = self.assert_app_failed(p, dev, "A broken", INSTALL_FAILED)
        self.assertIn("exited with status 3", st["message"])
        self.assertIn("no space left", st["message"])
        self.assertIn("exited with status 3", p.stderr.decode())
        # the first failure ends the phase: B was not tried
        self.assertNotIn("B never", self.setup_states(dev))
        self.assertEqual(self.marker_lines(), [])

    def test_install_past_its_timeout_is_killed_with_its_children(self):
        dev = self.joined()
        pidfile = os.path.join(self.workdir, "child.pid")
        # the child ignores SIGTERM: only the group's SIGKILL ends it
        self.app("Hangs", b"z" * 100, "(trap '' TERM; exec sleep 300) & "
                 "echo $! > %s; wait" % pidfile, timeout=2)
        t0 = time.monotonic()
        p = self.apps()
        elapsed = time.monotonic() - t0
        st = self.assert_app_failed(p, dev, "Hangs", INSTALL_TIMEOUT)
        self.assertIn("longer than 2 s", st["message"])
        with open(pidfile) as f:
            pid = int(f.read())
        self.assertFalse(alive(pid), "the install's child survived")
        self.assertLess(elapsed, 30)

    def test_deadline_shorter_than_the_work_is_esp_timeout(self):
        dev = self.joined()
        self.app("Slow", b"s" * 100, "sleep 60", timeout=600)
        t0 = time.monotonic()
        p = self.apps("--deadline-seconds", "3")
        self.assertLess(time.monotonic() - t0, 30)
        self.assert_app_failed(p, dev, "Slow", ESP_TIMEOUT)

    def test_app_larger_than_the_cap_is_refused(self):
        dev = self.joined()
        app = self.app("Huge", os.urandom(300 * 1024), "true")
        p = self.apps("--max-app-size", "100000")
        st = self.assert_app_failed(p, dev, "Huge", TOO_LARGE)
        self.assertIn("--max-app-size", st["message"])
        self.assertFalse(os.path.exists(os.path.join(
            self.apps_dir, app["sha256"] + ".part")))
        p = self.apps("--max-app-size", "0")
        self.assertEqual(p.returncode, 2, p.stderr)


if __name__ == "__main__":
    unittest.main()
