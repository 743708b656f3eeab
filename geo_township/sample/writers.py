"""Write the sample township's files: each layer in the format a township office gets it in.

Files are written into a temporary folder inside the target and then renamed into place, so
an interrupted run never leaves a half-written layer behind. Outputs are byte-for-byte
reproducible: the GeoPackage timestamp and the shapefile's DBF date are pinned to the data
date.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pyogrio

from .build import Sample
from .names import DATA_DATE, TOWNSHIP, TOWNSHIP_EN
from .rasters import TOML as RASTERS_TOML
from .rasters import readme_section, write_rasters
from .river_work import TOML as RIVER_WORK_TOML
from .river_work import readme_section as river_work_readme
from .river_work import write_river_work

log = logging.getLogger(__name__)

GPKG = "township.gpkg"
SHP = "forest_plots.shp"
CSV = "infected_trees.csv"
GEOJSON = "rivers.geojson"
KML = "sand_sites.kml"
TOML = "township.toml"
README = "README.md"

TOWNSHIP_TOML = (
    f"""[township]
name = "{TOWNSHIP}"
name_en = "{TOWNSHIP_EN}"
crs = "EPSG:4490"
data_date = "{DATA_DATE}"

[layers.villages]
path = "township.gpkg"
layer = "villages"

[layers.forest_plots]
path = "forest_plots.shp"
fields = {{ plot_id = "小班编码" }}

[layers.infected_trees]
path = "infected_trees.csv"
fields = {{ plot_id = "小班编码" }}

[layers.rivers]
path = "rivers.geojson"

[layers.sand_sites]
path = "sand_sites.kml"

[layers.land_transfers]
path = "township.gpkg"
layer = "land_transfers"

[layers.basic_farmland]
path = "township.gpkg"
layer = "basic_farmland"
"""
    + RIVER_WORK_TOML
    + RASTERS_TOML
)

_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _pin_dbf_date(dbf: Path) -> None:
    """Set the DBF header's last-update date (bytes 1-3: YY-1900, MM, DD) to the data date."""
    y, m, d = (int(x) for x in DATA_DATE.split("-"))
    with open(dbf, "r+b") as f:
        f.seek(1)
        f.write(bytes([y - 1900, m, d]))


def _narrow_dbf_real(dbf: Path, field: str, width: int, decimals: int) -> None:
    """Store a real field as N(width, decimals), as forestry software writes 面积 (亩).

    GDAL writes float fields as N(24,15) ("44.509999999999998"); nothing in pyogrio sets a
    width, so the DBF records are rewritten here with the field narrowed.
    """
    raw = bytearray(dbf.read_bytes())
    n_rec = int.from_bytes(raw[4:8], "little")
    head_len = int.from_bytes(raw[8:10], "little")
    rec_len = int.from_bytes(raw[10:12], "little")
    name = field.encode("gbk")
    offset, k = 1, 32
    while raw[k] != 0x0D:
        fname = bytes(raw[k : k + 11]).rstrip(b"\0")
        flen = raw[k + 16]
        if fname == name:
            break
        offset += flen
        k += 32
    else:  # pragma: no cover - the field is always there
        raise KeyError(field)
    old_w = raw[k + 16]
    raw[k + 16], raw[k + 17] = width, decimals
    new_len = rec_len - old_w + width
    raw[10:12] = new_len.to_bytes(2, "little")
    out = bytearray(raw[:head_len])
    body = raw[head_len : head_len + n_rec * rec_len]
    for r in range(n_rec):
        rec = body[r * rec_len : (r + 1) * rec_len]
        text = bytes(rec[offset : offset + old_w]).strip()
        value = f"{float(text):{width}.{decimals}f}".encode("ascii") if text else b" " * width
        if len(value) != width:  # pragma: no cover - areas are far below 10^9 mu
            raise ValueError(f"{field} value {text!r} does not fit N({width},{decimals})")
        out += rec[:offset] + value + rec[offset + old_w :]
    out += b"\x1a"
    dbf.write_bytes(bytes(out))


