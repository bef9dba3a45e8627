#!/usr/bin/env python3
"""Canned answers for the REST client tests: a small HTTP/1.1 server on 127.0.0.1 that answers
like an API server would in the situations the client must handle (Status errors, 429 with
Retry-After, 5xx, paged lists, an expired continue token, chunked watch streams). It echoes
requests it has no canned answer for, so tests can check what the client sent.

usage: canned_apiserver.py PORT_FILE [CERT KEY CA]
  writes the chosen port to PORT_FILE once listening; with CERT KEY CA it serves HTTPS and
  asks for a client certificate signed by CA (optional), echoing its CN as x-client-cn.
"""
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

COUNTS = {}
LOCK = threading.Lock()


def count(key):
    with LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + 1
        return COUNTS[key]


def status(code, reason, message, **details):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def event(kind, name, rv):
    return {"type": kind, "object": {"kind": "Pod", "apiVersion": "v1",
                                     "metadata": {"name": name, "resourceVersion": str(rv)}}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, code, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def echo(self, body):
        headers = {k.lower(): v for k, v in self.headers.items()}
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert() or {}
            for rdn in cert.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        headers["x-client-cn"] = value
        self.send_json(200, {"kind": "Echo", "method": self.command, "path": self.url.path,
                             "query": self.query, "body": body, "headers": headers})

    def handle_any(self):
        self.url = urlsplit(self.path)
        self.query = {k: v[0] for k, v in parse_qs(self.url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = self.url.path
        key = self.command + " " + path
        n = count(key)
        pods = "/api/v1/namespaces/default/pods/"
        if path == "/counts":
            return self.send_json(200, COUNTS)
        if path == pods + "missing":
            return self.send_json(404, status(404, "NotFound", 'pods "missing" not found',
                                              name="missing", kind="pods"))
        if path == pods + "plain404":
            return self.send_text(404, "404 page not found")
        if path == pods + "throttled" and n <= 2:
            return self.send_json(429, status(429, "TooManyRequests", "slow down"),
                                  {"Retry-After": "3"})
        if path == pods + "flaky" and n <= 2:
            return self.send_text(500, "boom")
        if path == pods + "broken":
            return self.send_text(500, "boom")
        if path == "/api/v1/namespaces/paged/configmaps" or \
                path == "/api/v1/namespaces/expiring/configmaps":
            return self.paged(path)
        if self.query.get("watch") == "true":
            return self.watch(path)
        return self.echo(body)

    def paged(self, path):
        items = [{"metadata": {"name": "cm%d" % i}} for i in range(5)]
        start = int(self.query.get("continue") or 0)
        if "expiring" in path and self.query.get("continue"):
            return self.send_json(410, status(410, "Expired", "The provided continue parameter "
                                              "is too old to display a consistent list result."))
        limit = int(self.query.get("limit") or 0) or len(items)
        page = items[start:start + limit]
        meta = {"resourceVersion": "7"}
        if start + limit < len(items):
            meta["continue"] = str(start + limit)
        self.send_json(200, {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": meta,
                             "items": page})

    def watch(self, path):
        ns = path.split("/")[4] if path.startswith("/api/v1/namespaces/") else ""
        if ns == "gone":
            return self.send_json(410, status(410, "Expired", "too old resource version: 1 (5)"))
        self.start_stream()
        if ns == "default":
            first = json.dumps(event("ADDED", "a", 2)) + "\n"
            second = json.dumps(event("MODIFIED", "a", 3)) + "\n"
            self.chunk(first + second[:10])  # an event cut mid-way
            self.chunk(second[10:])
            self.chunk(json.dumps({"type": "BOOKMARK", "object": {
                "kind": "Pod", "apiVersion": "v1",
                "metadata": {"resourceVersion": "9"}}}) + "\n")
            self.chunk(json.dumps({"type": "ERROR", "object": status(
                410, "Expired", "too old resource version: 3 (4)")}) + "\n")
            return self.end_stream()
        if ns == "many":
            batch = []
            for i in range(5000):
                batch.append(json.dumps(event("ADDED", "p%d" % i, i + 1)) + "\n")
                if len(batch) == 100:
                    self.chunk("".join(batch))
                    batch = []
            return self.end_stream()
        if ns == "idle":
            self.chunk(json.dumps(event("ADDED", "a", 2)) + "\n")
            deadline = time.time() + 60
            try:
                while time.time() < deadline:
                    time.sleep(0.05)
                    self.chunk("\n")  # whitespace between events: keeps probing the client
            except (BrokenPipeError, ConnectionResetError):
                return
            return self.end_stream()
        if ns == "garbage":
            self.chunk("not json\n")
            return self.end_stream()
        self.end_stream()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if len(sys.argv) == 5:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        ctx.load_verify_locations(sys.argv[4])
        ctx.verify_mode = ssl.CERT_OPTIONAL
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
