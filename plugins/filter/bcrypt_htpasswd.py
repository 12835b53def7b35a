"""Filter that turns users and passwords into htpasswd content with bcrypt ($2y$) hashes."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

try:
    from passlib.hash import bcrypt
except ImportError:  # pragma: no cover - reported when the filter is used
    bcrypt = None

DOCUMENTATION = r"""
name: bcrypt_htpasswd
short_description: Render htpasswd content with bcrypt hashes, keeping hashes that still match
version_added: 0.1.0
description:
  - Returns the text of an htpasswd file with one C(name:hash) line per user, in the order given.
  - A user's hash from O(existing) is kept while the user's password still verifies against it,
    so the output does not change between runs; otherwise a new C($2y$) bcrypt hash is made.
  - C($2y$) is accepted by nginx, oauth2-proxy and openshift/oauth-proxy alike.
options:
  _input:
    description: List of users, each a dict with C(name) and C(password).
    type: list
    elements: dict
    required: true
  existing:
    description: The current htpasswd content (empty when there is none).
    type: str
    default: ""
  rounds:
    description: bcrypt cost factor for new hashes.
    type: int
    default: 12
requirements:
  - passlib (or its maintained fork libpass) and bcrypt on the controller
"""

EXAMPLES = r"""
- name: Render htpasswd
  ansible.builtin.set_fact:
    content: "{{ users | authproxy.sidecar.bcrypt_htpasswd(existing=old_content, rounds=12) }}"
"""

RETURN = r"""
_value:
  description: The htpasswd content, one line per user, ending with a newline.
  type: str
"""


def parse_htpasswd(content: str) -> dict[str, str]:
    """Map each user name in htpasswd content to its hash."""
    hashes: dict[str, str] = {}
    for line in content.splitlines():
        name, sep, hashed = line.strip().partition(":")
        if sep and name:
            hashes[name] = hashed
    return hashes


def _plain(text: object) -> str:
    """text as a plain str. ansible-core < 2.19 passes templated strings as AnsibleUnsafeText,
    whose encode() returns AnsibleUnsafeBytes, which bcrypt >= 5 refuses with a bare TypeError."""
    return str.encode(str(text), "utf-8").decode("utf-8")


def _still_matches(password: str, hashed: str | None) -> bool:
    if not hashed or not bcrypt.identify(hashed):
        return False
    return bool(bcrypt.verify(password, hashed))


def bcrypt_htpasswd(users: list[dict[str, Any]], existing: str = "", rounds: int = 12) -> str:
    """Return htpasswd content for users, reusing each existing hash that still verifies."""
    if bcrypt is None:
        raise AnsibleFilterError("bcrypt_htpasswd needs passlib (or libpass) and bcrypt on the controller")
    current = parse_htpasswd(_plain(existing or ""))
    hasher = bcrypt.using(ident="2y", rounds=int(rounds))
    lines = []
    for user in users:
        name, password = _plain(user["name"]), _plain(user["password"])
        hashed = current.get(name)
        if not _still_matches(password, hashed):
            hashed = hasher.hash(password)
        lines.append(f"{name}:{hashed}")
    return "".join(f"{line}\n" for line in lines)


class FilterModule:
    """authproxy.sidecar.bcrypt_htpasswd"""

    def filters(self) -> dict[str, Any]:
        return {"bcrypt_htpasswd": bcrypt_htpasswd}
