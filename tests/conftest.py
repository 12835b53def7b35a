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

import os
import sys
from pathlib import Path

import pytest

# pyproject.toml puts tests/ on the import path; `ansible-test units` runs pytest with a
# configuration of its own and still loads this file, as the parent of tests/unit.
sys.path.insert(0, str(Path(__file__).parent))

from combinations import APPLIED_TO_FAKE, COMBINATIONS, OBJECT_SETS, RENDERED, RENDERED_ONLY
from fake_cluster_runs import FAKE_CLUSTER_FIRST, load_calls
from playbook_runs import inventory, start
from role_objects import ObjectSet, applied_objects, load_objects


@pytest.fixture(scope="session")
def object_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ObjectSet]:
    """Every combination applied to the fake cluster and the RENDERED ones rendered, in two runs."""
    base = tmp_path_factory.mktemp("object-sets")
    rendered, applied = base / "rendered", base / "applied"
    # The state directory is the default one, under each run's HOME: hosts of the same app name
    # share it, as targets run from one controller do, each staging the proxy's build context in
    # a directory of its own.
    render_hosts = {
        name: COMBINATIONS[name] | {"sidecar_app_render_dir": str(rendered / name)}
        for name in RENDERED + RENDERED_ONLY
    }
    apply_hosts = {
        name: COMBINATIONS[name] | {"fake_cluster_dir": str(applied / name), "sidecar_app_verify": False}
        for name in APPLIED_TO_FAKE
    }
    forks = {"ANSIBLE_FORKS": str(max(4, 2 * (os.cpu_count() or 1)))}
    runs = {
        run: start(
            playbook,
            "-i",
            str(inventory(base / f"{run}.yml", hosts)),
            log=base / f"{run}.log",
            home=base / f"{run}-home",
            env=forks | env,
        )
        for run, playbook, hosts, env in [
            ("rendered", "playbooks/render.yml", render_hosts, {}),
            ("applied", "playbooks/deploy.yml", apply_hosts, FAKE_CLUSTER_FIRST),
        ]
    }
    try:
        for run, running in runs.items():
            running.wait(timeout=900).must_succeed(f"the {run} run")
    finally:
        for running in runs.values():
            running.stop()
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
