"""Overlay providers: how other analyses add their layers to the map.

A provider is a function ``provider(township) -> list[Overlay | RasterOverlay]``,
registered in :data:`geo_township.webmap.OVERLAY_PROVIDERS` either as the callable or
as a ``"module:function"`` string (imported only when a map is built, so a provider's
heavy imports cost nothing elsewhere). A raster provider is a function
``provider(township, name) -> RasterOverlay | None`` registered in
:data:`geo_township.webmap.RASTER_PROVIDERS`, called for each ``--raster NAME``.

A provider that raises, or returns something that is not an overlay, never breaks the
map: the map is drawn without it and carries a warning (also logged and printed by the
command line) naming the provider and the error.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from geo_township.errors import TownshipError, UsageError
from geo_township.overlay import Overlay, RasterOverlay

if TYPE_CHECKING:
    from geo_township.layers import Township

log = logging.getLogger(__name__)

AnyOverlay = Overlay | RasterOverlay
Provider = str | Callable[["Township"], Sequence[AnyOverlay]]
RasterProvider = str | Callable[["Township", str], "RasterOverlay | None"]


@dataclass
class Collected:
    """Overlays gathered from providers, and a warning per provider that failed."""

    overlays: list[AnyOverlay] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def resolve(ref: Any) -> Callable[..., Any]:
    """The callable a registry entry names: itself, or ``"package.module:function"``."""
    if callable(ref):
        return ref
    if not isinstance(ref, str) or ":" not in ref:
        raise UsageError(f"{ref!r} is not a provider", hint='register a callable or "package.module:function"')
    module_name, _, attr = ref.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UsageError(f"{module_name} has no function {attr!r}",
                         hint="correct the provider's entry in geo_township.webmap") from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TownshipError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _accept(name: str, items: Any, out: Collected) -> None:
    if items is None:
        return
    if isinstance(items, (Overlay, RasterOverlay)):
        items = [items]
    if not isinstance(items, Iterable):
        out.warnings.append(f"overlay provider {name!r} returned {type(items).__name__}, not a list of overlays; "
                            "its layers are not shown")
        return
    for item in items:
        if isinstance(item, (Overlay, RasterOverlay)):
            out.overlays.append(item)
        else:
            out.warnings.append(f"overlay provider {name!r} returned a {type(item).__name__}, not an Overlay; "
                                "it is not shown")


def collect_overlays(township: Township, providers: Mapping[str, Provider], *,
                     extra: Sequence[AnyOverlay] = (), rasters: Sequence[str] = (),
                     raster_providers: Mapping[str, RasterProvider] | None = None) -> Collected:
    """Call every provider (in registry order), then add ``extra`` overlays and one
    raster overlay per name in ``rasters``.

    A provider's exception becomes a warning. A raster name the township does not have,
    or that no registered provider draws, is a mistake the user must fix (they asked for
    it by name), raised as :class:`UsageError`.
    """
    out = Collected()
    for name, ref in providers.items():
        try:
            items = resolve(ref)(township)
        except Exception as exc:  # a provider must never break the map
            log.warning("overlay provider %s failed: %s", name, _describe(exc), exc_info=log.isEnabledFor(logging.DEBUG))
            out.warnings.append(f"the {name} layers could not be drawn ({_describe(exc)})")
            continue
        _accept(name, items, out)
    _accept("extra_overlays", list(extra), out)
    raster_providers = dict(raster_providers or {})
    for raster in rasters:
        if raster not in township.config.rasters:
            known = ", ".join(township.config.rasters) or "none"
            raise UsageError(f"the township has no raster {raster!r}",
                             hint=f"name one of its [rasters] in township.toml (now: {known})")
        if not raster_providers:
            raise UsageError(f"no raster provider is installed to draw raster {raster!r}",
                             hint="register one in geo_township.webmap.RASTER_PROVIDERS")
        drawn = None
        for name, raster_ref in raster_providers.items():
            try:
                drawn = resolve(raster_ref)(township, raster)
            except Exception as exc:  # as for vector providers: the map is drawn without it
                log.warning("raster provider %s failed on %s: %s", name, raster, _describe(exc),
                            exc_info=log.isEnabledFor(logging.DEBUG))
                out.warnings.append(f"raster {raster} could not be drawn by {name} ({_describe(exc)})")
                drawn = None
                break
            if drawn is not None:
                _accept(name, [drawn], out)
                break
        else:
            raise UsageError(f"no raster provider draws raster {raster!r}",
                             hint="check the raster's [rasters] entry in township.toml")
    return out
