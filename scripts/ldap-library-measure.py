#!/usr/bin/env python3
"""ldap3 or python-ldap for the verifier's LDAP mode: the numbers behind the choice.

Run with Debian's python3 and its packages python3-ldap3 and python3-ldap (what the proxy image
would install), against the test directory of tests/ldap_directory.py on 127.0.0.1:

    /usr/bin/python3 scripts/ldap-library-measure.py [ROUNDS]

For each library, in a fresh interpreter: the import time, the resident memory the import and one
authentication add, and the latency of one whole authentication as the verifier does it (connect,
bind as the service, search the user, bind as the user), over ldap:// and over ldaps://.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ldap_directory import PEOPLE, SERVICE_DN, SERVICE_PASSWORD, Directory

PROBE = r"""
import json, ssl, sys, time
def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
library, uri, ca, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
service_dn, service_password, base = sys.argv[5:8]
before = rss_kib()
start = time.perf_counter()
if library == "ldap3":
    import ldap3
    from ldap3.utils.conv import escape_filter_chars
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca)
    def authenticate(user, password):
        server = ldap3.Server(uri, tls=tls, connect_timeout=2, get_info=ldap3.NONE)
        with ldap3.Connection(server, service_dn, service_password, receive_timeout=2,
                              raise_exceptions=True, auto_bind=ldap3.AUTO_BIND_NO_TLS) as conn:
            conn.search(base, f"(uid={escape_filter_chars(user)})", attributes=[])
            dn = conn.entries[0].entry_dn
        with ldap3.Connection(server, dn, password, receive_timeout=2) as conn:
            return conn.bind()
else:
    import ldap
    import ldap.filter
    def authenticate(user, password):
        conn = ldap.initialize(uri)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 2)
        conn.set_option(ldap.OPT_TIMEOUT, 2)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, ca)
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        try:
            conn.simple_bind_s(service_dn, service_password)
            found = conn.search_s(base, ldap.SCOPE_SUBTREE,
                                  f"(uid={ldap.filter.escape_filter_chars(user)})", ["1.1"])
            conn.simple_bind_s(found[0][0], password)
            return True
        finally:
            conn.unbind_s()
import_ms = (time.perf_counter() - start) * 1000
assert authenticate("alice", "alice-password")
after_one = rss_kib()
times = []
for _ in range(rounds):
    t = time.perf_counter()
    assert authenticate("alice", "alice-password")
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"import_ms": import_ms, "rss_kib_added": after_one - before,
                  "rss_kib_after_rounds": rss_kib() - before, "times": times}))
"""


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as work:
        directory = Directory(Path(work))
        directory.start()
        try:
            results = {}
            for library in ("ldap3", "python-ldap"):
                for uri in (directory.uri, directory.tls_uri):
                    output = subprocess.run(
                        [sys.executable, "-c", PROBE, library, uri, str(directory.ca_cert), str(rounds),
                         SERVICE_DN, SERVICE_PASSWORD, PEOPLE],
                        check=True, capture_output=True, text=True,
                    ).stdout  # fmt: skip
                    result = json.loads(output)
                    times = sorted(result.pop("times"))
                    result["median_ms"] = statistics.median(times)
                    result["p95_ms"] = times[int(len(times) * 0.95) - 1]
                    results[f"{library} {uri.split(':', maxsplit=1)[0]}"] = result
        finally:
            directory.stop()
    heading = ("library, scheme", "import ms", "RSS KiB", "RSS after", "median ms", "p95 ms")
    print(f"{heading[0]:22} " + " ".join(f"{column:>9}" for column in heading[1:]))
    for name, r in results.items():
        print(
            f"{name:22} {r['import_ms']:9.1f} {r['rss_kib_added']:8d} {r['rss_kib_after_rounds']:9d}"
            f" {r['median_ms']:9.2f} {r['p95_ms']:9.2f}"
        )


if __name__ == "__main__":
    main()
