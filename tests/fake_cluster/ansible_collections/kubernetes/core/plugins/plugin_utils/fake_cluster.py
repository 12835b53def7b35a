"""A fake OpenShift API at the module boundary, for the tests only.

Why it stays: a real Kubernetes runs here (make cluster) and the tests use it for everything it
can show (molecule/kubernetes and molecule/openshift, tests/cluster/). What only OpenShift's own
controllers and API servers do cannot run here: ProjectRequests, BuildConfig builds and
ImageStreamTags, DeploymentConfig rollouts, the router admitting a Route, and the move from the
tutorial's DeploymentConfig that needs all of these. The deployments to OpenShift that depend on
them are played against this stand-in, which never writes a status into a real cluster. With
tests/fake_cluster first on
ANSIBLE_COLLECTIONS_PATH, this test-only collection stands in for the modules the role calls to
reach a cluster: kubernetes.core.k8s, k8s_info, k8s_json_patch and k8s_log, community.okd.k8s,
and containers.podman.podman_image (which would build and push). Each is an action plugin that
runs no module and contacts nothing:

- every call, reads included, is appended with the arguments exactly as the role passed them to
  <fake_cluster_dir>/calls.jsonl, fake_cluster_dir being a host variable (but k8s_log's, and
  community.okd.k8s's when the project exists and nothing is requested);
- the objects are those of <fake_cluster_dir>/seed.json, if any (a JSON list of
  {"manager": ..., "object": ...}: objects made earlier by another field manager, such as
  `oc create -f`, whose manager is kubectl-create), changed by the writes recorded since, in order;
- reads (k8s_info) are answered from those objects, with the status a healthy cluster reports:
  every replica updated, ready and available, the Route admitted, the Ingress given an address,
  the project active, and every ImageStreamTag present (images already built, so the binary
  build, tested on its own, is not started).

Writes change the objects as an API server would, in the parts the role depends on:

- server-side apply (k8s with apply and server_side_apply) tracks which field manager set which
  field: an object made by another manager is merged with what is applied, maps recursively,
  lists and scalars replaced (force_conflicts takes them over); fields a manager applied before
  and applies no more are removed unless another manager set them too. So, as on a real cluster,
  applying a Service over one made by hand keeps the selector keys only the other manager set.
  A real server merges keyed lists (a Service's ports, keyed by port and protocol) item by item;
  with the one port 8081/TCP on both sides, as here, that ends as replacing the list does;
- any other k8s write (create or update, community.okd.k8s) sets the whole object;
- k8s_json_patch applies the RFC 6902 operations add, remove, replace and test to the object,
  failing as the API server would when a path is missing; the fields it changes become its own;
- state absent deletes the object.

What it proves is what the role sends and what the objects end as under these rules, not what a
real API server would do with it (defaults, admission, immutable fields, controllers).
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

Object = dict[str, Any]
Key = tuple[str, str, str]
# The place of a field in an object: the keys leading to it.
FieldPath = tuple[str, ...]

# The field managers of writes that are not server-side applies. kubernetes.core does not name
# one; the API server takes the client's user agent.
UPDATE_MANAGER = "OpenAPI-Generator"
WRITES = ("kubernetes.core.k8s", "kubernetes.core.k8s_json_patch", "community.okd.k8s")


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


def fields_of(value: Any, path: FieldPath = ()) -> dict[FieldPath, Any]:  # noqa: ANN401 - any JSON value
    """Every field a manager can own, with its value: maps are walked into (an empty one is a
    field itself), lists and scalars are single fields, as server-side apply treats atomic lists."""
    if isinstance(value, dict) and value:
        found: dict[FieldPath, Any] = {}
        for name, item in value.items():
            found |= fields_of(item, (*path, name))
        return found
    return {path: value}


def value_at(obj: Object, path: FieldPath) -> Any:  # noqa: ANN401 - any JSON value
    """The value of the field, or None where there is none."""
    value: Any = obj
    for name in path:
        if not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    return value


def set_at(obj: Object, path: FieldPath, value: Any) -> None:  # noqa: ANN401 - any JSON value
    for name in path[:-1]:
        if not isinstance(obj.get(name), dict):
            obj[name] = {}
        obj = obj[name]
    obj[path[-1]] = copy.deepcopy(value)


def remove_at(obj: Object, path: FieldPath) -> None:
    """Removes the field, then every map above it that it leaves empty."""
    parents = [obj]
    for name in path[:-1]:
        if not isinstance(parents[-1].get(name), dict):
            return
        parents.append(parents[-1][name])
    parents[-1].pop(path[-1], None)
    for depth in range(len(path) - 1, 0, -1):
        if parents[depth]:
            break
        parents[depth - 1].pop(path[depth - 1])


def above_or_below(one: FieldPath, other: FieldPath) -> bool:
    """Whether one field holds the other or the other holds it (not the same field)."""
    shorter = min(len(one), len(other))
    return one != other and one[:shorter] == other[:shorter]


@dataclass
class Stored:
    """An object and, for each of its fields, the field managers that set it."""

    object: Object
    managers: dict[FieldPath, set[str]] = field(default_factory=dict)

    def update(self, new: Object, manager: str) -> Stored:
        """The object another write (create, update, patch) made new: fields it left as they
        were keep their managers, fields it changed or added are manager's, the others are gone."""
        before, after = fields_of(self.object), fields_of(new)
        managers = {
            path: set(owners)
            for path, owners in self.managers.items()
            if path in after and path in before and after[path] == before[path]
        }
        for path in after:
            managers.setdefault(path, {manager})
        return Stored(copy.deepcopy(new), managers)

    def apply(self, config: Object, manager: str) -> Stored:
        """A forced server-side apply of config by manager."""
        obj, managers = copy.deepcopy(self.object), {path: set(m) for path, m in self.managers.items()}
        applied = fields_of(config)
        # Fields manager applied before and applies no more: removed, unless another manager set them.
        for path in [path for path, owners in managers.items() if manager in owners and path not in applied]:
            managers[path].discard(manager)
            if not managers[path]:
                del managers[path]
                remove_at(obj, path)
        for path, value in applied.items():
            # Forced: whoever set a field holding this one, or held by it, or this one to another
            # value, loses it. An empty map only says that the map is there: what others set in
            # it stays.
            for other in list(managers):
                if above_or_below(other, path) and not (value == {} and other[: len(path)] == path):
                    del managers[other]
            if path in managers and value_at(obj, path) != value:
                managers[path] = set()
            managers.setdefault(path, set()).add(manager)
            if value != {} or not isinstance(value_at(obj, path), dict):
                set_at(obj, path, value)
        return Stored(obj, managers)


