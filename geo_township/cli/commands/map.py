"""`geo-township map`: the interactive map of every layer, written to maps/township.html,
and the township's key statistics; with ``--print FILE.pdf|FILE.png`` the printed map
instead (and the page too when ``-o`` names one)."""

from pathlib import Path

import click

from geo_township.cli.options import common_options
from geo_township.webmap.basemaps import BASEMAPS
from geo_township.webmap.indicators import INDICATORS, SCHEMES

PAPERS = ("A4", "A3")
"""Paper sizes offered for --print (geo_township.printmap.PAPERS has them; not imported so
that --help stays fast)."""


@click.command("map")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the page here (default: maps/township.html in the working folder, maps/county.html for a "
              "county; with --print, the page is written only when -o names it).")
@click.option("--indicator", type=click.Choice(list(INDICATORS)), default=None,
              help="Add a per-village choropleth of this indicator.")
@click.option("--scheme", type=click.Choice(list(SCHEMES)), default="fisher_jenks", show_default=True,
              help="How the indicator is classified (mapclassify).")
@click.option("--classes", type=click.IntRange(2, 7), default=5, show_default=True,
              help="Number of indicator classes (fewer when villages have fewer distinct values).")
@click.option("--basemap", "basemaps", multiple=True, type=click.Choice(list(BASEMAPS)),
              help="Basemaps to offer, the first shown at opening (repeat the option; default: osm, "
              "satellite, amap, and both Tianditu ones with a key).")
@click.option("--tianditu-key", envvar="TIANDITU_KEY", default=None, metavar="KEY",
              help="Tianditu (天地图) browser key (tk); adds its vector and imagery basemaps. "
              "Default: the TIANDITU_KEY environment variable.")
@click.option("--raster", "rasters", multiple=True, metavar="NAME",
              help="Draw this raster of the township's [rasters] (repeat for several).")
@click.option("--raster-opacity", type=click.FloatRange(0.0, 1.0), default=None, metavar="0-1",
              help="Opacity of the rasters drawn with --raster (default 0.7).")
@click.option("--offline/--cdn", "offline", default=True,
              help="--offline (the default): Leaflet is inlined into the page, which then needs no internet "
              "except for basemap tiles. --cdn: a smaller page that loads Leaflet from the web (jsDelivr).")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser when written.")
@click.option("--no-summary", is_flag=True, help="Do not print the key statistics.")
@click.option("--print", "print_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              metavar="FILE.pdf|FILE.png",
              help="Write the printed map (title, legend, north arrow, scale bar, relief, the layers the page "
              "shows at opening) instead of the page; the page is written too when -o names it.")
@click.option("--paper", type=click.Choice(PAPERS), default=None, help="Paper of the printed map (default A4).")
@click.option("--orientation", type=click.Choice(("landscape", "portrait")), default=None,
              help="Orientation of the printed map (default landscape).")
@click.option("--dpi", type=click.IntRange(72, 1200), default=None,
              help="Resolution of a printed PNG, and of a printed PDF's relief (up to 200); default 300.")
@click.option("--village", default=None, metavar="NAME",
              help="Print this village's map: zoomed to it, the other villages greyed.")
@click.option("--atlas", is_flag=True, help="Print one PDF page per village (each village chief's map).")
@common_options
def command(output, indicator, scheme, classes, basemaps, tianditu_key, rasters, raster_opacity, offline, open_page,
            no_summary, print_path, paper, orientation, dpi, village, atlas, township_path, lang):
    """Write the interactive map of every layer (maps/township.html) and print the key statistics;
    with --print, the printed map (PDF or PNG)."""
    from geo_township.cli.exitcodes import EXIT_FINDINGS
    from geo_township.cli.render import render
    from geo_township.county import is_county
    from geo_township.layers import load_township
    from geo_township.webmap import check_map_options, map_results, map_summary, write_map

    print_options = {"--paper": paper, "--orientation": orientation, "--dpi": dpi, "--village": village,
                     "--atlas": atlas or None}
    if print_path is None:
        given = [name for name, value in print_options.items() if value is not None]
        if given:
            verb = "is an option" if len(given) == 1 else "are options"
            raise click.UsageError(f"{', '.join(given)} {verb} of the printed map: add --print FILE.pdf (or .png)")
    elif output is None:
        _refuse_page_options(indicator=indicator, basemap=basemaps, raster=rasters, raster_opacity=raster_opacity,
                             cdn=not offline, open=open_page)
    request = {"paper": paper or "A4", "orientation": orientation or "landscape", "dpi": dpi or 300,
               "village": village, "atlas": atlas, "lang": lang}
    if is_county(township_path):
        _county_map(township_path, output=output, indicator=indicator, rasters=rasters, printed=print_path,
                    request=request, basemaps=basemaps, tianditu_key=tianditu_key, offline=offline,
                    open_page=open_page, no_summary=no_summary)
        return
    township = load_township(township_path)
    if print_path is not None:
        _check_print(township, print_path, request)
    results = failures = None
    if print_path is None or output is not None:
        check_map_options(township, lang=lang, indicator=indicator, scheme=scheme, basemaps=basemaps or None,
                          tianditu_key=tianditu_key, rasters=rasters, output=output)
        results, failures = map_results(township)  # once: the page, the print and the statistics show them
        written = write_map(township, output, results=results, warnings=failures, lang=lang, indicator=indicator,
                            scheme=scheme, classes=classes, basemaps=basemaps or None, tianditu_key=tianditu_key,
                            rasters=rasters, raster_opacity=raster_opacity, offline=offline)
        for warning in written.warnings:
            click.echo(f"Warning: {warning}", err=True)
        failed = written.failed_layers
        for failure in failed:
            click.echo(("警告：" if lang == "zh" else "Warning: ") + failure.text(lang), err=True)
    else:
        failed = []
    if print_path is not None:
        printed = _print_map(township, print_path, request, results, failures)
    if not no_summary:
        render(map_summary(township, without=[f.kind for f in failed], results=results), fmt="table", output=None,
               lang=lang)
    if print_path is None or output is not None:
        _report_page(written, lang, open_page)
    if print_path is not None:
        _report_printed(printed, lang)
    if failed:
        click.get_current_context().exit(EXIT_FINDINGS)  # the page lacks a layer: say so to scripts


