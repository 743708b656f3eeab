"""`geo-township report --year YEAR`: the year's indicators (the numbers of the work
report), the paragraph, and the features behind one number (--explain)."""

import click

from geo_township.cli.options import common_options, output_options


@click.command("report")
@click.option("--year", type=click.IntRange(1949, 2100), required=True, help="The report year (e.g. 2022).")
@click.option("--explain", "explain_id", metavar="ID", default=None,
              help="Write the features behind indicator ID (e.g. cleared_trees) to -o FILE (.gpkg, .kml, .kmz, "
              ".geojson, .csv or .xlsx); their report_value column sums to the number.")
@common_options
@output_options
def command(year, explain_id, township_path, lang, fmt, output):
    """The year's report: every indicator for YEAR with the previous year's value and the
    change, tables per village and the paragraph for the work report (Chinese with
    --lang zh). -o report.docx / .xlsx / .html / .json writes the whole report."""
    from geo_township.cli.render import choose_format, render
    from geo_township.errors import UsageError
    from geo_township.layers import load_township
    from geo_township.report import explain, for_terminal, write_explained, write_report, year_report

    township = load_township(township_path)
    if explain_id is not None:
        if output is None:
            raise UsageError("--explain needs -o FILE", hint=f"e.g. --explain {explain_id} -o {explain_id}.gpkg")
        features = explain(township, year, explain_id)
        write_explained(features, output, indicator_id=explain_id)
        click.echo(f"{len(features)} 个要素已写入 {output}" if lang == "zh" else
                   f"{len(features)} feature(s) written to {output}")
        return
    result = year_report(township, year)
    if output is not None and fmt is None and output.suffix.lower() in (".json", ".xlsx", ".docx", ".html"):
        write_report(result, output, lang=lang, township=township)
        click.echo(f"报告已写入 {output}" if lang == "zh" else f"report written to {output}")
        return
    if fmt == "json":
        from geo_township.report import report_json

        if output is None:
            click.echo(report_json(result, lang))
        else:
            write_report(result, output.with_suffix(".json") if output.suffix.lower() != ".json" else output,
                         lang=lang, township=township)
        return
    if choose_format(fmt, output) == "table":
        result = for_terminal(result)
    render(result, fmt=fmt, output=output, lang=lang)
