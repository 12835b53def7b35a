"""A test CA and server certificates, made with openssl, for the tests' own servers (slapd,
Keycloak): short-lived EC P-256 keys in a directory of the test's."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_certificate_authority(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed EC CA in directory: (certificate, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "ca.pem", directory / "ca.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def make_server_certificate(
    directory: Path, ca_cert: Path, ca_key: Path, also: tuple[str, ...] = ()
) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, localhost and the also names (IP:... or DNS:...) signed by the
    CA: (certificate, key)."""
    cert, key, csr = directory / "server.pem", directory / "server.key", directory / "server.csr"
    extensions = directory / "server.ext"
    names = ",".join(["IP:127.0.0.1", "DNS:localhost", *also])
    extensions.write_text(f"subjectAltName={names}\nextendedKeyUsage=serverAuth\n")
    subprocess.run(
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", extensions],
        check=True, capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key
