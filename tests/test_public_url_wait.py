"""On a cluster, a deploy asks the public URL again while what leads to the Service does not lead
to the pods yet (cluster/answer.yml), and only then verifies 401 / 401 / 200 there.

The role runs against tests/fake_cluster (OpenShift's API and controllers cannot run here). The
public URL is a stand-in too: OpenShift's router, which answers 503 between admitting a Route and
reloading its HAProxy, cannot run here either. The stand-in answers 503 to its first requests, then
as the sidecar does (a Basic challenge, "Hello World" for admin's password). It records each answer,
so the tests see what the role asked and in which order.
"""

from __future__ import annotations

import base64
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from certificates import make_certificate_authority, make_server_certificate
from fake_cluster_runs import FAKE_CLUSTER_FIRST, INPUTS, deploy
from playbook_runs import inventory, play

PASSWORD = "public-url-wait-password"
RIGHT = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
# What ansible-playbook prints when the wait asks again, for a host named as failed_deploy names it.
ASKED_AGAIN = "FAILED - RETRYING: [failing]: Wait until the public URL leads to the pods"


class RouterThenSidecar(ThreadingHTTPServer):
    """Answers 503 to its first `not_yet` requests, as a router that does not lead to the pods yet;
    then 401 with a Basic challenge, or 200 "Hello World" to admin's password. `answers` lists
    (status, whether credentials came) in order."""

    def __init__(self, not_yet: int) -> None:
        super().__init__(("127.0.0.1", 0), RouterThenSidecarHandler)
        self.not_yet = not_yet
        self.answers: list[tuple[int, bool]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}/"


class RouterThenSidecarHandler(BaseHTTPRequestHandler):
    server: RouterThenSidecar

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization")
        with self.server.lock:
            if len(self.server.answers) < self.server.not_yet:
                status, body = 503, b"Application is not available"
            elif authorization == RIGHT:
                status, body = 200, b"Hello World"
            else:
                status, body = 401, b"401 Authorization Required"
            self.server.answers.append((status, authorization is not None))
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="Restricted"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serving(not_yet: int, certificate: tuple[Path, Path] | None = None) -> Iterator[RouterThenSidecar]:
    server = RouterThenSidecar(not_yet)
    if certificate:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*certificate)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def late_router() -> Iterator[RouterThenSidecar]:
    yield from serving(not_yet=2)


@pytest.fixture
def router_that_never_leads_to_the_pods() -> Iterator[RouterThenSidecar]:
    yield from serving(not_yet=1_000_000)


@pytest.fixture
def router_with_a_certificate_of_its_own(tmp_path: Path) -> Iterator[RouterThenSidecar]:
    """Served over https with a certificate of a CA this machine does not trust, as CRC's router."""
    ca = make_certificate_authority(tmp_path / "ca", "a router's own CA")
    yield from serving(not_yet=0, certificate=make_server_certificate(tmp_path / "ca", *ca))


def inputs(server: RouterThenSidecar, cluster: Path) -> dict[str, object]:
    return INPUTS | {
        "sidecar_app_verify": True,
        "sidecar_app_public_url": server.url,
        "sidecar_app_users": [{"name": "admin", "password": PASSWORD}],
        "fake_cluster_dir": str(cluster),
    }


def test_a_deploy_asks_again_while_the_router_answers_503_and_then_verifies(
    tmp_path: Path, late_router: RouterThenSidecar
) -> None:
    deploy(tmp_path, "deploy", {"late": inputs(late_router, tmp_path / "cluster")})
    assert late_router.answers == [
        (503, False),
        (503, False),
        (401, False),  # the wait ends: the sidecar answered
        (401, False),  # verify.yml: no credentials
        (401, True),  # a wrong password
        (200, True),  # the right one
    ]


def failed_deploy(tmp_path: Path, host: dict[str, object]) -> str:
    return play(
        "playbooks/deploy.yml",
        "-i",
        str(inventory(tmp_path / "inventory.yml", {"failing": host})),
        home=tmp_path / "home",
        env=FAKE_CLUSTER_FIRST,
    ).must_fail()


def test_a_url_that_never_leads_to_the_pods_fails_naming_the_wait_and_what_answered(
    tmp_path: Path, router_that_never_leads_to_the_pods: RouterThenSidecar
) -> None:
    host = inputs(router_that_never_leads_to_the_pods, tmp_path / "cluster") | {"sidecar_app_wait_timeout": 4}
    output = failed_deploy(tmp_path, host)
    assert "Waited 4 s (sidecar_app_wait_timeout)" in output, output[-3000:]
    assert "HTTP 503, from what stands in front of the Service" in output, output[-3000:]
    assert ASKED_AGAIN in output, output[-3000:]
    # Two attempts, 2 s apart; no password was sent to what was not the sidecar.
    assert router_that_never_leads_to_the_pods.answers == [(503, False), (503, False)]
    assert PASSWORD not in output


def test_a_certificate_that_does_not_verify_fails_at_once_naming_validate_certs(
    tmp_path: Path, router_with_a_certificate_of_its_own: RouterThenSidecar
) -> None:
    output = failed_deploy(tmp_path, inputs(router_with_a_certificate_of_its_own, tmp_path / "cluster"))
    assert "certificate does not verify" in output, output[-3000:]
    assert "Set sidecar_app_validate_certs to false" in output, output[-3000:]
    assert ASKED_AGAIN not in output, output[-3000:]
    # The TLS handshake failed: no request reached the server.
    assert router_with_a_certificate_of_its_own.answers == []
