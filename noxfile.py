"""The role on every ansible-core that meta/runtime.yml claims (make compat).

Each session makes a venv with one ansible-core (the lowest claimed and the highest that
installs on this Python), renders the objects for OpenShift and Kubernetes through
playbooks/render.yml, and validates every object strictly against the OpenShift 4.17 schemas
in tests/data (tests/manifest_schemas.py, the code tests/test_manifests.py uses).

The collections come from the `ansible` package in the venv nox runs from (.venv, `make
setup`); the collection itself from the repository's self-link in collections/.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.default_venv_backend = "venv"

# The lowest release meta/runtime.yml accepts and the newest that installs on Python 3.11.
# 2.17 and 2.18 template without native types (a lone "{{ 8081 }}" is the string "8081"),
# 2.19 with them: the two lines differ where it matters here.
ANSIBLE_CORE = {"lowest": "ansible-core==2.17.0", "highest": "ansible-core>=2.19,<2.20"}
# The collection's runtime needs at their lower bounds' file (as an execution environment gets
# them), and what the validation needs.
RENDER_NEEDS = ["-r", str(ROOT / "meta/ee-requirements.txt"), "jsonschema"]
# One host per set of inputs; a single ansible-playbook run renders them all.
RENDERS: dict[str, dict[str, object]] = {
    "openshift-deployment-cluster-build": {"sidecar_app_platform": "openshift"},
    "openshift-deploymentconfig-pushed-image": {
        "sidecar_app_platform": "openshift",
        "sidecar_app_workload_kind": "DeploymentConfig",
        "sidecar_app_image_build": "podman",
        "sidecar_app_registry": "registry.example.com/ns",
        "sidecar_app_replicas": 3,
        "sidecar_app_route_host": "hello.apps.example.com",
    },
    "kubernetes-deployment-given-images": {
        "sidecar_app_platform": "kubernetes",
        "sidecar_app_image_build": "none",
        "sidecar_app_app_image": "registry.example.com/team/hello-app:1.0",
        "sidecar_app_proxy_image": "registry.example.com/team/hello-proxy:1.0",
        "sidecar_app_route_host": "hello.example.com",
        "sidecar_app_ingress_tls_secret": "hello-tls",
    },
}


def dependency_collections() -> Path:
    """The directory holding ansible_collections/ of the `ansible` package nox runs with."""
    site = Path(sysconfig.get_paths()["purelib"])
    if not (site / "ansible_collections/kubernetes/core").is_dir():
        raise SystemExit(f"no kubernetes.core in {site}/ansible_collections: run nox from .venv (make setup)")
    return site


@nox.session
@nox.parametrize("ansible_core", list(ANSIBLE_CORE.values()), ids=list(ANSIBLE_CORE))
def render(session: nox.Session, ansible_core: str) -> None:
    """Render for OpenShift and Kubernetes on one ansible-core and validate strictly."""
    session.install(ansible_core, *RENDER_NEEDS)
    work = Path(session.create_tmp()).resolve() / "render"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    hosts = {
        name: local | inputs | {"sidecar_app_render_dir": str(work / name), "sidecar_app_bcrypt_rounds": 10}
        for name, inputs in RENDERS.items()
    }
    inventory = work / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"sidecar_app_targets": {"hosts": hosts}}}}))
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": f"{ROOT / 'collections'}:{dependency_collections()}",
        "ANSIBLE_NOCOLOR": "1",
        "HOME": str(work / "home"),
        "SIDECAR_APP_PASSWORD": "correct horse battery staple",
    }
    session.run("ansible", "--version", env=env)
    session.run("ansible-playbook", "-i", str(inventory), str(ROOT / "playbooks/render.yml"), env=env)
    session.run("python", str(ROOT / "tests/manifest_schemas.py"), *(str(work / name) for name in RENDERS))


@contextlib.contextmanager
def collection_copy() -> Iterator[Path]:
    """The repository's files (tracked or new, not ignored, no test data) where ansible-test wants
    them, <tmp>/ansible_collections/authproxy/sidecar, outside this git worktree (ansible-test
    asks git for the files, and git ignores .nox/)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    with tempfile.TemporaryDirectory(prefix="authproxy-sidecar-") as tmp:
        target = Path(tmp) / "ansible_collections/authproxy/sidecar"
        for name in (entry.decode() for entry in listed if entry):
            source = ROOT / name
            if name.startswith("tests/data/") or not source.is_file():
                continue
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
        # ansible-test finds the dependencies' documentation fragments and module_utils only in
        # the same ansible_collections tree.
        dependencies = dependency_collections() / "ansible_collections"
        for namespace in ("kubernetes", "containers", "community"):
            (target.parents[1] / namespace).symlink_to(dependencies / namespace)
        yield target


