"""A new service account password: the role replaces the secret and the verifier gets it (a new
verifier container on podman, new pods on a cluster), before the role's own login checks it."""

from __future__ import annotations

from conftest import SCENARIO, get
from ldap_directory import SERVICE_DN, SERVICE_PASSWORD, Directory
from scenario_playbooks import run_playbook

# Longer than the 72 bytes bcrypt reads (the role keeps a bcrypt hash of it to see it change).
NEW_PASSWORD = "service-secret-rotated-" + "long-" * 12 + "end"


def service_password(directory: Directory, password: str) -> None:
    directory.modify(
        f"dn: {SERVICE_DN}\nchangetype: modify\nreplace: userPassword\nuserPassword: {password}\n"
    )


def test_a_rotated_service_password_reaches_the_verifier_and_never_the_output(directory: Directory) -> None:
    service_password(directory, NEW_PASSWORD)
    try:
        # Its verification logs in as alice: a verifier still on the old password would fail it.
        rotated = run_playbook(SCENARIO / "converge.yml", sidecar_app_ldap_bind_password=NEW_PASSWORD)
        assert rotated.returncode == 0, rotated.stdout[-3000:]
        assert NEW_PASSWORD not in rotated.stdout + rotated.stderr
        # A credential no answer was cached for: the directory is asked with the new password.
        assert get("carol", "carol-password", "198.51.100.50").status == 200
        again = run_playbook(SCENARIO / "converge.yml", sidecar_app_ldap_bind_password=NEW_PASSWORD)
        assert "changed=0" in again.stdout, again.stdout[-3000:]
    finally:
        service_password(directory, SERVICE_PASSWORD)
        restored = run_playbook(SCENARIO / "converge.yml")
        assert restored.returncode == 0, restored.stdout[-3000:]
