"""Filter kubernetes_quantity: a Kubernetes quantity such as 500m or 64Mi as a number."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kubernetes_quantity
short_description: A Kubernetes quantity as a number
version_added: 0.1.0
description:
- Reads a quantity as Kubernetes does (C(500m), C(1), C(0.5), C(64Mi), C(1G), C(1e3)) and returns it in
  base units (cores, bytes).
- With O(in_units_of) (C(1) for bytes, C(1m) for millicores), the whole number of those units instead,
  rounded up as Kubernetes rounds a quantity.
options:
  _input:
    description: The quantity.
    type: raw
    required: true
  in_units_of:
    description: A quantity to count the input in (C(1), C(1m), C(1Mi)); the result is then an integer.
    type: raw
"""

EXAMPLES = r"""
- name: One gunicorn worker per half core of the CPU limit, at least one
  ansible.builtin.debug:
    msg: "{{ [1, ('500m' | authproxy.sidecar.kubernetes_quantity * 2 + 1) | int] | max }}"

- name: A memory limit in bytes (1000000000) and a CPU limit in cores (1.5), as podman takes them
  ansible.builtin.debug:
    msg:
      - "{{ '1G' | authproxy.sidecar.kubernetes_quantity(in_units_of='1') }}"
      - "{{ ('1500m' | authproxy.sidecar.kubernetes_quantity(in_units_of='1m')) / 1000 }}"
"""

RETURN = r"""
_value:
  description: The quantity in base units (a float), or in whole O(in_units_of) (an integer).
  type: raw
"""

from typing import Any

from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import (
    quantity,
    whole_units,
)


def kubernetes_quantity(value: object, in_units_of: object = None) -> float | int:
    """The quantity in base units, or in whole in_units_of rounded up (DOCUMENTATION above)."""
    return quantity(value) if in_units_of is None else whole_units(value, in_units_of)


class FilterModule:
    """authproxy.sidecar.kubernetes_quantity"""

    def filters(self) -> dict[str, Any]:
        return {"kubernetes_quantity": kubernetes_quantity}
