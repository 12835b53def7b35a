"""The combinations of inputs the role's objects are made for, each a host of one inventory of
the object_sets fixture (conftest.py), and the names of the sets of objects made from them.
"""

from __future__ import annotations

import itertools
from typing import Any

APP_IMAGE = "registry.example.com/team/hello-app:1.0"
PROXY_IMAGE = "registry.example.com/team/hello-proxy@sha256:" + "0" * 64
REGISTRY = "registry.example.com/ns"
HOST = "hello.apps.example.com"
CSC_PROJECT = "2001234"
# bcrypt cost 10, the lowest the role accepts, keeps 40 hashes cheap; the cost itself is tested
# in tests/unit/plugins/filter/test_bcrypt_htpasswd.py.
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
