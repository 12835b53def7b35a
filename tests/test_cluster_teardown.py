"""sidecar_app_state: absent on a cluster removes what the role made, and copes with a project
that is gone.

The cluster is tests/fake_cluster, the stand-in for OpenShift's project API, which cannot run
here (see fake_cluster.py); with fake_cluster_not_admin it refuses, as OpenShift does for a user
who is not a cluster admin, every read inside a project that does not exist (403, not "not
found"). On Kubernetes, removal runs for real in molecule/kubernetes's destroy.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fake_cluster_runs import INPUTS, Run, deploy
from playbook_runs import BIN

NAMESPACE = "teardown"
OWN = INPUTS | {"sidecar_app_name": "hello", "sidecar_app_namespace": NAMESPACE}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """deployed: the role's objects; removed: state absent on them; gone: state absent, as a user
    who is not a cluster admin, where the project no longer exists."""
    base = tmp_path_factory.mktemp("teardown")

    def host(name: str, **extra: Any) -> dict[str, dict[str, Any]]:  # noqa: ANN401 - any host variable
        return {name: OWN | {"fake_cluster_dir": str(base / name)} | extra}

    deployed = deploy(base, "deploy", host("own"))["own"]
    removed = deploy(base, "remove", host("own"), "-e", "sidecar_app_state=absent")["own"]
    gone = deploy(base, "gone", host("gone", fake_cluster_not_admin=True), "-e", "sidecar_app_state=absent")
    return {"deployed": deployed, "removed": removed, "gone": gone["gone"]}


def test_absent_removes_every_object_the_role_made_and_keeps_the_project(runs: dict[str, Run]) -> None:
    made = {key for key in runs["deployed"].objects if key[0] != "Project"}
    assert {key[0] for key in made} >= {"Secret", "Deployment", "Service", "Route", "NetworkPolicy"}
    assert [key for key in runs["removed"].objects if key[0] != "Project"] == []
    assert [key[2] for key in runs["removed"].objects if key[0] == "Project"] == [NAMESPACE]
    assert runs["removed"].changed > 0


def test_absent_where_the_project_is_gone_reads_nothing_inside_it_and_changes_nothing(
    runs: dict[str, Run],
) -> None:
    run = runs["gone"]
    assert run.changed == 0
    inside = [call for call in run.calls if call["args"].get("namespace") == NAMESPACE]
    assert inside == []


def test_absent_where_podman_is_missing_removes_the_objects_and_leaves_the_images(tmp_path: Path) -> None:
    """Images built by podman for the cluster's registry are removed by the teardown where they were
    built; a teardown from a machine without podman removes the rest and says nothing of them."""
    without_podman = tmp_path / "bin"
    without_podman.mkdir()
    podman = shutil.which("podman")
    assert podman, "podman is missing: run `make setup`"
    for program in Path(podman).parent.iterdir():
        if program.name != "podman":
            (without_podman / program.name).symlink_to(program)
    inputs = OWN | {"fake_cluster_dir": str(tmp_path / "cluster"), "sidecar_app_image_build": "podman"}
    registry = ["-e", "sidecar_app_registry=registry.example/authproxy"]
    deploy(tmp_path, "deploy", {"own": inputs | {"sidecar_app_image_build": "none"}})
    removed = deploy(
        tmp_path,
        "remove",
        {"own": inputs},
        *registry,
        "-e",
        "sidecar_app_state=absent",
        env={"PATH": f"{BIN}:{without_podman}"},
    )["own"]
    assert [key for key in removed.objects if key[0] != "Project"] == []
    assert "TASK [authproxy.sidecar.sidecar_app : Look for podman" in removed.output
    assert "Find the images built for this app" not in removed.output
