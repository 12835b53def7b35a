"""A real OpenLDAP directory for the tests: Debian's slapd on 127.0.0.1, with a test CA.

Directory(path).start() makes a CA and a server certificate with openssl, a cn=config directory
of its own (slapadd), the users and the group of USERS/GROUP, and runs slapd in the foreground on
two free high ports: ldap:// (StartTLS offered) and ldaps://. stop() and start() again keep the
same ports and data, for the tests of a directory that goes away and comes back.

molecule/ldap runs it in the background, beyond the command that starts it:

    python3 tests/ldap_directory.py start PATH [--address IP] [--name DNS:name]...
    python3 tests/ldap_directory.py stop PATH

start keeps its ports and names in PATH/directory.json (Directory.load(PATH) reads them back);
stop stops the slapd of PATH/slapd.pid, if one runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from certificates import make_certificate_authority, make_server_certificate
from processes import end, free_port

SUFFIX = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"
SERVICE_DN = f"cn=verifier,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUP_DN = f"cn=app-users,ou=groups,{SUFFIX}"
POLICY_DN = f"cn=default,ou=policies,{SUFFIX}"

# uid -> password. Names that a filter must not take literally, a long one and a non-ASCII one.
USERS = {
    "alice": "alice-password",
    "bob": "bob-password",
    "carol": "carol-password",
    "star*": "star-password",
    "paren(x)": "paren-password",
    "back\\slash": "backslash-password",
    "x" * 200: "long-password",
    "zoë-ümlaut": "nonascii-pässword",
}
# Members of GROUP_DN: everyone but bob.
GROUP_MEMBERS = [name for name in USERS if name != "bob"]


def user_dn(uid: str) -> str:
    """The DN of a test user: uid=<escaped>,ou=people (RFC 4514 escaping of the few we use)."""
    escaped = "".join("\\" + char if char in '\\,+"<>;=#' else char for char in uid)
    return f"uid={escaped},{PEOPLE}"


def ldif_value(name: str, value: str) -> str:
    """One attribute line; base64 (::) where LDIF does not allow the value as it is."""
    import base64

    if value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<")):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


@dataclass
class Directory:
    """A slapd of the test's own under path, stopped by stop() (and by the fixture that made it).

    tls_addresses: further addresses where ldaps:// listens (molecule/ldap: podman's bridge, for
    the pod), and tls_names the further names of its certificate (IP:... or DNS:...)."""

    path: Path
    port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    tls_addresses: tuple[str, ...] = ()
    tls_names: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def listen_uris(self) -> list[str]:
        further = [f"ldaps://{address}:{self.tls_port}" for address in self.tls_addresses]
        return [self.uri, self.tls_uri, *further]

    @property
    def ca_cert(self) -> Path:
        return self.path / "ca" / "ca.pem"

    def create(self) -> None:
        ca_cert, ca_key = make_certificate_authority(self.path / "ca", "authproxy test CA")
        cert, key = make_server_certificate(self.path / "ca", ca_cert, ca_key, self.tls_names)
        config, data = self.path / "slapd.d", self.path / "data"
        config.mkdir()
        data.mkdir()
        config_ldif = self.path / "config.ldif"
        config_ldif.write_text(f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {self.path}/slapd.pid
olcTLSCACertificateFile: {ca_cert}
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: ppolicy
olcModuleLoad: memberof

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: 500

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcDbDirectory: {data}
olcDbMaxSize: 67108864
olcSuffix: {SUFFIX}
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PASSWORD}
olcAccess: {{0}}to attrs=userPassword by self =xw by anonymous auth by * none
olcAccess: {{1}}to dn.subtree="ou=groups,{SUFFIX}" by users read by * none
olcAccess: {{2}}to * by dn.exact="{SERVICE_DN}" read by self read by * none

dn: olcOverlay={{0}}ppolicy,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {{0}}ppolicy
olcPPolicyDefault: {POLICY_DN}

# memberOf on each user, kept from the groups' member (as Active Directory has it). slapadd
# bypasses overlays: the group is added once slapd runs (start()).
dn: olcOverlay={{1}}memberof,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {{1}}memberof
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
""")
        run(["slapadd", "-n", "0", "-F", str(config), "-l", str(config_ldif)])
        data_ldif = self.path / "data.ldif"
        data_ldif.write_text(self.entries())
        run(["slapadd", "-n", "1", "-F", str(config), "-l", str(data_ldif)])

    def entries(self) -> str:
        blocks = [
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
            f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people",
            f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups",
            f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
            # Lets the administrator lock an account (pwdAccountLockedTime), as a disabled one.
            f"dn: ou=policies,{SUFFIX}\nobjectClass: organizationalUnit\nou: policies",
            f"dn: {POLICY_DN}\nobjectClass: device\nobjectClass: pwdPolicy\ncn: default\n"
            "pwdAttribute: userPassword\npwdLockout: TRUE",
            # Cleartext userPassword: slapd compares it as it is; a test directory only.
            f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
            f"cn: verifier\nuserPassword: {SERVICE_PASSWORD}",
        ]
        for uid, password in USERS.items():
            blocks.append(
                "\n".join(
                    [
                        ldif_value("dn", user_dn(uid)),
                        "objectClass: inetOrgPerson",
                        ldif_value("uid", uid),
                        ldif_value("cn", uid),
                        "sn: Test",
                        ldif_value("userPassword", password),
                    ]
                )
            )
        return "\n\n".join(blocks) + "\n"

    def group(self) -> str:
        members = "\n".join(ldif_value("member", user_dn(uid)) for uid in GROUP_MEMBERS)
        return f"dn: {GROUP_DN}\nchangetype: add\nobjectClass: groupOfNames\ncn: app-users\n{members}\n"

    def start(self) -> None:
        first = not (self.path / "slapd.d").exists()
        if first:
            self.create()
        # -d stats: every connection, bind and search, with its result, in slapd.log.
        # A session of its own: started by a play's command task (molecule's create), slapd was
        # in the process group of Ansible's worker, which a play's end terminates with its whole
        # group when the worker has not exited yet (ansible-core's TaskQueueManager does not wait
        # by default), as happens on a busy machine.
        with (self.path / "slapd.log").open("ab") as log:
            self.process = subprocess.Popen(
                ["slapd", "-d", "stats", "-h", " ".join(self.listen_uris), "-F", str(self.path / "slapd.d")],
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(self.path / 'slapd.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("slapd did not listen within 10 s")
        if first:
            self.modify(self.group())

    def save(self) -> None:
        fields = ("port", "tls_port", "tls_addresses", "tls_names")
        (self.path / "directory.json").write_text(json.dumps({name: getattr(self, name) for name in fields}))

    @classmethod
    def load(cls, path: Path) -> Directory:
        saved = json.loads((path / "directory.json").read_text())
        saved["tls_addresses"], saved["tls_names"] = tuple(saved["tls_addresses"]), tuple(saved["tls_names"])
        return cls(path, **saved)

    def stop(self) -> None:
        if self.process is None:
            self._stop_started_elsewhere()
        elif self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # slapd's clean shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _stop_started_elsewhere(self) -> None:
        """Stop the slapd of the pid file, which another process started."""
        try:
            pid = int((self.path / "slapd.pid").read_text())
        except (OSError, ValueError):
            return  # none runs
        end(pid, signal.SIGINT)

    def set_password(self, uid: str, password: str) -> None:
        self.modify(
            f"{ldif_value('dn', user_dn(uid))}\nchangetype: modify\nreplace: userPassword\n"
            f"{ldif_value('userPassword', password)}\n"
        )

    def modify(self, ldif: str) -> None:
        """Apply an LDIF change as the directory's administrator, with ldapmodify."""
        subprocess.run(
            ["ldapmodify", "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
            input=ldif.encode(), check=True, capture_output=True,
        )  # fmt: skip


def run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr[-2000:]}")


def slapd_available() -> bool:
    return all(shutil.which(tool) for tool in ("slapd", "slapadd", "ldapmodify", "openssl"))


def main() -> None:
    parser = argparse.ArgumentParser(description="A test slapd in the background (molecule/ldap).")
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--port", type=int, default=0, help="of ldap:// (default: a free one)")
    parser.add_argument("--tls-port", type=int, default=0, help="of ldaps:// (default: a free one)")
    parser.add_argument("--address", action="append", default=[], help="where ldaps:// also listens")
    parser.add_argument("--name", action="append", default=[], help="IP:... or DNS:... of the certificate")
    arguments = parser.parse_args()
    path: Path = arguments.path
    if arguments.command == "stop":
        if (path / "directory.json").exists():
            Directory.load(path).stop()
        return
    if (path / "directory.json").exists():
        directory = Directory.load(path)
    else:
        path.mkdir(parents=True, exist_ok=True)
        directory = Directory(
            path,
            port=arguments.port or free_port(),
            tls_port=arguments.tls_port or free_port(),
            tls_addresses=tuple(arguments.address),
            tls_names=tuple(arguments.name),
        )
        directory.save()
    directory.start()
    print(json.dumps({"tls_port": directory.tls_port, "ca": str(directory.ca_cert)}))


if __name__ == "__main__":
    main()
