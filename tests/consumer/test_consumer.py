"""The collection as its users get it: the tarball ansible-galaxy builds, installed offline into
an empty collections path, used by a playbook of another project (tests/consumer/playbook.yml)
that includes authproxy.sidecar.sidecar_app by its FQCN.

Ansible sees only the install path and the dependency collections of the `ansible` package, not
the repository's self-link. Run by `make collection` (marker `collection`; plain `pytest tests`
leaves these out): the podman test deploys a pod of its own (consumer-test, port 28081). Render
and deploy run with ansible-core 2.19 (.venv) and 2.17.0 (the venv of make compat).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from manifest_schemas import directory_errors

pytestmark = pytest.mark.collection

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PASSWORD = "consumer horse battery staple"
NAME, PORT = "consumer-test", 28081
# What a tarball must not carry: development tooling, tests (fake kubernetes.core plugins among
# them), render output (an htpasswd Secret), caches.
NOT_SHIPPED_AT_TOP = {
    "tests",
    "bench",
    "scripts",
    "molecule",
    ".ci",
    "render",
    ".nox",
    "collections",
    "Makefile",
    "noxfile.py",
    "requirements-dev.txt",
    "BENCHMARKS.md",
    "ansible.cfg",
}
CACHES = {"__pycache__", ".pytest_cache", ".ruff_cache"}
# The Python packages the collection needs on the controller: all an execution environment gets.
RUNTIME = {"kubernetes", "jsonpatch", "requests-oauthlib", "jmespath", "libpass", "bcrypt"}


def run(
    command: list[str], env: dict[str, str], cwd: Path, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def galaxy(*arguments: str) -> list[str]:
    return [str(BIN / "ansible-galaxy"), "collection", *arguments]


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("build")
    result = run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(output)],
        dict(os.environ),
        ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = output.glob("authproxy-sidecar-*.tar.gz")
    return built


def install(tarball: Path, ansible_bin: Path, installed: Path) -> dict[str, str]:
    """Installs the tarball into the empty path installed with the ansible-galaxy of ansible_bin;
    the environment the consumer's runs then get."""
    dependencies = sysconfig.get_paths()["purelib"]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ANSIBLE_") and key != "SIDECAR_APP_PASSWORD"
    } | {
        "ANSIBLE_CONFIG": str(HERE / "ansible.cfg"),
        # Only the install path and the dependencies of the `ansible` package.
        "ANSIBLE_COLLECTIONS_PATH": f"{installed}{os.pathsep}{dependencies}",
        "ANSIBLE_NOCOLOR": "1",
        "CONSUMER_PASSWORD": PASSWORD,
        "PATH": f"{ansible_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(ansible_bin / "ansible-galaxy"),
        "collection",
        "install",
        "--offline",
        "-p",
        str(installed),
    ]
    result = run([*command, str(tarball)], env, HERE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (installed / "ansible_collections/authproxy/sidecar/MANIFEST.json").is_file()
    return env


@pytest.fixture(scope="module")
def consumer_env(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The tarball installed with the ansible-core of .venv (the highest claimed)."""
    return install(tarball, BIN, tmp_path_factory.mktemp("installed"))


@pytest.fixture(scope="module")
def lowest_consumer_env(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The tarball installed with ansible-core 2.17.0, the lowest claimed: the venv of the
    render(lowest) nox session (make compat runs it first)."""
    ansible_bin = ROOT / ".nox/render-lowest/bin"
    if not (ansible_bin / "ansible-playbook").exists():
        pytest.fail(f"no {ansible_bin}/ansible-playbook: run `make compat` (nox -s render) first")
    return install(tarball, ansible_bin, tmp_path_factory.mktemp("installed-lowest"))


def installed_path(env: dict[str, str]) -> Path:
    return Path(env["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0])


def play(env: dict[str, str], cwd: Path, **extra_vars: object) -> subprocess.CompletedProcess[str]:
    """The consumer's playbook with extra_vars, run by the ansible-playbook first on env's PATH."""
    ansible_bin = Path(env["PATH"].split(os.pathsep)[0])
    command = [
        str(ansible_bin / "ansible-playbook"),
        str(HERE / "playbook.yml"),
        "-e",
        json.dumps(extra_vars),
    ]
    return run(command, env, cwd)


def test_the_tarball_holds_the_collection_and_nothing_else(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    shipped = [
        name for name in names if name.split("/")[0] in NOT_SHIPPED_AT_TOP or CACHES & set(name.split("/"))
    ]
    assert not shipped, shipped
    for needed in [
        "galaxy.yml" if "galaxy.yml" in names else "MANIFEST.json",
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "meta/ee-requirements.txt",
        "roles/sidecar_app/files/proxy/Containerfile",
        "roles/sidecar_app/files/proxy/verifier.py",
        "plugins/filter/bcrypt_htpasswd.py",
        "plugins/doc_fragments/k8s_auth_options.py",
        "playbooks/render.yml",
        "files/app/Containerfile",
        "CHANGELOG.rst",
        "changelogs/changelog.yaml",
    ]:
        assert needed in names, needed


def test_ansible_builder_finds_only_the_runtime_needs(consumer_env: dict[str, str]) -> None:
    result = run(
        [str(BIN / "ansible-builder"), "introspect", "--sanitize", str(installed_path(consumer_env))],
        consumer_env,
        HERE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    introspected = yaml.safe_load(result.stdout.split("\n", 1)[1])
    names = {line.split(">=")[0].strip() for line in introspected["python"]}
    assert names == RUNTIME
    assert all(
        ">=" in line and "# from collection authproxy.sidecar" in line for line in introspected["python"]
    )


@pytest.mark.parametrize("installed_with", ["consumer_env", "lowest_consumer_env"], ids=["highest", "lowest"])
def test_a_consumer_renders_valid_openshift_objects_from_the_installed_collection(
    installed_with: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    consumer_env: dict[str, str] = request.getfixturevalue(installed_with)
    out = tmp_path / "out"
    inputs = {
        "sidecar_app_platform": "openshift",
        "sidecar_app_render_dir": str(out),
        "sidecar_app_state_dir": str(tmp_path / "state"),
        "sidecar_app_password_dir": str(tmp_path / "pw"),
    }
    result = play(consumer_env, tmp_path, **inputs)
    assert result.returncode == 0, result.stdout[-5000:]
    version = run(
        [str(Path(consumer_env["PATH"].split(os.pathsep)[0]) / "ansible"), "--version"], consumer_env, HERE
    )
    assert version.stdout.startswith(
        "ansible [core 2.17." if installed_with == "lowest_consumer_env" else "ansible [core 2.19."
    ), version.stdout
    files = {path.name for path in out.iterdir()}
    expected = ["deployment-hello-sidecar", "service-hello-sidecar", "route-hello-sidecar"]
    assert {f"{number:02d}-{name}.yml" for number, name in enumerate(expected, start=5)} <= files
    assert "00-secret-hello-sidecar-htpasswd.yml" in files
    assert directory_errors(out) == []
    # The proxy image was staged from the installed role's own build context.
    staged = tmp_path / "state/build/localhost/proxy/Containerfile"
    assert staged.is_file()

    again = play(consumer_env, tmp_path, **inputs)
    assert again.returncode == 0, again.stdout[-5000:]
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0\s", again.stdout), again.stdout[-3000:]


def http_status(url: str, user: str | None = None, password: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url)
    if user:
        request.add_header(
            "Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.fixture(params=["consumer_env", "lowest_consumer_env"], ids=["highest", "lowest"])
def installed(request: pytest.FixtureRequest) -> dict[str, str]:
    """The tarball installed with the highest, then with the lowest ansible-core claimed."""
    env: dict[str, str] = request.getfixturevalue(request.param)
    return env


@pytest.fixture
def podman_deployment(installed: dict[str, str], tmp_path: Path) -> Iterator[dict[str, object]]:
    """The variables of a podman deployment of its own; removed afterwards whatever happened."""
    inputs: dict[str, object] = {
        "sidecar_app_platform": "podman",
        "sidecar_app_name": NAME,
        "sidecar_app_publish_port": PORT,
        "sidecar_app_state_dir": str(tmp_path / "state"),
        "sidecar_app_password_dir": str(tmp_path / "pw"),
    }
    yield inputs
    play(installed, tmp_path, **inputs, sidecar_app_state="absent")


def test_a_consumer_deploys_with_podman_from_the_installed_collection_and_removes_it(
    installed: dict[str, str], podman_deployment: dict[str, object], tmp_path: Path
) -> None:
    deployed = play(installed, tmp_path, **podman_deployment)
    assert deployed.returncode == 0, deployed.stdout[-8000:] + deployed.stderr[-2000:]
    url = f"http://127.0.0.1:{PORT}/"
    assert http_status(url)[0] == 401
    assert http_status(url, "admin", PASSWORD + "x")[0] == 401
    status, body = http_status(url, "admin", PASSWORD)
    assert (status, body.strip()) == (200, "Hello World")

    again = play(installed, tmp_path, **podman_deployment)
    assert again.returncode == 0, again.stdout[-5000:]
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0\s", again.stdout), again.stdout[-3000:]

    removed = play(installed, tmp_path, **podman_deployment, sidecar_app_state="absent")
    assert removed.returncode == 0, removed.stdout[-5000:]
    assert subprocess.run(["podman", "pod", "exists", NAME], check=False).returncode != 0
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)
