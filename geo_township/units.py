"""Units of area and length that officers report in, with their labels.

1 mu (亩) = 10000/15 m² exactly (15 mu = 1 ha), the unit of Chinese land records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from geo_township.errors import UsageError

M2_PER_MU = 10000.0 / 15.0


@dataclass(frozen=True)
class Unit:
    """A unit: its code, size in the base unit (m² or m), labels and decimals to print."""

    code: str
    size: float
    en: str
    zh: str
    decimals: int


AREA_UNITS: dict[str, Unit] = {
    u.code: u
    for u in (
        Unit("mu", M2_PER_MU, "mu", "亩", 2),
        Unit("ha", 10_000.0, "ha", "公顷", 4),
        Unit("m2", 1.0, "m²", "平方米", 1),
        Unit("km2", 1_000_000.0, "km²", "平方公里", 6),
    )
}
LENGTH_UNITS: dict[str, Unit] = {
    u.code: u for u in (Unit("m", 1.0, "m", "米", 1), Unit("km", 1000.0, "km", "公里", 3))
}


def area_unit(code: str) -> Unit:
    """The area unit called ``code``; an unknown code lists the valid ones."""
    try:
        return AREA_UNITS[code]
    except KeyError:
        raise UsageError(f"unknown area unit {code!r}", hint="use one of: " + ", ".join(AREA_UNITS)) from None


def length_unit(code: str) -> Unit:
    """The length unit called ``code``; an unknown code lists the valid ones."""
    try:
        return LENGTH_UNITS[code]
    except KeyError:
        raise UsageError(f"unknown length unit {code!r}", hint="use one of: " + ", ".join(LENGTH_UNITS)) from None


def from_m2(values: ArrayLike, unit: str) -> Any:
    """Convert square metres to ``unit`` (mu, ha, m2, km2); arrays stay arrays, a scalar gives a float."""
    return _same_shape(values, np.asarray(values, dtype="float64") / area_unit(unit).size)


def to_m2(values: ArrayLike, unit: str) -> Any:
    """Convert ``unit`` (mu, ha, m2, km2) to square metres."""
    return _same_shape(values, np.asarray(values, dtype="float64") * area_unit(unit).size)


def from_m(values: ArrayLike, unit: str) -> Any:
    """Convert metres to ``unit`` (m, km)."""
    return _same_shape(values, np.asarray(values, dtype="float64") / length_unit(unit).size)


def _same_shape(values: ArrayLike, converted: Any) -> Any:
    """``converted`` as an array when ``values`` was one, else as a plain float (the
    float64 arithmetic is the same either way)."""
    return converted if not np.isscalar(values) else float(converted)
