"""`geo-township candidates BEFORE AFTER`: patches in pine plots where NDVI fell, for crews to check."""

from __future__ import annotations

import click

from geo_township.cli.options import analyse, block_option, common_options, output_options, save_option
from geo_township.cli.progress import progress_bar


@click.command("candidates")
@click.argument("before")
@click.argument("after")
@click.option("--min-drop", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Smallest fall of the index (before − after) that counts as loss; default: candidate_min_drop "
              "in township.toml (0.15).")
@click.option("--min-m2", type=click.FloatRange(min=0), default=None,
              help="Leave out patches smaller than this (m²); default: candidate_min_m2 (20).")
@click.option("--max-m2", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Leave out patches larger than this (m²): felling or fire; default: candidate_max_m2 (5000).")
@save_option("Write the candidates: .gpkg (patches and centre points), or .kml/.gpx/.geojson/.csv/.shp "
             "(centre points, for a handheld); species and other values in the --lang language, rounded.")
@block_option
@common_options
@output_options
def command(before, after, min_drop, min_m2, max_m2, save, block, township_path, lang, fmt, output):
    """Vegetation-loss candidates: patches inside pine plots where the index (NDVI) fell
    from BEFORE to AFTER (their names under [rasters] in township.toml) by at least
    the minimum drop, sized like one tree or a group of trees. Places to check on the
    ground, not diagnoses."""
    from geo_township.candidates import find_candidates, save_candidates
    from geo_township.cli.render import render

    with progress_bar("candidates") as progress:
        result = analyse(township_path, find_candidates, before, after, min_drop=min_drop, min_m2=min_m2,
                         max_m2=max_m2, block=block, progress=progress)
    render(result, fmt=fmt, output=output, lang=lang)
    if save is not None:
        for line in save_candidates(result, save, lang=lang):
            click.echo(line, err=True)
