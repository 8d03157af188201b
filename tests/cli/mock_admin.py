#!/usr/bin/env python3
"""A stand-in for the admin API's import and device endpoints, as their
contract says they answer (docs/api.md), so that test_import.sh can run
`whiteglove import`, `devices` and `device` against something that
behaves.  It is not the server: it only answers what the tests ask.

usage: mock_admin.py DIR   (writes DIR/port once listening, and for each
CSV upload DIR/upload.{body,meta}: the bytes received and how they came)
"""
import csv
import io
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DIR = sys.argv[1]
TOKEN = "k"
IMPORT = {}       # the one import the tests make, "imp1"
ROWS = []         # its rows: dicts as the rows endpoint returns them
DEVICES = {
    "d%d" % i: {
        "id": "d%d" % i, "serialNumber": ("PF" if i % 2 else "SN") + str(i),
        "manufacturer": "Contoso", "model": "Laptop 7", "groupTag": None,
        "assignedUserPrincipalName": None, "enrollmentState": "notContacted",
        "ztdId": "z%d" % i, "directoryDeviceId": "o%d" % i, "enabled": False,
        "lastContacted": None, "importId": "imp1",
        "createdAt": "2026-01-01T00:00:00.000Z"}
    for i in range(1, 6)}


def new_import(source):
    return {"id": "imp1", "status": "unknown", "source": source,
            "totalCount": 0, "importedCount": 0, "failedCount": 0,
            "createdAt": "2026-01-01T00:00:00.000Z", "completedAt": None}


def row_state(n, serial):
    dup = serial.startswith("DUP")
    return {"rowNumber": n, "serialNumber": serial, "productKey": "",
            "groupTag": "", "assignedUserPrincipalName": "",
            "state": {"deviceImportStatus": "error" if dup else "complete",
                      "deviceRegistrationId": None if dup else "z-" + serial,
                      "deviceErrorCode": 806 if dup else 0,
                      "deviceErrorName":
                      "ZtdDeviceAlreadyAssigned" if dup else ""}}


def finish(imp, rows):
    failed = [r for r in rows if r["state"]["deviceImportStatus"] == "error"]
    imp.update(totalCount=len(rows), importedCount=len(rows) - len(failed),
               failedCount=len(failed),
               status="partial" if failed else "complete",
               completedAt="2026-01-01T00:00:01.000Z",
               errorCounts=[{"code": 806, "name": "ZtdDeviceAlreadyAssigned",
                             "count": len(failed)}] if failed else [])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, obj=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", "req-1")
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, name, message):
        self.send(status, {"error": {"code": code, "name": name,
                                     "message": message,
                                     "requestId": "req-1"}})

    def body(self):
        if self.headers.get("Transfer-Encoding", "") == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out, "chunked"
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n), "length %d" % n

    def route(self, method):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        data, how = self.body() if method in ("POST", "PATCH") else (b"", "")
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.error(401, "0xA0570009", "WG_E_AUTH_INVALID",
                              "the API key is not valid")
        parts = url.path.strip("/").split("/")[2:]
        if parts == ["imports"] and method == "POST":
            IMPORT.clear()
            IMPORT.update(new_import(json.loads(data)["source"]))
            IMPORT["tenantQuery"] = q.get("tenantId")
            return self.send(201, IMPORT)
        if parts[:2] == ["importedDeviceIdentities", "importCsv"]:
            return self.import_csv(q, data, how)
        if parts[:2] == ["importedDeviceIdentities", "import"]:
            return self.import_json(json.loads(data))
        if parts[:1] == ["imports"] and len(parts) == 2:
            return self.send(200, IMPORT)
        if parts[:1] == ["imports"] and parts[2:] == ["rows"]:
            return self.page([r for r in ROWS if q.get("state") != "error"
                              or r["state"]["deviceErrorCode"]],
                             int(q.get("after", 0)), lambda i: i)
        if parts == ["devices"]:
            devs = [d for d in DEVICES.values()
                    if d["serialNumber"].startswith(q.get("serial", ""))]
            after = int(q.get("after", "c0")[1:])
            return self.page(devs, after, lambda i: "c%d" % i)
        if parts[:1] == ["devices"] and len(parts) == 2:
            return self.device(method, parts[1], data)
        return self.error(404, "0xA0570006", "WG_E_ROUTE_NOT_FOUND",
                          "no route " + url.path)

    def page(self, items, after, cursor):
        chunk = items[after:after + 2]
        more = after + 2 < len(items)
        self.send(200, {"value": chunk,
                        "next": cursor(after + 2) if more else None})

    def import_csv(self, q, data, how):
        with open(os.path.join(DIR, "upload.body"), "wb") as f:
            f.write(data)
        with open(os.path.join(DIR, "upload.meta"), "w") as f:
            f.write("%s\n%s\nimportId=%s tenantId=%s\n" % (
                self.headers.get("Content-Type"), how, q.get("importId"),
                q.get("tenantId")))
        text = data.decode("utf-8-sig")
        ROWS.clear()
        for n, line in enumerate(text.splitlines()[1:], start=2):
            if 'BAD"' in line:
                finish(IMPORT, ROWS)
                IMPORT["status"] = "error"
                return self.error(400, "0xA057000F", "WG_E_CSV_SYNTAX",
                                  "line %d, column %d: a quote inside an "
                                  "unquoted field" % (n, line.index('"') + 1))
            serial = next(csv.reader(io.StringIO(line)))[0]
            ROWS.append(row_state(n, serial))
            if serial == "SLOW":
                finish(IMPORT, ROWS)
                IMPORT["status"] = "pending"
                time.sleep(1.5)
        finish(IMPORT, ROWS)
        self.send(200, IMPORT)

    def import_json(self, doc):
        IMPORT.clear()
        IMPORT.update(new_import("json"))
        rows = [row_state(i + 1, d.get("serialNumber", ""))
                for i, d in enumerate(doc["importedDeviceIdentities"])]
        finish(IMPORT, rows)
        self.send(200, dict(IMPORT, value=rows))

    def device(self, method, dev_id, data):
        dev = DEVICES.get(dev_id)
        if dev is None:
            return self.error(404, "0xA057000B", "WG_E_NOT_FOUND",
                              "no device " + dev_id)
        if method == "DELETE":
            del DEVICES[dev_id]
            return self.send(204)
        if method == "PATCH":
            dev.update(json.loads(data))
        self.send(200, dev)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PATCH(self):
        self.route("PATCH")

    def do_DELETE(self):
        self.route("DELETE")


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(os.path.join(DIR, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
