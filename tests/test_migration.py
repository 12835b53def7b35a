"""Moving from the tutorial's objects, and between the two workload kinds, leaves one workload.

The CSC Rahti tutorial (github.com/CSCfi/nginx-sidecar) makes by hand, with `oc create -f`, a
DeploymentConfig and a Service named python-and-sidecar and, with `oc create route edge sidecar`,
a Route named sidecar. playbooks/deploy.yml, asked for a Deployment of that name, runs here
against tests/fake_cluster seeded with those three objects. No API server can run here, so the
fake stands at that boundary (the mock of the API server we cannot run): it starts from the seeded
objects, recorded as set by kubectl-create, and merges server-side applies as an API server
does, maps recursively, lists and scalars replaced, keeping the fields only another field manager
set. A Service applied over the tutorial's would thus keep its selector keys `app` and
`deploymentconfig`, as on a real cluster, and select none of the role's pods.

What the fake cannot show is time: that the old pods serve until the new ones are ready. The
order of the recorded calls stands for it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fake_cluster_runs import INPUTS, Run, call_of, deploy, fake_cluster_plugin, seed

TUTORIAL = "python-and-sidecar"
NAMESPACE = "my-tutorial"
OWN_SWITCH_NAMESPACE = "switching"
TUTORIAL_LABELS = {"app": TUTORIAL, "deploymentconfig": TUTORIAL}
TUTORIAL_INPUTS = INPUTS | {
    "sidecar_app_name": TUTORIAL,
    "sidecar_app_namespace": NAMESPACE,
    "sidecar_app_workload_kind": "Deployment",
}
OWN_SWITCH_INPUTS = INPUTS | {"sidecar_app_name": "hello", "sidecar_app_namespace": OWN_SWITCH_NAMESPACE}
# What `oc create -f` made from the tutorial's templates, and `oc create route edge sidecar
# --service=python-and-sidecar --insecure-policy=Redirect` (which names the Service's port).
TUTORIAL_OBJECTS: list[dict[str, Any]] = [
    {
        "apiVersion": "project.openshift.io/v1",
        "kind": "Project",
        "metadata": {"name": NAMESPACE},
    },
    {
        "apiVersion": "apps.openshift.io/v1",
        "kind": "DeploymentConfig",
        "metadata": {"name": TUTORIAL, "namespace": NAMESPACE, "labels": {"app": TUTORIAL}},
        "spec": {
            "replicas": 1,
            "selector": TUTORIAL_LABELS,
            "strategy": {"type": "Rolling"},
            "template": {
                "metadata": {"labels": TUTORIAL_LABELS},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "cscfi/nginx-sidecar:latest",
                            "ports": [{"containerPort": 8081, "protocol": "TCP"}],
                        },
                        {
                            "name": "python",
                            "image": "cscfi/hello-world-opensift:latest",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        },
                    ]
                },
            },
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": TUTORIAL, "namespace": NAMESPACE, "labels": {"app": TUTORIAL}},
        "spec": {
            "ports": [{"name": "8081-tcp", "port": 8081, "protocol": "TCP", "targetPort": 8081}],
            "selector": TUTORIAL_LABELS,
            "sessionAffinity": "None",
            "type": "ClusterIP",
        },
    },
    {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "sidecar", "namespace": NAMESPACE, "labels": {"app": TUTORIAL}},
        "spec": {
            "to": {"kind": "Service", "name": TUTORIAL, "weight": 100},
            "port": {"targetPort": "8081-tcp"},
            "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"},
            "wildcardPolicy": "None",
        },
    },
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """In three runs of playbooks/deploy.yml:

    - check: the role in check mode on the tutorial's objects;
    - tutorial: the role, asked for a Deployment python-and-sidecar, on the tutorial's objects;
      tutorial-again: the same once more, on what the first left;
    - deployment then deploymentconfig: the role's own Deployment, then a DeploymentConfig in
      its place.
    """
    base = tmp_path_factory.mktemp("migration")
    tutorial, check, switch = (base / "tutorial", base / "check", base / "switch")
    for directory in (tutorial, check):
        seed(directory, TUTORIAL_OBJECTS, "kubectl-create")
    found = deploy(
        base, "check", {"check": TUTORIAL_INPUTS | {"fake_cluster_dir": str(check)}}, "--check", "--diff"
    )
    first = deploy(
        base,
        "first",
        {
            "tutorial": TUTORIAL_INPUTS | {"fake_cluster_dir": str(tutorial)},
            "switch": OWN_SWITCH_INPUTS
            | {"fake_cluster_dir": str(switch), "sidecar_app_workload_kind": "Deployment"},
        },
    )
    second = deploy(
        base,
        "second",
        {
            "tutorial": TUTORIAL_INPUTS | {"fake_cluster_dir": str(tutorial)},
            "switch": OWN_SWITCH_INPUTS
            | {"fake_cluster_dir": str(switch), "sidecar_app_workload_kind": "DeploymentConfig"},
        },
    )
    return {
        "check": found["check"],
        "tutorial": first["tutorial"],
        "tutorial-again": second["tutorial"],
        "deployment": first["switch"],
        "deploymentconfig": second["switch"],
    }


def seeded() -> dict[tuple[str, str, str], dict[str, Any]]:
    return {fake_cluster_plugin().key_of(obj): obj for obj in TUTORIAL_OBJECTS}


def our_selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def test_the_fake_cluster_keeps_another_managers_selector_keys_on_apply_as_a_real_one_does() -> None:
    # The problem the role solves, shown on the fake: a plain server-side apply of the role's
    # Service over the tutorial's leaves both selectors, which together select no pod.
    (service,) = [obj for obj in TUTORIAL_OBJECTS if obj["kind"] == "Service"]
    ours = copy.deepcopy(service)
    ours["metadata"]["labels"] = {"app.kubernetes.io/name": TUTORIAL}
    ours["spec"] = {"selector": our_selector(TUTORIAL), "ports": [{"name": "http", "port": 8081}]}
    stored = fake_cluster_plugin().Stored
    applied = stored({}).update(service, "kubectl-create").apply(ours, "authproxy-sidecar").object
    assert applied["spec"]["selector"] == TUTORIAL_LABELS | our_selector(TUTORIAL)
    assert applied["metadata"]["labels"] == {"app": TUTORIAL, "app.kubernetes.io/name": TUTORIAL}
    # Lists are replaced, and a field no one applies any more is gone.
    assert applied["spec"]["ports"] == [{"name": "http", "port": 8081}]
    again = stored({}).apply(ours, "authproxy-sidecar").apply(ours | {"spec": {}}, "authproxy-sidecar")
    assert again.object["spec"] == {}


def test_moving_from_the_tutorial_removes_its_deploymentconfig_and_leaves_our_deployment_alone(
    runs: dict[str, Run],
) -> None:
    run = runs["tutorial"]
    assert run.get("DeploymentConfig", NAMESPACE, TUTORIAL) is None
    (workload,) = run.workloads(NAMESPACE)
    assert (workload["kind"], workload["metadata"]["name"]) == ("Deployment", TUTORIAL)


def test_after_the_move_the_service_selects_exactly_the_pods_of_the_one_workload(
    runs: dict[str, Run],
) -> None:
    run = runs["tutorial"]
    (workload,) = run.workloads(NAMESPACE)
    service = run.get("Service", NAMESPACE, TUTORIAL)
    assert service is not None
    selector = service["spec"]["selector"]
    assert selector == workload["spec"]["selector"]["matchLabels"] == our_selector(TUTORIAL)
    assert selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
    # None of the tutorial's pods, had they stayed, would be selected.
    assert not selector.items() <= TUTORIAL_LABELS.items()
    # The rest of the Service is the role's, next to what only the tutorial set.
    assert service["spec"]["ports"] == [
        {"name": "http", "protocol": "TCP", "port": 8081, "targetPort": "http"}
    ]
    assert service["metadata"]["labels"]["app"] == TUTORIAL


def test_the_service_is_switched_to_the_new_pods_once_they_are_ready_and_the_old_workload_removed_last(
    runs: dict[str, Run],
) -> None:
    run = runs["tutorial"]
    applied, waited = run.rolled_out("Deployment", TUTORIAL)
    switched = run.index(
        "patches the Service", call_of("kubernetes.core.k8s_json_patch", "Service", TUTORIAL)
    )
    service = run.index(
        "applies the Service", call_of("kubernetes.core.k8s", "Service", TUTORIAL, apply=True)
    )
    removed = run.removal("DeploymentConfig", TUTORIAL)
    assert applied < waited < switched < service < removed
    # One patch, replacing the whole selector: the Service moves from the old pods to the new at once.
    assert run.calls[switched]["args"]["patch"] == [
        {"op": "replace", "path": "/spec/selector", "value": our_selector(TUTORIAL)}
    ]
    # The old workload goes with its pods before the run ends.
    assert run.calls[removed]["args"]["delete_options"] == {"propagationPolicy": "Foreground"}
    assert run.calls[removed]["args"]["wait"] is True


def test_the_tutorials_route_is_left_as_it_was(runs: dict[str, Run]) -> None:
    run = runs["tutorial"]
    assert run.get("Route", NAMESPACE, "sidecar") == seeded()[("Route", NAMESPACE, "sidecar")]
    assert not [
        call
        for call in run.calls
        if call["module"] != "kubernetes.core.k8s_info"
        and "sidecar"
        in (call["args"].get("name"), call["args"].get("definition", {}).get("metadata", {}).get("name"))
    ]
    # The role's own Route leads to the same Service.
    route = run.get("Route", NAMESPACE, TUTORIAL)
    assert route is not None
    assert route["spec"]["to"]["name"] == TUTORIAL


def test_a_second_run_after_the_move_changes_nothing(runs: dict[str, Run]) -> None:
    first, again = runs["tutorial"], runs["tutorial-again"]
    assert again.changed == 0, again.output[-5000:]
    assert again.objects == first.objects
    assert not [call for call in again.calls if call["module"] == "kubernetes.core.k8s_json_patch"]
    assert not [call for call in again.calls if call["args"].get("state") == "absent"]


def test_check_mode_on_the_tutorials_objects_changes_nothing(runs: dict[str, Run]) -> None:
    run = runs["check"]
    assert run.objects == seeded()
    assert all(call["check_mode"] for call in run.calls)
    # It reports what a real run would do: switch the Service and remove the DeploymentConfig.
    assert [call for call in run.calls if call["module"] == "kubernetes.core.k8s_json_patch"]
    assert [
        call
        for call in run.calls
        if call["args"].get("kind") == "DeploymentConfig" and call["args"].get("state")
    ]
    assert run.changed > 0


def test_switching_our_deployment_to_a_deploymentconfig_leaves_one_workload(runs: dict[str, Run]) -> None:
    name = OWN_SWITCH_INPUTS["sidecar_app_name"]
    (before,) = runs["deployment"].workloads(OWN_SWITCH_NAMESPACE)
    assert before["kind"] == "Deployment"
    run = runs["deploymentconfig"]
    (workload,) = run.workloads(OWN_SWITCH_NAMESPACE)
    assert workload["kind"] == "DeploymentConfig"
    applied, waited = run.rolled_out("DeploymentConfig", name)
    removed = run.removal("Deployment", name)
    assert applied < waited < removed
    # The Service selected the pods of both while they overlapped, and selects the new ones now.
    assert not [call for call in run.calls if call["module"] == "kubernetes.core.k8s_json_patch"]
    service = run.get("Service", OWN_SWITCH_NAMESPACE, name)
    assert service is not None
    assert service["spec"]["selector"] == workload["spec"]["selector"] == our_selector(name)
