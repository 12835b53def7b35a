"""The deployment under test, molecule/oidc's on podman or molecule/oidc-kubernetes's on a cluster
(the running scenario's molecule.yml), the provider create.yml started (tests/oidc_provider.py),
and a browser that knows where host.containers.internal is."""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_session import browse
from oidc_provider import Provider
from repository import ROOT
from scenario_playbooks import base_url, host_vars, on_podman

# Where converge.yml is (shared by both scenarios).
SCENARIO = Path(__file__).resolve().parent.parent
HOST_VARS = host_vars(SCENARIO)
ON_PODMAN = on_podman(HOST_VARS)
APP = base_url(HOST_VARS)
# Kept after the run: one folder of screenshots per test.
ARTIFACTS = ROOT / "test-artifacts" / "oidc"
_PROVIDER_PATH = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "provider"


@pytest.fixture(scope="session")
def provider() -> Provider:
    return Provider.load(_PROVIDER_PATH)


class Browser:
    """A fresh browser profile per call of run(); screenshots go to the test's own folder."""

    def __init__(self, screenshots: Path, host_address: str, provider_key: str) -> None:
        self.screenshots = screenshots
        self.host_map = {"host.containers.internal": host_address}
        self.trusted_keys = (provider_key,)

    def run(self, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return browse(steps, self.screenshots, self.host_map, self.trusted_keys)


@pytest.fixture
def browser(request: pytest.FixtureRequest, provider: Provider) -> Browser:
    address = Path(f"{_PROVIDER_PATH}-address").read_text().strip()
    return Browser(ARTIFACTS / request.node.name, address, provider.public_key_digest())


def sign_in(user: str, password: str, shot: str) -> list[dict[str, Any]]:
    """The steps of the provider's login form, with a screenshot of it filled in."""
    return [
        {"fill": "#username", "value": user},
        {"fill": "#password", "value": password},
        {"screenshot": f"{shot}-filled"},
        {"click": "#kc-login"},
        {"screenshot": f"{shot}-after"},
    ]


def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, list[tuple[str, str]], str]:
    """GET APP + path as a client without a browser, following no redirect: status, headers (a
    list: Set-Cookie may come more than once) and body."""
    url = urlsplit(APP)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        connection.request("GET", "/" + path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.getheaders(), answer.read().decode(errors="replace")
    finally:
        connection.close()


def header(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name.lower()]
