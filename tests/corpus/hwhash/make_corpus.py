#!/usr/bin/env python3
"""Writes tests/corpus/hwhash/{good,bad}/*.b64 (and bad/*.expect) from
docs/hwhash.md, with an encoder written apart from src/crypto/hwhash.c so
that the two check each other.  The EKs are the swtpm EKs in
tests/corpus/tpmpub/good.  Run it from anywhere after a format change:
    python3 tests/corpus/hwhash/make_corpus.py
Each .expect line is a piece of text the parser's message must contain.
"""

import base64
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
EKDIR = os.path.join(HERE, "..", "tpmpub", "good")


def ek(name):
    with open(os.path.join(EKDIR, name)) as f:
        return bytes.fromhex("".join(f.read().split()))


RSA_EK = ek("ek-rsa.hex")
ECC_EK = ek("ek-ecc.hex")


def rec(tag, value):
    return bytes([tag]) + struct.pack(">H", len(value)) + value


def text(tag, s):
    return rec(tag, s.encode() if isinstance(s, str) else s)


def sha_rec(ekpub):
    return rec(0x31, hashlib.sha256(ekpub[2:]).digest())


def blob(records, version=1, magic=b"WGHH"):
    return magic + bytes([version]) + b"".join(records)


def full(ekpub=RSA_EK):
    """Every record type, as the agent writes them on real hardware."""
    return [
        text(0x01, "PF3ABC12"),
        text(0x02, "Contoso Ltd"),
        text(0x03, "Surface Test 9"),
        text(0x04, "Surface"),
        text(0x05, "Surface_Test_9_1990"),
        text(0x06, "4c4c4544-0042-3510-8054-b7c04f4e3732"),
        rec(0x07, struct.pack(">q", 1767225600000)),  # 2026-01-01
        text(0x10, "S4EVNX0N123456"),
        text(0x10, "WD-WX12A3456789"),
        rec(0x11, bytes.fromhex("a0b1c2d3e4f5")),
        rec(0x11, bytes.fromhex("020000abcdef")),
        rec(0x20, b"IBM\x00"),
        text(0x21, "SW   TPM"),
        rec(0x22, struct.pack(">II", 0x20191023, 0x00163636)),
        rec(0x23, struct.pack(">II", 0, 164)),
        rec(0x30, ekpub),
        sha_rec(ekpub),
    ]


def minimal(serial="VM-0042", ekpub=RSA_EK):
    """What a container or a bare VM gives: serial and EK only."""
    return [text(0x01, serial), rec(0x30, ekpub), sha_rec(ekpub)]


def b64(data, pad=True):
    s = base64.b64encode(data).decode()
    return s if pad else s.rstrip("=")


def with_ek_change(ekpub, off, new):
    """ekpub with bytes at off (counted from the TPM2B size) replaced."""
    return ekpub[:off] + new + ekpub[off + len(new):]


def p384_ek():
    """An ECC EK public area on NIST P-384 (TCG template H-4 shape)."""
    area = (struct.pack(">HHI", 0x0023, 0x000B, 0x000300B2) +
            struct.pack(">H", 32) + ECC_EK[12:44] +
            struct.pack(">HHHHHH", 0x0006, 128, 0x0043, 0x0010, 0x0004,
                        0x0010) +
            struct.pack(">H", 48) + bytes(range(1, 49)) +
            struct.pack(">H", 48) + bytes(range(49, 97)))
    return struct.pack(">H", len(area)) + area


def rsa3072_ek():
    area = (RSA_EK[2:52] + struct.pack(">HI", 3072, 0) +
            struct.pack(">H", 384) + b"\xc3" + bytes(382) + b"\x01")
    return struct.pack(">H", len(area)) + area


def unused_bits(good):
    """good (whose last group is partial) with a last character whose
    unused low bits are set."""
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789+/")
    s = good.rstrip("=")
    assert len(s) % 4 in (2, 3)
    return s[:-1] + alphabet[alphabet.index(s[-1]) | 1]


