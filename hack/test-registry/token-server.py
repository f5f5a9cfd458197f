#!/usr/bin/env python3
"""A small token service for the registry Bearer flow (distribution token auth), test use only.

Usage: token-server.py <port> <key.pem> <cert.pem> <issuer> [<user>:<password>]
Serves GET /token?service=...&scope=repository:<name>:<actions> on 127.0.0.1:<port> and returns
a JWT (RS256, x5c = the certificate the registry trusts) granting the requested actions. Without
a user it grants anonymous access; with one, requests must carry those basic credentials.
"""
import base64
import json
import subprocess
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT = int(sys.argv[1])
KEY = sys.argv[2]
CERT = sys.argv[3]
ISSUER = sys.argv[4]
USER = sys.argv[5] if len(sys.argv) > 5 else ""

CERT_DER = subprocess.run(["openssl", "x509", "-in", CERT, "-outform", "DER"],
                          check=True, capture_output=True).stdout


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(payload):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=payload,
                          check=True, capture_output=True).stdout


def token(service, scopes):
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) >= 3 and parts[0] == "repository":
            access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                           "actions": parts[-1].split(",")})
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(CERT_DER).decode()]}
    claims = {"iss": ISSUER, "sub": USER.split(":")[0] if USER else "anonymous", "aud": service,
              "exp": now + 600, "nbf": now - 60, "iat": now, "jti": str(uuid.uuid4()),
              "access": access}
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode())).encode()
    return signing_input.decode() + "." + b64url(sign(signing_input))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/token":
            self.send_response(404)
            self.end_headers()
            return
        if USER:
            want = "Basic " + base64.b64encode(USER.encode()).decode()
            if self.headers.get("Authorization") != want:
                self.send_response(401)
                self.end_headers()
                return
        q = parse_qs(url.query)
        body = json.dumps({"token": token(q.get("service", [""])[0], q.get("scope", [])),
                           "expires_in": 600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
