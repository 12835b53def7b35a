"""ansible-playbook on a molecule scenario's inventory, as its tests run it (converge.yml again
with other inputs, check mode, verify_only.yml)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

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
