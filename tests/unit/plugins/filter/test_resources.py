"""The kubernetes_quantity and limit_request_ratio filters read quantities as Kubernetes does."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.authproxy.sidecar.plugins.filter import kubernetes_quantity, limit_request_ratio
from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import quantity

ratio = limit_request_ratio.limit_request_ratio
in_units = kubernetes_quantity.kubernetes_quantity


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


@pytest.mark.parametrize(
    ("text", "unit", "count"),
    [
        ("1G", "1", 10**9),
        ("1Gi", "1", 2**30),
        ("192Mi", "1", 192 * 2**20),
        ("200M", "1", 200 * 10**6),
        ("1.5Gi", "1", 3 * 2**29),
        # 0.267 * 1e9 in floats is a little over 267000000: counted exactly, not one byte more.
        ("0.267G", "1", 267 * 10**6),
        ("1e3", "1", 1000),
        ("0.5Ki", "1", 512),
        ("500m", "1m", 500),
        ("1.5", "1m", 1500),
        ("2", "1m", 2000),
        (1, "1m", 1000),
        ("64Mi", "1Mi", 64),
    ],
)
def test_in_units_of_counts_whole_units_exactly(text: object, unit: str, count: int) -> None:
    result = in_units(text, in_units_of=unit)
    assert result == count
    assert isinstance(result, int)


@pytest.mark.parametrize(
    ("text", "unit", "count"),
    [("0.1Ki", "1", 103), ("250u", "1m", 1), ("1500001u", "1m", 1501), ("1.0000001", "1", 2)],
)
def test_in_units_of_rounds_a_part_of_a_unit_up_as_kubernetes_does(text: str, unit: str, count: int) -> None:
    assert in_units(text, in_units_of=unit) == count


def test_without_in_units_of_the_filter_gives_base_units_as_a_float() -> None:
    assert in_units("1500m") == 1.5
    assert isinstance(in_units("2"), float)


@pytest.mark.parametrize("unit", ["0", "-1m", "bytes"])
def test_a_unit_that_is_no_quantity_above_zero_is_refused(unit: str) -> None:
    with pytest.raises(AnsibleFilterError, match=repr(unit)):
        in_units("1Gi", in_units_of=unit)


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
    assert kubernetes_quantity.FilterModule().filters()["kubernetes_quantity"] is in_units
    ratio = limit_request_ratio.FilterModule().filters()["limit_request_ratio"]
    assert ratio is limit_request_ratio.limit_request_ratio
