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


def cluster_script(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = os.environ | (env or {})
    return subprocess.run(
        [str(CLUSTER_SCRIPT), *args], capture_output=True, text=True, check=check, env=environment
    )


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
    inventory = write_inventory({"cluster": inputs}, tmp_path)
    return ansible_playbook(playbook, inventory, playbook_environment(kubeconfig), *extra)


@dataclass(frozen=True)
class HostsRun:
    """One ansible-playbook run on several hosts: the process (its stdout is the JSON of
    ansible.posix.json), and each host's last result: for a host that failed, the failure."""

    process: subprocess.CompletedProcess[str]
    last_results: dict[str, dict[str, Any]]

    def failure(self, host: str) -> str:
        """What the run said of this host's failure; also printed, so that a failing assertion shows it."""
        result = self.last_results.get(host, {})
        assert result.get("failed"), f"{host} did not fail: {result}\n{self.process.stdout[-3000:]}"
        message = f"{result.get('msg', '')}\n{json.dumps(result, indent=1, ensure_ascii=False)}"
        print(f"--- {host}:\n{message[-6000:]}")
        return message


def run_playbook_on_hosts(
    playbook: str, inputs_by_host: dict[str, dict[str, Any]], tmp_path: Path, kubeconfig: Path, *extra: str
) -> HostsRun:
    """ansible-playbook on one host per entry of inputs_by_host, all in parallel: independent
    deployments (each in a namespace and with a node port of its own) in the time of one."""
    inventory = write_inventory(inputs_by_host, tmp_path)
    env = playbook_environment(kubeconfig) | {
        "ANSIBLE_FORKS": str(max(5, len(inputs_by_host))),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
    }
    process = ansible_playbook(playbook, inventory, env, *extra)
    last_results: dict[str, dict[str, Any]] = {}
    try:
        plays = json.loads(process.stdout)["plays"]
    except (ValueError, KeyError):
        plays = []  # ansible-playbook failed before the first play: its stderr says why
    for play in plays:
        for task in play["tasks"]:
            last_results |= task["hosts"]
    return HostsRun(process, last_results)


def ansible_playbook(
    playbook: str, inventory: Path, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    command = [
        str(ROOT / ".venv/bin/ansible-playbook"),
        "-i",
        str(inventory),
        str(ROOT / "playbooks" / playbook),
    ]
    return subprocess.run([*command, *extra], capture_output=True, text=True, env=env, check=False, cwd=ROOT)


def write_inventory(inputs_by_host: dict[str, dict[str, Any]], tmp_path: Path) -> Path:
    """The sidecar_app_targets group: each host local, with folders of its own below tmp_path."""
    hosts = {
        host: {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "sidecar_app_password_dir": str(tmp_path / host / "passwords"),
            "sidecar_app_state_dir": str(tmp_path / host / "state"),
            "sidecar_app_bcrypt_rounds": 10,
        }
        | inputs
        for host, inputs in inputs_by_host.items()
    }
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"sidecar_app_targets": {"hosts": hosts}}), encoding="utf-8")
    return inventory


def playbook_environment(kubeconfig: Path) -> dict[str, str]:
    return os.environ | {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_FORCE_COLOR": "false",
        "K8S_AUTH_KUBECONFIG": str(kubeconfig),
    }


# The name of every deployment the tests make (each in a namespace of its own).
APP_NAME = "cluster-test"


def node_port_inputs(namespace: str, node_port: int, **more: object) -> dict[str, Any]:
    """The inputs of a deployment on the local cluster: images built by podman and pushed to its
    registry, the Service a NodePort on 127.0.0.1 (no ingress controller runs here)."""
    return {
        "sidecar_app_platform": "kubernetes",
        "sidecar_app_name": APP_NAME,
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
