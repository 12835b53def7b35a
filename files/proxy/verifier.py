"""Answers nginx auth_request subrequests for the sidecar.

200 with X-Auth-User for valid HTTP Basic credentials, 401 with a Basic challenge otherwise.
bcrypt runs here, outside nginx's event loop, at most VERIFIER_CONCURRENCY hashes at a time;
nginx caches the answers briefly (keyed by an HMAC of the header), so each credential is
hashed about once per cache period. The htpasswd file is re-read whenever it changes.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt

HTPASSWD_FILE = os.environ.get("HTPASSWD_FILE", "/etc/nginx/auth/htpasswd")
PORT = int(os.environ.get("VERIFIER_PORT", "9091"))
CONCURRENCY = int(os.environ.get("VERIFIER_CONCURRENCY", "1"))
REALM = os.environ.get("AUTH_REALM", "Restricted").replace('"', "")


class Htpasswd:
    """The users and hashes of the htpasswd file, reloaded when the file changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.signature: tuple[int, int, int] | None = None
        self.hashes: dict[str, bytes] = {}

    def hash_of(self, user: str) -> bytes | None:
        try:
            stat = os.stat(self.path)
            signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            return None  # no file: nobody may log in
        with self.lock:
            if signature != self.signature:
                self.hashes = self._read()
                self.signature = signature
            return self.hashes.get(user)

    def _read(self) -> dict[str, bytes]:
        hashes = {}
        with open(self.path, "rb") as handle:
            for line in handle:
                name, sep, hashed = line.strip().partition(b":")
                if sep and hashed.startswith((b"$2y$", b"$2b$", b"$2a$")):
                    # Python's bcrypt knows the $2b$ name of the same algorithm.
                    hashes[name.decode()] = b"$2b$" + hashed[4:]
        return hashes


USERS = Htpasswd(HTPASSWD_FILE)
HASHING = threading.BoundedSemaphore(CONCURRENCY)


def authenticated_user(authorization: str | None) -> str | None:
    """The user name if the Basic credentials match the htpasswd file, else None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    hashed = USERS.hash_of(user) if sep else None
    if hashed is None:
        return None
    with HASHING:
        return user if bcrypt.checkpw(password.encode()[:72], hashed) else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        user = authenticated_user(self.headers.get("Authorization"))
        self.send_response(200 if user else 401)
        if user:
            self.send_header("X-Auth-User", user)
        else:
            self.send_header("WWW-Authenticate", f'Basic realm="{REALM}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: nginx logs every request already."""


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