def _write_files(sample: Sample, tmp: Path) -> None:
    with pyogrio_options({"OGR_CURRENT_DATE": f"{DATA_DATE}T00:00:00.000Z"}):
        gpkg = tmp / GPKG
        pyogrio.write_dataframe(sample.villages, gpkg, layer="villages", driver="GPKG")
        pyogrio.write_dataframe(sample.land_transfers, gpkg, layer="land_transfers", driver="GPKG")
        pyogrio.write_dataframe(sample.basic_farmland, gpkg, layer="basic_farmland", driver="GPKG")

    # forest plots: GBK-encoded shapefile without a .cpg, as desktop GIS in China writes them
    shp = tmp / SHP
    pyogrio.write_dataframe(
        sample.forest_plots,
        shp,
        driver="ESRI Shapefile",
        encoding="GBK",
        layer_options={"RESIZE": "YES"},
    )
    (tmp / "forest_plots.cpg").unlink(missing_ok=True)
    _narrow_dbf_real(tmp / "forest_plots.dbf", "面积", 12, 2)
    _pin_dbf_date(tmp / "forest_plots.dbf")

    # infected trees: UTF-8 with BOM, as Excel saves "CSV UTF-8"
    sample.infected_trees.to_csv(
        tmp / CSV, index=False, encoding="utf-8-sig", lineterminator="\r\n"
    )

    pyogrio.write_dataframe(
        sample.rivers,
        tmp / GEOJSON,
        driver="GeoJSON",
        layer="rivers",
        layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"},
    )
    pyogrio.write_dataframe(sample.sand_sites, tmp / KML, driver="LIBKML", layer="sand_sites")

    (tmp / TOML).write_text(TOWNSHIP_TOML, encoding="utf-8")
    (tmp / README).write_text(readme(sample), encoding="utf-8")
    write_rasters(sample, tmp)  # dem.tif, ndvi_2022.tif, ndvi_2023.tif, landcover.tif
    write_river_work(sample, tmp)  # patrols.gpx, outfalls.xlsx, sand_zones.geojson


class pyogrio_options:
    """Temporarily set GDAL config options (restored afterwards)."""

    def __init__(self, options: dict[str, str]):
        self.options = options
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for k in self.options:
            self.saved[k] = pyogrio.get_gdal_config_option(k)
        pyogrio.set_gdal_config_options(self.options)

    def __exit__(self, *exc: object) -> None:
        pyogrio.set_gdal_config_options(self.saved)


