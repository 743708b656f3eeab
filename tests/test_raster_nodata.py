"""Rasters tell the truth about nodata, and zonal quantiles have one definition.

The sample township, copied, gets an 8-bit raster whose profile says 255 = nodata while
many of its pixels really are 255 next to many 254s (an index scaled to 0–255 and
saturated), and a layer of rectangles that cover whole pixels, so that every statistic can
be computed here with numpy: with the file's nodata (255 left out, and a warning saying how
to keep it), with ``nodata = "none"`` (every value counts) and with ``nodata = 0``.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from messy import SAMPLE, append_toml, copy_sample, point_layer_at, write_geotiff

from geo_township.cli import main
from geo_township.layers import load_township
from geo_township.raster import zonal_stats

X0, Y1, RES = 546_000.0, 3_376_000.0, 10.0  # EPSG:4548, inside the sample's villages
ROWS, COLS = 40, 60
BLOCKS = {"A": (4, 5, 20, 25), "B": (10, 30, 35, 55)}  # (row0, col0, row1, col1), whole pixels


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def score_data() -> np.ndarray:
    """Values 180–253, with 20 % of the pixels 255, 15 % 254 and 3 % 0, scattered."""
    rng = np.random.default_rng(7)
    data = rng.integers(180, 254, size=(ROWS, COLS)).astype("uint8")
    u = rng.random(data.shape)
    data[u < 0.20] = 255
    data[(u >= 0.20) & (u < 0.35)] = 254
    data[(u >= 0.35) & (u < 0.38)] = 0
    return data


def rect(r0: int, c0: int, r1: int, c1: int) -> shapely.Polygon:
    return shapely.box(X0 + c0 * RES, Y1 - r1 * RES, X0 + c1 * RES, Y1 - r0 * RES)


def scored_township(tmp: Path, toml: str = "", *, polygons: dict | None = None, data: np.ndarray | None = None
                    ) -> Path:
    """The sample with score.tif (uint8, nodata 255 in its profile) as raster ``score``
    (``toml`` adds lines to its table) and basic_farmland pointed at ``polygons``."""
    folder = copy_sample(tmp)
    write_geotiff(folder / "score.tif", score_data() if data is None else data, origin=(X0, Y1), res=RES, nodata=255)
    polygons = polygons or {k: rect(*v) for k, v in BLOCKS.items()}
    gpd.GeoDataFrame({"patch_id": list(polygons)}, geometry=list(polygons.values()), crs=4548).to_file(
        folder / "blocks.gpkg", layer="blocks")
    point_layer_at(folder, "basic_farmland", "blocks.gpkg", "blocks")
    append_toml(folder, '[rasters.score]\npath = "score.tif"\n' + toml)
    return folder


def zonal_json(folder: Path, *extra) -> tuple[object, dict]:
    result = invoke("zonal", "score", "--layer", "basic_farmland", "--township", folder, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return result, json.loads(result.stdout)


def by_hand(keep) -> dict[str, dict[str, float]]:
    """Pixels, mean, min and max of each rectangle over the pixels ``keep(values)`` keeps."""
    data = score_data().astype("float64")
    out = {}
    for name, (r0, c0, r1, c1) in BLOCKS.items():
        v = data[r0:r1, c0:c1].ravel()
        v = v[keep(v)]
        out[name] = {"pixels": float(len(v)), "mean": v.mean(), "min": v.min(), "max": v.max(),
                     "valid_pct": len(v) / ((r1 - r0) * (c1 - c0)) * 100}
    return out


def rows(tables: dict) -> dict[str, dict]:
    return {r["patch_id"]: r for r in tables["summary"]}


def check_numbers(tables: dict, expected: dict[str, dict[str, float]]) -> None:
    """The JSON's numbers are the table's, rounded as shown (valid_pct to 1 decimal, the
    statistics of values above 10 to 2)."""
    got = rows(tables)
    for name, stats in expected.items():
        for stat, value in stats.items():
            assert got[name][stat] == pytest.approx(round(value, 1 if stat == "valid_pct" else 2)), (name, stat)
    assert got["Total"]["pixels"] == pytest.approx(sum(s["pixels"] for s in expected.values()))


def nodata_findings(tables: dict) -> list[dict]:
    return [f for f in tables.get("findings", []) if f["check"] == "nodata_is_data"]


def test_file_nodata_that_is_real_data_is_left_out_and_named_with_the_fix(tmp_path):
    folder = scored_township(tmp_path)
    _, out = zonal_json(folder)
    check_numbers(out["tables"], by_hand(lambda v: v != 255))
    [finding] = nodata_findings(out["tables"])
    assert finding["severity"] == "warning" and finding["layer"] == "score" and finding["feature"] == "score.tif"
    data = score_data()
    inside = np.concatenate([data[r0:r1, c0:c1].ravel() for r0, c0, r1, c1 in BLOCKS.values()])
    n255 = int((inside == 255).sum())
    assert finding["message"].startswith(f"{n255:,} pixels under the polygons ({n255 / inside.size:.1%}) hold 255, "
                                         "which the file marks as nodata")
    assert "the largest value a uint8 band can hold" in finding["message"]
    share254 = (inside == 254).sum() / (inside != 255).sum()
    assert f"{share254:.0%} of the valid pixels hold 254" in finding["message"]
    assert 'write nodata = "none" in [rasters.score] of township.toml' in finding["message"]

    table = invoke("zonal", "score", "--layer", "basic_farmland", "--township", folder)
    assert table.exit_code == 0
    assert 'nodata: 255 may be real data in score (see the findings); to keep it, write nodata = "none"' in " ".join(
        table.stdout.split())


def test_nodata_none_keeps_every_value(tmp_path):
    folder = scored_township(tmp_path, 'nodata = "none"\n')
    _, out = zonal_json(folder)
    check_numbers(out["tables"], by_hand(lambda v: np.ones(len(v), dtype=bool)))
    assert all(r["valid_pct"] == 100.0 for r in out["tables"]["summary"])
    assert nodata_findings(out["tables"]) == []
    assert out["provenance"]["nodata"] is None and out["provenance"]["nodata_from"] == "none"
    table = invoke("zonal", "score", "--layer", "basic_farmland", "--township", folder)
    assert ('nodata: none, as township.toml says (nodata = "none"): every value counts, the file\'s own nodata '
            "(255) too") in " ".join(table.stdout.split())


def test_nodata_number_replaces_the_files(tmp_path):
    folder = scored_township(tmp_path, "nodata = 0\n")
    _, out = zonal_json(folder)
    check_numbers(out["tables"], by_hand(lambda v: v != 0))
    assert rows(out["tables"])["A"]["max"] == 255.0  # the file's 255 is data now
    assert nodata_findings(out["tables"]) == []
    assert out["provenance"]["nodata"] == 0.0 and out["provenance"]["nodata_from"] == "township.toml"


@pytest.mark.parametrize("value", ['"missing"', "true", "[255]"])
def test_a_nodata_that_is_neither_a_number_nor_none_is_refused(tmp_path, value):
    folder = scored_township(tmp_path, f"nodata = {value}\n")
    result = invoke("zonal", "score", "--layer", "basic_farmland", "--township", folder)
    assert result.exit_code == 2
    assert "[rasters.score.nodata] nodata must be a number or \"none\"" in result.stderr
    assert 'nodata = "none" to keep every value' in result.stderr and "Traceback" not in result.stderr


def test_a_patch_of_nodata_like_a_cloud_is_not_suspect(tmp_path):
    """255 in one block (a cloud, the edge of a scene) and no pile of 254s: no warning."""
    data = np.random.default_rng(3).integers(100, 200, size=(ROWS, COLS)).astype("uint8")
    data[8:30, 10:40] = 255
    folder = scored_township(tmp_path, data=data)
    _, out = zonal_json(folder)
    assert nodata_findings(out["tables"]) == []
    assert rows(out["tables"])["A"]["valid_pct"] < 60  # much of it is nodata, rightly left out


def test_the_sample_rasters_raise_no_doubt_and_keep_their_numbers(tmp_path):
    """The 2023 NDVI's cloud is nodata in a patch: no warning; and the new raster and
    layer change nothing of the sample's own numbers."""
    folder = scored_township(tmp_path)
    clean = invoke("zonal", "ndvi_2023", "--by", "village", "--township", SAMPLE, "--format", "json")
    copied = invoke("zonal", "ndvi_2023", "--by", "village", "--township", folder, "--format", "json")
    assert clean.exit_code == copied.exit_code == 0
    clean_tables, copied_tables = json.loads(clean.stdout)["tables"], json.loads(copied.stdout)["tables"]
    assert copied_tables == clean_tables
    assert nodata_findings(clean_tables) == []


