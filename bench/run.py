"""make bench: the auth cache against the alternatives, measured side by side on this machine.

Redeploys the local podman deployment (make teardown, then make deploy cold and warm), adds
throwaway nginx containers with other configurations to the same pod, and drives each with wrk
from inside the pod's network namespace (127.0.0.1 only): 3 interleaved repetitions at 10 and
50 connections. Prints medians; the last line is the sidecar/no-auth ratio. Numbers, not
assertions: the machine is noisy. Names, paths, ports and the nginx container's settings are
the role's defaults, read from the role.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ldap_sidecar
import oauth2_proxy

ROOT = Path(__file__).resolve().parent.parent
ROLE = ROOT / "roles/sidecar_app"
DURATION = int(os.environ.get("BENCH_SECONDS", "8"))
REPETITIONS = int(os.environ.get("BENCH_REPETITIONS", "3"))
CONNECTIONS = (10, 50)
BCRYPT_ROUNDS = 10
# An upstream that answers in microseconds (nginx's own `return`), so that what the auth layer
# costs is not hidden behind the app's milliseconds. Listens on 127.0.0.1 in the pod.
FAST_UPSTREAM_PORT = 8095
FAST_UPSTREAM_CONFIG = f"""\
worker_processes 1;
error_log stderr warn;
pid /tmp/nginx.pid;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{FAST_UPSTREAM_PORT};
        location / {{ default_type text/plain; return 200 "Hello World"; }}
    }}
}}
"""


@dataclass(frozen=True)
class Configuration:
    """One thing measured: a port in the pod, and how it is asked."""

    label: str
    port: int
    credentials: bool = True  # sends the right password
    cookie: bool = False  # sends oauth2-proxy's session cookie
    variant: str = ""  # the throwaway nginx it needs (variant_config), if any
    flood: bool = False  # 10 more connections send wrong passwords meanwhile

    @property
    def auth(self) -> str:
        """How the variant authenticates: none, basic, steady, sidecar (as deployed) or ldap."""
        return self.variant.removeprefix("fast-")

    @property
    def fast_upstream(self) -> bool:
        return self.variant.startswith("fast-")

    def proxy_container(self, name: str) -> str | None:
        """The container of the proxy that serves it (none for the app alone), whose CPU time is
        measured."""
        if self.variant:
            return f"bench-{self.variant}"
        if self.port == oauth2_proxy.PORT:
            return oauth2_proxy.CONTAINER
        return None if self.label == "app alone" else f"{name}-proxy"


def configurations(role: dict[str, Any]) -> list[Configuration]:
    """Everything measured, in the order shown."""
    sidecar = int(role["proxy_port"])
    return [
        Configuration("app alone", int(role["app_port"]), credentials=False),
        Configuration("nginx, no auth", 8091, credentials=False, variant="none"),
        Configuration(f"auth_basic, bcrypt {BCRYPT_ROUNDS}", 8092, variant="basic"),
        Configuration("sidecar", sidecar),
        Configuration("sidecar, wrong-password flood", sidecar, flood=True),
        Configuration("sidecar, no expiry (steady)", 8093, variant="steady"),
        Configuration("fast upstream, no auth", 8096, credentials=False, variant="fast-none"),
        Configuration("fast upstream, sidecar", 8097, variant="fast-sidecar"),
        Configuration(ldap_sidecar.LABEL, ldap_sidecar.PORT, variant=ldap_sidecar.VARIANT),
        Configuration(ldap_sidecar.FLOOD, ldap_sidecar.PORT, variant=ldap_sidecar.VARIANT, flood=True),
        *oauth2_proxy_configurations(),
    ]


def oauth2_proxy_configurations() -> list[Configuration]:
    basic, cookie, port = oauth2_proxy.BASIC, oauth2_proxy.COOKIE, oauth2_proxy.PORT
    flood = oauth2_proxy.FLOOD
    return [
        Configuration(basic, port),
        Configuration(basic + flood, port, flood=True),
        Configuration(cookie, port, credentials=False, cookie=True),
        Configuration(cookie + flood, port, credentials=False, cookie=True, flood=True),
    ]


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    proxy_cpu_s: float = math.nan  # CPU time its proxy's container used during the run

    @property
    def cpu_us_per_request(self) -> float:
        return self.proxy_cpu_s / self.requests * 1e6 if self.requests else math.nan


def run(*args: str, **kwargs: object) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs).stdout  # type: ignore[call-overload]


# What the bench needs of the role, as Ansible evaluates its defaults for `make deploy`.
ROLE_VALUES = {
    "name": "sidecar_app_name",
    "password_dir": "sidecar_app_password_dir",
    "state_dir": "sidecar_app_state_dir",
    "app_port": "sidecar_app_app_port",
    "proxy_port": "__sidecar_app_proxy_port",
    "verifier_port": "__sidecar_app_verifier_port",
    "uid": "sidecar_app_podman_uid",
    "tmpfs": "__sidecar_app_podman_tmpfs_options['proxy-tmp']",
    "base_image": "sidecar_app_base_image",
}


def role_values() -> dict[str, Any]:
    """ROLE_VALUES from roles/sidecar_app/defaults/main.yml and vars/main.yml."""
    template = (
        "{{ {" + ", ".join(f"'{key}': {value}" for key, value in ROLE_VALUES.items()) + "} | to_json }}"
    )
    out = run(
        str(Path(sys.executable).parent / "ansible"), "localhost", "--one-line",
        "-m", "ansible.builtin.debug", "-a", json.dumps({"msg": template}),
        "-e", f"@{ROLE}/defaults/main.yml", "-e", f"@{ROLE}/vars/main.yml",
        cwd=ROOT,
    )  # fmt: skip
    values: dict[str, Any] = json.loads(json.loads(out.split(" => ", 1)[1])["msg"])
    return values


def timed_make(target: str, extra: str = "") -> float:
    env = {k: v for k, v in os.environ.items() if k != "SIDECAR_APP_PASSWORD"}
    env["DEPLOY_ARGS"] = extra
    started = time.monotonic()
    done = subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"make {target} failed:\n{(done.stdout + done.stderr)[-4000:]}")
    return time.monotonic() - started


def milliseconds(text: str) -> float:
    """wrk's latency (850.00us, 1.20ms, 2.01s) in ms; NaN when no request finished (-nan%)."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return math.nan
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    netns_pid: str,
    port: int,
    connections: int,
    header: str | None,
    script: str | None = None,
    cookie: str = "",
) -> Result:
    command = ["nsenter", "--target", netns_pid, "--net", "wrk", "-t2", f"-c{connections}", f"-d{DURATION}s"]
    command += ["--latency", "--timeout", "10s"]
    if header:
        command += ["-H", f"Authorization: {header}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script:
        command += ["-s", script]
    out = run(*command, f"http://127.0.0.1:{port}/")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50, p99 = (milliseconds(match.group(1)) if match else math.nan for match in latencies(out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)
    return Result(rps, p50, p99, errors, requests)


def latencies(out: str) -> tuple[re.Match[str] | None, re.Match[str] | None]:
    # Anchored: the Stdev column above ends in a percentage too (90.50%).
    return re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE), re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)


