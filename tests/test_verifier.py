"""The verifier (roles/sidecar_app/files/proxy/verifier.py) driven in-process, without containers."""

from __future__ import annotations

import ast
import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import bcrypt
import pytest
import yaml
from repository import ROOT, load_source

SOURCE = "roles/sidecar_app/files/proxy/verifier.py"


@pytest.fixture
def verifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh verifier whose htpasswd file is tmp_path/htpasswd (not written yet)."""
    module = load_source(SOURCE, "verifier")
    monkeypatch.setattr(module, "USERS", module.Htpasswd(str(tmp_path / "htpasswd")))
    return module


def write_htpasswd(path: Path, **passwords: str) -> None:
    """An htpasswd file as the role writes it: $2y$ bcrypt hashes (cost 4 here, for speed)."""
    lines = [
        f"{user}:$2y${bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode()[4:]}"
        for user, p in passwords.items()
    ]
    path.write_text("\n".join(lines) + "\n")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def environment_variables_read() -> set[str]:
    tree = ast.parse((ROOT / SOURCE).read_text())
    read = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) in ("os.environ.get", "os.getenv")
        and isinstance(node.args[0], ast.Constant)
    }
    read |= {
        node.slice.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and ast.unparse(node.value) == "os.environ"
        and isinstance(node.slice, ast.Constant)
    }
    return read


def environment_variables_set_by_role(variables: str) -> set[str]:
    """The names in one list of the verifier container's environment (vars/main.yml): the one of
    every mode, or the one the ldap mode adds to it."""
    role_vars = yaml.safe_load((ROOT / "roles/sidecar_app/vars/main.yml").read_text())
    # One container definition, which podman and the clusters both run.
    assert variables in role_vars["__sidecar_app_verifier_container"]["env"]
    return {variable["name"] for variable in role_vars[variables]}


def ldap_mode_variables(names: set[str]) -> set[str]:
    return {name for name in names if name == "AUTH_SOURCE" or name.startswith("LDAP_")}


def test_every_environment_variable_the_verifier_reads_is_one_the_role_sets() -> None:
    read = environment_variables_read()
    assert read
    assert read - ldap_mode_variables(read) == environment_variables_set_by_role("__sidecar_app_verifier_env")


def test_the_role_sets_the_variables_of_the_ldap_mode() -> None:
    read = ldap_mode_variables(environment_variables_read())
    assert "LDAP_URIS" in read
    assert read == environment_variables_set_by_role("__sidecar_app_verifier_ldap_env")


def test_counting_does_not_wait_for_the_htpasswd_lock(verifier: ModuleType) -> None:
    counted = threading.Thread(target=verifier.STATS.count, args=["answers"])
    with verifier.USERS.lock:  # as while the htpasswd file is being re-read
        counted.start()
        counted.join(timeout=2)
        finished = not counted.is_alive()
    counted.join()
    assert finished
    assert verifier.STATS.snapshot()["answers"] == 1


def test_counts_from_many_threads_add_up(verifier: ModuleType) -> None:
    def count_many() -> None:
        for _number in range(2000):
            verifier.STATS.count("answers")

    threads = [threading.Thread(target=count_many) for _number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verifier.STATS.snapshot() == {"answers": 16000, "hashes_checked": 0}


def test_the_right_password_is_checked_once_then_remembered_until_its_hash_changes(
    verifier: ModuleType, tmp_path: Path
) -> None:
    htpasswd = tmp_path / "htpasswd"
    write_htpasswd(htpasswd, admin="right", reader="other")
    assert verifier.authenticated_user(basic("admin", "right")) == "admin"
    assert verifier.authenticated_user(basic("admin", "right")) == "admin"
    assert verifier.STATS.snapshot()["hashes_checked"] == 1

    write_htpasswd(htpasswd, admin="changed", reader="other")
    assert verifier.authenticated_user(basic("admin", "right")) is None
    assert verifier.authenticated_user(basic("admin", "changed")) == "admin"
    assert verifier.STATS.snapshot()["hashes_checked"] == 3


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer abc", basic("admin", "wrong"), basic("nobody", "right"), "Basic not-base64!"],
)
def test_anything_but_the_right_credentials_is_refused(
    verifier: ModuleType, tmp_path: Path, authorization: str | None
) -> None:
    write_htpasswd(tmp_path / "htpasswd", admin="right")
    assert verifier.authenticated_user(authorization) is None


def test_without_an_htpasswd_file_nobody_is_let_in(verifier: ModuleType) -> None:
    assert verifier.authenticated_user(basic("admin", "right")) is None
    assert verifier.STATS.snapshot()["hashes_checked"] == 0


def test_a_new_header_sent_by_many_requests_at_once_is_checked_with_bcrypt_once(
    verifier: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nginx holds no request back while the first asks (no lock in the auth cache): they all arrive."""
    write_htpasswd(tmp_path / "htpasswd", admin="right")
    looked_up = threading.Semaphore(0)
    look_up = verifier.VERIFIED.entry

    def counted_look_up(*args: Any) -> tuple[str, Any] | None:  # noqa: ANN401
        looked_up.release()
        return look_up(*args)

    monkeypatch.setattr(verifier.VERIFIED, "entry", counted_look_up)
    users: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: users.append(verifier.authenticated_user(basic("admin", "right"))))
        for _number in range(8)
    ]
    with verifier.HASHING:  # as while another request's bcrypt runs
        for thread in threads:
            thread.start()
        for _thread in threads:  # each has looked for the header and not found it
            assert looked_up.acquire(timeout=10)
    for thread in threads:
        thread.join()
    assert users == ["admin"] * 8
    assert verifier.STATS.snapshot()["hashes_checked"] == 1


