"""`geo-township zonal RASTER`: raster statistics per plot or village; class areas for land cover."""

from __future__ import annotations

import contextlib

import click

from geo_township.cli.options import (
    analyse,
    block_option,
    common_options,
    engine_options,
    output_options,
    running_engine,
    save_option,
)
from geo_township.cli.progress import progress_bar
from geo_township.units import AREA_UNITS

STAT_NAMES = ("count", "mean", "min", "max", "sum", "std", "median")


def _stat_list(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [n for n in names if n not in STAT_NAMES]
    if bad or not names:
        raise click.BadParameter(f"{bad[0] if bad else value!r} is not a statistic; use any of "
                                 f"{','.join(STAT_NAMES)}", param=param)
    return names


def _percentile_list(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[float, ...]:
    if not value:
        return ()
    try:
        values = tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a list of numbers; write e.g. 10,90", param=param) from None
    if any(not 0 < v < 100 for v in values):
        raise click.BadParameter("percentiles lie between 0 and 100 (exclusive), e.g. 10,90", param=param)
    return values


@click.command("zonal")
@click.argument("raster")
@click.option("--layer", default="forest_plots", show_default=True,
              help="Layer whose polygons get statistics (forest_plots, villages, land_transfers …); points and "
              "lines in it are left out and listed.")
@click.option("--by", default=None,
              help="One row per value of this field (e.g. village, species): statistics over all its polygons.")
@click.option("--stats", default=None, callback=_stat_list,
              help="Comma-separated statistics to show: count,mean,min,max,sum,std,median (default: all; "
              "leaving out the median is several times faster on a float raster).")
@click.option("--percentiles", default=None, callback=_percentile_list,
              help="Comma-separated percentiles to add, e.g. 10,90.")
@click.option("--categorical/--continuous", default=None,
              help="Area of each class (land cover), or statistics of values; default: categorical when "
              "township.toml gives the raster classes (or categorical = true).")
@click.option("--unit", type=click.Choice(list(AREA_UNITS)), default="mu", show_default=True,
              help="Unit of areas (polygon area, class areas).")
@click.option("--band", type=click.IntRange(min=1), default=1, show_default=True, help="Band of the raster to use.")
@save_option("Also write the layer (every field) with its statistics: to a GeoPackage as layer "
             "LAYER_RASTER (FIELD_RASTER with --by), next to the layers it already holds; or to any file "
             "`export` writes (.kml, .kmz, .gpx, .geojson, .shp, .csv, .xlsx, .parquet).", alias="--join")
@block_option
@engine_options
@common_options
@output_options
def command(raster, layer, by, stats, percentiles, categorical, unit, band, save, block, engine, scheduler,
            township_path, lang, fmt, output):
    """Statistics of RASTER (its name under [rasters] in township.toml) per polygon of a
    layer: count, mean, min, max, sum, std, median, percentiles — each pixel weighted by the
    share of it inside the polygon. For a land-cover raster, the area of each class in each
    polygon."""
    from geo_township.cli.render import render
    from geo_township.raster import save_joined, zonal_stats

    with running_engine(engine, scheduler, "zonal") as running, \
            (progress_bar("zonal") if running.name == "local" else contextlib.nullcontext()) as progress:
        result = analyse(township_path, zonal_stats, raster, layer=layer, by=by, stats=stats,
                         percentiles=percentiles, categorical=categorical, unit=unit, band=band, block=block,
                         progress=progress, engine=running)
    render(result, fmt=fmt, output=output, lang=lang)
    if save is not None:
        name = save_joined(result, save, lang=lang)
        click.echo(f"已将图层 {name} 写入 {save}" if lang == "zh" else f"wrote layer {name} to {save}", err=True)
