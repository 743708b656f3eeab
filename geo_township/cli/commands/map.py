"""`geo-township map`: the interactive map of every layer, written to maps/township.html,
and the township's key statistics."""

from pathlib import Path

import click

from geo_township.cli.options import common_options
from geo_township.webmap.basemaps import BASEMAPS
from geo_township.webmap.indicators import INDICATORS, SCHEMES


@click.command("map")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the page here (default: maps/township.html in the working folder).")
@click.option("--indicator", type=click.Choice(list(INDICATORS)), default=None,
              help="Add a per-village choropleth of this indicator.")
@click.option("--scheme", type=click.Choice(list(SCHEMES)), default="fisher_jenks", show_default=True,
              help="How the indicator is classified (mapclassify).")
@click.option("--classes", type=click.IntRange(2, 7), default=5, show_default=True,
              help="Number of indicator classes (fewer when villages have fewer distinct values).")
@click.option("--basemap", "basemaps", multiple=True, type=click.Choice(list(BASEMAPS)),
              help="Basemaps to offer, the first shown at opening (repeat the option; default: osm, "
              "satellite, amap, and both Tianditu ones with a key).")
@click.option("--tianditu-key", envvar="TIANDITU_KEY", default=None, metavar="KEY",
              help="Tianditu (天地图) browser key (tk); adds its vector and imagery basemaps. "
              "Default: the TIANDITU_KEY environment variable.")
@click.option("--raster", "rasters", multiple=True, metavar="NAME",
              help="Draw this raster of the township's [rasters] (repeat for several).")
@click.option("--raster-opacity", type=click.FloatRange(0.0, 1.0), default=None, metavar="0-1",
              help="Opacity of the rasters drawn with --raster (default 0.7).")
@click.option("--offline/--cdn", "offline", default=True,
              help="--offline (the default): Leaflet is inlined into the page, which then needs no internet "
              "except for basemap tiles. --cdn: a smaller page that loads Leaflet from the web (jsDelivr).")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser when written.")
@click.option("--no-summary", is_flag=True, help="Do not print the key statistics.")
@common_options
def command(output, indicator, scheme, classes, basemaps, tianditu_key, rasters, raster_opacity, offline, open_page,
            no_summary, township_path, lang):
    """Write the interactive map of every layer (maps/township.html) and print the key statistics."""
    from geo_township.cli.exitcodes import EXIT_FINDINGS
    from geo_township.cli.render import render
    from geo_township.layers import load_township
    from geo_township.webmap import map_summary, write_map

    township = load_township(township_path)
    written = write_map(township, output, lang=lang, indicator=indicator, scheme=scheme, classes=classes,
                        basemaps=basemaps or None, tianditu_key=tianditu_key, rasters=rasters,
                        raster_opacity=raster_opacity, offline=offline)
    for warning in written.warnings:
        click.echo(f"Warning: {warning}", err=True)
    for failure in written.failed_layers:
        click.echo(("警告：" if lang == "zh" else "Warning: ") + failure.text(lang), err=True)
    if not no_summary:
        render(map_summary(township, without=[f.kind for f in written.failed_layers]), fmt="table", output=None,
               lang=lang)
    size = f"{written.bytes / 1e6:.1f} MB" if written.bytes >= 1e5 else f"{written.bytes / 1e3:.0f} kB"
    click.echo(f"地图已写入 {written.path}（{size}，{written.seconds:.1f} 秒）" if lang == "zh"
                else f"Map written to {written.path} ({size}, {written.seconds:.1f} s)")
    if open_page:
        click.launch(str(written.path.resolve()))
    if written.failed_layers:
        click.get_current_context().exit(EXIT_FINDINGS)  # the page lacks a layer: say so to scripts
