"""`geo-township candidates` through Click: the table, files for crews, and bad input."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin

from geo_township.cli import main


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def town(tiny_township):
    """NDVI 2022 and 2023 on a 10 m grid; 2023 lost 0.4 over 3 × 2 pixels in the pine plot (west)
    and over 3 × 3 pixels in the fir plot (east)."""
    x0, y1 = Transformer.from_crs(4490, 4548, always_xy=True).transform(117.488, 30.501)
    x0, y1 = np.floor(x0 / 10) * 10, np.ceil(y1 / 10) * 10
    before = np.full((140, 250), 0.8, dtype="float32")
    after = before.copy()
    for lon, lat, rows, cols in ((117.495, 30.495, 3, 2), (117.505, 30.495, 3, 3)):
        x, y = Transformer.from_crs(4490, 4548, always_xy=True).transform(lon, lat)
        r, c = int((y1 - y) // 10), int((x - x0) // 10)
        after[r:r + rows, c:c + cols] -= 0.4
    for name, data in (("ndvi_2022", before), ("ndvi_2023", after)):
        with rasterio.open(tiny_township / f"{name}.tif", "w", driver="GTiff", width=250, height=140, count=1,
                           dtype="float32", crs="EPSG:4548", transform=from_origin(x0, y1, 10, 10)) as ds:
            ds.write(data, 1)
    with open(tiny_township / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[rasters.ndvi_2022]\npath = "ndvi_2022.tif"\n\n[rasters.ndvi_2023]\npath = "ndvi_2023.tif"\n')
    return tiny_township


def test_table_and_files(runner, town, tmp_path):
    out = tmp_path / "candidates.gpkg"
    result = run(runner, "candidates", "ndvi_2022", "ndvi_2023", "--save", out, "--format", "csv",
                 "--township", town)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")), dtype={"plot_id": str})
    assert list(table["patch_id"]) == ["C001"]
    assert table["plot_id"].iloc[0] == "001"
    assert table["loss_pixels"].iloc[0] == 6
    assert table["drop_mean"].iloc[0] == pytest.approx(0.4, abs=1e-6)
    assert "wrote" in result.stderr
    assert dict(pyogrio.list_layers(out)) == {"candidate_patches": "Polygon", "candidate_points": "Point"}


def test_chinese_table_and_kml(runner, town, tmp_path):
    result = run(runner, "candidates", "ndvi_2022", "ndvi_2023", "--lang", "zh", "--save", tmp_path / "c.kml",
                 "--township", town)
    assert result.exit_code == 0
    for word in ("疑似斑块", "小班", "平均下降", "马尾松"):
        assert word in result.stdout
    assert (tmp_path / "c.kml").exists()


def test_thresholds_from_options(runner, town):
    result = run(runner, "candidates", "ndvi_2022", "ndvi_2023", "--max-m2", "300", "--format", "json",
                 "--township", town)
    doc = json.loads(result.stdout)
    assert doc["tables"]["summary"] == []
    assert doc["tables"]["totals"][0]["excluded_large"] == 1
    assert doc["provenance"]["max_m2"] == 300


def test_a_dem_as_the_later_raster_is_flagged(runner, town, tmp_path):
    """`candidates ndvi_2022 dem` used to run without complaint (the DEM warped onto the NDVI
    grid, every drop negative): now the findings say the DEM is not an index like the other."""
    with rasterio.open(town / "ndvi_2022.tif") as src:
        profile = src.profile
    dem = np.linspace(120, 480, 140 * 250, dtype="float32").reshape(140, 250)
    with rasterio.open(town / "dem.tif", "w", **profile) as ds:
        ds.write(dem, 1)
    with open(town / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[rasters.dem]\npath = "dem.tif"\n')
    result = run(runner, "candidates", "ndvi_2022", "dem", "--format", "json", "--township", town)
    assert result.exit_code == 0, result.stderr
    findings = json.loads(result.stdout)["tables"]["findings"]
    assert {(f["layer"], f["check"]) for f in findings} == {("dem", "not_an_index"), ("dem", "index_ranges_differ")}
    assert any("between −1 and 1" in f["message"] for f in findings)
    zh = run(runner, "candidates", "ndvi_2022", "dem", "--lang", "zh", "--township", town)
    assert "不像植被指数" in zh.stdout


def test_saved_csv_has_species_words_and_rounded_numbers(runner, town, tmp_path):
    out = tmp_path / "c.csv"
    assert run(runner, "candidates", "ndvi_2022", "ndvi_2023", "--save", out, "--township", town).exit_code == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert table["species"].tolist() == ["Masson pine"]
    assert table["area_m2"].tolist() == ["600"]  # 3 × 2 pixels of 10 m
    assert table["drop_mean"].tolist() == ["0.4"]
    out_zh = tmp_path / "c_zh.csv"
    assert run(runner, "candidates", "ndvi_2022", "ndvi_2023", "--save", out_zh, "--lang", "zh",
               "--township", town).exit_code == 0
    assert pd.read_csv(out_zh, encoding="utf-8-sig", dtype=str)["优势树种"].tolist() == ["马尾松"]


@pytest.mark.parametrize(("args", "message"), [
    (["ndvi_2022", "nope"], "no raster called 'nope'"),
    (["ndvi_2022", "ndvi_2023.tif"], "'ndvi_2023.tif' is the raster ndvi_2023"),
    (["ndvi_2022", "ndvi_2023", "--min-drop", "0"], "--min-drop"),
    (["ndvi_2022", "ndvi_2023", "--min-m2", "900", "--max-m2", "100"], "size range"),
    (["ndvi_2022", "ndvi_2023", "--save", "c.xlsx"], "cannot write candidates"),
])
def test_bad_input_exits_2_with_a_message(runner, town, args, message, monkeypatch):
    monkeypatch.chdir(town)
    result = run(runner, "candidates", *args, "--township", town)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
