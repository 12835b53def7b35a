"""The sync container's program (roles/sidecar_app/files/proxy/files-sync.py), run here against a
real S3 server (tests/s3_store.py), with this machine's rclone: the copies it makes and swaps,
what it refuses, and what it says while the store is down. molecule/files runs it in the pod."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import free_port
from s3_store import ACCESS_KEY_ID, BUCKET, SECRET_ACCESS_KEY, Store, rclone_binary

SCRIPT = Path(__file__).resolve().parent.parent / "roles/sidecar_app/files/proxy/files-sync.py"
PREFIX = "public"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "s3")
    store.path.mkdir()
    store.start()
    store.make_bucket()
    store.put(f"{PREFIX}/index.html", b"<h1>first</h1>")
    store.put(f"{PREFIX}/data/table.json", b'{"rows": 1}')
    store.put("elsewhere/private.txt", b"not under the prefix")
    yield store
    store.stop()


def keys_dir(tmp_path: Path, secret: str = SECRET_ACCESS_KEY) -> Path:
    """The keys as the Secret's volume holds them, a file each."""
    keys = tmp_path / ("keys" if secret == SECRET_ACCESS_KEY else "other-keys")
    keys.mkdir(exist_ok=True)
    (keys / "access-key-id").write_text(ACCESS_KEY_ID + "\n")
    (keys / "secret-access-key").write_text(secret + "\n")
    return keys


def environment(store: Store, tmp_path: Path, **settings: str) -> dict[str, str]:
    rclone_dir = str(Path(rclone_binary()).parent)
    return {
        "PATH": f"{rclone_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "FILES_DIR": str(tmp_path / "files"),
        "FILES_REMOTE": f"store:{BUCKET}/{PREFIX}",
        "FILES_REFRESH_SECONDS": "1",
        "FILES_SIZE_LIMIT_BYTES": "0",
        "FILES_KEYS_DIR": str(keys_dir(tmp_path)),
        "RCLONE_CONFIG_STORE_TYPE": "s3",
        "RCLONE_CONFIG_STORE_PROVIDER": "Other",
        "RCLONE_CONFIG_STORE_ENV_AUTH": "false",
        "RCLONE_CONFIG_STORE_ENDPOINT": store.endpoint,
        **settings,
    }


def once(store: Store, tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--once"],
        env=environment(store, tmp_path, **settings),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def served(tmp_path: Path) -> dict[str, str]:
    current = tmp_path / "files" / "current"
    return {str(path.relative_to(current)): path.read_text() for path in current.rglob("*") if path.is_file()}


def test_the_first_copy_is_the_prefix_of_the_bucket_behind_the_current_symlink(
    store: Store, tmp_path: Path
) -> None:
    result = once(store, tmp_path)
    assert result.returncode == 0, result.stderr
    current = tmp_path / "files" / "current"
    assert current.is_symlink()
    assert os.readlink(current).startswith("copies/")
    assert served(tmp_path) == {"index.html": "<h1>first</h1>", "data/table.json": '{"rows": 1}'}


def test_an_unchanged_store_makes_no_new_copy(store: Store, tmp_path: Path) -> None:
    assert once(store, tmp_path).returncode == 0
    first = os.readlink(tmp_path / "files" / "current")
    assert once(store, tmp_path).returncode == 0
    assert os.readlink(tmp_path / "files" / "current") == first


def test_a_change_is_a_new_complete_copy_and_the_old_one_is_removed(store: Store, tmp_path: Path) -> None:
    assert once(store, tmp_path).returncode == 0
    first = os.readlink(tmp_path / "files" / "current")
    store.put(f"{PREFIX}/index.html", b"<h1>second</h1>")
    store.delete(f"{PREFIX}/data/table.json")
    result = once(store, tmp_path)
    assert result.returncode == 0, result.stderr
    second = os.readlink(tmp_path / "files" / "current")
    assert second != first
    assert served(tmp_path) == {"index.html": "<h1>second</h1>"}
    assert sorted(path.name for path in (tmp_path / "files" / "copies").iterdir()) == sorted(
        [Path(second).name, Path(second).name + ".listing.json"]
    )


def test_a_store_larger_than_half_the_size_limit_is_refused_and_the_copy_kept(
    store: Store, tmp_path: Path
) -> None:
    assert once(store, tmp_path).returncode == 0
    first = os.readlink(tmp_path / "files" / "current")
    store.put(f"{PREFIX}/big.bin", b"x" * 4096)
    result = once(store, tmp_path, FILES_SIZE_LIMIT_BYTES="4096")
    assert result.returncode == 1
    assert "raise sidecar_app_files_size_limit to at least twice the size" in result.stderr
    assert os.readlink(tmp_path / "files" / "current") == first


def test_a_store_that_is_down_fails_the_first_copy_with_rclone_message(store: Store, tmp_path: Path) -> None:
    store.stop()
    result = once(store, tmp_path)
    assert result.returncode == 1
    assert "the first copy failed, nothing to serve: rclone lsjson failed" in result.stderr
    assert "connection refused" in result.stderr
    assert not (tmp_path / "files" / "current").exists()


def test_a_wrong_secret_key_fails_and_no_key_is_logged(store: Store, tmp_path: Path) -> None:
    wrong = "a-wrong-secret-key-0123456789"
    result = once(store, tmp_path, FILES_KEYS_DIR=str(keys_dir(tmp_path, secret=wrong)))
    assert result.returncode == 1
    assert wrong not in result.stdout + result.stderr
    assert ACCESS_KEY_ID not in result.stdout
    assert not (tmp_path / "files" / "current").exists()


def health(port: int) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return -1, {}


def wait_for_health(port: int, status: int, within: float) -> dict[str, str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answer, body = health(port)
        if answer == status:
            return body
        time.sleep(0.2)
    raise AssertionError(f"health never answered {status}: {health(port)}")


def test_the_sidecar_keeps_the_last_good_copy_while_the_store_is_down_and_says_so(
    store: Store, tmp_path: Path
) -> None:
    port = free_port()
    sidecar = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        env=environment(store, tmp_path, FILES_SYNC_PORT=str(port)),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for_health(port, 200, 60)["status"] == "ok"
        first = os.readlink(tmp_path / "files" / "current")
        store.stop()
        body = wait_for_health(port, 503, 60)
        assert body["status"] == "stale"
        assert body["served_copy"] == first
        assert served(tmp_path)["index.html"] == "<h1>first</h1>"
        store.start()
        store.put(f"{PREFIX}/index.html", b"<h1>after the outage</h1>")
        assert wait_for_health(port, 200, 60)["status"] == "ok"
        deadline = time.monotonic() + 60
        while (
            served(tmp_path).get("index.html") != "<h1>after the outage</h1>" and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert served(tmp_path)["index.html"] == "<h1>after the outage</h1>"
    finally:
        sidecar.send_signal(signal.SIGTERM)
        log = sidecar.communicate(timeout=30)[1]
    assert f"refresh failed, still serving {first}" in log
    assert SECRET_ACCESS_KEY not in log
