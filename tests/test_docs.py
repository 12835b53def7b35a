"""The role README's variables table is the one scripts/role-readme-variables.py makes from the spec."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROLE = ROOT / "roles" / "sidecar_app"


def generator() -> ModuleType:
    """scripts/role-readme-variables.py, a script rather than a module (its name has dashes)."""
    spec = importlib.util.spec_from_file_location(
        "role_readme_variables", ROOT / "scripts/role-readme-variables.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_table_is_the_one_the_script_makes_from_the_spec() -> None:
    script = generator()
    readme = (ROLE / "README.md").read_text()
    specs = yaml.safe_load((ROLE / "meta/argument_specs.yml").read_text())
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    # When this fails, run scripts/role-readme-variables.py and commit the README.
    assert readme == script.with_table(readme, specs, defaults)


def test_every_default_is_in_the_role_readme_table() -> None:
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    readme = (ROLE / "README.md").read_text()
    missing = [name for name in defaults if f"| `{name}` |" not in readme]
    assert missing == []


def test_a_row_shows_type_default_range_and_choices() -> None:
    option = {
        "type": "int",
        "default": 12,
        "choices": [10, 12],
        "description": ["Cost of I(x), C(10)-31."],
    }
    assert generator().row("x_cost", option, 12) == (
        "| `x_cost` | int | `12` | Cost of `x`, `10`-31. One of `10`, `12`. |\n"
    )


def test_a_row_shows_list_items_and_dict_keys() -> None:
    option = {
        "type": "list",
        "elements": "dict",
        "default": [{"name": "a|b"}],
        "description": "Users.",
        "options": {
            "name": {"type": "str", "required": True, "description": "Name."},
            "limits": {"type": "dict", "description": "Limits.", "options": {"cpu": {}, "memory": {}}},
        },
    }
    assert generator().row("x_users", option, [{"name": "a|b"}]) == (
        r'| `x_users` | list of dict | `[{"name": "a\|b"}]` | Users.'
        " Each item has `name` (str, required): Name. `limits` (dict: `cpu`, `memory`): Limits. |\n"
    )


def test_a_computed_default_is_shown_as_the_text_the_spec_gives() -> None:
    option = {"type": "path", "default": "~/.state/<name>", "description": "State."}
    row = generator().row("x_dir", option, "{{ lookup('env', 'HOME') }}/.state/{{ x_name }}")
    assert row == r"| `x_dir` | path | ~/.state/\<name\> | State. |" + "\n"
