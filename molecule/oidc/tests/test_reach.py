"""The app and oauth2-proxy listen on the pod's loopback only: from this machine, the pod's own
address answers on nginx's port and refuses theirs, so every request passes nginx."""

from __future__ import annotations

import socket
import subprocess

import pytest
from conftest import HOST_VARS, ON_PODMAN
from scenario_containers import pods

NAME = HOST_VARS["sidecar_app_name"]


@pytest.fixture(scope="module")
def pod_address() -> str:
    if ON_PODMAN:
        inspected = subprocess.run(
            ["podman", "inspect", "--format", "{{.NetworkSettings.IPAddress}}", f"{NAME}-app"],
            capture_output=True,
            text=True,
            check=True,
        )
        address = inspected.stdout.strip()
    else:
        _api, _namespace, found = pods(HOST_VARS)
        assert found, f"no pod of {NAME}"
        address = found[0].status.pod_ip
    assert address
    return address


@pytest.mark.parametrize(("port", "answers"), [(8081, True), (8080, False), (4180, False)])
def test_only_nginx_answers_on_the_pods_address(pod_address: str, port: int, answers: bool) -> None:
    with socket.socket() as probe:
        probe.settimeout(3)
        connected = probe.connect_ex((pod_address, port)) == 0
    assert connected == answers, f"{pod_address}:{port}"
