"""Filters that read container resources as Kubernetes does.

limit_request_ratio (documented in limit_request_ratio.yml): a container's largest limit/request ratio, as a
LimitRange sees it. kubernetes_quantity (documented in kubernetes_quantity.yml): a quantity
such as 500m or 64Mi as a number.
"""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError

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
    """The largest limit/request ratio over cpu and memory; see limit_request_ratio.yml."""
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
        return {"limit_request_ratio": limit_request_ratio, "kubernetes_quantity": quantity}
