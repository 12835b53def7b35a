"""The directory changes under a running pod: a changed password, the directory down and back."""

from __future__ import annotations

import time

from conftest import LDAP_TIMEOUT, TTL, first_time, get
from ldap_directory import Directory


def test_a_password_changed_in_the_directory_is_refused_within_the_ttl(directory: Directory) -> None:
    assert get("carol", "carol-password", "198.51.100.20").status == 200  # now cached
    directory.set_password("carol", "carol-new-password")
    try:
        refused_after = first_time(
            lambda: get("carol", "carol-password", "198.51.100.20").status == 401, TTL + 5
        )
        print(f"old password refused {refused_after} s after the change")
        assert refused_after is not None
        assert refused_after <= TTL + 1
        assert get("carol", "carol-new-password", "198.51.100.21").status == 200
    finally:
        directory.set_password("carol", "carol-password")


def test_the_directory_down_fails_closed_within_timeout_and_ttl_and_comes_back_by_itself(
    directory: Directory,
) -> None:
    assert get("alice", "alice-password", "198.51.100.30").status == 200
    directory.stop()
    try:
        stopped = time.monotonic()
        refused_after = first_time(
            lambda: get("alice", "alice-password", "198.51.100.30").status == 401, LDAP_TIMEOUT + TTL + 10
        )
        print(f"refused {refused_after} s after slapd stopped")
        assert refused_after is not None
        assert refused_after <= LDAP_TIMEOUT + TTL + 1
        # Still refused, and answered (no hang) while the directory stays away.
        asked = time.monotonic()
        assert get("alice", "alice-password", "198.51.100.31").status == 401
        assert time.monotonic() - asked < LDAP_TIMEOUT + 2
        assert time.monotonic() - stopped < 60
    finally:
        directory.start()
    back_after = first_time(lambda: get("alice", "alice-password", "198.51.100.32").status == 200, TTL + 5)
    print(f"served again {back_after} s after slapd restarted")
    assert back_after is not None
