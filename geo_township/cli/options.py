"""Options shared by the commands, defined once.

* ``--township PATH``  the township folder or its township.toml (default: ./township.toml,
  then ./layers/township.toml)
* ``--lang en|zh``     language of headings, labels and values in tables, maps and reports
* ``--format table|csv|json|xlsx`` and ``-o/--output FILE``  how and where a table goes
  (``-o x.xlsx`` alone implies xlsx)
* ``-v/--verbose``, ``-q/--quiet``  more or less detail on stderr (``-v`` shows tracebacks)
* ``--zone-m``   river management zone width for reaches without their own (rivers, sand)
* ``--block``    raster block size in pixels, bounding memory (zonal, candidates)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

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
    help="Township folder or its township.toml (default: ./township.toml, then ./layers/township.toml).")
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
