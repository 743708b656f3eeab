"""`geo-township export`: a layer (or the features a filter selects) for crews' phones,
spreadsheets, desktop GIS or a PostGIS database."""

from pathlib import Path

import click

from geo_township.cli.options import common_options

TARGETS = ("kml", "kmz", "gpx", "csv", "xlsx", "gpkg", "shp", "parquet", "postgis")


@click.command("export")
@click.argument("layer")
@click.argument("url", required=False, metavar="[URL]")
@click.option("--to", "to", type=click.Choice(TARGETS, case_sensitive=False), default=None,
              help="Format (default: from -o's suffix). postgis writes a table to the database at URL.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="File to write (replaced atomically).")
@click.option("--where", default=None, metavar="EXPR",
              help="Only features matching EXPR, e.g. \"status == 'confirmed'\" (== != < <= > >= in [..] "
              "is null, and/or/not; field names canonical, the file's own, or Chinese).")
@click.option("--village", default=None, help="Only features in this village (its record, else its location).")
@click.option("--encoding", default=None,
              help="Shapefile text encoding: gbk writes GBK with a .cpg (936) for old desktop GIS.")
@click.option("--table", default=None, metavar="SCHEMA.NAME", help="PostGIS table to write (with --to postgis).")
@common_options
def command(layer, url, to, output, where, village, encoding, table, township_path, lang):
    """Export LAYER (infected_trees, forest_plots, land_transfers, rivers, patrols, …) to
    KML/KMZ for 奥维 and 两步路, GPX, CSV/XLSX, GeoPackage, shapefile, GeoParquet or a
    PostGIS table. On a county: every township's features in one file, with a township field."""
    from geo_township.cli.options import county_features_of
    from geo_township.errors import UsageError
    from geo_township.export import export_format, export_selected, selected_features

    if url is not None and output is not None:
        raise UsageError("give either a URL or -o FILE, not both", hint="-o for files, URL for --to postgis",
                         message_zh="URL 与 -o FILE 只能给一个", hint_zh="文件用 -o，数据库（--to postgis）用 URL")
    target = url if url is not None else output
    if target is None:
        raise UsageError("no output given", hint="add -o FILE (e.g. -o trees.kml), or a URL with --to postgis",
                         message_zh="没有指定输出", hint_zh="加上 -o 文件（如 -o trees.kml），或 --to postgis 加 URL")
    fmt = export_format(target, to)
    gdf = county_features_of(township_path, selected_features, layer, where=where, village=village)
    summary = export_selected(gdf, layer, target, fmt=fmt, encoding=encoding, lang=lang, table=table)
    where_to = f"{target} ({table})" if summary.format == "postgis" else str(target)
    if lang == "zh":
        click.echo(f"已导出 {summary.features} 个要素（{layer}）到 {where_to}（{summary.format}）")
    else:
        click.echo(f"Exported {summary.features} features of {layer} to {where_to} ({summary.format})")
    for note in summary.notes_in(lang):
        click.echo(("说明：" if lang == "zh" else "Note: ") + note, err=True)
