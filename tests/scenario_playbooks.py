"""A molecule scenario as its tests see it: its one host's inputs and the URL of its deployment,
and ansible-playbook on its inventory (converge.yml again with other inputs, check mode,
verify_only.yml)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml


def host_vars(shared: Path) -> dict[str, Any]:
    """The inputs of the running scenario's one host (its molecule.yml), or else of the scenario
    in shared, whose playbooks and tests a podman and a cluster scenario share."""
    running = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", shared))
    molecule = yaml.safe_load((running / "molecule.yml").read_text())
    return next(iter(molecule["provisioner"]["inventory"]["host_vars"].values()))


def on_podman(inputs: dict[str, Any]) -> bool:
    return inputs["sidecar_app_platform"] == "podman"


def base_url(inputs: dict[str, Any]) -> str:
    """Where the deployment answers, ending with /: its published port on podman, the cluster's
    SIDECAR_APP_PUBLIC_URL (make test's NodePort) otherwise."""
    if on_podman(inputs):
        return f"http://127.0.0.1:{int(inputs['sidecar_app_publish_port'])}/"
    return os.environ["SIDECAR_APP_PUBLIC_URL"].rstrip("/") + "/"


def molecule_value(text: str) -> str:
    """An input as molecule reads it: each ${VARIABLE:-default} from the environment."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda found: os.environ.get(found[1], found[2]), text)


# molecule sets ANSIBLE_FORCE_COLOR, which would win over ANSIBLE_NOCOLOR.
PLAYBOOK_ENV = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "false"}


def playbook_command(playbook: Path, *args: str, **extra_vars: object) -> list[str]:
    """ansible-playbook of playbook on the scenario's inventory, with these extra vars."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    extra = ["-e", json.dumps(extra_vars)] if extra_vars else []
    return ["ansible-playbook", "--inventory", inventory, *extra, *args, str(playbook)]


def run_playbook(playbook: Path, *args: str, **extra_vars: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        playbook_command(playbook, *args, **extra_vars),
        capture_output=True,
        text=True,
        env=PLAYBOOK_ENV,
        check=False,
    )
