"""Kubernetes quantities (500m, 64Mi, 1e3) read as Kubernetes reads them, for the filters."""

from __future__ import annotations

import re

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
