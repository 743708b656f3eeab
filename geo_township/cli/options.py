"""Options shared by the commands, defined once.

* ``--township PATH``  the township folder or its township.toml (default: ./township.toml,
  then ./layers/township.toml), or a county: its county.toml or a folder holding one (and
  no township.toml); :func:`analyse` runs a command's analysis on either
* ``--lang en|zh``     language of headings, labels and values in tables, maps and reports
* ``--format table|csv|json|xlsx`` and ``-o/--output FILE``  how and where a table goes
  (``-o x.xlsx`` alone implies xlsx)
* ``-v/--verbose``, ``-q/--quiet``  more or less detail on stderr (``-v`` shows tracebacks)
* ``--zone-m``   river management zone width for reaches without their own (rivers, sand)
* ``--block``    raster block size in pixels, bounding memory (zonal, candidates)
* ``--method ellipsoidal|planar``  how areas and lengths are measured (area, audit, rivers)
* ``--save FILE``  write the command's features (GeoPackage, shapefile, GeoJSON, KML, CSV …)
  for GIS or a handheld; see :func:`save_option`. Each command keeps its older name for it
  as an alias — ``--gpkg`` (audit, rivers, sand), ``--join`` (zonal), ``--list`` (trees) —
  so scripts and the README's examples keep working.
* ``--engine local|dask``, ``--scheduler ADDRESS``  where the heavy kernels run (trees, area,
  audit, zonal, check): here, or on a Dask cluster (the address also from
  ``GEO_TOWNSHIP_SCHEDULER``; an address implies dask); :func:`engine_options`, :func:`running_engine`
* :class:`Percent` (5% or 5) and :data:`DATE` (2022-03-31) for option values
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from geo_township.engine import Engine
    from geo_township.results import Result

FORMATS = ("table", "csv", "json", "xlsx")


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value:
        state = ctx.find_root().ensure_object(dict)
        if param.name == "verbose":
            state["verbose"] = max(state.get("verbose", 0), value)
            logging.getLogger("geo_township").setLevel(logging.DEBUG if value > 1 else logging.INFO)
        else:
            state["quiet"] = True
            logging.getLogger("geo_township").setLevel(logging.ERROR)
    return value


verbose_option = click.option("-v", "--verbose", count=True, expose_value=False, callback=_set_verbosity,
                              help="More detail on stderr; -v also shows tracebacks.")
quiet_option = click.option("-q", "--quiet", count=True, expose_value=False, callback=_set_verbosity,
                            help="Only errors on stderr.")
township_option = click.option(
    "--township", "township_path", type=click.Path(path_type=Path), default=None, envvar="GEO_TOWNSHIP",
    help="Township folder or its township.toml (default: ./township.toml, then ./layers/township.toml); or a "
    "county.toml naming several townships (also found in the working folder).")
def _remember_lang(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Keep the language where the error boundary (geo_township.cli) finds it."""
    ctx.find_root().ensure_object(dict)["lang"] = value
    return value


lang_option = click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
                           envvar="GEO_TOWNSHIP_LANG", callback=_remember_lang,
                           help="Language of headings, labels and values.")


zone_m_option = click.option(
    "--zone-m", type=click.FloatRange(min=0), default=None,
    help="Management zone width (m from the centre line) for reaches without zone_m; "
    "default: zone_m in township.toml (30).")
block_option = click.option(
    "--block", type=click.IntRange(min=256), default=2048, show_default=True,
    help="Read rasters in blocks of this many pixels a side (bounds memory for huge rasters).")


#: The area methods of geo_township.measure.METHODS (not imported: --help stays fast).
METHODS = ("ellipsoidal", "planar")
method_option = click.option(
    "--method", type=click.Choice(METHODS), default=None,
    help="Measure areas and lengths on the CGCS2000 ellipsoid (as land surveys do) or planar in the "
    "Gauss–Krüger zone; default: area_method in township.toml (ellipsoidal).")


