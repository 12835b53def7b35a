"""What the role made for one set of inputs, rendered to files or applied to the fake cluster,
as the tests read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from playbook_runs import Played, inventory, play


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


def load_objects(directory: Path) -> dict[str, dict[str, Any]]:
    """Every rendered file in directory: one YAML document holding one object each."""
    objects = {}
    for path in sorted(directory.glob("*.yml")):
        documents = list(yaml.safe_load_all(path.read_text()))
        assert len(documents) == 1, f"{path.name} holds {len(documents)} documents"
        objects[path.name] = documents[0]
    return objects


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


@dataclass(frozen=True)
class Rendered:
    """playbooks/render.yml run once for several hosts: each one's objects, and the run."""

    sets: dict[str, ObjectSet]
    played: Played
    inventory: Path
    home: Path

    def again(self) -> Played:
        return play("playbooks/render.yml", "-i", str(self.inventory), home=self.home).must_succeed()


def render(base: Path, hosts: dict[str, dict[str, Any]]) -> Rendered:
    """Render each host's inputs into base/<host>; the run must succeed."""
    hosts = {name: inputs | {"sidecar_app_render_dir": str(base / name)} for name, inputs in hosts.items()}
    hosts_file = inventory(base / "hosts.yml", hosts)
    played = play("playbooks/render.yml", "-i", str(hosts_file), home=base / "home").must_succeed()
    sets = {name: ObjectSet(inputs, load_objects(base / name), base / name) for name, inputs in hosts.items()}
    return Rendered(sets, played, hosts_file, base / "home")
