"""Answers nginx auth_request subrequests for the sidecar.

200 with X-Auth-User for valid HTTP Basic credentials, 401 with a Basic challenge otherwise.
bcrypt runs here, outside nginx's event loop, one hash at a time.
nginx caches the answers for a few seconds and renews them in the background; so that a renewal
never waits behind bcrypt (say, behind a flood of wrong guesses), a credential that verified
is remembered, under an HMAC with a per-start random key, for as long as the user's hash in the
htpasswd file stays the same. The file is re-read whenever it changes, so a changed or removed
password is checked again (and refused) on the next renewal.

The source of truth is one small class per mode (AUTH_SOURCE): Htpasswd (the default) or
LdapDirectory, which binds to an LDAP directory as the user. A directory cannot say that a
password changed, so there a verified credential is remembered for at most AUTH_CACHE_SECONDS
after the bind that proved it, and nginx is told to keep that answer no longer than what is left.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

import bcrypt

# Where the pod mounts the htpasswd Secret (volumeMounts in the role's vars/main.yml), as nginx.
HTPASSWD_FILE = "/etc/nginx/auth/htpasswd"
# The role sets the environment (the verifier container in its vars/main.yml).
PORT = int(os.environ.get("VERIFIER_PORT", "9091"))
REALM = os.environ.get("AUTH_REALM", "Restricted").replace('"', "")
# How long nginx may reuse an answer, and serve it stale while renewing it in the background.
CACHE_SECONDS = int(os.environ.get("AUTH_CACHE_SECONDS", "4"))
CACHE_CONTROL = f"max-age={CACHE_SECONDS}, stale-while-revalidate=1"
# Where the verifier checks passwords: "htpasswd" (the file above) or "ldap" (LdapDirectory).
AUTH_SOURCE = os.environ.get("AUTH_SOURCE", "htpasswd")


class Source(Protocol):
    """A source of truth. check() returns a proof of what matched (None: refused); digest is the
    header's key in VERIFIED, for a source that checks one at a time to look again when its turn
    comes. A remembered credential is good while still_valid(user, proof), and nginx may keep its
    answer max_age(proof) seconds. The app is told name(user, proof), written as header_value() in
    X-Auth-User."""

    def check(self, user: str, password: str, digest: bytes) -> Any | None: ...  # noqa: ANN401

    def still_valid(self, user: str, proof: Any) -> bool: ...  # noqa: ANN401

    def max_age(self, proof: Any) -> int: ...  # noqa: ANN401

    def name(self, user: str, proof: Any) -> str: ...  # noqa: ANN401

    def header_value(self, user: str) -> str: ...


class Htpasswd:
    """The users and hashes of the htpasswd file, reloaded when the file changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.signature: tuple[int, int, int] | None = None
        self.hashes: dict[str, bytes] = {}

    def hash_of(self, user: str) -> bytes | None:
        try:
            stat = os.stat(self.path)
            signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            return None  # no file: nobody may log in
        with self.lock:
            if signature != self.signature:
                self.hashes = self._read()
                self.signature = signature
            return self.hashes.get(user)

    def check(self, user: str, password: str, digest: bytes) -> bytes | None:
        """The hash the password matched, or None."""
        hashed = self.hash_of(user)
        if hashed is None:
            return None
        with HASHING:
            # Requests with the same new header arrive together (nginx holds none of them back): the
            # first one checks it, the others find it remembered here.
            remembered = VERIFIED.entry(digest, self.still_valid)
            if remembered:
                return remembered[1]
            STATS.count("hashes_checked")
            if not bcrypt.checkpw(password.encode()[:72], hashed):
                return None
            # Before the next request waiting here looks: remembered after the lock, a burst
            # checked the same header twice (measured: 2 bcrypt checks for 20 requests at once).
            VERIFIED.remember(digest, self.name(user, hashed), hashed)
        return hashed

    def still_valid(self, user: str, proof: bytes) -> bool:
        return self.hash_of(user) == proof

    def max_age(self, proof: bytes) -> int:
        return CACHE_SECONDS

    def name(self, user: str, proof: bytes) -> str:
        return user

    def header_value(self, user: str) -> str:
        return user

    def _read(self) -> dict[str, bytes]:
        hashes = {}
        with open(self.path, "rb") as handle:
            for line in handle:
                name, sep, hashed = line.strip().partition(b":")
                if sep and hashed.startswith((b"$2y$", b"$2b$", b"$2a$")):
                    # Python's bcrypt knows the $2b$ name of the same algorithm.
                    hashes[name.decode()] = b"$2b$" + hashed[4:]
        return hashes


