"""`geo-township rivers`: river length per chief, level, reach and village; what lies inside
the management zones; patrol coverage from GPS tracks."""

from pathlib import Path

import click

from geo_township.cli.options import DATE, common_options, output_options, zone_m_option


class Percent(click.ParamType):
    """A percentage written 80 or 80%."""

    name = "PCT"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            number = float(value)
        else:
            try:
                number = float(str(value).strip().rstrip("%").strip())
            except ValueError:
                self.fail(f"{value!r} is not a percentage; write it as 80 or 80%", param, ctx)
        if not 0 <= number <= 100:
            self.fail(f"{value!r} is not between 0 and 100", param, ctx)
        return number


@click.command("rivers")
@click.option("--from", "start", type=DATE, default=None,
              help="First day of the patrol period (default: the first dated track).")
@click.option("--to", "end", type=DATE, default=None,
              help="Last day of the patrol period (default: the last dated track).")
@click.option("--method", type=click.Choice(["ellipsoidal", "planar"]), default=None,
              help="Lengths and areas on the CGCS2000 ellipsoid or planar in the Gauss–Krüger zone; "
              "default: area_method in township.toml (ellipsoidal).")
@zone_m_option
@click.option("--patrol-buffer", "patrol_buffer_m", type=click.FloatRange(min=0), default=None,
              help="River within this many metres of a track counts as patrolled; "
              "default: patrol_buffer_m in township.toml (50).")
@click.option("--min-coverage", type=Percent(), default=None,
              help="List chiefs whose mean monthly coverage is below this (e.g. 80%); "
              "default: patrol_min_coverage_pct in township.toml (80).")
@click.option("--gpkg", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the zones, the features inside them and the patrol coverage to this GeoPackage "
              "(one layer each, for QGIS).")
@common_options
@output_options
def command(start, end, method, zone_m, patrol_buffer_m, min_coverage, gpkg, township_path, lang, fmt, output):
    """River length per river chief (河长), chief level, reach and village; sand sites,
    outfalls, land transfers and forest plots inside the management zones; patrol
    coverage per chief and month and the reaches nobody patrolled."""
    from geo_township.cli.render import render
    from geo_township.layers import load_township
    from geo_township.rivers import river_report, write_layers

    result = river_report(load_township(township_path), start=start, end=end, method=method, zone_m=zone_m,
                          patrol_buffer_m=patrol_buffer_m, min_coverage_pct=min_coverage)
    if gpkg is not None:
        written = write_layers(result.features, gpkg)
        result.notes.append(f"layers written to {gpkg}: {', '.join(written)}")
    render(result, fmt=fmt, output=output, lang=lang)
    if result.has_errors:
        raise SystemExit(1)
