"""Filter kubernetes_quantity: a Kubernetes quantity such as 500m or 64Mi as a number."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kubernetes_quantity
short_description: A Kubernetes quantity as a number
version_added: 0.1.0
description:
- Reads a quantity as Kubernetes does (C(500m), C(1), C(0.5), C(64Mi), C(1G), C(1e3)) and returns it in
  base units (cores, bytes).
options:
  _input:
    description: The quantity.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: One gunicorn worker per half core of the CPU limit, at least one
  ansible.builtin.debug:
    msg: "{{ [1, ('500m' | authproxy.sidecar.kubernetes_quantity * 2 + 1) | int] | max }}"
"""

RETURN = r"""
_value:
  description: The quantity in base units.
  type: float
"""

from typing import Any

from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import quantity


class FilterModule:
    """authproxy.sidecar.kubernetes_quantity"""

    def filters(self) -> dict[str, Any]:
        return {"kubernetes_quantity": quantity}