def escape_filter_value(value: str) -> str:
    """value as it must appear in an LDAP filter (RFC 4515): never a wildcard or a parenthesis."""
    return "".join(f"\\{ord(char):02x}" if char in "\\*()\0" else char for char in value)


def escape_dn_value(value: str) -> str:
    """value as an attribute value of a DN (RFC 4514), for LDAP_USER_DN_TEMPLATE."""
    escaped = "".join(f"\\{char}" if char in '\\,+"<>;=' else char for char in value)
    escaped = escaped.replace("\0", "\\00")
    if escaped.startswith(("#", " ")):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def flag(name: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError(f"{name} is {value!r}: true or false")
    return value == "true"


@dataclass(frozen=True)
class LdapSettings:
    """How to reach the directory and find a user in it; from_environment() checks each input and
    names the variable that is wrong."""

    uris: tuple[str, ...]
    base_dn: str
    user_filter: str = "(&(objectClass=inetOrgPerson)(uid={user}))"
    name_attribute: str = "uid"
    bind_dn: str = ""
    bind_password_file: str = ""
    user_dn_template: str = ""
    group_dn: str = ""
    group_attribute: str = "member"
    ca_file: str = ""
    starttls: bool = False
    timeout: float = 3.0
    allow_insecure: bool = False

    @classmethod
    def from_environment(cls) -> LdapSettings:
        try:
            timeout = float(os.environ.get("LDAP_TIMEOUT", "3"))
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 30:
            raise ValueError("LDAP_TIMEOUT must be a number of seconds above 0, at most 30")
        settings = cls(
            uris=tuple(os.environ.get("LDAP_URIS", "").split()),
            base_dn=os.environ.get("LDAP_BASE_DN", ""),
            user_filter=os.environ.get("LDAP_USER_FILTER", cls.user_filter),
            name_attribute=os.environ.get("LDAP_NAME_ATTRIBUTE", cls.name_attribute),
            bind_dn=os.environ.get("LDAP_BIND_DN", ""),
            bind_password_file=os.environ.get("LDAP_BIND_PASSWORD_FILE", ""),
            user_dn_template=os.environ.get("LDAP_USER_DN_TEMPLATE", ""),
            group_dn=os.environ.get("LDAP_GROUP_DN", ""),
            group_attribute=os.environ.get("LDAP_GROUP_ATTRIBUTE", cls.group_attribute),
            ca_file=os.environ.get("LDAP_CA_FILE", ""),
            starttls=flag("LDAP_STARTTLS", os.environ.get("LDAP_STARTTLS", "false")),
            timeout=timeout,
            allow_insecure=flag("LDAP_ALLOW_INSECURE", os.environ.get("LDAP_ALLOW_INSECURE", "false")),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """ValueError naming the first input that cannot work."""
        if not self.uris:
            raise ValueError("LDAP_URIS is empty: one or more ldaps:// or ldap:// URIs, tried in order")
        for uri in self.uris:
            parts = urlsplit(uri)
            if parts.scheme not in ("ldap", "ldaps") or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"LDAP_URIS: {uri!r} is not ldaps://HOST[:PORT] or ldap://HOST[:PORT]")
            plain = parts.scheme == "ldap" and not self.starttls
            if plain and parts.hostname != "127.0.0.1" and not self.allow_insecure:
                raise ValueError(
                    f"LDAP_URIS: {uri} would send passwords in clear text: use ldaps://, or set"
                    " LDAP_STARTTLS=true, or LDAP_ALLOW_INSECURE=true if that is really meant"
                )
        if not self.base_dn:
            raise ValueError("LDAP_BASE_DN is empty: the DN under which users are searched")
        if "{user}" not in self.user_filter or not (
            self.user_filter.startswith("(") and self.user_filter.endswith(")")
        ):
            raise ValueError("LDAP_USER_FILTER must be a parenthesised filter with {user} in it")
        if not self.name_attribute:
            raise ValueError("LDAP_NAME_ATTRIBUTE is empty: the attribute that holds the user name")
        if bool(self.bind_dn) == bool(self.user_dn_template):
            raise ValueError("set either LDAP_BIND_DN (a service account searches) or LDAP_USER_DN_TEMPLATE")
        if self.user_dn_template and "{user}" not in self.user_dn_template:
            raise ValueError("LDAP_USER_DN_TEMPLATE must contain {user}")
        if self.bind_dn:
            if not self.bind_password_file:
                raise ValueError("LDAP_BIND_PASSWORD_FILE is empty: the file with LDAP_BIND_DN's password")
            try:
                if not self.bind_password():
                    raise ValueError(f"LDAP_BIND_PASSWORD_FILE: {self.bind_password_file} is empty")
            except OSError as error:
                raise ValueError(
                    f"LDAP_BIND_PASSWORD_FILE: {error.strerror}: {self.bind_password_file}"
                ) from None
        if self.ca_file and not os.path.isfile(self.ca_file):
            raise ValueError(f"LDAP_CA_FILE: no file {self.ca_file}")

    def bind_password(self) -> str:
        """Read at every connection, so that a rotated Secret is used without a restart."""
        with open(self.bind_password_file, encoding="utf-8") as handle:
            return handle.read().rstrip("\r\n")


# What an attempt on a server that gave no answer returns: try the next one.
UNREACHABLE = object()


@dataclass(frozen=True)
class LdapProof:
    """A bind as the user that succeeded: the directory's spelling of the name, and until when
    (time.monotonic()) it counts."""

    name: str
    until: float


class LdapDirectory:
    """ldap mode: the user is searched (as the service account, or found from a DN template), must
    be in the required group if there is one, and the password counts if a bind as the user works.
    A new connection per check. The URIs are tried in order while a server cannot be reached, each
    for at most LDAP_TIMEOUT: the directory down or hung means 401 within that time, and the next
    check after it is back works. python-ldap: see docs/ldap-plan.md for why.

    libldap bounds the connection, StartTLS and every operation by its timeouts, but not the TLS
    handshake of an ldaps:// connection (Debian's 2.5.13 waits for a hung server forever), so each
    attempt runs in a thread of its own that the check stops waiting for after LDAP_TIMEOUT. An
    abandoned attempt ends when the server answers or the connection dies; while
    MAX_ATTEMPTS_UNDER_WAY are under way on one server, it counts as unreachable at once (the next
    URI is tried), so a hung server ties up a bounded number of threads and no failover."""

    MAX_ATTEMPTS_UNDER_WAY = 16
    # Longer user names are refused without asking the directory.
    MAX_NAME_LENGTH = 256
    # A problem with a server (not a refused password) is logged once in this many seconds.
    REPORT_SECONDS = 30.0

    def __init__(self, settings: LdapSettings, clock: Callable[[], float] = time.monotonic) -> None:
        import ldap  # python3-ldap in the image; only this mode needs it

        self.ldap: Any = ldap
        self.settings = settings
        self.clock = clock
        self.lock = threading.Lock()
        self.under_way = dict.fromkeys(settings.uris, 0)
        self.unreachable = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR)
        self.reported: dict[tuple[str, str], float] = {}

    def report(self, uri: str, problem: Any) -> None:  # noqa: ANN401
        """Log what kept a server from checking a password (the library's words, never a
        password), once per REPORT_SECONDS: otherwise the refusals it causes look like wrong
        passwords in every log."""
        if isinstance(problem, self.ldap.LDAPError) and problem.args and isinstance(problem.args[0], dict):
            details = problem.args[0]
            problem = "; ".join(str(details[key]) for key in ("desc", "info") if details.get(key))
        line = f"verifier: {uri}: {problem}"
        now = self.clock()
        with self.lock:
            last = self.reported.get((uri, line))
            if last is not None and now - last < self.REPORT_SECONDS:
                return
            self.reported[(uri, line)] = now
        print(line, file=sys.stderr, flush=True)

    def check(self, user: str, password: str, digest: bytes) -> LdapProof | None:
        # An empty password would be an unauthenticated bind (RFC 4513 5.1.2): success, for nobody.
        if not password or not user or len(user) > self.MAX_NAME_LENGTH:
            return None
        STATS.count("directory_checks")
        for uri in self.settings.uris:
            outcome = self._attempt(uri, user, password)
            if outcome is not UNREACHABLE:
                return outcome
        return None

    def _attempt(self, uri: str, user: str, password: str) -> Any:  # noqa: ANN401
        """A proof, None (refused), or UNREACHABLE if uri gave no answer within the timeout."""
        with self.lock:
            saturated = self.under_way[uri] >= self.MAX_ATTEMPTS_UNDER_WAY
            if not saturated:
                self.under_way[uri] += 1
        if saturated:
            self.report(
                uri, f"{self.MAX_ATTEMPTS_UNDER_WAY} checks still wait for an answer: counted as unreachable"
            )
            return UNREACHABLE
        outcome: list[Any] = [UNREACHABLE]

        def attempt() -> None:
            try:
                outcome[0] = self._attempt_now(uri, user, password)
            finally:
                with self.lock:
                    self.under_way[uri] -= 1

        worker = threading.Thread(target=attempt, name="ldap-attempt", daemon=True)
        worker.start()
        worker.join(self.settings.timeout)
        if worker.is_alive():
            self.report(uri, f"no answer within LDAP_TIMEOUT ({self.settings.timeout:g} s)")
            return UNREACHABLE
        return outcome[0]

    def _attempt_now(self, uri: str, user: str, password: str) -> Any:  # noqa: ANN401
        try:
            connection = self._connect(uri)
        except self.unreachable as error:
            self.report(uri, error)
            return UNREACHABLE
        except self.ldap.LDAPError as error:
            self.report(uri, error)
            return None
        try:
            name = self._bind_as_user(connection, user, password)
        except self.unreachable as error:
            self.report(uri, error)
            return UNREACHABLE
        except self.ldap.INVALID_CREDENTIALS:  # the user's password (the service account's is a ValueError)
            return None
        except (self.ldap.LDAPError, ValueError, TypeError, OSError) as error:  # OSError: the password file
            self.report(uri, error)
            return None
        finally:
            self._close(connection)
        if name is None:
            return None
        return LdapProof(name=name, until=self.clock() + CACHE_SECONDS)

    def still_valid(self, user: str, proof: LdapProof) -> bool:
        return self.clock() < proof.until

    def max_age(self, proof: LdapProof) -> int:
        left = proof.until - self.clock()
        return CACHE_SECONDS if left > CACHE_SECONDS - 0.5 else max(0, int(left))

    def name(self, user: str, proof: LdapProof) -> str:
        """The directory's spelling: "ALICE" and "alice" are one user for the app."""
        return proof.name

    def header_value(self, user: str) -> str:
        """The name's UTF-8 bytes as they are (http.server writes header values as Latin-1)."""
        return user.encode().decode("latin-1")

    def _connect(self, uri: str) -> Any:  # noqa: ANN401
        ldap, settings = self.ldap, self.settings
        connection = ldap.initialize(uri)
        connection.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        connection.set_option(ldap.OPT_REFERRALS, 0)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, settings.timeout)
        connection.set_option(ldap.OPT_TIMEOUT, settings.timeout)
        connection.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        if settings.ca_file:
            connection.set_option(ldap.OPT_X_TLS_CACERTFILE, settings.ca_file)
        connection.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # last: makes the TLS context of the above
        try:
            if urlsplit(uri).scheme == "ldap" and settings.starttls:  # LDAP:// too
                connection.start_tls_s()
        except BaseException:
            self._close(connection)
            raise
        return connection

    def _close(self, connection: Any) -> None:  # noqa: ANN401
        with contextlib.suppress(self.ldap.LDAPError):
            connection.unbind_s()

    def _bind_as_user(self, connection: Any, user: str, password: str) -> str | None:  # noqa: ANN401
        """The directory's name of the user if the password binds and the user may come in."""
        settings = self.settings
        user_filter = settings.user_filter.replace("{user}", escape_filter_value(user))
        # memberOf, also with a matching rule (AD's nested groups: memberOf:1.2.840.113556.1.4.1941:)
        by_member_of = settings.group_dn and settings.group_attribute.split(":")[0].lower() == "memberof"
        if by_member_of:
            group = escape_filter_value(settings.group_dn)
            user_filter = f"(&{user_filter}({settings.group_attribute}={group}))"
        if settings.bind_dn:
            try:
                connection.simple_bind_s(settings.bind_dn, settings.bind_password())
            except self.ldap.INVALID_CREDENTIALS:
                raise ValueError(
                    f"the service account {settings.bind_dn} was refused: check LDAP_BIND_DN and its password"
                ) from None
            found = self._find(connection, user_filter, user)
            if found is None or not (by_member_of or self._in_group(connection, found[0])):
                return None
            connection.simple_bind_s(found[0], password)
            return found[1]
        dn = settings.user_dn_template.replace("{user}", escape_dn_value(user))
        connection.simple_bind_s(dn, password)
        # As the user, who may read little more than its own entry: the filter must match it.
        found = self._find(connection, user_filter, user, base=dn)
        if found is None or not (by_member_of or self._in_group(connection, found[0])):
            return None
        return found[1]

    def _find(
        self,
        connection: Any,  # noqa: ANN401
        user_filter: str,
        user: str,
        base: str = "",
    ) -> tuple[str, str] | None:
        """(DN, name) of the one entry the filter finds under LDAP_BASE_DN (or that is base), else None."""
        ldap, settings = self.ldap, self.settings
        scope = ldap.SCOPE_BASE if base else ldap.SCOPE_SUBTREE
        results = connection.search_ext_s(
            base or settings.base_dn, scope, user_filter, [settings.name_attribute],
            timeout=settings.timeout, sizelimit=2,
        )  # fmt: skip
        entries = [(dn, attributes) for dn, attributes in results if dn]  # no referrals
        if len(entries) != 1:
            return None
        dn, attributes = entries[0]
        values = [
            value.decode("utf-8", "replace")
            for key, values in attributes.items()
            if key.lower() == settings.name_attribute.lower()
            for value in values
        ]
        same = [value for value in values if value.strip().lower() == user.strip().lower()]
        name = (same or sorted(values) or [""])[0]
        # The name goes into a header for the app: nothing empty, no line breaks or controls.
        if not name or any(ord(char) < 0x20 or ord(char) == 0x7F for char in name):
            return None
        return dn, name

    def _in_group(self, connection: Any, dn: str) -> bool:  # noqa: ANN401
        settings = self.settings
        if not settings.group_dn:
            return True
        found = connection.search_ext_s(
            settings.group_dn, self.ldap.SCOPE_BASE,
            f"({settings.group_attribute}={escape_filter_value(dn)})", ["1.1"],
            timeout=settings.timeout, sizelimit=1,
        )  # fmt: skip
        return any(found_dn for found_dn, _attributes in found)


