"""Fixtures of the tests on the local cluster (local_cluster.py): the running cluster, or a skip
with one reason (a failure where LOCAL_CLUSTER_REQUIRED is set, as `make test` does), a
namespace of its own for each test, and the removal of the images podman built for them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from .local_cluster import APP_NAME, Cluster, cluster_dir, find_kubectl


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    directory = cluster_dir()
    return Cluster(directory=directory, kubeconfig=directory / "kubeconfig", kubectl_path=find_kubectl())


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards with everything in it."""
    name = "t-" + request.node.name.lower().replace("_", "-")[:40].strip("-").rstrip("[").replace("[", "-")
    name = "".join(c for c in name if c.isalnum() or c == "-").strip("-")[:50]
    cluster.delete_namespace(name)
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.delete_namespace(name)


@pytest.fixture(scope="session", autouse=True)
def remove_built_images() -> Iterator[None]:
    """The tests delete their namespaces, not the role's teardown, so the images podman built and
    pushed for them (every one labelled with the app's name) are removed here, at the end."""
    yield
    if shutil.which("podman") is None:
        return
    label = f"label=io.authproxy.sidecar.app={APP_NAME}"
    images = subprocess.run(
        ["podman", "images", "--quiet", "--filter", label], capture_output=True, text=True, check=True
    ).stdout.split()
    if images:
        subprocess.run(["podman", "rmi", "--force", *sorted(set(images))], capture_output=True, check=True)
