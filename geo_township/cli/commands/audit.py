"""`geo-township audit`: the land-transfer audit; exit 1 when an error-level finding exists."""

from pathlib import Path

import click

from geo_township.cli.options import common_options, output_options


class Percent(click.ParamType):
    """A percentage written 5% or 5."""

    name = "PERCENT"

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip().removesuffix("%").strip()
        try:
            return float(text)
        except ValueError:
            self.fail(f"{value!r} is not a percentage; write it as 5% or 5", param, ctx)


@click.command("audit")
@click.option("--tolerance", type=Percent(), default=None,
              help="Flag declared areas that differ from the drawn parcel by more than this share of it "
              "(5% or 5; default: tolerance_pct in township.toml, 5%).")
@click.option("--tolerance-mu", type=click.FloatRange(min=0), default=None,
              help="Also flag differences larger than this many mu, whatever the share (default: tolerance_mu, "
              "0 = off).")
@click.option("--overlap-min", type=click.FloatRange(min=0), default=None,
              help="Ignore overlaps and areas on farmland / forest / river zones below this many mu "
              "(digitising slivers; default: overlap_min_mu, 0.1).")
@click.option("--max-years", type=click.FloatRange(min=0), default=None,
              help="Longest allowed contract in years (default: max_contract_years, 30).")
@click.option("--method", type=click.Choice(["ellipsoidal", "planar"]), default=None,
              help="Area method for parcels and overlaps (default: area_method in township.toml).")
@click.option("--gpkg", "gpkg", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="GeoPackage of the offending geometries, one layer per finding type, plus 'parcels' "
              "(default: next to -o with the suffix .gpkg, else maps/audit.gpkg).")
@click.option("--no-gpkg", is_flag=True, help="Do not write the GeoPackage.")
@common_options
@output_options
@click.pass_context
def command(ctx, tolerance, tolerance_mu, overlap_min, max_years, method, gpkg, no_gpkg, township_path, lang,
            fmt, output):
    """Audit the land transfers: declared vs measured area, overlapping contracts (double
    counting vs renewal), parcels outside their village, non-farming use on basic farmland,
    farmland on forest land, parcels in river zones, record errors, and totals by village,
    land type, use and start year. Exits 1 when an error is found."""
    from geo_township.cli.render import render
    from geo_township.layers import load_township
    from geo_township.transfers import audit_transfers, write_findings_gpkg

    result = audit_transfers(load_township(township_path), method=method, tolerance_pct=tolerance,
                             tolerance_mu=tolerance_mu, overlap_min_mu=overlap_min, max_contract_years=max_years)
    if not no_gpkg:
        if gpkg is None:
            gpkg = output.with_suffix(".gpkg") if output is not None else Path("maps") / "audit.gpkg"
            gpkg.parent.mkdir(parents=True, exist_ok=True)
        layers = write_findings_gpkg(result, gpkg, lang=lang)
        if not ctx.find_root().ensure_object(dict).get("quiet"):
            click.echo(f"GeoPackage: {gpkg} ({len(layers)} layers: {', '.join(layers)})", err=True)
    render(result, fmt=fmt, output=output, lang=lang)
    if result.has_errors:
        raise SystemExit(1)
