"""Filter build_context_digest: the tag of an image, a digest of what it is built from."""

from __future__ import annotations

DOCUMENTATION = r"""
name: build_context_digest
short_description: A digest of an image's build context and base image, to tag the image with
version_added: 0.2.0
description:
- Returns the first 12 hex digits of a sha256 digest over the base image and, for each file of a build
  context as ansible.builtin.find lists it (with I(get_checksum=true)), its path within the context and its
  checksum.
- The same files in the same places and the same base image give the same digest, whatever order they are
  listed in and wherever the context is; a changed, added, removed or renamed file or another base image
  gives another. Tagged with it, an image is built, pushed and rolled out only when what it is built from
  has changed.
options:
  _input:
    description: The build context's files, as ansible.builtin.find returns them; each needs a C(checksum).
    type: list
    elements: dict
    required: true
  root:
    description: The build context, the directory given to ansible.builtin.find; every file must be below it.
    type: path
    required: true
  base_image:
    description: The image the build starts from (the C(BASE_IMAGE) build argument).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: List the files of the build context
  ansible.builtin.find:
    paths: files/app
    recurse: true
    hidden: true
    get_checksum: true
  register: context

- name: Name the image after its content
  ansible.builtin.set_fact:
    image: "localhost/hello-app:{{ tag }}"
  vars:
    tag: "{{ context.files | authproxy.sidecar.build_context_digest('files/app', base_image) }}"
    base_image: docker.io/library/debian:bookworm-slim
"""

RETURN = r"""
_value:
  description: 12 lowercase hex digits, usable as an image tag.
  type: str
"""

import hashlib
import json
import os
from typing import Any

from ansible.errors import AnsibleFilterError

LENGTH = 12


def _place(path: str, root: str) -> str:
    """path relative to root, both as ansible.builtin.find has them (~ and $VARS expanded)."""
    relative = os.path.relpath(path, root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        raise AnsibleFilterError(f"build_context_digest: {path} is not in the build context {root}")
    return relative


def build_context_digest(files: list[dict[str, Any]], root: str, base_image: str) -> str:
    """The digest of the files' places and checksums and the base image (DOCUMENTATION above)."""
    if not isinstance(files, list) or not all(isinstance(entry, dict) and "path" in entry for entry in files):
        raise AnsibleFilterError(
            f"build_context_digest wants the files ansible.builtin.find returns, got {files!r}"
        )
    unsummed = [str(entry["path"]) for entry in files if not entry.get("checksum")]
    if unsummed:
        raise AnsibleFilterError(
            "build_context_digest needs the checksum of every file (ansible.builtin.find with get_checksum: "
            f"true); none for {', '.join(unsummed)}"
        )
    top = os.path.normpath(os.path.expandvars(os.path.expanduser(str(root))))
    contents = sorted([_place(str(entry["path"]), top), str(entry["checksum"])] for entry in files)
    text = json.dumps([str(base_image), contents])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:LENGTH]


class FilterModule:
    """authproxy.sidecar.build_context_digest"""

    def filters(self) -> dict[str, Any]:
        return {"build_context_digest": build_context_digest}
