"""A wrong-password flood is throttled (429) and does not starve the right user."""

from __future__ import annotations

import threading
import time
from collections import Counter

from conftest import get


def test_a_wrong_password_flood_gets_429_while_the_right_user_keeps_200() -> None:
    attacker, user = "198.51.100.40", "198.51.100.41"
    flood: Counter[int] = Counter()
    right: Counter[int] = Counter()
    deadline = time.monotonic() + 6

    def guess(number: int) -> None:
        while time.monotonic() < deadline:
            flood[get("alice", f"guess-{number}-{time.monotonic()}", attacker).status] += 1

    guessers = [threading.Thread(target=guess, args=[number]) for number in range(4)]
    for thread in guessers:
        thread.start()
    while time.monotonic() < deadline:
        right[get("alice", "alice-password", user).status] += 1
    for thread in guessers:
        thread.join()
    print(f"flood: {dict(flood)}, right user: {dict(right)}")
    assert flood[429] > flood[401] > 0
    assert set(flood) <= {401, 429}
    assert right[200] > 20
    assert set(right) == {200}
