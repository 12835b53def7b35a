"""Shared facts about the molecule deployment under test (see ../molecule.yml), and the helpers
the tests use to reach it: HTTP requests, podman, ansible-playbook."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import testinfra
import yaml

SCENARIO = Path(__file__).resolve().parent.parent
# The role's inputs in this scenario, as molecule.yml gives them.
_MOLECULE = yaml.safe_load((SCENARIO / "molecule.yml").read_text())
HOST_VARS: dict[str, Any] = _MOLECULE["provisioner"]["inventory"]["host_vars"]["podman-host"]
APP_NAME = str(HOST_VARS["sidecar_app_name"])
PUBLISH_PORT = int(HOST_VARS["sidecar_app_publish_port"])
BASE_URL = f"http://127.0.0.1:{PUBLISH_PORT}/"
# molecule sets ANSIBLE_FORCE_COLOR, which would win over ANSIBLE_NOCOLOR.
PLAYBOOK_ENV = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "false"}


class Response(NamedTuple):
    status: int  # -1 when nothing answered
    headers: dict[str, str]
    body: str


def basic(user: str, password: str) -> str:
    """The Authorization header of HTTP Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(
    url: str = BASE_URL,
    authorization: str | None = None,
    *,
    client: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Response:
    """GET url with this Authorization header, as client (X-Forwarded-For) if given."""
    req = urllib.request.Request(url, headers=headers or {})
    if client is not None:
        req.add_header("X-Forwarded-For", client)
    if authorization is not None:
        req.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Response(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read().decode())
    except OSError:
        return Response(-1, {}, "")


def podman(*args: str) -> str:
    """What a podman command prints; it must succeed."""
    return subprocess.run(["podman", *args], check=True, capture_output=True, text=True).stdout.strip()


def inspect(component: str, template: str) -> str:
    """podman inspect --format template of the scenario's container of this component (app, ...)."""
    return podman("inspect", "--format", template, f"{APP_NAME}-{component}")


def playbook_command(playbook: Path, *args: str, **extra_vars: object) -> list[str]:
    """ansible-playbook of playbook on the scenario's inventory, with these extra vars."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    extra = ["-e", json.dumps(extra_vars)] if extra_vars else []
    return ["ansible-playbook", "--inventory", inventory, *extra, *args, str(playbook)]


def run_playbook(playbook: Path, *args: str, **extra_vars: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        playbook_command(playbook, *args, **extra_vars),
        capture_output=True,
        text=True,
        env=PLAYBOOK_ENV,
        check=False,
    )


@pytest.fixture(scope="session")
def ephemeral_dir() -> Path:
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


@pytest.fixture(scope="session")
def passwords(ephemeral_dir: Path) -> dict[str, str]:
    """The generated password of each user, by name."""
    files = sorted((ephemeral_dir / "passwords").glob("*.password"))
    return {path.stem: path.read_text().strip() for path in files}


@pytest.fixture(scope="session")
def admin_password(passwords: dict[str, str]) -> str:
    return passwords["admin"]


@pytest.fixture(scope="session")
def proxy_container() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{APP_NAME}-proxy")


@pytest.fixture(scope="session")
def app_container() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{APP_NAME}-app")


@pytest.fixture(scope="session")
def verifier_container() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{APP_NAME}-verifier")
