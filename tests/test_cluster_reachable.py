"""scripts/cluster-reachable.py, which decides whether the cluster scenarios run or are skipped.

No cluster can run here, so the check is proven both ways without one: with no kubeconfig at
all, and with a kubeconfig whose context points at a small HTTP server started by the test. The
local server stands in for an API server we cannot run here: it answers /version and /apis as
a Kubernetes or an OpenShift API server does (OpenShift serves route.openshift.io), which is
all the check asks.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts/cluster-reachable.py"
SKIP = 77

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0",
    "gitCommit": "9edcffcde5595e8a5b1a35f88c421764e575afce",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T07:28:49Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
KUBERNETES_GROUPS = ["apps", "networking.k8s.io"]
OPENSHIFT_GROUPS = [*KUBERNETES_GROUPS, "route.openshift.io", "project.openshift.io"]


def api_group_list(names: list[str]) -> dict[str, object]:
    def group(name: str) -> dict[str, object]:
        version = {"groupVersion": f"{name}/v1", "version": "v1"}
        return {"name": name, "versions": [version], "preferredVersion": version}

    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group(name) for name in names]}


def serve(groups: list[str] | None) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 answering GET /version and GET /apis (anything else 404), or, with
    groups None, refusing every request with 401 as an API server refuses an expired token."""
    answers = {"/version": VERSION, "/apis": api_group_list(groups or [])}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = answers.get(self.path.split("?")[0].rstrip("/"))  # the client asks /version/
            status = 401 if groups is None else 200 if answer else 404
            body = json.dumps(answer if status == 200 else {"kind": "Status", "code": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def api_server() -> Iterator[Callable[[list[str] | None], str]]:
    """Starts local API servers (see serve) and returns their URLs; stops them afterwards."""
    servers: list[ThreadingHTTPServer] = []

    def start(groups: list[str] | None) -> str:
        servers.append(serve(groups))
        return f"http://127.0.0.1:{servers[-1].server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def kubernetes_server(api_server: Callable[[list[str] | None], str]) -> str:
    return api_server(KUBERNETES_GROUPS)


@pytest.fixture
def openshift_server(api_server: Callable[[list[str] | None], str]) -> str:
    return api_server(OPENSHIFT_GROUPS)


def write_kubeconfig(path: Path, server: str, context: str = "test-context") -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "test-cluster", "cluster": {"server": server}}],
                "users": [{"name": "test-user", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": context, "context": {"cluster": "test-cluster", "user": "test-user"}}],
                "current-context": context,
            }
        )
    )
    return path


def run_check(scenario: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The check in a clean environment: HOME without ~/.kube, no cluster or image variables."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("KUBECONFIG", "K8S_AUTH_", "SIDECAR_APP_"))
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), scenario],
        capture_output=True,
        text=True,
        env={**clean, "HOME": str(home), **env},
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(("scenario", "title"), [("openshift", "OpenShift"), ("kubernetes", "Kubernetes")])
def test_without_a_kubeconfig_it_prints_one_skip_line_and_exits_77(
    tmp_path: Path, scenario: str, title: str
) -> None:
    result = run_check(scenario, tmp_path)
    assert result.returncode == SKIP, result.stderr
    expected = f"molecule/{scenario}: skipped, no {title} cluster reachable (no kubeconfig context)\n"
    assert result.stdout == expected
    assert result.stderr == ""


