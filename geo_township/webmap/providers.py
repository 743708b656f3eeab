"""How analyses put their layers on the map, and what happens when one fails.

The map draws Results. A :class:`MapAnalysis` says how to run one analysis with the
township's defaults (``run(township) -> Result``), which layers it needs, and how its
Result looks (``draw(result, township) -> list[Overlay | RasterOverlay]``); the registry
of them is :data:`geo_township.webmap.registry.MAP_ANALYSES`. :func:`run_analyses` runs
them, :func:`draw_results` styles their Results. A raster provider
``provider(township, name) -> RasterOverlay | None`` draws one ``--raster NAME``.

An analysis that raises (or returns something that is not a Result), or a draw function
that raises (or returns something that is not an overlay), never breaks the map: the map
is drawn without those layers and carries a warning naming the analysis and the error
(also logged and printed by the command line).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from geo_township.errors import TownshipError, UsageError
from geo_township.overlay import Overlay, RasterOverlay
from geo_township.results import Result

if TYPE_CHECKING:
    from geo_township.layers import LayerFailure, Township

log = logging.getLogger(__name__)

AnyOverlay = Overlay | RasterOverlay
RasterProvider = Callable[["Township", str], "RasterOverlay | None"]


@dataclass(frozen=True)
class MapAnalysis:
    """An analysis the map shows: ``run`` makes its Result from the loaded township with
    the township's defaults; ``draw`` turns that Result into overlays (styling only, no
    computing); ``needs`` names the layers without which it is skipped, and ``applies``
    (optional) says whether the township has anything else it needs (e.g. two NDVI rasters)."""

    run: Callable[[Township], Result]
    draw: Callable[[Result, Township], Sequence[AnyOverlay]]
    needs: tuple[str, ...] = ()
    applies: Callable[[Township], bool] | None = None

    def applies_to(self, township: Township) -> bool:
        """Whether the township has what the analysis needs."""
        return all(township.has(k) for k in self.needs) and (self.applies is None or self.applies(township))


@dataclass
class Collected:
    """Overlays gathered from the Results (and rasters), and a warning per failure."""

    overlays: list[AnyOverlay] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def readable_township(township: Township) -> tuple[Township, list[LayerFailure]]:
    """The township without the layers that cannot be read, and those layers (in
    township.toml order): what the map and its key statistics are drawn from. Refused when
    no layer can be read."""
    failed = township.read_all()
    if failed and len(failed) == len(township.kinds):
        raise UsageError(f"no layer of the township can be read; the first: {failed[0].message}",
                         hint="check township.toml and the files with `geo-township check`")
    return (township.without(f.kind for f in failed) if failed else township), failed


def choose_analyses(analyses: Mapping[str, MapAnalysis], names: Iterable[str] | None) -> dict[str, MapAnalysis]:
    """The analyses called ``names`` (all when None), in registry order; an unknown name
    lists the known ones."""
    if names is None:
        return dict(analyses)
    wanted = list(names)
    unknown = [n for n in wanted if n not in analyses]
    if unknown:
        raise UsageError(f"the map has no analysis {unknown[0]!r}", hint="use one of: " + ", ".join(analyses))
    return {n: a for n, a in analyses.items() if n in wanted}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TownshipError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _failure(name: str, exc: BaseException) -> str:
    """The warning for analysis ``name`` failing with ``exc``."""
    return f"the {name} layers could not be drawn ({_describe(exc)})"


def run_analyses(township: Township, analyses: Mapping[str, MapAnalysis]) -> tuple[dict[str, Result], list[str]]:
    """Run every analysis the township has what it needs for, in registry order: the
    Results by name, and a warning for each that failed (it has no Result)."""
    results: dict[str, Result] = {}
    warnings: list[str] = []
    for name, analysis in analyses.items():
        if not analysis.applies_to(township):
            continue
        try:
            result = analysis.run(township)
        except Exception as exc:  # an analysis must never break the map
            log.warning("map analysis %s failed: %s", name, _describe(exc), exc_info=log.isEnabledFor(logging.DEBUG))
            warnings.append(_failure(name, exc))
            continue
        if isinstance(result, Result):
            results[name] = result
        else:
            warnings.append(f"the {name} analysis returned {type(result).__name__}, not a Result; "
                            "its layers are not shown")
    return results, warnings


def _accept(source: str, items: Any, out: Collected) -> None:
    """Add ``items`` (overlays from ``source``, e.g. "the audit analysis") to ``out``; a
    warning for anything that is not an overlay."""
    if items is None:
        return
    if isinstance(items, (Overlay, RasterOverlay)):
        items = [items]
    if not isinstance(items, Iterable):
        out.warnings.append(f"{source} gave {type(items).__name__}, not a list of overlays; its layers are not shown")
        return
    for item in items:
        if isinstance(item, (Overlay, RasterOverlay)):
            out.overlays.append(item)
        else:
            out.warnings.append(f"{source} gave a {type(item).__name__}, not an overlay; it is not shown")


def draw_results(township: Township, results: Mapping[str, Result], analyses: Mapping[str, MapAnalysis], *,
                 extra: Sequence[AnyOverlay] = ()) -> Collected:
    """The overlays of ``results`` (each drawn by its analysis's ``draw``, in registry
    order), then the ``extra`` overlays. A Result no analysis draws, or a draw that fails,
    becomes a warning."""
    out = Collected()
    for name in [*(n for n in analyses if n in results), *(n for n in results if n not in analyses)]:
        if name not in analyses:
            out.warnings.append(f"the {name} results have no map layers (no analysis {name!r} is registered)")
            continue
        try:
            items = analyses[name].draw(results[name], township)
        except Exception as exc:  # drawing must never break the map either
            log.warning("drawing %s failed: %s", name, _describe(exc), exc_info=log.isEnabledFor(logging.DEBUG))
            out.warnings.append(_failure(name, exc))
            continue
        _accept(f"the {name} analysis", items, out)
    _accept("extra_overlays", list(extra), out)
    return out


def check_rasters(township: Township, rasters: Sequence[str], providers: Mapping[str, RasterProvider]) -> None:
    """Refuse a raster name the township does not have, or rasters when no provider is
    installed: the user asked for them by name and must fix the request."""
    for raster in rasters:
        if raster not in township.config.rasters:
            known = ", ".join(township.config.rasters) or "none"
            raise UsageError(f"the township has no raster {raster!r}",
                             hint=f"name one of its [rasters] in township.toml (now: {known})")
        if not providers:
            raise UsageError(f"no raster provider is installed to draw raster {raster!r}",
                             hint="register one in geo_township.webmap.registry.RASTER_PROVIDERS")


def draw_rasters(township: Township, rasters: Sequence[str], providers: Mapping[str, RasterProvider],
                 out: Collected) -> None:
    """Add one raster overlay per name in ``rasters`` to ``out``: the first provider that
    draws it (returns an overlay) wins; a provider's exception becomes a warning. A raster
    that no provider draws is refused (:class:`UsageError`)."""
    check_rasters(township, rasters, providers)
    for raster in rasters:
        for name, provider in providers.items():
            try:
                drawn = provider(township, raster)
            except Exception as exc:  # as for analyses: the map is drawn without it
                log.warning("raster provider %s failed on %s: %s", name, raster, _describe(exc),
                            exc_info=log.isEnabledFor(logging.DEBUG))
                out.warnings.append(f"raster {raster} could not be drawn by {name} ({_describe(exc)})")
                break
            if drawn is not None:
                _accept(f"raster provider {name}", [drawn], out)
                break
        else:
            raise UsageError(f"no raster provider draws raster {raster!r}",
                             hint="check the raster's [rasters] entry in township.toml")
