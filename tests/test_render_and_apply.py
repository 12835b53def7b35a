"""Render mode and apply mode make the same objects, from one source.

For each RENDERED combination (conftest.py), the same inputs went once through playbooks/render.yml,
which writes files, and once through playbooks/deploy.yml, which applies. No API server can run
here, so apply mode met a mock at that boundary: tests/fake_cluster, a test-only collection put
ahead of the real ones on ANSIBLE_COLLECTIONS_PATH, whose kubernetes.core.k8s (and k8s_info,
community.okd.k8s, containers.podman.podman_image) record every definition they receive and answer
as a healthy cluster would. These tests compare what was recorded with what was written. They prove
what the role sends; what a real API server makes of it is the strict schema tests' business.
"""

from __future__ import annotations

import base64

import bcrypt
import pytest
from conftest import COMBINATIONS, PASSWORD, RENDERED, ObjectSet

SERVER_SIDE_APPLY = {"field_manager": "authproxy-sidecar", "force_conflicts": True}


def without_hashes(secret: dict[str, object]) -> dict[str, object]:
    return secret | {"data": {}}


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
            assert applied.objects[file_name] == obj, file_name


@pytest.mark.parametrize("name", RENDERED)
def test_both_secrets_hold_a_hash_of_each_users_password(
    object_sets: dict[str, ObjectSet], name: str
) -> None:
    # bcrypt salts every new hash, and neither run found an earlier one to keep.
    rendered, applied = (object_sets[f"{mode}/{name}"].one("Secret") for mode in ("rendered", "applied"))
    assert htpasswd_users(rendered).keys() == htpasswd_users(applied).keys() == {"admin"}
    for secret in (rendered, applied):
        assert bcrypt.checkpw(PASSWORD.encode(), htpasswd_users(secret)["admin"].encode())


@pytest.mark.parametrize("name", list(COMBINATIONS))
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
