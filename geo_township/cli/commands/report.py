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
    from geo_township.cli.options import county_features_of
    from geo_township.cli.render import choose_format, render
    from geo_township.county import is_county
    from geo_township.errors import UsageError
    from geo_township.layers import load_township
    from geo_township.report import explain, for_terminal, write_explained, write_report, year_report
    from geo_township.report.explain import check_explainable, county_explained

    if explain_id is not None:  # a county's: every township's features behind the number, with their township
        if output is None:
            raise UsageError("--explain needs -o FILE", hint=f"e.g. --explain {explain_id} -o {explain_id}.gpkg")
        check_explainable(explain_id)  # once, before any township is read
        features = county_features_of(township_path, explain, year, explain_id)
        if is_county(township_path):
            features = county_explained(features, explain_id)
        write_explained(features, output, indicator_id=explain_id)
        click.echo(f"{len(features)} 个要素已写入 {output}" if lang == "zh" else
                   f"{len(features)} feature(s) written to {output}")
        return
    if is_county(township_path):
        _county_report(year, township_path, lang, fmt, output)
        return
    township = load_township(township_path)
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


def _county_report(year, township_path, lang, fmt, output) -> None:
    """The report of a county: every township's indicators and the county's, as a table,
    CSV, JSON, workbook, or Word/HTML with the county's map."""
    from geo_township.cli.options import analyse
    from geo_township.cli.render import choose_format, render
    from geo_township.report import for_terminal, report_json, write_report, year_report
    from geo_township.report.county import with_county_totals

    result = with_county_totals(analyse(township_path, year_report, year), year)
    if output is not None and fmt is None and output.suffix.lower() in (".json", ".xlsx", ".docx", ".html"):
        county_map = None
        if output.suffix.lower() in (".docx", ".html"):  # with the county's map
            from geo_township.county import county_at
            from geo_township.webmap import prepare_county_map

            county = county_at(township_path)
            assert county is not None
            county_map = prepare_county_map(county, lang=lang)
        write_report(result, output, lang=lang, county_map=county_map)
        click.echo(f"报告已写入 {output}" if lang == "zh" else f"report written to {output}")
        return
    if fmt == "json" and output is None:
        click.echo(report_json(result, lang))
        return
    if fmt == "json":
        write_report(result, output.with_suffix(".json"), lang=lang)
        return
    if choose_format(fmt, output) == "table":
        result = for_terminal(result)
    render(result, fmt=fmt, output=output, lang=lang)
