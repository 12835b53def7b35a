"""The local Kubernetes cluster of `make cluster` (scripts/local-cluster/cluster.sh), for the
tests that need a real API server, kubelet, containerd and kube-proxy: how to reach it, and how
to deploy onto it. The fixtures are in conftest.py.

When the cluster does not run these tests are skipped, with one reason, unless
LOCAL_CLUSTER_REQUIRED is set (as `make test` does): then they fail. Every request they send
goes to 127.0.0.1: the API server, the local registry and NodePorts that kube-proxy answers on
127.0.0.1 only.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = ROOT / "scripts/local-cluster/cluster.sh"
REGISTRY = "127.0.0.1:5000"


def cluster_dir() -> Path:
    default = Path.home() / ".local/state/authproxy-sidecar/local-cluster"
    return Path(os.environ.get("LOCAL_CLUSTER_DIR") or default)


def cluster_script(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLUSTER_SCRIPT), *args], capture_output=True, text=True, check=check)


@dataclass(frozen=True)
class Cluster:
    """The running local cluster: its admin kubeconfig and its kubectl."""

    directory: Path
    kubeconfig: Path
    kubectl_path: Path

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """kubectl as the cluster admin; the caller judges the outcome."""
        return subprocess.run(
            [str(self.kubectl_path), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    def kubectl(self, *args: str) -> str:
        """kubectl as the cluster admin, which must succeed; its output."""
        result = self.run(*args)
        if result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def get(self, *args: str) -> dict[str, Any]:
        return json.loads(self.kubectl("get", "--output", "json", *args))

    def delete_namespace(self, namespace: str) -> None:
        self.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=120s")


def find_kubectl() -> Path:
    status = cluster_script("status", check=False)
    if status.returncode != 0:
        reason = f"the local cluster does not run (make cluster starts it): {status.stdout.strip()}"
        if os.environ.get("LOCAL_CLUSTER_REQUIRED"):
            pytest.fail(reason)
        pytest.skip(reason)
    binaries = sorted((Path.home() / ".cache/authproxy-sidecar/local-cluster").glob("*/bin/kubectl"))
    cache = os.environ.get("LOCAL_CLUSTER_CACHE")
    if cache:
        binaries = sorted(Path(cache).glob("*/bin/kubectl"))
    assert binaries, "the cluster runs but its kubectl was not found"
    return max(binaries, key=lambda path: path.stat().st_mtime)


def run_playbook(
    playbook: str, inputs: dict[str, Any], tmp_path: Path, kubeconfig: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """ansible-playbook from the project's virtualenv, on one host with these inputs, against the
    cluster of `kubeconfig`. Returns the finished process; the caller asserts on it."""
    inventory = tmp_path / "inventory.yml"
    host_vars = {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "sidecar_app_password_dir": str(tmp_path / "passwords"),
        "sidecar_app_state_dir": str(tmp_path / "state"),
        "sidecar_app_bcrypt_rounds": 10,
    } | inputs
    inventory.write_text(
        yaml.safe_dump({"sidecar_app_targets": {"hosts": {"cluster": host_vars}}}), encoding="utf-8"
    )
    env = os.environ | {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_FORCE_COLOR": "false",
        "K8S_AUTH_KUBECONFIG": str(kubeconfig),
    }
    venv_bin = ROOT / ".venv/bin"
    return subprocess.run(
        [
            str(venv_bin / "ansible-playbook"),
            "-i",
            str(inventory),
            str(ROOT / "playbooks" / playbook),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=ROOT,
    )


def node_port_inputs(namespace: str, node_port: int, **more: object) -> dict[str, Any]:
    """The inputs of a deployment on the local cluster: images built by podman and pushed to its
    registry, the Service a NodePort on 127.0.0.1 (no ingress controller runs here)."""
    return {
        "sidecar_app_platform": "kubernetes",
        "sidecar_app_name": "cluster-test",
        "sidecar_app_namespace": namespace,
        "sidecar_app_registry": f"{REGISTRY}/authproxy",
        "sidecar_app_registry_tls_verify": False,
        "sidecar_app_image_build": "podman",
        "sidecar_app_service_type": "NodePort",
        "sidecar_app_service_node_port": node_port,
        "sidecar_app_public_url": f"http://127.0.0.1:{node_port}/",
        "sidecar_app_ingress_enabled": False,
    } | more


def http_status(url: str, user: str | None = None, password: str | None = None, timeout: float = 5) -> int:
    """The status of a GET of url, with Basic credentials if given; 0 when nothing answered."""
    request = urllib.request.Request(url)
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def wait_for_status(url: str, wanted: int, seconds: float, **credentials: str) -> float:
    """Seconds until url answers `wanted`; fails after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if http_status(url, **credentials) == wanted:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {wanted} within {seconds} s")
