"""Render mode is idempotent: a rerun with the same inputs changes nothing, not even a byte, and
check mode on a clean render reports nothing to change. A changed password still gets a new hash."""

from __future__ import annotations

import base64
from pathlib import Path

import bcrypt
import yaml
from combinations import COMMON
from playbook_runs import PASSWORD, Played, play

SECRET = "00-secret-hello-sidecar-htpasswd.yml"
INPUTS = COMMON | {"sidecar_app_platform": "openshift", "sidecar_app_render_dir": "out"}


def render(directory: Path, *arguments: str, env: dict[str, str] | None = None) -> Played:
    """playbooks/render.yml with INPUTS from directory, so into directory/out; it must succeed."""
    return play(
        "playbooks/render.yml",
        *arguments,
        extra_vars=INPUTS,
        home=directory / "home",
        cwd=directory,
        env=env,
    ).must_succeed()


def contents(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def rendered_hash(directory: Path) -> str:
    secret = yaml.safe_load((directory / SECRET).read_text())
    line = base64.b64decode(secret["data"]["htpasswd"]).decode().rstrip("\n")
    return line.split(":", 1)[1]


def test_a_second_render_with_the_same_inputs_changes_nothing_and_keeps_every_byte(tmp_path: Path) -> None:
    first = render(tmp_path)
    assert first.changed("localhost") > 0
    before = contents(tmp_path / "out")

    second = render(tmp_path)
    assert second.changed("localhost") == 0, second.output
    assert contents(tmp_path / "out") == before


def test_check_mode_on_a_clean_render_reports_no_change(tmp_path: Path) -> None:
    render(tmp_path)
    before = contents(tmp_path / "out")

    check = render(tmp_path, "--check", "--diff")
    assert check.changed("localhost") == 0, check.output
    assert contents(tmp_path / "out") == before


def test_a_render_with_a_changed_password_writes_a_new_hash_of_it(tmp_path: Path) -> None:
    render(tmp_path)
    old_hash = rendered_hash(tmp_path / "out")

    new_password = "a different horse"
    second = render(tmp_path, env={"SIDECAR_APP_PASSWORD": new_password})
    # The Secret, and the workload, whose pod template carries a digest of the htpasswd so that
    # the pods roll when it changes.
    assert second.changed("localhost") == 2, second.output
    new_hash = rendered_hash(tmp_path / "out")
    assert new_hash != old_hash
    assert bcrypt.checkpw(new_password.encode(), new_hash.encode())
    assert not bcrypt.checkpw(PASSWORD.encode(), new_hash.encode())
