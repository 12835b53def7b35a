"""The bcrypt_htpasswd filter, with the real passlib/bcrypt libraries (ansible-test units or pytest)."""

from __future__ import annotations

import re

import bcrypt
import yaml

from ansible_collections.authproxy.sidecar.plugins.filter import bcrypt_htpasswd as FILTER

USERS = [{"name": "admin", "password": "correct horse"}, {"name": "reader", "password": "battery staple"}]


def test_hashes_are_bcrypt_2y_with_the_requested_cost() -> None:
    content = FILTER.bcrypt_htpasswd(USERS, rounds=5)
    lines = content.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["admin", "reader"]
    assert all(re.fullmatch(r"[a-z]+:\$2y\$05\$[./A-Za-z0-9]{53}", line) for line in lines)
    assert content.endswith("\n")


def test_hashes_verify_with_the_bcrypt_library() -> None:
    content = FILTER.bcrypt_htpasswd(USERS, rounds=4)
    for user, line in zip(USERS, content.splitlines(), strict=True):
        hashed = line.split(":", 1)[1].replace("$2y$", "$2b$", 1).encode()
        assert bcrypt.checkpw(user["password"].encode(), hashed)
        assert not bcrypt.checkpw(b"wrong", hashed)


def test_existing_hash_is_kept_while_the_password_matches() -> None:
    first = FILTER.bcrypt_htpasswd(USERS, rounds=4)
    assert FILTER.bcrypt_htpasswd(USERS, existing=first, rounds=4) == first


def test_changed_password_gets_a_new_hash_and_others_are_kept() -> None:
    first = FILTER.bcrypt_htpasswd(USERS, rounds=4)
    changed = [USERS[0], {"name": "reader", "password": "new secret"}]
    second = FILTER.bcrypt_htpasswd(changed, existing=first, rounds=4)
    assert second.splitlines()[0] == first.splitlines()[0]
    assert second.splitlines()[1] != first.splitlines()[1]


def test_removed_user_disappears() -> None:
    first = FILTER.bcrypt_htpasswd(USERS, rounds=4)
    assert FILTER.bcrypt_htpasswd(USERS[:1], existing=first, rounds=4) == first.splitlines()[0] + "\n"


def test_non_bcrypt_existing_hash_is_replaced() -> None:
    existing = "admin:$apr1$abcdefgh$0123456789abcdefghijkl\n"
    content = FILTER.bcrypt_htpasswd(USERS[:1], existing=existing, rounds=4)
    assert content.startswith("admin:$2y$04$")


def test_the_file_registers_the_filter_its_documentation_and_name_give() -> None:
    assert FILTER.FilterModule().filters() == {"bcrypt_htpasswd": FILTER.bcrypt_htpasswd}
    assert yaml.safe_load(FILTER.DOCUMENTATION)["name"] == "bcrypt_htpasswd"


class UnsafeText(str):
    """Like ansible-core 2.17's AnsibleUnsafeText, the type templated strings have there: str()
    leaves it as it is, and slicing and the splitting methods give unsafe text again. passlib
    compares a hash's checksum with the one it computes by exact type."""

    # As AnsibleUnsafeText does: the instance itself, a str subclass (pylint wants an exact str).
    def __str__(self) -> str:  # pylint: disable=invalid-str-returned
        return self

    def __getitem__(self, key: object) -> str:  # type: ignore[override]
        return UnsafeText(super().__getitem__(key))  # type: ignore[index]

    def strip(self, chars: str | None = None) -> str:
        return UnsafeText(super().strip(chars))

    def partition(self, sep: str) -> tuple[str, str, str]:
        head, found, tail = super().partition(sep)
        return UnsafeText(head), UnsafeText(found), UnsafeText(tail)

    def splitlines(self, keepends: bool = False) -> list[str]:
        return [UnsafeText(line) for line in super().splitlines(keepends)]

    def split(self, sep: str | None = None, maxsplit: int = -1) -> list[str]:
        return [UnsafeText(part) for part in super().split(sep, maxsplit)]

    def rsplit(self, sep: str | None = None, maxsplit: int = -1) -> list[str]:
        return [UnsafeText(part) for part in super().rsplit(sep, maxsplit)]

    def replace(self, old: str, new: str, count: int = -1) -> str:
        return UnsafeText(super().replace(old, new, count))


def test_hashes_are_kept_and_made_from_unsafe_text_as_ansible_core_2_17_passes_it() -> None:
    first = FILTER.bcrypt_htpasswd(USERS, rounds=4)
    unsafe_users = [{"name": UnsafeText(u["name"]), "password": UnsafeText(u["password"])} for u in USERS]
    assert FILTER.bcrypt_htpasswd(unsafe_users, existing=UnsafeText(first), rounds=4) == first
    changed = [unsafe_users[0] | {"password": UnsafeText("a new one")}]
    line = FILTER.bcrypt_htpasswd(changed, existing=UnsafeText(first), rounds=4).rstrip("\n")
    assert bcrypt.checkpw(b"a new one", line.split(":", 1)[1].replace("$2y$", "$2b$", 1).encode())
