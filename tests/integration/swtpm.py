"""A software TPM (swtpm) for integration tests, and the agent run against
it with a fake sysfs tree (stdlib only).

    with Swtpm() as tpm:
        doc = agent_hash_json(tpm.tcti, serial="PF3ABC12")
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

AGENT = os.environ.get("WG_AGENT_BIN", "build/src/agent/whiteglove-agent")


def have_swtpm():
    return shutil.which("swtpm") is not None


def _port_pair():
    """Two consecutive free loopback ports (server, control)."""
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port >= 65535:
            continue
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        finally:
            t.close()
        return port
    raise RuntimeError("no two consecutive free ports")


class Swtpm:
    """swtpm on loopback with a fresh state directory, removed at stop()."""

    def __init__(self, ek_cert=False):
        """ek_cert: set the TPM up as a discrete TPM leaves the factory,
        with swtpm_setup: an RSA EK and its certificate in NV, signed by a
        local CA of its own (swtpm_localca, in ca_dir: its certificates
        are the "manufacturer" roots to trust)."""
        self.proc = None
        self.port = None
        self.state = None
        self.ek_cert = ek_cert
        self.ca_dir = None
        self.tpm_state = None

    @property
    def tcti(self):
        """The TCTI loader string the agent takes (--tcti)."""
        return "swtpm:host=127.0.0.1,port=%d" % self.port

    def tools_env(self):
        """An environment for tpm2-tools against this TPM."""
        env = dict(os.environ)
        env["TPM2TOOLS_TCTI"] = "swtpm:port=%d" % self.port
        return env

    def tools(self, *args, check=True):
        """Runs a tpm2-tools command (e.g. "tpm2_getcap", ...)."""
        return subprocess.run(list(args), env=self.tools_env(),
                              capture_output=True, check=check, timeout=60)

    def start(self, tries=5):
        self.state = os.path.abspath(tempfile.mkdtemp(prefix="wg-swtpm-"))
        if self.ek_cert:
            self._manufacture()
        for _ in range(tries):
            self.port = _port_pair()
            self.proc = subprocess.Popen(
                ["swtpm", "socket", "--tpm2",
                 "--tpmstate", "dir=%s" % (self.tpm_state or self.state),
                 "--server", "type=tcp,port=%d" % self.port,
                 "--ctrl", "type=tcp,port=%d" % (self.port + 1),
                 "--flags", "not-need-init,startup-clear"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_accepting():
                return self
            self._kill()  # lost a race for the ports: try others
        self.stop()
        raise RuntimeError("swtpm did not start")

    def _manufacture(self):
        """swtpm_setup with a private swtpm_localca (never the system's)."""
        base = os.path.join(self.state, "setup")
        self.ca_dir = os.path.join(base, "ca")
        tpm_state = os.path.join(base, "tpm")
        os.makedirs(self.ca_dir)
        os.makedirs(tpm_state)
        _put(base, "localca.options", "--platform-manufacturer whiteglove\n"
             "--platform-version 2.1\n--platform-model test\n")
        _put(base, "localca.conf", "statedir = %s\nsigningkey = %s/signkey"
             ".pem\nissuercert = %s/issuercert.pem\ncertserial = %s/"
             "certserial\n" % ((self.ca_dir,) * 4))
        _put(base, "setup.conf", "create_certs_tool = swtpm_localca\n"
             "create_certs_tool_config = %s/localca.conf\n"
             "create_certs_tool_options = %s/localca.options\n"
             "active_pcr_banks = sha256\n" % (base, base))
        subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", tpm_state,
                        "--create-ek-cert", "--config",
                        base + "/setup.conf", "--logfile",
                        base + "/setup.log"],
                       check=True, capture_output=True, timeout=120)
        self.tpm_state = tpm_state

    def _wait_accepting(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        self.proc = None

    def power_cycle(self):
        """Turns the TPM off and on through swtpm's control channel (its
        CMD_INIT: the power-on a TPM sees at boot), then TPM2_Startup
        (CLEAR), as firmware does: a TPM Reset, so resetCount moves by
        one.  Transient objects and sessions are gone after it."""
        subprocess.run(["swtpm_ioctl", "--tcp", "127.0.0.1:%d"
                        % (self.port + 1), "-i"], check=True,
                       capture_output=True, timeout=30)
        self.tools("tpm2_startup", "-c")

    def stop(self):
        self._kill()
        if self.state:
            shutil.rmtree(self.state, ignore_errors=True)
            self.state = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _put(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def fake_sysfs(root, serial=None, manufacturer=None, model=None,
               mac="52:54:00:12:34:56", disk_serial="WG-DISK-0001"):
    """A sysfs tree under root: the DMI strings given (None: absent), one
    physical NIC, one virtual NIC, one NVMe disk and one loop device."""
    dmi = {"product_serial": serial, "sys_vendor": manufacturer,
           "product_name": model}
    for name, value in dmi.items():
        if value is not None:
            _put(root, "class/dmi/id/" + name, value + "\n")
    if mac:
        _put(root, "class/net/eth0/address", mac + "\n")
        os.makedirs(os.path.join(root, "class/net/eth0/device"),
                    exist_ok=True)
    _put(root, "class/net/docker0/address", "02:42:ac:11:00:01\n")
    _put(root, "class/net/lo/address", "00:00:00:00:00:00\n")
    if disk_serial:
        _put(root, "block/nvme0n1/device/serial", disk_serial + "\n")
        _put(root, "block/nvme0n1/removable", "0\n")
    _put(root, "block/loop0/removable", "0\n")
    return root


def run_agent(args, sysfs_root, env=None):
    """Runs whiteglove-agent with WHITEGLOVE_SYSFS_ROOT set."""
    e = dict(os.environ)
    e.pop("WHITEGLOVE_TCTI", None)
    e.update(env or {})
    e["WHITEGLOVE_SYSFS_ROOT"] = sysfs_root
    return subprocess.run([AGENT] + list(args), env=e, capture_output=True,
                          timeout=120)


def agent_hash_json(tcti, serial="WG-TEST-0001", manufacturer="Contoso",
                    model="Surface Test 1", extra=(), sysfs_root=None):
    """`whiteglove-agent hash --json --tcti TCTI` against a fake sysfs
    tree with these SMBIOS values; returns the parsed JSON (raises with
    the agent's stderr if it failed)."""
    tmp = None
    if sysfs_root is None:
        tmp = tempfile.mkdtemp(prefix="wg-sysfs-")
        sysfs_root = fake_sysfs(tmp, serial, manufacturer, model)
    try:
        p = run_agent(["hash", "--json", "--tcti", tcti] + list(extra),
                      sysfs_root)
        if p.returncode != 0:
            raise RuntimeError("whiteglove-agent hash failed (%d): %s"
                               % (p.returncode, p.stderr.decode()))
        return json.loads(p.stdout)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def activate_credential(tpm, d, ak_ctx, ek_ctx, blob_b64, secret_b64):
    """tpm2_activatecredential (an independent client) on a credential a
    whiteglove service made (base64 TPM2B_ID_OBJECT and
    TPM2B_ENCRYPTED_SECRET), with the EK's policy session; the opened
    secret goes to d/secret.  Returns tpm2_activatecredential's result."""
    import base64
    with open(d + "/cred.in", "wb") as f:
        f.write(b"\xba\xdc\xc0\xde\x00\x00\x00\x01" +
                base64.b64decode(blob_b64) + base64.b64decode(secret_b64))
    tpm.tools("tpm2_startauthsession", "--policy-session", "-S",
              d + "/s.ctx")
    tpm.tools("tpm2_policysecret", "-S", d + "/s.ctx", "-c", "e")
    p = tpm.tools("tpm2_activatecredential", "-c", ak_ctx, "-C", ek_ctx,
                  "-i", d + "/cred.in", "-o", d + "/secret", "-P",
                  "session:" + d + "/s.ctx", check=False)
    tpm.tools("tpm2_flushcontext", d + "/s.ctx", check=False)
    tpm.tools("tpm2_flushcontext", "-t", check=False)
    return p
