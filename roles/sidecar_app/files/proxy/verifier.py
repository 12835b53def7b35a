"""Answers nginx auth_request subrequests for the sidecar.

200 with X-Auth-User for valid HTTP Basic credentials, 401 with a Basic challenge otherwise.
bcrypt runs here, outside nginx's event loop, one hash at a time.
nginx caches the answers for a few seconds and renews them in the background; so that a renewal
never waits behind bcrypt (say, behind a flood of wrong guesses), a credential that verified
is remembered, under an HMAC with a per-start random key, for as long as the user's hash in the
htpasswd file stays the same. The file is re-read whenever it changes, so a changed or removed
password is checked again (and refused) on the next renewal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import signal
import threading
from collections import OrderedDict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt

# Where the pod mounts the htpasswd Secret (volumeMounts in the role's vars/main.yml), as nginx.
HTPASSWD_FILE = "/etc/nginx/auth/htpasswd"
# The role sets the environment (the verifier container in its vars/main.yml).
PORT = int(os.environ.get("VERIFIER_PORT", "9091"))
REALM = os.environ.get("AUTH_REALM", "Restricted").replace('"', "")
# How long nginx may reuse an answer, and serve it stale while renewing it in the background.
CACHE_CONTROL = f"max-age={int(os.environ.get('AUTH_CACHE_SECONDS', '4'))}, stale-while-revalidate=1"


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


class Stats:
    """What the verifier did since it started, for /stats. Counted under a lock of its own: an
    answer is never counted behind a reload of the htpasswd file."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts = {"answers": 0, "hashes_checked": 0}

    def count(self, event: str) -> None:
        with self.lock:
            self.counts[event] += 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.counts)


USERS = Htpasswd(HTPASSWD_FILE)
# One hash at a time: the container's CPU limit (250m by default) is a fraction of a core, which
# parallel hashes would only share, each finishing later.
HASHING = threading.BoundedSemaphore(1)
STATS = Stats()


class VerifiedCredentials:
    """Credentials that matched, keyed by HMAC of the header, with the hash they matched."""

    def __init__(self, capacity: int = 10000) -> None:
        self.key = os.urandom(32)
        self.capacity = capacity
        self.lock = threading.Lock()
        self.entries: OrderedDict[bytes, tuple[str, bytes]] = OrderedDict()

    def digest(self, authorization: str) -> bytes:
        return hmac.new(self.key, authorization.encode(), hashlib.sha256).digest()

    def user(self, digest: bytes, current_hash_of: Callable[[str], bytes | None]) -> str | None:
        with self.lock:
            entry = self.entries.get(digest)
        if entry is None:
            return None
        user, matched_hash = entry
        return user if current_hash_of(user) == matched_hash else None

    def remember(self, digest: bytes, user: str, matched_hash: bytes) -> None:
        with self.lock:
            self.entries[digest] = (user, matched_hash)
            self.entries.move_to_end(digest)
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)


VERIFIED = VerifiedCredentials()


def authenticated_user(authorization: str | None) -> str | None:
    """The user name if the Basic credentials match the htpasswd file, else None."""
    scheme, _space, token = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    digest = VERIFIED.digest(authorization or "")
    remembered = VERIFIED.user(digest, USERS.hash_of)
    if remembered:
        return remembered
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    hashed = USERS.hash_of(user) if sep else None
    if hashed is None:
        return None
    with HASHING:
        # Requests with the same new header arrive together (nginx holds none of them back): the
        # first one checks it, the others find it remembered here.
        remembered = VERIFIED.user(digest, USERS.hash_of)
        if remembered:
            return remembered
        STATS.count("hashes_checked")
        if not bcrypt.checkpw(password.encode()[:72], hashed):
            return None
    VERIFIED.remember(digest, user, hashed)
    return user


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/stats":  # loopback only, like everything here; says no names
            body = json.dumps(STATS.snapshot()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        STATS.count("answers")
        user = authenticated_user(self.headers.get("Authorization"))
        self.send_response(200 if user else 401)
        self.send_header("Cache-Control", CACHE_CONTROL)
        if user:
            self.send_header("X-Auth-User", user)
        else:
            self.send_header("WWW-Authenticate", f'Basic realm="{REALM}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: nginx logs every request already."""


class Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5. nginx opens a connection per concurrent
    # subrequest beyond its idle ones, and the kernel drops a connection that finds the queue
    # full: its client retries one second later.
    request_queue_size = 128
    daemon_threads = True


def main() -> None:
    server = Server(("127.0.0.1", PORT), Handler)

    # The verifier is PID 1 of its container, and the kernel ignores a signal that PID 1 does
    # not handle: without this, the image's stop signal (SIGQUIT, for nginx) and SIGTERM do
    # nothing, and every stop waits for the kill at the end of the grace period.
    def stop(_signal: int, _frame: object) -> None:
        # shutdown() waits for serve_forever() to return, which runs in this very thread.
        threading.Thread(target=server.shutdown).start()

    for stop_signal in (signal.SIGQUIT, signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, stop)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
