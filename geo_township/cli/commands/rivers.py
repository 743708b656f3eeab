"""`geo-township rivers`: river length per chief, level, reach and village; what lies inside
the management zones; patrol coverage from GPS tracks."""

import click

from geo_township.cli.options import (
    DATE,
    Percent,
    analyse,
    common_options,
    method_option,
    output_options,
    save_option,
    zone_m_option,
)


@click.command("rivers")
@click.option("--from", "start", type=DATE, default=None,
              help="First day of the patrol period (default: the first dated track).")
@click.option("--to", "end", type=DATE, default=None,
              help="Last day of the patrol period (default: the last dated track).")
@method_option
@zone_m_option
@click.option("--patrol-buffer", "patrol_buffer_m", type=click.FloatRange(min=0), default=None,
              help="River within this many metres of a track counts as patrolled; "
              "default: patrol_buffer_m in township.toml (50).")
@click.option("--min-coverage", type=Percent(0, 100, example="80"), default=None,
              help="List chiefs whose mean monthly coverage is below this (e.g. 80%); "
              "default: patrol_min_coverage_pct in township.toml (80).")
@save_option("Also write the zones, the features inside them and the patrol coverage to this GeoPackage "
             "(one layer each, for QGIS) or KML/KMZ (one folder each, for phones).", alias="--gpkg",
             suffixes=(".gpkg", ".kml", ".kmz"))
@common_options
@output_options
def command(start, end, method, zone_m, patrol_buffer_m, min_coverage, save, township_path, lang, fmt, output):
    """River length per river chief (河长), chief level, reach and village; sand sites,
    outfalls, land transfers and forest plots inside the management zones; patrol
    coverage per chief and month and the reaches nobody patrolled."""
    from geo_township.cli.exitcodes import exit_code
    from geo_township.cli.render import render, with_saved_features
    from geo_township.rivers import river_report

    result = analyse(township_path, river_report, start=start, end=end, method=method, zone_m=zone_m,
                          patrol_buffer_m=patrol_buffer_m, min_coverage_pct=min_coverage)
    render(with_saved_features(result, save), fmt=fmt, output=output, lang=lang)
    click.get_current_context().exit(exit_code(result))
