"""bench/run.py takes its names, paths and ports from the role, and measures each thing once;
bench/oauth2_proxy.py runs oauth2-proxy as the nginx variants run and signs in once."""

from __future__ import annotations

import math
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from repository import ROOT, load_source

# Under the name bench/run.py imports it by (bench/ is on the path when it runs as a script).
oauth2_proxy = load_source("bench/oauth2_proxy.py", "oauth2_proxy")
ldap_sidecar = load_source("bench/ldap_sidecar.py", "ldap_sidecar")
bench = load_source("bench/run.py", "bench_run")
ROLE = {
    "name": "hello-sidecar",
    "app_port": 8080,
    "proxy_port": 8081,
    "uid": 1000680000,
    "tmpfs": "rw,size=64m",
    "state_dir": "/state",
}


def test_the_bench_takes_the_role_defaults_as_ansible_evaluates_them() -> None:
    defaults = yaml.safe_load((ROOT / "roles/sidecar_app/defaults/main.yml").read_text())
    internal = yaml.safe_load((ROOT / "roles/sidecar_app/vars/main.yml").read_text())
    values = bench.role_values()
    name = defaults["sidecar_app_name"]
    assert values["name"] == name
    assert values["app_port"] == defaults["sidecar_app_app_port"]
    assert values["uid"] == defaults["sidecar_app_podman_uid"]
    assert values["proxy_port"] == internal["__sidecar_app_proxy_port"]
    assert values["tmpfs"] == internal["__sidecar_app_podman_tmpfs_options"]["proxy-tmp"]
    assert values["base_image"] == defaults["sidecar_app_base_image"]
    assert Path(values["password_dir"]) == Path.home() / ".config/authproxy-sidecar" / name
    assert Path(values["state_dir"]) == Path.home() / ".local/state/authproxy-sidecar" / name


def test_each_configuration_is_measured_once_and_each_variant_on_a_port_of_its_own() -> None:
    role = {"app_port": 8080, "proxy_port": 8081}
    measured = bench.configurations(role)
    assert len({configuration.label for configuration in measured}) == len(measured)
    ports_of = {}
    for configuration in measured:
        if configuration.variant:
            ports_of.setdefault(configuration.variant, set()).add(configuration.port)
    assert all(len(ports) == 1 for ports in ports_of.values())
    ports = [port for (port,) in ports_of.values()]
    assert len(set(ports)) == len(ports)
    assert not set(ports) & set(role.values())
    assert set(ports_of) == {"none", "basic", "steady", "fast-none", "fast-sidecar", "ldap"}
    assert ldap_sidecar.VERIFIER_PORT not in [*ports, *role.values(), 9091]
    assert bench.FAST_UPSTREAM_PORT not in ports + list(role.values())
    assert f"listen 127.0.0.1:{bench.FAST_UPSTREAM_PORT};" in bench.FAST_UPSTREAM_CONFIG
    assert oauth2_proxy.PORT not in [*ports, *role.values()]


def test_a_variant_listens_on_its_port_instead_of_the_deployed_one() -> None:
    deployed = (
        "    server {\n        listen 8081 default_server;\n"
        + bench.LOGIN
        + "        proxy_set_header X-Forwarded-User $auth_user;\n    }\n"
    )
    config = bench.variant_config(deployed, 8081, 8091, "none")
    assert "listen 8091 default_server;" in config
    assert "8081" not in config
    assert "access_by_lua" not in config


def test_the_stock_variant_checks_the_htpasswd_in_nginx_and_the_steady_one_keeps_answers_an_hour() -> None:
    deployed = (
        f"    {bench.CACHE_INIT}\n"
        "    server {\n        listen 8081 default_server;\n"
        "        location / {\n" + bench.LOGIN + "        }\n"
        "        proxy_set_header X-Forwarded-User $auth_user;\n    }\n"
    )
    stock = bench.variant_config(deployed, 8081, 8092, "basic")
    assert "access_by_lua" not in stock
    assert "auth_basic_user_file /etc/nginx/auth/htpasswd;" in stock
    assert "X-Forwarded-User $remote_user;" in stock
    steady = bench.variant_config(deployed, 8081, 8093, "steady")
    assert bench.LOGIN in steady
    assert 'require("sidecar_auth_cache").init({ keep_seconds = 3600 })' in steady


