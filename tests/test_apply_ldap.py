"""sidecar_app_auth ldap applied to a cluster (tests/fake_cluster, see fake_cluster_runs.py): the
Secret is created without client-side apply, the CA bundle's ConfigMap is applied before the
workload, a second run changes nothing, and state absent removes both."""

from __future__ import annotations

import pytest
from fake_cluster_runs import INPUTS, Run, call_of, deploy

NAMESPACE = "ldap-apply"
BIND_PASSWORD = "the-service-account's-password"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("apply-ldap")
    ca_file = base / "ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n")
    hosts = {
        "ldap": INPUTS
        | {
            "sidecar_app_name": "wiki",
            "sidecar_app_namespace": NAMESPACE,
            "fake_cluster_dir": str(base / "cluster"),
            "sidecar_app_auth": "ldap",
            "sidecar_app_ldap_uris": ["ldaps://ldap.example.org"],
            "sidecar_app_ldap_base_dn": "ou=people,dc=example,dc=org",
            "sidecar_app_ldap_bind_dn": "cn=sidecar,dc=example,dc=org",
            "sidecar_app_ldap_bind_password": BIND_PASSWORD,
            "sidecar_app_ldap_ca_file": str(ca_file),
        }
    }
    first = deploy(base, "first", hosts)["ldap"]
    second = deploy(base, "second", hosts)["ldap"]
    removed = deploy(base, "removed", hosts, "-e", "sidecar_app_state=absent")["ldap"]
    return {"first": first, "second": second, "removed": removed}


def test_the_secret_is_created_unapplied_and_the_configmap_before_the_workload(runs: dict[str, Run]) -> None:
    run = runs["first"]
    created = call_of("kubernetes.core.k8s", "Secret", "wiki-ldap", apply=False)
    secret = run.index("creates the Secret", created)
    config_map = run.index(
        "applies the ConfigMap", call_of("kubernetes.core.k8s", "ConfigMap", "wiki-ldap-ca", apply=True)
    )
    workload, _available = run.rolled_out("Deployment", "wiki")
    assert secret < workload
    assert config_map < workload
    assert run.get("Secret", NAMESPACE, "wiki-htpasswd") is None


def test_the_run_shows_no_service_password(runs: dict[str, Run]) -> None:
    assert BIND_PASSWORD not in runs["first"].output


def test_a_second_run_changes_nothing(runs: dict[str, Run]) -> None:
    assert runs["second"].changed == 0


def test_absent_removes_the_secret_and_the_configmap(runs: dict[str, Run]) -> None:
    assert runs["first"].get("ConfigMap", NAMESPACE, "wiki-ldap-ca")
    assert runs["first"].get("Secret", NAMESPACE, "wiki-ldap")
    assert [key for key in runs["removed"].objects if key[0] != "Project"] == []
