"""The deployment under test, molecule/files's on podman or molecule/files-kubernetes's on a
cluster (the running scenario's molecule.yml), and its S3 store: the one create.yml started
(tests/s3_store.py), which tests fill, change, stop and start again."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import scenario_containers
from http_requests import Response, basic, request
from s3_store import Store
from scenario_playbooks import base_url, host_vars, on_podman

# Where converge.yml is (shared by both scenarios).
SCENARIO = Path(__file__).resolve().parent.parent
HOST_VARS = host_vars(SCENARIO)
ON_PODMAN = on_podman(HOST_VARS)
BASE_URL = base_url(HOST_VARS).rstrip("/")
FILES = BASE_URL + HOST_VARS.get("sidecar_app_files_path", "/files/")
HEALTH = BASE_URL + "/healthz/files"
USER = HOST_VARS["sidecar_app_users"][0]
PREFIX = HOST_VARS["sidecar_app_files_s3_prefix"]
REFRESH = int(HOST_VARS["sidecar_app_files_refresh_seconds"])
NAME = HOST_VARS["sidecar_app_name"]


def get(
    url: str, *, password: str | None = None, client: str = "10.0.0.1", headers: dict[str, str] | None = None
) -> Response:
    """GET url as the scenario's user (or with this password; "" sends none)."""
    password = USER["password"] if password is None else password
    authorization = basic(USER["name"], password) if password else None
    return request(url, authorization, client=client, headers=headers)


def wait_for(condition: Callable[[], bool], within: float) -> bool:
    """Whether condition() held within this many seconds, polling."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


@pytest.fixture(scope="session")
def store() -> Store:
    """The scenario's S3 store (a test that stops it starts it again)."""
    return Store.load(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "s3")


def container_logs(container: str) -> bytes:
    """What this container of the pod (each pod, on a cluster) wrote to its output."""
    return scenario_containers.container_logs(HOST_VARS, container)


def container_settings(containers: list[str]) -> str:
    """How these containers were made, as JSON: podman inspect, or the pods on a cluster."""
    return scenario_containers.container_settings(HOST_VARS, containers)