def test_a_fast_upstream_variant_keeps_the_auth_and_proxies_to_the_fast_upstream() -> None:
    deployed = (
        "    upstream app {\n        server 127.0.0.1:8080 max_fails=0;\n    }\n"
        "    server {\n        listen 8081 default_server;\n" + bench.LOGIN + "    }\n"
    )
    config = bench.variant_config(deployed, 8081, 8097, "sidecar", upstream=(8080, bench.FAST_UPSTREAM_PORT))
    assert f"server 127.0.0.1:{bench.FAST_UPSTREAM_PORT} max_fails=0;" in config
    assert "8080" not in config
    assert bench.LOGIN in config
    assert "listen 8097 default_server;" in config


def test_the_ldap_variant_keeps_the_auth_and_asks_the_ldap_verifier() -> None:
    deployed = (
        "    upstream verifier {\n        server 127.0.0.1:9091 max_fails=0;\n    }\n"
        "    server {\n        listen 8081 default_server;\n" + bench.LOGIN + "    }\n"
    )
    port, verifier = ldap_sidecar.PORT, ldap_sidecar.VERIFIER_PORT
    config = bench.variant_config(deployed, 8081, port, "ldap", verifier=(9091, verifier))
    assert f"server 127.0.0.1:{verifier} max_fails=0;" in config
    assert "9091" not in config
    assert bench.LOGIN in config
    assert f"listen {port} default_server;" in config


def test_the_ldap_verifier_runs_in_ldap_mode_with_the_deployed_settings() -> None:
    deployed = {"VERIFIER_PORT": "9091", "AUTH_REALM": "Restricted", "AUTH_CACHE_SECONDS": "4"}
    environment = ldap_sidecar.verifier_environment(deployed, "ldaps://10.88.0.1:636")
    assert environment["VERIFIER_PORT"] == str(ldap_sidecar.VERIFIER_PORT)
    assert environment["AUTH_SOURCE"] == "ldap"
    assert environment["AUTH_CACHE_SECONDS"] == "4"
    assert environment["LDAP_URIS"] == "ldaps://10.88.0.1:636"
    assert environment["LDAP_BIND_PASSWORD_FILE"].startswith(ldap_sidecar.SECRET_DIR + "/")


def test_cpu_time_is_read_for_the_processes_given() -> None:
    busy_until = time.process_time() + 0.2
    while time.process_time() < busy_until:
        pass
    assert bench.cpu_seconds([str(os.getpid())]) >= 0.2
    assert bench.cpu_seconds(["999999999"]) == 0


def test_oauth2_proxy_is_asked_with_basic_credentials_or_its_cookie_and_each_way_under_the_flood() -> None:
    measured = [c for c in bench.configurations({"app_port": 8080, "proxy_port": 8081}) if c.port == 8094]
    asked = {(c.label, c.credentials, c.cookie, c.flood) for c in measured}
    assert asked == {
        ("oauth2-proxy, Basic", True, False, False),
        ("oauth2-proxy, Basic, wrong-password flood", True, False, True),
        ("oauth2-proxy, cookie", False, True, False),
        ("oauth2-proxy, cookie, wrong-password flood", False, True, True),
    }


def test_oauth2_proxy_proxies_to_the_app_and_checks_the_deployed_htpasswd() -> None:
    arguments = oauth2_proxy.arguments(8080)
    options = dict(argument.removeprefix("--").split("=", 1) for argument in arguments)
    assert len(options) == len(arguments)
    assert options["upstream"] == "http://127.0.0.1:8080/"
    assert options["http-address"] == "127.0.0.1:8094"
    assert options["htpasswd-file"] == f"{oauth2_proxy.AUTH_DIR}/htpasswd"
    assert options["cookie-secret-file"] == oauth2_proxy.COOKIE_SECRET
    assert "cookie-secret" not in options
    # The unauthenticated get the local sign-in page, never a redirect to the provider.
    assert options.get("skip-provider-button", "false") == "false"


