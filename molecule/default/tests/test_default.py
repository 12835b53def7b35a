"""The podman target, end to end: real images, real nginx, real Flask, real podman."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import threading
import time
from pathlib import Path

import testinfra
from conftest import (
    APP_NAME,
    BASE_URL,
    HOST_VARS,
    PUBLISH_PORT,
    SCENARIO,
    basic,
    inspect,
    podman,
    request,
    run_playbook,
)

from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import whole_units

LISTEN = "0A"  # TCP state of a listening socket in /proc/net/tcp


def listening_sockets(container: testinfra.host.Host) -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket in the pod's network namespace."""
    sockets = set()
    for line in container.file("/proc/net/tcp").content_string.splitlines()[1:]:
        fields = line.split()
        local, state = fields[1], fields[3]
        if state != LISTEN:
            continue
        address_hex, port_hex = local.split(":")
        address = ".".join(str(b) for b in reversed(bytes.fromhex(address_hex)))
        sockets.add((address, int(port_hex, 16)))
    return sockets


def test_request_without_credentials_is_refused_with_basic_challenge() -> None:
    status, headers, _body = request(BASE_URL)
    assert status == 401
    assert headers.get("WWW-Authenticate", "").startswith("Basic ")


def test_request_with_wrong_password_is_refused(admin_password: str) -> None:
    status, _headers, body = request(BASE_URL, basic("admin", admin_password + "x"))
    assert status == 401
    assert "Hello World" not in body


def test_request_with_unknown_user_is_refused(admin_password: str) -> None:
    status, _headers, _body = request(BASE_URL, basic("nobody", admin_password))
    assert status == 401


def test_right_password_gives_hello_world(admin_password: str) -> None:
    status, _headers, body = request(BASE_URL, basic("admin", admin_password))
    assert status == 200
    assert body == "Hello World"


def test_every_user_can_log_in(passwords: dict[str, str]) -> None:
    for user, password in passwords.items():
        status, _headers, body = request(BASE_URL, basic(user, password))
        assert (user, status, body) == (user, 200, "Hello World")


def test_generated_passwords_are_private_files(ephemeral_dir: Path) -> None:
    files = sorted((ephemeral_dir / "passwords").glob("*.password"))
    assert [f.stem for f in files] == ["admin", "reader"]
    for password_file in files:
        assert password_file.stat().st_mode & 0o777 == 0o600
        assert re.fullmatch(r"[A-Za-z0-9]{32}", password_file.read_text().strip())


def test_htpasswd_holds_bcrypt_2y_hashes_and_no_password(
    ephemeral_dir: Path, passwords: dict[str, str]
) -> None:
    htpasswd = ephemeral_dir / "state" / "auth" / "htpasswd"
    assert htpasswd.stat().st_mode & 0o777 == 0o600
    lines = htpasswd.read_text().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["admin", "reader"]
    assert all(re.fullmatch(r"[a-z]+:\$2y\$12\$[./A-Za-z0-9]{53}", line) for line in lines)
    assert not any(password in htpasswd.read_text() for password in passwords.values())


def test_app_gets_the_user_name_but_never_the_password_nor_a_claimed_identity(admin_password: str) -> None:
    claimed = {
        "X-Forwarded-User": "someone-else",
        "X-Forwarded-Email": "boss@example.org",
        "X-Forwarded-Groups": "admins",
    }
    answer = request(BASE_URL + "headers", basic("admin", admin_password), headers=claimed)
    assert answer.status == 200
    seen = {name.lower(): value for name, value in json.loads(answer.body).items()}
    assert "authorization" not in seen
    assert admin_password not in json.dumps(seen)
    assert seen["x-forwarded-user"] == "admin"
    assert "x-forwarded-email" not in seen
    assert "x-forwarded-groups" not in seen
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"] == "127.0.0.1"


def test_a_login_free_path_answers_without_credentials_and_gives_the_app_no_identity(
    admin_password: str,
) -> None:
    claimed = {"X-Forwarded-User": "someone-else", "X-Forwarded-Groups": "admins"}
    for authorization in (None, basic("admin", admin_password), basic("admin", "wrong")):
        answer = request(BASE_URL + "public/headers", authorization, headers=claimed)
        assert answer.status == 200
        seen = {name.lower(): value for name, value in json.loads(answer.body).items()}
        assert not {"authorization", "x-forwarded-user", "x-forwarded-email", "x-forwarded-groups"} & set(
            seen
        )
    # Only that path: a neighbour and a step out of it ask for the login.
    for path in ("publicity", "public/../headers", "public/%2e%2e/headers"):
        assert request(BASE_URL + path).status == 401, path


