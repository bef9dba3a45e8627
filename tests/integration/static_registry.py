#!/usr/bin/env python3
"""static_registry.py PORT_FILE DIR

Serves canned registry answers that docker-registry will not store (a Docker schema 1 manifest,
a manifest of an unknown media type): GET /v2/ is 200, GET /v2/<repo>/manifests/<ref> answers
DIR/<ref> with the Content-Type in DIR/<ref>.type, anything else 404. Listens on 127.0.0.1 on a
free port, written to PORT_FILE once it listens. Standard library only.
"""
import http.server
import os
import sys

port_file, root = sys.argv[1:3]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/v2/":
            return self.reply(200, b"{}")
        parts = self.path.split("/manifests/")
        name = os.path.basename(parts[-1]) if len(parts) == 2 else ""
        path = os.path.join(root, name)
        if not name or not os.path.isfile(path):
            return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}')
        with open(path, "rb") as f:
            body = f.read()
        with open(path + ".type") as f:
            content_type = f.read().strip()
        self.reply(200, body, content_type)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
