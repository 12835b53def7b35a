"""Kubernetes quantities (500m, 64Mi, 1e3) read as Kubernetes reads them, for the filters."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from ansible.errors import AnsibleFilterError

_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>[KMGTPE]i|[numkMGTPE])?)$"
)
# Decimal SI suffixes, then the binary ones (Ki = 1024 ... Ei = 1024**6). Fractions, not floats:
# 1.1G is 1100000000 bytes exactly, where 1.1 * 1e9 is a little more.
_SUFFIXES = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 10**3), "": Fraction(1)}
_SUFFIXES |= {prefix: Fraction(1000**power) for power, prefix in enumerate("kMGTPE", start=1)}
_SUFFIXES |= {f"{prefix}i": Fraction(1024**power) for power, prefix in enumerate("KMGTPE", start=1)}


def is_quantity(value: object) -> bool:
    """Whether value reads as a Kubernetes quantity (500m, 64Mi, 1e3, 2)."""
    return not isinstance(value, bool) and _QUANTITY.match(str(value).strip()) is not None


def exact_quantity(value: object) -> Fraction:
    """A Kubernetes quantity (500m, 64Mi, 1e3, 2) as an exact number of base units."""
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise AnsibleFilterError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 1, 64Mi, 1G)")
    return Fraction(match["number"] + (match["exponent"] or "")) * _SUFFIXES[match["suffix"] or ""]


def quantity(value: object) -> float:
    """A Kubernetes quantity (500m, 64Mi, 1e3, 2) as a number of base units."""
    return float(exact_quantity(value))


def whole_units(value: object, unit: object) -> int:
    """How many units (a quantity: 1 for bytes, 1m for millicores) make the quantity, rounded up
    as Kubernetes rounds a quantity to a whole number of them (Value(), MilliValue())."""
    size = exact_quantity(unit)
    if size <= 0:
        raise AnsibleFilterError(f"the unit must be a quantity above 0, got {unit!r}")
    return math.ceil(exact_quantity(value) / size)
