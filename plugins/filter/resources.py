"""Filter that gives a container's largest limit/request ratio, as a LimitRange sees it."""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: limit_request_ratio
short_description: The largest limit/request ratio of a container's resources
description:
  - Returns the largest of the container's limit/request ratios for cpu and memory, the number a
    LimitRange's C(maxLimitRequestRatio) limits (CSC Rahti 2 allows at most 5).
  - A resource without a limit has no ratio. A limit without a request counts as ratio 1, because
    Kubernetes then sets the request to the limit.
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

_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>[KMGTPE]i|[numkMGTPE])?)$"
)
# Decimal SI suffixes, then the binary ones (Ki = 1024 ... Ei = 1024**6).
_SUFFIXES = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_SUFFIXES |= {"P": 1e15, "E": 1e18}
_SUFFIXES |= {f"{prefix}i": 1024.0**power for power, prefix in enumerate("KMGTPE", start=1)}


def quantity(value: object) -> float:
    """A Kubernetes quantity (500m, 64Mi, 1e3, 2) as a number of base units."""
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise AnsibleFilterError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 1, 64Mi, 1G)")
    if match["exponent"]:
        return float(match["number"] + match["exponent"])
    return float(match["number"]) * _SUFFIXES[match["suffix"] or ""]


def limit_request_ratio(resources: dict[str, Any]) -> float:
    """The largest limit/request ratio over cpu and memory; see DOCUMENTATION."""
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
    """authproxy.sidecar filters."""

    def filters(self) -> dict[str, Any]:
        return {"limit_request_ratio": limit_request_ratio}