def captured_run(calls: list[list[str]], outputs: dict[str, str]) -> Any:  # noqa: ANN401
    """A stand-in for bench/run.py's run(): records each command, answers by its first words."""

    def run(*args: str, **_: object) -> str:
        calls.append(list(args))
        return next((out for start, out in outputs.items() if " ".join(args).startswith(start)), "")

    return run


def contains(command: list[str], part: list[str]) -> bool:
    return any(command[i : i + len(part)] == part for i in range(len(command)))


def test_oauth2_proxy_runs_in_the_sandbox_and_limits_of_the_nginx_variants(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[list[str]] = []
    deployed = (
        "        listen 8081 default_server;\n"
        + bench.LOGIN
        + "        proxy_set_header X-Forwarded-User $auth_user;\n"
    )
    outputs = {"podman inspect": "67108864 500000000", "podman exec": deployed}
    monkeypatch.setattr(bench, "run", captured_run(calls, outputs))
    sandbox = bench.sandbox(ROLE, "hello-sidecar-proxy")
    assert contains(sandbox, ["--memory", "67108864", "--cpus", "0.5"])
    assert contains(sandbox, ["--pod", "hello-sidecar", "--user", "1000680000:0", "--read-only"])
    assert contains(sandbox, ["--cap-drop", "ALL"])

    bench.start_variant(
        ROLE, "proxy-image", tmp_path, bench.Configuration("nginx, no auth", 8091, variant="none")
    )
    variant = next(call for call in calls if call[:2] == ["podman", "run"])
    command = oauth2_proxy.run_command("oauth2-image", sandbox, "/state", tmp_path / "secret", 8080)
    assert contains(variant, sandbox)
    assert contains(command, sandbox)
    assert contains(command, ["--volume", f"/state/auth:{oauth2_proxy.AUTH_DIR}:ro"])
    assert command[command.index("oauth2-image") + 1 :] == oauth2_proxy.arguments(8080)


def test_the_cookie_secret_is_new_each_run_and_readable_by_the_container_group_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(oauth2_proxy.subprocess, "run", lambda command, **_: commands.append(command))
    secrets = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        oauth2_proxy.start("image", [], "/state", 8080, tmp_path / run)
        secret = tmp_path / run / "oauth2-proxy-cookie-secret"
        assert secret.stat().st_mode & 0o777 == 0o640
        assert f"{secret}:{oauth2_proxy.COOKIE_SECRET}:ro" in commands[-1]
        secrets.append(secret.read_text())
    assert secrets[0] != secrets[1]
    assert not any(secrets[0] in " ".join(command) for command in commands)


def test_the_sign_in_password_goes_to_curl_on_stdin_and_the_cookie_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:  # noqa: ANN401
        seen.update(command=command, input=kwargs.get("input"))
        headers = "HTTP/1.1 302 Found\r\nSet-Cookie: _oauth2_proxy=abc|123|sig; Path=/; HttpOnly\r\n\r\n"
        return subprocess.CompletedProcess(command, 0, headers, "")

    monkeypatch.setattr(oauth2_proxy.subprocess, "run", run)
    assert oauth2_proxy.sign_in("4242", "admin", "s3cret pass") == "_oauth2_proxy=abc|123|sig"
    assert seen["input"] == "s3cret pass"
    assert not any("s3cret" in argument for argument in seen["command"])
    assert seen["command"][:5] == ["nsenter", "--target", "4242", "--net", "curl"]
    assert contains(seen["command"], ["--data-urlencode", "username=admin", "--data-urlencode", "password@-"])
    assert seen["command"][-1] == "http://127.0.0.1:8094/oauth2/sign_in"


def test_a_session_split_over_several_cookies_is_sent_back_whole() -> None:
    headers = (
        "HTTP/1.1 302 Found\r\nLocation: /\r\n"
        "Set-Cookie: _oauth2_proxy_0=first; Path=/; Expires=Wed, 09 Dec 2026 05:50:14 GMT; HttpOnly\r\n"
        "set-cookie: _oauth2_proxy_1=second; Path=/\r\n\r\n"
    )
    assert oauth2_proxy.session_cookie(headers) == "_oauth2_proxy_0=first; _oauth2_proxy_1=second"


@pytest.mark.parametrize(
    "headers",
    [
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\n\r\n",
        "HTTP/1.1 302 Found\r\nLocation: /\r\n\r\n",
        "",
    ],
)
def test_a_sign_in_that_sets_no_session_is_an_error(headers: str) -> None:
    with pytest.raises(RuntimeError, match="sign-in form did not log in"):
        oauth2_proxy.session_cookie(headers)


def test_wrk_sends_the_cookie_as_a_header_and_no_password_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    out = (
        "  4100 requests in 8.00s, 1.00MB read\n"
        "    Latency Distribution\n     50%  1.20ms\n     99%    2.01s\nRequests/sec:    512.50\n"
    )
    monkeypatch.setattr(bench, "run", captured_run(calls, {"nsenter": out}))
    result = bench.wrk("4242", 8094, 10, None, cookie="_oauth2_proxy=abc")
    assert contains(calls[0], ["-H", "Cookie: _oauth2_proxy=abc"])
    assert not any(argument.startswith("Authorization") for argument in calls[0])
    assert (result.rps, result.p50_ms, result.p99_ms) == pytest.approx((512.5, 1.2, 2010.0))
    bench.wrk("4242", 8081, 10, "Basic YWRtaW46eA==")
    assert not any(argument.startswith("Cookie") for argument in calls[1])


def test_cpu_ticks_are_user_plus_system_time_whatever_the_command_name() -> None:
    # Fields 14 and 15 of /proc/<pid>/stat; the name is the process's own, in parentheses.
    fields = ["S", *map(str, range(4, 14)), "700", "45", *map(str, range(16, 53))]
    assert bench.cpu_ticks("1234 (oauth2 (proxy)) " + " ".join(fields)) == 745


def test_the_summary_prints_the_sidecar_over_oauth2_proxy_each_way_and_its_flood_share() -> None:
    rps = {
        ("sidecar", 10): 1000.0,
        ("sidecar", 50): 1200.0,
        ("oauth2-proxy, Basic", 10): 8.0,
        ("oauth2-proxy, Basic", 50): 0.0,
        ("oauth2-proxy, Basic, wrong-password flood", 10): 2.0,
        ("oauth2-proxy, Basic, wrong-password flood", 50): 0.0,
        ("oauth2-proxy, cookie", 10): 500.0,
        ("oauth2-proxy, cookie", 50): 400.0,
        ("oauth2-proxy, cookie, wrong-password flood", 10): 50.0,
        ("oauth2-proxy, cookie, wrong-password flood", 50): 100.0,
    }
    lines = oauth2_proxy.summary(lambda label, c: rps[(label, c)], "sidecar", (10, 50))
    assert lines[:2] == [
        "ratio sidecar/oauth2-proxy-basic: c10=125.00 c50=inf",
        "ratio sidecar/oauth2-proxy-cookie: c10=2.00 c50=3.00",
    ]
    flood = [
        re.fullmatch(r"oauth2-proxy-(\w+) .*under the flood.*: c10=(\S+) c50=(\S+)", line)
        for line in lines[2:]
    ]
    assert [match.groups() if match else None for match in flood] == [
        ("basic", "0.25", "nan"),
        ("cookie", "0.10", "0.25"),
    ]
    assert math.isnan(oauth2_proxy.ratio(0.0, 0.0))
