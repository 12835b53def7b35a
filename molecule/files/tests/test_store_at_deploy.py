"""A store the init container cannot use at deploy: the role fails with rclone's own message, and
names no key. Each test deploys again afterwards with the scenario's own inputs. On a cluster the
failing rollout waits for FAILING_WAIT seconds, and the pods of the last good one keep serving."""

from __future__ import annotations

from conftest import FILES, ON_PODMAN, SCENARIO, get
from s3_store import Store
from scenario_playbooks import run_playbook

WRONG_SECRET_KEY = "a-wrong-secret-key-0123456789"
# Long enough for the new pod's init container to have failed once and logged why, on a busy
# machine too (30 s was not, once, beside the rest of make test).
FAILING_WAIT = 30 if ON_PODMAN else 60
# The task that fails: the init container's run on podman, the rollout's report on a cluster.
FAILED_TASK = (
    "Run the init containers to their end"
    if ON_PODMAN
    else "Fail with what the workload, the pods, the events and the logs say"
)


def test_a_store_that_is_down_at_deploy_fails_the_role_with_the_sync_message(store: Store) -> None:
    store.stop()
    try:
        # Another refresh interval: a changed init container, which runs again.
        failed = run_playbook(
            SCENARIO / "converge.yml",
            sidecar_app_files_refresh_seconds=11,
            sidecar_app_wait_timeout=FAILING_WAIT,
        )
        assert failed.returncode != 0
        output = failed.stdout + failed.stderr
        assert FAILED_TASK in output, output[-5000:]
        assert "the first copy failed, nothing to serve: rclone lsjson failed" in output, output[-5000:]
        assert "connection refused" in output, output[-5000:]
    finally:
        store.start()
    restored = run_playbook(SCENARIO / "converge.yml")
    assert restored.returncode == 0, restored.stdout[-3000:]
    assert get(FILES + "hello.txt").status == 200


def test_a_wrong_secret_key_fails_the_role_and_is_never_shown() -> None:
    failed = run_playbook(
        SCENARIO / "converge.yml",
        sidecar_app_files_s3_secret_access_key=WRONG_SECRET_KEY,
        sidecar_app_wait_timeout=FAILING_WAIT,
    )
    try:
        assert failed.returncode != 0
        output = failed.stdout + failed.stderr
        shown = output[-5000:].replace(WRONG_SECRET_KEY, "<the wrong key>")
        assert FAILED_TASK in output, shown
        assert "the first copy failed, nothing to serve: rclone lsjson failed" in output, shown
        assert WRONG_SECRET_KEY not in output
    finally:
        # The right key again: its hash differs, so the podman secrets and the sync containers
        # are replaced once more.
        restored = run_playbook(SCENARIO / "converge.yml")
    assert restored.returncode == 0, restored.stdout[-3000:]
    assert get(FILES + "hello.txt").status == 200
