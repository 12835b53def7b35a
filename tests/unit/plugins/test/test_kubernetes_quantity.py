"""The kubernetes_quantity test accepts what the filter reads and refuses what it fails on."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import quantity
from ansible_collections.authproxy.sidecar.plugins.test import kubernetes_quantity

is_quantity = kubernetes_quantity.TestModule().tests()["kubernetes_quantity"]


@pytest.mark.parametrize("value", ["500m", "1", 2, 0.5, "64Mi", "1G", "1e3", " 128Mi ", "+1", ".5"])
def test_a_quantity_is_one_and_the_filter_reads_it(value: object) -> None:
    assert is_quantity(value)
    quantity(value)


@pytest.mark.parametrize("value", ["lots", "", "1 Gi", "1gi", "64MB", "1e", "m", None, True, [], {}])
def test_anything_else_is_not_and_the_filter_fails_on_it(value: object) -> None:
    assert not is_quantity(value)
    with pytest.raises(AnsibleFilterError):
        quantity(value)
