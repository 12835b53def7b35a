#!/usr/bin/env python3
"""Say whether molecule/openshift or molecule/kubernetes can run here.

    scripts/cluster-reachable.py openshift|kubernetes

Loads the kubeconfig context kubernetes.core would use (the file from K8S_AUTH_KUBECONFIG,
KUBECONFIG or ~/.kube/config; the context from K8S_AUTH_CONTEXT or the file's current context),
asks the API server for /version and /apis within a few seconds and, for openshift, checks that
it serves route.openshift.io. The kubernetes scenario also needs images the cluster can pull:
SIDECAR_APP_REGISTRY (podman builds here and pushes there), or SIDECAR_APP_APP_IMAGE and
SIDECAR_APP_PROXY_IMAGE.

Exit 0: the scenario can run; one line says against what. Exit 77 (the code automake's test
harness reads as "skipped"): it cannot, and one line says why. Any other status is a failure of
this check itself (2: bad arguments, 1: a crash with its traceback) and must fail the suite.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

SKIP = 77
TIMEOUT_SECONDS = 5
OPENSHIFT_API_GROUP = "route.openshift.io"
PLATFORM_TITLES = {"openshift": "OpenShift", "kubernetes": "Kubernetes"}
REGISTRY_VARIABLE = "SIDECAR_APP_REGISTRY"
IMAGE_VARIABLES = ("SIDECAR_APP_APP_IMAGE", "SIDECAR_APP_PROXY_IMAGE")


class UnusableError(Exception):
    """The cluster cannot be used; the message says why in a few words."""


@dataclass(frozen=True)
class Cluster:
    context: str
    host: str
    version: str
    api_groups: frozenset[str]


def load_configuration() -> tuple[str, client.Configuration]:
    """The context's name and client settings, as kubernetes.core would load them."""
    kubeconfig = os.environ.get("K8S_AUTH_KUBECONFIG") or None
    context = os.environ.get("K8S_AUTH_CONTEXT") or None
    configuration = client.Configuration()
    try:
        if context is None:
            # Fails when there is no kubeconfig or it names no usable current context.
            _contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)
            context = str(current["name"])
        config.load_kube_config(
            config_file=kubeconfig,
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, yaml.YAMLError) as error:
        if context is None:
            raise UnusableError("no kubeconfig context") from error
        raise UnusableError(f"context {context}: {one_line(str(error))}") from error
    # One attempt: a cluster that does not answer within the timeout counts as not reachable.
    configuration.retries = False
    return context, configuration


def one_line(text: str) -> str:
    """Collapse a message to one line, without the connection objects urllib3 names."""
    text = re.sub(r"<[^<>]* object at 0x[0-9a-f]+>:?\s*", "", " ".join(text.split()))
    return re.sub(r"HTTPS?Connection(Pool)?\([^()]*\):\s*", "", text)


def describe(error: urllib3.exceptions.HTTPError) -> str:
    # NewConnectionError (refused, unresolvable) derives from ConnectTimeoutError: test it first.
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return one_line(str(error))
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return f"no answer within {TIMEOUT_SECONDS} s"
    return one_line(str(error))


def ask(context: str, configuration: client.Configuration) -> Cluster:
    """Read the server's version and API groups; both must answer within the timeout."""
    where = f"context {context}: {configuration.host}"
    with client.ApiClient(configuration) as api_client:
        try:
            version = client.VersionApi(api_client).get_code(_request_timeout=TIMEOUT_SECONDS)
            groups = client.ApisApi(api_client).get_api_versions(_request_timeout=TIMEOUT_SECONDS)
        except urllib3.exceptions.HTTPError as error:
            raise UnusableError(f"{where}: {describe(error)}") from error
        except ApiException as error:
            # Status 0: the client's own wrapping of a TLS failure, the reason says which.
            if not error.status:
                raise UnusableError(f"{where}: {one_line(str(error.reason))}") from error
            raise UnusableError(f"{where}: answered {error.status} {error.reason}") from error
    return Cluster(
        context=context,
        host=str(configuration.host),
        version=str(version.git_version),
        api_groups=frozenset(group.name for group in groups.groups),
    )


def images_given() -> bool:
    return bool(os.environ.get(REGISTRY_VARIABLE)) or all(os.environ.get(name) for name in IMAGE_VARIABLES)


def check(scenario: str) -> tuple[bool, str]:
    """(usable, the one line to print)."""
    prefix = f"molecule/{scenario}:"
    title = PLATFORM_TITLES[scenario]
    try:
        context, configuration = load_configuration()
        cluster = ask(context, configuration)
        if scenario == "openshift" and OPENSHIFT_API_GROUP not in cluster.api_groups:
            raise UnusableError(
                f"context {cluster.context}: {cluster.host} is Kubernetes {cluster.version} "
                f"without {OPENSHIFT_API_GROUP}"
            )
    except UnusableError as error:
        return False, f"{prefix} skipped, no {title} cluster reachable ({error})"
    if scenario == "kubernetes" and not images_given():
        return False, (
            f"{prefix} skipped, no images the cluster can pull "
            f"(set {REGISTRY_VARIABLE}, or {IMAGE_VARIABLES[0]} and {IMAGE_VARIABLES[1]})"
        )
    return True, f"{prefix} running against context {cluster.context} ({cluster.host}, {cluster.version})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(PLATFORM_TITLES))
    args = parser.parse_args(argv)
    usable, line = check(args.scenario)
    print(line, flush=True)
    return 0 if usable else SKIP


if __name__ == "__main__":
    sys.exit(main())
