"""Render mode is idempotent: a rerun with the same inputs changes nothing, not even a byte, and
check mode on a clean render reports nothing to change. A changed password still gets a new hash."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import bcrypt
import yaml
from combinations import COMMON
from conftest import PASSWORD, run_render

SECRET = "00-secret-hello-sidecar-htpasswd.yml"
INPUTS = COMMON | {"sidecar_app_platform": "openshift", "sidecar_app_render_dir": "out"}


def changed(output: str) -> int:
    """The changed count of the one host in the play recap."""
    (count,) = re.findall(r"^localhost\s+: ok=\d+\s+changed=(\d+)", output, flags=re.MULTILINE)
    return int(count)


def contents(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def rendered_hash(directory: Path) -> str:
    secret = yaml.safe_load((directory / SECRET).read_text())
    line = base64.b64decode(secret["data"]["htpasswd"]).decode().rstrip("\n")
    return line.split(":", 1)[1]


def test_a_second_render_with_the_same_inputs_changes_nothing_and_keeps_every_byte(tmp_path: Path) -> None:
    first = run_render(INPUTS, tmp_path / "home", tmp_path)
    assert first.returncode == 0, first.stdout
    assert changed(first.stdout) > 0
    before = contents(tmp_path / "out")

    second = run_render(INPUTS, tmp_path / "home", tmp_path)
    assert second.returncode == 0, second.stdout
    assert changed(second.stdout) == 0, second.stdout
    assert contents(tmp_path / "out") == before


def test_check_mode_on_a_clean_render_reports_no_change(tmp_path: Path) -> None:
    first = run_render(INPUTS, tmp_path / "home", tmp_path)
    assert first.returncode == 0, first.stdout
    before = contents(tmp_path / "out")

    check = run_render(INPUTS, tmp_path / "home", tmp_path, "--check", "--diff")
    assert check.returncode == 0, check.stdout
    assert changed(check.stdout) == 0, check.stdout
    assert contents(tmp_path / "out") == before


def test_a_render_with_a_changed_password_writes_a_new_hash_of_it(tmp_path: Path) -> None:
    first = run_render(INPUTS, tmp_path / "home", tmp_path)
    assert first.returncode == 0, first.stdout
    old_hash = rendered_hash(tmp_path / "out")

    new_password = "a different horse"
    second = run_render(INPUTS, tmp_path / "home", tmp_path, env={"SIDECAR_APP_PASSWORD": new_password})
    assert second.returncode == 0, second.stdout
    # The Secret, and the workload, whose pod template carries a digest of the htpasswd so that
    # the pods roll when it changes.
    assert changed(second.stdout) == 2, second.stdout
    new_hash = rendered_hash(tmp_path / "out")
    assert new_hash != old_hash
    assert bcrypt.checkpw(new_password.encode(), new_hash.encode())
    assert not bcrypt.checkpw(PASSWORD.encode(), new_hash.encode())
