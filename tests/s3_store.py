"""A real S3 server for the tests: `rclone serve s3` on a free port, over a folder of its own.

Store(path).start() runs rclone (the pinned one scripts/build-rclone.sh builds from the Go module
proxy and caches, or $RCLONE: 1.65 or later has `serve s3`) in the background, with the access key
and secret key of KEYS, listening on 127.0.0.1 and on the further addresses given (molecule/files:
podman's bridge, where the pod's sync containers reach host.containers.internal). Tests fill and
change the bucket through the S3 API itself (put, delete: rclone as an S3 client), never by writing
the folder. stop() and start() again keep the port and the objects, for the tests of a store that
goes away and comes back.

molecule/files runs it beyond the command that starts it:

    python3 tests/s3_store.py start PATH [--address IP] [--port PORT] [--fill KEY=TEXT]...
    python3 tests/s3_store.py stop PATH

start keeps its settings in PATH/store.json (Store.load(PATH) reads them back) and the server's
pid in PATH/rclone.pid; stop stops that server, if one runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from processes import end, free_port

REPOSITORY = Path(__file__).resolve().parent.parent
ACCESS_KEY_ID = "files-test-access"
SECRET_ACCESS_KEY = "files-test-secret-0123456789"
BUCKET = "served"
SERVE_S3_SINCE = (1, 65)


def rclone_binary() -> str:
    """$RCLONE, else the pinned one of scripts/build-rclone.sh (built once, then cached)."""
    candidate = (
        os.environ.get("RCLONE")
        or subprocess.run(
            [str(REPOSITORY / "scripts" / "build-rclone.sh")], stdout=subprocess.PIPE, text=True, check=True
        ).stdout.strip()
    )
    output = subprocess.run([candidate, "version"], capture_output=True, text=True, check=True).stdout
    found = re.match(r"rclone v(\d+)\.(\d+)", output)
    if not found or (int(found[1]), int(found[2])) < SERVE_S3_SINCE:
        raise RuntimeError(f"{candidate} has no `serve s3` (rclone 1.65 or later): unset RCLONE, or name one")
    return candidate


def client_environment(endpoint: str) -> dict[str, str]:
    """rclone as an S3 client of the store, remote `test:`, configured by the environment only."""
    return {
        **os.environ,
        "RCLONE_CONFIG_TEST_TYPE": "s3",
        "RCLONE_CONFIG_TEST_PROVIDER": "Other",
        "RCLONE_CONFIG_TEST_ENV_AUTH": "false",
        "RCLONE_CONFIG_TEST_ENDPOINT": endpoint,
        "RCLONE_CONFIG_TEST_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "RCLONE_CONFIG_TEST_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    }


@dataclass
class Store:
    """An S3 server of the test's own under path, stopped by stop()."""

    path: Path
    port: int = field(default_factory=free_port)
    addresses: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint_on(self, address: str) -> str:
        return f"http://{address}:{self.port}"

    def start(self) -> None:
        """Run the server and wait until it answers; a no-op when it runs already."""
        if self.running():
            return
        (self.path / "data").mkdir(parents=True, exist_ok=True)
        listen = [
            f"--addr=127.0.0.1:{self.port}",
            *(f"--addr={address}:{self.port}" for address in self.addresses),
        ]
        log = (self.path / "rclone.log").open("ab")
        process = subprocess.Popen(
            [rclone_binary(), "--config", "/dev/null", "serve", "s3", *listen, str(self.path / "data")],
            # The keys through the environment, so they do not show in the process list: one
            # CSV field (a list flag), quoted for its comma.
            env={**os.environ, "RCLONE_AUTH_KEY": f'"{ACCESS_KEY_ID},{SECRET_ACCESS_KEY}"'},
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        (self.path / "rclone.pid").write_text(str(process.pid))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"rclone serve s3 ended: {(self.path / 'rclone.log').read_text()[-2000:]}")
            # Every address it serves: the pods of a cluster ask the bridge's.
            try:
                for address in ("127.0.0.1", *self.addresses):
                    socket.create_connection((address, self.port), 1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("rclone serve s3 did not listen on all its addresses within 30 s")

    def pid(self) -> int | None:
        try:
            pid = int((self.path / "rclone.pid").read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        end(pid)
        (self.path / "rclone.pid").unlink(missing_ok=True)

    def save(self) -> None:
        (self.path / "store.json").write_text(json.dumps({"port": self.port, "addresses": self.addresses}))

    @classmethod
    def load(cls, path: Path) -> Store:
        saved = json.loads((path / "store.json").read_text())
        return cls(path, port=saved["port"], addresses=tuple(saved["addresses"]))

    def client(self, *arguments: str, data: bytes | None = None) -> str:
        """Run rclone as an S3 client of this store (remote `test:`)."""
        result = subprocess.run(
            [rclone_binary(), "--config", "/dev/null", *arguments],
            input=data, capture_output=True, env=client_environment(self.endpoint), check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"rclone {arguments[0]} failed: {result.stderr.decode()[-2000:]}")
        return result.stdout.decode()

    def make_bucket(self, bucket: str = BUCKET) -> None:
        self.client("mkdir", f"test:{bucket}")

    def put(self, key: str, data: bytes, bucket: str = BUCKET) -> None:
        self.client("rcat", f"test:{bucket}/{key}", data=data)

    def delete(self, key: str, bucket: str = BUCKET) -> None:
        self.client("deletefile", f"test:{bucket}/{key}")

    def keys(self, bucket: str = BUCKET) -> list[str]:
        return sorted(self.client("lsf", "--recursive", "--files-only", f"test:{bucket}").split())


def main() -> None:
    parser = argparse.ArgumentParser(description="A test S3 server in the background (molecule/files).")
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--address", action="append", default=[], help="where it also listens")
    parser.add_argument("--fill", action="append", default=[], help=f"KEY=TEXT: an object of bucket {BUCKET}")
    arguments = parser.parse_args()
    path: Path = arguments.path
    if arguments.command == "stop":
        if (path / "store.json").exists():
            Store.load(path).stop()
        return
    if (path / "store.json").exists():
        store = Store.load(path)
    else:
        path.mkdir(parents=True, exist_ok=True)
        store = Store(path, port=arguments.port or free_port(), addresses=tuple(arguments.address))
        store.save()
    store.start()
    if arguments.fill:
        store.make_bucket()
    for fill in arguments.fill:
        key, text = fill.split("=", 1)
        store.put(key, text.encode())
    print(json.dumps({"port": store.port, "endpoint": store.endpoint}))


if __name__ == "__main__":
    main()