def test_a_request_that_waited_for_the_first_ones_bcrypt_finds_its_answer_remembered(
    verifier: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request is remembered before the next waiting one looks, however slowly the
    first thread goes on after its check (as when the machine is busy)."""
    write_htpasswd(tmp_path / "htpasswd", admin="right")
    remember = verifier.VERIFIED.remember

    def slow_remember(*args: Any) -> None:  # noqa: ANN401
        time.sleep(0.3)
        remember(*args)

    monkeypatch.setattr(verifier.VERIFIED, "remember", slow_remember)
    users: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: users.append(verifier.authenticated_user(basic("admin", "right"))))
        for _number in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert users == ["admin"] * 4
    assert verifier.STATS.snapshot()["hashes_checked"] == 1


def test_the_listening_queue_holds_a_burst_of_connections_not_accepted_yet(verifier: ModuleType) -> None:
    """A full queue drops a connection, whose client retries a second later."""
    server = verifier.Server(("127.0.0.1", 0), verifier.Handler)  # listens, accepts nothing
    connections = []
    try:
        for _number in range(100):
            connections.append(socket.create_connection(server.server_address, timeout=3))
    finally:
        for connection in connections:
            connection.close()
        server.server_close()
    assert len(connections) == 100


@pytest.mark.parametrize("stop_signal", [signal.SIGQUIT, signal.SIGTERM], ids=["SIGQUIT", "SIGTERM"])
def test_the_verifier_stops_on_its_containers_stop_signal_as_pid_1(tmp_path: Path, stop_signal: int) -> None:
    """PID 1 of a PID namespace, as in its container: a signal it does not handle is ignored."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    namespace = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--kill-child", sys.executable, str(ROOT / SOURCE)],
        env={**os.environ, "VERIFIER_PORT": str(port)},
    )
    try:
        for _attempt in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        (pid_1,) = Path(f"/proc/{namespace.pid}/task/{namespace.pid}/children").read_text().split()
        os.kill(int(pid_1), stop_signal)
        assert namespace.wait(timeout=10) == 0
    finally:
        namespace.kill()
        namespace.wait()
