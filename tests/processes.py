"""The tests' background servers (slapd, Keycloak, rclone): a free port for each, and their end
by the pid their files keep."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time

# Ports the project's own services and scenarios use (the registry, nginx, the verifier, the
# published and NodePorts of the scenarios): never given to a test server.
RESERVED_PORTS = {
    5000, 8081, 9000, 9091, 9092, 28081, 28636,
    *range(18080, 18100), *range(30081, 30124),
}  # fmt: skip


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now, and none of the reserved ones."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def end(pid: int, stop_signal: int = signal.SIGTERM, *, group: bool = False, within: float = 10) -> None:
    """Send stop_signal to pid (to its whole process group with group), wait up to within seconds
    for it to end (reaping it when this process started it), then kill what is left."""
    send = os.killpg if group else os.kill
    try:
        send(pid, stop_signal)
    except OSError:
        return  # none runs
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            send(pid, 0)
        except OSError:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        send(pid, signal.SIGKILL)
