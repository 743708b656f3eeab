"""`geo-township import SRC [--layer KIND]`: merge a crew's file into a layer by the kind's
id (trees by default; forest_plots, land_transfers, sand_sites, outfalls, patrols),
atomically, with history."""

from pathlib import Path

import click

from geo_township.cli.options import common_options, output_options


@click.command("import")
@click.argument("survey", type=click.Path(path_type=Path))  # a File Geodatabase is a folder
@click.option("--layer", default="infected_trees", show_default=True,
              help="The layer to merge into: infected_trees, forest_plots, land_transfers, sand_sites, outfalls or "
              "patrols.")
@click.option("--allow-regress", is_flag=True, help="Let a status move backward (to correct a mistake).")
@click.option("--skip-bad", is_flag=True, help="Import the good rows of a file with bad rows, and list the bad ones.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--from-crs", "from_crs", type=click.Choice(["gcj02", "bd09"], case_sensitive=False), default=None,
              help="The survey's longitude/latitude were copied from a map app: gcj02 (AMap, Tencent) or bd09 "
              "(Baidu); they are converted to CGCS2000.")
@click.option("--from-gcj02", is_flag=True, help="The same as --from-crs gcj02.")
@click.option("--encoding", default=None, help="Text encoding of a CSV or shapefile that does not say (e.g. gbk).")
@click.option("--source-layer", default=None, metavar="NAME",
              help="The layer of a GeoPackage or File Geodatabase source that holds several.")
@click.option("--crs", "survey_crs", metavar="EPSG:CODE", default=None,
              help="The survey's coordinate system when its file does not say (e.g. EPSG:4548 for Gauss–Krüger "
              "metres, CM 117°E).")
@common_options
@output_options
def command(survey, layer, allow_regress, skip_bad, dry_run, from_crs, from_gcj02, encoding, source_layer, survey_crs,
            township_path, lang, fmt, output):
    """Merge SURVEY (CSV, XLSX, KML/KMZ, GPX, shapefile, GeoPackage, File Geodatabase) into a
    layer by its id: statuses move only forward, new features are added, every change goes
    into the history. Exits 1 when a row was refused or skipped."""
    from geo_township.cli.exitcodes import exit_code
    from geo_township.cli.render import render
    from geo_township.layerimport import import_layer
    from geo_township.layers import load_township
    from geo_township.treeimport import import_survey

    township = load_township(township_path)
    system = "gcj02" if from_gcj02 and not from_crs else (from_crs.lower() if from_crs else None)
    if layer == "infected_trees":
        result = import_survey(township, survey, layer=layer, allow_regress=allow_regress, skip_bad=skip_bad,
                               dry_run=dry_run, from_gcj02=from_gcj02, encoding=encoding, crs=survey_crs,
                               from_crs=from_crs.lower() if from_crs else None, source_layer=source_layer)
    else:
        result = import_layer(township, survey, layer=layer, allow_regress=allow_regress, skip_bad=skip_bad,
                              dry_run=dry_run, encoding=encoding, crs=survey_crs, from_crs=system,
                              source_layer=source_layer)
    render(result, fmt=fmt, output=output, lang=lang)
    click.get_current_context().exit(exit_code(result, also={"skipped", "import_skipped"}))
