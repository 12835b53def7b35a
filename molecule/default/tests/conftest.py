"""Shared facts about the molecule deployment under test (see ../molecule.yml), and the helpers
the tests use to reach it: HTTP requests, podman, ansible-playbook."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import http_requests
import pytest
import testinfra
import yaml
from http_requests import Response, basic
from scenario_playbooks import PLAYBOOK_ENV, playbook_command, run_playbook

SCENARIO = Path(__file__).resolve().parent.parent
# The role's inputs in this scenario, as molecule.yml gives them.
_MOLECULE = yaml.safe_load((SCENARIO / "molecule.yml").read_text())
HOST_VARS: dict[str, Any] = _MOLECULE["provisioner"]["inventory"]["host_vars"]["podman-host"]
APP_NAME = str(HOST_VARS["sidecar_app_name"])
PUBLISH_PORT = int(HOST_VARS["sidecar_app_publish_port"])
BASE_URL = f"http://127.0.0.1:{PUBLISH_PORT}/"
# The test modules take these from here, with the scenario's facts.
__all__ = ["PLAYBOOK_ENV", "basic", "playbook_command", "run_playbook"]


def request(url: str = BASE_URL, authorization: str | None = None, **options: Any) -> Response:  # noqa: ANN401
    """GET url (this scenario's by default), as http_requests.request."""
    return http_requests.request(url, authorization, **options)


def podman(*args: str) -> str:
    """What a podman command prints; it must succeed."""
    return subprocess.run(["podman", *args], check=True, capture_output=True, text=True).stdout.strip()


def inspect(component: str, template: str) -> str:
    """podman inspect --format template of the scenario's container of this component (app, ...)."""
    return podman("inspect", "--format", template, f"{APP_NAME}-{component}")


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
