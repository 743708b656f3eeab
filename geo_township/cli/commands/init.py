"""`geo-township init DIR`: a new township folder from the sample."""

from pathlib import Path

import click

from geo_township.cli.options import quiet_option, verbose_option


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@verbose_option
@quiet_option
def command(directory):
    """Make DIR a township folder holding the sample township, ready to replace with your
    own files (edit DIR/township.toml to point at them)."""
    from geo_township.scaffold import init_township

    files = init_township(directory)
    click.echo(f"Wrote {len(files)} files to {directory}:")
    for f in files:
        click.echo(f"  {f.name}")
    click.echo(f"Next: cd {directory} && geo-township info; then replace the files with yours and edit "
               "township.toml (see the township.toml reference in the README).")
