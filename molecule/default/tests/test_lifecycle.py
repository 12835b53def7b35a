"""Credential lifecycle and faults on the running podman deployment.

These tests rerun the converge playbook with other users and passwords, so they run after the
read-only checks in test_default.py (pytest takes files in name order); the last one puts the
scenario's users back.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from conftest import (
    APP_NAME,
    PLAYBOOK_ENV,
    SCENARIO,
    basic,
    inspect,
    playbook_command,
    podman,
    request,
    run_playbook,
)


def status_of(user: str | None = None, password: str = "", timeout: float = 10) -> int:
    return request(authorization=basic(user, password) if user is not None else None, timeout=timeout).status


def users(passwords: dict[str, str]) -> dict[str, object]:
    """The extra vars of these users (name: password) instead of the scenario's."""
    users = [{"name": name, "password": password} for name, password in passwords.items()]
    return {"sidecar_app_users": users, "sidecar_app_no_log": True}


def converge(
    passwords: dict[str, str], *args: str, expect_success: bool = True, **extra_vars: object
) -> subprocess.CompletedProcess[str]:
    result = run_playbook(SCENARIO / "converge.yml", *args, **users(passwords), **extra_vars)
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert (result.returncode == 0) == expect_success, output
    return result


AUTH_CACHE_TTL = 5  # sidecar_app_auth_cache_ttl: a changed password stops working within it


def refused_within_ttl(user: str, password: str) -> bool:
    """True once the credentials are refused, polling for at most the TTL (+1 s for scheduling)."""
    deadline = time.monotonic() + AUTH_CACHE_TTL + 1
    while time.monotonic() < deadline:
        if status_of(user, password) in (401, 429):  # 429: refused, and throttled as a wrong guess
            return True
        time.sleep(0.2)
    return False


def container_state(component: str) -> tuple[str, str, str]:
    """(container id, image id, start time): all three stay put when nothing is rebuilt or restarted."""
    container, image, started = inspect(component, "{{.Id}} {{.Image}} {{.State.StartedAt}}").split(" ", 2)
    return container, image, started


class Load:
    """A bounded load generator on 127.0.0.1: a few threads, each stopping by itself."""

    def __init__(self, user: str, password: str, threads: int = 6, max_seconds: float = 60) -> None:
        self.user, self.password, self.deadline = user, password, time.monotonic() + max_seconds
        self.results: Counter[int] = Counter()
        self.last_ok = 0.0  # wall-clock time of the latest 200
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run) for _number in range(threads)]

    def run(self) -> None:
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            status = status_of(self.user, self.password)
            with self.lock:
                self.results[status] += 1
                if status == 200:
                    self.last_ok = max(self.last_ok, time.time())

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def test_add_change_and_remove_users_without_rebuild_or_restart(passwords: dict[str, str]) -> None:
    before = {c: container_state(c) for c in ("app", "proxy", "verifier")}

    converge(passwords | {"carol": "carol-first-password"})
    assert status_of("carol", "carol-first-password") == 200

    converge(passwords | {"carol": "carol-second-password"})
    assert status_of("carol", "carol-second-password") == 200
    assert refused_within_ttl("carol", "carol-first-password")

    converge(passwords)
    assert refused_within_ttl("carol", "carol-second-password")
    assert status_of("admin", passwords["admin"]) == 200

    assert {c: container_state(c) for c in ("app", "proxy", "verifier")} == before


def test_password_change_under_load_loses_no_request(passwords: dict[str, str]) -> None:
    with Load("reader", passwords["reader"]) as load:
        time.sleep(1)
        converge(passwords | {"admin": "admin-under-load"})
        assert status_of("admin", "admin-under-load") == 200
        converge(passwords)
        time.sleep(1)
    print(f"requests during two password changes: {dict(load.results)}")
    assert load.results[200] > 50
    assert set(load.results) == {200}
    assert status_of("admin", passwords["admin"]) == 200


def test_a_changed_password_in_constant_use_is_refused_within_the_ttl_and_never_later(
    ephemeral_dir: Path, passwords: dict[str, str]
) -> None:
    """The old password keeps its cached answer hot (renewed in the background) until the change.

    The role's own verification is off here: after the change this client's requests are wrong
    guesses, throttled to 429, and the verification's wrong-password probe comes from the same
    address."""
    converge(passwords | {"dave": "dave-first-password"})
    with Load("dave", "dave-first-password", threads=4) as load:
        time.sleep(2)
        converge(passwords | {"dave": "dave-second-password"}, sidecar_app_verify=False)
        # When the new hash reached nginx: the htpasswd file it reads was written then.
        changed = (ephemeral_dir / "state" / "auth" / "htpasswd").stat().st_mtime
        time.sleep(AUTH_CACHE_TTL + 3)
        refused = dict(load.results)
    print(f"requests with the old password around the change: {refused}")
    assert load.results[200] > 50
    assert load.last_ok <= changed + AUTH_CACHE_TTL + 1
    assert set(load.results) <= {200, 401, 429}
    assert status_of("dave", "dave-second-password") == 200
    converge(passwords, sidecar_app_verify=False)


