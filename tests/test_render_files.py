"""The cluster objects of sidecar_app_files_source, as playbooks/render.yml writes them.

Two sets in one run: OpenShift on the Rahti 2 preset with an S3 bucket (CSC Allas) and the
Kubernetes with an existing PersistentVolumeClaim. Every object is validated strictly against its
OpenShift schema, as tests/test_manifests.py does for the others; the sync containers keep the
pod's restricted security and the preset's limit-to-request ratio; the S3 keys are in their
Secret only.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from combinations import APP_IMAGE, CSC_PROJECT, PROXY_IMAGE
from manifest_schemas import errors
from passlib.hash import bcrypt
from role_objects import ObjectSet, Rendered, render

from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import quantity

ACCESS_KEY_ID = "allas-access-key-id"
# Longer than the 72 bytes bcrypt reads: the role's hash of it must still work.
SECRET_ACCESS_KEY = "allas-secret-access-key-do-not-show-" + "long-" * 10
GIVEN_IMAGES = {
    "sidecar_app_image_build": "none",
    "sidecar_app_app_image": APP_IMAGE,
    "sidecar_app_proxy_image": PROXY_IMAGE,
}
SETS: dict[str, dict[str, Any]] = {
    "rahti2-s3": GIVEN_IMAGES
    | {
        "sidecar_app_platform": "openshift",
        "sidecar_app_platform_preset": "rahti2",
        "sidecar_app_csc_project": CSC_PROJECT,
        "sidecar_app_name": "reports",
        "sidecar_app_files_source": "s3",
        "sidecar_app_files_s3_endpoint": "https://a3s.fi",
        "sidecar_app_files_s3_bucket": "project-reports",
        "sidecar_app_files_s3_prefix": "public/2026",
        "sidecar_app_files_s3_access_key_id": ACCESS_KEY_ID,
        "sidecar_app_files_s3_secret_access_key": SECRET_ACCESS_KEY,
        "sidecar_app_files_size_limit": "2Gi",
        "sidecar_app_bcrypt_rounds": 10,
    },
    "kubernetes-pvc": GIVEN_IMAGES
    | {
        "sidecar_app_platform": "kubernetes",
        "sidecar_app_name": "archive",
        "sidecar_app_files_source": "pvc",
        "sidecar_app_files_pvc_claim": "archive-data",
        "sidecar_app_files_path": "/archive/",
        "sidecar_app_files_size_limit": "512Mi",
        "sidecar_app_files_refresh_seconds": 60,
        "sidecar_app_bcrypt_rounds": 10,
    },
}
SYNC_CONTAINERS = {"files-init", "files-sync"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(tmp_path_factory.mktemp("render-files"), SETS)


@pytest.fixture(params=list(SETS))
def object_set(request: pytest.FixtureRequest, rendered: Rendered) -> ObjectSet:
    return rendered.sets[request.param]


def spec(object_set: ObjectSet) -> dict[str, Any]:
    pod_spec: dict[str, Any] = object_set.pod_template["spec"]
    return pod_spec


def all_containers(object_set: ObjectSet) -> dict[str, dict[str, Any]]:
    listed = spec(object_set)["containers"] + spec(object_set).get("initContainers", [])
    return {container["name"]: container for container in listed}


def environment(container: dict[str, Any]) -> dict[str, Any]:
    return {
        variable["name"]: variable.get("value", variable.get("valueFrom")) for variable in container["env"]
    }


def test_every_object_validates_strictly_against_its_openshift_schema(object_set: ObjectSet) -> None:
    for file_name, obj in object_set.objects.items():
        problems = errors(obj)
        assert not problems, f"{file_name}: " + "; ".join(problems)


def test_the_init_container_copies_first_and_the_sync_container_runs_beside_nginx(
    object_set: ObjectSet,
) -> None:
    init = spec(object_set)["initContainers"]
    assert [container["name"] for container in init] == ["files-init"]
    assert init[0]["command"] == ["python3", "/usr/local/bin/files-sync.py", "--once"]
    assert "files-sync" in {container["name"] for container in spec(object_set)["containers"]}
    assert init[0]["image"] == PROXY_IMAGE


def test_the_sync_containers_run_restricted_within_the_five_times_rule(object_set: ObjectSet) -> None:
    for name in SYNC_CONTAINERS:
        container = all_containers(object_set)[name]
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["runAsNonRoot"] is True, name
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["capabilities"] == {"drop": ["ALL"]}, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for resource in ("cpu", "memory"):
            limit = quantity(container["resources"]["limits"][resource])
            request = quantity(container["resources"]["requests"][resource])
            assert request > 0, (name, resource)
            assert limit <= 5 * request, (name, resource)


def test_the_files_volume_is_an_emptydir_of_the_size_limit_that_only_the_sync_containers_write(
    object_set: ObjectSet,
) -> None:
    volumes = {volume["name"]: volume for volume in spec(object_set)["volumes"]}
    assert volumes["files"] == {
        "name": "files",
        "emptyDir": {"sizeLimit": object_set.inputs["sidecar_app_files_size_limit"]},
    }
    writers = {
        name
        for name, container in all_containers(object_set).items()
        for mount in container["volumeMounts"]
        if mount["name"] == "files" and not mount.get("readOnly", False)
    }
    assert writers == SYNC_CONTAINERS
    proxy_mounts = {mount["name"]: mount for mount in all_containers(object_set)["proxy"]["volumeMounts"]}
    assert proxy_mounts["files"] == {"name": "files", "mountPath": "/srv/files", "readOnly": True}
    assert "files" not in {mount["name"] for mount in all_containers(object_set)["app"]["volumeMounts"]}


def test_a_pvc_source_is_mounted_read_only_into_the_sync_containers_only(rendered: Rendered) -> None:
    object_set = rendered.sets["kubernetes-pvc"]
    volumes = {volume["name"]: volume for volume in spec(object_set)["volumes"]}
    assert volumes["files-source"]["persistentVolumeClaim"] == {"claimName": "archive-data", "readOnly": True}
    for name, container in all_containers(object_set).items():
        mounts = {mount["name"]: mount for mount in container["volumeMounts"]}
        assert ("files-source" in mounts) == (name in SYNC_CONTAINERS), name
        assert mounts.get("files-source", {"readOnly": True})["readOnly"] is True
    assert environment(all_containers(object_set)["files-sync"])["FILES_REMOTE"] == "/srv/source"
    assert not any(
        obj["kind"] == "Secret" and obj["metadata"]["name"].endswith("-files")
        for obj in object_set.objects.values()
    )


def test_the_s3_keys_reach_the_sync_containers_as_files_of_their_secret_only(rendered: Rendered) -> None:
    object_set = rendered.sets["rahti2-s3"]
    volumes = {volume["name"]: volume for volume in spec(object_set)["volumes"]}
    # The keys only: not the hashes beside them.
    assert volumes["files-keys"]["secret"] == {
        "secretName": "reports-files",
        "defaultMode": 0o440,
        "items": [
            {"key": "access-key-id", "path": "access-key-id"},
            {"key": "secret-access-key", "path": "secret-access-key"},
        ],
    }
    for name, container in all_containers(object_set).items():
        mounts = {mount["name"]: mount for mount in container["volumeMounts"]}
        assert ("files-keys" in mounts) == (name in SYNC_CONTAINERS), name
        if name in SYNC_CONTAINERS:
            assert mounts["files-keys"] == {
                "name": "files-keys",
                "mountPath": "/etc/files-sync/keys",
                "readOnly": True,
            }
            env = environment(container)
            assert env["FILES_REMOTE"] == "store:project-reports/public/2026"
            assert env["RCLONE_CONFIG_STORE_ENDPOINT"] == "https://a3s.fi"
            assert env["FILES_KEYS_DIR"] == "/etc/files-sync/keys"
        assert not any(variable.get("valueFrom") for variable in container.get("env", [])), name
    secret = object_set.objects["00-secret-reports-files.yml"]
    hashes = secret["data"].pop("keys-bcrypt")
    assert secret["data"] == {
        "access-key-id": base64.b64encode(ACCESS_KEY_ID.encode()).decode(),
        "secret-access-key": base64.b64encode(SECRET_ACCESS_KEY.encode()).decode(),
    }
    # Of each key's SHA-256 (bcrypt reads at most 72 bytes), whose digest the pod template carries:
    # a changed key rolls the pods.
    lines = dict(line.split(":", 1) for line in base64.b64decode(hashes).decode().split())
    assert bcrypt.verify(hashlib.sha256(ACCESS_KEY_ID.encode()).hexdigest(), lines["access-key-id"])
    assert bcrypt.verify(hashlib.sha256(SECRET_ACCESS_KEY.encode()).hexdigest(), lines["secret-access-key"])
    annotations = object_set.pod_template["metadata"]["annotations"]
    assert (
        annotations["authproxy.sidecar/files-keys-bcrypt-sha256"]
        == hashlib.sha256(base64.b64decode(hashes)).hexdigest()
    )
    assert object_set.directory
    assert (object_set.directory / "00-secret-reports-files.yml").stat().st_mode & 0o777 == 0o600


def test_no_file_but_the_secret_and_no_output_holds_the_s3_keys(rendered: Rendered) -> None:
    object_set = rendered.sets["rahti2-s3"]
    assert object_set.directory
    encoded = base64.b64encode(SECRET_ACCESS_KEY.encode()).decode()
    for path in object_set.directory.iterdir():
        if path.name == "00-secret-reports-files.yml":
            continue
        text = path.read_text()
        assert SECRET_ACCESS_KEY not in text, path.name
        assert encoded not in text, path.name
        assert ACCESS_KEY_ID not in text, path.name
    assert SECRET_ACCESS_KEY not in rendered.played.output
    assert encoded not in rendered.played.output


def test_a_second_render_changes_nothing(rendered: Rendered) -> None:
    played = rendered.again()
    for name in SETS:
        assert played.changed(name) == 0, name
