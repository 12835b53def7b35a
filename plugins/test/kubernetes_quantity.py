"""Test kubernetes_quantity: whether a value reads as a Kubernetes quantity such as 500m or 64Mi."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kubernetes_quantity
short_description: Whether a value is a Kubernetes quantity
version_added: 0.1.0
description:
- True when the value reads as a Kubernetes quantity (C(500m), C(1), C(0.5), C(64Mi), C(1G), C(1e3)), as the
  P(authproxy.sidecar.kubernetes_quantity#filter) filter reads it; false otherwise, where that filter fails.
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check a CPU limit before anything reads it
  ansible.builtin.assert:
    that: sidecar_app_app_resources.limits.cpu is authproxy.sidecar.kubernetes_quantity
"""

RETURN = r"""
_value:
  description: Whether the value is a Kubernetes quantity.
  type: bool
"""

from typing import Any

from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import is_quantity


class TestModule:
    """authproxy.sidecar.kubernetes_quantity"""

    def tests(self) -> dict[str, Any]:
        return {"kubernetes_quantity": is_quantity}
