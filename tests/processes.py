"""Ending the tests' background servers (slapd, Keycloak, rclone) by the pid their files keep."""

from __future__ import annotations

import contextlib
import os
import signal
import time


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