def test_responses_do_not_reveal_the_nginx_version(admin_password: str) -> None:
    for user in (None, "admin"):
        _status, headers, body = request(BASE_URL, basic(user, admin_password) if user else None)
        assert headers.get("Server") == "nginx"
        assert not re.search(r"nginx/\d", body)
        assert headers.get("X-Content-Type-Options") == "nosniff"


def test_wrong_passwords_are_throttled_per_client_while_right_ones_work(admin_password: str) -> None:
    attacker, bystander = "198.51.100.7", "198.51.100.8"
    guess = basic("admin", "guess")
    statuses = [request(BASE_URL, guess, client=attacker).status for _attempt in range(12)]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert set(statuses) == {401, 429}
    assert request(BASE_URL, basic("admin", admin_password), client=attacker)[:3:2] == (200, "Hello World")
    assert request(BASE_URL, basic("admin", "typo"), client=bystander).status == 401
    assert request(BASE_URL, client=attacker).status == 401


def test_forged_x_forwarded_for_from_an_untrusted_address_does_not_dodge_the_throttle(
    app_container: testinfra.host.Host,
) -> None:
    """From inside the pod (127.0.0.1, not a trusted proxy) every guess names another client."""
    probe = (
        "import base64, sys, urllib.request, urllib.error\n"
        "token = base64.b64encode(b'admin:guess').decode()\n"
        "for n in range(12):\n"
        "    req = urllib.request.Request('http://127.0.0.1:8081/', headers={\n"
        "        'Authorization': 'Basic ' + token, 'X-Forwarded-For': f'203.0.113.{n}'})\n"
        "    try:\n"
        "        print(urllib.request.urlopen(req, timeout=10).status)\n"
        "    except urllib.error.HTTPError as error:\n"
        "        print(error.code)\n"
    )
    result = app_container.run(f"python3 -c {shlex.quote(probe)}")
    statuses = [int(status) for status in result.stdout.split()]
    assert len(statuses) == 12, result.stderr
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert set(statuses) == {401, 429}


def test_hsts_only_when_tls_was_terminated_in_front(admin_password: str) -> None:
    admin = basic("admin", admin_password)
    behind_tls = request(BASE_URL, admin, headers={"X-Forwarded-Proto": "https"})
    assert behind_tls.headers["Strict-Transport-Security"] == "max-age=31536000"
    _status, headers, _body = request(BASE_URL, admin)
    assert "Strict-Transport-Security" not in headers
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_app_port_cannot_be_reached_from_outside_the_pod(app_container: testinfra.host.Host) -> None:
    """Connect to the pod's own network address (not loopback), from inside its namespace."""
    address = inspect("app", "{{.NetworkSettings.IPAddress}}")
    assert address
    probe = (
        "import socket,sys; s=socket.socket(); s.settimeout(3); "
        "print(s.connect_ex((sys.argv[1], int(sys.argv[2]))))"
    )
    app_port = app_container.run(f"python3 -c '{probe}' {address} 8080").stdout.strip()
    nginx_port = app_container.run(f"python3 -c '{probe}' {address} 8081").stdout.strip()
    assert nginx_port == "0"  # the same address does answer on nginx's port
    assert app_port != "0"


def test_health_endpoint_needs_no_credentials_and_says_only_ok() -> None:
    status, _headers, body = request(BASE_URL + "healthz")
    assert (status, body) == (200, "ok")


def test_processes_run_as_the_arbitrary_non_root_uid_with_group_0(
    proxy_container: testinfra.host.Host,
    app_container: testinfra.host.Host,
    verifier_container: testinfra.host.Host,
) -> None:
    for container in (proxy_container, app_container, verifier_container):
        statuses = container.run("cat /proc/[0-9]*/status").stdout
        uids = {int(line.split()[1]) for line in statuses.splitlines() if line.startswith("Uid:")}
        gids = {int(line.split()[1]) for line in statuses.splitlines() if line.startswith("Gid:")}
        assert uids == {1000680000}
        assert gids == {0}


def test_each_container_is_limited_to_the_quantities_the_role_was_given() -> None:
    for component in ("app", "proxy", "verifier"):
        limits = HOST_VARS[f"sidecar_app_{component}_resources"]["limits"]
        memory, nano_cpus = inspect(component, "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}").split()
        assert (component, int(memory)) == (component, whole_units(limits["memory"], "1"))
        assert (component, int(nano_cpus)) == (component, whole_units(limits["cpu"], "1n"))


def test_root_filesystem_is_read_only(proxy_container: testinfra.host.Host) -> None:
    result = proxy_container.run("touch /etc/nginx/probe")
    assert result.rc != 0
    assert "Read-only file system" in result.stderr


