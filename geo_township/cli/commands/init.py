"""`geo-township init DIR`: a township.toml proposed for the GIS files in DIR;
`geo-township init --sample DIR`: a new township folder holding the sample."""

from pathlib import Path

import click

from geo_township.cli.options import lang_option, quiet_option, verbose_option


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--sample", is_flag=True,
              help="Copy the bundled sample township into DIR instead (to try the tool on it).")
@lang_option
@verbose_option
@quiet_option
def command(directory, sample, lang):
    """Write DIR/township.toml for the GIS files already in DIR: each file's layer kind and
    field mapping, proposed from its geometry and field names, with what could not be
    decided marked to check. An existing township.toml is never overwritten.

    With --sample, make DIR a township folder holding the sample township instead."""
    if sample:
        _sample(directory, lang)
    else:
        _own_files(directory, lang)


def _sample(directory: Path, lang: str) -> None:
    from geo_township.scaffold import init_township

    files = init_township(directory)
    click.echo(f"已写入 {len(files)} 个文件到 {directory}：" if lang == "zh"
               else f"Wrote {len(files)} files to {directory}:")
    for f in files:
        click.echo(f"  {f.name}")
    click.echo(f"下一步：cd {directory} && geo-township info；再用 `geo-township init 文件夹` 为您自己的文件生成 "
               "township.toml。" if lang == "zh" else
               f"Next: cd {directory} && geo-township info; for your own files, run `geo-township init DIR` on "
               "the folder that holds them.")


def _own_files(directory: Path, lang: str) -> None:
    from geo_township.propose import write_township_toml

    zh = lang == "zh"
    proposal, path = write_township_toml(directory)
    if proposal.empty:
        click.echo(f"{directory} 中没有找到 GIS 文件；已写入模板 {path}。请把文件放入该文件夹并填写模板"
                   "（或删除它后重新运行 init）。" if zh else
                   f"No GIS files found in {directory}; wrote a template to {path}. Put your files in the folder "
                   "and fill it in (or delete it and run init again).")
        return
    click.echo(f"已写入 {path}：{len(proposal.decisions)} 个图层、{len(proposal.rasters)} 个栅格。" if zh else
               f"Wrote {path}: {len(proposal.decisions)} layers and {len(proposal.rasters)} rasters proposed.")
    width = max([len(d.kind) for d in proposal.decisions] + [7])
    for d in proposal.decisions:
        count = "?" if d.source.features is None else f"{d.source.features:,}"
        click.echo(f"  {d.kind:<{width}} ← {d.source.label}  ({count})")
    if proposal.rasters:
        click.echo(f"  {'rasters':<{width}} ← " + ", ".join(f"{r.name} ({r.source.rel})" for r in proposal.rasters))
    checks = proposal.checks
    click.echo(f"\n请核对（文件中标有“请核对 CHECK”）{len(checks)} 项：" if zh else
               f"\nTo check ({len(checks)}, marked 请核对 CHECK in the file):")
    for item in checks:
        click.echo(f"  - {item.zh if zh else item.en}")
    township = f"--township {directory}"
    click.echo("\n下一步：\n"
               f"  1. 打开 {path}，逐个核对 [layers] 表：图层类型、path 和 fields（本工具字段 = \"您的字段名\"）\n"
               f"  2. geo-township info {township}    列出读取到的每个图层、字段对应和坐标系\n"
               f"  3. geo-township check {township}   找出各命令会遇到的问题" if zh else
               "\nNext:\n"
               f"  1. open {path} and check each [layers] table: the kind, the path and the fields (ours = \"yours\")\n"
               f"  2. geo-township info {township}    lists every layer as read, with its fields and CRS\n"
               f"  3. geo-township check {township}   finds what the commands would trip on")
