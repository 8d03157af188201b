"""whiteglove-agent hash against swtpm (step 0, hash collection): the EK
is the TCG default one tpm2-tools makes, NV templates and persistent EKs
are honoured, nothing is invented, no transient object is left behind.

Run: WG_BIN=build/src/cli/whiteglove \\
     WG_AGENT_BIN=build/src/agent/whiteglove-agent \\
     python3 -m unittest discover -s tests/integration -p 'test_agent*.py'
"""

import base64
import csv
import io
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

from swtpm import (AGENT, Swtpm, _port_pair, agent_hash_json, fake_sysfs,
                   have_swtpm, run_agent)

WHITEGLOVE = os.environ.get("WG_BIN", "build/src/cli/whiteglove")
CSV_HEADER = ["Device Serial Number", "Windows Product ID", "Hardware Hash",
              "Group Tag", "Assigned User"]
JSON_KEYS = {"serialNumber", "productKey", "hardwareIdentifier", "groupTag",
             "assignedUserPrincipalName", "missing"}
# PolicySecret(TPM_RH_ENDORSEMENT), the TCG EK templates' authPolicy.
EK_POLICY = bytes.fromhex("837197674484B3F81A90CC8D46A5D724"
                          "FD52D76E06520B64F2A1DA1B331469AA")
EK_ATTRS = "fixedtpm|fixedparent|sensitivedataorigin|adminwithpolicy|" \
           "restricted|decrypt"


def rsa_template(attrs):
    """A marshalled TPMT_PUBLIC like L-1 with these TPMA_OBJECT bits."""
    return (struct.pack(">HHI", 0x0001, 0x000B, attrs) +
            struct.pack(">H", 32) + EK_POLICY +
            struct.pack(">HHHHHI", 0x0006, 128, 0x0043, 0x0010, 2048, 0) +
            struct.pack(">H", 256) + bytes(256))


class TpmCase(unittest.TestCase):
    """Reference values from tpm2-tools for the agent's output; self.tmp
    is a scratch directory."""

    tmp = None

    def tools_ek(self, tpm, alg):
        """The EK public tpm2_createek makes (TPM2B_PUBLIC bytes)."""
        out = os.path.join(self.tmp, "ek-%s.pub" % alg)
        tpm.tools("tpm2_createek", "-G", alg, "-u", out, "-c",
                  os.path.join(self.tmp, "ek.ctx"))
        tpm.tools("tpm2_flushcontext", "-t")  # tpm2-tools leaves it loaded
        with open(out, "rb") as f:
            return f.read()

    def tools_primary(self, tpm, attrs, unique):
        """The public of an endorsement primary key, RSA 2048 AES-128-CFB
        with the EK policy, attributes and unique field given."""
        pol = os.path.join(self.tmp, "policy.bin")
        uniq = os.path.join(self.tmp, "unique.bin")
        out = os.path.join(self.tmp, "primary.pub")
        ctx = os.path.join(self.tmp, "primary.ctx")
        with open(pol, "wb") as f:
            f.write(EK_POLICY)
        with open(uniq, "wb") as f:  # tpm2-tools: length little-endian
            f.write(struct.pack("<H", len(unique)) + unique)
        tpm.tools("tpm2_createprimary", "-C", "e", "-g", "sha256", "-G",
                  "rsa2048:null:aes128cfb", "-a", attrs, "-L", pol, "-u",
                  uniq, "-c", ctx)
        tpm.tools("tpm2_readpublic", "-c", ctx, "-o", out)
        tpm.tools("tpm2_flushcontext", "-t")
        with open(out, "rb") as f:
            return f.read()

    def transients(self, tpm):
        return tpm.tools("tpm2_getcap",
                         "handles-transient").stdout.decode().strip()

    def decode(self, b64):
        """`whiteglove hash decode` of a hash, as text."""
        p = subprocess.run([WHITEGLOVE, "hash", "decode", "--json", b64],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, "whiteglove hash decode failed "
                         "(is it implemented?): %s" % p.stderr.decode())
        return p.stdout.decode()

    def hash_bytes(self, doc):
        return base64.b64decode(doc["hardwareIdentifier"], validate=True)