def _county_map(place, *, output, indicator, rasters, printed, request, basemaps, tianditu_key, offline, open_page,
                no_summary) -> None:
    """The county's page (every township's layers, borders and claims) and key statistics;
    with ``printed``, its printed map instead (and the page too when ``output`` names it);
    exit 1 when a township or a layer is left out."""
    from geo_township.cli.exitcodes import EXIT_FINDINGS
    from geo_township.cli.render import render
    from geo_township.county import load_county
    from geo_township.webmap import county_map_summary, prepare_county_map, write_county_map
    from geo_township.webmap.county_map import check_county_map_options

    lang = request["lang"]
    check_county_map_options(indicator=indicator, rasters=rasters, printed_village=request["village"],
                             atlas=request["atlas"])
    county = load_county(place if place is not None else Path.cwd())
    page = printed is None or output is not None
    if page:
        check_county_map_options(county, lang=lang, basemaps=basemaps or None, tianditu_key=tianditu_key,
                                 output=output)
    if printed is not None:
        from geo_township.printmap import check_request

        check_request(printed, paper=request["paper"], orientation=request["orientation"], dpi=request["dpi"],
                      village=None, atlas=False, lang=lang)
    prepared = prepare_county_map(county, lang=lang)
    if page:
        written = write_county_map(prepared, output, lang=lang, basemaps=basemaps or None,
                                   tianditu_key=tianditu_key, offline=offline)
    if printed is not None:
        from geo_township.printmap import print_county_map

        printed_map = print_county_map(prepared, printed, paper=request["paper"], orientation=request["orientation"],
                                       dpi=request["dpi"], lang=lang)
    warn = "警告：" if lang == "zh" else "Warning: "
    lines = [warn + failure.as_finding().message_in(lang) for failure in prepared.failures]
    sep = "：" if lang == "zh" else ": "
    lines += [f"{warn}{name}{sep}{layer.text(lang)}" for name, layer in prepared.failed_layers]
    if not page:  # no page to show its warnings (a township without a border): the printed map's, each once
        lines += [warn + warning for warning in printed_map.warnings]
    for line in dict.fromkeys(lines):
        click.echo(line, err=True)
    if not no_summary:
        render(county_map_summary(prepared), fmt="table", output=None, lang=lang)
    if page:
        _report_page(written, lang, open_page)
    if printed is not None:
        _report_printed(printed_map, lang)
    if prepared.failures or prepared.failed_layers:
        click.get_current_context().exit(EXIT_FINDINGS)


def _report_page(written, lang: str, open_page: bool) -> None:
    """Say where the page was written (and open it when asked)."""
    size = _size(written.bytes)
    click.echo(f"地图已写入 {written.path}（{size}，{written.seconds:.1f} 秒）" if lang == "zh"
               else f"Map written to {written.path} ({size}, {written.seconds:.1f} s)")
    if open_page:
        click.launch(str(written.path.resolve()))


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def _refuse_page_options(**options) -> None:
    """--print alone writes no page: refuse the page's own options rather than ignore them."""
    given = ["--" + name.replace("_", "-") for name, value in options.items() if value]
    if given:
        verb = "changes" if len(given) == 1 else "change"
        raise click.UsageError(f"{', '.join(given)} only {verb} the interactive page, which --print alone "
                               "does not write: add -o FILE.html (e.g. maps/township.html) to write the page as well")


def _check_print(township, path: Path, request: dict) -> None:
    """The print request checked before any work (suffix, folder, village name)."""
    from geo_township.printmap import check_request, check_village

    check_request(path, **request)
    if request["village"] is not None:
        check_village(township, request["village"])


def _print_map(township, path: Path, request: dict, results, failures):
    """Print the map; from the Results the page was drawn from when there are (alone, the
    printed map runs the analyses itself, after its own checks)."""
    from geo_township.printmap import print_map
    from geo_township.webmap.model import build_model

    model = None if results is None else build_model(township, lang=request["lang"], results=results,
                                                     warnings=failures)
    printed = print_map(township, path, model=model, **request)
    for warning in printed.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return printed


def _report_printed(printed, lang: str) -> None:
    pages, size = len(printed.pages), _size(printed.bytes)
    turn = {"landscape": "横向", "portrait": "纵向"}[printed.orientation] if lang == "zh" else printed.orientation
    if lang == "zh":
        click.echo(f"打印地图已写入 {printed.path}（{pages} 页，{printed.paper} {turn}，{size}，"
                   f"{printed.seconds:.1f} 秒）")
    else:
        click.echo(f"Printed map written to {printed.path} ({pages} page{'s' if pages != 1 else ''}, "
                   f"{printed.paper} {turn}, {size}, {printed.seconds:.1f} s)")
