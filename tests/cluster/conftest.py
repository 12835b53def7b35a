"""Fixtures of the tests on the local cluster (local_cluster.py): the running cluster, or a skip
with one reason (a failure where LOCAL_CLUSTER_REQUIRED is set, as `make test` does), and a
namespace of its own for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .local_cluster import Cluster, cluster_dir, find_kubectl


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
