"""The cluster objects of sidecar_app_auth oidc, as playbooks/render.yml writes them.

Two sets in one run: OpenShift (a Deployment built on the cluster, the redirect URL from the Route
host, people allowed by address, login-free paths, the access token passed) and Kubernetes with
given images (from the Ingress host, none of those, and a provider CA of its own). Every object
is validated strictly against its OpenShift schema, as tests/test_manifests.py does for htpasswd.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from certificates import make_certificate_authority
from combinations import APP_IMAGE, PROXY_IMAGE
from manifest_schemas import errors
from passlib.hash import bcrypt
from role_objects import ObjectSet, Rendered, render

CLIENT_SECRET = "the-client-secret-" + "x" * 40
ALLOWED_EMAILS = ["Visitor@Partner.example", "auditor@audit.example"]
EMAILS_FILE = "/etc/oauth2-proxy/secrets/authenticated-emails"
OIDC = {
    "sidecar_app_auth": "oidc",
    "sidecar_app_oidc_issuer_url": "https://keycloak.example.org/realms/staff",
    "sidecar_app_oidc_client_id": "wiki",
    "sidecar_app_oidc_client_secret": CLIENT_SECRET,
    "sidecar_app_oidc_allowed_groups": ["wiki-users", "wiki admins"],
    "sidecar_app_bcrypt_rounds": 10,
}
SETS: dict[str, dict[str, Any]] = {
    "openshift-oidc": OIDC
    | {
        "sidecar_app_platform": "openshift",
        "sidecar_app_route_host": "wiki.apps.example.org",
        "sidecar_app_oidc_allowed_emails": ALLOWED_EMAILS,
        "sidecar_app_login_free_paths": ["/status", "/webhooks/", "/status/"],
        "sidecar_app_oidc_pass_access_token": True,
    },
    "kubernetes-oidc": OIDC
    | {
        "sidecar_app_platform": "kubernetes",
        "sidecar_app_name": "notes",
        "sidecar_app_route_host": "notes.example.org",
        "sidecar_app_image_build": "none",
        "sidecar_app_app_image": APP_IMAGE,
        "sidecar_app_proxy_image": PROXY_IMAGE,
    },
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    ca_cert, _key = make_certificate_authority(tmp_path_factory.mktemp("oidc-ca"), "a provider's own CA")
    sets = SETS | {"kubernetes-oidc": SETS["kubernetes-oidc"] | {"sidecar_app_oidc_ca_file": str(ca_cert)}}
    return render(tmp_path_factory.mktemp("render-oidc"), sets)


@pytest.fixture(params=list(SETS))
def object_set(request: pytest.FixtureRequest, rendered: Rendered) -> ObjectSet:
    return rendered.sets[request.param]


def containers(object_set: ObjectSet) -> dict[str, dict[str, Any]]:
    return {container["name"]: container for container in object_set.pod_template["spec"]["containers"]}


def secret_keys(object_set: ObjectSet) -> list[str]:
    """The keys oauth2-proxy mounts: the secrets, and the allowed emails when given."""
    emails = ["authenticated-emails"] if object_set.get("sidecar_app_oidc_allowed_emails", []) else []
    return ["client-secret", "cookie-secret", *emails]


def nginx_conf(rendered: Rendered, object_set: ObjectSet) -> str:
    """The nginx.conf staged into the proxy's build context (built on the cluster: OpenShift), the
    host's own: each host's render directory is named after it."""
    assert object_set.directory
    state = rendered.home / ".local/state/authproxy-sidecar" / object_set.name
    return (state / "build" / object_set.directory.name / "proxy/nginx.conf").read_text()


def location(conf: str, match: str) -> str:
    """The body of the server's location `match` (such as '= "/status"')."""
    start = conf.index(f"        location {match} {{\n")
    return conf[start : conf.index("\n        }\n", start)]


def secret_values(object_set: ObjectSet) -> dict[str, str]:
    data = object_set.one("Secret")["data"]
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def test_every_object_validates_strictly_against_its_openshift_schema(object_set: ObjectSet) -> None:
    for file_name, obj in object_set.objects.items():
        problems = errors(obj)
        assert not problems, f"{file_name}: " + "; ".join(problems)


