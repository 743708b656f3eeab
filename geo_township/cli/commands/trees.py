"""`geo-township trees`: pine-wilt trees per village or plot, per period or season; the
deadline list; one tree's history."""

from dataclasses import replace

import click

from geo_township.cli.options import (
    DATE,
    analyse,
    common_options,
    engine_options,
    output_options,
    running_engine,
    save_option,
)

SHOWN = 30  # trees of the deadline list shown on a terminal


@click.command("trees")
@click.option("--by", type=click.Choice(["village", "plot"]), default="village", show_default=True,
              help="One row per village, or per infected sub-compartment (the 台账 ledger).")
@click.option("--from", "start", type=DATE, default=None, help="First day of the period (events by their own date).")
@click.option("--to", "end", type=DATE, default=None, help="Last day of the period.")
@click.option("--season", type=int, default=None,
              help="The clearing season starting in this year (default 1 Oct YEAR to 31 Mar YEAR+1; "
              "season_start/season_end in township.toml).")
@click.option("--deadline", type=DATE, default=None,
              help="List trees found by the season's cut-off and not cleared by this date.")
@save_option("With --deadline: also write the trees still outstanding as points (.gpkg, .csv, .kml or "
             ".geojson) for field crews.", alias="--list")
@click.option("--include-late", is_flag=True,
              help="With --deadline: list also the trees cleared after the deadline, flagged 'cleared late'.")
@click.option("--as-of", type=DATE, default=None,
              help="The day outstanding trees, days overdue and the clearance rate are judged on (default: "
              "data_date in township.toml, else today).")
@click.option("--history", "history_of", metavar="TREE_ID", default=None,
              help="Show every recorded change of one tree instead.")
@click.option("--hotspots/--no-hotspots", default=True, show_default=True, help="Include the hotspot table.")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=None, metavar="N",
              help="Read the trees N rows at a time (same numbers, less memory). Default: in chunks of "
              "250,000 when the layer has more than 2,000,000 rows, else whole.")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Count on N cores: a layer read in chunks on N processes, a whole one located on N threads "
              "(default: one per core, at most 4; 1: in this process alone, the least memory).")
@engine_options
@common_options
@output_options
def command(by, start, end, season, deadline, save, include_late, as_of, history_of, hotspots, chunk_rows, workers,
            engine, scheduler, township_path, lang, fmt, output):
    """Pine-wilt trees found, confirmed, felled, cleared and verified per village (or plot),
    still standing, not cleared, clearance rate against the target; infected
    sub-compartments (疫情小班) and hotspots."""
    from geo_township.cli.render import render
    from geo_township.errors import UsageError

    if (save is not None or include_late) and deadline is None:
        raise UsageError(f"{'--save/--list' if save is not None else '--include-late'} needs --deadline",
                         hint="add --deadline 2023-03-31")
    if history_of is not None:
        from geo_township.treeimport import tree_history

        result = analyse(township_path, tree_history, history_of)  # in a county: the townships that hold it
    elif deadline is not None:
        if start is not None or end is not None:
            raise UsageError("--deadline takes --season, not --from/--to", hint="e.g. --season 2022 --deadline "
                             "2023-03-31")
        result = _deadline_list(township_path, deadline=deadline, season=season, as_of=as_of, by=by,
                                include_late=include_late, save=save, lang=lang, fmt=fmt, output=output)
    else:
        result = analyse(township_path, _counts, by=by, start=start, end=end, season=season, as_of=as_of,
                         hotspots=hotspots, chunk_rows=chunk_rows, workers=workers, engine=engine, scheduler=scheduler)
    render(result, fmt=fmt, output=output, lang=lang)
    if deadline is not None and output is not None:  # the notes went into the file: say what was written
        n = len(result.features["overdue_trees"])
        for path in dict.fromkeys(p for p in (save, output) if p is not None):
            click.echo(f"已将 {n} 株写入 {path}" if lang == "zh" else f"{n} tree(s) written to {path}", err=True)


def _counts(township, *, chunk_rows, workers, engine, scheduler, **options):
    """The tree counts of one township: streamed in chunks for a big layer (or when asked),
    else whole on the chosen engine."""
    from geo_township.tree_stream import CHUNK_ROWS, should_stream, streamed_tree_counts

    if chunk_rows is not None or should_stream(township):
        from geo_township.cli.progress import progress_bar

        with progress_bar("trees") as progress:
            return streamed_tree_counts(township, chunk_rows=chunk_rows or CHUNK_ROWS, workers=workers,
                                        progress=progress, **options)
    from geo_township.engine import Engine
    from geo_township.trees import tree_counts

    with running_engine(engine, scheduler, "trees") as running:
        if workers is not None and running.name == "local":
            running = Engine(threads=workers)  # the trees located on that many threads
        return tree_counts(township, engine=running, **options)


def _deadline_list(township_path, *, deadline, season, as_of, by, include_late, save, lang, fmt, output):
    """The trees not cleared by the deadline (of every township of a county, under a township
    column), written to ``save`` when given; on a terminal only the first SHOWN of them,
    with a note saying how to get them all."""
    from geo_township.cli.render import choose_format, with_note
    from geo_township.tree_deadlines import overdue_trees, write_tree_list

    result = analyse(township_path, overdue_trees, deadline=deadline, season=season, as_of=as_of, by=by,
                     include_late=include_late)
    shown = result
    if save is not None:
        write_tree_list(result, save, lang=lang)
        n = len(result.features["overdue_trees"])
        shown = with_note(shown, f"{n} tree(s) written to {save}", f"已将 {n} 株写入 {save}")
    listing = result.tables["overdue_trees"]
    if choose_format(fmt, output) == "table" and len(listing) > SHOWN:
        shown = replace(shown, tables={**shown.tables, "overdue_trees": listing.head(SHOWN)})
        if save is not None:  # they are all in the file already: say where, not how
            shown = with_note(shown, f"the list shows the first {SHOWN} of {len(listing)} trees; all are in {save}",
                              f"清单只显示前 {SHOWN} 株（共 {len(listing)} 株）；全部已写入 {save}")
        else:
            shown = with_note(shown, f"the list shows the first {SHOWN} of {len(listing)} trees; write them all "
                              "with --save FILE.gpkg (or .csv/.kml) or -o FILE.xlsx",
                              f"清单只显示前 {SHOWN} 株（共 {len(listing)} 株）；用 --save 文件.gpkg（或 .csv/.kml）"
                              "或 -o 文件.xlsx 导出全部")
    return shown
