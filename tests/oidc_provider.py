"""A real OpenID Provider for the tests: Keycloak (start-dev) on this machine, with a realm of its own.

Provider(path).start() runs Keycloak's Quarkus distribution (Maven Central's
org.keycloak:keycloak-quarkus-dist, unpacked once in ~/.cache/authproxy-sidecar/keycloak/<version>)
with an H2 file database under path, on one free port, and the first time makes through the admin
REST API: the realm REALM, the group GROUP, the users of USERS (alice, carol and dave in the group,
bob not; alice's and bob's addresses in example.test, carol's and dave's in domains of their own) and a
confidential client CLIENT_ID whose secret is generated and kept in path/provider.json (0600).
stop() and start() again keep the port, the database and the secret.

address is where Keycloak listens (127.0.0.1 unless a pod must reach it: molecule/oidc gives
podman's bridge address); public_url is the base URL every URL it hands out names (issuer, login
page), by default http(s)://<address>:<port>. With tls_names it serves https only, with a
certificate for 127.0.0.1, the address and these names (DNS:... or IP:...) from a test CA of its
own (path/ca/ca.pem: what the pod's oauth2-proxy is told to trust).

molecule/oidc runs it in the background, beyond the command that starts it:

    python3 tests/oidc_provider.py start PATH [--address IP] [--public-url URL] [--redirect-uri URL]...
        [--tls-name DNS:name]...
    python3 tests/oidc_provider.py stop PATH

start prints the issuer, the client's ID and where its secret is; stop stops the Keycloak of
PATH/keycloak.pid, if one runs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certificates import make_certificate_authority, make_server_certificate
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from processes import end, free_port

VERSION = "26.5.6"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "authproxy-sidecar" / "keycloak"
# Keycloak 26.5 runs on Java 17 (measured; 21 is what upstream recommends).
JAVA_HOME = os.environ.get("OIDC_PROVIDER_JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64")
# Without a limit the JVM takes 70 % of the machine's memory for its heap.
HEAP = "-Xms64m -Xmx384m"
STARTUP_TIMEOUT = 360

REALM = "authproxy"
CLIENT_ID = "sidecar"
GROUP = "app-users"
ADMIN = "admin"
ADMIN_PASSWORD = "admin-secret"
# username -> (password, email, in GROUP)
USERS = {
    "alice": ("alice-password", "alice@example.test", True),
    # In alice's domain, outside the group: refused by group.
    "bob": ("bob-password", "bob@example.test", False),
    # In the group, from a partner's domain: gets in where her address is allowed one by one
    # (molecule/oidc's sidecar_app_oidc_allowed_emails).
    "carol": ("carol-password", "carol@partner.test", True),
    # In the group, from a domain nobody allows: refused by email.
    "dave": ("dave-password", "dave@elsewhere.test", True),
}


def distribution(version: str = VERSION) -> Path:
    """The unpacked Keycloak of version, downloaded from Maven Central and checked against its
    published SHA-1 the first time."""
    home = CACHE / version
    if (home / "bin" / "kc.sh").exists():
        return home
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"keycloak-quarkus-dist-{version}.zip"
    url = f"{MAVEN_CENTRAL}/{version}/keycloak-quarkus-dist-{version}.zip"
    if not archive.exists():
        partial = archive.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=60) as answer, partial.open("wb") as out:
            shutil.copyfileobj(answer, out)
        partial.rename(archive)
    with urllib.request.urlopen(url + ".sha1", timeout=60) as answer:
        expected = answer.read().decode().split()[0]
    actual = hashlib.sha1(archive.read_bytes()).hexdigest()
    if actual != expected:
        archive.unlink()
        raise RuntimeError(f"{url}: SHA-1 {actual}, Maven Central says {expected}")
    staging = CACHE / f".unpack-{version}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as packed:
        packed.extractall(staging)
    for script in (staging / f"keycloak-{version}" / "bin").glob("*.sh"):
        script.chmod(0o755)
    try:
        (staging / f"keycloak-{version}").rename(home)
    except OSError:
        if not (home / "bin" / "kc.sh").exists():  # not another process's unpacking, which won
            raise
    shutil.rmtree(staging, ignore_errors=True)
    return home


@dataclass
class Provider:
    """A Keycloak of the test's own under path, stopped by stop()."""

    path: Path
    port: int = field(default_factory=free_port)
    address: str = "127.0.0.1"
    public_url: str = ""
    redirect_uris: tuple[str, ...] = ()
    tls_names: tuple[str, ...] = ()
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    process: subprocess.Popen[bytes] | None = None
    # Seconds from start() to a ready realm, and the JVM's resident memory then (KiB).
    started_in: float = 0.0
    rss_kib: int = 0

    @property
    def tls(self) -> bool:
        return bool(self.tls_names)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def ca_cert(self) -> Path:
        return self.path / "ca" / "ca.pem"

    @property
    def base_url(self) -> str:
        return self.public_url or f"{self.scheme}://{self.address}:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"

    @property
    def local_url(self) -> str:
        """Where this machine reaches it, whatever name it hands out."""
        return f"{self.scheme}://{self.address}:{self.port}"

    @property
    def secret_file(self) -> Path:
        return self.path / "client-secret"

    def save(self) -> None:
        fields = ("port", "address", "public_url", "redirect_uris", "tls_names")
        saved = self.path / "provider.json"
        saved.write_text(json.dumps({name: getattr(self, name) for name in fields}))
        self.secret_file.write_text(self.client_secret)
        self.secret_file.chmod(0o600)

    @classmethod
    def load(cls, path: Path) -> Provider:
        saved = json.loads((path / "provider.json").read_text())
        saved["redirect_uris"] = tuple(saved["redirect_uris"])
        saved["tls_names"] = tuple(saved.get("tls_names", ()))
        return cls(path, client_secret=(path / "client-secret").read_text(), **saved)

    def home(self) -> Path:
        """This provider's own copy of the distribution: start-dev rebuilds its lib/quarkus at
        each start, which two providers sharing one copy would do over each other."""
        home = self.path / "keycloak"
        if not (home / "bin" / "kc.sh").exists():
            staging = self.path / ".keycloak-copy"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(distribution(), staging, symlinks=True)
            staging.rename(home)
        return home

    def start(self) -> None:
        home = self.home()
        first = not (self.path / "h2").exists()
        started = time.monotonic()
        environment = {
            **os.environ,
            "JAVA_HOME": JAVA_HOME,
            "JAVA_OPTS_KC_HEAP": HEAP,
            "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        if self.tls:
            listen = [f"--https-port={self.port}", "--http-enabled=false", *self._certificate_options()]
        else:
            listen = [f"--http-port={self.port}"]
        command = [
            str(home / "bin" / "kc.sh"), "start-dev", f"--http-host={self.address}", *listen,
            "--db=dev-file", f"--db-url=jdbc:h2:file:{self.path}/h2/keycloakdb;NON_KEYWORDS=VALUE",
            # No Infinispan cluster discovery on the machine's network.
            "--cache=local",
        ]  # fmt: skip
        if self.public_url:
            command.append(f"--hostname={self.public_url}")
        with (self.path / "keycloak.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True
            )
        (self.path / "keycloak.pid").write_text(str(self.process.pid))
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Keycloak exited: {(self.path / 'keycloak.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(
                    f"{self.local_url}/realms/master", timeout=2, context=self.ssl_context()
                ):
                    break
            except (OSError, urllib.error.URLError):
                time.sleep(0.5)
        else:
            self.stop()
            raise RuntimeError(f"Keycloak did not answer within {STARTUP_TIMEOUT} s")
        if first:
            self.create_realm()
        self.started_in = time.monotonic() - started
        self.rss_kib = resident_kib(self.process.pid)

    def _certificate_options(self) -> list[str]:
        """Keycloak's options of its certificate, made with the CA the first time."""
        directory = self.ca_cert.parent
        cert, key = directory / "server.pem", directory / "server.key"
        if not cert.exists():
            ca_cert, ca_key = make_certificate_authority(directory, "authproxy test OpenID Provider CA")
            make_server_certificate(directory, ca_cert, ca_key, (f"IP:{self.address}", *self.tls_names))
        return [f"--https-certificate-file={cert}", f"--https-certificate-key-file={key}"]

    def public_key_digest(self) -> str:
        """The base64 SHA-256 of its certificate's public key (SPKI), for a browser to trust it."""
        certificate = x509.load_pem_x509_certificate((self.ca_cert.parent / "server.pem").read_bytes())
        spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()

    def ssl_context(self) -> ssl.SSLContext | None:
        """What this machine trusts to reach it: its CA only."""
        return ssl.create_default_context(cafile=str(self.ca_cert)) if self.tls else None

    def admin_token(self) -> str:
        answer = self.call(
            "POST",
            "/realms/master/protocol/openid-connect/token",
            form={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": ADMIN,
                "password": ADMIN_PASSWORD,
            },
        )
        return str((answer or {})["access_token"])

    def call(
        self, method: str, path: str, body: object = None, form: dict[str, str] | None = None, token: str = ""
    ) -> dict[str, Any] | None:
        """One request to Keycloak's HTTP API; the JSON answer, or None."""
        headers = {"Accept": "application/json"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.local_url + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30, context=self.ssl_context()) as answer:
            content = answer.read()
        return json.loads(content) if content else None

    def create_realm(self) -> None:
        """The realm, its group, users and client, in one realm representation."""
        users = [
            {
                "username": name,
                "enabled": True,
                "email": email,
                "emailVerified": True,
                "firstName": name.capitalize(),
                "lastName": "Test",
                "credentials": [{"type": "password", "value": password, "temporary": False}],
                "groups": [f"/{GROUP}"] if member else [],
            }
            for name, (password, email, member) in USERS.items()
        ]
        client = {
            "clientId": CLIENT_ID,
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": False,
            "clientAuthenticatorType": "client-secret",
            "secret": self.client_secret,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "redirectUris": list(self.redirect_uris),
            "attributes": {"post.logout.redirect.uris": "+", "pkce.code.challenge.method": "S256"},
            "protocolMappers": [
                {
                    "name": "groups",
                    "protocol": "openid-connect",
                    "protocolMapper": "oidc-group-membership-mapper",
                    "config": {
                        "claim.name": "groups",
                        "full.path": "false",
                        "id.token.claim": "true",
                        "access.token.claim": "true",
                        "userinfo.token.claim": "true",
                    },
                },
                {
                    # The client's own ID in the access token's audience, as oauth2-proxy checks.
                    "name": "audience",
                    "protocol": "openid-connect",
                    "protocolMapper": "oidc-audience-mapper",
                    "config": {"included.client.audience": CLIENT_ID, "access.token.claim": "true"},
                },
            ],
        }
        realm = {
            "realm": REALM,
            "enabled": True,
            # make oidc-demo's provider speaks plain http on podman's bridge address.
            "sslRequired": "none",
            "groups": [{"name": GROUP}],
            "users": users,
            "clients": [client],
        }
        self.call("POST", "/admin/realms", body=realm, token=self.admin_token())

    def stop(self) -> None:
        if self.process is None:
            self._stop_started_elsewhere()
        elif self.process.poll() is None:
            # kc.sh runs java as its child: stop the whole session start() made.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def _stop_started_elsewhere(self) -> None:
        """Stop the Keycloak of the pid file, which another process started."""
        try:
            pid = int((self.path / "keycloak.pid").read_text())
            if "keycloak" not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                return  # a process that took the number since
        except (OSError, ValueError):
            return  # none runs
        end(pid, group=True, within=30)


def resident_kib(pid: int) -> int:
    """The resident memory of pid and its children (kc.sh and its java)."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for process in [pid, *map(int, children)]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def java_available() -> bool:
    return Path(JAVA_HOME, "bin", "java").exists()


def main() -> None:
    parser = argparse.ArgumentParser(description="A test Keycloak in the background (molecule/oidc).")
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--address", default="127.0.0.1", help="where it listens")
    parser.add_argument(
        "--public-url",
        default="",
        help="the base URL it names, {port} replaced (default http://ADDRESS:PORT)",
    )
    parser.add_argument("--redirect-uri", action="append", default=[], help="the client's redirect URIs")
    parser.add_argument(
        "--tls-name",
        action="append",
        default=[],
        help="https only; a DNS:/IP: name of its certificate",
    )
    arguments = parser.parse_args()
    path: Path = arguments.path
    if arguments.command == "stop":
        if (path / "provider.json").exists():
            Provider.load(path).stop()
        return
    if (path / "provider.json").exists():
        provider = Provider.load(path)
    else:
        path.mkdir(parents=True, exist_ok=True)
        port = arguments.port or free_port()
        provider = Provider(
            path,
            port=port,
            address=arguments.address,
            public_url=arguments.public_url.replace("{port}", str(port)),
            redirect_uris=tuple(arguments.redirect_uri),
            tls_names=tuple(arguments.tls_name),
        )
        provider.save()
    provider.start()
    print(
        json.dumps(
            {
                "issuer": provider.issuer,
                "port": provider.port,
                "client_id": CLIENT_ID,
                "client_secret_file": str(provider.secret_file),
                "ca_file": str(provider.ca_cert) if provider.tls else "",
                "started_in_seconds": round(provider.started_in, 1),
                "rss_mib": provider.rss_kib // 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