def json_patch(obj: Object, operations: list[dict[str, Any]]) -> Object:
    """obj after the RFC 6902 operations add, remove, replace and test."""
    obj = copy.deepcopy(obj)
    for operation in operations:
        op, pointer = operation["op"], operation["path"]
        names = [name.replace("~1", "/").replace("~0", "~") for name in pointer.split("/")[1:]]
        try:
            parent = obj
            for name in names[:-1]:
                parent = parent[int(name)] if isinstance(parent, list) else parent[name]
            last = names[-1]
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                if op == "add":
                    parent.insert(index, copy.deepcopy(operation["value"]))
                    continue
                current = parent[index]
            else:
                if op == "add":
                    parent[last] = copy.deepcopy(operation["value"])
                    continue
                current = parent[last]
        except (KeyError, IndexError, ValueError, TypeError) as error:
            raise AnsibleActionFail(f"the fake cluster cannot {op} {pointer}: it is not there") from error
        if op == "remove":
            del parent[index if isinstance(parent, list) else last]
        elif op == "replace":
            parent[index if isinstance(parent, list) else last] = copy.deepcopy(operation["value"])
        elif op == "test":
            if current != operation["value"]:
                raise AnsibleActionFail(f"the fake cluster's test of {pointer} failed")
        else:
            raise AnsibleActionFail(f"the fake cluster does not know the JSON patch operation {op}")
    return obj


