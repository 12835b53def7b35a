"""oauth2-proxy beside the sidecar in make bench: what users pick instead, measured the same way.

One container of oauth2-proxy (pinned, built from its Go module by scripts/build-oauth2-proxy.sh)
joins the pod as the throwaway nginx variants do, with the deployed htpasswd, in front of the
same app. It is asked two ways: Basic credentials on every request, which it checks against the
bcrypt hash each time (pkg/middleware/basic_session.go), and the session cookie its sign-in form
gives after one POST, which it decrypts instead.
"""

from __future__ import annotations

import math
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "scripts" / "build-oauth2-proxy.sh"
PORT = 8094
CONTAINER = "bench-oauth2-proxy"
SIGN_IN = "/oauth2/sign_in"
BASIC = "oauth2-proxy, Basic"
COOKIE = "oauth2-proxy, cookie"
FLOOD = ", wrong-password flood"
# Where the container finds its files.
AUTH_DIR = "/etc/oauth2-proxy/auth"
COOKIE_SECRET = "/etc/oauth2-proxy/cookie-secret"


def build_image(base_image: str) -> str:
    """The local image of the pinned oauth2-proxy, built the first time only."""
    return subprocess.run(
        [str(BUILD), base_image], check=True, stdout=subprocess.PIPE, text=True
    ).stdout.strip()


def arguments(app_port: int) -> list[str]:
    """oauth2-proxy's command line: a reverse proxy to the app that accepts the htpasswd's users,
    by Basic credentials on any request or by the session cookie of its sign-in form."""
    return [
        f"--http-address=127.0.0.1:{PORT}",
        f"--upstream=http://127.0.0.1:{app_port}/",
        # Enables both the Basic-auth session loader and the sign-in form's username/password.
        f"--htpasswd-file={AUTH_DIR}/htpasswd",
        f"--cookie-secret-file={COOKIE_SECRET}",
        # The bench speaks plain HTTP; a browser would not send a Secure cookie back over it.
        "--cookie-secure=false",
        # oauth2-proxy will not start without an OAuth provider. This one is never contacted:
        # Google's provider makes no call until someone starts its OAuth flow, and nothing here
        # does (the unauthenticated get the local sign-in page, as --skip-provider-button is off).
        "--provider=google",
        "--client-id=unused-by-the-bench",
        "--client-secret=unused-by-the-bench",
    ]


def run_command(
    image: str, sandbox: list[str], state_dir: str, secret_file: Path, app_port: int
) -> list[str]:
    """podman run for the container: sandbox is how the bench's nginx variants run (pod, user,
    read-only root, dropped capabilities, the deployed nginx's CPU and memory limits)."""
    return [
        "podman", "run", "--detach", *sandbox, "--name", CONTAINER,
        "--volume", f"{state_dir}/auth:{AUTH_DIR}:ro",
        "--volume", f"{secret_file}:{COOKIE_SECRET}:ro",
        image, *arguments(app_port),
    ]  # fmt: skip


def start(image: str, sandbox: list[str], state_dir: str, app_port: int, config_dir: Path) -> None:
    """Start the container with a cookie secret of its own, made for this run."""
    secret_file = config_dir / "oauth2-proxy-cookie-secret"
    secret_file.write_text(secrets.token_urlsafe(32))  # 32 bytes once decoded: AES-256
    # Readable by the container's group 0 (the owner's group, rootless or not), by no one else.
    secret_file.chmod(0o640)
    subprocess.run(["podman", "rm", "--force", CONTAINER], check=True, capture_output=True)
    command = run_command(image, sandbox, state_dir, secret_file, app_port)
    subprocess.run(command, check=True, capture_output=True)


def sign_in_command(netns_pid: str, user: str) -> list[str]:
    """curl in the pod's network namespace posting the sign-in form; the password comes on
    stdin, so that it shows in no process list. Retries while oauth2-proxy starts."""
    return [
        "nsenter", "--target", netns_pid, "--net",
        "curl", "--silent", "--show-error", "--retry", "10", "--retry-connrefused", "--retry-delay", "1",
        "--output", "/dev/null", "--dump-header", "-",
        "--data-urlencode", f"username={user}", "--data-urlencode", "password@-",
        f"http://127.0.0.1:{PORT}{SIGN_IN}",
    ]  # fmt: skip


def session_cookie(headers: str) -> str:
    """The Cookie header that sends back what the sign-in response set (name=value pairs; the
    session may be split across several cookies when large). Fails unless the sign-in worked."""
    lines = headers.replace("\r\n", "\n").split("\n")
    status = lines[0].split()
    pairs = [
        line.split(":", 1)[1].split(";", 1)[0].strip()
        for line in lines[1:]
        if line.lower().startswith("set-cookie:")
    ]
    if len(status) < 2 or status[1] != "302" or not pairs:
        raise RuntimeError(
            f"oauth2-proxy's sign-in form did not log in (status line {lines[0]!r}, "
            f"{len(pairs)} cookies): does {AUTH_DIR}/htpasswd hold the user with a bcrypt hash?"
        )
    return "; ".join(pairs)


def sign_in(netns_pid: str, user: str, password: str) -> str:
    """Log in once through the sign-in form; the Cookie header for the requests that follow."""
    done = subprocess.run(
        sign_in_command(netns_pid, user), input=password, check=False, capture_output=True, text=True
    )
    try:
        if done.returncode != 0:
            raise RuntimeError(f"curl could not post oauth2-proxy's sign-in form: {done.stderr.strip()}")
        return session_cookie(done.stdout)
    except RuntimeError as error:
        logs = subprocess.run(
            ["podman", "logs", "--tail", "20", CONTAINER], capture_output=True, text=True, check=False
        )
        raise RuntimeError(f"{error}\n{CONTAINER}'s last log lines:\n{logs.stdout}{logs.stderr}") from None


def stop() -> None:
    subprocess.run(["podman", "rm", "--force", CONTAINER], capture_output=True, check=False)


def ratio(over: float, under: float) -> float:
    """over / under; inf or nan (0 / 0) where nothing was answered within wrk's timeout, as can
    happen to Basic at 50 connections."""
    if under:
        return over / under
    return math.inf if over else math.nan


def summary(rps: Callable[[str, int], float], sidecar: str, connections: tuple[int, ...]) -> list[str]:
    """The lines after the table, from the median req/s of each configuration: the sidecar's over
    oauth2-proxy's, asked each way, and the share oauth2-proxy keeps under the flood."""

    def ratios(over: str, under: str) -> str:
        return " ".join(f"c{c}={ratio(rps(over, c), rps(under, c)):.2f}" for c in connections)

    ways = (("basic", BASIC), ("cookie", COOKIE))
    return [f"ratio sidecar/oauth2-proxy-{way}: {ratios(sidecar, label)}" for way, label in ways] + [
        f"oauth2-proxy-{way} legitimate req/s under the flood / undisturbed: {ratios(label + FLOOD, label)}"
        for way, label in ways
    ]
