"""The build_context_digest filter names an image after what it is built from: the same build context
and base image give the same tag, wherever the context is; any change, a renamed file too, another."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.authproxy.sidecar.plugins.filter import build_context_digest as plugin

digest = plugin.build_context_digest
BASE = "docker.io/library/debian:bookworm-slim"


def found(root: Path) -> list[dict[str, Any]]:
    """The files below root as ansible.builtin.find lists them with get_checksum (sha1, its default)."""
    return [
        {"path": str(path), "checksum": hashlib.sha1(path.read_bytes()).hexdigest()}
        for path in sorted(root.rglob("*"))
        if path.is_file()
    ]


@pytest.fixture
def context(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "Containerfile").write_text("ARG BASE_IMAGE\nFROM $BASE_IMAGE\nCOPY src /opt/app\n")
    (root / "src/app.py").write_text("print('Hello World')\n")
    (root / ".containerignore").write_text("*.pyc\n")
    return root


def tag(root: Path, base_image: str = BASE) -> str:
    return digest(found(root), str(root), base_image)


def test_the_digest_is_twelve_hex_digits_a_valid_image_tag(context: Path) -> None:
    assert re.fullmatch(r"[0-9a-f]{12}", tag(context))


def test_the_same_files_and_base_image_give_the_same_digest_in_any_order(context: Path) -> None:
    files = found(context)
    assert digest(files, str(context), BASE) == digest(list(reversed(files)), str(context), BASE)


def test_the_same_content_in_another_directory_gives_the_same_digest(context: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere/app"
    (copy / "src").mkdir(parents=True)
    for path in context.rglob("*"):
        if path.is_file():
            (copy / path.relative_to(context)).write_bytes(path.read_bytes())
    assert tag(copy) == tag(context)


def test_the_root_may_be_given_with_a_trailing_slash_or_from_home(
    context: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(context.parent))
    files = found(context)
    assert digest(files, f"{context}/", BASE) == digest(files, "~/app", BASE) == tag(context)


def test_a_changed_file_gives_another_digest(context: Path) -> None:
    before = tag(context)
    (context / "src/app.py").write_text("print('Hello again')\n")
    assert tag(context) != before


def test_an_added_file_gives_another_digest(context: Path) -> None:
    before = tag(context)
    (context / "src/helper.py").write_text("")
    assert tag(context) != before


def test_a_renamed_file_gives_another_digest(context: Path) -> None:
    before = tag(context)
    (context / "src/app.py").rename(context / "src/main.py")
    assert tag(context) != before


def test_two_files_that_swap_contents_give_another_digest(context: Path) -> None:
    (context / "src/other.py").write_text("print('Other')\n")
    before = tag(context)
    app, other = (context / "src/app.py").read_bytes(), (context / "src/other.py").read_bytes()
    (context / "src/app.py").write_bytes(other)
    (context / "src/other.py").write_bytes(app)
    assert tag(context) != before


def test_another_base_image_gives_another_digest(context: Path) -> None:
    assert tag(context) != tag(context, "docker.io/library/debian:trixie-slim")


def test_a_file_without_checksum_is_refused_with_its_path(context: Path) -> None:
    files = found(context)
    del files[0]["checksum"]
    with pytest.raises(AnsibleFilterError, match=re.escape(f"none for {files[0]['path']}")):
        digest(files, str(context), BASE)


def test_a_file_outside_the_build_context_is_refused_with_both_paths(context: Path) -> None:
    files = found(context)
    outside = files[0]["path"]
    assert not outside.startswith(f"{context}/src/")
    message = f"{outside} is not in the build context {context}/src"
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        digest(files, str(context / "src"), BASE)


@pytest.mark.parametrize(
    "files", ["Containerfile", None, {"files": []}, ["Containerfile"], [{"checksum": "0" * 40}]]
)
def test_anything_but_finds_list_of_files_is_refused(files: object) -> None:
    with pytest.raises(AnsibleFilterError, match=r"wants the files ansible\.builtin\.find returns"):
        digest(files, "files/app", BASE)  # type: ignore[arg-type]


def test_the_filter_is_registered_under_its_files_and_its_documentations_name() -> None:
    assert plugin.FilterModule().filters() == {"build_context_digest": digest}
    assert yaml.safe_load(plugin.DOCUMENTATION)["name"] == Path(plugin.__file__ or "").stem
