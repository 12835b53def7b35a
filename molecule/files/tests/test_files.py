"""Files from a real S3 store, served by the pod behind the login (sidecar_app_files_source s3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import (
    FILES,
    HEALTH,
    ON_PODMAN,
    PREFIX,
    REFRESH,
    USER,
    container_logs,
    container_settings,
    get,
    wait_for,
)
from s3_store import SECRET_ACCESS_KEY, Store

# A refresh starts at most REFRESH seconds after a change, and copies a few bytes.
WITHIN = 3 * REFRESH


def test_a_file_put_in_the_bucket_before_the_deploy_is_served_to_an_authenticated_user() -> None:
    answer = get(FILES + "hello.txt")
    assert (answer.status, answer.body) == (200, "hello from the store")
    assert answer.headers["Content-Type"] == "text/plain"


def test_files_are_refused_without_credentials_or_with_a_wrong_password() -> None:
    assert get(FILES + "hello.txt", password="").status == 401
    assert get(FILES + "hello.txt", password="wrong-password", client="10.0.0.2").status == 401


def test_a_changed_object_is_served_within_the_refresh_interval(store: Store) -> None:
    store.put(f"{PREFIX}/changing.txt", b"first version")
    assert wait_for(lambda: get(FILES + "changing.txt").body == "first version", WITHIN)
    store.put(f"{PREFIX}/changing.txt", b"second version, longer than the first")
    seen = set()

    def second_served() -> bool:
        answer = get(FILES + "changing.txt")
        seen.add((answer.status, answer.body))
        return answer.body == "second version, longer than the first"

    assert wait_for(second_served, WITHIN)
    # Every answer on the way was one whole version: never a missing or half-written file.
    assert seen <= {(200, "first version"), (200, "second version, longer than the first")}


def test_a_new_object_is_served_and_a_deleted_one_is_gone_after_a_refresh(store: Store) -> None:
    store.put(f"{PREFIX}/reports/2026.json", b'{"rows": 2}')
    assert wait_for(lambda: get(FILES + "reports/2026.json").status == 200, WITHIN)
    assert get(FILES + "reports/2026.json").headers["Content-Type"] == "application/json"
    store.delete(f"{PREFIX}/reports/2026.json")
    assert wait_for(lambda: get(FILES + "reports/2026.json").status == 404, WITHIN)


def test_objects_outside_the_prefix_are_not_served(store: Store) -> None:
    store.put("private/secret.txt", b"not under the prefix")
    store.put(f"{PREFIX}/marker-outside.txt", b"refreshed")
    assert wait_for(lambda: get(FILES + "marker-outside.txt").status == 200, WITHIN)
    assert get(FILES + "private/secret.txt").status == 404
    assert get(FILES + "../private/secret.txt").status != 200


def test_a_range_request_gets_the_part_asked_for() -> None:
    answer = get(FILES + "hello.txt", headers={"Range": "bytes=6-9"})
    assert (answer.status, answer.body, answer.headers["Content-Range"]) == (206, "from", "bytes 6-9/20")


def test_a_folder_is_not_listed() -> None:
    assert get(FILES).status == 403
    assert get(FILES + "reports/").status in (403, 404)


def test_traversal_attempts_get_nothing_outside_the_folder() -> None:
    # The volume holds the copies and their listings beside `current`; the container /etc/passwd.
    attempts = [
        "../etc/passwd",
        "%2e%2e/%2e%2e/etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        "%2e%2e%2fcopies/",
        "..%2fcopies/",
        "..%252fcopies/",
        "%2e%2e/current/hello.txt",
        "sub/..%2f..%2f..%2fetc/passwd",
        "hello.txt/../../copies/",
        ".%2e/.%2e/etc/passwd",
        "%c0%ae%c0%ae/etc/passwd",
        "..\\..\\etc\\passwd",
    ]
    for attempt in attempts:
        answer = get(FILES + attempt)
        assert answer.status in (400, 403, 404), (attempt, answer.status, answer.body[:200])
        assert "root:" not in answer.body, attempt
        assert "ModTime" not in answer.body, attempt


def test_the_last_good_copy_is_served_while_the_store_is_down(store: Store) -> None:
    assert json.loads(get(HEALTH, password="").body)["status"] == "ok"
    store.stop()
    try:
        assert wait_for(lambda: get(HEALTH, password="").status == 503, WITHIN)
        assert json.loads(get(HEALTH, password="").body)["status"] == "stale"
        answer = get(FILES + "hello.txt")
        assert (answer.status, answer.body) == (200, "hello from the store")
        failure = b"refresh failed, still serving copies/"
        assert wait_for(lambda: failure in container_logs("files-sync"), WITHIN)
    finally:
        store.start()
    assert wait_for(lambda: get(HEALTH, password="").status == 200, WITHIN)


def test_the_secret_key_is_in_no_log_container_setting_or_file_of_the_state_directory() -> None:
    containers = ["files-init", "files-sync", "proxy", "app", "verifier"]
    settings = container_settings(containers)
    assert SECRET_ACCESS_KEY not in settings
    assert USER["password"] not in settings
    for container in containers:
        # Bytes: the access log holds the traversal attempts' undecodable ones (%c0%ae).
        assert SECRET_ACCESS_KEY.encode() not in container_logs(container), container
    # The served copies (on podman) and the keys' bcrypt hashes are there, the keys are not.
    state = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "state"
    files = [path for path in state.rglob("*") if path.is_file() and not path.is_symlink()]
    if ON_PODMAN:
        assert any(path.name == "hello.txt" for path in files)
    for path in files:
        assert SECRET_ACCESS_KEY.encode() not in path.read_bytes(), path
