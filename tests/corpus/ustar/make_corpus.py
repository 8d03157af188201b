#!/usr/bin/env python3
"""Writes tests/corpus/ustar: .tar.gz files for the bundle reader
(src/common/ustar.c).  good/ must be read; bad/NAME.tar.gz must be
refused with the words of bad/NAME.expect.  Run from this folder."""

import gzip
import io
import os
import tarfile

EVENT = (b'{"time":"2026-01-10T10:00:00.000Z","channel":"tpm","eventId":1105,'
         b'"level":"error","correlationId":null,"phase":"securing_hardware",'
         b'"code":"0x81039024","name":"E_AUTOPILOT_CLIENT_TPM_VULNERABLE",'
         b'"message":"revoked","details":{}}\n')


def tar(members, fmt=tarfile.USTAR_FORMAT):
    """members: (name, type, data) with type tarfile.REGTYPE, DIRTYPE..."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mtime = 1700000000
            if kind == tarfile.SYMTYPE:
                info.linkname = "/etc/shadow"
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)
    return buf.getvalue()


def put(path, data, expect=None, gz=True):
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if gz else data)
    if expect:
        with open(path[:-len(".tar.gz")] + ".expect", "w") as f:
            f.write(expect + "\n")


def main():
    os.makedirs("good", exist_ok=True)
    os.makedirs("bad", exist_ok=True)
    top = "whiteglove-diag-dev-20260110T100000Z/"
    bundle = [(top + "events/tpm.jsonl", tarfile.REGTYPE, EVENT),
              (top + "manifest.json", tarfile.REGTYPE, b'{"hostname":"dev"}')]
    put("good/bundle.tar.gz", tar(bundle))
    put("good/gnu-with-folders.tar.gz",
        tar([(top, tarfile.DIRTYPE, b""), (top + "events", tarfile.DIRTYPE,
              b"")] + bundle, tarfile.GNU_FORMAT))
    put("good/long-name.tar.gz",
        tar([(top + "apps/" + "a" * 90 + ".log", tarfile.REGTYPE, b"x")]))
    put("good/empty.tar.gz", b"\0" * 1024)
    put("bad/traversal.tar.gz",
        tar([("../../etc/cron.d/x", tarfile.REGTYPE, b"x")]),
        "not a relative name")
    put("bad/absolute.tar.gz", tar([("/etc/passwd", tarfile.REGTYPE,
                                     b"x")]), "not a relative name")
    put("bad/symlink.tar.gz", tar([(top + "l", tarfile.SYMTYPE, b"")]),
        "is not a regular file or a folder")
    put("bad/pax.tar.gz",
        tar([(top + "é" * 60, tarfile.REGTYPE, b"x")], tarfile.PAX_FORMAT),
        "type 'x'")
    full = tar(bundle)
    put("bad/cut-short.tar.gz", full[:700], "cut short")
    put("bad/no-end.tar.gz", full[:1536], "cut short")
    put("bad/one-zero-block.tar.gz", full[:2560], "one zero block")
    put("bad/plain-tar.tar.gz", full, "not a gzip file", gz=False)
    put("bad/duplicate.tar.gz",
        tar(bundle + [(top + "manifest.json", tarfile.REGTYPE, b"{}")]),
        "twice")
    damaged = bytearray(full)
    damaged[148] ^= 1  # the first header's checksum field
    put("bad/checksum.tar.gz", bytes(damaged), "checksum")
    gz = bytearray(gzip.compress(full, mtime=0))
    gz[len(gz) // 2] ^= 0xff
    with open("bad/damaged-gzip.tar.gz", "wb") as f:
        f.write(bytes(gz))
    with open("bad/damaged-gzip.expect", "w") as f:
        f.write("gzip stream is damaged\n")


if __name__ == "__main__":
    main()
