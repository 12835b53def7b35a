"""What the role makes for the cluster targets, for every combination of inputs, in two runs.

Each set of inputs is a host of a generated inventory, so one ansible-playbook run covers them
all (a run per combination would pay Ansible's start-up each time):

- the apply run plays playbooks/deploy.yml over the OpenShift combinations against
  tests/fake_cluster, a test-only collection that stands in for the cluster modules and records
  every object they are given: OpenShift's own controllers (ProjectRequests, builds,
  DeploymentConfig rollouts, the router) cannot run here (see fake_cluster.py there);
- the render run plays playbooks/render.yml over the RENDERED combinations and every Kubernetes
  combination, each host with its own render directory. The Kubernetes apply path runs on the
  local cluster instead (molecule/kubernetes, tests/cluster/).

The two runs go in parallel, each host with its own state directory and fake cluster.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FAKE_CLUSTER = ROOT / "tests/fake_cluster"
PASSWORD = "correct horse battery staple"
APP_IMAGE = "registry.example.com/team/hello-app:1.0"
PROXY_IMAGE = "registry.example.com/team/hello-proxy@sha256:" + "0" * 64
REGISTRY = "registry.example.com/ns"
HOST = "hello.apps.example.com"
CSC_PROJECT = "2001234"
# bcrypt cost 10, the lowest the role accepts, keeps 40 hashes cheap; the cost itself is tested
# in test_htpasswd_filter.py.
COMMON = {"sidecar_app_bcrypt_rounds": 10}

BUILDS: dict[str, dict[str, Any]] = {
    "cluster-build": {"sidecar_app_image_build": "cluster"},
    "pushed-image": {"sidecar_app_image_build": "podman", "sidecar_app_registry": REGISTRY},
    "given-images": {
        "sidecar_app_image_build": "none",
        "sidecar_app_app_image": APP_IMAGE,
        "sidecar_app_proxy_image": PROXY_IMAGE,
    },
}
# Inputs a few combinations add, so that they are covered too.
EXTRAS: dict[str, dict[str, Any]] = {
    "openshift-deploymentconfig-cluster-build-3-replicas-host": {
        "sidecar_app_name": "wiki",
        "sidecar_app_namespace": "team-wiki",
    },
    # A CPU limit other than the default, which the gunicorn workers follow.
    "openshift-deployment-given-images-1-replica-no-host": {
        "sidecar_app_app_resources": {
            "requests": {"cpu": "500m", "memory": "64Mi"},
            "limits": {"cpu": "1500m", "memory": "192Mi"},
        },
    },
    "kubernetes-deployment-given-images-3-replicas-host": {
        "sidecar_app_ingress_class_name": "nginx",
        "sidecar_app_ingress_tls_secret": "hello-tls",
    },
}


def load_source(relative: str, name: str) -> ModuleType:
    """The Python file at ROOT/relative (a plugin, a module) loaded as the module name, the way
    the tests use the collection's code without an installed collection. Registered in
    sys.modules before it runs, so that its dataclasses can find it."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def combination_name(platform: str, kind: str, build: str, replicas: int, host: str) -> str:
    replica_word = "replica" if replicas == 1 else "replicas"
    return f"{platform}-{kind.lower()}-{build}-{replicas}-{replica_word}-{'host' if host else 'no-host'}"


def full_matrix() -> dict[str, dict[str, Any]]:
    """{openshift, kubernetes} x {Deployment, DeploymentConfig} x BUILDS x {1, 3} x {host, none},
    without what exists on OpenShift only (DeploymentConfigs and cluster builds) on Kubernetes."""
    combinations = {}
    for platform, kind, build, replicas, host in itertools.product(
        ["openshift", "kubernetes"], ["Deployment", "DeploymentConfig"], BUILDS, [1, 3], [HOST, ""]
    ):
        if platform == "kubernetes" and (kind == "DeploymentConfig" or build == "cluster-build"):
            continue
        name = combination_name(platform, kind, build, replicas, host)
        inputs = {
            "sidecar_app_platform": platform,
            "sidecar_app_workload_kind": kind,
            "sidecar_app_replicas": replicas,
            **BUILDS[build],
            **({"sidecar_app_route_host": host} if host else {}),
        }
        combinations[name] = COMMON | inputs | EXTRAS.get(name, {})
    return combinations


