"""The containers of a scenario's deployment as its tests see them: on podman (<name>-<container>)
or in the pods on a cluster (kubernetes.core's client library, on the scenario's kubeconfig)."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from scenario_playbooks import molecule_value, on_podman


def pods(inputs: dict[str, Any]) -> tuple[Any, str, list[Any]]:
    """The cluster's client, the namespace and the pods of the deployment."""
    from kubernetes import client, config

    config.load_kube_config(config_file=os.environ.get("K8S_AUTH_KUBECONFIG"))
    namespace = molecule_value(inputs["sidecar_app_namespace"])
    api = client.CoreV1Api()
    name = inputs["sidecar_app_name"]
    found = api.list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/instance={name}").items
    return api, namespace, found


def container_logs(inputs: dict[str, Any], container: str) -> bytes:
    """What this container of the deployment (each pod's, on a cluster) wrote to its output."""
    if on_podman(inputs):
        name = f"{inputs['sidecar_app_name']}-{container}"
        logs = subprocess.run(["podman", "logs", name], capture_output=True, check=True)
        return logs.stdout + logs.stderr
    api, namespace, found = pods(inputs)
    logs = [
        api.read_namespaced_pod_log(pod.metadata.name, namespace, container=container, _preload_content=False)
        for pod in found
    ]
    return b"".join(log.data for log in logs)


def container_settings(inputs: dict[str, Any], containers: list[str]) -> str:
    """How these containers were made, as JSON: podman inspect, or the pods on a cluster."""
    if on_podman(inputs):
        names = [f"{inputs['sidecar_app_name']}-{container}" for container in containers]
        inspected = subprocess.run(["podman", "inspect", *names], capture_output=True, text=True, check=True)
        return inspected.stdout
    api, _namespace, found = pods(inputs)
    assert found, f"no pod of {inputs['sidecar_app_name']}"
    return json.dumps(api.api_client.sanitize_for_serialization(found))
