"""Bad input fails before anything changes, with a message naming the variable.

Each case runs the real deploy playbook against the local podman target.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
GOOD_PASSWORD = "a-good-password"
ADMIN = {"name": "admin", "password": GOOD_PASSWORD}
IMAGES = {"sidecar_app_image_build": "none", "sidecar_app_app_image": "registry.example.com/a/app:1"}
RAHTI2 = {"sidecar_app_platform": "openshift", "sidecar_app_platform_preset": "rahti2"}

# (case id, extra vars, variable the message must name)
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("empty-name", {"sidecar_app_name": ""}, "sidecar_app_name"),
    ("uppercase-name", {"sidecar_app_name": "Hello"}, "sidecar_app_name"),
    ("name-over-40", {"sidecar_app_name": "a" * 41}, "sidecar_app_name"),
    ("name-with-underscore", {"sidecar_app_name": "hello_app"}, "sidecar_app_name"),
    ("namespace-over-63", {"sidecar_app_namespace": "n" * 64}, "sidecar_app_namespace"),
    ("publish-port-80", {"sidecar_app_publish_port": 80}, "sidecar_app_publish_port"),
    ("publish-port-70000", {"sidecar_app_publish_port": 70000}, "sidecar_app_publish_port"),
    ("app-port-80", {"sidecar_app_app_port": 80}, "sidecar_app_app_port"),
    ("app-port-is-nginx-port", {"sidecar_app_app_port": 8081}, "sidecar_app_app_port"),
    ("port-not-a-number", {"sidecar_app_publish_port": "http"}, "sidecar_app_publish_port"),
    (
        "password-73-bytes",
        {"sidecar_app_users": [{"name": "admin", "password": "p" * 73}]},
        "sidecar_app_users",
    ),
    (
        "password-74-bytes-utf8",
        {"sidecar_app_users": [{"name": "admin", "password": "ä" * 37}]},
        "sidecar_app_users",
    ),
    ("no-users", {"sidecar_app_users": []}, "sidecar_app_users"),
    ("duplicate-users", {"sidecar_app_users": [ADMIN, ADMIN]}, "sidecar_app_users"),
    ("user-without-name", {"sidecar_app_users": [{"password": GOOD_PASSWORD}]}, "name"),
    (
        "user-name-with-colon",
        {"sidecar_app_users": [{"name": "ad:min", "password": GOOD_PASSWORD}]},
        "sidecar_app_users",
    ),
    ("unknown-platform", {"sidecar_app_platform": "docker"}, "sidecar_app_platform"),
    ("unknown-state", {"sidecar_app_state": "gone"}, "sidecar_app_state"),
    ("unknown-workload-kind", {"sidecar_app_workload_kind": "StatefulSet"}, "sidecar_app_workload_kind"),
    (
        "deploymentconfig-on-podman",
        {"sidecar_app_workload_kind": "DeploymentConfig"},
        "sidecar_app_workload_kind",
    ),
    (
        "cluster-build-on-kubernetes",
        {"sidecar_app_platform": "kubernetes", "sidecar_app_image_build": "cluster"},
        "sidecar_app_image_build",
    ),
    (
        "app-build-context-without-containerfile",
        {"sidecar_app_app_build_context": str(ROOT / "files")},
        "sidecar_app_app_build_context",
    ),
    (
        "proxy-build-context-without-containerfile",
        {"sidecar_app_proxy_build_context": str(ROOT / "roles")},
        "sidecar_app_proxy_build_context",
    ),
    ("negative-replicas", {"sidecar_app_replicas": -1}, "sidecar_app_replicas"),
    ("zero-workers", {"sidecar_app_app_workers": 0}, "sidecar_app_app_workers"),
    ("bcrypt-cost-too-low", {"sidecar_app_bcrypt_rounds": 4}, "sidecar_app_bcrypt_rounds"),
    (
        "malformed-image-reference",
        {**IMAGES, "sidecar_app_proxy_image": "Registry/UPPER case:tag"},
        "sidecar_app_proxy_image",
    ),
    ("missing-image-reference", IMAGES, "sidecar_app_proxy_image"),
    (
        "podman-build-for-cluster-without-registry",
        {"sidecar_app_platform": "kubernetes"},
        "sidecar_app_registry",
    ),
    ("rahti2-without-csc-project", RAHTI2, "sidecar_app_csc_project"),
    (
        "rahti2-csc-project-not-a-number",
        RAHTI2 | {"sidecar_app_csc_project": "project_2001234"},
        "sidecar_app_csc_project",
    ),
    (
        "rahti2-on-podman",
        RAHTI2 | {"sidecar_app_platform": "podman", "sidecar_app_csc_project": "2001234"},
        "sidecar_app_platform",
    ),
    (
        "rahti2-limit-over-5-times-request",
        RAHTI2
        | {
            "sidecar_app_csc_project": "2001234",
            "sidecar_app_app_resources": {
                "requests": {"cpu": "50m", "memory": "64Mi"},
                "limits": {"cpu": "500m", "memory": "192Mi"},
            },
        },
        "sidecar_app_app_resources",
    ),
    (
        "rahti2-route-host-over-63-characters",
        RAHTI2
        | {
            "sidecar_app_csc_project": "2001234",
            "sidecar_app_name": "a" * 40,
            "sidecar_app_namespace": "n" * 30,
        },
        "sidecar_app_route_host",
    ),
    ("unknown-preset", {"sidecar_app_platform_preset": "rahti1"}, "sidecar_app_platform_preset"),
    (
        "resources-without-limits",
        {"sidecar_app_app_resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}},
        "sidecar_app_app_resources",
    ),
]


@pytest.mark.parametrize(("extra_vars", "variable"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_any_change(extra_vars: dict[str, Any], variable: str, tmp_path: Path) -> None:
    name = "bad-input-probe"
    state_dir, password_dir = tmp_path / "state", tmp_path / "passwords"
    all_vars = {
        "sidecar_app_name": name,
        "sidecar_app_state_dir": str(state_dir),
        "sidecar_app_password_dir": str(password_dir),
        "sidecar_app_users": [ADMIN],
        **extra_vars,
    }
    result = subprocess.run(
        [ANSIBLE_PLAYBOOK, "playbooks/deploy.yml", "-e", json.dumps(all_vars)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert variable in output
    assert re.search(r"changed=0\s", output), output[-3000:]
    assert not state_dir.exists()
    assert not password_dir.exists()
    for user in all_vars["sidecar_app_users"]:
        if len(user.get("password", "")) > 3:
            assert user["password"] not in output
    pods = subprocess.run(["podman", "pod", "exists", name], check=False)
    assert pods.returncode != 0