def ansible_test_data(session: nox.Session) -> Path:
    """ansible-test's _data directory in the session's venv."""
    data = session.run(
        "python",
        "-c",
        "import ansible_test, pathlib; print(pathlib.Path(ansible_test.__file__).parent / '_data')",
        silent=True,
    )
    return Path(str(data).strip())


def ansible_test_requirements(session: nox.Session, *names: str) -> list[str]:
    """-r arguments for the requirement files ansible-test itself ships (names without .txt)."""
    directory = ansible_test_data(session) / "requirements"
    return [argument for name in names for argument in ("-r", str(directory / f"{name}.txt"))]


def ansible_test_environment(session: nox.Session) -> dict[str, str]:
    """A HOME of the session's own, whose ansible-test cache holds tests/sanity/get_pip_offline.py
    as the pip bootstrap script of the pip version ansible-test asks for (it makes venvs for
    some sanity tests even with --local)."""
    requirements = ansible_test_data(session) / "../_internal/python_requirements.py"
    (pip_version,) = re.findall(r"\bpip='([0-9.]+)'", requirements.read_text())
    cache = Path(session.virtualenv.location) / "home/.ansible/test/cache"
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copy2(
        ROOT / "tests/sanity/get_pip_offline.py", cache / f"get_pip_{pip_version.replace('.', '_')}.py"
    )
    return {"HOME": str(cache.parents[2])}


def ansible_test(session: nox.Session, command: str, requirements: list[str]) -> None:
    """ansible-test COMMAND on a copy of the collection, with the tools ansible-test pins for it
    (--local: its --venv needs a pip bootstrap script from a host these machines do not reach)."""
    session.install(ANSIBLE_CORE["highest"])
    session.install(*ansible_test_requirements(session, *requirements))
    session.install("-r", str(ROOT / "meta/ee-requirements.txt"))
    with collection_copy() as copy:
        env = ansible_test_environment(session) | {
            "ANSIBLE_COLLECTIONS_PATH": f"{copy.parents[2]}:{dependency_collections()}"
        }
        session.chdir(copy)
        arguments = ["--local", "--python", "3.11", "--color", "no", *session.posargs]
        session.run("ansible-test", command, *arguments, env=env)
        session.chdir(ROOT)


@nox.session
def sanity(session: nox.Session) -> None:
    """ansible-test sanity on a copy of the collection."""
    tools = ["pep8", "pylint", "yamllint", "validate-modules", "ansible-doc", "changelog", "runtime-metadata"]
    ansible_test(session, "sanity", [f"sanity.{tool}" for tool in tools])


@nox.session
def units(session: nox.Session) -> None:
    """ansible-test units (tests/unit) on a copy of the collection."""
    ansible_test(session, "units", ["units"])


def build_tarball(session: nox.Session) -> Path:
    """ansible-galaxy collection build into the session's tmp directory; the tarball's path."""
    output = Path(session.create_tmp()).resolve() / "build"
    shutil.rmtree(output, ignore_errors=True)
    build = ["ansible-galaxy", "collection", "build", "--output-path", str(output), str(ROOT)]
    session.run(*build, external=True)
    (tarball,) = output.glob("authproxy-sidecar-*.tar.gz")
    return tarball


# galaxy-importer without docker or podman: the checks ansible-test runs are make collection's
# sanity session; ansible-lint as the importer runs it (its own pinned version).
IMPORTER_CONFIG = """[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
LOCAL_IMAGE_DOCKER = False
CHECK_CHANGELOG = True
"""


@nox.session
def importer(session: nox.Session) -> None:
    """galaxy-importer on the built tarball, as Galaxy would import it; any error fails."""
    session.install("galaxy-importer==0.4.44")
    tarball = build_tarball(session)
    config = tarball.parent / "galaxy-importer.cfg"
    config.write_text(IMPORTER_CONFIG)
    log = tarball.parent / "importer.log"
    # It writes importer_result.json into the current directory.
    session.chdir(tarball.parent)
    output = session.run(
        "python",
        "-m",
        "galaxy_importer.main",
        str(tarball),
        env={"GALAXY_IMPORTER_CONFIG": str(config)},
        silent=True,
    )
    session.chdir(ROOT)
    log.write_text(str(output))
    print(output)
    errors = [line for line in str(output).splitlines() if "ERROR" in line or "Error" in line]
    if errors:
        session.error("galaxy-importer reported errors:\n" + "\n".join(errors))
