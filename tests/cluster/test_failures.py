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
from pathlib import Path

from .local_cluster import Cluster, http_status, node_port_inputs, run_playbook, wait_for_status

PASSWORD = "right password 1"
# What leads to the pods is made and waited for whether or not pods run: the tests of those
# messages spare the rollout.
NO_PODS = {"sidecar_app_replicas": 0}


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


def failure_message(result: subprocess.CompletedProcess[str]) -> str:
    """What the failed run said; also printed, so that a failing assertion shows all of it."""
    assert result.returncode != 0, f"the deploy did not fail:\n{result.stdout[-3000:]}"
    message = result.stdout + result.stderr
    print(message[-6000:])
    return message


def test_app_that_exits_at_start_fails_with_its_log_and_events(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = deploy(
        cluster, tmp_path, namespace, 30101,
        sidecar_app_app_env={"GUNICORN_CMD_ARGS": "--no-such-option"},
        sidecar_app_wait_timeout=25,
    )  # fmt: skip
    message = failure_message(result)
    print(f"failed after {time.monotonic() - started:.0f} s (wait timeout 25 s)")
    assert "did not roll out" in message
    assert "container app" in message
    # gunicorn's own last words, from the crashed container's log
    assert "unrecognized arguments: --no-such-option" in message
    assert "BackOff" in message
    assert "Unknown error" not in message


def test_pod_that_cannot_be_scheduled_fails_with_the_schedulers_reason(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    result = deploy(
        cluster, tmp_path, namespace, 30102,
        sidecar_app_app_resources={
            "requests": {"cpu": "64", "memory": "64Mi"},
            "limits": {"cpu": "64", "memory": "192Mi"},
        },
        sidecar_app_wait_timeout=30,
    )  # fmt: skip
    message = failure_message(result)
    assert "did not roll out" in message
    assert "FailedScheduling" in message
    assert "Insufficient cpu" in message
    assert "PodScheduled" in message


def test_ingress_without_a_controller_names_the_variables_to_set(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    result = deploy(
        cluster, tmp_path, namespace, 30103,
        sidecar_app_ingress_enabled=True, sidecar_app_public_url="", sidecar_app_wait_timeout=10, **NO_PODS,
    )  # fmt: skip
    message = failure_message(result)
    assert "for an ingress controller to publish" in message
    assert "Ingress cluster-test" in message
    assert "sidecar_app_ingress_class_name" in message
    assert "sidecar_app_public_url" in message
    assert "Unknown error" not in message


def test_load_balancer_without_a_controller_names_the_variables_to_set(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    result = deploy(
        cluster, tmp_path, namespace, 30104,
        sidecar_app_service_type="LoadBalancer", sidecar_app_public_url="",
        sidecar_app_wait_timeout=10, **NO_PODS,
    )  # fmt: skip
    message = failure_message(result)
    assert "for a load balancer to give Service cluster-test" in message
    assert "sidecar_app_service_type NodePort" in message
    assert "sidecar_app_public_url" in message


def test_node_port_without_a_url_names_the_variable_to_set(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    result = deploy(cluster, tmp_path, namespace, 30105, sidecar_app_public_url="", **NO_PODS)
    message = failure_message(result)
    assert "Nothing gives Service cluster-test" in message
    assert "Unknown error" not in message
    assert "Set sidecar_app_public_url to http://<a node's address>:<node port>/" in message


def test_route_without_a_router_names_the_variables_to_set(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    """The Route is applied for real (the API server serves OpenShift's Route CRD); only OpenShift's
    router would admit it, and none runs here."""
    result = deploy(
        cluster, tmp_path, namespace, 30106,
        sidecar_app_platform="openshift", sidecar_app_namespace_create=False,
        sidecar_app_public_url="", sidecar_app_wait_timeout=10, **NO_PODS,
    )  # fmt: skip
    message = failure_message(result)
    assert "for a router to admit Route cluster-test" in message
    assert "sidecar_app_route_wait_admitted" in message
    route = cluster.get("route", "cluster-test", "--namespace", namespace)
    assert route["spec"]["tls"]["termination"] == "edge"

    # The Route is there but has no host: only a router gives one.
    inputs = node_port_inputs(
        namespace, 30106, sidecar_app_platform="openshift", sidecar_app_namespace_create=False,
        sidecar_app_users=[{"name": "admin", "password": PASSWORD}], sidecar_app_public_url="",
    )  # fmt: skip
    message = failure_message(run_playbook("verify.yml", inputs, tmp_path, cluster.kubeconfig))
    assert f"Route cluster-test in {namespace} has no host: no router has given it one" in message
    assert "Set sidecar_app_route_host, or sidecar_app_public_url" in message


def test_killed_verifier_is_restarted_and_service_comes_back(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    url = "http://127.0.0.1:30107/"
    result = deploy(cluster, tmp_path, namespace, 30107)
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
    url = "http://127.0.0.1:30108/"
    users = [{"name": "admin", "password": PASSWORD}, {"name": "reader", "password": "reader password"}]
    result = deploy(cluster, tmp_path, namespace, 30108, users=users)
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
        result = deploy(cluster, tmp_path, namespace, 30108, users=users)
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


def test_verify_before_any_deploy_says_what_is_missing(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    inputs = node_port_inputs(
        namespace, 30109, sidecar_app_users=[{"name": "admin", "password": PASSWORD}],
        sidecar_app_ingress_enabled=True, sidecar_app_public_url="", sidecar_app_wait_timeout=5,
    )  # fmt: skip
    message = failure_message(run_playbook("verify.yml", inputs, tmp_path, cluster.kubeconfig))
    assert (
        f"Ingress cluster-test is missing in {namespace}: deploy first, or set sidecar_app_public_url"
        in message
    )

    inputs |= {"sidecar_app_platform": "openshift", "sidecar_app_namespace_create": False}
    message = failure_message(run_playbook("verify.yml", inputs, tmp_path, cluster.kubeconfig))
    assert (
        f"Route cluster-test is missing in {namespace}: deploy first, or set sidecar_app_public_url"
        in message
    )
