"""The client's and the session cookie's secrets (and the allowed emails) reach oauth2-proxy as
files, and nothing else shows the secrets: no container's configuration or log, no image of the
app, no file but their own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import HOST_VARS
from oidc_provider import Provider

NAME = HOST_VARS["sidecar_app_name"]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def podman(*arguments: str) -> str:
    done = subprocess.run(["podman", *arguments], capture_output=True, text=True, check=True, timeout=120)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def secrets(provider: Provider) -> list[str]:
    cookie_secret = (EPHEMERAL / "passwords" / "oidc-cookie.secret").read_text().strip()
    assert len(cookie_secret) == 32
    return [provider.client_secret, cookie_secret]


def containers() -> list[str]:
    names = podman("ps", "--all", "--format", "{{.Names}}", "--filter", f"pod={NAME}").split()
    assert f"{NAME}-oauth2-proxy" in names
    assert f"{NAME}-verifier" not in names
    return [name for name in names if name.startswith(NAME + "-")]


def test_oauth2_proxy_reads_the_secrets_from_files_only_it_and_group_0_may_read(secrets: list[str]) -> None:
    listing = podman("exec", f"{NAME}-oauth2-proxy", "ls", "-ln", "/etc/oauth2-proxy/secrets")
    lines = sorted(
        (line.split() for line in listing.splitlines() if not line.startswith("total")), key=lambda f: f[-1]
    )
    assert [(line[0], line[3], line[-1]) for line in lines] == [
        ("-r--r-----", "0", "authenticated-emails"),
        ("-r--r-----", "0", "client-secret"),
        ("-r--r-----", "0", "cookie-secret"),
    ]
    shown = podman("exec", f"{NAME}-oauth2-proxy", "cat", "/etc/oauth2-proxy/secrets/client-secret")
    assert shown == secrets[0]
    # sidecar_app_oidc_allowed_emails, one address a line, in lowercase.
    emails = podman("exec", f"{NAME}-oauth2-proxy", "cat", "/etc/oauth2-proxy/secrets/authenticated-emails")
    assert emails == "carol@partner.test\n"


def test_no_container_configuration_or_log_shows_a_secret(secrets: list[str]) -> None:
    for container in containers():
        configuration = podman("inspect", container)
        logs = podman("logs", container)
        for secret in secrets:
            assert secret not in configuration, container
            assert secret not in logs, container


def test_no_image_of_the_app_carries_a_secret(secrets: list[str]) -> None:
    images = podman("images", "--quiet", "--filter", f"label=io.authproxy.sidecar.app={NAME}").split()
    assert images
    for image in set(images):
        described = podman("image", "inspect", image) + podman("history", "--no-trunc", image)
        for secret in secrets:
            assert secret not in described, image


def test_no_file_of_the_state_directory_holds_a_secret_in_clear(secrets: list[str]) -> None:
    for path in (EPHEMERAL / "state").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in content, path
