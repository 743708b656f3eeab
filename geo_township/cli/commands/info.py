"""`geo-township info`: each layer's file, features, CRS, extent and field mapping."""

import click

from geo_township.cli.options import common_options, output_options


@click.command("info")
@common_options
@output_options
def command(township_path, lang, fmt, output):
    """List each layer: file, feature count, CRS, extent and how its fields map."""
    from geo_township.cli.exitcodes import exit_code
    from geo_township.cli.render import render
    from geo_township.inventory import describe_layers
    from geo_township.layers import load_township

    result = describe_layers(load_township(township_path))
    render(result, fmt=fmt, output=output, lang=lang)
    click.get_current_context().exit(exit_code(result, bad_input=True))  # an error: a layer could not be read
