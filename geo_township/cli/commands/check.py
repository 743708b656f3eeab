"""`geo-township check`: validate every layer; exit 1 when an error is found."""

import click

from geo_township.cli.options import DATE, analyse, common_options, engine_options, output_options, running_engine


@click.command("check")
@engine_options
@common_options
@output_options
@click.option("--today", type=DATE, default=None,
              help="Date after which dates are 'in the future' (default: data_date in township.toml, else today).")
def command(engine, scheduler, township_path, lang, fmt, output, today):
    """Validate every layer: CRS, geometry, duplicates, required fields, dates, coordinates
    outside the township, a likely GCJ-02 shift, encoding. Exits 1 when an error is found."""
    from geo_township.checks import check_township
    from geo_township.cli.exitcodes import exit_code
    from geo_township.cli.render import render

    with running_engine(engine, scheduler, "check") as running:
        result = analyse(township_path, check_township, today=today, engine=running, claims=True)
    render(result, fmt=fmt, output=output, lang=lang)
    click.get_current_context().exit(exit_code(result))
