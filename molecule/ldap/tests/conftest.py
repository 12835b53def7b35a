"""The deployment under test, molecule/ldap's on podman or molecule/ldap-kubernetes's on a cluster
(the running scenario's molecule.yml), and its directory: the slapd create.yml started
(tests/ldap_directory.py), which tests stop, restart and change."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from http_requests import Response, basic, request
from ldap_directory import Directory
from scenario_playbooks import base_url, host_vars, on_podman

# Where converge.yml is (shared by both scenarios).
SCENARIO = Path(__file__).resolve().parent.parent
HOST_VARS = host_vars(SCENARIO)
ON_PODMAN = on_podman(HOST_VARS)
BASE_URL = base_url(HOST_VARS)
TTL = 5  # sidecar_app_auth_cache_ttl's default
LDAP_TIMEOUT = int(HOST_VARS["sidecar_app_ldap_timeout"])


def get(user: str, password: str, client: str, path: str = "") -> Response:
    """GET / (or path) with these Basic credentials, as this client (X-Forwarded-For: each test
    its own, so that one test's wrong passwords are not throttled in another)."""
    return request(BASE_URL + path, basic(user, password), client=client)


def first_time(condition: Callable[[], bool], within: float) -> float | None:
    """Seconds until condition() first held, polling for at most within seconds; None if never."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    return None


@pytest.fixture(scope="session")
def directory() -> Directory:
    """The scenario's slapd (a test that stops it starts it again)."""
    return Directory.load(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "directory")
