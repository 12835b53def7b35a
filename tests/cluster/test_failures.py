"""How the role fails on a real cluster, each way with a message that says what it waited for,
what it saw and which variable to set; and how the deployment lives through a killed verifier
and a changed password.

Each test deploys into a namespace of its own (the `namespace` fixture) through
playbooks/deploy.yml, with images built by podman and pushed to the local registry, the Service
a NodePort on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .local_cluster import (
    Cluster,
    HostsRun,
    http_status,
    node_port_inputs,
    run_playbook,
    run_playbook_on_hosts,
    wait_for_status,
)

PASSWORD = "right password 1"
# What leads to the pods is made and waited for whether or not pods run: the tests of those
# messages spare the rollout.
NO_PODS = {"sidecar_app_replicas": 0}
# Nothing publishes an address here: the role waits for one, then says what to set.
NO_URL = {"sidecar_app_public_url": "", "sidecar_app_wait_timeout": 10}
# What a Kubernetes API server with the Route CRD serves: the Route, not a project or a router.
OPENSHIFT = {"sidecar_app_platform": "openshift", "sidecar_app_namespace_create": False}


def deploy(
    cluster: Cluster, tmp_path: Path, namespace: str, node_port: int, **inputs: object
) -> subprocess.CompletedProcess[str]:
    users = inputs.pop("users", [{"name": "admin", "password": PASSWORD}])
    return run_playbook(
        "deploy.yml",
        node_port_inputs(namespace, node_port, sidecar_app_users=users, **inputs),
        tmp_path,
        cluster.kubeconfig,
    )


# The ways a deploy fails, each on a host of its own (a namespace and a node port of its own), all
# in one ansible-playbook run: they wait in parallel.
FAILING_DEPLOYS: dict[str, dict[str, object]] = {
    "app-exits": {
        "sidecar_app_app_env": {"GUNICORN_CMD_ARGS": "--no-such-option"},
        # Time for a few crashes, so that the kubelet's BackOff and a previous instance's log are
        # there also on a busy machine.
        "sidecar_app_wait_timeout": 45,
    },
    "unschedulable": {
        "sidecar_app_app_resources": {
            "requests": {"cpu": "64", "memory": "64Mi"},
            "limits": {"cpu": "64", "memory": "192Mi"},
        },
        "sidecar_app_wait_timeout": 30,
    },
    "ingress": {"sidecar_app_ingress_enabled": True, **NO_URL, **NO_PODS},
    "load-balancer": {"sidecar_app_service_type": "LoadBalancer", **NO_URL, **NO_PODS},
    "node-port": {**NO_URL, **NO_PODS},
    "route": {**OPENSHIFT, **NO_URL, **NO_PODS},
}
# Verifications where no deploy went through, after the failing deploys above.
FAILING_VERIFICATIONS: dict[str, dict[str, object]] = {
    "route": FAILING_DEPLOYS["route"],
    "no-ingress-yet": {"sidecar_app_ingress_enabled": True, **NO_URL},
    "no-route-yet": {**OPENSHIFT, **NO_URL},
}


@dataclass(frozen=True)
class Failures:
    deploys: HostsRun
    verifications: HostsRun
    namespaces: dict[str, str]
    seconds: float


@pytest.fixture(scope="module")
def failures(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Failures]:
    hosts = list(FAILING_DEPLOYS) + [host for host in FAILING_VERIFICATIONS if host not in FAILING_DEPLOYS]
    namespaces = {host: f"t-failure-{host}" for host in hosts}
    ports = {host: 30101 + index for index, host in enumerate(hosts)}
    for namespace in namespaces.values():
        cluster.delete_namespace(namespace)
        cluster.kubectl("create", "namespace", namespace)

    def inputs(host: str, more: dict[str, object]) -> dict[str, object]:
        users = [{"name": "admin", "password": PASSWORD}]
        return node_port_inputs(namespaces[host], ports[host], sidecar_app_users=users, **more)

    tmp_path = tmp_path_factory.mktemp("failures")
    deploys = {host: inputs(host, more) for host, more in FAILING_DEPLOYS.items()}
    # The images by one host first (it fails later, as it does below): six hosts building and
    # pushing the same images at once race in podman 4.3 and the registry (a fresh-clone run).
    run_playbook_on_hosts("deploy.yml", {"node-port": deploys["node-port"]}, tmp_path, cluster.kubeconfig)
    started = time.monotonic()
    deploys_run = run_playbook_on_hosts("deploy.yml", deploys, tmp_path, cluster.kubeconfig)
    seconds = time.monotonic() - started
    verifications = {host: inputs(host, more) for host, more in FAILING_VERIFICATIONS.items()}
    verifications_run = run_playbook_on_hosts("verify.yml", verifications, tmp_path, cluster.kubeconfig)
    yield Failures(deploys_run, verifications_run, namespaces, seconds)
    for namespace in namespaces.values():
        cluster.delete_namespace(namespace)


# What each failing deploy must say: what it waited for, what it saw, which variable to set.
EXPECTED_FAILURES = {
    # gunicorn's own last words, from the crashed container's log, and the pod's events
    "app-exits": ["did not roll out", "container app", "unrecognized arguments: --no-such-option", "BackOff"],
    "unschedulable": ["did not roll out", "FailedScheduling", "Insufficient cpu", "PodScheduled"],
    "ingress": [
        "for an ingress controller to publish",
        "Ingress cluster-test",
        "sidecar_app_ingress_class_name",
        "sidecar_app_public_url",
    ],
    "load-balancer": [
        "for a load balancer to give Service cluster-test",
        "sidecar_app_service_type NodePort",
        "sidecar_app_public_url",
    ],
    "node-port": [
        "Nothing gives Service cluster-test",
        "Set sidecar_app_public_url to http://<a node's address>:<node port>/",
    ],
}


@pytest.mark.parametrize("host", list(EXPECTED_FAILURES))
def test_a_failing_deploy_says_what_it_waited_for_and_what_to_set(failures: Failures, host: str) -> None:
    message = failures.deploys.failure(host)
    print(f"the failing deploys took {failures.seconds:.0f} s (wait timeouts 10 to 30 s)")
    for phrase in EXPECTED_FAILURES[host]:
        assert phrase in message
    assert "Unknown error" not in message


def test_route_without_a_router_names_the_variables_to_set(cluster: Cluster, failures: Failures) -> None:
    """The Route is applied for real (the API server serves OpenShift's Route CRD); only OpenShift's
    router would admit it, and none runs here."""
    message = failures.deploys.failure("route")
    assert "for a router to admit Route cluster-test" in message
    assert "sidecar_app_route_wait_admitted" in message
    namespace = failures.namespaces["route"]
    route = cluster.get("route", "cluster-test", "--namespace", namespace)
    assert route["spec"]["tls"]["termination"] == "edge"

    # The Route is there but has no host: only a router gives one.
    message = failures.verifications.failure("route")
    assert f"Route cluster-test in {namespace} has no host: no router has given it one" in message
    assert "Set sidecar_app_route_host, or sidecar_app_public_url" in message


def test_verify_before_any_deploy_says_what_is_missing(failures: Failures) -> None:
    for host, kind in (("no-ingress-yet", "Ingress"), ("no-route-yet", "Route")):
        message = failures.verifications.failure(host)
        missing = f"{kind} cluster-test is missing in {failures.namespaces[host]}"
        assert f"{missing}: deploy first, or set sidecar_app_public_url" in message


def test_killed_verifier_is_restarted_and_service_comes_back(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    url = "http://127.0.0.1:30121/"
    result = deploy(cluster, tmp_path, namespace, 30121)
    assert result.returncode == 0, result.stdout[-3000:]
    pod = cluster.get("pods", "--namespace", namespace)["items"][0]
    verifier = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "verifier")
    container_id = verifier["containerID"].removeprefix("containerd://")

    statuses: list[tuple[float, int]] = []
    wrong: Counter[int] = Counter()
    killed = time.monotonic()
    cluster_kill(container_id)
    # Past the auth cache's TTL (5 s), every answer needs the verifier again.
    while time.monotonic() - killed < 90:
        statuses.append((time.monotonic() - killed, http_status(url, user="admin", password=PASSWORD)))
        wrong[http_status(url, user="admin", password="wrong")] += 1
        if statuses[-1][0] > 10 and statuses[-1][1] == 200:
            break
        time.sleep(0.2)
    refused = [t for t, status in statuses if status != 200]
    pod = cluster.get("pod", pod["metadata"]["name"], "--namespace", namespace)
    restarts = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "verifier")["restartCount"]
    print(
        f"verifier killed and restarted ({restarts} restart): {len(refused)} of {len(statuses)} requests "
        "with the right password refused (fail closed)"
        + (f", from {refused[0]:.1f} s to {refused[-1]:.1f} s after the kill" if refused else "")
        + f"; wrong password answers {dict(wrong)}"
    )
    assert restarts >= 1
    assert statuses[-1][1] == 200, f"service did not come back: {statuses[-5:]}"
    assert wrong[200] == 0


def cluster_kill(container_id: str) -> None:
    """SIGKILL the container's process through containerd, as an OOM kill or a crash would end it."""
    socket = "/run/authproxy-local-cluster/containerd.sock"
    kill = ["tasks", "kill", "--signal", "SIGKILL", container_id]
    subprocess.run(
        ["ctr", "--address", socket, "--namespace", "k8s.io", *kill], check=True, capture_output=True
    )


def test_changed_password_rolls_the_pods_without_a_failed_request(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    """The kubelet brings a changed Secret into a running pod only on its own period (about a
    minute); the role rolls the pods instead. Under load from a user whose password stays, no
    request fails during the rollout; once the role returns the new password works and the old
    one is refused."""
    url = "http://127.0.0.1:30122/"
    users = [{"name": "admin", "password": PASSWORD}, {"name": "reader", "password": "reader password"}]
    result = deploy(cluster, tmp_path, namespace, 30122, users=users)
    assert result.returncode == 0, result.stdout[-3000:]
    before = cluster.get("deployment", "cluster-test", "--namespace", namespace)
    revision = before["metadata"]["annotations"]["deployment.kubernetes.io/revision"]

    stop = threading.Event()
    answers: Counter[int] = Counter()
    new_password_first_accepted: list[float] = []
    started = time.monotonic()

    def load() -> None:
        while not stop.is_set() and time.monotonic() - started < 300:
            answers[http_status(url, user="reader", password="reader password")] += 1

    def watch_new_password() -> None:
        while not stop.is_set() and not new_password_first_accepted and time.monotonic() - started < 300:
            if http_status(url, user="admin", password="new password 2") == 200:
                new_password_first_accepted.append(time.monotonic() - started)
            time.sleep(0.25)

    workers = [threading.Thread(target=load) for _worker in range(4)] + [
        threading.Thread(target=watch_new_password)
    ]
    for worker in workers:
        worker.start()
    try:
        users[0]["password"] = "new password 2"
        result = deploy(cluster, tmp_path, namespace, 30122, users=users)
        role_seconds = time.monotonic() - started
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert result.returncode == 0, result.stdout[-3000:]
    after = cluster.get("deployment", "cluster-test", "--namespace", namespace)
    print(
        f"password changed: role run {role_seconds:.1f} s; new password first accepted at "
        f"{new_password_first_accepted[0] if new_password_first_accepted else float('nan'):.1f} s; "
        f"reader's answers during it {dict(answers)}"
    )
    assert after["metadata"]["annotations"]["deployment.kubernetes.io/revision"] != revision
    assert set(answers) == {200}, f"requests of the unchanged user failed during the rollout: {dict(answers)}"
    assert sum(answers.values()) > 50
    assert http_status(url, user="admin", password="new password 2") == 200
    wait_for_status(url, 401, seconds=6, user="admin", password=PASSWORD)
