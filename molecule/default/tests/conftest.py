"""Shared facts about the molecule deployment under test (see ../molecule.yml)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import testinfra

APP_NAME = "molecule-sidecar"
PUBLISH_PORT = 18081
BASE_URL = f"http://127.0.0.1:{PUBLISH_PORT}/"


@pytest.fixture(scope="session")
def ephemeral_dir() -> Path:
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


@pytest.fixture(scope="session")
def admin_password(ephemeral_dir: Path) -> str:
    return (ephemeral_dir / "passwords" / "admin.password").read_text().strip()


@pytest.fixture(scope="session")
def proxy_container() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{APP_NAME}-proxy")


@pytest.fixture(scope="session")
def app_container() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{APP_NAME}-app")


@pytest.fixture(scope="session")
def verifier_container() -> testinfra.host.Host:
    return testinfra.get_host(f"podman://{APP_NAME}-verifier")