class AgentHashTest(TpmCase):
    tpm = None

    @classmethod
    def setUpClass(cls):
        if not have_swtpm():
            raise unittest.SkipTest("swtpm is not installed")
        if not os.access(AGENT, os.X_OK):
            raise AssertionError("no agent binary at %s (WG_AGENT_BIN)"
                                 % AGENT)
        cls.tpm = Swtpm().start()

    @classmethod
    def tearDownClass(cls):
        if cls.tpm:
            cls.tpm.stop()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wg-agent-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sysfs(self, name="sys", **kw):
        return fake_sysfs(os.path.join(self.tmp, name), **kw)

    def test_json_hash_decodes(self):
        doc = agent_hash_json(self.tpm.tcti, serial="PF3ABC12",
                              manufacturer="Contoso Ltd",
                              model="Surface Test 9")
        self.assertEqual(set(doc), JSON_KEYS)
        self.assertEqual(doc["serialNumber"], "PF3ABC12")
        self.assertEqual(doc["productKey"], "")
        self.assertEqual(doc["groupTag"], "")
        self.assertEqual(doc["assignedUserPrincipalName"], "")
        text = self.decode(doc["hardwareIdentifier"])
        for want in ("PF3ABC12", "Contoso Ltd", "Surface Test 9",
                     "WG-DISK-0001"):
            self.assertIn(want, text)
        # swtpm's TPM_PT_MANUFACTURER is 0x49424D00 ("IBM" + NUL).
        self.assertIn("IBM", text)

    def test_rsa_ek_is_the_tcg_default(self):
        ek = self.tools_ek(self.tpm, "rsa")
        self.assertEqual(len(ek), 2 + 0x13A)  # RSA 2048 TPM2B_PUBLIC
        doc = agent_hash_json(self.tpm.tcti)
        self.assertIn(ek, self.hash_bytes(doc))
        doc2 = agent_hash_json(self.tpm.tcti, extra=["--ek-alg", "rsa"])
        self.assertIn(ek, self.hash_bytes(doc2))  # same EK twice
        self.assertEqual(self.transients(self.tpm), "")

    def test_ecc_ek_is_the_tcg_default(self):
        ek = self.tools_ek(self.tpm, "ecc")
        doc = agent_hash_json(self.tpm.tcti, extra=["--ek-alg", "ecc"])
        self.assertIn(ek, self.hash_bytes(doc))
        self.assertNotIn(self.tools_ek(self.tpm, "rsa"),
                         self.hash_bytes(doc))
        self.assertEqual(self.transients(self.tpm), "")

    def test_csv_has_header_and_one_quoted_row(self):
        p = run_agent(["hash", "--tcti", self.tpm.tcti, "--group-tag",
                       'Kiosk, "Lobby"', "--user", "ana@contoso.test"],
                      self.sysfs(serial="PF3,ABC", manufacturer="Contoso",
                                 model="M1"))
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        text = p.stdout.decode()
        self.assertTrue(text.startswith(",".join(CSV_HEADER) + "\n"))
        self.assertIn('"PF3,ABC"', text)
        self.assertIn('"Kiosk, ""Lobby"""', text)
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0], CSV_HEADER)
        serial, pkey, hw, tag, user = rows[1]
        self.assertEqual((serial, pkey, tag, user),
                         ("PF3,ABC", "", 'Kiosk, "Lobby"',
                          "ana@contoso.test"))
        self.assertIn("PF3,ABC", self.decode(hw))

    def test_missing_smbios_fields_are_reported_not_invented(self):
        root = self.sysfs(serial="PF3ABC12", manufacturer=None, model=None)
        with open(os.path.join(root, "class/dmi/id/product_sku"), "w") as f:
            f.write("To Be Filled By O.E.M.\n")
        doc = agent_hash_json(self.tpm.tcti, sysfs_root=root)
        missing = {m["field"]: m["reason"] for m in doc["missing"]}
        for field in ("sys_vendor", "product_name", "product_family",
                      "product_uuid"):
            self.assertIn("not reported", missing[field])
        self.assertIn("placeholder", missing["product_sku"])
        self.assertNotIn("product_serial", missing)
        text = self.decode(doc["hardwareIdentifier"])
        self.assertNotIn("O.E.M", text)
        p = run_agent(["hash", "--tcti", self.tpm.tcti], root)
        self.assertEqual(p.returncode, 0)
        self.assertIn("warning: sys_vendor missing: not reported",
                      p.stderr.decode())

    def test_no_serial_fails_with_803(self):
        p = run_agent(["hash", "--tcti", self.tpm.tcti],
                      self.sysfs(serial="System Serial Number",
                                 manufacturer="Contoso", model="M1"))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, b"")
        err = p.stderr.decode()
        self.assertIn("803 MissingZtdSerialNumberAndProductKey", err)
        self.assertIn("--serial", err)

    def test_serial_option_only_when_firmware_has_none(self):
        doc = agent_hash_json(self.tpm.tcti, serial=None,
                              extra=["--serial", "VM-0042"])
        self.assertEqual(doc["serialNumber"], "VM-0042")
        self.assertIn("product_serial",
                      [m["field"] for m in doc["missing"]])
        self.assertIn("VM-0042", self.decode(doc["hardwareIdentifier"]))
        p = run_agent(["hash", "--tcti", self.tpm.tcti, "--serial",
                       "VM-0042"], self.sysfs(serial="PF3ABC12"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("reports 'PF3ABC12'", p.stderr.decode())

    def test_no_tpm_is_a_plain_catalog_error(self):
        closed = "swtpm:host=127.0.0.1,port=%d" % _port_pair()
        p = run_agent(["hash", "--tcti", closed],
                      self.sysfs(serial="PF3ABC12"))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, b"")
        err = p.stderr.decode()
        self.assertIn("0xA0570401 WG_E_TPM_UNAVAILABLE", err)
        self.assertIn("cannot open the TPM", err)
        self.assertNotIn("ERROR:", err)  # the TSS's own log stays quiet
        self.assertNotIn("WARNING:", err)

    def test_options_and_help(self):
        root = self.sysfs(serial="PF3ABC12")
        for args in (["help"], ["hash", "--help"], ["help", "hash"],
                     ["version", "--help"], ["--help"]):
            p = run_agent(args, root)
            self.assertEqual(p.returncode, 0, args)
            self.assertIn(b"usage: whiteglove-agent", p.stdout)
        for args in (["hash", "--ek-alg", "dsa"], ["hash", "--bogus"],
                     ["hash", "--user", "not-an-upn"], ["nosuch"],
                     ["hash", "--serial", "To Be Filled By O.E.M."]):
            p = run_agent(args, root)
            self.assertEqual(p.returncode, 2, args)


class AgentEkSourcesTest(TpmCase):
    """EKs that do not come from the default template: a template (and
    nonce) the platform put in NV, a persistent EK, a foreign key at the
    EK's handle.  One fresh TPM per test."""

    def setUp(self):
        if not have_swtpm():
            raise unittest.SkipTest("swtpm is not installed")
        self.tpm = Swtpm().start()
        self.tmp = tempfile.mkdtemp(prefix="wg-agent-ek-")

    def tearDown(self):
        self.tpm.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def nv_write(self, index, data):
        path = os.path.join(self.tmp, "nv.bin")
        with open(path, "wb") as f:
            f.write(data)
        self.tpm.tools("tpm2_nvdefine", "-C", "o", "-s", str(len(data)),
                       "-a", "ownerread|ownerwrite|authread|authwrite",
                       index)
        self.tpm.tools("tpm2_nvwrite", "-C", "o", "-i", path, index)

    def test_nv_template_and_nonce_are_honoured(self):
        # L-1 plus userWithAuth, as some platforms provision.
        attrs = 0x000300B2 | 0x40
        self.nv_write("0x01c00004", rsa_template(attrs))
        want = self.tools_primary(self.tpm, EK_ATTRS + "|userwithauth",
                                  bytes(256))
        got = self.hash_bytes(agent_hash_json(self.tpm.tcti))
        self.assertIn(want, got)
        self.assertNotIn(self.tools_ek(self.tpm, "rsa"), got)
        # The nonce goes into unique, zero-padded to 256 bytes (EK
        # Credential Profile 2.2.1.5).  tpm2_createek -t is not the
        # reference here: 5.4 copies the nonce pointer, not the nonce.
        self.nv_write("0x01c00003", b"NONCE123")
        want = self.tools_primary(self.tpm, EK_ATTRS + "|userwithauth",
                                  b"NONCE123" + bytes(248))
        self.assertIn(want, self.hash_bytes(agent_hash_json(self.tpm.tcti)))
        self.assertEqual(self.transients(self.tpm), "")

    def test_persistent_ek_is_read_and_foreign_key_ignored(self):
        ek = os.path.join(self.tmp, "ek.pub")
        self.tpm.tools("tpm2_createek", "-G", "rsa", "-u", ek, "-c",
                       "0x81010001")
        with open(ek, "rb") as f:
            want = f.read()
        self.assertIn(want, self.hash_bytes(agent_hash_json(self.tpm.tcti)))
        # A storage key where the ECC EK belongs is not taken for the EK.
        ctx = os.path.join(self.tmp, "k.ctx")
        self.tpm.tools("tpm2_createprimary", "-C", "o", "-G", "ecc256",
                       "-c", ctx)
        self.tpm.tools("tpm2_evictcontrol", "-C", "o", "-c", ctx,
                       "0x81010002")
        self.tpm.tools("tpm2_flushcontext", "-t")
        got = self.hash_bytes(agent_hash_json(self.tpm.tcti,
                                              extra=["--ek-alg", "ecc"]))
        self.assertIn(self.tools_ek(self.tpm, "ecc"), got)
        self.assertEqual(self.transients(self.tpm), "")


if __name__ == "__main__":
    unittest.main()