def good_cases():
    ek_uwa = with_ek_change(RSA_EK, 6, struct.pack(">I", 0x000300F2))
    return {
        "full_rsa": b64(blob(full())),
        "full_ecc": b64(blob(full(ECC_EK))),
        "minimal_vm": b64(blob(minimal())),
        "minimal_ecc_unpadded": b64(blob(minimal("VM-1", ECC_EK)), False),
        "unpadded": b64(blob(minimal("VM-12")), False),
        "utf8_text": b64(blob([text(0x01, "ÄÖÜ-Ñ-日本-0001"),
                               text(0x02, "Société Générale")] +
                              minimal()[1:])),
        "max_disks_and_macs": b64(blob(
            [text(0x01, "MANY-1")] +
            [text(0x10, "DISK-%02d" % i) for i in range(16)] +
            [rec(0x11, bytes([2, 0, 0, 0, 0, i + 1])) for i in range(32)] +
            minimal()[1:])),
        "ignorable_record_skipped": b64(blob(minimal() +
                                             [rec(0x85, b"future")])),
        "ek_nv_template_userwithauth": b64(blob(minimal(ekpub=ek_uwa))),
        "docs_example": b64(blob([   # the example of docs/hwhash.md
            text(0x01, "PF3ABC12"), text(0x02, "Contoso"),
            rec(0x07, struct.pack(">q", 1767225600000)),
            rec(0x11, bytes.fromhex("a0b1c2d3e4f5")),
            rec(0x20, b"IBM\x00"), rec(0x23, struct.pack(">II", 0, 164)),
            rec(0x30, ECC_EK), sha_rec(ECC_EK)])),
        "longest_text": b64(blob([text(0x01, "S" * 256),
                                  text(0x21, "V" * 16)] + minimal()[1:])),
    }


