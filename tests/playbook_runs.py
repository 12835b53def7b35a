"""How the tests run ansible-playbook: with the repository's collections and ansible.cfg, as
`make` does, a HOME of the test's own, and what a run printed and returned.

    play("playbooks/render.yml", home=tmp_path / "home", extra_vars={...}).must_succeed()
    output = play("playbooks/deploy.yml", extra_vars={...}).must_fail()
    play("playbooks/deploy.yml", "-i", str(inventory(tmp_path / "hosts.yml", hosts)), home=...)

Several hosts, each with its own variables, go in one run through an inventory (see inventory):
one run pays Ansible's start-up once for all of them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from repository import ROOT

BIN = Path(sys.executable).parent
# SIDECAR_APP_PASSWORD of every run: the password of the role's default user.
PASSWORD = "correct horse battery staple"
# What the default callback prints: a task's header (the role's prefix left out of the name), a
# host's failure, and a host's other results.
TASK_HEADER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?:[\w.]+ : )?(?P<name>.*)\] \*+$")
FAILURE_OF_HOST = re.compile(r"^(fatal|failed): \[(?P<host>[^\]]+)\]")
RESULT_OF_HOST = re.compile(r"^(ok|changed|skipping|included): ")


def environment(home: Path | None) -> dict[str, str]:
    """The environment `make` gives Ansible, with HOME (and so every default path) under home;
    with home None, the caller's own HOME (and podman storage)."""
    collections = ROOT / "collections"
    if not (collections / "ansible_collections/authproxy/sidecar/galaxy.yml").exists():
        pytest.fail(f"{collections}/ansible_collections/authproxy/sidecar is missing; run `make setup`")
    settings = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "false",
        "SIDECAR_APP_PASSWORD": PASSWORD,
        # The role asks the registry (skopeo) whether it has an image before a push: sent to a
        # loopback address where nothing listens, it fails at once without a look-up of the
        # made-up registry hosts, and the push that follows is the fake cluster's.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    if home:
        home.mkdir(parents=True, exist_ok=True)
        settings["HOME"] = str(home)
    return os.environ | settings


def inventory(path: Path, hosts: dict[str, dict[str, Any]]) -> Path:
    """An inventory at path whose sidecar_app_targets are hosts, each with its own variables,
    run locally."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    targets = {"hosts": {host: local | host_vars for host, host_vars in hosts.items()}}
    path.write_text(yaml.safe_dump({"all": {"children": {"sidecar_app_targets": targets}}}))
    return path


@dataclass(frozen=True)
class Played:
    """A finished ansible-playbook run: its exit status and all it printed, stdout and stderr."""

    returncode: int
    output: str

    def must_succeed(self, what: str = "the run") -> Played:
        assert self.returncode == 0, f"{what} failed:\n{self.failures()}\n{self.output[-20000:]}"
        return self

    def failures(self) -> str:
        """Each failed host's failing task and what it printed there: with many hosts, the
        output's tail holds only the recap."""
        shown = [
            f"TASK [{task}] {host}:\n" + "\n".join(line[:3000] for line in lines)
            for host, (task, lines) in list(self.failed_hosts().items())[:20]
        ]
        return "\n".join(shown) if shown else "(no failed task in the output)"

    def failed_hosts(self) -> dict[str, tuple[str, list[str]]]:
        """Each failed host's first failing task (without the role's prefix) and the lines its
        failure printed there: the error ansible-core prints ahead of `fatal: [host]: FAILED! =>`
        (with the message, even when no_log hides the result), that line, and the indented lines
        of the result after it (the YAML result format of ansible.cfg)."""
        found: dict[str, tuple[str, list[str]]] = {}
        task, error = "", []
        lines = None  # where the lines of the result being printed go, if anywhere
        for line in self.output.splitlines():
            header = TASK_HEADER.match(line)
            failure = FAILURE_OF_HOST.match(line)
            if header:
                task, error, lines = header["name"], [], None
            elif failure:
                first_task, lines = found.setdefault(failure["host"], (task, []))
                if first_task != task:
                    lines = None
                else:
                    lines += [*error, line]
                error = []
            elif line.startswith("[ERROR]: "):
                error, lines = [line], None
            elif lines is not None and (line.startswith(" ") or not line):
                lines.append(line)
            elif error and not RESULT_OF_HOST.match(line):
                error.append(line)
            else:
                error, lines = [], None
        return found

    def must_fail(self) -> str:
        """What the run printed; it must have failed."""
        assert self.returncode != 0, f"the run succeeded:\n{self.output[-3000:]}"
        return self.output

    def changed(self, host: str) -> int:
        """The changed count of host in the play recap."""
        counts = re.findall(rf"^{re.escape(host)}\s*:\s*ok=\d+\s+changed=(\d+)", self.output, re.MULTILINE)
        assert len(counts) == 1, (
            f"expected one recap line for {host}, got {len(counts)}:\n{self.output[-5000:]}"
        )
        return int(counts[0])


def command(playbook: str | Path, extra_vars: dict[str, Any] | None, arguments: tuple[str, ...]) -> list[str]:
    """ansible-playbook from this virtualenv on playbook (relative to ROOT, or absolute)."""
    given = ["-e", json.dumps(extra_vars)] if extra_vars is not None else []
    return [str(BIN / "ansible-playbook"), str(ROOT / playbook), *given, *arguments]


def play(
    playbook: str | Path,
    *arguments: str,
    extra_vars: dict[str, Any] | None = None,
    home: Path | None = None,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> Played:
    """Run playbook with extra_vars and arguments (e.g. "-i", inventory, "--check") from cwd;
    env adds to or changes the environment. The caller judges the outcome."""
    result = subprocess.run(
        command(playbook, extra_vars, arguments),
        cwd=cwd,
        env=environment(home) | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Played(result.returncode, result.stdout)


@dataclass(frozen=True)
class Running:
    """A run started in the background, printing to log."""

    process: subprocess.Popen[bytes]
    log: Path

    def wait(self, timeout: float) -> Played:
        returncode = self.process.wait(timeout=timeout)
        return Played(returncode, self.log.read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()


def start(
    playbook: str | Path,
    *arguments: str,
    log: Path,
    extra_vars: dict[str, Any] | None = None,
    home: Path | None = None,
    env: dict[str, str] | None = None,
) -> Running:
    """play, in the background from ROOT, so that several runs go in parallel."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command(playbook, extra_vars, arguments),
            cwd=ROOT,
            env=environment(home) | (env or {}),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Running(process, log)
