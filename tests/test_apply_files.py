"""sidecar_app_files_source s3 applied to a cluster (tests/fake_cluster, see fake_cluster_runs.py):
the keys' Secret is created without client-side apply before the workload, whose pod template has
the init container; a second run changes nothing, and state absent removes the Secret."""

from __future__ import annotations

import pytest
from fake_cluster_runs import INPUTS, Run, call_of, deploy

NAMESPACE = "files-apply"
SECRET_ACCESS_KEY = "an-allas-secret-key-never-shown"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("apply-files")
    hosts = {
        "files": INPUTS
        | {
            "sidecar_app_name": "reports",
            "sidecar_app_namespace": NAMESPACE,
            "fake_cluster_dir": str(base / "cluster"),
            "sidecar_app_files_source": "s3",
            "sidecar_app_files_s3_endpoint": "https://a3s.fi",
            "sidecar_app_files_s3_bucket": "reports",
            "sidecar_app_files_s3_access_key_id": "an-allas-access-key",
            "sidecar_app_files_s3_secret_access_key": SECRET_ACCESS_KEY,
            "sidecar_app_files_size_limit": "1Gi",
        }
    }
    first = deploy(base, "first", hosts)["files"]
    second = deploy(base, "second", hosts)["files"]
    removed = deploy(base, "removed", hosts, "-e", "sidecar_app_state=absent")["files"]
    return {"first": first, "second": second, "removed": removed}


def test_the_keys_secret_is_created_unapplied_before_the_workload_with_its_init_container(
    runs: dict[str, Run],
) -> None:
    run = runs["first"]
    created = call_of("kubernetes.core.k8s", "Secret", "reports-files", apply=False)
    secret = run.index("creates the keys' Secret", created)
    workload, _available = run.rolled_out("Deployment", "reports")
    assert secret < workload
    deployment = run.get("Deployment", NAMESPACE, "reports")
    assert deployment
    init = deployment["spec"]["template"]["spec"]["initContainers"]
    assert [container["name"] for container in init] == ["files-init"]


def test_the_run_shows_no_key(runs: dict[str, Run]) -> None:
    assert SECRET_ACCESS_KEY not in runs["first"].output


def test_a_second_run_changes_nothing(runs: dict[str, Run]) -> None:
    assert runs["second"].changed == 0


def test_absent_removes_the_keys_secret(runs: dict[str, Run]) -> None:
    assert runs["first"].get("Secret", NAMESPACE, "reports-files")
    assert [key for key in runs["removed"].objects if key[0] != "Project"] == []
