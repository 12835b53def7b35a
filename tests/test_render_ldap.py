"""The cluster objects of sidecar_app_auth ldap, as playbooks/render.yml writes them.

Three sets in one run: OpenShift with a service account, a CA bundle and a group (a
DeploymentConfig built on the cluster), Kubernetes with a service account and a CA bundle, and
Kubernetes with a DN template (no service account, so no Secret) and the system CAs. Every object
is validated strictly against its OpenShift schema, as tests/test_manifests.py does for htpasswd.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from combinations import APP_IMAGE, PROXY_IMAGE
from manifest_schemas import errors
from passlib.hash import bcrypt
from role_objects import ObjectSet, Rendered, render

# Longer than the 72 bytes bcrypt reads: the role's hash of it must still work.
BIND_PASSWORD = "the-service-account's-password, " + "long-" * 10 + "and-random"
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"
LDAP = {
    "sidecar_app_auth": "ldap",
    "sidecar_app_ldap_uris": ["ldaps://ldap1.example.org", "ldaps://ldap2.example.org:636"],
    "sidecar_app_ldap_base_dn": "ou=people,dc=example,dc=org",
    "sidecar_app_ldap_bind_dn": "cn=sidecar,ou=services,dc=example,dc=org",
    "sidecar_app_ldap_bind_password": BIND_PASSWORD,
    "sidecar_app_bcrypt_rounds": 10,
}
GIVEN_IMAGES = {
    "sidecar_app_image_build": "none",
    "sidecar_app_app_image": APP_IMAGE,
    "sidecar_app_proxy_image": PROXY_IMAGE,
}
SETS: dict[str, dict[str, Any]] = {
    "openshift-ldap": LDAP
    | {
        "sidecar_app_platform": "openshift",
        "sidecar_app_workload_kind": "DeploymentConfig",
        "sidecar_app_ldap_group_dn": "cn=wiki-users,ou=groups,dc=example,dc=org",
    },
    "kubernetes-ldap": LDAP
    | GIVEN_IMAGES
    | {"sidecar_app_platform": "kubernetes", "sidecar_app_name": "wiki"},
    "kubernetes-ldap-dn-template": LDAP
    | GIVEN_IMAGES
    | {
        "sidecar_app_platform": "kubernetes",
        "sidecar_app_name": "notes",
        "sidecar_app_ldap_bind_dn": "",
        "sidecar_app_ldap_bind_password": "",
        "sidecar_app_ldap_user_dn_template": "uid={user},ou=people,dc=example,dc=org",
    },
}
WITH_CA = ["openshift-ldap", "kubernetes-ldap"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    base = tmp_path_factory.mktemp("render-ldap")
    ca_file = base / "ca.pem"
    ca_file.write_text(CA_PEM)
    with_ca = {"sidecar_app_ldap_ca_file": str(ca_file)}
    hosts = {name: inputs | (with_ca if name in WITH_CA else {}) for name, inputs in SETS.items()}
    return render(base, hosts)


@pytest.fixture(params=list(SETS))
def object_set(request: pytest.FixtureRequest, rendered: Rendered) -> ObjectSet:
    return rendered.sets[request.param]


def containers(object_set: ObjectSet) -> dict[str, dict[str, Any]]:
    return {container["name"]: container for container in object_set.pod_template["spec"]["containers"]}


def environment(container: dict[str, Any]) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in container["env"]}


def test_every_object_validates_strictly_against_its_openshift_schema(object_set: ObjectSet) -> None:
    for file_name, obj in object_set.objects.items():
        problems = errors(obj)
        assert not problems, f"{file_name}: " + "; ".join(problems)


def test_the_ldap_secret_and_the_ca_configmap_come_before_the_workload(object_set: ObjectSet) -> None:
    name, with_ca = object_set.name, object_set.get("sidecar_app_ldap_ca_file", "")
    files = sorted(object_set.objects)
    kinds = [object_set.objects[file]["kind"] for file in files]
    assert ("Secret" in kinds) == bool(object_set.get("sidecar_app_ldap_bind_dn", ""))
    assert "Secret" not in kinds or files[0] == f"00-secret-{name}-ldap.yml"
    assert ("ConfigMap" in kinds) == bool(with_ca)
    assert "ConfigMap" not in kinds or kinds.index("ConfigMap") < kinds.index(object_set.workload["kind"])
    assert not any("htpasswd" in file for file in files)


def test_the_secret_holds_the_service_password_only_and_only_its_owner_reads_it(
    object_set: ObjectSet,
) -> None:
    if not object_set.get("sidecar_app_ldap_bind_dn", ""):
        pytest.skip("a DN template needs no service account")
    secret = object_set.one("Secret")
    assert secret["metadata"]["name"] == f"{object_set.name}-ldap"
    assert set(secret["data"]) == {"bind-password", "bind-password-bcrypt"}
    assert base64.b64decode(secret["data"]["bind-password"]).decode() == BIND_PASSWORD
    name, hashed = base64.b64decode(secret["data"]["bind-password-bcrypt"]).decode().strip().split(":", 1)
    assert name == "bind"
    # Of the password's SHA-256: bcrypt reads at most 72 bytes.
    assert bcrypt.verify(hashlib.sha256(BIND_PASSWORD.encode()).hexdigest(), hashed)
    assert object_set.directory
    assert (object_set.directory / f"00-secret-{object_set.name}-ldap.yml").stat().st_mode & 0o777 == 0o600


def test_no_file_but_the_secret_holds_the_service_password(object_set: ObjectSet) -> None:
    assert object_set.directory
    encoded = base64.b64encode(BIND_PASSWORD.encode()).decode()
    for path in object_set.directory.iterdir():
        if path.name.startswith("00-secret-"):
            continue
        text = path.read_text()
        assert BIND_PASSWORD not in text, path.name
        assert encoded not in text, path.name


def test_the_run_shows_no_service_password(rendered: Rendered) -> None:
    output = rendered.played.output
    assert BIND_PASSWORD not in output
    assert base64.b64encode(BIND_PASSWORD.encode()).decode() not in output


def test_the_configmap_holds_the_ca_bundle(object_set: ObjectSet) -> None:
    if not object_set.get("sidecar_app_ldap_ca_file", ""):
        pytest.skip("the system CAs")
    config_map = object_set.one("ConfigMap")
    assert config_map["metadata"]["name"] == f"{object_set.name}-ldap-ca"
    assert config_map["data"] == {"ca.pem": CA_PEM}


def test_only_the_verifier_mounts_the_ldap_volumes_and_nobody_an_htpasswd(object_set: ObjectSet) -> None:
    spec = object_set.pod_template["spec"]
    by_name = {volume["name"]: volume for volume in spec["volumes"]}
    expected = {}
    if object_set.get("sidecar_app_ldap_bind_dn", ""):
        expected["ldap"] = {
            "secretName": f"{object_set.name}-ldap",
            "defaultMode": 0o440,
            "items": [{"key": "bind-password", "path": "bind-password"}],
        }
    if object_set.get("sidecar_app_ldap_ca_file", ""):
        expected["ldap-ca"] = {"name": f"{object_set.name}-ldap-ca"}
    assert {
        name: by_name[name].get("secret", by_name[name].get("configMap")) for name in expected
    } == expected
    assert set(by_name) == set(expected) | {"app-tmp", "proxy-tmp"}
    mounts = {name: {m["name"]: m for m in c["volumeMounts"]} for name, c in containers(object_set).items()}
    assert set(mounts["verifier"]) == set(expected)
    assert all(mount["readOnly"] for mount in mounts["verifier"].values())
    assert set(mounts["proxy"]) == {"proxy-tmp"}
    assert set(mounts["app"]) == {"app-tmp"}


def test_a_changed_service_password_changes_the_pod_template_and_nothing_shows_it(
    object_set: ObjectSet,
) -> None:
    annotations = object_set.pod_template["metadata"].get("annotations", {})
    if not object_set.get("sidecar_app_ldap_bind_dn", ""):
        assert annotations == {}
        return
    secret = object_set.one("Secret")
    hashed = base64.b64decode(secret["data"]["bind-password-bcrypt"])
    assert annotations == {
        "authproxy.sidecar/ldap-bind-password-bcrypt-sha256": hashlib.sha256(hashed).hexdigest()
    }


def test_the_verifier_is_told_the_ldap_inputs_and_where_the_files_are(object_set: ObjectSet) -> None:
    env = environment(containers(object_set)["verifier"])
    inputs = object_set.inputs
    bind_dn = inputs["sidecar_app_ldap_bind_dn"]
    assert env["AUTH_SOURCE"] == "ldap"
    assert env["LDAP_URIS"] == "ldaps://ldap1.example.org ldaps://ldap2.example.org:636"
    assert env["LDAP_BASE_DN"] == "ou=people,dc=example,dc=org"
    assert env["LDAP_USER_FILTER"] == "(&(objectClass=inetOrgPerson)(uid={user}))"
    assert env["LDAP_BIND_DN"] == bind_dn
    assert env["LDAP_BIND_PASSWORD_FILE"] == ("/etc/verifier/ldap/bind-password" if bind_dn else "")
    assert env["LDAP_USER_DN_TEMPLATE"] == inputs.get("sidecar_app_ldap_user_dn_template", "")
    assert env["LDAP_GROUP_DN"] == inputs.get("sidecar_app_ldap_group_dn", "")
    assert env["LDAP_CA_FILE"] == (
        "/etc/verifier/ldap-ca/ca.pem" if inputs.get("sidecar_app_ldap_ca_file") else ""
    )
    assert (env["LDAP_STARTTLS"], env["LDAP_TIMEOUT"], env["LDAP_ALLOW_INSECURE"]) == ("false", "3", "false")
    for container in containers(object_set).values():
        assert BIND_PASSWORD not in str(container.get("env", []))


def test_a_second_render_changes_nothing(rendered: Rendered) -> None:
    played = rendered.again()
    for name in SETS:
        assert played.changed(name) == 0, name