def bad_cases():
    f = blob(full())
    m = minimal()
    sha = sha_rec(RSA_EK)
    cases = {
        "empty": ("", ["empty"]),
        "truncated": (b64(f[:-100]), ["record 0x30 (EK public)",
                                       "runs past the end", "truncated"]),
        "truncated_record_header": (b64(f[:6]), ["truncated record "
                                                 "header"]),
        "header_only": (b64(b"WGHH\x01"), ["record 0x01 (serial) is "
                                           "missing"]),
        "oversized_length": (b64(blob([b"\x01\xff\xffPF3"])),
                             ["record 0x01 (serial) at offset 5",
                              "length 65535 runs past the end"]),
        "unknown_version": (b64(blob(m, version=2)),
                            ["version 2 is not supported"]),
        "version_zero": (b64(blob(m, version=0)),
                         ["version 0 is not supported"]),
        "bad_magic": (b64(blob(m, magic=b"WGHX")),
                      ["not a whiteglove hardware hash"]),
        "duplicate_serial": (b64(blob([m[0], m[0]] + m[1:])),
                             ["record 0x01 (serial) at offset 15",
                              "duplicate record"]),
        "trailing_bytes": (b64(f + b"\x00"), ["trailing bytes"]),
        "trailing_record": (b64(blob(m + [text(0x02, "X")])),
                            ["trailing bytes after the EK SHA-256"]),
        "bad_sha": (b64(blob(m[:2] + [rec(0x31, bytes(32))])),
                    ["record 0x31 (EK SHA-256)", "does not match"]),
        "sha_short": (b64(blob(m[:2] + [rec(0x31, bytes(31))])),
                      ["length 31, must be 32"]),
        "ecc_p384_ek": (b64(blob(minimal(ekpub=p384_ek()))),
                        ["record 0x30 (EK public)", "curveID",
                         "not NIST P-256"]),
        "rsa3072_ek": (b64(blob(minimal(ekpub=rsa3072_ek()))),
                       ["keyBits", "3072 is not 2048"]),
        "ek_signing_key": (b64(blob(minimal(ekpub=with_ek_change(
            RSA_EK, 6, struct.pack(">I", 0x00050072))))),
            ["not an EK's"]),
        "ek_name_sha1": (b64(blob(minimal(ekpub=with_ek_change(
            RSA_EK, 4, b"\x00\x04")))), ["nameAlg", "not SHA-256"]),
        "ek_size_mismatch": (b64(blob(minimal(ekpub=b"\x01\x39" +
                                                RSA_EK[2:]))),
                             ["TPM2B_PUBLIC.size", "trailing bytes"]),
        "ek_off_curve": (b64(blob(minimal(ekpub=with_ek_change(
            ECC_EK, len(ECC_EK) - 1, bytes([ECC_EK[-1] ^ 1]))))),
            ["not on the P-256 curve"]),
        "ek_missing": (b64(blob(m[:1])), ["record 0x30 (EK public) is "
                                          "missing"]),
        "sha_missing": (b64(blob(m[:2])), ["record 0x31 (EK SHA-256) is "
                                           "missing"]),
        "serial_missing": (b64(blob(m[1:])), ["record 0x01 (serial) is "
                                              "missing"]),
        "sha_without_ek": (b64(blob([m[0], sha])),
                           ["no EK public record"]),
        "zero_length_serial": (b64(blob([rec(0x01, b"")] + m[1:])),
                               ["record 0x01 (serial)", "length 0"]),
        "serial_too_long": (b64(blob([text(0x01, "S" * 257)] + m[1:])),
                            ["length 257 is over the 256-byte limit"]),
        "vendor_too_long": (b64(blob([m[0], text(0x21, "V" * 17)] +
                                     m[1:])),
                            ["record 0x21 (TPM vendor)", "16-byte limit"]),
        "non_utf8_text": (b64(blob([m[0], text(0x03, b"Model \xff")] +
                                   m[1:])),
                          ["record 0x03 (model) at offset 15",
                           "not printable UTF-8"]),
        "overlong_utf8": (b64(blob([m[0], text(0x02, b"\xc0\xaf")] +
                                   m[1:])), ["not printable UTF-8"]),
        "escape_in_text": (b64(blob([m[0], text(0x02, b"\x1b[31mRed")] +
                                    m[1:])), ["not printable"]),
        "nul_in_text": (b64(blob([text(0x01, b"AB\x00CD")] + m[1:])),
                        ["NUL byte"]),
        "too_many_macs": (b64(blob(
            [m[0]] + [rec(0x11, bytes([2, 0, 0, 0, 1, i])) for i in
                      range(33)] + m[1:])),
            ["record 0x11 (MAC)", "more than 32 records"]),
        "too_many_disks": (b64(blob(
            [m[0]] + [text(0x10, "D%d" % i) for i in range(17)] + m[1:])),
            ["record 0x10 (disk serial)", "more than 16 records"]),
        "zero_mac": (b64(blob([m[0], rec(0x11, bytes(6))] + m[1:])),
                     ["00:00:00:00:00:00"]),
        "duplicate_mac": (b64(blob([m[0]] + [rec(0x11, b"\x02abcde")] * 2 +
                                   m[1:])), ["MAC appears twice"]),
        "mac_short": (b64(blob([m[0], rec(0x11, b"\x02abcd")] + m[1:])),
                      ["record 0x11 (MAC)", "length 5, must be 6"]),
        "out_of_order": (b64(blob([m[0], text(0x03, "M"), text(0x02, "C")] +
                                  m[1:])),
                         ["record 0x02 (manufacturer)", "out of order"]),
        "unknown_critical_tag": (b64(blob([m[0], rec(0x40, b"x")] +
                                          m[1:])),
                                 ["record 0x40", "unknown tag"]),
        "created_zero": (b64(blob([m[0], rec(0x07, bytes(8))] + m[1:])),
                         ["record 0x07 (creation time)"]),
        "created_negative": (b64(blob([m[0], rec(0x07, b"\xff" * 8)] +
                                      m[1:])),
                             ["record 0x07 (creation time)", "-1 ms"]),
        "tpm_manufacturer_zero": (b64(blob([m[0], rec(0x20, bytes(4))] +
                                           m[1:])),
                                  ["record 0x20 (TPM manufacturer)"]),
        "tpm_spec_revision_zero": (b64(blob([m[0], rec(0x23, bytes(8))] +
                                            m[1:])),
                                   ["record 0x23 (TPM spec)",
                                    "revision 0"]),
        "blob_too_large": (b64(blob(m + [rec(0x85, bytes(
            8200 - len(blob(m)) - 3))])), ["8200 bytes",
                                           "over the 8192-byte limit"]),
        "base64_too_long": ("QUFB" * 2751, ["over the 11000-character "
                                            "limit"]),
    }
    good = b64(blob(m))
    cases.update({
        "non_base64": (good[:20] + "*" + good[21:],
                       ["character 0x2a ('*') at offset 20",
                        "not in the base64 alphabet"]),
        "space_inside": (good[:40] + " " + good[40:],
                         ["character 0x20 at offset 40"]),
        "base64url_alphabet": (good[:8] + "-" + good[9:],
                               ["'-'", "not in the base64 alphabet"]),
        "padding_inside": (good[:12] + "=" + good[13:],
                           ["'=' inside the text"]),
        "too_much_padding": ("QQ===", ["padding"]),
        "lone_last_char": (good.rstrip("=") + "QUFBQ"[:(1 - len(
            good.rstrip("="))) % 4], ["cannot be base64"]),
        "unused_bits_set": (unused_bits(b64(blob(minimal("VM-00421")))),
                            ["unused bits"]),
    })
    return cases


def write(path, data):
    with open(path, "w", encoding="utf-8") as f:
        f.write(data + "\n")


def main():
    for name, text_ in good_cases().items():
        write(os.path.join(HERE, "good", name + ".b64"), text_)
    for name, (text_, words) in bad_cases().items():
        write(os.path.join(HERE, "bad", name + ".b64"), text_)
        write(os.path.join(HERE, "bad", name + ".expect"),
              "\n".join(words))


if __name__ == "__main__":
    main()
