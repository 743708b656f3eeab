"""`geo-township trees`: pine-wilt trees per village or plot, per period or season; the
deadline list; one tree's history."""

from pathlib import Path

import click

from geo_township.cli.options import DATE, common_options, output_options

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
@click.option("--list", "list_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="With --deadline: also write the trees still outstanding as points (.gpkg, .csv, .kml or "
              ".geojson) for field crews.")
@click.option("--include-late", is_flag=True,
              help="With --deadline: list also the trees cleared after the deadline, flagged 'cleared late'.")
@click.option("--as-of", type=DATE, default=None,
              help="The day outstanding trees, days overdue and the clearance rate are judged on (default: "
              "data_date in township.toml, else today).")
@click.option("--history", "history_of", metavar="TREE_ID", default=None,
              help="Show every recorded change of one tree instead.")
@click.option("--hotspots/--no-hotspots", default=True, show_default=True, help="Include the hotspot table.")
@common_options
@output_options
def command(by, start, end, season, deadline, list_file, include_late, as_of, history_of, hotspots, township_path,
            lang, fmt, output):
    """Pine-wilt trees found, confirmed, felled, cleared and verified per village (or plot),
    still standing, not cleared, clearance rate against the target; infected
    sub-compartments (疫情小班) and hotspots."""
    from geo_township.cli.render import choose_format, render
    from geo_township.errors import UsageError
    from geo_township.layers import load_township

    township = load_township(township_path)
    if (list_file is not None or include_late) and deadline is None:
        raise UsageError(f"{'--list' if list_file is not None else '--include-late'} needs --deadline",
                         hint="add --deadline 2023-03-31")
    if history_of is not None:
        from geo_township.treeimport import tree_history

        result = tree_history(township, history_of)
    elif deadline is not None:
        from geo_township.tree_deadlines import overdue_trees, write_tree_list

        if start is not None or end is not None:
            raise UsageError("--deadline takes --season, not --from/--to", hint="e.g. --season 2022 --deadline "
                             "2023-03-31")
        result = overdue_trees(township, deadline=deadline, season=season, as_of=as_of, by=by,
                               include_late=include_late)
        if list_file is not None:
            write_tree_list(result, list_file, lang=lang)
            result.notes.append(f"{len(result.features['overdue_trees'])} tree(s) written to {list_file}")
        listing = result.tables["overdue_trees"]
        if choose_format(fmt, output) == "table" and len(listing) > SHOWN:
            result.tables["overdue_trees"] = listing.head(SHOWN)
            result.notes.append(f"the list shows the first {SHOWN} of {len(listing)} trees; write them all "
                                "with --list FILE.gpkg (or .csv/.kml) or -o FILE.xlsx")
    else:
        from geo_township.trees import tree_counts

        result = tree_counts(township, by=by, start=start, end=end, season=season, as_of=as_of,
                             hotspots=hotspots)
    render(result, fmt=fmt, output=output, lang=lang)