class FakeCluster:
    """The calls one host made, in <fake_cluster_dir>/calls.jsonl, and the objects they left."""

    def __init__(self, task_vars: dict[str, Any] | None) -> None:
        directory = (task_vars or {}).get("fake_cluster_dir")
        if not directory:
            raise AnsibleActionFail("the fake cluster needs the host variable fake_cluster_dir")
        self.log = Path(str(directory)) / "calls.jsonl"
        self.seed = Path(str(directory)) / "seed.json"
        # As an OpenShift user who is not a cluster admin: reading in a project that does not
        # exist is refused (403), not answered with nothing.
        self.forbid_missing_projects = bool((task_vars or {}).get("fake_cluster_not_admin", False))

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def record(self, module: str, args: dict[str, Any], check_mode: bool) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as log:
            log.write(json.dumps({"module": module, "args": args, "check_mode": check_mode}) + "\n")

    def stored(self) -> dict[Key, Stored]:
        """The seeded objects, changed by every write recorded since (check mode changes nothing)."""
        store: dict[Key, Stored] = {}
        for seeded in json.loads(self.seed.read_text()) if self.seed.exists() else []:
            store[key_of(seeded["object"])] = Stored({}).update(seeded["object"], seeded["manager"])
        for call in self.calls():
            if not call["check_mode"] and call["module"] in WRITES:
                store = write(store, call["module"], call["args"])
        return store

    def objects(self) -> dict[Key, Object]:
        return {key: stored.object for key, stored in self.stored().items()}


def write(store: dict[Key, Stored], module: str, args: dict[str, Any]) -> dict[Key, Stored]:
    """The store after one write."""
    store = dict(store)
    key = key_of(requested_object(args))
    before = store.get(key, Stored({}))
    if module == "kubernetes.core.k8s_json_patch":
        if key not in store:
            raise AnsibleActionFail(f"the fake cluster has no {key[0]} {key[2]} to patch")
        store[key] = before.update(json_patch(before.object, args["patch"]), UPDATE_MANAGER)
    elif args.get("state", "present") == "absent":
        store.pop(key, None)
    elif args.get("apply") and args.get("server_side_apply"):
        store[key] = before.apply(requested_object(args), args["server_side_apply"]["field_manager"])
    else:
        store[key] = Stored({}).update(requested_object(args), UPDATE_MANAGER)
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


class Write(FakeAction):
    """kubernetes.core.k8s and k8s_json_patch: records the call; changed when the object is new,
    different or deleted; returns the object as it is (or would be, in check mode) after."""

    module = "kubernetes.core.k8s"

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        store = cluster.stored()
        key = key_of(requested_object(args))
        after = write(store, self.module, args)
        cluster.record(self.module, args, bool(self._task.check_mode))
        before, now = store.get(key), after.get(key)
        changed = (before.object if before else None) != (now.object if now else None)
        return {"changed": changed, "result": now.object if now else {}}


class Apply(Write):
    """kubernetes.core.k8s."""


class JsonPatch(Write):
    """kubernetes.core.k8s_json_patch."""

    module = "kubernetes.core.k8s_json_patch"


class Read(FakeAction):
    """kubernetes.core.k8s_info: records the call; the stored objects of that kind (and name and
    namespace)."""

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        kind, name, namespace = args["kind"], args.get("name"), args.get("namespace")
        cluster.record("kubernetes.core.k8s_info", args, bool(self._task.check_mode))
        projects = {key[2] for key in cluster.objects() if key[0] == "Project"}
        if cluster.forbid_missing_projects and namespace and namespace not in projects:
            raise AnsibleActionFail(f"Forbidden (403): {kind} in project {namespace}")
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
    """containers.podman.podman_image: records what would be built and pushed. Started with async,
    as the role starts its builds, it answers as the real module does (a job id) and leaves its
    result where ansible.builtin.async_status finds a job that has finished."""

    _supports_async = True

    def answer(self, cluster: FakeCluster, args: dict[str, Any]) -> dict[str, Any]:
        cluster.record("containers.podman.podman_image", args, bool(self._task.check_mode))
        return {"changed": True, "image": []}

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        if not self._task.async_val:
            return result
        # Where async_status looks (its action plugin expands the directory the same way), on the
        # target, which is this machine: the fake cluster runs with the local connection only.
        jobs = Path(self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async")))
        jobs.mkdir(parents=True, exist_ok=True)
        job = f"j{secrets.randbelow(10**12)}"
        (jobs / job).write_text(json.dumps(result))
        return {"ansible_job_id": job, "started": 1, "finished": 0, "results_file": str(jobs / job)}
