"""The local cluster itself: real components, OpenShift's Route API served from its CRD, no pull
leaving the machine, what a namespace admin's run asked for, and a teardown that leaves the
machine as it found it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from .local_cluster import Cluster, cluster_dir, cluster_script

NAMESPACE_ADMIN = "authproxy-tenant"

INVALID_ROUTE = {
    "apiVersion": "route.openshift.io/v1",
    "kind": "Route",
    "metadata": {"name": "invalid"},
    "spec": {
        "to": {"kind": "Service", "name": "nothing"},
        "tls": {"termination": "not-a-termination"},
    },
}


def test_node_is_ready_on_a_real_kubelet(cluster: Cluster) -> None:
    node = cluster.get("node", "authproxy-local")
    conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.37.2"


def test_api_server_validates_routes_with_openshifts_crd(cluster: Cluster, namespace: str) -> None:
    crd = cluster.get("crd", "routes.route.openshift.io")
    assert any(v["name"] == "v1" and v["served"] for v in crd["spec"]["versions"])
    result = cluster.run(
        "apply", "--server-side", "--namespace", namespace, "-f", "-", stdin=json.dumps(INVALID_ROUTE)
    )
    assert result.returncode != 0
    assert "spec.tls.termination" in result.stderr
    assert "Unsupported value" in result.stderr or "must be" in result.stderr


def test_no_image_is_pulled_from_outside_this_machine(cluster: Cluster, namespace: str) -> None:
    """A pod naming an image on a public registry cannot pull it: containerd's pulls from any host
    but the local registry go to a loopback address where nothing listens."""
    cluster.kubectl(
        "run", "outside", "--namespace", namespace, "--image", "docker.io/library/busybox:1.36",
        "--image-pull-policy", "Always", "--restart", "Never",
    )  # fmt: skip
    deadline = time.monotonic() + 90
    message = ""
    while time.monotonic() < deadline:
        events = cluster.get(
            "events", "--namespace", namespace, "--field-selector", "involvedObject.name=outside"
        )
        failed = [e["message"] for e in events["items"] if e["reason"] == "Failed" and "pull" in e["message"]]
        if failed:
            message = failed[0]
            break
        time.sleep(1)
    assert message, "the pull of an outside image neither failed nor was reported"
    assert "proxyconnect tcp: dial tcp 127.0.0.1:9" in message


def test_namespace_admin_asked_for_nothing_outside_its_namespace(cluster: Cluster) -> None:
    """make test runs molecule/kubernetes as a user whose only right is `admin` in its namespace;
    the API server's audit log shows every request of that user. None may be refused, and none
    may concern anything but that namespace (API discovery aside)."""
    audit_log = cluster_dir() / "logs/audit.log"
    events = [json.loads(line) for line in audit_log.read_text(encoding="utf-8").splitlines() if line.strip()]
    mine = [
        e for e in events if e["user"]["username"] == NAMESPACE_ADMIN and e["stage"] == "ResponseComplete"
    ]
    if not mine:
        reason = f"no request of {NAMESPACE_ADMIN} in the audit log: the namespace-admin scenario did not run"
        if os.environ.get("LOCAL_CLUSTER_REQUIRED"):
            pytest.fail(reason)
        pytest.skip(reason)
    refused = [f"{e['verb']} {e['requestURI']}: {e['responseStatus']['code']}" for e in mine
               if e["responseStatus"]["code"] in (401, 403)]  # fmt: skip
    assert not refused, f"refused requests: {refused}"

    def outside(event: dict) -> bool:
        target = event.get("objectRef")
        if target is None:  # /api, /apis, /version, /openapi: discovery
            return False
        if target.get("namespace") == NAMESPACE_ADMIN:
            return False
        return not (target.get("resource") == "namespaces" and target.get("name") == NAMESPACE_ADMIN)

    wide = sorted({f"{e['verb']} {e['requestURI']}" for e in mine if outside(e)})
    assert not wide, f"requests outside namespace {NAMESPACE_ADMIN}: {wide}"
    print(f"{NAMESPACE_ADMIN}: {len(mine)} requests, all inside its namespace or discovery")


# Any container of another test running meanwhile would show in the snapshot.
@pytest.mark.machine_state
def test_cluster_down_leaves_the_machine_as_it_found_it(cluster: Cluster) -> None:
    """Down, compare with what the machine looked like before the cluster, then up again (the
    build is cached: seconds), so the suite goes on with a running cluster."""
    baseline = (cluster_dir() / "baseline/snapshot").read_text(encoding="utf-8")
    started = time.monotonic()
    cluster_script("down")
    stopped = time.monotonic() - started
    after = cluster_script("snapshot").stdout
    started = time.monotonic()
    cluster_script("up")
    print(f"cluster down in {stopped:.1f} s, up again in {time.monotonic() - started:.1f} s")
    assert after == baseline


USERS_OWN_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "work", "cluster": {"server": "https://192.0.2.1:6443"}}],
    "users": [{"name": "admin", "user": {"token": "the-users-own"}}],
    "contexts": [{"name": "work", "context": {"cluster": "work", "user": "admin"}}],
    "current-context": "work",
}


def kubeconfig_entries(path: Path) -> dict[str, dict[str, object]]:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    kinds = ("clusters", "users", "contexts")
    return {kind: {item["name"]: item for item in config.get(kind) or []} for kind in kinds}


# It takes the cluster down and up: alone, last (make test), as the one above.
@pytest.mark.machine_state
def test_up_and_down_keep_the_users_own_kubeconfig_entries(cluster: Cluster, tmp_path: Path) -> None:
    """As kind does, up adds its context to the user's kubeconfig ($KUBECONFIG's first file) and
    down takes it out: a user of the user's own named "admin" is neither shadowed nor removed."""
    own = tmp_path / "config"
    own.write_text(yaml.safe_dump(USERS_OWN_KUBECONFIG), encoding="utf-8")
    before = kubeconfig_entries(own)
    cluster_script("down")
    try:
        cluster_script("up", env={"KUBECONFIG": str(own)})
        merged = kubeconfig_entries(own)
        assert merged["users"]["admin"] == before["users"]["admin"]
        assert merged["contexts"]["authproxy-local"]["context"]["user"] == "authproxy-local-admin"
        assert yaml.safe_load(own.read_text(encoding="utf-8"))["current-context"] == "authproxy-local"
        cluster_script("down", env={"KUBECONFIG": str(own)})
        assert kubeconfig_entries(own) == before
    finally:
        cluster_script("down", check=False, env={"KUBECONFIG": str(own)})
        cluster_script("up")
