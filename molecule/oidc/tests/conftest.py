"""The deployment under test (molecule/oidc's molecule.yml), the provider create.yml started
(tests/oidc_provider.py), and a browser that knows where host.containers.internal is."""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from browser_session import browse
from oidc_provider import Provider
from repository import ROOT

SCENARIO = Path(__file__).resolve().parent.parent
_MOLECULE = yaml.safe_load((SCENARIO / "molecule.yml").read_text())
HOST_VARS: dict[str, Any] = next(iter(_MOLECULE["provisioner"]["inventory"]["host_vars"].values()))
APP = f"http://127.0.0.1:{int(HOST_VARS['sidecar_app_publish_port'])}/"
# Kept after the run: one folder of screenshots per test.
ARTIFACTS = ROOT / "test-artifacts" / "oidc"
_PROVIDER_PATH = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "provider"


@pytest.fixture(scope="session")
def provider() -> Provider:
    return Provider.load(_PROVIDER_PATH)


class Browser:
    """A fresh browser profile per call of run(); screenshots go to the test's own folder."""

    def __init__(self, screenshots: Path, host_address: str) -> None:
        self.screenshots = screenshots
        self.host_map = {"host.containers.internal": host_address}

    def run(self, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return browse(steps, self.screenshots, self.host_map)


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Browser:
    address = Path(f"{_PROVIDER_PATH}-address").read_text().strip()
    return Browser(ARTIFACTS / request.node.name, address)


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
