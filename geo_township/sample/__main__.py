"""``python -m geo_township.sample OUT_DIR``: write the sample township into OUT_DIR."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pyogrio.errors import DataLayerError, DataSourceError

from . import DEFAULT_SEED, generate


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, print what was written; exit 2 when OUT_DIR is unwritable."""
    parser = argparse.ArgumentParser(
        prog="python -m geo_township.sample",
        description="Write the sample township 青溪乡 (deterministic) into OUT_DIR.",
    )
    parser.add_argument("out_dir", type=Path, help="folder to write (created if missing)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out: Path = args.out_dir
    t0 = time.perf_counter()
    try:
        truth = generate(out, seed=args.seed)
    except (OSError, DataSourceError, DataLayerError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        print(
            f"error: cannot write the sample into {out}: {reason}. "
            "Choose a folder you can write to.",
            file=sys.stderr,
        )
        return 2
    counts = truth["counts"]
    rows = [
        (
            "township.gpkg",
            (
                f"villages {counts['villages']}, land_transfers "
                f"{counts['land_transfers']}, basic_farmland {counts['basic_farmland']}"
            ),
        ),
        ("forest_plots.shp", f"{counts['forest_plots']} plots (GBK, EPSG:4527)"),
        ("infected_trees.csv", f"{counts['infected_trees']} trees"),
        ("rivers.geojson", f"{counts['rivers']} reaches"),
        ("sand_sites.kml", f"{counts['sand_sites']} sites"),
        ("township.toml", "township description"),
        ("README.md", "what the sample is and what is planted"),
    ]
    print(f"Wrote the sample township 青溪乡 to {out} in {time.perf_counter() - t0:.1f} s:")
    for name, what in rows:
        size = (out / name).stat().st_size
        print(f"  {name:<20} {size / 1024:8.0f} KiB  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
