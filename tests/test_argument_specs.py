"""meta/argument_specs.yml describes exactly the inputs of defaults/main.yml, as the asserts check them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROLE = Path(__file__).resolve().parent.parent / "roles" / "sidecar_app"
# A range in a description: "bcrypt cost of new password hashes, 10-31."
RANGE = re.compile(r"\b(\d+)-(\d+)\b")


def load(relative: str) -> Any:  # noqa: ANN401 - whatever the YAML file holds
    return yaml.safe_load((ROLE / relative).read_text())


def entry_points() -> dict[str, dict[str, Any]]:
    specs: dict[str, dict[str, Any]] = load("meta/argument_specs.yml")["argument_specs"]
    return specs


def options() -> dict[str, dict[str, Any]]:
    main: dict[str, dict[str, Any]] = entry_points()["main"]["options"]
    return main


def nested(spec: dict[str, dict[str, Any]], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every option with its dotted path, the keys of dicts and of list items included."""
    for name, option in spec.items():
        yield prefix + name, option
        yield from nested(option.get("options", {}), f"{prefix}{name}.")


def description(option: dict[str, Any]) -> str:
    text = option["description"]
    return text if isinstance(text, str) else " ".join(text)


def asserted_conditions() -> str:
    """The `that` of every named assert, one condition a line."""
    lines = []
    for path in sorted((ROLE / "tasks").glob("assert_*.yml")):
        for task in load(path.relative_to(ROLE).as_posix()):
            that = task["ansible.builtin.assert"]["that"]
            conditions = [that] if isinstance(that, str) else that
            lines += [" ".join(condition.split()) for condition in conditions]
    return "\n".join(lines)


def test_argument_spec_options_are_the_defaults() -> None:
    assert sorted(options()) == sorted(load("defaults/main.yml"))


def test_every_entry_point_takes_the_options_of_main_itself() -> None:
    specs = entry_points()
    # The same object, not an equal copy: one YAML anchor, so the entry points cannot drift apart.
    assert {name: spec["options"] is specs["main"]["options"] for name, spec in specs.items()} == {
        "main": True,
        "render": True,
        "verify_only": True,
    }


def test_every_option_has_a_type_and_a_description() -> None:
    incomplete = [
        name for name, option in nested(options()) if not option.get("type") or not option.get("description")
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


def test_literal_defaults_are_the_spec_defaults() -> None:
    defaults = load("defaults/main.yml")
    differing = {
        name: (defaults[name], option.get("default"))
        for name, option in options().items()
        if "{{" not in str(defaults[name]) and option.get("default") != defaults[name]
    }
    assert differing == {}


def test_every_range_the_spec_states_is_the_one_asserted() -> None:
    conditions = asserted_conditions()
    ranges = {}
    for name, option in options().items():
        stated = RANGE.search(description(option))
        if option["type"] == "int" and stated:
            ranges[name] = stated.groups()
    assert len(ranges) >= 5, ranges
    unasserted = {
        name: (low, high)
        for name, (low, high) in ranges.items()
        if f"{name} | int >= {low}" not in conditions or f"{name} | int <= {high}" not in conditions
    }
    assert unasserted == {}