class Stats:
    """What the verifier did since it started, for /stats. Counted under a lock of its own: an
    answer is never counted behind a reload of the htpasswd file."""

    def __init__(self, events: tuple[str, ...] = ("answers", "hashes_checked")) -> None:
        self.lock = threading.Lock()
        self.counts = dict.fromkeys(events, 0)

    def count(self, event: str) -> None:
        with self.lock:
            self.counts[event] = self.counts.get(event, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.counts)


USERS = Htpasswd(HTPASSWD_FILE)
# One hash at a time: the container's CPU limit (250m by default) is a fraction of a core, which
# parallel hashes would only share, each finishing later.
HASHING = threading.BoundedSemaphore(1)
STATS = Stats(("answers", "directory_checks") if AUTH_SOURCE == "ldap" else ("answers", "hashes_checked"))


class VerifiedCredentials:
    """Credentials that matched, keyed by HMAC of the header, with the proof of what they matched
    (the hash in the htpasswd file, or until when a directory's bind counts)."""

    def __init__(self, capacity: int = 10000) -> None:
        self.key = os.urandom(32)
        self.capacity = capacity
        self.lock = threading.Lock()
        self.entries: OrderedDict[bytes, tuple[str, Any]] = OrderedDict()

    def digest(self, authorization: str) -> bytes:
        return hmac.new(self.key, authorization.encode(), hashlib.sha256).digest()

    def entry(self, digest: bytes, still_valid: Callable[[str, Any], bool]) -> tuple[str, Any] | None:
        with self.lock:
            entry = self.entries.get(digest)
        if entry is None:
            return None
        user, proof = entry
        if still_valid(user, proof):
            return entry
        with self.lock:
            if self.entries.get(digest) is entry:
                del self.entries[digest]
        return None

    def remember(self, digest: bytes, user: str, proof: Any) -> None:  # noqa: ANN401
        with self.lock:
            self.entries[digest] = (user, proof)
            self.entries.move_to_end(digest)
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)


