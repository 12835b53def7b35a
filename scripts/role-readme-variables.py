#!/usr/bin/env python3
"""Write the variables table of roles/sidecar_app/README.md from meta/argument_specs.yml.

    scripts/role-readme-variables.py           rewrite the table in the README
    scripts/role-readme-variables.py --check   exit 1, showing the difference, if it is not current

The table lies between the README's two marker comments (BEGIN and END below); the rest of the
README is left as it is. One row per option of the `main` entry point, in the spec's order: its
type, its default and its description, with the choices and the keys of a dict after it. A default
is code, or text where the spec's string describes a value that defaults/main.yml computes.
Run it after changing the argument spec; tests/test_docs.py fails while the table differs.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROLE = Path(__file__).resolve().parent.parent / "roles" / "sidecar_app"
SPEC = ROLE / "meta" / "argument_specs.yml"
DEFAULTS = ROLE / "defaults" / "main.yml"
README = ROLE / "README.md"
BEGIN = (
    "<!-- BEGIN variables table: made by scripts/role-readme-variables.py from meta/argument_specs.yml -->"
)
END = "<!-- END variables table -->"
HEADER = "| variable | type | default | description |\n|---|---|---|---|\n"
# Ansible's documentation markup and its Markdown. L(text,url) before the others: its text may hold them.
MARKUP = [
    (re.compile(r"L\(([^,)]+),\s*([^)]+)\)"), r"[\1](\2)"),
    (re.compile(r"U\(([^)]+)\)"), r"<\1>"),
    (re.compile(r"B\(([^)]+)\)"), r"**\1**"),
    (re.compile(r"[CIOV]\(([^)]+)\)"), r"`\1`"),
]


def markdown(text: str) -> str:
    """Ansible markup as Markdown, safe inside a table cell."""
    for pattern, replacement in MARKUP:
        text = pattern.sub(replacement, text)
    return text.replace("|", r"\|")


def code(value: object) -> str:
    """A value in backticks: `""` for an empty string, JSON for a list or dict."""
    literal = (value or '""') if isinstance(value, str) else json.dumps(value)
    return "`" + literal.replace("|", r"\|") + "`"


def default(option: dict[str, Any], actual: object) -> str:
    """The spec's default as code, or as text where it describes what defaults/main.yml computes."""
    value = option.get("default")
    if isinstance(value, str) and value != actual:
        return markdown(value).replace("<", r"\<").replace(">", r"\>")
    return "" if value is None else code(value)


def description(option: dict[str, Any]) -> str:
    lines = option.get("description", [])
    return markdown(" ".join([lines] if isinstance(lines, str) else lines))


def type_name(option: dict[str, Any]) -> str:
    kind = option.get("type", "str")
    return f"{kind} of {option['elements']}" if "elements" in option else kind


def key_summary(name: str, option: dict[str, Any]) -> str:
    """One key of a dict option: `name` (type, required: its own keys): description."""
    details = [type_name(option)] + (["required"] if option.get("required") else [])
    if "options" in option:
        details[-1] += ": " + ", ".join(f"`{key}`" for key in option["options"])
    return f"`{name}` ({', '.join(details)}): {description(option)}"


def row(name: str, option: dict[str, Any], actual: object) -> str:
    text = description(option)
    if "choices" in option:
        text += " One of " + ", ".join(code(choice) for choice in option["choices"]) + "."
    if "options" in option:
        keys = [key_summary(key, sub) for key, sub in option["options"].items()]
        text += (" Each item has " if option.get("type") == "list" else " Keys: ") + " ".join(keys)
    return f"| `{name}` | {type_name(option)} | {default(option, actual)} | {text} |\n"


def table(specs: dict[str, Any], defaults: dict[str, Any]) -> str:
    options = specs["argument_specs"]["main"]["options"]
    return HEADER + "".join(row(name, option, defaults.get(name)) for name, option in options.items())


def with_table(readme: str, specs: dict[str, Any], defaults: dict[str, Any]) -> str:
    """The README with the text between its markers replaced by the table."""
    before, found_begin, rest = readme.partition(BEGIN + "\n")
    _old, found_end, after = rest.partition(END)
    if not (found_begin and found_end):
        raise SystemExit(
            f"{README}: the markers are missing; put these two lines where the table goes:\n{BEGIN}\n{END}"
        )
    return before + BEGIN + "\n" + table(specs, defaults) + END + after


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only say whether the table is current")
    arguments = parser.parse_args()
    readme = README.read_text()
    wanted = with_table(readme, yaml.safe_load(SPEC.read_text()), yaml.safe_load(DEFAULTS.read_text()))
    if wanted == readme:
        return 0
    if arguments.check:
        sys.stdout.writelines(
            difflib.unified_diff(readme.splitlines(True), wanted.splitlines(True), "README.md", "wanted")
        )
        return 1
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
