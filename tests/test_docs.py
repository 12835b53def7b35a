"""The role README documents every public variable."""

from __future__ import annotations

from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parent.parent / "roles" / "sidecar_app"


def test_every_default_is_in_the_role_readme_table() -> None:
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    readme = (ROLE / "README.md").read_text()
    missing = [name for name in defaults if f"| `{name}` |" not in readme]
    assert missing == []
