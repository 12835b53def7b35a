"""The client's and the session cookie's secrets (and the allowed emails) reach oauth2-proxy as
files, and nothing else shows the secrets: no container's configuration or log, no image of the
app, no file but their own."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import HOST_VARS, ON_PODMAN
from oidc_provider import Provider
from scenario_containers import container_logs, container_settings, pods

NAME = HOST_VARS["sidecar_app_name"]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SECRETS_DIR = "/etc/oauth2-proxy/secrets"


def podman(*arguments: str) -> str:
    done = subprocess.run(["podman", *arguments], capture_output=True, text=True, check=True, timeout=120)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def secrets(provider: Provider) -> list[str]:
    cookie_secret = (EPHEMERAL / "passwords" / "oidc-cookie.secret").read_text().strip()
    assert len(cookie_secret) == 32
    return [provider.client_secret, cookie_secret]


def containers() -> list[str]:
    """The names of the deployment's containers (on a cluster, of its pods' spec)."""
    if ON_PODMAN:
        names = podman("ps", "--all", "--format", "{{.Names}}", "--filter", f"pod={NAME}").split()
        names = [name.removeprefix(NAME + "-") for name in names if name.startswith(NAME + "-")]
    else:
        _api, _namespace, found = pods(HOST_VARS)
        assert found, f"no pod of {NAME}"
        names = [container.name for container in found[0].spec.containers]
    assert "oauth2-proxy" in names
    assert "verifier" not in names
    return names


@pytest.mark.skipif(not ON_PODMAN, reason="podman's secrets; a cluster's volume is checked below")
def test_oauth2_proxy_reads_the_secrets_from_files_of_its_own(secrets: list[str]) -> None:
    proxy = f"{NAME}-oauth2-proxy"
    listing = podman("exec", proxy, "ls", "-ln", SECRETS_DIR)
    lines = sorted(
        (line.split() for line in listing.splitlines() if not line.startswith("total")), key=lambda f: f[-1]
    )
    # Read-only, readable by any user: upstream's image runs as 65532 on Kubernetes (as does the
    # local image; molecule/oidc-kubernetes), podman runs every container as sidecar_app_podman_uid.
    assert [(line[0], line[-1]) for line in lines] == [
        ("-r--r--r--", "authenticated-emails"),
        ("-r--r--r--", "client-secret"),
        ("-r--r--r--", "cookie-secret"),
    ]
    assert podman("exec", proxy, "id", "-u").strip() not in {"", "0"}
    assert podman("exec", proxy, "cat", f"{SECRETS_DIR}/client-secret") == secrets[0]
    # sidecar_app_oidc_allowed_emails, one address a line, in lowercase.
    assert podman("exec", proxy, "cat", f"{SECRETS_DIR}/authenticated-emails") == "carol@partner.test\n"
    for container in containers():
        if container != "oauth2-proxy":
            assert SECRETS_DIR not in podman("inspect", "--format", "{{json .Mounts}}", f"{NAME}-{container}")


@pytest.mark.skipif(ON_PODMAN, reason="a cluster's volume; podman's secrets are checked above")
def test_only_oauth2_proxy_mounts_the_secrets_read_only_and_without_their_hash() -> None:
    _api, _namespace, found = pods(HOST_VARS)
    assert found, f"no pod of {NAME}"
    for pod in found:
        volume = next(volume for volume in pod.spec.volumes if volume.name == "oidc")
        assert volume.secret.secret_name == f"{NAME}-oidc"
        assert volume.secret.default_mode == 0o444
        keys = sorted(item.key for item in volume.secret.items)
        assert keys == ["authenticated-emails", "client-secret", "cookie-secret"]
        mounting = {
            container.name: mount
            for container in pod.spec.containers
            for mount in container.volume_mounts or []
            if mount.name == "oidc"
        }
        assert list(mounting) == ["oauth2-proxy"]
        assert mounting["oauth2-proxy"].read_only
        assert mounting["oauth2-proxy"].mount_path == SECRETS_DIR


def test_no_container_configuration_or_log_shows_a_secret(secrets: list[str]) -> None:
    names = containers()
    settings = container_settings(HOST_VARS, names)
    assert json.loads(settings)
    for secret in secrets:
        assert secret not in settings
    for container in names:
        logs = container_logs(HOST_VARS, container)
        for secret in secrets:
            assert secret.encode() not in logs, container


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