RAHTI = {
    "sidecar_app_platform": "openshift",
    "sidecar_app_platform_preset": "rahti2",
    "sidecar_app_csc_project": CSC_PROJECT,
}
# The CSC Rahti 2 preset on a few combinations: its defaults (host, registry, resources) and rules.
RAHTI_COMBINATIONS: dict[str, dict[str, Any]] = {
    "rahti2-deployment-cluster-build-3-replicas-no-host": COMMON
    | RAHTI
    | {
        "sidecar_app_namespace": "my-hello",
        "sidecar_app_project_display_name": "My hello",
        "sidecar_app_project_description": "Hello World behind nginx",
        "sidecar_app_replicas": 3,
    },
    "rahti2-deploymentconfig-pushed-image-1-replica-no-host": COMMON
    | RAHTI
    | {"sidecar_app_workload_kind": "DeploymentConfig", "sidecar_app_image_build": "podman"},
    "rahti2-deployment-given-images-3-replicas-host": COMMON
    | RAHTI
    | BUILDS["given-images"]
    | {"sidecar_app_replicas": 3, "sidecar_app_route_host": HOST},
}
COMBINATIONS = full_matrix() | RAHTI_COMBINATIONS
# Rendered to files as well, and compared with what was applied: both platforms, both workload
# kinds, the three ways images come to be, one and three replicas, with and without a host, and
# the preset.
RENDERED = [
    "openshift-deploymentconfig-cluster-build-3-replicas-host",
    "openshift-deployment-pushed-image-1-replica-no-host",
    "rahti2-deployment-cluster-build-3-replicas-no-host",
]
# The fake cluster plays what only OpenShift's controllers do (ProjectRequests, builds,
# DeploymentConfig rollouts, the router): the OpenShift combinations are applied to it. The
# Kubernetes combinations are rendered only: their apply path runs on a real cluster, the local
# one, in molecule/kubernetes and tests/cluster/ (which also proves there that render = apply).
APPLIED_TO_FAKE = [
    name for name, inputs in COMBINATIONS.items() if inputs["sidecar_app_platform"] == "openshift"
]
RENDERED_ONLY = [name for name in COMBINATIONS if name not in APPLIED_TO_FAKE]
# Every set of objects the tests check: "rendered/<combination>" or "applied/<combination>".
OBJECT_SETS = [f"rendered/{name}" for name in RENDERED + RENDERED_ONLY] + [
    f"applied/{name}" for name in APPLIED_TO_FAKE
]


def object_sets_with(**inputs: Any) -> list[str]:  # noqa: ANN401 - inputs are any YAML value
    """The OBJECT_SETS whose combination has these inputs."""
    return [
        name
        for name in OBJECT_SETS
        if all(COMBINATIONS[name.split("/")[1]].get(key) == value for key, value in inputs.items())
    ]


@dataclass(frozen=True)
class ObjectSet:
    """What the role made for one set of inputs: the files it rendered or the objects it applied.

    objects maps a file name (rendered) or the name the file would have (applied: the Secret
    00-secret-<name>.yml, every other object numbered in the order it was applied) to the object.
    """

    inputs: dict[str, Any]
    objects: dict[str, dict[str, Any]]
    directory: Path | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

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

    @property
    def preset(self) -> str:
        return str(self.get("sidecar_app_platform_preset", ""))

    @property
    def route_host(self) -> str:
        """The host the inputs ask for, or the preset's default one."""
        default = f"{self.name}-{self.namespace}.2.rahtiapp.fi" if self.preset == "rahti2" else ""
        return str(self.get("sidecar_app_route_host", default))

    @property
    def registry(self) -> str:
        default = f"image-registry.apps.2.rahti.csc.fi/{self.namespace}" if self.preset == "rahti2" else ""
        return str(self.get("sidecar_app_registry", default))

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

    def applied(self, module: str) -> list[dict[str, Any]]:
        """The arguments of every call of module (applied sets only)."""
        return [call["args"] for call in self.calls if call["module"] == module]


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
        # The role asks the registry (skopeo) whether it has an image before a push: sent to a
        # loopback address where nothing listens, it fails at once without a look-up of the
        # made-up registry hosts, and the push that follows is the fake cluster's.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def ansible_playbook(playbook: str, *arguments: str) -> list[str]:
    return [str(Path(sys.executable).parent / "ansible-playbook"), str(ROOT / playbook), *arguments]


