"""The rules the auth cache keeps (sidecar_app_auth_cache, on by default), on the real pod."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from pathlib import Path

import testinfra
from conftest import APP_NAME, basic, inspect, podman, request

TTL = 5  # sidecar_app_auth_cache_ttl's default; answers are kept TTL - 1 seconds
ANSWER_VALIDITY = TTL - 1


def status_with_header(authorization: str | None, client: str = "198.51.100.20") -> int:
    """The status of GET / with this Authorization header, as this client (X-Forwarded-For; each
    test its own, so that one test's wrong passwords are not throttled in another)."""
    return request(authorization=authorization, client=client).status


def verifier_stats(verifier: testinfra.host.Host) -> Counter[str]:
    """How many answers the verifier gave and how many bcrypt checks it ran, since it started."""
    probe = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:9091/stats').read().decode())"
    return Counter(json.loads(verifier.check_output(f'python3 -c "{probe}"')))


def nginx_pids() -> list[int]:
    """The proxy container's nginx processes, as the host sees them: the master and its workers."""
    master = int(inspect("proxy", "{{.State.Pid}}"))
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


def shared_zones(pid: int) -> bytes:
    """nginx's shared memory zones (the auth cache's among them), read from the host: anonymous
    shared mappings, which /proc shows as /dev/zero."""
    zones = []
    with Path(f"/proc/{pid}/mem").open("rb") as memory:
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            fields = line.split()
            if fields[-1:] == ["(deleted)"] and fields[-2] == "/dev/zero" and fields[1].startswith("rw-s"):
                start, end = (int(address, 16) for address in fields[0].split("-"))
                memory.seek(start)
                zones.append(memory.read(end - start))
    return b"".join(zones)


def test_cache_holds_no_credential(admin_password: str, proxy_container: testinfra.host.Host) -> None:
    """The answers live in nginx's shared memory only, keyed by a salted hash of the header: the
    cache's memory holds the user's name and no credential, and no file does."""
    right = basic("admin", admin_password)
    assert status_with_header(right) == 200
    assert status_with_header(basic("admin", "a-wrong-one")) == 401
    zones = shared_zones(nginx_pids()[0])
    assert b"+admin" in zones  # the answer kept for the right header
    files = proxy_container.check_output("find /tmp -type f")
    contents = "".join(proxy_container.file(path).content.decode("latin-1") for path in files.split())
    for secret in (admin_password, "a-wrong-one", right.split()[1]):
        assert secret.encode() not in zones
        assert secret not in contents


def test_wrong_credentials_are_never_accepted_even_when_the_right_ones_are_cached(
    admin_password: str,
) -> None:
    right = basic("admin", admin_password)
    assert status_with_header(right) == 200  # now cached
    token = right.split()[1]
    near_misses = [
        "Basic " + token.swapcase(),
        basic("Admin", admin_password),
        basic("admin", admin_password.swapcase()),
        basic("admin", admin_password + " "),
        basic("admin", admin_password[:-1]),
        "Bearer " + token,
        "Basic " + token + "x",
        "Basic",
    ]
    statuses = [
        status_with_header(header, client=f"198.51.100.{30 + n}") for n, header in enumerate(near_misses)
    ]
    assert statuses == [401] * len(near_misses)
    assert status_with_header(right) == 200


def test_under_load_nginx_asks_once_per_period_and_bcrypt_runs_at_most_once(
    passwords: dict[str, str], verifier_container: testinfra.host.Host
) -> None:
    """No stall at expiry: one background renewal per period, not one per in-flight request, and
    renewals of a credential that already matched need no bcrypt. The load starts from a cached
    answer (requests that find none all ask the verifier: the burst test below)."""
    header = basic("reader", passwords["reader"])
    assert status_with_header(header) == 200
    before = verifier_stats(verifier_container)
    results: Counter[int] = Counter()
    lock, deadline = threading.Lock(), time.monotonic() + 3 * TTL

    def load() -> None:
        while time.monotonic() < deadline:
            status = status_with_header(header)
            with lock:
                results[status] += 1

    threads = [threading.Thread(target=load) for _number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    used = verifier_stats(verifier_container) - before
    answers, checks = used["answers"], used["hashes_checked"]
    print(
        f"{sum(results.values())} requests in {3 * TTL} s: {answers} verifier answers, {checks} bcrypt checks"
    )
    assert set(results) == {200}
    assert 1 <= used["answers"] <= math.ceil(3 * TTL / ANSWER_VALIDITY) + 2
    assert used["hashes_checked"] <= 1


def listen_overflows(container: testinfra.host.Host) -> int:
    """Connections the pod's kernel dropped because a listening queue was full (TcpExt)."""
    netstat = container.file("/proc/net/netstat").content_string.splitlines()
    names, values = (line.split() for line in netstat if line.startswith("TcpExt:"))
    return int(dict(zip(names, values, strict=True))["ListenOverflows"])


def test_a_burst_of_requests_with_a_new_header_is_held_back_by_nothing(
    passwords: dict[str, str],
    verifier_container: testinfra.host.Host,
    proxy_container: testinfra.host.Host,
) -> None:
    """As a browser's parallel requests after an idle TTL: no request waits on nginx's cache lock
    (which it looks at again only every 500 ms), so several reach the verifier; its listening
    queue drops none of their connections; bcrypt runs once."""
    # The same credentials under a header nginx has no answer for (the scheme's case differs).
    header = "basic " + basic("reader", passwords["reader"]).split()[1]
    before, overflows_before = verifier_stats(verifier_container), listen_overflows(proxy_container)
    start = threading.Barrier(20)
    statuses: list[int] = []

    def send() -> None:
        start.wait()
        statuses.append(status_with_header(header, client="198.51.100.40"))

    threads = [threading.Thread(target=send) for _number in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    used = verifier_stats(verifier_container) - before
    print(f"20 requests at once: {used['answers']} verifier answers, {used['hashes_checked']} bcrypt checks")
    assert statuses == [200] * 20
    assert used["answers"] > 1
    assert used["hashes_checked"] == 1
    assert listen_overflows(proxy_container) == overflows_before


def test_requests_fail_closed_while_the_verifier_is_down(passwords: dict[str, str]) -> None:
    admin, reader = basic("admin", passwords["admin"]), basic("reader", passwords["reader"])
    assert status_with_header(admin) == 200
    podman("stop", "--time", "1", f"{APP_NAME}-verifier")
    try:
        assert status_with_header(basic("reader", "never-seen-before")) not in (200, -1)
        time.sleep(TTL + 1)  # every cached answer has expired
        statuses = {status_with_header(header) for header in (admin, reader) for _round in range(3)}
        assert 200 not in statuses
        assert statuses <= {500, 502, 503}
    finally:
        podman("start", f"{APP_NAME}-verifier")
    deadline = time.monotonic() + 30
    while status_with_header(admin) != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status_with_header(admin) == 200


def resident_kib(pids: list[int]) -> int:
    return sum(int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) for pid in pids)


def test_cache_memory_is_bounded(admin_password: str) -> None:
    """Thousands of distinct headers (unknown users: no bcrypt) fill at most the cache's fixed
    2 MiB (lua_shared_dict, least recently used dropped first), and the right header still works."""
    pids = nginx_pids()
    before = resident_kib(pids)
    statuses = Counter(
        status_with_header(basic(f"nobody-{n}", "x"), client="198.51.100.99") for n in range(1500)
    )
    assert set(statuses) <= {401, 429}
    grown = resident_kib(pids) - before
    print(f"nginx's resident memory after 1500 distinct headers: {grown:+} KiB")
    assert grown <= 4 * 1024
    assert status_with_header(basic("admin", admin_password)) == 200