def save_option(help: str, *, alias: str | None = None,
                suffixes: tuple[str, ...] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The option that writes a command's features to a file: ``--save FILE`` (and the
    command's older name ``alias``), passed to the command as ``save``.

    The path is checked before the command runs: its folder must exist and it must not be
    a folder; with ``suffixes`` its suffix must be one of them (otherwise the writer
    refuses an unknown suffix, after the work). ``help`` says what the command writes.
    """
    names = ("--save", alias) if alias else ("--save",)
    return click.option(*names, "save", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        metavar="FILE", callback=functools.partial(_check_save_path, suffixes=suffixes), help=help)


def _check_save_path(ctx: click.Context, param: click.Parameter, value: Path | None, *,
                     suffixes: tuple[str, ...] | None) -> Path | None:
    """Refuse, before any work is done, a --save path that cannot be written."""
    if value is None:
        return None
    option = "/".join(param.opts)
    folder = value.parent if str(value.parent) else Path(".")
    example = f"{ctx.command.name or 'result'}{(suffixes or ('.gpkg',))[0]}"
    if not folder.is_dir():
        raise click.BadParameter(f"folder {folder} does not exist; create it or choose another {option} path",
                                 ctx=ctx, param=param)
    if value.is_dir():
        raise click.BadParameter(f"{value} is a folder; give {option} a file name such as {example}", ctx=ctx,
                                 param=param)
    if suffixes is not None and value.suffix.lower() not in suffixes:
        if suffixes == (".gpkg",):
            raise click.BadParameter(f"{value} is not a GeoPackage; give a file ending in .gpkg", ctx=ctx,
                                     param=param)
        raise click.BadParameter(f"cannot write {value.suffix or 'a file without suffix'} here; use "
                                 + ", ".join(suffixes), ctx=ctx, param=param)
    return value


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--township, --lang, -v, -q."""
    for deco in reversed((township_option, lang_option, verbose_option, quiet_option)):
        func = deco(func)
    return func


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--format and -o/--output."""
    func = click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        help="Write to FILE instead of the terminal (format from the suffix when --format is "
                        "not given).")(func)
    func = click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                        help="table (terminal, default), csv (UTF-8 with BOM for Excel), json or xlsx.")(func)
    return func


class Percent(click.ParamType):
    """A percentage written 5% or 5, optionally bounded (e.g. 0 to 100)."""

    name = "PERCENT"

    def __init__(self, low: float | None = None, high: float | None = None, *, example: str = "5") -> None:
        self.low, self.high, self.example = low, high, example

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            number = float(value)
        else:
            try:
                number = float(str(value).strip().removesuffix("%").strip())
            except ValueError:
                self.fail(f"{value!r} is not a percentage; write it as {self.example}% or {self.example}", param,
                          ctx)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            self.fail(f"{value!r} is not between {self.low:g} and {self.high:g}" if None not in (self.low, self.high)
                      else f"{value!r} is out of range", param, ctx)
        return number


class DateType(click.ParamType):
    """A calendar date written 2022-03-31 (also 2022/3/31)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip().replace("/", "-")
        try:
            y, m, d = (int(p) for p in text.split("-"))
            return dt.date(y, m, d)
        except (ValueError, TypeError):
            self.fail(f"{value!r} is not a date; write it as 2022-03-31", param, ctx)


DATE = DateType()


#: The engines of geo_township.engine.ENGINES (not imported: --help stays fast).
ENGINES = ("local", "dask")


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--engine local|dask and --scheduler ADDRESS, passed as ``engine`` and ``scheduler``."""
    func = click.option(
        "--scheduler", metavar="ADDRESS", default=None, envvar="GEO_TOWNSHIP_SCHEDULER",
        help="Run on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786; implies "
        "--engine dask; env GEO_TOWNSHIP_SCHEDULER).")(func)
    func = click.option(
        "--engine", type=click.Choice(ENGINES), default=None,
        help="local: this process (default); dask: in parts on a Dask cluster (--scheduler, else a local "
        "cluster with one worker per core). Both give the same numbers.")(func)
    return func


@contextlib.contextmanager
def running_engine(engine: str | None, scheduler: str | None, label: str) -> Iterator[Engine]:
    """The engine the options ask for, with a progress bar of its finished parts (dask) and
    a line on stderr saying where the work runs (unless -q); closed afterwards."""
    from geo_township.cli.progress import progress_bar
    from geo_township.engine import LOCAL, start_engine

    if engine == "local" or (engine is None and not scheduler):
        yield LOCAL
        return
    state = click.get_current_context().find_root().ensure_object(dict)
    quiet, lang = state.get("quiet"), state.get("lang", "en")
    if not scheduler and not quiet:
        click.echo("正在启动本机 Dask 集群（每个 CPU 核一个工作节点）；用 --scheduler 地址 连接已有集群" if lang == "zh"
                   else "starting a local Dask cluster (one worker per core); give --scheduler ADDRESS to use an "
                   "existing cluster", err=True)
    running = start_engine("dask", scheduler=scheduler)
    try:
        if not quiet:
            click.echo(running.describe(lang), err=True)
        with progress_bar(f"{label} (dask)") as progress:
            running.progress = progress
            yield running
    finally:
        running.close()


def analyse(township_path: Path | None, analysis: Callable[..., Result], /, *args: Any, claims: bool = False,
            **kwargs: Any) -> Result:
    """``analysis(township, *args, **kwargs)`` on the township the --township option names,
    or on every township of a county (:func:`geo_township.county.run`; ``claims``: also the
    land two townships both claim). A county's township that could not be analysed is
    named on stderr and makes the command exit 1 (the others are shown)."""
    from geo_township.county import COUNTY_CHECKS, run

    result = run(township_path, analysis, *args, claims=claims, **kwargs)
    _warn_failed([f for f in result.findings if f.check == COUNTY_CHECKS.township_failed.code])
    return result


def county_features_of(township_path: Path | None, make: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``make(township, *args, **kwargs)`` (features) of the township the --township option
    names, or of every township of a county in one frame with a township column
    (:func:`geo_township.county.county_features`); a county's township that failed is
    named on stderr and makes the command exit 1, one passed over (it lacks the layer, the
    village …) is named in a note."""
    from geo_township.county import county_at, county_features
    from geo_township.layers import load_township

    county = county_at(township_path)
    if county is None:
        return make(load_township(township_path), *args, **kwargs)
    features, failures, passed_over = county_features(county, make, *args, **kwargs)
    lang = click.get_current_context().find_root().ensure_object(dict).get("lang", "en")
    for name, lacking in passed_over:  # not an error, but never silent
        click.echo(("说明：" if lang == "zh" else "Note: ") + f"{name}{'：' if lang == 'zh' else ': '}"
                   + (lacking.message_zh or lacking.message if lang == "zh" else lacking.message), err=True)
    _warn_failed([failure.as_finding() for failure in failures])
    return features


def _warn_failed(failed: list[Any]) -> None:
    """Name each township that could not be analysed on stderr; the command will exit 1."""
    if not failed:
        return
    state = click.get_current_context().find_root().ensure_object(dict)
    state["county_failed"] = True
    lang = state.get("lang", "en")
    for finding in failed:
        click.echo(("警告：" if lang == "zh" else "Warning: ") + finding.message_in(lang), err=True)
