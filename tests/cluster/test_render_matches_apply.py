"""Render mode writes the very objects apply mode made, as a real API server sees them.

The role deploys for real onto the local cluster, then renders with the same inputs into a
directory that holds the cluster's Secret (as a GitOps user who keeps it would: render keeps a
hash while its password matches). `kubectl diff --server-side` of the rendered files against the
live objects, under the role's field manager, must find nothing to change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .local_cluster import Cluster, node_port_inputs, run_playbook

PLATFORMS = {
    "kubernetes": {},
    # A Kubernetes API server serving OpenShift's Route CRD: the Route is applied and compared
    # for real; no router admits it, and there is no Project API.
    "openshift": {"sidecar_app_namespace_create": False, "sidecar_app_route_wait_admitted": False},
}


@pytest.mark.parametrize(("platform", "node_port"), [("kubernetes", 30111), ("openshift", 30112)])
def test_render_finds_nothing_to_change_in_what_deploy_applied(
    cluster: Cluster, namespace: str, tmp_path: Path, platform: str, node_port: int
) -> None:
    inputs = node_port_inputs(
        namespace, node_port, sidecar_app_platform=platform,
        sidecar_app_users=[{"name": "admin", "password": "render and apply"}], **PLATFORMS[platform],
    )  # fmt: skip
    deployed = run_playbook("deploy.yml", inputs, tmp_path, cluster.kubeconfig)
    assert deployed.returncode == 0, deployed.stdout[-3000:]

    render_dir = tmp_path / "render"
    render_dir.mkdir()
    secret = cluster.get("secret", "cluster-test-htpasswd", "--namespace", namespace)
    kept = {key: secret[key] for key in ("apiVersion", "kind", "type", "data")}
    kept["metadata"] = {key: secret["metadata"][key] for key in ("name", "namespace", "labels")}
    (render_dir / "00-secret-cluster-test-htpasswd.yml").write_text(yaml.safe_dump(kept), encoding="utf-8")
    rendered = run_playbook(
        "render.yml", inputs | {"sidecar_app_render_dir": str(render_dir)}, tmp_path, cluster.kubeconfig
    )
    assert rendered.returncode == 0, rendered.stdout[-3000:]
    files = sorted(path.name for path in render_dir.glob("*.yml"))
    expected_kinds = {"secret", "deployment", "service", "networkpolicy"} | (
        {"route"} if platform == "openshift" else set()
    )
    assert {name.split("-")[1] for name in files} == expected_kinds

    # kubectl diff: 0 no difference, 1 differences, more an error.
    diff = cluster.run(
        "diff", "--server-side", "--field-manager", "authproxy-sidecar", "--force-conflicts",
        "--filename", str(render_dir),
    )  # fmt: skip
    assert diff.returncode == 0, (
        f"the rendered objects differ from the applied ones:\n{diff.stdout}{diff.stderr}"
    )
