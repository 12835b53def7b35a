"""Filter limit_request_ratio: a container's largest limit/request ratio, as a LimitRange sees it."""

from __future__ import annotations

DOCUMENTATION = r"""
name: limit_request_ratio
short_description: The largest limit/request ratio of a container's resources
version_added: 0.1.0
description:
- Returns the largest of the container's limit/request ratios for cpu and memory, the number a LimitRange's
  C(maxLimitRequestRatio) limits (CSC Rahti 2 allows at most 5).
- A resource without a limit has no ratio. A limit without a request counts as ratio 1, because Kubernetes
  then sets the request to the limit.
- Quantities are read as Kubernetes reads them (C(500m), C(1), C(0.5), C(64Mi), C(1G), C(1e3)).
options:
  _input:
    description: The container's resources, a dict with C(requests) and C(limits).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check that limits are at most five times the requests
  ansible.builtin.assert:
    that: sidecar_app_app_resources | authproxy.sidecar.limit_request_ratio <= 5
"""

RETURN = r"""
_value:
  description: The largest ratio (0.0 when nothing has a limit, infinite when a request is 0).
  type: float
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.authproxy.sidecar.plugins.plugin_utils.kubernetes_quantity import quantity


def limit_request_ratio(resources: dict[str, Any]) -> float:
    """The largest limit/request ratio over cpu and memory (DOCUMENTATION above)."""
    if not isinstance(resources, dict):
        raise AnsibleFilterError(f"limit_request_ratio wants requests and limits, got {resources!r}")
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    ratios = [0.0]
    for resource in ("cpu", "memory"):
        if resource not in limits:
            continue
        limit = quantity(limits[resource])
        request = quantity(requests.get(resource, limits[resource]))
        ratios.append(limit / request if request > 0 else float("inf"))
    return max(ratios)


class FilterModule:
    """authproxy.sidecar.limit_request_ratio"""

    def filters(self) -> dict[str, Any]:
        return {"limit_request_ratio": limit_request_ratio}
