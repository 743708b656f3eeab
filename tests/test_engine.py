"""The dask engine gives the local engine's Result, number for number.

One LocalCluster (two single-threaded workers, in this process) serves the module. Each of
the five commands that take ``--engine`` runs on the sample with both engines, and trees
and area also on a synthetic county of 50,000 trees (benchmarks/county.py); every
table, every finding and every feature layer must be equal. The dask engine cuts even the
sample into one part per worker, so the parts and their joining are what is compared.
The kernels are also compared alone on hand-made data with shared edges, and the command
line is run against the cluster's tcp:// address.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo_township import locate, measure
from geo_township.checks import check_township
from geo_township.cli import main
from geo_township.engine import LOCAL, DaskEngine, start_engine, unreachable
from geo_township.inventory import area_summary
from geo_township.layers import load_township
from geo_township.overlaps import overlap_pairs
from geo_township.raster import zonal_stats
from geo_township.results import Result
from geo_township.transfers import audit_layers, audit_transfers
from geo_township.trees import tree_counts

distributed = pytest.importorskip("distributed")  # a core dependency: present wherever the package is installed

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster():
    """Two workers as threads of this process, reachable over tcp (for the CLI test)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def dask_engine(cluster):
    client = distributed.Client(cluster)
    seen: list[tuple[int, int]] = []
    engine = DaskEngine(client, progress=lambda done, total: seen.append((done, total)))
    engine.seen = seen  # type: ignore[attr-defined]
    yield engine
    client.close()


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    """A synthetic county: 60 villages, 5,000 plots, 50,000 clustered trees (15% outside every plot)."""
    spec = importlib.util.spec_from_file_location("county", REPO / "benchmarks" / "county.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = tmp_path_factory.mktemp("county")
    module.make_county(folder, trees=50_000, plots=5_000, villages=60)
    return folder


def assert_same_result(a: Result, b: Result) -> None:
    """Every table, number, finding, note and feature layer of two Results equal."""
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert sorted(a.tables) == sorted(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    assert a.findings == b.findings
    assert a.notes == b.notes and a.notes_zh == b.notes_zh
    assert sorted(a.features) == sorted(b.features)
    for name in a.features:
        assert_geodataframe_equal(a.features[name], b.features[name], check_less_precise=False)


def both(run, engine: DaskEngine) -> tuple[Result, Result]:
    before = len(engine.seen)
    local, dask = run(LOCAL), run(engine)
    assert len(engine.seen) > before, "the dask engine ran no part"
    return local, dask


# --------------------------------------------------------------------------- the sample, each command


@pytest.mark.parametrize("by", ["village", "plot"])
def test_trees_on_the_sample(sample_dir, dask_engine, by):
    local, dask = both(lambda e: tree_counts(load_township(sample_dir), by=by, engine=e), dask_engine)
    assert local.table["found"].iloc[-1] > 0
    assert_same_result(local, dask)


@pytest.mark.parametrize("method", ["ellipsoidal", "planar"])
def test_area_on_the_sample(sample_dir, dask_engine, method):
    local, dask = both(lambda e: area_summary(load_township(sample_dir), "forest_plots", by="village",
                                              method=method, engine=e), dask_engine)
    assert_same_result(local, dask)


def test_audit_on_the_sample(sample_dir, dask_engine):
    local, dask = both(lambda e: audit_transfers(load_township(sample_dir), engine=e), dask_engine)
    assert "overlap" in local.tables or any(f.check == "overlap" for f in local.findings)
    assert_same_result(local, dask)


@pytest.mark.parametrize("raster,categorical", [("ndvi_2022", None), ("landcover", True)])
def test_zonal_on_the_sample(sample_dir, dask_engine, raster, categorical):
    local, dask = both(lambda e: zonal_stats(load_township(sample_dir), raster, categorical=categorical, engine=e),
                       dask_engine)
    assert_same_result(local, dask)


def test_check_on_the_sample(sample_dir, dask_engine):
    local, dask = both(lambda e: check_township(load_township(sample_dir), engine=e), dask_engine)
    assert_same_result(local, dask)


# --------------------------------------------------------------------------- a synthetic county


@pytest.mark.parametrize("by", ["village", "plot"])
def test_trees_on_a_county(county, dask_engine, by):
    local, dask = both(lambda e: tree_counts(load_township(county), by=by, hotspots=False, engine=e), dask_engine)
    assert int(local.table["found"].iloc[-1]) == 50_000
    assert_same_result(local, dask)


def test_area_on_a_county(county, dask_engine):
    local, dask = both(lambda e: area_summary(load_township(county), "forest_plots", by="village", engine=e),
                       dask_engine)
    assert_same_result(local, dask)


def test_audit_of_many_overlapping_parcels(dask_engine):
    """3,000 parcels on a jittered grid, each overlapping its neighbours (in a GK zone)."""
    rng = np.random.default_rng(7)
    n = 3_000
    x0, y0 = 40_500_000 + (np.arange(n) % 60) * 90.0, 3_300_000 + (np.arange(n) // 60) * 90.0
    boxes = shapely.box(x0, y0, x0 + 100 + rng.uniform(0, 20, n), y0 + 100 + rng.uniform(0, 20, n))
    parcels = gpd.GeoDataFrame({"parcel_id": [f"P{i:04d}" for i in range(n)], "declared_mu": 15.0,
                                "land_type": "farmland", "use": "grain", "village": "甲村",
                                "start_date": pd.Timestamp("2020-01-01"), "end_date": pd.Timestamp("2030-01-01")},
                               geometry=boxes, crs=4527)
    local, dask = both(lambda e: audit_layers(parcels, engine=e), dask_engine)
    assert len(local.tables["overlap"]) > n  # every parcel overlaps two or more neighbours
    assert_same_result(local, dask)


# --------------------------------------------------------------------------- the kernels alone


def _grid(side: int, per_kind: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``side`` × ``side`` grid of unit squares (square (i, j) at position j * side + i), a
    shuffled listing order, and ``per_kind`` points each on vertices (some outside), on
    edges shared by two squares and inside."""
    rng = np.random.default_rng(seed)
    ix, iy = np.meshgrid(np.arange(side), np.arange(side))
    squares = shapely.box(ix.ravel(), iy.ravel(), ix.ravel() + 1, iy.ravel() + 1)
    xy = np.concatenate([rng.integers(-1, side + 2, (per_kind, 2)).astype(float),
                         rng.integers(0, side, (per_kind, 2)) + [0.5, 0.0],
                         rng.uniform(0, side, (per_kind, 2))])
    return squares, rng.permutation(len(squares)), xy


def test_covering_first_in_parts_keeps_the_edge_rule(dask_engine):
    """A 20 × 20 grid of unit squares listed in a shuffled order, points on vertices and
    edges shared by up to four squares, and points outside: each part must pick the
    square the whole does (the first in the listing order that covers the point)."""
    squares, order, xy = _grid(20, 3_000, seed=3)
    points = np.concatenate([shapely.points(xy), shapely.from_wkt(["POINT EMPTY", "POINT EMPTY"])])  # empties: nowhere
    whole = locate.covering_first(points, squares, order)
    parts = dask_engine.covering_first(points, squares, order)
    np.testing.assert_array_equal(whole[0], parts[0])
    assert (parts[0][-2:] == -1).all()
    pairs = lambda r: sorted(zip(r[1].tolist(), r[2].tolist(), strict=True))  # noqa: E731
    assert pairs(whole) == pairs(parts)
    # the rule itself, worked by hand for a point on the corner of four squares
    corner = np.flatnonzero((xy[:, 0] == 5) & (xy[:, 1] == 5))[0]
    four = [i for i in range(len(squares)) if shapely.covers(squares[i], points[corner])]
    assert len(four) == 4 and parts[0][corner] == min(four, key=lambda i: list(order).index(i))


def test_covering_first_on_threads_finds_what_one_thread_finds(monkeypatch):
    """A 180 × 180 grid of unit squares (32,400: queried on three threads), points on shared
    vertices and edges, inside and outside: the same first square, and the same pairs in
    the same order, as on one thread; both checked against the squares worked out by hand."""
    started = []

    class Counted(locate.ThreadPoolExecutor):
        def __init__(self, n):
            started.append(n)
            super().__init__(n)

    monkeypatch.setattr(locate, "ThreadPoolExecutor", Counted)
    squares, order, xy = _grid(180, 20_000, seed=11)
    rng = np.random.default_rng(12)
    points = shapely.points(xy)
    one = locate.covering_first(points, squares, order, threads=1)
    assert started == []
    three = locate.covering_first(points, squares, order, threads=3)
    assert started == [3]
    for a, b in zip(one, three, strict=True):
        np.testing.assert_array_equal(a, b)
    # by hand: square (i, j) (position j * 180 + i) covers x, y when i ≤ x ≤ i + 1 and j ≤ y ≤ j + 1
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    for k in rng.choice(len(xy), 3_000, replace=False):
        x, y = xy[k]
        cover = [j * 180 + i for i in range(180) if i <= x <= i + 1 for j in range(180) if j <= y <= j + 1]
        assert three[0][k] == (min(cover, key=lambda c: rank[c]) if cover else -1)
        assert sorted(three[2][three[1] == k].tolist()) == sorted(cover)


def test_area_in_parts_uses_one_crs_for_the_whole(dask_engine):
    rng = np.random.default_rng(5)
    lon, lat = 117.0 + rng.uniform(0, 1.5, 5_000), 30.0 + rng.uniform(0, 1.5, 5_000)
    geoms = gpd.GeoSeries(shapely.buffer(shapely.points(lon, lat), 0.002), crs=4490)
    for method in ("ellipsoidal", "planar"):
        np.testing.assert_array_equal(measure.area_m2(geoms, method=method), dask_engine.area_m2(geoms, method=method))


def test_overlap_pairs_in_parts(dask_engine):
    rng = np.random.default_rng(9)
    geoms = gpd.GeoSeries(shapely.buffer(shapely.points(rng.uniform(0, 2_000, (2_000, 2))), 30.0), crs=4547)
    local = overlap_pairs(geoms, min_area_m2=5.0)
    dask = overlap_pairs(geoms, min_area_m2=5.0, pieces_of=dask_engine.overlap_pieces, area_of=dask_engine.area_m2)
    assert len(local) > 1_000
    assert_geodataframe_equal(local, dask)


def test_the_local_engine_runs_in_one_piece():
    assert LOCAL.part_count(10**7) == 1
    assert start_engine("local") is LOCAL
    assert start_engine("local", scheduler="tcp://127.0.0.1:9") is LOCAL  # asked for by name, it wins


# --------------------------------------------------------------------------- the command line


def test_cli_on_an_existing_cluster(sample_dir, cluster, runner):
    """--scheduler tcp://… gives the same CSV as the local engine, says where it ran, and
    needs no --engine; an address nobody answers is a clean error (exit 2)."""
    address = cluster.scheduler_address
    assert address.startswith("tcp://")
    for args in (["trees", "--by", "plot", "--no-hotspots"], ["area", "forest_plots", "--by", "village"]):
        local = runner.invoke(main, [*args, "--township", str(sample_dir), "--format", "csv"])
        dask = runner.invoke(main, [*args, "--township", str(sample_dir), "--format", "csv", "--scheduler", address])
        assert dask.exit_code == local.exit_code, dask.stderr
        assert dask.stdout == local.stdout
        assert "dask engine: the Dask cluster at tcp://" in dask.stderr
    via_env = runner.invoke(main, ["area", "forest_plots", "--township", str(sample_dir), "--format", "csv"],
                            env={"GEO_TOWNSHIP_SCHEDULER": address})
    assert "dask engine" in via_env.stderr and via_env.exit_code == 0
    forced_local = runner.invoke(main, ["area", "forest_plots", "--township", str(sample_dir), "--engine", "local"],
                                 env={"GEO_TOWNSHIP_SCHEDULER": address})
    assert "dask engine" not in forced_local.stderr and forced_local.exit_code == 0
    gone = runner.invoke(main, ["area", "forest_plots", "--township", str(sample_dir),
                                "--scheduler", "tcp://127.0.0.1:9"])
    assert gone.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in gone.stderr
    assert "Traceback" not in gone.stderr


def test_cli_engine_dask_starts_a_local_cluster(sample_dir, runner):
    result = runner.invoke(main, ["audit", "--township", str(sample_dir), "--engine", "dask", "--no-save",
                                  "--format", "csv"])
    local = runner.invoke(main, ["audit", "--township", str(sample_dir), "--no-save", "--format", "csv"])
    assert "starting a local Dask cluster" in result.stderr
    assert "a local Dask cluster started for this run" in result.stderr
    assert result.exit_code == local.exit_code and result.stdout == local.stdout


def test_help_shows_the_engine_options(runner):
    for command in ("trees", "area", "audit", "zonal", "check"):
        out = runner.invoke(main, [command, "--help"]).stdout
        assert "--engine [local|dask]" in out and "--scheduler ADDRESS" in out


def test_kernels_travel_to_worker_processes():
    """Workers in other processes get the parts pickled: the kernels and their arguments
    must survive it (a remote cluster works the same way)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c, \
            distributed.Client(c) as client:
        engine = DaskEngine(client)
        rng = np.random.default_rng(11)
        polygons = gpd.GeoSeries(shapely.buffer(shapely.points(rng.uniform(0, 1_000, (300, 2))), 40.0), crs=4547)
        points = shapely.points(rng.uniform(0, 1_000, (2_000, 2)))
        order = np.arange(len(polygons))
        np.testing.assert_array_equal(engine.covering_first(points, polygons.to_numpy(), order)[0],
                                      locate.covering_first(points, polygons.to_numpy(), order)[0])
        np.testing.assert_array_equal(engine.area_m2(polygons), measure.area_m2(polygons))
        assert_geodataframe_equal(overlap_pairs(polygons), overlap_pairs(polygons, pieces_of=engine.overlap_pieces,
                                                                         area_of=engine.area_m2))


def test_an_unreachable_scheduler_is_explained_in_chinese(sample_dir, runner):
    """Under --lang zh the whole message is Chinese (Dask's own words are English); a
    malformed address is a usage error too, not an internal one."""
    refused = runner.invoke(main, ["area", "forest_plots", "--township", str(sample_dir), "--lang", "zh",
                                   "--scheduler", "tcp://127.0.0.1:9"])
    assert refused.exit_code == 2 and "Traceback" not in refused.stderr
    assert "无法连接 Dask 调度器 tcp://127.0.0.1:9：连接被拒绝或网络不通" in refused.stderr
    assert "Connection refused" not in refused.stderr
    late = unreachable("tcp://10.0.0.5:8786", TimeoutError("Timed out trying to connect after 10 s"))
    assert late.message_zh == "无法连接 Dask 调度器 tcp://10.0.0.5:8786：10 秒内没有响应"
    bad = runner.invoke(main, ["area", "forest_plots", "--township", str(sample_dir), "--lang", "zh",
                               "--scheduler", "notanaddress:::"])
    assert bad.exit_code == 2 and "不是有效的 Dask 调度器地址" in bad.stderr and "内部错误" not in bad.stderr
    bad_en = runner.invoke(main, ["area", "forest_plots", "--township", str(sample_dir), "--scheduler", "x:::"])
    assert bad_en.exit_code == 2 and "is not a Dask scheduler address" in bad_en.stderr


def test_a_refused_scheduler_is_explained_every_time_in_one_process(sample_dir, runner):
    """A failed Dask client used to leave its event-loop thread behind, and the next command
    in the same process stopped with an internal error; the port is now tried first."""
    for _ in range(3):
        for address in ("tcp://127.0.0.1:9", "x:::"):
            result = runner.invoke(main, ["area", "forest_plots", "--township", str(sample_dir),
                                          "--scheduler", address])
            assert result.exit_code == 2, result.stderr
            assert "internal error" not in result.stderr
