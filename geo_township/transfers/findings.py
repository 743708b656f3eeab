"""The land-transfer audit's checks and how their findings are gathered: the registry of
checks (:data:`CHECKS`: code, severity, meaning), the :class:`Collector` every check
reports to, and how messages write dates, periods, lists and uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo_township.results import Finding
from geo_township.vocabulary import TRANSFER_USE

LAYER = "land_transfers"
"""The layer the audit reads."""


@dataclass(frozen=True)
class AuditCheck:
    """One rule of the audit: its code (also the name of its table and GeoPackage layer),
    severity, and what it means. Labels (en/zh) are in ``kinds.AUDIT_CHECK``."""

    code: str
    severity: str
    doc: str


CHECKS: dict[str, AuditCheck] = {
    c.code: c
    for c in (
        AuditCheck("area_mismatch", "error", "declared area differs from the drawn parcel beyond the tolerance"),
        AuditCheck("overlap", "error", "two contracts cover the same land at the same time: counted twice"),
        AuditCheck("renewal", "info", "two contracts cover the same land one after the other"),
        AuditCheck("outside_village", "error", "part of the parcel lies outside the village it is recorded under"),
        AuditCheck("on_basic_farmland", "error", "a non-farming use on permanent basic farmland (prohibited)"),
        AuditCheck("on_forest_land", "warning", "a farmland transfer on forest land (forest sub-compartments)"),
        AuditCheck("in_river_zone", "warning", "the parcel reaches into a river management zone"),
        AuditCheck("duplicate_id", "error", "several parcels share one parcel id"),
        AuditCheck("missing_id", "error", "the parcel has no id"),
        AuditCheck("missing_declared", "error", "no declared area (or zero)"),
        AuditCheck("end_before_start", "error", "the contract ends before it starts"),
        AuditCheck("contract_too_long", "error", "the contract is longer than allowed"),
        AuditCheck("missing_dates", "warning", "no start or end date"),
        AuditCheck("bad_date", "error", "a date the file holds cannot be understood (read as missing)"),
        AuditCheck("bad_value", "error", "a value the file holds cannot be understood (read as missing)"),
        AuditCheck("missing_village", "warning", "no village recorded"),
        AuditCheck("unknown_village", "warning", "the recorded village is not in the villages layer"),
        AuditCheck("invalid_geometry", "error", "invalid geometry, audited with a repaired copy"),
        AuditCheck("empty_geometry", "error", "the parcel has no geometry and is left out of every number"),
    )
}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "ok": 3}


Keys = tuple  # the parcels one finding concerns: row positions in the audited frame (or "dropped N")


class Collector:
    """Gathers findings, one table and one feature layer per check, and the summary.

    Parcels are tracked by their row in the audited frame, never by their id, so two
    features sharing an id keep their own findings.
    """

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.tables: dict[str, pd.DataFrame] = {}
        self.features: dict[str, gpd.GeoDataFrame] = {}
        self.summary: dict[str, dict] = {}
        self.flags: dict[str, set] = {}
        self.details: dict[int, list[tuple[str, str]]] = {}
        self.values: dict[str, dict[int, list]] = {}

    def ran(self, code: str) -> None:
        self.summary.setdefault(code, {"check": code, "severity": CHECKS[code].severity, "findings": 0,
                                       "parcels": 0, "concerned_mu": 0.0})

    def add(self, code: str, frame: gpd.GeoDataFrame, *, features: list[str], messages: list[str],
            messages_zh: list[str], rows: list[Keys], area_mu: float) -> None:
        """Record a check's rows (with geometry), its findings (English and Chinese
        messages), the parcels each finding concerns (``rows``) and the area concerned (mu)."""
        self.ran(code)
        check = CHECKS[code]
        self.findings += [Finding(LAYER, f, check.severity, code, m, z)
                          for f, m, z in zip(features, messages, messages_zh, strict=True)]
        concerned = self.flags.setdefault(code, set())
        for keys, en, zh in zip(rows, messages, messages_zh, strict=True):
            concerned.update(keys)
            for key in keys:
                if not isinstance(key, str):
                    self.details.setdefault(int(key), []).append((en, zh))
        row = self.summary[code]
        row["findings"] += len(messages)
        row["parcels"] = len(concerned)
        row["concerned_mu"] += float(area_mu)
        frame = frame.reset_index(drop=True)
        self.features[code] = frame
        self.tables[code] = pd.DataFrame(frame.drop(columns=frame.geometry.name))

    def attach(self, column: str, rows, values) -> None:
        """Per-parcel values for the ``parcels`` layer (numbers are summed, words listed)."""
        slot = self.values.setdefault(column, {})
        for r, v in zip(rows, values, strict=True):
            slot.setdefault(int(r), []).append(v)

    def summary_table(self) -> pd.DataFrame:
        """One row per check that ran, in the order of :data:`CHECKS`: findings, parcels
        and the area concerned (mu)."""
        return pd.DataFrame([self.summary[c] for c in CHECKS if c in self.summary],
                            columns=["check", "severity", "findings", "parcels", "concerned_mu"])

    def layer_finding(self, code: str, message: str, message_zh: str) -> None:
        """One finding for the whole layer (a field it lacks), instead of one per parcel."""
        self.ran(code)
        self.findings.append(Finding(LAYER, "-", CHECKS[code].severity, code, message, message_zh))
        self.summary[code]["findings"] += 1


def single_rows(index) -> list[Keys]:
    """One finding per parcel: the row positions in ``index``, each on its own."""
    return [(int(i),) for i in index]


def date_text(value) -> str:
    """A date as 2022-03-05, or ``?`` when it is missing."""
    return "?" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def period_text(start, end) -> str:
    """A contract's period, e.g. ``2020-01-01–2029-12-31``."""
    return f"{date_text(start)}–{date_text(end)}"


def join_unique(values: Iterable) -> str:
    """The values as text, each once, in order, joined by ', '."""
    return ", ".join(dict.fromkeys(str(v) for v in values))


def use_label(code, lang: str = "en") -> str:
    """A use code's label in ``lang``; a parcel without a use says so."""
    return TRANSFER_USE.label(code, lang) if code is not None else ("(no use)" if lang == "en" else "（未填用途）")
