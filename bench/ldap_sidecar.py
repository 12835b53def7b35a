"""The ldap mode in make bench: the sidecar whose verifier asks a real slapd.

tests/ldap_directory.py starts Debian's slapd on this machine (ldaps, a test CA, users, a group),
listening also on podman's bridge, where the pod reaches it. A second verifier, in ldap mode,
joins the pod with the deployed verifier's limits, and a throwaway nginx with the deployed
nginx.conf asks it instead of the deployed one. Measured as the htpasswd sidecar is: cached
req/s against the no-auth proxy, and legitimate req/s under the wrong-password flood; and the
cost of a cache miss, from users asked once each (nginx's cache and the verifier's memory both
miss: a service bind, a search, a bind as the user and a group lookup, over ldaps).
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import ldap_directory  # noqa: E402
from http_requests import basic  # noqa: E402

LABEL = "sidecar, ldap"
FLOOD = "sidecar, ldap, wrong-password flood"
VARIANT = "ldap"
PORT = 8098
VERIFIER_PORT = 9092
VERIFIER = "bench-ldap-verifier"
USER = "alice"
# Asked once each for the cost of a cache miss; members of the group, as alice is.
MISS_USERS = [f"bench-miss-{number}" for number in range(200)]
# Where the verifier finds the service password and the CA, as the role mounts them.
SECRET_DIR = "/etc/verifier/ldap"
CA_DIR = "/etc/verifier/ldap-ca"
# Times each request of the cache-miss run, inside the pod's network namespace.
MISS_PROBE = """
import json, sys, time, urllib.request
port, headers, times = int(sys.argv[1]), json.load(sys.stdin), []
for header in headers:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Authorization": header})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps(times))
"""


def password(user: str) -> str:
    return ldap_directory.USERS.get(user, f"{user}-password")


def header(user: str = USER) -> str:
    return basic(user, password(user))


def bridge_gateway() -> str:
    """This machine's address on podman's default network, which the pod is on."""
    return subprocess.run(
        ["podman", "network", "inspect", "podman", "--format", "{{range .Subnets}}{{.Gateway}}{{end}}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def miss_users_ldif() -> str:
    """MISS_USERS as entries and as members of the group."""
    entries = [
        f"dn: {ldap_directory.user_dn(user)}\nchangetype: add\nobjectClass: inetOrgPerson\n"
        f"uid: {user}\ncn: {user}\nsn: {user}\nuserPassword: {password(user)}\n"
        for user in MISS_USERS
    ]
    members = "".join(f"member: {ldap_directory.user_dn(user)}\n" for user in MISS_USERS)
    entries.append(f"dn: {ldap_directory.GROUP_DN}\nchangetype: modify\nadd: member\n{members}")
    return "\n".join(entries)


def verifier_environment(deployed: dict[str, str], uri: str) -> dict[str, str]:
    """The deployed verifier's environment, in ldap mode on VERIFIER_PORT."""
    return {
        **deployed,
        "VERIFIER_PORT": str(VERIFIER_PORT),
        "AUTH_SOURCE": "ldap",
        "LDAP_URIS": uri,
        "LDAP_BASE_DN": ldap_directory.PEOPLE,
        "LDAP_BIND_DN": ldap_directory.SERVICE_DN,
        "LDAP_BIND_PASSWORD_FILE": f"{SECRET_DIR}/bind-password",
        "LDAP_GROUP_DN": ldap_directory.GROUP_DN,
        "LDAP_CA_FILE": f"{CA_DIR}/ca.pem",
    }


def readable_copy(directory: Path, name: str, content: bytes) -> Path:
    """A directory with one file that the container's user (not this one) can read."""
    directory.mkdir()
    directory.chmod(0o755)
    (directory / name).write_bytes(content)
    (directory / name).chmod(0o644)
    return directory


def start(image: str, sandbox: list[str], deployed: dict[str, str], work: Path) -> ldap_directory.Directory:
    """slapd on this machine, then the ldap-mode verifier in the pod (container VERIFIER)."""
    gateway = bridge_gateway()
    directory = ldap_directory.Directory(
        work / "directory", tls_addresses=(gateway,), tls_names=(f"IP:{gateway}",)
    )
    directory.start()
    directory.modify(miss_users_ldif())
    secret = readable_copy(work / "ldap-secret", "bind-password", ldap_directory.SERVICE_PASSWORD.encode())
    ca = readable_copy(work / "ldap-ca", "ca.pem", directory.ca_cert.read_bytes())
    environment = verifier_environment(deployed, f"ldaps://{gateway}:{directory.tls_port}")
    subprocess.run(["podman", "rm", "--force", VERIFIER], check=False, capture_output=True)
    subprocess.run(
        ["podman", "run", "--detach", *sandbox, "--name", VERIFIER,
         "--volume", f"{secret}:{SECRET_DIR}:ro", "--volume", f"{ca}:{CA_DIR}:ro",
         *(f"--env={name}={value}" for name, value in environment.items()),
         image, "python3", "/usr/local/bin/verifier.py"],
        check=True, capture_output=True,
    )  # fmt: skip
    return directory


def stop(directory: ldap_directory.Directory | None) -> None:
    subprocess.run(["podman", "rm", "--force", VERIFIER], check=False, capture_output=True)
    if directory:
        directory.stop()


def miss_milliseconds(netns_pid: str) -> list[float]:
    """How long each of MISS_USERS's first requests took, each a miss of both caches."""
    out = subprocess.run(
        ["nsenter", "--target", netns_pid, "--net", sys.executable, "-c", MISS_PROBE, str(PORT)],
        input=json.dumps([header(user) for user in MISS_USERS]),
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    times: list[float] = json.loads(out)
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def miss_summary(times: list[float]) -> str:
    return (
        f"ldap cache miss ms: median={statistics.median(times):.2f} p95={percentile(times, 0.95):.2f} "
        f"({len(times)} users, each asked once)"
    )
