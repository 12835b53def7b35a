"""playbooks/verify.yml reads the password a deploy kept and generates none: it changes nothing."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from playbook_runs import Played, play


def verify(tmp_path: Path) -> Played:
    """playbooks/verify.yml for a podman deployment whose files would be under tmp_path, with the
    default user and no SIDECAR_APP_PASSWORD (its password is the generated one), on a port
    nothing listens on."""
    inputs = {
        "sidecar_app_name": "verify-probe",
        "sidecar_app_publish_port": free_port(),
        "sidecar_app_state_dir": str(tmp_path / "state"),
        "sidecar_app_password_dir": str(tmp_path / "passwords"),
    }
    return play(
        "playbooks/verify.yml", extra_vars=inputs, home=tmp_path / "home", env={"SIDECAR_APP_PASSWORD": ""}
    )


def free_port() -> int:
    """A local port nothing listens on (the kernel's pick, closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_a_kept_password_verification_fails_naming_the_file_and_creates_nothing(
    tmp_path: Path,
) -> None:
    output = verify(tmp_path).must_fail()
    assert f"missing {tmp_path}/passwords/admin.password" in output, output[-3000:]
    assert "Deploy first" in output
    assert re.search(r"changed=0\s", output), output[-3000:]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home"]


def test_a_kept_password_is_read_and_left_as_it_was(tmp_path: Path) -> None:
    kept = tmp_path / "passwords" / "admin.password"
    kept.parent.mkdir(mode=0o700)
    kept.write_text("kept-password-canary\n")
    kept.chmod(0o600)
    before = kept.stat()

    output = verify(tmp_path).must_fail()
    # Past the passwords, it finds nothing listening on the port.
    assert "TASK [authproxy.sidecar.sidecar_app : Ask without credentials]" in output, output[-3000:]
    assert "kept-password-canary" not in output
    assert [path.name for path in kept.parent.iterdir()] == ["admin.password"]
    assert kept.read_text() == "kept-password-canary\n"
    assert (kept.stat().st_mtime_ns, kept.stat().st_mode) == (before.st_mtime_ns, before.st_mode)
    assert not (tmp_path / "state").exists()
