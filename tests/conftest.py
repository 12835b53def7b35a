"""Run playbooks/render.yml and load what it writes, for the tests of the cluster objects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
APP_IMAGE = "registry.example.com/team/hello-app:1.0"
PROXY_IMAGE = "registry.example.com/team/hello-proxy@sha256:" + "0" * 64
REGISTRY = "registry.example.com/ns"
HOST = "hello.apps.example.com"

# Each scenario is one ansible-playbook run; together they cover both platforms, both workload
# kinds, the three ways images come to be, one and three replicas, and with and without a host.
SCENARIOS: dict[str, dict[str, Any]] = {
    "openshift-deployment-cluster-build": {"sidecar_app_platform": "openshift"},
    "openshift-deploymentconfig-cluster-build-3-replicas-host": {
        "sidecar_app_platform": "openshift",
        "sidecar_app_workload_kind": "DeploymentConfig",
        "sidecar_app_replicas": 3,
        "sidecar_app_route_host": HOST,
        "sidecar_app_name": "wiki",
        "sidecar_app_namespace": "team-wiki",
    },
    "openshift-deployment-podman-build-3-replicas-host": {
        "sidecar_app_platform": "openshift",
        "sidecar_app_image_build": "podman",
        "sidecar_app_registry": REGISTRY,
        "sidecar_app_replicas": 3,
        "sidecar_app_route_host": HOST,
    },
    "openshift-deploymentconfig-given-images": {
        "sidecar_app_platform": "openshift",
        "sidecar_app_workload_kind": "DeploymentConfig",
        "sidecar_app_image_build": "none",
        "sidecar_app_app_image": APP_IMAGE,
        "sidecar_app_proxy_image": PROXY_IMAGE,
    },
    "kubernetes-deployment-podman-build": {
        "sidecar_app_platform": "kubernetes",
        "sidecar_app_image_build": "podman",
        "sidecar_app_registry": REGISTRY,
    },
    "kubernetes-deployment-given-images-3-replicas-host-tls": {
        "sidecar_app_platform": "kubernetes",
        "sidecar_app_image_build": "none",
        "sidecar_app_app_image": APP_IMAGE,
        "sidecar_app_proxy_image": PROXY_IMAGE,
        "sidecar_app_replicas": 3,
        "sidecar_app_route_host": HOST,
        "sidecar_app_ingress_class_name": "nginx",
        "sidecar_app_ingress_tls_secret": "hello-tls",
    },
}


@dataclass(frozen=True)
class Render:
    """One run of playbooks/render.yml and the objects it wrote, by file name."""

    inputs: dict[str, Any]
    directory: Path
    objects: dict[str, dict[str, Any]]

    def get(self, variable: str, default: Any) -> Any:  # noqa: ANN401 - inputs are any YAML value
        return self.inputs.get(variable, default)

    @property
    def name(self) -> str:
        return str(self.get("sidecar_app_name", "hello-sidecar"))

    @property
    def namespace(self) -> str:
        return str(self.get("sidecar_app_namespace", self.name))

    @property
    def platform(self) -> str:
        return str(self.inputs["sidecar_app_platform"])

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects.values() if obj["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of_kind(kind)
        assert len(found) == 1, f"expected one {kind}, got {len(found)}"
        return found[0]

    @property
    def workload(self) -> dict[str, Any]:
        return self.one(str(self.get("sidecar_app_workload_kind", "Deployment")))

    @property
    def pod_template(self) -> dict[str, Any]:
        template: dict[str, Any] = self.workload["spec"]["template"]
        return template


def ansible_environment(home: Path) -> dict[str, str]:
    """The environment `make` gives Ansible, with HOME (and so every default path) under home."""
    home.mkdir(parents=True, exist_ok=True)
    collections = ROOT / "collections"
    if not (collections / "ansible_collections/authproxy/sidecar/galaxy.yml").exists():
        pytest.fail(f"{collections}/ansible_collections/authproxy/sidecar is missing; run `make setup`")
    return os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "false",
        "HOME": str(home),
        "SIDECAR_APP_PASSWORD": PASSWORD,
    }


def render_command(inputs: dict[str, Any]) -> list[str]:
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    return [str(ansible_playbook), str(ROOT / "playbooks/render.yml"), "-e", json.dumps(inputs)]


def start_render(inputs: dict[str, Any], home: Path, cwd: Path | None = None) -> subprocess.Popen[str]:
    """Start playbooks/render.yml with inputs as extra vars; cwd is where it runs (default ROOT)."""
    return subprocess.Popen(
        render_command(inputs),
        cwd=cwd or ROOT,
        env=ansible_environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    output, _ = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, output, "")


def run_render(
    inputs: dict[str, Any], home: Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run playbooks/render.yml to the end; see start_render."""
    return finish(start_render(inputs, home, cwd))


def load_objects(directory: Path) -> dict[str, dict[str, Any]]:
    """Every rendered file in directory: one YAML document holding one object each."""
    objects = {}
    for path in sorted(directory.glob("*.yml")):
        documents = list(yaml.safe_load_all(path.read_text()))
        assert len(documents) == 1, f"{path.name} holds {len(documents)} documents"
        objects[path.name] = documents[0]
    return objects


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Render]:
    """Every scenario rendered once, the runs in parallel (each is a few seconds of Ansible)."""
    started = {}
    for scenario, settings in SCENARIOS.items():
        base = tmp_path_factory.mktemp(scenario)
        inputs = settings | {"sidecar_app_render_dir": str(base / "render")}
        started[scenario] = (inputs, base, start_render(inputs, base / "home"))
    results = {}
    for scenario, (inputs, base, process) in started.items():
        result = finish(process)
        assert result.returncode == 0, f"{scenario}: render failed\n{result.stdout}"
        results[scenario] = Render(inputs, base / "render", load_objects(base / "render"))
    return results


@pytest.fixture(params=list(SCENARIOS))
def render(request: pytest.FixtureRequest, renders: dict[str, Render]) -> Render:
    """One rendered scenario; tests taking it run once per scenario."""
    return renders[request.param]
