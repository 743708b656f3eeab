"""`geo-township sand`: sand-mining sites by kind, status, village and year of closure;
distance to the river, management and sand-plan zones; inconsistent histories."""

from pathlib import Path

import click

from geo_township.cli.options import common_options, output_options, zone_m_option


@click.command("sand")
@zone_m_option
@click.option("--gpkg", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the sites with their reach, distance and zones, the sand-plan zones and the "
              "sites with problems to this GeoPackage (one layer each, for QGIS).")
@common_options
@output_options
def command(zone_m, gpkg, township_path, lang, fmt, output):
    """Sand-mining sites (采砂点, 机制砂厂) by kind and status, per village and per year of
    closure; each site's nearest reach, distance and zones. Exits 1 when a site breaks a
    rule (active in a no-mining or reserved zone) or its status history is inconsistent."""
    from geo_township.cli.render import render
    from geo_township.layers import load_township
    from geo_township.rivers import write_layers
    from geo_township.sand import sand_report

    result = sand_report(load_township(township_path), zone_m=zone_m)
    if gpkg is not None:
        written = write_layers(result.features, gpkg)
        result.notes.append(f"layers written to {gpkg}: {', '.join(written)}")
    render(result, fmt=fmt, output=output, lang=lang)
    if result.has_errors:
        raise SystemExit(1)
