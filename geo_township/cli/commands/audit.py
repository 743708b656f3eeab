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


def _gpkg_path(ctx, param, value: Path | None) -> Path | None:
    """--gpkg must name a file in a folder that exists (checked before the audit runs)."""
    if value is None:
        return None
    folder = value.parent if str(value.parent) else Path(".")
    if not folder.is_dir():
        raise click.BadParameter(f"folder {folder} does not exist; create it or choose another --gpkg path",
                                 ctx=ctx, param=param)
    if value.is_dir():
        raise click.BadParameter(f"{value} is a folder; give --gpkg a file name such as audit.gpkg", ctx=ctx,
                                 param=param)
    return value


def _csv(result, output: Path | None, lang: str) -> list[Path]:
    """CSV: the findings (parcel, severity, check, message) to stdout or -o, and with -o
    every other table next to it as <name>_<table>.csv. Returns the files written."""
    from dataclasses import replace

    from geo_township.cli.render import render

    findings = result.findings_frame(lang).drop(columns="layer").rename(columns={"feature": "parcel_id"})
    tables = {"findings": findings, **{k: v for k, v in result.all_tables(lang).items() if k != "findings"}}
    written = []
    for name, table in tables.items():
        if name != "findings" and output is None:
            break
        path = None if output is None else output if name == "findings" else output.with_name(
            f"{output.stem}_{name}.csv")
        render(replace(result, table=table, tables={}, findings=[]), fmt="csv", output=path, lang=lang)
        if path is not None:
            written.append(path)
    return written


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
@click.option("--method", type=click.Choice(["ellipsoidal", "planar"]), default=None,
              help="Area method for parcels and overlaps (default: area_method in township.toml).")
@click.option("--gpkg", "gpkg", type=click.Path(path_type=Path), default=None, callback=_gpkg_path,
              help="GeoPackage of the offending geometries, one layer per finding type, plus 'parcels' "
              "(default: next to -o with the suffix .gpkg, else maps/audit.gpkg).")
@click.option("--no-gpkg", is_flag=True, help="Do not write the GeoPackage.")
@common_options
@output_options
@click.pass_context
def command(ctx, tolerance, tolerance_mu, tolerance_rule, overlap_min, max_years, method, gpkg, no_gpkg,
            township_path, lang, fmt, output):
    """Audit the land transfers: declared vs measured area, overlapping contracts (double
    counting vs renewal), parcels outside their village, non-farming use on basic farmland,
    farmland on forest land, parcels in river zones, record errors (unreadable dates
    included), and totals by village, land type, use and start year. Exits 1 when an
    error is found. --format csv writes the findings (to -o, or stdout) and, with -o,
    every other table next to it (audit.csv → audit_summary.csv, audit_by_village.csv …)."""
    from geo_township.cli.render import choose_format, render
    from geo_township.io.write import ensure_writable
    from geo_township.layers import load_township
    from geo_township.transfers import audit_transfers, write_findings_gpkg

    if output is not None:
        ensure_writable(output)  # before the audit runs and the GeoPackage is written
    result = audit_transfers(load_township(township_path), method=method, tolerance_pct=tolerance,
                             tolerance_mu=tolerance_mu, tolerance_rule=tolerance_rule, overlap_min_mu=overlap_min,
                             max_contract_years=max_years)
    quiet = ctx.find_root().ensure_object(dict).get("quiet")
    if not no_gpkg:
        if gpkg is None:
            gpkg = output.with_suffix(".gpkg") if output is not None else Path("maps") / "audit.gpkg"
            gpkg.parent.mkdir(parents=True, exist_ok=True)
        layers = write_findings_gpkg(result, gpkg, lang=lang)
        if not quiet:
            click.echo(f"GeoPackage: {gpkg} ({len(layers)} layers: {', '.join(layers)})", err=True)
    if choose_format(fmt, output) == "csv":
        written = _csv(result, output, lang)
        if written and not quiet:
            click.echo(f"CSV: {written[0]} (findings) and {len(written) - 1} tables next to it: "
                       + ", ".join(p.name for p in written[1:]), err=True)
    else:
        render(result, fmt=fmt, output=output, lang=lang)
    if result.has_errors:
        raise SystemExit(1)