def run_render(
    inputs: dict[str, Any],
    home: Path,
    cwd: Path | None = None,
    *arguments: str,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run playbooks/render.yml with inputs as extra vars and arguments (e.g. --check); cwd is
    where it runs (default ROOT), env what to add to or change in its environment."""
    return subprocess.run(
        ansible_playbook("playbooks/render.yml", "-e", json.dumps(inputs), *arguments),
        cwd=cwd or ROOT,
        env=ansible_environment(home) | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )


def load_objects(directory: Path) -> dict[str, dict[str, Any]]:
    """Every rendered file in directory: one YAML document holding one object each."""
    objects = {}
    for path in sorted(directory.glob("*.yml")):
        documents = list(yaml.safe_load_all(path.read_text()))
        assert len(documents) == 1, f"{path.name} holds {len(documents)} documents"
        objects[path.name] = documents[0]
    return objects


def load_calls(directory: Path) -> list[dict[str, Any]]:
    log = directory / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def applied_objects(calls: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The objects given to kubernetes.core.k8s, under the file names render mode gives them."""
    definitions = [
        call["args"]["definition"]
        for call in calls
        if call["module"] == "kubernetes.core.k8s"
        and call["args"].get("state", "present") == "present"
        and call["args"].get("definition")
    ]
    objects = {f"00-secret-{d['metadata']['name']}.yml": d for d in definitions if d["kind"] == "Secret"}
    others = [d for d in definitions if d["kind"] != "Secret"]
    for number, obj in enumerate(others, start=1):
        objects[f"{number:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yml"] = obj
    return objects


def write_inventory(path: Path, hosts: dict[str, dict[str, Any]]) -> Path:
    """An inventory whose sidecar_app_targets are hosts, each with its own variables, run locally."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    targets = {"hosts": {host: local | host_vars for host, host_vars in hosts.items()}}
    path.write_text(yaml.safe_dump({"all": {"children": {"sidecar_app_targets": targets}}}))
    return path


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


@pytest.fixture(scope="session")
def object_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ObjectSet]:
    """Every combination applied to the fake cluster and the RENDERED ones rendered, in two runs."""
    base = tmp_path_factory.mktemp("object-sets")
    rendered, applied = base / "rendered", base / "applied"
    # The state directory is the default one, under each run's HOME: hosts of the same name share
    # it, as targets run from one controller do. Safe while the combinations leave nginx.conf
    # alone: every host stages the same build context, and each task ends on every host before
    # the next (linear strategy) fingerprints it.
    render_hosts = {
        name: COMBINATIONS[name] | {"sidecar_app_render_dir": str(rendered / name)}
        for name in RENDERED + RENDERED_ONLY
    }
    apply_hosts = {
        name: COMBINATIONS[name] | {"fake_cluster_dir": str(applied / name), "sidecar_app_verify": False}
        for name in APPLIED_TO_FAKE
    }
    forks = {"ANSIBLE_FORKS": str(max(4, 2 * (os.cpu_count() or 1)))}
    fake_cluster_first = {"ANSIBLE_COLLECTIONS_PATH": f"{FAKE_CLUSTER}{os.pathsep}{ROOT / 'collections'}"}
    runs = {
        run: start(
            ansible_playbook(playbook, "-i", str(write_inventory(base / f"{run}.yml", hosts))),
            ansible_environment(base / f"{run}-home") | forks | env,
            base / f"{run}.log",
        )
        for run, playbook, hosts, env in [
            ("rendered", "playbooks/render.yml", render_hosts, {}),
            ("applied", "playbooks/deploy.yml", apply_hosts, fake_cluster_first),
        ]
    }
    try:
        for run, process in runs.items():
            assert process.wait(timeout=900) == 0, (
                f"the {run} run failed:\n{(base / f'{run}.log').read_text()[-20000:]}"
            )
    finally:
        for process in runs.values():
            if process.poll() is None:
                process.kill()
    sets = {
        f"rendered/{name}": ObjectSet(COMBINATIONS[name], load_objects(directory), directory)
        for name in RENDERED + RENDERED_ONLY
        for directory in [rendered / name]
    }
    for name in APPLIED_TO_FAKE:
        calls = load_calls(applied / name)
        sets[f"applied/{name}"] = ObjectSet(COMBINATIONS[name], applied_objects(calls), calls=calls)
    return sets


@pytest.fixture(params=OBJECT_SETS)
def object_set(request: pytest.FixtureRequest, object_sets: dict[str, ObjectSet]) -> ObjectSet:
    """One set of objects, rendered or applied; tests taking it run once per set."""
    return object_sets[request.param]


@pytest.fixture(params=RENDERED)
def render(request: pytest.FixtureRequest, object_sets: dict[str, ObjectSet]) -> ObjectSet:
    """One rendered set, with its directory; tests taking it run once per rendered combination."""
    return object_sets[f"rendered/{request.param}"]
