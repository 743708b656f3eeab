"""Make docs/map.png: the sample township's map page, written by the same code as
`geo-township map --offline`, opened in headless Chromium by the browser tests' tooling,
as it opens (core layers and audit findings on), with the popup a click on one tree opens
(the tree's record first, then whatever else lies under the pointer).

    python tests/browser/make_screenshot.py [--lang zh] [-o docs/map.png]

The network is blocked as in the tests, so basemap tiles are plain; Chinese labels need a
CJK font (Debian: fonts-wqy-microhei).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from chromium import Browser  # noqa: E402  (importable only once sys.path holds this folder)

TREE_POINT = """(id) => {
  const m = window.townshipMap, st = m.layers.infected_trees;
  for (let i = 0; i < st.def.n; i++) if (m.featureId(st, i) === id) {
    const p = m.map.latLngToContainerPoint(m.featureLatLng(st, i)), r = m.map.getContainer().getBoundingClientRect();
    return [p.x + r.left, p.y + r.top];
  }
  return null;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", choices=["en", "zh"], default="en")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "docs" / "map.png")
    parser.add_argument("--township", type=Path, default=REPO / "layers")
    parser.add_argument("--tree", default=None, help="tree id whose popup is open (default: the first outstanding)")
    args = parser.parse_args()

    from geo_township.layers import load_township
    from geo_township.webmap import write_map

    township = load_township(args.township)
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "township.html"
        write_map(township, page_path, lang=args.lang, offline=True)
        trees = township.gdf("infected_trees")
        tree = args.tree or str(trees.loc[trees["status"] == "confirmed", "tree_id"].iloc[0])
        browser = Browser()
        try:
            session = browser.open(page_path)
            page = session.page
            page.wait_for_timeout(300)
            point = page.evaluate(TREE_POINT, tree)
            if point is None:
                raise SystemExit(f"no tree {tree!r}")
            page.mouse.click(*point)
            page.wait_for_selector(".leaflet-popup-content .gt-popup")
            page.wait_for_timeout(500)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.output))
            problems = session.problems()
            if problems:
                raise SystemExit(f"the page had problems: {problems}")
        finally:
            browser.close()
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
