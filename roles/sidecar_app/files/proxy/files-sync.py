"""Keep a copy of the files of a slow, safe store (S3, a host folder, a volume) where nginx serves them.

    files-sync.py --once   the init container: the first copy; exits 1 with rclone's message if it fails
    files-sync.py          the sidecar: a refresh every FILES_REFRESH_SECONDS, and a health endpoint

The copying is rclone's. The served tree is FILES_DIR/current, a symlink to one complete copy in
FILES_DIR/copies/. A refresh lists the store; when the listing differs from the served copy's, it
copies the store into a new folder and, only once that copy is complete, points a new symlink at it
and renames the symlink over `current` (one rename: a request sees the old tree or the new, never a
half-written one), then removes the older copies. A refresh that fails changes nothing: the last
good copy stays served, the log says why and GET / on 127.0.0.1:FILES_SYNC_PORT answers 503 with
{"status": "stale", ...} until a refresh succeeds again (200, "ok").

Settings come from the environment (the role's pod template); rclone reads the store's own,
RCLONE_CONFIG_STORE_*. The S3 keys are the files access-key-id and secret-access-key of
FILES_KEYS_DIR (the Secret's volume), read at every rclone run, so a rotated key is used without
a restart; they reach rclone's environment only, never a log line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# rclone's own lines may be long; the end says what failed.
MESSAGE_CHARS = 2000
KEY_VARIABLES = {
    "access-key-id": "RCLONE_CONFIG_STORE_ACCESS_KEY_ID",
    "secret-access-key": "RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY",
}


@dataclass(frozen=True)
class Settings:
    files_dir: Path
    remote: str
    refresh_seconds: int
    size_limit_bytes: int
    port: int

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            files_dir=Path(os.environ.get("FILES_DIR", "/srv/files")),
            remote=os.environ["FILES_REMOTE"],
            refresh_seconds=int(os.environ.get("FILES_REFRESH_SECONDS", "300")),
            size_limit_bytes=int(os.environ.get("FILES_SIZE_LIMIT_BYTES", "0")),
            port=int(os.environ.get("FILES_SYNC_PORT", "9092")),
        )


@dataclass
class Health:
    """What the last refresh found, for the health endpoint."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: bool = False
    last_attempt: str = ""
    last_success: str = ""
    served_copy: str = ""

    def record(self, *, ok: bool, served_copy: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.lock:
            self.ok = ok
            self.last_attempt = now
            self.served_copy = served_copy
            if ok:
                self.last_success = now

    def report(self) -> tuple[int, dict[str, Any]]:
        with self.lock:
            body = {
                "status": "ok" if self.ok else ("stale" if self.served_copy else "empty"),
                "last_attempt": self.last_attempt,
                "last_success": self.last_success,
                "served_copy": self.served_copy,
            }
            return (200 if self.ok else 503), body


class SyncError(Exception):
    """A refresh that failed; its message is rclone's (or says what did not fit)."""


def log(message: str) -> None:
    print(
        f"{datetime.now(UTC).isoformat(timespec='seconds')} files-sync: {message}",
        file=sys.stderr,
        flush=True,
    )


def rclone(*arguments: str) -> str:
    # --config /dev/null: the store is configured by the environment alone, and rclone has nothing
    # to read or write back. The retries and timeouts keep a dead store's failure short.
    command = [
        "rclone",
        "--config",
        "/dev/null",
        "--retries",
        "1",
        "--low-level-retries",
        "2",
        "--contimeout",
        "10s",
        "--timeout",
        "60s",
        *arguments,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=rclone_environment())
    if result.returncode != 0:
        raise SyncError(
            f"rclone {arguments[0]} failed ({result.returncode}): {result.stderr.strip()[-MESSAGE_CHARS:]}"
        )
    return result.stdout


def rclone_environment() -> dict[str, str]:
    """This process's environment, with the S3 keys of FILES_KEYS_DIR where it is set."""
    environment = dict(os.environ)
    keys_dir = os.environ.get("FILES_KEYS_DIR", "")
    if keys_dir:
        for file_name, variable in KEY_VARIABLES.items():
            try:
                environment[variable] = (Path(keys_dir) / file_name).read_text().strip()
            except OSError as error:
                raise SyncError(
                    f"cannot read the S3 key {file_name} in {keys_dir}: {error.strerror}"
                ) from None
    return environment


def listing(remote: str) -> list[dict[str, Any]]:
    """Every file of the store with its size and time, in a stable order."""
    entries = json.loads(rclone("lsjson", "--recursive", "--files-only", "--no-mimetype", remote) or "[]")
    return sorted(({"Path": e["Path"], "Size": e["Size"], "ModTime": e["ModTime"]} for e in entries), key=str)


class Copies:
    """The copies in FILES_DIR and the `current` symlink nginx serves."""

    def __init__(self, files_dir: Path) -> None:
        self.root = files_dir
        self.copies = files_dir / "copies"
        self.current = files_dir / "current"

    def served(self) -> str:
        return os.readlink(self.current) if self.current.is_symlink() else ""

    def served_listing(self) -> list[dict[str, Any]] | None:
        served = self.served()
        if not served:
            return None
        path = self.root / (served + ".listing.json")
        return json.loads(path.read_text()) if path.exists() else None

    def refresh(self, settings: Settings) -> bool:
        """Make and serve a new copy if the store changed; True if it did."""
        wanted = listing(settings.remote)
        if wanted == self.served_listing():
            return False
        size = sum(entry["Size"] for entry in wanted)
        if settings.size_limit_bytes and size * 2 > settings.size_limit_bytes:
            raise SyncError(
                f"the store holds {size} bytes; the pod's copy has room for {settings.size_limit_bytes} "
                "bytes, two copies while a refresh runs: raise sidecar_app_files_size_limit to at least "
                "twice the size"
            )
        self.copies.mkdir(parents=True, exist_ok=True)
        name = "copies/" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        partial = self.root / (name + ".partial")
        partial.mkdir()
        try:
            rclone("copy", settings.remote, str(partial))
        except SyncError:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        partial.rename(self.root / name)
        (self.root / (name + ".listing.json")).write_text(json.dumps(wanted))
        link = self.root / "current.new"
        link.unlink(missing_ok=True)
        link.symlink_to(name)
        link.replace(self.current)
        self.remove_all_but(name)
        log(f"serving {name}: {len(wanted)} files, {size} bytes")
        return True

    def remove_all_but(self, keep: str) -> None:
        """Older copies and any partial one a stopped refresh left. A request still reading an old
        file keeps reading it: an open file outlives its name."""
        for path in self.copies.iterdir():
            if path != self.root / keep and path != self.root / (keep + ".listing.json"):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)


def serve_health(health: Health, port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = health.report()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """No line per probe; errors are still logged."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main() -> int:
    settings = Settings.from_environment()
    copies = Copies(settings.files_dir)
    if "--once" in sys.argv[1:]:
        try:
            copies.refresh(settings)
        except (SyncError, OSError) as error:
            log(f"the first copy failed, nothing to serve: {error}")
            return 1
        return 0

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    health = Health()
    serve_health(health, settings.port)
    served = copies.served() or "nothing yet"
    log(f"refreshing from {settings.remote} every {settings.refresh_seconds} s, serving {served}")
    while True:
        try:
            copies.refresh(settings)
            health.record(ok=True, served_copy=copies.served())
        except (SyncError, OSError) as error:
            served = copies.served()
            health.record(ok=False, served_copy=served)
            log(f"refresh failed, still serving {served or 'nothing'}: {error}")
        time.sleep(settings.refresh_seconds)


if __name__ == "__main__":
    sys.exit(main())
