"""Where the repository is, and its Python code loaded from the files themselves."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_source(relative: str, name: str) -> ModuleType:
    """The Python file at ROOT/relative (a plugin, a module) loaded as the module name, the way
    the tests use the collection's code without an installed collection. Registered in
    sys.modules before it runs, so that its dataclasses can find it."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
