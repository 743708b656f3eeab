"""File Geodatabase layers: a real .gdb written by GDAL's OpenFileGDB driver holding the
sample's villages and forest plots with their Chinese field names, read back through a
township.toml; fields known by their aliases; a missing or wrong layer lists the layers."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pytest

from geo_township.cli import main
from geo_township.errors import LayerReadError
from geo_township.inventory import area_summary, describe_layers
from geo_township.io.gdb import gdb_layers
from geo_township.io.read import read_vector
from geo_township.layers import load_township

pytestmark = pytest.mark.skipif("OpenFileGDB" not in pyogrio.list_drivers(write=True),
                                reason="this GDAL cannot write File Geodatabases (needs GDAL >= 3.6)")


def gdb_sample(sample_dir: Path, dest: Path) -> Path:
    """A copy of the sample whose villages and forest plots are read from township.gdb."""
    shutil.copytree(sample_dir, dest)
    villages = gpd.read_file(dest / "township.gpkg", layer="villages")
    plots = gpd.read_file(dest / "forest_plots.shp", encoding="gb18030")
    villages.to_file(dest / "township.gdb", driver="OpenFileGDB", layer="villages")
    plots.to_file(dest / "township.gdb", driver="OpenFileGDB", layer="小班")
    toml = (dest / "township.toml").read_text(encoding="utf-8")
    toml = toml.replace('[layers.villages]\npath = "township.gpkg"', '[layers.villages]\npath = "township.gdb"', 1)
    toml = toml.replace('path = "forest_plots.shp"', 'path = "township.gdb"\nlayer = "小班"', 1)
    (dest / "township.toml").write_text(toml, encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def gdb_town(sample_dir, tmp_path_factory) -> Path:
    return gdb_sample(sample_dir, tmp_path_factory.mktemp("gdb") / "sample")


def test_the_gdb_holds_chinese_names(gdb_town):
    assert gdb_layers(gdb_town / "township.gdb") == [("villages", "MultiPolygon"), ("小班", "MultiPolygon")]
    raw = read_vector(gdb_town / "township.gdb", layer="小班")
    assert {"小班编码", "村名", "优势树种", "林长"} <= set(raw.gdf.columns)
    assert "马尾松" in set(raw.gdf["优势树种"])


def test_gdb_layers_read_like_the_originals(gdb_town, sample_dir):
    gdb, original = load_township(gdb_town), load_township(sample_dir)
    for kind in ("villages", "forest_plots"):
        a, b = gdb.layer(kind), original.layer(kind)
        assert len(a.gdf) == len(b.gdf)
        assert a.field_map == b.field_map, kind
        assert a.source_crs.equals(b.source_crs)
    for kind, by in (("villages", "village"), ("forest_plots", "species")):
        got = area_summary(gdb, kind, by=by).table.set_index("group")["area_mu"]
        want = area_summary(original, kind, by=by).table.set_index("group")["area_mu"]
        # a geodatabase stores coordinates on a grid (GDAL's default: 1e-9° or 0.1 mm): 1e-7 of an area
        pd.testing.assert_series_equal(got, want, rtol=1e-7)
    plots = gdb.gdf("forest_plots")
    assert plots["village"].isin(gdb.gdf("villages")["village"]).all()


def test_info_lists_the_gdb_layers(gdb_town):
    result = describe_layers(load_township(gdb_town))
    files = result.table.set_index("layer")["file"]
    assert files["villages"] == "township.gdb:villages"
    assert files["forest_plots"] == "township.gdb:小班"
    assert not result.has_errors
    fields = result.tables["fields"].set_index("layer")["fields"]
    assert "plot_id←小班编码" in fields["forest_plots"] and "village←村名" in fields["villages"]


def test_a_gdb_of_several_layers_needs_layer_and_lists_them(gdb_town, tmp_path):
    town = tmp_path / "t"
    shutil.copytree(gdb_town, town)
    toml = (town / "township.toml").read_text(encoding="utf-8")
    (town / "township.toml").write_text(toml.replace('layer = "小班"', 'layer = "林班"'), encoding="utf-8")
    township = load_township(town)
    with pytest.raises(LayerReadError) as wrong:
        township.layer("forest_plots")
    assert "no layer '林班' in the File Geodatabase" in str(wrong.value)
    assert "villages (polygons), 小班 (polygons)" in str(wrong.value)
    result = describe_layers(township)
    row = result.table.set_index("layer").loc["forest_plots"]
    assert row["crs"] == "unreadable"
    message = next(f.message for f in result.findings if f.layer == "forest_plots" and f.check == "unreadable")
    assert "township.gdb" in message and "小班 (polygons)" in message
    # no layer at all: the geodatabase holds two, so township.toml must say which
    with pytest.raises(LayerReadError, match=r"holds 2 layers .* does not say which.*villages \(polygons\)"):
        read_vector(town / "township.gdb")


def test_info_command_names_the_layers(gdb_town, tmp_path, runner):
    town = tmp_path / "t"
    shutil.copytree(gdb_town, town)
    toml = (town / "township.toml").read_text(encoding="utf-8")
    (town / "township.toml").write_text(toml.replace('layer = "小班"\n', ""), encoding="utf-8")
    result = runner.invoke(main, ["info", "--township", str(town), "--format", "json"])
    assert result.exit_code != 0
    doc = json.loads(result.stdout)
    text = " ".join(f["message"] for f in doc["tables"]["findings"] if f["layer"] == "forest_plots")
    assert "township.gdb" in text and 'add layer = "NAME"' in text and "villages (polygons), 小班 (polygons)" in text


def test_one_layer_gdb_needs_no_layer_name_and_tables_are_listed_apart(sample_dir, tmp_path):
    villages = gpd.read_file(sample_dir / "township.gpkg", layer="villages")
    gdb = tmp_path / "村界.gdb"
    villages.to_file(gdb, driver="OpenFileGDB", layer="村界")
    pyogrio.write_dataframe(pd.DataFrame({"备注": ["a", "b"]}), gdb, layer="权属表", driver="OpenFileGDB")
    raw = read_vector(gdb)
    assert raw.layer == "村界" and len(raw.gdf) == len(villages)
    with pytest.raises(LayerReadError, match="tables without geometry: 权属表"):
        read_vector(gdb, layer="村")


def test_a_folder_that_is_not_a_gdb_is_still_refused(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(LayerReadError, match="is a folder, not a file"):
        read_vector(tmp_path / "data")


def test_a_damaged_gdb_says_so(tmp_path):
    (tmp_path / "broken.gdb").mkdir()
    (tmp_path / "broken.gdb" / "gdb").write_bytes(b"\x00" * 8)
    with pytest.raises(LayerReadError, match="cannot open the File Geodatabase"):
        read_vector(tmp_path / "broken.gdb")


# --------------------------------------------------------------------------- aliases


def write_with_aliases(gdf: gpd.GeoDataFrame, path: Path, layer: str, aliases: dict[str, str]) -> None:
    """Write ``gdf`` to a File Geodatabase with field aliases, as ArcGIS keeps them (GDAL's
    alternative names, passed in the Arrow schema's field metadata)."""
    table = pa.table(gdf.to_arrow(geometry_encoding="WKB"))
    fields = [f.with_metadata({"GDAL:OGR:alternative_name": aliases[f.name]}) if f.name in aliases else f
              for f in table.schema]
    table = table.cast(pa.schema(fields, metadata=table.schema.metadata))
    pyogrio.write_arrow(table, path, layer=layer, driver="OpenFileGDB", geometry_name="geometry",
                        geometry_type="Polygon", crs=gdf.crs.to_string())


@pytest.fixture
def alias_town(sample_dir, tmp_path) -> Path:
    villages = gpd.read_file(sample_dir / "township.gpkg", layer="villages").rename(
        columns={"村名": "CM", "村代码": "CDM"})
    villages["BZ"] = "测试"
    write_with_aliases(villages, tmp_path / "arcgis.gdb", "XZQ", {"CM": "村名", "CDM": "村代码", "BZ": "备注"})
    (tmp_path / "township.toml").write_text('[township]\nname = "别名乡"\n\n[layers.villages]\npath = "arcgis.gdb"\n',
                                            encoding="utf-8")
    return tmp_path


def test_aliases_are_read(alias_town):
    raw = read_vector(alias_town / "arcgis.gdb")
    assert raw.aliases == {"CM": "村名", "CDM": "村代码", "BZ": "备注"}
    assert list(raw.gdf.columns[:3]) == ["CM", "CDM", "BZ"]


def test_fields_are_known_by_their_aliases(alias_town, sample_dir):
    town = load_township(alias_town)
    layer = town.layer("villages")
    assert layer.field_map == {"village": "CM", "code": "CDM"}
    original = gpd.read_file(sample_dir / "township.gpkg", layer="villages")
    assert list(layer.gdf["village"]) == list(original["村名"])
    fields = describe_layers(town).tables["fields"].set_index("layer").loc["villages"]
    assert fields["fields"] == "village←CM (村名), code←CDM (村代码)"
    assert fields["other_fields"] == "BZ (备注)"


def test_township_toml_may_name_a_field_by_its_alias(alias_town):
    toml = alias_town / "township.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + 'fields = { village = "备注" }\n', encoding="utf-8")
    layer = load_township(alias_town).layer("villages")
    assert layer.field_map["village"] == "BZ"
    assert set(layer.gdf["village"]) == {"测试"}


def test_a_field_name_wins_over_another_fields_alias(sample_dir, tmp_path):
    villages = gpd.read_file(sample_dir / "township.gpkg", layer="villages").rename(columns={"村代码": "DM"})
    villages["MC"] = villages["村名"] + "（旧）"
    write_with_aliases(villages, tmp_path / "a.gdb", "v", {"MC": "村名"})  # an alias equal to a field's name
    raw = read_vector(tmp_path / "a.gdb")
    assert raw.aliases == {"MC": "村名"}
    (tmp_path / "township.toml").write_text('[township]\nname = "x"\n[layers.villages]\npath = "a.gdb"\n',
                                            encoding="utf-8")
    layer = load_township(tmp_path).layer("villages")
    assert layer.field_map["village"] == "村名"
    assert not np.any(layer.gdf["village"].str.contains("旧"))
    assert re.search("MC", ", ".join(map(str, layer.gdf.columns)))
