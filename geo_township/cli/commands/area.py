"""`geo-township area LAYER`: area per group in mu/ha/m²/km², ellipsoidal or planar."""

import click

from geo_township.cli.options import (
    analyse,
    common_options,
    engine_options,
    method_option,
    output_options,
    running_engine,
)
from geo_township.units import AREA_UNITS


@click.command("area")
@click.argument("layer")
@click.option("--by", default=None, help="Group by this field (ours, e.g. village or species, or the file's own).")
@click.option("--unit", type=click.Choice(list(AREA_UNITS)), default="mu", show_default=True)
@method_option
@engine_options
@common_options
@output_options
def command(layer, by, unit, method, engine, scheduler, township_path, lang, fmt, output):
    """Area of LAYER (e.g. forest_plots), in total or per group."""
    from geo_township.cli.render import render
    from geo_township.inventory import area_summary

    with running_engine(engine, scheduler, "area") as running:
        result = analyse(township_path, area_summary, layer, by=by, unit=unit, method=method, engine=running)
    render(result, fmt=fmt, output=output, lang=lang)