def test_app_listens_on_loopback_only_and_nginx_on_8081(proxy_container: testinfra.host.Host) -> None:
    sockets = listening_sockets(proxy_container)
    assert ("127.0.0.1", 8080) in sockets
    assert {s for s in sockets if s[0] != "127.0.0.1"} == {("0.0.0.0", 8081)}


def test_only_nginx_port_is_published_on_loopback() -> None:
    inspected = json.loads(podman("pod", "inspect", APP_NAME))
    pod = inspected[0] if isinstance(inspected, list) else inspected
    bindings = pod["InfraConfig"]["PortBindings"]
    assert bindings == {"8081/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(PUBLISH_PORT)}]}


def test_images_carry_no_credentials(passwords: dict[str, str]) -> None:
    for component in ("app", "proxy"):
        image = inspect(component, "{{.ImageName}}")
        for text in (podman("history", "--no-trunc", image), podman("image", "inspect", image)):
            assert "$2y$" not in text
            assert not any(password in text for password in passwords.values())


# What an image scanner reads: the packages in /var/lib/dpkg/status and the files each one owns
# (its .list), on a merged /usr where /bin/sh and /usr/bin/sh are one file.
PACKAGE_DATABASE_PROBE = """
import json, os
from pathlib import Path

def canonical(path):
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))

packages, owned, missing, info = [], set(), [], Path("/var/lib/dpkg/info")
for stanza in Path("/var/lib/dpkg/status").read_text().split("\\n\\n"):
    fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
    if fields.get("Status") != "install ok installed":
        continue
    packages.append(fields["Package"])
    listed = info / (fields["Package"] + ":" + fields["Architecture"] + ".list")
    if not listed.exists():
        listed = info / (fields["Package"] + ".list")
    for path in listed.read_text().splitlines():
        owned.add(canonical(path))
        if canonical(path).startswith(("/usr/bin/", "/usr/sbin/", "/usr/lib/")) and not os.path.lexists(path):
            missing.append(path)
unowned = [
    os.path.join(root, name)
    for top in ("/usr/bin", "/usr/sbin", "/usr/lib")
    for root, dirs, files in os.walk(top)
    for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]
    if "__pycache__" not in root and os.path.join(root, name) not in owned
]
print(json.dumps({"packages": packages, "missing": missing, "unowned": unowned}))
"""


def test_package_database_lists_exactly_what_the_images_run_and_no_package_manager(
    proxy_container: testinfra.host.Host, app_container: testinfra.host.Host
) -> None:
    """Every program and library belongs to a package the database lists, every listed package
    has its programs and libraries, and the packaging tools were purged, not left half-removed."""
    for container in (proxy_container, app_container):
        found = json.loads(container.check_output(f"python3 -c {shlex.quote(PACKAGE_DATABASE_PROBE)}"))
        assert found["missing"] == []
        assert found["unowned"] == []
        assert {"apt", "dpkg", "debconf", "perl-base", "bash"}.isdisjoint(found["packages"])


def test_check_mode_run_reports_no_change() -> None:
    """A --check --diff run of converge against the running deployment changes nothing."""
    result = run_playbook(SCENARIO / "check_mode.yml")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]


def test_bounded_load_with_right_credentials_has_no_errors(admin_password: str) -> None:
    """10 s at 50 connections on 127.0.0.1 through the sidecar: every answer is 200."""
    wrk = ["wrk", "-t2", "-c50", "-d10s", "--timeout", "10s"]
    authorization = f"Authorization: {basic('admin', admin_password)}"
    out = subprocess.run(
        [*wrk, "-H", authorization, BASE_URL], check=True, capture_output=True, text=True
    ).stdout
    print(out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    assert requests > 1000
    assert "Non-2xx or 3xx responses" not in out
    assert "Socket errors" not in out


def test_verification_passes_while_the_deployers_address_is_throttled() -> None:
    """Others' wrong passwords from the deployer's address (a shared NAT, or a router when
    sidecar_app_trusted_proxies is not set) throttle it to 429; the role's check that a wrong
    password is refused takes that as refused."""
    guess = basic("admin", "guess")
    statuses = [request(BASE_URL, guess).status for _attempt in range(12)]
    assert statuses[-1] == 429
    verified = threading.Event()

    def keep_guessing() -> None:  # spends each attempt the address earns back (one per 6 s)
        while not verified.wait(0.1):
            request(BASE_URL, guess)

    guesser = threading.Thread(target=keep_guessing)
    guesser.start()
    try:
        result = run_playbook(SCENARIO / "verify_only.yml")
    finally:
        verified.set()
        guesser.join()
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    deadline = time.monotonic() + 60
    while request(BASE_URL, guess).status == 429 and time.monotonic() < deadline:
        time.sleep(2)
