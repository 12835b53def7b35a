"""meta/argument_specs.yml describes exactly the inputs defaults/main.yml defines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROLE = Path(__file__).resolve().parent.parent / "roles" / "sidecar_app"


def load(relative: str) -> dict[str, Any]:
    content: dict[str, Any] = yaml.safe_load((ROLE / relative).read_text())
    return content


def options() -> dict[str, dict[str, Any]]:
    spec: dict[str, dict[str, Any]] = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    return spec


def test_argument_spec_options_are_the_defaults() -> None:
    assert sorted(options()) == sorted(load("defaults/main.yml"))


def test_every_option_has_a_type_and_a_description() -> None:
    incomplete = [
        name for name, option in options().items() if not option.get("type") or not option.get("description")
    ]
    assert incomplete == []


def test_every_public_input_is_prefixed_with_the_role_name() -> None:
    assert [name for name in load("defaults/main.yml") if not name.startswith("sidecar_app_")] == []


def test_literal_defaults_are_among_the_choices() -> None:
    defaults = load("defaults/main.yml")
    outside = [
        name
        for name, option in options().items()
        if "choices" in option and "{{" not in str(defaults[name]) and defaults[name] not in option["choices"]
    ]
    assert outside == []
