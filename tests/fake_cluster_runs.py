"""Playbook runs against tests/fake_cluster, and what the fake cluster holds and recorded after them.

tests/fake_cluster is a test-only collection, put ahead of the real ones on
ANSIBLE_COLLECTIONS_PATH, whose kubernetes.core.k8s (and k8s_info, community.okd.k8s,
containers.podman.podman_image) stand in for OpenShift's API and controllers, which cannot run
here (see fake_cluster.py there). Each host names its own cluster, a directory, with
fake_cluster_dir: calls.jsonl there records every call the role made.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from combinations import APP_IMAGE, COMMON, PROXY_IMAGE
from playbook_runs import inventory, play
from repository import ROOT, load_source

FAKE_CLUSTER = ROOT / "tests/fake_cluster"
# The environment that puts the fake cluster's collection ahead of the real ones.
FAKE_CLUSTER_FIRST = {"ANSIBLE_COLLECTIONS_PATH": f"{FAKE_CLUSTER}{os.pathsep}{ROOT / 'collections'}"}
# OpenShift inputs for deploy.yml on the fake cluster: given images, so nothing is built.
INPUTS: dict[str, Any] = COMMON | {
    "sidecar_app_platform": "openshift",
    "sidecar_app_image_build": "none",
    "sidecar_app_app_image": APP_IMAGE,
    "sidecar_app_proxy_image": PROXY_IMAGE,
    "sidecar_app_verify": False,
}
WORKLOAD_KINDS = ("Deployment", "DeploymentConfig")


@functools.cache
def fake_cluster_plugin() -> ModuleType:
    """tests/fake_cluster's plugin_utils, to read the objects a fake cluster directory holds.
    Loaded on first use: it imports much of Ansible, which most tests never need."""
    return load_source(
        "tests/fake_cluster/ansible_collections/kubernetes/core/plugins/plugin_utils/fake_cluster.py",
        "fake_cluster",
    )


def load_calls(directory: Path) -> list[dict[str, Any]]:
    """Every call the role made of the fake cluster in directory, in order."""
    log = directory / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def seed(directory: Path, objects: list[dict[str, Any]], manager: str) -> None:
    """Start the fake cluster in directory with objects, as the field manager `manager` set them."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = [{"manager": manager, "object": obj} for obj in objects]
    (directory / "seed.json").write_text(json.dumps(entries))


def call_of(module: str, kind: str, name: str, **args: Any) -> Callable[[dict[str, Any]], bool]:  # noqa: ANN401
    """Matches a call of module on the object kind/name with these arguments, outside check mode."""

    def matches(call: dict[str, Any]) -> bool:
        given = call["args"]
        target = given.get("definition") or {
            "kind": given.get("kind"),
            "metadata": {"name": given.get("name")},
        }
        return (
            call["module"] == module
            and not call["check_mode"]
            and (target["kind"], target["metadata"]["name"]) == (kind, name)
            and all(given.get(key) == value for key, value in args.items())
        )

    return matches


@dataclass(frozen=True)
class Run:
    """One ansible-playbook run of playbooks/deploy.yml for one host: what it printed, what it
    asked of the fake cluster, and the objects the fake cluster held after it."""

    output: str
    changed: int
    calls: list[dict[str, Any]]
    objects: dict[tuple[str, str, str], dict[str, Any]]

    def workloads(self, namespace: str) -> list[dict[str, Any]]:
        return [
            obj
            for (kind, stored_namespace, _name), obj in self.objects.items()
            if kind in WORKLOAD_KINDS and stored_namespace == namespace
        ]

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, namespace, name))

    def rolled_out(self, kind: str, name: str) -> tuple[int, int]:
        """Where in the calls the workload was applied, and where the wait found it available."""
        applied = self.index(f"applies the {kind}", call_of("kubernetes.core.k8s", kind, name, apply=True))
        waited = self.index(
            f"waits for the {kind} to be available",
            call_of("kubernetes.core.k8s_info", kind, name, wait=True),
        )
        return applied, waited

    def removal(self, kind: str, name: str) -> int:
        """Where in the calls the workload kind/name was removed."""
        return self.index(f"removes the {kind}", call_of("kubernetes.core.k8s", kind, name, state="absent"))

    def index(self, describe: str, matches: Callable[[dict[str, Any]], bool]) -> int:
        """Where in the calls the only one that matches is."""
        found = [number for number, call in enumerate(self.calls) if matches(call)]
        assert len(found) == 1, f"expected one call that {describe}, got {len(found)}"
        return found[0]


def deploy(
    base: Path, run: str, hosts: dict[str, dict[str, Any]], *arguments: str, env: dict[str, str] | None = None
) -> dict[str, Run]:
    """playbooks/deploy.yml on hosts (each with its own fake_cluster_dir) against the fake cluster,
    with one HOME for every run (the state directory, as on one controller); env adds to or changes
    the environment."""
    before = {host: len(load_calls(Path(inputs["fake_cluster_dir"]))) for host, inputs in hosts.items()}
    played = play(
        "playbooks/deploy.yml",
        "-i",
        str(inventory(base / f"{run}.yml", hosts)),
        *arguments,
        home=base / "home",
        env=FAKE_CLUSTER_FIRST | (env or {}),
        timeout=600,
    )
    (base / f"{run}.log").write_text(played.output)
    played.must_succeed(f"the {run} run")
    runs = {}
    for host, inputs in hosts.items():
        directory = Path(inputs["fake_cluster_dir"])
        cluster = fake_cluster_plugin().FakeCluster({"fake_cluster_dir": str(directory)})
        calls = load_calls(directory)[before[host] :]
        runs[host] = Run(played.output, played.changed(host), calls, copy.deepcopy(cluster.objects()))
    return runs