def test_the_pod_runs_oauth2_proxy_and_no_verifier(object_set: ObjectSet) -> None:
    assert set(containers(object_set)) == {"app", "proxy", "oauth2-proxy"}
    proxy = containers(object_set)["oauth2-proxy"]
    assert proxy["image"] == "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6"
    assert proxy["securityContext"]["readOnlyRootFilesystem"] is True
    # Through nginx, which passes /healthz/oauth2-proxy to its /ping.
    assert proxy["readinessProbe"]["httpGet"] == {"path": "/healthz/oauth2-proxy", "port": 8081}


def test_oauth2_proxy_is_told_the_inputs_and_the_redirect_url_from_the_host(object_set: ObjectSet) -> None:
    args = containers(object_set)["oauth2-proxy"]["args"]
    host = object_set.inputs["sidecar_app_route_host"]
    assert "--http-address=127.0.0.1:4180" in args
    assert "--oidc-issuer-url=https://keycloak.example.org/realms/staff" in args
    assert "--client-id=wiki" in args
    assert f"--redirect-url=https://{host}/oauth2/callback" in args
    assert "--client-secret-file=/etc/oauth2-proxy/secrets/client-secret" in args
    assert "--cookie-secret-file=/etc/oauth2-proxy/secrets/cookie-secret" in args
    assert [arg for arg in args if arg.startswith("--allowed-group=")] == [
        "--allowed-group=wiki-users",
        "--allowed-group=wiki admins",
    ]
    assert {"--cookie-secure=true", "--cookie-httponly=true", "--cookie-samesite=lax"} <= set(args)
    assert ("--pass-access-token=true" in args) == bool(
        object_set.get("sidecar_app_oidc_pass_access_token", False)
    )


def test_the_secret_holds_both_secrets_and_their_hash_and_only_oauth2_proxy_mounts_the_secrets(
    object_set: ObjectSet,
) -> None:
    secret = object_set.one("Secret")
    assert secret["metadata"]["name"] == f"{object_set.name}-oidc"
    values = secret_values(object_set)
    assert set(values) == {*secret_keys(object_set), "secrets-bcrypt"}
    assert values["client-secret"] == CLIENT_SECRET
    assert len(values["cookie-secret"]) == 32
    lines = dict(line.split(":", 1) for line in values["secrets-bcrypt"].strip().splitlines())
    assert list(lines) == secret_keys(object_set)
    for key in secret_keys(object_set):
        assert bcrypt.verify(hashlib.sha256(values[key].encode()).hexdigest(), lines[key])
    volumes = {volume["name"]: volume for volume in object_set.pod_template["spec"]["volumes"]}
    assert volumes["oidc"]["secret"] == {
        "secretName": f"{object_set.name}-oidc",
        # Upstream's image runs as 65532, outside group 0.
        "defaultMode": 0o444,
        "items": [{"key": key, "path": key} for key in secret_keys(object_set)],
    }
    mounting = [
        name
        for name, c in containers(object_set).items()
        if any(m["name"] == "oidc" for m in c["volumeMounts"])
    ]
    assert mounting == ["oauth2-proxy"]
    assert object_set.directory
    assert (object_set.directory / f"00-secret-{object_set.name}-oidc.yml").stat().st_mode & 0o777 == 0o600


def test_allowed_emails_reach_oauth2_proxy_as_a_file_of_the_secret_and_alone_without_domains(
    object_set: ObjectSet,
) -> None:
    args = containers(object_set)["oauth2-proxy"]["args"]
    domains = [arg for arg in args if arg.startswith("--email-domain=")]
    if object_set.get("sidecar_app_oidc_allowed_emails", []):
        assert f"--authenticated-emails-file={EMAILS_FILE}" in args
        # sidecar_app_oidc_email_domains left at its default: no domain, only the addresses get in.
        assert domains == []
        assert (
            secret_values(object_set)["authenticated-emails"]
            == "visitor@partner.example\nauditor@audit.example\n"
        )
    else:
        assert not [arg for arg in args if arg.startswith("--authenticated-emails-file")]
        assert domains == ["--email-domain=*"]


