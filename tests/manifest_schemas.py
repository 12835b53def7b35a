"""Strict validation of Kubernetes and OpenShift objects against the schemas in tests/data.

Shared by tests/test_manifests.py and the ansible-core matrix (noxfile.py), which runs it as a
script on rendered directories: `python tests/manifest_schemas.py DIR...` prints every error
and exits 1 if any object fails. Needs only jsonschema and PyYAML.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
# The schemas the repository carries (tests/data/README.md says where they come from).
SCHEMAS = Path(os.environ.get("SIDECAR_APP_SCHEMAS", ROOT / "tests/data/openshift-4.17"))


def schema_path(obj: dict[str, Any]) -> Path:
    """<kind>-<group>-<version>.json, the group cut at its first dot; core kinds <kind>-<version>.json."""
    group, _slash, version = obj["apiVersion"].rpartition("/")
    parts = [obj["kind"].lower(), group.split(".")[0], version] if group else [obj["kind"].lower(), version]
    return SCHEMAS / ("-".join(parts) + ".json")


def format_checker() -> jsonschema.FormatChecker:
    """The OpenAPI formats the schemas use, checked as the API server would."""
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("int32")
    def is_int32(instance: object) -> bool:
        return not isinstance(instance, int) or -(2**31) <= instance < 2**31

    @checker.checks("int64")
    def is_int64(instance: object) -> bool:
        return not isinstance(instance, int) or -(2**63) <= instance < 2**63

    @checker.checks("byte", raises=binascii.Error)
    def is_base64(instance: object) -> bool:
        return not isinstance(instance, str) or base64.b64decode(instance, validate=True) is not None

    return checker


@functools.cache
def validator(path: Path) -> jsonschema.protocols.Validator:
    if not path.is_file():
        raise FileNotFoundError(
            f"no schema {path.name} in {SCHEMAS} (set SIDECAR_APP_SCHEMAS to the schemas directory)"
        )
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    return cls(schema, format_checker=format_checker())


def errors(obj: dict[str, Any]) -> list[str]:
    """Every way obj breaks the schema of its kind, as 'field.path: message', in field order."""
    found = sorted(validator(schema_path(obj)).iter_errors(obj), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def directory_errors(directory: Path) -> list[str]:
    """The errors of every object in the rendered files of directory (none if all validate)."""
    paths = sorted(directory.glob("*.yml"))
    if not paths:
        return [f"{directory}: no rendered files"]
    return [
        f"{path}: {error}"
        for path in paths
        for obj in yaml.safe_load_all(path.read_text())
        for error in errors(obj)
    ]


def main(directories: list[str]) -> int:
    problems = [problem for directory in directories for problem in directory_errors(Path(directory))]
    for problem in problems:
        print(problem)
    count = sum(len(list(Path(directory).glob("*.yml"))) for directory in directories)
    print(f"{count} files in {len(directories)} directories, {len(problems)} schema errors")
    return 1 if problems or not directories else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
