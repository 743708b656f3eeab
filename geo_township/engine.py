"""Where the heavy kernels of an analysis run: here, in this process (the local engine), or
in parts on a Dask cluster (the dask engine). The analyses themselves do not change: they
ask an :class:`Engine` for the few kernels that grow with the data and consume what it
returns, so both engines give the same Result, number for number.

The kernels, each the one rule of its module, run as they are on every part:

* :meth:`Engine.covering_first` — point → plot / village (:func:`geo_township.locate.covering_first`).
  The dask engine sorts the points along a Hilbert curve (spatial partitioning, as
  dask-geopandas' ``spatial_shuffle`` does), cuts them into parts and sends each part with
  only the polygons whose bounding box meets the part's, so every part finds exactly the
  polygons the whole would.
* :meth:`Engine.area_m2` — ellipsoidal or planar area (:func:`geo_township.measure.area_m2`),
  in the CRS chosen once from the whole layer (:func:`geo_township.measure.area_crs`), so a
  part's areas are the whole's.
* :meth:`Engine.elementwise` — any per-feature or per-pair kernel (the polygon two parcels
  share, :func:`geo_township.overlaps.overlap_pieces`; a geometry's distance to the
  township), cut into parts and put back in order.

:func:`start_engine` returns the engine a command asked for: ``local``; ``dask`` on the
cluster at ``scheduler`` (or ``GEO_TOWNSHIP_SCHEDULER``); or, without an address, on a
``LocalCluster`` sized to this machine. Dask is imported only then, so the local path and
``--help`` never pay for it. Parts travel to the workers by value (pickled), so a remote
cluster needs no access to the township's files.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo_township.errors import UsageError
from geo_township.locate import covering_first
from geo_township.measure import Method, area_crs, area_m2
from geo_township.overlaps import overlap_pieces
from geo_township.parallel import default_threads
from geo_township.units import from_m2

log = logging.getLogger(__name__)

ENGINES = ("local", "dask")
SCHEDULER_ENV = "GEO_TOWNSHIP_SCHEDULER"
PART_SIZE = 200_000
"""Features (or pairs) per part on the dask engine: big enough that a part's work outweighs
sending it, small enough that a county's million trees keep every worker busy."""

Progress = Callable[[int, int], None]