def test_a_kubeconfig_without_current_context_counts_as_no_context(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": []}))
    result = run_check("openshift", tmp_path, KUBECONFIG=str(kubeconfig))
    assert result.returncode == SKIP
    assert result.stdout.endswith("(no kubeconfig context)\n")


def test_an_openshift_api_server_is_usable_for_the_openshift_scenario(
    tmp_path: Path, openshift_server: str
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", openshift_server)
    result = run_check("openshift", tmp_path, KUBECONFIG=str(kubeconfig))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == (
        f"molecule/openshift: running against context test-context ({openshift_server}, v1.31.0)\n"
    )


def test_a_plain_kubernetes_api_server_is_not_openshift(tmp_path: Path, kubernetes_server: str) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", kubernetes_server)
    result = run_check("openshift", tmp_path, KUBECONFIG=str(kubeconfig))
    assert result.returncode == SKIP
    assert result.stdout == (
        "molecule/openshift: skipped, no OpenShift cluster reachable "
        f"(context test-context: {kubernetes_server} is Kubernetes v1.31.0 without route.openshift.io)\n"
    )


def test_k8s_auth_variables_choose_the_kubeconfig_and_context_as_kubernetes_core_does(
    tmp_path: Path, kubernetes_server: str, openshift_server: str
) -> None:
    """K8S_AUTH_KUBECONFIG wins over KUBECONFIG, K8S_AUTH_CONTEXT over the current context."""
    plain = write_kubeconfig(tmp_path / "plain", kubernetes_server)
    both = write_kubeconfig(tmp_path / "both", kubernetes_server, context="kind-kind")
    config = json.loads(both.read_text())
    config["clusters"].append({"name": "crc", "cluster": {"server": openshift_server}})
    config["contexts"].append({"name": "crc-developer", "context": {"cluster": "crc", "user": "test-user"}})
    both.write_text(json.dumps(config))
    result = run_check(
        "openshift",
        tmp_path,
        KUBECONFIG=str(plain),
        K8S_AUTH_KUBECONFIG=str(both),
        K8S_AUTH_CONTEXT="crc-developer",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "against context crc-developer" in result.stdout


def test_the_kubernetes_scenario_needs_images_the_cluster_can_pull(
    tmp_path: Path, kubernetes_server: str
) -> None:
    kubeconfig = str(write_kubeconfig(tmp_path / "config", kubernetes_server))

    without = run_check("kubernetes", tmp_path, KUBECONFIG=kubeconfig)
    assert without.returncode == SKIP
    assert without.stdout == (
        "molecule/kubernetes: skipped, no images the cluster can pull "
        "(set SIDECAR_APP_REGISTRY, or SIDECAR_APP_APP_IMAGE and SIDECAR_APP_PROXY_IMAGE)\n"
    )
    only_one_image = run_check("kubernetes", tmp_path, KUBECONFIG=kubeconfig, SIDECAR_APP_APP_IMAGE="r/app:1")
    assert only_one_image.returncode == SKIP

    registry = run_check(
        "kubernetes", tmp_path, KUBECONFIG=kubeconfig, SIDECAR_APP_REGISTRY="localhost:5001/t"
    )
    images = run_check(
        "kubernetes",
        tmp_path,
        KUBECONFIG=kubeconfig,
        SIDECAR_APP_APP_IMAGE="localhost/hello-app:1",
        SIDECAR_APP_PROXY_IMAGE="localhost/hello-proxy:1",
    )
    for result in (registry, images):
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("molecule/kubernetes: running against context test-context")


def test_a_refused_connection_is_a_skip_that_names_the_server(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kubeconfig = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{port}")
    result = run_check("kubernetes", tmp_path, KUBECONFIG=str(kubeconfig))
    assert result.returncode == SKIP
    assert result.stdout.startswith(
        "molecule/kubernetes: skipped, no Kubernetes cluster reachable "
        f"(context test-context: http://127.0.0.1:{port}: "
    )
    assert "Connection refused" in result.stdout
    assert result.stdout.count("\n") == 1


def test_a_server_that_never_answers_is_given_up_on_after_about_five_seconds(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        server = f"http://127.0.0.1:{silent.getsockname()[1]}"
        kubeconfig = write_kubeconfig(tmp_path / "config", server)
        started = time.monotonic()
        result = run_check("openshift", tmp_path, KUBECONFIG=str(kubeconfig))
        elapsed = time.monotonic() - started
    assert result.returncode == SKIP
    assert result.stdout == (
        "molecule/openshift: skipped, no OpenShift cluster reachable "
        f"(context test-context: {server}: no answer within 5 s)\n"
    )
    assert 4 < elapsed < 9


def test_a_credential_the_server_refuses_is_a_skip_that_says_so(
    tmp_path: Path, api_server: Callable[[list[str] | None], str]
) -> None:
    url = api_server(None)
    kubeconfig = write_kubeconfig(tmp_path / "config", url)
    result = run_check("openshift", tmp_path, KUBECONFIG=str(kubeconfig))
    assert result.returncode == SKIP
    assert result.stdout.endswith(f"(context test-context: {url}: answered 401 Unauthorized)\n")


def test_a_wrong_scenario_fails_instead_of_skipping(tmp_path: Path) -> None:
    result = run_check("podman", tmp_path)
    assert result.returncode not in (0, SKIP)
    assert "invalid choice" in result.stderr
