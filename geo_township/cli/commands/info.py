"""`geo-township info`: each layer's file, features, CRS, extent and field mapping."""

import click

from geo_township.cli.options import analyse, common_options, output_options


@click.command("info")
@common_options
@output_options
def command(township_path, lang, fmt, output):
    """List each layer: file, feature count, CRS, extent and how its fields map."""
    from geo_township.cli.exitcodes import exit_code
    from geo_township.cli.render import render

    result = analyse(township_path, _describe)
    render(result, fmt=fmt, output=output, lang=lang)
    click.get_current_context().exit(exit_code(result, bad_input=True))  # an error: a layer could not be read


def _describe(township):
    """The layers (and rasters) of one township."""
    from geo_township.inventory import describe_layers

    rasters = None
    if township.config.rasters:  # the raster package is loaded only when there are rasters
        from geo_township.raster import raster_table

        rasters = raster_table(township)
    return describe_layers(township, rasters=rasters)
