"""The limit_request_ratio filter reads quantities as Kubernetes does and finds the largest ratio."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.authproxy.sidecar.plugins.filter import kubernetes_quantity, limit_request_ratio
from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import quantity

ratio = limit_request_ratio.limit_request_ratio


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", 0.5),
        ("1", 1.0),
        (2, 2.0),
        ("0.5", 0.5),
        ("1500m", 1.5),
        ("64Mi", 64 * 2**20),
        ("1Gi", 2**30),
        ("128M", 128e6),
        ("1k", 1e3),
        ("1e3", 1e3),
        ("1E", 1e18),
        ("250u", 250e-6),
    ],
)
def test_quantities_are_read_as_kubernetes_reads_them(text: object, value: float) -> None:
    assert quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "lots", "1 Gi", "1gi", "Mi", "1e"])
def test_anything_else_is_refused_with_the_value(text: str) -> None:
    with pytest.raises(AnsibleFilterError, match="is not a Kubernetes quantity"):
        quantity(text)


def test_the_ratio_is_the_largest_of_cpu_and_memory() -> None:
    resources = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "192Mi"}}
    assert ratio(resources) == pytest.approx(10)
    resources["requests"]["cpu"] = "100m"
    assert ratio(resources) == pytest.approx(5)
    resources["limits"]["memory"] = "1Gi"
    assert ratio(resources) == pytest.approx(16)


def test_units_may_differ_between_request_and_limit() -> None:
    resources = {"requests": {"cpu": "0.1", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert ratio(resources) == pytest.approx(10)


def test_a_limit_without_request_is_ratio_one_and_no_limit_no_ratio() -> None:
    assert ratio({"limits": {"cpu": "2", "memory": "1Gi"}}) == 1
    assert ratio({"requests": {"cpu": "50m"}}) == 0
    assert ratio({}) == 0


def test_a_zero_request_is_an_infinite_ratio() -> None:
    assert ratio({"requests": {"cpu": "0"}, "limits": {"cpu": "1"}}) == float("inf")


@pytest.mark.parametrize("plugin", [kubernetes_quantity, limit_request_ratio])
def test_each_filter_file_registers_one_filter_under_its_own_and_its_documentations_name(
    plugin: ModuleType,
) -> None:
    name = Path(plugin.__file__ or "").stem
    assert list(plugin.FilterModule().filters()) == [name]
    assert yaml.safe_load(plugin.DOCUMENTATION)["name"] == name


def test_the_filters_are_the_functions_tested_here() -> None:
    assert kubernetes_quantity.FilterModule().filters()["kubernetes_quantity"] is quantity
    ratio = limit_request_ratio.FilterModule().filters()["limit_request_ratio"]
    assert ratio is limit_request_ratio.limit_request_ratio
