"""The verifier's ldap mode (AUTH_SOURCE=ldap) against a real slapd on 127.0.0.1 (ldap_directory.py)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from certificates import make_certificate_authority
from ldap_directory import (
    GROUP_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    SUFFIX,
    USERS,
    Directory,
    user_dn,
)
from processes import free_port
from repository import ROOT, load_source

SOURCE = "roles/sidecar_app/files/proxy/verifier.py"
# Bounded waits: the timeout the tests give the verifier, and what they allow on top of it.
TIMEOUT = 1.0
MARGIN = 1.0


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def shared_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    """One directory for the tests that only read it."""
    directory = Directory(tmp_path_factory.mktemp("slapd"))
    directory.start()
    yield directory
    directory.stop()


@pytest.fixture
def own_directory(tmp_path: Path) -> Iterator[Directory]:
    """A directory of the test's own, which it may change, stop and start."""
    directory = Directory(tmp_path / "slapd")
    directory.path.mkdir()
    directory.start()
    yield directory
    directory.stop()


@pytest.fixture
def verifier(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh verifier in ldap mode, without a directory yet (see use())."""
    monkeypatch.setenv("AUTH_SOURCE", "ldap")
    module = load_source(SOURCE, "verifier_ldap")
    monkeypatch.setattr(module, "CACHE_SECONDS", 4)
    return module


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "service-password"
    path.write_text(SERVICE_PASSWORD + "\n")
    path.chmod(0o600)
    return path


def use(verifier: ModuleType, directory: Directory, password_file: Path, **settings: Any) -> ModuleType:  # noqa: ANN401
    """Point the verifier at the directory: ldaps with the test CA and the service account, unless
    settings say otherwise."""
    values: dict[str, Any] = {
        "uris": (directory.tls_uri,),
        "base_dn": SUFFIX,
        "bind_dn": SERVICE_DN,
        "bind_password_file": str(password_file),
        "ca_file": str(directory.ca_cert),
        "timeout": TIMEOUT,
    } | settings
    ldap_settings = verifier.LdapSettings(**values)
    ldap_settings.check()
    verifier.DIRECTORY = verifier.LdapDirectory(ldap_settings)
    return verifier


def checks(verifier: ModuleType) -> int:
    return int(verifier.STATS.snapshot().get("directory_checks", 0))


# The right password, and everything that is not.


def test_the_right_password_is_let_in_over_http_with_the_name_for_the_app(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    use(verifier, shared_directory, password_file)
    server = ThreadingHTTPServer(("127.0.0.1", 0), verifier.Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        answer = urllib.request.urlopen(
            urllib.request.Request(url, headers={"Authorization": basic("zoë-ümlaut", "nonascii-pässword")})
        )
        assert answer.status == 200
        # The UTF-8 bytes of the name, as they are; http.client reads headers as Latin-1.
        assert answer.headers["X-Auth-User"].encode("latin-1").decode() == "zoë-ümlaut"
        assert answer.headers["Cache-Control"] == "max-age=4, stale-while-revalidate=1"
        for authorization in (basic("alice", "wrong"), basic("alice", "")):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": authorization}))
            assert refused.value.code == 401
            assert refused.value.headers["WWW-Authenticate"] == 'Basic realm="Restricted"'
    finally:
        server.shutdown()
        server.server_close()


def test_right_wrong_unknown_and_empty_passwords(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    use(verifier, shared_directory, password_file)
    assert verifier.authenticated_user(basic("alice", "alice-password")) == "alice"
    assert verifier.authenticated_user(basic("alice", "bob-password")) is None
    assert verifier.authenticated_user(basic("nobody", "alice-password")) is None
    assert checks(verifier) == 3


def test_an_empty_password_never_reaches_the_directory(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    # A simple bind with a DN and no password is an unauthenticated bind (RFC 4513 5.1.2), which
    # a directory may answer with success: the verifier never makes one.
    use(verifier, shared_directory, password_file)
    assert verifier.authenticated_user(basic("alice", "")) is None
    assert verifier.authenticated_user(basic(user_dn("alice"), "")) is None
    assert verifier.authenticated_user("Basic " + base64.b64encode(b"alice").decode()) is None
    assert checks(verifier) == 0


def test_the_directory_s_spelling_of_the_name_goes_to_the_app(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    use(verifier, shared_directory, password_file)
    assert verifier.authenticated_user(basic("ALICE", "alice-password")) == "alice"


@pytest.mark.parametrize(
    ("user", "password", "expected"),
    [
        ("star*", "star-password", "star*"),
        # Unescaped, sta* would find star* and its password would bind.
        ("sta*", "star-password", None),
        ("*", "alice-password", None),
        ("paren(x)", "paren-password", "paren(x)"),
        ("alice)(uid=*", "alice-password", None),
        ("*)(|(uid=*", "alice-password", None),
        ("back\\slash", "backslash-password", "back\\slash"),
        ("back\\5cslash", "backslash-password", None),
        ("alice\0", "alice-password", None),
        ("alice\0)(uid=bob", "alice-password", None),
        ("zoë-ümlaut", "nonascii-pässword", "zoë-ümlaut"),
        ("x" * 200, "long-password", "x" * 200),
    ],
)
def test_names_are_taken_literally_by_the_filter(
    verifier: ModuleType,
    shared_directory: Directory,
    password_file: Path,
    user: str,
    password: str,
    expected: str | None,
) -> None:
    use(verifier, shared_directory, password_file)
    assert verifier.authenticated_user(basic(user, password)) == expected


@pytest.mark.parametrize("length", [257, 10_000, 100_000])
def test_a_very_long_name_is_refused_without_asking_the_directory(
    verifier: ModuleType, shared_directory: Directory, password_file: Path, length: int
) -> None:
    use(verifier, shared_directory, password_file)
    assert verifier.authenticated_user(basic("x" * length, "long-password")) is None
    assert checks(verifier) == 0


# Who may come in: a group, a filter, a DN template instead of a service account.


# memberOf with a matching rule, as Active Directory's nested groups are asked for
# (memberOf:1.2.840.113556.1.4.1941:); slapd knows distinguishedNameMatch (2.5.13.1).
@pytest.mark.parametrize("attribute", ["member", "memberOf", "memberOf:2.5.13.1:"])
def test_a_required_group_lets_its_members_in_and_no_one_else(
    verifier: ModuleType, shared_directory: Directory, password_file: Path, attribute: str
) -> None:
    use(verifier, shared_directory, password_file, group_dn=GROUP_DN, group_attribute=attribute)
    assert verifier.authenticated_user(basic("alice", "alice-password")) == "alice"
    assert verifier.authenticated_user(basic("bob", "bob-password")) is None  # not a member
    assert verifier.authenticated_user(basic("paren(x)", "paren-password")) == "paren(x)"


def test_a_group_that_does_not_exist_lets_no_one_in(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    use(verifier, shared_directory, password_file, group_dn=f"cn=nonexistent,ou=groups,{SUFFIX}")
    assert verifier.authenticated_user(basic("alice", "alice-password")) is None


def test_a_user_filter_can_restrict_who_comes_in(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    use(
        verifier,
        shared_directory,
        password_file,
        user_filter="(&(objectClass=inetOrgPerson)(uid={user})(!(uid=carol)))",
    )
    assert verifier.authenticated_user(basic("alice", "alice-password")) == "alice"
    assert verifier.authenticated_user(basic("carol", "carol-password")) is None


def test_a_dn_template_binds_as_the_user_without_a_service_account(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    use(
        verifier, shared_directory, password_file,
        bind_dn="", bind_password_file="", user_dn_template=f"uid={{user}},ou=people,{SUFFIX}",
    )  # fmt: skip
    assert verifier.authenticated_user(basic("alice", "alice-password")) == "alice"
    assert verifier.authenticated_user(basic("alice", "wrong")) is None
    assert verifier.authenticated_user(basic("paren(x)", "paren-password")) == "paren(x)"
    assert verifier.authenticated_user(basic("alice,ou=people", "alice-password")) is None


# TLS: ldaps and StartTLS with the test CA; plain LDAP only to 127.0.0.1 or when said so.


@pytest.mark.parametrize("scheme", ["ldaps", "starttls", "plain on 127.0.0.1"])
def test_each_transport_works_with_the_test_ca(
    verifier: ModuleType, shared_directory: Directory, password_file: Path, scheme: str
) -> None:
    settings: dict[str, Any] = {
        "ldaps": {"uris": (shared_directory.tls_uri,)},
        "starttls": {"uris": (shared_directory.uri,), "starttls": True},
        "plain on 127.0.0.1": {"uris": (shared_directory.uri,)},
    }[scheme]
    use(verifier, shared_directory, password_file, **settings)
    assert verifier.authenticated_user(basic("alice", "alice-password")) == "alice"


@pytest.mark.parametrize("starttls", [False, True])
def test_a_certificate_from_another_ca_is_refused(
    verifier: ModuleType,
    shared_directory: Directory,
    password_file: Path,
    tmp_path: Path,
    starttls: bool,
    capfd: pytest.CaptureFixture[str],
) -> None:
    other_ca, _key = make_certificate_authority(tmp_path / "other-ca", "another CA")
    uri = shared_directory.uri if starttls else shared_directory.tls_uri
    use(verifier, shared_directory, password_file, uris=(uri,), starttls=starttls, ca_file=str(other_ca))
    assert verifier.authenticated_user(basic("alice", "alice-password")) is None
    print(logged := capfd.readouterr().err)
    assert logged.startswith(f"verifier: {uri}: ")


def test_starttls_is_used_whatever_the_case_of_the_scheme(
    verifier: ModuleType, shared_directory: Directory, password_file: Path, tmp_path: Path
) -> None:
    # Over StartTLS the certificate of the test CA is refused with another CA's bundle; plain LDAP
    # would have let alice in.
    other_ca, _key = make_certificate_authority(tmp_path / "other-ca", "another CA")
    uri = shared_directory.uri.replace("ldap://", "LDAP://")
    use(verifier, shared_directory, password_file, uris=(uri,), starttls=True, ca_file=str(other_ca))
    assert verifier.authenticated_user(basic("alice", "alice-password")) is None
    use(verifier, shared_directory, password_file, uris=(uri,), starttls=True)
    assert verifier.authenticated_user(basic("alice", "alice-password")) == "alice"


def test_a_missing_service_password_file_refuses_without_a_traceback(
    verifier: ModuleType, shared_directory: Directory, password_file: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    use(verifier, shared_directory, password_file)
    password_file.unlink()
    assert verifier.authenticated_user(basic("alice", "alice-password")) is None
    # One line that names the file, once however many checks fail for it.
    assert verifier.authenticated_user(basic("alice", "alice-password")) is None
    logged = capfd.readouterr().err.splitlines()
    assert len(logged) == 1, logged
    assert logged[0].startswith(f"verifier: {shared_directory.tls_uri}: ")
    assert str(password_file) in logged[0]
    assert "Traceback" not in logged[0]


def test_a_refused_service_account_is_logged_and_the_users_password_is_not(
    verifier: ModuleType, shared_directory: Directory, password_file: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    use(verifier, shared_directory, password_file)
    assert verifier.authenticated_user(basic("alice", "a-wrong-password")) is None
    assert capfd.readouterr().err == "", "a wrong password is the user's, not a problem of the server"
    password_file.write_text("not-the-service-password\n")
    assert verifier.authenticated_user(basic("alice", "alice-password")) is None
    logged = capfd.readouterr().err
    assert f"the service account {SERVICE_DN} was refused" in logged
    assert "alice-password" not in logged
    assert "not-the-service-password" not in logged


@pytest.mark.parametrize(
    ("environment", "variable"),
    [
        ({"LDAP_URIS": ""}, "LDAP_URIS"),
        ({"LDAP_URIS": "ldap://directory.example.test"}, "LDAP_URIS"),
        ({"LDAP_URIS": "ldap://localhost:389"}, "LDAP_URIS"),
        ({"LDAP_URIS": "http://directory.example.test"}, "LDAP_URIS"),
        ({"LDAP_BASE_DN": ""}, "LDAP_BASE_DN"),
        ({"LDAP_USER_FILTER": "(uid=alice)"}, "LDAP_USER_FILTER"),
        ({"LDAP_BIND_PASSWORD_FILE": "/nonexistent"}, "LDAP_BIND_PASSWORD_FILE"),
        ({"LDAP_USER_DN_TEMPLATE": "uid={user},ou=people"}, "LDAP_USER_DN_TEMPLATE"),
        ({"LDAP_STARTTLS": "yes"}, "LDAP_STARTTLS"),
        ({"LDAP_TIMEOUT": "0"}, "LDAP_TIMEOUT"),
        ({"LDAP_TIMEOUT": "forever"}, "LDAP_TIMEOUT"),
        ({"LDAP_CA_FILE": "/nonexistent.pem"}, "LDAP_CA_FILE"),
    ],
)
def test_bad_settings_stop_the_start_with_the_variable_named(
    verifier: ModuleType,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    variable: str,
) -> None:
    good = {
        "LDAP_URIS": "ldaps://directory.example.test",
        "LDAP_BASE_DN": SUFFIX,
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD_FILE": str(password_file),
    }
    for name, value in (good | environment).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=variable):
        verifier.main()


@pytest.mark.parametrize(
    "environment",
    [
        {"LDAP_URIS": "ldap://directory.example.test", "LDAP_STARTTLS": "true"},
        {"LDAP_URIS": "ldap://directory.example.test", "LDAP_ALLOW_INSECURE": "true"},
        {"LDAP_URIS": "ldap://127.0.0.1:1389 ldaps://directory.example.test"},
    ],
)
def test_plain_ldap_elsewhere_needs_starttls_or_the_insecure_flag(
    verifier: ModuleType, password_file: Path, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name, value in ({"LDAP_BASE_DN": SUFFIX, "LDAP_BIND_DN": SERVICE_DN} | environment).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LDAP_BIND_PASSWORD_FILE", str(password_file))
    settings = verifier.LdapSettings.from_environment()
    assert settings.uris == tuple(environment["LDAP_URIS"].split())


def test_the_service_password_file_is_read_again_when_it_changes(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    use(verifier, shared_directory, password_file)
    password_file.write_text("not-the-service-password\n")
    assert verifier.authenticated_user(basic("alice", "alice-password")) is None
    password_file.write_text(SERVICE_PASSWORD)
    assert verifier.authenticated_user(basic("carol", "carol-password")) == "carol"


# The cache: HMAC-keyed, at most the TTL after the bind; the directory down means closed.


def test_a_verified_credential_is_remembered_under_an_hmac_for_at_most_the_ttl(
    verifier: ModuleType, shared_directory: Directory, password_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(verifier, "CACHE_SECONDS", 5)
    use(verifier, shared_directory, password_file)
    verifier.DIRECTORY.clock = lambda: now[0]
    authorization = basic("alice", "alice-password")
    assert verifier.verdict(authorization) == ("alice", 5)
    now[0] += 2.2
    assert verifier.verdict(authorization) == ("alice", 2)  # nginx keeps it what is left, no more
    assert checks(verifier) == 1
    assert list(verifier.VERIFIED.entries) == [verifier.VERIFIED.digest(authorization)]
    assert b"alice-password" not in repr(verifier.VERIFIED.entries).encode()
    now[0] += 2.9  # past the TTL: the directory is asked again
    assert verifier.verdict(authorization) == ("alice", 5)
    assert checks(verifier) == 2


@pytest.mark.parametrize(
    "change",
    [
        # disabled: the ppolicy overlay refuses every bind of a locked account
        f"dn: {user_dn('carol')}\nchangetype: modify\nadd: pwdAccountLockedTime\n"
        "pwdAccountLockedTime: 000001010000Z\n",
        f"dn: {user_dn('carol')}\nchangetype: delete\n",
        f"dn: {user_dn('carol')}\nchangetype: modify\nreplace: userPassword\nuserPassword: changed\n",
        f"dn: {GROUP_DN}\nchangetype: modify\ndelete: member\nmember: {user_dn('carol')}\n",
    ],
    ids=["disabled", "removed", "password changed", "left the group"],
)
def test_an_account_changed_in_the_directory_is_refused_after_the_ttl(
    verifier: ModuleType,
    own_directory: Directory,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    monkeypatch.setattr(verifier, "CACHE_SECONDS", 1)
    use(verifier, own_directory, password_file, group_dn=GROUP_DN)
    authorization = basic("carol", USERS["carol"])
    assert verifier.authenticated_user(authorization) == "carol"
    own_directory.modify(change)
    started = time.monotonic()
    while verifier.authenticated_user(authorization) == "carol":
        assert time.monotonic() - started <= 1.0, "still let in after the TTL"
        time.sleep(0.05)
    # A fresh check confirms the directory's own answer.
    verifier.VERIFIED.entries.clear()
    assert verifier.authenticated_user(authorization) is None


def test_failover_to_the_next_uri_when_the_first_cannot_be_reached(
    verifier: ModuleType, shared_directory: Directory, password_file: Path
) -> None:
    nothing_there = f"ldaps://127.0.0.1:{free_port()}"
    use(verifier, shared_directory, password_file, uris=(nothing_there, shared_directory.tls_uri))
    assert verifier.authenticated_user(basic("alice", "alice-password")) == "alice"


def timed_check(verifier: ModuleType, user: str) -> tuple[str | None, float]:
    verifier.VERIFIED.entries.clear()
    started = time.monotonic()
    result = verifier.authenticated_user(basic(user, USERS[user]))
    return result, time.monotonic() - started


@pytest.mark.parametrize("scheme", ["ldaps", "starttls"])
def test_a_stopped_or_hung_directory_fails_closed_in_bounded_time_and_recovers_on_its_own(
    verifier: ModuleType,
    own_directory: Directory,
    password_file: Path,
    scheme: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    settings: dict[str, Any] = (
        {"uris": (own_directory.tls_uri,)}
        if scheme == "ldaps"
        else {"uris": (own_directory.uri,), "starttls": True}
    )
    use(verifier, own_directory, password_file, **settings)
    assert timed_check(verifier, "alice")[0] == "alice"

    own_directory.stop()
    result, seconds = timed_check(verifier, "alice")
    print(f"{scheme}: stopped directory refused in {seconds:.3f} s")
    assert result is None
    assert seconds < TIMEOUT + MARGIN
    assert "Can't contact LDAP server" in capfd.readouterr().err

    own_directory.start()
    assert timed_check(verifier, "alice")[0] == "alice"

    # Hung: slapd accepts connections (the kernel does) but answers nothing.
    assert own_directory.process is not None
    own_directory.process.send_signal(signal.SIGSTOP)
    try:
        result, seconds = timed_check(verifier, "alice")
    finally:
        own_directory.process.send_signal(signal.SIGCONT)
    print(f"{scheme}: hung directory refused in {seconds:.3f} s")
    assert result is None
    assert seconds < TIMEOUT + MARGIN
    assert "no answer within LDAP_TIMEOUT" in capfd.readouterr().err
    assert timed_check(verifier, "alice")[0] == "alice"


def test_a_hung_directory_ties_up_a_bounded_number_of_attempts_and_remembered_users_still_get_in(
    verifier: ModuleType, own_directory: Directory, password_file: Path
) -> None:
    use(verifier, own_directory, password_file)
    directory = verifier.DIRECTORY
    remembered = basic("alice", USERS["alice"])
    assert verifier.authenticated_user(remembered) == "alice"
    assert own_directory.process is not None
    own_directory.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        guesses = [
            threading.Thread(target=verifier.authenticated_user, args=[basic("carol", f"guess-{number}")])
            for number in range(directory.MAX_ATTEMPTS_UNDER_WAY + 4)
        ]
        for guess in guesses:
            guess.start()
        for guess in guesses:
            guess.join()
        waited = time.monotonic() - started
        print(f"{len(guesses)} checks against a hung directory answered in {waited:.3f} s")
        assert waited < TIMEOUT + MARGIN  # side by side, not one after the other
        assert directory.under_way == {own_directory.tls_uri: directory.MAX_ATTEMPTS_UNDER_WAY}

        started = time.monotonic()
        assert verifier.authenticated_user(basic("bob", USERS["bob"])) is None
        assert verifier.authenticated_user(remembered) == "alice"
        assert time.monotonic() - started < 0.2
    finally:
        own_directory.process.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 10
    while any(directory.under_way.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert directory.under_way == {own_directory.tls_uri: 0}
    assert verifier.authenticated_user(basic("bob", USERS["bob"])) == "bob"


def test_a_hung_first_server_is_passed_over_for_the_next(
    verifier: ModuleType, shared_directory: Directory, password_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verifier.LdapDirectory, "MAX_ATTEMPTS_UNDER_WAY", 3)  # 1 s each to tie up
    # A server that takes connections and never answers: the ldaps handshake waits forever.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        hung_uri = f"ldaps://127.0.0.1:{hung.getsockname()[1]}"
        use(verifier, shared_directory, password_file, uris=(hung_uri, shared_directory.tls_uri))
        directory = verifier.DIRECTORY
        answers = []
        for _number in range(directory.MAX_ATTEMPTS_UNDER_WAY):
            result, seconds = timed_check(verifier, "alice")
            answers.append(result)
            assert seconds < TIMEOUT + MARGIN
        assert answers == ["alice"] * directory.MAX_ATTEMPTS_UNDER_WAY
        # Now the hung server has all the attempts it may have: passed over at once.
        result, seconds = timed_check(verifier, "alice")
        print(f"with the first server hung and tied up, answered in {seconds:.3f} s")
        assert result == "alice"
        assert seconds < 0.5


def verifier_environment(directory: Directory, password_file: Path, port: int) -> dict[str, str]:
    """The environment the role is to give the verifier container in ldap mode (docs/ldap-plan.md)."""
    return os.environ | {
        "VERIFIER_PORT": str(port),
        "AUTH_CACHE_SECONDS": "3",
        "AUTH_SOURCE": "ldap",
        "LDAP_URIS": f"ldaps://127.0.0.1:{free_port()} {directory.tls_uri}",
        "LDAP_BASE_DN": SUFFIX,
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD_FILE": str(password_file),
        "LDAP_CA_FILE": str(directory.ca_cert),
        "LDAP_GROUP_DN": GROUP_DN,
        "LDAP_TIMEOUT": "2",
    }


def test_the_verifier_process_in_ldap_mode_answers_over_http(
    shared_directory: Directory, password_file: Path
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / SOURCE)], env=verifier_environment(shared_directory, password_file, port)
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, "the verifier exited"
                assert time.monotonic() < deadline, "the verifier did not listen within 10 s"
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/"
        answer = urllib.request.urlopen(
            urllib.request.Request(url, headers={"Authorization": basic("ALICE", "alice-password")})
        )
        assert answer.status == 200
        assert answer.headers["X-Auth-User"] == "alice"
        assert answer.headers["Cache-Control"] == "max-age=3, stale-while-revalidate=1"
        with pytest.raises(urllib.error.HTTPError) as refused:  # not in the group
            urllib.request.urlopen(
                urllib.request.Request(url, headers={"Authorization": basic("bob", "bob-password")})
            )
        assert refused.value.code == 401
        stats = json.loads(urllib.request.urlopen(url + "stats").read())
        assert stats == {"answers": 2, "directory_checks": 2}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_verifier_process_refuses_to_start_with_plain_ldap_elsewhere(
    shared_directory: Directory, password_file: Path
) -> None:
    environment = verifier_environment(shared_directory, password_file, free_port())
    environment["LDAP_URIS"] = "ldap://directory.example.test"
    done = subprocess.run(
        [sys.executable, str(ROOT / SOURCE)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "LDAP_URIS" in done.stderr
    assert "clear text" in done.stderr


def test_the_directory_started_for_molecule_outlives_the_process_group_of_its_starter(tmp_path: Path) -> None:
    """molecule's create starts it from a command task, in the process group of an Ansible worker
    that the play's end may terminate with its whole group (ansible-core does, for a worker that
    has not exited yet): slapd must not be in that group."""
    path, script = tmp_path / "directory", str(ROOT / "tests/ldap_directory.py")
    # A group of its own, led by the starter, as the worker leads its group.
    starter = subprocess.Popen(
        [sys.executable, script, "start", str(path)], stdout=subprocess.PIPE, start_new_session=True
    )
    output, _errors = starter.communicate(timeout=60)
    assert starter.returncode == 0
    try:
        with contextlib.suppress(ProcessLookupError):  # nothing left in the group: as it should be
            os.killpg(starter.pid, signal.SIGTERM)
        time.sleep(0.5)
        socket.create_connection(("127.0.0.1", json.loads(output)["tls_port"]), timeout=2).close()
    finally:
        subprocess.run([sys.executable, script, "stop", str(path)], check=True, timeout=60)
