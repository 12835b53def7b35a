"""The openshift_binary_build module: the build-context archive it makes and its exchange with the API.

The exchange runs the real module through `ansible` against a local HTTP server that plays the
OpenShift API endpoints the module calls, because no OpenShift API server can run here.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from repository import ROOT, load_source

MODULE_FQCN = "authproxy.sidecar.openshift_binary_build"
TOKEN = "sha256~not-a-real-token"
NAMESPACE = "hello"
BUILD_API = f"/apis/build.openshift.io/v1/namespaces/{NAMESPACE}"
# The phases each BuildConfig's first Build goes through on successive reads; the last one stays.
PHASES = {
    "app": ["New", "Running", "Complete"],
    "broken": ["New", "Running", "Failed"],
    "slow": ["New", "Running"],
}
BUILD_LOG = [f"STEP {n}/80: step number {n}" for n in range(1, 80)] + ["error: build error: exit status 1"]


MODULE = load_source("plugins/modules/openshift_binary_build.py", "openshift_binary_build")


def context_files(directory: Path) -> dict[str, bytes]:
    """Every regular file under directory, by its path relative to it."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file() and not path.is_symlink()
    }


def archive_files(archive: bytes) -> dict[str, bytes]:
    """Every regular file in a tar.gz archive, by member name."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                content = tar.extractfile(member)
                assert content
                files[member.name] = content.read()
    return files


# The archive


@pytest.mark.parametrize("context", ["files/app", "roles/sidecar_app/files/proxy"])
def test_archive_holds_exactly_the_files_of_the_context_with_relative_paths(context: str) -> None:
    archive = MODULE.build_context_archive(str(ROOT / context))
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        names = tar.getnames()
    assert "Containerfile" in names
    assert all(not name.startswith(("/", "./")) and ".." not in name.split("/") for name in names)
    assert archive_files(archive) == context_files(ROOT / context)


@pytest.mark.parametrize("context", ["files/app", "roles/sidecar_app/files/proxy"])
def test_archive_is_the_same_bytes_every_time(context: str) -> None:
    first = MODULE.build_context_archive(str(ROOT / context))
    second = MODULE.build_context_archive(str(ROOT / context))
    assert first[:2] == b"\x1f\x8b"
    assert first == second


def test_archive_lists_directories_before_their_content_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "src/b").mkdir(parents=True)
    (tmp_path / "src/b/z.txt").write_text("z")
    (tmp_path / "src/b/a.txt").write_text("a")
    (tmp_path / "src/Containerfile").write_text("FROM scratch\n")
    (tmp_path / "src/a.txt").write_text("a")
    archive = MODULE.build_context_archive(str(tmp_path / "src"))
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        assert tar.getnames() == ["Containerfile", "a.txt", "b", "b/a.txt", "b/z.txt"]
        assert tar.getmember("b").isdir()


def test_archive_keeps_only_the_executable_bit_and_no_owner_or_time(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "run.sh").chmod(0o700)
    (tmp_path / "data.txt").write_text("data\n")
    (tmp_path / "data.txt").chmod(0o600)
    archive = MODULE.build_context_archive(str(tmp_path))
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert members["run.sh"].mode == 0o755
    assert members["data.txt"].mode == 0o644
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members.values()} == {(0, 0, "", "", 0)}


def test_archive_keeps_a_link_inside_the_context_as_a_link(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/real.conf").write_text("x = 1\n")
    (tmp_path / "current.conf").symlink_to("conf/real.conf")
    (tmp_path / "conf-link").symlink_to("conf")
    archive = MODULE.build_context_archive(str(tmp_path))
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        link = tar.getmember("current.conf")
        assert link.issym()
        assert link.linkname == "conf/real.conf"
        assert tar.getmember("conf-link").issym()
        assert "conf-link/real.conf" not in tar.getnames()


@pytest.mark.parametrize("target", ["../outside.txt", "/etc/hostname"])
def test_archive_refuses_a_link_that_leads_outside_the_context_or_is_absolute(
    tmp_path: Path, target: str
) -> None:
    (tmp_path / "outside.txt").write_text("secret\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src/escape").symlink_to(target)
    with pytest.raises(MODULE.ArchiveError, match="escape is a symbolic link"):
        MODULE.build_context_archive(str(tmp_path / "src"))


def test_archive_of_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MODULE.ArchiveError, match="is not a directory"):
        MODULE.build_context_archive(str(tmp_path / "missing"))


# The exchange with the API, through the real module


@dataclass
class Upload:
    path: str
    query: dict[str, list[str]]
    content_type: str | None
    body: bytes


class FakeOpenShift(ThreadingHTTPServer):
    """Plays the OpenShift API endpoints the module calls: discovery (/version, /apis),
    buildconfigs/{name}/instantiatebinary, builds/{name} and builds/{name}/log."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeOpenShiftHandler)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, str | None]] = []
        self.uploads: list[Upload] = []
        self.build_reads: dict[str, int] = {}
        self.log_queries: list[dict[str, list[str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def build_object(build_config: str, phase: str) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if phase == "Failed":
        status.update(reason="DockerBuildFailed", message="Docker build strategy has failed.")
    return {
        "kind": "Build",
        "apiVersion": "build.openshift.io/v1",
        "metadata": {
            "name": f"{build_config}-1",
            "namespace": NAMESPACE,
            "annotations": {"openshift.io/build-config.name": build_config},
        },
        "status": status,
    }


class FakeOpenShiftHandler(BaseHTTPRequestHandler):
    server: FakeOpenShift
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def reply(self, status: int, payload: dict[str, Any] | str) -> None:
        is_text = isinstance(payload, str)
        body = (payload if is_text else json.dumps(payload)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if is_text else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorised(self, method: str) -> bool:
        with self.server.lock:
            self.server.requests.append((method, self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self.reply(401, {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401})
        return False

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not self.authorised("POST"):
            return
        url = urlsplit(self.path)
        parts = url.path.removeprefix(BUILD_API + "/").split("/")
        if len(parts) != 3 or parts[0] != "buildconfigs" or parts[2] != "instantiatebinary":
            self.reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
            return
        if parts[1] not in PHASES:
            message = f'buildconfigs.build.openshift.io "{parts[1]}" not found'
            status = {"kind": "Status", "status": "Failure", "message": message, "reason": "NotFound"}
            self.reply(404, {**status, "code": 404})
            return
        with self.server.lock:
            self.server.uploads.append(
                Upload(url.path, parse_qs(url.query), self.headers.get("Content-Type"), body)
            )
        self.reply(201, build_object(parts[1], "New"))

    def do_GET(self) -> None:
        if not self.authorised("GET"):
            return
        url = urlsplit(self.path)
        if url.path == "/version":
            self.reply(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0"})
            return
        if url.path == "/apis":
            version = {"groupVersion": "build.openshift.io/v1", "version": "v1"}
            group = {"name": "build.openshift.io", "versions": [version], "preferredVersion": version}
            self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]})
            return
        parts = url.path.removeprefix(BUILD_API + "/").split("/")
        build_config = parts[1].rsplit("-", 1)[0] if len(parts) >= 2 else ""
        if parts[0] != "builds" or build_config not in PHASES:
            self.reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
        elif len(parts) == 2:
            with self.server.lock:
                reads = self.server.build_reads.get(parts[1], 0)
                self.server.build_reads[parts[1]] = reads + 1
            phases = PHASES[build_config]
            self.reply(200, build_object(build_config, phases[min(reads, len(phases) - 1)]))
        else:
            query = parse_qs(url.query)
            with self.server.lock:
                self.server.log_queries.append(query)
            tail = int(query.get("tailLines", [str(len(BUILD_LOG))])[0])
            self.reply(200, "\n".join(BUILD_LOG[-tail:]) + "\n")


@pytest.fixture
def openshift() -> Iterator[FakeOpenShift]:
    server = FakeOpenShift()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def kubeconfig(tmp_path: Path, openshift: FakeOpenShift) -> Path:
    path = tmp_path / "kubeconfig"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": openshift.url}}],
        "users": [{"name": "tester", "user": {"token": TOKEN}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester"}}],
        "current-context": "fake",
    }
    path.write_text(json.dumps(config))
    return path


def run_module(tmp_path: Path, args: dict[str, Any], check: bool = False) -> tuple[str, dict[str, Any]]:
    """Run the module once with `ansible` on localhost; return its status (CHANGED, FAILED!...) and result."""
    collections = tmp_path / "collections/ansible_collections/authproxy"
    collections.mkdir(parents=True, exist_ok=True)
    if not (collections / "sidecar").exists():
        (collections / "sidecar").symlink_to(ROOT)
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("K8S_AUTH_", "ANSIBLE_"))
        and name != "KUBECONFIG"
        and not name.lower().endswith("_proxy")
    }
    env.update(
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        # kubernetes.core caches API discovery in the temporary directory: keep it in tmp_path.
        TMPDIR=str(tmp_path),
    )
    command = [
        str(Path(sys.executable).parent / "ansible"),
        "localhost",
        "--inventory=localhost,",
        "--connection=local",
        f"--extra-vars=ansible_python_interpreter={sys.executable}",
        f"--module-name={MODULE_FQCN}",
        f"--args={json.dumps(args)}",
    ]
    if check:
        command.append("--check")
    completed = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    # The minimal callback prints "localhost | CHANGED => {...}" (or FAILED!), maybe after an error line.
    found = re.search(r"^localhost \| ([A-Z!]+) => ", completed.stdout, re.MULTILINE)
    assert found, f"no module result in the output:\n{completed.stdout}\n{completed.stderr}"
    return found.group(1), json.loads(completed.stdout[found.end() :])


def module_args(kubeconfig: Path, build_config: str, **extra: object) -> dict[str, Any]:
    return {
        "kubeconfig": str(kubeconfig),
        "namespace": NAMESPACE,
        "build_config": build_config,
        "src": str(ROOT / "files/app"),
        "wait_sleep": 1,
        **extra,
    }


def test_upload_sends_the_context_as_gzip_tar_and_waits_for_complete(
    tmp_path: Path, openshift: FakeOpenShift, kubeconfig: Path
) -> None:
    """The local server plays the one OpenShift endpoint set the module calls (instantiatebinary,
    builds, builds/log), because no OpenShift API server can run here: the boundary we cannot run."""
    status, result = run_module(tmp_path, module_args(kubeconfig, "app"))

    assert status == "CHANGED", result
    assert result["build"] == "app-1"
    assert result["build_config"] == "app"
    assert result["phase"] == "Complete"
    assert isinstance(result["duration"], float)
    assert len(openshift.uploads) == 1
    upload = openshift.uploads[0]
    assert upload.path == f"{BUILD_API}/buildconfigs/app/instantiatebinary"
    assert upload.query == {}
    assert upload.content_type == "application/octet-stream"
    assert upload.body[:2] == b"\x1f\x8b"
    assert archive_files(upload.body) == context_files(ROOT / "files/app")
    assert openshift.build_reads == {"app-1": 3}
    assert {authorization for _method, _path, authorization in openshift.requests} == {f"Bearer {TOKEN}"}


def test_failed_build_fails_the_task_with_its_reason_and_the_log_tail(
    tmp_path: Path, openshift: FakeOpenShift, kubeconfig: Path
) -> None:
    """The local server plays the one OpenShift endpoint set the module calls (instantiatebinary,
    builds, builds/log), because no OpenShift API server can run here: the boundary we cannot run."""
    status, result = run_module(tmp_path, module_args(kubeconfig, "broken", log_tail_lines=5))

    assert status == "FAILED!"
    assert result["changed"] is True
    assert result["build"] == "broken-1"
    assert result["phase"] == "Failed"
    assert "Build hello/broken-1 ended Failed" in result["msg"]
    assert "DockerBuildFailed: Docker build strategy has failed." in result["msg"]
    assert result["msg"].endswith("\n".join(BUILD_LOG[-5:]))
    assert BUILD_LOG[-6] not in result["msg"]
    assert result["log_tail"] == BUILD_LOG[-5:]
    assert openshift.log_queries == [{"tailLines": ["5"]}]


def test_build_that_does_not_finish_in_time_fails_with_its_last_phase(
    tmp_path: Path, openshift: FakeOpenShift, kubeconfig: Path
) -> None:
    """The local server plays the one OpenShift endpoint set the module calls (instantiatebinary,
    builds, builds/log), because no OpenShift API server can run here: the boundary we cannot run."""
    status, result = run_module(tmp_path, module_args(kubeconfig, "slow", wait_timeout=2, log_tail_lines=1))

    assert status == "FAILED!"
    assert result["phase"] == "Running"
    assert "Build hello/slow-1 did not finish within 2 s; its last phase was Running" in result["msg"]
    assert result["log_tail"] == BUILD_LOG[-1:]


def test_without_wait_the_module_returns_after_the_upload(
    tmp_path: Path, openshift: FakeOpenShift, kubeconfig: Path
) -> None:
    """The local server plays the one OpenShift endpoint set the module calls (instantiatebinary,
    builds, builds/log), because no OpenShift API server can run here: the boundary we cannot run."""
    status, result = run_module(tmp_path, module_args(kubeconfig, "app", wait=False))

    assert status == "CHANGED", result
    assert result["build"] == "app-1"
    assert result["phase"] == "New"
    assert len(openshift.uploads) == 1
    assert openshift.build_reads == {}


def test_check_mode_reports_a_change_and_sends_no_request(
    tmp_path: Path, openshift: FakeOpenShift, kubeconfig: Path
) -> None:
    """The local server plays the one OpenShift endpoint set the module calls (instantiatebinary,
    builds, builds/log), because no OpenShift API server can run here: the boundary we cannot run."""
    status, result = run_module(tmp_path, module_args(kubeconfig, "app"), check=True)

    assert status == "CHANGED", result
    assert result["build_config"] == "app"
    assert result["build"] is None
    assert openshift.requests == []


def test_missing_build_config_fails_with_the_api_servers_message(
    tmp_path: Path, openshift: FakeOpenShift, kubeconfig: Path
) -> None:
    """The local server plays the one OpenShift endpoint set the module calls (instantiatebinary,
    builds, builds/log), because no OpenShift API server can run here: the boundary we cannot run."""
    status, result = run_module(tmp_path, module_args(kubeconfig, "missing"))

    assert status == "FAILED!"
    assert result["msg"] == (
        "Cannot start a binary build of BuildConfig hello/missing: "
        '404 Not Found: buildconfigs.build.openshift.io "missing" not found'
    )
    assert result["changed"] is False
    assert result["build"] is None
    assert openshift.uploads == []
