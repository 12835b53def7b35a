"""bench/run.py takes its names, paths and ports from the role, and measures each thing once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import yaml
from repository import ROOT, load_source

bench = load_source("bench/run.py", "bench_run")


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
    assert Path(values["password_dir"]) == Path.home() / ".config/authproxy-sidecar" / name
    assert Path(values["state_dir"]) == Path.home() / ".local/state/authproxy-sidecar" / name


def test_each_configuration_is_measured_once_and_each_variant_on_a_port_of_its_own() -> None:
    role = {"app_port": 8080, "proxy_port": 8081}
    measured = bench.configurations(role)
    assert len({configuration.label for configuration in measured}) == len(measured)
    variants = [configuration for configuration in measured if configuration.variant]
    ports = [configuration.port for configuration in variants]
    assert len(set(ports)) == len(ports)
    assert not set(ports) & set(role.values())
    assert {configuration.variant for configuration in variants} == {
        "none", "basic", "steady", "fast-none", "fast-sidecar"
    }  # fmt: skip
    assert bench.FAST_UPSTREAM_PORT not in ports + list(role.values())
    assert f"listen 127.0.0.1:{bench.FAST_UPSTREAM_PORT};" in bench.FAST_UPSTREAM_CONFIG


def test_a_variant_listens_on_its_port_instead_of_the_deployed_one() -> None:
    deployed = (
        "    server {\n        listen 8081 default_server;\n"
        "        auth_request /_auth;\n        auth_request_set $auth_user $upstream_http_x_auth_user;\n"
        "        proxy_set_header X-Forwarded-User $auth_user;\n    }\n"
    )
    config = bench.variant_config(deployed, 8081, 8091, "none")
    assert "listen 8091 default_server;" in config
    assert "8081" not in config
    assert "auth_request" not in config


def test_a_fast_upstream_variant_keeps_the_auth_and_proxies_to_the_fast_upstream() -> None:
    deployed = (
        "    upstream app {\n        server 127.0.0.1:8080 max_fails=0;\n    }\n"
        "    server {\n        listen 8081 default_server;\n"
        "        auth_request /_auth;\n"
        "        auth_request_set $auth_user $upstream_http_x_auth_user;\n    }\n"
    )
    config = bench.variant_config(deployed, 8081, 8097, "sidecar", upstream=(8080, bench.FAST_UPSTREAM_PORT))
    assert f"server 127.0.0.1:{bench.FAST_UPSTREAM_PORT} max_fails=0;" in config
    assert "8080" not in config
    assert "auth_request /_auth;" in config
    assert "listen 8097 default_server;" in config


def test_cpu_time_is_read_for_the_processes_given() -> None:
    busy_until = time.process_time() + 0.2
    while time.process_time() < busy_until:
        pass
    assert bench.cpu_seconds([str(os.getpid())]) >= 0.2
    assert bench.cpu_seconds(["999999999"]) == 0
