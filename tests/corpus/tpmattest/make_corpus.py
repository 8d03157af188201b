#!/usr/bin/env python3
"""Writes tests/corpus/tpmattest/bad/*.hex and bad/*.expect from the
swtpm attestations in good/ (see README), each with one thing broken.
Run it from anywhere after the good files change:
    python3 tests/corpus/tpmattest/make_corpus.py
Each .expect line is a piece of text the message must contain.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    """(TPM2B_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE) of good/NAME.hex."""
    with open(os.path.join(HERE, "good", name + ".hex")) as f:
        b = bytes.fromhex("".join(f.read().split()))
    n = 2 + struct.unpack(">H", b[:2])[0]
    m = n + 2 + struct.unpack(">H", b[n:n + 2])[0]
    return b[:n], b[n + 2:m], b[m:]


def put(buf, off, data):
    return buf[:off] + data + buf[off + len(data):]


def hexlines(b):
    h = b.hex()
    return "".join(h[i:i + 64] + "\n" for i in range(0, len(h), 64))


def write(name, parts, expect):
    pub, att, sig = parts
    text = (hexlines(pub) + "\n" + "%04x\n" % len(att) + hexlines(att) +
            "\n" + hexlines(sig))
    with open(os.path.join(HERE, "bad", name + ".hex"), "w") as f:
        f.write(text)
    with open(os.path.join(HERE, "bad", name + ".expect"), "w") as f:
        f.write(expect + "\n")


def main():
    os.makedirs(os.path.join(HERE, "bad"), exist_ok=True)
    pub, att, sig = load("quote-rsa")
    epub, eatt, esig = load("quote-ecc")
    cpub, catt, csig = load("certify-rsa")
    # offsets in the TPMS_ATTEST of the swtpm quotes (34-byte signer)
    o_extra = 6 + 36
    o_clock = o_extra + 2 + struct.unpack(">H", att[o_extra:o_extra + 2])[0]
    o_safe = o_clock + 16
    o_quote = o_safe + 1 + 8
    e_extra = 6 + 36
    e_quote = e_extra + 2 + 2 + 17 + 8

    write("magic", (pub, put(att, 0, b"\xff\x54\x43\x48"), sig),
          "TPMS_ATTEST.magic: 0xff544348 at offset 2")
    write("type_time", (pub, put(att, 4, b"\x80\x19"), sig),
          "TPM_ST_ATTEST_TIME (0x8019) at offset 6 is refused")
    write("type_unknown", (pub, put(att, 4, b"\x12\x34"), sig),
          "0x1234 at offset 6 is not an attestation type")
    write("signer_oversize", (pub, put(att, 6, b"\x00\x43"), sig),
          "TPMS_ATTEST.qualifiedSigner: size 67 at offset 8 is over the cap")
    write("signer_not_name", (pub, put(att, 8, b"\x00\x04"), sig),
          "qualifiedSigner: the 34 bytes at offset 10 are not a name")
    write("extra_oversize", (pub, put(att, o_extra, b"\xff\xff"), sig),
          "TPMS_ATTEST.extraData: size 65535")
    write("safe2", (pub, put(att, o_safe, b"\x02"), sig),
          "clockInfo.safe: 2 at offset")
    write("banks5", (pub, put(att, o_quote, b"\x00\x00\x00\x05"), sig),
          "pcrSelect.count: 5 banks")
    write("select5", (pub, put(att, o_quote + 6, b"\x05"), sig),
          "pcrSelections[0].sizeofSelect: 5")
    write("bank_sm3", (pub, put(att, o_quote + 4, b"\x00\x12"), sig),
          "pcrSelections[0].hash: 0x0012")
    write("bank_repeated", (epub, put(eatt, e_quote + 10, b"\x00\x0b"),
                            esig),
          "repeats pcrSelections[0]")
    write("digest_past_end", (pub, put(att, len(att) - 34, b"\x00\x40"),
                              sig),
          "pcrDigest: truncated at offset")
    write("trailing", (pub, att + b"\x00", sig),
          "1 bytes follow the attestation")
    write("truncated", (pub, att[:60], sig), "truncated at offset")
    write("sig_flipped", (pub, put(att, o_clock + 7,
                                   bytes([att[o_clock + 7] ^ 1])), sig),
          "does not verify")
    write("sig_swapped", (pub, att, csig), "does not verify")
    write("sig_sha1", (pub, att, put(sig, 2, b"\x00\x04")),
          "hash: sha1 (0x0004) at offset 2 is not the hash of the key's")
    write("sig_rsapss", (pub, att, put(sig, 0, b"\x00\x16")),
          "sigAlg: rsapss (0x0016) at offset 0 is not the key's own "
          "scheme rsassa")
    write("sig_ecdsa_rsa_key", (cpub, catt, esig),
          "sigAlg: ecdsa (0x0018) at offset 0 is not the key's own")
    write("sig_trailing", (pub, att, sig + b"\x00"),
          "1 bytes follow the signature")
    write("sig_short", (pub, att, b"\x00\x14\x00\x0b\x00\xff" + sig[7:]),
          "255 bytes at offset 4, not the key's modulus size 256")
    write("sig_truncated", (pub, att, sig[:-1]), "truncated at offset 6")
    write("sig_r_empty", (epub, eatt, esig[:4] + b"\x00\x00" + esig[38:]),
          "signatureR: empty at offset 4")
    write("sig_r_33", (epub, eatt, put(esig, 4, b"\x00\x21")),
          "signatureR: size 33 at offset 4 is over the cap of 32")


if __name__ == "__main__":
    main()
