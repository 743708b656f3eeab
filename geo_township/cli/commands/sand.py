"""`geo-township sand`: sand-mining sites by kind, status, village and year of closure;
distance to the river, management and sand-plan zones; inconsistent histories."""

import click

from geo_township.cli.options import analyse, common_options, output_options, save_option, zone_m_option


@click.command("sand")
@zone_m_option
@save_option("Also write the sites with their reach, distance and zones, the sand-plan zones and the "
             "sites with problems to this GeoPackage (one layer each, for QGIS) or KML/KMZ (one folder each).",
             alias="--gpkg", suffixes=(".gpkg", ".kml", ".kmz"))
@common_options
@output_options
def command(zone_m, save, township_path, lang, fmt, output):
    """Sand-mining sites (采砂点, 机制砂厂) by kind and status, per village and per year of
    closure; each site's nearest reach, distance and zones. Exits 1 when a site breaks a
    rule (active in a no-mining or reserved zone) or its status history is inconsistent."""
    from geo_township.cli.exitcodes import exit_code
    from geo_township.cli.render import render, with_saved_features
    from geo_township.sand import sand_report

    result = analyse(township_path, sand_report, zone_m=zone_m)
    render(with_saved_features(result, save), fmt=fmt, output=output, lang=lang)
    click.get_current_context().exit(exit_code(result))
