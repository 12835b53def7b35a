"""A fake Kubernetes and OpenShift API at the module boundary, for the tests only.

No API server can run on these machines. With tests/fake_cluster first on
ANSIBLE_COLLECTIONS_PATH, this test-only collection stands in for the modules the role calls to
reach a cluster: kubernetes.core.k8s, k8s_info and k8s_log, community.okd.k8s, and
containers.podman.podman_image (which would build and push). Each is an action plugin that runs no
module and contacts nothing:

- every write (k8s, community.okd.k8s, podman_image) is appended, with the arguments exactly as the
  role passed them, to <fake_cluster_dir>/calls.jsonl, fake_cluster_dir being a host variable;
- reads (k8s_info) are answered from the objects those writes left, with the status a healthy
  cluster reports: every replica updated, ready and available, the Route admitted, the Ingress
  given an address, the project active, and every ImageStreamTag present (images already built,
  so the binary build, tested on its own, is not started).

What it proves is what the role sends, not what a real API server would do with it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

Object = dict[str, Any]
Key = tuple[str, str, str]


def plain(value: object) -> Any:  # noqa: ANN401 - any JSON value
    """The task's arguments as plain JSON data, as a module would receive them."""
    return json.loads(json.dumps(value, default=str))


def requested_object(args: dict[str, Any]) -> Object:
    """The object a k8s call names: its definition, or apiVersion, kind and name."""
    if args.get("definition"):
        return copy.deepcopy(args["definition"])
    metadata = {"name": args["name"]} | ({"namespace": args["namespace"]} if args.get("namespace") else {})
    return {"apiVersion": args.get("api_version", "v1"), "kind": args["kind"], "metadata": metadata}


def key_of(obj: Object) -> Key:
    metadata = obj.get("metadata", {})
    return obj["kind"], metadata.get("namespace", ""), metadata["name"]


def with_status(obj: Object) -> Object:
    """The object as a healthy cluster reports it back."""
    obj = copy.deepcopy(obj)
    metadata, spec = obj.setdefault("metadata", {}), obj.get("spec", {})
    metadata.setdefault("generation", 1)
    if obj["kind"] in ("Deployment", "DeploymentConfig"):
        replicas = spec.get("replicas", 1)
        obj["status"] = {
            "observedGeneration": metadata["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [{"type": "Available", "status": "True"}],
        }
    elif obj["kind"] == "Route":
        host = spec.get("host") or f"{metadata['name']}-{metadata['namespace']}.apps.fake-cluster.invalid"
        obj["status"] = {"ingress": [{"host": host, "conditions": [{"type": "Admitted", "status": "True"}]}]}
    elif obj["kind"] == "Ingress":
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
    elif obj["kind"] == "Project":
        obj["status"] = {"phase": "Active"}
    return obj


class FakeCluster:
    """The calls one host made, in <fake_cluster_dir>/calls.jsonl, and the objects they left."""

    def __init__(self, task_vars: dict[str, Any] | None) -> None:
        directory = (task_vars or {}).get("fake_cluster_dir")
        if not directory:
            raise AnsibleActionFail("the fake cluster needs the host variable fake_cluster_dir")
        self.log = Path(str(directory)) / "calls.jsonl"

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def record(self, module: str, args: dict[str, Any], check_mode: bool) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as log:
            log.write(json.dumps({"module": module, "args": args, "check_mode": check_mode}) + "\n")

    def objects(self) -> dict[Key, Object]:
        store: dict[Key, Object] = {}
        for call in self.calls():
            if call["check_mode"] or call["module"] == "containers.podman.podman_image":
                continue
            obj = requested_object(call["args"])
            if call["args"].get("state", "present") == "absent":
                store.pop(key_of(obj), None)
            else:
                store[key_of(obj)] = obj
        return store


class FakeAction(ActionBase):
    """Base of the fake modules: no connection, no module run."""

    _requires_connection = False
    _supports_check_mode = True

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        return result | self.answer(FakeCluster(task_vars), plain(self._task.args))


class Apply(FakeAction):
    """kubernetes.core.k8s: records the call; changed when the object is new, different or deleted."""

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        obj = requested_object(args)
        before = cluster.objects().get(key_of(obj))
        absent = args.get("state", "present") == "absent"
        cluster.record("kubernetes.core.k8s", args, bool(self._task.check_mode))
        changed = before is not None if absent else before != obj
        return {"changed": changed, "result": {} if absent else obj}


class Read(FakeAction):
    """kubernetes.core.k8s_info: the stored objects of that kind (and name and namespace)."""

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        kind, name, namespace = args["kind"], args.get("name"), args.get("namespace")
        if kind == "ImageStreamTag":
            metadata = {"name": name, "namespace": namespace}
            resources = [{"apiVersion": "image.openshift.io/v1", "kind": kind, "metadata": metadata}]
        else:
            resources = [
                with_status(obj)
                for (stored_kind, stored_namespace, stored_name), obj in cluster.objects().items()
                if stored_kind == kind
                and name in (None, stored_name)
                and (namespace in (None, stored_namespace) or kind == "Project")
            ]
        return {"changed": False, "api_found": True, "resources": resources}


class Log(FakeAction):
    """kubernetes.core.k8s_log: nothing logged."""

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        return {"changed": False, "log": "", "log_lines": []}


class RequestProject(FakeAction):
    """community.okd.k8s given a Project: POSTs a ProjectRequest when the Project is missing."""

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        project = requested_object(args)
        if project["kind"] != "Project":
            raise AnsibleActionFail("the fake community.okd.k8s only requests projects")
        if key_of(project) in cluster.objects():
            return {"changed": False, "result": with_status(project)}
        cluster.record("community.okd.k8s", args, bool(self._task.check_mode))
        return {"changed": True, "method": "create", "result": project | {"kind": "ProjectRequest"}}


class BuildImage(FakeAction):
    """containers.podman.podman_image: records what would be built and pushed."""

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        cluster.record("containers.podman.podman_image", args, bool(self._task.check_mode))
        return {"changed": True, "image": []}