class Engine:
    """The local engine: every kernel runs here, in one piece (what the analyses did
    before there was a choice). Also the base of :class:`DaskEngine`, which runs the same
    kernels in parts."""

    name = "local"
    progress: Progress | None = None
    """Told ``(done, total)`` as parts finish (the dask engine's; the local engine has no parts)."""
    threads: int | None = None
    """Threads for the kernels GEOS runs without Python's lock (locating points in many
    polygons); None: :func:`geo_township.parallel.default_threads`."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def describe(self, lang: str = "en") -> str:
        """One line saying where the work runs (for the command's stderr), in ``lang`` (en, zh)."""
        return "本机计算（本进程）" if lang == "zh" else "local engine (this process)"

    def map_parts(self, func: Callable[..., Any], parts: Sequence[tuple[Any, ...]], shared: tuple[Any, ...] = (),
                  **kwargs: Any) -> list[Any]:
        """``func(*part, *shared, **kwargs)`` for each part, results in the parts' order."""
        return [func(*part, *shared, **kwargs) for part in parts]

    def part_count(self, n: int) -> int:
        """How many parts ``n`` features are cut into (one here)."""
        return 1

    def elementwise(self, func: Callable[..., np.ndarray], *arrays: np.ndarray, shared: tuple[Any, ...] = (),
                    **kwargs: Any) -> np.ndarray:
        """``func`` over aligned ``arrays`` (one value per element), run in parts and
        concatenated in order; ``shared`` arguments go whole to every part."""
        n = len(arrays[0]) if arrays else 0
        k = self.part_count(n)
        if k <= 1:
            return func(*arrays, *shared, **kwargs)
        cuts = np.linspace(0, n, k + 1).astype(int)
        parts = [tuple(a[cuts[i]:cuts[i + 1]] for a in arrays) for i in range(k)]
        return np.concatenate(self.map_parts(func, parts, shared, **kwargs))

    def by_parts(self, func: Callable[..., Any], geoms: gpd.GeoSeries, *args: Any, **kwargs: Any) -> list[Any]:
        """``func(part, *args, **kwargs)`` for consecutive parts of ``geoms`` (here: one, the
        whole), results in order. A ``progress`` keyword reaches ``func`` only here; the dask
        engine reports its finished parts instead."""
        k = self.part_count(len(geoms))
        if k <= 1:
            return [func(geoms, *args, **kwargs)]
        kwargs.pop("progress", None)
        cuts = np.linspace(0, len(geoms), k + 1).astype(int)
        parts = [(geoms.iloc[cuts[i]:cuts[i + 1]],) for i in range(k)]
        return self.map_parts(func, parts, args, **kwargs)

    def covering_first(self, points: np.ndarray, polygons: np.ndarray, order: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`geo_township.locate.covering_first`, in parts on the dask engine."""
        k = self.part_count(len(points))
        if k <= 1 or not len(polygons):
            return covering_first(points, polygons, order, threads=self.threads or default_threads())
        return _covering_in_parts(self, points, polygons, np.asarray(order, dtype="int64"), k)

    def area_m2(self, geoms: gpd.GeoSeries, *, method: Method = "ellipsoidal") -> np.ndarray:
        """:func:`geo_township.measure.area_m2`, in parts on the dask engine (one CRS for all)."""
        if self.part_count(len(geoms)) <= 1:
            return area_m2(geoms, method=method)
        target = area_crs(geoms, method=method)
        return self.elementwise(_area_part, np.asarray(geoms.to_numpy(), dtype=object),
                                shared=(geoms.crs.to_wkt(), target.to_wkt(), method))

    def area(self, geoms: gpd.GeoSeries, *, unit: str = "mu", method: Method = "ellipsoidal") -> np.ndarray:
        """:func:`geo_township.measure.area` (``unit``: mu, ha, m2, km2) through :meth:`area_m2`."""
        return from_m2(self.area_m2(geoms, method=method), unit)

    def overlap_pieces(self, a: np.ndarray, b: np.ndarray, *, min_area: float = 0.0) -> np.ndarray:
        """:func:`geo_township.overlaps.overlap_pieces` over pairs, in parts on the dask engine."""
        if self.part_count(len(a)) <= 1:
            return overlap_pieces(a, b, min_area=min_area)
        return self.elementwise(_pieces_part, np.asarray(a, dtype=object), np.asarray(b, dtype=object),
                                min_area=min_area)

    def close(self) -> None:
        """Let go of what the engine started (nothing for the local engine)."""


LOCAL = Engine()
"""The local engine, the default of every analysis."""


def _area_part(geoms: np.ndarray, crs_wkt: str, target_wkt: str, method: Method) -> np.ndarray:
    """Area of one part of a layer, measured in the CRS chosen for the whole."""
    return area_m2(gpd.GeoSeries(geoms, crs=CRS.from_wkt(crs_wkt)), method=method, crs=CRS.from_wkt(target_wkt))


def _private(geoms: np.ndarray) -> np.ndarray:
    """Copies of one part's geometries for a kernel that prepares them in place: parts
    running as threads of one process (an in-process cluster) would otherwise share (and
    one free) the same prepared geometry. The copies are exact (WKB holds the doubles)."""
    return shapely.from_wkb(shapely.to_wkb(geoms))


def _pieces_part(a: np.ndarray, b: np.ndarray, *, min_area: float = 0.0) -> np.ndarray:
    """:func:`overlap_pieces` on :func:`_private` copies of one part's geometries."""
    return overlap_pieces(_private(a), _private(b), min_area=min_area)


def _covering_part(points: np.ndarray, positions: np.ndarray, polygons: np.ndarray, chosen: np.ndarray,
                   sub_order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`covering_first` on one part: ``chosen`` are the polygons' positions in the
    whole layer, ``sub_order`` their listing order within the part. Returns the positions
    of the points and the answer with polygon positions of the whole layer. The polygons
    are :func:`_private` copies: many points per polygon prepare them."""
    best, pair_pt, pair_poly = covering_first(points, _private(polygons), sub_order)
    hit = best >= 0
    best[hit] = chosen[best[hit]]
    return positions, best, positions[pair_pt], chosen[pair_poly]


def _covering_in_parts(engine: Engine, points: np.ndarray, polygons: np.ndarray, order: np.ndarray, k: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points sorted along a Hilbert curve over their extent and cut into ``k`` parts;
    each part goes with the polygons whose bounding box meets its own, in the layer's
    listing order, so each point gets the polygon it gets in one piece."""
    n = len(points)
    bounds = shapely.bounds(points)
    placed = ~np.isnan(bounds).any(axis=1)  # an empty geometry lies nowhere: first on the curve, in no polygon
    if not placed.any():
        return covering_first(points, polygons, order)
    box = tuple(float(v) for v in (*bounds[placed, :2].min(axis=0), *bounds[placed, 2:].max(axis=0)))
    hilbert = np.full(n, -1, dtype="int64")
    hilbert[placed] = gpd.GeoSeries(points[placed]).hilbert_distance(total_bounds=box).to_numpy()
    by_curve = np.argsort(hilbert, kind="stable")
    bounds[~placed] = (*box[:2], *box[:2])  # so that every part has an extent
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    tree = shapely.STRtree(polygons)
    parts = []
    for positions in np.array_split(by_curve, k):
        pb = bounds[positions]
        extent = shapely.box(np.nanmin(pb[:, 0]), np.nanmin(pb[:, 1]), np.nanmax(pb[:, 2]), np.nanmax(pb[:, 3]))
        chosen = np.sort(tree.query(extent)).astype("int64")
        sub_order = np.argsort(rank[chosen], kind="stable")
        parts.append((points[positions], positions, polygons[chosen], chosen, sub_order))
    best = np.full(n, -1, dtype="int64")
    pair_pt, pair_poly = [], []
    for positions, part_best, part_pt, part_poly in engine.map_parts(_covering_part, parts):
        best[positions] = part_best
        pair_pt.append(part_pt)
        pair_poly.append(part_poly)
    return best, np.concatenate(pair_pt).astype("int64"), np.concatenate(pair_poly).astype("int64")


class DaskEngine(Engine):
    """The kernels in parts on a dask.distributed cluster (``client``). ``progress``
    (``done, total``) hears of every finished part; ``cluster`` is the LocalCluster this
    engine started, closed with it."""

    name = "dask"

    def __init__(self, client: Any, *, cluster: Any = None, progress: Progress | None = None,
                 part_size: int = PART_SIZE) -> None:
        self.client, self.cluster, self.progress, self.part_size = client, cluster, progress, part_size

    def describe(self, lang: str = "en") -> str:
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        threads = sum(w.get("nthreads", 1) for w in workers.values())
        address = info.get("address", "?")
        if lang == "zh":
            where = "为本次运行启动的本机 Dask 集群" if self.cluster is not None else "Dask 集群"
            return f"dask 引擎：{where} {address}（{len(workers)} 个工作节点，{threads} 个线程）"
        where = "a local Dask cluster started for this run" if self.cluster is not None else "the Dask cluster"
        return f"dask engine: {where} at {address} ({len(workers)} workers, {threads} threads)"

    def part_count(self, n: int) -> int:
        workers = max(len(self.client.scheduler_info().get("workers", {})), 1)
        if n < 2:
            return 1
        return int(min(n, max(workers, -(-n // self.part_size))))

    def map_parts(self, func: Callable[..., Any], parts: Sequence[tuple[Any, ...]], shared: tuple[Any, ...] = (),
                  **kwargs: Any) -> list[Any]:
        from distributed import as_completed

        sent = [self.client.scatter([value], broadcast=True, hash=False)[0] for value in shared]
        futures = []
        for part in parts:
            args = self.client.scatter(list(part), hash=False)
            futures.append(self.client.submit(func, *args, *sent, pure=False, **kwargs))
        done = 0
        if self.progress is not None:
            self.progress(0, len(futures))
        for _ in as_completed(futures):
            done += 1
            if self.progress is not None:
                self.progress(done, len(futures))
        return self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


CONNECT_TIMEOUT_S = 10
"""How long a command waits for a Dask scheduler to answer (seconds)."""
DEFAULT_SCHEDULER_PORT = 8786
"""The port of an address given without one (Dask's own default)."""


def unreachable(scheduler: str, exc: Exception) -> UsageError:
    """The error for a scheduler that could not be reached (``exc`` from ``Client``): the
    English message quotes Dask's own words, the Chinese one says the same in Chinese
    (Dask's text is English only), so ``--lang zh`` shows no English sentence."""
    hint = ("start it with `dask scheduler` (and workers with `dask worker ADDRESS`), or check the address, "
            "e.g. tcp://10.0.0.5:8786")
    hint_zh = "用 `dask scheduler` 启动调度器（用 `dask worker 地址` 启动工作节点），或核对地址，如 tcp://10.0.0.5:8786"
    if isinstance(exc, ValueError):
        return UsageError(f"{scheduler!r} is not a Dask scheduler address: {exc}",
                          hint="write it as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786 ([::1] for an IPv6 host)",
                          message_zh=f"{scheduler!r} 不是有效的 Dask 调度器地址",
                          hint_zh="请写成 tcp://主机:端口，如 tcp://10.0.0.5:8786（IPv6 主机加方括号，如 [::1]）")
    timed_out = isinstance(exc, TimeoutError) or "timed out" in str(exc).lower()
    why_zh = f"{CONNECT_TIMEOUT_S} 秒内没有响应" if timed_out else "连接被拒绝或网络不通"
    return UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}", hint=hint,
                      message_zh=f"无法连接 Dask 调度器 {scheduler}：{why_zh}", hint_zh=hint_zh)


def _reach(scheduler: str) -> None:
    """Refuse a malformed address, or a TCP/TLS scheduler that does not answer, before Dask's
    client is made: a refused port is known at once (the client retries it for the whole
    timeout), and a client that failed to connect can leave its event-loop thread behind,
    which made the next client in the same process fail with an internal error."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(scheduler)
        if scheme not in ("tcp", "tls"):
            return  # in-process and other transports: the client itself says
        host, port = parse_host_port(location, DEFAULT_SCHEDULER_PORT)
    except ValueError as exc:
        raise unreachable(scheduler, exc) from None
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:  # refused, unknown host, no route; TimeoutError is an OSError
        raise unreachable(scheduler, exc) from None


def start_engine(name: str | None = "local", *, scheduler: str | None = None, progress: Progress | None = None,
                 workers: int | None = None) -> Engine:
    """The engine a command asked for. A ``scheduler`` address (or ``GEO_TOWNSHIP_SCHEDULER``)
    means the dask engine on that cluster unless ``name`` is ``local``; ``dask`` without one
    starts a LocalCluster with one single-threaded worker per core (``workers`` to choose).
    The caller closes it (:meth:`Engine.close`)."""
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    name = name or ("dask" if scheduler else "local")
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}", hint="use " + " or ".join(ENGINES),
                         message_zh=f"未知的计算引擎 {name!r}", hint_zh="请用 " + " 或 ".join(ENGINES))
    if name == "local":  # asked for by name: it wins over a scheduler address
        return LOCAL
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("the dask engine needs the distributed package",
                         hint='install it: pip install "distributed>=2024.1"',
                         message_zh="dask 引擎需要 distributed 包",
                         hint_zh='请安装：pip install "distributed>=2024.1"') from None
    if scheduler:
        _reach(scheduler)
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError, RuntimeError, AssertionError) as exc:
            # a host that takes the connection but never answers; AssertionError: Dask's event
            # loop did not start after an earlier failed client in this process
            raise unreachable(scheduler, exc) from None
        return DaskEngine(client, progress=progress)
    n = workers or max(os.cpu_count() or 1, 1)
    # workers as threads of this process: they start in a fraction of a second and share the
    # layers without copying; the kernels (shapely, pyproj, exactextract) release the GIL
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=False, dashboard_address=":0")
    log.info("started a local Dask cluster with %d workers at %s", n, cluster.scheduler_address)
    return DaskEngine(Client(cluster), cluster=cluster, progress=progress)