def container_pids(container: str) -> list[str]:
    return run("podman", "top", container, "hpid").split()[1:]


def cpu_ticks(stat: str) -> int:
    """User plus system CPU time of a process, from its /proc/<pid>/stat."""
    # Fields 14 and 15 (utime, stime); the command name before them, in parentheses, may hold spaces.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pids: list[str]) -> float:
    """User and system CPU time of these processes so far."""
    ticks = 0
    for pid in pids:
        try:
            ticks += cpu_ticks(Path(f"/proc/{pid}/stat").read_text())
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(pids: list[str], timeout: float = 120.0) -> None:
    """Wait until the pod is idle. A proxy finishes the password checks of requests whose client
    has gone (nginx's auth_basic and oauth2-proxy run bcrypt for each): seconds of CPU after a run
    at 50 connections that would otherwise slow the next measurement on this machine."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pids)
        if now - before <= 0.02:
            return
        before = now
    sys.exit(f"the pod was still busy {timeout:.0f} s after a measurement")


def wait_for_app(netns_pid: str, app_port: int, timeout: float = 60.0) -> None:
    """Wait until the app answers at once. oauth2-proxy (Go's HTTP client) opens connections to
    the app that it keeps idle without sending a request, and each of gunicorn's sync workers
    that accepts one waits on it until gunicorn's 30 s worker timeout: without this wait, the
    runs after oauth2-proxy's measured the app's stall (0 requests), not the configuration."""
    probe = f"import urllib.request as u; u.urlopen('http://127.0.0.1:{app_port}/healthz', timeout=1).read()"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answered = subprocess.run(
            ["nsenter", "--target", netns_pid, "--net", sys.executable, "-c", probe],
            capture_output=True, check=False,
        )  # fmt: skip
        if answered.returncode == 0:
            return
    sys.exit(f"the app did not answer within {timeout:.0f} s")


def rss_kib(pids: list[str]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(match.group(1)) if match else 0
    return total


class PeakMemory(threading.Thread):
    """Samples the resident memory of the proxy and verifier containers while a run goes on."""

    def __init__(self, name: str) -> None:
        super().__init__(daemon=True)
        self.peak = {"proxy": 0, "verifier": 0}
        self.pids = {c: container_pids(f"{name}-{c}") for c in self.peak}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            for component, pids in self.pids.items():
                self.peak[component] = max(self.peak[component], rss_kib(pids))


# How the deployed nginx.conf asks for the login (in location /) and starts the auth cache.
LOGIN = '            access_by_lua_block { require("sidecar_auth_cache").check() }\n'
CACHE_INIT = 'init_by_lua_block { require("sidecar_auth_cache").init() }'


def variant_config(
    config: str,
    deployed_port: int,
    port: int,
    auth: str,
    upstream: tuple[int, int] | None = None,
    verifier: tuple[int, int] | None = None,
) -> str:
    """The deployed nginx.conf with another port and authentication, with upstream = (app port,
    other port) in front of another upstream, and with verifier = (verifier port, other port)
    asking another verifier; for comparison only."""
    listen = f"listen {deployed_port} default_server;"
    assert listen in config, f"the deployed nginx.conf does not {listen}"
    config = config.replace(listen, f"listen {port} default_server;")
    if upstream:
        app = "server 127.0.0.1:{} max_fails=0;"
        assert app.format(upstream[0]) in config, "the deployed nginx.conf has no app upstream"
        config = config.replace(app.format(upstream[0]), app.format(upstream[1]))
    if verifier:
        server = "server 127.0.0.1:{} max_fails=0;"
        assert server.format(verifier[0]) in config, "the deployed nginx.conf has no verifier upstream"
        config = config.replace(server.format(verifier[0]), server.format(verifier[1]))
    if auth in ("sidecar", "ldap"):
        return config
    assert LOGIN in config, "the deployed nginx.conf does not use the auth cache"
    if auth == "none":
        # No user to pass on: an empty value drops the header.
        return config.replace(LOGIN, "").replace("$auth_user;", '"";')
    if auth == "basic":
        stock = (
            '            auth_basic "Restricted";\n'
            "            auth_basic_user_file /etc/nginx/auth/htpasswd;\n"
        )
        return config.replace(LOGIN, stock).replace("$auth_user;", "$remote_user;")
    assert auth == "steady"
    # Every answer kept an hour, whatever the verifier's Cache-Control says.
    assert CACHE_INIT in config, "the deployed nginx.conf starts the auth cache otherwise than expected"
    return config.replace(CACHE_INIT, CACHE_INIT.replace("init()", "init({ keep_seconds = 3600 })"))


def sandbox(role: dict[str, Any], limits_of: str) -> list[str]:
    """podman run's options for a container beside the deployed nginx, run as the role runs that
    one: in its pod, its user and /tmp from the role, and the limits podman gives container
    limits_of."""
    memory, nano_cpus = run(
        "podman", "inspect", "--format", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}", limits_of
    ).split()  # fmt: skip
    return [
        "--pod", role["name"], "--user", f"{role['uid']}:0", "--read-only",
        "--tmpfs", f"/tmp:{role['tmpfs']}", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--memory", memory, "--cpus", str(int(nano_cpus) / 1e9),
    ]  # fmt: skip


def start_variant(role: dict[str, Any], image: str, config_dir: Path, variant: Configuration) -> None:
    """A container of the proxy image beside the deployed nginx, with another nginx.conf."""
    name = role["name"]
    deployed = run("podman", "exec", f"{name}-proxy", "cat", "/etc/nginx/nginx.conf")
    upstream = (int(role["app_port"]), FAST_UPSTREAM_PORT) if variant.fast_upstream else None
    verifier = (int(role["verifier_port"]), ldap_sidecar.VERIFIER_PORT) if variant.auth == "ldap" else None
    config = variant_config(deployed, int(role["proxy_port"]), variant.port, variant.auth, upstream, verifier)
    start_nginx(role, image, config_dir, variant.variant, config, limits_of=f"{name}-proxy")


def start_nginx(
    role: dict[str, Any], image: str, config_dir: Path, variant: str, config: str, limits_of: str
) -> None:
    """nginx of the proxy image as container bench-VARIANT of the pod, with this nginx.conf, the
    user, /tmp and flags the role gives the deployed nginx, and the limits of container limits_of."""
    config_file = config_dir / f"{variant}.conf"
    config_file.write_text(config)
    config_file.chmod(0o644)
    run("podman", "rm", "--force", f"bench-{variant}")
    run(
        "podman", "run", "--detach", *sandbox(role, limits_of), "--name", f"bench-{variant}",
        "--volume", f"{config_file}:/etc/nginx/nginx.conf:ro",
        "--volume", f"{role['state_dir']}/auth:/etc/nginx/auth:ro",
        image,
    )  # fmt: skip


def main() -> None:
    # Stopped with SIGTERM, it still removes its throwaway containers (the finally below).
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(128 + signal.SIGTERM))
    role = role_values()
    name, measured = role["name"], configurations(role)
    # One throwaway nginx per variant, also where two configurations share it.
    variants = list({c.variant: c for c in measured if c.variant}.values())
    oauth2_proxy_image = oauth2_proxy.build_image(role["base_image"])
    print("Redeploying the local deployment: make teardown, make deploy (cold), make deploy (warm) ...")
    timed_make("teardown")
    cold = timed_make("deploy", f"-e sidecar_app_bcrypt_rounds={BCRYPT_ROUNDS}")
    warm = timed_make("deploy", f"-e sidecar_app_bcrypt_rounds={BCRYPT_ROUNDS}")
    password = (Path(role["password_dir"]) / "admin.password").read_text().strip()
    header = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    image = run("podman", "inspect", "--format", "{{.ImageName}}", f"{name}-proxy").strip()
    app_image = run("podman", "inspect", "--format", "{{.ImageName}}", f"{name}-app").strip()
    infra = run("podman", "pod", "inspect", "--format", "{{.InfraContainerID}}", name).strip()
    netns_pid = run("podman", "inspect", "--format", "{{.State.Pid}}", infra).strip()
    flood_script = str(ROOT / "bench" / "wrong-passwords.lua")

    results: dict[tuple[str, int], list[Result]] = {}
    memory = {"proxy": 0, "verifier": 0}
    containers = [f"bench-{variant.variant}" for variant in variants] + [
        "bench-fast-upstream",
        ldap_sidecar.VERIFIER,
    ]
    directory = None
    with tempfile.TemporaryDirectory() as config_dir:
        try:
            # The app's limits: it stands in for the app.
            start_nginx(role, image, Path(config_dir), "fast-upstream", FAST_UPSTREAM_CONFIG, f"{name}-app")
            deployed_env = dict(
                variable.split("=", 1)
                for variable in json.loads(
                    run("podman", "inspect", "--format", "{{json .Config.Env}}", f"{name}-verifier")
                )
                if variable.startswith(("AUTH_", "VERIFIER_"))
            )
            directory = ldap_sidecar.start(
                image, sandbox(role, f"{name}-verifier"), deployed_env, Path(config_dir)
            )
            for variant in variants:
                start_variant(role, image, Path(config_dir), variant)
            oauth2_proxy.start(
                oauth2_proxy_image,
                sandbox(role, f"{name}-proxy"),
                role["state_dir"],
                int(role["app_port"]),
                Path(config_dir),
            )
            time.sleep(2)
            for container in containers:
                state = run("podman", "inspect", "--format", "{{.State.Running}}", container).strip()
                if state != "true":
                    logs = subprocess.run(
                        ["podman", "logs", container], capture_output=True, text=True, check=False
                    )
                    sys.exit(f"{container} did not start:\n{logs.stdout}{logs.stderr}")
            deployed = [f"{name}-{part}" for part in ("app", "proxy", "verifier")]
            pod = [*deployed, *containers, oauth2_proxy.CONTAINER]
            pod_pids = [pid for container in pod for pid in container_pids(container)]
            cookie = oauth2_proxy.sign_in(netns_pid, "admin", password)
            for repetition in range(1, REPETITIONS + 1):
                print(f"repetition {repetition}/{REPETITIONS} ...", flush=True)
                for configuration in measured:
                    for connections in CONNECTIONS:
                        sampler = (
                            PeakMemory(name)
                            if configuration.label == "sidecar" and connections == 50
                            else None
                        )
                        flood = None
                        if sampler:
                            sampler.start()
                        if configuration.flood:
                            flood = threading.Thread(
                                target=wrk, args=(netns_pid, configuration.port, 10, None, flood_script)
                            )
                            flood.start()
                        auth = (
                            (ldap_sidecar.header() if configuration.auth == "ldap" else header)
                            if configuration.credentials
                            else None
                        )
                        proxy = configuration.proxy_container(name)
                        proxy_pids = container_pids(proxy) if proxy else []
                        cpu_before = cpu_seconds(proxy_pids)
                        session = cookie if configuration.cookie else ""
                        result = wrk(netns_pid, configuration.port, connections, auth, cookie=session)
                        result.proxy_cpu_s = cpu_seconds(proxy_pids) - cpu_before if proxy else math.nan
                        if flood:
                            flood.join()
                        settle(pod_pids)
                        wait_for_app(netns_pid, int(role["app_port"]))
                        if sampler:
                            sampler.done.set()
                            sampler.join()
                            memory = {k: max(memory[k], v) for k, v in sampler.peak.items()}
                        results.setdefault((configuration.label, connections), []).append(result)
                        print(f"  {configuration.label}, {connections} conns: {result}", flush=True)
            misses = ldap_sidecar.miss_milliseconds(netns_pid)
        finally:
            for container in containers:
                subprocess.run(["podman", "rm", "--force", container], capture_output=True, check=False)
            oauth2_proxy.stop()
            ldap_sidecar.stop(directory)

    def median(label: str, connections: int, field: str) -> float:
        return statistics.median(getattr(r, field) for r in results[(label, connections)])

    print()
    columns = (
        ("conns", 5), ("req/s", 9), ("p50 ms", 8), ("p99 ms", 8), ("errors", 7), ("vs no auth", 10),
        ("proxy CPU us/req", 16),
    )  # fmt: skip
    label_width = max(len(label) for label, connections in results)
    print(f"{'configuration':{label_width}} " + " ".join(f"{title:>{width}}" for title, width in columns))
    for (label, connections), runs in results.items():
        rps = median(label, connections, "rps")
        no_auth = "fast upstream, no auth" if label.startswith("fast upstream") else "nginx, no auth"
        ratio = rps / median(no_auth, connections, "rps")
        errors = sum(r.errors for r in runs)
        print(
            f"{label:{label_width}} {connections:>5} {rps:>9.0f} "
            f"{median(label, connections, 'p50_ms'):>8.2f} "
            f"{median(label, connections, 'p99_ms'):>8.2f} {errors:>7} {ratio:>10.2f} "
            f"{median(label, connections, 'cpu_us_per_request'):>16.1f}"
        )
    print()
    for connections in CONNECTIONS:
        flood = median("sidecar, wrong-password flood", connections, "rps") / median(
            "sidecar", connections, "rps"
        )
        expiry = median("sidecar", connections, "p99_ms") / median(
            "sidecar, no expiry (steady)", connections, "p99_ms"
        )
        gap = median("sidecar", connections, "p50_ms") - median("app alone", connections, "p50_ms")
        print(
            f"c{connections}: legitimate req/s under the flood / undisturbed = {flood:.2f}; "
            f"p99 across cache expiry / steady = {expiry:.2f}; sidecar p50 - app-alone p50 = {gap:.2f} ms"
        )
    sizes = {
        n: int(run("podman", "image", "inspect", "--format", "{{.Size}}", i)) / 1e6
        for n, i in (("app", app_image), ("proxy", image))
    }
    print(f"make deploy: cold {cold:.1f} s (images built), warm {warm:.1f} s (nothing changed)")
    print(f"image MB: app={sizes['app']:.0f} proxy={sizes['proxy']:.0f}")
    print(
        f"peak resident memory under load: nginx {memory['proxy'] / 1024:.1f} MiB, "
        f"verifier {memory['verifier'] / 1024:.1f} MiB"
    )

    def per_connections(compute: Callable[[int], float], digits: int = 2) -> str:
        return " ".join(f"c{c}={compute(c):.{digits}f}" for c in CONNECTIONS)

    def ratio(field: str, label: str, other: str) -> Callable[[int], float]:
        return lambda c: median(label, c, field) / median(other, c, field)

    def difference(field: str, label: str, other: str) -> Callable[[int], float]:
        return lambda c: median(label, c, field) - median(other, c, field)

    print(f"p99 sidecar/no-auth: {per_connections(ratio('p99_ms', 'sidecar', 'nginx, no auth'))}")
    fast_ratio = ratio("rps", "fast upstream, sidecar", "fast upstream, no auth")
    print(f"fast upstream ratio sidecar/no-auth: {per_connections(fast_ratio)}")
    cpu_cost = difference("cpu_us_per_request", "fast upstream, sidecar", "fast upstream, no auth")
    print(f"fast upstream auth cost us: {per_connections(cpu_cost, digits=0)}")
    print(*oauth2_proxy.summary(lambda label, c: median(label, c, "rps"), "sidecar", CONNECTIONS), sep="\n")
    print(
        f"ldap ratio sidecar/no-auth: {per_connections(ratio('rps', ldap_sidecar.LABEL, 'nginx, no auth'))}"
    )
    ldap_flood = per_connections(ratio("rps", ldap_sidecar.FLOOD, ldap_sidecar.LABEL))
    print(f"ldap legitimate req/s under the flood / undisturbed: {ldap_flood}")
    print(ldap_sidecar.miss_summary(misses))
    print(f"ratio sidecar/no-auth: {per_connections(ratio('rps', 'sidecar', 'nginx, no auth'))}")


if __name__ == "__main__":
    sys.exit(main())
