"""A store the init container cannot use at deploy: the role fails with rclone's own message, and
names no key. Each test deploys again afterwards with the scenario's own inputs."""

from __future__ import annotations

from conftest import FILES, SCENARIO, get
from s3_store import Store
from scenario_playbooks import run_playbook

WRONG_SECRET_KEY = "a-wrong-secret-key-0123456789"


def test_a_store_that_is_down_at_deploy_fails_the_role_with_the_sync_message(store: Store) -> None:
    store.stop()
    try:
        # Another refresh interval: a changed init container, which runs again.
        failed = run_playbook(SCENARIO / "converge.yml", sidecar_app_files_refresh_seconds=11)
        assert failed.returncode != 0
        output = failed.stdout + failed.stderr
        assert "Run the init containers to their end" in output
        assert "the first copy failed, nothing to serve: rclone lsjson failed" in output
        assert "connection refused" in output
    finally:
        store.start()
    restored = run_playbook(SCENARIO / "converge.yml")
    assert restored.returncode == 0, restored.stdout[-3000:]
    assert get(FILES + "hello.txt").status == 200


def test_a_wrong_secret_key_fails_the_role_and_is_never_shown() -> None:
    failed = run_playbook(SCENARIO / "converge.yml", sidecar_app_files_s3_secret_access_key=WRONG_SECRET_KEY)
    try:
        assert failed.returncode != 0
        output = failed.stdout + failed.stderr
        assert "the first copy failed, nothing to serve: rclone lsjson failed" in output
        assert WRONG_SECRET_KEY not in output
    finally:
        # The right key again: its hash differs, so the podman secrets and the sync containers
        # are replaced once more.
        restored = run_playbook(SCENARIO / "converge.yml")
    assert restored.returncode == 0, restored.stdout[-3000:]
    assert get(FILES + "hello.txt").status == 200
