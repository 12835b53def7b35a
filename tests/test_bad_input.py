"""Bad input fails before anything changes, each broken rule with its own message.

Each case runs the real deploy playbook against the local podman target and names the task that
must stop it: one of the named asserts in the role's tasks/assert_*.yml, or ansible-core's own
check of meta/argument_specs.yml (types and shapes). Every assert has a case.
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from playbook_runs import FAILURE_OF_HOST, inventory, play
from repository import ROOT

TASKS = ROOT / "roles" / "sidecar_app" / "tasks"
GOOD_PASSWORD = "a-good-password"
ADMIN = {"name": "admin", "password": GOOD_PASSWORD}
IMAGES = {"sidecar_app_image_build": "none", "sidecar_app_app_image": "registry.example.com/a/app:1"}
RAHTI2 = {"sidecar_app_platform": "openshift", "sidecar_app_platform_preset": "rahti2"}
RAHTI2_PROJECT = RAHTI2 | {"sidecar_app_csc_project": "2001234"}
ARGUMENT_SPEC = "Validating arguments against arg spec 'main'"


class Case(NamedTuple):
    id: str
    extra_vars: dict[str, Any]
    # Name of the task that must fail: an assert of tasks/assert_*.yml, or ARGUMENT_SPEC.
    rule: str
    # What the failure must say (a regular expression, matched with white space folded).
    message: str


NAME = "Check that sidecar_app_name is a DNS-1123 label of at most 40 characters"
NAME_MESSAGE = r"sidecar_app_name = \S* is not a DNS-1123 label of at most 40 characters: use lowercase"
QUANTITIES = "Check that the containers' requests and limits are Kubernetes quantities"
APP_PORT = "Check that sidecar_app_app_port is an unprivileged port other than nginx's"
PUBLISH_PORT = "Check that sidecar_app_publish_port is an unprivileged port"
BCRYPT = "Check that sidecar_app_bcrypt_rounds is a bcrypt cost from 10 to 31"
APP_ENV = "Check that sidecar_app_app_env names environment variables with plain values"
ENV_MESSAGE = r"sidecar_app_app_env = .* is not allowed: use names of letters, digits and"
PASSWORDS = "Check that the passwords of sidecar_app_users fit bcrypt"
PASSWORD_MESSAGE = r"sidecar_app_users has a password longer than 72 bytes \(user \W*admin\W*\): bcrypt reads"
ROUTE_HOST = "Check that sidecar_app_route_host is a DNS name"
IMAGE_REFERENCE = "Check that given images are image references"
CSC_PROJECT = "Check that sidecar_app_csc_project is a CSC project number"
SPEC_FAILED = "Validation of arguments failed: "
# An ldap mode that passes every rule of tasks/assert_ldap.yml; each case breaks one.
LDAP = {
    "sidecar_app_auth": "ldap",
    "sidecar_app_ldap_uris": ["ldaps://ldap.example.org"],
    "sidecar_app_ldap_base_dn": "ou=people,dc=example,dc=org",
    "sidecar_app_ldap_bind_dn": "cn=sidecar,dc=example,dc=org",
    "sidecar_app_ldap_bind_password": "a-service-password",
}
LDAP_URIS = "Check that sidecar_app_ldap_uris lists well-formed LDAP URIs"
# An oidc mode that passes every rule of tasks/assert_oidc.yml; each case breaks one.
OIDC = {
    "sidecar_app_auth": "oidc",
    "sidecar_app_oidc_issuer_url": "https://keycloak.example.org/realms/staff",
    "sidecar_app_oidc_client_id": "sidecar",
    "sidecar_app_oidc_client_secret": "a-client-secret",
    "sidecar_app_oidc_allowed_groups": ["app-users"],
}
OIDC_ISSUER = "Check that sidecar_app_oidc_issuer_url is an https URL"
LDAP_CLEAR_TEXT = "Check that no password goes to the directory in clear text"
LDAP_ONE_WAY = "Check that users are found one way, by a service account or a DN template"
LDAP_TIMEOUT = "Check that sidecar_app_ldap_timeout is from 1 to 30 seconds"
LDAP_FILTER = "Check that sidecar_app_ldap_user_filter is a filter that takes the user name"
FILES = {
    "sidecar_app_files_source": "s3",
    "sidecar_app_files_s3_endpoint": "https://a3s.fi",
    "sidecar_app_files_s3_bucket": "reports",
    "sidecar_app_files_s3_access_key_id": "an-access-key",
    "sidecar_app_files_s3_secret_access_key": "a-files-secret-key",
}
FILES_PLATFORM = "Check that sidecar_app_files_source fits the platform"
LOGIN_FREE_ROOT = "Check that sidecar_app_login_free_paths does not free the whole app"
LOGIN_FREE_PLAIN = "Check that sidecar_app_login_free_paths lists plain URL paths"
LOGIN_FREE_PLAIN_MESSAGE = (
    r"sidecar_app_login_free_paths has paths that are not allowed: \[{}\]\. Give each as it reads"
)
LOGIN_FREE_DOTS = "Check that sidecar_app_login_free_paths has no '.' or '..' segment"
LOGIN_FREE_RESERVED = (
    "Check that sidecar_app_login_free_paths leaves the sign-in endpoints and nginx's own paths alone"
)
LOGIN_FREE_RESERVED_MESSAGE = (
    r"sidecar_app_login_free_paths has paths that are not its to give: \[{}\]\. /oauth2 and"
)
OIDC_EMAILS = "Check that sidecar_app_oidc_allowed_emails lists email addresses"
OIDC_EMAILS_MESSAGE = (
    r"sidecar_app_oidc_allowed_emails has entries that are not plain email addresses: \[{}\]"
)
FILES_PATH = "Check that sidecar_app_files_path is a path of its own under /"
FILES_REFRESH = "Check that sidecar_app_files_refresh_seconds is from 10 to 86400"
FILES_SIZE = "Check that sidecar_app_files_size_limit is a size, given on a cluster"
FILES_BUCKET = "Check that the S3 bucket is named"
FILES_KEYS = "Check that the S3 keys are given"
FILES_HOST_PATH = "Check that sidecar_app_files_host_path is an absolute path"
FILES_PVC = "Check that sidecar_app_files_pvc_claim names a claim"

CASES: list[Case] = [
    # tasks/assert_inputs.yml
    Case("empty-name", {"sidecar_app_name": ""}, NAME, NAME_MESSAGE),
    Case("uppercase-name", {"sidecar_app_name": "Hello"}, NAME, NAME_MESSAGE.replace(r"\S*", r"\WHello\W")),
    Case("name-over-40", {"sidecar_app_name": "a" * 41}, NAME, NAME_MESSAGE),
    Case("name-with-underscore", {"sidecar_app_name": "hello_app"}, NAME, NAME_MESSAGE),
    Case(
        "namespace-over-63",
        {"sidecar_app_namespace": "n" * 64},
        "Check that sidecar_app_namespace is a DNS-1123 label",
        r"sidecar_app_namespace = \Wn{64}\W is not a DNS-1123 label: use at most 63",
    ),
    Case(
        "app-port-80",
        {"sidecar_app_app_port": 80},
        APP_PORT,
        r"sidecar_app_app_port = 80 is not allowed: use a port from 1024 to 65535",
    ),
    Case(
        "app-port-is-nginx-port",
        {"sidecar_app_app_port": 8081},
        APP_PORT,
        r"sidecar_app_app_port = 8081 is not allowed: .* other than nginx's 8081",
    ),
    Case(
        "publish-port-80",
        {"sidecar_app_publish_port": 80},
        PUBLISH_PORT,
        r"sidecar_app_publish_port = 80 is not allowed: use a port from 1024 to 65535",
    ),
    Case(
        "publish-port-70000",
        {"sidecar_app_publish_port": 70000},
        PUBLISH_PORT,
        r"sidecar_app_publish_port = 70000 is not allowed",
    ),
    Case(
        "negative-replicas",
        {"sidecar_app_replicas": -1},
        "Check that sidecar_app_replicas is not negative",
        r"sidecar_app_replicas = -1 is negative: use 0 or more",
    ),
    Case(
        "cpu-limit-not-a-quantity",
        {
            "sidecar_app_app_resources": {
                "requests": {"cpu": "50m", "memory": "64Mi"},
                "limits": {"cpu": "lots", "memory": "192Mi"},
            }
        },
        QUANTITIES,
        r"sidecar_app_app_resources.limits.cpu = \Wlots\W is not a Kubernetes quantity: use a number with an "
        r"optional suffix",
    ),
    Case(
        "memory-request-with-a-space",
        {
            "sidecar_app_proxy_resources": {
                "requests": {"cpu": "50m", "memory": "32 Mi"},
                "limits": {"cpu": "1", "memory": "64Mi"},
            }
        },
        QUANTITIES,
        r"sidecar_app_proxy_resources.requests.memory = \W32 Mi\W is not a Kubernetes quantity",
    ),
    Case(
        "request-over-limit",
        {
            "sidecar_app_verifier_resources": {
                "requests": {"cpu": "50m", "memory": "1Gi"},
                "limits": {"cpu": "1", "memory": "64Mi"},
            }
        },
        "Check that no container requests more than its limit",
        r"sidecar_app_verifier_resources requests memory \W1Gi\W, more than its limit \W64Mi\W, which "
        r"Kubernetes refuses",
    ),
    Case(
        "zero-workers",
        {"sidecar_app_proxy_worker_processes": 0},
        "Check that the app and nginx have at least one worker each",
        r"sidecar_app_proxy_worker_processes = 0 leaves no worker: use 1 or more",
    ),
    Case(
        "bcrypt-cost-too-low",
        {"sidecar_app_bcrypt_rounds": 9},
        BCRYPT,
        r"sidecar_app_bcrypt_rounds = 9 is not allowed: use a bcrypt cost from 10 .* to 31",
    ),
    Case(
        "bcrypt-cost-too-high",
        {"sidecar_app_bcrypt_rounds": 32},
        BCRYPT,
        r"sidecar_app_bcrypt_rounds = 32 is",
    ),
    Case(
        "auth-cache-ttl-0",
        {"sidecar_app_auth_cache_ttl": 0},
        "Check that sidecar_app_auth_cache_ttl is from 1 to 300 seconds",
        r"sidecar_app_auth_cache_ttl = 0 is not allowed: use 1 to 300 seconds",
    ),
    Case("app-env-name-with-dash", {"sidecar_app_app_env": {"LOG-LEVEL": "debug"}}, APP_ENV, ENV_MESSAGE),
    Case("app-env-list-value", {"sidecar_app_app_env": {"HOSTS": ["a", "b"]}}, APP_ENV, ENV_MESSAGE),
    Case(
        "app-env-sets-the-app-port",
        {"sidecar_app_app_env": {"APP_PORT": "9000"}},
        "Check that sidecar_app_app_env leaves the role's own variables alone",
        r"sidecar_app_app_env = .* sets APP_PORT or WEB_CONCURRENCY, .* use sidecar_app_app_port and",
    ),
    Case(
        "public-url-without-scheme",
        {"sidecar_app_public_url": "hello.example.com"},
        "Check that sidecar_app_public_url is an http or https URL",
        r"sidecar_app_public_url = \Whello.example.com\W is not an http:// or https:// URL",
    ),
    # tasks/assert_users.yml
    Case(
        "no-users",
        {"sidecar_app_users": []},
        "Check that sidecar_app_users has a user",
        r"sidecar_app_users is empty: give at least one user",
    ),
    Case(
        "duplicate-users",
        {"sidecar_app_users": [ADMIN, ADMIN]},
        "Check that sidecar_app_users names each user once",
        r"sidecar_app_users names a user twice \(users \Wadmin\W, \Wadmin\W\)",
    ),
    Case(
        "user-name-with-colon",
        {"sidecar_app_users": [ADMIN, {"name": "ad:min", "password": GOOD_PASSWORD}]},
        "Check that the user names of sidecar_app_users fit an htpasswd file",
        r"sidecar_app_users has the user names \Wad:min\W: use 1 to 64 letters",
    ),
    Case(
        "password-73-bytes",
        {"sidecar_app_users": [{"name": "admin", "password": "p" * 73}]},
        PASSWORDS,
        PASSWORD_MESSAGE,
    ),
    Case(
        "password-74-bytes-utf8",
        {"sidecar_app_users": [{"name": "admin", "password": "ä" * 37}]},
        PASSWORDS,
        PASSWORD_MESSAGE,
    ),
    # tasks/assert_platform.yml
    Case(
        "deploymentconfig-on-podman",
        {"sidecar_app_workload_kind": "DeploymentConfig"},
        "Check that a DeploymentConfig is asked for only on OpenShift",
        r"sidecar_app_workload_kind = \WDeploymentConfig\W exists only on OpenShift, not on podman",
    ),
    Case(
        "cluster-build-on-kubernetes",
        {"sidecar_app_platform": "kubernetes", "sidecar_app_image_build": "cluster"},
        "Check that cluster builds are asked for only on OpenShift",
        r"sidecar_app_image_build = \Wcluster\W needs OpenShift's BuildConfigs, which kubernetes does not",
    ),
    Case(
        "route-host-with-underscore",
        IMAGES | {"sidecar_app_platform": "kubernetes", "sidecar_app_route_host": "hello_app.example.com"},
        ROUTE_HOST,
        r"sidecar_app_route_host = \Whello_app.example.com\W is not a DNS name: use lowercase",
    ),
    Case(
        "rahti2-route-host-over-63-characters",
        RAHTI2_PROJECT | {"sidecar_app_name": "a" * 40, "sidecar_app_namespace": "n" * 30},
        ROUTE_HOST,
        r"is not a DNS name: .* the CSC Rahti 2 default <name>-<namespace>.2.rahtiapp.fi needs a shorter",
    ),
    Case(
        "node-port-on-clusterip-service",
        IMAGES | {"sidecar_app_platform": "kubernetes", "sidecar_app_service_node_port": 30081},
        "Check that sidecar_app_service_node_port is a node port of a NodePort or LoadBalancer Service",
        r"sidecar_app_service_node_port = 30081 is not allowed with sidecar_app_service_type ClusterIP",
    ),
    # tasks/assert_images.yml
    Case(
        "app-build-context-without-containerfile",
        {"sidecar_app_app_build_context": str(ROOT / "files")},
        "Check that the app's build context has a Containerfile",
        r"sidecar_app_app_build_context = \S*/files\W is not allowed: "
        r"use a directory with a Containerfile: your app's build context",
    ),
    Case(
        "proxy-build-context-without-containerfile",
        {"sidecar_app_proxy_build_context": str(ROOT / "roles")},
        "Check that nginx's build context has a Containerfile",
        r"sidecar_app_proxy_build_context = \S*/roles\W is not allowed: use a directory with a Containerfile",
    ),
    Case(
        "malformed-image-reference",
        IMAGES | {"sidecar_app_proxy_image": "Registry/UPPER case:tag"},
        IMAGE_REFERENCE,
        r"sidecar_app_proxy_image = \WRegistry/UPPER case:tag\W is not an image reference",
    ),
    Case(
        "missing-image-reference", IMAGES, IMAGE_REFERENCE, r"sidecar_app_proxy_image = \W\W is not an image"
    ),
    Case(
        "podman-build-for-cluster-without-registry",
        {"sidecar_app_platform": "kubernetes"},
        "Check that podman-built images have a registry to go to on a cluster",
        r"sidecar_app_registry = \W\W is not a registry and repository prefix, which podman builds for kub",
    ),
    # tasks/assert_preset.yml
    Case(
        "rahti2-without-csc-project",
        RAHTI2,
        CSC_PROJECT,
        r"sidecar_app_csc_project = \W\W is not a CSC project",
    ),
    Case(
        "rahti2-csc-project-not-a-number",
        RAHTI2 | {"sidecar_app_csc_project": "project_2001234"},
        CSC_PROJECT,
        r"sidecar_app_csc_project = \Wproject_2001234\W is not a CSC project number: .* digits only",
    ),
    Case(
        "rahti2-on-podman",
        RAHTI2_PROJECT | {"sidecar_app_platform": "podman"},
        "Check that the platform is the preset's",
        r"sidecar_app_platform = \Wpodman\W does not fit sidecar_app_platform_preset rahti2, .* use "
        r"sidecar_app_platform openshift",
    ),
    Case(
        "rahti2-limit-over-5-times-request",
        RAHTI2_PROJECT
        | {
            "sidecar_app_app_resources": {
                "requests": {"cpu": "50m", "memory": "64Mi"},
                "limits": {"cpu": "500m", "memory": "192Mi"},
            },
        },
        "Check that every container's limits are at most the preset's ratio to its requests",
        r"sidecar_app_app_resources = .* has limits of 10.0 times its requests, .*maxLimitRequestRatio 5\)",
    ),
    Case(
        "render-dir-on-deploy",
        {"sidecar_app_platform": "openshift", "sidecar_app_render_dir": "render"},
        "Check that no render directory is given, as this entry point applies",
        r"sidecar_app_render_dir = \Wrender\W is for rendering, and this entry point deploys: "
        r"run playbooks/render.yml",
    ),
    # tasks/assert_ldap.yml
    Case(
        "ldap-without-the-verifier",
        LDAP | {"sidecar_app_auth_cache": False},
        "Check that LDAP has the verifier to ask the directory",
        r"sidecar_app_auth ldap needs the verifier container, .* set sidecar_app_auth_cache true",
    ),
    Case(
        "ldap-without-uris",
        LDAP | {"sidecar_app_ldap_uris": []},
        LDAP_URIS,
        r"sidecar_app_ldap_uris = \[\] is not allowed: give one or more URIs such as ldaps://",
    ),
    Case(
        "ldap-uri-with-a-path",
        LDAP | {"sidecar_app_ldap_uris": ["ldaps://ldap.example.org/dc=example"]},
        LDAP_URIS,
        r"sidecar_app_ldap_uris = \[\Wldaps://ldap.example.org/dc=example\W\] is not allowed",
    ),
    Case(
        "ldap-uri-of-another-scheme",
        LDAP | {"sidecar_app_ldap_uris": ["https://ldap.example.org"]},
        LDAP_URIS,
        r"sidecar_app_ldap_uris = \[\Whttps://ldap.example.org\W\] is not allowed",
    ),
    Case(
        "ldap-plain-to-another-host",
        LDAP | {"sidecar_app_ldap_uris": ["ldaps://a.example.org", "ldap://b.example.org:389"]},
        LDAP_CLEAR_TEXT,
        r"sidecar_app_ldap_uris has plain ldap:// URIs \[\Wldap://b.example.org:389\W\], which would send "
        r"passwords in clear text: use ldaps://, or set sidecar_app_ldap_starttls true",
    ),
    Case(
        "ldap-without-base-dn",
        LDAP | {"sidecar_app_ldap_base_dn": ""},
        "Check that sidecar_app_ldap_base_dn is given",
        r"sidecar_app_ldap_base_dn is empty: give the DN under which users are searched",
    ),
    Case(
        "ldap-bind-dn-and-dn-template",
        LDAP | {"sidecar_app_ldap_user_dn_template": "uid={user},ou=people,dc=example,dc=org"},
        LDAP_ONE_WAY,
        r"sidecar_app_ldap_bind_dn = \Wcn=sidecar,dc=example,dc=org\W and "
        r"sidecar_app_ldap_user_dn_template = \Wuid=\{user\},ou=people,dc=example,dc=org\W: set exactly one",
    ),
    Case(
        "ldap-neither-bind-dn-nor-dn-template",
        LDAP | {"sidecar_app_ldap_bind_dn": ""},
        LDAP_ONE_WAY,
        r"sidecar_app_ldap_bind_dn = \W\W and sidecar_app_ldap_user_dn_template = \W\W: set exactly one",
    ),
    Case(
        "ldap-service-account-without-password",
        LDAP | {"sidecar_app_ldap_bind_password": ""},
        "Check that the service account has a password",
        r"sidecar_app_ldap_bind_password is empty: give the password of sidecar_app_ldap_bind_dn "
        r"\Wcn=sidecar,dc=example,dc=org\W \(from Ansible Vault, or SIDECAR_APP_LDAP_BIND_PASSWORD",
    ),
    Case(
        "ldap-filter-without-user",
        LDAP | {"sidecar_app_ldap_user_filter": "(uid=admin)"},
        LDAP_FILTER,
        r"sidecar_app_ldap_user_filter = \W\(uid=admin\)\W is not allowed: use a parenthesised filter with",
    ),
    Case(
        "ldap-filter-without-parentheses",
        LDAP | {"sidecar_app_ldap_user_filter": "uid={user}"},
        LDAP_FILTER,
        r"sidecar_app_ldap_user_filter = \Wuid=\{user\}\W is not allowed",
    ),
    Case(
        "ldap-dn-template-without-user",
        LDAP
        | {
            "sidecar_app_ldap_bind_dn": "",
            "sidecar_app_ldap_user_dn_template": "uid=admin,dc=example,dc=org",
        },
        "Check that sidecar_app_ldap_user_dn_template takes the user name",
        r"sidecar_app_ldap_user_dn_template = \Wuid=admin,dc=example,dc=org\W has no \{user\}: use a DN",
    ),
    Case(
        "ldap-ca-file-missing",
        LDAP | {"sidecar_app_ldap_ca_file": "/nonexistent/ca.pem"},
        "Check that sidecar_app_ldap_ca_file is a file",
        r"sidecar_app_ldap_ca_file = \W/nonexistent/ca.pem\W is not a file on the controller: give the PEM",
    ),
    Case(
        "ldap-timeout-0",
        LDAP | {"sidecar_app_ldap_timeout": 0},
        LDAP_TIMEOUT,
        r"sidecar_app_ldap_timeout = 0 is not allowed: use 1 to 30 seconds",
    ),
    Case(
        "ldap-timeout-31",
        LDAP | {"sidecar_app_ldap_timeout": 31},
        LDAP_TIMEOUT,
        r"sidecar_app_ldap_timeout = 31",
    ),
    Case(
        "ldap-verify-user-without-password",
        LDAP | {"sidecar_app_ldap_verify_user": "alice"},
        "Check that sidecar_app_ldap_verify_user comes with its password",
        r"Give sidecar_app_ldap_verify_user \Walice\W and sidecar_app_ldap_verify_password both",
    ),
    Case(
        "unknown-auth",
        {"sidecar_app_auth": "saml"},
        ARGUMENT_SPEC,
        SPEC_FAILED + r"value of sidecar_app_auth must be one of: htpasswd, ldap, oidc, got: saml",
    ),
    # tasks/assert_oidc.yml
    Case(
        "oidc-without-issuer",
        OIDC | {"sidecar_app_oidc_issuer_url": ""},
        OIDC_ISSUER,
        r"sidecar_app_oidc_issuer_url = \W\W is not allowed: give the provider's https:// issuer URL",
    ),
    Case(
        "oidc-plain-http-issuer",
        OIDC | {"sidecar_app_oidc_issuer_url": "http://keycloak.example.org/realms/staff"},
        OIDC_ISSUER,
        r"sidecar_app_oidc_issuer_url = \Whttp://keycloak.example.org/realms/staff\W is not allowed: "
        r".* \(plain http:// only to 127.0.0.1, or with sidecar_app_oidc_allow_insecure true",
    ),
    Case(
        "oidc-without-client-id",
        OIDC | {"sidecar_app_oidc_client_id": ""},
        "Check that sidecar_app_oidc_client_id is given",
        r"sidecar_app_oidc_client_id is empty: give the client ID registered at the provider",
    ),
    Case(
        "oidc-without-client-secret",
        OIDC | {"sidecar_app_oidc_client_secret": ""},
        "Check that the client has a secret",
        r"sidecar_app_oidc_client_secret is empty: give the secret of client \Wsidecar\W "
        r"\(from Ansible Vault, or SIDECAR_APP_OIDC_CLIENT_SECRET",
    ),
    Case(
        "oidc-scopes-without-openid",
        OIDC | {"sidecar_app_oidc_scopes": ["email", "profile"]},
        "Check that sidecar_app_oidc_scopes asks for openid",
        r"sidecar_app_oidc_scopes = \[\Wemail\W, \Wprofile\W\] is not allowed: .* openid among them",
    ),
    Case(
        "oidc-group-with-a-comma",
        OIDC | {"sidecar_app_oidc_allowed_groups": ["app-users", "staff,admins"]},
        "Check that sidecar_app_oidc_allowed_groups lists plain group names",
        r"sidecar_app_oidc_allowed_groups has names that are empty, contain a comma or begin or end with a"
        r" space: \[\Wstaff,admins\W\]",
    ),
    Case(
        "oidc-empty-group",
        OIDC | {"sidecar_app_oidc_allowed_groups": [""]},
        "Check that sidecar_app_oidc_allowed_groups lists plain group names",
        r"sidecar_app_oidc_allowed_groups has names that are empty",
    ),
    Case(
        "oidc-email-domain-with-an-at",
        OIDC | {"sidecar_app_oidc_email_domains": ["@example.org"]},
        "Check that sidecar_app_oidc_email_domains lists domains",
        r"sidecar_app_oidc_email_domains = \[\W@example.org\W\] is not allowed: list domains",
    ),
    Case(
        "oidc-no-email-domain-and-no-allowed-email",
        OIDC | {"sidecar_app_oidc_email_domains": []},
        "Check that sidecar_app_oidc_email_domains lists domains",
        r"sidecar_app_oidc_email_domains = \[\] is not allowed: list domains .* \[\] only with"
        r" sidecar_app_oidc_allowed_emails",
    ),
    Case(
        "oidc-allowed-email-with-a-comma",
        OIDC | {"sidecar_app_oidc_allowed_emails": ["carol@partner.example", "dave@x.example,eve@x.example"]},
        OIDC_EMAILS,
        OIDC_EMAILS_MESSAGE.format(r"\Wdave@x.example,eve@x.example\W") + r"\. Give each exact address",
    ),
    Case(
        "oidc-allowed-email-a-domain",
        OIDC | {"sidecar_app_oidc_allowed_emails": ["@partner.example"]},
        OIDC_EMAILS,
        OIDC_EMAILS_MESSAGE.format(r"\W@partner.example\W")
        + r".* a whole domain goes into sidecar_app_oidc_email_domains",
    ),
    Case(
        "oidc-allowed-email-with-a-space",
        OIDC | {"sidecar_app_oidc_allowed_emails": ["carol @partner.example"]},
        OIDC_EMAILS,
        OIDC_EMAILS_MESSAGE.format(r"\Wcarol @partner.example\W"),
    ),
    Case(
        "oidc-allowed-emails-beside-any-domain",
        OIDC
        | {
            "sidecar_app_oidc_allowed_emails": ["carol@partner.example"],
            "sidecar_app_oidc_email_domains": ["*"],
        },
        'Check that allowed emails are not outdone by an email domain of "*"',
        r"sidecar_app_oidc_allowed_emails would change nothing while sidecar_app_oidc_email_domains"
        r" contains \W\*\W, which lets in every address: leave sidecar_app_oidc_email_domains unset",
    ),
    Case(
        "oidc-allowed-emails-not-a-list",
        OIDC | {"sidecar_app_oidc_allowed_emails": {"carol": "carol@partner.example"}},
        ARGUMENT_SPEC,
        SPEC_FAILED
        + r"argument \Wsidecar_app_oidc_allowed_emails\W is of type dict and we were unable to convert to",
    ),
    Case(
        "oidc-login-free-root",
        OIDC | {"sidecar_app_login_free_paths": ["/status", "/"]},
        LOGIN_FREE_ROOT,
        r"sidecar_app_login_free_paths lists \W/\W, which would let everyone reach the whole app"
        r" without a login: list only the parts that need none, such as \[/status, /public/\]",
    ),
    Case(
        "oidc-login-free-the-sign-in-endpoints",
        OIDC | {"sidecar_app_login_free_paths": ["/status", "/oauth2/"]},
        LOGIN_FREE_RESERVED,
        LOGIN_FREE_RESERVED_MESSAGE.format(r"\W/oauth2/\W") + r".* sign-in endpoints of the oidc mode",
    ),
    Case(
        "oidc-login-free-under-the-sign-in-endpoints",
        OIDC | {"sidecar_app_login_free_paths": ["/oauth2/callback", "/oauth2"]},
        LOGIN_FREE_RESERVED,
        LOGIN_FREE_RESERVED_MESSAGE.format(r"\W/oauth2/callback\W, \W/oauth2\W"),
    ),
    Case(
        "oidc-login-free-relative",
        OIDC | {"sidecar_app_login_free_paths": ["status"]},
        LOGIN_FREE_PLAIN,
        LOGIN_FREE_PLAIN_MESSAGE.format(r"\Wstatus\W") + r" decoded, beginning with /",
    ),
    Case(
        "oidc-login-free-with-a-space",
        OIDC | {"sidecar_app_login_free_paths": ["/my status"]},
        LOGIN_FREE_PLAIN,
        LOGIN_FREE_PLAIN_MESSAGE.format(r"\W/my status\W") + r".* no spaces, %, ;, \?, # or //",
    ),
    Case(
        "oidc-login-free-with-a-dot-dot",
        OIDC | {"sidecar_app_login_free_paths": ["/public/../admin"]},
        LOGIN_FREE_DOTS,
        r"sidecar_app_login_free_paths has paths with a \W\.\W or \W\.\.\W segment:"
        r" \[\W/public/\.\./admin\W\]\. nginx resolves those before it matches",
    ),
    Case(
        "login-free-root-with-htpasswd",
        {"sidecar_app_login_free_paths": ["/"]},
        LOGIN_FREE_ROOT,
        r"sidecar_app_login_free_paths lists \W/\W, which would let everyone reach the whole app"
        r" without a login",
    ),
    Case(
        "login-free-encoded",
        {"sidecar_app_login_free_paths": ["/public%2F"]},
        LOGIN_FREE_PLAIN,
        LOGIN_FREE_PLAIN_MESSAGE.format(r"\W/public%2F\W"),
    ),
    Case(
        "login-free-healthz",
        {"sidecar_app_login_free_paths": ["/healthz"]},
        LOGIN_FREE_RESERVED,
        LOGIN_FREE_RESERVED_MESSAGE.format(r"\W/healthz\W") + r".* /healthz needs no login already",
    ),
    Case(
        "login-free-under-the-files",
        FILES | {"sidecar_app_login_free_paths": ["/status", "/files/public/"]},
        "Check that sidecar_app_login_free_paths keeps the served files behind the login",
        r"sidecar_app_login_free_paths has paths at or under sidecar_app_files_path \W/files/\W:"
        r" \[\W/files/public/\W\]\. The files are served behind the login only",
    ),
    Case(
        "oidc-logout-url-not-a-url",
        OIDC | {"sidecar_app_oidc_backend_logout_url": "logout?id_token_hint={id_token}"},
        "Check that sidecar_app_oidc_backend_logout_url is an http or https URL",
        r"sidecar_app_oidc_backend_logout_url = \Wlogout\?id_token_hint=\{id_token\}\W is not an URL",
    ),
    Case(
        "oidc-on-a-cluster-without-a-host",
        OIDC | IMAGES | {"sidecar_app_platform": "kubernetes"},
        "Check that a cluster has the host the redirect URL is made of",
        r"sidecar_app_auth oidc on kubernetes needs sidecar_app_route_host \(or sidecar_app_public_url\)",
    ),
    Case(
        "oidc-proxy-image-not-a-reference",
        OIDC | {"sidecar_app_oauth2_proxy_image": "Quay.io/OAuth2 Proxy"},
        "Check that oauth2-proxy's image reference is well-formed",
        r"sidecar_app_oauth2_proxy_image = \WQuay.io/OAuth2 Proxy\W is not an image reference",
    ),
    Case(
        "oidc-proxy-image-not-built",
        OIDC | {"sidecar_app_oauth2_proxy_image": "localhost/authproxy/no-such-proxy:v0"},
        "Check that the oauth2-proxy image is here",
        r"sidecar_app_oauth2_proxy_image = \Wlocalhost/authproxy/no-such-proxy:v0\W is not a local",
    ),
    Case(
        "oidc-ca-file-missing",
        OIDC | {"sidecar_app_oidc_ca_file": "/nonexistent/ca.pem"},
        "Check that sidecar_app_oidc_ca_file is a file of certificates",
        r"sidecar_app_oidc_ca_file = \W/nonexistent/ca.pem\W is not a PEM file of certificates on the",
    ),
    Case(
        "oidc-ca-file-not-certificates",
        OIDC | {"sidecar_app_oidc_ca_file": str(ROOT / "galaxy.yml")},
        "Check that sidecar_app_oidc_ca_file is a file of certificates",
        r"sidecar_app_oidc_ca_file = \W.*/galaxy.yml\W is not a PEM file of certificates on the controller",
    ),
    # sidecar_app_files_source (tasks/assert_files.yml)
    Case(
        "files-pvc-on-podman",
        FILES | {"sidecar_app_files_source": "pvc", "sidecar_app_files_pvc_claim": "data"},
        FILES_PLATFORM,
        r"sidecar_app_files_source = \Wpvc\W does not work on sidecar_app_platform podman: use host",
    ),
    Case(
        "files-host-folder-on-a-cluster",
        FILES
        | IMAGES
        | {
            "sidecar_app_platform": "kubernetes",
            "sidecar_app_files_source": "host",
            "sidecar_app_files_host_path": "/srv/data",
            "sidecar_app_files_size_limit": "1Gi",
        },
        FILES_PLATFORM,
        r"sidecar_app_files_source = \Whost\W does not work on sidecar_app_platform kubernetes",
    ),
    Case(
        "files-path-with-a-dot-dot-segment",
        FILES | {"sidecar_app_files_path": "/files/../"},
        FILES_PATH,
        r"sidecar_app_files_path = \W/files/\.\./\W is not allowed: use a path that begins and ends with /",
    ),
    Case(
        "files-path-the-root",
        FILES | {"sidecar_app_files_path": "/"},
        FILES_PATH,
        r"sidecar_app_files_path = \W/\W is not allowed",
    ),
    Case(
        "files-refresh-too-often",
        FILES | {"sidecar_app_files_refresh_seconds": 1},
        FILES_REFRESH,
        r"sidecar_app_files_refresh_seconds = 1 is not allowed: use from 10 to 86400 seconds",
    ),
    Case(
        "files-size-limit-missing-on-a-cluster",
        FILES | IMAGES | {"sidecar_app_platform": "openshift"},
        FILES_SIZE,
        r"sidecar_app_files_size_limit = \W\W is not allowed: give the size of the pod's copy of the files"
        r" as a Kubernetes quantity such as 512Mi or 2Gi \(required on a cluster",
    ),
    Case(
        "files-size-limit-not-a-quantity",
        FILES | {"sidecar_app_files_size_limit": "1 GB"},
        FILES_SIZE,
        r"sidecar_app_files_size_limit = \W1 GB\W is not allowed",
    ),
    Case(
        "files-sync-limit-not-a-quantity",
        FILES
        | {
            "sidecar_app_files_sync_resources": {
                "requests": {"cpu": "10m", "memory": "32Mi"},
                "limits": {"cpu": "2 cores", "memory": "128Mi"},
            }
        },
        QUANTITIES,
        r"sidecar_app_files_sync_resources.limits.cpu = \W2 cores\W is not a Kubernetes quantity",
    ),
    Case(
        "files-bucket-missing",
        FILES | {"sidecar_app_files_s3_bucket": ""},
        FILES_BUCKET,
        r"sidecar_app_files_source s3 needs sidecar_app_files_s3_endpoint .* sidecar_app_files_s3_bucket \(a"
        r" bucket name, now \W\W\)",
    ),
    Case(
        "files-secret-key-missing",
        FILES | {"sidecar_app_files_s3_secret_access_key": ""},
        FILES_KEYS,
        r"sidecar_app_files_source s3 needs sidecar_app_files_s3_access_key_id and"
        r" sidecar_app_files_s3_secret_access_key .* one or both are empty",
    ),
    Case(
        "files-host-path-relative",
        {"sidecar_app_files_source": "host", "sidecar_app_files_host_path": "data"},
        FILES_HOST_PATH,
        r"sidecar_app_files_source host needs sidecar_app_files_host_path, the absolute path of a folder",
    ),
    Case(
        "files-pvc-claim-missing",
        FILES
        | IMAGES
        | {
            "sidecar_app_platform": "kubernetes",
            "sidecar_app_files_source": "pvc",
            "sidecar_app_files_size_limit": "1Gi",
        },
        FILES_PVC,
        r"sidecar_app_files_source pvc needs sidecar_app_files_pvc_claim, the name of an existing",
    ),
    Case(
        "files-unknown-source",
        {"sidecar_app_files_source": "ftp"},
        ARGUMENT_SPEC,
        SPEC_FAILED + r"value of sidecar_app_files_source must be one of: , s3, host, pvc, got: ftp",
    ),
    # meta/argument_specs.yml, checked by ansible-core itself
    Case(
        "port-not-a-number",
        {"sidecar_app_publish_port": "http"},
        ARGUMENT_SPEC,
        SPEC_FAILED + r"argument \Wsidecar_app_publish_port\W is of type str and we were unable to convert",
    ),
    Case(
        "unknown-platform",
        {"sidecar_app_platform": "docker"},
        ARGUMENT_SPEC,
        SPEC_FAILED
        + r"value of sidecar_app_platform must be one of: podman, openshift, kubernetes, got: doc",
    ),
    Case(
        "unknown-state", {"sidecar_app_state": "gone"}, ARGUMENT_SPEC, r"value of sidecar_app_state must be"
    ),
    Case(
        "unknown-workload-kind",
        {"sidecar_app_workload_kind": "StatefulSet"},
        ARGUMENT_SPEC,
        r"value of sidecar_app_workload_kind must be one of: Deployment, DeploymentConfig",
    ),
    Case(
        "unknown-preset",
        {"sidecar_app_platform_preset": "rahti1"},
        ARGUMENT_SPEC,
        r"value of sidecar_app_platform_preset must be one of: , rahti2, got: rahti1",
    ),
    Case(
        "user-without-name",
        {"sidecar_app_users": [{"password": GOOD_PASSWORD}]},
        ARGUMENT_SPEC,
        SPEC_FAILED + r"missing required arguments: name found in sidecar_app_users",
    ),
    Case(
        "user-with-an-unknown-key",
        {"sidecar_app_users": [ADMIN | {"passwd": GOOD_PASSWORD}]},
        ARGUMENT_SPEC,
        SPEC_FAILED + r".*sidecar_app_users.*passwd\. Supported parameters include: name, password",
    ),
    Case(
        "resources-without-limits",
        {"sidecar_app_app_resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}},
        ARGUMENT_SPEC,
        SPEC_FAILED + r"missing required arguments: limits found in sidecar_app_app_resources",
    ),
    Case(
        "verifier-limits-without-memory",
        {
            "sidecar_app_verifier_resources": {
                "requests": {"cpu": "1", "memory": "32Mi"},
                "limits": {"cpu": "1"},
            }
        },
        ARGUMENT_SPEC,
        SPEC_FAILED + r"missing required arguments: memory found in sidecar_app_verifier_resources -> limits",
    ),
    Case(
        "app-env-as-a-list",
        {"sidecar_app_app_env": ["LOG_LEVEL=debug"]},
        ARGUMENT_SPEC,
        SPEC_FAILED + r"argument \Wsidecar_app_app_env\W is of type list and we were unable to convert to",
    ),
]


DEPLOY_ENTRY_ASSERTS = "assert_deploy_entry.yml"


def validation_files() -> list[str]:
    """The task files validate.yml imports, and includes (a check that needs the module of one
    platform's collection is included on that platform only)."""
    return [
        task.get("ansible.builtin.import_tasks") or task["ansible.builtin.include_tasks"]
        for task in yaml.safe_load((TASKS / "validate.yml").read_text())
    ]


def named_asserts() -> set[str]:
    """The asserts of every file validate.yml runs, and of the deploy entry point's own check."""
    paths = [TASKS / name for name in [*validation_files(), DEPLOY_ENTRY_ASSERTS]]
    return {
        task["name"]
        for path in paths
        for task in yaml.safe_load(path.read_text())
        if "ansible.builtin.assert" in task
    }


def test_every_named_assert_has_a_case() -> None:
    assert {case.rule for case in CASES} - {ARGUMENT_SPEC} == named_asserts()


def imported_files(tasks_file: str) -> set[str]:
    return {
        task["ansible.builtin.import_tasks"]
        for task in yaml.safe_load((TASKS / tasks_file).read_text())
        if "ansible.builtin.import_tasks" in task
    }


def test_validate_runs_every_shared_assert_file() -> None:
    assert imported_files("validate.yml") == {path.name for path in TASKS.glob("assert_*.yml")} - {
        DEPLOY_ENTRY_ASSERTS
    }


def test_only_the_deploy_entry_point_refuses_a_render_directory() -> None:
    assert DEPLOY_ENTRY_ASSERTS in imported_files("main.yml")
    assert DEPLOY_ENTRY_ASSERTS not in imported_files("render.yml") | imported_files("verify_only.yml")


PROBE = "bad-input-probe"


class Stopped(NamedTuple):
    """How one case's host ended: the task that failed it, what the failure printed (white space
    folded), its changed count, and its state and password directories."""

    task: str
    failure: str
    changed: int
    directories: tuple[Path, Path]


class Run(NamedTuple):
    """The one deploy run of every case: how each case's host ended, and all the run printed."""

    hosts: dict[str, Stopped]
    output: str


def failure_text(lines: list[str]) -> str:
    """A failure's lines with white space folded, then its msg as YAML reads it (a message in
    single quotes doubles its own)."""
    parts = [" ".join(lines)]
    fatal = next((number for number, line in enumerate(lines) if FAILURE_OF_HOST.match(line)), None)
    if fatal is not None and lines[fatal].rstrip().endswith("=>"):
        try:
            result = yaml.safe_load(textwrap.dedent("\n".join(lines[fatal + 1 :])))
        except yaml.YAMLError:
            result = None
        if isinstance(result, dict):
            parts.append(str(result.get("msg", "")))
    return " ".join(" ".join(parts).split())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Every case as a host of one deploy run (one start-up of Ansible for all of them), each with
    its own state and password directories: how each host ended, and all the run printed."""
    base = tmp_path_factory.mktemp("bad-input")
    assert len({case.id for case in CASES}) == len(CASES), "case ids name the hosts: one each"
    hosts = {
        case.id: {
            "sidecar_app_name": PROBE,
            "sidecar_app_state_dir": str(base / case.id / "state"),
            "sidecar_app_password_dir": str(base / case.id / "passwords"),
            "sidecar_app_users": [ADMIN],
            **case.extra_vars,
        }
        for case in CASES
    }
    forks = {"ANSIBLE_FORKS": str(max(4, 2 * (os.cpu_count() or 1)))}
    played = play(
        "playbooks/deploy.yml", "-i", str(inventory(base / "hosts.yml", hosts)), env=forks, timeout=900
    )
    output = played.must_fail()
    failures = {host: (task, failure_text(lines)) for host, (task, lines) in played.failed_hosts().items()}
    hosts_ended = {
        case.id: Stopped(
            *failures.get(case.id, ("", "")),
            played.changed(case.id),
            (base / case.id / "state", base / case.id / "passwords"),
        )
        for case in CASES
    }
    return Run(hosts_ended, output)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_fails_before_any_change(case: Case, run: Run) -> None:
    host = run.hosts[case.id]
    expected = host.task.startswith(ARGUMENT_SPEC) if case.rule == ARGUMENT_SPEC else host.task == case.rule
    assert expected, f"stopped by {host.task!r}: {host.failure[:3000]}"
    assert re.search(case.message, host.failure), host.failure[:3000]
    assert host.changed == 0
    assert not any(directory.exists() for directory in host.directories)


def test_no_secret_of_any_case_is_printed(run: Run) -> None:
    users = [ADMIN] + [user for case in CASES for user in case.extra_vars.get("sidecar_app_users", [])]
    secrets = {str(user.get("password", "")) for user in users} | {
        LDAP["sidecar_app_ldap_bind_password"],
        FILES["sidecar_app_files_s3_secret_access_key"],
        OIDC["sidecar_app_oidc_client_secret"],
    }
    for secret in secrets:
        if len(secret) > 3:
            assert secret not in run.output


def test_no_case_left_a_pod(run: Run) -> None:
    assert subprocess.run(["podman", "pod", "exists", PROBE], check=False).returncode != 0
