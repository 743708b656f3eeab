"""Every check of the tool, for the labels test and the documentation.

Checks are declared next to their analyses (:func:`geo_township.results.declare`), so the
registry :data:`geo_township.results.CHECKS` holds those of the modules imported so far.
:func:`all_checks` imports every module that declares checks and returns them all. It
sits above the analyses: nothing below it may call it.
"""

from __future__ import annotations

import importlib

from geo_township.results import CHECKS, Check

CHECK_MODULES = (
    "geo_township.record_checks",
    "geo_township.leftout",
    "geo_township.checks",
    "geo_township.inventory",
    "geo_township.tree_checks",
    "geo_township.village_names",
    "geo_township.treeimport.merge",
    "geo_township.treeimport.history",
    "geo_township.treeimport.survey",
    "geo_township.layerimport.merge",
    "geo_township.patrols",
    "geo_township.rivers",
    "geo_township.sand",
    "geo_township.transfers.findings",
    "geo_township.raster.zonal",
    "geo_township.candidates",
    "geo_township.county",
)
"""The modules that declare checks (a new one is added here; the labels test says so)."""


def all_checks() -> dict[str, Check]:
    """Every declared check by code, after importing every module of :data:`CHECK_MODULES`."""
    for name in CHECK_MODULES:
        importlib.import_module(name)
    return dict(CHECKS)
