#!/usr/bin/env python3
"""token_server.py PORT_FILE KEY CERT ISSUER [USER PASSWORD]

A docker token server (distribution's "Token Authentication Specification") for the tests'
docker-registry: GET /token?service=..&scope=repository:<name>:<actions> answers
{"token": <JWT>} signed RS256 with KEY, the certificate CERT in the JWT header's x5c (the registry
verifies it against its rootcertbundle). With USER and PASSWORD, Basic credentials are required
and checked (401 otherwise); without, tokens are anonymous, as Docker Hub's for public images.
POST /token takes the OAuth2 refresh-token grant, PASSWORD being the valid refresh token.
Listens on 127.0.0.1 on a free port, written to PORT_FILE once it listens. Standard library and
the openssl command only.
"""
import base64
import http.server
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse

port_file, key, cert, issuer = sys.argv[1:5]
user, password = (sys.argv[5], sys.argv[6]) if len(sys.argv) >= 7 else (None, None)
cert_der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                          capture_output=True, check=True).stdout


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        # OAuth2 refresh-token grant: the refresh token is the PASSWORD argument.
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if form.get("grant_type") != ["refresh_token"] or \
                form.get("refresh_token") != [password]:
            return self.reply(401, {"error": "invalid_grant"})
        token = self.token(user, form)
        self.reply(200, {"access_token": token, "expires_in": 600})

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            return self.reply(404, {"error": "not found"})
        query = urllib.parse.parse_qs(url.query)
        subject = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            name, _, given = base64.b64decode(auth[6:]).decode().partition(":")
            if user is None or (name, given) != (user, password):
                return self.reply(401, {"error": "bad credentials"})
            subject = name
        elif user is not None:
            return self.reply(401, {"error": "credentials required"})
        token = self.token(subject, query)
        self.reply(200, {"token": token, "access_token": token, "expires_in": 600})

    def token(self, subject, query):
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(cert_der).decode()]}
        claims = {"iss": issuer, "sub": subject, "aud": query.get("service", [""])[0],
                  "exp": now + 600, "nbf": now - 60, "iat": now, "jti": secrets.token_hex(8),
                  "access": access}
        signing_input = b64url(json.dumps(header).encode()) + "." + \
            b64url(json.dumps(claims).encode())
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                                   input=signing_input.encode(), capture_output=True,
                                   check=True).stdout
        return signing_input + "." + b64url(signature)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
