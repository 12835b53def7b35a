"""The molecule/files deployment under test (see ../molecule.yml) and its S3 store: the one
create.yml started (tests/s3_store.py), which tests fill, change, stop and start again."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from http_requests import Response, basic, request
from s3_store import Store

SCENARIO = Path(__file__).resolve().parent.parent
_MOLECULE = yaml.safe_load((SCENARIO / "molecule.yml").read_text())
HOST_VARS: dict[str, Any] = _MOLECULE["provisioner"]["inventory"]["host_vars"]["podman-host"]
BASE_URL = f"http://127.0.0.1:{int(HOST_VARS['sidecar_app_publish_port'])}"
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
