"""The trees layer's fields as the import sees them: the kind, the order of statuses and of
their events, and how a value is written as plain text in the history."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geo_township.kinds import KINDS, Kind

KIND: Kind = KINDS["infected_trees"]
DATE_FIELDS = tuple(f.name for f in KIND.fields if f.dtype == "date")
EVENT_ORDER = ("found_date", "confirmed_date", "felled_date", "cleared_date", "verified_date")
"""The event dates in the order a tree's life passes them."""


def plain_text(value: Any) -> str:
    """A value as the history writes it: "" for missing, ISO dates, else ``str``."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)