VERIFIED = VerifiedCredentials()
# The LDAP source of truth, in ldap mode (made in main(), where a bad setting stops the start).
DIRECTORY: LdapDirectory | None = None


def source() -> Source:
    return DIRECTORY if DIRECTORY is not None else USERS


def verdict(authorization: str | None) -> tuple[str | None, int]:
    """The user name if the Basic credentials match the source of truth, else None; and for how
    many seconds nginx may keep the answer."""
    scheme, _space, token = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None, CACHE_SECONDS
    truth = source()
    digest = VERIFIED.digest(authorization or "")
    remembered = VERIFIED.entry(digest, truth.still_valid)
    if remembered:
        return remembered[0], truth.max_age(remembered[1])
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, CACHE_SECONDS
    proof = truth.check(user, password, digest) if sep else None
    if proof is None:
        return None, CACHE_SECONDS
    user = truth.name(user, proof)
    VERIFIED.remember(digest, user, proof)
    return user, truth.max_age(proof)


def authenticated_user(authorization: str | None) -> str | None:
    """The user name if the Basic credentials match the source of truth, else None."""
    return verdict(authorization)[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/stats":  # loopback only, like everything here; says no names
            body = json.dumps(STATS.snapshot()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        STATS.count("answers")
        user, max_age = verdict(self.headers.get("Authorization"))
        self.send_response(200 if user else 401)
        if max_age == CACHE_SECONDS:
            self.send_header("Cache-Control", CACHE_CONTROL)
        else:
            self.send_header("Cache-Control", f"max-age={max_age}, stale-while-revalidate=1")
        if user:
            self.send_header("X-Auth-User", source().header_value(user))
        else:
            self.send_header("WWW-Authenticate", f'Basic realm="{REALM}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: nginx logs every request already."""


class Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5. nginx opens a connection per concurrent
    # subrequest beyond its idle ones, and the kernel drops a connection that finds the queue
    # full: its client retries one second later.
    request_queue_size = 128
    daemon_threads = True


def main() -> None:
    global DIRECTORY
    if AUTH_SOURCE == "ldap":
        try:
            DIRECTORY = LdapDirectory(LdapSettings.from_environment())
        except ValueError as error:
            raise SystemExit(f"verifier: {error}") from None
    elif AUTH_SOURCE != "htpasswd":
        raise SystemExit(f"verifier: AUTH_SOURCE is {AUTH_SOURCE!r}: htpasswd or ldap")
    server = Server(("127.0.0.1", PORT), Handler)

    # The verifier is PID 1 of its container, and the kernel ignores a signal that PID 1 does
    # not handle: without this, the image's stop signal (SIGQUIT, for nginx) and SIGTERM do
    # nothing, and every stop waits for the kill at the end of the grace period.
    def stop(_signal: int, _frame: object) -> None:
        # shutdown() waits for serve_forever() to return, which runs in this very thread.
        threading.Thread(target=server.shutdown).start()

    for stop_signal in (signal.SIGQUIT, signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, stop)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
