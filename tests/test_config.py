"""township.toml: defaults, validation, and mistakes reported with file, key and fix."""

from pathlib import Path

import pytest

from geo_township.config import PARAMETERS, find_config, load_config
from geo_township.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "v.gpkg").write_bytes(b"")  # existence is all the config checks
    path = tmp_path / "township.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_values(tmp_path):
    cfg = load_config(write(tmp_path, """
[township]
name = "示范乡"
crs = "EPSG:4490"
data_date = "2023-04-30"
gk_zone = 117

[layers.villages]
path = "v.gpkg"
layer = "villages"
fields = { village = "村" }

[layers.infected_trees]
path = "v.gpkg"
values = { status = { "砍了" = "felled" } }

[parameters]
tolerance_pct = 3
"""))
    assert cfg.name == "示范乡"
    assert cfg.crs.to_epsg() == 4490
    assert str(cfg.data_date) == "2023-04-30"
    assert cfg.layers["villages"].fields == {"village": "村"}
    assert cfg.layers["villages"].path == (tmp_path / "v.gpkg").resolve()
    assert cfg.layers["infected_trees"].values == {"status": {"砍了": "felled"}}
    assert cfg.parameters["tolerance_pct"] == 3.0
    assert cfg.parameters["area_method"] == "ellipsoidal"  # default
    assert set(cfg.parameters) == set(PARAMETERS)


def test_every_mistake_is_reported_together(tmp_path):
    path = write(tmp_path, """
[township]
name = "示范乡"
crs = "EPSG:99999999"

[layers.vilages]
path = "v.gpkg"

[layers.forest_plots]
path = "missing.shp"
fields = { plot = "小班号" }

[layers.infected_trees]
path = "v.gpkg"
values = { status = { "砍了" = "chopped" } }

[parameters]
area_method = "flat"
tolerance_pct = -1
clearence_target_pct = 90
""")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert str(path) in text
    assert "[layers.vilages] unknown layer kind 'vilages'" in text and "did you mean 'villages'" in text
    assert "[layers.forest_plots.path] file not found" in text
    assert "unknown field 'plot'" in text and "plot_id" in text
    assert "maps to unknown value 'chopped'" in text
    assert "[township.crs]" in text
    assert "[parameters.area_method]" in text and "ellipsoidal" in text
    assert "[parameters.tolerance_pct]" in text and "below the minimum" in text
    assert "unknown parameter 'clearence_target_pct'" in text and "clearance_target_pct" in text


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "[township\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_config(path)
    assert err.value.path == path.resolve()


def test_find_config_order(tmp_path):
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "township.toml").write_text('[township]\nname="x"\n', encoding="utf-8")
    assert find_config(cwd=tmp_path) == tmp_path / "layers" / "township.toml"
    (tmp_path / "township.toml").write_text('[township]\nname="y"\n', encoding="utf-8")
    assert find_config(cwd=tmp_path) == tmp_path / "township.toml"
    with pytest.raises(ConfigError, match="init"):
        find_config(cwd=tmp_path / "layers" / "nowhere")
    with pytest.raises(ConfigError, match="not found"):
        find_config(tmp_path / "nope")


def test_bad_gk_zone(tmp_path):
    with pytest.raises(ConfigError, match="gk_zone"):
        load_config(write(tmp_path, '[township]\nname = "x"\ngk_zone = 50\n'))
