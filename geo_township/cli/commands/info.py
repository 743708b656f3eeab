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

    township = load_township(township_path)
    rasters = None
    if township.config.rasters:  # the raster package is loaded only when there are rasters
        from geo_township.raster import raster_table

        rasters = raster_table(township)
    result = describe_layers(township, rasters=rasters)
    render(result, fmt=fmt, output=output, lang=lang)
    click.get_current_context().exit(exit_code(result, bad_input=True))  # an error: a layer could not be read