def test_no_password_or_hash_in_verbose_diff_output(ephemeral_dir: Path, passwords: dict[str, str]) -> None:
    changed_password = "verbose-output-canary-password"
    outputs = [
        converge(passwords | {"admin": changed_password}, "-vvv", "--diff"),
        converge(passwords, "-vvv", "--diff"),
    ]
    htpasswd = (ephemeral_dir / "state" / "auth" / "htpasswd").read_text()
    hashes = [line.split(":", 1)[1] for line in htpasswd.splitlines()]
    for result in outputs:
        text = result.stdout + result.stderr
        assert re.search(r"changed=[1-9]", text)  # the run did change the htpasswd
        for secret in (changed_password, *passwords.values(), *hashes):
            assert secret not in text
        assert "$2y$" not in text


def restarts_of(component: str) -> int:
    return int(inspect(component, "{{.RestartCount}}"))


def test_app_down_gives_a_prompt_502(admin_password: str) -> None:
    assert status_of("admin", admin_password) == 200
    podman("stop", "--time", "1", f"{APP_NAME}-app")  # a stopped container is not restarted
    try:
        started = time.monotonic()
        status = status_of("admin", admin_password, timeout=5)
        elapsed = time.monotonic() - started
    finally:
        podman("start", f"{APP_NAME}-app")
    print(f"with the app down: {status} after {elapsed:.2f} s")
    assert status == 502  # from nginx at once, within the client's 5 s, not a hang until a timeout
    deadline = time.monotonic() + 30
    while status_of("admin", admin_password) != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status_of("admin", admin_password) == 200


def test_app_crash_recovers_by_itself(admin_password: str) -> None:
    """podman restarts a crashed app at once; meanwhile answers are 200, 502 or 503, never slow.
    (Whether a request falls into the gap is timing: the 502 itself is checked just above.) The
    request under way when the app dies may be cut off after its headers: nginx has passed them
    on already, and the app's workers die with it. Requests go one at a time, so at most one."""
    assert status_of("admin", admin_password) == 200
    restarts = restarts_of("app")
    pid = inspect("app", "{{.State.Pid}}")
    os.kill(int(pid), signal.SIGKILL)  # the app's main process dies, as in a crash
    killed_at = time.monotonic()
    seen: list[tuple[int | str, float]] = []
    # Until the container has been restarted and answers again (a request may still slip
    # through to a dying worker right after the kill).
    while time.monotonic() - killed_at < 60:
        started = time.monotonic()
        try:
            status: int | str = status_of("admin", admin_password, timeout=5)
        except (http.client.IncompleteRead, ConnectionResetError):  # RemoteDisconnected is one too
            status = "cut off"
        seen.append((status, time.monotonic() - started))
        if status == 200 and restarts_of("app") > restarts:
            break
        time.sleep(0.1)
    gap = time.monotonic() - killed_at
    answers = Counter(status for status, _elapsed in seen)
    print(f"service back after {gap:.1f} s (container restarted); answers meanwhile: {dict(answers)}")
    assert restarts_of("app") == restarts + 1
    assert seen[-1][0] == 200
    assert set(answers) <= {200, 502, 503, "cut off"}
    assert answers["cut off"] <= 1
    assert all(elapsed < 5 for _status, elapsed in seen)


def test_broken_nginx_configuration_never_reaches_the_pod(passwords: dict[str, str]) -> None:
    before = container_state("proxy")
    result = converge(passwords, expect_success=False, sidecar_app_proxy_client_max_body_size="10 m")
    nginx_said = re.search(
        r"\[emerg\].*invalid number of arguments in .{0,2}client_max_body_size", result.stderr
    )
    assert nginx_said, result.stderr[-3000:]
    assert "nginx: configuration file /etc/nginx/nginx.conf test failed" in result.stderr
    assert container_state("proxy") == before
    assert status_of("admin", passwords["admin"]) == 200


def test_interrupted_deploy_converges_when_run_again(passwords: dict[str, str]) -> None:
    changed_env = {"HELLO_ECHO_HEADERS": "1", "INTERRUPTED_DEPLOY_PROBE": "1"}
    process = subprocess.Popen(
        playbook_command(SCENARIO / "converge.yml", **users(passwords), sidecar_app_app_env=changed_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=PLAYBOOK_ENV,
    )
    assert process.stdout is not None
    for line in process.stdout:  # stop it as it starts replacing the containers
        if "Run the containers in the pod" in line:
            time.sleep(0.5)
            process.send_signal(signal.SIGINT)
            break
    process.communicate(timeout=120)
    assert process.returncode != 0

    converge(passwords, sidecar_app_app_env=changed_env)
    assert status_of("admin", passwords["admin"]) == 200
    rerun = converge(passwords, sidecar_app_app_env=changed_env)
    assert re.search(r"changed=0\s", rerun.stdout)
    converge(passwords)  # back to the scenario's settings
