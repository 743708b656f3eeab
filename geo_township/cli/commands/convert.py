"""`geo-township convert LAYER -o FILE.parquet`: a township's (big) layer as GeoParquet,
sorted spatially in row groups with a bbox column, and the township.toml lines to use it."""

from pathlib import Path

import click

from geo_township.cli.options import common_options


@click.command("convert")
@click.argument("layer")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The GeoParquet file to write (FILE.parquet), or with --partition-by the folder.")
@click.option("--partition-by", "partition_by", default=None,
              help="Write a folder of hive partitions by this field, or by 'year' (of found_date for trees).")
@click.option("--row-group-rows", type=int, default=None,
              help="Rows per row group (default 50,000): smaller groups prune finer, larger read faster.")
@common_options
def command(layer, output, partition_by, row_group_rows, township_path, lang):
    """Write the township's LAYER (e.g. infected_trees) as GeoParquet: fields under our names,
    in the working CRS, sorted along a Hilbert curve with a bbox column so that reads of one
    township's extent skip the rest. The write is atomic. Prints the township.toml table
    that reads it."""
    from geo_township.convert import ROW_GROUP_ROWS, convert_layer
    from geo_township.layers import load_township

    township = load_township(township_path)
    done = convert_layer(township, layer, output, partition_by=partition_by,
                         row_group_rows=row_group_rows or ROW_GROUP_ROWS)
    zh = lang == "zh"
    where = (f"，{len(done.partitions)} 个分区（{', '.join(done.partitions[:6])}"
             + (" …" if len(done.partitions) > 6 else "") + "）") if done.partitions and zh else (
            f", {len(done.partitions)} partitions ({', '.join(done.partitions[:6])}"
            + (" …" if len(done.partitions) > 6 else "") + ")") if done.partitions else ""
    click.echo(f"已写入 {done.path}：{done.rows:,} 个要素，{done.row_groups} 个行组{where}。" if zh else
               f"Wrote {done.path}: {done.rows:,} features in {done.row_groups} row groups{where}.")
    click.echo("要使用它，请将 township.toml 中的该图层表改为：" if zh else
               "To use it, replace the layer's table in township.toml with:")
    click.echo("")
    click.echo(done.toml)
