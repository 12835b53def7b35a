"""Render mode and apply mode make the same objects, from one source.

For each RENDERED combination (combinations.py, OpenShift ones), the same inputs went once through
playbooks/render.yml, which writes files, and once through playbooks/deploy.yml, which applies.
What those deployments wait for (ProjectRequests, builds, a router admitting the Route) only
OpenShift's own controllers do, and they cannot run here, so apply mode met a stand-in at that
boundary: tests/fake_cluster, a test-only collection put ahead of the real ones on
ANSIBLE_COLLECTIONS_PATH, whose kubernetes.core.k8s (and k8s_info, community.okd.k8s,
containers.podman.podman_image) record every definition they receive and answer as a healthy
OpenShift would. These tests compare what was recorded with what was written. On Kubernetes the
same is proven against a real API server: tests/cluster/test_render_matches_apply.py.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import bcrypt
import pytest
from combinations import APPLIED_TO_FAKE, RENDERED
from playbook_runs import PASSWORD
from role_objects import ObjectSet

SERVER_SIDE_APPLY = {"field_manager": "authproxy-sidecar", "force_conflicts": True}


DIGEST = "authproxy.sidecar/htpasswd-sha256"


def without_hashes(secret: dict[str, object]) -> dict[str, object]:
    return secret | {"data": {}}


def without_digest(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the pod template's digest of the htpasswd, which differs with the salts."""
    copied = copy.deepcopy(obj)
    copied.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations", {}).pop(DIGEST, None)
    return copied


def htpasswd_users(secret: dict[str, dict[str, str]]) -> dict[str, str]:
    lines = base64.b64decode(secret["data"]["htpasswd"]).decode().splitlines()
    return dict(line.split(":", 1) for line in lines)


@pytest.mark.parametrize("name", RENDERED)
def test_apply_sends_every_object_render_writes_in_the_same_order(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    rendered, applied = object_sets[f"rendered/{name}"], object_sets[f"applied/{name}"]
    # Applied objects are named as render names its files, numbered in the order they are applied.
    assert list(applied.objects) == sorted(rendered.objects)
    for file_name, obj in rendered.objects.items():
        if obj["kind"] == "Secret":
            assert without_hashes(applied.objects[file_name]) == without_hashes(obj)
        else:
            assert without_digest(applied.objects[file_name]) == without_digest(obj), file_name


@pytest.mark.parametrize("mode", ["rendered", "applied"])
@pytest.mark.parametrize("name", RENDERED)
def test_pod_template_carries_the_digest_of_its_own_htpasswd(
    object_sets: dict[str, ObjectSet], name: str, mode: str
) -> None:
    """A changed htpasswd changes the pod template, so the pods roll and read the new one."""
    object_set = object_sets[f"{mode}/{name}"]
    htpasswd = base64.b64decode(object_set.one("Secret")["data"]["htpasswd"])
    workload = next(
        obj for obj in object_set.objects.values() if obj["kind"] in ("Deployment", "DeploymentConfig")
    )
    assert (
        workload["spec"]["template"]["metadata"]["annotations"][DIGEST]
        == hashlib.sha256(htpasswd).hexdigest()
    )


@pytest.mark.parametrize("name", RENDERED)
def test_both_secrets_hold_a_hash_of_each_users_password(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    # bcrypt salts every new hash, and neither run found an earlier one to keep.
    rendered, applied = (object_sets[f"{mode}/{name}"].one("Secret") for mode in ("rendered", "applied"))
    assert htpasswd_users(rendered).keys() == htpasswd_users(applied).keys() == {"admin"}
    for secret in (rendered, applied):
        assert bcrypt.checkpw(PASSWORD.encode(), htpasswd_users(secret)["admin"].encode())


@pytest.mark.parametrize("name", APPLIED_TO_FAKE)
def test_apply_patches_the_secret_and_applies_everything_else_server_side(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    writes = [
        args for args in object_sets[f"applied/{name}"].applied("kubernetes.core.k8s") if "definition" in args
    ]
    assert writes
    for args in writes:
        kind = args["definition"]["kind"]
        if kind == "Secret":
            # Client-side apply would copy the hashes into the last-applied-configuration annotation.
            assert args["apply"] is False, kind
            assert "server_side_apply" not in args, kind
        else:
            assert args["apply"] is True, kind
            assert args["server_side_apply"] == SERVER_SIDE_APPLY, kind