def test_login_free_paths_skip_the_login_and_drop_every_identity_header(
    rendered: Rendered, object_set: ObjectSet
) -> None:
    if object_set.platform != "openshift":
        pytest.skip("nginx.conf is staged where the proxy is built: the OpenShift set")
    conf = nginx_conf(rendered, object_set)
    # "/status" is /status and what is under /status/ (listed twice: one location each), "/webhooks/"
    # what is under it.
    matches = ['= "/status"', '^~ "/status/"', '^~ "/webhooks/"']
    assert sorted(
        line.strip() for line in conf.splitlines() if line.startswith("        location ") and '"' in line
    ) == sorted(f"location {match} {{" for match in matches)
    for match in matches:
        body = location(conf, match)
        assert "auth_request off;" in body
        for header in ("Authorization", "X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"):
            assert f'proxy_set_header {header} "";' in body, (match, header)
        assert "proxy_set_header Cookie $oidc_app_cookie_3;" in body
        assert 'if ($uri ~ "[;\\x5c]") {\n                return 400;' in body
        assert "proxy_pass http://app;" in body
    # Everywhere else the login is asked for.
    assert "        auth_request /_oauth2_auth;\n" in conf
    assert "X-Forwarded-User $oidc_user_name;" in conf


def test_no_file_but_the_secret_holds_a_secret_or_an_allowed_address(object_set: ObjectSet) -> None:
    assert object_set.directory
    values = secret_values(object_set)
    hidden = [values["client-secret"], values["cookie-secret"]]
    hidden += [address.lower() for address in object_set.get("sidecar_app_oidc_allowed_emails", [])]
    hidden += [base64.b64encode(value.encode()).decode() for value in hidden]
    for path in object_set.directory.iterdir():
        if path.name.startswith("00-secret-"):
            continue
        text = path.read_text()
        assert not [value for value in hidden if value in text], path.name


def test_the_run_shows_no_secret(rendered: Rendered) -> None:
    output = rendered.played.output
    assert CLIENT_SECRET not in output
    for object_set in rendered.sets.values():
        assert secret_values(object_set)["cookie-secret"] not in output


def test_changed_secrets_or_ca_change_the_pod_template(object_set: ObjectSet) -> None:
    hashed = secret_values(object_set)["secrets-bcrypt"].encode()
    expected = {"authproxy.sidecar/oidc-secrets-bcrypt-sha256": hashlib.sha256(hashed).hexdigest()}
    ca_file = object_set.get("sidecar_app_oidc_ca_file", "")
    if ca_file:
        pem = Path(ca_file).read_text().rstrip("\n")
        expected["authproxy.sidecar/oidc-ca-sha256"] = hashlib.sha256(pem.encode()).hexdigest()
    assert object_set.pod_template["metadata"]["annotations"] == expected


def test_oauth2_proxy_trusts_the_providers_own_ca_from_a_configmap_when_given(object_set: ObjectSet) -> None:
    proxy = containers(object_set)["oauth2-proxy"]
    volumes = {volume["name"]: volume for volume in object_set.pod_template["spec"]["volumes"]}
    ca_file = object_set.get("sidecar_app_oidc_ca_file", "")
    config_maps = [obj for obj in object_set.objects.values() if obj["kind"] == "ConfigMap"]
    if not ca_file:
        assert not [arg for arg in proxy["args"] if arg.startswith("--provider-ca-file")]
        assert "oidc-ca" not in volumes
        assert config_maps == []
        return
    assert {"--provider-ca-file=/etc/oauth2-proxy/ca/ca.pem", "--use-system-trust-store=true"} <= set(
        proxy["args"]
    )
    assert [config_map["metadata"]["name"] for config_map in config_maps] == [f"{object_set.name}-oidc-ca"]
    assert config_maps[0]["data"] == {"ca.pem": Path(ca_file).read_text()}
    assert volumes["oidc-ca"] == {"name": "oidc-ca", "configMap": {"name": f"{object_set.name}-oidc-ca"}}
    mounting = {
        name: mount
        for name, container in containers(object_set).items()
        for mount in container["volumeMounts"]
        if mount["name"] == "oidc-ca"
    }
    assert mounting == {
        "oauth2-proxy": {"name": "oidc-ca", "mountPath": "/etc/oauth2-proxy/ca", "readOnly": True}
    }


def test_a_second_render_changes_nothing(rendered: Rendered) -> None:
    played = rendered.again()
    for name in SETS:
        assert played.changed(name) == 0, name