# --------------------------------------------------------------------------- one definition of quantiles


def merged_weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The definition, by hand: equal values merged (weights summed), then the weighted
    percentile method over the N distinct values: S_k = k·w_k + (N−1)·Σ_{i<k} w_i, linear
    between the two values whose S bracket q·(N−1)·Σw."""
    x, inverse = np.unique(values, return_inverse=True)
    w = np.bincount(inverse, weights=weights)
    n = len(x)
    s = np.arange(n) * w + (n - 1) * np.concatenate([[0.0], np.cumsum(w)[:-1]])
    target = q * (n - 1) * w.sum()
    k = int(np.searchsorted(s, target, side="right"))
    return float(x[k - 1] + (target - s[k - 1]) * (x[k] - x[k - 1]) / (s[k] - s[k - 1]))


def test_one_polygons_row_and_a_total_over_it_agree_and_follow_the_definition(tmp_path):
    """On an integer raster exactextract returned the row's median cut to the raster's type
    (227 for 227.9); the Total over the same polygon was not cut. Both now follow one
    definition, checked here against the exact overlap of the polygon with every pixel."""
    tilted = shapely.Polygon([(X0 + 52.5, Y1 - 31.0), (X0 + 402.2, Y1 - 47.3), (X0 + 371.4, Y1 - 338.8),
                              (X0 + 80.9, Y1 - 301.6)])
    folder = scored_township(tmp_path, 'nodata = "none"\n', polygons={"T": tilted})
    result = zonal_stats(load_township(folder), "score", layer="basic_farmland", percentiles=(10, 90))
    row, total = result.table.iloc[0], result.table.iloc[-1]
    assert total["patch_id"] == "Total"

    data = score_data().astype("float64")
    r, c = np.mgrid[0:ROWS, 0:COLS]
    cells = shapely.box(X0 + c * RES, Y1 - (r + 1) * RES, X0 + (c + 1) * RES, Y1 - r * RES)
    cover = shapely.area(shapely.intersection(cells, tilted)) / RES**2
    use = cover > 1e-12
    for stat, q in (("median", 0.5), ("p10", 0.1), ("p90", 0.9)):
        expected = merged_weighted_quantile(data[use], cover[use], q)
        assert row[stat] == pytest.approx(expected, rel=1e-9), stat  # to the rounding of exactextract's coverage
        assert total[stat] == pytest.approx(row[stat], abs=1e-9), stat
    assert row["median"] != round(row["median"])  # not cut to a whole number
    assert row["mean"] == pytest.approx((data[use] * cover[use]).sum() / cover[use].sum(), rel=1e-9)


def test_zonal_heads_a_farmland_patch_as_a_patch_not_a_candidate(tmp_path):
    """`patch_id` of basic farmland is its 图斑编号: `zonal` heads it so in both languages (it
    read "Candidate", the heading of the candidates' own numbering)."""
    folder = scored_township(tmp_path)
    result = invoke("zonal", "score", "--layer", "basic_farmland", "--township", folder, "--format", "csv",
                    "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.lstrip("\ufeff").splitlines()[0].split(",")
    assert header[0] == "图斑编号" and "疑似斑块" not in header
    table = invoke("zonal", "score", "--layer", "basic_farmland", "--township", folder)
    assert table.exit_code == 0, table.stderr
    assert "Patch" in table.stdout and "Candidate" not in table.stdout