def check_writable(out_dir: Path) -> None:
    """Create out_dir if needed and make sure files can be created in it (raises OSError)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=out_dir):
        pass


def write_sample(sample: Sample, out_dir: Path) -> list[Path]:
    """Write all files into out_dir (created if needed); returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=out_dir))
    try:
        _write_files(sample, tmp)
        for ext in _SHP_PARTS:  # a stale .cpg from another writer would mislead readers
            (out_dir / f"forest_plots{ext}").unlink(missing_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            dest = out_dir / f.name
            os.replace(f, dest)
            written.append(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("wrote %d files to %s", len(written), out_dir)
    return written


def readme(sample: Sample) -> str:
    """The layers/README.md text: what the sample is, what is planted, how to rebuild it."""
    t = sample.truth
    return (
        _readme_intro(t)
        + _readme_files(t["counts"])
        + _readme_planted(t)
        + readme_section(t)
        + river_work_readme(t)
    )


def _readme_intro(t: dict) -> str:
    """What the sample is and how to rebuild it."""
    return f"""# Sample township: {TOWNSHIP} ({TOWNSHIP_EN})

An invented hilly township of about 100 km² in southern Anhui (around 117.5°E, 30.5°N),
with ten villages, a main river (青溪河) and four tributaries, data as of {DATA_DATE}.
Every command of `geo-township` runs on it with no set-up. None of it is real: names,
people, companies, plots and trees are generated.

**Rebuild** (deterministic: the same files, byte for byte, every time):

```
python -m geo_township.sample layers
```

The generator lives in `geo_township/sample/` (seed {t["seed"]}); `generate(out_dir)` writes
these files and returns the planted truth, `planted_truth()` returns it without writing, and
`elevation(x, y)` is the terrain (EPSG:4548 metres) the rivers, valleys and plots follow, so
a DEM rasterised from it matches the layers.

"""


def _readme_files(c: dict) -> str:
    """The table of files, layers and feature counts."""
    return f"""## Files

| file | layer | features | format, CRS, quirks |
| --- | --- | ---: | --- |
| `township.gpkg` | `villages` | {c["villages"]} | GeoPackage, EPSG:4490; fields 村名, 村代码. The villages tile the township exactly. |
| `township.gpkg` | `land_transfers` | {c["land_transfers"]} | 地块编号, 村名, 地类 (耕地/林地), 流出方, 流入方, 合同面积 (亩), 起始日期, 终止日期, 用途 |
| `township.gpkg` | `basic_farmland` | {c["basic_farmland"]} | 永久基本农田: 图斑编号, 村名 |
| `forest_plots.shp` | 小班 | {c["forest_plots"]} | ESRI Shapefile, **GBK-encoded with no .cpg**, EPSG:4527 (CGCS2000 3-degree GK zone 39, eastings 39xxxxxx); 林班号, 小班号, 小班编码, 村名, 优势树种, 起源, 造林年度 (0 = natural), 面积 (亩, ellipsoidal), 林长 |
| `infected_trees.csv` | 松材线虫病疫木 | {c["infected_trees"]} | UTF-8 **with BOM**, lon/lat (WGS84, 6 decimals) in 经度/纬度; 状态 疑似/已确认/已伐/已清理/已核查; dates mostly ISO, ~5% as `2022/3/5`; 村名 and 小班编码 filled for ~60% of rows only |
| `rivers.geojson` | 河段 | {c["rivers"]} | GeoJSON (RFC 7946); 河流名称, 河段编号, 河长, 河长级别, 管理范围 (m from the centre line) |
| `sand_sites.kml` | 采砂点 | {c["sand_sites"]} | KML (fields in ExtendedData); Name, 编号, 类型, 状态, 关停日期 |
| `township.toml` | | | the township description the tool reads |

"""  # noqa: E501  (Markdown table rows and bullets of the generated README, one per line)


def _readme_planted(t: dict) -> str:
    """What is planted: the faults the checks should find, and the truth as JSON."""
    f = t["transfer_faults"]
    truth_json = json.dumps(
        {
            k: t[k]
            for k in (
                "transfer_faults",
                "renewal_pairs",
                "edge_tree_ids",
                "outside_plot_tree_ids",
                "outside_township_tree_ids",
                "sand_sites_in_zone",
            )
        },
        ensure_ascii=False,
        indent=2,
    )
    return f"""## What is planted (what the checks should find)

Land-transfer audit — exactly these, nothing else:

- `{f["overlap_pair"][0]}` and `{f["overlap_pair"][1]}` overlap by {f["overlap_mu"]:.2f} 亩 while both contracts run.
- `{f["renewal_pair"][0]}` → `{f["renewal_pair"][1]}` (and the other renewal pairs below) are the same land contracted again after the first contract ended: **not** an error.
- `{f["area_off"]["parcel_id"]}` declares {f["area_off"]["declared_mu"]:.2f} 亩 but measures {f["area_off"]["measured_mu"]:.2f} 亩 (+20%).
- `{f["crosses_village"]["parcel_id"]}` (recorded in {f["crosses_village"]["recorded_village"]}) has {f["crosses_village"]["outside_mu"]:.2f} 亩 ({100 * f["crosses_village"]["outside_share"]:.0f}%) in the neighbouring village.
- `{f["pv_on_basic_farmland"]["parcel_id"]}` (photovoltaic) covers {f["pv_on_basic_farmland"]["overlap_mu"]:.2f} 亩 of permanent basic farmland.
- `{f["in_river_zone"]["parcel_id"]}` (forest land, the riparian belt's contract, see below) has {f["in_river_zone"]["in_zone_mu"]:.2f} 亩 inside the management zone of reach {f["in_river_zone"]["reach"]}: a **warning** (`in_river_zone`), not an error.

Every other contract declares within ±2% of its ellipsoidal area, lies inside its village,
overlaps no other contract, keeps at least the management-zone width + 10 m from every river
centre line, and no farmland (耕地) contract overlaps a forest plot.

Infected trees, in pine plots (马尾松, 湿地松) only, except as listed:

- {len(t["tree_foci"])} infection foci (Gaussian clusters that widen from season to season) plus
  a diffuse scatter; seasons: autumn census 2021, spring 2022, autumn 2022, spring 2023;
- {len(t["gps_noise_tree_ids"])} GPS-noise points in other (non-pine) plots;
- {len(t["outside_plot_tree_ids"])} points outside every plot but inside the township;
- {len(t["outside_township_tree_ids"])} points just outside the township;
- {len(t["edge_tree_ids"])} points on the shared edge of two pine plots (rounding to 6 decimals
  moves them a few centimetres off the edge);
- {len(t["felled_not_cleared_2021_tree_ids"])} trees of the autumn-2021 census felled but still
  not cleared: outstanding after the 2022-03-31 deadline.

Sand sites: every status occurs at least twice; sites inside a river's management zone:
{", ".join(t["sand_sites_in_zone"])}.

```json
{truth_json}
```
"""  # noqa: E501  (Markdown bullets of the generated README, one per line)

