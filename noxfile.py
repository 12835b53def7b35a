"""The role on every ansible-core that meta/runtime.yml claims (make compat).

Each session makes a venv with one ansible-core (the lowest claimed and the highest that
installs on this Python), renders the objects for OpenShift and Kubernetes through
playbooks/render.yml, and validates every object strictly against the OpenShift 4.17 schemas
in tests/data (tests/manifest_schemas.py, the code tests/test_manifests.py uses).

The collections come from the `ansible` package in the venv nox runs from (.venv, `make
setup`); the collection itself from the repository's self-link in collections/.
"""

from __future__ import annotations

import json
import shutil
import sysconfig
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
