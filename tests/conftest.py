"""What the role makes for the cluster targets, for every combination of inputs, in two runs.

Each set of inputs is a host of a generated inventory, so one ansible-playbook run covers them
all (a run per combination would pay Ansible's start-up each time):

- the apply run plays playbooks/deploy.yml over the OpenShift combinations against
  tests/fake_cluster, a test-only collection that stands in for the cluster modules and records
  every object they are given: OpenShift's own controllers (ProjectRequests, builds,
  DeploymentConfig rollouts, the router) cannot run here (see fake_cluster.py there);
- the render run plays playbooks/render.yml over the RENDERED combinations and every Kubernetes
  combination, each host with its own render directory. The Kubernetes apply path runs on the
  local cluster instead (molecule/kubernetes, tests/cluster/).

The two runs go in parallel, each host with its own state directory and fake cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from combinations import APPLIED_TO_FAKE, COMBINATIONS, OBJECT_SETS, RENDERED, RENDERED_ONLY
from repository import ROOT
from role_objects import ObjectSet, applied_objects, load_objects

FAKE_CLUSTER = ROOT / "tests/fake_cluster"
# SIDECAR_APP_PASSWORD of every run: the password of the role's default user.
PASSWORD = "correct horse battery staple"


def ansible_environment(home: Path) -> dict[str, str]:
    """The environment `make` gives Ansible, with HOME (and so every default path) under home."""
    home.mkdir(parents=True, exist_ok=True)
    collections = ROOT / "collections"
    if not (collections / "ansible_collections/authproxy/sidecar/galaxy.yml").exists():
        pytest.fail(f"{collections}/ansible_collections/authproxy/sidecar is missing; run `make setup`")
    return os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "false",
        "HOME": str(home),
        "SIDECAR_APP_PASSWORD": PASSWORD,
        # The role asks the registry (skopeo) whether it has an image before a push: sent to a
        # loopback address where nothing listens, it fails at once without a look-up of the
        # made-up registry hosts, and the push that follows is the fake cluster's.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def ansible_playbook(playbook: str, *arguments: str) -> list[str]:
    return [str(Path(sys.executable).parent / "ansible-playbook"), str(ROOT / playbook), *arguments]


def run_render(
    inputs: dict[str, Any],
    home: Path,
    cwd: Path | None = None,
    *arguments: str,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run playbooks/render.yml with inputs as extra vars and arguments (e.g. --check); cwd is
    where it runs (default ROOT), env what to add to or change in its environment."""
    return subprocess.run(
        ansible_playbook("playbooks/render.yml", "-e", json.dumps(inputs), *arguments),
        cwd=cwd or ROOT,
        env=ansible_environment(home) | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )


def load_calls(directory: Path) -> list[dict[str, Any]]:
    log = directory / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def write_inventory(path: Path, hosts: dict[str, dict[str, Any]]) -> Path:
    """An inventory whose sidecar_app_targets are hosts, each with its own variables, run locally."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    targets = {"hosts": {host: local | host_vars for host, host_vars in hosts.items()}}
    path.write_text(yaml.safe_dump({"all": {"children": {"sidecar_app_targets": targets}}}))
    return path


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


@pytest.fixture(scope="session")
def object_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ObjectSet]:
    """Every combination applied to the fake cluster and the RENDERED ones rendered, in two runs."""
    base = tmp_path_factory.mktemp("object-sets")
    rendered, applied = base / "rendered", base / "applied"
    # The state directory is the default one, under each run's HOME: hosts of the same name share
    # it, as targets run from one controller do. Safe while the combinations leave nginx.conf
    # alone: every host stages the same build context, and each task ends on every host before
    # the next (linear strategy) fingerprints it.
    render_hosts = {
        name: COMBINATIONS[name] | {"sidecar_app_render_dir": str(rendered / name)}
        for name in RENDERED + RENDERED_ONLY
    }
    apply_hosts = {
        name: COMBINATIONS[name] | {"fake_cluster_dir": str(applied / name), "sidecar_app_verify": False}
        for name in APPLIED_TO_FAKE
    }
    forks = {"ANSIBLE_FORKS": str(max(4, 2 * (os.cpu_count() or 1)))}
    fake_cluster_first = {"ANSIBLE_COLLECTIONS_PATH": f"{FAKE_CLUSTER}{os.pathsep}{ROOT / 'collections'}"}
    runs = {
        run: start(
            ansible_playbook(playbook, "-i", str(write_inventory(base / f"{run}.yml", hosts))),
            ansible_environment(base / f"{run}-home") | forks | env,
            base / f"{run}.log",
        )
        for run, playbook, hosts, env in [
            ("rendered", "playbooks/render.yml", render_hosts, {}),
            ("applied", "playbooks/deploy.yml", apply_hosts, fake_cluster_first),
        ]
    }
    try:
        for run, process in runs.items():
            assert process.wait(timeout=900) == 0, (
                f"the {run} run failed:\n{(base / f'{run}.log').read_text()[-20000:]}"
            )
    finally:
        for process in runs.values():
            if process.poll() is None:
                process.kill()
    sets = {
        f"rendered/{name}": ObjectSet(COMBINATIONS[name], load_objects(directory), directory)
        for name in RENDERED + RENDERED_ONLY
        for directory in [rendered / name]
    }
    for name in APPLIED_TO_FAKE:
        calls = load_calls(applied / name)
        sets[f"applied/{name}"] = ObjectSet(COMBINATIONS[name], applied_objects(calls), calls=calls)
    return sets


@pytest.fixture(params=OBJECT_SETS)
def object_set(request: pytest.FixtureRequest, object_sets: dict[str, ObjectSet]) -> ObjectSet:
    """One set of objects, rendered or applied; tests taking it run once per set."""
    return object_sets[request.param]


@pytest.fixture(params=RENDERED)
def render(request: pytest.FixtureRequest, object_sets: dict[str, ObjectSet]) -> ObjectSet:
    """One rendered set, with its directory; tests taking it run once per rendered combination."""
    return object_sets[f"rendered/{request.param}"]
