"""`geo-township audit`: the land-transfer audit; exit 1 when an error-level finding exists."""

from pathlib import Path

import click

from geo_township.cli.options import (
    Percent,
    analyse,
    common_options,
    engine_options,
    method_option,
    output_options,
    running_engine,
    save_option,
)


@click.command("audit")
@click.option("--tolerance", type=Percent(), default=None,
              help="Flag declared areas that differ from the drawn parcel by more than this share of it "
              "(5% or 5; default: tolerance_pct in township.toml, 5%).")
@click.option("--tolerance-mu", type=click.FloatRange(min=0), default=None,
              help="Also flag differences larger than this many mu, whatever the share (default: tolerance_mu, "
              "0 = off).")
@click.option("--tolerance-rule", type=click.Choice(["any", "both"]), default=None,
              help="With --tolerance-mu: flag a parcel beyond either tolerance (any), or only beyond both the "
              "share and the mu (both), which spares small parcels a tiny absolute difference "
              "(default: tolerance_rule, any).")
@click.option("--overlap-min", type=click.FloatRange(min=0), default=None,
              help="Ignore overlaps and areas on farmland / forest / river zones below this many mu "
              "(digitising slivers; default: overlap_min_mu, 0.1).")
@click.option("--max-years", type=click.FloatRange(min=0), default=None,
              help="Longest allowed contract in years (default: max_contract_years, 30).")
@method_option
@save_option("GeoPackage (or KML/KMZ) of the offending geometries, one layer (folder) per finding type, plus "
             "'parcels' (default: next to -o with the suffix .gpkg, else maps/audit.gpkg).", alias="--gpkg",
             suffixes=(".gpkg", ".kml", ".kmz"))
@click.option("--no-save", "--no-gpkg", "no_save", is_flag=True, help="Do not write the GeoPackage.")
@engine_options
@common_options
@output_options
@click.pass_context
def command(ctx, tolerance, tolerance_mu, tolerance_rule, overlap_min, max_years, method, save, no_save, engine,
            scheduler, township_path, lang, fmt, output):
    """Audit the land transfers: declared vs measured area, overlapping contracts (double
    counting vs renewal), parcels outside their village, non-farming use on basic farmland,
    farmland on forest land, parcels in river zones, record errors (unreadable dates
    included), and totals by village, land type, use and start year. Exits 1 when an
    error is found. --format csv writes the findings (to -o, or stdout) and, with -o,
    every other table next to it (audit.csv → audit.summary.csv, audit.by_village.csv …);
    -o FILE.gpkg writes the GeoPackage there (as --save does)."""
    from geo_township.cli.exitcodes import exit_code
    from geo_township.cli.render import choose_format, findings_first, render
    from geo_township.io.write import ensure_writable
    from geo_township.transfers import audit_transfers, write_findings

    if output is not None and output.suffix.lower() == ".gpkg" and save is None and not no_save:
        save, output = output, None  # -o audit.gpkg asks for the GeoPackage (the tables go to the terminal)
    if output is not None:
        ensure_writable(output)  # before the audit runs and the GeoPackage is written
    with running_engine(engine, scheduler, "audit") as running:
        result = analyse(township_path, audit_transfers, method=method, tolerance_pct=tolerance,
                         tolerance_mu=tolerance_mu, tolerance_rule=tolerance_rule, overlap_min_mu=overlap_min,
                         max_contract_years=max_years, engine=running)
    if not no_save:
        if save is None:
            save = output.with_suffix(".gpkg") if output is not None else Path("maps") / "audit.gpkg"
            save.parent.mkdir(parents=True, exist_ok=True)
        layers = write_findings(result, save, lang=lang)
        if not ctx.find_root().ensure_object(dict).get("quiet"):
            what = "GeoPackage" if save.suffix.lower() == ".gpkg" else save.suffix[1:].upper()
            click.echo(f"{what}：{save}（{len(layers)} 个图层：{'、'.join(layers)}）" if lang == "zh" else
                       f"{what}: {save} ({len(layers)} layers: {', '.join(layers)})", err=True)
    shown = findings_first(result, lang, feature_column="parcel_id") if choose_format(fmt, output) == "csv" else result
    render(shown, fmt=fmt, output=output, lang=lang)
    ctx.exit(exit_code(result))
